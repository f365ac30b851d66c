"""A ``report`` run loads a client and computes its KPIs once: its notebooks take the
KPI step's saved tables and KPIs (:mod:`b2b_analysis.cache`), compute the same
numbers as a notebook run alone, and the published folder holds no cache.

Real processes: ``b2b-analysis generate`` makes the client (2,000 orders), ``report``
runs in a subprocess with the lite notebooks plus one cell that prints what the
notebook saw; the same notebook is then run alone with papermill (no cache named).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from b2b_analysis import cache
from b2b_analysis.report import NOTEBOOKS
from tests.support.reportkit import CLI, lite_notebooks, run_report

#: Printed by every notebook: whether its analysis came from a cache, its KPI
#: document and a frame computed from its tables.
PROBE = """\
import json, os
from b2b_analysis.cache import from_environment
from b2b_analysis.config import parse_date
saved = from_environment(params_path, parse_date(start, "start"), parse_date(end, "end"), period)
print(json.dumps({
    "cache named": os.environ.get("B2B_ANALYSIS_CACHE") is not None,
    "from cache": saved is not None,
    "kpis": a.kpis.to_dict(),
    "cohorts": a.cohorts.to_dicts(),
    "orders": a.data.orders.height,
}, default=str))
"""
PUBLISHED = sorted(
    ["accounts.xlsx", "index.html", "kpis.json", "status.json"]
    + [f"{name}.{ext}" for name in NOTEBOOKS for ext in ("ipynb", "html")]
)


def _probe(nb_path: Path) -> dict[str, object]:
    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("import json, os"))
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
    probe: dict[str, object] = json.loads(text)
    return probe


@pytest.mark.slow
def test_notebooks_use_the_kpi_step_and_publish_no_cache(tmp_path: Path) -> None:
    params = tmp_path / "acme.yaml"
    subprocess.run(
        [*CLI, "generate", tmp_path / "data", "--orders", "2000", "--params", params],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    lite = lite_notebooks(tmp_path / "lite", {name: [PROBE] for name in NOTEBOOKS})
    env = {k: v for k, v in os.environ.items() if k != cache.ENVIRONMENT}
    run = run_report(params, "--out", tmp_path / "out", "--notebooks", lite, env=env)
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "out" / "acme"
    assert sorted(p.name for p in folder.iterdir()) == PUBLISHED
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name == cache.FOLDER]
    kpis_json = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))

    import papermill

    alone = tmp_path / "alone.ipynb"
    for name in NOTEBOOKS:
        probe = _probe(folder / f"{name}.ipynb")
        assert probe["cache named"] is True and probe["from cache"] is True, name
        assert probe["kpis"] == kpis_json, name
        papermill.execute_notebook(
            str(lite / f"{name}.ipynb"),
            str(alone),
            parameters={"params_path": str(params)},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(lite),
        )
        computed = _probe(alone)
        assert computed["cache named"] is False and computed["from cache"] is False
        assert {k: computed[k] for k in ("kpis", "cohorts", "orders")} == {
            k: probe[k] for k in ("kpis", "cohorts", "orders")
        }, name
