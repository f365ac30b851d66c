"""KPI suite benchmark: the toolkit against DuckDB SQL, pandas and lifetimes.

    python -m bench.kpi_bench [--sizes 100k,1m,10m] [--runs 3]
    python -m bench.kpi_bench --engines toolkit --toolkit-path bench/.baseline/REV \
        --results bench/results/baseline.json

100M orders run only in the toolkit's streaming mode, against DuckDB: ``bench.streaming``.

For each size: generate the data once (Parquet, reused), run every engine once with
its outputs dumped and assert that the toolkit's streaming mode, DuckDB and pandas
agree with the toolkit (and lifetimes with the toolkit's equivalent), then time
``--runs`` rounds, each engine in its own process, the order of the engines rotating
every round so that machine noise hits all of them. Results go to
``bench/results/kpi.json`` (merged by size).

``--toolkit-path DIR`` (a folder holding ``b2b_analysis`` exported at a baseline
revision, see ``bench/run.sh --baseline``) adds engine ``toolkit_baseline``: the same
work as ``toolkit`` with that package first on ``sys.path``, asserted to give the same
outputs as the checkout's before it is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH,
    DATA,
    PYTHON,
    ROOT,
    engine_config,
    ensure_data,
    machine,
    parse_sizes,
    run_measured,
)
from bench.compare import compare_dumps

RESULTS = BENCH / "results" / "kpi.json"
ENGINES = ["toolkit", "toolkit_streaming", "duckdb", "pandas", "toolkit_rfm", "lifetimes"]
#: the engines checked against the toolkit, and against what
CHECKS = {
    "toolkit_streaming": "toolkit",
    "duckdb": "toolkit",
    "pandas": "toolkit",
    "lifetimes": "toolkit_rfm",
}
NOT_COMPARED = "not compared: a run failed"
#: the engine suffix running the package exported at the baseline revision
BASELINE = "_baseline"


def _env(engine: str, toolkit_path: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.pop("BENCH_TOOLKIT_PATH", None)
    if engine.endswith(BASELINE) and toolkit_path:
        # b2b_analysis exported at the baseline revision (the worker puts it first)
        env["BENCH_TOOLKIT_PATH"] = str(Path(toolkit_path).resolve())
    return env


def run_engine(
    engine: str,
    cfg: dict[str, Any],
    *,
    dump: Path | None,
    toolkit_path: str | None,
    timeout: float,
) -> dict[str, Any]:
    name = engine.removesuffix(BASELINE)
    cmd = [PYTHON, "-m", "bench.worker", name, json.dumps(cfg)]
    if dump is not None:
        cmd += ["--dump", str(dump)]
    res = run_measured(cmd, env=_env(engine, toolkit_path), timeout=timeout, cwd=ROOT)
    if res["rc"] != 0:
        tail = (res["stderr"] or "").strip().splitlines()[-5:]
        return {
            "engine": engine,
            "error": f"rc={res['rc']}: " + " | ".join(tail),
            "wall": res["wall"],
        }
    line = [ln for ln in res["stdout"].splitlines() if ln.startswith("{")][-1]
    out = json.loads(line)
    out["engine"] = engine
    out["wall"] = res["wall"]
    return out


def baseline_info(toolkit_path: str) -> dict[str, str]:
    """Where the baseline package is and which revision it is (``REVISION``, written by
    ``bench/run.sh --baseline``; else the folder's name)."""
    folder = Path(toolkit_path).resolve()
    stamp = folder / "REVISION"
    revision = stamp.read_text().strip() if stamp.exists() else folder.name
    return {"path": str(folder), "revision": revision}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1].get("error") if runs else "not run", "n": 0}
    med = lambda xs: statistics.median(xs)  # noqa: E731
    return {
        "n": len(ok),
        "total": med([r["timings"]["total"] for r in ok]),
        "load": med([r["timings"]["load"] for r in ok]),
        "compute": med([r["timings"]["compute"] for r in ok]),
        "total_all": [r["timings"]["total"] for r in ok],
        "peak_rss_mib": med([r["peak_rss_mib"] for r in ok]),
        "peak_rss_max_mib": max(r["peak_rss_mib"] for r in ok),
        "baseline_rss_mib": med([r["baseline_rss_mib"] for r in ok]),
        "wall": med([r["wall"] for r in ok]),
        "extra": {
            k: med([r["timings"][k] for r in ok])
            for k in ok[0]["timings"]
            if k not in ("total", "load", "compute")
        },
        "errors": [r["error"] for r in runs if "error" in r],
    }


def describe(r: dict[str, Any]) -> str:
    """One engine run on one line: its error, or its times and peak memory."""
    if "error" in r:
        return str(r["error"])
    t = r["timings"]
    return (
        f"{t['total']:.2f} s (load {t['load']:.2f} s, compute {t['compute']:.2f} s), "
        f"wall {r['wall']:.1f} s, peak {r['peak_rss_mib']:.0f} MiB"
    )


