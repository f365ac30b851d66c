"""Report pipeline benchmark: ``b2b-analysis report`` against the naive CLI chain.

    python -m bench.report_bench [--clients 1,10] [--runs 2] [--runs-10 1]

Data: 10 demo clients (profiles acme, iberia, nordic in turn, seeds 0..9), 100k orders
each, Parquet with order lines, generated once under ``bench/data/report/``.

For 1 and for 10 clients it times, each in its own process tree:

* ``report --jobs 1`` and ``report --jobs 2`` (every notebook, kpis.json, index pages);
* the naive way: per client and notebook, the ``papermill`` CLI, then
  ``jupyter nbconvert --to html``; one after the other (``naive -P1``) and two at a
  time (``naive -P2``, like ``xargs -P 2``).

The cost of one notebook is then broken down from the executed notebooks' papermill
metadata (kernel start, the ``open_analysis`` cell = data load + KPIs, the chart
cells), an in-process measurement of ``load_client`` against ``compute_kpis`` to split
that cell, and the HTML export timed in process. Results: ``bench/results/report.json``.

``--toolkit-path DIR`` (``b2b_analysis`` exported at a baseline revision, see
``bench/run.sh --baseline``) instead times ``report --jobs 2`` on 1 client with that
package against the checkout, interleaved (``baseline_compare`` in the results).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import BENCH, DATA, PYTHON, ROOT, machine, run_measured

RESULTS = BENCH / "results" / "report.json"
REPORT_DATA = DATA / "report"
PROFILES = ("acme", "iberia", "nordic")
NOTEBOOKS = ("overview", "retention", "order_frequency", "aov")
VENV_BIN = Path(PYTHON).parent


def ensure_clients(n: int = 10, orders: int = 100_000) -> list[Path]:
    """Params files of ``n`` clients with ``orders`` orders each (generated once)."""
    import yaml

    from b2b_analysis.demo import generate, params_yaml

    files = []
    for i in range(n):
        profile = PROFILES[i % len(PROFILES)]
        slug = f"client{i + 1:02d}"
        params = REPORT_DATA / f"{slug}.yaml"
        if not params.exists():
            generate(
                REPORT_DATA / "data" / slug,
                profile=profile,
                orders=orders,
                seed=i,
                fmt="parquet",
                with_lines=True,
            )
            doc = yaml.safe_load(params_yaml(profile, f"data/{slug}", fmt="parquet"))
            doc["slug"] = slug
            doc["client"] = f"{doc['client']} ({slug})"
            params.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        files.append(params)
    return files


def bench_env(toolkit_path: str | None = None) -> dict[str, str]:
    """The environment of every timed command: the package from the checkout (or from
    ``toolkit_path``) first on PYTHONPATH, for the command, its workers and kernels
    alike, and bytecode caching on (``PYTHONDONTWRITEBYTECODE`` unset), as installed."""
    import os

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(Path(toolkit_path).resolve() if toolkit_path else ROOT)
    return env


def run_toolkit(
    files: list[Path], jobs: int, out: Path, toolkit_path: str | None = None
) -> dict[str, Any]:
    """``b2b-analysis report``; with ``toolkit_path``, the package at a baseline revision
    (first on PYTHONPATH: the command, its workers and their kernels all import it)."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        str(VENV_BIN / "b2b-analysis"),
        "report",
        *map(str, files),
        "--jobs",
        str(jobs),
        "--out",
        str(out),
        "--notebooks",
        str(ROOT / "notebooks"),
    ]
    res = run_measured(cmd, cwd=ROOT, env=bench_env(toolkit_path))
    ok = res["rc"] == 0
    return {"wall": res["wall"], "ok": ok, "error": None if ok else res["stderr"][-800:]}


def _naive_one(
    params: Path, notebook: str, out: Path, env: dict[str, str] | None = None
) -> tuple[bool, str]:
    slug_dir = out / params.stem
    slug_dir.mkdir(parents=True, exist_ok=True)
    executed = slug_dir / f"{notebook}.ipynb"
    steps = [
        [
            str(VENV_BIN / "papermill"),
            str(ROOT / "notebooks" / f"{notebook}.ipynb"),
            str(executed),
            "-p",
            "params_path",
            str(params.resolve()),
            "-k",
            "python3",
            "--cwd",
            str(ROOT / "notebooks"),
            "--no-progress-bar",
        ],
        [str(VENV_BIN / "jupyter"), "nbconvert", "--to", "html", str(executed)],
    ]
    for cmd in steps:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        if res.returncode != 0 or (cmd is steps[0] and not executed.exists()):
            return False, f"{Path(cmd[0]).name} rc={res.returncode}: {res.stderr[-500:]}"
    return True, ""


