"""The run's own pages: a client's ``index.html`` and the portfolio ``index.html``.

Both are rendered from ``templates/pages/`` with the stylesheet's ``page`` part;
this module only prepares the values they show (formatted, not yet escaped: the
templates escape every value). A client's page is written in the client's
``locale`` (:mod:`b2b_analysis.i18n`); the portfolio page, which sets clients side
by side, in the default one, each amount in its client's currency.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from b2b_analysis import i18n
from b2b_analysis.report.contents import NOTEBOOKS, PORTFOLIO_KPIS
from b2b_analysis.report.results import ClientResult
from b2b_analysis.templating import chart_script, render

__all__ = ["account_sections", "client_page", "notebook_title", "portfolio_page"]

#: Units whose values are comparable across clients (amounts are in each client's currency).
COMPARABLE = ("rate", "score")


def notebook_title(name: str, locale: str = i18n.DEFAULT) -> str:
    """The title of a notebook page in the client's language."""
    if name not in NOTEBOOKS:
        return name
    return i18n.text(f"page.{name}", locale)


def _page_state(result: ClientResult, name: str) -> str:
    """``ok``, ``failed`` (its page shows where) or ``not run`` (no page)."""
    if name not in result.notebooks:
        return "not run"
    return "ok" if result.notebooks[name].ok else "failed"


def _meta(doc: dict[str, Any], locale: str) -> str | None:
    """The window line of a client page, or None when the KPIs are not there."""
    window = doc.get("window") or {}
    if not window.get("start") or not window.get("end") or not doc.get("period"):
        return None
    return i18n.text(
        "header.window",
        locale,
        start=i18n.format_date(str(window["start"]), locale),
        end=i18n.format_date(str(window["end"]), locale),
        series=i18n.text(f"header.series.{doc['period']}", locale),
        currency=str(doc.get("currency", "")),
    )


def client_page(result: ClientResult) -> str:
    """A client's ``index.html``: its window (and the rows left outside it), problems,
    pages and scorecard; when the KPI step failed, one sentence saying so and where
    to look."""
    from b2b_analysis.accounts import TOP
    from b2b_analysis.kpis import OUTSIDE_WINDOW
    from b2b_analysis.narrative import scorecard_html

    doc = result.kpis or {}
    locale = str(doc.get("locale", i18n.DEFAULT))
    notes = doc.get("notes", {})
    pages = [
        {"name": name, "title": notebook_title(name, locale), "state": _page_state(result, name)}
        for name in NOTEBOOKS
    ]
    params = str(result.params_path) if str(result.params_path) not in ("", ".") else ""
    return render(
        "pages/client.html.j2",
        lang=i18n.language(locale),
        t=lambda key, **fields: i18n.text(key, locale, **fields),
        client=result.client,
        meta=_meta(doc, locale),
        window_notes=[notes[name] for name in OUTSIDE_WINDOW if name in notes],
        kpis_failed=result.kpis is None,
        params=params,
        problems=result.problems(),
        pages=pages,
        scorecard=Markup(scorecard_html(doc, css=False)) if doc.get("kpis") else None,
        findings=[finding["sentence"] for finding in doc.get("findings") or []],
        accounts=account_sections(doc),
        accounts_top=TOP,
    )


def _list_heading(entry: dict[str, Any], title: str, currency: str, locale: str) -> str:
    """``Reverted to offline: 2 accounts, 750.00 EUR a year (median 16 days to revert)``."""
    from b2b_analysis.narrative import format_value

    heading = i18n.text(
        "accounts.list_heading",
        locale,
        title=title,
        count=i18n.plural("accounts.count", entry["count"], locale),
        stake=format_value(entry["revenue_at_stake"], "money", currency, locale),
    )
    median = entry.get("median_days")
    if median is not None:
        days = format_value(median, "days", "", locale)
        heading += " " + i18n.text("accounts.median", locale, days=days)
    return heading


