"""A table read by a SQL query from a real PostgreSQL server (started by conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.clientkit import ORDER_HEADER, kpis_json, run_cli, write_client

pytestmark = pytest.mark.postgres

ROWS = [
    ("A-1", "acme", "2024-01-05 09:00:00+01", "Web Shop", "120.50", "placed"),
    ("A-2", "acme", "2024-01-05 23:30:00-05", "Sales Rep", "300.00", "placed"),
    ("A-3", "bolt", "2024-02-10 10:00:00+00", "web shop", "80.25", "cancelled"),
    ("A-4", "bolt", "2024-02-11 10:00:00+00", "Phone", "99.75", "placed"),
    ("A-5", "cogs", "2024-03-01 12:00:00+00", "Web Shop", "45.00", "placed"),
]
ENV = "B2B_TEST_DATABASE_URL"


@pytest.fixture(scope="module")
def erp_table(postgres_dsn: str) -> Iterator[str]:
    """An ERP-style table: its own column names, timestamptz dates, numeric amounts."""
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS erp_orders")
        conn.execute(
            'CREATE TABLE erp_orders ("OrderNo" text, "Customer" text, '
            '"PlacedAt" timestamptz, "Channel" text, "NetAmount" numeric(12,2), '
            '"State" text)'
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO erp_orders VALUES (%s, %s, %s, %s, %s, %s)", ROWS)
    yield "erp_orders"


def _pg_client(folder: Path, query: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    params = folder / "client.yaml"
    params.write_text(
        "client: ERP Client\n"
        "timezone: Europe/Madrid\n"
        "data:\n"
        "  orders:\n"
        f"    query: {query!r}\n"
        f"    connection_env: {ENV}\n"
        "    columns: {order_id: OrderNo, customer_id: Customer, order_date: PlacedAt,\n"
        "              channel: Channel, revenue: NetAmount, status: State}\n"
        "channels: {online: [web shop], offline: [sales rep, phone]}\n",
        encoding="utf-8",
    )
    return params


def test_query_source_matches_the_same_rows_from_csv(
    tmp_path: Path, erp_table: str, postgres_dsn: str, postgres_password: str
) -> None:
    from_pg = kpis_json(
        _pg_client(tmp_path / "pg", f"SELECT * FROM {erp_table}"), env={ENV: postgres_dsn}
    )
    # the same orders as a CSV export, dates already in Madrid time
    local = [
        ("A-1", "acme", "2024-01-05 09:00:00", "Web Shop", 120.5, "placed"),
        ("A-2", "acme", "2024-01-06 05:30:00", "Sales Rep", 300.0, "placed"),
        ("A-3", "bolt", "2024-02-10 11:00:00", "web shop", 80.25, "cancelled"),
        ("A-4", "bolt", "2024-02-11 11:00:00", "Phone", 99.75, "placed"),
        ("A-5", "cogs", "2024-03-01 13:00:00", "Web Shop", 45.0, "placed"),
    ]
    from_csv = kpis_json(
        write_client(
            tmp_path / "csv",
            {"orders": (ORDER_HEADER, local)},
            client="ERP Client",
            channels={"online": ["web shop"], "offline": ["sales rep", "phone"]},
        )
    )
    assert from_pg["kpis"] == from_csv["kpis"]
    assert from_pg["kpis"]["orders"] == 4
    assert from_pg["kpis"]["gross_merchandise_value"] == 645.5
    # A-2 was placed late on 5 January in New York: 6 January in Madrid
    assert from_pg["window"] == {"start": "2024-01-01", "end": "2024-03-31"}  # whole months


def _assert_no_secret(text: str, dsn: str, password: str) -> None:
    assert dsn not in text
    assert password not in text
    assert "P%40ss" not in text  # the URL-encoded form


def test_connection_string_never_printed(
    tmp_path: Path, erp_table: str, postgres_dsn: str, postgres_password: str
) -> None:
    params = _pg_client(tmp_path, f"SELECT * FROM {erp_table}")
    for fmt in ("json", "table", "csv"):
        result = run_cli("kpis", str(params), "-f", fmt, env={ENV: postgres_dsn})
        assert result.returncode == 0, result.stderr
        _assert_no_secret(result.stdout + result.stderr, postgres_dsn, postgres_password)


def test_failing_query_is_a_clear_error(
    tmp_path: Path, postgres_dsn: str, postgres_password: str
) -> None:
    params = _pg_client(tmp_path, "SELECT * FROM no_such_table")
    result = run_cli("kpis", str(params), env={ENV: postgres_dsn})
    assert result.returncode == 2
    assert "error:" in result.stderr and "the query failed" in result.stderr
    assert "no_such_table" in result.stderr and "Traceback" not in result.stderr
    _assert_no_secret(result.stderr, postgres_dsn, postgres_password)


def test_server_down_is_a_clear_error(
    tmp_path: Path, closed_port_dsn: str, postgres_password: str
) -> None:
    params = _pg_client(tmp_path, "SELECT 1")
    result = run_cli("kpis", str(params), env={ENV: closed_port_dsn})
    assert result.returncode == 2
    assert "cannot connect to the PostgreSQL server" in result.stderr
    assert ENV in result.stderr and "Traceback" not in result.stderr
    _assert_no_secret(result.stderr, closed_port_dsn, postgres_password)


def test_unset_connection_variable_names_it(tmp_path: Path) -> None:
    params = _pg_client(tmp_path, "SELECT 1")
    result = run_cli("kpis", str(params), env={ENV: ""})
    assert result.returncode == 2
    assert f"names the environment variable {ENV}, which is not set" in result.stderr
