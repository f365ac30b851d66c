"""What a client's report holds: its notebook pages and the KPIs the portfolio compares."""

from __future__ import annotations

from b2b_analysis import registry

__all__ = ["NOTEBOOKS", "PORTFOLIO_KPIS"]

#: The report's notebooks, in page order, with their titles.
NOTEBOOKS: dict[str, str] = {
    "overview": "Overview",
    "retention": "Retention",
    "order_frequency": "Order frequency",
    "aov": "Average order value",
}

#: KPIs compared across clients on the portfolio page, in column order (from the registry).
PORTFOLIO_KPIS: tuple[str, ...] = registry.PORTFOLIO_KPIS
