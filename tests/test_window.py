"""The analysis window: resolved in one place (config.Window), one error line for bad ends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from clientkit import ORDER_HEADER, run_cli, write_client

from b2b_analysis.config import Window, parse_date
from b2b_analysis.errors import InputError


def test_override_replaces_only_the_given_ends() -> None:
    params = Window(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    assert params.override(None, "2024-06-30") == Window(
        start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30)
    )
    assert params.override(dt.date(2024, 3, 1)).start == dt.date(2024, 3, 1)
    # open ends: whole periods spanning the orders
    assert Window().override().over(
        dt.date(2023, 1, 5), dt.date(2023, 2, 1), period="month", fiscal_year_start=1
    ) == (dt.date(2023, 1, 1), dt.date(2023, 2, 28))


def test_an_inverted_window_is_refused() -> None:
    with pytest.raises(InputError, match=r"starts \(2024-05-01\) after it ends \(2024-04-30\)"):
        Window(start=dt.date(2024, 5, 1)).over(
            dt.date(2024, 1, 1), dt.date(2024, 4, 30), period="month", fiscal_year_start=1
        )


@pytest.mark.parametrize("text", ["2024-02-30", "01.02.2024", "2024/02/01", "soon", ""])
def test_text_that_is_not_an_iso_date_is_refused_by_name(text: str) -> None:
    with pytest.raises(InputError, match=rf"^--end must be a date as YYYY-MM-DD, not '{text}'$"):
        parse_date(text, "--end")


def test_cli_bad_window_end_is_one_error_line(tmp_path: Path) -> None:
    """A tiny valid client; --start is not a date: exit 2, one `error:` line, no usage box."""
    orders = [["o1", "c1", "2024-01-05", "web", "100", "placed"]]
    params = write_client(tmp_path, {"orders": (ORDER_HEADER, orders)})
    result = run_cli("kpis", str(params), "--start", "2024-13-01")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --start must be a date as YYYY-MM-DD, not '2024-13-01'"
    ]
