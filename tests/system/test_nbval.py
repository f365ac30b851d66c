"""The committed notebooks rerun to exactly their committed outputs (nbval).

The notebooks are committed with the outputs of the demo client ``acme``
(``b2b-analysis demo`` defaults: 40,000 orders, seed 0). This test copies them
into a temporary tree laid out like the repository (``notebooks/`` beside
``params/acme.yaml`` and ``params/data/acme/``), regenerates that data with the
same defaults, and runs ``pytest --nbval`` there in a subprocess, so neither the
developer's ``params/`` nor this project's pytest options are involved.

No ``--nbval-sanitize-with`` file is needed: the outputs hold no paths, times or
memory addresses, and chart data is rounded to 6 significant digits
(:data:`b2b_analysis.charts.DIGITS`) so a float summed in another order does not
change a spec. nbval fails a cell that writes to stderr, so a warning in a
notebook fails this test too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_ORDERS = 40_000  # the demo command's default; the committed outputs depend on it


@pytest.mark.slow
def test_notebooks_reproduce_their_committed_outputs(tmp_path: Path) -> None:
    pytest.importorskip("nbval")
    from b2b_analysis import demo as gen

    shutil.copytree(
        ROOT / "notebooks",
        tmp_path / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    params = tmp_path / "params"
    gen.generate(params / "data" / "acme", profile="acme", orders=DEMO_ORDERS, seed=0)
    (params / "acme.yaml").write_text(gen.params_yaml("acme", "data/acme"), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "-p", "no:cacheprovider", "-q", "notebooks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
