"""The chart helpers of :mod:`b2b_analysis.charts`, checked on their Vega-Lite specs.

Each test builds a chart from a small frame shaped like the metric's output and
reads ``chart.to_dict()``: the mark, the encodings and the rows of data embedded.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pytest

from b2b_analysis import charts
from b2b_analysis import metrics as m

JAN, FEB, MAR = (dt.date(2024, m, 1) for m in (1, 2, 3))
JAN_KEY = 2024 * 12  # monthly period key of January 2024


def rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The data rows a (single-view or layer) spec embeds."""
    return spec["datasets"][spec["data"]["name"]]


def test_chart_helpers_are_keyword_only_with_tooltips(kpi_series: pl.DataFrame) -> None:
    series = kpi_series
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


def test_kpi_trend_chart_draws_one_row_per_kpi_in_long_form(kpi_series: pl.DataFrame) -> None:
    chart = charts.kpi_trend_chart(
        series=kpi_series,
        kpis=["net_revenue", "nps", "online_order_share", "returning_visit_share"],
        currency="EUR",
    )
    spec = chart.to_dict()
    assert spec["mark"] == {"type": "line", "point": {"filled": True, "size": 30}}
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("period_start", "temporal")
    assert (enc["y"]["field"], enc["y"]["type"]) == ("value", "quantitative")
    # nps is not in the series: left out; the rows keep the order asked for
    labels = ["Net revenue", "Online order share", "Returning-visit share"]
    assert enc["row"]["field"] == "kpi" and enc["row"]["sort"] == labels
    assert spec["resolve"] == {"scale": {"y": "independent"}}
    # mixed units: a general number format, and the currency in the tooltip title
    assert enc["y"]["axis"]["format"] == ",.3~g"
    value_tip = next(t for t in enc["tooltip"] if t["field"] == "value")
    assert value_tip == {
        "field": "value",
        "format": ",.3~g",
        "title": "Value EUR",
        "type": "quantitative",
    }
    data = rows(spec)
    assert len(data) == 3 * 3
    assert [r["kpi"] for r in data[:3]] == ["Net revenue"] * 3
    assert [r["value"] for r in data if r["kpi"] == "Net revenue"] == [100.0, 120.0, 60.0]
    assert [r["completeness"] for r in data[:3]] == ["complete", "complete", "partial period"]
    # a null in one period stays a gap, it is not dropped or zeroed
    visits = [r["value"] for r in data if r["kpi"] == "Returning-visit share"]
    assert visits == [0.5, 0.4, None]
    assert data[0]["period_start"] == "2024-01-01T00:00:00" and data[0]["unit"] == "money"


def test_kpi_trend_chart_leaves_out_an_all_null_kpi_and_formats_rates() -> None:
    series = pl.DataFrame(
        {
            "period_start": [JAN, FEB],
            "period_label": ["2024-01", "2024-02"],
            "is_partial": [False, False],
            "online_order_share": [0.2, 0.25],
            "csat": pl.Series([None, None], dtype=pl.Float64),
        }
    )
    spec = charts.kpi_trend_chart(series=series, kpis=["online_order_share", "csat"]).to_dict()
    assert spec["encoding"]["row"]["sort"] == ["Online order share"]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    assert {r["kpi"] for r in rows(spec)} == {"Online order share"}


def test_rate_line_charts_and_the_small_orders_subtitle(kpi_series: pl.DataFrame) -> None:
    spec = charts.returning_visits_chart(series=kpi_series).to_dict()
    assert spec["mark"] == {"type": "line", "point": True}
    assert spec["encoding"]["color"]["field"] == "kpi"
    assert spec["encoding"]["color"]["sort"] == ["Returning-visit share", "Conversion rate"]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    data = rows(spec)
    assert [(r["period_label"], r["kpi"], r["value"]) for r in data[:3]] == [
        ("2024-01", "Returning-visit share", 0.5),
        ("2024-02", "Returning-visit share", 0.4),
        ("2024-03", "Returning-visit share", None),
    ]
    series = kpi_series.with_columns(small_order_online_share=pl.lit(0.5))
    titled = charts.small_orders_chart(series=series, threshold=1234.5, currency="EUR").to_dict()
    assert titled["title"] == {
        "text": "Small orders placed online",
        "subtitle": "Small: below 1,234.50 EUR",
    }
    assert charts.small_orders_chart(series=series).to_dict()["title"] == (
        "Small orders placed online"
    )


