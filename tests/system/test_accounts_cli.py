"""``b2b-analysis accounts`` end to end, on the session's generated demo client ``acme``.

The formats are read back and compared with each other; the lapsed list and every
account's revenue of the last 12 months are recomputed in plain Python from the
loaded orders.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import openpyxl

from b2b_analysis.accounts import LISTS
from b2b_analysis.config import load_params
from b2b_analysis.io import load_client
from tests.support.clientkit import run_cli

WINDOW = ("--start", "2024-01-01", "--end", "2025-03-31")


def _json(acme: Path, name: str, *extra: str) -> dict[str, Any]:
    result = run_cli("accounts", str(acme), "--list", name, "--format", "json", *WINDOW, *extra)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _plain_python_lapsed(acme: Path) -> dict[str, tuple[float, int, float]]:
    """Lapsed in March 2025 (ordered in February 2025, not in March), by hand: per
    account its orders and revenue in February and its revenue from 2024-04-01 to
    2025-03-31, from the loaded orders that count."""
    orders = load_client(load_params(acme)).orders.to_dicts()
    end = dt.date(2025, 3, 31)
    months: dict[str, set[tuple[int, int]]] = defaultdict(set)
    feb: dict[str, list[float]] = defaultdict(list)
    year: dict[str, float] = defaultdict(float)
    for o in orders:
        if not o["is_valid"] or o["order_date"] > end:
            continue
        day, who = o["order_date"], str(o["customer_id"])
        months[who].add((day.year, day.month))
        if (day.year, day.month) == (2025, 2):
            feb[who].append(o["revenue"])
        if day > dt.date(2024, 3, 31):
            year[who] += o["revenue"]
    return {
        who: (round(year[who], 2), len(feb[who]), round(sum(feb[who]), 2))
        for who in feb
        if (2025, 3) not in months[who]
    }


def test_every_list_as_json_csv_and_xlsx(acme: Path, tmp_path: Path) -> None:
    for name in LISTS:
        doc = _json(acme, name)
        assert doc["list"] == name and doc["last_period"] == "2025-03"
        assert doc["window"] == {"start": "2024-01-01", "end": "2025-03-31"}
        assert doc["columns"][0] == "customer_id" and doc["columns"][-1] == "revenue_12m"
        stakes = [row["revenue_12m"] for row in doc["rows"]]
        assert stakes == sorted(stakes, reverse=True)
        result = run_cli("accounts", str(acme), "--list", name, "-f", "csv", *WINDOW)
        assert result.returncode == 0, result.stderr
        table = list(csv.reader(io.StringIO(result.stdout)))
        assert table[0] == doc["columns"]
        assert [r[0] for r in table[1:]] == [row["customer_id"] for row in doc["rows"]]
        out = tmp_path / f"{name}.xlsx"
        result = run_cli("accounts", str(acme), "--list", name, "-f", "xlsx", "--out", str(out),
                         *WINDOW)  # fmt: skip
        assert result.returncode == 0, result.stderr
        sheet = openpyxl.load_workbook(out)[name]
        values = list(sheet.iter_rows(values_only=True))
        assert len(values) == 1 + len(doc["rows"])
        assert [v[0] for v in values[1:]] == [row["customer_id"] for row in doc["rows"]]
        assert [v[-1] for v in values[1:]] == stakes
    assert sum(len(_json(acme, name)["rows"]) for name in LISTS) > 0


def test_lapsed_against_plain_python(acme: Path) -> None:
    doc = _json(acme, "lapsed")
    expected = _plain_python_lapsed(acme)
    assert expected, "the demo client has no lapsed account in March 2025"
    got = {
        row["customer_id"]: (
            row["revenue_12m"],
            row["orders_previous_period"],
            row["revenue_previous_period"],
        )
        for row in doc["rows"]
    }
    assert got == expected


def test_xlsx_bytes_repeat(acme: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    for out in (a, b):
        result = run_cli("accounts", str(acme), "--list", "overdue", "-f", "xlsx", "--out",
                         str(out))  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
    assert a.read_bytes() == b.read_bytes()


def test_table_for_the_terminal(acme: Path) -> None:
    doc = _json(acme, "reverted")
    result = run_cli("accounts", str(acme), "--list", "reverted", *WINDOW)
    assert result.returncode == 0, result.stderr
    words = " ".join(result.stdout.split())  # the title wraps at the table's width
    assert "Reverted to offline" in words and "last period 2025-03" in words
    for row in doc["rows"]:  # every account, its amounts whole
        assert row["customer_id"] in result.stdout
        assert f"{row['revenue_12m']:,.2f}" in result.stdout


def test_bad_list_name_and_xlsx_without_out(acme: Path) -> None:
    result = run_cli("accounts", str(acme), "--list", "churned")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: Invalid value for '--list': 'churned' is not one of 'reverted', 'overdue', "
        "'lapsed', 'reactivated', 'adopters'; see 'b2b-analysis accounts --help'"
    ]
    result = run_cli("accounts", str(acme))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: Missing option '--list': name one of reverted, overdue, lapsed, reactivated, "
        "adopters; see 'b2b-analysis accounts --help'"
    ]
    result = run_cli("accounts", str(acme), "--list", "lapsed", "--format", "xlsx")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --format xlsx writes a workbook: give its file with --out FILE.xlsx"
    ]
    assert result.stdout == ""