def run_naive(
    files: list[Path], parallel: int, out: Path, toolkit_path: str | None = None
) -> dict[str, Any]:
    """papermill CLI then jupyter nbconvert per notebook, ``parallel`` at a time (with
    ``toolkit_path``, the kernels import the package at a baseline revision)."""
    shutil.rmtree(out, ignore_errors=True)
    env = bench_env(toolkit_path)
    tasks = [(p, nb) for p in files for nb in NOTEBOOKS]
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        done = list(pool.map(lambda t: _naive_one(t[0], t[1], out, env), tasks))
    wall = time.perf_counter() - began
    errors = [e for ok, e in done if not ok]
    return {"wall": wall, "ok": not errors, "error": errors[0] if errors else None}


def _stamp(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def breakdown(out: Path, files: list[Path]) -> dict[str, Any]:
    """Per notebook: kernel start, open_analysis cell, chart cells, HTML export."""
    import nbformat

    from b2b_analysis.report import NOTEBOOKS as TITLES
    from b2b_analysis.report import export_html

    rows: dict[str, dict[str, list[float]]] = {}
    export_first = None
    for params in files:
        slug_dir = out / params.stem
        for name in NOTEBOOKS:
            nb = nbformat.read(slug_dir / f"{name}.ipynb", as_version=4)
            meta = nb.metadata["papermill"]
            cells = [c for c in nb.cells if c.cell_type == "code" and "papermill" in c.metadata]
            first = _stamp(cells[0].metadata["papermill"]["start_time"])
            kernel = first - _stamp(meta["start_time"])
            analysis = sum(
                c.metadata["papermill"]["duration"] or 0.0
                for c in cells
                if "open_analysis(" in c.source
            )
            imports = sum(
                c.metadata["papermill"]["duration"] or 0.0
                for c in cells
                if c.source.lstrip().startswith("from b2b_analysis import")
            )
            total_cells = sum(c.metadata["papermill"]["duration"] or 0.0 for c in cells)
            began = time.perf_counter()
            export_html(
                slug_dir / f"{name}.ipynb",
                Path("/tmp") / f"_bench_{name}.html",
                title=TITLES[name],
                current=name,
            )
            export = time.perf_counter() - began
            if export_first is None:
                export_first = export  # nbconvert import and template set-up
            row = rows.setdefault(name, {})
            for key, value in (
                ("papermill_total", float(meta["duration"])),
                ("kernel_start", kernel),
                ("imports_cell", imports),
                ("open_analysis_cell", analysis),
                ("chart_cells", total_cells - analysis - imports),
                ("html_export", export),
            ):
                row.setdefault(key, []).append(value)
    return {
        "per_notebook": {
            name: {k: statistics.median(v) for k, v in row.items()} for name, row in rows.items()
        },
        "html_export_first_call": export_first,
    }


def load_vs_compute(params: Path, runs: int = 3) -> dict[str, float]:
    """In a fresh process: seconds of load_client and of compute_kpis for one client."""
    code = (
        "import json,time\n"
        "from b2b_analysis import load_client, load_params, compute_kpis\n"
        f"t0=time.perf_counter(); d=load_client(load_params({str(params)!r}))\n"
        "t1=time.perf_counter(); compute_kpis(d); t2=time.perf_counter()\n"
        "print(json.dumps({'load': t1-t0, 'compute': t2-t1}))\n"
    )
    got = []
    for _ in range(runs):
        res = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=ROOT)
        got.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(g[k] for g in got) for k in ("load", "compute")}


def ensure_small_client(orders: int = 10_000) -> Path:
    """The 10k-order acme client of the start-up timings (CSV, generated once)."""
    from b2b_analysis.demo import generate, params_yaml

    folder = DATA / "startup"
    params = folder / "acme.yaml"
    if not params.exists():
        generate(folder / "data", profile="acme", orders=orders, seed=0)
        params.write_text(params_yaml("acme", "data"))
    return params


