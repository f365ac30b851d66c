"""The report's charts: one house theme and ``<thing>_chart(...)`` helpers.

Every helper is keyword-only, takes the frame a :mod:`b2b_analysis.metrics`
transform returns (``frame=``) or the series of :func:`b2b_analysis.kpis.compute_kpis`
(``series=``), keeps only the columns it draws (so the embedded data stays small),
and returns an altair chart with tooltips. Charts only draw: they select, reshape
for encoding and round, but never aggregate; each aggregation is a metric.
Importing this module changes no global state: the theme is registered and
enabled by :func:`use_theme` (called by :func:`b2b_analysis.display.setup`), or
for a block with :func:`theme`. (altair's jsonschema is imported without the
``iri`` format grammars, :func:`b2b_analysis.quickimport.import_jsonschema`: 2-3 s
less per kernel.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from b2b_analysis.quickimport import import_jsonschema

import_jsonschema()  # before altair imports it

import altair as alt  # noqa: E402
import polars as pl  # noqa: E402

from b2b_analysis import i18n, palette  # noqa: E402
from b2b_analysis.registry import REGISTRY  # noqa: E402

__all__ = [
    "THEME",
    "aov_before_after_chart",
    "aov_by_channel_chart",
    "aov_change_chart",
    "basket_chart",
    "channel_states_chart",
    "cohort_heatmap_chart",
    "cohort_table_chart",
    "customer_aov_scatter_chart",
    "kpi_trend_chart",
    "online_share_chart",
    "orders_per_customer_chart",
    "retention_curves_chart",
    "retention_summary_chart",
    "returning_visits_chart",
    "revenue_bridge_chart",
    "reverted_customers_chart",
    "sales_effort_chart",
    "satisfaction_period_retention_chart",
    "satisfaction_retention_chart",
    "small_orders_chart",
    "theme",
    "use_theme",
]

THEME = "b2b"
#: The theme's font and colours are the house palette's (:mod:`b2b_analysis.palette`).
FONT, INK, MUTED, GRID = palette.FONT, palette.INK, palette.MUTED, palette.GRID
#: Channel colours: online is the brand colour, offline a neutral.
ONLINE, OFFLINE = palette.ONLINE, palette.OFFLINE
CHANNEL_SCALE = alt.Scale(domain=["online", "offline"], range=[ONLINE, OFFLINE])
STATE_SCALE = alt.Scale(
    domain=["online-only", "hybrid", "offline-only", "inactive"],
    range=[ONLINE, palette.HYBRID, OFFLINE, GRID],
)
WIDTH, HEIGHT = 560, 220


def _theme() -> dict[str, Any]:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": HEIGHT},
            "title": {
                "fontSize": 14,
                "fontWeight": 600,
                "color": INK,
                "anchor": "start",
                "subtitleColor": MUTED,
                "subtitleFontSize": 11,
            },
            "axis": {
                "labelColor": MUTED,
                "titleColor": MUTED,
                "gridColor": GRID,
                "domainColor": GRID,
                "tickColor": GRID,
                "labelFontSize": 11,
                "titleFontSize": 11,
                "titleFontWeight": 400,
            },
            "legend": {
                "labelColor": MUTED,
                "titleColor": MUTED,
                "orient": "bottom",
                "titleFontWeight": 400,
            },
            "header": {
                "labelColor": INK,
                "labelFontSize": 12,
                "labelAnchor": "start",
                "labelAngle": 0,
                "labelOrient": "top",
                "titleFontSize": 0,
            },
            "range": {"category": [ONLINE, *palette.CATEGORY, OFFLINE]},
            "line": {"strokeWidth": 2, "color": ONLINE},
            "area": {"color": ONLINE},
            "circle": {"color": ONLINE},
            "point": {"filled": True, "size": 30},
            "bar": {"color": ONLINE},
        }
    }


def use_theme() -> None:
    """Register the house theme (once) and enable it for every chart."""
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(_theme)  # type: ignore[arg-type]
    alt.theme.enable(THEME)


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """Enable the house theme inside a ``with`` block (e.g. around ``chart.to_dict()``)."""
    if THEME not in alt.theme.names():
        alt.theme.register(THEME, enable=False)(_theme)  # type: ignore[arg-type]
    with alt.theme.enable(THEME):
        yield


# ------------------------------------------------------------------ helpers


def _eager(frame: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


#: Significant digits kept in chart data: a float aggregated in a different row order
#: (polars runs group-bys in parallel) differs in its last bits, which would change the
#: spec between reruns (nbval compares it exactly); 6 digits are beyond what a chart shows.
DIGITS = 6
#: Rounding first to this many digits removes that last-bit noise: a mean of cents that
#: is exactly 144.015 may come out as 144.01499999999999 or 144.01500000000001, which
#: a single rounding to 6 digits would turn into 144.015 or 144.015 +- 0.001 at random.
NOISE_DIGITS = 12


def _chart(frame: pl.DataFrame, **kwargs: Any) -> alt.Chart:
    """``alt.Chart`` on the frame with floats rounded to :data:`DIGITS` significant digits."""
    floats = pl.col(pl.Float64, pl.Float32)
    stable = frame.with_columns(floats.round_sig_figs(NOISE_DIGITS).round_sig_figs(DIGITS))
    return alt.Chart(stable, **kwargs)


def _fmt(unit: str) -> str:
    return {"rate": ".1%", "money": ",.2f", "count": ",d", "days": ",.0f"}.get(unit, ",.1f")


#: d3 formats of a money axis (the client's currency, whole amounts: no ".00" noise)
#: and of a money tooltip (the currency and cents).
MONEY_AXIS, MONEY_TIP = "$,.0f", "$,.2f"


def _label(key: str, locale: str = i18n.DEFAULT) -> str:
    return i18n.kpi_label(key, locale)


def _t(key: str, locale: str, **fields: Any) -> str:
    """The chart text ``key`` in the client's language (:func:`b2b_analysis.i18n.text`)."""
    return i18n.text(key, locale, **fields)


def _period_x(title: str = "Period") -> alt.X:
    return alt.X("period_start:T", title=title)


def _period_band(title: str) -> alt.X:
    """Periods as bands (bars as wide as their period), labelled as the series labels
    them; the calendar's labels sort in time order."""
    return alt.X(
        "period_label:O",
        title=title,
        axis=alt.Axis(labelAngle=-45, labelOverlap="greedy", labelSeparation=4),
    )


