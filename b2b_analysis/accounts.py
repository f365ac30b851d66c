"""Account lists: which customers the sales team should call, and what each is worth.

Five lists over the analysis window ``start..end``; "the last period" is the
period (of the :class:`~b2b_analysis.periods.Calendar`) holding ``end``, "the period
before" the one before it. Every function takes the client's whole order history
(``customer_id``, ``order_date``, ``revenue``, ``is_online``, ``is_valid``: history
before the window counts, orders after ``end`` are ignored) and returns a
``pl.LazyFrame`` with one row per account:

* :func:`reverted`: the first online order ever is in the window and every later
  order (on a later day, up to ``end``) is offline;
* :func:`overdue`: at least ``min_order_days`` distinct order days in the window and,
  from the last one to ``end``, more than ``factor`` times the median gap between
  consecutive order days;
* :func:`lapsed`: ordered in the period before the last, not in the last;
* :func:`reactivated`: ordered in the last period, not in the one before, and in some
  period before that;
* :func:`adopters`: the first online order ever is in the last period.

Revenue is net revenue as everywhere in the toolkit: the ``revenue`` of orders that
count (neither cancelled nor returned). Every list has ``revenue_12m``, the
account's net revenue of the 12 months ending at the window's end (orders dated
after the same day a year before ``end``, up to ``end``): it is the revenue at stake
each list is sorted by (largest first, then by ``customer_id``), and what
:func:`summary` adds up. ``customer_id`` is the first column, as text.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from b2b_analysis import i18n
from b2b_analysis import metrics as m
from b2b_analysis.config import Overdue
from b2b_analysis.periods import MONTHLY, Calendar

__all__ = [
    "COLUMNS",
    "LISTS",
    "STAKE",
    "TOP",
    "AccountList",
    "ClientAccounts",
    "adopters",
    "cell_text",
    "csv_text",
    "for_client",
    "lapsed",
    "lists",
    "overdue",
    "reactivated",
    "revenue_12m",
    "reverted",
    "summary",
    "xlsx_bytes",
    "year_before",
]

#: The column every list is sorted by and :func:`summary` adds up: the revenue at stake.
STAKE = "revenue_12m"
#: Accounts per list shown on the report page and kept in ``kpis.json``.
TOP = 5

ColumnKind = Literal["text", "date", "count", "money", "days"]

#: Every column of the lists: its label and kind (how tables and sheets format it).
COLUMNS: dict[str, tuple[str, ColumnKind]] = {
    "customer_id": ("Customer", "text"),
    "first_online_date": ("First online order", "date"),
    "days_to_revert": ("Days to revert", "days"),
    "orders_since": ("Orders since", "count"),
    "revenue_since": ("Revenue since", "money"),
    "first_order_date": ("First order", "date"),
    "previous_order_date": ("Order before", "date"),
    "last_order_date": ("Last order", "date"),
    "order_days": ("Order days", "count"),
    "usual_cycle_days": ("Usual cycle (days)", "days"),
    "days_since_last_order": ("Days since last order", "days"),
    "days_overdue": ("Days overdue", "days"),
    "orders_previous_period": ("Orders, period before", "count"),
    "revenue_previous_period": ("Revenue, period before", "money"),
    "orders_last_period": ("Orders, last period", "count"),
    "online_orders_last_period": ("Online orders, last period", "count"),
    "revenue_last_period": ("Revenue, last period", "money"),
    STAKE: ("Revenue, last 12 months", "money"),
}


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for a 29 February).

    >>> year_before(dt.date(2024, 2, 29)), year_before(dt.date(2025, 6, 30))
    (datetime.date(2023, 2, 28), datetime.date(2024, 6, 30))
    """
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _valid(orders: pl.LazyFrame, end: dt.date) -> pl.LazyFrame:
    """The orders that count, dated up to ``end`` (history before the window included)."""
    return orders.filter(pl.col("is_valid") & (pl.col("order_date") <= end))


