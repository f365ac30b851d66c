"""The metric transforms and expressions of :mod:`b2b_analysis.metrics`.

* Property tests: every metric against the plain-Python references of
  ``tests/support/reference.py``, on small random clients drawn by
  ``tests/support/strategies.py`` (the reference is written from the metric's
  docstring, not from its polars code).
* Regression tests: the minimal examples of the bugs these properties found,
  each fixed since.
* The hand-checked example client (``tests/support/hand_checked.py``): its
  channel states, adoption, cohorts, AOV shifts and satisfaction bands, worked
  out by hand.
* A frame large enough to be processed in many chunks (fixture ``large_orders``):
  the aggregates against numpy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from b2b_analysis import load_client, load_params
from b2b_analysis import metrics as m
from tests.support import reference as ref
from tests.support.hand_checked import END, START
from tests.support.strategies import (
    LINE_SCHEMA,
    ORDER_SCHEMA,
    SETTINGS,
    Client,
    Rows,
    assert_rows,
    assert_same,
    clients,
    frame,
    quarters,
    same,
    valid_orders,
    with_period_start,
)

# ------------------------------------------------------------- aggregate KPIs

AGGREGATES = [
    "customers",
    "orders",
    "net_revenue",
    "gross_merchandise_value",
    "average_order_value",
    "online_average_order_value",
    "offline_average_order_value",
    "customer_retention_rate",
    "online_order_share",
    "small_order_online_share",
]


def _aggregate_exprs(threshold: float) -> list[pl.Expr]:
    return [
        m.customers(),
        m.order_count(),
        m.net_revenue(),
        m.gross_merchandise_value(),
        m.average_order_value(),
        m.online_average_order_value(),
        m.offline_average_order_value(),
        m.customer_retention_rate(),
        m.online_order_share(),
        m.small_order_online_share(threshold),
    ]


def _aggregate_reference(orders: Rows, threshold: float) -> dict[str, Any]:
    return {
        "customers": ref.customers(orders),
        "orders": ref.order_count(orders),
        "net_revenue": ref.net_revenue(orders),
        "gross_merchandise_value": ref.gross_merchandise_value(orders),
        "average_order_value": ref.average_order_value(orders),
        "online_average_order_value": ref.average_order_value(orders, online=True),
        "offline_average_order_value": ref.average_order_value(orders, online=False),
        "customer_retention_rate": ref.customer_retention_rate(orders),
        "online_order_share": ref.online_order_share(orders),
        "small_order_online_share": ref.small_order_online_share(orders, threshold),
    }


@SETTINGS
@given(client=clients(), threshold=st.integers(1, 400).map(lambda n: n * 0.25))
def test_aggregate_kpis(client: Client, threshold: float) -> None:
    """customers, order_count, net_revenue, GMV, AOV (all/online/offline), customer
    retention rate, online order share and small-order online share: in select() over
    all orders and over the window, and in group_by(period).agg()."""
    exprs = _aggregate_exprs(threshold)
    orders = client.orders_df()
    assert_same(
        orders.select(exprs).row(0, named=True),
        _aggregate_reference(client.orders, threshold),
        AGGREGATES,
    )
    assert_same(
        client.window_orders_df().select(exprs).collect().row(0, named=True),
        _aggregate_reference(client.window_orders(), threshold),
        AGGREGATES,
    )

    grouped = m.with_period(orders.lazy(), client.calendar())
    grouped = grouped.group_by("period").agg(exprs).sort("period")
    by_period: dict[dt.date, Rows] = {}
    for o in client.orders:
        key = ref.period_start(o["order_date"], client.period, client.fiscal_year_start)
        by_period.setdefault(key, []).append(o)
    expected = [
        {"period_start": p, **_aggregate_reference(rows, threshold)}
        for p, rows in sorted(by_period.items())
    ]
    assert_rows(with_period_start(grouped, client), expected, ["period_start", *AGGREGATES])


@SETTINGS
@given(online=st.integers(0, 50), visits=st.integers(0, 50), profit=quarters, investment=quarters)
def test_conversion_rate_and_roi(
    online: int, visits: int, profit: float, investment: float
) -> None:
    got = pl.select(
        m.conversion_rate(online, visits),
        m.roi(profit, investment),
        m.ratio(pl.lit(online), pl.lit(visits)).alias("ratio"),
    ).row(0, named=True)
    assert_same(
        got,
        {
            "conversion_rate": ref.conversion_rate(online, visits),
            "roi": ref.roi(profit, investment),
            "ratio": ref.div(online, visits),
        },
        ["conversion_rate", "roi", "ratio"],
    )


@SETTINGS
@given(client=clients())
def test_csat_and_nps(client: Client) -> None:
    surveys = client.surveys or []
    df = client.surveys_df()
    expected = {"csat": ref.csat(surveys), "nps": ref.nps(surveys)}
    assert_same(df.select(m.csat(), m.nps()).row(0, named=True), expected, ["csat", "nps"])
    # kind=None: the caller already kept one kind of answer
    only_csat = df.filter(pl.col("kind") == "csat")
    assert same(only_csat.select(m.csat(kind=None)).item(), expected["csat"])
    only_nps = df.filter(pl.col("kind") == "nps")
    assert same(only_nps.select(m.nps(kind=None)).item(), expected["nps"])


@SETTINGS
@given(client=clients())
def test_returning_visits(client: Client) -> None:
    """flag_returning_visits on the whole history, returning_visit_share in the window."""
    visits = client.visits or []
    df = client.visits_df()
    flagged = m.flag_returning_visits(df.lazy()).collect()
    flags = ref.flag_returning_visits(visits)
    assert flagged["is_returning"].to_list() == flags
    assert_frame_equal(flagged.drop("is_returning"), df)
    in_window = [
        f
        for v, f in zip(visits, flags, strict=True)
        if client.start <= v["visit_date"] <= client.end
    ]
    got = (
        flagged.filter(pl.col("visit_date").is_between(client.start, client.end))
        .select(m.returning_visit_share())
        .item()
    )
    assert same(got, ref.returning_visit_share(in_window))


@SETTINGS
@given(client=clients())
def test_visitor_conversion_rate(client: Client) -> None:
    got = m.visitor_conversion_rate(
        client.visits_df().lazy(), client.orders_df().lazy(), start=client.start, end=client.end
    )
    expected = ref.visitor_conversion_rate(
        client.visits or [], client.orders, client.start, client.end
    )
    assert_rows(got, [expected], ["visitors", "converted", "visitor_conversion_rate"])


# ------------------------------------------------------------ cohorts / states

RETENTION = [
    "period_start",
    "customers_start",
    "retained_customers",
    "new_customers",
    "customers_end",
    "period_retention_rate",
    "crr_formula",
    "lapsed_customers",
    "reactivated_customers",
]


@SETTINGS
@given(client=clients())
def test_period_retention(client: Client) -> None:
    """Period retention and crr_formula (E - N) / S, with history before the window.

    Orders after the window end are part of the input (and must be ignored).
    """
    orders = frame(client.orders, ORDER_SCHEMA, categorical=client.categorical).lazy()
    got = m.period_retention(orders, **client.window()).collect()
    expected = ref.period_retention(
        client.orders, start=client.start, end=client.end, **client.period_kwargs()
    )
    assert_rows(got, expected, RETENTION)
    # consecutive integer keys, and the plain-number crr_formula agrees with the column
    assert got["period"].diff().drop_nulls().to_list() == [1] * (got.height - 1)
    for row in got.iter_rows(named=True):
        assert same(
            m.crr_formula(row["customers_end"], row["new_customers"], row["customers_start"]),
            row["crr_formula"],
        )


COHORT = [
    "cohort_start",
    "periods_since",
    "cohort_size",
    "active_customers",
    "retention_rate",
    "active_on_or_after",
    "on_or_after_rate",
    "cell",
]


@SETTINGS
@given(client=clients())
def test_cohort_retention(client: Client) -> None:
    """Exact and on-or-after retention, cell status, nulls for not-observed cells.

    Orders after the window end are part of the input (and must be ignored).
    """
    orders = frame(client.orders, ORDER_SCHEMA, categorical=client.categorical).lazy()
    got = m.cohort_retention(orders, **client.window())
    expected = ref.cohort_retention(
        client.orders, start=client.start, end=client.end, **client.period_kwargs()
    )
    assert_rows(got, expected, COHORT)


@SETTINGS
@given(client=clients())
def test_channel_states_and_transitions(client: Client) -> None:
    states = m.channel_states(client.orders_df().lazy(), **client.window())
    expected = ref.channel_states(
        client.orders, start=client.start, end=client.end, **client.period_kwargs()
    )
    assert_rows(
        with_period_start(states, client),
        expected,
        ["customer_id", "period_start", "online_orders", "offline_orders", "state"],
    )
    assert_rows(
        with_period_start(m.channel_transitions(states), client),
        ref.channel_transitions(expected, client.period),
        ["period_start", "from_state", "to_state", "customers"],
    )


ADOPTION = [
    "customer_id",
    "first_online_date",
    "later_orders",
    "later_online_orders",
    "retained_online",
    "reverted_to_offline",
    "days_to_revert",
]


@SETTINGS
@given(client=clients())
def test_online_adoption(client: Client) -> None:
    """online_adoption, online_retention_rate and reverted_to_offline_share."""
    got = m.online_adoption(client.orders_df().lazy(), start=client.start, end=client.end).collect()
    expected = ref.online_adoption(client.orders, start=client.start, end=client.end)
    assert_rows(got, expected, ADOPTION)
    rates = got.select(m.online_retention_rate(), m.reverted_to_offline_share())
    assert_same(
        rates.row(0, named=True),
        {
            "online_retention_rate": ref.online_retention_rate(expected),
            "reverted_to_offline_share": ref.reverted_to_offline_share(expected),
        },
        ["online_retention_rate", "reverted_to_offline_share"],
    )
    # without a window: every customer with an online order
    assert_rows(
        m.online_adoption(client.orders_df().lazy()), ref.online_adoption(client.orders), ADOPTION
    )


# ------------------------------------------------------------------ AOV / basket


@SETTINGS
@given(client=clients())
def test_orders_per_customer_and_aov_by_channel(client: Client) -> None:
    """The whole history in, the window given: only the window's orders count."""
    history = client.orders_df().lazy()
    rows = client.window_orders()
    kwargs = client.period_kwargs()
    assert_rows(
        with_period_start(m.orders_per_customer(history, **client.window()), client),
        ref.orders_per_customer(rows, **kwargs),
        [
            "period_start",
            "active_customers",
            "online_orders",
            "offline_orders",
            "online_orders_per_customer",
            "offline_orders_per_customer",
        ],
    )
    assert_rows(
        with_period_start(m.aov_by_channel(history, **client.window()), client),
        ref.aov_by_channel(rows, **kwargs),
        ["period_start", "channel", "orders", "net_revenue", "average_order_value"],
    )


