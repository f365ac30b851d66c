#!/usr/bin/env bash
# THE demo command: sets up .venv if needed, then runs `b2b-analysis demo`.
#   scripts/demo.sh [demo args...]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/b2b-analysis demo "$@"
