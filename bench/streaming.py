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
from bench.compare import compare_dumps
from bench.kpi_bench import run_engine, summarise

RESULTS = BENCH / "results" / "streaming.json"
ENGINES = ["toolkit_streaming", "duckdb"]
#: the peer, checked against the toolkit's streaming mode
REFERENCE = "toolkit_streaming"
#: the target: 100M orders complete within this much memory
LIMIT_MIB = 24 * 1024
NOT_COMPARED = "not compared: a run failed"


def _line(r: dict[str, Any]) -> str:
    if "error" in r:
        return str(r["error"])
    t = r["timings"]
    return (
        f"{t['total']:.2f} s (load {t['load']:.2f} s, compute {t['compute']:.2f} s), "
        f"wall {r['wall']:.1f} s, peak {r['peak_rss_mib']:.0f} MiB"
    )


def bench_size(size: str, runs: int, timeout: float) -> dict[str, Any]:
    """The check run, then the timed rounds, of both engines at ``size``."""
    params = ensure_data(size)
    cfg = engine_config(params)
    out_dir = DATA / size / "out-streaming"
    print(f"[streaming {size}] check run (outputs dumped) ...", flush=True)
    check_runs = {
        e: run_engine(e, cfg, dump=out_dir / e, toolkit_path=None, timeout=timeout) for e in ENGINES
    }
    for engine, r in check_runs.items():
        print(f"  {engine:17s} {_line(r)}", flush=True)
    agreement: dict[str, list[str]] = {}
    for engine in ENGINES:
        if engine == REFERENCE:
            continue
        if "error" in check_runs[engine] or "error" in check_runs[REFERENCE]:
            # a failed run (out of memory, timeout) is a result: recorded, not compared
            agreement[engine] = [NOT_COMPARED]
            continue
        agreement[engine] = compare_dumps(out_dir / REFERENCE, out_dir / engine)
        print(
            f"  {engine} vs {REFERENCE}: {'agree' if not agreement[engine] else 'DISAGREE'}",
            flush=True,
        )
        for problem in agreement[engine][:10]:
            print(f"    {problem}", flush=True)
    disagree = {e: p for e, p in agreement.items() if p and p != [NOT_COMPARED]}
    # the check run is the first timed sample (outputs are written after the timers)
    timed: dict[str, list[dict[str, Any]]] = {e: [r] for e, r in check_runs.items()}
    ok = [e for e in ENGINES if "error" not in check_runs[e]]
    for round_no in range(1, runs if ok and not disagree else 1):
        order = ok[round_no % len(ok) :] + ok[: round_no % len(ok)]
        for engine in order:
            r = run_engine(engine, cfg, dump=None, toolkit_path=None, timeout=timeout)
            timed[engine].append(r)
            print(f"  [{size} sample {round_no + 1}/{runs}] {engine:17s} {_line(r)}", flush=True)
    stats = {e: summarise(v) for e, v in timed.items()}
    ref = stats.get(REFERENCE, {})
    ratios = {
        e: {
            "time": st["total"] / ref["total"],
            "memory": st["peak_rss_mib"] / ref["peak_rss_mib"],
            "against": REFERENCE,
        }
        for e, st in stats.items()
        if e != REFERENCE and "total" in st and "total" in ref
    }
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
