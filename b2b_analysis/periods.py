"""Reporting periods (week / month / quarter) as integer keys.

A period is keyed by an integer index such that consecutive periods differ by 1,
which keeps cohort arithmetic ("periods since first order") a subtraction and
group-bys cheap. Weeks are ISO weeks (Monday start); quarters follow the fiscal
year, whose first month the params file sets.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from b2b_analysis.config import Period

_EPOCH_MONDAY = dt.date(1970, 1, 5)


def period_index(date: str | pl.Expr, period: Period, *, fiscal_year_start: int = 1) -> pl.Expr:
    """Integer key of the period holding each date; consecutive periods differ by 1.

    Parameters
    ----------
    date
        A Date (or Datetime) column or expression.
    period
        ``"week"`` (ISO, Monday start), ``"month"`` or ``"quarter"``.
    fiscal_year_start
        Month (1-12) in which the fiscal year starts; only shifts quarters.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> df = pl.DataFrame({"d": [dt.date(2024, 1, 31), dt.date(2024, 2, 1), dt.date(2024, 7, 1)]})
    >>> df.select(
    ...     m=period_index("d", "month"),
    ...     q=period_index("d", "quarter"),
    ...     fq=period_index("d", "quarter", fiscal_year_start=7),
    ... )
    shape: (3, 3)
    ┌───────┬──────┬──────┐
    │ m     ┆ q    ┆ fq   │
    │ ---   ┆ ---  ┆ ---  │
    │ i32   ┆ i32  ┆ i32  │
    ╞═══════╪══════╪══════╡
    │ 24288 ┆ 8096 ┆ 8094 │
    │ 24289 ┆ 8096 ┆ 8094 │
    │ 24294 ┆ 8098 ┆ 8096 │
    └───────┴──────┴──────┘
    """
    expr = pl.col(date) if isinstance(date, str) else date
    expr = expr.cast(pl.Date)
    months = expr.dt.year().cast(pl.Int32) * 12 + expr.dt.month().cast(pl.Int32) - 1
    if period == "month":
        return months
    if period == "quarter":
        return (months - (fiscal_year_start - 1)) // 3
    if period == "week":
        days = (expr - pl.lit(_EPOCH_MONDAY)).dt.total_days().cast(pl.Int32)
        return days // 7
    raise ValueError(f"unknown period {period!r}; use week, month or quarter")


def period_start(index: str | pl.Expr, period: Period, *, fiscal_year_start: int = 1) -> pl.Expr:
    """First day of the period with the given :func:`period_index`.

    Examples
    --------
    >>> import polars as pl
    >>> pl.DataFrame({"i": [24288]}).select(period_start("i", "month")).item()
    datetime.date(2024, 1, 1)
    >>> pl.DataFrame({"i": [8096]}).select(
    ...     period_start("i", "quarter", fiscal_year_start=7)).item()
    datetime.date(2024, 7, 1)
    """
    idx = pl.col(index) if isinstance(index, str) else index
    if period == "week":
        return pl.lit(_EPOCH_MONDAY) + pl.duration(weeks=idx)
    months = idx if period == "month" else idx * 3 + (fiscal_year_start - 1)
    return pl.date(months // 12, months % 12 + 1, 1)


def period_end(index: str | pl.Expr, period: Period, *, fiscal_year_start: int = 1) -> pl.Expr:
    """Last day of the period with the given index."""
    idx = pl.col(index) if isinstance(index, str) else index
    return period_start(idx + 1, period, fiscal_year_start=fiscal_year_start) - pl.duration(days=1)


def period_label(index: int, period: Period, *, fiscal_year_start: int = 1) -> str:
    """Short human label of a period index.

    >>> period_label(24289, "month")
    '2024-02'
    >>> period_label(8096, "quarter")
    '2024 Q1'
    >>> period_label(8094, "quarter", fiscal_year_start=7)
    'FY2023/24 Q3'
    >>> period_label(8096, "quarter", fiscal_year_start=7)
    'FY2024/25 Q1'
    >>> period_label(2817, "week")
    '2024-W01'
    """
    start = (
        pl.DataFrame({"i": [index]})
        .select(period_start("i", period, fiscal_year_start=fiscal_year_start))
        .item()
    )
    if period == "month":
        return f"{start:%Y-%m}"
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    months_into_year = (start.month - fiscal_year_start) % 12
    quarter = months_into_year // 3 + 1
    if fiscal_year_start == 1:
        return f"{start.year} Q{quarter}"
    first_year = start.year if start.month >= fiscal_year_start else start.year - 1
    return f"FY{first_year}/{(first_year + 1) % 100:02d} Q{quarter}"