def _has_facet(spec: Any) -> bool:
    encoding = getattr(spec, "encoding", alt.Undefined)
    if encoding is alt.Undefined:
        return False
    return any(
        getattr(encoding, channel, alt.Undefined) is not alt.Undefined
        for channel in ("row", "column", "facet")
    )


#: The width of a single or layered chart in a notebook (JupyterLab); pages use theirs.
NOTEBOOK_WIDTH = 720


def page_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A chart's Vega-Lite spec as a report page draws it: a view marked
    ``usermeta.b2bWidth = "container"`` (:func:`localized`) takes the page's width.

    >>> page_spec({"width": 720, "usermeta": {"b2bWidth": "container"}})["width"]
    'container'
    >>> page_spec({"width": 300})["width"]
    300
    """
    if (spec.get("usermeta") or {}).get("b2bWidth") == "container":
        return {**spec, "width": "container"}
    return spec


def localized(chart: Any, *, locale: str = i18n.DEFAULT, currency: str = "") -> Any:
    """``chart`` drawn in ``locale`` and at the width of the page.

    The locale's number and date formats (and the currency of ``$`` formats) go
    into ``usermeta.embedOptions`` (vega-embed's ``formatLocale`` and
    ``timeFormatLocale``: JupyterLab and the report pages read them). A single or
    layered view is :data:`NOTEBOOK_WIDTH` wide in a notebook and marked
    ``usermeta.b2bWidth = "container"``: the report's pages give it the width of the
    page (:func:`page_spec`). JupyterLab itself gets no container width: with several
    such charts in one notebook it kept resizing them and the page hung. A faceted
    view is marked ``usermeta.b2bFill`` and the report's chart script sizes it.
    """
    meta: dict[str, Any] = {"embedOptions": i18n.embed_options(locale, currency)}
    if isinstance(chart, alt.LayerChart | alt.Chart) and not _has_facet(chart):
        meta["b2bWidth"] = "container"
        return chart.properties(width=NOTEBOOK_WIDTH, usermeta=meta)
    meta["b2bFill"] = True
    return chart.properties(usermeta=meta)


# ------------------------------------------------------------------ KPI trends


def kpi_trend_chart(
    *,
    series: pl.DataFrame,
    kpis: Sequence[str],
    title: str = "KPI trends",
    currency: str = "",
    locale: str = i18n.DEFAULT,
) -> alt.Chart:
    """One small line chart per KPI (rows share the period axis, own y scales).

    ``series`` is :attr:`KpiReport.series`; partial periods (the window cuts them)
    are drawn as hollow points and named in the tooltip. KPIs absent from the
    series or all null are left out. Levels start at zero; a money axis is in the
    client's currency (``currency``, written as ``locale`` writes it), whole amounts.
    """
    keys = [
        k for k in kpis if k in series.columns and series.get_column(k).null_count() < series.height
    ]
    long = (
        series.select("period_start", "period_label", "is_partial", *keys)
        .unpivot(
            index=["period_start", "period_label", "is_partial"],
            on=keys,
            variable_name="kpi",
            value_name="value",
        )
        .with_columns(
            pl.col("kpi").replace_strict({k: _label(k, locale) for k in keys}).alias("kpi"),
            pl.col("kpi")
            .replace_strict({k: REGISTRY[k].unit if k in REGISTRY else "rate" for k in keys})
            .alias("unit"),
            pl.when(pl.col("is_partial"))
            .then(pl.lit(_t("chart.partial", locale)))
            .otherwise(pl.lit(_t("chart.complete", locale)))
            .alias("completeness"),
        )
        .drop("is_partial")
    )
    units = set(long.get_column("unit").unique().to_list())
    units_all = set(units)
    fmt = _fmt(units.pop()) if len(units) == 1 else ",.3~g"
    axis_fmt = {".1%": ".0%", ",.2f": MONEY_AXIS}.get(fmt, fmt)
    tip_fmt = MONEY_TIP if fmt == ",.2f" and currency else fmt
    value_title = _t("chart.value", locale)
    base = _chart(long, title=title).encode(
        x=_period_x(_t("chart.period", locale)),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_fmt), scale=alt.Scale(zero=True)),
        tooltip=[
            alt.Tooltip("kpi:N", title=_t("chart.kpi", locale)),
            alt.Tooltip("period_label:N", title=_t("chart.period", locale)),
            alt.Tooltip(
                "value:Q",
                title=f"{value_title} {currency}".strip() if "money" in units_all else value_title,
                format=tip_fmt,
            ),
            alt.Tooltip("completeness:N", title=_t("chart.period", locale)),
        ],
    )
    chart = (
        base.mark_line(point=alt.OverlayMarkDef(filled=True, size=30))
        .encode(
            row=alt.Row("kpi:N", sort=[_label(k, locale) for k in keys], title=None),
        )
        .properties(height=120)
        .resolve_scale(y="independent")
    )
    return localized(chart, locale=locale, currency=currency)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ retention


def cohort_heatmap_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, rate: str = "retention_rate"
) -> alt.Chart:
    """Cohort matrix from :func:`metrics.cohort_retention`: share of each cohort active.

    Rows are first-order periods, columns periods since; unobserved cells are blank.
    """
    frame = (
        _eager(frame)
        .filter(pl.col("cell") != "not_observed")
        .select("cohort_label", "periods_since", "cohort_size", "active_customers", rate, "cell")
    )
    return (
        _chart(frame, title="Cohort retention")
        .mark_rect()
        .encode(
            x=alt.X("periods_since:O", title="Periods since first order"),
            # the calendar's labels sort in time order (2024-01, 2024-W01, 2024 Q1, FY2024/25 Q1)
            y=alt.Y("cohort_label:O", title="Cohort (first order)"),
            color=alt.Color(
                f"{rate}:Q",
                title="Active share",
                scale=alt.Scale(scheme="blues", domain=[0, 1]),
                legend=alt.Legend(format=".0%", orient="right"),
            ),
            tooltip=[
                alt.Tooltip("cohort_label:N", title="Cohort"),
                alt.Tooltip("periods_since:O", title="Periods since"),
                alt.Tooltip("cohort_size:Q", title="Cohort size", format=",d"),
                alt.Tooltip("active_customers:Q", title="Active", format=",d"),
                alt.Tooltip(f"{rate}:Q", title="Active share", format=".1%"),
                alt.Tooltip("cell:N", title="Cell"),
            ],
        )
        .properties(
            width=WIDTH, height=max(HEIGHT, 14 * frame.get_column("cohort_label").n_unique())
        )
    )


def retention_curves_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, rate: str = "on_or_after_rate"
) -> alt.Chart:
    """One retention curve per cohort (share still ordering k periods later).

    ``rate`` is ``on_or_after_rate`` (ordered in that period or any later one) or
    ``retention_rate`` (ordered in exactly that period).
    """
    frame = (
        _eager(frame)
        .filter(pl.col("cell") != "not_observed")
        .select("cohort_start", "cohort_label", "periods_since", "cohort_size", rate)
    )
    title = {
        "on_or_after_rate": "Share of each cohort still ordering (that period or later)",
        "retention_rate": "Share of each cohort ordering in the period",
    }.get(rate, rate)
    return (
        _chart(frame, title=title)
        .mark_line(opacity=0.7)
        .encode(
            x=alt.X("periods_since:Q", title="Periods since first order"),
            y=alt.Y(
                f"{rate}:Q", title=None, axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1])
            ),
            color=alt.Color(
                "cohort_start:T",
                title="Cohort",
                timeUnit="yearmonthdate",
                scale=alt.Scale(scheme="viridis"),
                legend=alt.Legend(format="%Y-%m", orient="right"),
            ),
            detail="cohort_start:T",
            tooltip=[
                alt.Tooltip("cohort_label:N", title="Cohort"),
                alt.Tooltip("periods_since:Q", title="Periods since"),
                alt.Tooltip("cohort_size:Q", title="Cohort size", format=",d"),
                alt.Tooltip(f"{rate}:Q", title="Share", format=".1%"),
            ],
        )
    )


def cohort_table_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT
) -> alt.LayerChart:
    """The cohort matrix as a table: the share in each cell, each cohort's size, an average.

    From :func:`metrics.cohort_table`. Rows are cohorts (labelled with their
    size) and a last *Average* row; columns periods since the first order. A
    partial cell (the window ends before its period does) is drawn pale: it may
    still grow.
    """
    table = _eager(frame).select(
        "row", "cohort_label", "cohort_size", "periods_since", "value", "cell"
    )
    average = _t("chart.cohort.average", locale)
    table = table.with_columns(
        pl.when(pl.col("row") == "average")
        .then(pl.lit(average))
        .otherwise(pl.col("cohort_label"))
        .alias("cohort_label"),
    ).with_columns(
        # the average row rests on fewer cohorts at each offset: its size is in the tooltip
        pl.when(pl.col("row") == "average")
        .then(pl.col("cohort_label"))
        .otherwise(
            pl.col("cohort_label")
            + pl.lit(" · ")
            + pl.col("cohort_size").map_elements(
                lambda n: i18n.format_count(n, locale), return_dtype=pl.String
            )
        )
        .alias("row_label"),
        (pl.col("cell") == "partial").alias("partial"),
    )
    order = table.unique("row_label", maintain_order=True).get_column("row_label").to_list()
    size_title = _t("chart.cohort.size", locale)
    x = alt.X(
        "periods_since:O",
        title=_t("chart.cohort.since", locale),
        axis=alt.Axis(labelAngle=0, orient="top"),
    )
    y = alt.Y(
        "row_label:O",
        title=_t("chart.cohort.rows", locale, size=size_title),
        sort=order,
        axis=alt.Axis(labelFontSize=10),
    )
    tooltip = [
        alt.Tooltip("cohort_label:N", title=_t("chart.cohort.cohort", locale)),
        alt.Tooltip("periods_since:O", title=_t("chart.cohort.since", locale)),
        alt.Tooltip("cohort_size:Q", title=size_title, format=",d"),
        alt.Tooltip("value:Q", title=_t("chart.cohort.share", locale), format=".1%"),
        alt.Tooltip("cell:N", title=_t("chart.cohort.cell", locale)),
    ]
    base = _chart(table).encode(x=x, y=y, tooltip=tooltip)
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "value:Q",
            title=_t("chart.cohort.share", locale),
            scale=alt.Scale(scheme="blues", domain=[0, 1]),
            legend=None,
        ),
        opacity=alt.condition(alt.datum.partial, alt.value(0.45), alt.value(1.0)),
    )
    # the values are written in the cells when they are wide enough (not on a phone)
    columns = max(1, table.get_column("periods_since").n_unique())
    shown = alt.ExprRef(f"width / {columns} >= 24 ? 1 : 0")
    labels = base.mark_text(fontSize=9, opacity=shown).encode(
        text=alt.Text("value:Q", format=".0%"),
        color=alt.condition(alt.datum.value > 0.55, alt.value("white"), alt.value(INK)),
    )
    height = max(HEIGHT, 18 * len(order))
    chart = alt.layer(
        cells,
        labels,
        title=alt.Title(
            _t("chart.cohort.title", locale), subtitle=_t("chart.cohort.subtitle", locale)
        ),
    ).properties(height=height)
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


def retention_summary_chart(
    *,
    frame: pl.DataFrame | pl.LazyFrame,
    locale: str = i18n.DEFAULT,
    rate: str = "retention_rate",
) -> alt.LayerChart:
    """The average retention curve, its band (the middle half of the cohorts) and a few
    highlighted cohorts, from :func:`metrics.retention_curves`."""
    curves = _eager(frame).select("series", "periods_since", "value", "low", "high", "cohorts")
    average = _t("chart.curves.average", locale)
    curves = curves.with_columns(
        pl.when(pl.col("series") == "average")
        .then(pl.lit(average))
        .otherwise(pl.col("series"))
        .alias("series")
    )
    names = curves.unique("series", maintain_order=True).get_column("series").to_list()
    x = alt.X(
        "periods_since:Q",
        title=_t("chart.cohort.since", locale),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )
    share = _t("chart.cohort.share", locale)
    y_axis = alt.Axis(format=".0%")
    band = (
        _chart(curves.filter(pl.col("series") == average))
        .mark_area(opacity=0.18, color=ONLINE)
        .encode(
            x=x,
            y=alt.Y("low:Q", title=None, axis=y_axis, scale=alt.Scale(domain=[0, 1])),
            y2="high:Q",
            tooltip=[
                alt.Tooltip("periods_since:Q", title=_t("chart.cohort.since", locale)),
                alt.Tooltip("low:Q", title=_t("chart.curves.low", locale), format=".1%"),
                alt.Tooltip("high:Q", title=_t("chart.curves.high", locale), format=".1%"),
                alt.Tooltip("cohorts:Q", title=_t("chart.curves.cohorts", locale), format=",d"),
            ],
        )
    )
    lines = (
        _chart(curves)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title=None, axis=y_axis, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "series:N",
                title=None,
                sort=names,
                scale=alt.Scale(domain=names, range=[ONLINE, *palette.CATEGORY][: len(names)]),
            ),
            strokeWidth=alt.condition(alt.datum.series == average, alt.value(3), alt.value(1.5)),
            tooltip=[
                alt.Tooltip("series:N", title=_t("chart.cohort.cohort", locale)),
                alt.Tooltip("periods_since:Q", title=_t("chart.cohort.since", locale)),
                alt.Tooltip("value:Q", title=share, format=".1%"),
            ],
        )
    )
    key = "chart.curves.title_exact" if rate == "retention_rate" else "chart.curves.title"
    chart = alt.layer(
        band,
        lines,
        title=alt.Title(_t(key, locale), subtitle=_t("chart.curves.subtitle", locale)),
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


def satisfaction_period_retention_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT
) -> alt.LayerChart:
    """Period retention of satisfied and not satisfied customers, with 95 % intervals.

    From :func:`metrics.period_retention_by_satisfaction`: a bar per band and its
    Wilson interval; the tooltip gives the customer-periods behind each.
    """
    bands = _eager(frame).select("band", "pairs", "retained", "rate", "low", "high")
    names = {
        "satisfied": _t("chart.satisfaction.satisfied", locale),
        "not satisfied": _t("chart.satisfaction.not_satisfied", locale),
    }
    bands = bands.with_columns(pl.col("band").replace_strict(names, default=pl.col("band")))
    order = list(names.values())
    x = alt.X(
        "band:N",
        title=_t("chart.satisfaction.band", locale),
        sort=order,
        axis=alt.Axis(labelAngle=0),
    )
    bars = (
        _chart(bands)
        .mark_bar(size=60)
        .encode(
            x=x,
            y=alt.Y(
                "rate:Q",
                title=_t("chart.satisfaction.axis", locale),
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "band:N", legend=None, scale=alt.Scale(domain=order, range=[ONLINE, OFFLINE])
            ),
            tooltip=[
                alt.Tooltip("band:N", title=_t("chart.satisfaction.band", locale)),
                alt.Tooltip("pairs:Q", title=_t("chart.satisfaction.pairs", locale), format=",d"),
                alt.Tooltip(
                    "retained:Q", title=_t("chart.satisfaction.retained", locale), format=",d"
                ),
                alt.Tooltip("rate:Q", title=_t("chart.satisfaction.rate", locale), format=".1%"),
                alt.Tooltip("low:Q", title=_t("chart.curves.low", locale), format=".1%"),
                alt.Tooltip("high:Q", title=_t("chart.curves.high", locale), format=".1%"),
            ],
        )
    )
    whiskers = _chart(bands).mark_rule(color=INK, strokeWidth=2).encode(x=x, y="low:Q", y2="high:Q")
    chart = alt.layer(
        bars,
        whiskers,
        title=alt.Title(
            _t("chart.satisfaction.title", locale),
            subtitle=_t("chart.satisfaction.subtitle", locale),
        ),
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


def _state_labels(locale: str) -> str | None:
    """A legend ``labelExpr`` naming the channel states in the client's language."""
    if i18n.language(locale) == "en":
        return None
    names = {state: _t(f"chart.state.{state}", locale) for state in STATE_SCALE.domain}  # type: ignore[union-attr]
    table = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in names.items())
    return f"{{{table}}}[datum.label] || datum.label"


