"""``compute_kpis`` of :mod:`b2b_analysis.kpis`: every headline KPI and the series.

* A property test against the plain-Python reference of
  ``tests/support/reference.py`` on small random clients
  (``tests/support/strategies.py``), with and without a window.
* Regression tests: the minimal examples of the bugs it found, each fixed since.
* A client large enough to be processed in many chunks (fixture ``large_orders``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2b_analysis.config import ClientParams
from b2b_analysis.errors import InputError
from b2b_analysis.io import ClientData
from b2b_analysis.kpis import compute_kpis
from b2b_analysis.registry import KPIS
from tests.support import reference as ref
from tests.support.strategies import (
    INVESTMENT_SCHEMA,
    SETTINGS,
    VISIT_SCHEMA,
    Client,
    Rows,
    assert_same,
    clients,
    frame,
    same,
    valid_orders,
)

# ------------------------------------------------------------------ compute_kpis

SERIES = [
    "period_start",
    "is_partial",
    "customers",
    "orders",
    "customer_retention_rate",
    "average_order_value",
    "gross_merchandise_value",
    "net_revenue",
    "online_order_share",
    "small_order_online_share",
    "online_average_order_value",
    "offline_average_order_value",
    "online_gross_profit",
    "conversion_rate",
    "returning_visit_share",
    "csat",
    "nps",
    "investment",
    "roi",
    "online_retention_rate",
    "reverted_to_offline_share",
    "customers_start",
    "retained_customers",
    "new_customers",
    "period_retention_rate",
    "crr_formula",
    "lapsed_customers",
    "reactivated_customers",
]


def _reference_kpis(client: Client, start: dt.date, end: dt.date) -> tuple[dict[str, Any], Rows]:
    return ref.compute_kpis(
        orders=client.orders,
        visits=client.visits,
        surveys=client.surveys,
        investments=client.investments,
        start=start,
        end=end,
        period=client.period,
        fiscal_year_start=client.fiscal_year_start,
        gross_margin=client.gross_margin,
        small_order_threshold=client.small_order_threshold,
        has_cost=client.has_cost,
    )


@SETTINGS
@given(client=clients(), default_window=st.booleans())
def test_compute_kpis(client: Client, default_window: bool) -> None:
    """Every headline KPI and the per-period series, against the reference."""
    data = client.data()
    period = client.period if client.explicit_period else None
    if default_window:  # no window given: whole periods spanning the orders
        if not client.orders:
            return
        fys = client.fiscal_year_start
        first = min(o["order_date"] for o in client.orders)
        last = max(o["order_date"] for o in client.orders)
        start = ref.period_start(first, client.period, fys)
        end = ref.period_last_day(ref.period_start(last, client.period, fys), client.period)
        kwargs: dict[str, Any] = {}
    else:
        start, end = client.start, client.end
        kwargs = {"start": start, "end": end}
    if not any(o["is_valid"] and start <= o["order_date"] <= end for o in client.orders):
        with pytest.raises(InputError, match="no orders that count"):
            compute_kpis(data, period=period, **kwargs)  # type: ignore[arg-type]
        return
    report = compute_kpis(data, period=period, **kwargs)  # type: ignore[arg-type]
    kpis, series = _reference_kpis(client, start, end)

    assert (report.start, report.end, report.period) == (start, end, client.period)
    assert list(report.kpis) == list(KPIS)
    assert_same(report.kpis, kpis, list(KPIS))
    expected_threshold = client.small_order_threshold or ref.median(
        o["revenue"] for o in client.orders if o["is_valid"] and start <= o["order_date"] <= end
    )
    assert same(report.small_order_threshold, expected_threshold)

    got = report.series.to_dicts()
    assert [r["period_start"] for r in got] == [r["period_start"] for r in series]
    for g, e in zip(got, series, strict=True):
        assert_same(g, e, SERIES)
    # the change columns: difference with the previous period
    for key in ("orders", "customers", "average_order_value", "csat"):
        values = [row[key] for row in series]
        changes = [
            None,
            *(None if a is None or b is None else b - a for a, b in itertools.pairwise(values)),
        ]
        for g_change, e_change in zip(
            report.series[f"{key}_change"].to_list(), changes, strict=True
        ):
            assert same(g_change, e_change), key


# ------------------------------------------------------------------ REGRESSIONS
# Minimal examples of bugs the property test found (each failed before its fix).


def test_series_period_without_orders_regression() -> None:
    params = ClientParams.model_validate(
        {"client": "x", "data": {"orders": "o.csv"}, "gross_margin": 0.5}
    )
    orders = valid_orders(
        ("a", dt.date(2024, 1, 5), True), ("a", dt.date(2024, 3, 5), True)
    ).collect()
    visits = frame(
        [
            {
                "visit_id": "v1",
                "customer_id": None,
                "visit_start": dt.datetime(2024, 2, 7, 9),
                "visit_date": dt.date(2024, 2, 7),
            }
        ],
        VISIT_SCHEMA,
    )
    investments = frame(
        [{"date": dt.date(2024, 2, 1), "amount": 4.0, "category": "ads"}], INVESTMENT_SCHEMA
    )
    data = ClientData(params=params, orders=orders, visits=visits, investments=investments)
    report = compute_kpis(data, start=dt.date(2024, 1, 1), end=dt.date(2024, 3, 31))
    february = report.series.row(1, named=True)
    assert february["orders"] == 0
    assert (
        february["gross_merchandise_value"],
        february["net_revenue"],
        february["online_gross_profit"],
        february["conversion_rate"],
        february["roi"],
    ) == (0.0, 0.0, 0.0, 0.0, -1.0)


def test_headline_investment_without_rows_regression() -> None:
    params = ClientParams.model_validate({"client": "x", "data": {"orders": "o.csv"}})
    investments = frame(
        [{"date": dt.date(2024, 6, 1), "amount": 4.0, "category": "ads"}], INVESTMENT_SCHEMA
    )
    data = ClientData(
        params=params,
        orders=valid_orders(("a", dt.date(2024, 1, 5), True)).collect(),
        investments=investments,
    )
    report = compute_kpis(data, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))
    assert report.series["investment"].to_list() == [0.0]
    assert report.kpis["investment"] == 0.0


# ------------------------------------------------------------------ a large client


@pytest.mark.slow
def test_compute_kpis_on_a_large_client(large_orders: pl.DataFrame) -> None:
    params = ClientParams.model_validate(
        {"client": "Big", "data": {"orders": "x.csv"}, "gross_margin": 0.3}
    )
    report = compute_kpis(ClientData(params=params, orders=large_orders), period="quarter")
    valid = large_orders.filter(pl.col("is_valid"))
    assert report.kpis["orders"] == valid.height
    assert report.kpis["net_revenue"] == pytest.approx(valid["revenue"].sum(), rel=1e-12)
    assert report.series["orders"].sum() == valid.height
    quarters = valid.group_by(
        pl.col("order_date").dt.year() * 4 + (pl.col("order_date").dt.month() - 1) // 3
    ).len()
    assert report.series.height == quarters.height == 8
    assert sorted(report.series["orders"].to_list()) == sorted(quarters["len"].to_list())
    first = report.series.row(0, named=True)
    q1 = valid.filter(pl.col("order_date") < dt.date(2023, 4, 1))
    assert first["customers"] == q1["customer_id"].n_unique()
