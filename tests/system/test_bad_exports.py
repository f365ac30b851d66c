"""Real client exports through the command line: formats read as they are, or one exact line.

Each bad-export case builds a small client in a folder and states the whole ``error:``
line that ``b2b-analysis`` must print (exit code 2, nothing on stdout, no traceback,
never "internal error"). The exports that are usable are loaded and their KPIs are
checked against plain Python on the raw values.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from tests.support.clientkit import ORDER_HEADER, run_cli, write_client

HEADER = ",".join(ORDER_HEADER)
GOOD = [
    ("1", "a", "2024-01-05", "web", "100", "placed"),
    ("2", "b", "2024-01-16", "phone", "200", "placed"),
    ("3", "a", "2024-02-05", "web", "150", "placed"),
]


def _text(rows: list[tuple[str, ...]], sep: str = ",", header: str = HEADER) -> str:
    return "\n".join([header.replace(",", sep), *(sep.join(r) for r in rows)]) + "\n"


def _client(folder: Path, content: bytes, name: str = "orders.csv", **source: object) -> Path:
    """A params file whose orders are ``data/<name>`` holding ``content`` as given."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / name).write_bytes(content)
    entry = {"path": f"data/{name}", **source}
    path = folder / "client.yaml"
    path.write_text(json.dumps({"client": "X", "data": {"orders": entry}}), encoding="utf-8")
    return path


def _orders(folder: Path) -> str:
    return str(folder.resolve() / "data" / "orders.csv")


@dataclass(frozen=True)
class Case:
    """A broken export: ``build`` writes it and returns the command line's arguments;
    ``line`` gives the exact error line, from the folder."""

    build: Callable[[Path], list[str]]
    line: Callable[[Path], str]


def _kpis(build: Callable[[Path], Path], *extra: str) -> Callable[[Path], list[str]]:
    return lambda folder: ["kpis", str(build(folder)), "--format", "json", *extra]


def _csv(text: str, encoding: str = "utf-8", **source: object) -> Callable[[Path], list[str]]:
    return _kpis(lambda folder: _client(folder, text.encode(encoding), **source))


def _with(index: int, column: str, value: str) -> list[tuple[str, ...]]:
    rows = [list(r) for r in GOOD]
    rows[index][ORDER_HEADER.index(column)] = value
    return [tuple(r) for r in rows]


