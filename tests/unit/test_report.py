"""The report runner's checks of its notebooks (:mod:`b2b_analysis.report`).

``report`` runs end to end are checked in ``tests/system/test_report.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from b2b_analysis.report import PARAMETERS, check_notebooks

ROOT = Path(__file__).resolve().parents[2]


def test_check_notebooks_rejects_a_notebook_without_the_parameters(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('params_path = "x.yaml"')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, tmp_path / "overview.ipynb")
    from b2b_analysis.errors import InputError

    with pytest.raises(InputError, match="does not declare end, period, start"):
        check_notebooks(tmp_path, ["overview"])


def test_shipped_notebooks_declare_exactly_the_parameters() -> None:
    import papermill

    for path in check_notebooks(ROOT / "notebooks").values():
        assert sorted(papermill.inspect_notebook(str(path))) == sorted(PARAMETERS)
