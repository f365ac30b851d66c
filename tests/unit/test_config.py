"""The params model: the analysis window, resolved in one place (config.Window)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from b2b_analysis.config import Window, load_params, parse_date
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


@pytest.mark.parametrize("value", ["'30'", "-3", "true", "2.5", "weekly"])
def test_a_maturity_follow_up_that_is_no_rule_is_refused_by_name(
    value: str, tmp_path: Path
) -> None:
    path = tmp_path / "client.yaml"
    path.write_text(f"client: X\ndata: {{orders: o.csv}}\nmaturity: {{follow_up: {value}}}\n")
    with pytest.raises(InputError, match=r"maturity\.follow_up: .* is not a follow-up rule: "):
        load_params(path)


@pytest.mark.parametrize(
    ("value", "rule"), [("45", 45), ("0", 0), ("median_reorder", "median_reorder")]
)
def test_a_maturity_follow_up_is_days_or_the_median_reorder_interval(
    value: str, rule: object, tmp_path: Path
) -> None:
    path = tmp_path / "client.yaml"
    path.write_text(f"client: X\ndata: {{orders: o.csv}}\nmaturity: {{follow_up: {value}}}\n")
    assert load_params(path).params.maturity.follow_up == rule
    path.write_text("client: X\ndata: {orders: o.csv}\n")
    assert load_params(path).params.maturity.follow_up == "median_reorder"
