"""Maturity and like-with-like trends (:mod:`b2b_analysis.trends`), checked independently.

* The change intervals against Newcombe's (1998) published table and against the plain
  formulas written here (Wilson, Newcombe's method 10, Poisson, compound Poisson, the
  normal approximation of a mean), on clients built with ``tests/support/clientkit``.
* The maturity rule on a client built so that its last cohorts are immature: no arrow, no
  change in a sentence, their periods named; the same client with a zero follow-up and a
  fully observed month does get the arrow (the check can fail).
* The year-earlier comparison (month, quarter, week) and "no clear change".
* The demo clients: every arrow rests on a significant change of a mature period.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from b2b_analysis import metrics as m
from b2b_analysis import narrative
from b2b_analysis.config import load_params
from b2b_analysis.io import load_client
from b2b_analysis.kpis import compute_kpis
from b2b_analysis.periods import Calendar
from b2b_analysis.trends import Point, change_interval, compare, flag_cohort_cells
from tests.support.clientkit import ORDER_HEADER, run_cli, write_client

Z = 1.959964


def plain_wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval from its textbook formula."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def plain_newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Newcombe's method 10: the difference p1 - p2 with the two Wilson intervals."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = plain_wilson(k1, n1), plain_wilson(k2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt(
        (u1 - p1) ** 2 + (p2 - l2) ** 2
    )


def wilson_point(k: int, n: int) -> Point:
    low, high = plain_wilson(k, n)
    return Point(k / n, n, low, high)


# Newcombe (1998), "Interval estimation for the difference between independent
# proportions", Statistics in Medicine 17, table II, method 10.
NEWCOMBE_TABLE = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), NEWCOMBE_TABLE)
def test_difference_of_proportions_matches_newcombes_table(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    k1, n1, k2, n2 = counts
    bounds = change_interval(wilson_point(k1, n1), wilson_point(k2, n2))
    assert bounds is not None
    assert bounds == pytest.approx(published, abs=6e-5)


def test_variance_changes_and_missing_intervals() -> None:
    assert change_interval(Point(60, variance=60), Point(40, variance=40)) == pytest.approx(
        (20 - Z * 10, 20 + Z * 10)
    )
    assert change_interval(Point(1.0), Point(2.0)) is None  # e.g. ROI: no interval
    assert change_interval(Point(0.2, 5, 0.1, 0.3), Point(0.1, variance=0.01)) is None


# ------------------------------------------------------------ a client with cohorts


def _adoption_orders(last_day: dt.date) -> list[tuple[Any, ...]]:
    """New online customers per month: 20 in January (15 order online again in February),
    20 in February (18 again ten days later), 20 on 8 March (none again); customer ``x``
    orders offline once, on ``last_day`` (where the data end). Order values vary."""
    rows: list[tuple[Any, ...]] = []

    def order(customer: str, day: dt.date, channel: str) -> None:
        value = 40.0 + (len(rows) * 37) % 200
        rows.append((len(rows) + 1, customer, day.isoformat(), channel, value, "placed"))

    for i in range(20):
        order(f"j{i}", dt.date(2024, 1, 10), "online")
        if i < 15:
            order(f"j{i}", dt.date(2024, 2, 5), "online")
    for i in range(20):
        order(f"f{i}", dt.date(2024, 2, 10), "online")
        if i < 18:
            order(f"f{i}", dt.date(2024, 2, 20), "online")
    for i in range(20):
        order(f"m{i}", dt.date(2024, 3, 8), "online")
    order("x", last_day, "offline")
    return rows


def _report(folder: Path, rows: list[tuple[Any, ...]], **params: Any) -> dict[str, Any]:
    path = write_client(folder, {"orders": (ORDER_HEADER, rows)}, **params)
    return compute_kpis(load_client(load_params(path))).to_dict()


def _series_row(doc: dict[str, Any], label: str) -> dict[str, Any]:
    return next(r for r in doc["series"]["rows"] if r["period_label"] == label)


def _arrow(page: str, key: str) -> str | None:
    """The classes of the arrow of ``key``'s scorecard row, or None without one."""
    row = re.search(rf'<tr data-kpi="{key}">(.*?)</tr>', page, re.S)
    assert row is not None
    found = re.search(r'<span class="((?:up|down|flat) (?:good|bad|neutral))"', row.group(1))
    return found.group(1) if found else None


