"""Deterministic synthetic B2B data for the demo, the tests and the benchmarks.

:func:`generate` writes the export files of one made-up client (a *profile*), with
that client's raw column names, raw channel and status labels, separator and date
style, so that the params file written by :func:`params_yaml` has real mapping work
to do. The same profile, size, seed and dates always give byte-identical files.

The world being simulated
-------------------------
Time runs from one year before ``start`` (the history, so that customers whose first
order predates the analysis window exist) to ``end``. Days carry a calendar weight:
weekdays busy, weekends nearly empty, a December dip, the profile's summer dip and a
slow growth trend. Every date below is drawn with these weights.

Customers (``orders / 40`` of them, at least 50)
    Each has an order rate (lognormal, so a few customers order a lot), a base order
    value (lognormal around the profile's typical order), a preferred offline and
    online channel, a home product category, and a latent satisfaction. About a third
    are established accounts whose first order falls in the first weeks of the history;
    the others are acquired steadily over the whole span. Some churn: the less
    satisfied a customer, the likelier, after a lifetime of months to years.

Online adoption
    A profile-defined share never adopts the web shop. The others adopt on a date drawn
    from an S-curve (logistic) over calendar time, centred ``adoption_mid`` days after
    ``start``; a customer acquired after that date adopts with its first order. The
    adoption date is the date of the customer's first online order. A share of adopters
    *revert*: they try the shop once, and all their orders after that first online
    order are offline again.

Orders
    A customer's orders fall between its first order and its churn date, at its rate,
    which rises by ``frequency_uplift`` after adoption (reverters excepted). Exactly the
    requested number of orders is split over customers (multinomial), each customer
    having at least its first order. Before adoption all orders are offline; after it
    (for adopters who stay) most are online, small orders especially
    (``online_small`` vs ``online_large``). Online orders are smaller
    (``online_aov_factor``) and, with the cross-sell of the shop, hold more lines from
    more categories. About 3% are cancelled and 2% returned. Offline orders are placed
    in business hours, online ones also in the evening; several orders a day are
    common. Order ids count up in time order.

Order lines
    ``lines`` rows per order: a SKU from a catalogue of 12 categories x 500 items
    (popular items more often), a quantity, and a line value; the line values of an
    order add up to the order's revenue to the cent.

Visits (profiles with a ``visits`` table)
    Every online order is preceded by its visit (2 to 40 minutes earlier); the same
    customer also comes back on other days without buying (``browse_visits`` per online
    order on average), and some customers look products up before ordering offline
    (``research_visits`` of offline orders); a quarter of all visits are anonymous (no
    customer id). The conversion rate, online orders over visits, is therefore a bit
    below ``0.75 / (1 + browse_visits)``: 10-25%.

Surveys (profiles with a ``surveys`` table)
    A CSAT score (1-5) after about 6% of orders, and a yearly NPS campaign (0-10) in
    October answered by about 30% of the active customers. Scores follow the
    customer's satisfaction (which also keeps customers ordering), are higher for
    adopters who stay online, lower for reverters and after returns.

Investments (profiles with an ``investments`` table)
    Monthly amounts in three categories: ``platform`` (a build phase before the shop
    goes live, then running costs), ``marketing`` (a launch push, then steady) and
    ``integration`` (irregular projects), scaled to the gross margin the online
    channel earns, so that the ROI is plausible.

Everything is vectorised with NumPy and polars; the only Python loops run over blocks
of customers, chunks of :data:`CHUNK_ORDERS` orders, survey years and catalogue items.
Blocks and chunks are fixed by the arguments alone and each (chunk, table) draws from
its own random stream, so the bytes never depend on the machine or its thread count,
and a table does not change when another is switched off. Blocks and chunks run on a
few threads (NumPy and polars release the GIL), and the Parquet files are encoded in
parallel; 10 million orders take well under a minute on two cores.

>>> sorted(PROFILES) == sorted(DEMO_CLIENTS)
True
>>> PROFILES["iberia"].separator
';'
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import zlib
from collections import deque
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import polars as pl
import yaml

__all__ = [
    "CHUNK_ORDERS",
    "DEFAULT_END",
    "DEFAULT_START",
    "DEMO_CLIENTS",
    "MIN_ORDERS",
    "PROFILES",
    "TABLE_COLUMNS",
    "Format",
    "Profile",
    "generate",
    "params_yaml",
]

Format = Literal["csv", "parquet"]

#: The smallest data set :func:`generate` makes.
MIN_ORDERS = 1_000
#: Orders handled (and, for CSV, written) per step. A constant: the lines, visits and
#: surveys drawn depend on it (the orders do not).
CHUNK_ORDERS = 500_000
#: rows per Parquet row group of the generated files
_ROW_GROUP_ROWS = 250_000
#: Default analysis window of the demo; the generated history starts a year earlier.
DEFAULT_START = date(2023, 1, 1)
DEFAULT_END = date(2025, 12, 31)

#: Canonical columns written for each table, in file order (``cost`` only with a
#: profile's ``cost_column``).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": (
        "order_id",
        "customer_id",
        "order_date",
        "channel",
        "revenue",
        "status",
        "lines",
        "cost",
    ),
    "order_lines": ("order_id", "sku", "category", "quantity", "line_revenue"),
    "visits": ("visit_id", "customer_id", "visit_start"),
    "surveys": ("customer_id", "response_date", "score", "kind"),
    "investments": ("date", "amount", "category"),
}
_OPTIONAL_TABLES = ("visits", "surveys", "investments")
_INVESTMENT_CATEGORIES = ("platform", "marketing", "integration")
_SKUS_PER_CATEGORY = 500
#: Relative popularity of the 12 product categories.
_CATEGORY_WEIGHTS = np.array([18, 12, 9, 7, 8, 10, 9, 7, 5, 6, 5, 4], dtype=np.float64)
_CATEGORY_WEIGHTS /= _CATEGORY_WEIGHTS.sum()
_CATEGORY_CDF = np.cumsum(_CATEGORY_WEIGHTS)
#: Quantity per order line: geometric (p = 0.3) quantiles on a fine grid, so a quantity
#: is one table look-up.
_QUANTITIES = (1 + np.floor(np.log1p(-(np.arange(4096) + 0.5) / 4096) / np.log(0.7))).astype(
    np.int32
)
#: Calendar weight of Monday .. Sunday.
_WEEKDAY_WEIGHTS = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.12, 0.04])
#: Orders per block of customers simulated together (a constant: the data depends on it).
_SIMULATION_BLOCK = 1_000_000
#: Threads building chunks (and encoding files) at once; the output never depends on it.
_WORKERS = max(1, min(4, os.cpu_count() or 1))
#: How CSV files of a profile with ``timestamps`` write them: ISO 8601 with the UTC offset.
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
_CANCELLED_RATE = 0.03
_RETURNED_RATE = 0.02


@dataclass(frozen=True)
class Profile:
    """A made-up client: how its exports look and how its customers behave.

    Attributes
    ----------
    slug, client
        Short name (params ``slug``, output folder) and full company name.
    currency, timezone, fiscal_year_start, period, gross_margin
        Written to the params file as they are. ``gross_margin`` is ``None`` for a
        profile whose orders carry a ``cost`` column.
    fmt
        The file format the client exports (used when :func:`generate` gets no
        ``fmt``).
    tables
        Optional tables the client has, out of visits, surveys and investments
        (orders always; order lines when asked for).
    columns
        ``{table: {canonical name: raw export name}}``; a column not listed keeps its
        canonical name.
    online_labels, offline_labels
        Raw channel labels with their relative weights.
    status_labels
        Raw labels of a placed, a cancelled and a returned order.
    categories
        The 12 product category names.
    separator
        CSV field separator.
    timestamps
        Write ``order_date`` (and visit starts) as ISO timestamps with the UTC offset
        of ``timezone``, e.g. ``2024-03-05T10:12:00+01:00``, rather than ISO dates.
    cost_column, margin
        Whether orders carry a ``cost`` column; the mean gross margin behind it (and
        behind the investment scale).
    order_prefix, customer_prefix, visit_prefix, sku_prefix
        Id formats: prefix + zero-padded number (orders 8 digits, customers 6, visits
        9).
    aov
        Median base order value of a customer, in ``currency``.
    never_adopt, adoption_mid, adoption_spread, revert_share
        Share of customers who never order online; centre (days after ``start``) and
        spread (days) of the adoption S-curve; share of adopters who revert to offline.
    online_small, online_large
        After adoption, chance that an order below / above the customer's usual value
        is placed online.
    online_aov_factor, frequency_uplift
        Online orders are this much smaller; adopters order this much more often.
    lines_pre, lines_post
        Mean number of extra lines per order before / after adoption (cross-sell).
    browse_visits
        Visits without an order per online order.
    research_visits
        Share of offline orders looked up on the web shop first (a visit, no order).
    invest_ratio
        Total investments as a share of the online channel's gross margin.
    summer_month, summer_factor
        A month with less business (holidays) and its calendar weight.
    """

    slug: str
    client: str
    currency: str
    timezone: str
    fmt: Format
    tables: tuple[str, ...]
    columns: Mapping[str, Mapping[str, str]]
    online_labels: tuple[tuple[str, float], ...]
    offline_labels: tuple[tuple[str, float], ...]
    status_labels: tuple[str, str, str]
    categories: tuple[str, ...]
    separator: str = ","
    timestamps: bool = False
    fiscal_year_start: int = 1
    period: Literal["week", "month", "quarter"] = "month"
    gross_margin: float | None = 0.3
    cost_column: bool = False
    margin: float = 0.3
    order_prefix: str = "A-"
    customer_prefix: str = "C-"
    visit_prefix: str = "V-"
    sku_prefix: str = "SKU-"
    aov: float = 450.0
    never_adopt: float = 0.25
    adoption_mid: int = 365
    adoption_spread: float = 120.0
    revert_share: float = 0.1
    online_small: float = 0.9
    online_large: float = 0.6
    online_aov_factor: float = 0.72
    frequency_uplift: float = 1.35
    lines_pre: float = 1.6
    lines_post: float = 2.5
    browse_visits: float = 3.0
    research_visits: float = 0.12
    invest_ratio: float = 0.3
    summer_month: int | None = None
    summer_factor: float = 1.0

    def __post_init__(self) -> None:
        if len(self.categories) != len(_CATEGORY_WEIGHTS):
            raise ValueError(f"profile {self.slug}: give {len(_CATEGORY_WEIGHTS)} categories")
        unknown = set(self.tables) - set(_OPTIONAL_TABLES)
        if unknown:
            raise ValueError(f"profile {self.slug}: unknown table(s) {sorted(unknown)}")
        if self.cost_column == (self.gross_margin is not None):
            raise ValueError(f"profile {self.slug}: give either cost_column or gross_margin")

    def raw(self, table: str, column: str) -> str:
        """The client's export name of a canonical column."""
        return self.columns.get(table, {}).get(column, column)

    def written_columns(self, table: str) -> tuple[str, ...]:
        """Canonical columns the client's export of ``table`` has, in file order."""
        names = TABLE_COLUMNS[table]
        if table == "orders" and not self.cost_column:
            names = tuple(c for c in names if c != "cost")
        return names

    @property
    def online(self) -> tuple[str, ...]:
        """Raw online channel labels."""
        return tuple(label for label, _ in self.online_labels)

    @property
    def offline(self) -> tuple[str, ...]:
        """Raw offline channel labels."""
        return tuple(label for label, _ in self.offline_labels)


