#!/usr/bin/env bash
# THE benchmark command (not part of the tests):
#   bash bench/run.sh [--sizes 100k,1m,10m] [--with-100m] [--runs N] [--runs-10m N]
#                     [--skip-kpi] [--skip-report] [--baseline REV]
# Sets up .venv (scripts/setup.sh) plus the [bench] extras, generates the data once
# into bench/data/ (gitignored, reused), runs the KPI suite and the report pipeline
# benchmarks, and writes bench/RESULTS.md with bench/results/scaling.png.
# --with-100m: also bench.streaming at 100M orders (toolkit streaming mode vs DuckDB).
# --baseline REV: also export b2b_analysis/ at git revision REV to bench/.baseline/
# and time it against the checkout (KPI suite at --sizes, report --jobs 2).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SIZES=100k,1m,10m
RUNS=3
RUNS_10M=2
WITH_100M=0
SKIP_KPI=0
SKIP_REPORT=0
BASELINE=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --sizes) SIZES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --runs-10m) RUNS_10M=$2; shift 2 ;;
        --with-100m) WITH_100M=1; shift ;;
        --skip-kpi) SKIP_KPI=1; shift ;;
        --skip-report) SKIP_REPORT=1; shift ;;
        --baseline) BASELINE=$2; shift 2 ;;
        -h|--help) sed -n 2,10p "$0"; exit 0 ;;
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

BASELINE_DIR=""
if [[ -n $BASELINE ]]; then
    # the package as it was at REV, exported next to the benchmarks (gitignored)
    REV=$(git rev-parse --short "$BASELINE^{commit}")
    BASELINE_DIR=bench/.baseline/$REV
    rm -rf "$BASELINE_DIR"
    mkdir -p "$BASELINE_DIR"
    git archive "$REV" b2b_analysis | tar -x -C "$BASELINE_DIR"
    git log -1 --format='%h "%s"' "$REV" >"$BASELINE_DIR/REVISION"
fi

if [[ $SKIP_KPI == 0 ]]; then
    $PY -m bench.kpi_bench --sizes "$SIZES" --runs "$RUNS" --runs-10m "$RUNS_10M"
    if [[ $WITH_100M == 1 ]]; then
        $PY -m bench.streaming --size 100m
    fi
fi
if [[ -n $BASELINE_DIR ]]; then
    # before/after: the package at the baseline revision against the checkout
    $PY -m bench.kpi_bench --sizes "$SIZES" --runs "$RUNS" --runs-10m "$RUNS_10M" \
        --engines toolkit --toolkit-path "$BASELINE_DIR" --results bench/results/baseline.json
fi
if [[ $SKIP_REPORT == 0 ]]; then
    $PY -m bench.report_bench
    if [[ -n $BASELINE_DIR ]]; then
        $PY -m bench.report_bench --toolkit-path "$BASELINE_DIR" --baseline-runs 2
    fi
fi
$PY -m bench.write_results
