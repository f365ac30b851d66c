"""The sentences and scorecard of the pages (:mod:`b2b_analysis.narrative`)."""

from __future__ import annotations

import math

from b2b_analysis import narrative


def _doc(january: int, february: int) -> dict[str, object]:
    """A document written before ``trends`` existed: orders per month, March partial."""
    return {
        "currency": "EUR",
        "period": "month",
        "window": {"start": "2024-01-01", "end": "2024-03-10"},
        "kpis": {"orders": january + february + 1, "nps": None},
        "notes": {"nps": "no <b>surveys</b> table"},
        "series": {
            "columns": ["orders"],
            "rows": [
                {
                    "period": 24288,
                    "period_label": "2024-01",
                    "orders": january,
                    "is_partial": False,
                },
                {
                    "period": 24289,
                    "period_label": "2024-02",
                    "orders": february,
                    "is_partial": False,
                },
                {"period": 24290, "period_label": "2024-03", "orders": 1, "is_partial": True},
            ],
        },
    }


def test_scorecard_escapes_and_explains() -> None:
    page = narrative.scorecard_html(_doc(40, 70), keys=["orders", "nps"])
    assert "<b>surveys</b>" not in page and "&lt;b&gt;surveys&lt;/b&gt;" in page
    # 40 -> 70 orders: 30 -/+ 1.96 sqrt(110) = +9.4 to +50.6; the partial March is ignored
    assert (
        round(30 - 1.959964 * math.sqrt(110)) == 9 and round(30 + 1.959964 * math.sqrt(110)) == 51
    )
    assert 'class="up good"' in page
    assert "Orders: 70 in 2024-02; up 30 on 2024-01 (95% interval +9 to +51)" in page
    # the last period's value and the window's value sit in their own columns
    assert (
        '<td class="value">70 (2024-02)</td>' in page
        and '<td class="value window" data-label="Window">111</td>' in page
    )


def test_no_arrow_for_a_change_within_its_uncertainty() -> None:
    # 4 -> 6 orders: 2 -/+ 1.96 sqrt(10) includes 0
    page = narrative.scorecard_html(_doc(4, 6), keys=["orders"])
    assert 'class="up' not in page and '<span class="neutral">' in page
    assert "Orders: 6 in 2024-02; no clear change on 2024-01;" in page


def test_retention_story_leads_the_scorecard() -> None:
    assert narrative.SCORECARD_KEYS[:4] == (
        "period_retention_rate",
        "customer_retention_rate",
        "online_retention_rate",
        "reverted_to_offline_share",
    )
    doc = {
        "currency": "EUR",
        "window": {"start": "2024-01-01", "end": "2024-03-31"},
        "kpis": {"customer_retention_rate": 0.97},
        "intervals": {"customer_retention_rate": {"n": 930, "low": 0.95, "high": 0.98}},
        "notes": {},
        "trends": {},
    }
    page = narrative.scorecard_html(doc, keys=["customer_retention_rate"])
    assert '<td class="label">Repeat rate over the window</td>' in page
    assert narrative.kpi_sentence(doc, "customer_retention_rate") == (
        "Repeat rate over the window 2024-01-01 to 2024-03-31: 97.0% of 930 customers; the "
        "articles' customer retention rate: customers with 2+ orders in the window / customers "
        "with 1+, not a rate per period."
    )
