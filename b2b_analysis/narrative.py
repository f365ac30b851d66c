"""The scorecard: headline KPIs, a trend arrow each, and one sentence from the numbers.

Works from :meth:`KpiReport.to_dict` (or the report itself), so the same code
renders a notebook cell, a client's ``index.html`` and the portfolio page from
``kpis.json``. Every value put into HTML is escaped.

The trend compares the last complete period of the series with the one before
(a partial period, cut by the window, is skipped: it would always look like a
drop).
"""

from __future__ import annotations

from typing import Any

from b2b_analysis import i18n
from b2b_analysis.kpis import KpiReport
from b2b_analysis.registry import KPIS, REGISTRY

__all__ = [
    "Scorecard",
    "format_value",
    "kpi_sentence",
    "scorecard",
    "scorecard_html",
    "trend",
]

#: Relative changes smaller than this count as flat.
FLAT = 0.005


def _doc(report: KpiReport | dict[str, Any]) -> dict[str, Any]:
    return report.to_dict() if isinstance(report, KpiReport) else report


def format_value(value: Any, unit: str, currency: str = "", locale: str = i18n.DEFAULT) -> str:
    """A KPI value for people: rates as %, money with the currency, counts grouped,
    written as ``locale`` writes numbers (:mod:`b2b_analysis.i18n`).

    >>> format_value(0.4567, "rate"), format_value(1234.5, "money", "EUR")
    ('45.7%', '1,234.50 EUR')
    >>> format_value(None, "count"), format_value(-12.0, "score")
    ('n/a', '-12.0')
    >>> format_value(1234.5, "money", "EUR", "de-DE"), format_value(0.4567, "rate", "", "es-ES")
    ('1.234,50\xa0€', '45,7\xa0%')
    """
    if value is None:
        return i18n.text("value.missing", locale)
    if unit == "rate":
        return i18n.format_percent(value, locale)
    if unit == "money":
        return i18n.format_money(value, currency, locale)
    if unit == "count":
        return i18n.format_count(value, locale)
    if unit == "days":
        return i18n.text("unit.days", locale, n=i18n.format_decimal(value, locale, 0))
    return i18n.format_decimal(value, locale, 1)


def _change_text(change: float, unit: str, currency: str, locale: str = i18n.DEFAULT) -> str:
    size = abs(change)
    if unit == "rate":
        return f"{i18n.format_decimal(size * 100, locale, 1)} points"
    if unit == "money":
        return i18n.format_money(size, currency, locale)
    if unit == "count":
        return i18n.format_count(round(size), locale)
    return i18n.format_decimal(size, locale, 1)


