"""Every KPI of the toolkit, as polars expressions and LazyFrame transforms.

Two shapes, as in polars-xdt:

* **Aggregate KPIs** are expression builders returning a ``pl.Expr``; they work in
  ``select`` for one number and in ``group_by(...).agg(...)`` for a series:
  ``orders.group_by("period").agg(average_order_value())``.
* **KPIs that reshape or join** (cohorts, channel states, per-customer
  comparisons) take and return a ``pl.LazyFrame`` so they chain with ``.pipe``.
  Only the caller collects.

Conventions
-----------
* Rates are fractions (0.2 means 20 %), except NPS, which is on its -100..100 scale.
* An orders frame has the canonical columns of ``docs/data-contract.md`` plus
  ``is_online`` and ``is_valid`` (neither cancelled nor returned). Only gross
  merchandise value counts invalid orders; every other KPI leaves them out.
* A ratio with an empty denominator is null, never 0 and never an error.
* For online retention and reverting to offline, "after" a customer's first
  online order means on a later calendar day. AOV before/after going online
  splits at that order's day: the first online order's day counts as after.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from b2b_analysis.periods import MONTHLY, Calendar

__all__ = [
    "CHANGE_EDGES",
    "activity_counts",
    "adoption_outcomes",
    "adoption_outcomes_by_period",
    "adoption_summary",
    "adoption_view",
    "aov_before_after_online",
    "aov_by_channel",
    "aov_shift_histogram",
    "aov_shift_view",
    "average_order_value",
    "basket_by_channel",
    "by_index",
    "change_bands",
    "channel_state_counts",
    "channel_states",
    "channel_transitions",
    "cohort_retention",
    "cohort_table",
    "conversion_rate",
    "crr_formula",
    "csat",
    "csat_flags",
    "customer_aov_comparison",
    "customer_firsts",
    "customer_index",
    "customer_orders_of",
    "customer_retention_rate",
    "customers",
    "flag_returning_visits",
    "gross_merchandise_value",
    "indexed",
    "net_revenue",
    "nps",
    "nps_points",
    "offline_average_order_value",
    "online_adoption",
    "online_average_order_value",
    "online_order_flags",
    "online_order_share",
    "online_retention_rate",
    "order_count",
    "orders_per_customer",
    "period_retention",
    "period_retention_by_satisfaction",
    "ratio",
    "repeat_customer_flags",
    "retention_by_satisfaction",
    "retention_curves",
    "retention_from_counts",
    "returning_visit_share",
    "reverted_to_offline_share",
    "roi",
    "small_order_flags",
    "small_order_online_share",
    "successes",
    "trials",
    "visitor_conversion_rate",
    "with_period",
]

STATES = ("offline-only", "hybrid", "online-only", "inactive")


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator`` as Float64, null when the denominator is 0 or null.

    >>> import polars as pl
    >>> pl.select(a=ratio(pl.lit(1), pl.lit(4)), b=ratio(pl.lit(1), pl.lit(0))).row(0)
    (0.25, None)
    """
    return (
        pl.when(denominator != 0)
        .then(numerator.cast(pl.Float64) / denominator.cast(pl.Float64))
        .otherwise(None)
    )


def _valid(valid: str | None) -> pl.Expr:
    return pl.lit(True) if valid is None else pl.col(valid)


# ----------------------------------------------------------------- aggregate KPIs


def order_count(*, valid: str | None = "is_valid") -> pl.Expr:
    """Number of orders that count: neither cancelled nor returned.

    >>> import polars as pl
    >>> df = pl.DataFrame({"is_valid": [True, True, False]})
    >>> df.select(order_count()).item()
    2
    """
    return _valid(valid).sum().cast(pl.Int64).alias("orders")


def customers(customer: str = "customer_id", *, valid: str | None = "is_valid") -> pl.Expr:
    """Distinct customers with at least one order that counts.

    >>> import polars as pl
    >>> df = pl.DataFrame({"customer_id": ["a", "a", "b"], "is_valid": [True, True, False]})
    >>> df.select(customers()).item()
    1
    """
    return pl.col(customer).filter(_valid(valid)).n_unique().cast(pl.Int64).alias("customers")


def net_revenue(revenue: str = "revenue", *, valid: str | None = "is_valid") -> pl.Expr:
    """Revenue of the orders that count (cancelled and returned orders excluded).

    >>> import polars as pl
    >>> df = pl.DataFrame({"revenue": [100.0, 50.0, 30.0], "is_valid": [True, True, False]})
    >>> df.select(net_revenue()).item()
    150.0
    """
    return pl.col(revenue).filter(_valid(valid)).sum().alias("net_revenue")


def gross_merchandise_value(revenue: str = "revenue") -> pl.Expr:
    """GMV: the value of all orders placed, including later cancelled or returned ones.

    The article computes it as orders x AOV: 100 orders with an AOV of 100 give 10,000.

    >>> import polars as pl
    >>> df = pl.DataFrame({"revenue": [100.0] * 100})
    >>> df.select(gross_merchandise_value()).item()
    10000.0
    """
    return pl.col(revenue).sum().alias("gross_merchandise_value")


def average_order_value(
    revenue: str = "revenue",
    *,
    valid: str | None = "is_valid",
    online: bool | None = None,
    is_online: str = "is_online",
) -> pl.Expr:
    """AOV = net revenue / orders that count; null when there are no orders.

    Parameters
    ----------
    online
        ``True`` or ``False`` restricts to online or offline orders; ``None`` takes all.

    Examples
    --------
    The article's example: 10,000 of revenue over 100 orders gives 100.

    >>> import polars as pl
    >>> df = pl.DataFrame({"revenue": [100.0] * 100, "is_valid": [True] * 100})
    >>> df.select(average_order_value()).item()
    100.0
    """
    keep = _valid(valid)
    name = "average_order_value"
    if online is not None:
        keep = keep & (pl.col(is_online) if online else ~pl.col(is_online))
        name = "online_average_order_value" if online else "offline_average_order_value"
    values = pl.col(revenue).filter(keep)
    return ratio(values.sum(), values.count()).alias(name)


def online_average_order_value(revenue: str = "revenue", **kwargs: str | None) -> pl.Expr:
    """AOV of online orders only (see :func:`average_order_value`).

    >>> import polars as pl
    >>> df = pl.DataFrame({"revenue": [50.0, 70.0, 300.0], "is_online": [True, True, False],
    ...                    "is_valid": [True, True, True]})
    >>> df.select(online_average_order_value(), offline_average_order_value()).row(0)
    (60.0, 300.0)
    """
    return average_order_value(revenue, online=True, **kwargs)  # type: ignore[arg-type]


def offline_average_order_value(revenue: str = "revenue", **kwargs: str | None) -> pl.Expr:
    """AOV of offline orders only (see :func:`average_order_value`)."""
    return average_order_value(revenue, online=False, **kwargs)  # type: ignore[arg-type]


def customer_retention_rate(
    customer: str = "customer_id", *, valid: str | None = "is_valid"
) -> pl.Expr:
    """Customers with 2 or more orders / customers with at least 1 order.

    Computed over the rows it sees (filter to the analysis window, or group by
    period, first); null when there are no customers.

    Examples
    --------
    The article's example: 100 customers of whom 20 ordered again gives 0.20.

    >>> import polars as pl
    >>> ids = [f"c{i}" for i in range(100)] + [f"c{i}" for i in range(20)]
    >>> df = pl.DataFrame({"customer_id": ids, "is_valid": [True] * 120})
    >>> df.select(customer_retention_rate()).item()
    0.2
    """
    ids = pl.col(customer).filter(_valid(valid))
    # value_counts, not unique_counts: polars 2.1's streaming engine fails on
    # filter().unique_counts() in a select over more than one chunk
    repeat = (ids.value_counts().struct.field("count") >= 2).sum()
    return ratio(repeat, ids.n_unique()).alias("customer_retention_rate")


def online_order_share(is_online: str = "is_online", *, valid: str | None = "is_valid") -> pl.Expr:
    """Online orders / all orders (both counting only orders that count).

    >>> import polars as pl
    >>> df = pl.DataFrame({"is_online": [True, False, False, True], "is_valid": [True] * 4})
    >>> df.select(online_order_share()).item()
    0.5
    """
    flags = pl.col(is_online).filter(_valid(valid))
    return ratio(flags.sum(), flags.count()).alias("online_order_share")


def small_order_online_share(
    threshold: float | pl.Expr,
    revenue: str = "revenue",
    *,
    is_online: str = "is_online",
    valid: str | None = "is_valid",
) -> pl.Expr:
    """Share of small orders (net value strictly below ``threshold``) placed online.

    >>> import polars as pl
    >>> df = pl.DataFrame({"revenue": [20.0, 40.0, 900.0], "is_online": [True, False, False],
    ...                    "is_valid": [True, True, True]})
    >>> df.select(small_order_online_share(100)).item()
    0.5
    """
    limit = threshold if isinstance(threshold, pl.Expr) else pl.lit(threshold)
    flags = pl.col(is_online).filter(_valid(valid) & (pl.col(revenue) < limit))
    return ratio(flags.sum(), flags.count()).alias("small_order_online_share")


def conversion_rate(online_orders: pl.Expr | int, visits: pl.Expr | int) -> pl.Expr:
    """Online orders / website visits.

    The two counts come from different tables; :func:`b2b_analysis.kpis.compute_kpis`
    takes online orders that count and all visits (anonymous included) in the window.

    >>> import polars as pl
    >>> pl.select(conversion_rate(50, 1000)).item()
    0.05
    """
    num = online_orders if isinstance(online_orders, pl.Expr) else pl.lit(online_orders)
    den = visits if isinstance(visits, pl.Expr) else pl.lit(visits)
    return ratio(num, den).alias("conversion_rate")


