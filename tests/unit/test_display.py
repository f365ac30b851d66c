"""Charts in notebooks and pages (:mod:`b2b_analysis.display`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from b2b_analysis import charts, display


@pytest.mark.slow  # a fresh interpreter: a few seconds
def test_importing_the_package_registers_no_theme_or_renderer() -> None:
    code = (
        "import altair as alt, b2b_analysis, b2b_analysis.charts, b2b_analysis.display, "
        "b2b_analysis.report; assert 'b2b' not in alt.theme.names(); "
        "assert alt.renderers.active != 'b2b'; "
        "b2b_analysis.display.setup(); assert alt.theme.active == 'b2b'; "
        "assert alt.renderers.active == 'b2b'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_mimebundle_is_vegalite_v5_and_stable(kpi_series: pl.DataFrame) -> None:
    chart = charts.online_share_chart(series=kpi_series)
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


def test_the_vega_runtime_is_made_once_and_then_read_from_the_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vl_convert

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    display.vega_runtime.cache_clear()
    made = display.vega_runtime()
    saved = display.runtime_file(vl_convert.__version__)
    assert saved is not None and saved.parent == tmp_path / "b2b-analysis"
    assert saved.read_text(encoding="utf-8") == made
    assert "vegaEmbed" in made and "</script" not in made

    def refuse(**_: object) -> str:
        raise AssertionError("made again")

    monkeypatch.setattr(vl_convert, "javascript_bundle", refuse)
    display.vega_runtime.cache_clear()
    assert display.vega_runtime() == made  # read back, not made
    display.vega_runtime.cache_clear()


@pytest.mark.slow  # a fresh interpreter: a few seconds
def test_charts_import_jsonschema_without_the_iri_grammars_and_still_validate() -> None:
    code = (
        "import sys\n"
        "from b2b_analysis import charts\n"
        "import altair as alt, jsonschema\n"
        "assert 'rfc3987_syntax' not in sys.modules, 'grammars compiled'\n"
        "alt.Chart(alt.Data(values=[{'x': 1}])).mark_point().encode(x='x:Q').to_dict()\n"
        "try:\n"
        "    alt.Chart(alt.Data(values=[])).mark_point().encode(x=alt.X('x:Q', bin=3)).to_dict()\n"
        "except alt.utils.schemapi.SchemaValidationError:\n"
        "    print('invalid spec refused')\n"
        "import rfc3987_syntax\n"  # still importable later: only hidden during the import
        "print('later import ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["invalid spec refused", "later import ok"]
