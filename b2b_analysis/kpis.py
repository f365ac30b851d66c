"""The headline KPIs of one client and their per-period series.

:func:`compute_kpis` is what the ``kpis`` command, the notebooks and the reports
call. It computes the window's headline figures and the per-period series with
the same aggregation code (the window is one group; the series groups by
period), so the two can never disagree on a definition.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from b2b_analysis import metrics as m
from b2b_analysis.config import Period
from b2b_analysis.errors import InputError
from b2b_analysis.io import ClientData
from b2b_analysis.periods import Calendar

Unit = Literal["count", "money", "rate", "score", "days"]


@dataclass(frozen=True)
class KpiInfo:
    label: str
    unit: Unit
    definition: str


#: Every headline KPI, in display order. The ``kpis`` JSON has exactly these keys.
KPIS: dict[str, KpiInfo] = {
    "customers": KpiInfo("Customers", "count", "distinct customers with an order that counts"),
    "orders": KpiInfo("Orders", "count", "orders neither cancelled nor returned"),
    "customer_retention_rate": KpiInfo(
        "Customer retention rate", "rate", "customers with 2+ orders / customers with 1+"
    ),
    "average_order_value": KpiInfo("Average order value", "money", "net revenue / orders"),
    "conversion_rate": KpiInfo("Conversion rate", "rate", "online orders / website visits"),
    "visitor_conversion_rate": KpiInfo(
        "Visitor conversion rate", "rate", "identified visitors who ordered online / visitors"
    ),
    "gross_merchandise_value": KpiInfo(
        "Gross merchandise value", "money", "value of all orders placed, incl. cancelled"
    ),
    "net_revenue": KpiInfo("Net revenue", "money", "value of orders that count"),
    "investment": KpiInfo("Investment", "money", "online channel investment in the window"),
    "online_gross_profit": KpiInfo(
        "Online gross profit", "money", "online revenue - cost (or x gross margin)"
    ),
    "roi": KpiInfo("ROI", "rate", "(online gross profit - investment) / investment"),
    "returning_visit_share": KpiInfo(
        "Returning-visit share", "rate", "visits by customers who visited before / visits"
    ),
    "csat": KpiInfo("CSAT", "rate", "csat answers scoring 4-5 / csat answers"),
    "nps": KpiInfo("NPS", "score", "% promoters (9-10) - % detractors (0-6)"),
    "online_order_share": KpiInfo("Online order share", "rate", "online orders / all orders"),
    "small_order_online_share": KpiInfo(
        "Small orders placed online", "rate", "online small orders / small orders"
    ),
    "online_average_order_value": KpiInfo("Online AOV", "money", "AOV of online orders"),
    "offline_average_order_value": KpiInfo("Offline AOV", "money", "AOV of offline orders"),
    "online_retention_rate": KpiInfo(
        "Online retention rate",
        "rate",
        "new online customers who order online again / new online customers",
    ),
    "reverted_to_offline_share": KpiInfo(
        "Reverted to offline",
        "rate",
        "new online customers whose later orders are all offline / those with later orders",
    ),
    "median_days_to_revert": KpiInfo(
        "Median days to revert", "days", "first online order to first later offline order"
    ),
    "median_aov_shift": KpiInfo(
        "Median AOV shift after going online",
        "money",
        "per customer: AOV from first online order on - AOV before",
    ),
    "median_online_offline_aov_ratio": KpiInfo(
        "Median online/offline AOV ratio",
        "rate",
        "per customer buying in both channels: online AOV / offline AOV",
    ),
}

#: KPIs of the per-period series (each also gets ``<name>_change`` against the previous
#: period). ``period_retention_rate`` is the share of t-1's customers ordering in t.
SERIES_KPIS: tuple[str, ...] = (
    "customers",
    "orders",
    "customer_retention_rate",
    "period_retention_rate",
    "average_order_value",
    "conversion_rate",
    "gross_merchandise_value",
    "net_revenue",
    "investment",
    "online_gross_profit",
    "roi",
    "returning_visit_share",
    "csat",
    "nps",
    "online_order_share",
    "small_order_online_share",
    "online_average_order_value",
    "offline_average_order_value",
    "online_retention_rate",
    "reverted_to_offline_share",
)


@dataclass
class KpiReport:
    """The KPIs of one client over one window, with the reason for each null."""

    client: str
    slug: str
    currency: str
    start: dt.date
    end: dt.date
    period: Period
    fiscal_year_start: int
    small_order_threshold: float | None
    kpis: dict[str, float | int | None]
    notes: dict[str, str]
    series: pl.DataFrame
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def calendar(self) -> Calendar:
        """The series' :class:`~b2b_analysis.periods.Calendar` (period and fiscal year start)."""
        return Calendar(self.period, self.fiscal_year_start)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (see ``docs/kpis-json.md``); deterministic."""
        rows = [
            {k: _json_value(v) for k, v in row.items()} for row in self.series.iter_rows(named=True)
        ]
        return {
            "client": self.client,
            "slug": self.slug,
            "currency": self.currency,
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "period": self.period,
            "small_order_threshold": _json_value(self.small_order_threshold),
            "kpis": {k: _json_value(self.kpis.get(k)) for k in KPIS},
            "notes": dict(sorted(self.notes.items())),
            "series": {"period": self.period, "columns": list(self.series.columns), "rows": rows},
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        # 10 significant digits: stable across summation orders, exact for the examples
        return float(f"{value:.10g}")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------ computation


def _order_aggs(threshold: float | None, profit: pl.Expr | None) -> list[pl.Expr]:
    aggs = [
        m.customers(),
        m.order_count(),
        m.customer_retention_rate(),
        m.average_order_value(),
        m.gross_merchandise_value(),
        m.net_revenue(),
        m.online_order_share(),
        m.online_average_order_value(),
        m.offline_average_order_value(),
        (pl.col("is_online") & pl.col("is_valid")).sum().cast(pl.Int64).alias("_online_orders"),
    ]
    if threshold is not None:
        aggs.append(m.small_order_online_share(threshold))
    else:
        aggs.append(pl.lit(None, pl.Float64).alias("small_order_online_share"))
    if profit is not None:
        keep = pl.col("is_online") & pl.col("is_valid")
        aggs.append(profit.filter(keep).sum().alias("online_gross_profit"))
    else:
        aggs.append(pl.lit(None, pl.Float64).alias("online_gross_profit"))
    return aggs


def _profit_expr(data: ClientData[Any], notes: dict[str, str]) -> pl.Expr | None:
    margin = data.params.gross_margin
    has_cost = "cost" in data.orders.collect_schema()
    if has_cost:
        missing = (
            data.orders.lazy()
            .select(pl.col("cost").null_count())
            .collect(engine=data.engine)
            .item()
        )
        profit = pl.col("revenue") - pl.col("cost")
        if missing and margin is None:
            notes["roi"] = (
                f"{missing} orders have no cost and the params set no gross_margin to estimate it"
            )
            return None
        if missing:
            profit = profit.fill_null(pl.col("revenue") * margin)
        return profit
    if margin is not None:
        return pl.col("revenue") * margin
    notes["roi"] = "orders have no cost column and the params set no gross_margin"
    return None


def _grouped(frame: pl.LazyFrame, by: pl.Expr, aggs: list[pl.Expr]) -> pl.LazyFrame:
    return frame.with_columns(by.alias("period")).group_by("period").agg(aggs)


def compute_kpis(
    data: ClientData[Any],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    period: Period | None = None,
) -> KpiReport:
    """Compute every headline KPI and the per-period series for one client.

    Parameters
    ----------
    data
        The client's loaded tables (:func:`b2b_analysis.io.load_client`). Tables
        loaded with ``streaming=True`` are computed on polars' streaming engine.
    start, end
        The analysis window (inclusive); defaults come from the params file, then
        from the range of the orders.
    period
        Period of the series; defaults to the params file's ``period``.
    """
    params = data.params
    period = period or params.period
    calendar = Calendar(period, params.fiscal_year_start)
    lo, hi = data.window(start, end)
    notes: dict[str, str] = {}
    in_window = pl.col("order_date").is_between(lo, hi)
    all_orders = data.orders.lazy()
    orders = all_orders.filter(in_window)
    engine = data.engine
    if orders.filter(pl.col("is_valid")).select(pl.len()).collect(engine=engine).item() == 0:
        first, last = (
            all_orders.select(pl.col("order_date").min(), pl.col("order_date").max().alias("last"))
            .collect(engine=engine)
            .row(0)
        )
        raise InputError(
            f"no orders that count between {lo} and {hi}; the orders run from {first} "
            f"to {last}: choose a window inside that range",
            file=data.sources.get("orders"),
        )
    by_period = calendar.key("order_date")
    window_key = pl.lit(0, dtype=pl.Int32)

    threshold = params.small_order_threshold
    if threshold is None:
        threshold = (
            orders.filter(pl.col("is_valid"))
            .select(pl.col("revenue").median())
            .collect(engine=engine)
            .item()
        )
    profit = _profit_expr(data, notes)
    order_aggs = _order_aggs(threshold, profit)

    def both(frame: pl.LazyFrame, key: pl.Expr, aggs: list[pl.Expr]) -> list[pl.LazyFrame]:
        # the window is one group: a select is several times faster than a group-by on a
        # constant key (and gives one row of empty aggregates when nothing is in the window)
        return [frame.select(window_key.alias("period"), *aggs), _grouped(frame, key, aggs)]

    plans: dict[str, list[pl.LazyFrame]] = {"orders": both(orders, by_period, order_aggs)}

    if data.visits is not None:
        visits = m.flag_returning_visits(data.visits.lazy()).filter(
            pl.col("visit_date").is_between(lo, hi)
        )
        visit_aggs = [pl.len().cast(pl.Int64).alias("_visits"), m.returning_visit_share()]
        plans["visits"] = both(visits, calendar.key("visit_date"), visit_aggs)
        plans["visitors"] = [
            m.visitor_conversion_rate(data.visits.lazy(), all_orders, start=lo, end=hi)
        ]
    if data.surveys is not None:
        surveys = data.surveys.lazy().filter(pl.col("response_date").is_between(lo, hi))
        plans["surveys"] = both(
            surveys,
            calendar.key("response_date"),
            [m.csat(), m.nps()],
        )
    if data.investments is not None:
        investments = data.investments.lazy().filter(pl.col("date").is_between(lo, hi))
        plans["investments"] = both(
            investments,
            calendar.key("date"),
            [pl.col("amount").sum().alias("investment")],
        )

    adoption = m.online_adoption(all_orders, start=lo, end=hi)
    adoption_aggs = [m.online_retention_rate(), m.reverted_to_offline_share()]
    plans["adoption"] = both(adoption, calendar.key("first_online_date"), adoption_aggs)
    plans["revert_days"] = [
        adoption.select(pl.col("days_to_revert").median().alias("median_days_to_revert"))
    ]
    plans["aov_shift"] = [
        m.aov_before_after_online(all_orders, start=lo, end=hi).select(
            pl.col("aov_shift").median().alias("median_aov_shift")
        )
    ]
    plans["aov_ratio"] = [
        m.customer_aov_comparison(all_orders, start=lo, end=hi).select(
            pl.col("aov_ratio").median().alias("median_online_offline_aov_ratio")
        )
    ]
    plans["retention"] = [m.period_retention(all_orders, calendar=calendar, start=lo, end=hi)]

    names = list(plans)
    flat = [lf for name in names for lf in plans[name]]
    collected = pl.collect_all(flat, engine=engine)
    results: dict[str, list[pl.DataFrame]] = {}
    position = 0
    for name in names:
        results[name] = collected[position : position + len(plans[name])]
        position += len(plans[name])

    headline: dict[str, Any] = {}
    for name in ("orders", "visits", "surveys", "investments", "adoption"):
        if name in results and results[name][0].height:
            headline.update(results[name][0].drop("period").row(0, named=True))
    for name in ("visitors", "revert_days", "aov_shift", "aov_ratio"):
        if name in results:
            headline.update(results[name][0].row(0, named=True))

    online_orders = headline.get("_online_orders")
    visits_n = headline.get("_visits")
    headline["conversion_rate"] = (
        online_orders / visits_n if visits_n and online_orders is not None else None
    )
    if data.investments is not None and headline.get("investment") is None:
        headline["investment"] = 0.0  # a table with no rows in the window: nothing invested
    headline["roi"] = _roi(headline.get("online_gross_profit"), headline.get("investment"))

    series = _series(results, lo, hi, calendar, profit is not None)
    kpis = {key: headline.get(key) for key in KPIS}
    notes.update(_null_reasons(data, kpis, notes, visits_n))
    return KpiReport(
        client=params.client,
        slug=params.client_slug,
        currency=params.currency,
        start=lo,
        end=hi,
        period=period,
        fiscal_year_start=calendar.fiscal_year_start,
        small_order_threshold=threshold,
        kpis=kpis,
        notes=notes,
        series=series,
        sources=data.sources,
    )


def _roi(profit: float | None, investment: float | None) -> float | None:
    if profit is None or not investment:
        return None
    return (profit - investment) / investment


def _series(
    results: dict[str, list[pl.DataFrame]],
    lo: dt.date,
    hi: dt.date,
    calendar: Calendar,
    has_profit: bool,
) -> pl.DataFrame:
    # one row per period of the window, from metrics.period_retention
    frame = results["retention"][0]
    for name in ("orders", "visits", "surveys", "investments", "adoption"):
        if name in results:
            frame = frame.join(results[name][1], on="period", how="left")
    # a period without orders (or visits) has sums of 0, not null
    zero = ["gross_merchandise_value", "net_revenue", "_online_orders"]
    zero += ["online_gross_profit"] if has_profit else []
    zero += ["_visits"] if "_visits" in frame.columns else []
    frame = frame.with_columns(pl.col(zero).fill_null(0))
    frame = frame.with_columns(
        m.conversion_rate(pl.col("_online_orders"), pl.col("_visits"))
        if "_visits" in frame.columns
        else pl.lit(None, pl.Float64).alias("conversion_rate"),
    )
    if "investment" in frame.columns:
        frame = frame.with_columns(
            pl.col("investment").fill_null(0.0),
        ).with_columns(m.roi(pl.col("online_gross_profit"), pl.col("investment")))
    for key in SERIES_KPIS:
        if key not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(key))
    frame = frame.with_columns(pl.col("customers", "orders").fill_null(0))
    labels = calendar.periods(lo, hi).select("period", "period_label", "is_partial")
    ordered = ["period", "period_start", "period_label", "is_partial", *SERIES_KPIS]
    out = (
        frame.join(labels.collect(), on="period", how="left")
        .select(*ordered, "customers_start", "retained_customers", "new_customers", "crr_formula")
        .sort("period")
        .with_columns((pl.col(k) - pl.col(k).shift(1)).alias(f"{k}_change") for k in SERIES_KPIS)
    )
    return out


def _null_reasons(
    data: ClientData[Any], kpis: dict[str, Any], notes: dict[str, str], visits: int | None
) -> dict[str, str]:
    reasons: dict[str, str] = {}

    def why(key: str, text: str) -> None:
        if kpis.get(key) is None and key not in notes:
            reasons[key] = text

    if data.visits is None:
        for key in ("conversion_rate", "visitor_conversion_rate", "returning_visit_share"):
            why(key, "no visits table in the params file")
    else:
        for key in ("conversion_rate", "returning_visit_share"):
            why(key, "no visits in the window")
        why("visitor_conversion_rate", "no identified visitors in the window")
    if data.surveys is None:
        why("csat", "no surveys table in the params file")
        why("nps", "no surveys table in the params file")
    else:
        why("csat", "no csat answers in the window")
        why("nps", "no nps answers in the window")
    if data.investments is None:
        why("investment", "no investments table in the params file")
        why("roi", "no investments table in the params file")
    else:
        why("roi", "no investment in the window")
    why("online_gross_profit", notes.get("roi", "no online orders in the window"))
    why("online_average_order_value", "no online orders in the window")
    why("offline_average_order_value", "no offline orders in the window")
    why("online_retention_rate", "no customer placed a first online order in the window")
    why(
        "reverted_to_offline_share",
        "no customer with a first online order in the window ordered again later",
    )
    why("median_days_to_revert", "no customer reverted to offline in the window")
    why(
        "median_aov_shift",
        "no customer has orders both before and after a first online order in the window",
    )
    why("median_online_offline_aov_ratio", "no customer ordered in both channels in the window")
    why("small_order_online_share", "no small orders in the window")
    why("customer_retention_rate", "no orders in the window")
    why("average_order_value", "no orders in the window")
    why("online_order_share", "no orders in the window")
    return reasons
