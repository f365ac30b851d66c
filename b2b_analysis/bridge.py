"""What drove the change: the revenue bridge, the online-share bridge and the sales effort freed.

The **revenue bridge** compares the window's last complete period with (a) the period
before and (b) the same period a year earlier (same :class:`~b2b_analysis.periods.Calendar`:
12 months, 4 quarters, or the ISO week with the same number one ISO year earlier). Net
revenue is the product of three factors,

    revenue = customers x orders per customer x AOV

(customers with an order that counts, orders that count per customer, net revenue per
order that counts: cancelled and returned orders are left out, as in every KPI but gross
merchandise value), and its change is split into one part per factor by the **Shapley
split** (:func:`shapley_split`): each factor's part is its change valued at the other
factors' levels, averaged over every order in which the factors can be changed one at a
time. Why this one: the parts add up exactly to the change whatever the values (no
residual, no interaction term), they do not depend on an order of the factors, and,
unlike the log-mean Divisia (LMDI) split, no logarithm is taken, so a factor of 0 (a
period whose orders are all worth 0) needs no fallback. For small changes the two agree
to first order. A factor that is undefined in a period (orders per customer and AOV of a
period without orders) takes its value in the other period: its part is 0 and the whole
change goes to the factors that are defined (a period without orders: all to customers).

The **online-share bridge** splits the change of the online order share the same way,
with two factors:

    online share = reach x intensity
    reach     = online customers / customers            (customers who order online)
    intensity = (online orders / online customers) / (orders / customers)

``moved_online`` is reach's part (more or fewer of the period's customers ordering
online), ``ordered_more_often`` intensity's part (online customers placing more or fewer
online orders, relative to what the average customer orders in all channels). A period
without an online customer has reach 0 and intensity undefined (it takes the other
period's); a period without orders has no share, and the bridge's share fields are null.

**Sales effort freed** (:func:`sales_effort`) counts the orders that moved online. For a
customer who has adopted online (first online order that counts on or before the
period's last day), with ``s`` = their offline share before that first order (orders that
count on earlier days, any date before the window included):

    expected offline orders = orders in the period x s
    orders moved online     = expected offline orders - actual offline orders

summed over those customers, and ``hours = orders moved online x offline_order_minutes /
60``. Every order before a customer's first online order is offline, so ``s`` is 1 for a
customer with earlier orders, and undefined (the customer counts for nothing: they never
had an offline baseline) for a customer whose first order was online: the orders moved
online are then the online orders of customers who ordered offline before. The small
orders' part applies the same rule to the orders below the small-order threshold.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from b2b_analysis import metrics as m
from b2b_analysis.periods import Calendar, period_label

__all__ = [
    "Drivers",
    "Factors",
    "adopters",
    "base_periods",
    "compare",
    "drivers",
    "effort_hours",
    "period_factors",
    "sales_effort",
    "shapley_split",
    "waterfall",
]

#: The two comparisons of the bridge, in the order ``kpis.json`` lists them.
COMPARISONS: tuple[str, ...] = ("previous", "year_earlier")
#: How the waterfall names each comparison.
_AGAINST = {"previous": "the period before", "year_earlier": "a year earlier"}
#: Periods a year holds, by period (weeks: see :func:`base_periods`).
_YEAR = {"month": 12, "quarter": 4}


# ------------------------------------------------------------------ the split


def shapley_split(
    base: Sequence[float | None], current: Sequence[float | None]
) -> tuple[float, ...]:
    """The change of a product of factors, ``prod(current) - prod(base)``, split into one
    part per factor (Shapley): each part is the factor's change times the other factors,
    those already changed at their ``current`` and the others at their ``base`` values,
    averaged over every order of changing the factors one at a time. The parts add up
    to the change exactly (in exact arithmetic) for any values, zeros included.

    A factor that is ``None`` in one period takes its value in the other (its part is
    0); ``None`` in both is 0.

    With two factors each part is the change times the mean of the other factor's two
    values; with three, factor x's part is
    ``dx * ((y0 z0 + y1 z1) / 3 + (y0 z1 + y1 z0) / 6)``.

    Examples
    --------
    Revenue of 10 customers x 2 orders x 60 = 1,200 grows to 16 x 3 x 40 = 1,920:
    customers' part is 6 x (2 x (2 x 60 + 3 x 40) + 2 x 40 + 3 x 60) / 6 = 740.

    >>> shapley_split([10, 2, 60], [16, 3, 40])
    (740.0, 640.0, -660.0)
    >>> sum(shapley_split([10, 2, 60], [16, 3, 40])) == 16 * 3 * 40 - 10 * 2 * 60
    True
    >>> shapley_split([0, None, None], [4, 3, 25.0])  # no orders before: all to customers
    (300.0, 0.0, 0.0)
    """
    pairs = [_fill(b, c) for b, c in zip(base, current, strict=True)]
    n = len(pairs)
    parts = []
    for i, (b_i, c_i) in enumerate(pairs):
        others = [j for j in range(n) if j != i]
        # the weights' numerators size! (n - size - 1)!, divided by n! once at the end
        part = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1)
            for moved in itertools.combinations(others, size):
                level = math.prod(pairs[j][1] if j in moved else pairs[j][0] for j in others)
                part += weight * level
        parts.append((c_i - b_i) * part / math.factorial(n))
    return tuple(parts)


def _fill(base: float | None, current: float | None) -> tuple[float, float]:
    """A factor's two values, an undefined one taking the other's (0 when both are)."""
    if base is None:
        base = current
    if current is None:
        current = base
    return (float(base or 0.0), float(current or 0.0))


# ------------------------------------------------------------------ one period's factors


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Factors:
    """One period's totals over the orders that count.

    >>> f = Factors("2024-03", customers=4, orders=10, revenue=1000.0,
    ...             online_customers=2, online_orders=6)
    >>> f.orders_per_customer, f.aov, f.online_share, f.reach, f.intensity
    (2.5, 100.0, 0.6, 0.5, 1.2)
    """

    label: str
    customers: int = 0
    orders: int = 0
    revenue: float = 0.0
    online_customers: int = 0
    online_orders: int = 0

    @property
    def orders_per_customer(self) -> float | None:
        return _ratio(self.orders, self.customers)

    @property
    def aov(self) -> float | None:
        return _ratio(self.revenue, self.orders)

    @property
    def online_share(self) -> float | None:
        return _ratio(self.online_orders, self.orders)

    @property
    def reach(self) -> float | None:
        """Online customers / customers."""
        return _ratio(self.online_customers, self.customers)

    @property
    def intensity(self) -> float | None:
        """Online orders per online customer / orders per customer."""
        online = _ratio(self.online_orders, self.online_customers)
        every = self.orders_per_customer
        return None if online is None or not every else online / every


def period_factors(
    orders: pl.LazyFrame, *, calendar: Calendar, keys: Sequence[int]
) -> pl.LazyFrame:
    """Per period key of ``keys`` that has orders that count: ``period``, ``customers``,
    ``orders``, ``revenue`` (net), ``online_customers``, ``online_orders``.

    ``orders`` is the whole history; a key without orders that count has no row.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "order_date": [dt.date(2024, 3, d) for d in (1, 2, 3, 4)],
    ...     "revenue": [10.0, 30.0, 20.0, 99.0], "is_online": [True, False, False, True],
    ...     "is_valid": [True, True, True, False]})
    >>> period_factors(o, calendar=Calendar("month"), keys=[24290]).collect().row(0)
    (24290, 2, 3, 60.0, 1, 1)
    """
    online = pl.col("is_online")
    # the keys' days first (a date comparison), the period key only on their rows; a
    # customer counted by code when it has one (cheaper to count distinct than text)
    day, bounds = pl.col("order_date"), [calendar.key_bounds(key) for key in keys]
    in_keys = pl.any_horizontal([day.is_between(lo, hi) for lo, hi in bounds] or [False])
    customer = m.customer_index() if m.indexed(orders) else pl.col("customer_id")
    return (
        orders.filter(pl.col("is_valid") & in_keys)
        .with_columns(calendar.key("order_date").alias("period"))
        .group_by("period")
        .agg(
            customer.n_unique().cast(pl.Int64).alias("customers"),
            pl.len().cast(pl.Int64).alias("orders"),
            pl.col("revenue").sum().cast(pl.Float64).alias("revenue"),
            customer.filter(online).n_unique().cast(pl.Int64).alias("online_customers"),
            online.sum().cast(pl.Int64).alias("online_orders"),
        )
        .sort("period")
    )


# ------------------------------------------------------------------ which periods


def base_periods(
    calendar: Calendar, start: dt.date, end: dt.date, first_order: dt.date | None
) -> tuple[int | None, dict[str, int | str]]:
    """The window's last complete period and, per comparison (``previous``,
    ``year_earlier``), its base period's key, or the reason there is none (a sentence).

    A base period is in the data when it does not end before the first order (of any
    status, history before the window included).

    >>> import datetime as dt
    >>> base_periods(Calendar("month"), dt.date(2024, 1, 1), dt.date(2024, 6, 15),
    ...              dt.date(2023, 11, 20))
    (24292, {'previous': 24291, 'year_earlier': '2023-05 is before the first order (2023-11-20)'})
    """
    periods = calendar.periods(start, end).filter(~pl.col("is_partial")).collect()
    if periods.is_empty():
        why = f"the window ({start} to {end}) holds no complete {calendar.period}"
        return None, dict.fromkeys(COMPARISONS, why)
    if first_order is None:
        return None, dict.fromkeys(COMPARISONS, f"no order up to the window's end ({end})")
    current = int(periods.get_column("period").max())  # type: ignore[arg-type]
    first_key = calendar.key_of(first_order)
    bases: dict[str, int | str] = {}
    for name, base in (
        ("previous", current - 1),
        ("year_earlier", _year_earlier(calendar, current)),
    ):
        if isinstance(base, int) and base < first_key:
            label = period_label(
                base, calendar.period, fiscal_year_start=calendar.fiscal_year_start
            )
            base = f"{label} is before the first order ({first_order})"
        bases[name] = base
    return current, bases


def _year_earlier(calendar: Calendar, key: int) -> int | str:
    """The same period a year earlier: 12 months or 4 quarters back, or the ISO week with
    the same number in the previous ISO year (a week 53 without one: the reason)."""
    if calendar.period in _YEAR:
        return key - _YEAR[calendar.period]
    first_day: dt.date = pl.select(calendar.start(pl.lit(key))).item()
    year, week, _ = first_day.isocalendar()
    try:
        return calendar.key_of(dt.date.fromisocalendar(year - 1, week, 1))
    except ValueError:
        return f"{year}-W{week} has no week {week} a year earlier ({year - 1} has 52 ISO weeks)"


# ------------------------------------------------------------------ one comparison


def compare(base: Factors, current: Factors) -> dict[str, Any]:
    """One comparison of the bridge (``kpis.json``'s ``bridge.previous`` and
    ``bridge.year_earlier``): the revenues, their change split into ``customers``,
    ``orders_per_customer`` and ``aov``, and the online share's change split into
    ``moved_online`` and ``ordered_more_often`` (null without orders in either period).

    >>> b = Factors("2024-02", customers=10, orders=20, revenue=1200.0,
    ...             online_customers=4, online_orders=8)
    >>> c = Factors("2024-03", customers=16, orders=48, revenue=1920.0,
    ...             online_customers=8, online_orders=30)
    >>> d = compare(b, c)
    >>> d["change"], d["parts"]
    (720.0, {'customers': 740.0, 'orders_per_customer': 640.0, 'aov': -660.0})

    The online share goes from 0.4 to 0.625: reach from 0.4 to 0.5, intensity from
    (8 / 4) / 2 = 1 to (30 / 8) / 3 = 1.25; moved online = 0.1 x (1 + 1.25) / 2,
    ordered more often = 0.25 x (0.4 + 0.5) / 2.

    >>> {k: round(v, 12) for k, v in d["online_share"]["parts"].items()}
    {'moved_online': 0.1125, 'ordered_more_often': 0.1125}
    """
    revenue = shapley_split(
        [base.customers, base.orders_per_customer, base.aov],
        [current.customers, current.orders_per_customer, current.aov],
    )
    share: dict[str, Any] = {
        "value": current.online_share,
        "base_value": base.online_share,
        "change": None,
        "parts": {"moved_online": None, "ordered_more_often": None},
    }
    if current.online_share is not None and base.online_share is not None:
        moved, often = shapley_split(
            [base.reach, base.intensity], [current.reach, current.intensity]
        )
        share["change"] = current.online_share - base.online_share
        share["parts"] = {"moved_online": moved, "ordered_more_often": often}
    return {
        "period": current.label,
        "base_period": base.label,
        "revenue": current.revenue,
        "base_revenue": base.revenue,
        "change": current.revenue - base.revenue,
        "parts": dict(zip(("customers", "orders_per_customer", "aov"), revenue, strict=True)),
        "customers": current.customers,
        "base_customers": base.customers,
        "orders": current.orders,
        "base_orders": base.orders,
        "online_share": share,
    }


# ------------------------------------------------------------------ sales effort


def adopters(orders: pl.LazyFrame, *, end: dt.date | None = None) -> pl.LazyFrame:
    """One row per customer with an online order that counts up to ``end``:
    ``customer_id``, ``first_online_date``, ``orders_before`` (orders that count on days
    before it), ``offline_before`` and ``pre_online_offline_share`` (offline_before /
    orders_before; null without earlier orders).

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 2, 5, 3)],
    ...     "is_online": [False, False, True, True], "is_valid": [True] * 4})
    >>> adopters(o).collect().rows()
    [('a', datetime.date(2024, 1, 5), 2, 2, 1.0), ('b', datetime.date(2024, 1, 3), 0, 0, None)]
    """
    valid = orders.filter(pl.col("is_valid"))
    if end is not None:
        valid = valid.filter(pl.col("order_date") <= end)
    first = (
        valid.filter(pl.col("is_online"))
        .group_by("customer_id")
        .agg(pl.col("order_date").min().alias("first_online_date"))
    )
    before = pl.col("order_date") < pl.col("first_online_date")
    counts = (
        valid.join(first, on="customer_id", how="inner")
        .group_by("customer_id", "first_online_date")
        .agg(
            before.sum().cast(pl.Int64).alias("orders_before"),
            (before & ~pl.col("is_online")).sum().cast(pl.Int64).alias("offline_before"),
        )
    )
    return counts.with_columns(
        pl.when(pl.col("orders_before") > 0)
        .then(pl.col("offline_before") / pl.col("orders_before"))
        .alias("pre_online_offline_share")
    ).sort("customer_id")


def sales_effort(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar,
    start: dt.date,
    end: dt.date,
    minutes: float,
    threshold: float | None,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Per period of the window (``period``, ``period_label``, ``is_partial``): the
    ``orders_moved_online`` and the ``hours`` of sales effort they free, and the same for
    the orders below ``threshold`` (``small_orders_moved_online``,
    ``small_order_hours``; null without a threshold). See the module's docstring.

    Summed per order: an adopter's order adds its customer's pre-adoption offline share
    and subtracts 1 when it is offline, which is the definition's
    ``orders x share - offline orders`` per customer, added up.

    >>> import datetime as dt, polars as pl
    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "order_date": [dt.date(2024, 1, 3), dt.date(2024, 2, 1), dt.date(2024, 2, 9),
    ...                    dt.date(2024, 2, 3)],
    ...     "revenue": [50.0, 50.0, 500.0, 50.0],
    ...     "is_online": [False, True, True, True], "is_valid": [True] * 4})
    >>> sales_effort(o, calendar=Calendar("month"), start=dt.date(2024, 1, 1),
    ...     end=dt.date(2024, 2, 29), minutes=15, threshold=100.0).collect().select(
    ...     "period_label", "orders_moved_online", "hours", "small_order_hours").rows()
    [('2024-01', 0.0, 0.0, 0.0), ('2024-02', 2.0, 0.5, 0.25)]

    ``firsts`` (:func:`b2b_analysis.metrics.customer_firsts` of ``orders`` up to ``end``,
    collected) gives the same without finding the adopters again: a customer's share is
    1 when their first order that counts is dated before their first online order, so
    an order adds 1 - 1 = 0 when offline and 1 when online, and only the online orders
    dated from the adoption period's first day on are counted (per day, then per
    period).

    >>> f = m.customer_firsts(o.with_columns(pl.col("customer_id").cast(pl.Categorical)),
    ...     end=dt.date(2024, 2, 29)).collect()
    >>> sales_effort(o.with_columns(pl.col("customer_id").cast(pl.Categorical)),
    ...     calendar=Calendar("month"), start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 29),
    ...     minutes=15, threshold=100.0, firsts=f).collect().select(
    ...     "period_label", "orders_moved_online", "hours", "small_order_hours").rows()
    [('2024-01', 0.0, 0.0, 0.0), ('2024-02', 2.0, 0.5, 0.25)]
    """
    small = pl.col("revenue") < threshold if threshold is not None else pl.lit(False)
    per_period = (
        _moved(orders, calendar=calendar, start=start, end=end, small=small)
        if firsts is None
        else _moved_by_index(orders, firsts, calendar=calendar, start=start, end=end, small=small)
    )
    return effort_hours(
        per_period,
        calendar=calendar,
        start=start,
        end=end,
        minutes=minutes,
        small_orders=threshold is not None,
    )


