"""``b2b-analysis kpis PARAMS --format json``, the whole process, against the same
document computed with DuckDB SQL (``bench/duckdb_document.py``), the older DuckDB peer of
the KPI suite and optionally a baseline revision of the package, interleaved in one run.

    python -m bench.kpis_process [--baseline-path DIR] [--sizes 1m,10m] [--runs 3]
    python -m bench.kpis_process --check-only --sizes 10m

``DIR`` holds ``b2b_analysis/`` as it was at the baseline revision (``git archive REV
b2b_analysis | tar -x -C DIR``). Per size, checks first: the DuckDB document against the
checkout's ``kpis --format json`` (the same keys everywhere, strings and booleans equal,
numbers within rel 1e-9; :func:`document_differences`; the keys the peer leaves out are
listed in :data:`LEFT_OUT`, today none), and the KPI suite's peer against the toolkit's
suite (``kpi_bench.check_run``); every ``kpis --format json`` output of the checkout and of
the baseline must be byte-identical, in every round. Then ``--runs`` rounds with the order
of the commands rotating. Each command is its own process,
timed whole (interpreter start and imports included) with its CPU time (user + system)
and peak RSS from ``/usr/bin/time``: on a shared machine the CPU seconds vary much less
than the wall time. Results in ``bench/results/kpis_process.json``.

Engines: ``toolkit`` (the checkout's CLI), ``duckdb_document`` (``python -m
bench.duckdb_document PARAMS``: the whole document, DuckDB SQL for every row-level step,
the toolkit's pure functions for the finishing on the aggregates; see its docstring and
``bench/README.md``), ``duckdb_suite`` (``bench.worker duckdb``, ``engines.run_duckdb``:
the headline KPIs, the cohort matrix, the channel transitions and the per-customer AOV
comparison only, no checks: unequal work, kept for continuity) and, with
``--baseline-path``, ``toolkit_baseline``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
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
ENGINES = ("toolkit_baseline", "toolkit", "duckdb_document", "duckdb_suite")
#: the keys of kpis.json the DuckDB document leaves out (checked: no other may be missing)
LEFT_OUT: tuple[str, ...] = ()
#: numbers agree when within this relative difference
REL = 1e-9


def _command(engine: str, params: Path, cfg: dict[str, Any]) -> list[str]:
    if engine == "duckdb_suite":
        return [PYTHON, "-m", "bench.worker", "duckdb", json.dumps(cfg)]
    if engine == "duckdb_document":
        return [PYTHON, "-m", "bench.duckdb_document", str(params)]
    # -P: without it `python -m` puts the working folder (the checkout) first on
    # sys.path, ahead of PYTHONPATH, and the baseline engine ran the checkout's package
    return [PYTHON, "-P", "-m", "b2b_analysis.cli", "kpis", str(params), "--format", "json"]


def document_differences(toolkit: Any, peer: Any, path: str = "") -> list[str]:
    """Where two kpis.json documents differ: a key missing on one side (except
    :data:`LEFT_OUT`), a list of another length, unequal strings, booleans or nulls,
    numbers further apart than :data:`REL` (relative)."""
    if isinstance(toolkit, dict) and isinstance(peer, dict):
        out = []
        for key in sorted(set(toolkit) | set(peer)):
            where = f"{path}.{key}"
            if where.lstrip(".") in LEFT_OUT:
                continue
            if key not in peer or key not in toolkit:
                out.append(f"{where}: only in the {'toolkit' if key in toolkit else 'peer'}")
            else:
                out += document_differences(toolkit[key], peer[key], where)
        return out
    if isinstance(toolkit, list) and isinstance(peer, list):
        out = [f"{path}: {len(toolkit)} items against {len(peer)}"] * (len(toolkit) != len(peer))
        for i, (a, b) in enumerate(zip(toolkit, peer, strict=False)):
            out += document_differences(a, b, f"{path}[{i}]")
        return out
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (toolkit, peer))
    if numbers and math.isclose(toolkit, peer, rel_tol=REL, abs_tol=1e-12):
        return []
    return [] if not numbers and toolkit == peer else [f"{path}: {toolkit!r} against {peer!r}"]


def _values(doc: Any) -> int:
    """The number of leaves (numbers, strings, booleans, nulls) of a document."""
    if isinstance(doc, dict):
        return sum(_values(v) for v in doc.values())
    if isinstance(doc, list):
        return sum(_values(v) for v in doc)
    return 1


def check_document(size: str, params: Path, work: Path) -> dict[str, Any]:
    """Run the checkout's ``kpis --format json`` and the DuckDB document once each and
    compare them (:func:`document_differences`); stop when they differ."""
    docs = {}
    for engine in ("toolkit", "duckdb_document"):
        out = work / size / f"check_{engine}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        r = _run(engine, _command(engine, params, {}), None, out)
        docs[engine] = json.loads(out.read_text())
        print(f"  [{size} check] {engine:17s} {r['wall']:7.2f} s {r['peak_mib']:7.0f} MiB")
    found = document_differences(docs["toolkit"], docs["duckdb_document"])
    if found:
        raise SystemExit(f"[{size}] the DuckDB document differs: {found[:10]}")
    values = _values(docs["toolkit"])
    print(f"  [{size} check] DuckDB document agrees: {values} values, rel {REL}")
    return {"values": values, "left_out": list(LEFT_OUT), "rel": REL}


def _run(engine: str, cmd: list[str], baseline: Path | None, out: Path) -> dict[str, Any]:
    """One process, timed whole; its stdout in ``out``, its peak RSS from /usr/bin/time."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(baseline if engine == "toolkit_baseline" and baseline else ROOT)
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


