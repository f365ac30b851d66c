"""The simulated calendar: weighted days from the history start to the end, and days
and times of day turned into the contract's date and datetime columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from b2b_analysis import schema
from b2b_analysis.demo.profiles import Profile

#: Calendar weight of Monday .. Sunday.
_WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.12, 0.04])


def history_start(start: date) -> date:
    """One year before ``start`` (28 February for a 29 February).

    >>> history_start(date(2024, 2, 29))
    datetime.date(2023, 2, 28)
    """
    try:
        return start.replace(year=start.year - 1)
    except ValueError:
        return start.replace(year=start.year - 1, day=28)


@dataclass(frozen=True)
class Calendar:
    """Days from the history start to ``end``, with their cumulative weights."""

    origin: date
    n_days: int
    start_day: int
    cum: np.ndarray  # length n_days + 1, cum[0] == 0
    #: day holding each point of a fine even grid over ``cum``, finer than any day
    grid: np.ndarray
    step: float

    @property
    def epoch_day(self) -> int:
        return (self.origin - date(1970, 1, 1)).days


def calendar(profile: Profile, start: date, end: date) -> Calendar:
    """The weighted days of ``profile`` from a year before ``start`` to ``end``."""
    origin = history_start(start)
    n_days = (end - origin).days + 1
    weight = _day_weights(profile, origin, n_days)
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    points = max(1 << 16, int(2 * cum[-1] / weight.min()) + 1)
    step = cum[-1] / points
    grid = (np.searchsorted(cum, np.arange(points) * step, side="right") - 1).astype(np.int32)
    return Calendar(origin, n_days, (start - origin).days, cum, grid, step)


def _day_weights(profile: Profile, origin: date, n_days: int) -> np.ndarray:
    """Weekday weight x slow growth x December dip x the profile's summer dip."""
    dates = np.datetime64(origin, "D") + np.arange(n_days)
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weight = _WEEKDAY_WEIGHTS[weekday] * (1.0 + 0.05 * np.arange(n_days) / 365.0)
    weight = weight * np.where(month == 12, 0.8, 1.0)
    if profile.summer_month is not None:
        weight = weight * np.where(month == profile.summer_month, profile.summer_factor, 1.0)
    return weight


def draw_days(cal: Calendar, lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A day in ``[lo, hi)`` for each ``u`` in [0, 1), following the calendar weights.

    Inverse CDF through the grid: the grid point below the target lies in the target's
    day or the day before (grid steps are shorter than any day), so one comparison
    finishes it; much faster than a binary search per draw.
    """
    cum = cal.cum
    target = cum[lo] + u * (cum[hi] - cum[lo])
    day = cal.grid[np.minimum((target / cal.step).astype(np.int64), len(cal.grid) - 1)]
    day = day + (cum[day + 1] <= target)
    return np.clip(day, lo, hi - 1)


def dates(day: np.ndarray, cal: Calendar) -> pl.Series:
    """Calendar days as the contract's ``date`` columns."""
    return pl.Series((cal.epoch_day + day).astype(np.int32)).cast(schema.DTYPES["date"])


def stamps(day: np.ndarray, seconds: np.ndarray, cal: Calendar, tz: str | None) -> pl.Series:
    """Local wall-clock times as the contract's ``datetime`` columns, tagged with ``tz``.

    All fall between 05:00 and 24:00, so none is skipped or repeated by a
    daylight-saving change.
    """
    us = ((cal.epoch_day + day.astype(np.int64)) * 86_400 + seconds) * 1_000_000
    stamps = pl.Series(us).cast(schema.DTYPES["datetime"])
    if tz is not None:
        stamps = stamps.dt.replace_time_zone(tz, ambiguous="raise", non_existent="raise")
    return stamps