def effort_hours(
    moved: pl.LazyFrame,
    *,
    calendar: Calendar,
    start: dt.date,
    end: dt.date,
    minutes: float,
    small_orders: bool,
) -> pl.LazyFrame:
    """:func:`sales_effort` from the orders moved online per period (``period``,
    ``orders_moved_online`` and ``_small``, those of them below the small-order
    threshold): every period of the window, in hours at ``minutes`` an offline order;
    without ``small_orders`` (no threshold) the small orders' columns are null.

    >>> import datetime as dt, polars as pl
    >>> moved = pl.LazyFrame({"period": [24289], "orders_moved_online": [4.0],
    ...     "_small": [1.0]}, schema_overrides={"period": pl.Int32})
    >>> effort_hours(moved, calendar=Calendar("month"), start=dt.date(2024, 1, 1),
    ...     end=dt.date(2024, 2, 29), minutes=15, small_orders=True).collect().select(
    ...     "period_label", "orders_moved_online", "hours", "small_order_hours").rows()
    [('2024-01', 0.0, 0.0, 0.0), ('2024-02', 4.0, 1.0, 0.25)]
    """
    small_moved = pl.col("_small").fill_null(0.0) if small_orders else pl.lit(None, pl.Float64)
    return (
        calendar.periods(start, end)
        .select("period", "period_label", "is_partial")
        .join(moved, on="period", how="left")
        .with_columns(
            pl.col("orders_moved_online").fill_null(0.0),
            small_moved.alias("small_orders_moved_online"),
        )
        .with_columns(
            (pl.col("orders_moved_online") * minutes / 60).alias("hours"),
            (pl.col("small_orders_moved_online") * minutes / 60).alias("small_order_hours"),
        )
        .drop("_small")
        .sort("period")
    )


