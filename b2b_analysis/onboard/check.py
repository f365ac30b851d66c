"""``b2b-analysis check``: what loading a params file's tables finds, without KPIs.

Per table: the rows in the file, the rows loaded, the rows refused and why (loading
stops at a table's first problem, as ``kpis`` does, so that is the first error's
rows), the dates it covers and the warnings of its repairs; the orders' channel
and status labels with their counts and class; the analysis window and the rows
of each table outside it (the notes ``kpis`` would print).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from b2b_analysis.config import LoadedParams
from b2b_analysis.errors import InputError
from b2b_analysis.io import ClientData, DataWarning, load_table, read_source
from b2b_analysis.onboard.labels import Label, count_labels
from b2b_analysis.schema import TABLES

#: the date column of each table, after loading
DATE_COLUMNS = {
    "orders": "order_date",
    "visits": "visit_date",
    "surveys": "response_date",
    "investments": "date",
}


@dataclass
class TableCheck:
    """What loading one table found."""

    table: str
    source: str
    rows: int | None = None
    loaded: int | None = None
    first: dt.date | None = None
    last: dt.date | None = None
    error: InputError | None = None
    warnings: list[str] = field(default_factory=list)
    frame: pl.DataFrame | None = None

    @property
    def refused(self) -> int | None:
        """Rows the error names (all of them, not only those it shows); ``None``
        for a problem of the whole file."""
        if self.error is None:
            return 0
        if self.error.total_rows is not None:
            return self.error.total_rows
        return len(self.error.rows) if self.error.rows else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "loaded": self.loaded,
            "refused": self.refused,
            "first": None if self.first is None else self.first.isoformat(),
            "last": None if self.last is None else self.last.isoformat(),
            "error": None if self.error is None else str(self.error),
            "warnings": self.warnings,
        }


@dataclass
class CheckResult:
    client: str
    params: str
    tables: dict[str, TableCheck]
    #: "channel" / "status" -> labels found, and what a label in no list counts as
    labels: dict[str, list[Label]]
    unmapped: dict[str, str]
    window: tuple[dt.date, dt.date] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(t.error is None for t in self.tables.values())

    def label_class(self, column: str, label: Label) -> str:
        if label.cls is not None:
            return label.cls
        unmapped = self.unmapped[column]
        return "UNKNOWN" if unmapped == "error" else f"{unmapped} (unmapped)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "params": self.params,
            "ok": self.ok,
            "tables": {name: t.to_dict() for name, t in self.tables.items()},
            "labels": {
                column: [
                    {"label": x.label, "orders": x.orders, "class": self.label_class(column, x)}
                    for x in labels
                ]
                for column, labels in self.labels.items()
            },
            "window": None
            if self.window is None
            else {"start": self.window[0].isoformat(), "end": self.window[1].isoformat()},
            "notes": self.notes,
        }


def _raw(loaded: LoadedParams, table: str) -> pl.DataFrame | None:
    """The table as the file holds it, or ``None`` when it cannot be read (loading
    then names the problem)."""
    try:
        return read_source(loaded, table)[0]
    except InputError:
        return None


def _check_table(loaded: LoadedParams, table: str) -> tuple[TableCheck, pl.DataFrame | None]:
    raw = _raw(loaded, table)
    check = TableCheck(table, source=table, rows=None if raw is None else raw.height)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            frame, label = load_table(loaded, table)
        except InputError as exc:
            check.error, check.source = exc, exc.file or table
            return check, raw
    assert isinstance(frame, pl.DataFrame) and label is not None
    check.source, check.frame, check.loaded = label, frame, frame.height
    check.warnings = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    if table in DATE_COLUMNS and frame.height:
        day = pl.col(DATE_COLUMNS[table])
        check.first, check.last = frame.select(day.min().alias("a"), day.max().alias("b")).row(0)
    return check, raw


def _labels(loaded: LoadedParams, raw: pl.DataFrame | None) -> dict[str, list[Label]]:
    params, source = loaded.params, loaded.params.data.orders
    found: dict[str, list[Label]] = {}
    for column, mapping in (("channel", params.channels), ("status", params.statuses)):
        name = source.columns.get(column, column)
        if raw is not None and name in raw.columns:
            found[column] = count_labels(raw.get_column(name), mapping.classes())
    return found


def _window(result: CheckResult, loaded: LoadedParams) -> None:
    """The analysis window and the notes on rows outside it, when the orders load."""
    from b2b_analysis.kpis import window_notes

    frames = {n: t.frame for n, t in result.tables.items() if t.frame is not None}
    orders = frames.pop("orders", None)
    if orders is None:
        return
    data = ClientData(
        params=loaded.params,
        orders=orders,
        order_lines=frames.get("order_lines"),
        visits=frames.get("visits"),
        surveys=frames.get("surveys"),
        investments=frames.get("investments"),
    )
    try:
        result.window = data.window()
    except InputError as exc:  # a window with no orders
        result.tables["orders"].error = exc
        return
    result.notes = window_notes(data, *result.window)


def check_params(loaded: LoadedParams) -> CheckResult:
    """Load every table the params file names, each on its own, and report."""
    tables: dict[str, TableCheck] = {}
    raw_orders = None
    for table in TABLES:
        if getattr(loaded.params.data, table) is None:
            continue
        tables[table], raw = _check_table(loaded, table)
        if table == "orders":
            raw_orders = raw
    params = loaded.params
    result = CheckResult(
        client=params.client,
        params=str(loaded.path),
        tables=tables,
        labels=_labels(loaded, raw_orders),
        unmapped={"channel": params.channels.unmapped, "status": params.statuses.unmapped},
    )
    _window(result, loaded)
    return result


# ------------------------------------------------------------------------ printing


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _day(value: dt.date | None) -> str:
    return "—" if value is None else value.isoformat()


def print_check(result: CheckResult, out: Any) -> None:
    """The result as tables for a terminal (a ``rich`` console), 80 columns wide."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    out.print(f"[bold]{escape(result.client)}[/]: {escape(result.params)}")
    tables = Table("Table", "Rows", "Loaded", "Refused", "From", "To", box=box.SIMPLE_HEAD)
    for numbers in tables.columns[1:4]:
        numbers.justify = "right"
    for name, t in result.tables.items():
        refused = "file" if t.error is not None and t.refused is None else _count(t.refused)
        tables.add_row(name, _count(t.rows), _count(t.loaded), refused, _day(t.first), _day(t.last))
    out.print(tables)
    legend = "Rows: in the file. Loaded: rows kept (surveys: responses)."
    if not result.ok:
        legend += (
            " Refused: rows of the first problem found (the error below; 'file': the whole file)."
        )
    out.print(legend, markup=False)
    for column, labels in result.labels.items():
        _print_labels(out, result, column, labels)
    _print_notes(out, result)


