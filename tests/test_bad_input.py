"""Bad input through the command line: one clear line, exit code 2, no traceback.

Each case writes a small broken client and checks that ``b2b-analysis kpis``
names the file, the column and the rows at fault (or the params key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from clientkit import ORDER_HEADER, run_cli, write_client

GOOD = [
    ("1", "a", "2024-01-05", "web", 100, "placed"),
    ("2", "b", "2024-01-06", "phone", 200, "placed"),
    ("3", "a", "2024-02-05", "web", 150, "placed"),
]


def _with(row_index: int, column: str, value: object) -> list[tuple]:
    """GOOD with one cell replaced (row_index is 0-based; the error reports it 1-based)."""
    rows = [list(r) for r in GOOD]
    rows[row_index][ORDER_HEADER.index(column)] = value
    return [tuple(r) for r in rows]


def _orders_client(
    rows: list[tuple], header: tuple[str, ...] = ORDER_HEADER, **params: object
) -> Callable[[Path], Path]:
    return lambda folder: write_client(folder, {"orders": (header, rows)}, **params)


def _raw_file(content: bytes, name: str = "orders.csv", **params: object) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        params_file = write_client(folder, {"orders": (ORDER_HEADER, GOOD)}, **params)
        (folder / "data" / name).write_bytes(content)
        return params_file

    return build


def _params_text(text: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        write_client(folder, {"orders": (ORDER_HEADER, GOOD)})
        path = folder / "client.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return build


def _excel_second_sheet(folder: Path) -> Path:
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
        _params_text("client: [unclosed\ndata: {orders: x.csv}\n"),
        ["client.yaml", "malformed YAML", "line"],
    ),
    "unknown params key": (
        _params_text("client: X\ndata: {orders: data/orders.csv}\ngross_margn: 0.3\n"),
        ["gross_margn", "unknown key"],
    ),
    "params not a mapping": (_params_text("- just\n- a list\n"), ["YAML mapping"]),
    "missing required key": (_params_text("client: X\n"), ["data", "required key"]),
    "invalid value": (
        _params_text("client: X\ndata: {orders: data/orders.csv}\ngross_margin: 3\n"),
        ["gross_margin", "less than or equal"],
    ),
    "unknown time zone": (
        _params_text("client: X\ndata: {orders: data/orders.csv}\ntimezone: Mars/Olympus\n"),
        ["timezone", "Mars/Olympus"],
    ),
    "missing orders file": (
        _params_text("client: X\ndata: {orders: data/nope.csv}\n"),
        ["nope.csv", "file not found"],
    ),
    "path outside the folder": (
        _params_text("client: X\ndata: {orders: ../../etc/passwd}\n"),
        ["outside the params file's folder"],
    ),
    "absolute path": (_params_text("client: X\ndata: {orders: /etc/passwd}\n"), ["absolute"]),
    "empty file": (_raw_file(b""), ["orders.csv", "empty"]),
    "header only": (
        _raw_file(b"order_id,customer_id,order_date,channel,revenue\n"),
        ["orders.csv", "no rows"],
    ),
    "missing required column": (
        _orders_client(
            [r[:4] + r[5:] for r in GOOD],
            header=("order_id", "customer_id", "order_date", "channel", "status"),
        ),
        ["orders.csv", "'revenue'", "missing required column"],
    ),
    "misnamed column": (
        _orders_client(
            GOOD, header=("order_id", "customer_id", "order_date", "channel", "revenu", "status")
        ),
        ["'revenue'", "did you mean 'revenu'", "columns"],
    ),
    "wrong separator": (
        _raw_file(b"order_id;customer_id;order_date;channel;revenue\n1;a;2024-01-05;web;10\n"),
        ["separator"],
    ),
    "latin-1 file": (
        _raw_file(
            "order_id,customer_id,order_date,channel,revenue\n1,José,2024-01-05,web,10\n".encode(
                "latin-1"
            )
        ),
        ["orders.csv", "not UTF-8", "encoding"],
    ),
    "unparsable date": (
        _orders_client(_with(1, "order_date", "2024-13-45")),
        ["orders.csv", "column 'order_date'", "row 2", "2024-13-45"],
    ),
    "mixed date formats": (
        _orders_client(_with(2, "order_date", "5 Feb 2024")),
        ["column 'order_date'", "row 3"],
    ),
    "ambiguous day/month dates": (
        _orders_client([(*r[:2], "05/01/2024", *r[3:]) for r in GOOD]),
        ["date_format", "ambiguous"],
    ),
    "future date": (
        _orders_client(_with(0, "order_date", "2999-01-01")),
        ["column 'order_date'", "row 1", "after today"],
    ),
    "date before 1990": (
        _orders_client(_with(2, "order_date", "1899-12-31")),
        ["column 'order_date'", "row 3", "1990"],
    ),
    "negative revenue": (
        _orders_client(_with(1, "revenue", -5)),
        ["column 'revenue'", "row 2", "negative"],
    ),
    "non-numeric revenue": (
        _orders_client(_with(0, "revenue", "12,50 EUR")),
        ["column 'revenue'", "row 1", "not a number"],
    ),
    "duplicate order ids": (
        _orders_client([*GOOD, ("2", "b", "2024-01-07", "web", 999, "placed")]),
        ["column 'order_id'", "rows 2, 4", "duplicate"],
    ),
    "null customer id": (
        _orders_client(_with(2, "customer_id", "")),
        ["column 'customer_id'", "row 3", "empty values"],
    ),
    "unmapped channel": (
        _orders_client([*GOOD, ("4", "c", "2024-01-08", "Carrier pigeon", 5, "placed")]),
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
        _orders_client(GOOD, window={"start": "2020-01-01", "end": "2020-12-31"}),
        ["no orders", "2024-01-05"],
    ),
    "window start after end": (
        _orders_client(GOOD, window={"start": "2024-03-01", "end": "2024-01-01"}),
        ["window", "after end"],
    ),
    "excel data on a second sheet": (_excel_second_sheet, ["orders.xlsx", "sheet", "Orders"]),
}


@pytest.mark.parametrize("streaming", [False, True], ids=["in-memory", "streaming"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_clear_line(tmp_path: Path, case: str, streaming: bool) -> None:
    build, fragments = CASES[case]
    params_file = build(tmp_path)
    mode = ["--streaming"] if streaming else []
    result = run_cli("kpis", str(params_file), "--format", "json", *mode)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_missing_params_file(tmp_path: Path) -> None:
    result = run_cli("kpis", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and "not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_utf8_bom_and_padded_headers_are_read(tmp_path: Path) -> None:
    """A byte-order mark and spaces around header names are not part of the names."""
    content = (
        "\ufefforder_id , customer_id,order_date,channel,revenue\n"
        "1,a,2024-01-05,web,10\n2,a,2024-01-06,phone,30\n"
    ).encode()
    params_file = _raw_file(content)(tmp_path)
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["average_order_value"] == 20


def test_latin1_with_encoding_param_is_read(tmp_path: Path) -> None:
    content = (
        "order_id,customer_id,order_date,channel,revenue\n"
        "1,José,2024-01-05,web,10\n2,Zoë,2024-01-06,web,20\n"
    ).encode("latin-1")
    params_file = tmp_path / "client.yaml"
    _raw_file(content)(tmp_path)
    params_file.write_text(
        "client: X\ndata:\n  orders: {path: data/orders.csv, encoding: latin-1}\n"
    )
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["customers"] == 2


def test_excel_second_sheet_named_in_params_is_read(tmp_path: Path) -> None:
    params_file = _excel_second_sheet(tmp_path)
    params_file.write_text("client: X\ndata:\n  orders: {path: data/orders.xlsx, sheet: Orders}\n")
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["net_revenue"] == 450


def test_exact_duplicate_rows_warn_and_count_once(tmp_path: Path) -> None:
    params_file = _orders_client([*GOOD, GOOD[0]])(tmp_path)
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "exact duplicate" in result.stderr
    assert json.loads(result.stdout)["kpis"]["orders"] == 3


def test_unmapped_channel_with_documented_default(tmp_path: Path) -> None:
    rows = [*GOOD, ("4", "c", "2024-01-08", "Carrier pigeon", 5, "placed")]
    params_file = _orders_client(rows, channels={"unmapped": "offline"})(tmp_path)
    kpis = json.loads(run_cli("kpis", str(params_file), "-f", "json").stdout)["kpis"]
    assert kpis["online_order_share"] == 0.5


def test_anonymous_only_visits_give_zero_returning_share(tmp_path: Path) -> None:
    """A visits table with no identified customer is usable: nobody returns."""
    params_file = write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, GOOD),
            "visits": (
                ("visit_id", "customer_id", "visit_start"),
                [("v1", "", "2024-01-05 10:00:00"), ("v2", "", "2024-01-06 10:00:00")],
            ),
        },
    )
    kpis = json.loads(run_cli("kpis", str(params_file), "-f", "json").stdout)["kpis"]
    assert kpis["returning_visit_share"] == 0.0
    assert kpis["conversion_rate"] == 1.0  # 2 online orders in the window / 2 visits
    assert kpis["visitor_conversion_rate"] is None


def test_timestamps_with_utc_offsets_need_no_date_format(tmp_path: Path) -> None:
    """ISO timestamps with offsets are inferred and converted to the client's zone."""
    rows = [
        ("1", "a", "2024-01-31T23:30:00-05:00", "web", 10, "placed"),  # Feb 1 in Madrid
        ("2", "a", "2024-02-01T09:00:00+01:00", "phone", 30, "placed"),
    ]
    params_file = _orders_client(rows, timezone="Europe/Madrid")(tmp_path)
    doc = json.loads(run_cli("kpis", str(params_file), "-f", "json").stdout)
    # both orders are on 1 February in Madrid: the default window is that whole month
    assert doc["window"] == {"start": "2024-02-01", "end": "2024-02-29"}
    mixed = _orders_client([*rows, ("3", "b", "2024-02-02 10:00", "web", 5, "placed")])
    result = run_cli("kpis", str(mixed(tmp_path / "mixed")), "-f", "json")
    assert result.returncode == 2 and "row 3" in result.stderr
