"""Trends a consultant can stand behind: immature periods, and changes tested against
their uncertainty.

Two parts, both applied by :func:`b2b_analysis.kpis.compute_kpis`:

* **Maturity (right-censoring).** A value about customers who have had too little time
  to come back is *immature*: it is marked, never compared. The follow-up a value needs
  is the params file's ``maturity.follow_up`` (:class:`~b2b_analysis.config.Maturity`):
  by default the customers' median interval between consecutive order days
  (:func:`maturity_inputs`), or a fixed number of days. How a KPI measures its follow-up
  is its registry entry (:attr:`b2b_analysis.registry.Kpi.maturity`): a ``"cohort"`` KPI
  (online retention, reverted to offline) from the period's *last* day, because the
  period's last new customers entered then; a ``"period"`` KPI (period retention, the
  cohort matrix's cells) from the period's *first* day, and it never needs more than
  the whole period. The data are observed up to ``observed_until``: the last order date
  (any status) up to the window's end. The series gets ``<key>_mature``
  (:func:`flag_series`), the cohort matrix a ``maturity`` column
  (:func:`flag_cohort_cells`), ``kpis.json`` a ``maturity`` object
  (:func:`maturity_document`).
* **Like-with-like changes.** Each series KPI's last complete, mature period is compared
  with the period before and with the same period a year earlier (:func:`compare`). The
  change gets a 95 % interval (:func:`change_interval`): from the two values' own
  intervals when they have one (MOVER, Newcombe's hybrid score interval for two Wilson
  intervals), else from the two values' variances (Poisson for counts, compound Poisson
  for sums of money, the normal approximation for means). A change is ``significant``
  when its interval excludes 0; only then does it get an arrow or a sentence calling it
  a change (:mod:`b2b_analysis.narrative`).

Everything here is plain Python on a handful of numbers per KPI, except the polars
expressions that flag the series and gather the inputs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from b2b_analysis.config import Maturity as MaturitySetting
from b2b_analysis.periods import Calendar
from b2b_analysis.registry import MATURITY_KPIS, REGISTRY, SERIES_KPIS, Maturity
from b2b_analysis.stats import Z_95

__all__ = [
    "N_NOUNS",
    "SPREADS",
    "YEAR_PERIODS",
    "MaturityRule",
    "Point",
    "change_interval",
    "compare",
    "flag_cohort_cells",
    "flag_series",
    "headline_immature",
    "mature",
    "maturity_document",
    "maturity_inputs",
    "resolve_rule",
    "rule_of",
    "spread_aggs",
]

#: Periods back to the same period a year earlier, by period kind.
YEAR_PERIODS = {"month": 12, "quarter": 4, "week": 52}

#: What each KPI's ``n`` counts, in a word or two (the sentences' "of 1,830 orders").
N_NOUNS: dict[str, str] = {
    "customers": "customers",
    "orders": "orders",
    "customer_retention_rate": "customers",
    "period_retention_rate": "customers of the period before",
    "average_order_value": "orders",
    "conversion_rate": "visits",
    "gross_merchandise_value": "orders placed",
    "net_revenue": "orders",
    "online_gross_profit": "online orders",
    "returning_visit_share": "visits",
    "csat": "csat answers",
    "nps": "nps answers",
    "online_order_share": "orders",
    "small_order_online_share": "small orders",
    "online_average_order_value": "online orders",
    "offline_average_order_value": "offline orders",
    "online_retention_rate": "new online customers",
    "reverted_to_offline_share": "new online customers with later orders",
    "visitor_conversion_rate": "identified visitors",
    "median_days_to_revert": "reverted customers",
    "median_aov_shift": "customers going online",
    "median_online_offline_aov_ratio": "customers ordering in both channels",
}

#: The money KPIs whose change gets an interval from the spread of the order values:
#: key -> (statistic, the column of the values' sum of squares, the column counting them).
#: ``"sum"``: compound Poisson, variance = the sum of squares; ``"mean"``: the normal
#: approximation, variance = sample variance / n.
SPREADS: dict[str, tuple[Literal["sum", "mean"], str, str]] = {
    "net_revenue": ("sum", "_net_revenue_ss", "orders"),
    "average_order_value": ("mean", "_net_revenue_ss", "orders"),
    "gross_merchandise_value": ("sum", "_gmv_ss", "_all_orders"),
    "online_average_order_value": ("mean", "_online_revenue_ss", "_online_orders"),
    "offline_average_order_value": ("mean", "_offline_revenue_ss", "_offline_orders"),
    "online_gross_profit": ("sum", "_online_profit_ss", "_online_orders"),
}


def spread_aggs(profit: pl.Expr | None) -> list[pl.Expr]:
    """The sums of squares and counts :data:`SPREADS` reads, as aggregations over orders
    (``revenue``, ``is_valid``, ``is_online``); ``profit`` is the online gross profit per
    order, if there is one."""
    valid, online = pl.col("is_valid"), pl.col("is_online")
    square = pl.col("revenue").cast(pl.Float64) ** 2
    aggs = [
        square.filter(valid).sum().alias("_net_revenue_ss"),
        square.sum().alias("_gmv_ss"),
        pl.len().cast(pl.Int64).alias("_all_orders"),
        square.filter(valid & online).sum().alias("_online_revenue_ss"),
        square.filter(valid & ~online).sum().alias("_offline_revenue_ss"),
        (valid & ~online).sum().cast(pl.Int64).alias("_offline_orders"),
    ]
    if profit is not None:
        aggs.append(
            (profit.cast(pl.Float64) ** 2).filter(valid & online).sum().alias("_online_profit_ss")
        )
    return aggs


# ------------------------------------------------------------------ maturity


def maturity_inputs(orders: pl.LazyFrame, *, end: dt.date) -> pl.LazyFrame:
    """One row: ``observed_until``, the last order date (any status) up to ``end``, and
    ``median_reorder_days``, the median of the days between a customer's consecutive
    order days (orders that count, history before the window included, up to ``end``;
    null when no customer ordered on two days).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 11, 31, 5, 8)],
    ...     "is_valid": [True] * 5})
    >>> maturity_inputs(o, end=dt.date(2024, 1, 30)).collect().row(0)
    (datetime.date(2024, 1, 11), 6.5)
    """
    upto = orders.filter(pl.col("order_date") <= end)
    # one Int64 per (customer, order day): the customer's code in the high bits, the day
    # (offset to stay positive) in the low 20; sorted, a duplicate equals the key before
    # it and consecutive keys of the same customer differ by the gap (a packed key sorts
    # several times faster than the pair: 0.2 s against 1.2 s at 1M orders; dropping the
    # equal neighbours after the sort is cheaper than hashing for a unique first)
    customer = pl.col("customer_id")
    if isinstance(orders.collect_schema()["customer_id"], pl.Categorical | pl.Enum):
        code = customer.to_physical().cast(pl.Int64)
    else:
        code = customer.rank("dense").cast(pl.Int64)
    day = pl.col("order_date").cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
    key, previous = pl.col("key"), pl.col("key").shift(1)
    gaps = (
        upto.filter(pl.col("is_valid"))
        .select((code * _DAY_SPAN + day).alias("key"))
        .sort("key")
        .filter((key != previous).fill_null(True))
        .select(
            pl.when(key // _DAY_SPAN == previous // _DAY_SPAN).then(key - previous).alias("gap")
        )
    )
    return pl.concat(
        [
            upto.select(pl.col("order_date").max().alias("observed_until")),
            gaps.select(pl.col("gap").median().cast(pl.Float64).alias("median_reorder_days")),
        ],
        how="horizontal",
    )


#: The packed (customer, day) key of :func:`maturity_inputs`: days since 1970 plus
#: ``_DAY_OFFSET`` fill the low 20 bits (dates from the year 535 to 3405).
_DAY_SPAN = 1 << 20
_DAY_OFFSET = 1 << 19


@dataclass(frozen=True)
class MaturityRule:
    """The follow-up rule resolved for one client and window.

    ``setting`` is the params file's ``maturity.follow_up``; ``follow_up_days`` the days
    a value needs; ``observed_until`` the last day the data cover (``None``: no orders).
    """

    setting: str | int
    follow_up_days: int
    median_reorder_days: float | None
    observed_until: dt.date | None


def resolve_rule(setting: MaturitySetting, inputs: Mapping[str, Any]) -> MaturityRule:
    """The :class:`MaturityRule` of a params file's ``maturity`` and the row of
    :func:`maturity_inputs`: ``median_reorder`` takes the median rounded up to whole days
    (0 when no customer ordered twice: nothing can then be judged immature).

    >>> import datetime as dt
    >>> resolve_rule(MaturitySetting(), {"observed_until": dt.date(2024, 1, 11),
    ...     "median_reorder_days": 12.5}).follow_up_days
    13
    """
    median = inputs.get("median_reorder_days")
    if setting.follow_up == "median_reorder":
        days = math.ceil(median) if median is not None else 0
    else:
        days = int(setting.follow_up)
    return MaturityRule(setting.follow_up, days, median, inputs.get("observed_until"))


def rule_of(document: Mapping[str, Any]) -> MaturityRule:
    """The :class:`MaturityRule` back from a ``maturity`` object (:func:`maturity_document`);
    an empty one is a rule that finds nothing immature."""
    until = document.get("observed_until")
    return MaturityRule(
        document.get("follow_up", "median_reorder"),
        int(document.get("follow_up_days") or 0),
        document.get("median_reorder_days"),
        dt.date.fromisoformat(until) if isinstance(until, str) else until,
    )


def mature(kind: Maturity, period: pl.Expr, calendar: Calendar, rule: MaturityRule) -> pl.Expr:
    """Whether the value of each ``period`` key has had the follow-up ``rule`` asks for.

    ``"cohort"``: the days from the period's last day to ``observed_until`` are at least
    ``follow_up_days``. ``"period"``: the days from the period's first day to
    ``observed_until`` (both counted) are at least ``follow_up_days`` or the period's
    whole length, whichever is less.

    >>> import datetime as dt, polars as pl
    >>> rule = MaturityRule("median_reorder", 10, 9.5, dt.date(2024, 3, 5))
    >>> keys = pl.DataFrame({"p": [24288, 24289, 24290]})  # 2024-01, 02, 03
    >>> cal = Calendar("month")
    >>> keys.select(c=mature("cohort", pl.col("p"), cal, rule),
    ...             p=mature("period", pl.col("p"), cal, rule)).rows()
    [(True, True), (False, True), (False, False)]
    """
    if rule.observed_until is None:  # no orders: nothing to judge
        return pl.lit(True)
    until = pl.lit(rule.observed_until, pl.Date)
    days = pl.lit(rule.follow_up_days, pl.Int64)
    if kind == "cohort":
        return (until - calendar.end(period)).dt.total_days() >= days
    length = (calendar.end(period) - calendar.start(period)).dt.total_days() + 1
    observed = (until - calendar.start(period)).dt.total_days() + 1
    return observed >= pl.min_horizontal(length, days)


def flag_series(series: pl.DataFrame, calendar: Calendar, rule: MaturityRule) -> pl.DataFrame:
    """The series with a boolean ``<key>_mature`` for each KPI with a maturity rule
    (:data:`~b2b_analysis.registry.MATURITY_KPIS`)."""
    return series.with_columns(
        mature(_kind(key), pl.col("period"), calendar, rule).alias(f"{key}_mature")
        for key in MATURITY_KPIS
    )


def _kind(key: str) -> Maturity:
    kind = REGISTRY[key].maturity
    assert kind is not None
    return kind


def flag_cohort_cells(matrix: pl.DataFrame, calendar: Calendar, rule: MaturityRule) -> pl.DataFrame:
    """The cohort matrix (:func:`metrics.cohort_retention`) with ``maturity``:
    ``mature`` or ``immature`` by the ``"period"`` rule applied to the cell's period
    (cohort + periods since), null for a ``not_observed`` cell."""
    cell = pl.col("cohort") + pl.col("periods_since")
    flag = pl.when(mature("period", cell, calendar, rule)).then(pl.lit("mature"))
    return matrix.with_columns(
        pl.when(pl.col("cell") == "not_observed")
        .then(pl.lit(None, pl.String))
        .otherwise(flag.otherwise(pl.lit("immature")))
        .alias("maturity")
    )


def maturity_document(series: pl.DataFrame, rule: MaturityRule) -> dict[str, Any]:
    """The ``maturity`` object of ``kpis.json`` from a series flagged by
    :func:`flag_series`: the rule, and per KPI its kind, the follow-up days it needs,
    its immature periods (labels, oldest first) and ``headline_mature`` (whether the
    window's value rests only on mature periods, ignoring periods with n = 0; null for
    a KPI without a headline value)."""
    kpis: dict[str, Any] = {}
    for key in MATURITY_KPIS:
        flagged = series.filter(~pl.col(f"{key}_mature"))
        with_values = flagged.filter(pl.col(f"{key}_n").fill_null(0) > 0).height
        kpis[key] = {
            "rule": _kind(key),
            "follow_up_days": rule.follow_up_days,
            "immature_periods": flagged.get_column("period_label").to_list(),
            "headline_mature": with_values == 0 if REGISTRY[key].headline else None,
        }
    return {
        "follow_up": rule.setting,
        "follow_up_days": rule.follow_up_days,
        "median_reorder_days": rule.median_reorder_days,
        "observed_until": rule.observed_until.isoformat() if rule.observed_until else None,
        "kpis": kpis,
    }


def headline_immature(doc: Mapping[str, Any], key: str) -> bool:
    """Whether the document's window value of ``key`` includes immature periods."""
    entry = (doc.get("maturity") or {}).get("kpis", {}).get(key)
    return bool(entry) and entry.get("headline_mature") is False