def returning_visit_share(is_returning: str = "is_returning") -> pl.Expr:
    """Visits by identified customers who had visited before / all visits.

    Needs the flag from :func:`flag_returning_visits`; anonymous visits count in
    the denominator only.

    >>> import polars as pl
    >>> df = pl.DataFrame({"is_returning": [False, True, True, False]})
    >>> df.select(returning_visit_share()).item()
    0.5
    """
    return ratio(pl.col(is_returning).sum(), pl.len()).alias("returning_visit_share")


def csat(score: str = "score", *, kind: str | None = "kind") -> pl.Expr:
    """CSAT: share of csat responses scoring 4 or 5 (on the 1-5 scale).

    >>> import polars as pl
    >>> df = pl.DataFrame({"score": [5, 4, 2, 3, 9], "kind": ["csat"] * 4 + ["nps"]})
    >>> df.select(csat()).item()
    0.5
    """
    scores = pl.col(score) if kind is None else pl.col(score).filter(pl.col(kind) == "csat")
    return ratio((scores >= 4).sum(), scores.count()).alias("csat")


def nps(score: str = "score", *, kind: str | None = "kind") -> pl.Expr:
    """NPS: % promoters (9-10) minus % detractors (0-6) of nps responses, -100..100.

    >>> import polars as pl
    >>> df = pl.DataFrame({"score": [10, 9, 8, 3, 5], "kind": ["nps"] * 4 + ["csat"]})
    >>> df.select(nps()).item()
    25.0
    >>> pl.DataFrame({"score": [0, 2, 9, 7], "kind": ["nps"] * 4}).select(nps()).item()
    -25.0
    """
    scores = pl.col(score) if kind is None else pl.col(score).filter(pl.col(kind) == "nps")
    # counts are unsigned: cast before subtracting, or more detractors wrap around
    promoters = (scores >= 9).sum().cast(pl.Int64)
    detractors = (scores <= 6).sum().cast(pl.Int64)
    return (ratio(promoters - detractors, scores.count()) * 100).alias("nps")


def roi(gross_profit: pl.Expr | float, investment: pl.Expr | float) -> pl.Expr:
    """ROI = (gross profit - investment) / investment; null without investment.

    The article's example: a net profit of 10,000 on an investment of 100,000 is
    0.10, i.e. a gross profit of 110,000.

    >>> import polars as pl
    >>> pl.select(roi(110_000.0, 100_000.0)).item()
    0.1
    """
    profit = gross_profit if isinstance(gross_profit, pl.Expr) else pl.lit(gross_profit)
    spent = investment if isinstance(investment, pl.Expr) else pl.lit(investment)
    return ratio(profit - spent, spent).alias("roi")


# ------------------------------------------------------- counts behind the intervals
# A proportion's interval needs its successes and trials. Each ``*_flags`` builder
# gives one boolean per trial of a rate above (its numerator counts the true ones,
# its denominator the non-null ones), so ``successes(f) / trials(f)`` is that rate.


def successes(flags: pl.Expr) -> pl.Expr:
    """Number of true ``flags``: a proportion's numerator, as Int64 named ``successes``.

    >>> import polars as pl
    >>> pl.DataFrame({"f": [True, False, None, True]}).select(
    ...     successes(pl.col("f")), trials(pl.col("f"))).row(0)
    (2, 3)
    """
    return flags.sum().cast(pl.Int64).alias("successes")


def trials(flags: pl.Expr) -> pl.Expr:
    """Number of non-null ``flags``: a proportion's denominator, as Int64 named ``trials``."""
    return flags.count().cast(pl.Int64).alias("trials")


def repeat_customer_flags(
    customer: str = "customer_id", *, valid: str | None = "is_valid"
) -> pl.Expr:
    """One flag per customer with an order that counts: 2 or more orders.

    The trials and successes of :func:`customer_retention_rate`.

    >>> import polars as pl
    >>> df = pl.DataFrame({"customer_id": ["a", "a", "b", "c"], "is_valid": [True] * 4})
    >>> df.select(successes(repeat_customer_flags()), trials(repeat_customer_flags())).row(0)
    (1, 3)
    """
    ids = pl.col(customer).filter(_valid(valid))
    return ids.value_counts().struct.field("count") >= 2


def online_order_flags(is_online: str = "is_online", *, valid: str | None = "is_valid") -> pl.Expr:
    """One flag per order that counts: placed online (trials of :func:`online_order_share`).

    >>> import polars as pl
    >>> df = pl.DataFrame({"is_online": [True, False, True], "is_valid": [True, True, False]})
    >>> df.select(successes(online_order_flags()), trials(online_order_flags())).row(0)
    (1, 2)
    """
    return pl.col(is_online).filter(_valid(valid))


def small_order_flags(
    threshold: float | pl.Expr,
    revenue: str = "revenue",
    *,
    is_online: str = "is_online",
    valid: str | None = "is_valid",
) -> pl.Expr:
    """One flag per small order that counts (value below ``threshold``): placed online.

    The trials of :func:`small_order_online_share`.

    >>> import polars as pl
    >>> df = pl.DataFrame({"revenue": [20.0, 40.0, 900.0], "is_online": [True, False, True],
    ...                    "is_valid": [True, True, True]})
    >>> df.select(successes(small_order_flags(100)), trials(small_order_flags(100))).row(0)
    (1, 2)
    """
    limit = threshold if isinstance(threshold, pl.Expr) else pl.lit(threshold)
    return pl.col(is_online).filter(_valid(valid) & (pl.col(revenue) < limit))


def csat_flags(score: str = "score", *, kind: str | None = "kind") -> pl.Expr:
    """One flag per csat answer: it scores 4 or 5 (the trials of :func:`csat`).

    >>> import polars as pl
    >>> df = pl.DataFrame({"score": [5, 2, 4, 9], "kind": ["csat"] * 3 + ["nps"]})
    >>> df.select(successes(csat_flags()), trials(csat_flags())).row(0)
    (2, 3)
    """
    scores = pl.col(score) if kind is None else pl.col(score).filter(pl.col(kind) == "csat")
    return scores >= 4


def nps_points(score: str = "score", *, kind: str | None = "kind") -> pl.Expr:
    """Each nps answer's part of the NPS, one value per row: 100 (promoter, 9-10), -100
    (detractor, 0-6) or 0; null for rows that are no nps answer or have no score. The
    mean of the non-null points is :func:`nps`.

    >>> import polars as pl
    >>> df = pl.DataFrame({"score": [10, 9, 8, 3, 5], "kind": ["nps"] * 4 + ["csat"]})
    >>> df.select(nps_points()).to_series().to_list()
    [100.0, 100.0, 0.0, -100.0, None]
    """
    value = pl.col(score)
    answer = value.is_not_null() if kind is None else value.is_not_null() & (pl.col(kind) == "nps")
    points = pl.when(value >= 9).then(pl.lit(100.0)).when(value <= 6).then(pl.lit(-100.0))
    return pl.when(answer).then(points.otherwise(pl.lit(0.0))).alias("nps_points")


# ------------------------------------------------------------ frame transforms


def with_period(
    frame: pl.LazyFrame,
    calendar: Calendar = MONTHLY,
    *,
    date: str = "order_date",
    name: str = "period",
) -> pl.LazyFrame:
    """Add the integer period key ``period`` (see :meth:`b2b_analysis.periods.Calendar.key`).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"order_date": [dt.date(2024, 1, 31), dt.date(2024, 2, 1)]})
    >>> with_period(o).collect()["period"].to_list()
    [24288, 24289]
    """
    return frame.with_columns(calendar.key(date).alias(name))


def _in_window(date: str, start: dt.date | None, end: dt.date | None) -> pl.Expr:
    keep = pl.lit(True)
    if start is not None:
        keep = keep & (pl.col(date) >= start)
    if end is not None:
        keep = keep & (pl.col(date) <= end)
    return keep


def flag_returning_visits(
    visits: pl.LazyFrame, *, customer: str = "customer_id", start: str = "visit_start"
) -> pl.LazyFrame:
    """Add ``is_returning``: the visit is by an identified customer with an earlier visit.

    Pass the whole visit history, then filter to the window: a customer's first
    visit may predate it. Visits tied with a customer's first visit count as first.

    >>> import datetime as dt, polars as pl
    >>> v = pl.LazyFrame({"customer_id": ["a", "a", None, None, "b"],
    ...                   "visit_start": [dt.datetime(2024, 1, d) for d in (1, 2, 2, 3, 3)]})
    >>> flag_returning_visits(v).collect()["is_returning"].to_list()
    [False, True, False, False, False]
    """
    # a group-by joined back is about twice as fast as min().over(customer) here
    first = visits.group_by(customer).agg(pl.col(start).min().alias("_first_visit"))
    return (
        visits.join(first, on=customer, how="left", maintain_order="left")
        .with_columns(
            (pl.col(customer).is_not_null() & (pl.col(start) > pl.col("_first_visit")))
            .fill_null(False)
            .alias("is_returning")
        )
        .drop("_first_visit")
    )