PROFILES: dict[str, Profile] = {
    "acme": Profile(
        slug="acme",
        client="Acme Industrial Supply",
        currency="USD",
        timezone="UTC",
        fmt="csv",
        tables=("visits", "surveys", "investments"),
        columns={},
        online_labels=(("Web Shop", 0.8), ("Portal", 0.2)),
        offline_labels=(("Sales Rep", 0.45), ("Phone", 0.35), ("EDI", 0.2)),
        status_labels=("Completed", "Cancelled", "Returned"),
        categories=(
            "Fasteners",
            "Hand Tools",
            "Power Tools",
            "Abrasives",
            "Adhesives & Sealants",
            "Safety & PPE",
            "Electrical",
            "Plumbing",
            "Hydraulics",
            "Lubricants",
            "Janitorial",
            "Packaging",
        ),
        gross_margin=0.3,
        margin=0.3,
        order_prefix="A-",
        customer_prefix="C-",
        visit_prefix="V-",
        sku_prefix="AC-",
        aov=450.0,
        never_adopt=0.15,
        adoption_mid=90,
        adoption_spread=75.0,
        revert_share=0.06,
        online_small=0.93,
        online_large=0.78,
        browse_visits=2.6,
        invest_ratio=0.35,
    ),
    "iberia": Profile(
        slug="iberia",
        client="Distribuciones Ibéricas S.L.",
        currency="EUR",
        timezone="Europe/Madrid",
        fmt="csv",
        tables=("visits", "surveys", "investments"),
        columns={
            "orders": {
                "order_id": "pedido",
                "customer_id": "cliente",
                "order_date": "fecha",
                "channel": "canal",
                "revenue": "importe",
                "status": "estado",
                "lines": "lineas",
            },
            "order_lines": {
                "order_id": "pedido",
                "sku": "articulo",
                "category": "familia",
                "quantity": "cantidad",
                "line_revenue": "importe_linea",
            },
            "visits": {"visit_id": "sesion", "customer_id": "cliente", "visit_start": "inicio"},
            "surveys": {
                "customer_id": "cliente",
                "response_date": "fecha_respuesta",
                "score": "puntuacion",
                "kind": "tipo",
            },
            "investments": {"date": "fecha", "amount": "importe", "category": "partida"},
        },
        online_labels=(("Tienda online", 1.0),),
        offline_labels=(("Comercial", 0.5), ("Teléfono", 0.35), ("Email", 0.15)),
        status_labels=("servido", "anulado", "devuelto"),
        categories=(
            "Tornillería",
            "Herramienta manual",
            "Herramienta eléctrica",
            "Abrasivos",
            "Adhesivos y selladores",
            "Protección laboral",
            "Material eléctrico",
            "Fontanería",
            "Hidráulica",
            "Lubricantes",
            "Limpieza",
            "Embalaje",
        ),
        separator=";",
        timestamps=True,
        gross_margin=0.22,
        margin=0.22,
        order_prefix="PV-",
        customer_prefix="CLI-",
        visit_prefix="S-",
        sku_prefix="REF-",
        aov=380.0,
        never_adopt=0.45,
        adoption_mid=640,
        adoption_spread=220.0,
        revert_share=0.3,
        online_small=0.8,
        online_large=0.45,
        online_aov_factor=0.78,
        frequency_uplift=1.2,
        lines_post=2.2,
        browse_visits=4.0,
        invest_ratio=0.7,
        summer_month=8,
        summer_factor=0.45,
    ),
    "nordic": Profile(
        slug="nordic",
        client="Nordic Fasteners AB",
        currency="SEK",
        timezone="Europe/Stockholm",
        fmt="parquet",
        tables=("investments",),
        columns={
            "orders": {
                "order_id": "ordernr",
                "customer_id": "kundnr",
                "order_date": "orderdatum",
                "channel": "kanal",
                "revenue": "nettobelopp",
                "status": "status",
                "lines": "antal_rader",
                "cost": "kostnad",
            },
            "order_lines": {
                "order_id": "ordernr",
                "sku": "artikelnr",
                "category": "varugrupp",
                "quantity": "antal",
                "line_revenue": "radbelopp",
            },
            "investments": {"date": "datum", "amount": "belopp", "category": "kategori"},
        },
        online_labels=(("Webbshop", 0.85), ("B2B-portal", 0.15)),
        offline_labels=(("Säljare", 0.4), ("Telefon", 0.25), ("EDI", 0.35)),
        status_labels=("Levererad", "Makulerad", "Returnerad"),
        categories=(
            "Skruv",
            "Mutter",
            "Bult",
            "Bricka",
            "Nit",
            "Ankare",
            "Handverktyg",
            "Elverktyg",
            "Lim och tätning",
            "Skyddsutrustning",
            "Förbrukning",
            "Förpackning",
        ),
        fiscal_year_start=7,
        period="quarter",
        gross_margin=None,
        cost_column=True,
        margin=0.34,
        order_prefix="SO",
        customer_prefix="K",
        visit_prefix="W",
        sku_prefix="ART-",
        aov=5200.0,
        never_adopt=0.3,
        adoption_mid=365,
        adoption_spread=160.0,
        revert_share=0.12,
        online_small=0.88,
        online_large=0.55,
        lines_pre=2.2,
        lines_post=3.0,
        invest_ratio=0.45,
        summer_month=7,
        summer_factor=0.5,
    ),
}

