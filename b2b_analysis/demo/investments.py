"""Builder of the ``investments`` table (profiles that have one).

Monthly amounts in three categories: ``platform`` (a build phase before the shop goes
live, then running costs), ``marketing`` (a launch push, then steady) and
``integration`` (irregular projects), scaled to the gross margin the online channel
earns, so that the ROI is plausible.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from b2b_analysis.demo.frames import raw_frame
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.timeline import Calendar, dates
from b2b_analysis.demo.world import PLACED, World

CATEGORIES = ("platform", "marketing", "integration")


def investments(profile: Profile, world: World, rng: np.random.Generator) -> pl.DataFrame:
    """Monthly spend per category, scaled to the online channel's gross margin."""
    month_day = _month_starts(world.cal)
    units = _monthly_units(profile, world.cal, month_day, rng)
    cents = np.rint(units * _scale(profile, world, units) * 100).astype(np.int64).ravel()
    keep = cents > 0
    category = np.tile(np.arange(len(CATEGORIES)), len(month_day))[keep]
    return raw_frame(
        profile,
        "investments",
        {
            "date": dates(np.repeat(month_day, len(CATEGORIES))[keep], world.cal),
            "amount": pl.Series(cents[keep] / 100.0),
            "category": pl.Series(list(CATEGORIES)).gather(category),
        },
    )


def _month_starts(cal: Calendar) -> np.ndarray:
    """Day number of the first of each month the calendar touches (the first one may
    fall before the calendar's origin)."""
    months = np.arange(
        np.datetime64(cal.origin, "M"),
        np.datetime64(cal.origin + dt.timedelta(days=cal.n_days - 1), "M") + 1,
    )
    return (months.astype("datetime64[D]") - np.datetime64(cal.origin, "D")).astype(np.int64)


def _monthly_units(
    profile: Profile, cal: Calendar, month_day: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Relative spend, month x category, around the day the shop went live."""
    n = len(month_day)
    live = cal.start_day + profile.adoption_mid - 2.5 * profile.adoption_spread
    since_live = (month_day - live) / 30.4  # months since the shop went live
    platform = np.where(since_live >= 0, 1.0, np.where(since_live >= -6, 3.0, 0.0))
    marketing = np.where(since_live >= 0, np.where(since_live < 6, 1.6, 0.8), 0.0)
    marketing = marketing * np.clip(1.0 + 0.25 * rng.standard_normal(n), 0.3, None)
    project = (rng.random(n) < 0.3) & (since_live >= -6)
    integration = np.where(project, 1.5 * rng.lognormal(0.0, 0.5, n), 0.0)
    return np.stack([platform, marketing, integration], axis=1)


def _scale(profile: Profile, world: World, units: np.ndarray) -> float:
    """Money per unit: the total is ``invest_ratio`` of the online gross margin."""
    placed_online = world.online & (world.status == PLACED)
    online_margin = world.cents[placed_online].sum() / 100.0 * profile.margin
    return float(profile.invest_ratio * max(online_margin, 1.0) / max(units.sum(), 1e-9))