def visitor_conversion_rate(
    visits: pl.LazyFrame,
    orders: pl.LazyFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.LazyFrame:
    """Share of identified visitors in the window who placed an online order in it.

    Returns one row: ``visitors``, ``converted``, ``visitor_conversion_rate``.

    >>> import datetime as dt, polars as pl
    >>> v = pl.LazyFrame({"customer_id": ["a", "b", None, "c"],
    ...                   "visit_date": [dt.date(2024, 1, 1)] * 4})
    >>> o = pl.LazyFrame({"customer_id": ["a", "c"], "order_date": [dt.date(2024, 1, 2)] * 2,
    ...                   "is_online": [True, False], "is_valid": [True, True]})
    >>> visitor_conversion_rate(v, o).collect().row(0)
    (3, 1, 0.3333333333333333)
    """
    visitors = (
        visits.filter(_in_window("visit_date", start, end) & pl.col("customer_id").is_not_null())
        .select("customer_id")
        .unique()
    )
    buyers = (
        orders.filter(
            _in_window("order_date", start, end) & pl.col("is_online") & pl.col("is_valid")
        )
        .select("customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("_bought"))
    )
    return (
        visitors.join(buyers, on="customer_id", how="left")
        .select(
            pl.len().cast(pl.Int64).alias("visitors"),
            pl.col("_bought").fill_null(False).sum().cast(pl.Int64).alias("converted"),
        )
        .with_columns(
            ratio(pl.col("converted"), pl.col("visitors")).alias("visitor_conversion_rate")
        )
    )


def _activity(orders: pl.LazyFrame, calendar: Calendar, end: dt.date) -> pl.LazyFrame:
    """Distinct (customer, period) pairs with at least one order that counts, up to ``end``."""
    return (
        orders.filter(pl.col("is_valid") & (pl.col("order_date") <= end))
        .select("customer_id", calendar.key("order_date").alias("period"))
        .unique()
    )


#: The packed (customer, period) key of :func:`_packed_key`: the period key plus
#: ``_PERIOD_OFFSET`` fills the low 22 bits, the customer's code the bits above.
_PERIOD_SPAN = 1 << 22
_PERIOD_OFFSET = 1 << 21


def _packed_key(orders: pl.LazyFrame, calendar: Calendar) -> pl.Expr:
    """Each order's packed (customer, period) ``key``: ``code * _PERIOD_SPAN + period +
    _PERIOD_OFFSET`` (:func:`customer_code`, the calendar's period key)."""
    period = calendar.key("order_date").cast(pl.Int64) + _PERIOD_OFFSET
    return (customer_code(orders) * _PERIOD_SPAN + period).alias("key")


def _key_customer(key: pl.Expr) -> pl.Expr:
    """The customer's code of a packed key (:func:`_packed_key`)."""
    return key // _PERIOD_SPAN


def _key_period(key: pl.Expr) -> pl.Expr:
    """The period key of a packed key (:func:`_packed_key`)."""
    return (key % _PERIOD_SPAN - _PERIOD_OFFSET).cast(pl.Int32)


def customer_code(orders: pl.LazyFrame, customer: str = "customer_id") -> pl.Expr:
    """An integer per customer: the categorical code as loaded, else a dense rank."""
    column = pl.col(customer)
    if isinstance(orders.collect_schema()[customer], pl.Categorical | pl.Enum):
        return column.to_physical().cast(pl.Int64)
    return column.rank("dense").cast(pl.Int64)


def indexed(frame: pl.LazyFrame, customer: str = "customer_id") -> bool:
    """Whether ``frame``'s customers carry codes to look per-customer values up by
    (:func:`customer_index`): a Categorical (or Enum) column, as loaded by
    :func:`b2b_analysis.io.load_client`."""
    return isinstance(frame.collect_schema()[customer], pl.Categorical | pl.Enum)


def customer_index(customer: str = "customer_id") -> pl.Expr:
    """An integer per customer (UInt32) that does not depend on the rows around it: the
    physical code of a Categorical column (see :func:`indexed`), so per-customer values
    collected from some of a table's rows can be looked up by it for others
    (:func:`by_index`) instead of joined.

    >>> import polars as pl
    >>> t = pl.DataFrame({"customer_id": ["x", "y", "y"]}, schema={"customer_id": pl.Categorical})
    >>> t.select(customer_index()).to_series().n_unique(), t.tail(1).select(
    ...     customer_index()).item() == t.slice(1, 1).select(customer_index()).item()
    (2, True)
    """
    return pl.col(customer).to_physical()


def by_index(values: pl.DataFrame, column: str, index: pl.Expr, *, key: str = "code") -> pl.Expr:
    """``values``' ``column`` of each row's ``index`` (a :func:`customer_index`): a lookup
    in an array indexed by ``key`` instead of a join (null where ``values`` has no row or
    ``index`` is null).

    >>> import polars as pl
    >>> v = pl.DataFrame({"code": [2, 0], "x": [20, 0]}, schema_overrides={"code": pl.UInt32})
    >>> pl.DataFrame({"i": [0, 1, 2, None]}).select(by_index(v, "x", pl.col("i"))).to_series(
    ...     ).to_list()
    [0, None, 20, None]
    """
    codes = values.get_column(key)
    size = int(codes.max() or 0) + 1 if len(codes) else 1  # type: ignore[arg-type]
    empty = pl.Series(column, [None] * size, dtype=values.schema[column])
    array = empty.scatter(codes, values.get_column(column)) if len(codes) else empty
    # an index past the array (a code without a row here) is null, not an error
    return pl.when(index < size).then(pl.lit(array).gather(index.clip(0, size - 1)))


def _activity_keys(orders: pl.LazyFrame, calendar: Calendar, end: dt.date) -> pl.LazyFrame:
    """:func:`_activity` as one packed Int64 ``key`` per (customer, period) pair:
    ``code * _PERIOD_SPAN + period + _PERIOD_OFFSET`` (a unique on one integer column is
    several times faster than on the pair)."""
    return (
        orders.filter(pl.col("is_valid") & (pl.col("order_date") <= end))
        .select(_packed_key(orders, calendar))
        .unique()
    )


def customer_orders(
    orders: pl.LazyFrame, calendar: Calendar = MONTHLY
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """The orders that count per customer (``customer``, a code; ``orders``), and per
    customer and period (with ``period``): the frames :func:`customers` and
    :func:`customer_retention_rate` reduce to (a customer is a row, a repeat customer a
    row with 2 or more orders). Counted on one packed Int64 key per order rather than
    on the (customer, period) pair, and per customer from those counts.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "order_date": [dt.date(2024, 1, 5), dt.date(2024, 2, 1), dt.date(2024, 2, 2),
    ...                    dt.date(2024, 2, 9)], "is_valid": [True] * 4})
    >>> per_customer, per_period = customer_orders(o)
    >>> per_customer.sort("customer").collect().get_column("orders").to_list()
    [2, 2]
    >>> per_period.sort("period", "orders").select("period", "orders").collect().rows()
    [(24288, 1), (24289, 1), (24289, 2)]
    """
    counts = (
        orders.filter(pl.col("is_valid"))
        .select(_packed_key(orders, calendar))
        .group_by("key")
        .agg(pl.len().cast(pl.Int64).alias("orders"))
    )
    return customer_orders_of(counts)


def activity_counts(
    orders: pl.LazyFrame, calendar: Calendar = MONTHLY, *, start: dt.date, end: dt.date
) -> pl.LazyFrame:
    """Per (customer, period) with an order that counts up to ``end``, history before
    ``start`` included: the packed ``key`` of :func:`_activity_keys` and ``orders``, the
    number of those orders dated ``start..end`` (0 for a pair before the window).
    Collected once, it serves :func:`period_retention` (``activity``) and
    :func:`customer_orders_of`: one group-by instead of a unique over the history and a
    group-by over the window.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "order_date": [dt.date(2023, 12, 5), dt.date(2024, 2, 1), dt.date(2024, 2, 2),
    ...                    dt.date(2024, 2, 9)], "is_valid": [True] * 4})
    >>> counts = activity_counts(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 29))
    >>> sorted(counts.collect().get_column("orders").to_list())
    [0, 1, 2]
    >>> per_customer, per_period = customer_orders_of(counts)
    >>> per_period.sort("period", "orders").select("period", "orders").collect().rows()
    [(24289, 1), (24289, 2)]
    """
    return (
        orders.filter(pl.col("is_valid") & (pl.col("order_date") <= end))
        .group_by(_packed_key(orders, calendar))
        .agg((pl.col("order_date") >= start).sum().cast(pl.Int64).alias("orders"))
    )


def customer_orders_of(counts: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """:func:`customer_orders` of the window's orders from their :func:`activity_counts`
    (the pairs with orders in the window), or of any orders counted per packed key."""
    key = pl.col("key")
    per_period = counts.filter(pl.col("orders") > 0).select(
        _key_customer(key).alias("customer"), _key_period(key).alias("period"), "orders"
    )
    per_customer = per_period.group_by("customer").agg(pl.col("orders").sum())
    return per_customer, per_period


def period_retention(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date,
    end: dt.date,
    activity: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Period-over-period retention and the (E - N) / S formula, one row per period.

    For each period t of the window:

    * ``retained_customers``: customers active in t-1 who order again in t;
    * ``period_retention_rate`` = retained / ``customers_start`` (S, customers active in t-1);
    * ``crr_formula`` = (E - N) / S with E = customers active in t (``customers_end``)
      and N = customers whose first order ever is in t (``new_customers``). It
      differs from ``period_retention_rate`` when customers come back after a gap;
    * ``reactivated_customers``: customers active in t, not in t-1, whose first order
      is before t (they come back after a gap), so that E = new + retained +
      reactivated exactly;
    * ``lapsed_customers``: customers active in t-1 who do not order in t
      (S = retained + lapsed).

    The order history before the window is used for "first order ever" and for
    t-1 of the window's first period (pass all orders); orders after the window's
    end are ignored, also in a last period the window covers only in part. A first
    period the window covers only in part counts its orders before the window start.
    ``activity``: the :func:`activity_counts` of ``orders`` up to ``end``, when already
    there (its keys are the pairs counted here).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "b", "a", "c", "b"],
    ...     "order_date": [dt.date(2024, 1, 5), dt.date(2024, 1, 9), dt.date(2024, 2, 1),
    ...                    dt.date(2024, 2, 2), dt.date(2024, 3, 3)],
    ...     "is_valid": [True] * 5})
    >>> r = period_retention(o, start=dt.date(2024, 2, 1), end=dt.date(2024, 3, 31)).collect()
    >>> r.select("customers_start", "retained_customers", "new_customers",
    ...          "customers_end", "period_retention_rate", "crr_formula").rows()
    [(2, 1, 1, 2, 0.5, 0.5), (2, 0, 0, 1, 0.0, 0.5)]
    >>> r.select("lapsed_customers", "reactivated_customers").rows()
    [(1, 0), (2, 1)]
    """
    # one Int64 per (customer, period) with an order that counts (_activity_keys):
    # sorted, a customer's periods are consecutive rows, the first is their first
    # period ever, and the row before is the same customer one period earlier when the
    # keys differ by one; no join on the (customer, period) pair
    key, previous = pl.col("key"), pl.col("key").shift(1)
    first = (_key_customer(key) != _key_customer(previous)).fill_null(True)
    retained = (previous == key - 1).fill_null(False)
    in_t = (
        (activity.select("key") if activity is not None else _activity_keys(orders, calendar, end))
        .sort("key")
        .select(
            _key_period(key).alias("period"),
            first.alias("_first"),
            retained.alias("_retained"),
        )
        .group_by("period")
        .agg(
            pl.len().cast(pl.Int64).alias("customers_end"),
            pl.col("_retained").sum().cast(pl.Int64).alias("retained_customers"),
            pl.col("_first").sum().cast(pl.Int64).alias("new_customers"),
            (~pl.col("_retained") & ~pl.col("_first"))
            .sum()
            .cast(pl.Int64)
            .alias("reactivated_customers"),
        )
    )
    return retention_from_counts(in_t, calendar=calendar, start=start, end=end)


def retention_from_counts(
    counts: pl.LazyFrame, *, calendar: Calendar, start: dt.date, end: dt.date
) -> pl.LazyFrame:
    """:func:`period_retention` from its counts per period with customers:
    ``customers_end``, ``retained_customers``, ``new_customers`` and
    ``reactivated_customers`` (a period without a row counts 0 of each).

    >>> import datetime as dt, polars as pl
    >>> c = pl.LazyFrame({"period": [24288, 24289], "customers_end": [4, 3],
    ...     "retained_customers": [1, 2], "new_customers": [2, 1],
    ...     "reactivated_customers": [1, 0]}, schema_overrides={"period": pl.Int32})
    >>> retention_from_counts(c, calendar=MONTHLY, start=dt.date(2024, 2, 1),
    ...     end=dt.date(2024, 3, 31)).select("customers_start", "lapsed_customers",
    ...     "period_retention_rate", "crr_formula").collect().rows()
    [(4, 2, 0.5, 0.5), (3, 3, 0.0, 0.0)]
    """
    periods = calendar.periods(start, end).select("period")
    # S of period t is E of period t - 1; of S, those not retained lapsed
    starting = counts.select(
        (pl.col("period") + 1).alias("period"), pl.col("customers_end").alias("customers_start")
    )
    return (
        periods.join(starting, on="period", how="left")
        .join(counts, on="period", how="left")
        .with_columns(pl.col(pl.Int64).fill_null(0))
        .with_columns(
            (pl.col("customers_start") - pl.col("retained_customers")).alias("lapsed_customers"),
            ratio(pl.col("retained_customers"), pl.col("customers_start")).alias(
                "period_retention_rate"
            ),
            ratio(
                pl.col("customers_end") - pl.col("new_customers"), pl.col("customers_start")
            ).alias("crr_formula"),
            calendar.start("period").alias("period_start"),
        )
        .select(
            "period",
            "period_start",
            "customers_start",
            "retained_customers",
            "new_customers",
            "customers_end",
            "period_retention_rate",
            "crr_formula",
            "lapsed_customers",
            "reactivated_customers",
        )
        .sort("period")
    )


def crr_formula(customers_end: int, new_customers: int, customers_start: int) -> float | None:
    """The textbook retention formula (E - N) / S for one period, on plain numbers.

    >>> crr_formula(customers_end=110, new_customers=30, customers_start=100)
    0.8
    """
    if customers_start == 0:
        return None
    return (customers_end - new_customers) / customers_start


def cohort_retention(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date,
    end: dt.date,
) -> pl.LazyFrame:
    """Cohort matrix: customers grouped by the period of their first order ever.

    One row per (cohort, periods_since) for every cohort whose first period lies in
    the window and every offset up to the window's last period; a cohort is keyed
    by ``cohort`` and named by ``cohort_start`` and ``cohort_label`` (the calendar's
    label, as in the KPI series: ``2024-01``, ``2024 Q2``, ``FY2024/25 Q1``):

    * ``cohort_size``: customers whose first order is in the cohort period;
    * ``active_customers`` / ``retention_rate``: customers of the cohort with an
      order in exactly that period;
    * ``active_on_or_after`` / ``on_or_after_rate``: with an order in that period or
      any later one up to the window end;
    * ``cell``: ``complete``, or ``partial`` when the window ends before the period
      does (the number may still grow), or ``not_observed`` when the period lies
      after the window; not-observed cells are null, never zero.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "b", "a", "c"],
    ...     "order_date": [dt.date(2024, 1, 5), dt.date(2024, 1, 9), dt.date(2024, 2, 1),
    ...                    dt.date(2024, 2, 2)], "is_valid": [True] * 4})
    >>> m = cohort_retention(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 29)).collect()
    >>> m.select("cohort_label", "periods_since", "cohort_size", "active_customers",
    ...          "retention_rate", "cell").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('2024-01', 0, 2, 2, 1.0, 'complete'),
     ('2024-01', 1, 2, 1, 0.5, 'complete'),
     ('2024-02', 0, 1, 1, 1.0, 'complete'),
     ('2024-02', 1, 1, None, None, 'not_observed')]
    >>> cohort_retention(o, calendar=Calendar("quarter"), start=dt.date(2024, 1, 1),
    ...     end=dt.date(2024, 2, 29)).collect()["cohort_label"].to_list()
    ['2024 Q1']
    """
    first_p, last_p = calendar.key_of(start), calendar.key_of(end)
    active = _activity(orders, calendar, end).with_columns(
        pl.col("period").min().over("customer_id").alias("cohort")
    )
    observed = active.filter(
        pl.col("cohort").is_between(first_p, last_p) & (pl.col("period") <= last_p)
    )
    exact = (
        observed.group_by("cohort", "period")
        .agg(pl.len().cast(pl.Int64).alias("active_customers"))
        .with_columns((pl.col("period") - pl.col("cohort")).alias("periods_since"))
    )
    last_seen = (
        observed.group_by("customer_id", "cohort")
        .agg((pl.col("period").max() - pl.col("cohort").first()).alias("reach"))
        .group_by("cohort", "reach")
        .agg(pl.len().cast(pl.Int64).alias("n"))
    )
    span = last_p - first_p
    grid = pl.LazyFrame(
        {"cohort": pl.int_range(first_p, last_p + 1, eager=True, dtype=pl.Int32)}
    ).join(
        pl.LazyFrame({"periods_since": pl.int_range(0, span + 1, eager=True, dtype=pl.Int32)}),
        how="cross",
    )
    # customers reaching offset k or later = those whose last active offset >= k
    on_or_after = (
        grid.join(last_seen, on="cohort", how="inner")
        .filter(pl.col("reach") >= pl.col("periods_since"))
        .group_by("cohort", "periods_since")
        .agg(pl.col("n").sum().alias("active_on_or_after"))
    )
    sizes = (
        observed.filter(pl.col("period") == pl.col("cohort"))
        .group_by("cohort")
        .agg(pl.len().cast(pl.Int64).alias("cohort_size"))
    )
    cell_period = pl.col("cohort") + pl.col("periods_since")
    return (
        grid.join(sizes, on="cohort", how="inner")
        .join(
            exact.select("cohort", "periods_since", "active_customers"),
            on=["cohort", "periods_since"],
            how="left",
        )
        .join(on_or_after, on=["cohort", "periods_since"], how="left")
        .with_columns(
            pl.when(cell_period > last_p)
            .then(pl.lit("not_observed"))
            .when((cell_period == last_p) & (calendar.end(cell_period) > pl.lit(end)))
            .then(pl.lit("partial"))
            .otherwise(pl.lit("complete"))
            .alias("cell")
        )
        .with_columns(
            pl.when(pl.col("cell") != "not_observed")
            .then(pl.col(c).fill_null(0))
            .otherwise(None)
            .alias(c)
            for c in ("active_customers", "active_on_or_after")
        )
        .with_columns(
            ratio(pl.col("active_customers"), pl.col("cohort_size")).alias("retention_rate"),
            ratio(pl.col("active_on_or_after"), pl.col("cohort_size")).alias("on_or_after_rate"),
            calendar.start("cohort").alias("cohort_start"),
            calendar.label("cohort").alias("cohort_label"),
        )
        .select(
            "cohort",
            "cohort_start",
            "cohort_label",
            "periods_since",
            "cohort_size",
            "active_customers",
            "retention_rate",
            "active_on_or_after",
            "on_or_after_rate",
            "cell",
        )
        .sort("cohort", "periods_since")
    )


def channel_states(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date,
    end: dt.date,
) -> pl.LazyFrame:
    """Each customer's channel state in each period of the window.

    States: ``offline-only``, ``hybrid`` (orders in both channels), ``online-only``,
    or ``inactive`` (no order that counts). A customer appears from the period of
    their first order ever (or the window's first period, if later) to the window's
    last period. Columns: ``customer_id``, ``period``, ``online_orders``,
    ``offline_orders``, ``state``.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a"],
    ...     "order_date": [dt.date(2024, 1, 5), dt.date(2024, 1, 9), dt.date(2024, 3, 1)],
    ...     "is_online": [False, True, True], "is_valid": [True] * 3})
    >>> s = channel_states(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31)).collect()
    >>> s["state"].to_list()
    ['hybrid', 'inactive', 'online-only']
    """
    first_p, last_p = calendar.key_of(start), calendar.key_of(end)
    valid = orders.filter(pl.col("is_valid") & (pl.col("order_date") <= end)).with_columns(
        calendar.key("order_date").alias("period")
    )
    counts = (
        valid.filter(pl.col("period") >= first_p)
        .group_by("customer_id", "period")
        .agg(
            pl.col("is_online").sum().cast(pl.Int64).alias("online_orders"),
            (~pl.col("is_online")).sum().cast(pl.Int64).alias("offline_orders"),
        )
    )
    spans = valid.group_by("customer_id").agg(
        pl.max_horizontal(pl.col("period").min(), pl.lit(first_p, dtype=pl.Int32)).alias("_from")
    )
    grid = spans.select(
        "customer_id",
        pl.int_ranges(pl.col("_from"), last_p + 1, dtype=pl.Int32).alias("period"),
    ).explode("period")
    state = (
        pl.when((pl.col("online_orders") > 0) & (pl.col("offline_orders") > 0))
        .then(pl.lit("hybrid"))
        .when(pl.col("online_orders") > 0)
        .then(pl.lit("online-only"))
        .when(pl.col("offline_orders") > 0)
        .then(pl.lit("offline-only"))
        .otherwise(pl.lit("inactive"))
    )
    return (
        grid.join(counts, on=["customer_id", "period"], how="left")
        .with_columns(pl.col("online_orders", "offline_orders").fill_null(0))
        .with_columns(state.alias("state"))
        .sort("customer_id", "period")
    )


def channel_transitions(states: pl.LazyFrame) -> pl.LazyFrame:
    """Customers moving from each state in period t-1 to each state in t.

    Takes :func:`channel_states`; returns ``period``, ``from_state``, ``to_state``,
    ``customers`` for every consecutive pair of periods (a customer's first period
    has no transition). Sum over ``period`` for the overall transition matrix.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "order_date": [dt.date(2024, 1, 5), dt.date(2024, 2, 9)] * 2,
    ...     "is_online": [False, True, True, True], "is_valid": [True] * 4})
    >>> s = channel_states(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 29))
    >>> channel_transitions(s).collect().select("from_state", "to_state", "customers").rows()
    [('offline-only', 'online-only', 1), ('online-only', 'online-only', 1)]
    """
    # states has one row per customer and period, so joining each row to the same
    # customer's row of the period before pairs consecutive periods without sorting
    previous = states.select(
        "customer_id", (pl.col("period") + 1).alias("period"), pl.col("state").alias("from_state")
    )
    return (
        states.join(previous, on=["customer_id", "period"], how="inner")
        .group_by("period", "from_state", pl.col("state").alias("to_state"))
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .sort("period", "from_state", "to_state")
    )


def customer_firsts(
    orders: pl.LazyFrame, *, end: dt.date | None = None, since: dt.date | None = None
) -> pl.LazyFrame:
    """Per customer with an order that counts up to ``end``: ``code``
    (:func:`customer_index`; ``customer_id`` must be :func:`indexed`),
    ``first_order_date`` and ``first_online_date`` (null when the customer never ordered
    online) and, with ``since``, ``revenue_since``: the net revenue of those orders
    dated after ``since`` (0 without any). Collected once, it is looked up by code
    (:func:`by_index`) by :func:`online_adoption`, :func:`aov_before_after_online`, the
    sales effort (:func:`b2b_analysis.bridge.sales_effort`) and the account lists.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 5, 2)],
    ...     "is_online": [False, True, False], "is_valid": [True] * 3},
    ...     schema_overrides={"customer_id": pl.Categorical})
    >>> customer_firsts(o).sort("first_order_date").collect().drop("code").rows()
    [(datetime.date(2024, 1, 1), datetime.date(2024, 1, 5)), (datetime.date(2024, 1, 2), None)]
    """
    day = pl.col("order_date")
    return (
        orders.filter(pl.col("is_valid") & _in_window("order_date", None, end))
        .group_by(customer_index().alias("code"))
        .agg(
            day.min().alias("first_order_date"),
            pl.when(pl.col("is_online")).then(day).min().alias("first_online_date"),
            *(
                [pl.when(day > since).then(pl.col("revenue")).sum().alias("revenue_since")]
                if since is not None
                else []
            ),
        )
    )


def _adoption_rows(
    orders: pl.LazyFrame,
    *,
    start: dt.date | None,
    end: dt.date | None,
    firsts: pl.DataFrame | None,
) -> pl.LazyFrame:
    """Per customer whose first online order that counts (up to ``end``) is dated
    ``start..end``, from their orders that count up to ``end``: ``first_online_date``;
    the orders after that day (``later_orders``, ``later_online_orders``,
    ``_first_offline_after``, ``_revenue_later``, ``_last_order_date``) and on days
    before it and from it on (``orders_before``, ``orders_after``, ``aov_before``,
    ``aov_after``). One group-by serves :func:`online_adoption` and
    :func:`aov_before_after_online`; the first online order's day is looked up in
    ``firsts`` (:func:`customer_firsts` over the same orders and ``end``) when given,
    else joined."""
    valid = orders.filter(pl.col("is_valid") & _in_window("order_date", None, end))
    if firsts is None:
        first_online = (
            valid.filter(pl.col("is_online"))
            .group_by("customer_id")
            .agg(pl.col("order_date").min().alias("first_online_date"))
            .filter(_in_window("first_online_date", start, end))
        )
        rows = valid.join(first_online, on="customer_id", how="inner")
    else:
        first = by_index(firsts, "first_online_date", customer_index())
        rows = valid.with_columns(first.alias("first_online_date")).filter(
            _in_window("first_online_date", start, end) & pl.col("first_online_date").is_not_null()
        )
    day, online, revenue = pl.col("order_date"), pl.col("is_online"), pl.col("revenue")
    later, after = day > pl.col("first_online_date"), day >= pl.col("first_online_date")
    amounts = []
    if "revenue" in orders.collect_schema():
        # masked (null elsewhere) rather than filtered: the group-by's faster aggregations
        amounts = [
            pl.when(later).then(revenue).sum().alias("_revenue_later"),
            pl.when(~after).then(revenue).mean().alias("aov_before"),
            pl.when(after).then(revenue).mean().alias("aov_after"),
        ]
    return rows.group_by("customer_id").agg(
        pl.col("first_online_date").first(),
        later.sum().cast(pl.Int64).alias("later_orders"),
        (later & online).sum().cast(pl.Int64).alias("later_online_orders"),
        pl.when(later & ~online).then(day).min().alias("_first_offline_after"),
        pl.when(later).then(day).max().alias("_last_order_date"),
        (~after).sum().cast(pl.Int64).alias("orders_before"),
        after.sum().cast(pl.Int64).alias("orders_after"),
        *amounts,
    )


def online_adoption(
    orders: pl.LazyFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """One row per customer whose first online order ever falls in the window.

    Columns: ``customer_id``, ``first_online_date``, ``later_orders`` (orders that
    count, in the window, on a later day than the first online order),
    ``later_online_orders``, ``retained_online`` (at least one later online order),
    ``reverted_to_offline`` (has later orders and all are offline; null without
    later orders), ``days_to_revert`` (first online order to the first later
    offline order, for customers who reverted). ``firsts``: :func:`customer_firsts` of
    ``orders`` up to ``end``, collected, to look the first online orders up instead of
    finding them again.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 5, 20, 2, 3)],
    ...     "is_online": [False, True, False, True, True], "is_valid": [True] * 5})
    >>> online_adoption(o).collect().select("customer_id", "retained_online",
    ...     "reverted_to_offline", "days_to_revert").rows()
    [('a', False, True, 15), ('b', True, False, None)]
    """
    return adoption_view(adoption_summary(orders, start=start, end=end, firsts=firsts))


def adoption_view(summary: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`online_adoption`'s columns of an :func:`adoption_summary` (collected once
    when several frames are derived from it)."""
    return summary.select(
        "customer_id",
        "first_online_date",
        "later_orders",
        "later_online_orders",
        "retained_online",
        "reverted_to_offline",
        "days_to_revert",
    )


