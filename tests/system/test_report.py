"""The ``report`` command end to end.

Checks the session's demo report run (fixture ``built`` of
``tests/system/conftest.py``: the three demo clients on small data and one broken
client, shared with the browser, faults and reproducibility tests).
"""

from __future__ import annotations

import html
import json
import re

import nbformat
import openpyxl
import pytest

from b2b_analysis import i18n
from b2b_analysis.accounts import LISTS
from b2b_analysis.report import NOTEBOOKS, PARAMETERS
from tests.support.reportkit import Built

# ------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_failing_client_does_not_stop_others_and_exit_is_nonzero(built: Built) -> None:
    assert built.returncode == 1, built.stderr
    for slug in built.clients:
        assert f"ok {slug}:" in built.stderr
    assert "FAILED broken:" in built.stderr
    # the KPI step names the error, once under FAILED; no notebook ran for broken
    problems = [line for line in built.stderr.splitlines() if line.startswith("    ")]
    assert len(problems) == 1, problems
    assert re.fullmatch(
        r"    kpis: InputError: \S+orders\.csv: no orders that count between 2040-01-01.*",
        problems[0],
    )
    assert not re.search(r"broken: \w+\.ipynb", built.stderr)


@pytest.mark.slow
def test_client_folders_hold_every_output(built: Built) -> None:
    for slug in built.clients:
        folder = built.out / slug
        expected = {"index.html", "kpis.json", "accounts.xlsx"}
        expected |= {f"{n}.html" for n in NOTEBOOKS} | {f"{n}.ipynb" for n in NOTEBOOKS}
        assert expected <= {p.name for p in folder.iterdir()}
        assert not list(folder.glob(".*")), "a temporary file was left behind"
        doc = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
        assert doc["slug"] == slug
        index = (folder / "index.html").read_text(encoding="utf-8")
        for name in NOTEBOOKS:
            assert f'href="{name}.html"' in index
        assert 'class="b2b-scorecard"' in index
        # accounts.xlsx: a sheet per list, as many accounts as kpis.json counts, and the
        # page's section shows each list's top accounts and links the workbook
        book = openpyxl.load_workbook(folder / "accounts.xlsx")
        assert book.sheetnames == list(LISTS)
        for name, entry in doc["accounts"].items():
            assert book[name].max_row == 1 + entry["count"], (slug, name)
            for row in entry["top"]:
                assert f"<td>{html.escape(row['customer_id'])}</td>" in index
        heading = i18n.text("accounts.heading", doc["locale"])  # in the client's language
        assert f"<h2>{heading}</h2>" in index and 'href="accounts.xlsx"' in index


@pytest.mark.slow
def test_broken_client_runs_no_notebook(built: Built) -> None:
    folder = built.out / "broken"
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "status.json"]
    portfolio = (built.out / "index.html").read_text(encoding="utf-8")
    assert 'data-client="broken"' in portfolio and "(incomplete)" in portfolio


@pytest.mark.slow
def test_only_the_declared_parameters_are_injected(built: Built) -> None:
    nb = nbformat.read(built.out / "acme" / "retention.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    names = re.findall(r"^(\w+) = ", injected[0].source, flags=re.M)
    assert sorted(names) == sorted(PARAMETERS)


@pytest.mark.slow
def test_html_has_no_code_no_external_reference_and_one_runtime(built: Built) -> None:
    for slug in built.clients:
        for name in NOTEBOOKS:
            page = (built.out / slug / f"{name}.html").read_text(encoding="utf-8")
            assert "open_analysis(" not in page, "code cells must be hidden"
            assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
            assert "cdn." not in page and "require.js" not in page
            assert page.count("window.vegaEmbed=") == 1
            assert page.count('class="b2b-chart"') >= 3


@pytest.mark.slow
def test_portfolio_compares_every_client(built: Built) -> None:
    page = (built.out / "index.html").read_text(encoding="utf-8")
    for slug in built.clients:
        assert f'href="{slug}/index.html"' in page
    # a table cell per client and for the broken one, and the KPI's strip
    assert page.count('data-kpi="online_order_share"') == len(built.clients) + 1 + 1
    assert page.count('<div class="strip" data-kpi="online_order_share">') == 1
