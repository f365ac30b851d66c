"""The data contract: canonical tables, their columns and the types they load as.

Every source (CSV, Parquet, Excel, PostgreSQL) is renamed to these names through
the params file's column mapping, then cast to these types by :mod:`b2b_analysis.io`.
The metrics only ever see canonical names.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

#: Kind of value a column holds; decides how it is parsed and validated.
ColumnKind = str  # "id" | "date" | "datetime" | "text" | "money" | "count" | "score"


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    required: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    #: column whose values must be unique, if any
    key: str | None = None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ORDERS = Table(
    "orders",
    (
        Column("order_id", "id"),
        Column("customer_id", "id"),
        Column("order_date", "date"),
        Column("channel", "text"),
        Column("revenue", "money"),
        Column("status", "text", required=False),
        Column("lines", "count", required=False),
        Column("cost", "money", required=False),
        Column("location_id", "id", required=False),
        Column("contact_id", "id", required=False),
    ),
    key="order_id",
)

ORDER_LINES = Table(
    "order_lines",
    (
        Column("order_id", "id"),
        Column("sku", "id"),
        Column("category", "text", required=False),
        Column("quantity", "count", required=False),
        Column("line_revenue", "money", required=False),
    ),
)

VISITS = Table(
    "visits",
    (
        Column("visit_id", "id"),
        # empty for anonymous visits, so never required to be non-null
        Column("customer_id", "id"),
        Column("visit_start", "datetime"),
    ),
    key="visit_id",
)

SURVEYS = Table(
    "surveys",
    (
        Column("customer_id", "id"),
        Column("response_date", "date"),
        Column("score", "score"),
        Column("kind", "text"),
    ),
)

INVESTMENTS = Table(
    "investments",
    (
        Column("date", "date"),
        Column("amount", "money"),
        Column("category", "text", required=False),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ORDERS, ORDER_LINES, VISITS, SURVEYS, INVESTMENTS)}

#: Polars type of each column kind after loading.
DTYPES: dict[ColumnKind, pl.DataType] = {
    "id": pl.String(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "text": pl.String(),
    "money": pl.Float64(),
    "count": pl.Int64(),
    "score": pl.Float64(),
}

#: Columns added by loading, on top of the canonical ones.
#: orders: ``is_online`` (bool, from the channel mapping), ``is_valid`` (bool: not
#: cancelled or returned), ``status`` normalised to placed / cancelled / returned.
#: visits: ``visit_date`` (date of ``visit_start`` in the client's time zone); its key
#: ``visit_id`` is checked and then left out (``io.KEYS_NOT_KEPT``).
STATUSES = ("placed", "cancelled", "returned")
SURVEY_KINDS = {"csat": (1, 5), "nps": (0, 10)}
#: A wide survey export has one column per kind instead of ``score`` + ``kind``:
#: the surveys source may map these instead, each non-empty cell one response.
WIDE_SURVEY_COLUMNS: tuple[str, ...] = tuple(SURVEY_KINDS)