#: The clients of the demo, in the order it shows them.
DEMO_CLIENTS: tuple[str, ...] = ("acme", "iberia", "nordic")


# --------------------------------------------------------------------------- helpers


def _profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}; choose one of {', '.join(sorted(PROFILES))}"
        ) from None


def _rng(seed: int, profile: Profile, *stream: int) -> np.random.Generator:
    """An independent random stream per (seed, profile, stage, chunk, table)."""
    key = zlib.crc32(profile.slug.encode())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, key, *stream])))


def _history_start(start: date) -> date:
    """One year before ``start`` (28 February for a 29 February)."""
    try:
        return start.replace(year=start.year - 1)
    except ValueError:
        return start.replace(year=start.year - 1, day=28)


@dataclass(frozen=True)
class _Calendar:
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


def _calendar(profile: Profile, start: date, end: date) -> _Calendar:
    origin = _history_start(start)
    n_days = (end - origin).days + 1
    dates = np.datetime64(origin, "D") + np.arange(n_days)
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weight = _WEEKDAY_WEIGHTS[weekday] * (1.0 + 0.05 * np.arange(n_days) / 365.0)
    weight = weight * np.where(month == 12, 0.8, 1.0)
    if profile.summer_month is not None:
        weight = weight * np.where(month == profile.summer_month, profile.summer_factor, 1.0)
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    points = max(1 << 16, int(2 * cum[-1] / weight.min()) + 1)
    step = cum[-1] / points
    grid = (np.searchsorted(cum, np.arange(points) * step, side="right") - 1).astype(np.int32)
    return _Calendar(origin, n_days, (start - origin).days, cum, grid, step)


