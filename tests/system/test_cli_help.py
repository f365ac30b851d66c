"""What a person reads at the terminal: --help and the series table at 80 columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from b2b_analysis.cli import ProfileChoice
from b2b_analysis.demo import PROFILES
from b2b_analysis.registry import REGISTRY, SERIES_KPIS
from tests.support.clientkit import run_cli

COMMANDS = ("kpis", "accounts", "generate", "report", "demo")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_value_after_a_flag(command: str) -> None:
    result = run_cli(command, "--help", env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    flags = [ln for ln in result.stdout.splitlines() if re.match(r"\s+--(series|all|help)\b", ln)]
    for line in flags:  # a flag's line goes straight from the flag to its help text
        assert re.match(r"\s+--[a-z]+\s{2,}[A-Z]", line), line


def test_profile_choices_are_listed_and_match_the_demo() -> None:
    assert {p.value for p in ProfileChoice} == set(PROFILES)
    result = run_cli("generate", "--help", env={"COLUMNS": "80"})
    assert "--profile <acme|iberia|nordic>" in result.stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("kpis",), "error: Missing argument 'PARAMS'; see 'b2b-analysis kpis --help'"),
        (("kpis", "x.yaml", "--period", "year"), "error: Invalid value for '--period': "
         "'year' is not one of 'week', 'month', 'quarter'; see 'b2b-analysis kpis --help'"),
        (("kpis", "x.yaml", "--bogus"),
         "error: No such option: --bogus; see 'b2b-analysis kpis --help'"),
        (("nosuch",), "error: No such command 'nosuch'; see 'b2b-analysis --help'"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_error_line(args: tuple[str, ...], line: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [line]
    assert result.stdout == ""


def test_no_command_prints_the_overview() -> None:
    result = run_cli()
    assert result.returncode == 0
    assert "Commands:" in result.stdout and "kpis" in result.stdout


def test_series_table_fits_80_columns_and_shows_every_value(acme: Path) -> None:
    doc = json.loads(run_cli("kpis", str(acme), "-f", "json").stdout)
    shown = run_cli("kpis", str(acme), "--series", env={"COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = doc["series"]["rows"]
    keys = [k for k in SERIES_KPIS if any(r[k] is not None for r in rows)]
    pages = [ln for ln in lines if "ly series (" in ln]
    assert len(pages) == -(-len(keys) // 4)  # 4 value columns fit beside the period
    # every period appears once per page, starred when the window covers it in part
    for row in rows:
        label = row["period_label"] + ("*" if row["is_partial"] else "")
        assert sum(line.startswith(f"│ {label} ") for line in lines) == len(pages)
    # the values, formatted by unit, e.g. the last period's orders and online share
    last = rows[-1]
    last_lines = [ln for ln in lines if ln.startswith(f"│ {last['period_label']}")]
    cells = [c.strip() for ln in last_lines for c in ln.strip("│").split("│")[1:]]
    assert f"{last['orders']:,}" in cells
    assert f"{last['online_order_share']:.1%}" in cells
    assert f"{last['net_revenue']:,.2f}" in cells
    assert REGISTRY["orders"].unit == "count"