def check_run(
    size: str,
    cfg: dict[str, Any],
    engines: list[str],
    checks: dict[str, str],
    *,
    out_dir: Path,
    toolkit_path: str | None,
    timeout: float,
    label: str,
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Run every engine once with its outputs dumped, and compare each engine of
    ``checks`` with its reference (``engine -> reference``); a failed run is recorded
    as ``NOT_COMPARED``. Returns the runs and the problems found per engine."""
    print(f"{label} check run (outputs dumped) ...", flush=True)
    check_runs: dict[str, dict[str, Any]] = {}
    for engine in engines:
        check_runs[engine] = run_engine(
            engine, cfg, dump=out_dir / engine, toolkit_path=toolkit_path, timeout=timeout
        )
        print(f"  {engine:17s} {describe(check_runs[engine])}", flush=True)
    agreement: dict[str, list[str]] = {}
    for engine, ref in checks.items():
        if engine not in engines or ref not in engines:
            continue
        if "error" in check_runs[engine] or "error" in check_runs[ref]:
            agreement[engine] = [NOT_COMPARED]
            continue
        agreement[engine] = compare_dumps(out_dir / ref, out_dir / engine)
        verdict = "agree" if not agreement[engine] else "DISAGREE"
        print(f"  {engine} vs {ref}: {verdict}", flush=True)
        for problem in agreement[engine][:10]:
            print(f"    {problem}", flush=True)
    return check_runs, agreement


def timed_rounds(
    size: str,
    cfg: dict[str, Any],
    check_runs: dict[str, dict[str, Any]],
    engines: list[str],
    runs: int,
    *,
    toolkit_path: str | None,
    timeout: float,
) -> dict[str, list[dict[str, Any]]]:
    """The check run as the first sample of each engine, then ``runs`` - 1 rounds of
    ``engines`` with their order rotating. The check run's outputs are written after
    its timers stop (and its peak RSS is taken before), so it measures the same work."""
    timed: dict[str, list[dict[str, Any]]] = {e: [r] for e, r in check_runs.items()}
    for round_no in range(1, runs if engines else 1):
        order = engines[round_no % len(engines) :] + engines[: round_no % len(engines)]
        for engine in order:
            r = run_engine(engine, cfg, dump=None, toolkit_path=toolkit_path, timeout=timeout)
            timed[engine].append(r)
            print(f"  [{size} sample {round_no + 1}/{runs}] {engine:17s} {describe(r)}", flush=True)
    return timed


def ratios_against(
    stats: dict[str, dict[str, Any]], reference: Callable[[str], str]
) -> dict[str, dict[str, Any]]:
    """Time and peak memory of each engine over those of its ``reference(engine)``."""
    out = {}
    for engine, st in stats.items():
        ref = reference(engine)
        if engine == ref or "total" not in st or "total" not in stats.get(ref, {}):
            continue
        out[engine] = {
            "time": st["total"] / stats[ref]["total"],
            "memory": st["peak_rss_mib"] / stats[ref]["peak_rss_mib"],
            "against": ref,
        }
    return out


def bench_size(
    size: str, engines: list[str], runs: int, toolkit_path: str | None, timeout: float
) -> dict[str, Any]:
    params = ensure_data(size)
    cfg = engine_config(params)
    checks = dict(CHECKS)
    for engine in engines:
        if engine.endswith(BASELINE):
            checks[engine] = engine.removesuffix(BASELINE)
    check_runs, agreement = check_run(
        size,
        cfg,
        engines,
        checks,
        out_dir=DATA / size / "out",
        toolkit_path=toolkit_path,
        timeout=timeout,
        label=f"[{size}]",
    )
    bad = {e: p for e, p in agreement.items() if p}
    if bad:
        raise SystemExit(f"[{size}] the engines disagree; not timing: {bad}")
    timed = timed_rounds(
        size, cfg, check_runs, engines, runs, toolkit_path=toolkit_path, timeout=timeout
    )
    stats = {e: summarise(v) for e, v in timed.items()}
    if "total" in stats.get("toolkit", {}):
        ratios = ratios_against(
            stats,
            lambda e: "toolkit_rfm" if e == "lifetimes" and "toolkit_rfm" in stats else "toolkit",
        )
    else:
        ratios = {}
    orders_mib = (
        check_runs["toolkit"]["timings"].get("orders_table_bytes", 0) / 2**20
        if "toolkit" in check_runs and "error" not in check_runs["toolkit"]
        else None
    )
    all_mib = (
        check_runs["toolkit"]["timings"].get("all_tables_bytes", 0) / 2**20
        if orders_mib is not None
        else None
    )
    files = {p.name: p.stat().st_size for p in sorted((DATA / size / "data").glob("*.parquet"))}
    return {
        "size": size,
        "baseline": baseline_info(toolkit_path) if toolkit_path else None,
        "orders_table_mib": orders_mib,
        "all_tables_mib": all_mib,
        "parquet_bytes": files,
        "agreement": agreement,
        "check_runs": check_runs,
        "stats": stats,
        "ratios": ratios,
        "runs": timed,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k,1m,10m")
    ap.add_argument("--runs", type=int, default=3, help="samples per engine and size (median)")
    ap.add_argument("--runs-10m", type=int, default=None, help="samples at 10M and above")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument(
        "--toolkit-path",
        default=None,
        help="folder holding b2b_analysis at a baseline revision; adds toolkit_baseline",
    )
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per engine run")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    sizes = parse_sizes(args.sizes)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if args.toolkit_path and "toolkit" + BASELINE not in engines:
        engines.insert(1, "toolkit" + BASELINE)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    for size in sizes:
        runs = args.runs
        if size in ("10m", "100m") and args.runs_10m is not None:
            runs = args.runs_10m
        results[size] = bench_size(size, engines, runs, args.toolkit_path, args.timeout)
        args.results.write_text(json.dumps(results, indent=1, default=str))
        print(f"[{size}] written to {args.results}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