# ------------------------------------------------------------------ changes


@dataclass(frozen=True)
class Point:
    """One period's value of a KPI with what its uncertainty is made of: its own 95 %
    bounds (``low``, ``high``), or the variance of the value (``variance``), or neither."""

    value: float
    n: int | None = None
    low: float | None = None
    high: float | None = None
    variance: float | None = None


def change_interval(
    current: Point, earlier: Point, *, z: float = Z_95
) -> tuple[float, float] | None:
    """The 95 % interval of ``current.value - earlier.value``, or ``None``.

    With both points' bounds, MOVER (Zou & Donner 2008; for two Wilson intervals it is
    Newcombe's 1998 hybrid score interval, his method 10): with d = v1 - v2,

        low  = d - sqrt((v1 - l1)^2 + (u2 - v2)^2)
        high = d + sqrt((u1 - v1)^2 + (v2 - l2)^2)

    With both variances: d -/+ z sqrt(var1 + var2).

    >>> change_interval(Point(0.5, 10, 0.2366, 0.7634), Point(0.5, 10, 0.2366, 0.7634))
    (-0.3725..., 0.3725...)
    >>> change_interval(Point(60, variance=60), Point(40, variance=40))
    (0.400..., 39.59...)
    >>> change_interval(Point(0.1), Point(0.2, low=0.1, high=0.3)) is None
    True
    """
    d = current.value - earlier.value
    if None not in (current.low, current.high, earlier.low, earlier.high):
        l1, u1, l2, u2 = current.low, current.high, earlier.low, earlier.high
        assert l1 is not None and u1 is not None and l2 is not None and u2 is not None
        below = math.hypot(current.value - l1, u2 - earlier.value)
        above = math.hypot(u1 - current.value, earlier.value - l2)
        return d - below, d + above
    if current.variance is not None and earlier.variance is not None:
        half = z * math.sqrt(current.variance + earlier.variance)
        return d - half, d + half
    return None


