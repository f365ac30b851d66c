"""Builder of the ``visits`` table (profiles that have one), one chunk of orders at a
time.

Every online order is preceded by its visit (2 to 40 minutes earlier); the same
customer also comes back on other days without buying (``browse_visits`` per online
order on average), some customers look products up before ordering offline
(``research_visits`` of offline orders), and a quarter of all visits are anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from b2b_analysis.demo.draws import sorted_by
from b2b_analysis.demo.frames import Lookups, ids, raw_frame
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.timeline import stamps
from b2b_analysis.demo.world import World


@dataclass(frozen=True)
class _Visits:
    """Day, time of day and customer number of each visit; ``known`` visits first,
    the anonymous ones after them."""

    day: np.ndarray
    sec: np.ndarray
    customer: np.ndarray
    known: int


def visits_chunk(
    profile: Profile,
    world: World,
    look: Lookups,
    rows: slice,
    rng: np.random.Generator,
) -> dict[str, pl.Series]:
    """The visits around the orders of ``rows``, in time order, without ids."""
    bought, browsed = _visited_orders(profile, world, rows, rng)
    n_anon = int(rng.poisson((len(bought) + len(browsed)) / 3.0))
    v = _known_visits(world, bought, browsed, n_anon, rng)
    if n_anon:
        _add_anonymous(v, world.cal.n_days, n_anon, rng)
    order = sorted_by(v.day * 86_400 + v.sec)
    who = pl.Series(v.customer[order]).set(pl.Series(order >= v.known), None)
    tz = profile.timezone if profile.timestamps else None
    return {
        "customer_id": look.customers.gather(who),
        "visit_start": stamps(v.day[order], v.sec[order], world.cal, tz),
    }


def with_ids(profile: Profile, columns: dict[str, pl.Series], first: int) -> pl.DataFrame:
    """The visits of :func:`visits_chunk` numbered from ``first``, as the client exports
    them (ids run on across chunks, so they are given in chunk order)."""
    n = len(columns["visit_start"])
    visit_ids = ids(profile.visit_prefix, first, n, 9)
    return raw_frame(profile, "visits", {"visit_id": visit_ids, **columns})


def _visited_orders(
    profile: Profile, world: World, rows: slice, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Online orders of ``rows`` (each has its visit), and the orders behind visits
    without an order (browsing before an online order, research before an offline one)."""
    online = world.online[rows]
    bought = np.flatnonzero(online) + rows.start
    repeats = rng.poisson(profile.browse_visits, len(bought))
    researched = rng.random(len(online)) < profile.research_visits
    browsed = np.concatenate(
        [np.repeat(bought, repeats), np.flatnonzero(~online & researched) + rows.start]
    )
    return bought, browsed


def _known_visits(
    world: World, bought: np.ndarray, browsed: np.ndarray, n_anon: int, rng: np.random.Generator
) -> _Visits:
    """The customers' visits, with room for ``n_anon`` anonymous ones after them."""
    n_buy, n_known = len(bought), len(bought) + len(browsed)
    n = n_known + n_anon
    day = np.empty(n, dtype=np.int64)
    sec = np.empty(n, dtype=np.int64)
    customer = np.zeros(n, dtype=np.int32)
    # the visit that placed each online order, 2 to 40 minutes before it
    day[:n_buy] = world.day[bought]
    sec[:n_buy] = world.seconds[bought] - rng.integers(120, 2400, n_buy)
    customer[:n_buy] = world.customer[bought]
    # the same customer browsing without buying in the two weeks before an online order,
    # or looking things up before an offline one
    day[n_buy:n_known] = np.maximum(world.day[browsed] - rng.integers(0, 14, len(browsed)), 0)
    sec[n_buy:n_known] = _visit_seconds(rng, len(browsed))
    customer[n_buy:n_known] = world.customer[browsed]
    return _Visits(day, sec, customer, n_known)


def _add_anonymous(v: _Visits, n_days: int, n_anon: int, rng: np.random.Generator) -> None:
    """Anonymous visits, a quarter of all, on days near the known ones (in place)."""
    near = v.day[rng.integers(0, v.known, n_anon)]
    v.day[v.known :] = np.clip(near + rng.integers(-3, 4, n_anon), 0, n_days - 1)
    v.sec[v.known :] = _visit_seconds(rng, n_anon)


def _visit_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Visit times of day: mostly office hours, between 06:00 and 23:59."""
    return np.clip(rng.normal(13.0 * 3600, 3.5 * 3600, n), 6 * 3600, 86_399).astype(np.int64)
