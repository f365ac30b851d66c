"""The run's own pages: a client's ``index.html`` and the portfolio ``index.html``.

Both are rendered from ``templates/pages/`` with the stylesheet's ``page`` part;
this module only prepares the values they show (formatted, not yet escaped: the
templates escape every value).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from b2b_analysis.report.contents import NOTEBOOKS, PORTFOLIO_KPIS
from b2b_analysis.report.results import ClientResult
from b2b_analysis.templating import render

__all__ = ["account_sections", "client_page", "portfolio_page"]


def _page_state(result: ClientResult, name: str) -> str:
    """``ok``, ``failed`` (its page shows where) or ``not run`` (no page)."""
    if name not in result.notebooks:
        return "not run"
    return "ok" if result.notebooks[name].ok else "failed"


def client_page(result: ClientResult) -> str:
    """A client's ``index.html``: its window (and the rows left outside it), problems,
    pages and scorecard; when the KPI step failed, one sentence saying so."""
    from b2b_analysis.accounts import TOP
    from b2b_analysis.kpis import OUTSIDE_WINDOW
    from b2b_analysis.narrative import scorecard_html

    doc = result.kpis or {}
    window = doc.get("window", {})
    notes = doc.get("notes", {})
    pages = [
        {"name": name, "title": title, "state": _page_state(result, name)}
        for name, title in NOTEBOOKS.items()
    ]
    return render(
        "pages/client.html.j2",
        client=result.client,
        start=str(window.get("start", "")),
        end=str(window.get("end", "")),
        period=str(doc.get("period", "")),
        currency=str(doc.get("currency", "")),
        window_notes=[notes[name] for name in OUTSIDE_WINDOW if name in notes],
        kpis_failed=result.kpis is None,
        problems=result.problems(),
        pages=pages,
        scorecard=Markup(scorecard_html(doc, css=False)) if doc else None,
        accounts=account_sections(doc),
        accounts_top=TOP,
    )


def account_sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The "Accounts to call" section of a client's page: per account list of the
    document's ``accounts`` (none for a ``kpis.json`` without it), its title, count,
    revenue at stake and its top accounts as rows of formatted cells."""
    from b2b_analysis.accounts import COLUMNS, LISTS, cell_text
    from b2b_analysis.narrative import format_value

    found = doc.get("accounts") or {}
    currency = str(doc.get("currency", ""))
    sections = []
    for name, kind in LISTS.items():
        if name not in found:
            continue
        entry = found[name]
        top = entry.get("top", [])
        columns = list(top[0]) if top else []
        median = entry.get("median_days")
        sections.append(
            {
                "name": name,
                "title": kind.title,
                "description": kind.description,
                "count": f"{entry['count']:,} account{'' if entry['count'] == 1 else 's'}",
                "stake": format_value(entry["revenue_at_stake"], "money", currency),
                "median_days": None if median is None else format_value(median, "days"),
                "headers": [COLUMNS[c][0] for c in columns],
                "numeric": [COLUMNS[c][1] not in ("text", "date") for c in columns],
                "rows": [[cell_text(row[c], COLUMNS[c][1]) for c in columns] for row in top],
            }
        )
    return sections


def _cell(doc: dict[str, Any], key: str) -> dict[str, str]:
    """One portfolio cell: the formatted value, and why it is missing (as its title)."""
    from b2b_analysis.narrative import format_value
    from b2b_analysis.registry import KPIS

    value = doc["kpis"].get(key)
    note = doc.get("notes", {}).get(key, "")
    return {
        "key": key,
        "value": format_value(value, KPIS[key].unit, doc.get("currency", "")),
        "title": note if value is None else "",
    }


def _row(result: ClientResult) -> dict[str, Any]:
    doc = result.kpis or {"kpis": {}, "currency": ""}
    return {
        "slug": result.slug,
        "client": result.client,
        "ok": result.ok,
        "cells": [_cell(doc, key) for key in PORTFOLIO_KPIS],
    }


def portfolio_page(results: Sequence[ClientResult], generated: str) -> str:
    """The portfolio ``index.html``: one row per client (by slug), one column per KPI."""
    from b2b_analysis.registry import KPIS

    return render(
        "pages/portfolio.html.j2",
        count=len(results),
        generated=generated,
        lower=", ".join(KPIS[k].label for k in PORTFOLIO_KPIS if KPIS[k].direction == "lower"),
        labels=[KPIS[k].label for k in PORTFOLIO_KPIS],
        rows=[_row(r) for r in sorted(results, key=lambda r: r.slug)],
    )
