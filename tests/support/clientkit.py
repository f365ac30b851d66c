"""Helpers to write a small client (CSV tables + params YAML) and run the CLI on it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

ORDER_HEADER = ("order_id", "customer_id", "order_date", "channel", "revenue", "status")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_client(
    folder: Path,
    tables: Mapping[str, tuple[Sequence[str], Sequence[Sequence[Any]]]],
    **params: Any,
) -> Path:
    """Write each table as ``data/<name>.csv`` and a params file naming them; return its path."""
    data = {}
    for name, (header, rows) in tables.items():
        write_csv(folder / "data" / f"{name}.csv", header, rows)
        data[name] = f"data/{name}.csv"
    document = {"client": params.pop("client", "Test Client"), "data": data, **params}
    path = folder / "client.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``b2b-analysis`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "b2b_analysis.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def kpis_json(
    params_file: Path, *extra: str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``kpis --format json`` document; fails the test with stderr on a non-zero exit."""
    result = run_cli("kpis", str(params_file), "--format", "json", *extra, env=env)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def open_report_page(page: Any, path: Path) -> int:
    """Load a report page from disk in a Playwright ``page`` and wait until every chart
    container holds a drawing (SVG or canvas); return the number of containers."""
    page.goto(path.as_uri(), wait_until="load")
    containers: int = page.locator("div.b2b-chart").count()
    if containers:
        page.wait_for_function(
            "n => document.querySelectorAll("
            "'div.b2b-chart svg.marks, div.b2b-chart canvas').length >= n",
            arg=containers,
            timeout=30_000,
        )
    return containers
