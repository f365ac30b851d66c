"""The cluster path's overhead: ``report --scheduler local:2`` against ``report --jobs 2``.

    python -m bench.cluster_bench [--clients 20] [--orders 20000] [--rounds 1]

Data: ``--clients`` demo clients (profiles acme, iberia, nordic in turn, seeds 0..),
``--orders`` orders each, generated once under ``bench/data/cluster/``.

Each round runs ``b2b-analysis report`` over all of them twice, each in its own
process tree, the order of the two alternating from round to round (interleaved):

* ``--jobs 2``: the local process pool (a task per KPI step and per notebook);
* ``--scheduler local:2``: a ``LocalCluster`` of 2 worker processes started by the
  run (a task per client), start-up and shutdown included.

Before timing anything, the first round's two output folders are compared: every
file the same, byte for byte (executed notebooks without papermill's run record,
the portfolio page without its time stamp); the bench stops if they are not.
The command, its workers and their kernels import the checkout's package
(``PYTHONPATH``). Results: ``bench/results/cluster.json`` (``write_results.py``
puts them in ``RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
from pathlib import Path
from typing import Any

from bench.common import BENCH, DATA, PYTHON, ROOT, machine, run_measured

RESULTS = BENCH / "results" / "cluster.json"
CLUSTER_DATA = DATA / "cluster"
PROFILES = ("acme", "iberia", "nordic")
MODES = {"jobs2": ["--jobs", "2"], "local2": ["--scheduler", "local:2"]}
RUN_RECORD = ("start_time", "end_time", "duration", "output_path")
STAMP = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def ensure_clients(n: int, orders: int) -> list[Path]:
    """Params files of ``n`` demo clients with ``orders`` orders each (generated once)."""
    import yaml

    from b2b_analysis.demo import generate, params_yaml

    files = []
    for i in range(n):
        profile = PROFILES[i % len(PROFILES)]
        slug = f"client{i + 1:02d}"
        params = CLUSTER_DATA / f"{orders}" / f"{slug}.yaml"
        if not params.exists():
            generate(params.parent / "data" / slug, profile=profile, orders=orders, seed=i)
            doc = yaml.safe_load(params_yaml(profile, f"data/{slug}"))
            doc["slug"] = slug
            doc["client"] = f"{doc['client']} ({slug})"
            params.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        files.append(params)
    return files


def run_mode(files: list[Path], mode: str, out: Path) -> dict[str, Any]:
    """One ``report`` run of ``files`` in ``mode`` into ``out``: wall time, ok."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [PYTHON, "-m", "b2b_analysis.cli", "report", *map(str, files), *MODES[mode]]
    cmd += ["--out", str(out), "--notebooks", str(ROOT / "notebooks")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = run_measured(cmd, cwd=ROOT, env=env)
    ok = res["rc"] == 0
    return {"wall": res["wall"], "ok": ok, "error": None if ok else res["stderr"][-800:]}


def _comparable(path: Path) -> Any:
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        for key in RUN_RECORD:
            nb["metadata"]["papermill"].pop(key, None)
        for cell in nb["cells"]:
            for key in RUN_RECORD:
                cell["metadata"].get("papermill", {}).pop(key, None)
            cell["metadata"].pop("execution", None)
        return nb
    if path.name == "index.html" and path.parent.name.startswith("out-"):
        return STAMP.sub("", path.read_text(encoding="utf-8"))
    return path.read_bytes()


def differences(a: Path, b: Path) -> list[str]:
    """Files of the two runs that differ (or exist in one only)."""
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and ".workers" not in p.name}
    other = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and ".workers" not in p.name}
    diff = sorted(str(n) for n in names ^ other)
    diff += [str(n) for n in sorted(names & other) if _comparable(a / n) != _comparable(b / n)]
    return diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    files = ensure_clients(args.clients, args.orders)
    work = CLUSTER_DATA / "runs"
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for r in range(args.rounds):
        order = list(MODES) if r % 2 == 0 else list(MODES)[::-1]
        for mode in order:
            result = run_mode(files, mode, work / f"out-{mode}")
            print(f"round {r + 1} {mode}: {result['wall']:.1f} s ok={result['ok']}", flush=True)
            if not result["ok"]:
                raise SystemExit(f"{mode} failed: {result['error']}")
            runs[mode].append(result)
        if r == 0:
            diff = differences(work / "out-jobs2", work / "out-local2")
            if diff:
                raise SystemExit(f"the two runs' outputs differ: {diff[:10]}")
    median = {m: statistics.median(x["wall"] for x in rs) for m, rs in runs.items()}
    doc = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "clients": args.clients,
        "orders": args.orders,
        "rounds": args.rounds,
        "runs": {m: [x["wall"] for x in rs] for m, rs in runs.items()},
        "median": median,
        "ratio_local2_over_jobs2": median["local2"] / median["jobs2"],
        "outputs_identical": True,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps({k: doc[k] for k in ("median", "ratio_local2_over_jobs2")}, indent=2))


if __name__ == "__main__":
    main()