def revenue_12m(orders: pl.LazyFrame, *, end: dt.date) -> pl.LazyFrame:
    """Per customer with an order that counts in the 12 months ending at ``end``: the net
    revenue of those orders, ``revenue_12m``.

    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b"], "revenue": [10.0, 5.0, 7.0],
    ...     "order_date": [dt.date(2024, 6, 30), dt.date(2025, 6, 30), dt.date(2025, 1, 1)],
    ...     "is_valid": [True, True, False]})
    >>> revenue_12m(o, end=dt.date(2025, 6, 30)).collect().rows()
    [('a', 5.0)]
    """
    return (
        _valid(orders, end)
        .filter(pl.col("order_date") > year_before(end))
        .group_by("customer_id")
        .agg(pl.col("revenue").sum().alias(STAKE))
    )


def _finish(
    accounts: pl.LazyFrame,
    orders: pl.LazyFrame,
    end: dt.date,
    columns: tuple[str, ...],
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """The list's columns, ``customer_id`` as text first and ``revenue_12m`` last (0 for
    an account without orders in those months), largest ``revenue_12m`` first.

    ``revenue_12m`` is looked up by code in ``firsts`` when it has ``revenue_since``
    (:func:`b2b_analysis.metrics.customer_firsts` with ``since`` the
    :func:`year_before` ``end``), else found again (:func:`revenue_12m`) and joined.
    Amounts are rounded to cents: a sum of floats depends on the order polars adds them
    in, and the same data must give the same list, order and bytes."""
    money = [c for c in (*columns, STAKE) if COLUMNS[c][1] == "money"]
    if _has(firsts, "revenue_since") and m.indexed(accounts):
        stake = m.by_index(firsts, "revenue_since", m.customer_index())  # type: ignore[arg-type]
        accounts = accounts.with_columns(stake.alias(STAKE))
    else:
        accounts = accounts.join(revenue_12m(orders, end=end), on="customer_id", how="left")
    return (
        accounts.with_columns(
            pl.col("customer_id").cast(pl.String), pl.col(STAKE).fill_null(0.0).cast(pl.Float64)
        )
        .with_columns(pl.col(money).round(2))
        .sort([STAKE, "customer_id"], descending=[True, False])
        .select("customer_id", *columns, STAKE)
    )


def _has(firsts: pl.DataFrame | None, column: str) -> bool:
    """Whether ``firsts`` is given and has ``column``."""
    return firsts is not None and column in firsts.columns


def _periods(calendar: Calendar, end: dt.date) -> tuple[int, int]:
    """The keys of the window's last period and of the one before it."""
    last = calendar.key_of(end)
    return last, last - 1


def _in_period(orders: pl.LazyFrame, calendar: Calendar, key: int, end: dt.date) -> pl.LazyFrame:
    """The orders that count in the period ``key`` (up to ``end``), found by their dates
    (no period key per order)."""
    return _valid(orders, end).filter(pl.col("order_date").is_between(*calendar.key_bounds(key)))


# ------------------------------------------------------------------ the lists


def reverted(
    orders: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
    calendar: Calendar = MONTHLY,
    firsts: pl.DataFrame | None = None,
    summary: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Customers who tried the webshop in the window and went back to ordering offline.

    Their first online order ever is dated ``start..end`` and their later orders (on a
    later day, up to ``end``; at least one) are all offline: the customers
    :func:`b2b_analysis.metrics.online_adoption` flags ``reverted_to_offline``. Columns:
    ``first_online_date``, ``days_to_revert`` (to the first later offline order),
    ``orders_since`` and ``revenue_since`` (the orders after the first online order's
    day), ``last_order_date``, ``revenue_12m``. ``calendar`` is not used (the list has
    no period); it is there so every list takes the same arguments. ``firsts``: as in
    :func:`b2b_analysis.metrics.online_adoption` (looked up, not found again);
    ``summary``: the :func:`b2b_analysis.metrics.adoption_summary` of ``orders`` over the
    window, already collected (used instead of computing it again).

    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 5, 20, 2, 3)],
    ...     "revenue": [10.0, 20.0, 30.0, 5.0, 5.0],
    ...     "is_online": [False, True, False, True, True], "is_valid": [True] * 5})
    >>> reverted(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31)).collect().rows()
    [('a', datetime.date(2024, 1, 5), 15, 1, 30.0, datetime.date(2024, 1, 20), 60.0)]
    """
    since = (
        (
            summary.lazy()
            if summary is not None
            else m.adoption_summary(orders, start=start, end=end, firsts=firsts)
        )
        .filter(pl.col("reverted_to_offline"))
        .rename(
            {
                "later_orders": "orders_since",
                "_revenue_later": "revenue_since",
                "_last_order_date": "last_order_date",
            }
        )
    )
    columns = (
        "first_online_date",
        "days_to_revert",
        "orders_since",
        "revenue_since",
        "last_order_date",
    )
    return _finish(since, orders, end, columns, firsts)


#: The packed (customer, day) key of :func:`_order_days`: days since 1970 plus
#: ``_DAY_OFFSET`` fill the low 20 bits (dates from the year 535 to 3405).
_DAY_SPAN = 1 << 20
_DAY_OFFSET = 1 << 19


def _order_days(orders: pl.LazyFrame, start: dt.date, end: dt.date) -> pl.LazyFrame:
    """Each distinct (customer, day) with an order that counts in ``start..end``, sorted
    by customer then day, with ``gap``: the days since the customer's previous order day
    (null on their first). Sorted on one packed Int64 key, the duplicates are the rows
    equal to the one before: no hashing of the (customer, day) pair."""
    day = pl.col("order_date").cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
    key, previous = pl.col("key"), pl.col("key").shift(1)
    return (
        _valid(orders, end)
        .filter(pl.col("order_date") >= start)
        .select(
            "customer_id", "order_date", (m.customer_code(orders) * _DAY_SPAN + day).alias("key")
        )
        .sort("key")
        .filter((key != previous).fill_null(True))
        .with_columns(
            pl.when(key // _DAY_SPAN == previous // _DAY_SPAN).then(key - previous).alias("gap")
        )
    )


def overdue(
    orders: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
    calendar: Calendar = MONTHLY,
    rule: Overdue | None = None,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Regular customers whose next order is long overdue.

    From the distinct days with an order that counts in ``start..end``: customers with
    at least ``rule.min_order_days`` of them (default 3) whose days from the last one to
    ``end`` exceed ``rule.factor`` (default 2) times their usual cycle, the median gap in
    days between consecutive order days. Columns: ``last_order_date``, ``order_days``,
    ``usual_cycle_days``, ``days_since_last_order``, ``days_overdue`` (days since the
    last order - the usual cycle: how late the next order is), ``revenue_12m``.

    >>> o = pl.LazyFrame({"customer_id": ["a"] * 3 + ["b"] * 3,
    ...     "order_date": [dt.date(2024, 1, d) for d in (1, 11, 21, 1, 2, 3)],
    ...     "revenue": [100.0] * 6, "is_online": [True] * 6, "is_valid": [True] * 6})
    >>> overdue(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31)).collect().rows()
    [('b', datetime.date(2024, 1, 3), 3, 1.0, 28, 27.0, 300.0)]
    """
    rule = rule or Overdue()
    since = (pl.lit(end) - pl.col("last_order_date")).dt.total_days()
    per_customer = (
        _order_days(orders, start, end)
        .group_by("customer_id")
        .agg(
            pl.col("order_date").max().alias("last_order_date"),
            pl.len().cast(pl.Int64).alias("order_days"),
            pl.col("gap").median().cast(pl.Float64).alias("usual_cycle_days"),
        )
        .filter(pl.col("order_days") >= rule.min_order_days)
        .with_columns(since.cast(pl.Int64).alias("days_since_last_order"))
        .filter(pl.col("days_since_last_order") > rule.factor * pl.col("usual_cycle_days"))
        .with_columns(
            (pl.col("days_since_last_order") - pl.col("usual_cycle_days")).alias("days_overdue")
        )
    )
    columns = (
        "last_order_date",
        "order_days",
        "usual_cycle_days",
        "days_since_last_order",
        "days_overdue",
    )
    return _finish(per_customer, orders, end, columns, firsts)