def test_chart_data_is_rounded_to_six_significant_digits() -> None:
    series = pl.DataFrame(
        {
            "period_start": [JAN],
            "period_label": ["2024-01"],
            "online_order_share": [0.123456789123],
        }
    )
    [row] = rows(charts.online_share_chart(series=series).to_dict())
    assert row["value"] == 0.123457 == round(0.123456789123, 6)


def test_cohort_heatmap_leaves_unobserved_cells_blank() -> None:
    cohorts = pl.DataFrame(
        {
            "cohort_start": [JAN, JAN, FEB, FEB],
            "cohort_label": ["2024-01", "2024-01", "2024-02", "2024-02"],
            "periods_since": [0, 1, 0, 1],
            "cohort_size": [4, 4, 2, 2],
            "active_customers": [4, 1, 2, None],
            "retention_rate": [1.0, 0.25, 1.0, None],
            "cell": ["complete", "complete", "complete", "not_observed"],
        }
    )
    spec = charts.cohort_heatmap_chart(frame=cohorts).to_dict()
    assert spec["mark"] == {"type": "rect"}
    enc = spec["encoding"]
    assert (enc["x"]["field"], enc["x"]["type"]) == ("periods_since", "ordinal")
    # cohorts are labelled like the series (a quarter reads "2024 Q1", not "2024-01")
    assert (enc["y"]["field"], enc["y"]["type"]) == ("cohort_label", "ordinal")
    assert enc["color"]["field"] == "retention_rate"
    assert enc["color"]["scale"] == {"domain": [0, 1], "scheme": "blues"}
    assert [(r["periods_since"], r["active_customers"], r["cell"]) for r in rows(spec)] == [
        (0, 4, "complete"),
        (1, 1, "complete"),
        (0, 2, "complete"),
    ]
    assert spec["height"] == charts.HEIGHT  # two cohorts: the minimum height
    curves = charts.retention_curves_chart(frame=cohorts, rate="retention_rate").to_dict()
    assert curves["mark"] == {"type": "line", "opacity": 0.7}
    assert curves["encoding"]["y"]["field"] == "retention_rate"
    assert curves["title"] == "Share of each cohort ordering in the period"
    assert len(rows(curves)) == 3


def test_channel_states_chart_counts_customers_per_period_and_state() -> None:
    states = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "a"],
            "period": [JAN_KEY, JAN_KEY, JAN_KEY, JAN_KEY, JAN_KEY + 1],
            "state": ["online-only", "hybrid", "online-only", "inactive", "offline-only"],
        }
    )
    counts = m.channel_state_counts(states.lazy())
    spec = charts.channel_states_chart(frame=counts).to_dict()
    assert spec["mark"] == {"type": "bar"}
    assert spec["encoding"]["y"] == {
        "field": "customers",
        "stack": "zero",
        "title": "Customers",
        "type": "quantitative",
    }
    assert spec["encoding"]["color"]["scale"]["domain"] == [
        "online-only",
        "hybrid",
        "offline-only",
        "inactive",
    ]
    # inactive customers are left out unless asked for; shares are of the period
    assert [(r["period_label"], r["state"], r["customers"], r["share"]) for r in rows(spec)] == [
        ("2024-01", "hybrid", 1, 0.333333),
        ("2024-01", "online-only", 2, 0.666667),
        ("2024-02", "offline-only", 1, 1.0),
    ]
    with_inactive = charts.channel_states_chart(
        frame=m.channel_state_counts(states.lazy(), include_inactive=True)
    ).to_dict()
    assert ("inactive", 1) in [(r["state"], r["customers"]) for r in rows(with_inactive)]


def test_reverted_customers_chart_groups_by_month_and_outcome() -> None:
    adoption = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "first_online_date": [dt.date(2024, 1, 5), dt.date(2024, 1, 20), JAN, FEB],
            "retained_online": [True, False, False, False],
            "reverted_to_offline": [False, True, True, None],
            "days_to_revert": [None, 22, 10, None],
        }
    )
    spec = charts.reverted_customers_chart(frame=m.adoption_outcomes(adoption.lazy())).to_dict()
    assert spec["mark"] == {"type": "bar"}
    assert spec["encoding"]["color"]["field"] == "outcome"
    assert [
        (r["month"][:10], r["outcome"], r["customers"], r["median_days_to_revert"])
        for r in rows(spec)
    ] == [
        ("2024-01-01", "retained online", 1, None),
        ("2024-01-01", "reverted to offline", 2, 16.0),
        ("2024-02-01", "no later order", 1, None),
    ]