def channel_states_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT
) -> alt.Chart:
    """Customers per channel state and period (stacked).

    From :func:`metrics.channel_state_counts`: one row per bar segment.
    """
    counts = _eager(frame).select("state", "customers", "period_start", "period_label", "share")
    legend = alt.Legend(labelExpr=_state_labels(locale) or alt.Undefined)
    chart = (
        _chart(counts, title=_t("chart.states.title", locale))
        .mark_bar()
        .encode(
            x=_period_band(_t("chart.period", locale)),
            y=alt.Y("customers:Q", title=_t("chart.customers", locale), stack="zero"),
            color=alt.Color(
                "state:N", title=_t("chart.states.state", locale), scale=STATE_SCALE, legend=legend
            ),
            order=alt.Order("state:N"),
            tooltip=[
                alt.Tooltip("period_label:N", title=_t("chart.period", locale)),
                alt.Tooltip("state:N", title=_t("chart.states.state", locale)),
                alt.Tooltip("customers:Q", title=_t("chart.customers", locale), format=",d"),
                alt.Tooltip("share:Q", title=_t("chart.states.share", locale), format=".1%"),
            ],
        )
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


OUTCOMES = ("retained online", "reverted to offline", "no later order")


def reverted_customers_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT
) -> alt.Chart:
    """New online customers per period of their first online order, by what they did next.

    From :func:`metrics.adoption_outcomes_by_period` (the report's period) or
    :func:`metrics.adoption_outcomes` (calendar months): ``retained online``
    (ordered online again), ``reverted to offline`` (later orders all offline) or
    ``no later order``.
    """
    frame = _eager(frame)
    by_period = "period_start" in frame.columns
    keep = ["period_start", "period_label"] if by_period else ["month"]
    frame = frame.select(*keep, "outcome", "customers", "median_days_to_revert", "share")
    label = (
        alt.Tooltip("period_label:N", title=_t("chart.period", locale))
        if by_period
        else alt.Tooltip("month:T", title=_t("chart.period", locale), format="%Y-%m")
    )
    names = {o: _t(f"chart.outcome.{o.replace(' ', '_')}", locale) for o in OUTCOMES}
    expr = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in names.items())
    chart = (
        _chart(frame, title=_t("chart.reverted.title", locale))
        .mark_bar()
        .encode(
            x=_period_band(_t("chart.reverted.axis", locale))
            if by_period
            else alt.X("month:T", title=_t("chart.reverted.axis", locale)),
            y=alt.Y("customers:Q", title=_t("chart.customers", locale), stack="zero"),
            color=alt.Color(
                "outcome:N",
                title=_t("chart.reverted.outcome", locale),
                scale=alt.Scale(domain=list(OUTCOMES), range=[ONLINE, palette.REVERTED, GRID]),
                legend=alt.Legend(labelExpr=f"{{{expr}}}[datum.label] || datum.label"),
            ),
            tooltip=[
                label,
                alt.Tooltip("outcome:N", title=_t("chart.reverted.outcome", locale)),
                alt.Tooltip("customers:Q", title=_t("chart.customers", locale), format=",d"),
                alt.Tooltip("share:Q", title=_t("chart.reverted.share", locale), format=".1%"),
                alt.Tooltip(
                    "median_days_to_revert:Q",
                    title=_t("chart.reverted.days", locale),
                    format=",.0f",
                ),
            ],
        )
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


def satisfaction_retention_chart(*, frame: pl.DataFrame | pl.LazyFrame) -> alt.Chart:
    """Repeat-order rate of satisfied vs not satisfied customers.

    From :func:`metrics.retention_by_satisfaction`.
    """
    frame = _eager(frame).select("band", "customers", "repeat_customers", "customer_retention_rate")
    return (
        _chart(frame, title="Do satisfied customers order again?")
        .mark_bar(size=40)
        .encode(
            x=alt.X(
                "band:N",
                title="Latest CSAT answer",
                sort=["satisfied", "not satisfied"],
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y(
                "customer_retention_rate:Q",
                title="Customers with 2+ orders",
                axis=alt.Axis(format=".0%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color(
                "band:N",
                legend=None,
                scale=alt.Scale(domain=["satisfied", "not satisfied"], range=[ONLINE, OFFLINE]),
            ),
            tooltip=[
                alt.Tooltip("band:N", title="Band"),
                alt.Tooltip("customers:Q", title="Customers", format=",d"),
                alt.Tooltip("repeat_customers:Q", title="With 2+ orders", format=",d"),
                alt.Tooltip("customer_retention_rate:Q", title="Retention", format=".1%"),
            ],
        )
        .properties(width=240)
    )


# ------------------------------------------------------------------ order frequency


def _rate_lines(
    series: pl.DataFrame,
    keys: Sequence[str],
    title: str | alt.Title,
    y_title: str | None = None,
    locale: str = i18n.DEFAULT,
) -> alt.Chart:
    long = (
        series.select("period_start", "period_label", *keys)
        .unpivot(
            index=["period_start", "period_label"],
            on=list(keys),
            variable_name="kpi",
            value_name="value",
        )
        .with_columns(pl.col("kpi").replace_strict({k: _label(k, locale) for k in keys}))
    )
    chart = (
        _chart(long, title=title)
        .mark_line(point=True)
        .encode(
            x=_period_x(_t("chart.period", locale)),
            y=alt.Y(
                "value:Q", title=y_title, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=True)
            ),
            color=alt.Color("kpi:N", title=None, sort=[_label(k, locale) for k in keys]),
            tooltip=[
                alt.Tooltip("period_label:N", title=_t("chart.period", locale)),
                alt.Tooltip("kpi:N", title=_t("chart.kpi", locale)),
                alt.Tooltip("value:Q", title=_t("chart.value", locale), format=".1%"),
            ],
        )
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


def online_share_chart(*, series: pl.DataFrame, locale: str = i18n.DEFAULT) -> alt.Chart:
    """Online order share per period (from :attr:`KpiReport.series`)."""
    return _rate_lines(
        series, ["online_order_share"], _t("chart.online_share.title", locale), locale=locale
    )


def small_orders_chart(
    *,
    series: pl.DataFrame,
    threshold: float | None = None,
    currency: str = "",
    locale: str = i18n.DEFAULT,
) -> alt.Chart:
    """Share of small orders placed online, against the online share of all orders."""
    text = _t("chart.small_orders.title", locale)
    title: str | alt.Title = text
    if threshold is not None:
        below = i18n.format_money(threshold, currency, locale)
        title = alt.Title(text, subtitle=_t("chart.small_orders.subtitle", locale, amount=below))
    return _rate_lines(
        series, ["small_order_online_share", "online_order_share"], title, locale=locale
    )


def returning_visits_chart(*, series: pl.DataFrame, locale: str = i18n.DEFAULT) -> alt.Chart:
    """Returning-visit share and conversion rate per period."""
    return _rate_lines(
        series,
        ["returning_visit_share", "conversion_rate"],
        _t("chart.visits.title", locale),
        locale=locale,
    )


def _channel_legend(locale: str) -> alt.Legend:
    names = {c: _t(f"chart.channel.{c}", locale) for c in ("online", "offline")}
    expr = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in names.items())
    return alt.Legend(labelExpr=f"{{{expr}}}[datum.label] || datum.label")


def orders_per_customer_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT
) -> alt.Chart:
    """Orders per active customer and period, stacked by channel.

    From :func:`metrics.orders_per_customer`.
    """
    frame = (
        _eager(frame)
        .select(
            "period_start",
            "active_customers",
            "online_orders_per_customer",
            "offline_orders_per_customer",
        )
        .unpivot(
            index=["period_start", "active_customers"],
            on=["online_orders_per_customer", "offline_orders_per_customer"],
            variable_name="channel",
            value_name="orders_per_customer",
        )
        .with_columns(pl.col("channel").str.replace("_orders_per_customer", ""))
    )
    per_customer = _t("chart.frequency.axis", locale)
    chart = (
        _chart(frame, title=_t("chart.frequency.title", locale))
        .mark_area(opacity=0.85)
        .encode(
            x=_period_x(_t("chart.period", locale)),
            y=alt.Y("orders_per_customer:Q", title=per_customer, stack="zero"),
            color=alt.Color(
                "channel:N",
                title=_t("chart.channel", locale),
                scale=CHANNEL_SCALE,
                legend=_channel_legend(locale),
            ),
            order=alt.Order("channel:N", sort="descending"),
            tooltip=[
                alt.Tooltip("period_start:T", title=_t("chart.period_start", locale), format="%x"),
                alt.Tooltip("channel:N", title=_t("chart.channel", locale)),
                alt.Tooltip("orders_per_customer:Q", title=per_customer, format=",.2f"),
                alt.Tooltip(
                    "active_customers:Q", title=_t("chart.active_customers", locale), format=",d"
                ),
            ],
        )
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ AOV


def aov_by_channel_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, currency: str = "", locale: str = i18n.DEFAULT
) -> alt.Chart:
    """Average order value per period and channel, from :func:`metrics.aov_by_channel`.

    The axis starts at zero and reads in the client's currency, whole amounts.
    """
    frame = _eager(frame).select("period_start", "channel", "orders", "average_order_value")
    aov = f"{_t('chart.aov.axis', locale)} {currency}".strip()
    chart = (
        _chart(frame, title=_t("chart.aov.title", locale))
        .mark_line(point=True)
        .encode(
            x=_period_x(_t("chart.period", locale)),
            y=alt.Y(
                "average_order_value:Q",
                title=aov,
                axis=alt.Axis(format=MONEY_AXIS if currency else ",.0f"),
                scale=alt.Scale(zero=True),
            ),
            color=alt.Color(
                "channel:N",
                title=_t("chart.channel", locale),
                scale=CHANNEL_SCALE,
                legend=_channel_legend(locale),
            ),
            tooltip=[
                alt.Tooltip("period_start:T", title=_t("chart.period_start", locale), format="%x"),
                alt.Tooltip("channel:N", title=_t("chart.channel", locale)),
                alt.Tooltip(
                    "average_order_value:Q", title=aov, format=MONEY_TIP if currency else ",.2f"
                ),
                alt.Tooltip("orders:Q", title=_t("chart.orders", locale), format=",d"),
            ],
        )
    )
    return localized(chart, locale=locale, currency=currency)  # type: ignore[no-any-return]


def aov_change_chart(
    *,
    frame: pl.DataFrame | pl.LazyFrame,
    kind: Literal["shift", "ratio"] = "shift",
    locale: str = i18n.DEFAULT,
) -> alt.Chart:
    """Customers per band of change of an AOV ratio, as percentages (no log axis).

    From :func:`metrics.change_bands` of ``aov_shift_ratio`` (``kind="shift"``:
    each new online customer's AOV after going online against before) or of
    ``aov_ratio`` (``kind="ratio"``: online AOV against offline AOV). The band
    around zero (no clear change) is grey, falls in the offline colour, rises in
    the online colour.
    """
    bands = _eager(frame).select("band", "low", "high", "customers", "share")

    def pct(value: float) -> str:
        return i18n.format_percent(value, locale, 0).replace("\u00a0", "")

    def name(low: float | None, high: float | None) -> str:
        if low is None:
            return f"< {pct(high)}"  # type: ignore[arg-type]
        if high is None:
            return f"≥ {'+' if low > 0 else ''}{pct(low)}"
        plus = "+" if high > 0 else ""
        return f"{pct(low)} … {plus}{pct(high)}"

    labels = [name(lo, hi) for lo, hi in bands.select("low", "high").iter_rows()]
    kinds = [
        "flat"
        if (lo is not None and hi is not None and lo < 0 < hi)
        else ("down" if hi is not None and hi <= 0 else "up")
        for lo, hi in bands.select("low", "high").iter_rows()
    ]
    bands = bands.with_columns(
        pl.Series("change", labels, dtype=pl.String), pl.Series("kind", kinds, dtype=pl.String)
    )
    customers = _t("chart.customers", locale)
    title = alt.Title(
        _t(f"chart.aov_{kind}.title", locale), subtitle=_t(f"chart.aov_{kind}.subtitle", locale)
    )
    chart = (
        _chart(bands, title=title)
        .mark_bar()
        .encode(
            x=alt.X(
                "change:O",
                title=_t("chart.change.axis", locale),
                sort=labels,
                # level on a page, slanted on a phone
                axis=alt.Axis(labelAngle=alt.ExprRef("width < 560 ? -45 : 0")),
            ),
            y=alt.Y("customers:Q", title=customers),
            color=alt.Color(
                "kind:N",
                legend=None,
                scale=alt.Scale(domain=["down", "flat", "up"], range=[OFFLINE, GRID, ONLINE]),
            ),
            tooltip=[
                alt.Tooltip("change:N", title=_t("chart.change.band", locale)),
                alt.Tooltip("customers:Q", title=customers, format=",d"),
                alt.Tooltip("share:Q", title=_t("chart.change.share", locale), format=".1%"),
            ],
        )
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


def customer_aov_scatter_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, currency: str = ""
) -> alt.LayerChart | alt.FacetChart:
    """Per customer buying in both channels: online AOV against offline AOV.

    From :func:`metrics.customer_aov_comparison`; points above the diagonal spend
    more per order online. Both axes are logarithmic.
    """
    frame = (
        _eager(frame)
        .select(
            "customer_id",
            "online_orders",
            "offline_orders",
            "online_aov",
            "offline_aov",
            "aov_ratio",
        )
        .filter((pl.col("online_aov") > 0) & (pl.col("offline_aov") > 0))
    )
    lo = float(min(frame["online_aov"].min() or 1, frame["offline_aov"].min() or 1))  # type: ignore[arg-type]
    hi = float(max(frame["online_aov"].max() or 1, frame["offline_aov"].max() or 1))  # type: ignore[arg-type]
    scale = alt.Scale(type="log", domain=[lo, hi])
    unit = f" ({currency})" if currency else ""
    points = (
        _chart(frame)
        .mark_circle(size=18, opacity=0.5)
        .encode(
            x=alt.X("offline_aov:Q", title=f"Offline AOV{unit}", scale=scale),
            y=alt.Y("online_aov:Q", title=f"Online AOV{unit}", scale=scale),
            tooltip=[
                alt.Tooltip("customer_id:N", title="Customer"),
                alt.Tooltip("online_aov:Q", title="Online AOV", format=",.2f"),
                alt.Tooltip("offline_aov:Q", title="Offline AOV", format=",.2f"),
                alt.Tooltip("aov_ratio:Q", title="Online / offline", format=".2f"),
                alt.Tooltip("online_orders:Q", title="Online orders", format=",d"),
                alt.Tooltip("offline_orders:Q", title="Offline orders", format=",d"),
            ],
        )
    )
    diagonal = (
        _chart(pl.DataFrame({"x": [lo, hi]}))
        .mark_line(color=MUTED, strokeDash=[4, 4], strokeWidth=1)
        .encode(x="x:Q", y="x:Q")
    )
    return alt.layer(
        points,
        diagonal,
        title=alt.Title(
            "Online vs offline AOV per customer", subtitle="Above the line: larger orders online"
        ),
    ).properties(width=360, height=360)


def aov_before_after_chart(
    *, frame: pl.DataFrame | pl.LazyFrame
) -> alt.LayerChart | alt.FacetChart:
    """Distribution of each customer's AOV after / before their first online order.

    From :func:`metrics.aov_shift_histogram`: customers per log2-ratio bin
    (0 = unchanged, 1 = doubled).
    """
    binned = _eager(frame).select("customers", "bin_start", "bin_end", "ratio_from", "ratio_to")
    bars = (
        _chart(binned)
        .mark_bar()
        .encode(
            x=alt.X("bin_start:Q", bin="binned", title="AOV after / before (log2: 0 = unchanged)"),
            x2="bin_end:Q",
            y=alt.Y("customers:Q", title="Customers"),
            tooltip=[
                alt.Tooltip("ratio_from:Q", title="Ratio from", format=".2f"),
                alt.Tooltip("ratio_to:Q", title="Ratio to", format=".2f"),
                alt.Tooltip("customers:Q", title="Customers", format=",d"),
            ],
        )
    )
    zero = (
        _chart(pl.DataFrame({"x": [0.0]})).mark_rule(color=INK, strokeDash=[4, 4]).encode(x="x:Q")
    )
    return alt.layer(bars, zero, title="AOV after going online, relative to before")


def basket_chart(*, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT) -> alt.Chart:
    """Lines (and categories, when known) per order, per period and channel.

    From :func:`metrics.basket_by_channel`: the cross-sell / upsell signal. Both
    axes start at zero.
    """
    frame = _eager(frame).select(
        "period_start", "channel", "orders", "lines_per_order", "categories_per_order"
    )
    keys = ["lines_per_order"]
    if frame.get_column("categories_per_order").null_count() < frame.height:
        keys.append("categories_per_order")
    long = frame.unpivot(
        index=["period_start", "channel", "orders"],
        on=keys,
        variable_name="measure",
        value_name="value",
    ).with_columns(
        pl.col("measure").replace_strict(
            {
                "lines_per_order": _t("chart.basket.lines", locale),
                "categories_per_order": _t("chart.basket.categories", locale),
            }
        )
    )
    chart = (
        _chart(long, title=_t("chart.basket.title", locale))
        .mark_line(point=True)
        .encode(
            x=_period_x(_t("chart.period", locale)),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=True)),
            color=alt.Color(
                "channel:N",
                title=_t("chart.channel", locale),
                scale=CHANNEL_SCALE,
                legend=_channel_legend(locale),
            ),
            row=alt.Row("measure:N", title=None),
            tooltip=[
                alt.Tooltip("period_start:T", title=_t("chart.period_start", locale), format="%x"),
                alt.Tooltip("channel:N", title=_t("chart.channel", locale)),
                alt.Tooltip("measure:N", title=_t("chart.basket.measure", locale)),
                alt.Tooltip("value:Q", title=_t("chart.value", locale), format=",.2f"),
                alt.Tooltip("orders:Q", title=_t("chart.orders", locale), format=",d"),
            ],
        )
        .properties(height=140)
        .resolve_scale(y="independent")
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]