def adoption_summary(
    orders: pl.LazyFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """:func:`online_adoption` with the sums behind it: ``_revenue_later`` and
    ``_last_order_date`` of the orders after the first online order's day (``revenue``
    is needed), ``orders_before``, ``orders_after``, ``aov_before``, ``aov_after``
    (:func:`aov_before_after_online`), ``_first_offline_after``. Sorted by customer."""
    return (
        _adoption_rows(orders, start=start, end=end, firsts=firsts)
        .with_columns(
            (pl.col("later_online_orders") > 0).alias("retained_online"),
            pl.when(pl.col("later_orders") > 0)
            .then(pl.col("later_online_orders") == 0)
            .otherwise(None)
            .alias("reverted_to_offline"),
        )
        .with_columns(
            pl.when(pl.col("reverted_to_offline"))
            .then((pl.col("_first_offline_after") - pl.col("first_online_date")).dt.total_days())
            .otherwise(None)
            .alias("days_to_revert")
        )
        .sort("customer_id")
    )


def online_retention_rate(retained: str = "retained_online") -> pl.Expr:
    """Share of new online customers (first online order in the window) who order
    online again on a later day in the window. Use on :func:`online_adoption`.

    >>> import polars as pl
    >>> pl.DataFrame({"retained_online": [True, False, True, True]}).select(
    ...     online_retention_rate()).item()
    0.75
    """
    return ratio(pl.col(retained).sum(), pl.col(retained).count()).alias("online_retention_rate")


def reverted_to_offline_share(reverted: str = "reverted_to_offline") -> pl.Expr:
    """Share of new online customers with later orders whose later orders are all offline.

    Use on :func:`online_adoption`; customers without later orders are left out of
    the denominator (they did not choose a channel yet).

    >>> import polars as pl
    >>> pl.DataFrame({"reverted_to_offline": [True, False, None, False]}).select(
    ...     reverted_to_offline_share()).item()
    0.3333333333333333
    """
    flags = pl.col(reverted).drop_nulls()
    return ratio(flags.sum(), flags.count()).alias("reverted_to_offline_share")


def orders_per_customer(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.LazyFrame:
    """Orders per active customer in each period of the window, by channel.

    ``active_customers`` are customers with any order that counts in the period;
    ``online_orders_per_customer + offline_orders_per_customer`` is their total
    order frequency. Only orders dated ``start..end`` count (either bound may be
    ``None``: no limit on that side).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": [dt.date(2024, 1, 5)] * 3, "is_online": [True, True, False],
    ...     "is_valid": [True] * 3})
    >>> orders_per_customer(o).collect().select("active_customers",
    ...     "online_orders_per_customer", "offline_orders_per_customer").row(0)
    (2, 1.0, 0.5)
    """
    return (
        with_period(_window_valid(orders, start, end), calendar)
        .group_by("period")
        .agg(
            pl.col("customer_id").n_unique().cast(pl.Int64).alias("active_customers"),
            pl.col("is_online").sum().cast(pl.Int64).alias("online_orders"),
            (~pl.col("is_online")).sum().cast(pl.Int64).alias("offline_orders"),
        )
        .with_columns(
            ratio(pl.col("online_orders"), pl.col("active_customers")).alias(
                "online_orders_per_customer"
            ),
            ratio(pl.col("offline_orders"), pl.col("active_customers")).alias(
                "offline_orders_per_customer"
            ),
            calendar.start("period").alias("period_start"),
        )
        .sort("period")
    )


def _window_valid(orders: pl.LazyFrame, start: dt.date | None, end: dt.date | None) -> pl.LazyFrame:
    """Orders dated ``start..end`` that count."""
    return orders.filter(_in_window("order_date", start, end)).filter(pl.col("is_valid"))


def _by_period_and_channel(
    orders: pl.LazyFrame, calendar: Calendar, start: dt.date | None, end: dt.date | None
) -> pl.LazyFrame:
    """Orders that count in the window, with their ``period`` key and ``channel``."""
    return with_period(_window_valid(orders, start, end), calendar).with_columns(
        pl.when(pl.col("is_online"))
        .then(pl.lit("online"))
        .otherwise(pl.lit("offline"))
        .alias("channel")
    )


def aov_by_channel(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.LazyFrame:
    """AOV per period and channel (``online`` / ``offline``), long format.

    Only orders that count dated ``start..end`` are used (``None``: no limit).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"revenue": [10.0, 30.0, 200.0],
    ...     "order_date": [dt.date(2024, 1, 5)] * 3, "is_online": [True, True, False],
    ...     "is_valid": [True] * 3})
    >>> aov_by_channel(o).collect().select("channel", "orders", "average_order_value").rows()
    [('offline', 1, 200.0), ('online', 2, 20.0)]
    """
    return (
        _by_period_and_channel(orders, calendar, start, end)
        .group_by("period", "channel")
        .agg(
            pl.len().cast(pl.Int64).alias("orders"),
            pl.col("revenue").sum().alias("net_revenue"),
            pl.col("revenue").mean().alias("average_order_value"),
        )
        .with_columns(calendar.start("period").alias("period_start"))
        .sort("period", "channel")
    )


def customer_aov_comparison(
    orders: pl.LazyFrame, *, start: dt.date | None = None, end: dt.date | None = None
) -> pl.LazyFrame:
    """Per customer with orders in both channels: online AOV against offline AOV.

    Columns: ``customer_id``, ``online_orders``, ``offline_orders``,
    ``online_aov``, ``offline_aov``, ``aov_difference`` (online - offline),
    ``aov_ratio`` (online / offline). Only orders that count dated ``start..end``
    are used (``None``: no limit).

    >>> import polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a", "b"], "revenue": [50.0, 70.0, 200.0, 9.0],
    ...     "is_online": [True, True, False, True], "is_valid": [True] * 4})
    >>> customer_aov_comparison(o).collect().select("customer_id", "online_aov",
    ...     "offline_aov", "aov_ratio").rows()
    [('a', 60.0, 200.0, 0.3)]
    """
    return (
        _window_valid(orders, start, end)
        .group_by("customer_id")
        .agg(
            pl.col("is_online").sum().cast(pl.Int64).alias("online_orders"),
            (~pl.col("is_online")).sum().cast(pl.Int64).alias("offline_orders"),
            # masked rather than filtered: the group-by's faster aggregations
            pl.when(pl.col("is_online")).then(pl.col("revenue")).mean().alias("online_aov"),
            pl.when(~pl.col("is_online")).then(pl.col("revenue")).mean().alias("offline_aov"),
        )
        .filter((pl.col("online_orders") > 0) & (pl.col("offline_orders") > 0))
        .with_columns(
            (pl.col("online_aov") - pl.col("offline_aov")).alias("aov_difference"),
            ratio(pl.col("online_aov"), pl.col("offline_aov")).alias("aov_ratio"),
        )
        .sort("customer_id")
    )


def aov_before_after_online(
    orders: pl.LazyFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Per customer: AOV before their first online order against AOV after it.

    "Before" takes orders on days before the first online order (all channels,
    any date: history before the window counts); "after" takes the first online
    order's day and later, up to the window end. Only customers whose first online
    order is in the window and who have orders on both sides appear. Columns:
    ``customer_id``, ``first_online_date``, ``orders_before``, ``orders_after``,
    ``aov_before``, ``aov_after``, ``aov_shift`` (after - before), ``aov_shift_ratio``.
    ``firsts`` as in :func:`online_adoption`.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a"] * 4,
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 2, 3, 4)],
    ...     "revenue": [100.0, 300.0, 50.0, 150.0],
    ...     "is_online": [False, False, True, False], "is_valid": [True] * 4})
    >>> aov_before_after_online(o).collect().select("aov_before", "aov_after", "aov_shift").row(0)
    (200.0, 100.0, -100.0)
    """
    return aov_shift_view(_adoption_rows(orders, start=start, end=end, firsts=firsts))


def aov_shift_view(summary: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`aov_before_after_online` of an :func:`adoption_summary` (or of the rows
    behind it): the customers with orders on both sides, their AOV shift."""
    return (
        summary.filter((pl.col("orders_before") > 0) & (pl.col("orders_after") > 0))
        .with_columns(
            (pl.col("aov_after") - pl.col("aov_before")).alias("aov_shift"),
            ratio(pl.col("aov_after"), pl.col("aov_before")).alias("aov_shift_ratio"),
        )
        .select(
            "customer_id",
            "first_online_date",
            "orders_before",
            "orders_after",
            "aov_before",
            "aov_after",
            "aov_shift",
            "aov_shift_ratio",
        )
        .sort("customer_id")
    )