def test_satisfaction_and_aov_by_channel_charts_keep_only_what_they_draw() -> None:
    bands = pl.DataFrame(
        {
            "band": ["not satisfied", "satisfied"],
            "customers": [1, 2],
            "repeat_customers": [1, 1],
            "customer_retention_rate": [1.0, 0.5],
        }
    )
    spec = charts.satisfaction_retention_chart(frame=bands).to_dict()
    assert spec["mark"] == {"type": "bar", "size": 40}
    assert spec["encoding"]["x"]["sort"] == ["satisfied", "not satisfied"]
    assert spec["encoding"]["y"]["field"] == "customer_retention_rate"
    assert rows(spec) == bands.to_dicts()

    aov = pl.DataFrame(
        {
            "period_start": [JAN, JAN],
            "channel": ["online", "offline"],
            "orders": [3, 5],
            "net_revenue": [150.0, 1000.0],
            "average_order_value": [50.0, 200.0],
        }
    )
    spec = charts.aov_by_channel_chart(frame=aov, currency="EUR").to_dict()
    assert spec["mark"] == {"type": "line", "point": True}
    assert spec["encoding"]["y"]["title"] == "AOV EUR"
    assert spec["encoding"]["color"]["scale"] == {
        "domain": ["online", "offline"],
        "range": [charts.ONLINE, charts.OFFLINE],
    }
    assert [set(r) for r in rows(spec)] == [
        {"period_start", "channel", "orders", "average_order_value"}
    ] * 2


def test_orders_per_customer_chart_stacks_the_two_channels() -> None:
    frequency = pl.DataFrame(
        {
            "period_start": [JAN, FEB],
            "active_customers": [10, 8],
            "online_orders": [5, 8],
            "offline_orders": [10, 4],
            "online_orders_per_customer": [0.5, 1.0],
            "offline_orders_per_customer": [1.0, 0.5],
        }
    )
    spec = charts.orders_per_customer_chart(frame=frequency).to_dict()
    assert spec["mark"] == {"type": "area", "opacity": 0.85}
    assert spec["encoding"]["y"]["stack"] == "zero"
    assert [(r["channel"], r["orders_per_customer"]) for r in rows(spec)] == [
        ("online", 0.5),
        ("online", 1.0),
        ("offline", 1.0),
        ("offline", 0.5),
    ]


def test_customer_aov_scatter_is_points_on_log_axes_and_a_diagonal() -> None:
    comparison = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "online_orders": [1, 2, 1],
            "offline_orders": [1, 1, 1],
            "online_aov": [50.0, 200.0, 0.0],
            "offline_aov": [100.0, 100.0, 10.0],
            "aov_ratio": [0.5, 2.0, 0.0],
        }
    )
    spec = charts.customer_aov_scatter_chart(frame=comparison, currency="EUR").to_dict()
    points, diagonal = spec["layer"]
    assert points["mark"]["type"] == "circle" and diagonal["mark"]["type"] == "line"
    # c has no online AOV: not a point on a log axis
    assert [r["customer_id"] for r in spec["datasets"][points["data"]["name"]]] == ["a", "b"]
    for axis, field in (("x", "offline_aov"), ("y", "online_aov")):
        assert points["encoding"][axis]["field"] == field
        assert points["encoding"][axis]["scale"] == {"domain": [50.0, 200.0], "type": "log"}
    assert points["encoding"]["x"]["title"] == "Offline AOV (EUR)"
    assert spec["datasets"][diagonal["data"]["name"]] == [{"x": 50.0}, {"x": 200.0}]


