"""``b2b-analysis kpis PARAMS --format json``, the whole process, against a baseline
revision of the package and the DuckDB peer of the KPI suite, interleaved in one run.

    python -m bench.kpis_process --baseline-path DIR [--sizes 1m,10m] [--runs 3]

``DIR`` holds ``b2b_analysis/`` as it was at the baseline revision (``git archive REV
b2b_analysis | tar -x -C DIR``). Per size: a check run (the DuckDB peer against the
toolkit's KPI suite, ``kpi_bench.check_run``; every ``kpis --format json`` output of the
checkout and of the baseline must be byte-identical, in every round), then ``--runs``
rounds with the order of the three commands rotating. Each command is its own process,
timed whole (interpreter start and imports included) with its CPU time (user + system)
and peak RSS from ``/usr/bin/time``: on a shared machine the CPU seconds vary much less
than the wall time. Results in ``bench/results/kpis_process.json``.

The DuckDB peer is ``bench.worker duckdb`` (see ``engines.run_duckdb``): it computes the
headline KPIs, the cohort matrix, the channel transitions and the per-customer AOV
comparison; not the rest of the kpis.json document (series, intervals, maturity, trends,
account lists, revenue bridge, sales effort, window notes, findings) nor the data
contract's checks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT, engine_config, ensure_data, machine, parse_sizes
from bench.kpi_bench import check_run

RESULTS = ROOT / "bench" / "results" / "kpis_process.json"
ENGINES = ("toolkit_baseline", "toolkit", "duckdb")


def _command(engine: str, params: Path, cfg: dict[str, Any]) -> list[str]:
    if engine == "duckdb":
        return [PYTHON, "-m", "bench.worker", "duckdb", json.dumps(cfg)]
    return [PYTHON, "-m", "b2b_analysis.cli", "kpis", str(params), "--format", "json"]


def _run(engine: str, cmd: list[str], baseline: Path, out: Path) -> dict[str, Any]:
    """One process, timed whole; its stdout in ``out``, its peak RSS from /usr/bin/time."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(baseline if engine == "toolkit_baseline" else ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stamp, out.open("wb") as sink:
        began = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", stamp.name, *cmd],
            stdout=sink,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - began
        peak_kib, user, system = Path(stamp.name).read_text().split()[-3:]
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"{engine} failed (rc={proc.returncode}): {' | '.join(tail)}")
    cpu = float(user) + float(system)
    return {"engine": engine, "wall": wall, "cpu": cpu, "peak_mib": int(peak_kib) / 1024}


def bench_size(size: str, runs: int, baseline: Path, work: Path) -> dict[str, Any]:
    params = ensure_data(size)
    cfg = engine_config(params)
    _, agreement = check_run(
        size,
        cfg,
        ["toolkit", "duckdb"],
        {"duckdb": "toolkit"},
        out_dir=work / size / "dumps",
        toolkit_path=None,
        timeout=3600,
        label=f"[{size}]",
    )
    if agreement.get("duckdb"):
        raise SystemExit(f"[{size}] DuckDB disagrees with the toolkit: {agreement['duckdb'][:5]}")
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
    reference: bytes | None = None
    for round_no in range(runs):
        order = ENGINES[round_no % 3 :] + ENGINES[: round_no % 3]
        for engine in order:
            out = work / size / f"{engine}.out"
            r = _run(engine, _command(engine, params, cfg), baseline, out)
            samples[engine].append(r)
            print(
                f"  [{size} {round_no + 1}/{runs}] {engine:17s} {r['wall']:7.2f} s "
                f"{r['peak_mib']:7.0f} MiB",
                flush=True,
            )
            if engine != "duckdb":  # kpis.json: byte-identical, checkout and baseline
                text = out.read_bytes()
                reference = reference or text
                if text != reference:
                    raise SystemExit(f"[{size}] {engine}: kpis.json differs from the first run")
    medians = {
        e: {
            "wall": statistics.median(s["wall"] for s in runs_),
            "cpu": statistics.median(s["cpu"] for s in runs_),
            "peak_mib": statistics.median(s["peak_mib"] for s in runs_),
        }
        for e, runs_ in samples.items()
    }
    return {"samples": samples, "medians": medians, "duckdb_agrees": True}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1m,10m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline-path", type=Path, required=True)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    began = dt.datetime.now(dt.UTC)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kpis_process_") as tmp:
        sizes = {
            s: bench_size(s, args.runs, args.baseline_path, Path(tmp))
            for s in parse_sizes(args.sizes)
        }
    doc = {
        "started": began.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "machine": machine(),
        "baseline": str(args.baseline_path),
        "runs": args.runs,
        "sizes": sizes,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(doc, indent=1, default=str))
    print("| size | engine | wall s (median) | peak MiB (median) | vs DuckDB | vs baseline |")
    print("|---|---|---|---|---|---|")
    for size, res in sizes.items():
        med = res["medians"]
        for engine in ENGINES:
            wall, peak = med[engine]["wall"], med[engine]["peak_mib"]
            print(
                f"| {size} | {engine} | {wall:.2f} | {peak:.0f} | "
                f"{wall / med['duckdb']['wall']:.2f}x | "
                f"{wall / med['toolkit_baseline']['wall']:.2f}x |"
            )


if __name__ == "__main__":
    main()
