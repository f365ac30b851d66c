"""The aggregate KPIs on a frame large enough to be processed in many chunks.

polars' streaming engine splits big frames into morsels; an expression can be
right on a 5-row doctest and wrong (or fail) on a million rows. These tests
check the headline KPIs on 1.5M orders against numpy computations.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from b2b_analysis import compute_kpis
from b2b_analysis import metrics as m
from b2b_analysis.config import ClientParams
from b2b_analysis.io import ClientData

N = 1_500_000


@pytest.fixture(scope="module")
def orders() -> pl.DataFrame:
    """1.5M random orders of 40,000 customers over two years."""
    rng = np.random.default_rng(7)
    return pl.DataFrame(
        {
            "order_id": np.arange(N).astype(str),
            "customer_id": rng.zipf(1.6, N).clip(max=40_000).astype(str),
            "order_date": np.datetime64("2023-01-01")
            + rng.integers(0, 730, N).astype("timedelta64[D]"),
            "channel": np.where(rng.random(N) < 0.4, "web", "phone"),
            "revenue": np.round(rng.gamma(2.0, 150.0, N), 2),
            "status": np.where(rng.random(N) < 0.05, "cancelled", "placed"),
        }
    ).with_columns(
        pl.col("order_date").cast(pl.Date),
        (pl.col("channel") == "web").alias("is_online"),
        (pl.col("status") == "placed").alias("is_valid"),
    )


def test_aggregates_match_numpy(orders: pl.DataFrame) -> None:
    got = (
        orders.lazy()
        .select(
            m.customers(),
            m.order_count(),
            m.customer_retention_rate(),
            m.average_order_value(),
            m.gross_merchandise_value(),
            m.online_order_share(),
            m.online_average_order_value(),
            m.small_order_online_share(200.0),
        )
        .collect()
        .row(0, named=True)
    )

    customer = orders["customer_id"].to_numpy()
    valid = orders["is_valid"].to_numpy()
    online = orders["is_online"].to_numpy()
    revenue = orders["revenue"].to_numpy()
    _, counts = np.unique(customer[valid], return_counts=True)
    small = valid & (revenue < 200.0)
    expected = {
        "customers": len(counts),
        "orders": int(valid.sum()),
        "customer_retention_rate": (counts >= 2).sum() / len(counts),
        "average_order_value": revenue[valid].mean(),
        "gross_merchandise_value": revenue.sum(),
        "online_order_share": online[valid].mean(),
        "online_average_order_value": revenue[valid & online].mean(),
        "small_order_online_share": online[small].mean(),
    }
    assert got == pytest.approx(expected, rel=1e-9)


def test_compute_kpis_on_a_large_client(orders: pl.DataFrame) -> None:
    params = ClientParams.model_validate(
        {"client": "Big", "data": {"orders": "x.csv"}, "gross_margin": 0.3}
    )
    report = compute_kpis(ClientData(params=params, orders=orders), period="quarter")
    valid = orders.filter(pl.col("is_valid"))
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
