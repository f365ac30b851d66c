"""Findings from a kpis.json document: what qualifies, the sentences, the ranking."""

from __future__ import annotations

from typing import Any

from b2b_analysis.findings import FEWEST, MOST, findings


def _comparison(
    period: str, value: float, change: float, low: float, high: float
) -> dict[str, Any]:
    return {
        "period": period,
        "value": value,
        "n": 900,
        "change": change,
        "low": low,
        "high": high,
        "significant": low > 0 or high < 0,
        "direction": "up" if change > 0 else "down",
        "tone": "neutral",
    }


def _doc(**parts: Any) -> dict[str, Any]:
    """A small document: monthly series ending 2025-06, EUR."""
    rows = [{"period_label": "2025-05"}, {"period_label": "2025-06"}]
    return {
        "currency": "EUR",
        "window": {"start": "2025-01-01", "end": "2025-06-30"},
        "kpis": {"orders": 2000},
        "series": {"columns": ["period_label"], "rows": rows},
        **parts,
    }


SHARE = {
    "period": "2025-05",
    "value": 0.412,
    "n": 1830,
    # +3.1 points, interval +1.0 to +5.2: significant
    "previous": _comparison("2025-04", 0.381, 0.031, 0.010, 0.052),
    # -0.4 points, interval -2.9 to +2.1: not significant
    "year_earlier": _comparison("2024-05", 0.416, -0.004, -0.029, 0.021),
}


def test_significant_trend_is_a_finding_with_its_n_and_interval() -> None:
    (found,) = [
        f for f in findings(_doc(trends={"online_order_share": SHARE})) if f["kind"] == "trend"
    ]
    assert found["sentence"] == (
        "Online order share rose 3.1 points in 2025-05 against 2025-04 (the period before), "
        "from 38.1% to 41.2% (n = 1,830 orders that count, "
        "95% interval of the change +1.0 to +5.2)."
    )
    assert (found["n"], found["period"], found["base_period"]) == (1830, "2025-05", "2025-04")
    assert (found["low"], found["high"]) == (0.010, 0.052)
    # effect: 0.031 / 0.381
    assert abs(found["effect"] - 0.031 / 0.381) < 1e-12


def test_insignificant_and_immature_changes_never_qualify() -> None:
    quiet = {**SHARE, "previous": _comparison("2025-04", 0.381, 0.031, -0.002, 0.064)}
    doc = _doc(trends={"online_order_share": quiet})
    assert [f for f in findings(doc) if f["kind"] == "trend"] == []
    immature = {**SHARE, "mature": False}
    assert [
        f for f in findings(_doc(trends={"online_order_share": immature})) if f["kind"] == "trend"
    ] == []


def test_fallback_says_no_clear_change_with_n() -> None:
    quiet = {**SHARE, "previous": _comparison("2025-04", 0.381, 0.031, -0.002, 0.064)}
    (found,) = findings(_doc(trends={"online_order_share": quiet}))
    assert found["kind"] == "no_clear_change"
    assert found["sentence"] == (
        "Online order share: no clear change in 2025-05 against 2025-04 "
        "(n = 1,830 orders that count)."
    )


def test_accounts_sentences_and_money_first_ranking() -> None:
    accounts = {
        "reverted": {"count": 12, "revenue_at_stake": 184000.0, "median_days": 34},
        "overdue": {"count": 40, "revenue_at_stake": 520000.0},
        "lapsed": {"count": 1, "revenue_at_stake": 900.0},
        "reactivated": {"count": 0, "revenue_at_stake": 0.0},
    }
    out = findings(_doc(accounts=accounts, trends={"online_order_share": SHARE}))
    assert [(f["kind"], f["subject"]) for f in out] == [
        ("accounts", "overdue"),  # 520,000 at stake
        ("accounts", "reverted"),  # 184,000
        ("accounts", "lapsed"),  # 900
        ("trend", "online_order_share"),  # no money: after every amount
    ]
    assert out[1]["sentence"] == (
        "12 accounts with 184,000 EUR of revenue at stake went back to ordering offline "
        "after trying the webshop (median 34 days)."
    )
    assert out[2]["sentence"] == (
        "1 account that ordered in 2025-05 did not order in 2025-06 (900 EUR of revenue at stake)."
    )


def test_bridge_only_when_the_revenue_change_is_significant() -> None:
    bridge = {
        "previous": {
            "period": "2025-05",
            "base_period": "2025-04",
            "revenue": 90000.0,
            "base_revenue": 100000.0,
            "change": -10000.0,
            "parts": {"customers": -12000.0, "orders_per_customer": 500.0, "aov": 1500.0},
        },
        "year_earlier": None,
    }
    revenue = {
        "period": "2025-05",
        "value": 90000.0,
        "n": 700,
        "previous": _comparison("2025-04", 100000.0, -10000.0, -15000.0, -5000.0),
        "year_earlier": None,
    }
    out = findings(_doc(bridge=bridge, trends={"net_revenue": revenue}))
    # the bridge stands for net revenue: no second finding on the same change
    assert [f["kind"] for f in out] == ["bridge"]
    assert out[0]["sentence"] == (
        "Net revenue fell 10,000 EUR in 2025-05 against 2025-04 (the period before, "
        "n = 700 orders, 95% interval of the change -15,000 EUR to -5,000 EUR): "
        "-12,000 EUR from the number of customers, +1,500 EUR from average order value, "
        "+500 EUR from orders per customer."
    )
    assert (out[0]["amount"], out[0]["low"], out[0]["high"]) == (10000.0, -15000.0, -5000.0)
    weak = {**revenue, "previous": _comparison("2025-04", 100000.0, -10000.0, -25000.0, 5000.0)}
    assert "bridge" not in [
        f["kind"] for f in findings(_doc(bridge=bridge, trends={"net_revenue": weak}))
    ]


def test_sales_effort_and_the_cap() -> None:
    effort = {
        "offline_order_minutes": 12,
        "hours": 250.0,
        "small_order_hours": 180.0,
        "orders_moved_online": 1250.0,
        "by_period": [],
    }
    (found,) = findings(_doc(sales_effort=effort))
    # 1,250 orders x 12 minutes = 250 hours
    assert found["sentence"] == (
        "Orders that moved online freed about 250 hours of the sales team's time from "
        "2025-01-01 to 2025-06-30 (180 of them from small orders): 1,250 orders at 12 minutes each."
    )
    many = {
        name: {"count": 3, "revenue_at_stake": 10.0 * i}
        for i, name in enumerate(
            ["reverted", "overdue", "lapsed", "reactivated", "adopters"], start=1
        )
    }
    trends = {"online_order_share": SHARE, "csat": {**SHARE, "n": 50}}
    out = findings(_doc(accounts=many, trends=trends, sales_effort=effort))
    assert len(out) == MOST >= FEWEST
    assert [f["amount"] for f in out[:5]] == [50.0, 40.0, 30.0, 20.0, 10.0]


def test_a_bare_document_gives_no_findings() -> None:
    assert findings({"currency": "EUR"}) == []


def test_one_finding_per_kpi_the_larger_change_first() -> None:
    both = {
        **SHARE,
        # a year earlier: +5.0 points, interval +2.0 to +8.0 (more than the +3.1 of the month)
        "year_earlier": _comparison("2024-05", 0.362, 0.050, 0.020, 0.080),
    }
    (found,) = [
        f for f in findings(_doc(trends={"online_order_share": both})) if f["kind"] == "trend"
    ]
    assert found["base_period"] == "2024-05"
    assert "(a year earlier)" in found["sentence"]
