"""The worked examples of the English article, end to end through ``kpis --format json``.

Each test builds a client whose data is exactly the article's example and checks
the printed KPI comes out exactly as the article states.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clientkit import ORDER_HEADER, kpis_json, write_client


def _orders(
    n: int,
    *,
    customers: int,
    value: float,
    channel: str = "phone",
    status: str = "placed",
    start: int = 0,
) -> list[tuple]:
    """n orders of equal value spread over ``customers`` customers, January 2024."""
    return [
        (f"o{start + i}", f"c{i % customers}", f"2024-01-{1 + i % 28:02d}", channel, value, status)
        for i in range(n)
    ]


def test_customer_retention_rate_100_customers_20_repeat(tmp_path: Path) -> None:
    """100 customers, 20 of whom ordered again: CRR 20 %."""
    rows = _orders(100, customers=100, value=50.0) + _orders(
        20, customers=20, value=50.0, start=100
    )
    doc = kpis_json(write_client(tmp_path, {"orders": (ORDER_HEADER, rows)}))
    assert doc["kpis"]["customers"] == 100
    assert doc["kpis"]["customer_retention_rate"] == 0.20


def test_average_order_value_10000_over_100_orders(tmp_path: Path) -> None:
    """10,000 of revenue over 100 orders: AOV 100 (values vary, the mean is exact)."""
    rows = [
        (f"o{i}", f"c{i % 7}", "2024-02-01", "phone", 50.0 if i % 2 else 150.0, "placed")
        for i in range(100)
    ]
    doc = kpis_json(write_client(tmp_path, {"orders": (ORDER_HEADER, rows)}))
    assert doc["kpis"]["net_revenue"] == 10_000
    assert doc["kpis"]["orders"] == 100
    assert doc["kpis"]["average_order_value"] == 100


def test_conversion_rate_50_orders_1000_visits(tmp_path: Path) -> None:
    """1,000 website visits and 50 (online) orders: conversion 5 %."""
    rows = _orders(50, customers=10, value=80.0, channel="web")
    visits = [
        (f"v{i}", f"c{i % 10}" if i % 4 else "", f"2024-01-{1 + i % 28:02d} 09:00:00")
        for i in range(1000)
    ]
    params = write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, rows),
            "visits": (("visit_id", "customer_id", "visit_start"), visits),
        },
    )
    doc = kpis_json(params)
    assert doc["kpis"]["conversion_rate"] == 0.05


def test_gross_merchandise_value_100_orders_aov_100(tmp_path: Path) -> None:
    """100 orders at an AOV of 100: GMV 10,000, cancelled and returned ones included."""
    rows = (
        _orders(90, customers=30, value=100.0)
        + _orders(6, customers=3, value=100.0, status="cancelled", start=90)
        + _orders(4, customers=2, value=100.0, status="returned", start=96)
    )
    doc = kpis_json(write_client(tmp_path, {"orders": (ORDER_HEADER, rows)}))
    assert doc["kpis"]["gross_merchandise_value"] == 10_000
    assert doc["kpis"]["net_revenue"] == 9_000
    assert doc["kpis"]["orders"] == 90


@pytest.mark.parametrize(("margin", "online_revenue"), [(0.5, 220_000.0), (0.25, 440_000.0)])
def test_roi_net_profit_10000_on_investment_100000(
    tmp_path: Path, margin: float, online_revenue: float
) -> None:
    """Net profit 10,000 on an investment of 100,000: ROI 10 %.

    Net profit = online gross profit (revenue x gross margin) - investment, so the
    online orders carry a gross profit of 110,000.
    """
    rows = _orders(100, customers=10, value=online_revenue / 100, channel="web")
    rows += _orders(10, customers=5, value=999.0, channel="phone", start=100)  # offline: no ROI
    investments = [("2024-01-01", 60_000, "platform"), ("2024-01-15", 40_000, "marketing")]
    params = write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, rows),
            "investments": (("date", "amount", "category"), investments),
        },
        gross_margin=margin,
    )
    doc = kpis_json(params)
    assert doc["kpis"]["investment"] == 100_000
    assert doc["kpis"]["online_gross_profit"] == pytest.approx(110_000, rel=1e-12)
    assert doc["kpis"]["roi"] == 0.10


def test_roi_from_cost_column(tmp_path: Path) -> None:
    """With a cost column, gross profit is revenue - cost of the online orders."""
    header = (*ORDER_HEADER, "cost")
    rows = [
        (f"o{i}", f"c{i % 4}", "2024-03-02", "web", 2_000.0, "placed", 900.0) for i in range(100)
    ]
    investments = [("2024-03-02", 100_000, "platform")]
    params = write_client(
        tmp_path,
        {"orders": (header, rows), "investments": (("date", "amount", "category"), investments)},
    )
    doc = kpis_json(params)
    assert doc["kpis"]["online_gross_profit"] == 110_000
    assert doc["kpis"]["roi"] == 0.10