def _moved(
    orders: pl.LazyFrame, *, calendar: Calendar, start: dt.date, end: dt.date, small: pl.Expr
) -> pl.LazyFrame:
    """Per period with adopters' orders: ``orders_moved_online`` and ``_small`` (the
    orders below the threshold), each order joined to its customer's
    :func:`adopters` row."""
    history = adopters(orders, end=end).filter(pl.col("pre_online_offline_share").is_not_null())
    moved = pl.col("pre_online_offline_share") - (~pl.col("is_online")).cast(pl.Float64)
    return (
        orders.filter(pl.col("is_valid") & pl.col("order_date").is_between(start, end))
        .join(
            history.select("customer_id", "first_online_date", "pre_online_offline_share"),
            on="customer_id",
        )
        .with_columns(calendar.key("order_date").alias("period"))
        # adopted by the period's last day
        .filter(calendar.key("first_online_date") <= pl.col("period"))
        .group_by("period")
        .agg(moved.sum().alias("orders_moved_online"), moved.filter(small).sum().alias("_small"))
    )


def _moved_by_index(
    orders: pl.LazyFrame,
    firsts: pl.DataFrame,
    *,
    calendar: Calendar,
    start: dt.date,
    end: dt.date,
    small: pl.Expr,
) -> pl.LazyFrame:
    """:func:`_moved` from ``firsts`` (see :func:`sales_effort`): the online orders of
    customers with an earlier order, dated from the first day of the period of their
    first online order on, looked up by customer code; counted per day, then per period
    (sums of ones: exact in any order)."""
    adopted = firsts.filter(
        pl.col("first_online_date").is_not_null()
        & (pl.col("first_order_date") < pl.col("first_online_date"))
    ).select("code", calendar.start(calendar.key("first_online_date")).alias("_from"))
    since = m.by_index(adopted, "_from", m.customer_index())
    online = pl.col("is_online")
    daily = (
        orders.filter(pl.col("is_valid") & online & pl.col("order_date").is_between(start, end))
        .filter(pl.col("order_date") >= since)
        .group_by("order_date")
        .agg(pl.len().alias("_n"), small.sum().alias("_s"))
    )
    return daily.group_by(calendar.key("order_date").alias("period")).agg(
        pl.col("_n").sum().cast(pl.Float64).alias("orders_moved_online"),
        pl.col("_s").sum().cast(pl.Float64).alias("_small"),
    )