def test_aov_before_after_chart_bins_log2_ratios() -> None:
    shifts = pl.DataFrame({"aov_shift_ratio": [1.0, 1.0, 2.0, 0.5, 100.0, 0.0, None]})
    spec = charts.aov_before_after_chart(
        frame=m.aov_shift_histogram(shifts.lazy(), bins=6)
    ).to_dict()
    bars, zero = spec["layer"]
    assert bars["mark"] == {"type": "bar"} and zero["mark"]["type"] == "rule"
    assert bars["encoding"]["x"]["bin"] == "binned"
    assert bars["encoding"]["x2"] == {"field": "bin_end"}
    # bins one log2 unit wide from -3 to 3; 100 is clipped into the last; 0 and null left out
    assert [
        (r["bin_start"], r["bin_end"], r["ratio_from"], r["customers"])
        for r in spec["datasets"][bars["data"]["name"]]
    ] == [(-1.0, 0.0, 0.5, 1), (0.0, 1.0, 1.0, 2), (1.0, 2.0, 2.0, 1), (2.0, 3.0, 4.0, 1)]
    assert spec["datasets"][zero["data"]["name"]] == [{"x": 0.0}]


def test_basket_chart_draws_categories_only_when_known() -> None:
    baskets = pl.DataFrame(
        {
            "period_start": [JAN, JAN],
            "channel": ["online", "offline"],
            "orders": [3, 5],
            "lines_per_order": [2.5, 1.5],
            "categories_per_order": pl.Series([None, None], dtype=pl.Float64),
        }
    )
    spec = charts.basket_chart(frame=baskets).to_dict()
    assert spec["mark"] == {"type": "line", "point": True}
    assert spec["encoding"]["row"]["field"] == "measure"
    assert {r["measure"] for r in rows(spec)} == {"Lines per order"}
    known = baskets.with_columns(categories_per_order=pl.Series([1.5, 1.0]))
    measures = [r["measure"] for r in rows(charts.basket_chart(frame=known).to_dict())]
    assert measures.count("Lines per order") == measures.count("Categories per order") == 2


def test_charts_carry_the_clients_locale_and_take_the_page_width() -> None:
    aov = pl.DataFrame(
        {
            "period_start": [JAN, JAN],
            "channel": ["online", "offline"],
            "orders": [3, 5],
            "average_order_value": [50.0, 200.0],
        }
    )
    spec = charts.aov_by_channel_chart(frame=aov, currency="EUR", locale="de-DE").to_dict()
    assert spec["usermeta"]["b2bWidth"] == "container"
    embed = spec["usermeta"]["embedOptions"]
    assert embed["formatLocale"]["decimal"] == "," and embed["formatLocale"]["thousands"] == "."
    assert embed["formatLocale"]["currency"] == ["", "\u00a0€"]
    assert embed["timeFormatLocale"]["months"][2] == "März"
    # whole amounts in the currency on the axis, from zero; cents in the tooltip
    assert spec["encoding"]["y"]["axis"]["format"] == "$,.0f"
    assert spec["encoding"]["y"]["scale"] == {"zero": True}
    assert spec["encoding"]["y"]["title"] == "Bestellwert EUR"
    assert spec["title"] == "Durchschnittlicher Bestellwert nach Kanal"


def test_faceted_charts_are_sized_by_the_page_script(kpi_series: pl.DataFrame) -> None:
    spec = charts.kpi_trend_chart(
        series=kpi_series, kpis=["net_revenue"], currency="EUR", locale="es-ES"
    ).to_dict()
    assert spec["usermeta"]["b2bFill"] is True and "width" not in spec
    assert spec["encoding"]["y"]["axis"]["format"] == "$,.0f"
    assert spec["encoding"]["row"]["sort"] == ["Ingresos netos"]


def test_cohort_table_chart_writes_each_value_and_an_average_row() -> None:
    table = pl.DataFrame(
        {
            "row": ["cohort", "cohort", "average"],
            "cohort_label": ["2024-01", "2024-01", None],
            "cohort_size": [1234, 1234, 1234],
            "periods_since": [0, 1, 0],
            "value": [1.0, 0.25, 1.0],
            "cell": ["complete", "partial", "complete"],
        }
    )
    spec = charts.cohort_table_chart(frame=table, locale="de-DE").to_dict()
    cells, labels = spec["layer"]
    assert cells["mark"]["type"] == "rect" and labels["mark"]["type"] == "text"
    assert labels["encoding"]["text"] == {"field": "value", "format": ".0%", "type": "quantitative"}
    data = spec["datasets"][spec["data"]["name"]] if "data" in spec else rows(cells)
    assert [r["row_label"] for r in data] == ["2024-01 · 1.234", "2024-01 · 1.234", "Durchschnitt"]
    assert [r["partial"] for r in data] == [False, True, False]