@SETTINGS
@given(client=clients())
def test_customer_aov_comparison_and_before_after(client: Client) -> None:
    assert_rows(
        m.customer_aov_comparison(client.orders_df().lazy(), start=client.start, end=client.end),
        ref.customer_aov_comparison(client.window_orders()),
        [
            "customer_id",
            "online_orders",
            "offline_orders",
            "online_aov",
            "offline_aov",
            "aov_difference",
            "aov_ratio",
        ],
    )
    assert_rows(
        m.aov_before_after_online(client.orders_df().lazy(), start=client.start, end=client.end),
        ref.aov_before_after_online(client.orders, start=client.start, end=client.end),
        [
            "customer_id",
            "first_online_date",
            "orders_before",
            "orders_after",
            "aov_before",
            "aov_after",
            "aov_shift",
            "aov_shift_ratio",
        ],
    )


BASKET = ["period_start", "channel", "orders", "lines_per_order", "categories_per_order"]


@SETTINGS
@given(client=clients())
def test_basket_by_channel(client: Client) -> None:
    """With order_lines (lines and distinct categories) and with the orders' lines column."""
    history = client.orders_df().lazy()
    window = client.window()
    rows = client.window_orders()
    kwargs = client.period_kwargs()
    lines = frame(client.order_lines, LINE_SCHEMA).lazy()
    assert_rows(
        with_period_start(m.basket_by_channel(history, lines, **window), client),
        ref.basket_by_channel(rows, client.order_lines, **kwargs),
        BASKET,
    )
    # order_lines without a category column: categories are null
    no_category = with_period_start(
        m.basket_by_channel(history, lines.drop("category"), **window), client
    ).collect()
    assert no_category["categories_per_order"].null_count() == no_category.height
    if client.has_lines:
        assert_rows(
            with_period_start(m.basket_by_channel(history, **window), client),
            ref.basket_by_channel(rows, **kwargs),
            BASKET,
        )