def basket_by_channel(
    orders: pl.LazyFrame,
    order_lines: pl.LazyFrame | None = None,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pl.LazyFrame:
    """Lines and distinct categories per order, per period and channel.

    The cross-sell / upsell signal: with ``order_lines``, lines are counted from
    it and categories are distinct non-empty ``category`` values per order (orders
    without any line there are left out); without it, the orders' own ``lines``
    column is used and categories are null. Only orders that count dated
    ``start..end`` are used (``None``: no limit).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"order_id": ["1", "2"], "order_date": [dt.date(2024, 1, 5)] * 2,
    ...     "is_online": [True, False], "is_valid": [True, True]})
    >>> lines = pl.LazyFrame({"order_id": ["1", "1", "1", "2"], "sku": ["x", "y", "z", "x"],
    ...     "category": ["a", "b", "b", "a"]})
    >>> basket_by_channel(o, lines).collect().select(
    ...     "channel", "lines_per_order", "categories_per_order").rows()
    [('offline', 1.0, 1.0), ('online', 3.0, 2.0)]
    """
    base = _by_period_and_channel(orders, calendar, start, end)
    if order_lines is not None:
        has_category = "category" in order_lines.collect_schema().names()
        per_order = order_lines.group_by("order_id").agg(
            pl.len().cast(pl.Int64).alias("_lines"),
            (
                pl.col("category").drop_nulls().n_unique()
                if has_category
                else pl.lit(None, pl.UInt32)
            )
            .cast(pl.Int64)
            .alias("_categories"),
        )
        base = base.join(per_order, on="order_id", how="inner")
    else:
        base = base.with_columns(
            pl.col("lines").alias("_lines"), pl.lit(None, pl.Int64).alias("_categories")
        )
    return (
        base.group_by("period", "channel")
        .agg(
            pl.len().cast(pl.Int64).alias("orders"),
            pl.col("_lines").mean().alias("lines_per_order"),
            pl.col("_categories").mean().alias("categories_per_order"),
        )
        .with_columns(calendar.start("period").alias("period_start"))
        .sort("period", "channel")
    )


def retention_by_satisfaction(
    orders: pl.LazyFrame,
    surveys: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
) -> pl.LazyFrame:
    """Do satisfied customers stay? Repeat-order rate by the customer's latest answer.

    Each customer's latest csat answer in the window (of two on the same day, the
    higher) bands them ``satisfied``
    (4-5) or ``not satisfied`` (1-3); customers with no csat answer are left out.
    For each band: ``customers`` (banded customers with an order in the window),
    ``repeat_customers`` (2 or more orders) and ``customer_retention_rate``.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "order_date": [dt.date(2024, 1, 1)] * 4, "is_valid": [True] * 4})
    >>> s = pl.LazyFrame({"customer_id": ["a", "b", "c"], "kind": ["csat"] * 3,
    ...     "score": [5.0, 2.0, 4.0], "response_date": [dt.date(2024, 1, 2)] * 3})
    >>> retention_by_satisfaction(o, s, start=dt.date(2024, 1, 1),
    ...     end=dt.date(2024, 1, 31)).collect().rows()
    [('not satisfied', 1, 0, 0.0), ('satisfied', 2, 1, 0.5)]
    """
    latest = (
        surveys.filter((pl.col("kind") == "csat") & _in_window("response_date", start, end))
        .sort("response_date", "score")
        .group_by("customer_id")
        .agg(pl.col("score").last())
        .with_columns(
            pl.when(pl.col("score") >= 4)
            .then(pl.lit("satisfied"))
            .otherwise(pl.lit("not satisfied"))
            .alias("band")
        )
    )
    per_customer = (
        orders.filter(pl.col("is_valid") & _in_window("order_date", start, end))
        .group_by("customer_id")
        .agg(pl.len().alias("_orders"))
    )
    return (
        per_customer.join(latest, on="customer_id", how="inner")
        .group_by("band")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            (pl.col("_orders") >= 2).sum().cast(pl.Int64).alias("repeat_customers"),
        )
        .with_columns(
            ratio(pl.col("repeat_customers"), pl.col("customers")).alias("customer_retention_rate")
        )
        .sort("band")
    )


