"""Where the toolkit's time and memory go: per table of load_client, then compute_kpis
and the frames, with the peak RSS after each step.

    python -m bench.profile_toolkit SIZE [--toolkit-path DIR] [--line]

``--line`` adds line_profiler output of ``io.load_table`` and the functions it calls
(slower). With ``--toolkit-path DIR`` the package exported there is profiled (e.g.
``bench/.baseline/REV``, written by ``bench/run.sh --baseline REV``).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _rss() -> tuple[float, float]:
    current = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            current = int(line.split()[1]) / 1024
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    args = sys.argv[1:]
    if "--toolkit-path" in args:
        sys.path.insert(0, str(Path(args[args.index("--toolkit-path") + 1]).resolve()))
    size = args[0]
    import polars as pl

    from b2b_analysis import io
    from b2b_analysis import metrics as m
    from b2b_analysis.config import load_params
    from b2b_analysis.kpis import compute_kpis
    from bench.common import DATA

    loaded = load_params(DATA / size / "acme.yaml")
    steps = []

    def mark(name: str, began: float) -> None:
        now, peak = _rss()
        steps.append({"step": name, "seconds": time.perf_counter() - began,
                      "rss_mib": now, "peak_rss_mib": peak})  # fmt: skip
        print(json.dumps(steps[-1]), flush=True)

    mark("imports", time.perf_counter())
    profiler = None
    if "--line" in args:
        from line_profiler import LineProfiler

        names = ("_load", "_read", "_typed", "_trim_text", "_untrimmed", "_parse_dates",
                 "_verify", "_deduplicate", "_derived", "_map_orders")  # fmt: skip
        # the functions of this checkout's io that exist (the list outlives refactors)
        profiler = LineProfiler(*(getattr(io, n) for n in names if hasattr(io, n)))
    tables = {}
    for table in ("orders", "visits", "surveys", "investments"):
        began = time.perf_counter()
        if profiler is not None:
            tables[table], _ = profiler.runcall(io.load_table, loaded, table)
        else:
            tables[table], _ = io.load_table(loaded, table)
        mark(f"load {table}", began)
    data = io.ClientData(params=loaded.params, **tables)  # type: ignore[arg-type]
    began = time.perf_counter()
    report = compute_kpis(data)
    mark("compute_kpis", began)
    kw = {"calendar": report.calendar, "start": report.start, "end": report.end}
    orders = data.orders.lazy()
    for name, plan in (
        ("cohort_retention", m.cohort_retention(orders, **kw)),
        ("channel_transitions", m.channel_transitions(m.channel_states(orders, **kw))),
        (
            "customer_aov_comparison",
            m.customer_aov_comparison(
                orders.filter(pl.col("order_date").is_between(report.start, report.end))
            ),
        ),
    ):
        began = time.perf_counter()
        plan.collect()
        mark(name, began)
    print(json.dumps({"orders_table_mib": data.orders.estimated_size() / 2**20,
                      "visits_table_mib": data.visits.estimated_size() / 2**20}))  # fmt: skip
    if profiler is not None:
        profiler.print_stats(output_unit=1e-3, stripzeros=True)


if __name__ == "__main__":
    main()