# ------------------------------------------------------------------ what drove the change

#: Waterfall colours: the two revenues, a part that adds and one that takes away.
BRIDGE_SCALE = alt.Scale(
    domain=["total", "increase", "decrease"], range=[palette.MUTED, palette.GOOD, palette.BAD]
)


#: Below this width (a phone) the bridge writes its amounts compact and each step's
#: name one word a line.
NARROW = 560
#: d3 format of the bridge's amounts on a phone: three significant digits and an SI
#: prefix (593k), the axis naming the currency.
BRIDGE_NARROW = ".3~s"


def _bridge_names(locale: str) -> dict[str, str]:
    """The names of the bridge's parts (``part`` of :func:`b2b_analysis.bridge.waterfall`;
    the base and current steps are named by their period)."""
    return {
        "customers": _t("chart.bridge.customers", locale),
        "orders_per_customer": _t("chart.bridge.orders_per_customer", locale),
        "aov": _t("chart.bridge.aov", locale),
    }


def _bridge_title(steps: pl.DataFrame, against: str, locale: str) -> alt.Title:
    labels = dict(steps.select("part", "label").iter_rows())
    # the period in the title, its base in the subtitle: short lines, which a phone's
    # width does not cut (fiscal labels such as "FY2025/26 Q2" are long)
    key = {"previous": "chart.bridge.previous", "year_earlier": "chart.bridge.year_earlier"}
    return alt.Title(
        _t("chart.bridge.title", locale, period=labels["current"]),
        subtitle=_t(key[against], locale, base=labels["base"]),
    )


