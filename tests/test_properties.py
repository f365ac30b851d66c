"""Property tests: every metric against the plain-Python references of ``reference.py``.

Each test draws a small random client (orders, visits, surveys, investments,
order lines) and a random window, runs the polars metric and compares it with
the reference written from the metric's docstring. Revenues, costs, amounts and
margins are multiples of 1/8, so sums are exact; floats are compared with a
relative tolerance of 1e-9 and nulls must match nulls.

The regression tests at the end pin the minimal examples of the bugs these
properties found, each fixed since.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass
from typing import Any

import polars as pl
import pytest
import reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from b2b_analysis import metrics as m
from b2b_analysis.config import ClientParams
from b2b_analysis.errors import InputError
from b2b_analysis.io import ClientData
from b2b_analysis.kpis import KPIS, compute_kpis
from b2b_analysis.periods import period_start

BASE = dt.date(2024, 1, 1)
SPAN = 182  # days of data, from BASE
PERIODS = ("week", "month", "quarter")
REL = 1e-9

SETTINGS = settings(max_examples=60, deadline=None)

Rows = list[dict[str, Any]]

# ------------------------------------------------------------------- comparison


def same(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(actual, expected, rel_tol=REL, abs_tol=1e-12)
    return bool(actual == expected)


def assert_same(actual: dict[str, Any], expected: dict[str, Any], keys: list[str]) -> None:
    wrong = {
        k: (actual.get(k), expected.get(k))
        for k in keys
        if not same(actual.get(k), expected.get(k))
    }
    assert not wrong, f"(polars, reference) differ: {wrong}"


def assert_rows(frame: pl.DataFrame | pl.LazyFrame, expected: Rows, columns: list[str]) -> None:
    """The frame's ``columns``, in order, equal the reference rows."""
    got = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    got = got.select(columns)
    want = pl.DataFrame(
        [tuple(r[c] for c in columns) for r in expected], schema=got.schema, orient="row"
    )
    assert_frame_equal(got, want, rel_tol=REL, abs_tol=1e-12)


# ------------------------------------------------------------------- strategies


def day(offset: int) -> dt.date:
    return BASE + dt.timedelta(days=offset)


quarters = st.integers(0, 400).map(lambda n: n * 0.25)

ORDER_SCHEMA: dict[str, Any] = {
    "order_id": pl.String,
    "customer_id": pl.String,
    "order_date": pl.Date,
    "channel": pl.String,
    "revenue": pl.Float64,
    "status": pl.String,
    "is_online": pl.Boolean,
    "is_valid": pl.Boolean,
}
VISIT_SCHEMA: dict[str, Any] = {
    "visit_id": pl.String,
    "customer_id": pl.String,
    "visit_start": pl.Datetime("us"),
    "visit_date": pl.Date,
}
SURVEY_SCHEMA: dict[str, Any] = {
    "customer_id": pl.String,
    "response_date": pl.Date,
    "score": pl.Float64,
    "kind": pl.String,
}
INVESTMENT_SCHEMA: dict[str, Any] = {"date": pl.Date, "amount": pl.Float64, "category": pl.String}
LINE_SCHEMA: dict[str, Any] = {"order_id": pl.String, "sku": pl.String, "category": pl.String}


def frame(rows: Rows, schema: dict[str, Any], *, categorical: bool = False) -> pl.DataFrame:
    """A frame of the reference rows; ``categorical`` types customer_id as io loads it."""
    if categorical and "customer_id" in schema:
        schema = {**schema, "customer_id": pl.Categorical}
    return pl.DataFrame([tuple(r[c] for c in schema) for r in rows], schema=schema, orient="row")


