#!/usr/bin/env bash
# THE test command: installs what the tests need, then runs pytest.
#   scripts/test.sh [pytest args...]
# System packages (Debian/Ubuntu): postgresql (a throwaway server is started by
# the test fixtures) and chromium (driven by Playwright; never `playwright install`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(postgresql chromium)

is_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

install_system_packages() {
    local missing=() pkg
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "test.sh: not a Debian-based system; make sure these are installed: ${APT_PACKAGES[*]}" >&2
        return 0
    fi
    for pkg in "${APT_PACKAGES[@]}"; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    # setup.sh needs `python3 -m venv`, which Debian's own python3 only has with python3-venv.
    if [[ ! -x .venv/bin/python ]] && command -v python3 >/dev/null 2>&1 &&
        ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    ((${#missing[@]})) || return 0

    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            { echo "test.sh: error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "test.sh: installing Debian packages: ${missing[*]} ..."
    local start=$SECONDS log
    log=$(mktemp /tmp/b2b-apt-XXXXXX.log)
    if ! {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
    } >"$log" 2>&1 </dev/null; then
        echo "test.sh: apt-get failed; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    rm -f "$log"
    echo "test.sh: Debian packages installed in $((SECONDS - start)) s"
}

install_system_packages
bash scripts/setup.sh

rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if ((rc == 5)); then
    echo "test.sh: error: pytest collected no tests (exit code 5) - treating as a failure" >&2
    exit 1
fi
exit "$rc"
