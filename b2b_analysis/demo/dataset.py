"""Writing a demo client's whole data set: the world simulated once, then every table
built chunk by chunk on a few threads and written in order.

Chunks of :data:`CHUNK_ORDERS` orders are fixed by the arguments alone and each
(chunk, table) draws from its own random stream, so the bytes never depend on the
machine or its thread count, and a table does not change when another is switched off.
NumPy and polars release the GIL, so chunks build in parallel, and the Parquet files
are encoded in parallel; 10 million orders take well under a minute on two cores.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from b2b_analysis.demo.draws import rng
from b2b_analysis.demo.frames import Lookups, ids, lookups
from b2b_analysis.demo.investments import investments
from b2b_analysis.demo.orders import lines_chunk, orders_chunk
from b2b_analysis.demo.profiles import DEFAULT_END, DEFAULT_START, Format, Profile, get_profile
from b2b_analysis.demo.surveys import csat_chunk, surveys
from b2b_analysis.demo.visits import visits_chunk, with_ids
from b2b_analysis.demo.world import World, simulate
from b2b_analysis.demo.writing import Sink

#: The smallest data set :func:`generate` makes.
MIN_ORDERS = 1_000
#: Orders handled (and, for CSV, written) per step. A constant: the lines, visits and
#: surveys drawn depend on it (the orders do not).
CHUNK_ORDERS = 500_000
#: Threads building chunks (and encoding files) at once; the output never depends on it.
_WORKERS = max(1, min(4, os.cpu_count() or 1))

Progress = Callable[[int, int], None]


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
    progress: Progress | None = None,
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
        Key of :data:`~b2b_analysis.demo.PROFILES`; decides the raw column names, labels
        and behaviour.
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
    prof = get_profile(profile)
    fmt = _format(prof, fmt)
    job = _Job(prof, _order_count(orders), seed, start, end)
    sinks = _sinks(Path(out_dir), fmt, prof.written_tables(with_lines), prof)
    with _all_or_nothing(sinks):
        _write(job, sinks, progress)
    if progress is not None:
        progress(job.orders, job.orders)
    return {t: s.path for t, s in sinks.items()}


@dataclass(frozen=True)
class _Job:
    """What the data depends on (checked: a seed >= 0, ``end`` after ``start``)."""

    profile: Profile
    orders: int
    seed: int
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")


def _format(profile: Profile, fmt: Format | None) -> Format:
    """``fmt``, or the profile's own format."""
    fmt = profile.fmt if fmt is None else fmt
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}; choose 'csv' or 'parquet'")
    return fmt


def _order_count(orders: int) -> int:
    """``orders`` checked: a whole number, at least :data:`MIN_ORDERS`."""
    if isinstance(orders, bool) or not isinstance(orders, int | np.integer):
        raise ValueError(f"orders must be a whole number, got {orders!r}")
    if orders < MIN_ORDERS:
        raise ValueError(f"orders must be at least {MIN_ORDERS:,}, got {orders:,}")
    return int(orders)


def _sinks(
    out_dir: Path, fmt: Format, tables: tuple[str, ...], profile: Profile
) -> dict[str, Sink]:
    """One file per table in ``out_dir`` (created if missing), not written yet."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {t: Sink(out_dir / f"{t}.{fmt}", fmt, profile) for t in tables}


@contextmanager
def _all_or_nothing(sinks: Mapping[str, Sink]) -> Iterator[None]:
    """Put every file in place when the body succeeds; on any failure (an interrupt
    too) remove everything written."""
    try:
        yield
        for sink in sinks.values():
            sink.commit()
    except BaseException:
        for sink in sinks.values():
            sink.discard()
        raise


def _write(job: _Job, sinks: dict[str, Sink], progress: Progress | None) -> None:
    """Simulate the world, then build and write every table chunk by chunk."""
    chunks = _chunks(job.orders)
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        world = simulate(job.profile, job.orders, job.seed, job.start, job.end, pool)
        look = lookups(job.profile, world, rng(job.seed, job.profile, 5))
        output = _Output(job.profile, sinks)
        build = partial(_chunk_tables, job, world, look, frozenset(sinks))
        with closing(_in_order(pool, build, chunks)) as results:
            for (_, rows), parts in zip(chunks, results, strict=True):
                output.add(parts)
                if progress is not None and rows.stop < job.orders:
                    progress(rows.stop, job.orders)
        output.add_whole_tables(job, world, look)
        # the big Parquet files encode in parallel
        for done in [pool.submit(sink.finish) for sink in sinks.values()]:
            done.result()


def _chunks(orders: int) -> list[tuple[int, slice]]:
    """Chunk number and rows of each chunk of :data:`CHUNK_ORDERS` orders."""
    return [
        (k, slice(lo, min(lo + CHUNK_ORDERS, orders)))
        for k, lo in enumerate(range(0, orders, CHUNK_ORDERS))
    ]


def _chunk_tables(
    job: _Job,
    world: World,
    look: Lookups,
    tables: frozenset[str],
    k: int,
    rows: slice,
) -> dict[str, Any]:
    """All rows that come from orders ``rows`` (chunk ``k``), one entry per table."""
    profile, seed = job.profile, job.seed
    order_ids = ids(profile.order_prefix, rows.start + 1, rows.stop - rows.start, 8)
    parts: dict[str, Any] = {"orders": orders_chunk(profile, world, look, rows, order_ids)}
    if "order_lines" in tables:
        stream = rng(seed, profile, 2, k, 1)
        parts["order_lines"] = lines_chunk(profile, world, look, rows, order_ids, stream)
    if "visits" in tables:
        parts["visits"] = visits_chunk(profile, world, look, rows, rng(seed, profile, 2, k, 2))
    if "surveys" in tables:
        parts["surveys"] = csat_chunk(world, rows, look, rng(seed, profile, 2, k, 3))
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


@dataclass
class _Output:
    """The files being written, and what runs on from chunk to chunk: the visit
    numbers, and the CSAT answers (sorted in with the NPS answers at the end)."""

    profile: Profile
    sinks: dict[str, Sink]
    visits_written: int = 0
    csat: list[pl.DataFrame] = field(default_factory=list)

    def add(self, parts: dict[str, Any]) -> None:
        """Write one chunk's parts (from :func:`_chunk_tables`)."""
        for table in ("orders", "order_lines"):
            if table in parts:
                self.sinks[table].add(parts[table])
        if "visits" in parts:
            frame = with_ids(self.profile, parts["visits"], self.visits_written + 1)
            self.sinks["visits"].add(frame)
            self.visits_written += frame.height
        if "surveys" in parts:
            self.csat.append(parts["surveys"])

    def add_whole_tables(self, job: _Job, world: World, look: Lookups) -> None:
        """Write the tables built once from the whole world: surveys, investments."""
        if "surveys" in self.sinks:
            stream = rng(job.seed, self.profile, 3)
            self.sinks["surveys"].add(surveys(self.profile, world, look, self.csat, stream))
        if "investments" in self.sinks:
            stream = rng(job.seed, self.profile, 4)
            self.sinks["investments"].add(investments(self.profile, world, stream))
