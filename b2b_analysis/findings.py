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
['12 accounts with 184,000.00 EUR of revenue at stake went back to ordering offline after
  trying the webshop (median 34 days).']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

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


def _fmt(value: float | int | None, unit: str, currency: str) -> str:
    from b2b_analysis.narrative import format_value

    return format_value(value, unit, currency)


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


# ------------------------------------------------------------------ account lists

#: The sentence of each account list: ``{who}`` is the number of accounts,
#: ``{money}`` the revenue at stake, ``{last}``/``{before}`` the window's last two periods.
_ACCOUNT_SENTENCES: dict[str, str] = {
    "reverted": (
        "{who} with {money} of revenue at stake went back to ordering offline after "
        "trying the webshop{median}."
    ),
    "overdue": "{who} are overdue on their usual ordering cycle, with {money} of revenue at stake.",
    "lapsed": (
        "{who} that ordered in {before} did not order in {last} ({money} of revenue at stake)."
    ),
    "reactivated": "{who} came back in {last} after a break, worth {money} of revenue.",
    "adopters": (
        "{who} placed their first online order in {last}, worth {money} of revenue: "
        "a moment for onboarding follow-up."
    ),
}


def _last_two_periods(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    rows = (doc.get("series") or {}).get("rows") or []
    last = rows[-1].get("period_label") if rows else None
    before = rows[-2].get("period_label") if len(rows) > 1 else None
    return last, before


def _account_findings(doc: dict[str, Any]) -> Iterator[Finding]:
    currency = doc.get("currency", "")
    last, before = _last_two_periods(doc)
    for name, template in _ACCOUNT_SENTENCES.items():
        summary = (doc.get("accounts") or {}).get(name) or {}
        count = summary.get("count") or 0
        if count <= 0:
            continue
        money = summary.get("revenue_at_stake")
        median = summary.get("median_days")
        sentence = template.format(
            who=_count(count, "account", "accounts"),
            money=_fmt(money, "money", currency),
            median=f" (median {median:,.0f} days)" if median is not None else "",
            last=last,
            before=before,
        )
        yield Finding("accounts", name, sentence, count, amount=money, period=last)


# ------------------------------------------------------------------ trends

_WHICH = {"previous": "the period before", "year_earlier": "a year earlier"}


def _change_words(change: float, unit: str, currency: str) -> str:
    size = abs(change)
    if unit == "rate":
        amount = f"{size * 100:.1f} points"
    elif unit == "count":
        amount = f"{round(size):,}"
    else:
        amount = _fmt(size, unit, currency)
    return ("rose " if change > 0 else "fell ") + amount


def _interval_words(low: float | None, high: float | None, unit: str, currency: str) -> str:
    if low is None or high is None:
        return ""

    def signed(x: float) -> str:
        text = f"{abs(x) * 100:.1f}" if unit == "rate" else _fmt(abs(x), unit, currency)
        return ("+" if x >= 0 else "-") + text

    return f"; 95% interval of the change {signed(low)} to {signed(high)}"


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


def _n_words(key: str, n: int | None) -> str:
    """``n = 1,234 orders``: the sample size and what it counts (the registry's words,
    without their parenthetical remarks)."""
    if n is None:
        return ""
    counted = (REGISTRY[key].n or _N_NOUNS.get(key, "orders")).split(" (")[0]
    return f"n = {n:,} {counted}"


def _trend_finding(doc: dict[str, Any], key: str, which: str) -> Finding | None:
    trend = (doc.get("trends") or {}).get(key) or {}
    other = trend.get(which)
    if not other or not other.get("significant") or trend.get("mature") is False:
        return None
    kpi, currency = REGISTRY[key], doc.get("currency", "")
    value, base, change = trend.get("value"), other.get("value"), other.get("change")
    if value is None or base is None or change is None:
        return None
    evidence = ", ".join(
        part
        for part in (
            _n_words(key, trend.get("n")),
            _interval_words(other.get("low"), other.get("high"), kpi.unit, currency).lstrip("; "),
        )
        if part
    )
    sentence = (
        f"{kpi.label} {_change_words(change, kpi.unit, currency)} in {trend.get('period')} "
        f"against {other.get('period')} ({_WHICH[which]}), from "
        f"{_fmt(base, kpi.unit, currency)} to {_fmt(value, kpi.unit, currency)}"
        + (f" ({evidence})." if evidence else ".")
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

_PARTS = {
    "customers": "the number of customers",
    "orders_per_customer": "orders per customer",
    "aov": "average order value",
}


def _bridge_finding(doc: dict[str, Any], which: str) -> Finding | None:
    bridge = (doc.get("bridge") or {}).get(which)
    revenue_trend = ((doc.get("trends") or {}).get("net_revenue") or {}).get(which) or {}
    if not bridge or not revenue_trend.get("significant"):
        return None
    currency, change = doc.get("currency", ""), bridge.get("change") or 0.0
    parts = bridge.get("parts") or {}
    ranked = sorted(parts.items(), key=lambda kv: -abs(kv[1] or 0.0))
    split = ", ".join(
        f"{'+' if (v or 0) >= 0 else '-'}{_fmt(abs(v or 0.0), 'money', currency)} from {_PARTS[k]}"
        for k, v in ranked
        if k in _PARTS
    )
    n = ((doc.get("trends") or {}).get("net_revenue") or {}).get("n")
    low, high = revenue_trend.get("low"), revenue_trend.get("high")
    evidence = ", ".join(
        part
        for part in (
            _n_words("net_revenue", n),
            _interval_words(low, high, "money", currency).lstrip("; "),
        )
        if part
    )
    sentence = (
        f"Net revenue {'rose' if change > 0 else 'fell'} {_fmt(abs(change), 'money', currency)} "
        f"in {bridge.get('period')} against {bridge.get('base_period')} ({_WHICH[which]}"
        f"{', ' + evidence if evidence else ''}): {split}."
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
    window = doc.get("window") or {}
    sentence = (
        f"Orders that moved online freed about {hours:,.0f} hours of the sales team's time "
        f"from {window.get('start')} to {window.get('end')} ({small:,.0f} of them from small "
        f"orders): {round(moved):,} orders at {effort.get('offline_order_minutes'):g} minutes each."
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
    kpi = REGISTRY[key]
    n = trend.get("n")
    evidence = f" ({_n_words(key, n)})" if n is not None else ""
    sentence = (
        f"{kpi.label}: no clear change in {trend.get('period')} against "
        f"{previous.get('period')}{evidence}."
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
