"""Plain-Python reference implementations of every KPI, for the property tests.

Written from the definitions in the docstrings of :mod:`b2b_analysis.metrics` and
:mod:`b2b_analysis.kpis`, not from their polars code. No polars, pandas or numpy:
tables are lists of dicts with the canonical column names, dates are
``datetime.date`` and timestamps ``datetime.datetime``.

Conventions followed (module docstring of ``b2b_analysis.metrics``):

* only gross merchandise value counts invalid (cancelled / returned) orders;
* a ratio with an empty (0) denominator is ``None``;
* "after" a first online order is a later calendar day (except where a function's
  own docstring says otherwise: :func:`aov_before_after_online` counts the first
  online order's day as "after");
* a period is identified here by its first day (ISO weeks start on Monday,
  fiscal quarters start in ``fiscal_year_start``, +3, +6, +9);
* for the window-based frame transforms the observed data are the orders up to
  the window end; history before the window start counts ("pass all orders").
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

Row = dict[str, Any]
ONE_DAY = dt.timedelta(days=1)


# ------------------------------------------------------------------- helpers


def div(numerator: float, denominator: float | None) -> float | None:
    """numerator / denominator, ``None`` for an empty (0 or missing) denominator."""
    if not denominator:
        return None
    return numerator / denominator


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return div(sum(items), len(items))


def median(values: Iterable[float | None]) -> float | None:
    items = [v for v in values if v is not None]
    return statistics.median(items) if items else None


def in_window(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def valid_orders(orders: list[Row]) -> list[Row]:
    return [o for o in orders if o["is_valid"]]


# ------------------------------------------------------------------- periods


def _add_months(first_of_month: dt.date, months: int) -> dt.date:
    total = first_of_month.year * 12 + first_of_month.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def period_start(day: dt.date, period: str, fiscal_year_start: int = 1) -> dt.date:
    """First day of the week (Monday) / month / fiscal quarter holding ``day``."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        months_into_quarter = (day.month - fiscal_year_start) % 3
        return _add_months(day.replace(day=1), -months_into_quarter)
    raise ValueError(period)


def shift_period(start: dt.date, period: str, steps: int) -> dt.date:
    """First day of the period ``steps`` periods after the one starting on ``start``."""
    if period == "week":
        return start + dt.timedelta(weeks=steps)
    return _add_months(start, steps * (1 if period == "month" else 3))


def period_last_day(start: dt.date, period: str) -> dt.date:
    return shift_period(start, period, 1) - ONE_DAY


def window_periods(
    start: dt.date, end: dt.date, period: str, fiscal_year_start: int = 1
) -> list[dt.date]:
    """First days of every period the window touches, in order."""
    out = [period_start(start, period, fiscal_year_start)]
    last = period_start(end, period, fiscal_year_start)
    while out[-1] < last:
        out.append(shift_period(out[-1], period, 1))
    return out


# ------------------------------------------------------------- aggregate KPIs


def customers(orders: list[Row]) -> int:
    return len({o["customer_id"] for o in valid_orders(orders)})


def order_count(orders: list[Row]) -> int:
    return len(valid_orders(orders))


def net_revenue(orders: list[Row]) -> float:
    return sum((o["revenue"] for o in valid_orders(orders)), 0.0)


def gross_merchandise_value(orders: list[Row]) -> float:
    return sum((o["revenue"] for o in orders), 0.0)


def average_order_value(orders: list[Row], online: bool | None = None) -> float | None:
    kept = [o for o in valid_orders(orders) if online is None or o["is_online"] == online]
    return mean(o["revenue"] for o in kept)


def customer_retention_rate(orders: list[Row]) -> float | None:
    per_customer = Counter(o["customer_id"] for o in valid_orders(orders))
    return div(sum(1 for n in per_customer.values() if n >= 2), len(per_customer))


def online_order_share(orders: list[Row]) -> float | None:
    kept = valid_orders(orders)
    return div(sum(1 for o in kept if o["is_online"]), len(kept))


