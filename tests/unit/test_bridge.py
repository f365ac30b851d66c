"""What drove the change (:mod:`b2b_analysis.bridge`): the revenue and online-share
bridges and the sales effort freed.

* The Shapley split adds up to the change, on random factors (zeros and undefined
  factors included) and on random small clients (``tests/support/strategies.py``).
* A hand-worked client (:func:`hand_client`): every number of both comparisons and of
  the sales effort worked out by hand in the comments.
* Skips: no year-earlier data, no complete period, an ISO week 53; a factor of zero.
* The sales effort on random clients against a plain-Python reading of the definition.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2b_analysis import charts
from b2b_analysis.analysis import Analysis
from b2b_analysis.bridge import (
    Drivers,
    Factors,
    base_periods,
    compare,
    drivers,
    shapley_split,
    waterfall,
)
from b2b_analysis.config import ClientParams
from b2b_analysis.display import Note
from b2b_analysis.io import ClientData
from b2b_analysis.kpis import compute_kpis
from b2b_analysis.periods import Calendar
from tests.support import reference as ref
from tests.support.strategies import ORDER_SCHEMA, SETTINGS, Client, clients, frame

MONTH = Calendar("month")
D = dt.date


def order(customer: str, day: dt.date, revenue: float, online: bool, valid: bool = True) -> dict:
    return {
        "order_id": f"{customer}{day}{revenue}",
        "customer_id": customer,
        "order_date": day,
        "channel": "web" if online else "phone",
        "revenue": revenue,
        "status": "placed" if valid else "cancelled",
        "is_online": online,
        "is_valid": valid,
    }


def hand_client() -> pl.LazyFrame:
    """Five customers over 2023-03 .. 2024-04; the window is 2024-01-01 .. 2024-03-31.

    2023-03: c offline 100.                          (the year-earlier base)
    2023-12: d offline 80 (12-01), online 90 (12-15): d adopts before the window.
    2024-01: d online 50, offline 500; e offline 40 (e goes online only after the window).
    2024-02: a offline 100, offline 100; b online 100 (b's first order); c cancelled 1000.
    2024-03: a online 150 (03-01, a's first online order), offline 150, online 60;
             b online 100, online 140, returned online 500; c offline 120.
    2024-04: a online 70, e online 30 (after the window: left out).
    """
    rows = [
        order("c", D(2023, 3, 10), 100.0, False),
        order("d", D(2023, 12, 1), 80.0, False),
        order("d", D(2023, 12, 15), 90.0, True),
        order("d", D(2024, 1, 10), 50.0, True),
        order("d", D(2024, 1, 20), 500.0, False),
        order("e", D(2024, 1, 15), 40.0, False),
        order("a", D(2024, 2, 5), 100.0, False),
        order("a", D(2024, 2, 20), 100.0, False),
        order("b", D(2024, 2, 10), 100.0, True),
        order("c", D(2024, 2, 11), 1000.0, False, valid=False),
        order("a", D(2024, 3, 1), 150.0, True),
        order("a", D(2024, 3, 15), 150.0, False),
        order("a", D(2024, 3, 20), 60.0, True),
        order("b", D(2024, 3, 2), 100.0, True),
        order("b", D(2024, 3, 25), 140.0, True),
        order("b", D(2024, 3, 28), 500.0, True, valid=False),
        order("c", D(2024, 3, 5), 120.0, False),
        order("a", D(2024, 4, 2), 70.0, True),
        order("e", D(2024, 4, 5), 30.0, True),
    ]
    return frame(rows, ORDER_SCHEMA).lazy()


def hand_drivers(**kwargs: Any) -> Drivers:
    window = {"start": D(2024, 1, 1), "end": D(2024, 3, 31), **kwargs}
    return drivers(hand_client(), calendar=MONTH, minutes=12.0, threshold=130.0, **window)


# ------------------------------------------------------------------ the split


@given(
    st.integers(2, 3).flatmap(
        lambda n: st.tuples(
            *(st.none() | st.just(0.0) | st.floats(0.01, 1e4) for _ in range(2 * n))
        )
    )
)
def test_the_shapley_parts_add_up_to_the_change(values: tuple[float | None, ...]) -> None:
    n = len(values) // 2
    base, current = list(values[:n]), list(values[n:])
    parts = shapley_split(base, current)
    # an undefined factor takes the other period's value (0 when both are undefined)
    filled = [
        (b if b is not None else (c or 0.0), c if c is not None else (b or 0.0))
        for b, c in zip(base, current, strict=True)
    ]
    change = math.prod(c for _, c in filled) - math.prod(b for b, _ in filled)
    scale = math.prod(max(abs(b), abs(c), 1.0) for b, c in filled)
    assert sum(parts) == pytest.approx(change, rel=1e-9, abs=1e-9 * scale)
    for part, (b, c) in zip(parts, filled, strict=True):
        if b == c:
            assert part == 0.0


def test_a_factor_of_zero_and_an_empty_base_period() -> None:
    # AOV 0 before (orders worth nothing): no logarithm, the split is still exact.
    # base 2 x 1 x 0 = 0, current 2 x 1 x 10 = 20: all of it is AOV's part
    assert shapley_split([2, 1, 0.0], [2, 1, 10.0]) == (0.0, 0.0, 20.0)
    # a base period without orders: orders per customer and AOV undefined, all to customers
    d = compare(Factors("2024-02"), Factors("2024-03", 2, 4, 400.0, 1, 1))
    assert d["change"] == 400.0
    assert d["parts"] == {"customers": 400.0, "orders_per_customer": 0.0, "aov": 0.0}
    # no online share without orders: the share's fields are null, the keys stay
    assert d["online_share"] == {
        "value": 0.25,
        "base_value": None,
        "change": None,
        "parts": {"moved_online": None, "ordered_more_often": None},
    }


# ------------------------------------------------------------------ hand-worked client


def test_the_revenue_bridge_of_the_hand_worked_client() -> None:
    d = hand_drivers()
    prev = d.previous
    assert prev is not None
    # 2024-02: a 100 + 100, b 100 (c's cancelled 1000 left out): 2 customers, 3 orders,
    # 300 of revenue: 2 x 1.5 x 100.
    # 2024-03: a 150 + 150 + 60, b 100 + 140 (b's returned 500 left out), c 120:
    # 3 customers, 6 orders, 720: 3 x 2 x 120.
    assert (prev["period"], prev["base_period"]) == ("2024-03", "2024-02")
    assert (prev["base_revenue"], prev["revenue"], prev["change"]) == (300.0, 720.0, 420.0)
    assert (prev["base_customers"], prev["customers"]) == (2, 3)
    assert (prev["base_orders"], prev["orders"]) == (3, 6)
    # customers 2 -> 3: 1 x (2 (1.5 x 100 + 2 x 120) + 1.5 x 120 + 2 x 100) / 6 = 1160 / 6
    # orders per customer 1.5 -> 2: 0.5 x (2 (2 x 100 + 3 x 120) + 2 x 120 + 3 x 100) / 6
    #   = 0.5 x 1660 / 6 = 830 / 6
    # AOV 100 -> 120: 20 x (2 (2 x 1.5 + 3 x 2) + 2 x 2 + 3 x 1.5) / 6 = 20 x 26.5 / 6 = 530 / 6
    assert prev["parts"] == pytest.approx(
        {"customers": 1160 / 6, "orders_per_customer": 830 / 6, "aov": 530 / 6}, rel=1e-12
    )
    # online share: 2024-02 1 of 3 orders (b), reach 1/2, intensity (1/1) / 1.5 = 2/3;
    # 2024-03 4 of 6 (a 2, b 2), reach 2/3, intensity (4/2) / 2 = 1.
    # moved online = (2/3 - 1/2) x (2/3 + 1) / 2 = 5/36;
    # ordered more often = (1 - 2/3) x (1/2 + 2/3) / 2 = 7/36
    share = prev["online_share"]
    assert share["value"] == pytest.approx(2 / 3) and share["base_value"] == pytest.approx(1 / 3)
    assert share["change"] == pytest.approx(1 / 3)
    assert share["parts"] == pytest.approx(
        {"moved_online": 5 / 36, "ordered_more_often": 7 / 36}, rel=1e-12
    )


def test_the_year_earlier_bridge_has_a_zero_online_share_to_start_from() -> None:
    year = hand_drivers().year_earlier
    assert year is not None
    # 2023-03: c offline 100: 1 x 1 x 100; 2024-03: 3 x 2 x 120 = 720; change 620
    assert (year["base_period"], year["base_revenue"], year["change"]) == ("2023-03", 100.0, 620.0)
    # customers 1 -> 3: 2 x (2 (1 x 100 + 2 x 120) + 1 x 120 + 2 x 100) / 6 = 2000 / 6
    # orders per customer 1 -> 2: 1 x (2 (1 x 100 + 3 x 120) + 1 x 120 + 3 x 100) / 6 = 1340 / 6
    # AOV 100 -> 120: 20 x (2 (1 x 1 + 3 x 2) + 1 x 2 + 3 x 1) / 6 = 380 / 6
    assert year["parts"] == pytest.approx(
        {"customers": 2000 / 6, "orders_per_customer": 1340 / 6, "aov": 380 / 6}, rel=1e-12
    )
    # no online customer in 2023-03: reach 0, intensity undefined (takes 2024-03's, 1):
    # the whole change 2/3 is customers moving online
    assert year["online_share"]["parts"] == pytest.approx(
        {"moved_online": 2 / 3, "ordered_more_often": 0.0}, abs=1e-12
    )


def test_the_sales_effort_freed_of_the_hand_worked_client() -> None:
    d = hand_drivers().to_dict()["sales_effort"]
    # adopters with orders before their first online order: a (first online 2024-03-01,
    # 2 offline orders before: share 1) and d (2023-12-15, 1 offline order before: share 1).
    # b's first order was online (no baseline: left out); c never ordered online; e's first
    # online order is after the window's end (not adopted in it).
    # 2024-01: d: 2 orders x 1 - 1 offline = 1 moved; small (< 130): d's 50 online: 1 x 1 - 0
    # 2024-02: a not adopted yet: nothing
    # 2024-03: a: 3 orders x 1 - 1 offline = 2; small: a's 60 online: 1
    # hours = moved x 12 / 60
    assert d["by_period"] == [
        {
            "period": "2024-01",
            "hours": 0.2,
            "small_order_hours": 0.2,
            "orders_moved_online": 1.0,
            "small_orders_moved_online": 1.0,
        },
        {
            "period": "2024-02",
            "hours": 0.0,
            "small_order_hours": 0.0,
            "orders_moved_online": 0.0,
            "small_orders_moved_online": 0.0,
        },
        {
            "period": "2024-03",
            "hours": 0.4,
            "small_order_hours": 0.2,
            "orders_moved_online": 2.0,
            "small_orders_moved_online": 1.0,
        },
    ]
    assert d["offline_order_minutes"] == 12.0
    assert d["hours"] == pytest.approx(0.6) and d["small_order_hours"] == pytest.approx(0.4)
    assert (d["orders_moved_online"], d["small_orders_moved_online"]) == (3.0, 2.0)


def test_without_a_threshold_the_small_orders_part_is_null() -> None:
    d = drivers(
        hand_client(),
        calendar=MONTH,
        start=D(2024, 1, 1),
        end=D(2024, 3, 31),
        minutes=6.0,
        threshold=None,
    ).to_dict()["sales_effort"]
    assert d["hours"] == pytest.approx(0.3)  # 3 orders moved x 6 minutes
    assert d["small_order_hours"] is None and d["small_orders_moved_online"] is None
    assert {row["small_order_hours"] for row in d["by_period"]} == {None}


# ------------------------------------------------------------------ skips


def test_no_year_earlier_data_skips_that_comparison_with_a_reason() -> None:
    recent = hand_client().filter(pl.col("order_date") >= D(2024, 2, 1))
    d = drivers(
        recent,
        calendar=MONTH,
        start=D(2024, 2, 1),
        end=D(2024, 3, 31),
        minutes=10.0,
        threshold=None,
    )
    assert d.previous is not None and d.year_earlier is None
    assert d.notes == {"bridge.year_earlier": "2023-03 is before the first order (2024-02-05)"}
    assert d.to_dict()["bridge"]["year_earlier"] is None


def test_a_window_without_a_complete_period_has_no_bridge() -> None:
    d = hand_drivers(end=D(2024, 3, 20), start=D(2024, 3, 2))
    assert (d.previous, d.year_earlier) == (None, None)
    why = "the window (2024-03-02 to 2024-03-20) holds no complete month"
    assert d.notes == {"bridge.previous": why, "bridge.year_earlier": why}
    assert waterfall(d).is_empty()
    assert charts.revenue_bridge_chart(bridge=waterfall(d)).to_dict()["mark"]["type"] == "bar"


def test_the_window_cut_short_compares_its_last_complete_period() -> None:
    # the window ends mid-March: February is the last complete month; 2023-02 ends before
    # the first order (c's, 2023-03-10)
    d = hand_drivers(end=D(2024, 3, 20))
    assert d.previous is not None and d.year_earlier is None
    assert (d.previous["period"], d.previous["base_period"]) == ("2024-02", "2024-01")
    # 2024-01: d 50 + 500, e 40 (2 customers, 3 orders); 2024-02: 300 (2 customers, 3 orders)
    assert (d.previous["base_revenue"], d.previous["revenue"]) == (590.0, 300.0)
    assert d.notes == {"bridge.year_earlier": "2023-02 is before the first order (2023-03-10)"}


@pytest.mark.parametrize(
    ("calendar", "end", "days"),
    [
        # fiscal quarters from July: FY2023/24 Q3 (Jan-Mar 2024) against Q2 (Oct-Dec 2023)
        # and FY2022/23 Q3 (Jan-Mar 2023)
        (Calendar("quarter", 7), D(2024, 3, 31), [D(2024, 1, 1), D(2023, 10, 1), D(2023, 1, 1)]),
        # ISO week 2024-W10 (March 4-10) against 2024-W09 and 2023-W10 (March 6-12, 2023)
        (Calendar("week"), D(2024, 3, 10), [D(2024, 3, 4), D(2024, 2, 26), D(2023, 3, 6)]),
    ],
)
def test_the_base_periods_follow_the_calendar(
    calendar: Calendar, end: dt.date, days: list[dt.date]
) -> None:
    current, bases = base_periods(calendar, D(2022, 6, 1), end, D(2022, 1, 1))
    keys = [calendar.key_of(day) for day in days]
    assert [current, bases["previous"], bases["year_earlier"]] == keys


def test_iso_week_53_has_no_year_earlier_week() -> None:
    # 2020-W53 runs from 2020-12-28 to 2021-01-03; 2019 has 52 ISO weeks
    current, bases = base_periods(Calendar("week"), D(2020, 12, 1), D(2021, 1, 3), D(2018, 1, 1))
    assert current == Calendar("week").key_of(D(2020, 12, 28))
    assert bases["year_earlier"] == "2020-W53 has no week 53 a year earlier (2019 has 52 ISO weeks)"


# ------------------------------------------------------------------ random clients


def effort_reference(client: Client, threshold: float | None) -> list[tuple[float, float | None]]:
    """Per period of the window, (moved, small moved), from the definition read literally:
    per adopter and period, orders x pre-adoption offline share - offline orders."""
    valid = [o for o in client.orders if o["is_valid"] and o["order_date"] <= client.end]
    first: dict[str, dt.date] = {}
    for o in valid:
        if o["is_online"]:
            c = o["customer_id"]
            first[c] = min(first.get(c, o["order_date"]), o["order_date"])
    share = {}
    for c, day in first.items():
        before = [o for o in valid if o["customer_id"] == c and o["order_date"] < day]
        if before:
            share[c] = sum(not o["is_online"] for o in before) / len(before)
    kwargs = {"period": client.period, "fiscal_year_start": client.fiscal_year_start}
    out = []
    for start in ref.window_periods(client.start, client.end, **kwargs):
        moved, small = 0.0, 0.0
        for c, s in share.items():
            if ref.period_start(first[c], **kwargs) > start:
                continue  # not adopted by the period's end
            mine = [
                o
                for o in valid
                if o["customer_id"] == c
                and client.start <= o["order_date"]
                and ref.period_start(o["order_date"], **kwargs) == start
            ]
            moved += len(mine) * s - sum(not o["is_online"] for o in mine)
            if threshold is not None:
                little = [o for o in mine if o["revenue"] < threshold]
                small += len(little) * s - sum(not o["is_online"] for o in little)
        out.append((moved, small if threshold is not None else None))
    return out


@SETTINGS
@given(clients())
def test_random_clients_bridge_adds_up_and_effort_matches_the_definition(client: Client) -> None:
    threshold = client.small_order_threshold
    d = drivers(
        client.orders_df().lazy(),
        calendar=client.calendar(),
        start=client.start,
        end=client.end,
        minutes=7.5,
        threshold=threshold,
    )
    for bridge in (d.previous, d.year_earlier):
        if bridge is None:
            continue
        assert sum(bridge["parts"].values()) == pytest.approx(
            bridge["change"], abs=1e-9 * max(bridge["revenue"], bridge["base_revenue"], 1.0)
        )
        share = bridge["online_share"]
        if share["change"] is not None:
            assert sum(share["parts"].values()) == pytest.approx(share["change"], abs=1e-12)
    want = effort_reference(client, threshold)
    moved = d.effort.get_column("orders_moved_online").to_list()
    small = d.effort.get_column("small_orders_moved_online").to_list()
    assert moved == pytest.approx([w[0] for w in want], abs=1e-9)
    if threshold is None:
        assert set(small) == {None}
    else:
        assert small == pytest.approx([w[1] for w in want], abs=1e-9)
    assert d.effort.get_column("hours").to_list() == pytest.approx([w[0] * 7.5 / 60 for w in want])


# ------------------------------------------------------------------ kpis.json


def test_kpis_json_has_the_bridge_and_the_sales_effort() -> None:
    params = ClientParams.model_validate(
        {
            "client": "Hand",
            "data": {"orders": "orders.csv"},
            "window": {"start": "2024-01-01", "end": "2024-03-31"},
            "small_order_threshold": 130,
            "offline_order_minutes": 12,
        }
    )
    data = ClientData(params=params, orders=hand_client().collect())
    doc = compute_kpis(data).to_dict()
    assert doc["bridge"]["previous"]["parts"] == pytest.approx(
        {"customers": 1160 / 6, "orders_per_customer": 830 / 6, "aov": 530 / 6}
    )
    assert set(doc["bridge"]) == {"previous", "year_earlier"}
    assert doc["sales_effort"]["hours"] == pytest.approx(0.6)
    assert doc["sales_effort"]["offline_order_minutes"] == 12.0
    # the bridge's revenue is the series' net revenue of the same period
    march = next(r for r in doc["series"]["rows"] if r["period_label"] == "2024-03")
    assert doc["bridge"]["previous"]["revenue"] == march["net_revenue"] == 720.0


def test_offline_order_minutes_defaults_to_10_and_must_be_positive() -> None:
    base = {"client": "x", "data": {"orders": "o.csv"}}
    assert ClientParams.model_validate(base).offline_order_minutes == 10.0
    for bad in (0, -5, 481):
        with pytest.raises(ValueError, match="offline_order_minutes"):
            ClientParams.model_validate({**base, "offline_order_minutes": bad})


# ------------------------------------------------------------------ the overview's views


def hand_analysis(orders: pl.LazyFrame | None = None, **window: str) -> Analysis:
    """The hand-worked client in German (de-DE, EUR): threshold 130, 12 minutes an order."""
    params = ClientParams.model_validate(
        {
            "client": "Hand",
            "data": {"orders": "orders.csv"},
            "window": {"start": "2024-01-01", "end": "2024-03-31", **window},
            "small_order_threshold": 130,
            "offline_order_minutes": 12,
            "currency": "EUR",
            "locale": "de-DE",
        }
    )
    orders = hand_client() if orders is None else orders
    data = ClientData(params=params, orders=orders.collect())
    return Analysis(data=data, kpis=compute_kpis(data))


def test_the_waterfall_names_its_comparisons_and_parts_and_its_bars_join_up() -> None:
    steps = waterfall(hand_drivers())
    assert steps.get_column("against").to_list() == ["previous"] * 5 + ["year_earlier"] * 5
    parts = ["base", "customers", "orders_per_customer", "aov", "current"]
    assert steps.get_column("part").to_list() == parts * 2
    for block in steps.partition_by("against"):
        ends = block.get_column("bar_end").to_list()
        starts = block.get_column("bar_start").to_list()
        # each part starts where the step before ended; the last part ends at 2024-03's 720
        assert starts[1:4] == ends[0:3]
        assert ends[3] == pytest.approx(720.0) and ends[4] == 720.0


def test_the_bridge_view_draws_each_comparison_or_says_why_not() -> None:
    a = hand_analysis()
    specs = [a.revenue_bridge_view(k).to_dict() for k in ("previous", "year_earlier")]
    for spec, base, revenue in zip(specs, ("2024-02", "2023-03"), (300.0, 100.0), strict=True):
        assert spec["usermeta"]["b2bWidth"] == "container" and len(spec["layer"]) == 4
        data = spec["datasets"][spec["data"]["name"]]
        assert [r["label"] for r in data][::4] == [base, "2024-03"]
        assert [r["amount"] for r in data][::4] == [revenue, 720.0]
    # the orders start in 2024-02: no year-earlier base, a sentence instead
    recent = hand_analysis(hand_client().filter(pl.col("order_date") >= D(2024, 2, 1)))
    assert recent.revenue_bridge_view("previous").to_dict()["usermeta"]["b2bWidth"] == "container"
    note = recent.revenue_bridge_view("year_earlier")
    assert isinstance(note, Note)
    assert note.text == (
        "Kein Vergleich mit derselben Periode ein Jahr zuvor: Die Bestellungen reichen nicht "
        "ein Jahr vor 2024-03 zurück."
    )
    # no complete period: one sentence for both
    short = hand_analysis(start="2024-03-02", end="2024-03-20")
    assert isinstance(short.revenue_bridge_view("previous"), Note)
    assert short.revenue_bridge_view("previous").text.startswith("Keine Umsatzbrücke:")
    assert short.revenue_bridge_view("year_earlier") is None


def test_the_sales_effort_chart_and_sentence_of_the_hand_worked_client() -> None:
    a = hand_analysis()
    assert a.kpis.drivers is not None
    spec = charts.sales_effort_chart(frame=a.sales_effort(), locale=a.locale).to_dict()
    drawn = pl.DataFrame(spec["datasets"][spec["data"]["name"]])
    expected = a.kpis.drivers.effort.select(drawn.columns)
    assert drawn.to_dicts() == expected.to_dicts()
    assert drawn.get_column("hours").to_list() == pytest.approx([0.2, 0.0, 0.4])
    # 3 orders moved (1 in 2024-01, 2 in 2024-03) x 12 minutes = 0.6 hours, 0.4 on small orders
    sentence = a.sales_effort_total().data
    assert sentence == (
        "Von 01.01.2024 bis 31.03.2024 haben die online gewanderten Bestellungen etwa "
        "**0,6 Stunden** Vertriebszeit frei gemacht: 3 Bestellungen zu je 12 Minuten; "
        "0,4 Stunden davon bei kleinen Bestellungen."
    )
    quiet = hand_analysis(hand_client().filter(~pl.col("is_online")))
    assert quiet.sales_effort_total().data.startswith("Im Zeitraum sind keine Bestellungen")
