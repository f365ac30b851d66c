"""Broken clients for the bad-input tests: the corpus of cases and its builders.

:data:`CASES` maps a case name to a builder (writes the client into a folder and
returns its params file) and the fragments the one error line must contain.
Used by ``tests/system/test_bad_input.py`` (through ``kpis``) and
``tests/system/test_faults.py`` (through ``report``); :data:`GOOD` (three valid
orders) also by the security tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from tests.support.clientkit import ORDER_HEADER, write_client

GOOD = [
    ("1", "a", "2024-01-05", "web", 100, "placed"),
    ("2", "b", "2024-01-06", "phone", 200, "placed"),
    ("3", "a", "2024-02-05", "web", 150, "placed"),
]


def with_cell(row_index: int, column: str, value: object) -> list[tuple]:
    """GOOD with one cell replaced (row_index is 0-based; the error reports it 1-based)."""
    rows = [list(r) for r in GOOD]
    rows[row_index][ORDER_HEADER.index(column)] = value
    return [tuple(r) for r in rows]


def orders_client(
    rows: list[tuple], header: tuple[str, ...] = ORDER_HEADER, **params: object
) -> Callable[[Path], Path]:
    return lambda folder: write_client(folder, {"orders": (header, rows)}, **params)


def raw_file(content: bytes, name: str = "orders.csv", **params: object) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        params_file = write_client(folder, {"orders": (ORDER_HEADER, GOOD)}, **params)
        (folder / "data" / name).write_bytes(content)
        return params_file

    return build


def params_text(text: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        write_client(folder, {"orders": (ORDER_HEADER, GOOD)})
        path = folder / "client.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return build


def excel_second_sheet(folder: Path) -> Path:
    params_file = write_client(folder, {"orders": (ORDER_HEADER, GOOD)})
    frame = pl.DataFrame([list(r) for r in GOOD], schema=list(ORDER_HEADER), orient="row")
    import xlsxwriter

    with xlsxwriter.Workbook(folder / "data" / "orders.xlsx") as book:
        pl.DataFrame({"note": ["exported by ERP"]}).write_excel(book, worksheet="Cover")
        frame.write_excel(book, worksheet="Orders")
    text = params_file.read_text().replace("data/orders.csv", "data/orders.xlsx")
    params_file.write_text(text)
    return params_file


CASES: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "malformed yaml": (
        params_text("client: [unclosed\ndata: {orders: x.csv}\n"),
        ["client.yaml", "malformed YAML", "line"],
    ),
    "unknown params key": (
        params_text("client: X\ndata: {orders: data/orders.csv}\ngross_margn: 0.3\n"),
        ["gross_margn", "unknown key"],
    ),
    "params not a mapping": (params_text("- just\n- a list\n"), ["YAML mapping"]),
    "missing required key": (params_text("client: X\n"), ["data", "required key"]),
    "invalid value": (
        params_text("client: X\ndata: {orders: data/orders.csv}\ngross_margin: 3\n"),
        ["gross_margin", "less than or equal"],
    ),
    "unknown time zone": (
        params_text("client: X\ndata: {orders: data/orders.csv}\ntimezone: Mars/Olympus\n"),
        ["timezone", "Mars/Olympus"],
    ),
    "missing orders file": (
        params_text("client: X\ndata: {orders: data/nope.csv}\n"),
        ["nope.csv", "file not found"],
    ),
    "path outside the folder": (
        params_text("client: X\ndata: {orders: ../../etc/passwd}\n"),
        ["outside the params file's folder"],
    ),
    "absolute path": (params_text("client: X\ndata: {orders: /etc/passwd}\n"), ["absolute"]),
    "empty file": (raw_file(b""), ["orders.csv", "empty"]),
    "header only": (
        raw_file(b"order_id,customer_id,order_date,channel,revenue\n"),
        ["orders.csv", "no rows"],
    ),
    "missing required column": (
        orders_client(
            [r[:4] + r[5:] for r in GOOD],
            header=("order_id", "customer_id", "order_date", "channel", "status"),
        ),
        ["orders.csv", "'revenue'", "missing required column"],
    ),
    "misnamed column": (
        orders_client(
            GOOD, header=("order_id", "customer_id", "order_date", "channel", "revenu", "status")
        ),
        ["'revenue'", "did you mean 'revenu'", "columns"],
    ),
    "wrong separator": (
        raw_file(b"order_id;customer_id;order_date;channel;revenue\n1;a;2024-01-05;web;10\n"),
        ["separator"],
    ),
    "latin-1 file": (
        raw_file(
            "order_id,customer_id,order_date,channel,revenue\n1,José,2024-01-05,web,10\n".encode(
                "latin-1"
            )
        ),
        ["orders.csv", "not UTF-8", "encoding"],
    ),
    "unparsable date": (
        orders_client(with_cell(1, "order_date", "2024-13-45")),
        ["orders.csv", "column 'order_date'", "row 2", "2024-13-45"],
    ),
    "mixed date formats": (
        orders_client(with_cell(2, "order_date", "5 Feb 2024")),
        ["column 'order_date'", "row 3"],
    ),
    "ambiguous day/month dates": (
        orders_client([(*r[:2], "05/01/2024", *r[3:]) for r in GOOD]),
        ["date_format", "ambiguous"],
    ),
    "future date": (
        orders_client(with_cell(0, "order_date", "2999-01-01")),
        ["column 'order_date'", "row 1", "after today"],
    ),
    "date before 1990": (
        orders_client(with_cell(2, "order_date", "1899-12-31")),
        ["column 'order_date'", "row 3", "1990"],
    ),
    "negative revenue": (
        orders_client(with_cell(1, "revenue", -5)),
        ["column 'revenue'", "row 2", "negative"],
    ),
    "non-numeric revenue": (
        orders_client(with_cell(0, "revenue", "12,50 EUR")),
        ["column 'revenue'", "row 1", "not a number"],
    ),
    "duplicate order ids": (
        orders_client([*GOOD, ("2", "b", "2024-01-07", "web", 999, "placed")]),
        ["column 'order_id'", "rows 2, 4", "duplicate"],
    ),
    "null customer id": (
        orders_client(with_cell(2, "customer_id", "")),
        ["column 'customer_id'", "row 3", "empty values"],
    ),
    "unmapped channel": (
        orders_client([*GOOD, ("4", "c", "2024-01-08", "Carrier pigeon", 5, "placed")]),
        ["column 'channel'", "row 4", "'Carrier pigeon' (1 orders)", "channels.online"],
    ),
    "survey score out of range": (
        lambda folder: write_client(
            folder,
            {
                "orders": (ORDER_HEADER, GOOD),
                "surveys": (
                    ("customer_id", "response_date", "score", "kind"),
                    [("a", "2024-01-05", 4, "csat"), ("b", "2024-01-05", 11, "nps")],
                ),
            },
        ),
        ["surveys.csv", "column 'score'", "row 2", "between 0 and 10"],
    ),
    "unknown survey kind": (
        lambda folder: write_client(
            folder,
            {
                "orders": (ORDER_HEADER, GOOD),
                "surveys": (
                    ("customer_id", "response_date", "score", "kind"),
                    [("a", "2024-01-05", 4, "ces")],
                ),
            },
        ),
        ["column 'kind'", "row 1"],
    ),
    "window with no orders": (
        orders_client(GOOD, window={"start": "2020-01-01", "end": "2020-12-31"}),
        ["no orders", "2024-01-05"],
    ),
    "window start after end": (
        orders_client(GOOD, window={"start": "2024-03-01", "end": "2024-01-01"}),
        ["window", "after end"],
    ),
    "excel data on a second sheet": (excel_second_sheet, ["orders.xlsx", "sheet", "Orders"]),
}
