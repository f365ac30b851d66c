"""The readers on small files: encodings, number marks, date forms, Excel cells, wide surveys.

Values are checked against plain Python on the raw text, never against the package.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from b2b_analysis.config import load_params
from b2b_analysis.errors import InputError
from b2b_analysis.formats import AmbiguousDates, day_month_format, parse_number
from b2b_analysis.io import DataWarning, load_table, read_source

ORDERS = "order_id,customer_id,order_date,channel,revenue\n1,José,2024-01-05,web,10\n"


def _params(folder: Path, orders: dict[str, object], **tables: object) -> Path:
    """A params file naming the given source entries."""
    path = folder / "client.yaml"
    path.write_text(json.dumps({"client": "X", "data": {"orders": orders, **tables}}))
    return path


def _file(folder: Path, name: str, content: bytes) -> str:
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / name).write_bytes(content)
    return f"data/{name}"


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (b"\xff\xfe" + ORDERS.encode("utf-16-le"), "utf8"),
        (b"\xfe\xff" + ORDERS.encode("utf-16-be"), "utf8"),
        (ORDERS.encode("utf-16-le"), "utf-16le"),
        (ORDERS.encode("cp1252"), "cp1252"),
        (ORDERS.encode("latin-1"), "latin-1"),
        ("\ufeff".encode() + ORDERS.encode(), "utf8"),
    ],
    ids=["utf16-le-bom", "utf16-be-bom", "utf16-le-param", "cp1252", "latin-1", "utf8-bom"],
)
def test_encodings_read_to_the_same_frame(tmp_path: Path, content: bytes, encoding: str) -> None:
    path = _file(tmp_path, "orders.csv", content)
    loaded = load_params(_params(tmp_path, {"path": path, "encoding": encoding}))
    frame, _ = read_source(loaded, "orders")
    expected = pl.DataFrame(
        [line.split(",") for line in ORDERS.splitlines()[1:]],
        schema=ORDERS.splitlines()[0].split(","),
        orient="row",
    )
    assert_frame_equal(frame, expected)


def _reference_number(text: str, decimal: str, thousands: str | None) -> float | None:
    """Plain Python: a number with these marks, or None (grouping by threes only)."""
    body = text.strip().lstrip("+-")
    whole, _, fraction = body.partition(decimal)
    groups = whole.split(thousands) if thousands else [whole]
    if not all(g.isdigit() for g in groups) or (fraction and not fraction.isdigit()):
        return None
    if len(groups) > 1 and (len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    value = float("".join(groups) + "." + (fraction or "0"))
    return -value if text.strip().startswith("-") else value


@pytest.mark.parametrize(
    ("decimal", "thousands"), [(".", None), (",", None), (",", "."), (".", ","), (",", " ")]
)
def test_numbers_with_marks_match_plain_python(decimal: str, thousands: str | None) -> None:
    texts = [
        "0",
        "12",
        "-7",
        "1234,5",
        "1234.5",
        "1.234,56",
        "1,234.56",
        "12 345,6",
        "1.2.3",
        "12.34",
        "12,3,4",
        "NaN",
        "inf",
        "12 EUR",
        "1.234.567",
        "1,234,567",
    ]
    value, valid = parse_number(pl.col("x"), decimal, thousands)
    got = pl.DataFrame({"x": texts}).select(value.alias("v"), valid.alias("ok"))
    for text, (number, ok) in zip(texts, got.rows(), strict=True):
        expected = _reference_number(text, decimal, thousands)
        assert ok == (expected is not None), (text, decimal, thousands)
        assert number == (pytest.approx(expected) if expected is not None else None), text


def test_german_marks_load_every_number_column(tmp_path: Path) -> None:
    header = "order_id;customer_id;order_date;channel;revenue;lines;cost"
    rows = ["1;a;02.01.2024;web;1.234,56;1.200;999,5", "2;b;13.01.2024;phone;0,99;2;0,1"]
    path = _file(tmp_path, "orders.csv", "\n".join([header, *rows]).encode())
    source = {"path": path, "separator": ";", "decimal": ",", "thousands": "."}
    frame, _ = load_table(load_params(_params(tmp_path, source)), "orders")
    assert isinstance(frame, pl.DataFrame)
    assert frame.get_column("revenue").to_list() == [1234.56, 0.99]
    assert frame.get_column("lines").to_list() == [1200, 2]
    assert frame.get_column("cost").to_list() == [999.5, 0.1]
    assert frame.get_column("order_date").to_list() == [dt.date(2024, 1, 2), dt.date(2024, 1, 13)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["13.01.2024", "01.02.2024"], "%d.%m.%Y"),
        (["01/13/2024 10:00:05", "02/01/2024 09:00:00"], "%m/%d/%Y %H:%M:%S"),
        (["5-1-2024", "25-1-2024"], "%d-%m-%Y"),
        (["05/01/24", "31/01/24"], "%d/%m/%y"),
        (["2024-01-05", "2024-01-31"], None),
        (["2024-01-05T10:00:00+01:00"], None),
    ],
)
def test_day_month_order_comes_from_the_values(values: list[str], expected: str | None) -> None:
    assert day_month_format(pl.Series(values)) == expected
    if expected is not None:
        parsed = pl.Series(values).str.to_datetime(expected).to_list()
        assert parsed == [dt.datetime.strptime(v, expected) for v in values]


def test_day_month_ambiguity_names_both_formats() -> None:
    with pytest.raises(AmbiguousDates) as caught:
        day_month_format(pl.Series(["01.02.2024 10:00", "12.11.2024 11:00", None]))
    assert caught.value.formats == ("%d.%m.%Y %H:%M", "%m.%d.%Y %H:%M")


def test_excel_cells_serial_dates_and_text_numbers(tmp_path: Path) -> None:
    """Number cells, text cells with decimal commas, serial and real date cells, ids
    typed as numbers: each read as the client meant it."""
    import xlsxwriter

    (tmp_path / "data").mkdir()
    with xlsxwriter.Workbook(tmp_path / "data" / "orders.xlsx") as book:
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["order_id", "customer_id", "order_date", "channel", "revenue"])
        sheet.write_row(1, 0, [1001, 7, 45296.25, "web", 10.5])
        sheet.write_row(2, 0, [1002, 8, "15.01.2024", "web", "1.000,25"])
        sheet.write_row(3, 0, [1003, 7, None, "web", 3])
        sheet.write_datetime(
            3, 2, dt.datetime(2024, 2, 1), book.add_format({"num_format": "d/m/yy"})
        )
    source = {"path": "data/orders.xlsx", "decimal": ",", "thousands": "."}
    loaded = load_params(_params(tmp_path, source))
    raw, _ = read_source(loaded, "orders")
    assert raw.get_column("order_date").to_list() == [
        "2024-01-05 06:00:00",
        "15.01.2024",
        "2024-02-01 00:00:00",
    ]
    assert raw.get_column("revenue").to_list() == ["10,5", "1.000,25", "3,0"]
    assert raw.get_column("order_id").to_list() == ["1001", "1002", "1003"]
    # a column mixing Excel dates and dd.mm.yyyy text cells is two forms: refused, by row
    # (the day/month order is decided by the text cells, so the Excel dates are named)
    with pytest.raises(InputError, match=r"'order_date': rows 1, 3: cannot parse '2024-01-05 06"):
        load_table(loaded, "orders")


def test_excel_number_columns_stay_numbers(tmp_path: Path) -> None:
    import xlsxwriter

    (tmp_path / "data").mkdir()
    with xlsxwriter.Workbook(tmp_path / "data" / "orders.xlsx") as book:
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["order_id", "customer_id", "order_date", "channel", "revenue"])
        sheet.write_row(1, 0, ["A", "a", 45296, "web", 1234.5])
        sheet.write_row(2, 0, ["B", "b", 45297, "web", 0.25])
    loaded = load_params(_params(tmp_path, {"path": "data/orders.xlsx", "decimal": ","}))
    frame, _ = load_table(loaded, "orders")
    assert isinstance(frame, pl.DataFrame)
    assert frame.get_column("revenue").to_list() == [1234.5, 0.25]
    assert frame.get_column("order_date").to_list() == [dt.date(2024, 1, 5), dt.date(2024, 1, 6)]


def test_wide_surveys_become_one_row_per_response(tmp_path: Path) -> None:
    orders = _file(tmp_path, "orders.csv", ORDERS.encode())
    text = "Kunde,Datum,CSAT,NPS\na,2024-01-05,4,9\nb,2024-01-06,,3\nc,2024-01-07,5,\n"
    surveys = {
        "path": _file(tmp_path, "surveys.csv", text.encode()),
        "columns": {"customer_id": "Kunde", "response_date": "Datum", "csat": "CSAT", "nps": "NPS"},
    }
    loaded = load_params(_params(tmp_path, {"path": orders}, surveys=surveys))
    frame, _ = load_table(loaded, "surveys")
    assert isinstance(frame, pl.DataFrame)
    expected = []
    for line in text.splitlines()[1:]:
        customer, date, csat, nps = line.split(",")
        for kind, score in (("csat", csat), ("nps", nps)):
            if score:
                expected.append((customer, dt.date.fromisoformat(date), float(score), kind))
    got = frame.select(pl.col("customer_id").cast(pl.String), "response_date", "score", "kind")
    assert got.rows() == expected


def test_wide_and_long_survey_mappings_do_not_mix(tmp_path: Path) -> None:
    surveys = {"path": "s.csv", "columns": {"score": "S", "csat": "C"}}
    with pytest.raises(InputError, match=r"surveys.columns maps both 'score'/'kind'"):
        load_params(_params(tmp_path, {"path": "o.csv"}, surveys=surveys))


def test_a_key_given_twice_names_it_and_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "client.yaml"
    path.write_text("client: X\ndata:\n  orders: o.csv\nperiod: week\nclient: Y\n")
    with pytest.raises(InputError, match=re.escape("key 'client' is given twice (lines 1 and 5)")):
        load_params(path)


def test_errors_name_the_clients_column(tmp_path: Path) -> None:
    path = _file(tmp_path, "orders.csv", b"Nr,Kunde,Datum,Kanal,Umsatz\n1,a,2024-01-05,web,-3\n")
    columns = {
        "order_id": "Nr",
        "customer_id": "Kunde",
        "order_date": "Datum",
        "channel": "Kanal",
        "revenue": "Umsatz",
    }
    loaded = load_params(_params(tmp_path, {"path": path, "columns": columns}))
    with pytest.raises(InputError) as caught:
        load_table(loaded, "orders")
    assert caught.value.column == "revenue" and caught.value.source_column == "Umsatz"
    assert ": column 'revenue (Umsatz)': row 1: negative revenue on orders" in str(caught.value)


def test_wide_survey_rows_without_scores_warn(tmp_path: Path) -> None:
    orders = _file(tmp_path, "orders.csv", ORDERS.encode())
    text = "c,d,CSAT\na,2024-01-05,4\nb,2024-01-06,\n"
    surveys = {
        "path": _file(tmp_path, "surveys.csv", text.encode()),
        "columns": {"customer_id": "c", "response_date": "d", "csat": "CSAT"},
    }
    loaded = load_params(_params(tmp_path, {"path": orders}, surveys=surveys))
    with pytest.warns(DataWarning, match=r"1 survey row\(s\) have no score"):
        frame, _ = load_table(loaded, "surveys")
    assert isinstance(frame, pl.DataFrame) and frame.height == 1
