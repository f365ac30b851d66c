"""Errors about the user's input: one line naming the file, column and rows at fault."""

from __future__ import annotations

import os
from collections.abc import Sequence

#: How many row numbers an error lists before it says "and N more".
MAX_ROWS_SHOWN = 5


def format_rows(rows: Sequence[int], total: int | None = None) -> str:
    """Row numbers for a message: ``rows 3, 8 and 12`` or ``rows 3, 8, ... (40 rows)``.

    Rows are 1-based data rows: the header is not counted.

    >>> format_rows([4])
    'row 4'
    >>> format_rows([2, 5, 9])
    'rows 2, 5, 9'
    >>> format_rows([1, 2, 3, 4, 5, 6, 7], total=7)
    'rows 1, 2, 3, 4, 5, ... (7 rows)'
    """
    total = len(rows) if total is None else total
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    if total == 1:
        return f"row {shown}"
    more = f", ... ({total} rows)" if total > MAX_ROWS_SHOWN else ""
    return f"rows {shown}{more}"


class InputError(Exception):
    """Bad input from the user: a params file or a data table.

    ``str(error)`` is the one-line message the command line prints, e.g.
    ``orders.csv: column 'order_date': rows 3, 7: cannot parse '31/02/2024' as a date``.
    ``column`` is the canonical name; ``source_column`` the client's own name for
    it, when the params file maps it: ``column 'revenue (Umsatz)'``.

    >>> str(InputError("not a number", file="o.csv", column="revenue", rows=[2]))
    "o.csv: column 'revenue': row 2: not a number"
    >>> str(InputError("not a number", column="revenue", source_column="Umsatz"))
    "column 'revenue (Umsatz)': not a number"
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        column: str | None = None,
        rows: Sequence[int] | None = None,
        total_rows: int | None = None,
        source_column: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else os.fspath(file)
        self.column = column
        self.source_column = source_column
        self.rows = list(rows) if rows is not None else None
        self.total_rows = total_rows
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if column is not None:
            named = f" ({source_column})" if source_column and source_column != column else ""
            parts.append(f"column '{column}{named}'")
        if self.rows:
            parts.append(format_rows(self.rows, total_rows))
        parts.append(message)
        super().__init__(": ".join(parts))

    def naming_source(self, columns: dict[str, str]) -> InputError:
        """This error with the client's name of its column, from a ``columns`` mapping."""
        if self.column is None or self.source_column or self.column not in columns:
            return self
        return InputError(
            self.message,
            file=self.file,
            column=self.column,
            rows=self.rows,
            total_rows=self.total_rows,
            source_column=columns[self.column],
        )
