"""What every table builder shares: ids, string columns gathered by index, and frames
with a client's raw column names in the data contract's column order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from b2b_analysis.demo.catalogue import sku_names
from b2b_analysis.demo.profiles import Profile
from b2b_analysis.demo.world import World


def ids(prefix: str, first: int, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded numbers ``first .. first + n - 1``.

    >>> ids("A-", 9, 2, 2).to_list()
    ['A-09', 'A-10']
    >>> ids("A-", 99, 2, 2).to_list()
    ['A-99', 'A-100']
    """
    numbers = pl.int_range(first, first + n, dtype=pl.Int64)
    if first + n <= 10**width:  # pad by adding 10**width and dropping its leading 1
        digits = (numbers + 10**width).cast(pl.String).str.slice(1)
    else:
        digits = numbers.cast(pl.String).str.zfill(width)
    return pl.select((pl.lit(prefix) + digits).alias("id")).to_series()


def raw_frame(profile: Profile, table: str, columns: dict[str, pl.Series]) -> pl.DataFrame:
    """The canonical ``columns`` of ``table`` as the client exports them: the ones its
    export has (:meth:`Profile.written_columns`, in the contract's order), under its
    raw names.

    >>> from b2b_analysis.demo.profiles import PROFILES
    >>> values = {"date": pl.Series([1]), "amount": pl.Series([2.0]),
    ...           "category": pl.Series(["x"])}
    >>> raw_frame(PROFILES["nordic"], "investments", values).columns
    ['datum', 'belopp', 'kategori']
    """
    return pl.DataFrame(
        [columns[c].alias(profile.raw(table, c)) for c in profile.written_columns(table)]
    )


@dataclass(frozen=True)
class Lookups:
    """String columns gathered by index instead of formatted per row."""

    customers: pl.Series
    channels: pl.Series
    statuses: pl.Series
    categories: pl.Series
    skus: pl.Series
    #: list price of each SKU (relative), in SKU index order
    prices: np.ndarray


def lookups(profile: Profile, world: World, rng: np.random.Generator) -> Lookups:
    """The profile's customer ids, channel and status labels, categories and SKUs."""
    skus = sku_names(profile)
    return Lookups(
        customers=ids(profile.customer_prefix, 1, world.n_customers, 6),
        channels=pl.Series([*profile.online, *profile.offline]),
        statuses=pl.Series(list(profile.status_labels)),
        categories=pl.Series(list(profile.categories)),
        skus=pl.Series(skus),
        prices=rng.lognormal(0.0, 0.8, len(skus)),
    )
