"""The headline KPIs of one client and their per-period series.

:func:`compute_kpis` is what the ``kpis`` command, the notebooks and the reports
call. It computes the window's headline figures and the per-period series with
the same aggregation code (the window is one group; the series groups by
period), so the two can never disagree on a definition. Each KPI with an interval
in the registry also gets its ``n`` and 95 % bounds: a proportion from its
successes and trials (``_<key>_k``, ``<key>_n``) aggregated with it, through one
Wilson expression for the headline row and the series alike; a mean or median by
a seeded bootstrap of its collected values (:mod:`b2b_analysis.stats`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from b2b_analysis import accounts as acc
from b2b_analysis import i18n
from b2b_analysis import metrics as m
from b2b_analysis import trends as tr
from b2b_analysis.bridge import Drivers, drivers
from b2b_analysis.config import ClientParams, Period
from b2b_analysis.errors import InputError
from b2b_analysis.findings import findings
from b2b_analysis.io import ClientData, Engine
from b2b_analysis.periods import Calendar
from b2b_analysis.registry import (
    INTERVAL_KPIS,
    KPIS,
    MATURITY_KPIS,
    REGISTRY,
    SERIES_INTERVALS,
    SERIES_KPIS,
    null_reasons,
)
from b2b_analysis.stats import Statistic, bootstrap_interval, wilson_interval

if TYPE_CHECKING:
    import numpy as np


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
    #: each headline KPI with an interval (:data:`~b2b_analysis.registry.INTERVAL_KPIS`):
    #: ``{"n": ..., "low": ..., "high": ...}``
    intervals: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    #: what drove the change: the revenue bridge and the sales effort freed (bridge.py)
    drivers: Drivers | None = None
    #: right-censoring (:func:`b2b_analysis.trends.maturity_document`)
    maturity: dict[str, Any] = field(default_factory=dict)
    #: each series KPI's last complete, mature period against the one before and a year
    #: earlier (:func:`b2b_analysis.trends.compare`)
    trends: dict[str, Any] = field(default_factory=dict)
    #: the account lists (:mod:`b2b_analysis.accounts`), by name, sorted by revenue at stake
    account_lists: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        """Per account list: ``count``, ``revenue_at_stake``, ``top`` (and ``median_days``
        for ``reverted``); see :func:`b2b_analysis.accounts.summary`."""
        return acc.summary(self.account_lists)

    #: how numbers, amounts and dates are written, and the report's language (params ``locale``)
    locale: str = "en-US"

    @property
    def calendar(self) -> Calendar:
        """The series' :class:`~b2b_analysis.periods.Calendar` (period and fiscal year start)."""
        return Calendar(self.period, self.fiscal_year_start)

    @property
    def maturity_rule(self) -> tr.MaturityRule:
        """The follow-up rule behind :attr:`maturity` (:func:`b2b_analysis.trends.rule_of`)."""
        return tr.rule_of(self.maturity)

    @property
    def window_notes(self) -> dict[str, str]:
        """The notes on rows left outside the window, by table (see :func:`window_notes`)."""
        return {name: self.notes[name] for name in OUTSIDE_WINDOW if name in self.notes}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (see ``docs/kpis.md``, the JSON section); deterministic."""
        rows = [
            {k: _json_value(v) for k, v in row.items()} for row in self.series.iter_rows(named=True)
        ]
        doc: dict[str, Any] = {
            "client": self.client,
            "slug": self.slug,
            "currency": self.currency,
            "locale": self.locale,
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "period": self.period,
            "small_order_threshold": _json_value(self.small_order_threshold),
            "kpis": {k: _json_value(self.kpis.get(k)) for k in KPIS},
            "intervals": {
                k: {part: _json_value(v) for part, v in self.intervals[k].items()}
                for k in INTERVAL_KPIS
                if k in self.intervals
            },
            "maturity": _json_tree(self.maturity),
            "trends": _json_tree(self.trends),
            "accounts": {
                name: {k: _json_tree(v) for k, v in entry.items()}
                for name, entry in self.accounts.items()
            },
            "notes": dict(sorted(self.notes.items())),
            "series": {"period": self.period, "columns": list(self.series.columns), "rows": rows},
            **_json_tree(self.drivers.to_dict() if self.drivers is not None else _NO_DRIVERS),
        }
        doc["findings"] = findings(doc)
        return doc


#: ``bridge`` and ``sales_effort`` of a report built without them
_NO_DRIVERS: dict[str, Any] = {
    "bridge": {"previous": None, "year_earlier": None},
    "sales_effort": None,
}


def _json_tree(value: Any) -> Any:
    """:func:`_json_value` applied to every leaf of nested dicts and lists."""
    if isinstance(value, dict):
        return {k: _json_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_tree(v) for v in value]
    return _json_value(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        # 10 significant digits: stable across summation orders, exact for the examples
        return float(f"{value:.10g}")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# ------------------------------------------------------------ rows outside the window


@dataclass(frozen=True)
class _Dated:
    """How a table's rows are placed in time and what they are worth, for its note
    (its words are the catalogues' ``note.outside.*``, :mod:`b2b_analysis.i18n`)."""

    date: str
    #: the rows, counted (``note.outside.table.<name>``, a plural)
    noun: str
    value: str | None = None
    #: how the value is written (``{amount}`` is the value with its currency), or
    #: ``None`` for the amount alone
    worth: str | None = None
    #: what is said when rows lie before the window
    after: str | None = None


#: The tables whose rows outside the window get a note, by name (the note's key).
OUTSIDE_WINDOW: dict[str, _Dated] = {
    "orders": _Dated(
        "order_date",
        "note.outside.table.orders",
        "revenue",
        "note.outside.gross",
        "note.outside.history",
    ),
    "visits": _Dated("visit_date", "note.outside.table.visits"),
    "surveys": _Dated("response_date", "note.outside.table.surveys"),
    "investments": _Dated("date", "note.outside.table.investments", "amount"),
}


def _outside(frame: pl.LazyFrame, dated: _Dated, lo: dt.date, hi: dt.date) -> pl.LazyFrame:
    """Per side of the window (before, after): the rows outside it, their first and last
    date and their summed value."""
    day = pl.col(dated.date)
    value = pl.col(dated.value).sum() if dated.value else pl.lit(None, pl.Float64)
    return (
        frame.filter(~day.is_between(lo, hi))
        .group_by((day > hi).alias("after"))
        .agg(pl.len().alias("rows"), day.min().alias("first"), day.max().alias("last"), value)
        .sort("after")
    )


def _side(
    rows: int, first: dt.date, last: dt.date, value: Any, dated: _Dated, currency: str, locale: str
) -> str:
    """``12 orders (gross value 1,234.50 EUR) from 2023-12-01 to 2023-12-31``."""
    worth = ""
    if dated.value is not None:
        amount = f"{value:,.2f} {currency}"  # the toolkit's own style, to the character
        if locale != i18n.DEFAULT:
            amount = i18n.format_money(value, currency, locale)
        worth = " (" + (i18n.text(dated.worth, locale, amount=amount) if dated.worth else amount)
        worth += ")"
    if first == last:
        span = i18n.text("note.outside.on", locale, day=i18n.format_date(first, locale))
    else:
        span = i18n.text(
            "note.outside.span",
            locale,
            first=i18n.format_date(first, locale),
            last=i18n.format_date(last, locale),
        )
    return f"{i18n.plural(dated.noun, rows, locale)}{worth} {span}"


def _note(
    sides: pl.DataFrame,
    dated: _Dated,
    lo: dt.date,
    hi: dt.date,
    currency: str,
    locale: str = i18n.DEFAULT,
) -> str | None:
    """One sentence on the rows outside the window, or ``None`` when there are none,
    in the language and number formats of ``locale``."""
    parts = [
        _side(rows, first, last, value, dated, currency, locale)
        for _after, rows, first, last, value in sides.iter_rows()
    ]
    if not parts:
        return None
    if len(parts) == 2:
        parts = [i18n.text("note.outside.both", locale, before=parts[0], after=parts[1])]
    history = ""
    if dated.after is not None and not sides.get_column("after").all():
        history = " " + i18n.text(dated.after, locale)
    return i18n.plural(
        "note.outside",
        int(sides.get_column("rows").sum()),
        locale,
        rows=parts[0],
        start=i18n.format_date(lo, locale),
        end=i18n.format_date(hi, locale),
        history=history,
    )


def window_notes(data: ClientData[Any], lo: dt.date, hi: dt.date) -> dict[str, str]:
    """A sentence per table with rows outside the window ``lo`` .. ``hi``: their number,
    value (orders: gross revenue, cancelled and returned included; investments: the
    amount) and dates, before and after the window. Nothing is dropped silently.

    All tables are counted in one ``pl.collect_all``.
    """
    frames = {name: getattr(data, name) for name in OUTSIDE_WINDOW}
    present = {name: frame.lazy() for name, frame in frames.items() if frame is not None}
    queries = [_outside(frame, OUTSIDE_WINDOW[name], lo, hi) for name, frame in present.items()]
    notes = {}
    for name, sides in zip(present, pl.collect_all(queries, engine=data.engine), strict=True):
        note = _note(sides, OUTSIDE_WINDOW[name], lo, hi, data.params.currency, data.params.locale)
        if note is not None:
            notes[name] = note
    return notes


# ------------------------------------------------------------------ computation


def _counts(key: str, flags: pl.Expr) -> list[pl.Expr]:
    """The successes and trials of the proportion ``key``, as ``_<key>_k`` and ``<key>_n``:
    ``flags`` has one boolean per trial (``metrics.*_flags``)."""
    return [m.successes(flags).alias(f"_{key}_k"), m.trials(flags).alias(f"{key}_n")]


def _order_aggs(threshold: float | None, profit: pl.Expr | None) -> list[pl.Expr]:
    # customers and customer_retention_rate: the "customers" plan (_customer_aggs)
    aggs = [
        m.order_count(),
        m.average_order_value(),
        m.gross_merchandise_value(),
        m.net_revenue(),
        m.online_order_share(),
        m.online_average_order_value(),
        m.offline_average_order_value(),
        (pl.col("is_online") & pl.col("is_valid")).sum().cast(pl.Int64).alias("_online_orders"),
        *_counts("online_order_share", m.online_order_flags()),
        *tr.spread_aggs(profit),
    ]
    if threshold is not None:
        aggs.append(m.small_order_online_share(threshold))
        aggs.extend(_counts("small_order_online_share", m.small_order_flags(threshold)))
    else:
        aggs.append(pl.lit(None, pl.Float64).alias("small_order_online_share"))
    if profit is not None:
        keep = pl.col("is_online") & pl.col("is_valid")
        aggs.append(profit.filter(keep).sum().alias("online_gross_profit"))
    else:
        aggs.append(pl.lit(None, pl.Float64).alias("online_gross_profit"))
    return aggs


def _customer_aggs() -> tuple[pl.Expr, ...]:
    """:func:`~b2b_analysis.metrics.customers` and
    :func:`~b2b_analysis.metrics.customer_retention_rate` with their counts, over the
    frames of :func:`~b2b_analysis.metrics.customer_orders` (a row per customer)."""
    repeat = (pl.col("orders") >= 2).sum()
    return (
        pl.len().cast(pl.Int64).alias("customers"),
        m.ratio(repeat, pl.len()).alias("customer_retention_rate"),
        repeat.cast(pl.Int64).alias("_customer_retention_rate_k"),
        pl.len().cast(pl.Int64).alias("customer_retention_rate_n"),
    )


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
            why = f"{missing} orders have no cost and the params set no gross_margin to estimate it"
            notes["roi"] = notes["online_gross_profit"] = why
            return None
        if missing:
            profit = profit.fill_null(pl.col("revenue") * margin)
        return profit
    if margin is not None:
        return pl.col("revenue") * margin
    why = "orders have no cost column and the params set no gross_margin"
    notes["roi"] = notes["online_gross_profit"] = why
    return None


@dataclass(frozen=True)
class Plan:
    """What to compute from one frame: its aggregations over the whole window and,
    when ``date`` names the column that places a row in a period, per period too.

    A plan without aggregations is a frame that is already the result (the series'
    spine). Every plan of a client is collected in one ``pl.collect_all``, and the
    headline and the series apply the same expressions (:func:`_derived`) to what
    comes back, so the two cannot disagree on a definition.
    """

    frame: pl.LazyFrame
    aggs: tuple[pl.Expr, ...] = ()
    date: str | None = None
    #: a frame already keyed by ``period`` that the per-period query groups, when it is
    #: not ``frame`` (e.g. ``frame`` a row per customer, this one per customer and period)
    periods: pl.LazyFrame | None = None

    def queries(self, key: Callable[[str], pl.Expr]) -> list[pl.LazyFrame]:
        """The window's one-row query, then the per-period one (grouped on ``period``)."""
        if not self.aggs:
            return [self.frame]
        # the window is one group: a select is several times faster than a group-by on
        # a constant key, and gives one row of empty aggregates when nothing is in it
        queries = [self.frame.select(*self.aggs)]
        if self.periods is not None:
            queries.append(self.periods.group_by("period").agg(*self.aggs))
        elif self.date is not None:
            by_period = self.frame.with_columns(key(self.date).alias("period"))
            queries.append(by_period.group_by("period").agg(*self.aggs))
        return queries


@dataclass(frozen=True)
class Results:
    """The collected plans: each plan's window row and per-period frame, by name."""

    window: dict[str, pl.DataFrame]
    periods: dict[str, pl.DataFrame]


def collect_plans(
    plans: dict[str, Plan], key: Callable[[str], pl.Expr], *, engine: Engine
) -> Results:
    """Collect every plan at once (one ``pl.collect_all``) and sort the frames by plan."""
    queries = {name: plan.queries(key) for name, plan in plans.items()}
    frames = iter(pl.collect_all([q for qs in queries.values() for q in qs], engine=engine))
    results = Results({}, {})
    for name, qs in queries.items():
        results.window[name] = next(frames)
        if len(qs) == 2:
            results.periods[name] = next(frames)
    return results


#: Threads computing the bootstrap intervals of one report.
BOOTSTRAP_THREADS = max(
    1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
)

#: The proportions with a Wilson interval, in registry order.
WILSON_KPIS: tuple[str, ...] = tuple(k for k, v in REGISTRY.items() if v.interval == "wilson")


def _derived(frame: pl.DataFrame) -> pl.DataFrame:
    """The KPIs made of other plans' aggregates (conversion: orders over visits; ROI:
    profit over investment) and the Wilson bounds of every proportion whose counts are
    there, for the headline row and the series alike."""
    columns = frame.columns
    if "investment" in columns:  # a table with no rows in a period: nothing invested
        frame = frame.with_columns(pl.col("investment").fill_null(0.0))
    frame = frame.with_columns(
        m.conversion_rate(pl.col("_online_orders"), pl.col("_visits"))
        if "_visits" in columns
        else pl.lit(None, pl.Float64).alias("conversion_rate"),
        m.roi(pl.col("online_gross_profit"), pl.col("investment"))
        if "investment" in columns
        else pl.lit(None, pl.Float64).alias("roi"),
        *_derived_counts(columns),
    )
    return _with_wilson(frame)


def _derived_counts(columns: list[str]) -> list[pl.Expr]:
    """Successes and trials of the proportions made of other aggregates."""
    counts = []
    if "_visits" in columns:
        counts += [
            pl.col("_online_orders").alias("_conversion_rate_k"),
            pl.col("_visits").alias("conversion_rate_n"),
        ]
    if "customers_start" in columns:  # the series' spine (metrics.period_retention)
        counts += [
            pl.col("retained_customers").alias("_period_retention_rate_k"),
            pl.col("customers_start").alias("period_retention_rate_n"),
        ]
    return counts


def _with_wilson(frame: pl.DataFrame) -> pl.DataFrame:
    """``<key>_low`` and ``<key>_high``: the Wilson interval of ``_<key>_k`` out of
    ``<key>_n``, for each proportion of the registry whose counts the frame has."""
    keys = [key for key in WILSON_KPIS if f"{key}_n" in frame.columns]
    intervals = (
        wilson_interval(pl.col(f"_{key}_k"), pl.col(f"{key}_n"))
        .struct.rename_fields([f"{key}_low", f"{key}_high"])
        .alias(f"_{key}_interval")
        for key in keys
    )
    return frame.with_columns(intervals).unnest([f"_{key}_interval" for key in keys])


def _require_orders(data: ClientData[Any], lo: dt.date, hi: dt.date) -> None:
    """Refuse a window without a single order that counts, naming the orders' range."""
    orders = data.orders.lazy()
    in_window = orders.filter(pl.col("order_date").is_between(lo, hi) & pl.col("is_valid"))
    if in_window.select(pl.len()).collect(engine=data.engine).item() > 0:
        return
    first, last = (
        orders.select(pl.col("order_date").min(), pl.col("order_date").max().alias("last"))
        .collect(engine=data.engine)
        .row(0)
    )
    raise InputError(
        f"no orders that count between {lo} and {hi}; the orders run from {first} "
        f"to {last}: choose a window inside that range",
        file=data.sources.get("orders"),
    )


def _threshold(data: ClientData[Any], orders: pl.LazyFrame) -> float | None:
    """The small-order threshold: the params file's, else the window's median order."""
    if data.params.small_order_threshold is not None:
        return data.params.small_order_threshold
    median = orders.filter(pl.col("is_valid")).select(pl.col("revenue").median())
    value: float | None = median.collect(engine=data.engine).item()
    return value


@dataclass(frozen=True)
class Sample:
    """The values a bootstrap KPI is the ``statistic`` of: ``values`` over ``frame``,
    nulls left out, each placed in a period by the column ``date`` when it is given."""

    frame: pl.LazyFrame
    values: pl.Expr
    statistic: Statistic
    date: str | None = None

    def plan(self, key: Callable[[str], pl.Expr]) -> Plan:
        """The plan collecting the values (column ``value``) and their ``period``."""
        columns = [self.values.alias("value")]
        if self.date is not None:
            columns.append(key(self.date).alias("period"))
        return Plan(self.frame.select(*columns).drop_nulls("value"))


def _plans(
    data: ClientData[Any],
    lo: dt.date,
    hi: dt.date,
    order_aggs: list[pl.Expr],
    calendar: Calendar,
    firsts: dict[str, pl.DataFrame],
) -> tuple[dict[str, Plan], dict[str, Sample]]:
    """Every aggregation of the KPI document, as named plans over the client's tables,
    and the samples of the bootstrap KPIs (collected as plans ``sample:<key>``); the
    per-customer frames of the adoption and AOV KPIs are in ``firsts``
    (:func:`_customer_frames`)."""
    all_orders = data.orders.lazy()
    orders = all_orders.filter(pl.col("order_date").is_between(lo, hi))
    summary = firsts["adoption"].lazy()
    adoption = m.adoption_view(summary)
    activity = firsts["activity"].lazy()
    per_customer, per_period = m.customer_orders_of(activity)
    plans = {
        "orders": Plan(orders, tuple(order_aggs), "order_date"),
        "customers": Plan(per_customer, _customer_aggs(), periods=per_period),
    }
    samples: dict[str, Sample] = {}
    if data.visits is not None:
        plans.update(_visit_plans(data.visits.lazy(), all_orders, lo, hi, firsts.get("visits")))
    if data.surveys is not None:
        surveys = data.surveys.lazy().filter(pl.col("response_date").is_between(lo, hi))
        survey_aggs = (m.csat(), m.nps(), *_counts("csat", m.csat_flags()))
        plans["surveys"] = Plan(surveys, survey_aggs, "response_date")
        samples["nps"] = Sample(surveys, m.nps_points(), "mean", "response_date")
    if data.investments is not None:
        investments = data.investments.lazy().filter(pl.col("date").is_between(lo, hi))
        plans["investments"] = Plan(
            investments, (pl.col("amount").sum().alias("investment"),), "date"
        )
    adoption_aggs = (
        m.online_retention_rate(),
        m.reverted_to_offline_share(),
        *_counts("online_retention_rate", pl.col("retained_online")),
        *_counts("reverted_to_offline_share", pl.col("reverted_to_offline")),
    )
    plans["adoption"] = Plan(adoption, adoption_aggs, "first_online_date")
    plans["revert_days"] = Plan(
        adoption, (pl.col("days_to_revert").median().alias("median_days_to_revert"),)
    )
    samples["median_days_to_revert"] = Sample(adoption, pl.col("days_to_revert"), "median")
    shifts = m.aov_shift_view(summary)
    plans["aov_shift"] = Plan(shifts, (pl.col("aov_shift").median().alias("median_aov_shift"),))
    samples["median_aov_shift"] = Sample(shifts, pl.col("aov_shift"), "median")
    ratios = firsts["aov_ratio"].lazy()
    plans["aov_ratio"] = Plan(
        ratios, (pl.col("aov_ratio").median().alias("median_online_offline_aov_ratio"),)
    )
    samples["median_online_offline_aov_ratio"] = Sample(ratios, pl.col("aov_ratio"), "median")
    spine = m.period_retention(all_orders, calendar=calendar, start=lo, end=hi, activity=activity)
    plans["retention"] = Plan(spine)
    plans["maturity"] = Plan(tr.maturity_inputs(all_orders, end=hi))
    plans.update({f"sample:{k}": sample.plan(calendar.key) for k, sample in samples.items()})
    return plans, samples


def _firsts(data: ClientData[Any], lo: dt.date, hi: dt.date) -> dict[str, pl.DataFrame]:
    """The per-customer frames the plans look values up in by customer code, by table
    (``orders``: :func:`~b2b_analysis.metrics.customer_firsts` up to ``hi``; ``visits``:
    :func:`_visitor_firsts`), collected together; a table whose customers have no codes
    (:func:`~b2b_analysis.metrics.indexed`) has none and its plans join instead."""
    queries = {}
    if m.indexed(data.orders.lazy()):
        # revenue_since: the account lists' revenue at stake (accounts.revenue_12m)
        since = acc.year_before(hi)
        queries["orders"] = m.customer_firsts(data.orders.lazy(), end=hi, since=since)
    if data.visits is not None and m.indexed(data.visits.lazy()):
        queries["visits"] = _visitor_firsts(
            data.visits.lazy(), lo, hi, with_ids=not _same_codes(data)
        )
    frames = pl.collect_all(list(queries.values()), engine=data.engine)
    return dict(zip(queries, frames, strict=True))


def _customer_frames(
    data: ClientData[Any],
    lo: dt.date,
    hi: dt.date,
    calendar: Calendar,
    firsts: dict[str, pl.DataFrame],
) -> dict[str, pl.DataFrame]:
    """``firsts`` with the per-customer frames several plans and lists reduce, each
    collected once (together): ``adoption``
    (:func:`~b2b_analysis.metrics.adoption_summary`, its first online orders looked up
    in ``firsts``), ``aov_ratio``
    (:func:`~b2b_analysis.metrics.customer_aov_comparison`) and ``activity``
    (:func:`~b2b_analysis.metrics.activity_counts`: the customers plan and the
    retention spine)."""
    all_orders = data.orders.lazy()
    queries = [
        m.adoption_summary(all_orders, start=lo, end=hi, firsts=firsts.get("orders")),
        m.customer_aov_comparison(all_orders, start=lo, end=hi),
        m.activity_counts(all_orders, calendar, start=lo, end=hi),
    ]
    summary, ratios, activity = pl.collect_all(queries, engine=data.engine)
    return {**firsts, "adoption": summary, "aov_ratio": ratios, "activity": activity}


def _same_codes(data: ClientData[Any]) -> bool:
    """Whether the orders' and the visits' customers are coded alike (the same
    Categorical or Enum type: one customer, one code in both tables)."""
    if data.visits is None or not m.indexed(data.orders.lazy()):
        return False
    orders = data.orders.collect_schema()["customer_id"]
    return bool(orders == data.visits.collect_schema()["customer_id"])


def _visitor_firsts(
    all_visits: pl.LazyFrame, lo: dt.date, hi: dt.date, *, with_ids: bool = True
) -> pl.LazyFrame:
    """Per identified visitor (``code``, :func:`~b2b_analysis.metrics.customer_index`): the
    first visit ever (``first_visit``) and whether they visited in the window
    (``visited``), and ``customer_id`` when ``with_ids`` (needed when the orders code
    their customers differently); one group-by over the visits, looked up by code
    afterwards."""
    ids = [pl.col("customer_id").first()] if with_ids else []
    return (
        all_visits.filter(pl.col("customer_id").is_not_null())
        .group_by(m.customer_index().alias("code"))
        .agg(
            *ids,
            pl.col("visit_start").min().alias("first_visit"),
            pl.col("visit_date").is_between(lo, hi).any().alias("visited"),
        )
    )


def _visit_plans(
    all_visits: pl.LazyFrame,
    all_orders: pl.LazyFrame,
    lo: dt.date,
    hi: dt.date,
    firsts: pl.DataFrame | None,
) -> dict[str, Plan]:
    """The plans of the visits table: visits (per period too) and identified visitors.

    The visits are counted per day first (a returning visit: later than the visitor's
    first visit, :func:`~b2b_analysis.metrics.flag_returning_visits`, looked up in
    ``firsts`` of :func:`_visitor_firsts` by code rather than joined), and the window's
    and the periods' figures are sums of the days'."""
    if firsts is None:
        flagged = m.flag_returning_visits(all_visits).filter(
            pl.col("visit_date").is_between(lo, hi)
        )
        returning_flag = pl.col("is_returning")
    else:
        flagged = all_visits.filter(pl.col("visit_date").is_between(lo, hi))
        first = m.by_index(firsts, "first_visit", m.customer_index())
        returning_flag = (pl.col("visit_start") > first).fill_null(False)
    daily = (
        flagged.select("visit_date", returning_flag.alias("_r"))
        .group_by("visit_date")
        .agg(pl.len().cast(pl.Int64).alias("_n"), pl.col("_r").sum().cast(pl.Int64))
    )
    visits, returning = pl.col("_n").sum(), pl.col("_r").sum()
    visit_aggs = (
        visits.cast(pl.Int64).alias("_visits"),
        m.ratio(returning, visits).alias("returning_visit_share"),
        returning.cast(pl.Int64).alias("_returning_visit_share_k"),
        visits.cast(pl.Int64).alias("returning_visit_share_n"),
    )
    visitor_aggs = (
        pl.all(),
        pl.col("converted").alias("_visitor_conversion_rate_k"),
        pl.col("visitors").alias("visitor_conversion_rate_n"),
    )
    return {
        "visits": Plan(daily, visit_aggs, "visit_date"),
        "visitors": Plan(
            m.visitor_conversion_rate(all_visits, all_orders, start=lo, end=hi)
            if firsts is None
            else _visitors(all_orders, lo, hi, firsts),
            visitor_aggs,
        ),
    }


def _visitors(
    all_orders: pl.LazyFrame, lo: dt.date, hi: dt.date, firsts: pl.DataFrame
) -> pl.LazyFrame:
    """:func:`~b2b_analysis.metrics.visitor_conversion_rate` of the visitors in ``firsts``:
    the buyers, unique, against the visitors (one row); matched on the customer codes
    when ``firsts`` has no ``customer_id`` (:func:`_same_codes`)."""
    on = "customer_id" if "customer_id" in firsts.columns else "code"
    customer = pl.col("customer_id") if on == "customer_id" else m.customer_index().alias(on)
    visitors = firsts.lazy().filter(pl.col("visited")).select(on)
    buyers = (
        all_orders.filter(
            pl.col("order_date").is_between(lo, hi) & pl.col("is_online") & pl.col("is_valid")
        )
        .select(customer)
        .unique()
    )
    count = int(firsts.get_column("visited").sum())
    return (
        visitors.join(buyers, on=on, how="semi")
        .select(
            pl.lit(count, pl.Int64).alias("visitors"), pl.len().cast(pl.Int64).alias("converted")
        )
        .with_columns(
            m.ratio(pl.col("converted"), pl.col("visitors")).alias("visitor_conversion_rate")
        )
    )


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
        from whole periods (of ``period``) spanning the orders. ``notes`` gets a
        sentence per table with rows outside the window (:func:`window_notes`).
    period
        Period of the series; defaults to the params file's ``period``.
    """
    params = data.params
    calendar = Calendar(period or params.period, params.fiscal_year_start)
    lo, hi = data.window(start, end, calendar)
    _require_orders(data, lo, hi)
    notes = window_notes(data, lo, hi)
    threshold = _threshold(data, data.orders.lazy().filter(pl.col("order_date").is_between(lo, hi)))
    profit = _profit_expr(data, notes)
    firsts = _customer_frames(data, lo, hi, calendar, _firsts(data, lo, hi))
    plans, samples = _plans(data, lo, hi, _order_aggs(threshold, profit), calendar, firsts)
    lists = acc.lists(
        data.orders.lazy(),
        start=lo,
        end=hi,
        calendar=calendar,
        rule=params.overdue,
        firsts=firsts.get("orders"),
        summary=firsts["adoption"],
    )
    plans.update({f"accounts:{name}": Plan(frame) for name, frame in lists.items()})
    results = collect_plans(plans, calendar.key, engine=data.engine)
    changes = drivers(
        data.orders.lazy(),
        calendar=calendar,
        start=lo,
        end=hi,
        minutes=params.offline_order_minutes,
        threshold=threshold,
        engine=data.engine,
        firsts=firsts.get("orders"),
    )
    optional = ("visits", "surveys", "investments")
    return assemble_report(
        params,
        calendar=calendar,
        start=lo,
        end=hi,
        threshold=threshold,
        has_profit=profit is not None,
        row=_headline_row(results, plans),
        results=results,
        samples=samples,
        changes=changes,
        account_lists={name: results.window[f"accounts:{name}"] for name in lists},
        tables={name: getattr(data, name) is not None for name in optional},
        notes=notes,
        sources=data.sources,
    )


def assemble_report(
    params: ClientParams,
    *,
    calendar: Calendar,
    start: dt.date,
    end: dt.date,
    threshold: float | None,
    has_profit: bool,
    row: dict[str, Any],
    results: Results,
    samples: dict[str, Sample],
    changes: Drivers,
    account_lists: dict[str, pl.DataFrame],
    tables: dict[str, bool],
    notes: dict[str, str],
    sources: dict[str, str] | None = None,
) -> KpiReport:
    """The :class:`KpiReport` from what :func:`compute_kpis` collected: the window's
    ``row`` (:func:`_headline_row`) gives the headline KPIs and their intervals;
    ``notes`` gets the drivers' notes and the reason for each null KPI (``tables``:
    which optional tables the client has); the series is flagged by the maturity rule
    and compared for trends."""
    notes.update(changes.notes)
    headline = {key: row.get(key) for key in KPIS}
    notes.update(null_reasons(headline, tables, notes))
    rule = tr.resolve_rule(params.maturity, results.window["maturity"].row(0, named=True))
    # the bootstrap intervals (seeded, each on its own generator) on a few threads:
    # numpy draws and sums without the GIL; the same bounds in any order
    with ThreadPoolExecutor(BOOTSTRAP_THREADS, thread_name_prefix="b2b-bootstrap") as pool:
        intervals = pool.submit(_intervals, row, results, samples)
        full = _series(results, samples, start, end, calendar, has_profit, pool)
        full = tr.flag_series(full, calendar, rule)
        bounds = intervals.result()
    return KpiReport(
        client=params.client,
        slug=params.client_slug,
        currency=params.currency,
        start=start,
        end=end,
        period=calendar.period,
        fiscal_year_start=calendar.fiscal_year_start,
        small_order_threshold=threshold,
        kpis=headline,
        notes=notes,
        series=full.select(_public_columns(full)),
        sources=sources or {},
        intervals=bounds,
        drivers=changes,
        maturity=tr.maturity_document(full, rule),
        trends=tr.compare(full.to_dicts(), calendar),
        account_lists=account_lists,
        locale=params.locale,
    )


def _headline_row(results: Results, plans: dict[str, Plan]) -> dict[str, Any]:
    """The window's row: the plans' window rows side by side, with the derived KPIs, the
    proportions' counts and their Wilson bounds."""
    rows = [results.window[name] for name, plan in plans.items() if plan.aggs]
    return _derived(pl.concat(rows, how="horizontal")).row(0, named=True)