def lapsed(
    orders: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
    calendar: Calendar = MONTHLY,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Customers who ordered in the period before the last and not in the last.

    Columns: ``last_order_date`` (their last order that counts, in the period before),
    ``orders_previous_period``, ``revenue_previous_period``, ``revenue_12m``. The
    period before may start before ``start``: its orders count all the same, as in
    :func:`b2b_analysis.metrics.period_retention`.

    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": [dt.date(2024, 1, 9), dt.date(2024, 2, 1), dt.date(2024, 1, 3)],
    ...     "revenue": [10.0, 20.0, 30.0], "is_online": [True] * 3, "is_valid": [True] * 3})
    >>> lapsed(o, start=dt.date(2024, 1, 1), end=dt.date(2024, 2, 29)).collect().rows()
    [('b', datetime.date(2024, 1, 3), 1, 30.0, 30.0)]
    """
    last, before = _periods(calendar, end)
    in_last = _in_period(orders, calendar, last, end).select("customer_id").unique()
    previous = (
        _in_period(orders, calendar, before, end)
        .join(in_last, on="customer_id", how="anti")
        .group_by("customer_id")
        .agg(
            pl.col("order_date").max().alias("last_order_date"),
            pl.len().cast(pl.Int64).alias("orders_previous_period"),
            pl.col("revenue").sum().alias("revenue_previous_period"),
        )
    )
    columns = ("last_order_date", "orders_previous_period", "revenue_previous_period")
    return _finish(previous, orders, end, columns, firsts)


def reactivated(
    orders: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
    calendar: Calendar = MONTHLY,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Customers back after a gap: an order in the last period, none in the period
    before, and one in some period before that (history before the window counts).

    Columns: ``previous_order_date`` (their last order before the gap),
    ``last_order_date``, ``orders_last_period``, ``revenue_last_period``,
    ``revenue_12m``.

    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "c", "c"],
    ...     "order_date": [dt.date(2023, 11, 9), dt.date(2024, 1, 5), dt.date(2024, 1, 3),
    ...                    dt.date(2023, 12, 1), dt.date(2024, 1, 2)],
    ...     "revenue": [10.0, 20.0, 30.0, 1.0, 1.0], "is_online": [True] * 5,
    ...     "is_valid": [True] * 5})
    >>> reactivated(o, start=dt.date(2023, 11, 1), end=dt.date(2024, 1, 31)).collect().rows()
    [('a', datetime.date(2023, 11, 9), datetime.date(2024, 1, 5), 1, 20.0, 30.0)]
    """
    last, before = _periods(calendar, end)
    valid = _valid(orders, end)
    in_before = _in_period(orders, calendar, before, end).select("customer_id").unique()
    back = (
        _in_period(orders, calendar, last, end)
        .join(in_before, on="customer_id", how="anti")
        .group_by("customer_id")
        .agg(
            pl.col("order_date").max().alias("last_order_date"),
            pl.len().cast(pl.Int64).alias("orders_last_period"),
            pl.col("revenue").sum().alias("revenue_last_period"),
        )
    )
    # the last order before the gap, of those customers only
    earlier = (
        valid.filter(pl.col("order_date") < calendar.key_bounds(before)[0])
        .join(back.select("customer_id"), on="customer_id", how="semi")
        .group_by("customer_id")
        .agg(pl.col("order_date").max().alias("previous_order_date"))
    )
    back = back.join(earlier, on="customer_id", how="inner")
    columns = (
        "previous_order_date",
        "last_order_date",
        "orders_last_period",
        "revenue_last_period",
    )
    return _finish(back, orders, end, columns, firsts)


