"""Builders of the ``orders`` and ``order_lines`` tables, one chunk of orders at a time."""

from __future__ import annotations

import numpy as np
import polars as pl

from b2b_analysis.demo.catalogue import CATEGORY_CDF, QUANTITIES, SKUS_PER_CATEGORY
from b2b_analysis.demo.draws import pick
from b2b_analysis.demo.frames import Lookups, raw_frame
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.timeline import dates, stamps
from b2b_analysis.demo.world import World


def orders_chunk(
    profile: Profile, world: World, look: Lookups, rows: slice, order_ids: pl.Series
) -> pl.DataFrame:
    """The orders ``rows`` of ``world`` as the client exports them."""
    return raw_frame(
        profile,
        "orders",
        {
            "order_id": order_ids,
            "customer_id": look.customers.gather(world.customer[rows]),
            "order_date": _order_date(profile, world, rows),
            "channel": look.channels.gather(world.channel[rows]),
            "revenue": pl.Series(world.cents[rows] / 100.0),
            "status": look.statuses.gather(world.status[rows]),
            "lines": pl.Series(world.lines[rows]),
            "cost": pl.Series(world.cost_cents[rows] / 100.0),
        },
    )


def _order_date(profile: Profile, world: World, rows: slice) -> pl.Series:
    """Dates, or local timestamps for a profile with ``timestamps``."""
    if profile.timestamps:
        return stamps(world.day[rows], world.seconds[rows], world.cal, profile.timezone)
    return dates(world.day[rows], world.cal)


def lines_chunk(
    profile: Profile,
    world: World,
    look: Lookups,
    rows: slice,
    order_ids: pl.Series,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """The lines of the orders ``rows``: ``world.lines`` per order, whose values add up
    to the order's revenue to the cent."""
    n_lines = world.lines[rows].astype(np.int64)
    order = np.repeat(np.arange(len(n_lines), dtype=np.int32), n_lines)
    category, sku, quantity = _items(world, rows, order, rng)
    line_cents = _split_value(world.cents[rows], n_lines, order, quantity * look.prices[sku])
    return raw_frame(
        profile,
        "order_lines",
        {
            "order_id": order_ids.gather(order),
            "sku": look.skus.gather(sku),
            "category": look.categories.gather(category),
            "quantity": pl.Series(quantity),
            "line_revenue": pl.Series(line_cents / 100.0),
        },
    )


def _items(
    world: World, rows: slice, order: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Category, SKU and quantity of each line (``order``: its order within ``rows``).

    Lines mostly come from the customer's home category; after adoption less so
    (cross-sell). Popular items come up more often.
    """
    n = len(order)
    p_home = np.where(world.stays_online[rows], 0.45, 0.72)[order]
    home = world.home_category[world.customer[rows]][order]
    other = pick(CATEGORY_CDF, rng.random(n))
    category = np.where(rng.random(n) < p_home, home, other).astype(np.int64)
    rank = (SKUS_PER_CATEGORY * rng.random(n) ** 2).astype(np.int64)  # popular items first
    sku = category * SKUS_PER_CATEGORY + rank
    quantity = QUANTITIES[(rng.random(n) * len(QUANTITIES)).astype(np.int64)]
    return category, sku, quantity


def _split_value(
    cents: np.ndarray, n_lines: np.ndarray, order: np.ndarray, weight: np.ndarray
) -> np.ndarray:
    """Each order's ``cents`` split over its lines by ``weight`` (quantity x list price).

    One cent each, the rest pro rata rounded down (scaled a hair below 1 so that it
    cannot overshoot), what is left to the first line.

    >>> _split_value(np.array([1000]), np.array([3]), np.array([0, 0, 0]),
    ...              np.array([1.0, 1.0, 1.0])).tolist()
    [334, 333, 333]
    """
    first_line = np.cumsum(n_lines) - n_lines
    per_weight = (cents - n_lines) / np.bincount(order, weights=weight, minlength=len(n_lines))
    line_cents = 1 + (per_weight[order] * weight * (1.0 - 1e-9)).astype(np.int64)
    line_cents[first_line] += cents - np.add.reduceat(line_cents, first_line)
    return line_cents
