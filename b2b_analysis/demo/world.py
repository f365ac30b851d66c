"""The simulated world: customers and all their orders, in time order.

The only stage that sees all orders at once; the table builders read from it chunk by
chunk.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np

from b2b_analysis import schema
from b2b_analysis.demo.customers import Customers, customers
from b2b_analysis.demo.draws import cdf, pick, rng, sorted_by
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.timeline import Calendar, calendar, draw_days

#: Orders per block of customers simulated together (a constant: the data depends on it).
_SIMULATION_BLOCK = 1_000_000
_CANCELLED_RATE = 0.03
_RETURNED_RATE = 0.02
#: ``World.status`` codes: positions in the contract's statuses (placed, cancelled,
#: returned), which are also the positions of a profile's ``status_labels``.
CANCELLED = schema.STATUSES.index("cancelled")
RETURNED = schema.STATUSES.index("returned")
PLACED = schema.STATUSES.index("placed")


@dataclass
class World:
    """Customers and their orders, orders sorted by time (the order id order)."""

    cal: Calendar
    # customers
    first: np.ndarray
    last: np.ndarray
    adopt: np.ndarray  # adoption day (the first order from it on is online); n_days: never
    adopter: np.ndarray
    reverter: np.ndarray
    satisfaction: np.ndarray
    home_category: np.ndarray
    # orders
    customer: np.ndarray
    day: np.ndarray
    seconds: np.ndarray  # local time of day
    online: np.ndarray
    stays_online: np.ndarray  # placed after adoption by a customer who did not revert
    channel: np.ndarray  # index into online labels + offline labels
    cents: np.ndarray
    cost_cents: np.ndarray
    status: np.ndarray  # PLACED, CANCELLED or RETURNED
    lines: np.ndarray

    @property
    def n_orders(self) -> int:
        return len(self.day)

    @property
    def n_customers(self) -> int:
        return len(self.first)


def simulate(
    profile: Profile,
    orders: int,
    seed: int,
    start: date,
    end: date,
    pool: ThreadPoolExecutor | None = None,
) -> World:
    """Customers and exactly ``orders`` orders of ``profile``, from a year before
    ``start`` to ``end``.

    Customers' orders are simulated in blocks of customers (on ``pool`` if given), each
    block from its own random stream, then all orders are put in time order.
    """
    cal = calendar(profile, start, end)
    n_cust = max(50, round(orders / 40))
    cust = customers(profile, cal, n_cust, rng(seed, profile, 0))
    counts = _order_counts(cust, orders, rng(seed, profile, 1))
    blocks = _blocks(counts, orders)

    def block(k: int) -> dict[str, np.ndarray]:
        return _orders_block(profile, cal, cust, counts, blocks[k], rng(seed, profile, 1, k))

    if pool is None:
        parts = [block(k) for k in range(len(blocks))]
    else:
        parts = list(pool.map(block, range(len(blocks))))
    return _in_time_order(cal, cust, parts)


def _order_counts(cust: Customers, orders: int, rng: np.random.Generator) -> np.ndarray:
    """Orders per customer: at least its first, the rest split by order intensity."""
    n_cust = len(cust.first)
    intensity = cust.pre_mass + cust.post_mass
    return 1 + rng.multinomial(orders - n_cust, intensity / intensity.sum())


def _blocks(counts: np.ndarray, orders: int) -> list[slice]:
    """Blocks of whole customers holding about ``_SIMULATION_BLOCK`` orders each."""
    n_cust = len(counts)
    cuts = np.searchsorted(
        np.cumsum(counts), np.arange(_SIMULATION_BLOCK, orders, _SIMULATION_BLOCK)
    )
    edges = np.unique(np.concatenate([[0], cuts + 1, [n_cust]]).clip(max=n_cust))
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def _in_time_order(cal: Calendar, cust: Customers, parts: list[dict[str, np.ndarray]]) -> World:
    """The blocks' orders joined and sorted by time: order ids count up with it."""
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    parts.clear()
    order = sorted_by(columns["day"].astype(np.int64) * 86_400 + columns["seconds"])
    return World(
        cal=cal,
        first=cust.first,
        last=cust.last,
        adopt=cust.adopt,
        adopter=cust.adopter,
        reverter=cust.reverter,
        satisfaction=cust.satisfaction,
        home_category=cust.home_category,
        **{name: values[order] for name, values in columns.items()},
    )


# ------------------------------------------------------------- one block of customers


@dataclass(frozen=True)
class _Block:
    """The orders of a block of customers, grouped by customer, as they are drawn."""

    profile: Profile
    cal: Calendar
    cust: Customers
    #: the customers, the customer number of each order, and where each customer's
    #: orders start
    block: slice
    customer: np.ndarray
    starts: np.ndarray

    @property
    def n(self) -> int:
        return len(self.customer)


