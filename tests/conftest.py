"""Fixtures shared by the unit and the system tests.

The tests mirror the package: ``tests/unit/test_<module>.py`` per module of
``b2b_analysis`` (in-process, fast), ``tests/system/`` for whatever starts
processes, servers, kernels or browsers (its own fixtures are in
``tests/system/conftest.py``). Helpers and data shared between test modules live
in ``tests/support/``; no test module imports another.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

# plain asserts in the support helpers (kpis_json, assert_rows, ...) report like a test's
pytest.register_assert_rewrite("tests.support")

from tests.support.hand_checked import write_hand_checked  # noqa: E402

#: Orders of :func:`large_orders`.
LARGE_ORDERS = 1_500_000


@pytest.fixture
def hand_checked_params(tmp_path: Path) -> Path:
    """The params file of the hand-checked example client
    (``tests/support/hand_checked.py``), written under ``tmp_path``."""
    return write_hand_checked(tmp_path)


@pytest.fixture(scope="session")
def large_orders() -> pl.DataFrame:
    """1.5M random orders of 40,000 customers over two years, as ``io`` loads them.

    polars' streaming engine splits big frames into morsels; an expression can be
    right on a 5-row doctest and wrong (or fail) on a million rows. Tests using it
    are ``slow``.
    """
    n = LARGE_ORDERS
    rng = np.random.default_rng(7)
    return pl.DataFrame(
        {
            "order_id": np.arange(n).astype(str),
            "customer_id": rng.zipf(1.6, n).clip(max=40_000).astype(str),
            "order_date": np.datetime64("2023-01-01")
            + rng.integers(0, 730, n).astype("timedelta64[D]"),
            "channel": np.where(rng.random(n) < 0.4, "web", "phone"),
            "revenue": np.round(rng.gamma(2.0, 150.0, n), 2),
            "status": np.where(rng.random(n) < 0.05, "cancelled", "placed"),
        }
    ).with_columns(
        pl.col("order_date").cast(pl.Date),
        (pl.col("channel") == "web").alias("is_online"),
        (pl.col("status") == "placed").alias("is_valid"),
    )


@pytest.fixture
def kpi_series() -> pl.DataFrame:
    """A small ``KpiReport.series``: three monthly periods (the last partial) of four
    KPIs, one of them null in the partial period."""
    return pl.DataFrame(
        {
            "period_start": [dt.date(2024, m, 1) for m in (1, 2, 3)],
            "period_label": ["2024-01", "2024-02", "2024-03"],
            "is_partial": [False, False, True],
            "online_order_share": [0.2, 0.25, 0.3],
            "net_revenue": [100.0, 120.0, 60.0],
            "returning_visit_share": [0.5, 0.4, None],
            "conversion_rate": [0.1, 0.12, 0.11],
        }
    )
