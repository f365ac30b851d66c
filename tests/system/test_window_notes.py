"""The window through the command line: the default covers whole periods of the data,
rows outside the window are reported (``notes`` in kpis.json, ``warning:`` lines on
stderr), and a bad window, status label or negative revenue is one ``error:`` line.

Every expected count, sum and date is computed in plain Python from the raw rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.clientkit import ORDER_HEADER, kpis_json, run_cli, write_client

PLACED = {"placed", "shipped", "pending", "invoiced", "open"}
ORDERS = [
    ("o1", "a", "2024-01-10", "web", "120.50", "placed"),
    ("o2", "b", "2024-01-25", "phone", "300", "shipped"),
    ("o3", "a", "2024-02-03", "web", "80", "pending"),
    ("o4", "c", "2024-02-14", "web", "45.25", "cancelled"),
    ("o5", "b", "2024-02-20", "phone", "-60", "returned"),  # a credit note
    ("o6", "c", "2024-03-05", "portal", "210", "invoiced"),
    ("o7", "a", "2024-03-20", "web", "99.99", "open"),
]
VISITS = [
    ("v1", "a", "2023-12-28 09:00:00"),
    ("v2", "", "2023-12-31 23:00:00"),
    ("v3", "a", "2024-01-01 08:00:00"),
    ("v4", "b", "2024-02-10 10:00:00"),
    ("v5", "c", "2024-03-31 12:00:00"),
    ("v6", "a", "2024-04-01 07:00:00"),
    ("v7", "b", "2024-04-02 18:00:00"),
]
SURVEYS = [
    ("a", "2024-01-15", "5", "csat"),
    ("b", "2024-03-31", "9", "nps"),
    ("c", "2024-04-05", "3", "csat"),
]
INVESTMENTS = [
    ("2023-12-15", "1000.00", "platform"),
    ("2024-01-01", "2500.50", "marketing"),  # same month as the first order
    ("2024-03-01", "700", "marketing"),
    ("2024-04-01", "400", "platform"),
]


def _client(folder: Path, orders: Sequence[Sequence[str]] = ORDERS, **params: Any) -> Path:
    return write_client(
        folder,
        {
            "orders": (ORDER_HEADER, orders),
            "visits": (("visit_id", "customer_id", "visit_start"), VISITS),
            "surveys": (("customer_id", "response_date", "score", "kind"), SURVEYS),
            "investments": (("date", "amount", "category"), INVESTMENTS),
        },
        **params,
    )


# ---------------------------------------------------- the plain-Python reference


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def _expected_note(
    rows: list[tuple[dt.date, float]],
    lo: dt.date,
    hi: dt.date,
    noun: str,
    worth: Callable[[float], str] | None = None,
    history: str = "",
) -> str | None:
    """The sentence on the rows (date, value) outside lo..hi, or None."""
    parts = []
    for side in ([r for r in rows if r[0] < lo], [r for r in rows if r[0] > hi]):
        if not side:
            continue
        first, last = min(d for d, _ in side), max(d for d, _ in side)
        span = f"on {first}" if first == last else f"from {first} to {last}"
        value = f" ({worth(sum(v for _, v in side))})" if worth else ""
        plural = "s" if len(side) != 1 else ""
        parts.append(f"{len(side):,} {noun}{plural}{value} {span}")
    if not parts:
        return None
    outside = [r for r in rows if not lo <= r[0] <= hi]
    verb = "is" if len(outside) == 1 else "are"
    tail = history if any(d < lo for d, _ in outside) else ""
    return (
        f"{' and '.join(parts)} {verb} outside the analysis window ({lo} to {hi}) "
        f"and left out of its KPIs{tail}."
    )


def _expected_notes(lo: dt.date, hi: dt.date) -> dict[str, str]:
    # a returned order's value is its absolute value (a credit note of -60 is worth 60)
    orders = [(_day(o[2]), abs(float(o[4]))) for o in ORDERS]
    notes = {
        "orders": _expected_note(
            orders,
            lo,
            hi,
            "order",
            lambda v: f"gross value {v:,.2f} EUR",
            " (orders before the window still count as customer history)",
        ),
        "visits": _expected_note([(_day(v[2]), 0.0) for v in VISITS], lo, hi, "visit"),
        "surveys": _expected_note([(_day(s[1]), 0.0) for s in SURVEYS], lo, hi, "survey response"),
        "investments": _expected_note(
            [(_day(i[0]), float(i[1])) for i in INVESTMENTS],
            lo,
            hi,
            "investment",
            lambda v: f"{v:,.2f} EUR",
        ),
    }
    return {k: v for k, v in notes.items() if v is not None}


def _table_notes(doc: dict[str, Any]) -> dict[str, str]:
    tables = ("orders", "visits", "surveys", "investments")
    return {k: v for k, v in doc["notes"].items() if k in tables}


def _warnings(stderr: str) -> list[str]:
    return [line.removeprefix("warning: ") for line in stderr.splitlines() if "warning" in line]


# ------------------------------------------------------------------------- tests


def test_the_default_window_is_whole_months_and_same_month_rows_count(tmp_path: Path) -> None:
    """Orders run 10 January to 20 March: the window is 1 January to 31 March, so the
    investment booked and the visit made on 1 January count."""
    doc = kpis_json(_client(tmp_path))
    lo, hi = dt.date(2024, 1, 1), dt.date(2024, 3, 31)
    assert doc["window"] == {"start": str(lo), "end": str(hi)}
    kpis = doc["kpis"]
    invested = sum(float(i[1]) for i in INVESTMENTS if lo <= _day(i[0]) <= hi)
    assert kpis["investment"] == pytest.approx(invested) == 3200.5
    placed = [o for o in ORDERS if o[5] in PLACED and lo <= _day(o[2]) <= hi]
    assert kpis["orders"] == len(placed) == 5
    assert kpis["net_revenue"] == pytest.approx(sum(float(o[4]) for o in placed))
    gmv = sum(abs(float(o[4])) for o in ORDERS if lo <= _day(o[2]) <= hi)
    assert kpis["gross_merchandise_value"] == pytest.approx(gmv)
    visits = [v for v in VISITS if lo <= _day(v[2]) <= hi]
    online = [o for o in placed if o[3] in ("web", "portal")]
    assert kpis["conversion_rate"] == pytest.approx(len(online) / len(visits))
    assert _table_notes(doc) == _expected_notes(lo, hi)
    assert set(_table_notes(doc)) == {"visits", "surveys", "investments"}


@pytest.mark.parametrize("streaming", [False, True])
def test_rows_outside_a_given_window_are_noted_and_warned(tmp_path: Path, streaming: bool) -> None:
    params = _client(tmp_path)
    extra = ["--start", "2024-02-01", "--end", "2024-02-29"] + ["--streaming"] * streaming
    result = run_cli("kpis", str(params), "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    expected = _expected_notes(dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert set(expected) == {"orders", "visits", "surveys", "investments"}
    assert _table_notes(doc) == expected
    assert expected["orders"] == (
        "2 orders (gross value 420.50 EUR) from 2024-01-10 to 2024-01-25 and 2 orders "
        "(gross value 309.99 EUR) from 2024-03-05 to 2024-03-20 are outside the analysis "
        "window (2024-02-01 to 2024-02-29) and left out of its KPIs (orders before the "
        "window still count as customer history)."
    )
    # each note is one warning line on stderr, in the order of the tables
    assert _warnings(result.stderr) == [expected[k] for k in expected]


def test_the_params_window_is_noted_too_and_the_table_view_keeps_its_kpi_notes(
    tmp_path: Path,
) -> None:
    """notes['orders'] (a table) is not the null reason of the 'orders' KPI."""
    params = _client(tmp_path, window={"start": "2024-01-15", "end": "2024-03-15"})
    doc = kpis_json(params)
    lo, hi = dt.date(2024, 1, 15), dt.date(2024, 3, 15)
    assert _table_notes(doc) == _expected_notes(lo, hi)
    table = run_cli("kpis", str(params), "--format", "csv")
    assert table.returncode == 0, table.stderr
    orders_row = next(line for line in table.stdout.splitlines() if line.startswith("orders,"))
    counted = [o for o in ORDERS if o[5] in PLACED and lo <= _day(o[2]) <= hi]
    assert [o[0] for o in counted] == ["o2", "o3", "o6"]
    assert orders_row == f"orders,{len(counted)},count,"  # a value has no note


def test_no_note_when_nothing_is_outside(tmp_path: Path) -> None:
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, ORDERS)})
    result = run_cli("kpis", str(params), "--format", "json")
    assert result.returncode == 0 and "warning" not in result.stderr
    assert _table_notes(json.loads(result.stdout)) == {}


# ------------------------------------------------------------- one error line


def _error_lines(result: Any) -> list[str]:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_unknown_status_labels_are_listed_with_their_counts(tmp_path: Path) -> None:
    rows = [
        *ORDERS,
        ("o8", "d", "2024-03-21", "web", "10", "fakturiert"),
        ("o9", "d", "2024-03-22", "web", "10", "Fakturiert"),
        ("o10", "d", "2024-03-23", "web", "10", "storniert"),
        ("o11", "e", "2024-03-24", "web", "10", "fakturiert"),
    ]
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, rows)})
    file = (tmp_path / "data" / "orders.csv").resolve()
    counts: dict[str, int] = {}
    for row in rows:
        if row[5] not in PLACED | {"cancelled", "returned"}:
            counts[row[5]] = counts.get(row[5], 0) + 1
    assert counts == {"fakturiert": 2, "Fakturiert": 1, "storniert": 1}
    listed = ", ".join(f"'{label}' ({n} orders)" for label, n in counts.items())
    assert _error_lines(run_cli("kpis", str(params))) == [
        f"error: {file}: column 'status': rows 8, 9, 10, 11: status label(s) not in the "
        f"status mapping: {listed}; add them to statuses.placed, statuses.cancelled or "
        "statuses.returned in the params file, or set statuses.unmapped: placed"
    ]


def test_negative_revenue_on_an_order_not_returned_names_the_rows(tmp_path: Path) -> None:
    rows = [list(o) for o in ORDERS]
    rows[1][4], rows[3][4] = "-300", "-45.25"  # shipped and cancelled: not credit notes
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, rows)})
    file = (tmp_path / "data" / "orders.csv").resolve()
    assert _error_lines(run_cli("kpis", str(params))) == [
        f"error: {file}: column 'revenue': rows 2, 4: negative revenue on orders whose status "
        "is not returned; a return or credit note needs a status listed under "
        "statuses.returned in the params file, otherwise fix the export"
    ]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (
            "window:\n  start: 2024-02-30\n",
            "window.start: '2024-02-30' is not a date (day is out of range for month); "
            "write it as YYYY-MM-DD",
        ),
        (
            "window: {end: '2024-13-01'}\n",
            "window.end: '2024-13-01' is not a date (month must be in 1..12); "
            "write it as YYYY-MM-DD",
        ),
        (
            "window:\n  start: 2024-03-01\n  end: 2024-01-31\n",
            "window: start 2024-03-01 is after end 2024-01-31; window.start must not be "
            "after window.end",
        ),
    ],
    ids=["impossible day", "impossible month", "inverted"],
)
def test_a_bad_window_in_the_params_file_is_one_line_naming_the_key(
    tmp_path: Path, window: str, message: str
) -> None:
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, ORDERS)})
    params.write_text(params.read_text(encoding="utf-8") + window, encoding="utf-8")
    assert _error_lines(run_cli("kpis", str(params))) == [f"error: {params}: {message}"]