def _orders_block(
    profile: Profile,
    cal: Calendar,
    cust: Customers,
    counts: np.ndarray,
    block: slice,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The orders of customers ``block``, grouped by customer (not yet in time order).

    The draws come from ``rng`` step by step, in this order: days, channel, value
    and lines, status and cost, channel label, time of day.
    """
    counts = counts[block]
    b = _Block(
        profile=profile,
        cal=cal,
        cust=cust,
        block=block,
        customer=np.repeat(np.arange(block.start, block.stop, dtype=np.int32), counts),
        starts=np.cumsum(counts) - counts,
    )
    day, adopt = _order_days(b, rng)
    size, online, stays_online = _online(b, day, adopt, rng)
    cents, lines = _values(b, size, online, stays_online, rng)
    status, cost_cents = _status_and_cost(b, cents, rng)
    channel = _channel(b, online, rng)
    seconds = _time_of_day(b, online, rng)
    return {
        "customer": b.customer,
        "day": day.astype(np.int32),
        "seconds": seconds,
        "online": online,
        "stays_online": stays_online,
        "channel": channel,
        "cents": cents,
        "cost_cents": cost_cents,
        "status": status,
        "lines": lines,
    }


def _order_days(b: _Block, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each order's day, before or after its customer's adoption day (also returned,
    capped at the day after the customer's last), by the calendar mass of each side."""
    customer, cust = b.customer, b.cust
    first, last = cust.first[customer], cust.last[customer]
    adopt = np.minimum(cust.adopt[customer], last + 1)
    pre, post = cust.pre_mass[customer], cust.post_mass[customer]
    is_pre = rng.random(b.n) * (pre + post) < pre
    day = draw_days(
        b.cal,
        np.where(is_pre, first, adopt),
        np.where(is_pre, adopt, last + 1),
        rng.random(b.n),
    )
    day[b.starts] = cust.first[b.block]  # every customer's first order is on its first day
    return day, adopt


def _online(
    b: _Block, day: np.ndarray, adopt: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative order size, whether an order is online, whether it is placed after
    adoption by a customer who stays online.

    The first order on or after the adoption day is the first online one; after it,
    adopters who stay order online by chance, small orders more often.
    """
    after = day >= adopt
    first_after = np.minimum.reduceat(np.where(after, day, b.cal.n_days + 1), b.starts)
    candidates = np.flatnonzero(after & (day == first_after[b.customer - b.block.start]))
    first_of_customer = np.ones(len(candidates), dtype=bool)
    first_of_customer[1:] = b.customer[candidates[1:]] != b.customer[candidates[:-1]]
    adoption_order = np.zeros(b.n, dtype=bool)
    adoption_order[candidates[first_of_customer]] = True
    stays_online = after & ~b.cust.reverter[b.customer]
    size = rng.lognormal(0.0, 0.55, b.n)
    p_online = np.where(size < 1.0, b.profile.online_small, b.profile.online_large)
    online = adoption_order | (stays_online & (rng.random(b.n) < p_online))
    return size, online, stays_online


def _values(
    b: _Block,
    size: np.ndarray,
    online: np.ndarray,
    stays_online: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Order value in cents (at least a cent per line) and number of lines."""
    profile = b.profile
    value = b.cust.base_value[b.customer] * size * np.where(online, profile.online_aov_factor, 1.0)
    mean_lines = np.where(stays_online, profile.lines_post, profile.lines_pre)
    lines = 1 + rng.poisson(mean_lines * np.sqrt(np.clip(size, 0.4, 2.5)))
    lines = np.minimum(lines, 60).astype(np.int32)
    cents = np.maximum(np.rint(value * 100), 100 * lines).astype(np.int64)
    return cents, lines


def _status_and_cost(
    b: _Block, cents: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Status code (about 3% cancelled, 2% returned) and cost in cents."""
    draw = rng.random(b.n)
    status = np.where(
        draw < _CANCELLED_RATE,
        CANCELLED,
        np.where(draw < _CANCELLED_RATE + _RETURNED_RATE, RETURNED, PLACED),
    ).astype(np.int8)
    margin = np.clip(b.profile.margin + rng.normal(0.0, 0.06, b.n), 0.02, 0.8)
    cost_cents = np.rint(cents * (1.0 - margin)).astype(np.int64)
    return status, cost_cents


def _channel(b: _Block, online: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into online labels + offline labels: 80% of orders go through the
    customer's usual channel, the rest through any."""
    profile, customer = b.profile, b.customer
    draw = rng.random(b.n)
    usual = draw < 0.8
    other = (draw - 0.8) / 0.2
    offline_label = np.where(
        usual, b.cust.offline_pref[customer], pick(cdf(profile.offline_labels), other)
    )
    online_label = np.where(
        usual, b.cust.online_pref[customer], pick(cdf(profile.online_labels), other)
    )
    n_online = len(profile.online_labels)
    return np.where(online, online_label, n_online + offline_label).astype(np.int16)


def _time_of_day(b: _Block, online: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds after midnight: offline orders in business hours, online ones also in
    the evening."""
    office = np.clip(np.rint(rng.normal(690.0, 150.0, b.n)), 420, 1139)
    evening = rng.random(b.n) < 0.25
    web = np.where(
        evening,
        rng.integers(1080, 1380, b.n),
        np.clip(np.rint(rng.normal(660.0, 170.0, b.n)), 405, 1379),
    )
    return (np.where(online, web, office) * 60).astype(np.int32)