def startup_commands(params: Path) -> dict[str, list[str]]:
    """The start-up commands, each a whole process: the toolkit's and its peers'."""
    cli = str(VENV_BIN / "b2b-analysis")
    data = params.parent / "data"
    tables = [str(data / f"{t}.csv") for t in ("orders", "visits", "surveys", "investments")]
    orders = str(data / "orders.csv")
    duck = (
        'import duckdb; duckdb.sql("select count(*), sum(revenue), '
        f"count(distinct customer_id) from read_csv('{orders}')\").fetchall()"
    )
    return {
        "b2b-analysis --help": [cli, "--help"],
        "b2b-analysis kpis (table)": [cli, "kpis", str(params)],
        "b2b-analysis kpis --format json": [cli, "kpis", str(params), "--format", "json"],
        "python -c 'import polars'": [PYTHON, "-c", "import polars"],
        "polars: read the 4 CSV tables": [
            PYTHON,
            "-c",
            f"import polars as pl; [pl.read_csv(p) for p in {tables!r}]",
        ],
        "duckdb: 3 headline figures of orders.csv": [PYTHON, "-c", duck],
        "python -c pass": [PYTHON, "-c", "pass"],
    }


def startup(runs: int) -> dict[str, Any]:
    """Whole-process wall time of each start-up command, interleaved in rotating order
    (after one untimed warm-up round, which also writes the bytecode caches)."""
    params = ensure_small_client()
    commands = startup_commands(params)
    env = bench_env()
    labels = list(commands)
    walls: dict[str, list[float]] = {label: [] for label in labels}
    for round_no in range(runs + 1):
        shift = round_no % len(labels)
        for label in labels[shift:] + labels[:shift]:
            res = run_measured(commands[label], cwd=ROOT, env=env)
            if res["rc"] != 0:
                raise SystemExit(f"{label} failed: {res['stderr'][-800:]}")
            if round_no:
                walls[label].append(res["wall"])
    median = {label: statistics.median(w) for label, w in walls.items()}
    print("[startup] " + ", ".join(f"{k}: {v:.3f} s" for k, v in median.items()), flush=True)
    return {"orders": 10_000, "runs": walls, "median": median, "load_average": _load()}


def _load() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


def baseline_compare(files: list[Path], toolkit_path: str, runs: int, results_path: Path) -> None:
    """report --jobs 2 on the checkout against the package at a baseline revision, and
    the naive chain (-P2) on the checkout, interleaved."""
    from bench.kpi_bench import baseline_info

    got: dict[str, list[float]] = {"baseline": [], "checkout": [], "naive -P2": []}
    for round_no in range(runs):
        order = [("baseline", toolkit_path), ("checkout", None), ("naive -P2", "n")]
        order = order[round_no % 3 :] + order[: round_no % 3]
        for label, path in order:
            out = REPORT_DATA / "out" / f"baseline_{label.replace(' ', '_')}"
            res = run_naive(files, 2, out) if path == "n" else run_toolkit(files, 2, out, path)
            if not res["ok"]:
                raise SystemExit(f"{label} failed: {res['error']}")
            got[label].append(res["wall"])
            print(
                f"[report baseline {round_no + 1}/{runs}] {label:9s} {res['wall']:.1f} s",
                flush=True,
            )
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results.pop("fix_compare", None)  # the earlier patched-copy comparison
    info = baseline_info(toolkit_path)
    results["baseline_compare"] = {
        "what": f"report --jobs 2, 1 client, the package at {info['revision']} vs the "
        "checkout, and the naive chain (-P2) on the checkout",
        "baseline": info,
        "runs": got,
        "median": {k: statistics.median(v) for k, v in got.items()},
        "machine": machine(),
    }
    results_path.write_text(json.dumps(results, indent=1, default=str))