def _number(row: Mapping[str, Any], column: str) -> float | None:
    value = row.get(column)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def point(row: Mapping[str, Any], key: str) -> Point | None:
    """The :class:`Point` of ``key`` in one series row, or ``None`` without a value."""
    value = _number(row, key)
    if value is None:
        return None
    kpi = REGISTRY[key]
    if kpi.interval is not None:
        n = row.get(f"{key}_n")
        return Point(value, n, _number(row, f"{key}_low"), _number(row, f"{key}_high"))
    if kpi.unit == "count":  # Poisson: the variance of a count is the count
        return Point(value, int(value), variance=float(value))
    if key in SPREADS:
        return _money_point(row, key, value)
    return Point(value)


def _money_point(row: Mapping[str, Any], key: str, value: float) -> Point:
    statistic, squares, count = SPREADS[key]
    n, ss = row.get(count), _number(row, squares)
    if n is None or ss is None:  # a document without the hidden columns
        return Point(value, n)
    if statistic == "sum":  # compound Poisson: var(sum of x) = sum of x^2
        return Point(value, n, variance=ss)
    if n < 2:
        return Point(value, n)
    sample_variance = max(ss - n * value * value, 0.0) / (n - 1)
    return Point(value, n, variance=sample_variance / n)


def _comparable(row: Mapping[str, Any] | None, key: str) -> bool:
    return (
        row is not None
        and not row.get("is_partial")
        and row.get(f"{key}_mature", True) is not False
        and _number(row, key) is not None
    )