# ------------------------------------------------------------------ together


@dataclass(frozen=True)
class Drivers:
    """What drove the change: the bridge's comparisons (null with a reason in ``notes``)
    and the sales effort freed per period of the window."""

    previous: dict[str, Any] | None
    year_earlier: dict[str, Any] | None
    effort: pl.DataFrame
    offline_order_minutes: float
    #: why a comparison is null, by note key (``bridge.previous``, ``bridge.year_earlier``)
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``kpis.json``'s ``bridge`` and ``sales_effort`` (see ``docs/kpis.md``)."""
        effort = self.effort
        small = effort.get_column("small_orders_moved_online")
        has_small = small.null_count() == 0
        by_period = [
            {
                "period": row["period_label"],
                "hours": row["hours"],
                "small_order_hours": row["small_order_hours"],
                "orders_moved_online": row["orders_moved_online"],
                "small_orders_moved_online": row["small_orders_moved_online"],
            }
            for row in effort.iter_rows(named=True)
        ]
        return {
            "bridge": {"previous": self.previous, "year_earlier": self.year_earlier},
            "sales_effort": {
                "offline_order_minutes": self.offline_order_minutes,
                "hours": float(effort.get_column("hours").sum()),
                "small_order_hours": float(effort.get_column("small_order_hours").sum())
                if has_small
                else None,
                "orders_moved_online": float(effort.get_column("orders_moved_online").sum()),
                "small_orders_moved_online": float(small.sum()) if has_small else None,
                "by_period": by_period,
            },
        }