def _intervals(
    row: dict[str, Any], results: Results, samples: dict[str, Sample]
) -> dict[str, dict[str, float | int | None]]:
    """``{"n", "low", "high"}`` of each headline KPI with an interval in the registry: a
    proportion's from the window row, a bootstrap KPI's from its sample. ``n`` is null
    when the table it counts is missing; the bounds are null without an interval."""
    intervals: dict[str, dict[str, float | int | None]] = {}
    for key, kpi in INTERVAL_KPIS.items():
        if kpi.interval == "wilson":
            intervals[key] = {part: row.get(f"{key}_{part}") for part in ("n", "low", "high")}
        elif key not in samples:
            intervals[key] = {"n": None, "low": None, "high": None}
        else:
            values = results.window[f"sample:{key}"].get_column("value").to_numpy()
            bounds = bootstrap_interval(values, samples[key].statistic)
            low, high = bounds if bounds is not None else (None, None)
            intervals[key] = {"n": len(values), "low": low, "high": high}
    return intervals


def _sample_series(
    results: Results, samples: dict[str, Sample], periods: pl.Series, pool: Executor
) -> pl.DataFrame:
    """Per period: ``<key>_n``, ``<key>_low``, ``<key>_high`` of each series KPI with a
    bootstrap interval whose table is there (a period without values has n = 0); the
    periods' intervals are computed on ``pool``."""
    frame = pl.DataFrame({"period": periods})
    for key in SERIES_INTERVALS:
        if key not in samples or samples[key].date is None:
            continue
        values = results.window[f"sample:{key}"]
        by_period = {
            p: part.get_column("value").to_numpy()
            for (p,), part in values.partition_by("period", as_dict=True).items()
        }
        statistic = samples[key].statistic
        found = [by_period.get(period) for period in periods]
        intervals = pool.map(_bootstrap_or_none, found, [statistic] * len(found))
        rows = [
            (0 if sample is None else len(sample), *(bounds or (None, None)))
            for sample, bounds in zip(found, intervals, strict=True)
        ]
        parts = pl.DataFrame(
            rows,
            schema={f"{key}_n": pl.Int64, f"{key}_low": pl.Float64, f"{key}_high": pl.Float64},
            orient="row",
        )
        frame = frame.hstack(parts)
    return frame


