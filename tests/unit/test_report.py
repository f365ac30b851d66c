"""The report runner's checks of its notebooks (:mod:`b2b_analysis.report`).

``report`` runs end to end are checked in ``tests/system/test_report.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from b2b_analysis.report import PARAMETERS, check_notebooks
from b2b_analysis.report.contents import NOTEBOOKS

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


def _result(slug: str, kpis: dict | None, **kw: object) -> object:
    from b2b_analysis.report.results import ClientResult, NotebookResult

    result = ClientResult(Path(f"params/{slug}.yaml"), slug, slug.title(), Path(slug), kpis=kpis)
    if kpis is not None:
        result.notebooks = {n: NotebookResult(n, True, 0.0) for n in NOTEBOOKS}
    for key, value in kw.items():
        setattr(result, key, value)
    return result


def _doc(share: float, locale: str = "en-US") -> dict:
    return {
        "currency": "EUR",
        "locale": locale,
        "period": "month",
        "window": {"start": "2024-01-01", "end": "2024-12-31"},
        "kpis": {"online_order_share": share, "net_revenue": 1896347.5},
        "notes": {},
        "series": {"columns": [], "rows": []},
    }


def test_portfolio_places_each_client_against_the_median_and_range() -> None:
    from b2b_analysis.report.pages import portfolio_page

    results = [_result("a", _doc(0.1)), _result("b", _doc(0.2)), _result("c", _doc(0.5))]
    page = portfolio_page(results, "today")  # type: ignore[arg-type]
    strip = page.split('data-kpi="online_order_share"', 1)[1].split("strip-range", 2)[0]
    # 0.1 .. 0.5: the median 0.2 sits at 25 %, b too; a at 0, c at 100
    assert 'style="left:25.0%" title="median: 20.0%"' in strip
    assert 'style="left:0.0%" title="A: 10.0%"' in strip
    assert 'style="left:100.0%" title="C: 50.0%"' in strip
    # amounts are whole, in the client's currency; cells carry the number to sort by
    assert '<td data-kpi="net_revenue" data-value="1896347.5">1,896,348 EUR</td>' in page
    assert '<table class="portfolio sortable">' in page and "table.sortable" in page
    # net revenue is in each client's currency: no strip for it
    assert 'class="strip" data-kpi="net_revenue"' not in page


def test_client_page_in_the_clients_language_and_a_failure_says_where_to_look() -> None:
    from b2b_analysis.report.pages import client_page

    page = client_page(_result("a", _doc(0.25, "de-DE")))  # type: ignore[arg-type]
    assert '<html lang="de">' in page
    assert "01.01.2024 bis 31.12.2024 · Monatsreihe · Beträge in EUR" in page
    assert ">Kundenbindung</a>" in page and "<h2>Seiten</h2>" in page
    # the window's value, in its column (labelled for the phone layout)
    assert '<td class="value window" data-label="Gesamtzeitraum">25,0\u00a0%</td>' in page
    failed = client_page(_result("b", None, error="kpis: InputError: no orders"))  # type: ignore[arg-type]
    assert "Look at the params file params/b.yaml" in failed
    assert "kpis.json" not in failed and " to  · " not in failed and "ly series" not in failed
    # KPIs without a window (an earlier run's partial document): no broken header
    odd = client_page(_result("c", {"kpis": {}}))  # type: ignore[arg-type]
    assert "kpis.json" not in odd and "amounts in" not in odd