def revenue_bridge_chart(
    *,
    bridge: pl.DataFrame | pl.LazyFrame,
    against: Literal["previous", "year_earlier"] = "previous",
    currency: str = "",
    locale: str = i18n.DEFAULT,
) -> alt.Chart | alt.LayerChart:
    """Waterfall of one comparison of the revenue bridge (``against``: the period
    before or the same period a year earlier): the base period's net revenue, the
    customers, orders per customer and AOV parts of the change, the period's net
    revenue, each bar labelled with its amount in the client's currency (whole amounts;
    a part with its sign, above a rise and below a fall).

    From :func:`b2b_analysis.bridge.waterfall` (each step's ``bar_start`` and
    ``bar_end``). The chart takes the page's width. Without that comparison the chart
    is empty and its title says so (:meth:`b2b_analysis.analysis.Analysis.revenue_bridge_view`
    shows a sentence instead).
    """
    steps = (
        _eager(bridge)
        .filter(pl.col("against") == against)
        .select("step", "part", "label", "kind", "amount", "bar_start", "bar_end")
        .sort("step")
    )
    if steps.is_empty():
        return _chart(steps, title=_t("chart.bridge.empty", locale)).mark_bar()
    names = _bridge_names(locale)
    steps = steps.with_columns(
        pl.col("part").replace_strict(names, default=pl.col("label")).alias("label"),
        pl.max_horizontal("bar_start", "bar_end").alias("top"),
        pl.min_horizontal("bar_start", "bar_end").alias("bottom"),
    )
    order = steps.get_column("label").to_list()
    # room above the highest bar for its label
    headroom = 1.12 * max(1.0, float(steps.get_column("top").max()))  # type: ignore[arg-type]
    step_title = _t("chart.bridge.step", locale)
    amount = f"{_t('chart.bridge.amount', locale)} {currency}".strip()
    # the container's width, not the plot's: the plot's width shrinks as the labels grow,
    # and labels that change with it could resize the chart in a loop; 0 (no container:
    # a static render) counts as wide
    narrow = f"(containerSize()[0] || {NARROW}) < {NARROW}"
    wide = MONEY_AXIS if currency else ",.0f"
    base = _chart(steps).encode(
        x=alt.X(
            "label:N",
            sort=order,
            title=None,
            # one line on a page, one word a line on a phone
            axis=alt.Axis(
                labelAngle=0,
                labelExpr=f"{narrow} ? split(datum.label, ' ') : datum.label",
                labelFontSize=alt.ExprRef(f"{narrow} ? 10 : 11"),
                labelLimit=240,
            ),
        )
    )
    # the chart's title names the net revenue: no axis title (room for the bars on a phone)
    y_labels = (
        f"{narrow} ? format(datum.value, '{'$' if currency else ''}{BRIDGE_NARROW}') : datum.label"
    )
    bars = base.mark_bar(width=alt.RelativeBandSize(0.6)).encode(
        y=alt.Y(
            "bar_start:Q",
            title=None,
            axis=alt.Axis(format=wide, labelExpr=y_labels),
            scale=alt.Scale(zero=True, domainMax=headroom, nice=True),
        ),
        y2="bar_end:Q",
        color=alt.Color("kind:N", legend=None, scale=BRIDGE_SCALE),
        tooltip=[
            alt.Tooltip("label:N", title=step_title),
            alt.Tooltip("amount:Q", title=amount, format=MONEY_TIP if currency else ",.2f"),
        ],
    )
    # each amount: whole amounts in the currency on a page, compact on a phone (the axis
    # names the currency there); a part with its sign
    sign = "(datum.kind == 'total' || datum.amount < 0 ? '' : '+')"
    written = f"{sign} + format(datum.amount, {narrow} ? '{BRIDGE_NARROW}' : '{wide}')"
    labelled = base.transform_calculate(written=written)
    text: dict[str, Any] = {"color": INK, "fontSize": alt.ExprRef(f"{narrow} ? 10 : 12")}
    totals = (
        labelled.transform_filter("datum.kind == 'total'")
        .mark_text(baseline="bottom", dy=-4, fontWeight=600, **text)
        .encode(y="top:Q", text="written:N")
    )
    rises = (
        labelled.transform_filter("datum.kind == 'increase'")
        .mark_text(baseline="bottom", dy=-4, **text)
        .encode(y="top:Q", text="written:N")
    )
    falls = (
        labelled.transform_filter("datum.kind == 'decrease'")
        .mark_text(baseline="top", dy=4, **text)
        .encode(y="bottom:Q", text="written:N")
    )
    chart = alt.layer(
        bars, totals, rises, falls, title=_bridge_title(steps, against, locale)
    ).properties(height=260)
    return localized(chart, locale=locale, currency=currency)  # type: ignore[no-any-return]


