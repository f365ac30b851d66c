"""Streaming check: the toolkit's streaming mode against DuckDB, for tables larger than memory.

    python -m bench.streaming --size 100m [--runs 1]     # or 100k / 1m for a quick check

The data set is the one of the KPI suite (``ensure_data``: the acme profile with every
table, in ``bench/data/<size>/``). Two engines, each run in its own process by
``bench.worker``: ``toolkit_streaming`` (``load_client(..., streaming=True)``: the
tables stay scans of the Parquet files, validated in streaming passes; then
``compute_kpis`` and the cohort matrix, channel transitions and AOV comparison, all
collected on polars' streaming engine) and ``duckdb``, the peer (the same SQL as in the
KPI suite). A check run comes first, with the outputs dumped and compared (the check
stops if they disagree); it is the first timed sample, and ``--runs`` - 1 more rounds
follow with the engine order rotating. Wall time, phase timings and peak RSS go to
``bench/results/streaming.json``, keyed by size (merged), with the Parquet sizes and
the memory limit the target sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bench.common import BENCH, DATA, engine_config, ensure_data, machine, parse_sizes
from bench.kpi_bench import (
    NOT_COMPARED,
    check_run,
    ratios_against,
    summarise,
    timed_rounds,
)

RESULTS = BENCH / "results" / "streaming.json"
ENGINES = ["toolkit_streaming", "duckdb"]
#: the peer, checked against the toolkit's streaming mode
REFERENCE = "toolkit_streaming"
#: the target: 100M orders complete within this much memory
LIMIT_MIB = 24 * 1024


def bench_size(size: str, runs: int, timeout: float) -> dict[str, Any]:
    """The check run, then the timed rounds, of both engines at ``size``."""
    cfg = engine_config(ensure_data(size))
    check_runs, agreement = check_run(
        size,
        cfg,
        ENGINES,
        {e: REFERENCE for e in ENGINES if e != REFERENCE},
        out_dir=DATA / size / "out-streaming",
        toolkit_path=None,
        timeout=timeout,
        label=f"[streaming {size}]",
    )
    # a failed run (out of memory, timeout) is a result: recorded, not compared or re-run
    disagree = {e: p for e, p in agreement.items() if p and p != [NOT_COMPARED]}
    ok = [e for e in ENGINES if "error" not in check_runs[e]]
    timed = timed_rounds(
        size, cfg, check_runs, [] if disagree else ok, runs, toolkit_path=None, timeout=timeout
    )
    stats = {e: summarise(v) for e, v in timed.items()}
    ratios = ratios_against(stats, lambda _engine: REFERENCE)
    files = {p.name: p.stat().st_size for p in sorted((DATA / size / "data").glob("*.parquet"))}
    return {
        "size": size,
        "engines": ENGINES,
        "parquet_bytes": files,
        "limit_mib": LIMIT_MIB,
        "agreement": agreement,
        "disagree": disagree,
        "check_runs": check_runs,
        "stats": stats,
        "ratios": ratios,
        "runs": timed,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100m", help="one size, or several: 100k,1m")
    ap.add_argument("--runs", type=int, default=1, help="samples per engine (median)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per engine run")
    args = ap.parse_args(argv)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for size in parse_sizes(args.size):
        result = bench_size(size, args.runs, args.timeout)
        results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results[size] = result
        RESULTS.write_text(json.dumps(results, indent=1, default=str))
        print(f"[streaming {size}] written to {RESULTS}", flush=True)
        if result["disagree"]:
            raise SystemExit(f"[streaming {size}] the engines disagree: {result['disagree']}")


if __name__ == "__main__":
    sys.exit(main())