def _print_labels(out: Any, result: CheckResult, column: str, labels: list[Label]) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    key = "channels" if column == "channel" else "statuses"
    table = Table(f"{column.capitalize()} label", "Orders", "Class", box=box.SIMPLE_HEAD)
    table.columns[1].justify = "right"
    for x in labels:
        table.add_row(escape(x.shown), f"{x.orders:,}", result.label_class(column, x))
    out.print()
    out.print(f"{column.capitalize()} labels of the orders, as {key} classes them:", markup=False)
    out.print(table)
    if any(x.cls is None for x in labels) and result.unmapped[column] == "error":
        out.print(
            f"UNKNOWN: in no list of {key}; add each to one of its lists (kpis stops "
            f"until then), or set {key}.unmapped.",
            markup=False,
        )


def _print_notes(out: Any, result: CheckResult) -> None:
    if result.window is not None or result.notes or any(t.warnings for t in result.tables.values()):
        out.print()
    if result.window is not None:
        lo, hi = result.window
        out.print(f"Analysis window: {lo} to {hi}.")
    for table, note in result.notes.items():
        out.print(f"Outside the window, {table}: {note}", markup=False)
    for t in result.tables.values():
        for warning in t.warnings:
            out.print(f"Repaired, {t.table}: {warning}", markup=False)