# ------------------------------------------------------------ frames behind the charts


def channel_state_counts(
    states: pl.LazyFrame, *, calendar: Calendar = MONTHLY, include_inactive: bool = False
) -> pl.LazyFrame:
    """Customers per period and channel state, from :func:`channel_states`.

    One row per (period, state) with customers in it: ``state``, ``customers``,
    ``period_start``, ``period_label`` and ``share`` (customers / customers of
    the period counted here; inactive customers are left out of both unless
    ``include_inactive``). Sorted by period, then state.

    >>> import datetime as dt, polars as pl
    >>> s = pl.LazyFrame({"customer_id": ["a", "b", "c", "a"], "period": [24288] * 3 + [24289],
    ...     "state": ["hybrid", "hybrid", "online-only", "inactive"]},
    ...     schema_overrides={"period": pl.Int32})
    >>> channel_state_counts(s).collect()
    shape: (2, 5)
    ┌─────────────┬───────────┬──────────────┬──────────────┬──────────┐
    │ state       ┆ customers ┆ period_start ┆ period_label ┆ share    │
    │ ---         ┆ ---       ┆ ---          ┆ ---          ┆ ---      │
    │ str         ┆ i64       ┆ date         ┆ str          ┆ f64      │
    ╞═════════════╪═══════════╪══════════════╪══════════════╪══════════╡
    │ hybrid      ┆ 2         ┆ 2024-01-01   ┆ 2024-01      ┆ 0.666667 │
    │ online-only ┆ 1         ┆ 2024-01-01   ┆ 2024-01      ┆ 0.333333 │
    └─────────────┴───────────┴──────────────┴──────────────┴──────────┘
    """
    if not include_inactive:
        states = states.filter(pl.col("state") != "inactive")
    return (
        states.group_by("period", "state")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .with_columns(
            calendar.start("period").alias("period_start"),
            calendar.label("period").alias("period_label"),
            (pl.col("customers") / pl.col("customers").sum().over("period")).alias("share"),
        )
        .drop("period")
        .sort("period_start", "state")
    )


