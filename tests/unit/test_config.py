"""The params model: the analysis window, resolved in one place (config.Window)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from b2b_analysis.config import LoadedParams, Window, load_params, parse_date
from b2b_analysis.errors import InputError
from b2b_analysis.periods import Calendar


def test_override_replaces_only_the_given_ends() -> None:
    params = Window(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    assert params.override(None, "2024-06-30") == Window(
        start=dt.date(2024, 1, 1), end=dt.date(2024, 6, 30)
    )
    assert params.override(dt.date(2024, 3, 1)).start == dt.date(2024, 3, 1)
    # open ends: whole periods spanning the orders
    assert Window().override().over(
        dt.date(2023, 1, 5), dt.date(2023, 2, 1), Calendar("month")
    ) == (dt.date(2023, 1, 1), dt.date(2023, 2, 28))


def test_an_inverted_window_is_refused() -> None:
    with pytest.raises(InputError, match=r"starts \(2024-05-01\) after it ends \(2024-04-30\)"):
        Window(start=dt.date(2024, 5, 1)).over(
            dt.date(2024, 1, 1), dt.date(2024, 4, 30), Calendar("month")
        )


@pytest.mark.parametrize("text", ["2024-02-30", "01.02.2024", "2024/02/01", "soon", ""])
def test_text_that_is_not_an_iso_date_is_refused_by_name(text: str) -> None:
    with pytest.raises(InputError, match=rf"^--end must be a date as YYYY-MM-DD, not '{text}'$"):
        parse_date(text, "--end")


def _load(folder: Path, extra: str = "", data: str = "{orders: o.csv}") -> LoadedParams:
    """``load_params`` of a params file for client X with ``data`` and the ``extra`` lines."""
    path = folder / "client.yaml"
    path.write_text(f"client: X\ndata: {data}\n{extra}\n", encoding="utf-8")
    return load_params(path)


@pytest.mark.parametrize("value", ["'30'", "-3", "true", "2.5", "weekly"])
def test_a_maturity_follow_up_that_is_no_rule_is_refused_by_name(
    value: str, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=r"maturity\.follow_up: .* is not a follow-up rule: "):
        _load(tmp_path, f"maturity: {{follow_up: {value}}}")


@pytest.mark.parametrize(
    ("value", "rule"), [("45", 45), ("0", 0), ("median_reorder", "median_reorder")]
)
def test_a_maturity_follow_up_is_days_or_the_median_reorder_interval(
    value: str, rule: object, tmp_path: Path
) -> None:
    assert _load(tmp_path, f"maturity: {{follow_up: {value}}}").params.maturity.follow_up == rule
    assert _load(tmp_path).params.maturity.follow_up == "median_reorder"


@pytest.mark.parametrize("zone", ["posix/Europe/Berlin", "right/UTC", "localtime", "Factory"])
def test_a_time_zone_the_system_has_but_polars_does_not_is_refused_by_name(
    zone: str, tmp_path: Path
) -> None:
    # zoneinfo reads these from the system's zone files; polars would stop on them when
    # the dates are converted, blaming the data file
    with pytest.raises(InputError, match=rf"timezone: unknown time zone '{zone}'"):
        _load(tmp_path, f"timezone: {zone}")


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC"])
def test_iana_time_zones_are_accepted(zone: str, tmp_path: Path) -> None:
    assert _load(tmp_path, f"timezone: {zone}").params.timezone == zone


def test_a_column_mapped_from_the_row_numbers_name_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"data\.orders\.columns: .*order_id: '_row' is the name"):
        _load(tmp_path, "", data="{orders: {path: o.csv, columns: {order_id: _row}}}")