def trend(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Change of ``key`` between the last two complete periods of the series.

    Returns ``None`` when the series lacks the KPI or two complete periods with a
    value; else ``label``, ``previous_label``, ``value``, ``previous``, ``change``,
    ``direction`` (up / down / flat) and ``tone`` (good / bad / neutral).
    """
    series = doc.get("series") or {}
    rows = [r for r in series.get("rows", []) if not r.get("is_partial")]
    rows = [r for r in rows if r.get(key) is not None]
    if len(rows) < 2 or key not in series.get("columns", []):
        return None
    last, prev = rows[-1], rows[-2]
    change = last[key] - prev[key]
    scale = abs(prev[key]) if prev[key] else 1.0
    kpi = REGISTRY[key]
    flat = abs(change) < (FLAT if kpi.unit == "rate" else FLAT * scale)
    direction = "flat" if flat else ("up" if change > 0 else "down")
    if direction == "flat" or kpi.direction == "neutral":
        tone = "neutral"
    else:
        good = (direction == "up") == (kpi.direction == "higher")
        tone = "good" if good else "bad"
    return {
        "label": last.get("period_label"),
        "previous_label": prev.get("period_label"),
        "value": last[key],
        "previous": prev[key],
        "change": change,
        "direction": direction,
        "tone": tone,
    }


_ARROWS = {"up": "\u25b2", "down": "\u25bc", "flat": "\u25b6"}


def kpi_sentence(doc: dict[str, Any], key: str) -> str:
    """One plain sentence on ``key``, written from the numbers (no HTML).

    >>> doc = {"currency": "EUR", "window": {"start": "2024-01-01", "end": "2024-03-31"},
    ...        "kpis": {"orders": 120}, "notes": {}, "series": {"columns": ["orders"],
    ...        "rows": [{"period_label": "2024-02", "orders": 40, "is_partial": False},
    ...                 {"period_label": "2024-03", "orders": 50, "is_partial": False}]}}
    >>> kpi_sentence(doc, "orders")
    'Orders: 120 from 2024-01-01 to 2024-03-31; up 10 in 2024-03 against 2024-02.'
    >>> kpi_sentence({**doc, "kpis": {"nps": None}, "notes": {"nps": "no surveys"}}, "nps")
    'NPS is not available: no surveys.'
    """
    info = KPIS[key]
    currency = doc.get("currency", "")
    value = doc["kpis"].get(key)
    if value is None:
        reason = doc.get("notes", {}).get(key, "no data")
        return f"{info.label} is not available: {reason}."
    window = doc.get("window", {})
    text = (
        f"{info.label}: {format_value(value, info.unit, currency)} "
        f"from {window.get('start')} to {window.get('end')}"
    )
    change = trend(doc, key)
    if change is None:
        return text + "."
    if change["direction"] == "flat":
        return text + f"; about level in {change['label']} against {change['previous_label']}."
    amount = _change_text(change["change"], info.unit, currency)
    return text + (
        f"; {change['direction']} {amount} in {change['label']} against {change['previous_label']}."
    )


def _arrow(
    doc: dict[str, Any], key: str, unit: str, currency: str, locale: str = i18n.DEFAULT
) -> dict[str, str] | None:
    """The trend arrow of one scorecard row: direction, tone, symbol and a title."""
    change = trend(doc, key)
    if change is None:
        return None
    title = (
        f"{change['label']}: {format_value(change['value'], unit, currency, locale)}; "
        f"{change['previous_label']}: {format_value(change['previous'], unit, currency, locale)}"
    )
    direction = change["direction"]
    return {
        "direction": direction,
        "tone": change["tone"],
        "symbol": _ARROWS[direction],
        "title": title,
    }


def _scorecard_row(doc: dict[str, Any], key: str) -> dict[str, Any]:
    info = KPIS[key]
    currency = doc.get("currency", "")
    locale = doc.get("locale", i18n.DEFAULT)
    value = doc["kpis"].get(key)
    return {
        "key": key,
        "label": i18n.kpi_label(key, locale),
        "value": format_value(value, info.unit, currency, locale),
        "arrow": _arrow(doc, key, info.unit, currency, locale) if value is not None else None,
        "sentence": kpi_sentence(doc, key),
    }


def scorecard_html(
    report: KpiReport | dict[str, Any], *, keys: list[str] | None = None, css: bool = True
) -> str:
    """The scorecard table (HTML from ``templates/pages/scorecard.html.j2``; every
    value escaped), preceded by its ``<style>`` unless ``css`` is false."""
    from b2b_analysis.templating import render

    doc = _doc(report)
    rows = [_scorecard_row(doc, key) for key in keys or list(KPIS)]
    locale = doc.get("locale", i18n.DEFAULT)
    return render(
        "pages/scorecard.html.j2",
        css=css,
        rows=rows,
        t=lambda key: i18n.text(key, locale),
    )


class Scorecard:
    """Notebook display of the scorecard (``_repr_html_``) with a text fallback."""

    def __init__(self, doc: dict[str, Any], keys: list[str] | None = None) -> None:
        self.doc = doc
        self.keys = keys

    def _repr_html_(self) -> str:
        return scorecard_html(self.doc, keys=self.keys)

    def __repr__(self) -> str:
        return "\n".join(kpi_sentence(self.doc, k) for k in self.keys or list(KPIS))


def scorecard(report: KpiReport | dict[str, Any], *, keys: list[str] | None = None) -> Scorecard:
    """The scorecard of one client, for display in a notebook."""
    return Scorecard(_doc(report), keys)
