"""The sentences and scorecard of the pages (:mod:`b2b_analysis.narrative`)."""

from __future__ import annotations

from b2b_analysis import narrative


def test_scorecard_escapes_and_explains() -> None:
    doc = {
        "currency": "EUR",
        "window": {"start": "2024-01-01", "end": "2024-03-31"},
        "kpis": {"orders": 10, "nps": None},
        "notes": {"nps": "no <b>surveys</b> table"},
        "series": {
            "columns": ["orders"],
            "rows": [
                {"period_label": "2024-01", "orders": 4, "is_partial": False},
                {"period_label": "2024-02", "orders": 6, "is_partial": False},
                {"period_label": "2024-03", "orders": 1, "is_partial": True},
            ],
        },
    }
    page = narrative.scorecard_html(doc, keys=["orders", "nps"])
    assert "<b>surveys</b>" not in page and "&lt;b&gt;surveys&lt;/b&gt;" in page
    assert 'class="up good"' in page  # 4 -> 6; the partial March is ignored
    assert "up 2 in 2024-02 against 2024-01" in page
