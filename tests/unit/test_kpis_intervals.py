"""The 95 % intervals of ``compute_kpis``: ``intervals`` and the series' interval columns.

* A property test on small random clients: every proportion's ``n`` against a
  plain-Python count (``tests/support/reference.py`` for the rows), its successes
  against the KPI's value, and its bounds against the Wilson formula written here;
  each bootstrap KPI's ``n`` and bounds against its values taken in plain Python.
* The hand-checked client through the CLI (``kpis --format json``): the ``n`` of
  each KPI worked out by hand from its rows.
* What the registry says: every KPI with an interval kind gets one, and no other.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings

from b2b_analysis.kpis import compute_kpis
from b2b_analysis.registry import INTERVAL_KPIS, KPIS, REGISTRY, SERIES_INTERVALS
from b2b_analysis.stats import bootstrap_interval
from tests.support import reference as ref
from tests.support.clientkit import kpis_json
from tests.support.strategies import Client, clients

Z = 1.959964
Counts = dict[str, tuple[int, int]]


def plain_wilson(k: int, n: int) -> tuple[float, float] | None:
    """The Wilson score interval, from its textbook formula."""
    if n == 0 or k > n:
        return None
    p = k / n
    denominator = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denominator
    margin = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def nps_points(surveys: list[dict[str, Any]]) -> list[float]:
    points = {True: 100.0, False: 0.0}
    return [
        -100.0 if s["score"] <= 6 else points[s["score"] >= 9]
        for s in surveys
        if s["kind"] == "nps"
    ]


def proportion_counts(
    orders: list[dict[str, Any]],
    visits: list[dict[str, Any]] | None,
    flags: list[bool],
    surveys: list[dict[str, Any]],
    adoption: list[dict[str, Any]],
    threshold: float,
) -> Counts:
    """(successes, trials) of each proportion over these rows, in plain Python."""
    valid = ref.valid_orders(orders)
    per_customer = Counter(o["customer_id"] for o in valid)
    small = [o for o in valid if o["revenue"] < threshold]
    csat = [s for s in surveys if s["kind"] == "csat"]
    later = [r for r in adoption if r["reverted_to_offline"] is not None]
    online = sum(o["is_online"] for o in valid)
    counts = {
        "customer_retention_rate": (sum(c >= 2 for c in per_customer.values()), len(per_customer)),
        "online_order_share": (online, len(valid)),
        "small_order_online_share": (sum(o["is_online"] for o in small), len(small)),
        "csat": (sum(s["score"] >= 4 for s in csat), len(csat)),
        "online_retention_rate": (sum(r["retained_online"] for r in adoption), len(adoption)),
        "reverted_to_offline_share": (sum(r["reverted_to_offline"] for r in later), len(later)),
    }
    if visits is not None:
        counts["conversion_rate"] = (online, len(visits))
        counts["returning_visit_share"] = (sum(flags), len(flags))
    return counts


def assert_wilson(key: str, value: Any, n: Any, low: Any, high: Any, counts: Counts) -> None:
    """``n`` is the plain count, ``value`` is k / n, the bounds are Wilson's (or null)."""
    if key not in counts:  # its table is missing
        assert (n, low, high) == (None, None, None), key
        return
    k, expected_n = counts[key]
    assert n == expected_n, key
    expected = plain_wilson(k, expected_n)
    if expected_n == 0:
        assert value is None, key
    else:
        assert value == pytest.approx(k / expected_n, rel=1e-12), key
    if expected is None:
        assert (low, high) == (None, None), key
    else:
        assert (low, high) == pytest.approx(expected, abs=1e-12), key


def assert_bootstrap(key: str, n: Any, low: Any, high: Any, values: list[float] | None) -> None:
    if values is None:
        assert (n, low, high) == (None, None, None), key
        return
    assert n == len(values), key
    bounds = bootstrap_interval(values, "mean" if key == "nps" else "median")
    assert (low, high) == (bounds or (None, None)), key


def headline_samples(client: Client, window: list[dict[str, Any]]) -> dict[str, list[float] | None]:
    start, end = client.start, client.end
    adoption = ref.online_adoption(client.orders, start=start, end=end)
    surveys = [s for s in client.surveys or [] if ref.in_window(s["response_date"], start, end)]
    shifts = ref.aov_before_after_online(client.orders, start=start, end=end)
    return {
        "nps": nps_points(surveys) if client.surveys is not None else None,
        "median_days_to_revert": [
            r["days_to_revert"] for r in adoption if r["days_to_revert"] is not None
        ],
        "median_aov_shift": [r["aov_shift"] for r in shifts],
        "median_online_offline_aov_ratio": [
            r["aov_ratio"]
            for r in ref.customer_aov_comparison(window)
            if r["aov_ratio"] is not None
        ],
    }