def adopters(
    orders: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
    calendar: Calendar = MONTHLY,
    firsts: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Customers whose first online order ever is in the last period: onboarding calls.

    Columns: ``first_online_date``, ``first_order_date`` (ever, any channel: earlier
    for an existing customer going online, the same for a new one),
    ``orders_last_period``, ``online_orders_last_period``, ``revenue_last_period``,
    ``revenue_12m``.

    >>> o = pl.LazyFrame({"customer_id": ["a", "a", "b", "b"],
    ...     "order_date": [dt.date(2023, 5, 1), dt.date(2024, 1, 5), dt.date(2023, 12, 3),
    ...                    dt.date(2024, 1, 9)],
    ...     "revenue": [10.0, 20.0, 30.0, 40.0], "is_online": [False, True, True, True],
    ...     "is_valid": [True] * 4})
    >>> adopters(o, start=dt.date(2023, 1, 1), end=dt.date(2024, 1, 31)).collect().rows()
    ... # doctest: +NORMALIZE_WHITESPACE
    [('a', datetime.date(2024, 1, 5), datetime.date(2023, 5, 1), 1, 1, 20.0, 30.0)]
    """
    last, _before = _periods(calendar, end)
    in_last = (
        _in_period(orders, calendar, last, end)
        .group_by("customer_id")
        .agg(
            pl.len().cast(pl.Int64).alias("orders_last_period"),
            pl.col("is_online").sum().cast(pl.Int64).alias("online_orders_last_period"),
            pl.col("revenue").sum().alias("revenue_last_period"),
        )
    )
    columns = (
        "first_online_date",
        "first_order_date",
        "orders_last_period",
        "online_orders_last_period",
        "revenue_last_period",
    )
    if _has(firsts, "first_online_date") and m.indexed(orders):
        # the last period's customers, their first orders looked up by code
        code = m.customer_index()
        found = in_last.with_columns(
            m.by_index(firsts, c, code).alias(c)  # type: ignore[arg-type]
            for c in ("first_online_date", "first_order_date")
        )
        new_online = found.filter(pl.col("first_online_date") >= calendar.bounds(end)[0])
        return _finish(new_online, orders, end, columns, firsts)
    valid = _valid(orders, end)
    first = valid.group_by("customer_id").agg(
        pl.col("order_date").min().alias("first_order_date"),
        pl.col("order_date").filter(pl.col("is_online")).min().alias("first_online_date"),
    )
    new_online = first.filter(calendar.key("first_online_date") == last)
    return _finish(new_online.join(in_last, on="customer_id"), orders, end, columns, firsts)


# ------------------------------------------------------------------ all of them


@dataclass(frozen=True)
class AccountList:
    """One list: its title and what it holds, in words (tables, sheets, the report)."""

    name: str
    title: str
    description: str
    build: Callable[..., pl.LazyFrame]


#: The lists, in display order.
LISTS: dict[str, AccountList] = {
    a.name: a
    for a in (
        AccountList(
            "reverted",
            "Reverted to offline",
            "first online order in the window, every later order offline",
            reverted,
        ),
        AccountList(
            "overdue",
            "Overdue",
            "regular customers whose next order is long overdue",
            overdue,
        ),
        AccountList(
            "lapsed",
            "Lapsed",
            "ordered in the period before the last, not in the last",
            lapsed,
        ),
        AccountList(
            "reactivated",
            "Reactivated",
            "back in the last period after a gap",
            reactivated,
        ),
        AccountList(
            "adopters",
            "New online customers",
            "first online order ever in the last period",
            adopters,
        ),
    )
}


def lists(
    orders: pl.LazyFrame,
    *,
    start: dt.date,
    end: dt.date,
    calendar: Calendar = MONTHLY,
    rule: Overdue | None = None,
    names: tuple[str, ...] | None = None,
    firsts: pl.DataFrame | None = None,
    summary: pl.DataFrame | None = None,
) -> dict[str, pl.LazyFrame]:
    """The lists ``names`` (default: all of :data:`LISTS`), by name, not yet collected
    (``firsts``, ``summary``: see :func:`reverted`; ``firsts`` serves every list)."""
    out = {}
    for name in names or tuple(LISTS):
        extra: dict[str, Any] = {"rule": rule} if name == "overdue" else {}
        if name == "reverted":
            extra["summary"] = summary
        out[name] = LISTS[name].build(
            orders, start=start, end=end, calendar=calendar, firsts=firsts, **extra
        )
    return out


def cell_text(value: Any, kind: ColumnKind, locale: str = i18n.DEFAULT) -> str:
    """A list's value for people, by its column's kind (:data:`COLUMNS`), written as
    ``locale`` writes numbers and dates (:mod:`b2b_analysis.i18n`); not escaped.

    >>> cell_text(1234.5, "money"), cell_text(4.5, "days"), cell_text(12.0, "days")
    ('1,234.50', '4.5', '12')
    >>> cell_text(None, "date"), cell_text(dt.date(2025, 1, 2), "date"), cell_text(1200, "count")
    ('—', '2025-01-02', '1,200')
    >>> cell_text(1234.5, "money", "de-DE"), cell_text(4.5, "days", "de-DE")
    ('1.234,50', '4,5')
    >>> cell_text(12.0, "days", "es-ES"), cell_text("2025-01-02", "date", "es-ES")
    ('12', '2 ene 2025')
    """
    if value is None:
        return "—"
    if locale != i18n.DEFAULT:
        return _local_cell(value, kind, locale)
    if kind == "money":
        return f"{value:,.2f}"
    if kind in ("count", "days") and isinstance(value, int):
        return f"{value:,}"
    if kind == "days":
        return f"{value:,.1f}".removesuffix(".0")
    return str(value)


def _local_cell(value: Any, kind: ColumnKind, locale: str) -> str:
    """:func:`cell_text` in a locale other than the default one."""
    if kind == "money":
        return i18n.format_decimal(value, locale, 2)
    if kind in ("count", "days") and isinstance(value, int):
        return i18n.format_count(value, locale)
    if kind == "days":
        digits = 0 if round(value, 1) == round(value) else 1
        return i18n.format_decimal(value, locale, digits)
    if kind == "date" and isinstance(value, (dt.date, str)):
        return i18n.format_date(value, locale)
    return str(value)


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def summary(frames: Mapping[str, pl.DataFrame], *, top: int = TOP) -> dict[str, dict[str, Any]]:
    """Per list: ``count`` (accounts), ``revenue_at_stake`` (their summed ``revenue_12m``)
    and ``top`` (the first ``top`` rows, dates as ISO text); ``reverted`` also has
    ``median_days`` (median ``days_to_revert``, null for an empty list). The ``accounts``
    object of ``kpis.json``.

    >>> f = pl.DataFrame({"customer_id": ["a", "b"], "days_to_revert": [10, 31],
    ...     "revenue_12m": [100.0, 50.0]})
    >>> s = summary({"reverted": f}, top=1)
    >>> s["reverted"]["count"], s["reverted"]["revenue_at_stake"], s["reverted"]["median_days"]
    (2, 150.0, 20.5)
    >>> s["reverted"]["top"]
    [{'customer_id': 'a', 'days_to_revert': 10, 'revenue_12m': 100.0}]
    """
    out: dict[str, dict[str, Any]] = {}
    for name, frame in frames.items():
        entry: dict[str, Any] = {
            "count": frame.height,
            "revenue_at_stake": float(frame.get_column(STAKE).sum()),
        }
        if name == "reverted":
            entry["median_days"] = frame.get_column("days_to_revert").median()
        entry["top"] = [_json_row(row) for row in frame.head(top).iter_rows(named=True)]
        out[name] = entry
    return out


@dataclass(frozen=True)
class ClientAccounts:
    """A client's account lists over one window (what ``b2b-analysis accounts`` prints)."""

    client: str
    slug: str
    currency: str
    start: dt.date
    end: dt.date
    calendar: Calendar
    frames: dict[str, pl.DataFrame]

    @property
    def last_period(self) -> str:
        """The label of the window's last period (``2025-12``, ``2025 Q4``)."""
        label: str = pl.select(self.calendar.label(pl.lit(self.calendar.key_of(self.end)))).item()
        return label

    def to_dict(self, name: str) -> dict[str, Any]:
        """The JSON document of one list: the client, window, last period, what the list
        is sorted by, and one object per account (dates as ISO text)."""
        frame = self.frames[name]
        return {
            "client": self.client,
            "slug": self.slug,
            "currency": self.currency,
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "period": self.calendar.period,
            "last_period": self.last_period,
            "list": name,
            "sorted_by": STAKE,
            "columns": frame.columns,
            "rows": [_json_row(row) for row in frame.iter_rows(named=True)],
        }


def for_client(
    data: Any,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    period: str | None = None,
    names: tuple[str, ...] | None = None,
) -> ClientAccounts:
    """The lists ``names`` (default: all) of a loaded client (:class:`~b2b_analysis.io.
    ClientData`), over the window resolved as :func:`~b2b_analysis.kpis.compute_kpis`
    resolves it (arguments, params file, whole periods of the orders); a window
    without an order that counts is refused as there."""
    from b2b_analysis.kpis import _require_orders

    params = data.params
    calendar = Calendar(period or params.period, params.fiscal_year_start)  # type: ignore[arg-type]
    lo, hi = data.window(start, end, calendar)
    _require_orders(data, lo, hi)
    plans = lists(
        data.orders.lazy(), start=lo, end=hi, calendar=calendar, rule=params.overdue, names=names
    )
    frames = dict(zip(plans, pl.collect_all(list(plans.values()), engine=data.engine), strict=True))
    return ClientAccounts(
        params.client, params.client_slug, params.currency, lo, hi, calendar, frames
    )


# ------------------------------------------------------------------ spreadsheets

#: A text a spreadsheet program may read as a formula: it starts with one of ``= + - @``,
#: a tab or a carriage return.
FORMULA_START = r"^[=+\-@\t\r]"


def csv_text(frame: pl.DataFrame) -> str:
    """``frame`` as CSV, every text cell that a spreadsheet program opening the file could
    run as a formula (:data:`FORMULA_START`) preceded by ``'`` (what spreadsheet programs
    themselves do to mark text); other cells as they are.

    >>> print(csv_text(pl.DataFrame({"customer_id": ["=HYPERLINK(1)", "C-1", "-2"],
    ...     "revenue_12m": [-1.5, 2.0, 0.0]})), end="")
    customer_id,revenue_12m
    '=HYPERLINK(1),-1.5
    C-1,2.0
    '-2,0.0
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    guard = (
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.concat_str(pl.lit("'"), pl.col(c)))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
    return frame.with_columns(guard).write_csv()


#: The creation date written into every workbook: the same data gives the same bytes.
WORKBOOK_DATE = dt.datetime(2000, 1, 1)


def xlsx_bytes(frames: Mapping[str, pl.DataFrame], *, currency: str = "") -> bytes:
    """A workbook with one sheet per list (named after it), as bytes.

    Headers are the columns' labels (:data:`COLUMNS`), dates are dates and money has
    two decimals (``currency`` goes into the money headers). Every text cell is
    written as text: an id such as ``=1+1`` is never a formula, a link or a number.
    The workbook's creation date is fixed, so the same frames give the same bytes.
    """
    import xlsxwriter

    buffer = io.BytesIO()
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(buffer, options)
    book.set_properties({"created": WORKBOOK_DATE})
    formats = {
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "money": book.add_format({"num_format": "#,##0.00"}),
        "days": book.add_format({"num_format": "0.#"}),
        "header": book.add_format({"bold": True}),
    }
    for name, frame in frames.items():
        sheet = book.add_worksheet(name)
        for col, column in enumerate(frame.columns):
            label, kind = COLUMNS.get(column, (column, "text"))
            header = f"{label} ({currency})" if kind == "money" and currency else label
            sheet.write_string(0, col, header, formats["header"])
            sheet.set_column(col, col, max(12, len(header) + 2))
            for row, value in enumerate(frame.get_column(column).to_list(), start=1):
                _write_cell(sheet, row, col, value, formats.get(kind))
        sheet.freeze_panes(1, 1)
    book.close()
    return buffer.getvalue()


def _write_cell(sheet: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, str):
        sheet.write_string(row, col, value)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt)
    else:
        sheet.write_number(row, col, value, fmt)