def _adoption_outcome() -> pl.Expr:
    """What became of a new online customer (``retained_online``, ``reverted_to_offline``
    of :func:`online_adoption`): retained online, reverted to offline, or no later order."""
    return (
        pl.when(pl.col("retained_online"))
        .then(pl.lit("retained online"))
        .when(pl.col("reverted_to_offline"))
        .then(pl.lit("reverted to offline"))
        .otherwise(pl.lit("no later order"))
    )


def adoption_outcomes(adoption: pl.LazyFrame) -> pl.LazyFrame:
    """New online customers per calendar month of their first online order, by outcome.

    From :func:`online_adoption`. ``outcome`` is ``retained online`` (ordered
    online again), ``reverted to offline`` (later orders all offline) or ``no
    later order``. Columns: ``month`` (first day of the calendar month, whatever
    the report's period), ``outcome``, ``customers``, ``median_days_to_revert``
    (null unless reverted) and ``share`` (customers / new online customers of
    the month). Sorted by month, then outcome.

    >>> import datetime as dt, polars as pl
    >>> a = pl.LazyFrame({"first_online_date": [dt.date(2024, 1, d) for d in (3, 9, 20)],
    ...     "retained_online": [True, False, False], "reverted_to_offline": [False, True, None],
    ...     "days_to_revert": [None, 12, None]})
    >>> adoption_outcomes(a).collect().select("outcome", "customers", "share").rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [('no later order', 1, 0.3333333333333333), ('retained online', 1, 0.3333333333333333),
     ('reverted to offline', 1, 0.3333333333333333)]
    """
    outcome = _adoption_outcome()
    return (
        adoption.with_columns(
            pl.col("first_online_date").dt.truncate("1mo").alias("month"), outcome.alias("outcome")
        )
        .group_by("month", "outcome")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("days_to_revert").median().alias("median_days_to_revert"),
        )
        .with_columns(
            (pl.col("customers") / pl.col("customers").sum().over("month")).alias("share")
        )
        .sort("month", "outcome")
    )


def adoption_outcomes_by_period(
    adoption: pl.LazyFrame, *, calendar: Calendar = MONTHLY
) -> pl.LazyFrame:
    """:func:`adoption_outcomes` per period of ``calendar`` (the report's period).

    Columns: ``period_start``, ``period_label``, ``outcome``, ``customers``,
    ``median_days_to_revert`` and ``share`` (customers / new online customers of
    the period). Sorted by period, then outcome.

    >>> import datetime as dt, polars as pl
    >>> a = pl.LazyFrame({"first_online_date": [dt.date(2024, 1, 3), dt.date(2024, 3, 9)],
    ...     "retained_online": [True, False], "reverted_to_offline": [False, True],
    ...     "days_to_revert": [None, 12]})
    >>> adoption_outcomes_by_period(a, calendar=Calendar("quarter")).collect().select(
    ...     "period_label", "outcome", "customers", "share").rows()
    [('2024 Q1', 'retained online', 1, 0.5), ('2024 Q1', 'reverted to offline', 1, 0.5)]
    """
    outcome = _adoption_outcome()
    return (
        adoption.with_columns(
            calendar.key("first_online_date").alias("period"), outcome.alias("outcome")
        )
        .group_by("period", "outcome")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("days_to_revert").median().alias("median_days_to_revert"),
        )
        .with_columns(
            (pl.col("customers") / pl.col("customers").sum().over("period")).alias("share"),
            calendar.start("period").alias("period_start"),
            calendar.label("period").alias("period_label"),
        )
        .sort("period", "outcome")
        .select(
            "period_start", "period_label", "outcome", "customers", "median_days_to_revert", "share"
        )
    )


#: Bands of a change (ratio - 1) for :func:`change_bands`: bounds as fractions.
CHANGE_EDGES: tuple[float, ...] = (-0.5, -0.25, -0.1, 0.1, 0.25, 0.5, 1.0)


def change_bands(
    frame: pl.LazyFrame, ratio_column: str, *, edges: tuple[float, ...] = CHANGE_EDGES
) -> pl.LazyFrame:
    """Customers per band of change, for a ratio column (1 = unchanged, 2 = doubled).

    The change is ``ratio - 1``; the bands are ``(-inf, edges[0])``, ``[edges[0],
    edges[1])``, ... ``[edges[-1], inf)``, every band listed (0 customers when
    empty). Null and non-positive ratios are left out. Columns: ``band`` (0-based),
    ``low`` and ``high`` (the band's bounds as changes; null when open),
    ``customers`` and ``share`` (of the customers counted; null when none).

    >>> import polars as pl
    >>> f = pl.LazyFrame({"r": [0.4, 1.0, 1.05, 3.0, None, 0.0]})
    >>> change_bands(f, "r", edges=(-0.5, 0.1, 1.0)).collect().rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [(0, None, -0.5, 1, 0.25), (1, -0.5, 0.1, 2, 0.5), (2, 0.1, 1.0, 0, 0.0),
     (3, 1.0, None, 1, 0.25)]
    """
    bounds = [None, *edges, None]
    bands = pl.LazyFrame(
        {
            "band": list(range(len(edges) + 1)),
            "low": bounds[:-1],
            "high": bounds[1:],
        },
        schema={"band": pl.Int64, "low": pl.Float64, "high": pl.Float64},
    )
    change = pl.col(ratio_column) - 1
    band = pl.lit(0, dtype=pl.Int64)
    for edge in edges:
        band = band + (change >= edge).cast(pl.Int64)
    counts = (
        frame.filter(pl.col(ratio_column) > 0)
        .select(band.alias("band"))
        .group_by("band")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
    )
    return (
        bands.join(counts, on="band", how="left")
        .with_columns(pl.col("customers").fill_null(0))
        .with_columns(ratio(pl.col("customers"), pl.col("customers").sum()).alias("share"))
        .sort("band")
    )


def cohort_table(
    cohorts: pl.LazyFrame | pl.DataFrame, *, rate: str = "retention_rate"
) -> pl.LazyFrame:
    """The cohort matrix as a table: each observed cell, plus an average row.

    From :func:`cohort_retention`. One row per observed cell (``row`` =
    ``cohort``) with ``cohort_label``, ``cohort_size``, ``periods_since``,
    ``value`` (``rate``) and ``cell`` (``complete`` or ``partial``), then one
    ``average`` row per ``periods_since``: the customers active in that offset
    over the customers of the cohorts whose cell is complete (a weighted average;
    ``cohort_size`` is those cohorts' customers, ``cohort_label`` null). ``rate``
    is ``retention_rate`` (active in exactly that period) or ``on_or_after_rate``.

    >>> import polars as pl
    >>> c = pl.LazyFrame({"cohort": [1, 1, 2, 2], "cohort_label": ["A", "A", "B", "B"],
    ...     "cohort_size": [10, 10, 30, 30], "periods_since": [0, 1, 0, 1],
    ...     "active_customers": [10, 5, 30, 3], "retention_rate": [1.0, 0.5, 1.0, 0.1],
    ...     "cell": ["complete", "complete", "complete", "partial"]})
    >>> cohort_table(c).collect().select("row", "cohort_label", "periods_since",
    ...     "cohort_size", "value").rows()  # doctest: +NORMALIZE_WHITESPACE
    [('cohort', 'A', 0, 10, 1.0), ('cohort', 'A', 1, 10, 0.5), ('cohort', 'B', 0, 30, 1.0),
     ('cohort', 'B', 1, 30, 0.1), ('average', None, 0, 40, 1.0), ('average', None, 1, 10, 0.5)]
    """
    active = {"retention_rate": "active_customers", "on_or_after_rate": "active_on_or_after"}[rate]
    cells = (
        cohorts.lazy()
        .filter(pl.col("cell") != "not_observed")
        .sort("cohort", "periods_since")
        .select(
            pl.lit("cohort").alias("row"),
            pl.col("cohort_label"),
            pl.col("cohort_size").cast(pl.Int64),
            pl.col("periods_since").cast(pl.Int64),
            pl.col(rate).alias("value"),
            pl.col("cell"),
            pl.col(active).cast(pl.Int64).alias("_active"),
        )
    )
    average = (
        cells.filter(pl.col("cell") == "complete")
        .group_by("periods_since")
        .agg(
            pl.col("cohort_size").sum().alias("cohort_size"),
            pl.col("_active").sum().alias("_active"),
        )
        .select(
            pl.lit("average").alias("row"),
            pl.lit(None, dtype=pl.String).alias("cohort_label"),
            pl.col("cohort_size"),
            pl.col("periods_since"),
            ratio(pl.col("_active"), pl.col("cohort_size")).alias("value"),
            pl.lit("complete").alias("cell"),
            pl.col("_active"),
        )
        .sort("periods_since")
    )
    return pl.concat([cells, average]).drop("_active")


