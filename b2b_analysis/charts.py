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
from collections.abc import Iterator, Sequence
from typing import Any

from b2b_analysis.quickimport import import_jsonschema

import_jsonschema()  # before altair imports it

import altair as alt  # noqa: E402
import polars as pl  # noqa: E402

from b2b_analysis import palette  # noqa: E402
from b2b_analysis.registry import REGISTRY  # noqa: E402

__all__ = [
    "THEME",
    "aov_before_after_chart",
    "aov_by_channel_chart",
    "basket_chart",
    "channel_states_chart",
    "cohort_heatmap_chart",
    "customer_aov_scatter_chart",
    "kpi_trend_chart",
    "online_share_chart",
    "orders_per_customer_chart",
    "retention_curves_chart",
    "returning_visits_chart",
    "reverted_customers_chart",
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


def _label(key: str) -> str:
    info = REGISTRY.get(key)
    if info is not None:
        return info.label
    return key.replace("_", " ").capitalize()


def _period_x(title: str = "Period") -> alt.X:
    return alt.X("period_start:T", title=title)


# ------------------------------------------------------------------ KPI trends


def kpi_trend_chart(
    *,
    series: pl.DataFrame,
    kpis: Sequence[str],
    title: str = "KPI trends",
    currency: str = "",
) -> alt.Chart:
    """One small line chart per KPI (rows share the period axis, own y scales).

    ``series`` is :attr:`KpiReport.series`; partial periods (the window cuts them)
    are drawn as hollow points and named in the tooltip. KPIs absent from the
    series or all null are left out.
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
            pl.col("kpi").replace_strict({k: _label(k) for k in keys}).alias("kpi"),
            pl.col("kpi")
            .replace_strict({k: REGISTRY[k].unit if k in REGISTRY else "rate" for k in keys})
            .alias("unit"),
            pl.when(pl.col("is_partial"))
            .then(pl.lit("partial period"))
            .otherwise(pl.lit("complete"))
            .alias("completeness"),
        )
        .drop("is_partial")
    )
    units = set(long.get_column("unit").unique().to_list())
    units_all = set(units)
    fmt = _fmt(units.pop()) if len(units) == 1 else ",.3~g"
    axis_fmt = ".0%" if fmt == ".1%" else fmt
    base = _chart(long, title=title).encode(
        x=_period_x(),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format=axis_fmt)),
        tooltip=[
            alt.Tooltip("kpi:N", title="KPI"),
            alt.Tooltip("period_label:N", title="Period"),
            alt.Tooltip(
                "value:Q",
                title=f"Value {currency}".strip() if "money" in units_all else "Value",
                format=fmt,
            ),
            alt.Tooltip("completeness:N", title="Period"),
        ],
    )
    chart = (
        base.mark_line(point=alt.OverlayMarkDef(filled=True, size=30))
        .encode(
            row=alt.Row("kpi:N", sort=[_label(k) for k in keys], title=None),
        )
        .properties(height=120)
        .resolve_scale(y="independent")
    )
    return chart


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


def channel_states_chart(*, frame: pl.DataFrame | pl.LazyFrame) -> alt.Chart:
    """Customers per channel state and period (stacked).

    From :func:`metrics.channel_state_counts`: one row per bar segment.
    """
    counts = _eager(frame).select("state", "customers", "period_start", "period_label", "share")
    return (
        _chart(counts, title="Customers by channel state")
        .mark_bar()
        .encode(
            x=_period_x(),
            y=alt.Y("customers:Q", title="Customers", stack="zero"),
            color=alt.Color("state:N", title="State", scale=STATE_SCALE),
            order=alt.Order("state:N"),
            tooltip=[
                alt.Tooltip("period_label:N", title="Period"),
                alt.Tooltip("state:N", title="State"),
                alt.Tooltip("customers:Q", title="Customers", format=",d"),
                alt.Tooltip("share:Q", title="Share of period", format=".1%"),
            ],
        )
    )


def reverted_customers_chart(*, frame: pl.DataFrame | pl.LazyFrame) -> alt.Chart:
    """New online customers per month of first online order, by what they did next.

    From :func:`metrics.adoption_outcomes`: ``retained online`` (ordered online
    again), ``reverted to offline`` (later orders all offline) or ``no later order``.
    """
    frame = _eager(frame).select("month", "outcome", "customers", "median_days_to_revert", "share")
    return (
        _chart(frame, title="New online customers: what they did next")
        .mark_bar()
        .encode(
            x=alt.X("month:T", title="Month of first online order"),
            y=alt.Y("customers:Q", title="Customers", stack="zero"),
            color=alt.Color(
                "outcome:N",
                title="Outcome",
                scale=alt.Scale(
                    domain=["retained online", "reverted to offline", "no later order"],
                    range=[ONLINE, palette.REVERTED, GRID],
                ),
            ),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%Y-%m"),
                alt.Tooltip("outcome:N", title="Outcome"),
                alt.Tooltip("customers:Q", title="Customers", format=",d"),
                alt.Tooltip("share:Q", title="Share of month", format=".1%"),
                alt.Tooltip(
                    "median_days_to_revert:Q", title="Median days to revert", format=",.0f"
                ),
            ],
        )
    )


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
    series: pl.DataFrame, keys: Sequence[str], title: str, y_title: str | None = None
) -> alt.Chart:
    long = (
        series.select("period_start", "period_label", *keys)
        .unpivot(
            index=["period_start", "period_label"],
            on=list(keys),
            variable_name="kpi",
            value_name="value",
        )
        .with_columns(pl.col("kpi").replace_strict({k: _label(k) for k in keys}))
    )
    return (
        _chart(long, title=title)
        .mark_line(point=True)
        .encode(
            x=_period_x(),
            y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=".0%")),
            color=alt.Color("kpi:N", title=None, sort=[_label(k) for k in keys]),
            tooltip=[
                alt.Tooltip("period_label:N", title="Period"),
                alt.Tooltip("kpi:N", title="KPI"),
                alt.Tooltip("value:Q", title="Value", format=".1%"),
            ],
        )
    )


def online_share_chart(*, series: pl.DataFrame) -> alt.Chart:
    """Online order share per period (from :attr:`KpiReport.series`)."""
    return _rate_lines(series, ["online_order_share"], "Share of orders placed online")


def small_orders_chart(
    *, series: pl.DataFrame, threshold: float | None = None, currency: str = ""
) -> alt.Chart:
    """Share of small orders placed online, against the online share of all orders."""
    subtitle = (
        f"Small: below {threshold:,.2f} {currency}".strip() if threshold is not None else None
    )
    chart = _rate_lines(
        series, ["small_order_online_share", "online_order_share"], "Small orders placed online"
    )
    if subtitle:
        chart = chart.properties(title=alt.Title("Small orders placed online", subtitle=subtitle))
    return chart


def returning_visits_chart(*, series: pl.DataFrame) -> alt.Chart:
    """Returning-visit share and conversion rate per period."""
    return _rate_lines(
        series, ["returning_visit_share", "conversion_rate"], "Returning visits and conversion"
    )


def orders_per_customer_chart(*, frame: pl.DataFrame | pl.LazyFrame) -> alt.Chart:
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
    return (
        _chart(frame, title="Orders per active customer, by channel")
        .mark_area(opacity=0.85)
        .encode(
            x=_period_x(),
            y=alt.Y("orders_per_customer:Q", title="Orders per customer", stack="zero"),
            color=alt.Color("channel:N", title="Channel", scale=CHANNEL_SCALE),
            order=alt.Order("channel:N", sort="descending"),
            tooltip=[
                alt.Tooltip("period_start:T", title="Period start", format="%Y-%m-%d"),
                alt.Tooltip("channel:N", title="Channel"),
                alt.Tooltip("orders_per_customer:Q", title="Orders per customer", format=",.2f"),
                alt.Tooltip("active_customers:Q", title="Active customers", format=",d"),
            ],
        )
    )


# ------------------------------------------------------------------ AOV


def aov_by_channel_chart(*, frame: pl.DataFrame | pl.LazyFrame, currency: str = "") -> alt.Chart:
    """Average order value per period and channel, from :func:`metrics.aov_by_channel`."""
    frame = _eager(frame).select("period_start", "channel", "orders", "average_order_value")
    return (
        _chart(frame, title="Average order value by channel")
        .mark_line(point=True)
        .encode(
            x=_period_x(),
            y=alt.Y(
                "average_order_value:Q",
                title=f"AOV {currency}".strip(),
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.Color("channel:N", title="Channel", scale=CHANNEL_SCALE),
            tooltip=[
                alt.Tooltip("period_start:T", title="Period start", format="%Y-%m-%d"),
                alt.Tooltip("channel:N", title="Channel"),
                alt.Tooltip(
                    "average_order_value:Q", title=f"AOV {currency}".strip(), format=",.2f"
                ),
                alt.Tooltip("orders:Q", title="Orders", format=",d"),
            ],
        )
    )


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


def basket_chart(*, frame: pl.DataFrame | pl.LazyFrame) -> alt.Chart:
    """Lines (and categories, when known) per order, per period and channel.

    From :func:`metrics.basket_by_channel`: the cross-sell / upsell signal.
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
            {"lines_per_order": "Lines per order", "categories_per_order": "Categories per order"}
        )
    )
    return (
        _chart(long, title="Basket size by channel")
        .mark_line(point=True)
        .encode(
            x=_period_x(),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color("channel:N", title="Channel", scale=CHANNEL_SCALE),
            row=alt.Row("measure:N", title=None),
            tooltip=[
                alt.Tooltip("period_start:T", title="Period start", format="%Y-%m-%d"),
                alt.Tooltip("channel:N", title="Channel"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("value:Q", title="Value", format=",.2f"),
                alt.Tooltip("orders:Q", title="Orders", format=",d"),
            ],
        )
        .properties(height=140)
        .resolve_scale(y="independent")
    )
