"""The scorecard: headline KPIs, a trend arrow each, and one sentence from the numbers.

Works from :meth:`KpiReport.to_dict` (or the report itself), so the same code
renders a notebook cell, a client's ``index.html`` and the portfolio page from
``kpis.json``. Every value put into HTML is escaped.

Trends come from the document's ``trends`` (:mod:`b2b_analysis.trends`): the last
complete, mature period against the one before and the same period a year earlier.
An arrow is drawn only for a change whose 95 % interval excludes 0; otherwise the
sentence says there is no clear change. A row's value is that last period's value
(with its label); the window's value is a column of its own, never set against a
one-period change.
"""

from __future__ import annotations

from typing import Any

from b2b_analysis import i18n
from b2b_analysis.kpis import KpiReport
from b2b_analysis.periods import Calendar
from b2b_analysis.registry import KPIS, REGISTRY, SERIES_KPIS
from b2b_analysis.trends import N_NOUNS, YEAR_PERIODS, compare, headline_immature

__all__ = [
    "SCORECARD_KEYS",
    "Scorecard",
    "format_value",
    "kpi_sentence",
    "scorecard",
    "scorecard_html",
    "trend",
    "trends_of",
]

#: The retention story, in the scorecard's order: period-over-period retention leads,
#: then the window's repeat rate (the articles' "customer retention"), then online
#: retention and reverting to offline with their maturity.
RETENTION_KEYS = (
    "period_retention_rate",
    "customer_retention_rate",
    "online_retention_rate",
    "reverted_to_offline_share",
)
#: The scorecard's rows by default: the retention story, then the other headline KPIs.
SCORECARD_KEYS: tuple[str, ...] = (*RETENTION_KEYS, *(k for k in KPIS if k not in RETENTION_KEYS))
#: Scorecard labels that say more than the registry's.
SCORECARD_LABELS = {
    "customer_retention_rate": "scorecard.repeat_rate",
}
#: KPIs the scorecard presents by their window value only (no period, no arrow), with
#: the catalogue entry of what the sentence says they are.
WINDOW_ONLY = {
    "customer_retention_rate": "sentence.window_only.customer_retention_rate",
}


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


def _signed(value: float, unit: str, currency: str = "", locale: str = i18n.DEFAULT) -> str:
    """A bound of a change's interval, signed, in the KPI's unit (rates in points); an
    amount carries its currency except in the default locale (the bounds' end does)."""
    if unit == "rate":
        return i18n.format_signed(value * 100, locale, 1)
    if unit == "money" and locale != i18n.DEFAULT:
        return ("-" if value < 0 else "+") + i18n.format_money(abs(value), currency, locale)
    digits = {"money": 2, "count": 0}.get(unit, 1)
    return i18n.format_signed(value, locale, digits)


def _bounds(comparison: dict[str, Any], unit: str, currency: str, locale: str) -> str:
    """The 95 % interval of a change: ``+17 to +63``, ``+1.20 to +3.40 EUR``."""
    low, high = (_signed(comparison[k], unit, currency, locale) for k in ("low", "high"))
    bounds = i18n.text("sentence.bounds", locale, low=low, high=high)
    if unit == "money" and locale == i18n.DEFAULT:
        bounds += f" {currency}".rstrip()
    return bounds


def _change_text(change: float, unit: str, currency: str, locale: str = i18n.DEFAULT) -> str:
    size = abs(change)
    if unit == "rate":
        return i18n.text("unit.points", locale, n=i18n.format_decimal(size * 100, locale, 1))
    if unit == "money":
        return i18n.format_money(size, currency, locale)
    if unit == "count":
        return i18n.format_count(round(size), locale)
    return i18n.format_decimal(size, locale, 1)


def trends_of(doc: dict[str, Any]) -> dict[str, Any]:
    """The document's ``trends`` (:func:`b2b_analysis.trends.compare`); for a document
    written before they existed, computed from its series (money KPIs then have no
    interval: the sums of squares are not in the series)."""
    if "trends" in doc:
        return doc["trends"] or {}
    series = doc.get("series") or {}
    rows = series.get("rows") or []
    if not rows or "period" not in rows[0] or doc.get("period") not in YEAR_PERIODS:
        return {}
    keys = [k for k in SERIES_KPIS if k in series.get("columns", [])]
    return compare(rows, Calendar(doc["period"]), keys)


