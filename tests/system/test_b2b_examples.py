"""A hand-checked example client for every B2B KPI of the Spanish article.

The expected numbers below were worked out by hand from the rows (the comments
show the arithmetic), not by running the toolkit.

Customers, in the window January-March 2024 (monthly periods):

* ``a``: an old offline customer (first order December 2023) who goes online on
  5 February, orders online again, then also by phone: retained online.
* ``b``: new in January; first online order on 20 January, every later order by
  phone: reverted to offline, 22 days after going online.
* ``c``: new in March, online only; a cancelled order the next day.
* ``d``: offline only; one returned order (counts in GMV only).
* ``e``: visits the portal, never orders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from clientkit import ORDER_HEADER, kpis_json, write_client

from b2b_analysis import compute_kpis, load_client, load_params
from b2b_analysis import metrics as m

ORDERS = [
    ("1", "a", "2023-12-10", "phone", 100, "placed"),
    ("2", "a", "2024-01-05", "phone", 200, "placed"),
    ("3", "a", "2024-02-05", "web", 50, "placed"),
    ("4", "a", "2024-02-20", "web", 70, "placed"),
    ("5", "a", "2024-03-10", "phone", 180, "placed"),
    ("6", "b", "2024-01-07", "phone", 300, "placed"),
    ("7", "b", "2024-01-20", "web", 40, "placed"),
    ("8", "b", "2024-02-11", "phone", 260, "placed"),
    ("9", "b", "2024-03-15", "phone", 240, "placed"),
    ("10", "c", "2024-03-01", "web", 60, "placed"),
    ("11", "c", "2024-03-02", "web", 90, "cancelled"),
    ("12", "d", "2024-02-14", "email", 500, "returned"),
    ("13", "d", "2024-02-15", "fax", 400, "placed"),
    ("14", "d", "2024-03-20", "phone", 80, "placed"),
]
VISITS = [
    ("v0", "a", "2023-12-01 10:00:00"),
    ("v1", "a", "2024-02-05 09:00:00"),
    ("v2", "b", "2024-01-20 08:00:00"),
    ("v3", "b", "2024-01-20 08:30:00"),
    ("v4", "", "2024-02-01 12:00:00"),
    ("v5", "c", "2024-03-01 07:00:00"),
    ("v6", "", "2024-03-05 15:00:00"),
    ("v7", "e", "2024-03-06 16:00:00"),
]
SURVEYS = [
    ("a", "2024-01-10", 5, "csat"),
    ("b", "2024-02-01", 2, "csat"),
    ("c", "2024-03-05", 4, "csat"),
    ("d", "2024-03-06", 10, "nps"),
    ("a", "2024-03-07", 9, "nps"),
    ("b", "2024-03-08", 3, "nps"),
    ("e", "2024-03-09", 7, "nps"),
]
INVESTMENTS = [
    ("2023-12-01", 9999, "platform"),  # before the window: not counted
    ("2024-01-01", 1000, "platform"),
    ("2024-02-01", 500, "marketing"),
]
START, END = dt.date(2024, 1, 1), dt.date(2024, 3, 31)


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    return write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, ORDERS),
            "visits": (("visit_id", "customer_id", "visit_start"), VISITS),
            "surveys": (("customer_id", "response_date", "score", "kind"), SURVEYS),
            "investments": (("date", "amount", "category"), INVESTMENTS),
        },
        client="Hand Checked",
        gross_margin=0.3,
        small_order_threshold=100,
        window={"start": "2024-01-01", "end": "2024-03-31"},
    )


@pytest.fixture
def orders(params_file: Path) -> pl.LazyFrame:
    return load_client(load_params(params_file)).orders.lazy()


def test_headline_kpis(params_file: Path) -> None:
    kpis = kpis_json(params_file)["kpis"]
    expected = {
        # valid orders in the window: 2-10, 13, 14 -> 11; customers a, b, c, d
        "orders": 11,
        "customers": 4,
        # a (4 orders), b (4), d (2) ordered twice or more; c once
        "customer_retention_rate": 0.75,
        # 200+50+70+180+300+40+260+240+60+400+80
        "net_revenue": 1880,
        "average_order_value": pytest.approx(1880 / 11),
        # + cancelled 90 + returned 500
        "gross_merchandise_value": 2470,
        # online: 3, 4, 7, 10 -> 220 over 4; offline: 2, 5, 6, 8, 9, 13, 14 -> 1660 over 7
        "online_order_share": pytest.approx(4 / 11),
        "online_average_order_value": 55,
        "offline_average_order_value": pytest.approx(1660 / 7),
        # below 100: 50, 70, 40, 60 online and 80 offline
        "small_order_online_share": 0.8,
        # 4 online orders over 7 visits in the window (v1-v7)
        "conversion_rate": pytest.approx(4 / 7),
        # identified visitors a, b, c, e; a, b, c ordered online
        "visitor_conversion_rate": 0.75,
        # v1 (a visited in December) and v3 (b visited half an hour earlier)
        "returning_visit_share": pytest.approx(2 / 7),
        # csat: 5, 2, 4 -> 2 of 3 satisfied
        "csat": pytest.approx(2 / 3),
        # nps: 10, 9 promoters, 3 detractor, 7 passive -> (2 - 1) / 4
        "nps": 25,
        # 1000 + 500 in the window; online gross profit 220 x 0.3
        "investment": 1500,
        "online_gross_profit": pytest.approx(66),
        "roi": pytest.approx((66 - 1500) / 1500),
        # new online customers a, b, c: a ordered online again; b reverted; c no later order
        "online_retention_rate": pytest.approx(1 / 3),
        "reverted_to_offline_share": 0.5,
        # b: 20 January online, next order (offline) 11 February
        "median_days_to_revert": 22,
        # a: before 150 (100, 200), after 100 (50, 70, 180); b: 300 -> 180
        "median_aov_shift": -85,
        # a: online 60 / offline 190; b: 40 / (800/3)
        "median_online_offline_aov_ratio": pytest.approx((60 / 190 + 40 / (800 / 3)) / 2),
    }
    assert kpis == {**kpis, **expected}
    assert {k: kpis[k] for k in expected} == expected


def test_series_by_month(params_file: Path) -> None:
    series = kpis_json(params_file)["series"]
    rows = {row["period_label"]: row for row in series["rows"]}
    assert list(rows) == ["2024-01", "2024-02", "2024-03"]
    feb = rows["2024-02"]
    # February: valid orders 3, 4, 8, 13 of a, b, d; 3 and 4 online
    assert (feb["orders"], feb["customers"], feb["online_order_share"]) == (4, 3, 0.5)
    assert feb["orders_change"] == 4 - 3  # January: orders 2, 6, 7
    # customers of January (a, b) both order in February
    assert feb["period_retention_rate"] == 1.0
    assert feb["investment"] == 500
    assert rows["2024-03"]["investment"] == 0
    # March: a and b (customers of February) and d order again; c is new
    assert (rows["2024-03"]["customers_start"], rows["2024-03"]["new_customers"]) == (3, 1)
    assert rows["2024-01"]["csat"] == 1.0 and rows["2024-02"]["csat"] == 0.0


def test_channel_states_and_transitions(orders: pl.LazyFrame) -> None:
    states = m.channel_states(orders, start=START, end=END).collect()
    got = {(c, p): s for c, p, s in states.select("customer_id", "period", "state").iter_rows()}
    jan, feb, mar = 2024 * 12, 2024 * 12 + 1, 2024 * 12 + 2
    assert got == {
        ("a", jan): "offline-only",
        ("a", feb): "online-only",
        ("a", mar): "offline-only",
        ("b", jan): "hybrid",
        ("b", feb): "offline-only",
        ("b", mar): "offline-only",
        ("c", mar): "online-only",
        ("d", feb): "offline-only",
        ("d", mar): "offline-only",
    }
    moves = m.channel_transitions(states.lazy()).collect()
    assert moves.select("period", "from_state", "to_state", "customers").rows() == [
        (feb, "hybrid", "offline-only", 1),
        (feb, "offline-only", "online-only", 1),
        (mar, "offline-only", "offline-only", 2),
        (mar, "online-only", "offline-only", 1),
    ]


def test_online_adoption_per_customer(orders: pl.LazyFrame) -> None:
    adoption = m.online_adoption(orders, start=START, end=END).collect()
    assert adoption.select(
        "customer_id",
        "first_online_date",
        "later_orders",
        "retained_online",
        "reverted_to_offline",
        "days_to_revert",
    ).rows() == [
        ("a", dt.date(2024, 2, 5), 2, True, False, None),
        ("b", dt.date(2024, 1, 20), 2, False, True, 22),
        ("c", dt.date(2024, 3, 1), 0, False, None, None),
    ]


def test_cohort_matrix(orders: pl.LazyFrame) -> None:
    cohorts = m.cohort_retention(orders, start=START, end=END).collect()
    # a's first order is in December 2023, before the window: no January cohort member
    assert cohorts.select(
        "cohort_start",
        "periods_since",
        "cohort_size",
        "active_customers",
        "active_on_or_after",
        "cell",
    ).rows() == [
        (dt.date(2024, 1, 1), 0, 1, 1, 1, "complete"),
        (dt.date(2024, 1, 1), 1, 1, 1, 1, "complete"),
        (dt.date(2024, 1, 1), 2, 1, 1, 1, "complete"),
        (dt.date(2024, 2, 1), 0, 1, 1, 1, "complete"),
        (dt.date(2024, 2, 1), 1, 1, 1, 1, "complete"),
        (dt.date(2024, 2, 1), 2, 1, None, None, "not_observed"),
        (dt.date(2024, 3, 1), 0, 1, 1, 1, "complete"),
        (dt.date(2024, 3, 1), 1, 1, None, None, "not_observed"),
        (dt.date(2024, 3, 1), 2, 1, None, None, "not_observed"),
    ]


def test_aov_shifts(orders: pl.LazyFrame) -> None:
    shift = m.aov_before_after_online(orders, start=START, end=END).collect()
    assert shift.select("customer_id", "aov_before", "aov_after", "aov_shift").rows() == [
        ("a", 150.0, 100.0, -50.0),
        ("b", 300.0, 180.0, -120.0),
    ]
    window = orders.filter(pl.col("order_date").is_between(START, END))
    both = m.customer_aov_comparison(window).collect()
    assert both.select("customer_id", "online_aov", "offline_aov").rows() == [
        ("a", 60.0, 190.0),
        ("b", 40.0, pytest.approx(800 / 3)),
    ]


def test_satisfaction_beside_retention(params_file: Path) -> None:
    data = load_client(load_params(params_file))
    assert data.surveys is not None
    table = m.retention_by_satisfaction(
        data.orders.lazy(), data.surveys.lazy(), start=START, end=END
    ).collect()
    # latest csat: a 5 and c 4 (satisfied), b 2; a and b ordered 2+ times, c once
    assert table.rows() == [("not satisfied", 1, 1, 1.0), ("satisfied", 2, 1, 0.5)]


def test_cli_and_library_agree(params_file: Path) -> None:
    report = compute_kpis(load_client(load_params(params_file)))
    assert kpis_json(params_file)["kpis"] == report.to_dict()["kpis"]
