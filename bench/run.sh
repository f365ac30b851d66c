#!/usr/bin/env bash
# THE benchmark command (not part of the tests):
#   bash bench/run.sh [--sizes 100k,1m,10m] [--with-100m] [--runs N] [--runs-10m N]
#                     [--skip-kpi] [--skip-report] [--fixes DIR]
# Sets up .venv (scripts/setup.sh) plus the [bench] extras, generates the data once
# into bench/data/ (gitignored, reused), runs the KPI suite and the report pipeline
# benchmarks, and writes bench/RESULTS.md with bench/results/scaling.png.
# --fixes DIR: also copy b2b_analysis/ to DIR with the fixes of bench/fixes.py applied
# and time it against the checkout (KPI suite at 1M and 10M, report --jobs 2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SIZES=100k,1m,10m
RUNS=3
RUNS_10M=2
WITH_100M=()
SKIP_KPI=0
SKIP_REPORT=0
FIXES=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --sizes) SIZES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --runs-10m) RUNS_10M=$2; shift 2 ;;
        --with-100m) WITH_100M=(--with-100m); shift ;;
        --skip-kpi) SKIP_KPI=1; shift ;;
        --skip-report) SKIP_REPORT=1; shift ;;
        --fixes) FIXES=$2; shift 2 ;;
        -h|--help) sed -n 2,9p "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

bash scripts/setup.sh
PY=.venv/bin/python
if ! $PY -c 'import duckdb, pandas, lifetimes, pyarrow, altair, vl_convert, papermill' 2>/dev/null; then
    echo "run.sh: installing the [bench] extras into .venv ..."
    $PY -m pip install --disable-pip-version-check -q -e ".[bench,report]"
fi
export PYTHONPATH=$PWD

if [[ $SKIP_KPI == 0 ]]; then
    $PY -m bench.kpi_bench --sizes "$SIZES" --runs "$RUNS" --runs-10m "$RUNS_10M" "${WITH_100M[@]}"
    if [[ ${#WITH_100M[@]} -gt 0 ]]; then
        $PY -m bench.streaming --size 100m
    fi
fi
if [[ -n $FIXES ]]; then
    # before/after of the package fixes proposed in bench/analysis.md (a patched copy)
    $PY -m bench.fixes "$FIXES"
    $PY -m bench.kpi_bench --sizes 1m,10m --runs 3 --runs-10m 2 --engines toolkit \
        --toolkit-path "$FIXES" --results bench/results/fixes.json
fi
if [[ $SKIP_REPORT == 0 ]]; then
    $PY -m bench.report_bench
    if [[ -n $FIXES ]]; then
        $PY -m bench.report_bench --toolkit-path "$FIXES" --fix-runs 2
    fi
fi
$PY -m bench.write_results
