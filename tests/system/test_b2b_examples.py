"""The hand-checked example client's KPIs through ``kpis --format json``.

The client (``tests/support/hand_checked.py``) has an example for every B2B KPI
of the Spanish article; the expected numbers below were worked out by hand from
its rows (the comments show the arithmetic), not by running the toolkit. Its
metric transforms are checked in ``tests/unit/test_metrics.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from b2b_analysis import compute_kpis, load_client, load_params
from tests.support.clientkit import kpis_json


def test_headline_kpis(hand_checked_params: Path) -> None:
    kpis = kpis_json(hand_checked_params)["kpis"]
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


def test_series_by_month(hand_checked_params: Path) -> None:
    series = kpis_json(hand_checked_params)["series"]
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


def test_cli_and_library_agree(hand_checked_params: Path) -> None:
    report = compute_kpis(load_client(load_params(hand_checked_params)))
    assert kpis_json(hand_checked_params)["kpis"] == report.to_dict()["kpis"]
