"""Streaming check for sizes whose tables do not fit in memory (100M orders).

    python -m bench.streaming --size 100m      # or 1m / 10m for a quick check

``load_client`` reads and validates every table eagerly, so at 100M orders the toolkit
is run the streaming way instead: the orders are scanned from Parquet, mapped with the
same rules as ``b2b_analysis.io`` (channel labels -> ``is_online``, status labels ->
``is_valid``, ``customer_id`` categorical) and the package's own metric expressions
and frame transforms are collected with polars' streaming engine. The data set is the
``nordic`` profile (orders and investments only: no 290M-row visits table to
generate), written to ``bench/data/<size>-nordic/``. Each step runs in its own process;
its wall time and peak RSS go to ``bench/results/streaming.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH, PYTHON, ROOT, machine, run_measured

RESULTS = BENCH / "results" / "streaming.json"
STEPS = ("order_kpis", "customer_aov_comparison", "online_adoption", "cohort_retention")


def scan_orders(params_path: str) -> Any:
    """The orders as the toolkit maps them, lazily from Parquet."""
    import polars as pl

    from b2b_analysis.config import load_params

    loaded = load_params(params_path)
    p = loaded.params
    src = p.data.orders
    raw = {
        c: src.columns.get(c, c)
        for c in ("order_id", "customer_id", "order_date", "channel", "revenue", "status", "cost")
    }
    online = sorted({x.strip().lower() for x in p.channels.online})
    invalid = sorted({x.strip().lower() for x in p.statuses.cancelled + p.statuses.returned})
    lf = pl.scan_parquet(loaded.resolve("orders"))
    names = lf.collect_schema().names()
    return lf.select(
        pl.col(raw["customer_id"]).cast(pl.String).cast(pl.Categorical).alias("customer_id"),
        pl.col(raw["order_date"]).cast(pl.Date).alias("order_date"),
        pl.col(raw["revenue"]).cast(pl.Float64).alias("revenue"),
        *([pl.col(raw["cost"]).cast(pl.Float64).alias("cost")] if raw["cost"] in names else []),
        pl.col(raw["channel"]).str.to_lowercase().is_in(online).alias("is_online"),
        (~pl.col(raw["status"]).str.to_lowercase().is_in(invalid)).alias("is_valid"),
    ), p


def step(name: str, params_path: str) -> dict[str, Any]:
    import polars as pl

    from b2b_analysis import metrics as m
    from b2b_analysis.kpis import _order_aggs

    orders, p = scan_orders(params_path)
    lo, hi = p.window.start, p.window.end
    window = orders.filter(pl.col("order_date").is_between(lo, hi))
    began = time.perf_counter()
    if name == "order_kpis":
        threshold = (
            window.filter(pl.col("is_valid"))
            .select(pl.col("revenue").median())
            .collect(engine="streaming")
            .item()
        )
        profit = (
            pl.col("revenue") - pl.col("cost")
            if p.gross_margin is None
            else (pl.col("revenue") * p.gross_margin)
        )
        out = window.select(_order_aggs(threshold, profit)).collect(engine="streaming")
    elif name == "customer_aov_comparison":
        out = m.customer_aov_comparison(window).collect(engine="streaming")
    elif name == "online_adoption":
        out = (
            m.online_adoption(orders, start=lo, end=hi)
            .select(m.online_retention_rate(), m.reverted_to_offline_share())
            .collect(engine="streaming")
        )
    elif name == "cohort_retention":
        out = m.cohort_retention(
            orders, period=p.period, start=lo, end=hi, fiscal_year_start=p.fiscal_year_start
        ).collect(engine="streaming")
    else:
        raise SystemExit(f"unknown step {name}")
    seconds = time.perf_counter() - began
    return {
        "step": name,
        "seconds": seconds,
        "rows_out": out.height,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ensure(size: str) -> Path:
    from b2b_analysis.generate import generate, params_yaml
    from bench.common import DATA, SIZES

    folder = DATA / f"{size}-nordic"
    params = folder / "nordic.yaml"
    if not (folder / ".complete").exists():
        began = time.perf_counter()
        print(f"[streaming] generating {size} orders (nordic) ...", flush=True)
        generate(
            folder / "data",
            profile="nordic",
            orders=SIZES[size],
            seed=0,
            fmt="parquet",
            with_lines=False,
        )
        params.write_text(params_yaml("nordic", "data", fmt="parquet", with_lines=False))
        (folder / ".complete").write_text(str(time.perf_counter() - began))
        print(f"[streaming] generated in {time.perf_counter() - began:.0f} s", flush=True)
    return params


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100m")
    ap.add_argument("--worker", nargs=2, metavar=("STEP", "PARAMS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(step(*args.worker)), flush=True)
        return
    params = ensure(args.size)
    got = []
    for name in STEPS:
        res = run_measured(
            [PYTHON, "-m", "bench.streaming", "--worker", name, str(params)], cwd=ROOT
        )
        if res["rc"] != 0:
            got.append({"step": name, "error": res["stderr"][-600:], "wall": res["wall"]})
        else:
            got.append(json.loads(res["stdout"].strip().splitlines()[-1]) | {"wall": res["wall"]})
        print(f"[streaming {args.size}] {got[-1]}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    parquet = {f.name: f.stat().st_size for f in (params.parent / "data").glob("*.parquet")}
    results[args.size] = {"steps": got, "parquet_bytes": parquet, "machine": machine()}
    RESULTS.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
