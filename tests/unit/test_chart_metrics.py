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