def _bootstrap_or_none(
    sample: np.ndarray | None, statistic: Statistic
) -> tuple[float, float] | None:
    return None if sample is None else bootstrap_interval(sample, statistic)


def _series(
    results: Results,
    samples: dict[str, Sample],
    lo: dt.date,
    hi: dt.date,
    calendar: Calendar,
    has_profit: bool,
    pool: Executor,
) -> pl.DataFrame:
    # one row per period of the window, from metrics.period_retention
    frame = results.window["retention"]
    for part in results.periods.values():
        frame = frame.join(part, on="period", how="left")
    # a period without orders (or visits) has sums of 0, not null
    zero = ["gross_merchandise_value", "net_revenue", "_online_orders"]
    zero += ["online_gross_profit"] if has_profit else []
    zero += ["_visits"] if "_visits" in frame.columns else []
    zero += [c for k in WILSON_KPIS for c in (f"_{k}_k", f"{k}_n") if c in frame.columns]
    zero += [
        c for c in frame.columns if c.endswith("_ss") or c in ("_all_orders", "_offline_orders")
    ]
    frame = _derived(frame.with_columns(pl.col(zero).fill_null(0)))
    frame = frame.join(_sample_series(results, samples, frame["period"], pool), on="period")
    intervals = [f"{k}_{part}" for k in SERIES_INTERVALS for part in ("n", "low", "high")]
    frame = frame.with_columns(
        pl.lit(None, pl.Int64 if c.endswith("_n") else pl.Float64).alias(c)
        for c in intervals
        if c not in frame.columns
    )
    for key in SERIES_KPIS:
        if key not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(key))
    frame = frame.with_columns(pl.col("customers", "orders").fill_null(0))
    labels = calendar.periods(lo, hi).select("period", "period_label", "is_partial")
    changes = [(pl.col(k) - pl.col(k).shift(1)).alias(f"{k}_change") for k in SERIES_KPIS]
    # the hidden columns (``_...``) stay until the trends are computed (_public_columns)
    return (
        frame.join(labels.collect(), on="period", how="left").sort("period").with_columns(changes)
    )


def _public_columns(frame: pl.DataFrame) -> list[str]:
    """The series' columns, in order: the periods, the KPIs, the retention parts, the
    changes, the intervals, then the maturity flags (``<key>_mature``)."""
    ordered = ["period", "period_start", "period_label", "is_partial", *SERIES_KPIS]
    ordered += ["customers_start", "retained_customers", "new_customers", "crr_formula"]
    ordered += [f"{k}_change" for k in SERIES_KPIS]
    ordered += [f"{k}_{part}" for k in SERIES_INTERVALS for part in ("n", "low", "high")]
    return ordered + [f"{k}_mature" for k in MATURITY_KPIS if f"{k}_mature" in frame.columns]