def _comparison(key: str, now: Point, row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``now`` against the series ``row`` (``None`` when that period is not comparable)."""
    if row is None or not _comparable(row, key):
        return None
    then = point(row, key)
    assert then is not None
    change = now.value - then.value
    bounds = change_interval(now, then)
    low, high = bounds if bounds is not None else (None, None)
    significant = bounds is not None and (bounds[0] > 0 or bounds[1] < 0)
    direction = "up" if change > 0 else "down" if change < 0 else "flat"
    tone = "neutral"
    if significant and REGISTRY[key].direction != "neutral":
        tone = "good" if (direction == "up") == (REGISTRY[key].direction == "higher") else "bad"
    return {
        "period": row.get("period_label"),
        "value": then.value,
        "n": then.n,
        "change": change,
        "low": low,
        "high": high,
        "significant": significant,
        "direction": direction,
        "tone": tone,
    }


def compare(
    rows: Sequence[Mapping[str, Any]], calendar: Calendar, keys: Sequence[str] = SERIES_KPIS
) -> dict[str, dict[str, Any] | None]:
    """The ``trends`` object of ``kpis.json``: per KPI, its last complete (not partial),
    mature period with a value, against the period before (``previous``) and the same
    period a year earlier (``year_earlier``: :data:`YEAR_PERIODS` periods back); each
    comparison is ``None`` when that period is outside the window, partial, immature or
    without a value. A KPI without such a period is ``None``.

    ``rows`` are series rows (``period`` key, ``period_label``, ``is_partial``, the KPI,
    its ``_n``/``_low``/``_high``/``_mature`` columns when it has them).

    >>> rows = [{"period": p, "period_label": f"2024-{p - 24287:02d}", "is_partial": False,
    ...          "orders": v} for p, v in ((24288, 40), (24289, 60), (24290, 61))]
    >>> t = compare(rows, Calendar("month"), keys=["orders"])["orders"]
    >>> t["period"], t["previous"]["change"], t["previous"]["significant"], t["year_earlier"]
    ('2024-03', 1, False, None)
    """
    by_key = {row["period"]: row for row in rows}
    back = YEAR_PERIODS[calendar.period]
    trends: dict[str, dict[str, Any] | None] = {}
    for key in keys:
        last = next((row for row in reversed(rows) if _comparable(row, key)), None)
        now = point(last, key) if last is not None else None
        if last is None or now is None:
            trends[key] = None
            continue
        trends[key] = {
            "period": last.get("period_label"),
            "value": now.value,
            "n": now.n,
            "previous": _comparison(key, now, by_key.get(last["period"] - 1)),
            "year_earlier": _comparison(key, now, by_key.get(last["period"] - back)),
        }
    return trends