@settings(max_examples=60, deadline=None)
@given(client=clients())
def test_intervals_against_plain_counts(client: Client) -> None:
    start, end = client.start, client.end
    window = [o for o in client.orders if start <= o["order_date"] <= end]
    if not ref.valid_orders(window):
        return  # compute_kpis refuses the window (tested in test_kpis.py)
    report = compute_kpis(client.data(), start=start, end=end, period=client.period)  # type: ignore[arg-type]
    threshold = report.small_order_threshold
    assert threshold is not None

    all_flags = ref.flag_returning_visits(client.visits) if client.visits is not None else []
    visits = [
        (v, f)
        for v, f in zip(client.visits or [], all_flags, strict=True)
        if start <= v["visit_date"] <= end
    ]
    surveys = [s for s in client.surveys or [] if start <= s["response_date"] <= end]
    adoption = ref.online_adoption(client.orders, start=start, end=end)
    counts = proportion_counts(
        window,
        None if client.visits is None else [v for v, _ in visits],
        [f for _, f in visits],
        surveys,
        adoption,
        threshold,
    )
    if client.surveys is None:
        del counts["csat"]
    if client.visits is not None:
        visitors = ref.visitor_conversion_rate(client.visits, client.orders, start, end)
        counts["visitor_conversion_rate"] = (visitors["converted"], visitors["visitors"])

    assert list(report.intervals) == list(INTERVAL_KPIS)
    samples = headline_samples(client, window)
    for key, interval in report.intervals.items():
        n, low, high = interval["n"], interval["low"], interval["high"]
        if REGISTRY[key].interval == "wilson":
            assert_wilson(key, report.kpis[key], n, low, high, counts)
        else:
            assert_bootstrap(key, n, low, high, samples[key])

    check_series(client, report.series, window, visits, surveys, adoption, threshold)


def check_series(
    client: Client,
    series: pl.DataFrame,
    window: list[dict[str, Any]],
    visits: list[tuple[dict[str, Any], bool]],
    surveys: list[dict[str, Any]],
    adoption: list[dict[str, Any]],
    threshold: float,
) -> None:
    """The series' interval columns: as the headline's, per period of the window."""
    start, end = client.start, client.end
    retention = {
        r["period_start"]: r
        for r in ref.period_retention(
            client.orders,
            period=client.period,
            start=start,
            end=end,
            fiscal_year_start=client.fiscal_year_start,
        )
    }
    for row in series.iter_rows(named=True):
        p = row["period_start"]

        def here(day: dt.date, p: dt.date = p) -> bool:
            return ref.period_start(day, client.period, client.fiscal_year_start) == p

        period_counts = proportion_counts(
            [o for o in window if here(o["order_date"])],
            None if client.visits is None else [v for v, _ in visits if here(v["visit_date"])],
            [f for v, f in visits if here(v["visit_date"])],
            [s for s in surveys if here(s["response_date"])],
            [r for r in adoption if here(r["first_online_date"])],
            threshold,
        )
        if client.surveys is None:
            del period_counts["csat"]
        spine = retention[p]
        period_counts["period_retention_rate"] = (
            spine["retained_customers"],
            spine["customers_start"],
        )
        for key in SERIES_INTERVALS:
            n, low, high = (row[f"{key}_{part}"] for part in ("n", "low", "high"))
            if key == "nps":
                values = None
                if client.surveys is not None:
                    values = nps_points([s for s in surveys if here(s["response_date"])])
                assert_bootstrap(key, n, low, high, values)
            else:
                assert_wilson(key, row[key], n, low, high, period_counts)


# ------------------------------------------------------------------ the CLI