def bench_size(size: str, runs: int, baseline: Path | None, work: Path) -> dict[str, Any]:
    params = ensure_data(size)
    cfg = engine_config(params)
    document = check_document(size, params, work)
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
    engines = [e for e in ENGINES if baseline is not None or e != "toolkit_baseline"]
    samples: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    reference: bytes | None = None
    differs: list[str] = []
    for round_no in range(runs):
        shift = round_no % len(engines)
        for engine in engines[shift:] + engines[:shift]:
            out = work / size / f"{engine}.out"
            r = _run(engine, _command(engine, params, cfg), baseline, out)
            r["loadavg"] = os.getloadavg()[0]
            samples[engine].append(r)
            print(
                f"  [{size} {round_no + 1}/{runs}] {engine:17s} {r['wall']:7.2f} s "
                f"{r['peak_mib']:7.0f} MiB  (load {r['loadavg']:.1f})",
                flush=True,
            )
            if engine.startswith("toolkit"):  # kpis.json: byte-identical, checkout and baseline
                text = out.read_bytes()
                reference = reference or text
                if text != reference:  # recorded, and the run fails at its end
                    differs.append(f"[{size} {round_no + 1}] {engine}")
                    print(f"  [{size}] {engine}: kpis.json differs from the first run")
    medians = {
        e: {
            "wall": statistics.median(s["wall"] for s in runs_),
            "cpu": statistics.median(s["cpu"] for s in runs_),
            "peak_mib": statistics.median(s["peak_mib"] for s in runs_),
        }
        for e, runs_ in samples.items()
    }
    return {
        "samples": samples,
        "medians": medians,
        "document_agreement": document,
        "duckdb_agrees": True,
        "kpis_json_differs": differs,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1m,10m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline-path", type=Path, default=None)
    ap.add_argument("--check-only", action="store_true", help="only the document check")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.check_only:
        with tempfile.TemporaryDirectory(prefix="kpis_process_") as tmp:
            for size in parse_sizes(args.sizes):
                check_document(size, ensure_data(size), Path(tmp))
        return
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
        "baseline": str(args.baseline_path) if args.baseline_path else None,
        "runs": args.runs,
        "sizes": sizes,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(doc, indent=1, default=str))
    print("| size | engine | wall s (median) | CPU s | peak MiB (median) | vs DuckDB document |")
    print("|---|---|---|---|---|---|")
    for size, res in sizes.items():
        med = res["medians"]
        for engine, m in med.items():
            print(
                f"| {size} | {engine} | {m['wall']:.2f} | {m['cpu']:.2f} | {m['peak_mib']:.0f} | "
                f"{m['wall'] / med['duckdb_document']['wall']:.2f}x |"
            )
    print(f"load average before {load_before}, after {doc['loadavg_after']}")
    differs = [d for res in sizes.values() for d in res["kpis_json_differs"]]
    if differs:
        raise SystemExit(f"kpis.json not byte-identical to the first run: {differs}")


if __name__ == "__main__":
    main()