def trend(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The trend of ``key``: its last complete, mature period (``period``, ``value``,
    ``n``) against the period before (``previous``) and a year earlier
    (``year_earlier``), each with ``change``, its 95 % interval (``low``, ``high``),
    ``significant``, ``direction`` and ``tone``; ``None`` without such a period."""
    found: dict[str, Any] | None = trends_of(doc).get(key)
    return found


#: What a scorecard cell without a value shows (the template's empty-trend mark).
NONE = "\u2013"
_ARROWS = {"up": "\u25b2", "down": "\u25bc", "flat": "\u25b6"}


#: The words before a sample size, by the KPI's interval kind (other kinds: "from").
_N_WORDS = {"wilson": "sentence.n.of", None: "sentence.n.over"}
#: The clause when a comparison has no period to compare with.
_NOTHING_TO_COMPARE = {
    "previous": "sentence.previous.none",
    "year_earlier": "sentence.year_earlier.none",
}


def _n_text(key: str, n: Any, locale: str = i18n.DEFAULT) -> str:
    """The sample size: " of 1,830 orders" (a proportion), " over 1,830 orders" (money),
    " from 80 answers" (a score or median); nothing for a count (it is its own n)."""
    info = REGISTRY[key]
    if n is None or info.unit == "count":
        return ""
    if key in N_NOUNS:
        noun = i18n.worded(f"n.{key}", N_NOUNS[key], locale)
    else:
        noun = i18n.text("n.cases", locale)
    words = _N_WORDS.get(info.interval, "sentence.n.from")
    return " " + i18n.text(words, locale, n=i18n.format_count(int(n), locale), noun=noun)


def _comparison_text(
    key: str, comparison: dict[str, Any] | None, which: str, currency: str, locale: str
) -> str:
    """One clause on a comparison (``which``: ``previous`` or ``year_earlier``): a change
    only when its interval excludes 0."""
    unit = REGISTRY[key].unit
    if comparison is None:
        return i18n.text(_NOTHING_TO_COMPARE[which], locale)
    period = comparison["period"]
    size = _change_text(comparison["change"], unit, currency, locale)
    if comparison["low"] is None or comparison["high"] is None:
        return i18n.text(
            "sentence.untested." + comparison["direction"], locale, size=size, period=period
        )
    if not comparison["significant"]:
        return i18n.text("sentence.no_clear_change", locale, period=period)
    bounds = _bounds(comparison, unit, currency, locale)
    return i18n.text(
        "sentence.change." + comparison["direction"],
        locale,
        size=size,
        period=period,
        bounds=bounds,
    )


def _immature_text(doc: dict[str, Any], key: str, locale: str = i18n.DEFAULT) -> str:
    """The clause naming the KPI's immature periods, or ``""``."""
    entry = (doc.get("maturity") or {}).get("kpis", {}).get(key) or {}
    periods = entry.get("immature_periods") or []
    if not periods:
        return ""
    days = entry.get("follow_up_days")
    if days is not None and locale != i18n.DEFAULT:
        days = i18n.format_count(days, locale)
    if len(periods) == 1:
        return i18n.text("sentence.immature.one", locale, period=periods[0], days=days)
    return i18n.text(
        "sentence.immature.span", locale, first=periods[0], last=periods[-1], days=days
    )


def _date(value: Any, locale: str) -> str:
    """A window's date as the locale writes it (``None`` as such)."""
    return str(value) if value is None else i18n.format_date(str(value), locale)


def _window_span(doc: dict[str, Any], key: str, value: Any, locale: str) -> str:
    """The window and its value: ``2024-01-01 to 2024-03-31: 120`` (and its sample size,
    and whether immature periods are in it)."""
    info, window = REGISTRY[key], doc.get("window", {})
    n = (doc.get("intervals") or {}).get(key, {}).get("n")
    span = i18n.text(
        "sentence.window.span",
        locale,
        start=_date(window.get("start"), locale),
        end=_date(window.get("end"), locale),
        value=format_value(value, info.unit, doc.get("currency", ""), locale),
        n=_n_text(key, n, locale),
    )
    if headline_immature(doc, key):
        span += " " + i18n.text("sentence.immature_included", locale)
    return span


def kpi_sentence(doc: dict[str, Any], key: str) -> str:
    """One plain sentence on ``key``, written from the numbers (no HTML): the last
    complete, mature period's value and its sample size, its change on the period before
    and on the same period a year earlier (a change only when its 95 % interval excludes
    0, else "no clear change"), the immature periods left out, and the window's value.

    >>> doc = {"currency": "EUR", "window": {"start": "2024-01-01", "end": "2024-03-31"},
    ...        "kpis": {"orders": 120}, "notes": {}, "trends": {"orders": {
    ...            "period": "2024-03", "value": 90, "n": 90, "year_earlier": None,
    ...            "previous": {"period": "2024-02", "value": 50, "n": 50, "change": 40,
    ...                "low": 17.2, "high": 62.8, "significant": True, "direction": "up",
    ...                "tone": "good"}}}}
    >>> kpi_sentence(doc, "orders")  # doctest: +NORMALIZE_WHITESPACE
    'Orders: 90 in 2024-03; up 40 on 2024-02 (95% interval +17 to +63); no year-earlier
     period to compare; over the window 2024-01-01 to 2024-03-31: 120.'
    >>> kpi_sentence({**doc, "kpis": {"nps": None}, "notes": {"nps": "no surveys"}}, "nps")
    'NPS is not available: no surveys.'
    """
    info = REGISTRY[key]
    currency = doc.get("currency", "")
    locale = doc.get("locale", i18n.DEFAULT)
    value = doc["kpis"].get(key) if info.headline else None
    entry = trend(doc, key) if key not in WINDOW_ONLY else None
    if key in WINDOW_ONLY and value is not None:
        return i18n.text(
            "sentence.window_only",
            locale,
            label=i18n.text(SCORECARD_LABELS[key], locale),
            span=_window_span(doc, key, value, locale),
            what=i18n.text(WINDOW_ONLY[key], locale),
        )
    label = i18n.kpi_label(key, locale)
    if value is None and entry is None:
        notes = doc.get("notes", {})
        reason = notes[key] if key in notes else i18n.text("sentence.no_period", locale)
        return i18n.text("sentence.unavailable", locale, label=label, reason=reason)
    parts = []
    if entry is not None:
        shown = format_value(entry["value"], info.unit, currency, locale)
        n = _n_text(key, entry["n"], locale)
        parts += [
            i18n.text("sentence.value", locale, value=shown, n=n, period=entry["period"]),
            *(
                _comparison_text(key, entry[which], which, currency, locale)
                for which in ("previous", "year_earlier")
            ),
        ]
    parts.append(_immature_text(doc, key, locale))
    if value is not None:
        span = _window_span(doc, key, value, locale)
        parts.append(i18n.text("sentence.window", locale, span=span))
    return i18n.text("sentence.kpi", locale, label=label, parts="; ".join(p for p in parts if p))


def _arrow(
    doc: dict[str, Any], key: str, unit: str, currency: str, locale: str = i18n.DEFAULT
) -> dict[str, str] | None:
    """The trend arrow of one scorecard row: only for a significant change of the last
    complete, mature period on the one before (its direction, tone, symbol, title)."""
    entry = trend(doc, key) if key not in WINDOW_ONLY else None
    change = entry["previous"] if entry else None
    if entry is None or change is None or not change["significant"]:
        return None
    title = (
        f"{entry['period']}: {format_value(entry['value'], unit, currency, locale)}; "
        f"{change['period']}: {format_value(change['value'], unit, currency, locale)}"
    )
    direction = change["direction"]
    return {
        "direction": direction,
        "tone": change["tone"],
        "symbol": _ARROWS[direction],
        "title": title,
    }


def _scorecard_row(doc: dict[str, Any], key: str) -> dict[str, Any]:
    info = REGISTRY[key]
    currency = doc.get("currency", "")
    locale = doc.get("locale", i18n.DEFAULT)
    value = doc["kpis"].get(key) if info.headline else None
    entry = trend(doc, key) if key not in WINDOW_ONLY else None
    last, period = NONE, None
    if entry is not None:
        last, period = format_value(entry["value"], info.unit, currency, locale), entry["period"]
    window = format_value(value, info.unit, currency, locale) if info.headline else NONE
    if value is not None and headline_immature(doc, key):
        window += " " + i18n.text("scorecard.immature", locale)
    label = i18n.kpi_label(key, locale)
    if key in SCORECARD_LABELS:
        label = i18n.text(SCORECARD_LABELS[key], locale)
    return {
        "key": key,
        "label": label,
        "value": last,
        "period": period,
        "window": window,
        "arrow": _arrow(doc, key, info.unit, currency, locale),
        "sentence": kpi_sentence(doc, key),
    }


def scorecard_html(
    report: KpiReport | dict[str, Any], *, keys: list[str] | None = None, css: bool = True
) -> str:
    """The scorecard table (HTML from ``templates/pages/scorecard.html.j2``; every
    value escaped), preceded by its ``<style>`` unless ``css`` is false."""
    from b2b_analysis.templating import render

    doc = _doc(report)
    rows = [_scorecard_row(doc, key) for key in keys or SCORECARD_KEYS]
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
        return "\n".join(kpi_sentence(self.doc, k) for k in self.keys or SCORECARD_KEYS)


def scorecard(report: KpiReport | dict[str, Any], *, keys: list[str] | None = None) -> Scorecard:
    """The scorecard of one client, for display in a notebook."""
    return Scorecard(_doc(report), keys)
