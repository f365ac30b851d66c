"""Write bench/RESULTS.md and the chart from bench/results/*.json.

    python -m bench.write_results

Tables come from the JSON the benchmarks wrote (any of them may be missing): the KPI
suite (``kpi.json``), before / after against a baseline revision (``baseline.json``),
the streaming check (``streaming.json``) and the report pipeline (``report.json``). The
analysis (targets, profile) is ``bench/analysis.md``, included as it is.
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import BENCH, SIZES
from bench.streaming import LIMIT_MIB

KPI = BENCH / "results" / "kpi.json"
REPORT = BENCH / "results" / "report.json"
CLUSTER = BENCH / "results" / "cluster.json"
BASELINE = BENCH / "results" / "baseline.json"
STREAMING = BENCH / "results" / "streaming.json"
KPIS_PROCESS = BENCH / "results" / "kpis_process.json"
ANALYSIS = BENCH / "analysis.md"
OUT = BENCH / "RESULTS.md"
CHART = BENCH / "results" / "scaling.png"
CHART_SVG = BENCH / "results" / "scaling.svg"

LABELS = {
    "toolkit": "toolkit (a)",
    "toolkit_streaming": "toolkit, streaming mode",
    "toolkit_baseline": "toolkit at the baseline revision",
    "duckdb": "DuckDB SQL (b)",
    "pandas": "pandas (c)",
    "toolkit_rfm": "toolkit RFM summary",
    "lifetimes": "lifetimes (d)",
}


def _s(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def _ordered(results: dict[str, Any]) -> list[str]:
    return [s for s in SIZES if s in results]


def kpi_tables(results: dict[str, Any]) -> str:
    lines = []
    for size in _ordered(results):
        r = results[size]
        st = r.get("stats", {})
        tk = st.get("toolkit", {})
        lines.append(f"### {size} orders\n")
        lines.append(
            f"Orders table in memory (toolkit, loaded): {_s(r.get('orders_table_mib'))} MiB; "
            f"all four tables: {_s(r.get('all_tables_mib'))} MiB; Parquet on disk: "
            f"{_s(sum(r.get('parquet_bytes', {}).values()) / 2**20)} MiB. "
            f"Samples per engine: {tk.get('n', 0)} (median; the first is the check run).\n"
        )
        lines.append(
            "| engine | total s | load s | compute s | peak RSS MiB | RSS after imports MiB "
            "| time vs toolkit | memory vs toolkit | all runs (s) |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for engine, s in st.items():
            if "total" not in s:
                lines.append(f"| {LABELS.get(engine, engine)} | failed: {s.get('error')} |||||||")
                continue
            ratio = r.get("ratios", {}).get(engine) if engine != "toolkit_rfm" else None
            against = (
                "" if not ratio else (" (vs RFM)" if ratio["against"] == "toolkit_rfm" else "")
            )
            lines.append(
                f"| {LABELS.get(engine, engine)} | {_s(s['total'])} | {_s(s['load'])} | "
                f"{_s(s['compute'])} | {s['peak_rss_mib']:.0f} | {s['baseline_rss_mib']:.0f} | "
                + (
                    f"{ratio['time']:.2f}x{against}"
                    if ratio
                    else "reference for lifetimes"
                    if engine == "toolkit_rfm"
                    else "1 (reference)"
                )
                + " | "
                + (f"{ratio['memory']:.2f}x" if ratio else "1")
                + " | "
                + ", ".join(_s(x) for x in s["total_all"])
                + " |"
            )
        agreement = r.get("agreement", {})
        verdicts = ", ".join(
            f"{e}: {'agree' if not p else 'DISAGREE (' + str(len(p)) + ')'}"
            for e, p in agreement.items()
        )
        lines.append(f"\nCorrectness check before timing (rel 1e-9): {verdicts}.\n")
        if "total" in tk and r.get("orders_table_mib") and r.get("all_tables_mib"):
            ex = tk.get("extra", {})
            lines.append(
                f"Toolkit split: load_client {_s(tk['load'])} s, compute_kpis "
                f"{_s(ex.get('compute_kpis'))} s, cohort + transitions + AOV comparison "
                f"{_s(ex.get('frames'))} s. Peak RSS / orders table = "
                f"{tk['peak_rss_mib'] / r['orders_table_mib']:.1f}x; (peak - RSS after "
                f"imports) / orders table = "
                f"{(tk['peak_rss_mib'] - tk['baseline_rss_mib']) / r['orders_table_mib']:.1f}x; "
                f"peak / all four tables = {tk['peak_rss_mib'] / r['all_tables_mib']:.1f}x.\n"
            )
    return "\n".join(lines)


def chart(results: dict[str, Any], streaming: dict[str, Any]) -> bool:
    """Time and peak memory against size; sizes only in ``streaming`` (100M) extend the
    lines of the engines it ran."""
    try:
        import altair as alt
        import polars as pl
    except ImportError:
        return False
    rows = []
    extra = {s: v for s, v in streaming.items() if s not in results and "stats" in v}
    runs = {**results, **extra}
    for size in [s for s in SIZES if s in runs]:
        for engine, s in runs[size].get("stats", {}).items():
            if "total" in s:
                rows.append(
                    {
                        "orders": SIZES[size],
                        "engine": LABELS.get(engine, engine),
                        "seconds": s["total"],
                        "peak RSS (MiB)": s["peak_rss_mib"],
                    }
                )
    if not rows:
        return False
    df = pl.DataFrame(rows)
    base = alt.Chart(df).encode(
        x=alt.X("orders:Q", scale=alt.Scale(type="log"), title="orders"),
        color=alt.Color("engine:N", title=None),
    )
    time_chart = (
        base.mark_line(point=True)
        .encode(y=alt.Y("seconds:Q", scale=alt.Scale(type="log"), title="wall time, s (median)"))
        .properties(title="Time against size", width=320, height=260)
    )
    mem_chart = (
        base.mark_line(point=True)
        .encode(y=alt.Y("peak RSS (MiB):Q", scale=alt.Scale(type="log"), title="peak RSS, MiB"))
        .properties(title="Peak memory against size", width=320, height=260)
    )
    both = alt.hconcat(time_chart, mem_chart)
    both.save(str(CHART), scale_factor=1.5)
    both.save(str(CHART_SVG))
    return True


def report_tables(rep: dict[str, Any]) -> str:
    lines = [
        "| clients | report --jobs 1 s | report --jobs 2 s | naive -P1 s | naive -P2 s "
        "| naive -P1 / jobs 1 | naive -P1 / jobs 2 | naive -P2 / jobs 2 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    failures = []
    for n, e in rep.get("by_clients", {}).items():
        m, r = e["median_wall"], e["ratios"]
        for label, runs in e["runs"].items():
            bad = [x for x in runs if not x["ok"]]
            if bad:
                failures.append(
                    f"{n} client(s), {label}: {len(bad)} of {len(runs)} runs failed "
                    f"({str(bad[0]['error']).strip()[:160]}); their wall time is in the median"
                )
        lines.append(
            f"| {n} | {_s(m.get('report --jobs 1'))} | {_s(m.get('report --jobs 2'))} | "
            f"{_s(m.get('naive -P1'))} | {_s(m.get('naive -P2'))} | "
            + " | ".join(
                f"{r[k]:.2f}x" if k in r else "—"
                for k in ("naive -P1 / report --jobs 1", "naive -P1 / report --jobs 2")
            )
            + " | "
            + (
                f"{r['naive -P2 / report --jobs 2']:.2f}x"
                if "naive -P2 / report --jobs 2" in r
                else "—"
            )
            + " |"
        )
    if failures:
        lines += ["", *(f"- {f}" for f in failures)]
    b = rep.get("breakdown")
    if b:
        lc = b.get("load_vs_compute", {})
        lines += [
            "",
            "Cost of one notebook (1 client, `report --jobs 1`, medians from the executed "
            "notebooks' papermill metadata; HTML export timed in process after a warm-up):",
            "",
            "| notebook | papermill total s | kernel start s | imports cell s "
            "| open_analysis (load + KPIs) s | chart cells s | HTML export s |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, row in b["per_notebook"].items():
            lines.append(
                f"| {name} | {_s(row['papermill_total'])} | {_s(row['kernel_start'])} | "
                f"{_s(row['imports_cell'])} | {_s(row['open_analysis_cell'])} | "
                f"{_s(row['chart_cells'])} | {_s(row['html_export'])} |"
            )
        lines.append(
            f"\n`open_analysis` split, measured in a fresh process: load_client "
            f"{_s(lc.get('load'))} s, compute_kpis {_s(lc.get('compute'))} s. First HTML export "
            f"in a process (nbconvert import, template): {_s(b.get('html_export_first_call'))} s."
        )
    if rep.get("startup"):
        lines += ["", startup_table(rep["startup"])]
    return "\n".join(lines)


def startup_table(st: dict[str, Any]) -> str:
    """Start-up: each command a whole process, interleaved, medians."""
    med = st["median"]
    polars = med.get("python -c 'import polars'")
    lines = [
        f"Start-up ({st['orders']:,}-order client, CSV; each command a whole process, "
        f"{len(next(iter(st['runs'].values())))} interleaved rounds, medians; load average "
        f"after: {', '.join(f'{x:.1f}' for x in st.get('load_average', []))}):",
        "",
        "| command | median s | vs `import polars` | runs (s) |",
        "|---|---:|---:|---|",
    ]
    for label, value in med.items():
        ratio = f"{value / polars:.2f}x" if polars else "—"
        runs = ", ".join(_s(x) for x in st["runs"][label])
        lines.append(f"| `{label}` | {value:.3f} | {ratio} | {runs} |")
    return "\n".join(lines)


def baseline_table(bl: dict[str, Any]) -> str:
    """Before / after: ``toolkit`` at the baseline revision against the checkout's."""
    sizes = _ordered(bl)
    revisions = sorted({str((bl[s].get("baseline") or {}).get("revision", "?")) for s in sizes})
    commits = sorted({str(bl[s].get("machine", {}).get("package_commit", "?")) for s in sizes})
    lines = [
        f"Before: the package at {', '.join(revisions)}; after: the checkout (commit "
        f"{', '.join(commits)}). At each size both are asserted to give the same outputs "
        "(rel 1e-9), then timed in the same run, interleaved; medians, before -> after.\n",
        "| size | total s | speed-up | load s | compute s | peak RSS MiB | all runs before / "
        "after (s) | outputs |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in sizes:
        st = bl[size].get("stats", {})
        before, after = st.get("toolkit_baseline", {}), st.get("toolkit", {})
        ag = bl[size].get("agreement", {}).get("toolkit_baseline")
        verdict = (
            "not compared" if ag is None else "identical" if not ag else "DIFFER: " + ag[0][:120]
        )
        if "total" not in before or "total" not in after:
            error = before.get("error") or after.get("error") or "not run"
            lines.append(f"| {size} | failed: {str(error)[-200:]} |||||| {verdict} |")
            continue
        pair = {k: f"{_s(before[k])} -> {_s(after[k])}" for k in ("total", "load", "compute")}
        lines.append(
            f"| {size} | {pair['total']} | {before['total'] / after['total']:.2f}x | "
            f"{pair['load']} | {pair['compute']} | "
            f"{before['peak_rss_mib']:.0f} -> {after['peak_rss_mib']:.0f} | "
            + ", ".join(_s(x) for x in before["total_all"])
            + " / "
            + ", ".join(_s(x) for x in after["total_all"])
            + f" | {verdict} |"
        )
    return "\n".join(lines)


def streaming_table(st: dict[str, Any]) -> str:
    """The toolkit's streaming mode against DuckDB at each size of streaming.json."""
    sizes = [s for s in _ordered(st) if "stats" in st[s]]
    earlier = [s for s in _ordered(st) if "stats" not in st[s]]
    lines = []
    if sizes:
        limit = st[sizes[-1]].get("limit_mib", LIMIT_MIB)
        lines += [
            f"Target: 100M orders within {limit / 1024:.0f} GiB. Each engine in its own "
            "process; peak RSS is the process's `ru_maxrss`; wall includes interpreter start "
            "and imports.\n",
            "| size | engine | total s | load s | compute s | wall s | peak RSS MiB "
            "| peak / limit | orders Parquet MiB | visits Parquet MiB | all runs (s) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
    for size in sizes:
        r = st[size]
        files = r.get("parquet_bytes", {})
        mib = {
            n: _s(files[f"{n}.parquet"] / 2**20) if f"{n}.parquet" in files else "—"
            for n in ("orders", "visits")
        }
        limit = r.get("limit_mib", LIMIT_MIB)
        for engine, s in r["stats"].items():
            label = LABELS.get(engine, engine)
            if "total" not in s:
                lines.append(f"| {size} | {label} | failed: {str(s.get('error'))[-200:]} ||||||||")
                continue
            lines.append(
                f"| {size} | {label} | {_s(s['total'])} | {_s(s['load'])} | "
                f"{_s(s['compute'])} | {_s(s['wall'])} | {s['peak_rss_mib']:.0f} | "
                f"{s['peak_rss_mib'] / limit:.0%} | {mib['orders']} | {mib['visits']} | "
                + ", ".join(_s(x) for x in s["total_all"])
                + " |"
            )
    if sizes:
        verdicts = "; ".join(
            f"{size}: "
            + (
                ", ".join(
                    f"{e} "
                    + (
                        "agrees"
                        if not p
                        else p[0]
                        if p[0].startswith("not compared")
                        else f"DISAGREES ({p[0][:120]})"
                    )
                    for e, p in st[size].get("agreement", {}).items()
                )
                or "not compared"
            )
            for size in sizes
        )
        lines.append(
            "\nCorrectness check before timing, against the toolkit's streaming mode "
            f"(rel 1e-9): {verdicts}."
        )
    if earlier:
        lines.append(
            ("\n" if lines else "")
            + f"{', '.join(earlier)}: results of the earlier streaming check (another format, "
            "not shown); re-run `python -m bench.streaming --size SIZE`."
        )
    return "\n".join(lines)


def cluster_table(cl: dict[str, Any]) -> str:
    """``report --scheduler local:2`` against ``--jobs 2`` (``bench/cluster_bench.py``)."""
    labels = {"jobs2": "`--jobs 2` (process pool)", "local2": "`--scheduler local:2`"}
    lines = [
        f"{cl['clients']} demo clients, {cl['orders']:,} orders each, {cl['rounds']} "
        "interleaved round(s); outputs of the two compared file by file first: "
        + ("identical." if cl.get("outputs_identical") else "NOT compared."),
        "",
        "| configuration | median s | runs (s) |",
        "|---|---:|---|",
    ]
    for mode, runs in cl["runs"].items():
        lines.append(
            f"| {labels.get(mode, mode)} | {_s(cl['median'][mode])} | "
            f"{', '.join(_s(x) for x in runs)} |"
        )
    lines.append(
        f"\nRatio `local:2` / `--jobs 2`: **{cl['ratio_local2_over_jobs2']:.2f}** "
        f"(load average at the start: "
        f"{', '.join(f'{x:.1f}' for x in cl.get('machine', {}).get('load_average', []))})."
    )
    if cl.get("note"):
        lines.append(f"\n{cl['note']}")
    return "\n".join(lines)


def cluster_section() -> list[str]:
    """The cluster bench's heading and table, when it was run."""
    if not CLUSTER.exists():
        return []
    cl = json.loads(CLUSTER.read_text())
    heading = "## Report on a cluster: `--scheduler local:2` against `--jobs 2`\n"
    return [heading, cluster_table(cl) + "\n"]


def kpis_process_section() -> list[str]:
    """``kpis --format json`` as a whole process against the baseline package and the
    DuckDB peer (``python -m bench.kpis_process``), when it has been run."""
    if not KPIS_PROCESS.exists():
        return []
    doc = json.loads(KPIS_PROCESS.read_text())
    load = ", ".join(f"{x:.1f}" for x in doc["loadavg_before"])
    load_after = ", ".join(f"{x:.1f}" for x in doc["loadavg_after"])
    first = next(iter(doc["sizes"].values()))["medians"]
    # runs before the DuckDB document was added time the KPI suite's peer as "duckdb"
    peer = "duckdb_document" if "duckdb_document" in first else "duckdb"
    parts = [
        f"## `kpis --format json`, whole process, against DuckDB ({doc['started'][:10]})\n",
        f"`python -m bench.kpis_process` ({doc['started']} to {doc['finished']} UTC; load "
        f"average {load} before, {load_after} after; the machine was shared with other "
        f"jobs). Each command is its own process, timed whole (interpreter start and "
        f"imports included), CPU time and peak RSS from `/usr/bin/time`; {doc['runs']} rounds with "
        f"the commands interleaved in rotating order; medians. Baseline: the "
        f"package at `{doc['baseline']}`. Every round's kpis.json of the checkout and of "
        f"the baseline was byte-identical, and the DuckDB peers agreed with the toolkit "
        f"(rel 1e-9) on everything they compute before timing.\n",
    ]
    if peer == "duckdb_document":
        parts.append(
            "The DuckDB document (`python -m bench.duckdb_document`) computes the whole "
            "kpis.json document, SQL doing every row-level step and the data contract's "
            "row checks (`bench/README.md`, *The DuckDB document*); the DuckDB suite "
            "(`engines.run_duckdb`) only the headline KPIs, the cohort matrix, the channel "
            "transitions and the per-customer AOV comparison, without checks.\n"
        )
    else:
        parts.append(
            "The DuckDB peer (`bench.worker duckdb`, `engines.run_duckdb`) computes the "
            "headline KPIs, the cohort matrix, the channel transitions and the per-customer "
            "AOV comparison, not the rest of the document nor the data contract's checks: "
            "a ratio of unequal work, in DuckDB's favour.\n"
        )
    parts += [
        f"| size | command | median s | runs (s) | CPU s (median) | peak MiB | / {peer} | "
        "/ baseline | CPU / baseline |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    names = {
        "toolkit_baseline": "kpis, baseline package",
        "toolkit": "kpis, checkout",
        "duckdb_document": "DuckDB document (whole kpis.json)",
        "duckdb_suite": "DuckDB KPI suite (part of the work)",
        "duckdb": "DuckDB peer (KPI suite)",
    }
    for size, res in doc["sizes"].items():
        med = res["medians"]
        base = med.get("toolkit_baseline", {})
        for engine, label in names.items():
            if engine not in med:
                continue
            runs = ", ".join(f"{r['wall']:.2f}" for r in res["samples"][engine])
            cpu, cpu_base = med[engine].get("cpu"), base.get("cpu")
            wall = med[engine]["wall"]
            parts.append(
                f"| {size} | {label} | {wall:.2f} | {runs} | "
                f"{_s(cpu)} | {med[engine]['peak_mib']:.0f} | "
                f"{wall / med[peer]['wall']:.2f}x | "
                + (f"{wall / base['wall']:.2f}x | " if base else "- | ")
                + (f"{cpu / cpu_base:.2f}x |" if cpu and cpu_base else "- |")
            )
    return [*parts, ""]


def main() -> None:
    kpi = json.loads(KPI.read_text()) if KPI.exists() else {}
    rep = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    bl = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    st = json.loads(STREAMING.read_text()) if STREAMING.exists() else {}
    any_run = kpi[_ordered(kpi)[-1]] if kpi else rep
    mach = any_run.get("machine", {}) if isinstance(any_run, dict) else {}
    # the package commit is recorded by the later runs (report, baseline)
    later = (rep.get("machine") or {}) if rep else {}
    commit = mach.get("package_commit") or later.get("package_commit") or "?"
    dirty = mach.get("package_uncommitted_changes", later.get("package_uncommitted_changes"))
    has_chart = chart(kpi, st)
    parts = ["# Benchmarks: results\n"]
    parts.append(
        "Generated by `bash bench/run.sh` (see `bench/README.md`); numbers from "
        "`bench/results/*.json`.\n"
    )
    if mach:
        v = mach.get("versions", {})
        parts.append(
            f"**Machine**: {mach.get('cpu')}, {mach.get('cores')} cores, {mach.get('memory')}, "
            f"{mach.get('os')}, Python {mach.get('python')}. **Versions**: "
            + ", ".join(f"{k} {val}" for k, val in v.items())
            + f". **Package**: commit {commit}"
            + (
                " plus uncommitted changes of other engineers in b2b_analysis/ (the package "
                "was being worked on during the run)"
                if dirty
                else ""
            )
            + ". Absolute times depend on the machine's load (load average at the "
            f"start of the last size: {', '.join(f'{x:.1f}' for x in mach.get('load_average', []))}"
            "); compare engines by the ratios, measured in the same "
            "run with the engines interleaved.\n"
        )
    if ANALYSIS.exists():
        parts.append(ANALYSIS.read_text())
    parts.append("## KPI suite\n")
    if has_chart:
        parts.append("![time and memory against size](results/scaling.png)\n")
    parts.append(kpi_tables(kpi))
    if _ordered(bl):
        parts.append("## Before / after: the package at a baseline revision and the checkout\n")
        parts.append(baseline_table(bl) + "\n")
    if _ordered(st):
        parts.append("## Streaming: the toolkit's streaming mode against DuckDB\n")
        parts.append(streaming_table(st) + "\n")
    parts += kpis_process_section()
    parts += cluster_section()
    if rep:
        parts.append("## Report pipeline (100k orders per client)\n")
        parts.append(report_tables(rep) + "\n")
        bc = rep.get("baseline_compare")
        if bc:
            med = bc["median"]
            parts.append(
                f"Before / after, {bc['what']}; medians of "
                f"{len(bc['runs'].get('checkout', []))} interleaved runs:\n"
            )
            parts.append("| configuration | median s | runs (s) |\n|---|---:|---|")
            for label, runs in bc["runs"].items():
                parts.append(
                    f"| {label} | {_s(med.get(label))} | {', '.join(_s(x) for x in runs)} |"
                )
            if med.get("checkout") and "baseline" in med and "naive -P2" in med:
                parts.append(
                    f"\nbaseline / checkout = {med['baseline'] / med['checkout']:.2f}x; "
                    f"naive -P2 / report --jobs 2 (checkout) = "
                    f"{med['naive -P2'] / med['checkout']:.2f}x.\n"
                )
    OUT.write_text("\n".join(parts).rstrip() + "\n")
    print(f"wrote {OUT}" + (f" and {CHART}" if has_chart else ""))


if __name__ == "__main__":
    main()