def account_sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The "Accounts to call" section of a client's page, in the client's ``locale``:
    per account list of the document's ``accounts`` (none for a ``kpis.json`` without
    it), its heading (title, count, revenue at stake), description and its top accounts
    as rows of formatted cells."""
    from b2b_analysis.accounts import COLUMNS, LISTS, cell_text

    found = doc.get("accounts") or {}
    currency = str(doc.get("currency", ""))
    locale = str(doc.get("locale", i18n.DEFAULT))
    sections = []
    for name, kind in LISTS.items():
        if name not in found:
            continue
        entry = found[name]
        top = entry.get("top", [])
        columns = list(top[0]) if top else []
        title = i18n.worded(f"accounts.title.{name}", kind.title, locale)
        sections.append(
            {
                "name": name,
                "heading": _list_heading(entry, title, currency, locale),
                "description": i18n.worded(
                    f"accounts.description.{name}", kind.description, locale
                ),
                "headers": [
                    i18n.worded(f"accounts.column.{c}", COLUMNS[c][0], locale) for c in columns
                ],
                "numeric": [COLUMNS[c][1] not in ("text", "date") for c in columns],
                "rows": [
                    [cell_text(row[c], COLUMNS[c][1], locale) for c in columns] for row in top
                ],
            }
        )
    return sections


def _cell(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """One portfolio cell: the formatted value, its number (to sort by), and why it is
    missing (as its title). Amounts are whole, in the client's currency."""
    from b2b_analysis.narrative import format_value
    from b2b_analysis.registry import KPIS

    value = doc["kpis"].get(key)
    note = doc.get("notes", {}).get(key, "")
    unit = KPIS[key].unit
    currency = doc.get("currency", "")
    if unit == "money" and value is not None:
        shown = i18n.format_money(value, currency, i18n.DEFAULT, digits=0)
    else:
        shown = format_value(value, unit, currency)
    return {
        "key": key,
        "value": shown,
        "sort": "" if value is None else repr(float(value)),
        "title": note if value is None else "",
    }


def _status(result: ClientResult) -> str:
    if result.ok:
        return "ok"
    return "failed" if result.kpis is None else "incomplete"


def _row(result: ClientResult) -> dict[str, Any]:
    doc = result.kpis or {"kpis": {}, "currency": ""}
    return {
        "slug": result.slug,
        "client": result.client,
        "ok": result.ok,
        "status": _status(result),
        "cells": [_cell(doc, key) for key in PORTFOLIO_KPIS],
    }


def _strip(key: str, results: Sequence[ClientResult]) -> dict[str, Any] | None:
    """One KPI across clients: each client's position between the portfolio's lowest
    and highest value (0-100), and the median's; None with fewer than two values."""
    from b2b_analysis.narrative import format_value
    from b2b_analysis.registry import KPIS

    unit = KPIS[key].unit
    values = [
        (r, float(r.kpis["kpis"][key]))
        for r in results
        if r.kpis and r.kpis.get("kpis", {}).get(key) is not None
    ]
    if len(values) < 2:
        return None
    lo, hi = min(v for _, v in values), max(v for _, v in values)
    median = statistics.median(v for _, v in values)

    def at(v: float) -> float:
        return 50.0 if hi == lo else round(100 * (v - lo) / (hi - lo), 1)

    return {
        "key": key,
        "label": KPIS[key].label,
        "better": KPIS[key].direction,
        "low": format_value(lo, unit),
        "high": format_value(hi, unit),
        "median": format_value(median, unit),
        "median_at": at(median),
        "dots": [
            {
                "slug": r.slug,
                "client": r.client,
                "at": at(v),
                "end": "start" if at(v) < 15 else "end" if at(v) > 85 else "",
                "value": format_value(v, unit),
            }
            for r, v in values
        ],
    }


def portfolio_page(results: Sequence[ClientResult], generated: str) -> str:
    """The portfolio ``index.html``: how each client's comparable KPIs sit against the
    portfolio's median and range, then one row per client (by slug), one column per KPI
    (the table sorts by any column)."""
    from b2b_analysis.registry import KPIS

    ordered = sorted(results, key=lambda r: r.slug)
    strips = [_strip(k, ordered) for k in PORTFOLIO_KPIS if KPIS[k].unit in COMPARABLE]
    return render(
        "pages/portfolio.html.j2",
        t=lambda key, **fields: i18n.text(key, i18n.DEFAULT, **fields),
        count=len(results),
        generated=generated,
        lower=", ".join(KPIS[k].label for k in PORTFOLIO_KPIS if KPIS[k].direction == "lower"),
        labels=[KPIS[k].label for k in PORTFOLIO_KPIS],
        rows=[_row(r) for r in ordered],
        strips=[s for s in strips if s is not None],
        script=Markup(chart_script()),
    )
