"""Reporting periods (week / month / quarter): one :class:`Calendar` value.

A period is keyed by an integer such that consecutive periods differ by 1, which
keeps cohort arithmetic ("periods since first order") a subtraction and
group-bys cheap. Weeks are ISO weeks (Monday start); quarters follow the fiscal
year, whose first month the params file sets. Everything the toolkit derives
from a period (its key, first and last day, label, and whether a window cuts
it) is a method of :class:`Calendar`, as polars expressions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from b2b_analysis.config import Period

__all__ = ["MONTHLY", "Calendar", "period_index", "period_label", "period_start"]

_EPOCH_MONDAY = dt.date(1970, 1, 5)
_PERIODS = ("week", "month", "quarter")


def _col(value: str | pl.Expr) -> pl.Expr:
    return pl.col(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Calendar:
    """The reporting period and the month the fiscal year starts in.

    Parameters
    ----------
    period
        ``"week"`` (ISO, Monday start), ``"month"`` or ``"quarter"``.
    fiscal_year_start
        Month (1-12) in which the fiscal year starts; only shifts quarters.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> cal = Calendar("quarter", fiscal_year_start=7)
    >>> pl.DataFrame({"d": [dt.date(2024, 6, 30), dt.date(2024, 7, 1)]}).select(
    ...     key=cal.key("d"), start=cal.start(cal.key("d")), label=cal.label(cal.key("d")))
    shape: (2, 3)
    ┌──────┬────────────┬──────────────┐
    │ key  ┆ start      ┆ label        │
    │ ---  ┆ ---        ┆ ---          │
    │ i32  ┆ date       ┆ str          │
    ╞══════╪════════════╪══════════════╡
    │ 8095 ┆ 2024-04-01 ┆ FY2023/24 Q4 │
    │ 8096 ┆ 2024-07-01 ┆ FY2024/25 Q1 │
    └──────┴────────────┴──────────────┘
    """

    period: Period
    fiscal_year_start: int = 1

    def __post_init__(self) -> None:
        if self.period not in _PERIODS:
            raise ValueError(f"unknown period {self.period!r}; use week, month or quarter")
        if not 1 <= self.fiscal_year_start <= 12:
            raise ValueError(
                f"fiscal_year_start must be a month 1-12, not {self.fiscal_year_start}"
            )

    # ------------------------------------------------------------ expressions

    def key(self, date: str | pl.Expr) -> pl.Expr:
        """Integer key (Int32) of the period holding each date; consecutive periods differ by 1.

        >>> import datetime as dt, polars as pl
        >>> df = pl.DataFrame({"d": [dt.date(2024, 1, 31), dt.date(2024, 2, 1)]})
        >>> df.select(m=Calendar("month").key("d"), w=Calendar("week").key("d")).rows()
        [(24288, 2821), (24289, 2821)]
        """
        day = _col(date).cast(pl.Date)
        if self.period == "week":
            return ((day - pl.lit(_EPOCH_MONDAY)).dt.total_days().cast(pl.Int32)) // 7
        months = day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1
        if self.period == "month":
            return months
        return (months - (self.fiscal_year_start - 1)) // 3

    def start(self, key: str | pl.Expr) -> pl.Expr:
        """First day of the period with the given :meth:`key`.

        >>> import polars as pl
        >>> pl.DataFrame({"k": [8096]}).select(Calendar("quarter", 7).start("k")).item()
        datetime.date(2024, 7, 1)
        """
        idx = _col(key)
        if self.period == "week":
            return pl.lit(_EPOCH_MONDAY) + pl.duration(weeks=idx)
        months = idx if self.period == "month" else idx * 3 + (self.fiscal_year_start - 1)
        return pl.date(months // 12, months % 12 + 1, 1)

    def end(self, key: str | pl.Expr) -> pl.Expr:
        """Last day of the period with the given :meth:`key`.

        >>> import polars as pl
        >>> pl.DataFrame({"k": [24289]}).select(Calendar("month").end("k")).item()
        datetime.date(2024, 2, 29)
        """
        return self.start(_col(key) + 1) - pl.duration(days=1)

    def label(self, key: str | pl.Expr) -> pl.Expr:
        """Short human label of a period key: ``2024-02``, ``2024-W01``, ``2024 Q1``
        or, for a fiscal year starting in July, ``FY2024/25 Q1``.

        >>> import polars as pl
        >>> k = pl.DataFrame({"k": [2817, 24289, 8096]})
        >>> k.select(w=Calendar("week").label(pl.col("k").first()),
        ...          m=Calendar("month").label(pl.col("k").get(1)),
        ...          q=Calendar("quarter").label(pl.col("k").last()),
        ...          fq=Calendar("quarter", 7).label(pl.col("k").last())).row(0)
        ('2024-W01', '2024-02', '2024 Q1', 'FY2024/25 Q1')
        """
        idx = _col(key)
        if self.period == "month":
            return self.start(idx).dt.strftime("%Y-%m")
        if self.period == "week":
            start = self.start(idx)
            week = start.dt.week().cast(pl.String).str.zfill(2)
            return pl.format("{}-W{}", start.dt.iso_year(), week)
        # a quarter key counts quarters from the start of fiscal year 0
        first_year, quarter = idx // 4, idx % 4 + 1
        if self.fiscal_year_start == 1:
            return pl.format("{} Q{}", first_year, quarter)
        next_year = ((first_year + 1) % 100).cast(pl.String).str.zfill(2)
        return pl.format("FY{}/{} Q{}", first_year, next_year, quarter)

    def is_partial(self, key: str | pl.Expr, lo: dt.date, hi: dt.date) -> pl.Expr:
        """Whether the window ``lo..hi`` (inclusive) cuts the period: it starts before
        ``lo`` or ends after ``hi``. A partial period's figures may still move.

        >>> import datetime as dt, polars as pl
        >>> pl.DataFrame({"k": [24288, 24289]}).select(Calendar("month").is_partial(
        ...     "k", dt.date(2024, 1, 1), dt.date(2024, 2, 20))).to_series().to_list()
        [False, True]
        """
        idx = _col(key)
        return (self.start(idx) < pl.lit(lo)) | (self.end(idx) > pl.lit(hi))

    # ------------------------------------------------------------ frames and scalars

    def key_of(self, day: dt.date) -> int:
        """The :meth:`key` of one date, as a plain int (for ranges and bounds).

        >>> import datetime as dt
        >>> Calendar("month").key_of(dt.date(2024, 2, 1))
        24289
        """
        key: int = pl.select(self.key(pl.lit(day))).item()
        return key

    def bounds(self, day: dt.date) -> tuple[dt.date, dt.date]:
        """First and last day of the period holding ``day``.

        >>> import datetime as dt
        >>> Calendar("quarter", fiscal_year_start=7).bounds(dt.date(2024, 2, 14))
        (datetime.date(2024, 1, 1), datetime.date(2024, 3, 31))
        >>> Calendar("week").bounds(dt.date(2024, 2, 14))
        (datetime.date(2024, 2, 12), datetime.date(2024, 2, 18))
        """
        return self.key_bounds(self.key_of(day))

    def key_bounds(self, key: int) -> tuple[dt.date, dt.date]:
        """First and last day of the period ``key`` (:meth:`key_of`).

        >>> Calendar("month").key_bounds(24289)
        (datetime.date(2024, 2, 1), datetime.date(2024, 2, 29))
        """
        first, last = pl.select(self.start(pl.lit(key)), self.end(pl.lit(key)).alias("end")).row(0)
        return first, last

    def periods(self, lo: dt.date, hi: dt.date) -> pl.LazyFrame:
        """Every period the window ``lo..hi`` touches, in order: ``period`` (the key),
        ``period_start``, ``period_end``, ``period_label`` and ``is_partial``.

        >>> import datetime as dt
        >>> Calendar("quarter").periods(dt.date(2024, 2, 1), dt.date(2024, 6, 30)).collect()
        shape: (2, 5)
        ┌────────┬──────────────┬────────────┬──────────────┬────────────┐
        │ period ┆ period_start ┆ period_end ┆ period_label ┆ is_partial │
        │ ---    ┆ ---          ┆ ---        ┆ ---          ┆ ---        │
        │ i32    ┆ date         ┆ date       ┆ str          ┆ bool       │
        ╞════════╪══════════════╪════════════╪══════════════╪════════════╡
        │ 8096   ┆ 2024-01-01   ┆ 2024-03-31 ┆ 2024 Q1      ┆ true       │
        │ 8097   ┆ 2024-04-01   ┆ 2024-06-30 ┆ 2024 Q2      ┆ false      │
        └────────┴──────────────┴────────────┴──────────────┴────────────┘
        """
        keys = pl.int_range(self.key_of(lo), self.key_of(hi) + 1, eager=True, dtype=pl.Int32)
        return pl.LazyFrame({"period": keys}).with_columns(
            self.start("period").alias("period_start"),
            self.end("period").alias("period_end"),
            self.label("period").alias("period_label"),
            self.is_partial("period", lo, hi).alias("is_partial"),
        )


#: The default calendar of the metric transforms: calendar months.
MONTHLY = Calendar("month")


# ------------------------------------------------------------ shorthands


def period_index(date: str | pl.Expr, period: Period, *, fiscal_year_start: int = 1) -> pl.Expr:
    """Shorthand for ``Calendar(period, fiscal_year_start).key(date)``.

    >>> import datetime as dt, polars as pl
    >>> pl.DataFrame({"d": [dt.date(2024, 7, 1)]}).select(
    ...     period_index("d", "quarter", fiscal_year_start=7)).item()
    8096
    """
    return Calendar(period, fiscal_year_start).key(date)


def period_start(index: str | pl.Expr, period: Period, *, fiscal_year_start: int = 1) -> pl.Expr:
    """Shorthand for ``Calendar(period, fiscal_year_start).start(index)``.

    >>> import polars as pl
    >>> pl.DataFrame({"i": [24288]}).select(period_start("i", "month")).item()
    datetime.date(2024, 1, 1)
    """
    return Calendar(period, fiscal_year_start).start(index)


def period_label(index: int, period: Period, *, fiscal_year_start: int = 1) -> str:
    """The :meth:`Calendar.label` of one period key, as a plain string.

    >>> period_label(8094, "quarter", fiscal_year_start=7)
    'FY2023/24 Q3'
    """
    label: str = pl.select(Calendar(period, fiscal_year_start).label(pl.lit(index))).item()
    return label