def retention_curves(
    cohorts: pl.LazyFrame | pl.DataFrame,
    *,
    rate: str = "retention_rate",
    highlight: int = 3,
    min_points: int = 3,
) -> pl.LazyFrame:
    """The average retention curve with its band, and a few highlighted cohorts.

    From :func:`cohort_retention`, complete cells only. ``series`` ``average``: per
    ``periods_since``, ``value`` is the weighted average of the cohorts
    (:func:`cohort_table`'s average row), ``low`` and ``high`` the 25th and 75th
    percentiles of the cohorts' values (the middle half of the cohorts; linear
    interpolation), ``cohorts`` how many cohorts it rests on. Then the ``highlight``
    most recent cohorts with at least ``min_points`` complete cells, ``series`` their
    label, ``low``/``high`` null. The default ``rate`` is ``retention_rate`` (ordered in
    exactly that period): ``on_or_after_rate`` falls at every cohort's last observed
    offset because the window ends there (censoring), which reads like churn.

    >>> import polars as pl
    >>> c = pl.LazyFrame({"cohort": [1, 1, 2, 2, 3], "cohort_label": ["A", "A", "B", "B", "C"],
    ...     "cohort_size": [10, 10, 30, 30, 5], "periods_since": [0, 1, 0, 1, 0],
    ...     "on_or_after_rate": [1.0, 0.5, 1.0, 0.1, 1.0], "active_on_or_after": [10, 5, 30, 3, 5],
    ...     "cell": ["complete"] * 5})
    >>> retention_curves(c, rate="on_or_after_rate", highlight=1, min_points=2).collect().select(
    ...     "series", "periods_since", "value", "low", "high", "cohorts").rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [('average', 0, 1.0, 1.0, 1.0, 3), ('average', 1, 0.2, 0.2, 0.4, 2),
     ('B', 0, 1.0, None, None, 1), ('B', 1, 0.1, None, None, 1)]
    """
    table = cohort_table(cohorts, rate=rate).filter(pl.col("cell") == "complete")
    spread = (
        table.filter(pl.col("row") == "cohort")
        .group_by("periods_since")
        .agg(
            pl.col("value").quantile(0.25, interpolation="linear").alias("low"),
            pl.col("value").quantile(0.75, interpolation="linear").alias("high"),
            pl.len().cast(pl.Int64).alias("cohorts"),
        )
    )
    average = (
        table.filter(pl.col("row") == "average")
        .join(spread, on="periods_since", how="left")
        .select(
            pl.lit("average").alias("series"), "periods_since", "value", "low", "high", "cohorts"
        )
        .sort("periods_since")
    )
    points = table.filter(pl.col("row") == "cohort")
    chosen = (
        points.group_by("cohort_label")
        .agg(pl.len().alias("_points"))
        .filter(pl.col("_points") >= min_points)
        .sort("cohort_label", descending=True)
        .head(highlight)
        .select("cohort_label")
    )
    highlighted = (
        points.join(chosen, on="cohort_label", how="inner")
        .sort("cohort_label", "periods_since")
        .select(
            pl.col("cohort_label").alias("series"),
            "periods_since",
            "value",
            pl.lit(None, dtype=pl.Float64).alias("low"),
            pl.lit(None, dtype=pl.Float64).alias("high"),
            pl.lit(1, dtype=pl.Int64).alias("cohorts"),
        )
    )
    return pl.concat([average, highlighted])


def period_retention_by_satisfaction(
    orders: pl.LazyFrame,
    surveys: pl.LazyFrame,
    *,
    calendar: Calendar = MONTHLY,
    start: dt.date,
    end: dt.date,
) -> pl.LazyFrame:
    """Period retention by satisfaction band, with a 95 % Wilson interval.

    Each (customer, period) pair where the customer ordered in a period ``p`` of
    the window that is not its last period is banded by the customer's latest csat
    answer given on or before the end of ``p`` (of two on the same day, the
    higher): ``satisfied`` (4-5) or ``not satisfied`` (1-3); pairs without an
    answer by then are left out. Retained: the customer ordered in ``p + 1``. One
    row per band with pairs: ``band``, ``pairs``, ``retained``, ``rate``, ``low``,
    ``high``.

    >>> import datetime as dt, polars as pl
    >>> D = dt.date
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "order_date": [D(2024, 1, 5), D(2024, 2, 5), D(2024, 1, 9), D(2024, 3, 1)],
    ...     "is_valid": [True] * 4})
    >>> s = pl.LazyFrame({"customer_id": ["a", "b"], "kind": ["csat"] * 2,
    ...     "score": [5.0, 2.0], "response_date": [D(2024, 1, 20), D(2024, 1, 10)]})
    >>> period_retention_by_satisfaction(o, s, start=D(2024, 1, 1), end=D(2024, 3, 31)
    ...     ).collect().select("band", "pairs", "retained", "rate").rows()
    [('not satisfied', 1, 0, 0.0), ('satisfied', 2, 1, 0.5)]
    """
    from b2b_analysis.stats import wilson_interval

    last_p = calendar.key_of(end)
    active = (
        _activity(orders, calendar, end)
        .filter(pl.col("period").is_between(calendar.key_of(start), last_p - 1))
        .select("customer_id", "period")
    )
    following = _activity(orders, calendar, end).select(
        "customer_id", (pl.col("period") - 1).alias("period"), pl.lit(True).alias("retained")
    )
    answers = (
        surveys.filter((pl.col("kind") == "csat") & pl.col("score").is_not_null())
        .select(
            "customer_id",
            calendar.key("response_date").alias("answer_period"),
            "response_date",
            "score",
        )
        .sort("response_date", "score")
    )
    banded = (
        active.join(answers, on="customer_id", how="inner")
        .filter(pl.col("answer_period") <= pl.col("period"))
        .group_by("customer_id", "period")
        .agg(pl.col("score").sort_by("response_date", "score").last())
        .join(following, on=["customer_id", "period"], how="left")
        .with_columns(
            pl.col("retained").fill_null(False),
            pl.when(pl.col("score") >= 4)
            .then(pl.lit("satisfied"))
            .otherwise(pl.lit("not satisfied"))
            .alias("band"),
        )
    )
    interval = wilson_interval("retained", "pairs")
    return (
        banded.group_by("band")
        .agg(
            pl.len().cast(pl.Int64).alias("pairs"),
            pl.col("retained").sum().cast(pl.Int64).alias("retained"),
        )
        .with_columns(ratio(pl.col("retained"), pl.col("pairs")).alias("rate"))
        .with_columns(
            interval.struct.field("low").alias("low"), interval.struct.field("high").alias("high")
        )
        .sort("band")
    )


def aov_shift_histogram(shifts: pl.LazyFrame, *, bins: int = 40) -> pl.LazyFrame:
    """Customers binned by log2 of their AOV after / before going online.

    From :func:`aov_before_after_online`. Ratios are taken on a log2 scale (0 =
    unchanged, 1 = doubled), clipped to -3..3 and cut into ``bins`` equal bins;
    customers without a positive ratio are left out. One row per non-empty bin:
    ``customers``, ``bin_start`` and ``bin_end`` (log2), ``ratio_from`` and
    ``ratio_to`` (the same bounds as ratios). Sorted by bin.

    >>> import polars as pl
    >>> s = pl.LazyFrame({"aov_shift_ratio": [0.5, 1.0, 1.1, 64.0, None]})
    >>> aov_shift_histogram(s, bins=6).collect()
    shape: (3, 5)
    ┌───────────┬───────────┬─────────┬────────────┬──────────┐
    │ customers ┆ bin_start ┆ bin_end ┆ ratio_from ┆ ratio_to │
    │ ---       ┆ ---       ┆ ---     ┆ ---        ┆ ---      │
    │ i64       ┆ f64       ┆ f64     ┆ f64        ┆ f64      │
    ╞═══════════╪═══════════╪═════════╪════════════╪══════════╡
    │ 1         ┆ -1.0      ┆ 0.0     ┆ 0.5        ┆ 1.0      │
    │ 2         ┆ 0.0       ┆ 1.0     ┆ 1.0        ┆ 2.0      │
    │ 1         ┆ 2.0       ┆ 3.0     ┆ 4.0        ┆ 8.0      │
    └───────────┴───────────┴─────────┴────────────┴──────────┘
    """
    width = 6 / bins
    return (
        shifts.filter(pl.col("aov_shift_ratio") > 0)
        .select(pl.col("aov_shift_ratio").log(2).clip(-3, 3).alias("log2_ratio"))
        .with_columns(
            ((pl.col("log2_ratio") + 3) / width)
            .floor()
            .clip(0, bins - 1)
            .cast(pl.Int64)
            .alias("bin")
        )
        .group_by("bin")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .with_columns((pl.col("bin") * width - 3).alias("bin_start"))
        .with_columns(
            (pl.col("bin_start") + width).alias("bin_end"),
            (2 ** pl.col("bin_start")).alias("ratio_from"),
            (2 ** (pl.col("bin_start") + width)).alias("ratio_to"),
        )
        .drop("bin")
        .sort("bin_start")
    )
