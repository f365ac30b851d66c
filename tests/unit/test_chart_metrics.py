"""The metrics behind the charts (charts only draw), on small hand-made frames.

Each frame below models a handful of customers so that every number can be
checked by hand; the chart test checks that a chart embeds its frame as given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from b2b_analysis import charts
from b2b_analysis import metrics as m
from b2b_analysis.periods import Calendar

D = dt.date


def _states() -> pl.LazyFrame:
    """Four customers over two fiscal quarters (fiscal year from July): in the first,
    two hybrid, one online-only, one inactive; in the second, one offline-only and
    three inactive."""
    q1, q2 = 8096, 8097  # FY2024/25 Q1 and Q2 with fiscal_year_start=7
    return pl.LazyFrame(
        {
            "customer_id": ["a", "b", "c", "d", "a", "b", "c", "d"],
            "period": [q1] * 4 + [q2] * 4,
            "state": [
                *("hybrid", "hybrid", "online-only", "inactive"),
                *("offline-only", "inactive", "inactive", "inactive"),
            ],
        },
        schema_overrides={"period": pl.Int32},
    )


def test_channel_state_counts_counts_labels_and_shares_per_period() -> None:
    got = m.channel_state_counts(_states(), calendar=Calendar("quarter", 7)).collect()
    expected = pl.DataFrame(
        {
            "state": ["hybrid", "online-only", "offline-only"],
            "customers": [2, 1, 1],
            "period_start": [D(2024, 7, 1), D(2024, 7, 1), D(2024, 10, 1)],
            "period_label": ["FY2024/25 Q1", "FY2024/25 Q1", "FY2024/25 Q2"],
            "share": [2 / 3, 1 / 3, 1.0],
        }
    )
    assert_frame_equal(got, expected)


def test_channel_state_counts_can_keep_inactive_customers() -> None:
    got = m.channel_state_counts(
        _states(), calendar=Calendar("quarter", 7), include_inactive=True
    ).collect()
    assert got.select("period_label", "state", "customers", "share").rows() == [
        ("FY2024/25 Q1", "hybrid", 2, 0.5),
        ("FY2024/25 Q1", "inactive", 1, 0.25),
        ("FY2024/25 Q1", "online-only", 1, 0.25),
        ("FY2024/25 Q2", "inactive", 3, 0.75),
        ("FY2024/25 Q2", "offline-only", 1, 0.25),
    ]


def test_channel_state_counts_from_channel_states() -> None:
    """Customer a orders offline then online in January, nothing in February."""
    orders = pl.LazyFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_date": [D(2024, 1, 5), D(2024, 1, 9), D(2024, 2, 2)],
            "is_online": [False, True, True],
            "is_valid": [True, True, True],
        }
    )
    states = m.channel_states(orders, start=D(2024, 1, 1), end=D(2024, 2, 29))
    got = m.channel_state_counts(states).collect()
    assert got.select("period_label", "state", "customers").rows() == [
        ("2024-01", "hybrid", 1),
        ("2024-02", "online-only", 1),
    ]


def _adoption() -> pl.LazyFrame:
    """Five new online customers: three in January (one of each outcome), two in
    February (both reverted, after 4 and 10 days)."""
    return pl.LazyFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "first_online_date": [
                *(D(2024, 1, 3), D(2024, 1, 9), D(2024, 1, 31)),
                *(D(2024, 2, 1), D(2024, 2, 29)),
            ],
            "retained_online": [True, False, False, False, False],
            "reverted_to_offline": [False, True, None, True, True],
            "days_to_revert": [None, 12, None, 4, 10],
        }
    )


def test_adoption_outcomes_by_calendar_month() -> None:
    got = m.adoption_outcomes(_adoption()).collect()
    expected = pl.DataFrame(
        {
            "month": [D(2024, 1, 1)] * 3 + [D(2024, 2, 1)],
            "outcome": [
                *("no later order", "retained online", "reverted to offline"),
                "reverted to offline",
            ],
            "customers": [1, 1, 1, 2],
            "median_days_to_revert": [None, None, 12.0, 7.0],
            "share": [1 / 3, 1 / 3, 1 / 3, 1.0],
        }
    )
    assert_frame_equal(got, expected)


def test_adoption_outcomes_of_no_customer_is_empty() -> None:
    got = m.adoption_outcomes(_adoption().clear()).collect()
    assert got.height == 0
    assert got.columns == ["month", "outcome", "customers", "median_days_to_revert", "share"]


def test_aov_shift_histogram_bins_log2_ratios() -> None:
    """Six bins of width 1 on log2 -3..3; ratios out of range fall in the end bins,
    ratios of 0 or less, and nulls, are left out."""
    shifts = pl.LazyFrame({"aov_shift_ratio": [1 / 64, 0.5, 0.75, 1.0, 1.9, 8.0, 100.0, 0.0, None]})
    got = m.aov_shift_histogram(shifts, bins=6).collect()
    expected = pl.DataFrame(
        {
            "customers": [1, 2, 2, 2],
            "bin_start": [-3.0, -1.0, 0.0, 2.0],
            "bin_end": [-2.0, 0.0, 1.0, 3.0],
            "ratio_from": [0.125, 0.5, 1.0, 4.0],
            "ratio_to": [0.25, 1.0, 2.0, 8.0],
        }
    )
    assert_frame_equal(got, expected)


def test_aov_shift_histogram_has_40_bins_by_default() -> None:
    """Bins of width 0.15: a doubled AOV (log2 = 1) falls in the bin from 0.9."""
    got = m.aov_shift_histogram(pl.LazyFrame({"aov_shift_ratio": [1.0, 2.0]})).collect()
    assert got["bin_start"].to_list() == pytest.approx([0.0, 0.9])
    assert got["bin_end"].to_list() == pytest.approx([0.15, 1.05])
    assert got["customers"].to_list() == [1, 1]


@pytest.mark.parametrize(
    ("chart", "frame"),
    [
        (
            charts.channel_states_chart,
            m.channel_state_counts(_states(), calendar=Calendar("month")),
        ),
        (charts.reverted_customers_chart, m.adoption_outcomes(_adoption())),
    ],
)
def test_charts_embed_the_metric_frame_as_given(chart: Any, frame: pl.LazyFrame) -> None:
    """A chart only selects and rounds: its data rows are the metric's rows, in order."""
    with charts.theme():
        spec = chart(frame=frame).to_dict()
    data = next(iter(spec["datasets"].values()))
    expected = frame.collect()
    assert list(data[0]) == expected.columns
    assert [(r["state" if "state" in r else "outcome"], r["customers"]) for r in data] == (
        expected.select(pl.nth(0) if "state" in expected.columns else "outcome", "customers").rows()
    )
    assert [r["share"] for r in data] == pytest.approx(expected["share"].to_list(), rel=1e-6)