def test_change_chart_has_no_log_axis_and_names_bands_as_percentages() -> None:
    bands = m.change_bands(pl.LazyFrame({"r": [0.4, 1.0, 3.0]}), "r")
    spec = charts.aov_change_chart(frame=bands, kind="shift", locale="es-ES").to_dict()
    assert "log" not in json.dumps(spec)
    names = [r["change"] for r in rows(spec)]
    assert names[0] == "< -50%" and names[3] == "-10% … +10%" and names[-1] == "≥ +100%"
    assert [r["customers"] for r in rows(spec)] == [1, 0, 0, 1, 0, 0, 0, 1]


def _layer_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The data rows of a layer spec (shared at the top or in its first layer)."""
    return rows(spec) if "data" in spec else rows(spec["layer"][0])


def _bridge_steps() -> pl.DataFrame:
    """Both comparisons of the bridge, hand-worked (the Shapley split's docstring example).

    The period before: 10 customers x 2 orders x 60 = 1,200 -> 16 x 3 x 40 = 1,920,
    parts 740 (customers), 640 (orders per customer), -660 (AOV).
    A year earlier: 16 x 2 x 40 = 1,280 -> 1,920, only orders per customer changed:
    the whole 640 is its part.
    """
    from b2b_analysis.bridge import Drivers, Factors, compare, waterfall

    current = Factors("2024-03", 16, 48, 1920.0)
    previous = compare(Factors("2024-02", 10, 20, 1200.0), current)
    year = compare(Factors("2023-03", 16, 32, 1280.0), current)
    return waterfall(Drivers(previous, year, pl.DataFrame(), 10.0))


def test_revenue_bridge_is_one_full_width_chart_per_comparison_in_the_clients_locale() -> None:
    steps = _bridge_steps()
    specs = {
        against: charts.revenue_bridge_chart(
            bridge=steps, against=against, currency="EUR", locale="de-DE"
        ).to_dict()
        for against in ("previous", "year_earlier")
    }
    for spec in specs.values():
        assert (
            "layer" in spec and "facet" not in spec and spec["usermeta"]["b2bWidth"] == "container"
        )
        embed = spec["usermeta"]["embedOptions"]["formatLocale"]
        assert embed["decimal"] == "," and embed["currency"] == ["", "\u00a0€"]
        bars, totals, rises, falls = spec["layer"]
        # whole amounts in the currency on the axis (from zero) and on the bars; parts signed
        assert bars["encoding"]["y"]["axis"]["format"] == "$,.0f"
        assert bars["encoding"]["y"]["scale"]["zero"] is True
        assert bars["encoding"]["y"]["title"] is None  # the chart's title names it
        # the amounts: whole amounts in the currency on a page, 3 digits (593k) on a phone;
        # a part with its sign
        for layer in (totals, rises, falls):
            assert layer["encoding"]["text"] == {"field": "written", "type": "nominal"}
        (written,) = [t for t in totals["transform"] if "calculate" in t]
        assert written["calculate"] == (
            "(datum.kind == 'total' || datum.amount < 0 ? '' : '+') + "
            "format(datum.amount, (containerSize()[0] || 560) < 560 ? '.3~s' : '$,.0f')"
        )
        assert bars["encoding"]["y"]["axis"]["labelExpr"] == (
            "(containerSize()[0] || 560) < 560 ? format(datum.value, '$.3~s') : datum.label"
        )
        # a rise's label above its bar, a fall's below
        assert rises["encoding"]["y"]["field"] == "top" and rises["mark"]["baseline"] == "bottom"
        assert falls["encoding"]["y"]["field"] == "bottom" and falls["mark"]["baseline"] == "top"
        assert bars["encoding"]["color"]["legend"] is None
    prev, year = (_layer_rows(specs[k]) for k in ("previous", "year_earlier"))
    names = ["Kunden", "Bestellungen pro Kunde", "Bestellwert (Ø)"]
    assert [r["label"] for r in prev] == ["2024-02", *names, "2024-03"]
    assert [r["label"] for r in year] == ["2023-03", *names, "2024-03"]
    assert [r["amount"] for r in prev] == [1200.0, 740.0, 640.0, -660.0, 1920.0]
    assert [r["amount"] for r in year] == [1280.0, 0.0, 640.0, 0.0, 1920.0]
    # each bar spans its step: the fall of AOV from 2,580 down to 1,920
    assert (prev[3]["top"], prev[3]["bottom"]) == (2580.0, 1920.0)
    assert specs["previous"]["title"] == {
        "text": "Nettoumsatz 2024-03",
        "subtitle": "Gegenüber 2024-02, der Vorperiode",
    }
    assert specs["year_earlier"]["title"] == {
        "text": "Nettoumsatz 2024-03",
        "subtitle": "Gegenüber 2023-03, derselben Periode ein Jahr zuvor",
    }
    # room above the highest bar for its label: 2,580 before AOV's fall, 1,920 a year earlier
    tops = [specs[k]["layer"][0]["encoding"]["y"]["scale"]["domainMax"] for k in specs]
    assert tops == pytest.approx([1.12 * 2580, 1.12 * 1920])


def test_revenue_bridge_in_english_without_a_currency() -> None:
    spec = charts.revenue_bridge_chart(bridge=_bridge_steps(), against="previous").to_dict()
    bars = spec["layer"][0]
    assert bars["encoding"]["y"]["axis"]["format"] == ",.0f"
    labels = [r["label"] for r in _layer_rows(spec)]
    assert labels == [
        "2024-02",
        "Customers",
        "Orders per customer",
        "Average order value",
        "2024-03",
    ]
    assert spec["title"] == {
        "text": "Net revenue 2024-03",
        "subtitle": "Against 2024-02, the period before",
    }
    # without that comparison: an empty chart whose title says so
    empty = charts.revenue_bridge_chart(bridge=_bridge_steps().clear(), locale="es-ES").to_dict()
    assert empty["title"] == "Puente de ingresos: ningún periodo completo que comparar"


def test_sales_effort_chart_draws_hours_and_the_small_orders_part() -> None:
    effort = pl.DataFrame(
        {
            "period_label": ["2024-01", "2024-02", "2024-03"],
            "is_partial": [False, False, True],
            "orders_moved_online": [4.0, 0.0, 2.0],
            "hours": [0.8, 0.0, 0.4],
            "small_orders_moved_online": [1.0, 0.0, 2.0],
            "small_order_hours": [0.2, 0.0, 0.4],
        }
    )
    spec = charts.sales_effort_chart(frame=effort, locale="es-ES").to_dict()
    assert spec["usermeta"]["b2bWidth"] == "container" and spec["mark"]["type"] == "bar"
    assert rows(spec) == effort.to_dicts()
    assert spec["transform"] == [
        {"fold": ["hours", "small_order_hours"], "as": ["measure", "value"]}
    ]
    enc = spec["encoding"]
    # the small orders' bar in front of all orders' bar, not stacked on it
    assert enc["y"]["stack"] is None and enc["y"]["title"] == "Horas liberadas"
    assert enc["order"] == {"field": "measure", "sort": "ascending", "type": "nominal"}
    assert enc["color"]["legend"]["labelExpr"] == (
        '{"hours": "todos los pedidos", "small_order_hours": "pedidos pequeños"}[datum.label]'
        " || datum.label"
    )
    # a partial period: the subtitle says what its pale bar means
    assert spec["title"] == {
        "text": "Horas comerciales liberadas por periodo",
        "subtitle": "Barras pálidas: periodos que la ventana corta",
    }
    assert spec["usermeta"]["embedOptions"]["formatLocale"]["decimal"] == ","
    # without a threshold only all orders are drawn
    no_small = effort.with_columns(
        pl.lit(None, pl.Float64).alias(c)
        for c in ("small_order_hours", "small_orders_moved_online")
    )
    spec = charts.sales_effort_chart(frame=no_small.filter(~pl.col("is_partial"))).to_dict()
    assert spec["transform"][0]["fold"] == ["hours"]
    assert spec["title"] == "Sales team hours freed per period"
    assert spec["encoding"]["color"]["scale"]["domain"] == ["hours"]