@dataclass
class Client:
    orders: Rows
    visits: Rows | None
    surveys: Rows | None
    investments: Rows | None
    order_lines: Rows
    has_cost: bool
    has_lines: bool
    period: str
    explicit_period: bool
    fiscal_year_start: int
    gross_margin: float | None
    small_order_threshold: float | None
    start: dt.date
    end: dt.date
    #: customer_id as pl.Categorical (as io.load_client gives it) rather than String
    categorical: bool

    # ---- polars frames in the shape io.load_client produces
    def orders_df(self) -> pl.DataFrame:
        schema = dict(ORDER_SCHEMA)
        if self.has_cost:
            schema["cost"] = pl.Float64
        if self.has_lines:
            schema["lines"] = pl.Int64
        return frame(self.orders, schema, categorical=self.categorical)

    def visits_df(self) -> pl.DataFrame:
        return frame(self.visits or [], VISIT_SCHEMA, categorical=self.categorical)

    def surveys_df(self) -> pl.DataFrame:
        return frame(self.surveys or [], SURVEY_SCHEMA, categorical=self.categorical)

    def data(self) -> ClientData:
        params = ClientParams.model_validate(
            {
                "client": "Property Test",
                "data": {"orders": "orders.csv"},
                "gross_margin": self.gross_margin,
                # with explicit_period the params say another period and compute_kpis gets one
                "period": ("week" if self.period != "week" else "month")
                if self.explicit_period
                else self.period,
                "fiscal_year_start": self.fiscal_year_start,
                "small_order_threshold": self.small_order_threshold,
            }
        )
        return ClientData(
            params=params,
            orders=self.orders_df(),
            visits=None if self.visits is None else self.visits_df(),
            surveys=None if self.surveys is None else self.surveys_df(),
            investments=None
            if self.investments is None
            else frame(self.investments, INVESTMENT_SCHEMA),
        )

    def window_orders(self) -> Rows:
        return [o for o in self.orders if self.start <= o["order_date"] <= self.end]

    def window_orders_df(self) -> pl.LazyFrame:
        return self.orders_df().lazy().filter(pl.col("order_date").is_between(self.start, self.end))

    def period_kwargs(self) -> dict[str, Any]:
        return {"period": self.period, "fiscal_year_start": self.fiscal_year_start}