@SETTINGS
@given(client=clients())
def test_retention_by_satisfaction(client: Client) -> None:
    got = m.retention_by_satisfaction(
        client.orders_df().lazy(), client.surveys_df().lazy(), start=client.start, end=client.end
    )
    expected = ref.retention_by_satisfaction(
        client.orders, client.surveys or [], start=client.start, end=client.end
    )
    assert_rows(got, expected, ["band", "customers", "repeat_customers", "customer_retention_rate"])


# ------------------------------------------------------------------ REGRESSIONS
# Minimal examples of bugs these property tests found (each failed before its fix).


def test_period_retention_ignores_orders_after_window_end_regression() -> None:
    # the only order is on Jan 20, after a window ending on Jan 10
    orders = valid_orders(("a", dt.date(2024, 1, 20), False))
    got = m.period_retention(orders, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 10)).collect()
    # nobody ordered in the window: E = N = 0
    assert got.select("customers_end", "new_customers").row(0) == (0, 0)


def test_cohort_retention_ignores_orders_after_window_end_regression() -> None:
    # a's first order (Jan 20) is after the window (Jan 1-10): no cohort has a member
    orders = valid_orders(("a", dt.date(2024, 1, 20), False))
    got = m.cohort_retention(orders, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 10)).collect()
    assert got.height == 0


