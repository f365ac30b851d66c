"""What a client's report holds: its notebook pages and the KPIs the portfolio compares."""

from __future__ import annotations

__all__ = ["NOTEBOOKS", "PORTFOLIO_KPIS"]

#: The report's notebooks, in page order, with their titles.
NOTEBOOKS: dict[str, str] = {
    "overview": "Overview",
    "retention": "Retention",
    "order_frequency": "Order frequency",
    "aov": "Average order value",
}

#: KPIs compared across clients on the portfolio page, in column order.
PORTFOLIO_KPIS: tuple[str, ...] = (
    "customers",
    "net_revenue",
    "online_order_share",
    "customer_retention_rate",
    "online_retention_rate",
    "reverted_to_offline_share",
    "conversion_rate",
    "average_order_value",
    "median_online_offline_aov_ratio",
    "roi",
    "nps",
)