def test_hand_checked_intervals_in_the_json(hand_checked_params: Path) -> None:
    """n of each KPI of the hand-checked client (January-March 2024), by hand:

    customers a, b, c, d; a, b and d have 2+ orders. 11 orders count (a 4, b 4, c 1,
    d 2), 4 online (orders 3, 4, 7, 10); 5 are below the threshold of 100 (3, 4, 7,
    10, 14), 4 of them online. 7 visits (v1-v7), v1 and v3 returning. 3 csat answers
    (5, 2, 4) and 4 nps answers (10, 9, 3, 7). New online customers a, b, c; a
    retained; a and b ordered later, b reverted (22 days). Identified visitors a, b,
    c, e, of whom a, b and c bought online. AOV shift and ratio: a and b.
    """
    document = kpis_json(hand_checked_params)
    intervals = document["intervals"]
    assert list(intervals) == list(INTERVAL_KPIS)
    worked = {
        "customer_retention_rate": (3, 4),
        "online_order_share": (4, 11),
        "small_order_online_share": (4, 5),
        "conversion_rate": (4, 7),
        "returning_visit_share": (2, 7),
        "csat": (2, 3),
        "online_retention_rate": (1, 3),
        "reverted_to_offline_share": (1, 2),
        "visitor_conversion_rate": (3, 4),
    }
    for key, (k, n) in worked.items():
        expected = plain_wilson(k, n)
        assert expected is not None
        assert intervals[key]["n"] == n, key
        assert intervals[key]["low"] == pytest.approx(expected[0], rel=1e-9), key
        assert intervals[key]["high"] == pytest.approx(expected[1], rel=1e-9), key
        assert document["kpis"][key] == pytest.approx(k / n, rel=1e-9), key
    nps = bootstrap_interval([100.0, 100.0, -100.0, 0.0], "mean")
    assert nps is not None
    assert intervals["nps"] == {"n": 4, "low": nps[0], "high": nps[1]}
    # one reverted customer: a median of one value has no bootstrap interval
    assert intervals["median_days_to_revert"] == {"n": 1, "low": None, "high": None}
    shift = bootstrap_interval([-50.0, -120.0], "median")
    ratio = bootstrap_interval([60 / 190, 40 / ((300 + 260 + 240) / 3)], "median")
    assert shift is not None and ratio is not None
    assert intervals["median_aov_shift"] == {"n": 2, "low": shift[0], "high": shift[1]}
    got = intervals["median_online_offline_aov_ratio"]
    assert got["n"] == 2
    assert (got["low"], got["high"]) == pytest.approx(ratio, rel=1e-9)

    # the series: March has the 3 csat answers' third and all 4 nps answers
    rows = {row["period_label"]: row for row in document["series"]["rows"]}
    columns = document["series"]["columns"]
    for key in SERIES_INTERVALS:
        assert [f"{key}_n", f"{key}_low", f"{key}_high"] == columns[
            columns.index(f"{key}_n") : columns.index(f"{key}_n") + 3
        ]
    assert [rows[m]["csat_n"] for m in ("2024-01", "2024-02", "2024-03")] == [1, 1, 1]
    assert [rows[m]["nps_n"] for m in ("2024-01", "2024-02", "2024-03")] == [0, 0, 4]
    assert rows["2024-01"]["nps_low"] is None
    assert (rows["2024-03"]["nps_low"], rows["2024-03"]["nps_high"]) == nps


def test_orders_above_visits_have_n_but_no_interval(tmp_path: Path) -> None:
    """Conversion is online orders / visits: with more orders than visits it is no
    proportion, so its interval keeps n and has null bounds."""
    from tests.support.clientkit import ORDER_HEADER, write_client

    orders = [
        (str(i), f"c{i % 2}", "2024-01-0" + str(i + 1), "web", 10, "placed") for i in range(3)
    ]
    visits = [("v1", "c0", "2024-01-01 09:00:00")]
    params = write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, orders),
            "visits": (("visit_id", "customer_id", "visit_start"), visits),
        },
    )
    document = kpis_json(params)
    assert document["kpis"]["conversion_rate"] == 3.0
    assert document["intervals"]["conversion_rate"] == {"n": 1, "low": None, "high": None}
    # no surveys table: csat and nps have no n either
    assert document["intervals"]["csat"] == {"n": None, "low": None, "high": None}
    assert document["intervals"]["nps"] == {"n": None, "low": None, "high": None}
    # all 3 orders online: 3 of 3, the high bound is exactly 1
    share = document["intervals"]["online_order_share"]
    assert (share["n"], share["high"]) == (3, 1.0)


# ------------------------------------------------------------------ the registry


def test_intervals_follow_the_registry() -> None:
    with_interval = [k for k, v in KPIS.items() if v.interval is not None]
    assert list(INTERVAL_KPIS) == with_interval
    assert "roi" not in INTERVAL_KPIS and "average_order_value" not in INTERVAL_KPIS
    for key, kpi in INTERVAL_KPIS.items():
        assert kpi.n, key
        if kpi.interval == "wilson":
            assert kpi.unit == "rate", key
    expected = tuple(k for k, v in REGISTRY.items() if v.series and v.interval is not None)
    assert expected == SERIES_INTERVALS


def test_a_wilson_entry_needs_a_proportion() -> None:
    from b2b_analysis.registry import Kpi

    with pytest.raises(ValueError, match="proportion"):
        Kpi("x", "X", "money", "a sum", interval="wilson", n="orders")
    with pytest.raises(ValueError, match="description of its n"):
        Kpi("x", "X", "rate", "a share", interval="wilson")


def test_series_interval_columns_have_the_right_types(hand_checked_params: Path) -> None:
    from b2b_analysis.config import load_params
    from b2b_analysis.io import load_client

    report = compute_kpis(load_client(load_params(hand_checked_params)))
    for key in SERIES_INTERVALS:
        assert report.series.schema[f"{key}_n"] == pl.Int64, key
        assert report.series.schema[f"{key}_low"] == pl.Float64, key
        assert report.series.schema[f"{key}_high"] == pl.Float64, key
