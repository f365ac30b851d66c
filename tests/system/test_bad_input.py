"""Bad input through the command line: one clear line, exit code 2, no traceback.

Each case writes a small broken client and checks that ``b2b-analysis kpis``
names the file, the column and the rows at fault (or the params key).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.bad_input import (
    CASES,
    GOOD,
    excel_second_sheet,
    orders_client,
    raw_file,
)
from tests.support.clientkit import ORDER_HEADER, run_cli, write_client


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
    params_file = raw_file(content)(tmp_path)
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["average_order_value"] == 20


def test_latin1_with_encoding_param_is_read(tmp_path: Path) -> None:
    content = (
        "order_id,customer_id,order_date,channel,revenue\n"
        "1,José,2024-01-05,web,10\n2,Zoë,2024-01-06,web,20\n"
    ).encode("latin-1")
    params_file = tmp_path / "client.yaml"
    raw_file(content)(tmp_path)
    params_file.write_text(
        "client: X\ndata:\n  orders: {path: data/orders.csv, encoding: latin-1}\n"
    )
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["customers"] == 2


def test_excel_second_sheet_named_in_params_is_read(tmp_path: Path) -> None:
    params_file = excel_second_sheet(tmp_path)
    params_file.write_text("client: X\ndata:\n  orders: {path: data/orders.xlsx, sheet: Orders}\n")
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kpis"]["net_revenue"] == 450


def test_exact_duplicate_rows_warn_and_count_once(tmp_path: Path) -> None:
    params_file = orders_client([*GOOD, GOOD[0]])(tmp_path)
    result = run_cli("kpis", str(params_file), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "exact duplicate" in result.stderr
    assert json.loads(result.stdout)["kpis"]["orders"] == 3


def test_unmapped_channel_with_documented_default(tmp_path: Path) -> None:
    rows = [*GOOD, ("4", "c", "2024-01-08", "Carrier pigeon", 5, "placed")]
    params_file = orders_client(rows, channels={"unmapped": "offline"})(tmp_path)
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
    params_file = orders_client(rows, timezone="Europe/Madrid")(tmp_path)
    doc = json.loads(run_cli("kpis", str(params_file), "-f", "json").stdout)
    # both orders are on 1 February in Madrid: the default window is that whole month
    assert doc["window"] == {"start": "2024-02-01", "end": "2024-02-29"}
    mixed = orders_client([*rows, ("3", "b", "2024-02-02 10:00", "web", 5, "placed")])
    result = run_cli("kpis", str(mixed(tmp_path / "mixed")), "-f", "json")
    assert result.returncode == 2 and "row 3" in result.stderr


def test_optional_table_with_only_a_header_warns_and_its_kpis_are_null(tmp_path: Path) -> None:
    """Usable data (documented in docs/data-contract.md): a warning naming the file,
    and the KPIs needing the table null with their reason, never 0."""
    params = write_client(
        tmp_path,
        {
            "orders": (ORDER_HEADER, GOOD),
            "visits": (("visit_id", "customer_id", "visit_start"), []),
        },
    )
    result = run_cli("kpis", str(params), "-f", "json")
    assert result.returncode == 0, result.stderr
    warning = f"warning: {tmp_path / 'data' / 'visits.csv'}: the visits table has no rows"
    assert warning in result.stderr
    doc = json.loads(result.stdout)
    for key in ("conversion_rate", "returning_visit_share", "visitor_conversion_rate"):
        assert doc["kpis"][key] is None and "no" in doc["notes"][key], key
    assert doc["kpis"]["orders"] == 3