def small_order_online_share(orders: list[Row], threshold: float) -> float | None:
    small = [o for o in valid_orders(orders) if o["revenue"] < threshold]
    return div(sum(1 for o in small if o["is_online"]), len(small))


def csat(surveys: list[Row]) -> float | None:
    scores = [s["score"] for s in surveys if s["kind"] == "csat"]
    return div(sum(1 for x in scores if x >= 4), len(scores))


def nps(surveys: list[Row]) -> float | None:
    scores = [s["score"] for s in surveys if s["kind"] == "nps"]
    if not scores:
        return None
    promoters = sum(1 for x in scores if x >= 9)
    detractors = sum(1 for x in scores if x <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def conversion_rate(online_orders: int, visits: int) -> float | None:
    return div(online_orders, visits)


def roi(gross_profit: float | None, investment: float | None) -> float | None:
    if gross_profit is None or investment is None:
        return None
    return div(gross_profit - investment, investment)


def flag_returning_visits(visits: list[Row]) -> list[bool]:
    """Per visit: by an identified customer who has a strictly earlier visit."""
    return [
        v["customer_id"] is not None
        and any(
            w["customer_id"] == v["customer_id"] and w["visit_start"] < v["visit_start"]
            for w in visits
        )
        for v in visits
    ]


def returning_visit_share(flags: list[bool]) -> float | None:
    return div(sum(flags), len(flags))


def visitor_conversion_rate(
    visits: list[Row], orders: list[Row], start: dt.date | None, end: dt.date | None
) -> Row:
    visitors = {
        v["customer_id"]
        for v in visits
        if v["customer_id"] is not None and in_window(v["visit_date"], start, end)
    }
    buyers = {
        o["customer_id"]
        for o in valid_orders(orders)
        if o["is_online"] and in_window(o["order_date"], start, end)
    }
    converted = len(visitors & buyers)
    return {
        "visitors": len(visitors),
        "converted": converted,
        "visitor_conversion_rate": div(converted, len(visitors)),
    }


# ---------------------------------------------------- period-based transforms


def _active_periods(
    orders: list[Row], period: str, fiscal_year_start: int, end: dt.date | None
) -> dict[str, set[dt.date]]:
    """customer -> periods with an order that counts (orders up to ``end``)."""
    active: dict[str, set[dt.date]] = defaultdict(set)
    for o in valid_orders(orders):
        if end is None or o["order_date"] <= end:
            active[o["customer_id"]].add(period_start(o["order_date"], period, fiscal_year_start))
    return active


def period_retention(
    orders: list[Row], *, period: str, start: dt.date, end: dt.date, fiscal_year_start: int = 1
) -> list[Row]:
    """One row per window period: S, retained, N, E, retained / S, (E - N) / S, lapsed (in
    t-1, not in t) and reactivated (in t, not in t-1, with an earlier period)."""
    active = _active_periods(orders, period, fiscal_year_start, end)
    first = {c: min(ps) for c, ps in active.items()}
    rows = []
    for p in window_periods(start, end, period, fiscal_year_start):
        before = shift_period(p, period, -1)
        s = sum(1 for ps in active.values() if before in ps)
        e = sum(1 for ps in active.values() if p in ps)
        retained = sum(1 for ps in active.values() if before in ps and p in ps)
        new = sum(1 for c in active if first[c] == p)
        lapsed = sum(1 for ps in active.values() if before in ps and p not in ps)
        back = sum(1 for ps in active.values() if p in ps and before not in ps and min(ps) < p)
        rows.append(
            {
                "period_start": p,
                "customers_start": s,
                "retained_customers": retained,
                "new_customers": new,
                "customers_end": e,
                "period_retention_rate": div(retained, s),
                "crr_formula": div(e - new, s),
                "lapsed_customers": lapsed,
                "reactivated_customers": back,
            }
        )
    return rows


def cohort_retention(
    orders: list[Row], *, period: str, start: dt.date, end: dt.date, fiscal_year_start: int = 1
) -> list[Row]:
    """Cohort matrix rows (cohorts of the window with customers x offsets 0..span)."""
    periods = window_periods(start, end, period, fiscal_year_start)
    last = periods[-1]
    last_is_partial = period_last_day(last, period) > end
    active = _active_periods(orders, period, fiscal_year_start, end)
    cohort_of = {c: min(ps) for c, ps in active.items()}
    rows = []
    for i, cohort in enumerate(periods):
        members = [c for c, first in cohort_of.items() if first == cohort]
        if not members:
            continue
        size = len(members)
        for k in range(len(periods)):
            if i + k >= len(periods):
                exact = later = None
                cell = "not_observed"
            else:
                target = periods[i + k]
                exact = sum(1 for c in members if target in active[c])
                later = sum(1 for c in members if any(target <= p <= last for p in active[c]))
                cell = "partial" if target == last and last_is_partial else "complete"
            rows.append(
                {
                    "cohort_start": cohort,
                    "periods_since": k,
                    "cohort_size": size,
                    "active_customers": exact,
                    "retention_rate": None if exact is None else exact / size,
                    "active_on_or_after": later,
                    "on_or_after_rate": None if later is None else later / size,
                    "cell": cell,
                }
            )
    return rows


def _state(online: int, offline: int) -> str:
    if online and offline:
        return "hybrid"
    if online:
        return "online-only"
    if offline:
        return "offline-only"
    return "inactive"


def channel_states(
    orders: list[Row], *, period: str, start: dt.date, end: dt.date, fiscal_year_start: int = 1
) -> list[Row]:
    periods = window_periods(start, end, period, fiscal_year_start)
    seen = [o for o in valid_orders(orders) if o["order_date"] <= end]
    first: dict[str, dt.date] = {}
    counts: dict[tuple[str, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for o in seen:
        p = period_start(o["order_date"], period, fiscal_year_start)
        c = o["customer_id"]
        first[c] = min(first.get(c, p), p)
        counts[c, p][0 if o["is_online"] else 1] += 1
    rows = []
    for c in sorted(first):
        for p in periods:
            if p < first[c]:
                continue
            online, offline = counts.get((c, p), [0, 0])
            rows.append(
                {
                    "customer_id": c,
                    "period_start": p,
                    "online_orders": online,
                    "offline_orders": offline,
                    "state": _state(online, offline),
                }
            )
    return rows


def channel_transitions(states: list[Row], period: str) -> list[Row]:
    """(period t, state in t-1, state in t) -> customers, from channel_states rows."""
    by_key = {(r["customer_id"], r["period_start"]): r["state"] for r in states}
    counts: Counter[tuple[dt.date, str, str]] = Counter()
    for (c, p), state in by_key.items():
        before = shift_period(p, period, -1)
        if (c, before) in by_key:
            counts[p, by_key[c, before], state] += 1
    return [
        {"period_start": p, "from_state": a, "to_state": b, "customers": n}
        for (p, a, b), n in sorted(counts.items())
    ]


def orders_per_customer(orders: list[Row], *, period: str, fiscal_year_start: int = 1) -> list[Row]:
    groups: dict[dt.date, list[Row]] = defaultdict(list)
    for o in valid_orders(orders):
        groups[period_start(o["order_date"], period, fiscal_year_start)].append(o)
    rows = []
    for p in sorted(groups):
        group = groups[p]
        active = len({o["customer_id"] for o in group})
        online = sum(1 for o in group if o["is_online"])
        offline = len(group) - online
        rows.append(
            {
                "period_start": p,
                "active_customers": active,
                "online_orders": online,
                "offline_orders": offline,
                "online_orders_per_customer": div(online, active),
                "offline_orders_per_customer": div(offline, active),
            }
        )
    return rows


def _channel(order: Row) -> str:
    return "online" if order["is_online"] else "offline"


def aov_by_channel(orders: list[Row], *, period: str, fiscal_year_start: int = 1) -> list[Row]:
    groups: dict[tuple[dt.date, str], list[float]] = defaultdict(list)
    for o in valid_orders(orders):
        key = (period_start(o["order_date"], period, fiscal_year_start), _channel(o))
        groups[key].append(o["revenue"])
    return [
        {
            "period_start": p,
            "channel": ch,
            "orders": len(v),
            "net_revenue": sum(v),
            "average_order_value": mean(v),
        }
        for (p, ch), v in sorted(groups.items())
    ]


def customer_aov_comparison(orders: list[Row]) -> list[Row]:
    rows = []
    for c in sorted({o["customer_id"] for o in valid_orders(orders)}):
        mine = [o for o in valid_orders(orders) if o["customer_id"] == c]
        online = [o["revenue"] for o in mine if o["is_online"]]
        offline = [o["revenue"] for o in mine if not o["is_online"]]
        if not online or not offline:
            continue
        on, off = mean(online), mean(offline)
        assert on is not None and off is not None
        rows.append(
            {
                "customer_id": c,
                "online_orders": len(online),
                "offline_orders": len(offline),
                "online_aov": on,
                "offline_aov": off,
                "aov_difference": on - off,
                "aov_ratio": div(on, off),
            }
        )
    return rows


def _first_online_days(
    orders: list[Row], start: dt.date | None, end: dt.date | None
) -> dict[str, dt.date]:
    """customer -> day of the first online order that counts ever, if in the window."""
    first: dict[str, dt.date] = {}
    for o in valid_orders(orders):
        if o["is_online"] and (end is None or o["order_date"] <= end):
            c = o["customer_id"]
            first[c] = min(first.get(c, o["order_date"]), o["order_date"])
    return {c: d for c, d in first.items() if in_window(d, start, end)}


def online_adoption(
    orders: list[Row], *, start: dt.date | None = None, end: dt.date | None = None
) -> list[Row]:
    rows = []
    first = _first_online_days(orders, start, end)
    for c in sorted(first):
        day = first[c]
        later = [
            o
            for o in valid_orders(orders)
            if o["customer_id"] == c
            and o["order_date"] > day
            and in_window(o["order_date"], None, end)
        ]
        later_online = [o for o in later if o["is_online"]]
        reverted = None if not later else not later_online
        days = None
        if reverted:
            days = (min(o["order_date"] for o in later) - day).days
        rows.append(
            {
                "customer_id": c,
                "first_online_date": day,
                "later_orders": len(later),
                "later_online_orders": len(later_online),
                "retained_online": bool(later_online),
                "reverted_to_offline": reverted,
                "days_to_revert": days,
            }
        )
    return rows


def online_retention_rate(adoption: list[Row]) -> float | None:
    return div(sum(1 for r in adoption if r["retained_online"]), len(adoption))


def reverted_to_offline_share(adoption: list[Row]) -> float | None:
    known = [r["reverted_to_offline"] for r in adoption if r["reverted_to_offline"] is not None]
    return div(sum(known), len(known))


def aov_before_after_online(
    orders: list[Row], *, start: dt.date | None = None, end: dt.date | None = None
) -> list[Row]:
    """Before: days before the first online order (any date); after: that day to ``end``."""
    rows = []
    first = _first_online_days(orders, start, end)
    for c in sorted(first):
        day = first[c]
        mine = [o for o in valid_orders(orders) if o["customer_id"] == c]
        before = [o["revenue"] for o in mine if o["order_date"] < day]
        after = [
            o["revenue"]
            for o in mine
            if day <= o["order_date"] and in_window(o["order_date"], None, end)
        ]
        if not before or not after:
            continue
        b, a = mean(before), mean(after)
        assert a is not None and b is not None
        rows.append(
            {
                "customer_id": c,
                "first_online_date": day,
                "orders_before": len(before),
                "orders_after": len(after),
                "aov_before": b,
                "aov_after": a,
                "aov_shift": a - b,
                "aov_shift_ratio": div(a, b),
            }
        )
    return rows


def basket_by_channel(
    orders: list[Row],
    order_lines: list[Row] | None = None,
    *,
    period: str,
    fiscal_year_start: int = 1,
) -> list[Row]:
    """Per period and channel: orders, mean lines per order, mean distinct categories."""
    groups: dict[tuple[dt.date, str], list[tuple[int | None, int | None]]] = defaultdict(list)
    for o in valid_orders(orders):
        if order_lines is not None:
            lines = [line for line in order_lines if line["order_id"] == o["order_id"]]
            basket: tuple[int | None, int | None] = (
                len(lines),
                len({line["category"] for line in lines if line["category"] is not None}),
            )
        else:
            basket = (o.get("lines"), None)
        groups[period_start(o["order_date"], period, fiscal_year_start), _channel(o)].append(basket)
    rows = []
    for (p, ch), baskets in sorted(groups.items()):
        lines_known = [n for n, _ in baskets if n is not None]
        cats_known = [k for _, k in baskets if k is not None]
        rows.append(
            {
                "period_start": p,
                "channel": ch,
                "orders": len(baskets),
                "lines_per_order": mean(lines_known),
                "categories_per_order": mean(cats_known),
            }
        )
    return rows


def retention_by_satisfaction(
    orders: list[Row], surveys: list[Row], *, start: dt.date, end: dt.date
) -> list[Row]:
    latest: dict[str, Row] = {}
    for s in surveys:
        if s["kind"] == "csat" and in_window(s["response_date"], start, end):
            c = s["customer_id"]
            if c not in latest or s["response_date"] > latest[c]["response_date"]:
                latest[c] = s
    band = {c: "satisfied" if s["score"] >= 4 else "not satisfied" for c, s in latest.items()}
    per_customer = Counter(
        o["customer_id"] for o in valid_orders(orders) if in_window(o["order_date"], start, end)
    )
    rows = []
    for name in ("not satisfied", "satisfied"):
        members = [c for c in per_customer if band.get(c) == name]
        if not members:
            continue
        repeat = sum(1 for c in members if per_customer[c] >= 2)
        rows.append(
            {
                "band": name,
                "customers": len(members),
                "repeat_customers": repeat,
                "customer_retention_rate": repeat / len(members),
            }
        )
    return rows


# ------------------------------------------------------------- compute_kpis


def _profit(order: Row, margin: float | None) -> float | None:
    cost = order.get("cost")
    if cost is not None:
        return order["revenue"] - cost
    return None if margin is None else order["revenue"] * margin


def online_gross_profit(
    orders: list[Row], all_orders: list[Row], margin: float | None, has_cost: bool
) -> float | None:
    """Sum of (revenue - cost, or revenue x margin) over online orders that count.

    ``None`` when a needed estimate is impossible: no cost column and no margin, or
    some order of the client lacks a cost and there is no margin to estimate it.
    """
    if not has_cost and margin is None:
        return None
    if has_cost and margin is None and any(o.get("cost") is None for o in all_orders):
        return None
    total = 0.0
    for o in valid_orders(orders):
        if o["is_online"]:
            value = _profit(o, margin)
            assert value is not None
            total += value
    return total


def compute_kpis(
    *,
    orders: list[Row],
    visits: list[Row] | None,
    surveys: list[Row] | None,
    investments: list[Row] | None,
    start: dt.date,
    end: dt.date,
    period: str,
    fiscal_year_start: int,
    gross_margin: float | None,
    small_order_threshold: float | None,
    has_cost: bool,
) -> tuple[dict[str, Any], list[Row]]:
    """The headline KPIs of the window and the per-period series, from the definitions."""
    window = [o for o in orders if in_window(o["order_date"], start, end)]
    threshold = small_order_threshold
    if threshold is None:
        threshold = median(o["revenue"] for o in valid_orders(window))
    assert threshold is not None  # compute_kpis refuses a window without valid orders

    def order_kpis(group: list[Row]) -> Row:
        return {
            "customers": customers(group),
            "orders": order_count(group),
            "customer_retention_rate": customer_retention_rate(group),
            "average_order_value": average_order_value(group),
            "gross_merchandise_value": gross_merchandise_value(group),
            "net_revenue": net_revenue(group),
            "online_order_share": online_order_share(group),
            "small_order_online_share": small_order_online_share(group, threshold),
            "online_average_order_value": average_order_value(group, online=True),
            "offline_average_order_value": average_order_value(group, online=False),
            "online_gross_profit": online_gross_profit(group, orders, gross_margin, has_cost),
            "_online_orders": sum(1 for o in valid_orders(group) if o["is_online"]),
        }

    def visit_kpis(window_visits: list[Row]) -> Row:
        flags = [returning[id(v)] for v in window_visits]
        return {
            "_visits": len(window_visits),
            "returning_visit_share": returning_visit_share(flags),
        }

    kpis: dict[str, Any] = order_kpis(window)
    returning: dict[int, bool] = {}
    window_visits: list[Row] = []
    if visits is not None:
        returning = {id(v): f for v, f in zip(visits, flag_returning_visits(visits), strict=True)}
        window_visits = [v for v in visits if in_window(v["visit_date"], start, end)]
        kpis.update(visit_kpis(window_visits))
        kpis["visitor_conversion_rate"] = visitor_conversion_rate(visits, orders, start, end)[
            "visitor_conversion_rate"
        ]
        kpis["conversion_rate"] = conversion_rate(kpis["_online_orders"], len(window_visits))
    else:
        kpis.update(
            _visits=None,
            returning_visit_share=None,
            visitor_conversion_rate=None,
            conversion_rate=None,
        )
    window_surveys = [s for s in surveys or [] if in_window(s["response_date"], start, end)]
    kpis["csat"] = csat(window_surveys)
    kpis["nps"] = nps(window_surveys)
    window_investments = [i for i in investments or [] if in_window(i["date"], start, end)]
    kpis["investment"] = (
        None if investments is None else sum((i["amount"] for i in window_investments), 0.0)
    )
    kpis["roi"] = roi(kpis["online_gross_profit"], kpis["investment"])
    adoption = online_adoption(orders, start=start, end=end)
    kpis["online_retention_rate"] = online_retention_rate(adoption)
    kpis["reverted_to_offline_share"] = reverted_to_offline_share(adoption)
    kpis["median_days_to_revert"] = median(r["days_to_revert"] for r in adoption)
    kpis["median_aov_shift"] = median(
        r["aov_shift"] for r in aov_before_after_online(orders, start=start, end=end)
    )
    kpis["median_online_offline_aov_ratio"] = median(
        r["aov_ratio"] for r in customer_aov_comparison(window)
    )

    # ---- per-period series
    retention = {
        r["period_start"]: r
        for r in period_retention(
            orders, period=period, start=start, end=end, fiscal_year_start=fiscal_year_start
        )
    }
    series = []
    for p in window_periods(start, end, period, fiscal_year_start):

        def here(day: dt.date, p: dt.date = p) -> bool:
            return period_start(day, period, fiscal_year_start) == p

        row: Row = {"period_start": p}
        row["is_partial"] = p < start or period_last_day(p, period) > end
        row.update(order_kpis([o for o in window if here(o["order_date"])]))
        if visits is not None:
            row.update(visit_kpis([v for v in window_visits if here(v["visit_date"])]))
            row["conversion_rate"] = conversion_rate(row["_online_orders"], row["_visits"])
        else:
            row.update(_visits=None, returning_visit_share=None, conversion_rate=None)
        period_surveys = [s for s in window_surveys if here(s["response_date"])]
        row["csat"] = csat(period_surveys)
        row["nps"] = nps(period_surveys)
        if investments is not None:
            row["investment"] = sum(
                (i["amount"] for i in window_investments if here(i["date"])), 0.0
            )
            row["roi"] = roi(row["online_gross_profit"], row["investment"])
        else:
            row["investment"] = row["roi"] = None
        cohort = [r for r in adoption if here(r["first_online_date"])]
        row["online_retention_rate"] = online_retention_rate(cohort)
        row["reverted_to_offline_share"] = reverted_to_offline_share(cohort)
        row.update(
            {
                k: retention[p][k]
                for k in (
                    "customers_start",
                    "retained_customers",
                    "new_customers",
                    "period_retention_rate",
                    "crr_formula",
                    "lapsed_customers",
                    "reactivated_customers",
                )
            }
        )
        series.append(row)
    return kpis, series
