#!/usr/bin/env bash
# Create the project virtualenv (.venv) and install the package with its
# [dev] extras. Idempotent: does nothing when .venv is up to date with
# pyproject.toml. Set PYTHON=/path/to/python3.x to choose the interpreter.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
STAMP=$VENV/.installed
LOG=$VENV/pip-install.log

fail() { echo "setup.sh: error: $*" >&2; exit 1; }

find_python() {
    local cand
    for cand in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
        command -v "$cand" >/dev/null 2>&1 || continue
        if "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            echo "$cand"
            return 0
        fi
    done
    return 1
}

# A venv whose interpreter is gone or too old (e.g. a Python upgrade) is rebuilt.
if [[ -d $VENV ]] && ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    echo "setup.sh: $VENV is broken or uses Python < 3.11; recreating it" >&2
    rm -rf "$VENV"
fi

if [[ ! -x $VENV/bin/python ]]; then
    PY=$(find_python) || fail "no Python >= 3.11 found (tried: ${PYTHON:-} python3 python3.13 python3.12 python3.11)"
    echo "setup.sh: creating .venv with $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    if ! "$PY" -m venv "$VENV"; then
        rm -rf "$VENV"
        fail "'$PY -m venv' failed; on Debian/Ubuntu install the python3-venv package"
    fi
fi

if [[ -f $STAMP && $STAMP -nt $ROOT/pyproject.toml ]]; then
    exit 0
fi

echo "setup.sh: installing b2b-analysis[dev] into .venv (log: .venv/pip-install.log) ..."
start=$SECONDS
if ! {
    "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
    "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[dev]"
} >"$LOG" 2>&1; then
    echo "setup.sh: pip install failed; last lines of $LOG:" >&2
    tail -n 60 "$LOG" >&2
    exit 1
fi
touch "$STAMP"
echo "setup.sh: done in $((SECONDS - start)) s"