def _configs(n: int, args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """The configurations timed with ``n`` clients: (label, kind, parallelism)."""
    configs = [
        ("report --jobs 1", "tk", 1),
        ("report --jobs 2", "tk", 2),
        ("naive -P1", "naive", 1),
    ]
    if not args.no_naive_parallel:
        configs.append(("naive -P2", "naive", 2))
    if n > 1 and args.naive_p1_max < n:
        # the sequential naive chain at 10 clients is the slowest thing measured;
        # naive -P2 against report --jobs 2 is the like-for-like (and stricter) ratio
        configs = [c for c in configs if c[0] != "naive -P1"]
    if n > args.jobs_1_max:
        configs = [c for c in configs if c[0] != "report --jobs 1"]
    return configs


def _ratios(med: dict[str, float]) -> dict[str, float]:
    """naive chain / report, for each pair timed."""
    pairs = (
        ("naive -P1", "report --jobs 1"),
        ("naive -P1", "report --jobs 2"),
        ("naive -P2", "report --jobs 2"),
    )
    return {f"{a} / {b}": med[a] / med[b] for a, b in pairs if a in med and b in med}


def measure_clients(chosen: list[Path], args: argparse.Namespace, out_root: Path) -> dict[str, Any]:
    """Each configuration on ``chosen`` clients, ``args.runs`` (1 client) or
    ``args.runs_10`` rounds, interleaved in rotating order."""
    n = len(chosen)
    runs = args.runs if n == 1 else args.runs_10
    configs = _configs(n, args)
    timings: dict[str, list[dict[str, Any]]] = {c[0]: [] for c in configs}
    for round_no in range(runs):
        order = configs[round_no % len(configs) :] + configs[: round_no % len(configs)]
        for label, kind, par in order:
            out = out_root / f"{kind}{par}_{n}"
            res = (run_toolkit if kind == "tk" else run_naive)(chosen, par, out)
            timings[label].append(res)
            status = "ok" if res["ok"] else f"FAILED {res['error']}"
            print(
                f"[report {n} client(s) round {round_no + 1}/{runs}] {label:16s} "
                f"{res['wall']:7.1f} s {status}",
                flush=True,
            )
    med = {label: statistics.median(r["wall"] for r in rs) for label, rs in timings.items()}
    return {"median_wall": med, "runs": timings, "load_average": _load(), "ratios": _ratios(med)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", default="1,10")
    ap.add_argument("--runs", type=int, default=1, help="rounds with 1 client")
    ap.add_argument("--runs-10", type=int, default=1, help="rounds with 10 clients")
    ap.add_argument("--no-naive-parallel", action="store_true")
    ap.add_argument(
        "--naive-p1-max",
        type=int,
        default=1,
        help="run the sequential naive chain only up to this many clients",
    )
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument(
        "--toolkit-path",
        default=None,
        help="only compare report --jobs 2 on 1 client: checkout vs b2b_analysis at a "
        "baseline revision exported to this folder",
    )
    ap.add_argument("--baseline-runs", type=int, default=3)
    ap.add_argument(
        "--startup-runs", type=int, default=7, help="rounds of the start-up timings (0: none)"
    )
    ap.add_argument(
        "--jobs-1-max",
        type=int,
        default=10,
        help="run report --jobs 1 only up to this many clients",
    )
    ap.add_argument("--skip-breakdown", action="store_true")
    ap.add_argument("--startup-only", action="store_true", help="only the start-up timings")
    args = ap.parse_args(argv)
    counts = [int(c) for c in args.clients.split(",")]
    files = [] if args.startup_only else ensure_clients(max(counts))
    if args.toolkit_path:
        baseline_compare(files[:1], args.toolkit_path, args.baseline_runs, args.results)
        return
    out_root = REPORT_DATA / "out"
    # merged into the earlier results: a run of some client counts keeps the others
    results: dict[str, Any] = json.loads(args.results.read_text()) if args.results.exists() else {}
    results.update(machine=machine(), orders_per_client=100_000, notebooks=list(NOTEBOOKS))
    results.pop("fix_compare", None)  # the earlier patched-copy comparison (bench/run.sh)
    results.setdefault("by_clients", {})
    if args.startup_runs:
        results["startup"] = startup(args.startup_runs)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=1, default=str))
    if args.startup_only:
        return
    for n in counts:
        results["by_clients"][str(n)] = measure_clients(files[:n], args, out_root)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=1, default=str))
    if not args.skip_breakdown and (out_root / "tk1_1").exists():
        print("[report] breakdown ...", flush=True)
        results["breakdown"] = breakdown(out_root / "tk1_1", files[:1])
        results["breakdown"]["load_vs_compute"] = load_vs_compute(files[0])
        args.results.write_text(json.dumps(results, indent=1, default=str))
    print(f"[report] written to {args.results}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
