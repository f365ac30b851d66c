"""Shared pieces of the benchmarks: sizes, data sets (generated once), engine config,
and running one measured subprocess (wall time and its own peak RSS)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
PYTHON = sys.executable

SIZES = {
    "100k": 100_000,
    "1m": 1_000_000,
    "5m": 5_000_000,
    "10m": 10_000_000,
    "100m": 100_000_000,
}
PROFILE = "acme"  # the demo profile with every table: visits, surveys, investments


def parse_sizes(text: str) -> list[str]:
    names = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {unknown}; choose from {list(SIZES)}")
    return names


def ensure_data(size: str, *, profile: str = PROFILE, seed: int = 0) -> Path:
    """Generate ``size`` orders as Parquet once (reused later); return the params file."""
    from b2b_analysis.demo import generate, params_yaml

    folder = DATA / size
    params = folder / f"{profile}.yaml"
    stamp = folder / ".complete"
    if not stamp.exists():
        began = time.perf_counter()
        print(f"[data] generating {size} orders ({profile}) into {folder} ...", flush=True)
        generate(
            folder / "data",
            profile=profile,
            orders=SIZES[size],
            seed=seed,
            fmt="parquet",
            with_lines=False,
        )
        params.write_text(params_yaml(profile, "data", fmt="parquet", with_lines=False))
        stamp.write_text(json.dumps({"seconds": time.perf_counter() - began}))
        print(f"[data] {size}: {time.perf_counter() - began:.1f} s", flush=True)
    return params


def engine_config(params_path: Path) -> dict[str, Any]:
    """What an analyst knows about the client without the toolkit (from its params)."""
    from b2b_analysis.config import load_params

    loaded = load_params(params_path)
    p = loaded.params
    cfg: dict[str, Any] = {
        "params": str(params_path),
        "online": sorted({x.strip().lower() for x in p.channels.online}),
        "cancelled": sorted({x.strip().lower() for x in p.statuses.cancelled}),
        "returned": sorted({x.strip().lower() for x in p.statuses.returned}),
        "start": p.window.start.isoformat(),
        "end": p.window.end.isoformat(),
        "margin": p.gross_margin,
        "threshold": p.small_order_threshold,
    }
    for table in ("orders", "visits", "surveys", "investments"):
        cfg[table] = str(loaded.resolve(table)) if getattr(p.data, table) is not None else None
    return cfg


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """Run ``cmd``; return its wall seconds, return code, stdout and stderr.

    Peak memory is reported by the KPI workers themselves (``ru_maxrss`` of their own
    process, threads included), so it is the peak of exactly that engine's run.
    """
    began = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return {"rc": "timeout", "wall": time.perf_counter() - began, "stdout": out, "stderr": err}
    return {
        "rc": proc.returncode,
        "wall": time.perf_counter() - began,
        "stdout": out,
        "stderr": err,
    }


def machine() -> dict[str, Any]:
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            n: version(n)
            for n in (
                "b2b-analysis",
                "polars",
                "duckdb",
                "pandas",
                "pyarrow",
                "numpy",
                "lifetimes",
                "papermill",
                "nbconvert",
                "ipykernel",
            )
        },
        "load_average": os.getloadavg(),
        "package_commit": _git("rev-parse", "--short", "HEAD"),
        "package_uncommitted_changes": bool(_git("status", "--porcelain", "b2b_analysis")),
    }


def _git(*args: str) -> str:
    try:
        res = subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT)
    except OSError:
        return ""
    return res.stdout.strip()