def test_aov_before_after_chart_draws_the_histogram() -> None:
    frame = m.aov_shift_histogram(pl.LazyFrame({"aov_shift_ratio": [0.5, 1.0, 4.0]}), bins=6)
    with charts.theme():
        spec = charts.aov_before_after_chart(frame=frame).to_dict()
    bars = spec["layer"][0]
    rows = spec["datasets"][bars["data"]["name"]]
    assert [(r["bin_start"], r["customers"]) for r in rows] == [(-1.0, 1), (0.0, 1), (2.0, 1)]


def test_quarterly_cohorts_carry_the_series_labels() -> None:
    """Two customers whose first orders fall in fiscal Q4 and Q1 (year from July):
    the cohorts are labelled as the KPI series labels those quarters."""
    orders = pl.LazyFrame(
        {
            "customer_id": ["a", "b"],
            "order_date": [D(2024, 6, 30), D(2024, 7, 1)],
            "is_valid": [True, True],
        }
    )
    calendar = Calendar("quarter", 7)
    cohorts = m.cohort_retention(
        orders, calendar=calendar, start=D(2024, 4, 1), end=D(2024, 9, 30)
    ).collect()
    labels = calendar.periods(D(2024, 4, 1), D(2024, 9, 30)).collect()["period_label"]
    assert cohorts["cohort_label"].unique(maintain_order=True).to_list() == labels.to_list()
    assert labels.to_list() == ["FY2023/24 Q4", "FY2024/25 Q1"]
    with charts.theme():
        spec = charts.cohort_heatmap_chart(frame=cohorts).to_dict()
    assert spec["encoding"]["y"]["field"] == "cohort_label"
    rows = next(iter(spec["datasets"].values()))
    assert {r["cohort_label"] for r in rows} == {"FY2023/24 Q4", "FY2024/25 Q1"}


# ------------------------------------------------------------------ the glance views


def _orders(rows: list[tuple[str, dt.date]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "customer_id": [c for c, _ in rows],
            "order_date": [d for _, d in rows],
            "is_valid": [True] * len(rows),
            "is_online": [True] * len(rows),
        }
    )


def _cohort_orders() -> pl.LazyFrame:
    """Cohort January 2024: a (orders Jan, Feb, Mar), b (Jan, Mar), c (Jan); cohort
    February: d (Feb, Mar), e (Feb). The window is January to March."""
    return _orders(
        [
            ("a", D(2024, 1, 3)), ("a", D(2024, 2, 3)), ("a", D(2024, 3, 3)),
            ("b", D(2024, 1, 9)), ("b", D(2024, 3, 9)), ("c", D(2024, 1, 20)),
            ("d", D(2024, 2, 1)), ("d", D(2024, 3, 1)), ("e", D(2024, 2, 11)),
        ]
    )  # fmt: skip


