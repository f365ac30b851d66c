"""The ``report`` command end to end, plus the chart/display/narrative building blocks.

One session-wide run (:func:`built_reports`) of ``b2b-analysis report`` over the
three demo clients (small data) and one broken client is shared with
``test_browser.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import polars as pl
import pytest

from b2b_analysis import charts, display, narrative
from b2b_analysis.report import NOTEBOOKS, PARAMETERS, check_notebooks

ROOT = Path(__file__).resolve().parent.parent
#: Demo clients reported (nordic has no visits or surveys: its notebooks show sentences).
CLIENTS = ("acme", "iberia", "nordic")
CLI = [sys.executable, "-c", "from b2b_analysis.cli import main; main()"]


@dataclass
class Built:
    out: Path
    returncode: int
    stderr: str
    clients: tuple[str, ...]


_CACHE: dict[str, Built] = {}


def built_reports(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Demo data (3,000 orders each) for :data:`CLIENTS` plus ``broken`` (a window
    with no orders: every notebook fails in its first analysis cell), then one
    ``report`` run over all four with two worker processes. Built once per session."""
    if "run" in _CACHE:
        return _CACHE["run"]
    gen = pytest.importorskip("b2b_analysis.generate")
    base = tmp_path_factory.mktemp("reports")
    params = base / "params"
    files = []
    for slug in CLIENTS:
        gen.generate(params / "data" / slug, profile=slug, orders=3_000, seed=1)
        path = params / f"{slug}.yaml"
        path.write_text(gen.params_yaml(slug, f"data/{slug}"), encoding="utf-8")
        files.append(path)
    broken = gen.params_yaml("acme", "data/acme").replace("slug: acme", "slug: broken")
    broken = re.sub(r"^  start: \S+", "  start: 2040-01-01", broken, flags=re.M)
    broken = re.sub(r"^  end: \S+", "  end: 2040-12-31", broken, flags=re.M)
    (params / "broken.yaml").write_text(broken, encoding="utf-8")
    files.append(params / "broken.yaml")
    out = base / "out"
    proc = subprocess.run(
        [*CLI, "report", *map(str, files), "--jobs", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=base,
    )
    _CACHE["run"] = Built(out, proc.returncode, proc.stderr, CLIENTS)
    return _CACHE["run"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return built_reports(tmp_path_factory)


# ------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_failing_client_does_not_stop_others_and_exit_is_nonzero(built: Built) -> None:
    assert built.returncode == 1, built.stderr
    for slug in built.clients:
        assert f"ok {slug}:" in built.stderr
    assert "FAILED broken:" in built.stderr
    # the summary names the failing cell and the error
    assert re.search(r"overview\.ipynb cell In \[\d+\] \(`a = open_analysis", built.stderr)
    assert re.search(
        r"InputError: \S+orders\.csv: no orders that count between 2040-01-01", built.stderr
    )


@pytest.mark.slow
def test_client_folders_hold_every_output(built: Built) -> None:
    for slug in built.clients:
        folder = built.out / slug
        expected = {"index.html", "kpis.json"}
        expected |= {f"{n}.html" for n in NOTEBOOKS} | {f"{n}.ipynb" for n in NOTEBOOKS}
        assert expected <= {p.name for p in folder.iterdir()}
        assert not list(folder.glob(".*")), "a temporary file was left behind"
        doc = json.loads((folder / "kpis.json").read_text(encoding="utf-8"))
        assert doc["slug"] == slug
        index = (folder / "index.html").read_text(encoding="utf-8")
        for name in NOTEBOOKS:
            assert f'href="{name}.html"' in index
        assert 'class="b2b-scorecard"' in index


@pytest.mark.slow
def test_broken_client_keeps_its_partial_notebook(built: Built) -> None:
    nb = nbformat.read(built.out / "broken" / "overview.ipynb", as_version=4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].ename == "InputError"
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
    assert page.count('data-kpi="online_order_share"') == len(built.clients) + 1


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


# ------------------------------------------------------------------ building blocks


def test_importing_the_package_registers_no_theme_or_renderer() -> None:
    code = (
        "import altair as alt, b2b_analysis, b2b_analysis.charts, b2b_analysis.display, "
        "b2b_analysis.report; assert 'b2b' not in alt.theme.names(); "
        "assert alt.renderers.active != 'b2b'; "
        "b2b_analysis.display.setup(); assert alt.theme.active == 'b2b'; "
        "assert alt.renderers.active == 'b2b'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _series() -> pl.DataFrame:
    """Three monthly periods of two KPIs; the last is partial."""
    import datetime as dt

    return pl.DataFrame(
        {
            "period_start": [dt.date(2024, m, 1) for m in (1, 2, 3)],
            "period_label": ["2024-01", "2024-02", "2024-03"],
            "is_partial": [False, False, True],
            "online_order_share": [0.2, 0.25, 0.3],
            "net_revenue": [100.0, 120.0, 60.0],
            "returning_visit_share": [0.5, 0.4, None],
            "conversion_rate": [0.1, 0.12, 0.11],
        }
    )


def test_chart_helpers_are_keyword_only_with_tooltips() -> None:
    series = _series()
    made = [
        charts.kpi_trend_chart(series=series, kpis=["online_order_share", "net_revenue"]),
        charts.online_share_chart(series=series),
        charts.returning_visits_chart(series=series),
    ]
    with charts.theme():
        for chart in made:
            spec = chart.to_dict()
            assert "tooltip" in json.dumps(spec)
            assert spec["config"]["font"] == charts.FONT
    with pytest.raises(TypeError):
        charts.online_share_chart(series)  # type: ignore[misc]


def test_mimebundle_is_vegalite_v5_and_stable() -> None:
    chart = charts.online_share_chart(series=_series())
    with charts.theme():
        first, meta = display.mimebundle(chart.to_dict())
        second, _ = display.mimebundle(chart.to_dict())
    assert set(first) == {display.VEGALITE_MIME, "text/plain"}
    assert first[display.VEGALITE_MIME]["$schema"] == display.VL_SCHEMA
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert meta[display.VEGALITE_MIME]["embed_options"]["actions"] is False


def test_chart_html_cannot_break_out_of_its_script() -> None:
    spec = {"title": "</script><script>alert(1)</script>", "mark": "bar"}
    out = display.chart_html(spec)
    assert "<script>alert" not in out and out.count("</script>") == 1
    payload = re.search(r'<script type="application/json"[^>]*>(.*)</script>', out)
    assert payload and json.loads(payload.group(1))["title"] == spec["title"]


def test_scorecard_escapes_and_explains() -> None:
    doc = {
        "currency": "EUR",
        "window": {"start": "2024-01-01", "end": "2024-03-31"},
        "kpis": {"orders": 10, "nps": None},
        "notes": {"nps": "no <b>surveys</b> table"},
        "series": {
            "columns": ["orders"],
            "rows": [
                {"period_label": "2024-01", "orders": 4, "is_partial": False},
                {"period_label": "2024-02", "orders": 6, "is_partial": False},
                {"period_label": "2024-03", "orders": 1, "is_partial": True},
            ],
        },
    }
    page = narrative.scorecard_html(doc, keys=["orders", "nps"])
    assert "<b>surveys</b>" not in page and "&lt;b&gt;surveys&lt;/b&gt;" in page
    assert 'class="up good"' in page  # 4 -> 6; the partial March is ignored
    assert "up 2 in 2024-02 against 2024-01" in page