def _parquet(revenue: list[float], *extra: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> Path:
        frame = pl.DataFrame(
            {
                "order_id": ["1", "2", "3"],
                "customer_id": ["a", "b", "a"],
                "order_date": [dt.date(2024, 1, 5), dt.date(2024, 1, 6), dt.date(2024, 2, 5)],
                "channel": ["web", "phone", "web"],
                "revenue": revenue,
            }
        )
        (folder / "data").mkdir(parents=True)
        frame.write_parquet(folder / "data" / "orders.parquet")
        return _client(folder, (folder / "data" / "orders.parquet").read_bytes(), "orders.parquet")

    return _kpis(build, *extra)


def _truncated_parquet(*extra: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> Path:
        frame = pl.DataFrame({"order_id": [str(i) for i in range(2000)], "revenue": [1.0] * 2000})
        (folder / "data").mkdir(parents=True)
        frame.write_parquet(folder / "data" / "full.parquet")
        whole = (folder / "data" / "full.parquet").read_bytes()
        return _client(folder, whole[: len(whole) // 2], "orders.parquet")

    return _kpis(build, *extra)


def _params(text: str) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> Path:
        _client(folder, _text(GOOD).encode())
        (folder / "client.yaml").write_text(text, encoding="utf-8")
        return folder / "client.yaml"

    return _kpis(build)


def _out(command: str, target: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> list[str]:
        params = _client(folder, _text(GOOD).encode())
        (folder / "taken").write_text("not a folder")
        if command == "demo":
            return ["demo", "--params-dir", str(folder / "demo"), "--out", str(target(folder))]
        return ["report", str(params), "--out", str(target(folder))]

    return build


def _surveys(header: str, rows: list[str], columns: dict[str, str]) -> Callable[[Path], list[str]]:
    def build(folder: Path) -> Path:
        write_client(folder, {"orders": (ORDER_HEADER, GOOD)})
        (folder / "data" / "surveys.csv").write_text("\n".join([header, *rows]) + "\n")
        document = {
            "client": "X",
            "data": {
                "orders": "data/orders.csv",
                "surveys": {"path": "data/surveys.csv", "columns": columns},
            },
        }
        (folder / "client.yaml").write_text(json.dumps(document))
        return folder / "client.yaml"

    return _kpis(build)


def _surveys_file(folder: Path) -> str:
    return str(folder.resolve() / "data" / "surveys.csv")


AMBIGUOUS_TIMES = [
    ("1", "a", "05/01/2024 10:30", "web", "100", "placed"),
    ("2", "b", "06/01/2024 11:00", "phone", "200", "placed"),
]
SEMICOLON_DECIMAL_COMMA = (
    "order_id;customer_id;order_date;channel;revenue\n1;a;2024-01-05;web;12,50\n"
)

CASES: dict[str, Case] = {
    "NaN amount in a CSV": Case(
        _csv(_text(_with(1, "revenue", "NaN"))),
        lambda f: (
            f"error: {_orders(f)}: column 'revenue': row 2: 'NaN' is not a number "
            "(read with decimal '.', no thousands separator)"
        ),
    ),
    "infinite amount in a CSV": Case(
        _csv(_text(_with(2, "revenue", "-inf"))),
        lambda f: (
            f"error: {_orders(f)}: column 'revenue': row 3: '-inf' is not a number "
            "(read with decimal '.', no thousands separator)"
        ),
    ),
    "NaN and infinite amounts in Parquet": Case(
        _parquet([1.0, float("nan"), float("inf")]),
        lambda f: (
            f"error: {f.resolve()}/data/orders.parquet: column 'revenue': rows 2, 3: "
            "NaN or infinite values (nan, inf) are not numbers; fix the export "
            "(an unknown value is an empty cell)"
        ),
    ),
    "NaN amount in Parquet, streaming": Case(
        _parquet([float("nan"), 1.0, 2.0], "--streaming"),
        lambda f: (
            f"error: {f.resolve()}/data/orders.parquet: column 'revenue': row 1: "
            "NaN or infinite values (nan) are not numbers; fix the export "
            "(an unknown value is an empty cell)"
        ),
    ),
    "two columns with the same name": Case(
        _csv(_text(GOOD, header=HEADER.replace("status", "revenue"))),
        lambda f: (
            f"error: {_orders(f)}: the header names 'revenue' twice (columns 5 and 6); "
            "rename one of them in the export"
        ),
    ),
    "day/month dates with a time of day": Case(
        _csv(_text(AMBIGUOUS_TIMES)),
        lambda f: (
            f"error: {_orders(f)}: column 'order_date': dates such as '05/01/2024 10:30' "
            "are ambiguous: no day or month is above 12, so they fit date_format "
            "'%d/%m/%Y %H:%M' (day first) and '%m/%d/%Y %H:%M' (month first); set the right "
            "one on this table in the params file"
        ),
    ),
    "dotted day/month dates, all days up to 12": Case(
        _csv(_text([_with(0, "order_date", "05.01.2024")[0]])),
        lambda f: (
            f"error: {_orders(f)}: column 'order_date': dates such as '05.01.2024' are "
            "ambiguous: no day or month is above 12, so they fit date_format '%d.%m.%Y' "
            "(day first) and '%m.%d.%Y' (month first); set the right one on this table in "
            "the params file"
        ),
    ),
    "day-first and month-first dates mixed": Case(
        _csv(
            _text(
                [
                    *_with(0, "order_date", "25/01/2024")[:1],
                    *_with(1, "order_date", "01/26/2024")[1:2],
                ]
            )
        ),
        lambda f: (
            f"error: {_orders(f)}: column 'order_date': row 2: cannot parse '01/26/2024' "
            "as a date (mixed or unknown formats); they fit date_format '%m/%d/%Y' "
            "(one format must fit every row)"
        ),
    ),
    "date_format that does not fit the values": Case(
        _csv(_text(_with(0, "order_date", "25.01.2024")[:1]), date_format="%d/%m/%Y"),
        lambda f: (
            f"error: {_orders(f)}: column 'order_date': row 1: cannot parse '25.01.2024' "
            "as a date with date_format '%d/%m/%Y'; they fit date_format '%d.%m.%Y' "
            "(one format must fit every row)"
        ),
    ),
    "Excel serial numbers in a CSV": Case(
        _csv(_text([("1", "a", "45296", "web", "100", "placed")])),
        lambda f: (
            f"error: {_orders(f)}: column 'order_date': cannot parse '45296' as dates; "
            "numbers such as these are Excel serial dates: read the Excel file itself, or "
            "export the column as dates"
        ),
    ),
    "truncated Parquet, streaming": Case(
        _truncated_parquet("--streaming"),
        lambda f: (
            f"error: {f.resolve()}/data/orders.parquet: cannot read the file: parquet: "
            "File out of specification: The file must end with PAR1 or PARE"
        ),
    ),
    "truncated Parquet, in memory": Case(
        _truncated_parquet(),
        lambda f: (
            f"error: {f.resolve()}/data/orders.parquet: cannot read the file: parquet: "
            "File out of specification: The file must end with PAR1 or PARE"
        ),
    ),
    "a row with too many fields": Case(
        _csv(_text(GOOD) + "4,c,2024-02-06,web,1,250,placed\n"),
        lambda f: (
            f"error: {_orders(f)}: line 5 has 7 fields but the header (line 1) has 6; "
            "quote values that contain the separator, or fix the export"
        ),
    ),
    "a title line above the header": Case(
        _csv("Orders export 2024\n" + _text(GOOD)),
        lambda f: (
            f"error: {_orders(f)}: line 1 looks like a title above the header on line 2 "
            "(1 field where the header has 6): delete it, or set skip_rows: 1 under "
            "data.orders in the params file"
        ),
    ),
    "two title lines above the header": Case(
        _csv("Orders export\nExported;2024-03-01\n" + _text(GOOD)),
        lambda f: (
            f"error: {_orders(f)}: lines 1-2 look like a title above the header on line 3 "
            "(1 field where the header has 6): delete them, or set skip_rows: 2 under "
            "data.orders in the params file"
        ),
    ),
    "UTF-16 without a byte-order mark": Case(
        _csv(_text(GOOD), encoding="utf-16-le"),
        lambda f: (
            f"error: {_orders(f)}: line 1 holds NUL bytes; it looks like "
            "UTF-16 without a byte-order mark: set 'encoding: utf-16le' (or utf-16be) on this "
            "table in the params file"
        ),
    ),
    "Windows text read as UTF-8": Case(
        _csv(_text(_with(2, "customer_id", "Müller")), encoding="cp1252"),
        lambda f: (
            f"error: {_orders(f)}: line 4 is not UTF-8 (byte 0xfc); the file is "
            "probably Windows or Latin-1 text: set 'encoding: cp1252' (or latin-1) on this table "
            "in the params file"
        ),
    ),
    "a byte cp1252 does not define": Case(
        _kpis(
            lambda f: _client(
                f, _text(GOOD).encode() + b"4,\x81,2024-02-06,web,1,placed\n", encoding="cp1252"
            )
        ),
        lambda f: (
            f"error: {_orders(f)}: line 5 is not cp1252 (byte 0x81); set the file's "
            "real 'encoding' (utf8, cp1252, latin-1, utf-16le) on this table in the params file"
        ),
    ),
    "a key given twice in the params file": Case(
        _params(
            "client: X\ndata: {orders: data/orders.csv}\ngross_margin: 0.3\ngross_margin: 0.4\n"
        ),
        lambda f: (
            f"error: {f.resolve()}/client.yaml: key 'gross_margin' is given twice "
            "(lines 3 and 4); keep one"
        ),
    ),
    "a column mapped twice in the params file": Case(
        _params(
            "client: X\ndata:\n  orders:\n    path: data/orders.csv\n    columns:\n"
            "      revenue: Umsatz\n      revenue: Netto\n"
        ),
        lambda f: (
            f"error: {f.resolve()}/client.yaml: key 'revenue' is given twice "
            "(lines 6 and 7); keep one"
        ),
    ),
    "an impossible date in the params file": Case(
        _params("client: X\ndata: {orders: data/orders.csv}\nwindow: {start: 2024-02-30}\n"),
        lambda f: (
            f"error: {f.resolve()}/client.yaml: window.start: '2024-02-30' is not a date "
            "(day is out of range for month); write it as YYYY-MM-DD"
        ),
    ),
    "report --out is an existing file": Case(
        _out("report", lambda f: f / "taken"),
        lambda f: f"error: --out {f / 'taken'} is an existing file, not a folder; give a folder",
    ),
    "report --out cannot be created": Case(
        _out("report", lambda f: f / "taken" / "reports"),
        lambda f: (
            f"error: --out {f / 'taken' / 'reports'} is not a writable folder "
            "(Not a directory); give another"
        ),
    ),
    "demo --out is an existing file": Case(
        _out("demo", lambda f: f / "taken"),
        lambda f: f"error: --out {f / 'taken'} is an existing file, not a folder; give a folder",
    ),
    "tab-separated file read with commas": Case(
        _csv(_text(GOOD, sep="\t")),
        lambda f: (
            f"error: {_orders(f)}: missing required column(s) 'order_id', 'customer_id', "
            "'order_date', 'channel', 'revenue'; the file has "
            "['order_id\\tcustomer_id\\torder_date\\tchannel\\trevenue\\tstatus']; with separator "
            "'\\t' the header has the columns this table needs: set separator: '\\t' under "
            "data.orders"
        ),
    ),
    "semicolons and decimal commas read with commas": Case(
        _csv(SEMICOLON_DECIMAL_COMMA),
        lambda f: (
            f"error: {_orders(f)}: the rows do not fit separator ','; with separator ';' "
            "the header has the columns this table needs: set separator: ';' under data.orders"
        ),
    ),
    "pipe-separated file read with semicolons": Case(
        _csv(_text(GOOD, sep="|"), separator=";"),
        lambda f: (
            f"error: {_orders(f)}: missing required column(s) 'order_id', 'customer_id', "
            "'order_date', 'channel', 'revenue'; the file has "
            "['order_id|customer_id|order_date|channel|revenue|status']; with separator '|' the "
            "header has the columns this table needs: set separator: '|' under data.orders"
        ),
    ),
    "German amounts with the default marks": Case(
        _csv(_text(_with(1, "revenue", '"1.234,56"'))),
        lambda f: (
            f"error: {_orders(f)}: column 'revenue': row 2: '1.234,56' is not a number "
            "(read with decimal '.', no thousands separator); they read as numbers with decimal "
            "',', thousands '.': set decimal: ',' and thousands: '.' under data.orders"
        ),
    ),
    "English amounts with German marks": Case(
        _csv(_text(_with(0, "revenue", '"1,234.56"')), decimal=",", thousands="."),
        lambda f: (
            f"error: {_orders(f)}: column 'revenue': row 1: '1,234.56' is not a number "
            "(read with decimal ',', thousands '.'); they read as numbers with decimal '.', "
            "thousands ',': set decimal: '.' and thousands: ',' under data.orders"
        ),
    ),
    "thousands dots in a wrong place": Case(
        _csv(_text(_with(2, "revenue", "12.34")), decimal=",", thousands="."),
        lambda f: (
            f"error: {_orders(f)}: column 'revenue': row 3: '12.34' is not a number "
            "(read with decimal ',', thousands '.'); they read as numbers with decimal '.', no "
            "thousands separator: set decimal: '.' and remove thousands under data.orders"
        ),
    ),
    "decimal and thousands marks the same": Case(
        _csv(_text(GOOD), decimal=",", thousands=","),
        lambda f: (
            f"error: {f.resolve()}/client.yaml: data.orders: decimal and thousands are both ','"
        ),
    ),
    "a mapped column names the client's own name": Case(
        _csv(
            _text(_with(1, "revenue", "viel"), header=HEADER.replace("revenue", "Umsatz")),
            columns={"revenue": "Umsatz"},
        ),
        lambda f: (
            f"error: {_orders(f)}: column 'revenue (Umsatz)': row 2: 'viel' is not a "
            "number (read with decimal '.', no thousands separator)"
        ),
    ),
    "a wide survey score out of its scale": Case(
        _surveys(
            "Kunde,Datum,Zufriedenheit,Empfehlung",
            ["a,2024-01-10,4,", "b,2024-01-11,,11"],
            {
                "customer_id": "Kunde",
                "response_date": "Datum",
                "csat": "Zufriedenheit",
                "nps": "Empfehlung",
            },
        ),
        lambda f: (
            f"error: {_surveys_file(f)}: column 'score (Zufriedenheit/Empfehlung)': row 2: "
            "nps scores must be between 0 and 10"
        ),
    ),
    "a wide survey column that is not in the file": Case(
        _surveys(
            "customer_id,response_date,CSAT",
            ["a,2024-01-10,4"],
            {"csat": "CSAT", "nps": "NPS"},
        ),
        lambda f: (
            f"error: {_surveys_file(f)}: missing survey column(s) 'nps' (mapped from "
            "'NPS'); the file has ['customer_id', 'response_date', 'CSAT']"
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_export_is_one_exact_line(tmp_path: Path, case: str) -> None:
    args = CASES[case].build(tmp_path)
    result = run_cli(*args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == [CASES[case].line(tmp_path)], result.stderr


# ------------------------------------------------------------------ exports that load


def _german(amount: str) -> float:
    """An amount written with decimal comma and thousands dots, read by plain Python."""
    return float(amount.replace(".", "").replace(",", "."))


def _load(params: Path) -> dict[str, object]:
    result = run_cli("kpis", str(params), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _order_dates(params: Path) -> tuple[str, str]:
    """The first and last order date as loaded (the default window is widened to whole
    periods, so it no longer shows the dates themselves)."""
    from b2b_analysis import load_client, load_params

    dates = load_client(load_params(params)).orders.get_column("order_date")
    return str(dates.min()), str(dates.max())


def test_german_erp_export_loads_as_it_is(tmp_path: Path) -> None:
    """Semicolons, cp1252, decimal commas with thousands dots, dd.mm.yyyy dates."""
    rows = [
        ("A-1", "Müller GmbH", "02.01.2024", "web", "1.234,56", "placed"),
        ("A-2", "Köhler KG", "15.01.2024", "phone", "99,90", "placed"),
        ("A-3", "Müller GmbH", "03.02.2024", "web", "12.000,00", "placed"),
        ("A-4", "Weiß AG", "28.02.2024", "web", "0,5", "cancelled"),
    ]
    content = _text(rows, sep=";").encode("cp1252")
    params = _client(
        tmp_path, content, separator=";", encoding="cp1252", decimal=",", thousands="."
    )
    doc = _load(params)
    placed = [_german(r[4]) for r in rows if r[5] == "placed"]
    assert doc["kpis"]["net_revenue"] == pytest.approx(sum(placed))
    assert _order_dates(params) == ("2024-01-02", "2024-02-28")
    assert doc["window"] == {"start": "2024-01-01", "end": "2024-02-29"}  # whole months
    assert doc["kpis"]["customers"] == 2


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_loads(tmp_path: Path, codec: str) -> None:
    bom = "\ufeff".encode(codec)
    params = _client(tmp_path, bom + _text(GOOD).encode(codec))
    assert _load(params)["kpis"]["net_revenue"] == 450


def test_utf16_without_a_mark_loads_with_its_encoding(tmp_path: Path) -> None:
    params = _client(tmp_path, _text(GOOD).encode("utf-16-be"), encoding="utf-16be")
    assert _load(params)["kpis"]["net_revenue"] == 450


def test_title_lines_are_skipped_with_skip_rows(tmp_path: Path) -> None:
    params = _client(tmp_path, ("Orders export\n" + _text(GOOD)).encode(), skip_rows=1)
    assert _load(params)["kpis"]["orders"] == 3


def test_day_month_dates_with_a_time_load_once_the_format_is_given(tmp_path: Path) -> None:
    params = _client(tmp_path, _text(AMBIGUOUS_TIMES).encode(), date_format="%m/%d/%Y %H:%M")
    assert _load(params)["window"] == {"start": "2024-05-01", "end": "2024-06-30"}
    assert _order_dates(params) == ("2024-05-01", "2024-06-01")


@pytest.mark.parametrize(
    ("dates", "window"),
    [
        (["05.01.2024", "25.01.2024 08:15"], None),  # the time is dropped: 2 formats
        (["05.01.2024", "25.01.2024"], ("2024-01-05", "2024-01-25")),
        (["01/05/2024 10:00", "01/25/2024 09:30"], ("2024-01-05", "2024-01-25")),
        (["05-01-2024", "25-01-2024"], ("2024-01-05", "2024-01-25")),
        (["05/01/24", "25/01/24"], ("2024-01-05", "2024-01-25")),
        (["2024-01-05T10:00:00+01:00", "2024-01-25T09:30:00Z"], ("2024-01-05", "2024-01-25")),
    ],
)
def test_common_date_forms_are_recognised(
    tmp_path: Path, dates: list[str], window: tuple[str, str] | None
) -> None:
    rows = [(str(i), "a", d, "web", "10", "placed") for i, d in enumerate(dates)]
    params = _client(tmp_path, _text(rows).encode())
    result = run_cli("kpis", str(params), "-f", "json")
    if window is None:  # a column mixing dates with and without a time names the row
        assert result.returncode == 2 and "row 1" in result.stderr, result.stderr
        return
    assert result.returncode == 0, result.stderr
    assert _order_dates(params) == window


def test_excel_serial_dates_and_a_numeric_sheet(tmp_path: Path) -> None:
    """Dates typed as numbers (Excel serials), a real date cell, text amounts with
    decimal commas among number cells, on the second sheet given by number."""
    import xlsxwriter

    (tmp_path / "data").mkdir()
    with xlsxwriter.Workbook(tmp_path / "data" / "orders.xlsx") as book:
        book.add_worksheet("Cover").write(0, 0, "exported by the ERP")
        sheet = book.add_worksheet("Orders")
        sheet.write_row(0, 0, ORDER_HEADER)
        sheet.write_row(1, 0, ["1", "a", 45296, "web", 100.5, "placed"])  # 2024-01-05
        sheet.write_row(2, 0, ["2", "b", 45322.75, "phone", "1.200,25", "placed"])  # 2024-01-31
        sheet.write_row(3, 0, ["3", "a", None, "web", 7, "placed"])
        sheet.write_datetime(
            3, 2, dt.datetime(2024, 2, 5), book.add_format({"num_format": "dd.mm.yyyy"})
        )
    (tmp_path / "client.yaml").write_text(
        json.dumps(
            {
                "client": "X",
                "data": {
                    "orders": {
                        "path": "data/orders.xlsx",
                        "sheet": 2,
                        "decimal": ",",
                        "thousands": ".",
                    }
                },
            }
        )
    )
    doc = _load(tmp_path / "client.yaml")
    assert _order_dates(tmp_path / "client.yaml") == ("2024-01-05", "2024-02-05")
    assert doc["window"] == {"start": "2024-01-01", "end": "2024-02-29"}  # whole months
    assert doc["kpis"]["net_revenue"] == pytest.approx(100.5 + 1200.25 + 7)


def test_wide_survey_export_is_one_response_per_cell(tmp_path: Path) -> None:
    """A survey tool's export: one row per reply, a CSAT and an NPS column, either may be empty."""
    replies = [
        ("a", "10.01.2024", "5", "10"),
        ("b", "11.01.2024", "2", ""),
        ("a", "12.01.2024", "", "6"),
        ("b", "13.01.2024", "4", "9"),
        ("a", "14.01.2024", "4,0", "8"),
    ]
    write_client(tmp_path, {"orders": (ORDER_HEADER, GOOD)})
    lines = ["Kunde;Datum;Zufriedenheit;Empfehlung", *(";".join(r) for r in replies)]
    (tmp_path / "data" / "surveys.csv").write_text("\n".join(lines) + "\n")
    surveys = {
        "path": "data/surveys.csv",
        "separator": ";",
        "decimal": ",",
        "columns": {
            "customer_id": "Kunde",
            "response_date": "Datum",
            "csat": "Zufriedenheit",
            "nps": "Empfehlung",
        },
    }
    document = {"client": "X", "data": {"orders": "data/orders.csv", "surveys": surveys}}
    (tmp_path / "client.yaml").write_text(json.dumps(document))
    kpis = _load(tmp_path / "client.yaml")["kpis"]
    csat = [float(r[2].replace(",", ".")) for r in replies if r[2]]
    nps = [int(r[3]) for r in replies if r[3]]
    assert kpis["csat"] == pytest.approx(sum(s >= 4 for s in csat) / len(csat))
    promoters, detractors = sum(s >= 9 for s in nps), sum(s <= 6 for s in nps)
    assert kpis["nps"] == pytest.approx(100 * (promoters - detractors) / len(nps))


def test_wide_survey_rows_without_any_score_are_reported(tmp_path: Path) -> None:
    write_client(tmp_path, {"orders": (ORDER_HEADER, GOOD)})
    (tmp_path / "data" / "surveys.csv").write_text("c,d,CSAT\na,2024-01-10,4\nb,2024-01-11,\n")
    surveys = {
        "path": "data/surveys.csv",
        "columns": {"customer_id": "c", "response_date": "d", "csat": "CSAT"},
    }
    document = {"client": "X", "data": {"orders": "data/orders.csv", "surveys": surveys}}
    (tmp_path / "client.yaml").write_text(json.dumps(document))
    result = run_cli("kpis", str(tmp_path / "client.yaml"), "-f", "json")
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: {_surveys_file(tmp_path)}: 1 survey row(s) have no score in ['CSAT']: "
        "they hold no response and are left out"
    ) in result.stderr
    assert json.loads(result.stdout)["kpis"]["csat"] == 1.0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_report_out_in_a_read_only_folder(tmp_path: Path) -> None:
    params = _client(tmp_path, _text(GOOD).encode())
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = run_cli("report", str(params), "--out", str(locked / "reports"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: --out {locked / 'reports'} is not a writable folder (Permission denied); "
        "give another"
    )


# ------------------------------------------------------------------ files read as named


def _damaged_ids_parquet(folder: Path) -> Path:
    """Orders in Parquet whose first page of customer ids is damaged, the other columns
    intact: found by writing the table twice with other ids (the first byte where the two
    files differ lies in the ids) and scrambling the bytes from there."""
    (folder / "data").mkdir(parents=True)

    def written(prefix: str) -> bytes:
        n = 2000
        frame = pl.DataFrame(
            {
                "order_id": [str(i) for i in range(n)],
                "customer_id": [f"{prefix}{(i * 7919) % 997}" for i in range(n)],
                "order_date": [dt.date(2024, 1, 5)] * n,
                "channel": ["web"] * n,
                "revenue": [float(i) for i in range(n)],
                "status": ["placed"] * n,
            }
        )
        path = folder / "data" / f"{prefix}.parquet"
        frame.write_parquet(path, compression="zstd", row_group_size=500)
        return path.read_bytes()

    intact, other = written("a"), written("b")
    start = next(i for i, (x, y) in enumerate(zip(intact, other, strict=False)) if x != y)
    damaged = bytearray(intact)
    for i in range(start, start + 24):
        damaged[i] = (damaged[i] * 7 + 13) % 256
    return _client(folder, bytes(damaged), "orders.parquet")


@pytest.mark.parametrize("mode", [[], ["--streaming"]], ids=["in memory", "streaming"])
def test_damaged_customer_ids_are_the_file_error(tmp_path: Path, mode: list[str]) -> None:
    # in memory the ids are read apart from the other columns, and streaming passes read
    # them before the checks: either way the file is refused, not an internal error
    params = _damaged_ids_parquet(tmp_path)
    intact = pl.read_parquet(tmp_path / "data" / "orders.parquet", columns=["order_id"])
    assert intact.height == 2000  # the other columns read well
    result = run_cli("kpis", str(params), "--format", "json", *mode)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    file = tmp_path.resolve() / "data" / "orders.parquet"
    assert len(lines) == 1 and lines[0].startswith(f"error: {file}: cannot read the file: "), lines


@pytest.mark.parametrize("kind", ["csv", "parquet", "parquet streaming"])
def test_a_file_name_with_brackets_is_that_file(tmp_path: Path, kind: str) -> None:
    # polars reads "orders[1].csv" as a pattern by default, matching "orders1.csv"
    suffix = kind.split()[0]
    for name, revenue in (("orders[1]", 100), ("orders1", 999)):
        frame = pl.DataFrame(
            {column: [value] for column, value in zip(ORDER_HEADER, GOOD[0], strict=True)}
        ).with_columns(pl.col("order_date").str.to_date(), pl.lit(float(revenue)).alias("revenue"))
        (tmp_path / "data").mkdir(exist_ok=True)
        path = tmp_path / "data" / f"{name}.{suffix}"
        frame.write_csv(path) if suffix == "csv" else frame.write_parquet(path)
    params = _client(tmp_path, (tmp_path / "data" / f"orders[1].{suffix}").read_bytes(),
                     f"orders[1].{suffix}")  # fmt: skip
    extra = ["--streaming"] if kind.endswith("streaming") else []
    result = run_cli("kpis", str(params), "--format", "json", *extra)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["net_revenue"] == 100


def test_a_column_named_like_the_row_numbers_is_not_taken_for_them(tmp_path: Path) -> None:
    # a client column "_row" once stood in for the toolkit's own row numbers: every row
    # "row 1", so an exact duplicate was kept and its revenue counted twice
    rows = [(*GOOD[0], "1"), (*GOOD[1], "1"), (*GOOD[1], "1"), (*GOOD[2], "1")]
    params = _client(tmp_path, _text(rows, header=HEADER + ",_row").encode())
    result = run_cli("kpis", str(params), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["net_revenue"] == 100 + 200 + 150
    assert "1 exact duplicate row(s) dropped (first at row 3)" in result.stderr
