"""Streaming mode (``kpis --streaming``): the same numbers and the same errors.

Streaming mode scans Parquet tables, validates them in streaming passes and computes
on polars' streaming engine, for tables larger than memory. Everything it prints
must be exactly what the in-memory mode prints for the same data. (How the tables
are loaded in streaming mode is checked in ``tests/unit/test_io.py``.)
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.support.clientkit import kpis_json, run_cli


@pytest.fixture(scope="module", params=["acme", "iberia", "nordic"])
def parquet_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    folder = tmp_path_factory.mktemp(request.param)
    params = folder / f"{request.param}.yaml"
    options = ["--profile", request.param, "--orders", "6000", "--format", "parquet"]
    result = run_cli("generate", str(folder / "data"), *options, "--params", str(params))
    assert result.returncode == 0, result.stderr
    return params


@pytest.mark.parametrize(
    "options",
    [
        (),
        ("--period", "week", "--start", "2024-02-01", "--end", "2024-11-30"),
        ("--period", "quarter"),
    ],
    ids=["defaults", "weekly-window", "quarterly"],
)
def test_streaming_prints_the_in_memory_document(
    parquet_client: Path, options: tuple[str, ...]
) -> None:
    eager = kpis_json(parquet_client, *options)
    streamed = kpis_json(parquet_client, *options, "--streaming")
    assert streamed == eager
    assert streamed["kpis"]["orders"] > 0  # not two empty documents


def _parquet_orders(folder: Path, frame: pl.DataFrame, **extra: str) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / "data" / "orders.parquet")
    lines = ["client: Streamed", "data:", "  orders: data/orders.parquet", *extra.values()]
    params = folder / "client.yaml"
    params.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return params


def _orders(**changes: list[object]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4"],
            "customer_id": ["a", "b", "a", "c"],
            "order_date": pl.Series(
                ["2024-01-05", "2024-01-06", "2024-02-05", "2024-03-01"]
            ).str.to_date(),
            "channel": ["web", "phone", "web", "phone"],
            "revenue": [100.0, 200.0, 150.0, 50.0],
        }
    )
    return frame.with_columns(pl.Series(k, v) for k, v in changes.items())


CASES = {
    "negative revenue": (
        _orders(revenue=[100.0, -5.0, 150.0, 50.0]),
        ["revenue", "row 2", "negative"],
    ),
    "empty customer": (
        _orders(customer_id=["a", "b", None, "c"]),
        ["customer_id", "row 3", "empty"],
    ),
    "conflicting duplicate id": (
        _orders(order_id=["o1", "o2", "o1", "o4"]),
        ["order_id", "rows 1, 3", "duplicate"],
    ),
    "unknown channel": (
        _orders(channel=["web", "pigeon", "web", "phone"]),
        ["channel", "row 2", "'pigeon' (1 orders)"],
    ),
    "implausible date": (
        _orders(
            order_date=pl.Series(
                ["2024-01-05", "1899-12-30", "2024-02-05", "2024-03-01"]
            ).str.to_date()
        ),
        ["order_date", "row 2", "before 1990"],
    ),
    "text dates without date_format": (
        _orders(order_date=["2024-01-05", "2024-01-06", "2024-02-05", "2024-03-01"]),
        ["order_date", "date_format", "streaming"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_parquet_in_streaming_mode_is_one_clear_line(tmp_path: Path, case: str) -> None:
    frame, fragments = CASES[case]
    params = _parquet_orders(tmp_path, frame)
    result = run_cli("kpis", str(params), "-f", "json", "--streaming")
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "orders.parquet" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    if case != "text dates without date_format":
        # the in-memory mode reports the same problem in the same words
        eager = run_cli("kpis", str(params), "-f", "json")
        assert eager.returncode == 2
        assert [x for x in eager.stderr.splitlines() if x.startswith("error:")] == lines


def test_text_dates_with_date_format_stream(tmp_path: Path) -> None:
    frame = _orders(order_date=["05/01/2024", "06/01/2024", "05/02/2024", "01/03/2024"])
    params = _parquet_orders(tmp_path, frame)
    params.write_text(
        "client: Streamed\ndata:\n  orders: {path: data/orders.parquet, date_format: '%d/%m/%Y'}\n"
    )
    streamed = kpis_json(params, "--streaming")
    assert streamed == kpis_json(params)
    # read day first: 5 January to 1 March, so the default window is January to March
    assert streamed["window"] == {"start": "2024-01-01", "end": "2024-03-31"}
    assert streamed["kpis"]["net_revenue"] == 500


def test_exact_duplicate_rows_are_dropped_in_streaming_mode(tmp_path: Path) -> None:
    frame = _orders()
    params = _parquet_orders(tmp_path, pl.concat([frame, frame.head(1)]))
    result = run_cli("kpis", str(params), "-f", "json", "--streaming")
    assert result.returncode == 0, result.stderr
    assert "exact duplicate" in result.stderr
    streamed = kpis_json(params, "--streaming")
    assert streamed == kpis_json(params)
    assert streamed["kpis"]["orders"] == 4 and streamed["kpis"]["net_revenue"] == 500
