"""The command line end to end: generate a client, then print its KPIs."""

from __future__ import annotations

import json
from pathlib import Path

from b2b_analysis.registry import KPIS
from tests.support.clientkit import ORDER_HEADER, run_cli, write_client

REQUIRED = (
    "customers", "orders", "customer_retention_rate", "average_order_value",
    "conversion_rate", "gross_merchandise_value", "net_revenue", "roi",
    "returning_visit_share", "csat", "nps", "online_order_share",
    "online_average_order_value", "offline_average_order_value", "reverted_to_offline_share",
)  # fmt: skip


def test_generated_client_has_every_kpi(acme: Path) -> None:
    result = run_cli("kpis", str(acme), "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # stdout is only the JSON document
    assert set(doc["kpis"]) == set(KPIS)
    missing = [k for k in REQUIRED if doc["kpis"][k] is None]
    assert not missing, (missing, doc["notes"])
    assert doc["series"]["rows"], "the per-period series is empty"
    assert {"period_start", "orders", "orders_change"} <= set(doc["series"]["columns"])


def test_json_is_byte_identical_across_runs(acme: Path) -> None:
    first = run_cli("kpis", str(acme), "-f", "json").stdout
    assert first and first == run_cli("kpis", str(acme), "-f", "json").stdout


def test_table_and_csv_formats(acme: Path) -> None:
    table = run_cli("kpis", str(acme), "--format", "table", env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    for info in KPIS.values():
        assert info.label in table.stdout
    csv_out = run_cli("kpis", str(acme), "--format", "csv").stdout.splitlines()
    assert csv_out[0] == "kpi,value,unit,note"
    assert [line.split(",")[0] for line in csv_out[1:]] == list(KPIS)
    series = run_cli("kpis", str(acme), "-f", "csv", "--series", "--period", "quarter")
    assert series.stdout.splitlines()[0].startswith("period,period_start,period_label")
    assert len(series.stdout.splitlines()) == 1 + 12  # 2023-2025, quarterly


def test_window_and_period_options(acme: Path) -> None:
    doc = json.loads(run_cli("kpis", str(acme), "-f", "json", "--start", "2024-01-01",
                             "--end", "2024-06-30", "--period", "week").stdout)  # fmt: skip
    assert doc["window"] == {"start": "2024-01-01", "end": "2024-06-30"}
    assert doc["period"] == "week"
    assert doc["series"]["rows"][0]["period_label"] == "2024-W01"


def test_help_reads_well() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("kpis", "generate", "demo"):
        assert command in result.stdout


def test_unknown_profile_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("generate", str(tmp_path), "--profile", "nope")
    assert result.returncode == 2
    assert result.stderr == (
        "error: Invalid value for '--profile': 'nope' is not one of 'acme', 'iberia', "
        "'nordic'; see 'b2b-analysis generate --help'\n"
    )


def test_generate_params_follow_format_and_lines(tmp_path: Path) -> None:
    options = ["--profile", "acme", "--orders", "1000", "--format", "parquet", "--no-lines"]
    result = run_cli(
        "generate", str(tmp_path / "data"), *options, "--params", str(tmp_path / "p.yaml")
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "p.yaml").read_text()
    assert "orders.parquet" in text and "order_lines" not in text
    assert run_cli("kpis", str(tmp_path / "p.yaml"), "-f", "json").returncode == 0


def test_cli_bad_window_end_is_one_error_line(tmp_path: Path) -> None:
    """A tiny valid client; --start is not a date: exit 2, one `error:` line, no usage box."""
    orders = [["o1", "c1", "2024-01-05", "web", "100", "placed"]]
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, orders)})
    result = run_cli("kpis", str(params), "--start", "2024-13-01")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --start must be a date as YYYY-MM-DD, not '2024-13-01'"
    ]


def test_kpis_writes_the_clients_name_as_is(tmp_path: Path) -> None:
    """A client's name is data: brackets in it are not console markup (a name with
    ``[/y]`` stopped ``kpis`` with an internal error, ``[b]`` vanished from the line)."""
    orders = [["o1", "c1", "2024-01-05", "web", "100", "placed"]]
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, orders)}, client="Acme [b] [/y]")
    result = run_cli("kpis", str(params), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == "Loading Acme [b] [/y] ..."