@st.composite
def clients(draw: st.DrawFn) -> Client:
    ids = [f"c{i}" for i in range(draw(st.integers(1, 6)))]
    # a few distinct days, so several orders (and visits, answers) share a day
    days = draw(st.lists(st.integers(0, SPAN), min_size=1, max_size=10))
    has_cost = draw(st.booleans())
    has_lines = draw(st.booleans())
    n_orders = draw(st.integers(0, 40))
    # mostly-offline clients make customers who go online and then revert frequent
    channel = st.sampled_from(
        draw(
            st.sampled_from([(False, True), (False, False, False, True), (False, True, True, True)])
        )
    )
    raw_orders = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ids),
                st.sampled_from(days),
                channel,
                st.sampled_from(["placed", "placed", "placed", "cancelled", "returned"]),
                quarters,
                st.none() | quarters if has_cost else st.none(),
                st.none() | st.integers(1, 6) if has_lines else st.none(),
                # the order's basket: 1-4 lines, each of category a, b or c (base-3 digits)
                st.integers(0, 4 * 3**4 - 1),
            ),
            min_size=n_orders,
            max_size=n_orders,
        )
    )
    orders = [
        {
            "order_id": f"o{i}",
            "customer_id": c,
            "order_date": day(d),
            "channel": "web" if online else "phone",
            "revenue": revenue,
            "status": status,
            "is_online": online,
            "is_valid": status == "placed",
            "cost": cost,
            "lines": lines,
        }
        for i, (c, d, online, status, revenue, cost, lines, _) in enumerate(raw_orders)
    ]
    # every order has 1-4 lines with a known category (null categories: see
    # test_basket_null_category_regression)
    order_lines = [
        {"order_id": f"o{i}", "sku": f"s{j}", "category": "abc"[basket // 4 // 3**j % 3]}
        for i, (*_, basket) in enumerate(raw_orders)
        for j in range(basket % 4 + 1)
    ]
    other_days = days + draw(st.lists(st.integers(0, SPAN), max_size=4))
    n_visits = draw(st.integers(0, 20))
    raw_visits = draw(
        st.none()
        | st.lists(
            st.tuples(
                st.sampled_from([*ids, None]),
                st.sampled_from(other_days),
                st.sampled_from([8, 9, 15]),
            ),
            min_size=n_visits,
            max_size=n_visits,
        )
    )
    visits = (
        None
        if raw_visits is None
        else [
            {
                "visit_id": f"v{i}",
                "customer_id": c,
                "visit_start": dt.datetime.combine(day(d), dt.time(hour)),
                "visit_date": day(d),
            }
            for i, (c, d, hour) in enumerate(raw_visits)
        ]
    )
    answer = st.tuples(st.just("csat"), st.integers(1, 5)) | st.tuples(
        st.just("nps"), st.integers(0, 10)
    )
    n_surveys = draw(st.integers(0, 14))
    raw_surveys = draw(
        st.none()
        | st.lists(
            st.tuples(st.sampled_from(ids), st.sampled_from(other_days), answer),
            min_size=n_surveys,
            max_size=n_surveys,
        )
    )
    # one answer per customer and day, so a customer's "latest answer" is never a tie
    surveys = (
        None
        if raw_surveys is None
        else [
            {"customer_id": c, "response_date": day(d), "kind": kind, "score": float(score)}
            for (c, d), (kind, score) in {(c, d): a for c, d, a in raw_surveys}.items()
        ]
    )
    raw_investments = draw(
        st.none() | st.lists(st.tuples(st.integers(0, SPAN), quarters), max_size=6)
    )
    investments = (
        None
        if raw_investments is None
        else [{"date": day(d), "amount": a, "category": "ads"} for d, a in raw_investments]
    )
    period = draw(st.sampled_from(PERIODS))

    # window ends on, or a day either side of, days with data (or anywhere), so windows
    # often start after some customers' first order and end just before later orders
    def edge(anywhere: st.SearchStrategy[int]) -> st.SearchStrategy[int]:
        return st.tuples(st.sampled_from(days) | anywhere, st.sampled_from([-1, 0, 0, 1])).map(sum)

    lo, hi = sorted(
        draw(
            st.tuples(
                edge(st.integers(-15, SPAN // 3)), edge(st.integers(2 * SPAN // 3, SPAN + 15))
            )
        )
    )
    return Client(
        orders=orders,
        visits=visits,
        surveys=surveys,
        investments=investments,
        order_lines=order_lines,
        has_cost=has_cost,
        has_lines=has_lines,
        period=period,
        explicit_period=draw(st.booleans()),
        fiscal_year_start=draw(st.integers(1, 12)) if period == "quarter" else 1,
        gross_margin=draw(st.none() | st.integers(0, 8).map(lambda n: n / 8)),
        small_order_threshold=draw(st.none() | st.integers(1, 400).map(lambda n: n * 0.25)),
        start=day(lo),
        end=day(hi),
        categorical=draw(st.booleans()),
    )


def with_period_start(
    frame: pl.LazyFrame | pl.DataFrame, client: Client, column: str = "period"
) -> pl.LazyFrame:
    return frame.lazy().with_columns(
        period_start(column, client.period, fiscal_year_start=client.fiscal_year_start).alias(
            "period_start"
        )
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

    grouped = m.with_period(
        orders.lazy(),
        client.period,  # type: ignore[arg-type]
        fiscal_year_start=client.fiscal_year_start,
    )
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
]


@SETTINGS
@given(client=clients())
def test_period_retention(client: Client) -> None:
    """Period retention and crr_formula (E - N) / S, with history before the window.

    Orders after the window end are part of the input (and must be ignored).
    """
    orders = frame(client.orders, ORDER_SCHEMA, categorical=client.categorical).lazy()
    got = m.period_retention(
        orders, start=client.start, end=client.end, **client.period_kwargs()
    ).collect()
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
    got = m.cohort_retention(orders, start=client.start, end=client.end, **client.period_kwargs())
    expected = ref.cohort_retention(
        client.orders, start=client.start, end=client.end, **client.period_kwargs()
    )
    assert_rows(got, expected, COHORT)


@SETTINGS
@given(client=clients())
def test_channel_states_and_transitions(client: Client) -> None:
    states = m.channel_states(
        client.orders_df().lazy(), start=client.start, end=client.end, **client.period_kwargs()
    )
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
    window = client.window_orders_df()
    rows = client.window_orders()
    kwargs = client.period_kwargs()
    assert_rows(
        with_period_start(m.orders_per_customer(window, **kwargs), client),
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
        with_period_start(m.aov_by_channel(window, **kwargs), client),
        ref.aov_by_channel(rows, **kwargs),
        ["period_start", "channel", "orders", "net_revenue", "average_order_value"],
    )


@SETTINGS
@given(client=clients())
def test_customer_aov_comparison_and_before_after(client: Client) -> None:
    assert_rows(
        m.customer_aov_comparison(client.window_orders_df()),
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
    window = client.window_orders_df()
    rows = client.window_orders()
    kwargs = client.period_kwargs()
    lines = frame(client.order_lines, LINE_SCHEMA).lazy()
    assert_rows(
        with_period_start(m.basket_by_channel(window, lines, **kwargs), client),
        ref.basket_by_channel(rows, client.order_lines, **kwargs),
        BASKET,
    )
    # order_lines without a category column: categories are null
    no_category = with_period_start(
        m.basket_by_channel(window, lines.drop("category"), **kwargs), client
    ).collect()
    assert no_category["categories_per_order"].null_count() == no_category.height
    if client.has_lines:
        assert_rows(
            with_period_start(m.basket_by_channel(window, **kwargs), client),
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
# Minimal examples of bugs these property tests found (each failed before its fix).


def _orders(*rows: tuple[str, dt.date, bool]) -> pl.LazyFrame:
    """Valid orders of revenue 10 from (customer, date, online) tuples."""
    return frame(
        [
            {
                "order_id": f"o{i}",
                "customer_id": c,
                "order_date": d,
                "channel": "web" if online else "phone",
                "revenue": 10.0,
                "status": "placed",
                "is_online": online,
                "is_valid": True,
            }
            for i, (c, d, online) in enumerate(rows)
        ],
        ORDER_SCHEMA,
    ).lazy()


def test_period_retention_ignores_orders_after_window_end_regression() -> None:
    # the only order is on Jan 20, after a window ending on Jan 10
    orders = _orders(("a", dt.date(2024, 1, 20), False))
    got = m.period_retention(orders, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 10)).collect()
    # nobody ordered in the window: E = N = 0
    assert got.select("customers_end", "new_customers").row(0) == (0, 0)


def test_cohort_retention_ignores_orders_after_window_end_regression() -> None:
    # a's first order (Jan 20) is after the window (Jan 1-10): no cohort has a member
    orders = _orders(("a", dt.date(2024, 1, 20), False))
    got = m.cohort_retention(orders, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 10)).collect()
    assert got.height == 0


def test_series_period_without_orders_regression() -> None:
    params = ClientParams.model_validate(
        {"client": "x", "data": {"orders": "o.csv"}, "gross_margin": 0.5}
    )
    orders = _orders(("a", dt.date(2024, 1, 5), True), ("a", dt.date(2024, 3, 5), True)).collect()
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
        orders=_orders(("a", dt.date(2024, 1, 5), True)).collect(),
        investments=investments,
    )
    report = compute_kpis(data, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 31))
    assert report.series["investment"].to_list() == [0.0]
    assert report.kpis["investment"] == 0.0


def test_basket_null_category_regression() -> None:
    orders = _orders(("a", dt.date(2024, 1, 5), True))
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
