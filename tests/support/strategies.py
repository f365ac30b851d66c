"""Random small clients for the property tests, and how their results are compared.

:func:`clients` draws a small random client (orders, visits, surveys, investments,
order lines) and a random window as plain-Python rows (for the references in
``tests/support/reference.py``) that :class:`Client` turns into polars frames in the
shape ``io.load_client`` produces. Revenues, costs, amounts and margins are
multiples of 1/8, so sums are exact; :func:`same`, :func:`assert_same` and
:func:`assert_rows` compare floats with a relative tolerance of 1e-9, and nulls
must match nulls.

Used by ``tests/unit/test_metrics.py`` and ``tests/unit/test_kpis.py``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import polars as pl
from hypothesis import settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from b2b_analysis.config import ClientParams
from b2b_analysis.io import ClientData
from b2b_analysis.periods import Calendar, period_start

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

    def calendar(self) -> Calendar:
        return Calendar(self.period, self.fiscal_year_start)  # type: ignore[arg-type]

    def window(self) -> dict[str, Any]:
        """The metric transforms' window arguments: calendar, start and end."""
        return {"calendar": self.calendar(), "start": self.start, "end": self.end}


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


def valid_orders(*rows: tuple[str, dt.date, bool]) -> pl.LazyFrame:
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