def test_cohort_table_adds_a_weighted_average_row() -> None:
    cohorts = m.cohort_retention(_cohort_orders(), start=D(2024, 1, 1), end=D(2024, 3, 31))
    got = m.cohort_table(cohorts).collect()
    average = got.filter(pl.col("row") == "average").select("periods_since", "cohort_size", "value")
    # offset 0: 3 + 2 customers, all active; offset 1: Jan a (1 of 3) and Feb d (1 of 2)
    # = 2 of 5; offset 2: Jan only, a and b = 2 of 3
    assert average.rows() == [(0, 5, 1.0), (1, 5, 0.4), (2, 3, 2 / 3)]
    cells = got.filter(pl.col("row") == "cohort")
    assert cells.select("cohort_label", "periods_since", "value").rows() == [
        ("2024-01", 0, 1.0),
        ("2024-01", 1, 1 / 3),
        ("2024-01", 2, 2 / 3),
        ("2024-02", 0, 1.0),
        ("2024-02", 1, 0.5),
    ]


def test_retention_curves_average_band_and_latest_cohorts() -> None:
    cohorts = m.cohort_retention(_cohort_orders(), start=D(2024, 1, 1), end=D(2024, 3, 31))
    got = m.retention_curves(cohorts, rate="retention_rate", highlight=1, min_points=2).collect()
    average = got.filter(pl.col("series") == "average")
    assert average["value"].to_list() == pytest.approx([1.0, 0.4, 2 / 3])
    # offset 1: the cohorts' values are 1/3 and 1/2: quartiles 1/3 + (1/2 - 1/3)/4, ...
    low, high = average.row(1, named=True)["low"], average.row(1, named=True)["high"]
    assert (low, high) == pytest.approx((1 / 3 + 1 / 24, 1 / 3 + 3 / 24))
    assert average["cohorts"].to_list() == [2, 2, 1]
    # the latest cohort with two complete points is February's
    assert got.filter(pl.col("series") != "average")["series"].unique().to_list() == ["2024-02"]


def test_change_bands_count_every_band() -> None:
    ratios = pl.LazyFrame({"r": [0.3, 0.6, 0.8, 0.95, 1.0, 1.05, 1.2, 1.4, 1.9, 2.0, 5.0, None]})
    got = m.change_bands(ratios, "r").collect()
    # by hand: changes -70 %, -40 %, -20 %, -5 %, 0, +5 %, +20 %, +40 %, +90 %, +100 %, +400 %
    assert got["customers"].to_list() == [1, 1, 1, 3, 1, 1, 1, 2]
    assert got["share"].sum() == pytest.approx(1.0)
    assert got.select("low", "high").row(0) == (None, -0.5)
    assert got.select("low", "high").row(7) == (1.0, None)


def test_period_retention_by_satisfaction_with_wilson_intervals() -> None:
    """Monthly. a answers 5 in January and orders Jan-Apr: 3 pairs (Jan, Feb, Mar;
    April is the window's last period), all retained. b answers 2 in February and orders
    Jan, Feb, Apr: January has no answer yet (left out), February is not retained.
    c answers 4 in March, after its only order (January): left out."""
    orders = _orders(
        [
            *(("a", D(2024, month, 5)) for month in (1, 2, 3, 4)),
            *(("b", D(2024, month, 7)) for month in (1, 2, 4)),
            ("c", D(2024, 1, 9)),
        ]
    )
    surveys = pl.LazyFrame(
        {
            "customer_id": ["a", "b", "c"],
            "kind": ["csat"] * 3,
            "score": [5.0, 2.0, 4.0],
            "response_date": [D(2024, 1, 10), D(2024, 2, 2), D(2024, 3, 1)],
        }
    )
    got = m.period_retention_by_satisfaction(
        orders, surveys, start=D(2024, 1, 1), end=D(2024, 4, 30)
    ).collect()
    assert got.select("band", "pairs", "retained", "rate").rows() == [
        ("not satisfied", 1, 0, 0.0),
        ("satisfied", 3, 3, 1.0),
    ]
    # Wilson with n = 3, k = 3: low = 3 / (3 + z^2), high 1
    z2 = 1.959964**2
    assert got.row(1, named=True)["low"] == pytest.approx(3 / (3 + z2))
    assert got.row(1, named=True)["high"] == 1.0


def test_adoption_outcomes_follow_the_report_period() -> None:
    got = m.adoption_outcomes_by_period(_adoption(), calendar=Calendar("quarter")).collect()
    by_month = m.adoption_outcomes(_adoption()).collect()
    # the same customers, now counted per quarter
    assert got["customers"].sum() == by_month["customers"].sum()
    assert set(got["period_label"]) == {"2024 Q1"}
    assert got.select("outcome", "customers", "median_days_to_revert").rows() == [
        ("no later order", 1, None),
        ("retained online", 1, None),
        ("reverted to offline", 3, 10.0),
    ]
    assert got["share"].to_list() == pytest.approx([0.2, 0.2, 0.6])
    assert got.columns == [
        "period_start",
        "period_label",
        "outcome",
        "customers",
        "median_days_to_revert",
        "share",
    ]