def test_last_cohorts_immature_get_no_arrow_and_no_sentence(tmp_path: Path) -> None:
    doc = _report(tmp_path, _adoption_orders(dt.date(2024, 3, 31)), maturity={"follow_up": 14})
    maturity = doc["maturity"]
    assert maturity["observed_until"] == "2024-03-31" and maturity["follow_up_days"] == 14
    online = maturity["kpis"]["online_retention_rate"]
    # March's new customers had 0 days (< 14); February's 31
    assert online == {
        "rule": "cohort",
        "follow_up_days": 14,
        "immature_periods": ["2024-03"],
        "headline_mature": False,
    }
    assert _series_row(doc, "2024-03")["online_retention_rate_mature"] is False
    assert _series_row(doc, "2024-02")["online_retention_rate_mature"] is True
    # the trend compares February (18/20) with January (15/20), never March (0/20)
    trend = doc["trends"]["online_retention_rate"]
    assert (trend["period"], trend["n"], trend["value"]) == ("2024-02", 20, 0.9)
    previous = trend["previous"]
    assert previous["period"] == "2024-01" and previous["n"] == 20
    assert (previous["low"], previous["high"]) == pytest.approx(plain_newcombe(18, 20, 15, 20))
    assert previous["significant"] is False and previous["tone"] == "neutral"
    page = narrative.scorecard_html(doc, css=False)
    assert _arrow(page, "online_retention_rate") is None
    sentence = narrative.kpi_sentence(doc, "online_retention_rate")
    assert sentence == (
        "Online retention rate: 90.0% of 20 new online customers in 2024-02; no clear change "
        "on 2024-01; no year-earlier period to compare; 2024-03 is immature (under 14 days of "
        "follow-up) and not compared; over the window 2024-01-01 to 2024-03-31: 55.0% of 60 "
        "new online customers (immature periods included)."
    )
    assert not re.search(r"(?<![\d.])0\.0%", sentence)  # March's 0/20 is not presented
    assert "55.0% (immature)" in page  # the window's value includes March


def test_the_same_cohorts_mature_do_get_the_arrow(tmp_path: Path) -> None:
    """With no follow-up asked, March is compared: 0/20 against 18/20 is a clear drop."""
    doc = _report(tmp_path, _adoption_orders(dt.date(2024, 3, 31)), maturity={"follow_up": 0})
    assert doc["maturity"]["kpis"]["online_retention_rate"]["immature_periods"] == []
    previous = doc["trends"]["online_retention_rate"]["previous"]
    assert previous["period"] == "2024-02" and previous["change"] == pytest.approx(-0.9)
    assert (previous["low"], previous["high"]) == pytest.approx(plain_newcombe(0, 20, 18, 20))
    assert previous["significant"] is True and previous["direction"] == "down"
    assert _arrow(narrative.scorecard_html(doc, css=False), "online_retention_rate") == "down bad"
    assert "down 90.0 points on 2024-02 (95% interval" in narrative.kpi_sentence(
        doc, "online_retention_rate"
    )


def test_period_retention_of_a_month_the_data_cover_in_part_is_immature(tmp_path: Path) -> None:
    """The data end on 10 March (the window still runs to 31 March): 10 days < 14."""
    doc = _report(tmp_path, _adoption_orders(dt.date(2024, 3, 10)), maturity={"follow_up": 14})
    assert doc["maturity"]["observed_until"] == "2024-03-10"
    period = doc["maturity"]["kpis"]["period_retention_rate"]
    assert period["immature_periods"] == ["2024-03"] and period["headline_mature"] is None
    # February's cohort had 10 days after 29 February: immature too
    cohorts = doc["maturity"]["kpis"]["online_retention_rate"]["immature_periods"]
    assert cohorts == ["2024-02", "2024-03"]
    march = _series_row(doc, "2024-03")
    assert march["is_partial"] is False and march["period_retention_rate_mature"] is False
    trend = doc["trends"]["period_retention_rate"]
    assert (trend["period"], trend["value"], trend["n"]) == ("2024-02", 0.75, 20)
    assert trend["previous"] is None  # January has no customers of the month before
    sentence = narrative.kpi_sentence(doc, "period_retention_rate")
    assert "2024-03 is immature (under 14 days of follow-up) and not compared" in sentence
    assert "2024-02 to 2024-03 are immature" in narrative.kpi_sentence(doc, "online_retention_rate")
    # the CLI's series table marks the immature values (period retention's March: 0/35)
    params = write_client(
        tmp_path / "cli",
        {"orders": (ORDER_HEADER, _adoption_orders(dt.date(2024, 3, 10)))},
        maturity={"follow_up": 14},
    )
    table = run_cli("kpis", str(params), "--series", "--format", "table", env={"COLUMNS": "300"})
    assert table.returncode == 0, table.stderr
    march = [line for line in table.stdout.splitlines() if line.startswith("│ 2024-03")]
    january = [line for line in table.stdout.splitlines() if line.startswith("│ 2024-01")]
    assert "0.0%°" in march[0] and "°" not in january[0]