def test_basket_null_category_regression() -> None:
    orders = valid_orders(("a", dt.date(2024, 1, 5), True))
    lines = frame(
        [
            {"order_id": "o0", "sku": "x", "category": "a"},
            {"order_id": "o0", "sku": "y", "category": None},
        ],
        LINE_SCHEMA,
    ).lazy()
    got = m.basket_by_channel(orders, lines).collect()
    # one order with two lines and one known category
    assert got.select("lines_per_order", "categories_per_order").row(0) == (2.0, 1.0)


# ------------------------------------------------------------------ the hand-checked client


@pytest.fixture
def hand_checked_orders(hand_checked_params: Path) -> pl.LazyFrame:
    """The hand-checked client's orders as ``io.load_client`` loads them."""
    return load_client(load_params(hand_checked_params)).orders.lazy()


def test_hand_checked_channel_states_and_transitions(hand_checked_orders: pl.LazyFrame) -> None:
    states = m.channel_states(hand_checked_orders, start=START, end=END).collect()
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


def test_hand_checked_online_adoption_per_customer(hand_checked_orders: pl.LazyFrame) -> None:
    adoption = m.online_adoption(hand_checked_orders, start=START, end=END).collect()
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


def test_hand_checked_cohort_matrix(hand_checked_orders: pl.LazyFrame) -> None:
    cohorts = m.cohort_retention(hand_checked_orders, start=START, end=END).collect()
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


def test_hand_checked_aov_shifts(hand_checked_orders: pl.LazyFrame) -> None:
    shift = m.aov_before_after_online(hand_checked_orders, start=START, end=END).collect()
    assert shift.select("customer_id", "aov_before", "aov_after", "aov_shift").rows() == [
        ("a", 150.0, 100.0, -50.0),
        ("b", 300.0, 180.0, -120.0),
    ]
    window = hand_checked_orders.filter(pl.col("order_date").is_between(START, END))
    both = m.customer_aov_comparison(window).collect()
    assert both.select("customer_id", "online_aov", "offline_aov").rows() == [
        ("a", 60.0, 190.0),
        ("b", 40.0, pytest.approx(800 / 3)),
    ]


def test_hand_checked_satisfaction_beside_retention(hand_checked_params: Path) -> None:
    data = load_client(load_params(hand_checked_params))
    assert data.surveys is not None
    table = m.retention_by_satisfaction(
        data.orders.lazy(), data.surveys.lazy(), start=START, end=END
    ).collect()
    # latest csat: a 5 and c 4 (satisfied), b 2; a and b ordered 2+ times, c once
    assert table.rows() == [("not satisfied", 1, 1, 1.0), ("satisfied", 2, 1, 0.5)]


# ------------------------------------------------------------------ a large frame


@pytest.mark.slow
def test_aggregates_match_numpy(large_orders: pl.DataFrame) -> None:
    got = (
        large_orders.lazy()
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

    customer = large_orders["customer_id"].to_numpy()
    valid = large_orders["is_valid"].to_numpy()
    online = large_orders["is_online"].to_numpy()
    revenue = large_orders["revenue"].to_numpy()
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