def sales_effort_chart(
    *, frame: pl.DataFrame | pl.LazyFrame, locale: str = i18n.DEFAULT
) -> alt.Chart:
    """Hours of sales effort freed per period, the small orders' part drawn darker in
    front of all orders' bar; a partial period (the window cuts it) is pale.

    From the drivers' effort frame (:func:`b2b_analysis.bridge.sales_effort`, as
    :meth:`b2b_analysis.analysis.Analysis.sales_effort` selects it). Without a
    small-order threshold (``small_order_hours`` all null) only all orders are drawn.
    """
    effort = _eager(frame).select(
        "period_label",
        "is_partial",
        "orders_moved_online",
        "hours",
        "small_orders_moved_online",
        "small_order_hours",
    )
    measures: list[Any] = ["hours"]
    if effort.get_column("small_order_hours").null_count() < effort.height:
        measures.append("small_order_hours")
    names = {
        "hours": _t("chart.effort.all", locale),
        "small_order_hours": _t("chart.effort.small", locale),
    }
    expr = ", ".join(
        f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in names.items()
    )
    hours = _t("chart.effort.axis", locale)
    title: str | alt.Title = _t("chart.effort.title", locale)
    if effort.get_column("is_partial").any():
        title = alt.Title(title, subtitle=_t("chart.effort.subtitle", locale))
    chart = (
        _chart(effort, title=title)
        .transform_fold(measures, as_=["measure", "value"])
        .mark_bar()
        .encode(
            x=_period_band(_t("chart.period", locale)),
            y=alt.Y("value:Q", title=hours, stack=None, scale=alt.Scale(zero=True)),
            color=alt.Color(
                "measure:N",
                title=None,
                sort=measures,
                scale=alt.Scale(domain=measures, range=[palette.HYBRID, ONLINE][: len(measures)]),
                legend=alt.Legend(labelExpr=f"{{{expr}}}[datum.label] || datum.label"),
            ),
            order=alt.Order("measure:N", sort="ascending"),
            opacity=alt.condition(alt.datum.is_partial, alt.value(0.45), alt.value(1.0)),
            tooltip=[
                alt.Tooltip("period_label:N", title=_t("chart.period", locale)),
                alt.Tooltip("hours:Q", title=hours, format=",.1f"),
                alt.Tooltip(
                    "orders_moved_online:Q", title=_t("chart.effort.orders", locale), format=",.1f"
                ),
                alt.Tooltip(
                    "small_order_hours:Q",
                    title=_t("chart.effort.small_hours", locale),
                    format=",.1f",
                ),
                alt.Tooltip(
                    "small_orders_moved_online:Q",
                    title=_t("chart.effort.small_orders", locale),
                    format=",.1f",
                ),
            ],
        )
    )
    return localized(chart, locale=locale)  # type: ignore[no-any-return]