def _draw_days(cal: _Calendar, lo: np.ndarray, hi: np.ndarray, u: np.ndarray) -> np.ndarray:
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


def _cdf(weights: tuple[tuple[str, float], ...] | np.ndarray) -> np.ndarray:
    """Cumulative distribution of relative weights, for :func:`_pick`."""
    p = np.array([w for _, w in weights] if isinstance(weights, tuple) else weights, float)
    return np.cumsum(p) / p.sum()


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn with the probabilities behind ``cdf``, for each ``u`` in [0, 1)."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int32)


def _sorted_by(key: np.ndarray) -> np.ndarray:
    """The permutation that sorts ``key`` (>= 0), ties kept in input order.

    Sorting ``key * n + position`` (all distinct) is several times faster than a
    stable argsort and gives the same, platform-independent answer.
    """
    n = len(key)
    return np.sort(key.astype(np.int64) * n + np.arange(n, dtype=np.int64)) % n


def _ids(prefix: str, first: int, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded numbers ``first .. first + n - 1``."""
    numbers = pl.int_range(first, first + n, dtype=pl.Int64)
    if first + n <= 10**width:  # pad by adding 10**width and dropping its leading 1
        digits = (numbers + 10**width).cast(pl.String).str.slice(1)
    else:
        digits = numbers.cast(pl.String).str.zfill(width)
    return pl.select((pl.lit(prefix) + digits).alias("id")).to_series()


def _dates(day: np.ndarray, cal: _Calendar) -> pl.Series:
    return pl.Series((cal.epoch_day + day).astype(np.int32)).cast(pl.Date)


def _stamps(day: np.ndarray, seconds: np.ndarray, cal: _Calendar, tz: str | None) -> pl.Series:
    """Local wall-clock times; tagged with ``tz`` (all fall between 05:00 and 24:00, so
    none is skipped or repeated by a daylight-saving change)."""
    us = ((cal.epoch_day + day.astype(np.int64)) * 86_400 + seconds) * 1_000_000
    stamps = pl.Series(us).cast(pl.Datetime("us"))
    if tz is not None:
        stamps = stamps.dt.replace_time_zone(tz, ambiguous="raise", non_existent="raise")
    return stamps


def _frame(profile: Profile, table: str, columns: dict[str, pl.Series]) -> pl.DataFrame:
    """A table with the client's raw column names, in the client's column order."""
    return pl.DataFrame(
        [columns[c].alias(profile.raw(table, c)) for c in profile.written_columns(table)]
    )


# ------------------------------------------------------------------------ simulation


@dataclass
class _World:
    """Customers and their orders, orders sorted by time (the order id order)."""

    cal: _Calendar
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
    status: np.ndarray  # 0 placed, 1 cancelled, 2 returned
    lines: np.ndarray

    @property
    def n_orders(self) -> int:
        return len(self.day)

    @property
    def n_customers(self) -> int:
        return len(self.first)


@dataclass(frozen=True)
class _Customers:
    """Per-customer traits (arrays indexed by customer number)."""

    first: np.ndarray
    last: np.ndarray
    adopt: np.ndarray
    adopter: np.ndarray
    reverter: np.ndarray
    satisfaction: np.ndarray
    base_value: np.ndarray
    offline_pref: np.ndarray
    online_pref: np.ndarray
    home_category: np.ndarray
    #: calendar mass before adoption, and after it (weighted by the frequency uplift)
    pre_mass: np.ndarray
    post_mass: np.ndarray


def _customers(profile: Profile, cal: _Calendar, n: int, rng: np.random.Generator) -> _Customers:
    n_days = cal.n_days
    established = rng.random(n) < 0.35
    lo = np.zeros(n, dtype=np.int64)
    hi = np.where(established, 45, n_days - 30)
    first = _draw_days(cal, lo, hi, rng.random(n))
    satisfaction = rng.standard_normal(n)
    churns = rng.random(n) < 1.0 / (1.0 + np.exp(1.1 + 0.9 * satisfaction))
    lifetime = (60 + rng.exponential(450.0, n)).astype(np.int64)
    last = np.where(churns, np.minimum(first + lifetime, n_days - 1), n_days - 1)
    rate = rng.lognormal(0.0, 0.9, n) * np.clip(1.0 + 0.15 * satisfaction, 0.5, None)
    base_value = rng.lognormal(np.log(profile.aov), 0.7, n)
    u = np.clip(rng.random(n), 1e-9, 1 - 1e-9)
    wanted = cal.start_day + profile.adoption_mid + profile.adoption_spread * np.log(u / (1 - u))
    adopt = np.maximum(np.clip(np.rint(wanted), 0, n_days), first).astype(np.int64)
    adopter = (rng.random(n) >= profile.never_adopt) & (adopt <= last)
    adopt = np.where(adopter, adopt, n_days)
    reverter = adopter & (rng.random(n) < profile.revert_share)
    offline_pref = _pick(_cdf(profile.offline_labels), rng.random(n))
    online_pref = _pick(_cdf(profile.online_labels), rng.random(n))
    home_category = _pick(_CATEGORY_CDF, rng.random(n)).astype(np.int8)
    uplift = np.where(reverter, 1.0, profile.frequency_uplift)
    switch = np.minimum(adopt, last + 1)
    pre_mass = cal.cum[switch] - cal.cum[first]
    post_mass = (cal.cum[last + 1] - cal.cum[switch]) * uplift
    # rate only matters through the order counts, drawn by the caller
    return _Customers(
        first=first.astype(np.int32),
        last=last.astype(np.int32),
        adopt=adopt.astype(np.int32),
        adopter=adopter,
        reverter=reverter,
        satisfaction=satisfaction,
        base_value=base_value,
        offline_pref=offline_pref,
        online_pref=online_pref,
        home_category=home_category,
        pre_mass=pre_mass * rate,
        post_mass=post_mass * rate,
    )


def _orders_block(
    profile: Profile,
    cal: _Calendar,
    cust: _Customers,
    counts: np.ndarray,
    block: slice,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The orders of customers ``block``, grouped by customer (not yet in time order)."""
    n_days = cal.n_days
    counts = counts[block]
    orders = int(counts.sum())
    customer = np.repeat(np.arange(block.start, block.stop, dtype=np.int32), counts)
    starts = np.cumsum(counts) - counts
    first, last = cust.first[customer], cust.last[customer]
    adopt = np.minimum(cust.adopt[customer], last + 1)
    pre, post = cust.pre_mass[customer], cust.post_mass[customer]
    is_pre = rng.random(orders) * (pre + post) < pre
    day = _draw_days(
        cal,
        np.where(is_pre, first, adopt),
        np.where(is_pre, adopt, last + 1),
        rng.random(orders),
    )
    day[starts] = cust.first[block]  # every customer's first order is on its first-order date
    del first, last, pre, post, is_pre

    # --- channel: the first order on or after the adoption day is the first online one
    after = day >= adopt
    first_after = np.minimum.reduceat(np.where(after, day, n_days + 1), starts)
    candidates = np.flatnonzero(after & (day == first_after[customer - block.start]))
    first_of_customer = np.ones(len(candidates), dtype=bool)
    first_of_customer[1:] = customer[candidates[1:]] != customer[candidates[:-1]]
    adoption_order = np.zeros(orders, dtype=bool)
    adoption_order[candidates[first_of_customer]] = True
    stays_online = after & ~cust.reverter[customer]
    size = rng.lognormal(0.0, 0.55, orders)
    p_online = np.where(size < 1.0, profile.online_small, profile.online_large)
    online = adoption_order | (stays_online & (rng.random(orders) < p_online))
    del after, adopt, adoption_order, p_online

    # --- value, lines, status, cost, channel label, time of day
    value = cust.base_value[customer] * size * np.where(online, profile.online_aov_factor, 1.0)
    mean_lines = np.where(stays_online, profile.lines_post, profile.lines_pre)
    lines = 1 + rng.poisson(mean_lines * np.sqrt(np.clip(size, 0.4, 2.5)))
    lines = np.minimum(lines, 60).astype(np.int32)
    cents = np.maximum(np.rint(value * 100), 100 * lines).astype(np.int64)
    draw = rng.random(orders)
    status = np.where(
        draw < _CANCELLED_RATE, 1, np.where(draw < _CANCELLED_RATE + _RETURNED_RATE, 2, 0)
    ).astype(np.int8)
    margin = np.clip(profile.margin + rng.normal(0.0, 0.06, orders), 0.02, 0.8)
    cost_cents = np.rint(cents * (1.0 - margin)).astype(np.int64)
    # 80% of orders go through the customer's usual channel, the rest through any
    draw = rng.random(orders)
    usual = draw < 0.8
    other = (draw - 0.8) / 0.2
    offline_label = np.where(
        usual, cust.offline_pref[customer], _pick(_cdf(profile.offline_labels), other)
    )
    online_label = np.where(
        usual, cust.online_pref[customer], _pick(_cdf(profile.online_labels), other)
    )
    n_online = len(profile.online_labels)
    channel = np.where(online, online_label, n_online + offline_label).astype(np.int16)
    office = np.clip(np.rint(rng.normal(690.0, 150.0, orders)), 420, 1139)
    evening = rng.random(orders) < 0.25
    web = np.where(
        evening,
        rng.integers(1080, 1380, orders),
        np.clip(np.rint(rng.normal(660.0, 170.0, orders)), 405, 1379),
    )
    seconds = (np.where(online, web, office) * 60).astype(np.int32)
    return {
        "customer": customer,
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


def _simulate(
    profile: Profile,
    orders: int,
    seed: int,
    start: date,
    end: date,
    pool: ThreadPoolExecutor | None = None,
) -> _World:
    """Customers and orders; the only stage that sees all orders at once.

    Customers' orders are simulated in blocks of customers (on ``pool`` if given), each
    block from its own random stream, then all orders are put in time order.
    """
    cal = _calendar(profile, start, end)
    n_cust = max(50, round(orders / 40))
    cust = _customers(profile, cal, n_cust, _rng(seed, profile, 0))
    intensity = cust.pre_mass + cust.post_mass
    rng = _rng(seed, profile, 1)
    counts = 1 + rng.multinomial(orders - n_cust, intensity / intensity.sum())
    # blocks of whole customers holding about _SIMULATION_BLOCK orders each
    cuts = np.searchsorted(
        np.cumsum(counts), np.arange(_SIMULATION_BLOCK, orders, _SIMULATION_BLOCK)
    )
    edges = np.unique(np.concatenate([[0], cuts + 1, [n_cust]]).clip(max=n_cust))
    blocks = [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]

    def block(k: int) -> dict[str, np.ndarray]:
        return _orders_block(profile, cal, cust, counts, blocks[k], _rng(seed, profile, 1, k))

    if pool is None:
        parts = [block(k) for k in range(len(blocks))]
    else:
        parts = list(pool.map(block, range(len(blocks))))
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    del parts
    # time order: order ids count up with the order time
    order = _sorted_by(columns["day"].astype(np.int64) * 86_400 + columns["seconds"])
    return _World(
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


# ------------------------------------------------------------------- table builders


@dataclass(frozen=True)
class _Lookups:
    """String columns gathered by index instead of formatted per row."""

    customers: pl.Series
    channels: pl.Series
    statuses: pl.Series
    categories: pl.Series
    skus: pl.Series
    #: list price of each SKU (relative), in SKU index order
    prices: np.ndarray


def _lookups(profile: Profile, world: _World, rng: np.random.Generator) -> _Lookups:
    n_cat = len(profile.categories)
    skus = [
        f"{profile.sku_prefix}{c + 1:02d}-{i + 1:04d}"
        for c in range(n_cat)
        for i in range(_SKUS_PER_CATEGORY)
    ]
    return _Lookups(
        customers=_ids(profile.customer_prefix, 1, world.n_customers, 6),
        channels=pl.Series([*profile.online, *profile.offline]),
        statuses=pl.Series(list(profile.status_labels)),
        categories=pl.Series(list(profile.categories)),
        skus=pl.Series(skus),
        prices=rng.lognormal(0.0, 0.8, len(skus)),
    )


def _order_date(profile: Profile, world: _World, rows: slice) -> pl.Series:
    if profile.timestamps:
        return _stamps(world.day[rows], world.seconds[rows], world.cal, profile.timezone)
    return _dates(world.day[rows], world.cal)


def _orders_chunk(
    profile: Profile, world: _World, look: _Lookups, rows: slice, order_ids: pl.Series
) -> pl.DataFrame:
    return _frame(
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


def _lines_chunk(
    profile: Profile,
    world: _World,
    look: _Lookups,
    rows: slice,
    order_ids: pl.Series,
    rng: np.random.Generator,
) -> pl.DataFrame:
    n_lines = world.lines[rows].astype(np.int64)
    cents = world.cents[rows]
    n_orders = len(n_lines)
    order = np.repeat(np.arange(n_orders, dtype=np.int32), n_lines)
    n = len(order)
    first_line = np.cumsum(n_lines) - n_lines
    # cross-sell: after adoption, fewer lines come from the customer's home category
    p_home = np.where(world.stays_online[rows], 0.45, 0.72)[order]
    home = world.home_category[world.customer[rows]][order]
    other = _pick(_CATEGORY_CDF, rng.random(n))
    category = np.where(rng.random(n) < p_home, home, other).astype(np.int64)
    rank = (_SKUS_PER_CATEGORY * rng.random(n) ** 2).astype(np.int64)  # popular items first
    sku = category * _SKUS_PER_CATEGORY + rank
    quantity = _QUANTITIES[(rng.random(n) * len(_QUANTITIES)).astype(np.int64)]
    # split the order value over its lines by quantity x list price: 1 cent each, the
    # rest pro rata rounded down (scaled a hair below 1 so that it cannot overshoot),
    # what is left to the first line
    weight = quantity * look.prices[sku]
    per_weight = (cents - n_lines) / np.bincount(order, weights=weight, minlength=n_orders)
    line_cents = 1 + (per_weight[order] * weight * (1.0 - 1e-9)).astype(np.int64)
    line_cents[first_line] += cents - np.add.reduceat(line_cents, first_line)
    return _frame(
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


def _visits_chunk(
    profile: Profile,
    world: _World,
    look: _Lookups,
    rows: slice,
    rng: np.random.Generator,
) -> dict[str, pl.Series]:
    """The visits around the orders of ``rows``, in time order, without ids."""
    cal = world.cal
    online = world.online[rows]
    orders = np.flatnonzero(online) + rows.start
    repeats = rng.poisson(profile.browse_visits, len(orders))
    researched = rng.random(len(online)) < profile.research_visits
    browsed = np.concatenate(
        [np.repeat(orders, repeats), np.flatnonzero(~online & researched) + rows.start]
    )
    n_buy, n_known = len(orders), len(orders) + len(browsed)
    n_anon = int(rng.poisson(n_known / 3.0))
    n = n_known + n_anon
    day = np.empty(n, dtype=np.int64)
    sec = np.empty(n, dtype=np.int64)
    customer = np.zeros(n, dtype=np.int32)
    # the visit that placed each online order, 2 to 40 minutes before it
    day[:n_buy] = world.day[orders]
    sec[:n_buy] = world.seconds[orders] - rng.integers(120, 2400, n_buy)
    customer[:n_buy] = world.customer[orders]
    # the same customer browsing without buying in the two weeks before an online order,
    # or looking things up before an offline one
    day[n_buy:n_known] = np.maximum(world.day[browsed] - rng.integers(0, 14, len(browsed)), 0)
    sec[n_buy:n_known] = _visit_seconds(rng, len(browsed))
    customer[n_buy:n_known] = world.customer[browsed]
    # anonymous visits, a quarter of all, on days near the known ones
    if n_anon:
        near = day[rng.integers(0, n_known, n_anon)]
        day[n_known:] = np.clip(near + rng.integers(-3, 4, n_anon), 0, cal.n_days - 1)
        sec[n_known:] = _visit_seconds(rng, n_anon)
    order = _sorted_by(day * 86_400 + sec)
    who = pl.Series(customer[order]).set(pl.Series(order >= n_known), None)
    tz = profile.timezone if profile.timestamps else None
    return {
        "customer_id": look.customers.gather(who),
        "visit_start": _stamps(day[order], sec[order], cal, tz),
    }


def _visit_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Visit times of day: mostly office hours, between 06:00 and 23:59."""
    return np.clip(rng.normal(13.0 * 3600, 3.5 * 3600, n), 6 * 3600, 86_399).astype(np.int64)


def _csat_chunk(
    world: _World, rows: slice, look: _Lookups, rng: np.random.Generator
) -> pl.DataFrame:
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
        - 1.2 * (world.status[answered] == 2)
        + rng.normal(0.0, 0.7, len(answered))
    )
    return _survey_frame(world, look, customer, day, np.clip(np.rint(score), 1, 5), "csat")


def _nps(world: _World, look: _Lookups, rng: np.random.Generator) -> list[pl.DataFrame]:
    """A yearly NPS campaign in October, answered by about 30% of active customers."""
    cal, n = world.cal, world.n_customers
    frames = []
    last_year = (cal.origin + dt.timedelta(days=cal.n_days - 1)).year
    for year in range(cal.origin.year, last_year + 1):
        day = (date(year, 10, 1) - cal.origin).days + rng.integers(0, 28, n)
        answers = rng.random(n) < 0.3
        noise = rng.normal(0.0, 1.3, n)
        keep = answers & (day >= world.first) & (day <= world.last) & (day < cal.n_days)
        if not keep.any():
            continue
        adopted = day >= world.adopt
        score = (
            7.2
            + 1.6 * world.satisfaction
            + 0.4 * (adopted & ~world.reverter)
            - 1.0 * (adopted & world.reverter)
            + noise
        )
        score = np.clip(np.rint(score[keep]), 0, 10)
        frames.append(_survey_frame(world, look, np.flatnonzero(keep), day[keep], score, "nps"))
    return frames


def _survey_frame(
    world: _World,
    look: _Lookups,
    customer: np.ndarray,
    day: np.ndarray,
    score: np.ndarray,
    kind: str,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": look.customers.gather(customer),
            "response_date": _dates(day, world.cal),
            "score": pl.Series(score.astype(np.int64)),
            "kind": pl.repeat(kind, len(customer), dtype=pl.String, eager=True),
        }
    )


def _investments(profile: Profile, world: _World, rng: np.random.Generator) -> pl.DataFrame:
    """Monthly spend per category, scaled to the online channel's gross margin."""
    cal = world.cal
    months = np.arange(
        np.datetime64(cal.origin, "M"),
        np.datetime64(cal.origin + dt.timedelta(days=cal.n_days - 1), "M") + 1,
    )
    month_day = (months.astype("datetime64[D]") - np.datetime64(cal.origin, "D")).astype(np.int64)
    live = cal.start_day + profile.adoption_mid - 2.5 * profile.adoption_spread
    since_live = (month_day - live) / 30.4  # months since the shop went live
    platform = np.where(since_live >= 0, 1.0, np.where(since_live >= -6, 3.0, 0.0))
    marketing = np.where(since_live >= 0, np.where(since_live < 6, 1.6, 0.8), 0.0)
    marketing = marketing * np.clip(1.0 + 0.25 * rng.standard_normal(len(months)), 0.3, None)
    project = (rng.random(len(months)) < 0.3) & (since_live >= -6)
    integration = np.where(project, 1.5 * rng.lognormal(0.0, 0.5, len(months)), 0.0)
    units = np.stack([platform, marketing, integration], axis=1)  # month x category
    placed_online = world.online & (world.status == 0)
    online_margin = world.cents[placed_online].sum() / 100.0 * profile.margin
    scale = profile.invest_ratio * max(online_margin, 1.0) / max(units.sum(), 1e-9)
    cents = np.rint(units * scale * 100).astype(np.int64).ravel()
    keep = cents > 0
    category = np.tile(np.arange(len(_INVESTMENT_CATEGORIES)), len(months))[keep]
    return _frame(
        profile,
        "investments",
        {
            "date": _dates(np.repeat(month_day, len(_INVESTMENT_CATEGORIES))[keep], cal),
            "amount": pl.Series(cents[keep] / 100.0),
            "category": pl.Series(list(_INVESTMENT_CATEGORIES)).gather(category),
        },
    )


# --------------------------------------------------------------------------- writing


class _Sink:
    """One output file, written under a temporary name; :meth:`commit` renames it."""

    def __init__(self, path: Path, fmt: Format, profile: Profile) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.fmt = fmt
        self.profile = profile
        #: Parquet: each chunk goes to its own part file as it comes, so that memory
        #: holds one chunk, not the table (100M orders: 23 GiB otherwise)
        self.parts_dir = path.with_name(f".{path.name}.{os.getpid()}.parts")
        self.parts: list[Path] = []
        self.handle: IO[bytes] | None = None

    def add(self, frame: pl.DataFrame) -> None:
        if self.fmt == "parquet":
            self.parts_dir.mkdir(exist_ok=True)
            part = self.parts_dir / f"{len(self.parts):06d}.parquet"
            frame.write_parquet(part, compression="uncompressed", statistics=False)
            self.parts.append(part)
            return
        first = self.handle is None
        if self.handle is None:
            self.handle = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/discard
        frame.write_csv(
            self.handle,
            include_header=first,
            separator=self.profile.separator,
            date_format="%Y-%m-%d",
            datetime_format=_TIMESTAMP_FORMAT if self.profile.timestamps else "%Y-%m-%dT%H:%M:%S",
            float_precision=2,
        )

    def finish(self) -> None:
        if self.fmt == "parquet":
            # the parts, in order, streamed into one file with fixed-size row groups
            pl.scan_parquet(self.parts).sink_parquet(
                self.tmp, compression="lz4", statistics=True, row_group_size=_ROW_GROUP_ROWS
            )
            shutil.rmtree(self.parts_dir)
            self.parts.clear()
        else:
            assert self.handle is not None
            self.handle.close()
            self.handle = None

    def commit(self) -> None:
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self.handle is not None:
            self.handle.close()
        self.tmp.unlink(missing_ok=True)
        shutil.rmtree(self.parts_dir, ignore_errors=True)


def generate(
    out_dir: Path,
    *,
    profile: str = "acme",
    orders: int = 50_000,
    seed: int = 0,
    fmt: Format | None = None,
    with_lines: bool = True,
    start: dt.date = DEFAULT_START,
    end: dt.date = DEFAULT_END,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Path]:
    """Write a synthetic data set of one demo client into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder for the files (created if missing): ``orders``, ``order_lines`` (with
        ``with_lines``) and whichever of ``visits``, ``surveys`` and ``investments`` the
        profile has, each named ``<table>.csv`` or ``<table>.parquet``. Files are written
        under temporary names and renamed at the very end, so an interrupted run leaves
        the previous files (or none) in place, never a half-written one.
    profile
        Key of :data:`PROFILES`; decides the raw column names, labels and behaviour.
    orders
        Exact number of orders, at least :data:`MIN_ORDERS`. Orders run from one year
        before ``start`` to ``end``.
    seed
        Random seed (>= 0). Same arguments, same bytes.
    fmt
        ``"csv"`` or ``"parquet"``; ``None`` takes the profile's own format.
    with_lines
        Also write ``order_lines`` (about 3 rows per order).
    start, end
        The analysis window the demo data is made for; history starts a year earlier.
    progress
        Called as ``progress(done, total)`` in orders after each chunk of
        :data:`CHUNK_ORDERS` orders, and with ``done == total`` once the files are in
        place.

    Returns
    -------
    dict[str, Path]
        Canonical table name -> path of the file written.

    Raises
    ------
    ValueError
        For an unknown profile or format, fewer than :data:`MIN_ORDERS` orders, a
        negative seed, or ``end`` not after ``start``.
    """
    prof = _profile(profile)
    fmt = prof.fmt if fmt is None else fmt
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}; choose 'csv' or 'parquet'")
    if isinstance(orders, bool) or not isinstance(orders, int | np.integer):
        raise ValueError(f"orders must be a whole number, got {orders!r}")
    if orders < MIN_ORDERS:
        raise ValueError(f"orders must be at least {MIN_ORDERS:,}, got {orders:,}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if end <= start:
        raise ValueError(f"end {end} must be after start {start}")
    orders = int(orders)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = ["orders", *(["order_lines"] if with_lines else []), *prof.tables]
    sinks = {t: _Sink(out_dir / f"{t}.{fmt}", fmt, prof) for t in tables}
    try:
        chunks = [
            (k, slice(lo, min(lo + CHUNK_ORDERS, orders)))
            for k, lo in enumerate(range(0, orders, CHUNK_ORDERS))
        ]
        surveys: list[pl.DataFrame] = []
        visits_written = 0
        with ExitStack() as stack:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=_WORKERS))
            world = _simulate(prof, orders, seed, start, end, pool)
            look = _lookups(prof, world, _rng(seed, prof, 5))
            build = partial(_chunk, prof, world, look, seed, frozenset(tables))
            results = stack.enter_context(closing(_in_order(pool, build, chunks)))
            for (_, rows), parts in zip(chunks, results, strict=True):
                sinks["orders"].add(parts["orders"])
                if "order_lines" in parts:
                    sinks["order_lines"].add(parts["order_lines"])
                if "visits" in parts:
                    columns: dict[str, pl.Series] = parts["visits"]
                    n = len(columns["visit_start"])
                    ids = _ids(prof.visit_prefix, visits_written + 1, n, 9)
                    sinks["visits"].add(_frame(prof, "visits", {"visit_id": ids, **columns}))
                    visits_written += n
                if "surveys" in parts:
                    surveys.append(parts["surveys"])
                if progress is not None and rows.stop < orders:
                    progress(rows.stop, orders)
            if "surveys" in sinks:
                surveys.extend(_nps(world, look, _rng(seed, prof, 3)))
                frame = pl.concat(surveys).sort(
                    "response_date", "kind", "customer_id", maintain_order=True
                )
                sinks["surveys"].add(
                    frame.select(pl.col(c).alias(prof.raw("surveys", c)) for c in frame.columns)
                )
            if "investments" in sinks:
                sinks["investments"].add(_investments(prof, world, _rng(seed, prof, 4)))
            # the big Parquet files encode in parallel
            for done in [pool.submit(sink.finish) for sink in sinks.values()]:
                done.result()
        for sink in sinks.values():
            sink.commit()
    except BaseException:
        for sink in sinks.values():
            sink.discard()
        raise
    if progress is not None:
        progress(orders, orders)
    return {t: s.path for t, s in sinks.items()}


def _chunk(
    profile: Profile,
    world: _World,
    look: _Lookups,
    seed: int,
    tables: frozenset[str],
    k: int,
    rows: slice,
) -> dict[str, Any]:
    """All rows that come from orders ``rows`` (chunk ``k``), one entry per table."""
    order_ids = _ids(profile.order_prefix, rows.start + 1, rows.stop - rows.start, 8)
    parts: dict[str, Any] = {"orders": _orders_chunk(profile, world, look, rows, order_ids)}
    if "order_lines" in tables:
        rng = _rng(seed, profile, 2, k, 1)
        parts["order_lines"] = _lines_chunk(profile, world, look, rows, order_ids, rng)
    if "visits" in tables:
        parts["visits"] = _visits_chunk(profile, world, look, rows, _rng(seed, profile, 2, k, 2))
    if "surveys" in tables:
        parts["surveys"] = _csat_chunk(world, rows, look, _rng(seed, profile, 2, k, 3))
    return parts


def _in_order(
    pool: ThreadPoolExecutor,
    fn: Callable[[int, slice], dict[str, Any]],
    items: list[tuple[int, slice]],
) -> Generator[dict[str, Any], None, None]:
    """``fn`` over ``items`` on the pool, a few ahead, results in input order."""
    pending: deque[Future[dict[str, Any]]] = deque()
    queue = iter(items)
    try:
        for item in queue:
            pending.append(pool.submit(fn, *item))
            if len(pending) > _WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


# ----------------------------------------------------------------------- params file


def params_yaml(
    profile: str,
    data_dir: str,
    *,
    fmt: Format | None = None,
    with_lines: bool = True,
    start: dt.date = DEFAULT_START,
    end: dt.date = DEFAULT_END,
) -> str:
    """The params file (YAML text) for data that :func:`generate` wrote for ``profile``.

    Parameters
    ----------
    profile
        Key of :data:`PROFILES`.
    data_dir
        Folder of the data files relative to the params file, e.g. ``data/acme``; the
        paths become ``f"{data_dir}/orders.csv"`` and so on.
    fmt, with_lines, start, end
        As given to :func:`generate` (``fmt=None``: the profile's format); the window
        of the params file is ``start`` .. ``end``.

    Returns
    -------
    str
        YAML that :func:`b2b_analysis.config.load_params` accepts: the data sources
        with the column mapping (only names that differ from the canonical ones) and
        CSV separator, every channel label the data holds, the status labels, and the
        client's currency, time zone, fiscal year, period and gross margin.
    """
    prof = _profile(profile)
    ext = prof.fmt if fmt is None else fmt
    data: dict[str, Any] = {}
    for table in ["orders", *(["order_lines"] if with_lines else []), *prof.tables]:
        source: dict[str, Any] = {"path": f"{data_dir.rstrip('/')}/{table}.{ext}"}
        if ext == "csv" and prof.separator != ",":
            source["separator"] = prof.separator
        if ext == "csv" and prof.timestamps and table in ("orders", "visits"):
            source["date_format"] = _TIMESTAMP_FORMAT
        renamed = {
            c: prof.raw(table, c) for c in prof.written_columns(table) if prof.raw(table, c) != c
        }
        if renamed:
            source["columns"] = renamed
        data[table] = source["path"] if len(source) == 1 else source
    doc: dict[str, Any] = {"client": prof.client, "slug": prof.slug, "data": data}
    if prof.gross_margin is not None:
        doc["gross_margin"] = prof.gross_margin
    doc["channels"] = {
        "online": list(prof.online),
        "offline": list(prof.offline),
        "unmapped": "error",
    }
    doc["statuses"] = {
        "cancelled": [prof.status_labels[1]],
        "returned": [prof.status_labels[2]],
    }
    doc["window"] = {"start": start, "end": end}
    doc["period"] = prof.period
    doc["currency"] = prof.currency
    doc["fiscal_year_start"] = prof.fiscal_year_start
    doc["timezone"] = prof.timezone
    header = (
        f"# {prof.client}: demo params for data made by b2b_analysis.generate "
        f"(profile {prof.slug!r}).\n# Every key is described in docs/params.md.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
