"""The channel and status labels of an orders table, counted and classified."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from b2b_analysis.config import label_key


@dataclass(frozen=True)
class Label:
    """One raw label (as first spelt in the file; ``None``: empty), its number of
    orders and its class (``None``: no list holds it)."""

    label: str | None
    orders: int
    cls: str | None

    @property
    def shown(self) -> str:
        return "(empty)" if self.label is None else self.label


def count_labels(values: pl.Series, classes: dict[str, tuple[str, ...]]) -> list[Label]:
    """Each distinct label (compared as the loader compares them: trimmed,
    case-insensitive) with its number of rows and the class whose list holds it;
    the most frequent first.

    >>> rows = pl.Series(["Web", " web", "Fax", "Vertreter", None])
    >>> for x in count_labels(rows, {"online": ("web",), "offline": ("fax",)}):
    ...     print(x)
    Label(label='Web', orders=2, cls='online')
    Label(label=None, orders=1, cls=None)
    Label(label='Fax', orders=1, cls='offline')
    Label(label='Vertreter', orders=1, cls=None)
    """
    owner = {label_key(label): name for name, labels in classes.items() for label in labels}
    stripped = pl.lit(values.cast(pl.String)).str.strip_chars()
    text = pl.when(stripped == "").then(None).otherwise(stripped)
    frame = pl.select(text.alias("label")).with_columns(
        pl.col("label").str.to_lowercase().alias("key")
    )
    grouped = (
        frame.group_by("key", maintain_order=True)
        .agg(pl.col("label").first(), pl.len().alias("n"))
        .sort(["n", "key"], descending=[True, False], nulls_last=False)
    )
    return [
        Label(label, n, None if label is None else owner.get(label_key(label)))
        for _, label, n in grouped.iter_rows()
    ]