def test_cohort_matrix_cells_are_flagged(tmp_path: Path) -> None:
    path = write_client(
        tmp_path,
        {"orders": (ORDER_HEADER, _adoption_orders(dt.date(2024, 3, 10)))},
        maturity={"follow_up": 14},
    )
    data = load_client(load_params(path))
    report = compute_kpis(data)
    matrix = m.cohort_retention(
        data.orders.lazy(), start=report.start, end=report.end, calendar=report.calendar
    ).collect()
    flagged = flag_cohort_cells(matrix, report.calendar, report.maturity_rule)
    cells = {
        (label, since): flag
        for label, since, flag in flagged.select("cohort_label", "periods_since", "maturity").rows()
    }
    # a cell in March (10 days observed) is immature, earlier ones mature, later ones null
    assert cells == {
        ("2024-01", 0): "mature",
        ("2024-01", 1): "mature",
        ("2024-01", 2): "immature",
        ("2024-02", 0): "mature",
        ("2024-02", 1): "immature",
        ("2024-02", 2): None,
        ("2024-03", 0): "immature",
        ("2024-03", 1): None,
        ("2024-03", 2): None,
    }


def test_median_reorder_rule_and_cli_mark(tmp_path: Path) -> None:
    rows = _adoption_orders(dt.date(2024, 3, 31))
    doc = _report(tmp_path / "a", rows)
    days: dict[str, set[dt.date]] = defaultdict(set)
    for _, customer, day, *_rest in rows:
        days[customer].add(dt.date.fromisoformat(day))
    gaps = [
        (b - a).days
        for ds in days.values()
        for a, b in zip(sorted(ds), sorted(ds)[1:], strict=False)
    ]
    median = statistics.median(gaps)
    assert doc["maturity"]["follow_up"] == "median_reorder"
    assert doc["maturity"]["median_reorder_days"] == median
    assert doc["maturity"]["follow_up_days"] == math.ceil(median)
    params = write_client(tmp_path / "b", {"orders": (ORDER_HEADER, rows)})
    result = run_cli("kpis", str(params), "--format", "table")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "Online retention rate" in x)
    assert "55.0% (immature)" in line


def test_money_and_count_changes_match_plain_formulas(tmp_path: Path) -> None:
    rows = _adoption_orders(dt.date(2024, 3, 31))
    doc = _report(tmp_path, rows, maturity={"follow_up": 0})
    values: dict[str, list[float]] = defaultdict(list)
    for _, _customer, day, _channel, value, _status in rows:
        values[day[:7]].append(value)
    march, february = values["2024-03"], values["2024-02"]
    # orders: Poisson
    orders = doc["trends"]["orders"]["previous"]
    d = len(march) - len(february)
    half = Z * math.sqrt(len(march) + len(february))
    assert (orders["change"], orders["low"], orders["high"]) == pytest.approx(
        (d, d - half, d + half)
    )
    assert orders["significant"] is True and orders["tone"] == "bad"
    # net revenue: compound Poisson (the sums of squares)
    revenue = doc["trends"]["net_revenue"]["previous"]
    d = sum(march) - sum(february)
    half = Z * math.sqrt(sum(v * v for v in march) + sum(v * v for v in february))
    assert (revenue["low"], revenue["high"]) == pytest.approx((d - half, d + half))
    # average order value: normal approximation with the sample variances
    aov = doc["trends"]["average_order_value"]
    assert aov["n"] == len(march) and aov["previous"]["n"] == len(february)
    d = statistics.mean(march) - statistics.mean(february)
    half = Z * math.sqrt(
        statistics.variance(march) / len(march) + statistics.variance(february) / len(february)
    )
    assert (aov["previous"]["low"], aov["previous"]["high"]) == pytest.approx((d - half, d + half))
    assert aov["previous"]["significant"] is (d - half > 0 or d + half < 0)


# ------------------------------------------------------------ year earlier, no clear change


def test_year_earlier_comparison_on_a_client(tmp_path: Path) -> None:
    """30 orders in January 2023, 1 a month until December, 60 in January 2024."""
    rows: list[tuple[Any, ...]] = []
    days = [dt.date(2023, 1, 5)] * 30
    days += [dt.date(2023, month, 5) for month in range(2, 13)]
    days += [dt.date(2024, 1, 5)] * 60
    for i, day in enumerate(days):
        rows.append((i + 1, f"c{i}", day.isoformat(), "online", 100.0, "placed"))
    doc = _report(tmp_path, rows)
    trend = doc["trends"]["orders"]
    assert (trend["period"], trend["value"]) == ("2024-01", 60)
    year = trend["year_earlier"]
    assert (year["period"], year["value"], year["change"]) == ("2023-01", 30, 30)
    half = Z * math.sqrt(90)
    assert (year["low"], year["high"]) == pytest.approx((30 - half, 30 + half))
    assert year["significant"] is True and year["tone"] == "good"
    assert narrative.kpi_sentence(doc, "orders") == (
        "Orders: 60 in 2024-01; up 59 on 2023-12 (95% interval +44 to +74); up 30 on 2023-01 "
        "(95% interval +11 to +49); over the window 2023-01-01 to 2024-01-31: 101."
    )