def drivers(
    orders: pl.LazyFrame,
    *,
    calendar: Calendar,
    start: dt.date,
    end: dt.date,
    minutes: float,
    threshold: float | None,
    engine: Literal["auto", "streaming"] = "auto",
    firsts: pl.DataFrame | None = None,
) -> Drivers:
    """The bridge of the window's last complete period against the period before and the
    same period a year earlier, and the sales effort freed (one ``pl.collect_all``).

    ``orders`` is the client's whole order history (orders after ``end`` are left out);
    ``firsts``: :func:`b2b_analysis.metrics.customer_firsts` of it up to ``end``,
    collected, to look the adopters up by code (:func:`sales_effort`).
    """
    history = orders.filter(pl.col("order_date") <= end)
    first_order, effort = pl.collect_all(
        [
            history.select(pl.col("order_date").min()),
            sales_effort(
                history,
                calendar=calendar,
                start=start,
                end=end,
                minutes=minutes,
                threshold=threshold,
                firsts=firsts,
            ),
        ],
        engine=engine,
    )
    current, bases = base_periods(calendar, start, end, first_order.item())
    comparisons: dict[str, dict[str, Any] | None] = dict.fromkeys(COMPARISONS)
    notes = {f"bridge.{k}": v for k, v in bases.items() if isinstance(v, str)}
    if current is not None:
        keys = [current, *(v for v in bases.values() if isinstance(v, int))]
        totals = period_factors(history, calendar=calendar, keys=keys).collect(engine=engine)
        factors = {row["period"]: row for row in totals.iter_rows(named=True)}
        for name, base in bases.items():
            if isinstance(base, int):
                comparisons[name] = compare(
                    _factors(factors, base, calendar), _factors(factors, current, calendar)
                )
    return Drivers(
        previous=comparisons["previous"],
        year_earlier=comparisons["year_earlier"],
        effort=effort,
        offline_order_minutes=minutes,
        notes=notes,
    )


