"""The KPI registry: everything the toolkit knows about a KPI, in one entry.

Each :class:`Kpi` says what the KPI is (label, unit, definition), how to read it
(``direction``: is higher better, lower better, or neither), how sure it is (its
95 % ``interval`` and what its ``n`` counts), what it needs (the table, and why it is
null when that table has nothing in the window) and where it appears (the headline
document, the per-period series, the portfolio page). The headline keys
(:data:`KPIS`), the series columns (:data:`SERIES_KPIS`), the ``intervals`` of the
JSON document (:data:`INTERVAL_KPIS`, :data:`SERIES_INTERVALS`), the portfolio
columns (:data:`PORTFOLIO_KPIS`), the scorecard's arrows, the charts' labels and the
KPI table of ``docs/kpis.md`` (:func:`markdown_table`) all derive from
:data:`REGISTRY`. A new KPI is one entry here plus its expression in
:mod:`b2b_analysis.metrics`.

This module imports nothing heavier than the standard library, so the CLI can
read it at start-up.

>>> REGISTRY["reverted_to_offline_share"].direction
'lower'
>>> REGISTRY["period_retention_rate"].headline, "period_retention_rate" in SERIES_KPIS
(False, True)
>>> REGISTRY["csat"].interval, REGISTRY["csat"].n
('wilson', 'csat answers')
>>> PORTFOLIO_KPIS[:3]
('customers', 'net_revenue', 'online_order_share')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "INTERVAL_KPIS",
    "KPIS",
    "MATURITY_KPIS",
    "PORTFOLIO_KPIS",
    "REGISTRY",
    "SERIES_INTERVALS",
    "SERIES_KPIS",
    "Direction",
    "Interval",
    "Kpi",
    "Maturity",
    "Unit",
    "markdown_table",
    "null_reasons",
    "update_docs",
    "with_table",
]

Unit = Literal["count", "money", "rate", "score", "days"]
Direction = Literal["higher", "lower", "neutral"]
#: ``"wilson"``: a proportion, with the Wilson score interval of its successes out of
#: ``n``; ``"bootstrap"``: a statistic (mean or median) of ``n`` values, with a seeded
#: percentile bootstrap interval (:mod:`b2b_analysis.stats`).
Interval = Literal["wilson", "bootstrap"]
#: Right-censoring (:mod:`b2b_analysis.trends`): ``"cohort"``: a period's value is about
#: the customers who entered in it (their first online order), and they need the
#: follow-up after the period's *end*; ``"period"``: a period's value is about orders
#: placed in it, and needs the follow-up (at most the whole period) observed from its
#: *start*.
Maturity = Literal["cohort", "period"]


@dataclass(frozen=True)
class Kpi:
    """One KPI: what it is, how to read it, what it needs and where it appears.

    Parameters
    ----------
    key
        Its name in ``kpis.json``, the series and the API.
    label, unit, definition
        What people read: the label, the unit its value is formatted in, and a
        one-line definition (the ``kpis`` table prints it).
    details
        The precise rule for the documentation; the definition when empty.
    direction
        ``"higher"`` or ``"lower"``: which way is good news (colours the scorecard's
        arrows); ``"neutral"``: neither.
    table
        The table it is computed from beyond the orders (``"orders"`` if none).
    empty
        Why the value is null when that table is there but gives nothing in the
        window; ``None`` for a KPI that is never null then.
    headline, series
        Whether it is a key of the headline document, and a column of the
        per-period series (each series KPI also gets ``<key>_change``).
    portfolio
        Its column position on the portfolio page, or ``None`` when not there.
    example
        The worked example of the article that defines it, if any.
    interval, n
        Its 95 % interval (``"wilson"``, ``"bootstrap"`` or ``None``) and what the
        interval's ``n`` counts: the proportion's denominator, or the values the
        statistic is taken over.
    maturity
        Its right-censoring rule (:data:`Maturity`), or ``None`` when a period's value
        is final once the period is complete: a period too recent for its rule is
        immature, marked in the series (``<key>_mature``) and never compared.
    """

    key: str
    label: str
    unit: Unit
    definition: str
    details: str = ""
    direction: Direction = "higher"
    table: str = "orders"
    empty: str | None = None
    headline: bool = True
    series: bool = False
    portfolio: int | None = None
    example: str = ""
    interval: Interval | None = None
    n: str = ""
    maturity: Maturity | None = None

    def __post_init__(self) -> None:
        if self.interval is not None and not self.n:
            raise ValueError(f"{self.key}: an interval needs the description of its n")
        if self.interval == "wilson" and self.unit != "rate":
            raise ValueError(f"{self.key}: a Wilson interval is for a proportion (unit rate)")

    def reason_null(self, has_table: bool) -> str | None:
        """Why the value is null: the table is missing, or it is empty in the window."""
        if not has_table:
            return f"no {self.table} table in the params file"
        return self.empty


#: Every KPI, in display order (the headline document's and the series' order).
REGISTRY: dict[str, Kpi] = {
    k.key: k
    for k in (
        Kpi(
            "customers",
            "Customers",
            "count",
            "distinct customers with an order that counts",
            series=True,
            portfolio=0,
        ),
        Kpi(
            "orders",
            "Orders",
            "count",
            "orders neither cancelled nor returned",
            series=True,
        ),
        Kpi(
            "customer_retention_rate",
            "Customer retention rate",
            "rate",
            "customers with 2+ orders / customers with 1+",
            details="customers with 2+ orders in the window / customers with 1+",
            empty="no orders in the window",
            series=True,
            portfolio=3,
            example="100 customers, 20 repeat: 0.20",
            interval="wilson",
            n="customers with an order that counts",
        ),
        Kpi(
            "period_retention_rate",
            "Period retention rate",
            "rate",
            "customers of the previous period who order again / customers of the previous period",
            details="customers of period t-1 who order again in t / customers of t-1",
            headline=False,
            series=True,
            interval="wilson",
            n="customers of the previous period",
            maturity="period",
        ),
        Kpi(
            "lapsed_customers",
            "Lapsed customers",
            "count",
            "customers of the previous period who do not order in this one",
            details="customers with an order in period t-1 and none in t (customers of t-1 "
            "= retained + lapsed)",
            direction="lower",
            headline=False,
            series=True,
        ),
        Kpi(
            "reactivated_customers",
            "Reactivated customers",
            "count",
            "customers back after a gap: ordered before, not in the previous period",
            details="customers with an order in t, none in t-1 and an earlier one (customers "
            "of t = `new_customers` + `retained_customers` + reactivated)",
            headline=False,
            series=True,
        ),
        Kpi(
            "average_order_value",
            "Average order value",
            "money",
            "net revenue / orders",
            empty="no orders in the window",
            series=True,
            portfolio=7,
            example="10,000 over 100 orders: 100",
        ),
        Kpi(
            "conversion_rate",
            "Conversion rate",
            "rate",
            "online orders / website visits",
            details="online orders / website visits (anonymous visits included)",
            table="visits",
            empty="no visits in the window",
            series=True,
            portfolio=6,
            example="50 orders, 1,000 visits: 0.05",
            interval="wilson",
            n="website visits (no interval when online orders exceed visits)",
        ),
        Kpi(
            "visitor_conversion_rate",
            "Visitor conversion rate",
            "rate",
            "identified visitors who ordered online / visitors",
            details="identified visitors who ordered online / identified visitors",
            table="visits",
            empty="no identified visitors in the window",
            interval="wilson",
            n="identified visitors",
        ),
        Kpi(
            "gross_merchandise_value",
            "Gross merchandise value",
            "money",
            "value of all orders placed, incl. cancelled",
            details="value of all orders placed, cancelled and returned included",
            direction="neutral",
            series=True,
            example="100 orders x AOV 100: 10,000",
        ),
        Kpi(
            "net_revenue",
            "Net revenue",
            "money",
            "value of orders that count",
            details="value of the orders that count",
            series=True,
            portfolio=1,
        ),
        Kpi(
            "investment",
            "Investment",
            "money",
            "online channel investment in the window",
            direction="neutral",
            table="investments",
            series=True,
        ),
        Kpi(
            "online_gross_profit",
            "Online gross profit",
            "money",
            "online revenue - cost (or x gross margin)",
            details="online revenue - cost, or online revenue x `gross_margin`",
            empty="no online orders in the window",
            series=True,
        ),
        Kpi(
            "roi",
            "ROI",
            "rate",
            "(online gross profit - investment) / investment",
            details="(online gross profit - investment) / investment; gross profit = "
            "revenue - cost, or revenue x `gross_margin`",
            table="investments",
            empty="no investment in the window",
            series=True,
            portfolio=9,
            example="net profit 10,000 on 100,000: 0.10",
        ),
        Kpi(
            "returning_visit_share",
            "Returning-visit share",
            "rate",
            "visits by customers who visited before / visits",
            details="visits by identified customers who had visited before (at any "
            "earlier time) / all visits",
            table="visits",
            empty="no visits in the window",
            series=True,
            interval="wilson",
            n="website visits",
        ),
        Kpi(
            "csat",
            "CSAT",
            "rate",
            "csat answers scoring 4-5 / csat answers",
            table="surveys",
            empty="no csat answers in the window",
            series=True,
            interval="wilson",
            n="csat answers",
        ),
        Kpi(
            "nps",
            "NPS",
            "score",
            "% promoters (9-10) - % detractors (0-6)",
            details="% promoters (9-10) - % detractors (0-6) of nps answers, on a -100..100 scale",
            table="surveys",
            empty="no nps answers in the window",
            series=True,
            portfolio=10,
            interval="bootstrap",
            n="nps answers",
        ),
        Kpi(
            "online_order_share",
            "Online order share",
            "rate",
            "online orders / all orders",
            empty="no orders in the window",
            series=True,
            portfolio=2,
            interval="wilson",
            n="orders that count",
        ),
        Kpi(
            "small_order_online_share",
            "Small orders placed online",
            "rate",
            "online small orders / small orders",
            details="online orders below the small-order threshold / orders below it",
            empty="no small orders in the window",
            series=True,
            interval="wilson",
            n="small orders that count",
        ),
        Kpi(
            "online_average_order_value",
            "Online AOV",
            "money",
            "AOV of online orders",
            empty="no online orders in the window",
            series=True,
        ),
        Kpi(
            "offline_average_order_value",
            "Offline AOV",
            "money",
            "AOV of offline orders",
            empty="no offline orders in the window",
            series=True,
        ),
        Kpi(
            "online_retention_rate",
            "Online retention rate",
            "rate",
            "new online customers who order online again / new online customers",
            details="customers whose first online order (ever) is in the window and who "
            "order online again on a later day / those customers",
            empty="no customer placed a first online order in the window",
            series=True,
            portfolio=4,
            interval="wilson",
            n="new online customers (first online order ever in the window or period)",
            maturity="cohort",
        ),
        Kpi(
            "reverted_to_offline_share",
            "Reverted to offline",
            "rate",
            "new online customers whose later orders are all offline / those with later orders",
            details="of the customers of `online_retention_rate` with later orders, the "
            "share whose later orders are all offline",
            direction="lower",
            empty="no customer with a first online order in the window ordered again later",
            series=True,
            portfolio=5,
            interval="wilson",
            n="new online customers with later orders",
            maturity="cohort",
        ),
        Kpi(
            "median_days_to_revert",
            "Median days to revert",
            "days",
            "first online order to first later offline order",
            details="for reverted customers, days from the first online order to the first "
            "later offline order (median)",
            direction="neutral",
            empty="no customer reverted to offline in the window",
            interval="bootstrap",
            n="reverted customers",
        ),
        Kpi(
            "median_aov_shift",
            "Median AOV shift after going online",
            "money",
            "per customer: AOV from first online order on - AOV before",
            details="per customer going online in the window, AOV from the first online "
            "order on - AOV before it (median)",
            empty="no customer has orders both before and after a first online order in the window",
            interval="bootstrap",
            n="customers going online with orders before and after",
        ),
        Kpi(
            "median_online_offline_aov_ratio",
            "Median online/offline AOV ratio",
            "rate",
            "per customer buying in both channels: online AOV / offline AOV",
            details="per customer ordering in both channels, online AOV / offline AOV (median)",
            empty="no customer ordered in both channels in the window",
            portfolio=8,
            interval="bootstrap",
            n="customers ordering in both channels",
        ),
    )
}

#: The headline KPIs, in display order: the ``kpis`` JSON has exactly these keys.
KPIS: Mapping[str, Kpi] = {k: v for k, v in REGISTRY.items() if v.headline}
#: The KPIs of the per-period series (each also gets ``<key>_change``).
SERIES_KPIS: tuple[str, ...] = tuple(k for k, v in REGISTRY.items() if v.series)
#: The KPIs compared across clients on the portfolio page, in column order.
PORTFOLIO_KPIS: tuple[str, ...] = tuple(
    sorted(
        (k for k, v in REGISTRY.items() if v.portfolio is not None),
        key=lambda k: REGISTRY[k].portfolio or 0,
    )
)
#: The headline KPIs with a 95 % interval: the keys of ``intervals`` in the JSON document.
INTERVAL_KPIS: Mapping[str, Kpi] = {k: v for k, v in KPIS.items() if v.interval is not None}
#: The series KPIs with a maturity rule: each gets a ``<key>_mature`` column.
MATURITY_KPIS: tuple[str, ...] = tuple(k for k in SERIES_KPIS if REGISTRY[k].maturity)
#: The series KPIs with a 95 % interval: each gets ``<key>_n``, ``<key>_low`` and
#: ``<key>_high`` columns.
SERIES_INTERVALS: tuple[str, ...] = tuple(
    k for k in SERIES_KPIS if REGISTRY[k].interval is not None
)


def null_reasons(
    values: Mapping[str, object], tables: Mapping[str, bool], known: Mapping[str, str]
) -> dict[str, str]:
    """Why each null headline value is null, for those without a reason in ``known``.

    ``tables`` says which tables the client has (a missing key counts as present).

    >>> null_reasons({"nps": None, "csat": 0.8}, {"surveys": False}, {})
    {'nps': 'no surveys table in the params file'}
    >>> null_reasons({"nps": None}, {"surveys": True}, {})
    {'nps': 'no nps answers in the window'}
    """
    reasons: dict[str, str] = {}
    for key, kpi in KPIS.items():
        if key not in values or values[key] is not None or key in known:
            continue
        reason = kpi.reason_null(tables.get(kpi.table, True))
        if reason is not None:
            reasons[key] = reason
    return reasons


_YES = {True: "yes", False: ""}
_INTERVAL_NAMES = {"wilson": "Wilson", "bootstrap": "bootstrap"}


def markdown_table() -> str:
    """The KPI table of ``docs/kpis.md`` (a test checks the file holds it)."""
    lines = [
        "| key | KPI | unit | definition | good when | needs | headline | series "
        "| 95 % interval | maturity | article example |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    good = {"higher": "higher", "lower": "lower", "neutral": "neither"}
    for k in REGISTRY.values():
        needs = "orders" if k.table == "orders" else f"orders, {k.table}"
        interval = f"{_INTERVAL_NAMES[k.interval]}; n = {k.n}" if k.interval else ""
        lines.append(
            f"| `{k.key}` | {k.label} | {k.unit} | {k.details or k.definition} "
            f"| {good[k.direction]} | {needs} | {_YES[k.headline]} | {_YES[k.series]} "
            f"| {interval} | {k.maturity or ''} | {k.example} |"
        )
    return "\n".join(lines) + "\n"


START, END = "<!-- kpi-table:start -->\n", "<!-- kpi-table:end -->"


def with_table(text: str) -> str:
    """``text`` (a Markdown file) with the part between the KPI-table markers replaced
    by :func:`markdown_table`."""
    head, found, rest = text.partition(START)
    if not found or END not in rest:
        raise ValueError(f"the file has no {START.strip()} ... {END} markers")
    return head + START + markdown_table() + END + rest.split(END, 1)[1]


def update_docs(path: str = "docs/kpis.md") -> None:
    """Rewrite the KPI table of ``path`` from the registry (run after changing an entry)."""
    from pathlib import Path

    file = Path(path)
    file.write_text(with_table(file.read_text(encoding="utf-8")), encoding="utf-8")
