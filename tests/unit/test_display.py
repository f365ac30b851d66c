"""Charts in notebooks and pages (:mod:`b2b_analysis.display`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

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
