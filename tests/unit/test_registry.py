"""The KPI registry: the views derived from it, and the docs table it generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2b_analysis.registry import (
    KPIS,
    PORTFOLIO_KPIS,
    REGISTRY,
    SERIES_KPIS,
    markdown_table,
    null_reasons,
    with_table,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"


def test_docs_kpi_table_is_current() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert with_table(text) == text, (
        "docs/kpis.md is stale: run .venv/bin/python -c "
        "'from b2b_analysis.registry import update_docs; update_docs()'"
    )
    for key in REGISTRY:
        assert f"| `{key}` |" in text


def test_docs_check_catches_a_stale_table() -> None:
    text = DOCS.read_text(encoding="utf-8").replace("| `nps` | NPS |", "| `nps` | Net score |")
    assert with_table(text) != text


def test_missing_markers_are_an_error() -> None:
    with pytest.raises(ValueError, match="markers"):
        with_table("# no table here\n")


def test_views_follow_the_registry_order() -> None:
    keys = list(REGISTRY)
    assert list(KPIS) == [k for k in keys if REGISTRY[k].headline]
    assert list(SERIES_KPIS) == [k for k in keys if REGISTRY[k].series]
    positions = [REGISTRY[k].portfolio for k in PORTFOLIO_KPIS]
    assert positions == sorted(positions) == list(range(len(PORTFOLIO_KPIS)))
    # every series KPI has a label and a unit (period_retention_rate had none before)
    assert REGISTRY["period_retention_rate"].unit == "rate"
    assert "period_retention_rate" not in KPIS


def test_every_kpi_is_well_formed() -> None:
    tables = {"orders", "visits", "surveys", "investments"}
    for key, kpi in REGISTRY.items():
        assert kpi.key == key
        assert kpi.label and kpi.definition
        assert kpi.table in tables
        assert kpi.direction in ("higher", "lower", "neutral")
        assert kpi.unit in ("count", "money", "rate", "score", "days")


def test_null_reasons_name_the_missing_table_first() -> None:
    values = dict.fromkeys(KPIS)
    reasons = null_reasons(values, {"visits": False, "surveys": True}, {"roi": "known"})
    assert reasons["conversion_rate"] == "no visits table in the params file"
    assert reasons["csat"] == "no csat answers in the window"
    assert "roi" not in reasons  # a reason already known is kept
    assert "customers" not in reasons  # never null for want of data
    assert "period_retention_rate" not in reasons  # series only


def test_markdown_table_has_a_row_per_kpi() -> None:
    rows = [r for r in markdown_table().splitlines() if r.startswith("| `")]
    assert len(rows) == len(REGISTRY)
