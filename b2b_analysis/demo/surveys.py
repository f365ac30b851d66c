"""Builders of the ``surveys`` table (profiles that have one).

A CSAT score after about 6% of orders, and a yearly NPS campaign in October answered
by about 30% of the active customers, each on the scale the data contract gives its
kind (:data:`b2b_analysis.schema.SURVEY_KINDS`). Scores follow the customer's
satisfaction, are higher for adopters who stay online, lower for reverters and after
returns.
"""

from __future__ import annotations

import datetime as dt
from datetime import date

import numpy as np
import polars as pl

from b2b_analysis import schema
from b2b_analysis.demo.frames import Lookups, raw_frame
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.timeline import dates
from b2b_analysis.demo.world import RETURNED, World


def csat_chunk(world: World, rows: slice, look: Lookups, rng: np.random.Generator) -> pl.DataFrame:
    """CSAT answers to the orders ``rows`` (canonical names), a few days after them."""
    n = rows.stop - rows.start
    answered = np.flatnonzero(rng.random(n) < 0.06) + rows.start
    day = world.day[answered] + rng.integers(1, 10, len(answered))
    keep = day < world.cal.n_days
    answered, day = answered[keep], day[keep]
    customer = world.customer[answered]
    online = world.online[answered]
    score = (
        3.9
        + 0.75 * world.satisfaction[customer]
        + 0.3 * (online & world.stays_online[answered])
        - 0.9 * (online & world.reverter[customer])
        - 1.2 * (world.status[answered] == RETURNED)
        + rng.normal(0.0, 0.7, len(answered))
    )
    return _survey_frame(world, look, customer, day, score, "csat")


def surveys(
    profile: Profile,
    world: World,
    look: Lookups,
    csat: list[pl.DataFrame],
    rng: np.random.Generator,
) -> pl.DataFrame:
    """The CSAT answers of all chunks and the NPS campaigns, by response date, as the
    client exports them."""
    frame = pl.concat([*csat, *_nps(world, look, rng)]).sort(
        "response_date", "kind", "customer_id", maintain_order=True
    )
    return raw_frame(profile, "surveys", frame.to_dict())


def _nps(world: World, look: Lookups, rng: np.random.Generator) -> list[pl.DataFrame]:
    """A yearly NPS campaign in October, answered by about 30% of active customers."""
    cal = world.cal
    last_year = (cal.origin + dt.timedelta(days=cal.n_days - 1)).year
    frames = [_nps_year(world, look, year, rng) for year in range(cal.origin.year, last_year + 1)]
    return [f for f in frames if f is not None]


def _nps_year(
    world: World, look: Lookups, year: int, rng: np.random.Generator
) -> pl.DataFrame | None:
    """The answers of one year's campaign, if anyone active was asked."""
    cal, n = world.cal, world.n_customers
    day = (date(year, 10, 1) - cal.origin).days + rng.integers(0, 28, n)
    answers = rng.random(n) < 0.3
    noise = rng.normal(0.0, 1.3, n)
    keep = answers & (day >= world.first) & (day <= world.last) & (day < cal.n_days)
    if not keep.any():
        return None
    adopted = day >= world.adopt
    score = (
        7.2
        + 1.6 * world.satisfaction
        + 0.4 * (adopted & ~world.reverter)
        - 1.0 * (adopted & world.reverter)
        + noise
    )
    return _survey_frame(world, look, np.flatnonzero(keep), day[keep], score[keep], "nps")


def _survey_frame(
    world: World,
    look: Lookups,
    customer: np.ndarray,
    day: np.ndarray,
    score: np.ndarray,
    kind: str,
) -> pl.DataFrame:
    """Answers of one ``kind`` (canonical names), scores rounded onto its scale."""
    low, high = schema.SURVEY_KINDS[kind]
    return pl.DataFrame(
        {
            "customer_id": look.customers.gather(customer),
            "response_date": dates(day, world.cal),
            "score": pl.Series(np.clip(np.rint(score), low, high).astype(np.int64)),
            "kind": pl.repeat(kind, len(customer), dtype=schema.DTYPES["text"], eager=True),
        }
    )