@pytest.mark.parametrize(
    ("period", "back", "label"),
    [("quarter", 4, "2023 Q2"), ("week", 52, "2023-W20"), ("month", 12, "2023-05")],
)
def test_year_earlier_is_the_same_period_on_the_calendar(
    period: str, back: int, label: str
) -> None:
    calendar = Calendar(period)  # type: ignore[arg-type]
    last = calendar.key_of(dt.date(2024, 5, 15))
    rows = [
        {
            "period": key,
            "period_label": pl.select(calendar.label(pl.lit(key))).item(),
            "is_partial": False,
            "orders": 100 + key - last,
        }
        for key in range(last - back - 1, last + 1)
    ]
    trend = compare(rows, calendar, keys=["orders"])["orders"]
    assert trend is not None and trend["year_earlier"]["period"] == label
    assert trend["year_earlier"]["change"] == back
    shorter = compare(rows[2:], calendar, keys=["orders"])["orders"]
    assert shorter is not None and shorter["year_earlier"] is None


def test_a_change_within_its_uncertainty_is_no_clear_change() -> None:
    rows = [
        {"period": 24288, "period_label": "2024-01", "is_partial": False, "orders": 40},
        {"period": 24289, "period_label": "2024-02", "is_partial": False, "orders": 48},
        {"period": 24290, "period_label": "2024-03", "is_partial": True, "orders": 2},
    ]
    doc = {
        "currency": "EUR",
        "window": {"start": "2024-01-01", "end": "2024-03-10"},
        "kpis": {"orders": 90},
        "notes": {},
        "trends": compare(rows, Calendar("month"), keys=["orders"]),
    }
    previous = doc["trends"]["orders"]["previous"]
    # 8 more orders, 95% interval 8 -/+ 1.96 sqrt(88) = -10.4 to +26.4
    assert (previous["low"], previous["high"]) == pytest.approx(
        (8 - Z * math.sqrt(88), 8 + Z * math.sqrt(88))
    )
    assert previous["significant"] is False and previous["direction"] == "up"
    assert narrative.kpi_sentence(doc, "orders") == (
        "Orders: 48 in 2024-02; no clear change on 2024-01; no year-earlier period to compare; "
        "over the window 2024-01-01 to 2024-03-10: 90."
    )
    assert _arrow(narrative.scorecard_html(doc, keys=["orders"]), "orders") is None


# ------------------------------------------------------------ the demo clients


@pytest.fixture(scope="module", params=["acme", "iberia", "nordic"])
def demo_doc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A demo client's ``kpis.json`` (6,000 orders, seed 0, the profile's params file)."""
    from b2b_analysis import demo as gen

    folder = tmp_path_factory.mktemp(request.param)
    gen.generate(folder / "data", profile=request.param, orders=6_000, seed=0, fmt="csv")
    params = folder / f"{request.param}.yaml"
    params.write_text(gen.params_yaml(request.param, "data", fmt="csv"), encoding="utf-8")
    return compute_kpis(load_client(load_params(params))).to_dict()


def test_demo_arrows_rest_on_significant_mature_changes(demo_doc: dict[str, Any]) -> None:
    page = narrative.scorecard_html(demo_doc, css=False)
    immature = {
        key: set(entry["immature_periods"]) for key, entry in demo_doc["maturity"]["kpis"].items()
    }
    arrows = 0
    for key in narrative.SCORECARD_KEYS:
        arrow = _arrow(page, key)
        trend = demo_doc["trends"].get(key)
        previous = trend["previous"] if trend else None
        if previous is None or not previous["significant"] or key == "customer_retention_rate":
            assert arrow is None, key
            continue
        arrows += 1
        assert arrow == f"{previous['direction']} {previous['tone']}", key
        assert previous["low"] > 0 or previous["high"] < 0
        row = _series_row(demo_doc, trend["period"])
        assert not row["is_partial"] and row.get(f"{key}_mature", True) is True
        assert trend["period"] not in immature.get(key, set())
        assert previous["period"] not in immature.get(key, set())
    assert "trends" in demo_doc and arrows <= len(narrative.SCORECARD_KEYS)
