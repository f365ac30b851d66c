"""Findings: the few statements a client's page opens with, ranked by what is at stake.

Built from the ``kpis.json`` document alone (so a page, a notebook and the JSON
always agree): its account lists (``accounts``), its like-with-like comparisons
(``trends``), its revenue bridge (``bridge``) and the sales effort freed
(``sales_effort``). Only what passes the trend rules qualifies: a comparison
counts when its change is significant (the 95 % interval of the change excludes
zero) and its period is mature; a bridge only when the change in net revenue it
explains is significant. Every sentence carries its sample size.

Ranking (documented in ``docs/kpis.md``): findings with money at stake first, by
the amount, largest first; then the others by the size of the effect (the change
relative to its base value; the hours freed count as their share of the offline
orders' handling time). At most :data:`MOST` are kept. When fewer than
:data:`FEWEST` qualify, the page says plainly that the headline KPIs show no clear
change (with their sample sizes) rather than promote noise.

>>> doc = {"currency": "EUR", "accounts": {"reverted": {"count": 12,
...        "revenue_at_stake": 184000.0, "median_days": 34}}}
>>> [f["sentence"] for f in findings(doc)]  # doctest: +NORMALIZE_WHITESPACE
['12 accounts with 184,000 EUR of revenue at stake went back to ordering offline after
  trying the webshop (median 34 days).']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from b2b_analysis import i18n
from b2b_analysis.registry import REGISTRY

__all__ = ["FEWEST", "MOST", "Finding", "findings"]

#: At most this many findings are kept.
MOST = 7
#: Below this many, the headline KPIs without a clear change are said as such.
FEWEST = 3
#: The KPIs whose "no clear change" is worth saying when little else qualifies.
FALLBACK_KPIS = ("period_retention_rate", "online_order_share", "net_revenue")


@dataclass(frozen=True)
class Finding:
    """One finding: its sentence and the numbers it rests on.

    ``kind`` says where it comes from (``accounts``, ``trend``, ``bridge``,
    ``sales_effort``, ``no_clear_change``); ``subject`` is the list or KPI;
    ``amount`` the money at stake (in the client's currency) or ``None``;
    ``effect`` the relative size used to rank findings without money; ``n`` the
    sample size; ``low`` and ``high`` the 95 % interval of the change, when it has one.
    """

    kind: str
    subject: str
    sentence: str
    n: int | None
    amount: float | None = None
    effect: float | None = None
    period: str | None = None
    base_period: str | None = None
    low: float | None = None
    high: float | None = None

    def record(self) -> dict[str, Any]:
        """The finding as a JSON-ready record."""
        return asdict(self)


def _locale(doc: dict[str, Any]) -> str:
    """The document's locale: its sentences' language and number formats."""
    return str(doc.get("locale") or i18n.DEFAULT)


def _fmt(value: float | int | None, unit: str, currency: str, locale: str) -> str:
    """A value for a finding: as the scorecard writes it, but amounts in whole units
    (a finding is read at a glance; the cents are in the scorecard and the JSON)."""
    from b2b_analysis.narrative import format_value

    if unit == "money" and value is not None:
        return i18n.format_money(value, currency, locale, digits=0)
    return format_value(value, unit, currency, locale)


# ------------------------------------------------------------------ account lists

#: The account lists with a sentence (``finding.accounts.<name>`` in the catalogues):
#: ``{who}`` is the number of accounts, ``{money}`` the revenue at stake,
#: ``{last}``/``{before}`` the window's last two periods.
_ACCOUNT_LISTS = ("reverted", "overdue", "lapsed", "reactivated", "adopters")


def _last_two_periods(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    rows = (doc.get("series") or {}).get("rows") or []
    last = rows[-1].get("period_label") if rows else None
    before = rows[-2].get("period_label") if len(rows) > 1 else None
    return last, before


def _account_findings(doc: dict[str, Any]) -> Iterator[Finding]:
    currency, locale = doc.get("currency", ""), _locale(doc)
    last, before = _last_two_periods(doc)
    for name in _ACCOUNT_LISTS:
        summary = (doc.get("accounts") or {}).get(name) or {}
        count = summary.get("count") or 0
        if count <= 0:
            continue
        money = summary.get("revenue_at_stake")
        median = summary.get("median_days")
        days = None if median is None else i18n.format_decimal(median, locale, 0)
        sentence = i18n.text(
            "finding.accounts." + name,
            locale,
            who=i18n.plural("accounts.count", count, locale),
            money=_fmt(money, "money", currency, locale),
            median="" if days is None else " " + i18n.text("finding.median", locale, days=days),
            last=last,
            before=before,
        )
        yield Finding("accounts", name, sentence, count, amount=money, period=last)


# ------------------------------------------------------------------ trends

#: The two comparisons, with the words naming them (``finding.which.<name>``).
_WHICH = ("previous", "year_earlier")


def _change_words(change: float, unit: str, currency: str, locale: str) -> str:
    """The size of a change: ``3.1 points``, ``40``, ``1,200.00 EUR``."""
    size = abs(change)
    if unit == "rate":
        return i18n.text("unit.points", locale, n=i18n.format_decimal(size * 100, locale, 1))
    if unit == "count":
        return i18n.format_count(round(size), locale)
    return _fmt(size, unit, currency, locale)


def _interval_words(
    low: float | None, high: float | None, unit: str, currency: str, locale: str
) -> str:
    if low is None or high is None:
        return ""

    def signed(x: float) -> str:
        if unit == "rate":
            text = i18n.format_decimal(abs(x) * 100, locale, 1)
        else:
            text = _fmt(abs(x), unit, currency, locale)
        return ("+" if x >= 0 else "-") + text

    return i18n.text("finding.interval", locale, low=signed(low), high=signed(high))


#: What n counts for the KPIs whose registry entry has no interval (and so no ``n``):
#: a count is its own n; a money KPI's n is the orders it sums or averages
#: (:data:`b2b_analysis.trends.SPREADS`).
_N_NOUNS = {
    "customers": "customers",
    "online_gross_profit": "online orders",
    "online_average_order_value": "online orders",
    "offline_average_order_value": "offline orders",
    "gross_merchandise_value": "orders, all statuses",
}


def _n_words(key: str, n: int | None, locale: str = i18n.DEFAULT) -> str:
    """``n = 1,234 orders``: the sample size and what it counts (the registry's words,
    without their parenthetical remarks; other languages: ``finding.n.<key>``)."""
    if n is None:
        return ""
    counted = (REGISTRY[key].n or _N_NOUNS.get(key, "orders")).split(" (")[0]
    noun = i18n.worded(f"finding.n.{key}", counted, locale)
    return i18n.text("finding.n", locale, n=i18n.format_count(n, locale), noun=noun)


def _trend_finding(doc: dict[str, Any], key: str, which: str) -> Finding | None:
    trend = (doc.get("trends") or {}).get(key) or {}
    other = trend.get(which)
    if not other or not other.get("significant") or trend.get("mature") is False:
        return None
    kpi, currency, locale = REGISTRY[key], doc.get("currency", ""), _locale(doc)
    value, base, change = trend.get("value"), other.get("value"), other.get("change")
    if value is None or base is None or change is None:
        return None
    evidence = ", ".join(
        part
        for part in (
            _n_words(key, trend.get("n"), locale),
            _interval_words(other.get("low"), other.get("high"), kpi.unit, currency, locale),
        )
        if part
    )
    sentence = i18n.text(
        "finding.trend." + ("up" if change > 0 else "down"),
        locale,
        label=i18n.kpi_label(key, locale),
        amount=_change_words(change, kpi.unit, currency, locale),
        period=trend.get("period"),
        base_period=other.get("period"),
        which=i18n.text("finding.which." + which, locale),
        base=_fmt(base, kpi.unit, currency, locale),
        value=_fmt(value, kpi.unit, currency, locale),
        evidence=f" ({evidence})" if evidence else "",
    )
    money = abs(change) if kpi.unit == "money" and kpi.direction != "neutral" else None
    effect = abs(change) / abs(base) if base else None
    return Finding(
        "trend",
        key,
        sentence,
        trend.get("n"),
        amount=money,
        effect=effect,
        period=trend.get("period"),
        base_period=other.get("period"),
        low=other.get("low"),
        high=other.get("high"),
    )


def _trend_findings(doc: dict[str, Any]) -> Iterator[Finding]:
    for key in doc.get("trends") or {}:
        if key not in REGISTRY:
            continue
        for which in _WHICH:
            found = _trend_finding(doc, key, which)
            if found is not None:
                yield found


# ------------------------------------------------------------------ bridge and effort

#: The bridge's parts, largest first in the sentence (``finding.part.<name>``).
_PARTS = ("customers", "orders_per_customer", "aov")


def _bridge_finding(doc: dict[str, Any], which: str) -> Finding | None:
    bridge = (doc.get("bridge") or {}).get(which)
    revenue_trend = ((doc.get("trends") or {}).get("net_revenue") or {}).get(which) or {}
    if not bridge or not revenue_trend.get("significant"):
        return None
    currency, change = doc.get("currency", ""), bridge.get("change") or 0.0
    locale = _locale(doc)
    parts = bridge.get("parts") or {}
    ranked = sorted(parts.items(), key=lambda kv: -abs(kv[1] or 0.0))
    split = ", ".join(
        i18n.text(
            "finding.bridge.part",
            locale,
            amount=("+" if (v or 0) >= 0 else "-") + _fmt(abs(v or 0.0), "money", currency, locale),
            part=i18n.text("finding.part." + k, locale),
        )
        for k, v in ranked
        if k in _PARTS
    )
    n = ((doc.get("trends") or {}).get("net_revenue") or {}).get("n")
    low, high = revenue_trend.get("low"), revenue_trend.get("high")
    evidence = ", ".join(
        part
        for part in (
            _n_words("net_revenue", n, locale),
            _interval_words(low, high, "money", currency, locale),
        )
        if part
    )
    sentence = i18n.text(
        "finding.bridge." + ("up" if change > 0 else "down"),
        locale,
        amount=_fmt(abs(change), "money", currency, locale),
        period=bridge.get("period"),
        base_period=bridge.get("base_period"),
        which=i18n.text("finding.which." + which, locale),
        evidence=", " + evidence if evidence else "",
        split=split,
    )
    base = bridge.get("base_revenue")
    return Finding(
        "bridge",
        which,
        sentence,
        n,
        amount=abs(change),
        effect=abs(change) / abs(base) if base else None,
        period=bridge.get("period"),
        base_period=bridge.get("base_period"),
        low=low,
        high=high,
    )


def _bridge_findings(doc: dict[str, Any]) -> Iterator[Finding]:
    for which in _WHICH:
        found = _bridge_finding(doc, which)
        if found is not None:
            yield found


def _effort_findings(doc: dict[str, Any]) -> Iterator[Finding]:
    effort = doc.get("sales_effort") or {}
    hours, moved = effort.get("hours"), effort.get("orders_moved_online")
    if not hours or hours <= 0 or not moved:
        return
    small = effort.get("small_order_hours") or 0.0
    window, locale = doc.get("window") or {}, _locale(doc)
    dates = {
        side: None if window.get(side) is None else i18n.format_date(str(window[side]), locale)
        for side in ("start", "end")
    }
    sentence = i18n.text(
        "finding.effort",
        locale,
        hours=i18n.format_decimal(hours, locale, 0),
        small=i18n.format_decimal(small, locale, 0),
        orders=i18n.format_count(round(moved), locale),
        minutes=i18n.format_plain(effort["offline_order_minutes"], locale),
        **dates,
    )
    offline = (doc.get("kpis") or {}).get("orders") or 0
    yield Finding(
        "sales_effort",
        "sales_effort",
        sentence,
        round(moved),
        effect=moved / offline if offline else None,
    )


# ------------------------------------------------------------------ fallback and ranking


def _no_clear_change(doc: dict[str, Any], key: str) -> Finding | None:
    trend = (doc.get("trends") or {}).get(key) or {}
    previous = trend.get("previous")
    if not previous or previous.get("significant") or trend.get("value") is None:
        return None
    n, locale = trend.get("n"), _locale(doc)
    evidence = f" ({_n_words(key, n, locale)})" if n is not None else ""
    sentence = i18n.text(
        "finding.no_clear_change",
        locale,
        label=i18n.kpi_label(key, locale),
        period=trend.get("period"),
        base_period=previous.get("period"),
        evidence=evidence,
    )
    return Finding(
        "no_clear_change",
        key,
        sentence,
        n,
        period=trend.get("period"),
        base_period=previous.get("period"),
    )


def _rank(found: Finding) -> tuple[int, float]:
    if found.amount is not None:
        return (0, -found.amount)
    return (1, -(found.effect or 0.0))


def _topic(found: Finding) -> str:
    """What a finding is about: a bridge explains net revenue, so it shares its topic."""
    return "net_revenue" if found.kind == "bridge" else f"{found.kind}:{found.subject}"


def _one_per_topic(ranked: list[Finding]) -> list[Finding]:
    """The first (highest-ranked) finding of each topic: one statement per KPI or list,
    the bridge standing for net revenue when both qualify (it says more)."""
    topics = {"trend:net_revenue": "net_revenue"}
    seen: set[str] = set()
    kept = []
    for found in ranked:
        topic = topics.get(_topic(found), _topic(found))
        if topic not in seen:
            seen.add(topic)
            kept.append(found)
    return kept


_SOURCES: tuple[Callable[[dict[str, Any]], Iterator[Finding]], ...] = (
    _account_findings,
    _bridge_findings,
    _trend_findings,
    _effort_findings,
)


def findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's findings as records, ranked (see the module docstring).

    Parameters
    ----------
    doc
        A ``kpis.json`` document (:meth:`KpiReport.to_dict`); the keys it lacks
        give no findings.
    """
    found = _one_per_topic(sorted((f for source in _SOURCES for f in source(doc)), key=_rank))
    found = found[:MOST]
    if len(found) < FEWEST:
        for key in FALLBACK_KPIS:
            quiet = _no_clear_change(doc, key)
            if quiet is not None and len(found) < FEWEST:
                found.append(quiet)
    return [f.record() for f in found]