def _factors(rows: dict[int, dict[str, Any]], key: int, calendar: Calendar) -> Factors:
    """The :class:`Factors` of period ``key`` (all 0 when it has no orders that count)."""
    label = period_label(key, calendar.period, fiscal_year_start=calendar.fiscal_year_start)
    row = {k: v for k, v in rows.get(key, {}).items() if k != "period"}
    return Factors(label, **row)


def waterfall(drivers: Drivers) -> pl.DataFrame:
    """The bridge as the steps of a waterfall chart, one block per available comparison:
    ``against`` (the comparison's key: ``previous`` or ``year_earlier``), ``comparison``
    (e.g. "2024-06 vs 2024-05 (the period before)"), ``step`` (0-4), ``part``
    (``base``, ``customers``, ``orders_per_customer``, ``aov``, ``current``), ``label``
    (the period's label for ``base`` and ``current``), ``kind`` (``total``,
    ``increase``, ``decrease``), ``amount``, ``bar_start``, ``bar_end``.

    Steps: the base period's revenue, the customers, orders per customer and AOV parts
    (each starting where the previous ended), the period's revenue.

    >>> b, c = Factors("2024-02", 10, 20, 1200.0), Factors("2024-03", 16, 48, 1920.0)
    >>> d = Drivers(compare(b, c), None, pl.DataFrame(), 10.0)
    >>> waterfall(d).select("label", "kind", "bar_start", "bar_end").rows()
    [('2024-02', 'total', 0.0, 1200.0), ('Customers', 'increase', 1200.0, 1940.0), \
('Orders per customer', 'increase', 1940.0, 2580.0), ('AOV', 'decrease', 2580.0, 1920.0), \
('2024-03', 'total', 0.0, 1920.0)]
    >>> waterfall(d).get_column("part").to_list()
    ['base', 'customers', 'orders_per_customer', 'aov', 'current']
    """
    rows = []
    for name in COMPARISONS:
        bridge = getattr(drivers, name)
        if bridge is None:
            continue
        title = f"{bridge['period']} vs {bridge['base_period']} ({_AGAINST[name]})"
        parts = bridge["parts"]
        steps = [
            ("base", bridge["base_period"], bridge["base_revenue"], "total"),
            ("customers", "Customers", parts["customers"], None),
            ("orders_per_customer", "Orders per customer", parts["orders_per_customer"], None),
            ("aov", "AOV", parts["aov"], None),
            ("current", bridge["period"], bridge["revenue"], "total"),
        ]
        level = 0.0
        for step, (part, label, amount, kind) in enumerate(steps):
            begin = 0.0 if kind == "total" else level
            level = amount if kind == "total" else level + amount
            kind = kind or ("increase" if amount >= 0 else "decrease")
            rows.append((name, title, step, part, label, kind, amount, begin, level))
    schema = {
        "against": pl.String,
        "comparison": pl.String,
        "step": pl.Int64,
        "part": pl.String,
        "label": pl.String,
        "kind": pl.String,
        "amount": pl.Float64,
        "bar_start": pl.Float64,
        "bar_end": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
