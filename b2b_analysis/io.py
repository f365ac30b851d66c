"""Load a client's tables from CSV, Parquet, Excel or PostgreSQL into canonical frames.

Loading is where bad input is caught: every problem raises :class:`InputError`
naming the file, the column and the (1-based, header not counted) rows at fault.
Problems the toolkit can safely repair (exact duplicate rows, an optional table
with no rows) emit a :class:`DataWarning` instead, and the repair is documented
in ``docs/data-contract.md``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import polars as pl
import polars.selectors as cs

from b2b_analysis.config import ROW_COLUMN, ClientParams, LoadedParams, Source, label_key
from b2b_analysis.errors import InputError
from b2b_analysis.formats import (
    CODECS,
    AmbiguousDates,
    bom_codec,
    date_hint,
    day_month_format,
    decoding_problem,
    duplicate_names,
    excel_serial_text,
    header_fields,
    looks_utf16,
    number_hint,
    number_message,
    parse_number,
    separator_hint,
    structure_problem,
)
from b2b_analysis.periods import Calendar
from b2b_analysis.schema import DTYPES, SURVEY_KINDS, TABLES, Table

ROW = ROW_COLUMN
#: "auto" is polars' default (in polars 2: streaming where it can, in memory where not)
Engine = Literal["auto", "streaming"]
#: Dates before this are treated as data errors (Excel's 1900 epoch, typos).
EARLIEST_DATE = dt.date(1990, 1, 1)


#: a table in memory, or (streaming) a plan that reads it
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
AnyFrame = pl.DataFrame | pl.LazyFrame


class DataWarning(UserWarning):
    """The data had a problem that loading repaired; the message says what and where."""


@dataclass(frozen=True)
class ClientData(Generic[Frame]):
    """One client's validated tables. Absent optional tables are ``None``.

    The tables are ``DataFrame``s, or ``LazyFrame``s when loaded with
    ``load_client(..., streaming=True)``.

    ``orders`` carries, beyond the canonical columns, ``is_online`` (from the
    channel mapping), ``status`` normalised to placed / cancelled / returned and
    ``is_valid`` (placed, i.e. neither cancelled nor returned).
    ``visits`` holds ``customer_id``, ``visit_start`` and ``visit_date`` (the local
    date of ``visit_start``): ``visit_id`` is checked while loading (present, unique)
    and then left out (:data:`KEYS_NOT_KEPT`).
    """

    params: ClientParams
    orders: Frame
    order_lines: Frame | None = None
    visits: Frame | None = None
    surveys: Frame | None = None
    investments: Frame | None = None
    #: human-readable source of each table, for messages (never a connection string)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        """The polars engine that collects plans on these tables."""
        return "streaming" if isinstance(self.orders, pl.LazyFrame) else "auto"

    def window(
        self,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
        calendar: Calendar | None = None,
    ) -> tuple[dt.date, dt.date]:
        """The analysis window: arguments, else the params file, else whole periods of
        ``calendar`` (default: the params file's period and fiscal year) spanning the
        orders (see :class:`b2b_analysis.config.Window`)."""
        wanted = self.params.window.override(start, end)
        first, last = (
            self.orders.lazy()
            .select(
                pl.col("order_date").min().alias("first"),
                pl.col("order_date").max().alias("last"),
            )
            .collect(engine=self.engine)
            .row(0)
        )
        calendar = calendar or Calendar(self.params.period, self.params.fiscal_year_start)
        return wanted.over(first, last, calendar)


# --------------------------------------------------------------------------- reading


#: bytes read from the start of a CSV to find its byte-order mark and header
HEAD_BYTES = 1 << 16


def _wanted_names(table: Table, source: Source) -> set[str]:
    """The source's names of the columns a table reads (mapped or canonical)."""
    return {source.columns.get(c.name, c.name) for c in table.columns} | set(
        source.wide_columns.values()
    )


def _decoded(path: Path, codec: str, encoding: str) -> bytes:
    """The file as UTF-8, from another encoding (or UTF-16 with a byte-order mark)."""
    data = path.read_bytes()
    problem = decoding_problem(data, codec, encoding)
    if problem:
        raise InputError(problem, file=path)
    return data.decode(codec).encode("utf-8")


def _csv_bytes(path: Path, source: Source) -> tuple[Path | bytes, str]:
    """What polars reads (the path itself when it is UTF-8) and the text of its start."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    bom = bom_codec(head)
    codec = CODECS[source.encoding]
    if source.encoding in ("utf8", "utf8-lossy") and bom != "utf-16":
        if bom is None and looks_utf16(head):  # valid UTF-8, but not text
            raise InputError(str(decoding_problem(head, "utf-8", source.encoding)), file=path)
        return path, head.decode("utf-8", "replace").lstrip("\ufeff")
    data = _decoded(path, bom or codec, source.encoding)
    return data, data[:HEAD_BYTES].decode("utf-8", "replace").lstrip("\ufeff")


def _skipped(text: str, rows: int) -> str:
    return text.split("\n", rows)[-1] if rows else text


def _csv_problem(data: Path | bytes, source: Source, table: Table | None, text: str) -> str:
    """Why polars could not parse a CSV, in terms of lines and params keys."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    problem = decoding_problem(raw, "utf-8", source.encoding)
    if problem:
        return problem
    body = _skipped(raw.decode("utf-8").lstrip("\ufeff"), source.skip_rows)
    header = body.split("\n", 1)[0]
    wanted = set() if table is None else {source.columns.get(c, c) for c in table.required}
    where = "on this table" if table is None else f"under data.{table.name}"
    hint = separator_hint(header, source.separator, wanted)
    if hint and hint.startswith("with separator"):
        return f"the rows do not fit separator {source.separator!r}; {hint} {where}"
    found = structure_problem(body, source.separator)
    if found is not None:
        return found.replace("on this table", where)
    return f"cannot parse the CSV: {text}"


def _read_csv(path: Path, source: Source, table: Table | None = None) -> pl.DataFrame:
    data, head = _csv_bytes(path, source)
    if table is not None:
        names = header_fields(_skipped(head, source.skip_rows), source.separator)
        twice = duplicate_names([n if n in _wanted_names(table, source) else "" for n in names])
        if twice:
            raise InputError(twice, file=path)
    try:
        frame = pl.read_csv(
            data,
            separator=source.separator,
            encoding="utf8-lossy" if source.encoding == "utf8-lossy" else "utf8",
            infer_schema=False,
            skip_rows=source.skip_rows,
            glob=False,  # a file named "orders[1].csv" is that file, not a pattern
        )
    except pl.exceptions.NoDataError:
        raise InputError("the file is empty (not even a header row)", file=path) from None
    except pl.exceptions.ComputeError as exc:
        text = str(exc).splitlines()[0]
        raise InputError(_csv_problem(data, source, table, text), file=path) from None
    # a UTF-8 byte-order mark, or spaces around header names, are not part of the name
    return frame.rename(lambda name: name.lstrip("\ufeff").strip())


def _read_excel(path: Path, source: Source, table: Table | None = None) -> pl.DataFrame:
    """Every cell as text (ids keep their digits), except that number cells of number
    and date columns are read as numbers: a number column whose cells are all
    numbers is Float64; in a date column a number is an Excel serial date."""
    frame = _excel(path, source, None)
    if table is None:
        return frame
    kinds = {
        source.columns.get(c.name, c.name): c.kind
        for c in table.columns
        if c.kind in ("money", "count", "score", "date", "datetime")
    }
    kinds |= {raw: "score" for raw in source.wide_columns.values()}
    kinds = {raw: kind for raw, kind in kinds.items() if raw in frame.columns}
    if not kinds:
        return frame
    numbers = _excel(path, source, {raw: "float" for raw in kinds})
    if numbers.height != frame.height:  # never seen; the cells as text are the safe reading
        return frame
    return frame.with_columns(
        _excel_cells(frame.get_column(raw), numbers.get_column(raw), kind, source.decimal)
        for raw, kind in kinds.items()
    )


def _excel_cells(text: pl.Series, number: pl.Series, kind: str, decimal: str) -> pl.Series:
    """One Excel column from its cells as text and its number cells as numbers."""
    is_number = number.is_not_null()
    if kind in ("date", "datetime"):
        if not is_number.any():
            return text
        serial = pl.select(excel_serial_text(pl.lit(number))).to_series().alias(text.name)
        return serial.zip_with(is_number, text)
    if (is_number | text.is_null()).all():
        return number
    # text cells among the numbers: the number cells are written with the source's marks
    written = number.cast(pl.String).str.replace(".", decimal, literal=True)
    return written.zip_with(is_number, text).alias(text.name)


def _excel(path: Path, source: Source, dtypes: dict[str, str] | None) -> pl.DataFrame:
    sheet = source.sheet
    options: dict[str, Any] = {"dtypes": dtypes} if dtypes else {}
    where: dict[str, Any] = {"sheet_id": 1}
    if isinstance(sheet, int):
        where = {"sheet_id": sheet}
    elif sheet is not None:
        where = {"sheet_name": sheet}
    try:
        if dtypes:  # every column, so that rows line up with the text read
            return pl.read_excel(path, **where, read_options=options)
        return pl.read_excel(path, **where, infer_schema_length=0)
    except (ValueError, pl.exceptions.PolarsError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read the Excel sheet: {text}", file=path) from None
    except Exception as exc:  # fastexcel raises its own exception types
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"cannot read the Excel file: {text}", file=path) from None


def _excel_sheets(path: Path) -> list[str]:
    try:
        import fastexcel

        return list(fastexcel.read_excel(path).sheet_names)
    except Exception:
        return []


def _read_postgres(loaded: LoadedParams, table: str, source: Source) -> pl.DataFrame:
    import psycopg

    dsn = loaded.connection_string(table)
    where = f"{loaded.path} (data.{table}, PostgreSQL via ${source.connection_env})"
    try:
        with psycopg.connect(dsn, connect_timeout=10) as connection:
            return pl.read_database(source.query, connection, infer_schema_length=None)
    except psycopg.OperationalError as exc:
        raise InputError(
            "cannot connect to the PostgreSQL server: "
            f"{scrub(_first_line(exc), dsn)}; check that it is running and that "
            f"${source.connection_env} is right",
            file=where,
        ) from None
    except psycopg.Error as exc:
        raise InputError(f"the query failed: {scrub(_first_line(exc), dsn)}", file=where) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def scrub(text: str, dsn: str) -> str:
    """Remove a connection string and every part of it that could be secret from text.

    >>> scrub("could not connect to postgresql://u:pw@h/db (pw)", "postgresql://u:pw@h/db")
    'could not connect to *** (***)'
    """
    secrets = {dsn}
    match = re.match(r"^[a-z]+://(?P<user>[^:@/]*)(?::(?P<pw>[^@/]*))?@", dsn)
    if match and match.group("pw"):
        from urllib.parse import unquote

        secrets |= {match.group("pw"), unquote(match.group("pw"))}
    for key_value in re.finditer(r"password\s*=\s*(\S+)", dsn):
        secrets.add(key_value.group(1).strip("'\""))
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


#: What reading a file raises when the file is at fault (a truncated or foreign file).
_UNREADABLE: tuple[type[Exception], ...] = (OSError, pl.exceptions.PolarsError)


@contextlib.contextmanager
def _readable(
    file: str | Path,
    errors: tuple[type[Exception], ...] = (OSError, pl.exceptions.ComputeError),
) -> Iterator[None]:
    """``errors`` raised while a file is read as the file's error ("cannot read the
    file"). By default the errors of a file that breaks while it is read again (a
    damaged Parquet page found by a pass over a scanned table, or by the ids' own
    read); a first read: :data:`_UNREADABLE`."""
    try:
        yield
    except errors as exc:
        raise InputError(f"cannot read the file: {_first_line(exc)}", file=file) from None


def scan_parquet(loaded: LoadedParams, table: str) -> tuple[pl.LazyFrame, str]:
    """A plan reading one Parquet table, and its path (streaming mode)."""
    path = loaded.resolve(table)
    if not path.is_file():
        raise InputError(f"file not found (data.{table}.path in {loaded.path.name})", file=path)
    with _readable(path, _UNREADABLE):
        pl.read_parquet_schema(path)  # a truncated or foreign file fails here, not mid-stream
        return pl.scan_parquet(path, glob=False), str(path)


def _read_parquet(path: Path, source: Source, table: Table) -> pl.DataFrame:
    """Only the columns the table reads (mapped or canonical), in the file's order; the
    whole file when a required one is missing (so that the error lists the file's columns)
    or none is there."""
    names = list(pl.read_parquet_schema(path))  # a truncated or foreign file fails here
    wanted = _wanted_names(table, source)
    keep = [name for name in names if name in wanted]
    required = {source.columns.get(c, c) for c in table.required}
    if source.wide_columns or not keep or not required <= set(keep):
        return pl.read_parquet(path, glob=False)
    return pl.read_parquet(path, columns=keep, glob=False)


def read_source(
    loaded: LoadedParams, table: str, *, projected: bool = False, spec: Table | None = None
) -> tuple[pl.DataFrame, str]:
    """The raw frame of one table and a label naming where it came from.

    With ``projected``, a Parquet file is read with only the columns the table uses
    (those of ``spec``, a table's columns less some, when given)."""
    source: Source = getattr(loaded.params.data, table)
    if source.kind == "postgres":
        label = f"{loaded.path.name}:data.{table} (PostgreSQL query)"
        return _read_postgres(loaded, table, source), label
    path = loaded.resolve(table)
    if not path.exists():
        raise InputError(f"file not found (data.{table}.path in {loaded.path.name})", file=path)
    if path.is_dir():
        raise InputError(f"is a folder, not a file (data.{table}.path)", file=path)
    readers: dict[str, Callable[[Path, Source, Table], pl.DataFrame]] = {
        "csv": _read_csv,
        "excel": _read_excel,
        "parquet": _read_parquet if projected else lambda p, _s, _t: pl.read_parquet(p, glob=False),
    }
    with _readable(path, _UNREADABLE):
        frame = readers[source.kind](path, source, spec or TABLES[table])
    return frame, str(path)


# ------------------------------------------------------------------------ validating


def _missing_hint(available: list[str], first: str, table: Table, source: Source) -> str:
    """Advice for a required column that is not in the file."""
    if source.kind == "csv":
        wanted = {source.columns.get(c, c) for c in table.required}
        split = separator_hint(source.separator.join(available), source.separator, wanted)
        if split:
            return f"; {split} under data.{table.name}"
    close = difflib.get_close_matches(first, available, n=1)
    if close:
        return f"; did you mean '{close[0]}'? map it under data.{table.name}.columns"
    return f"; map them under data.{table.name}.columns"


def _rename(frame: AnyFrame, table: Table, source: Source, file: str) -> AnyFrame:
    """Keep the canonical columns, renamed from the source's names. Rows numbered already
    (a wide survey export, reshaped) keep their numbers; others are numbered only when a
    message needs them (:func:`_numbered`)."""
    available = frame.collect_schema().names()
    wanted = {c.name: source.columns.get(c.name, c.name) for c in table.columns}
    absent = [
        (canonical, raw)
        for canonical, raw in wanted.items()
        if table.column(canonical).required and raw not in available
    ]
    if absent:
        missing = [
            f"'{canonical}'" + (f" (mapped from '{raw}')" if raw != canonical else "")
            for canonical, raw in absent
        ]
        hint = _missing_hint(available, absent[0][1], table, source)
        raise InputError(
            f"missing required column(s) {', '.join(missing)}; the file has {available[:12]}{hint}",
            file=file,
        )
    present = {canonical: raw for canonical, raw in wanted.items() if raw in available}
    return frame.select(
        *([pl.col(ROW).cast(pl.Int64)] if ROW in available else []),
        *(pl.col(raw).alias(canonical) for canonical, raw in present.items()),
    )


def _numbered(frame: AnyFrame) -> pl.LazyFrame:
    """A plan on the table with its rows' numbers in the file (1-based, header not
    counted) as ``ROW``. Loading keeps the rows in the file's order until it drops
    duplicates, and a table whose rows were dropped or reshaped carries ``ROW`` already."""
    plan = frame.lazy()
    if ROW in plan.collect_schema():
        return plan
    return plan.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _as_text(name: str, dtype: pl.DataType, decimal: str) -> pl.Expr:
    """A column as text; numbers written with the source's decimal mark (so that the
    column parses like the source's text numbers)."""
    if dtype == pl.String:
        return pl.col(name)
    return pl.col(name).cast(pl.String).str.replace(".", decimal, literal=True)


def _unpivot_surveys(frame: AnyFrame, source: Source, file: str) -> AnyFrame:
    """A wide survey export (one score column per kind) as one row per response.

    Each non-empty cell of a mapped ``csat`` or ``nps`` column is one response of
    that kind, with the row's customer and date; rows keep their number in the file.
    """
    wide = source.wide_columns
    available = frame.collect_schema().names()
    absent = [
        f"'{kind}' (mapped from '{raw}')" for kind, raw in wide.items() if raw not in available
    ]
    if absent:
        raise InputError(
            f"missing survey column(s) {', '.join(absent)}; the file has {available[:12]}",
            file=file,
        )
    keep = [source.columns.get(c, c) for c in ("customer_id", "response_date")]
    keep = [name for name in keep if name in available]
    numbered = frame.with_row_index(ROW, offset=1)
    schema = numbered.collect_schema()
    parts = [
        numbered.select(
            ROW,
            *keep,
            _as_text(raw, schema[raw], source.decimal).alias("score"),
            pl.lit(kind).alias("kind"),
        ).filter(_stripped(pl.col("score")).is_not_null())
        for kind, raw in wide.items()
    ]
    long = pl.concat(parts, how="vertical")  # type: ignore[type-var]
    empty = numbered.filter(
        pl.all_horizontal(_stripped(pl.col(raw).cast(pl.String)).is_null() for raw in wide.values())
    )
    blank = empty.lazy().select(pl.len()).collect().item()
    if blank:
        warnings.warn(
            f"{file}: {blank} survey row(s) have no score in {sorted(wide.values())}: "
            "they hold no response and are left out",
            DataWarning,
            stacklevel=4,
        )
    return long.sort(ROW, "kind")


@dataclass(frozen=True)
class _Check:
    """A rule on one column of a table: ``mask`` is true on the rows at fault.

    ``message`` is the error text, or builds it from the rows at fault (to quote
    a few of their values).
    """

    column: str
    mask: pl.Expr
    message: str | Callable[[pl.LazyFrame], str]


def _verify(frame: AnyFrame, checks: list[_Check], *, file: str, engine: Engine) -> None:
    """Evaluate every check in one pass; raise for the first (in order) that fails."""
    if not checks:
        return
    failed = (
        frame.lazy()
        .select(check.mask.any().alias(str(i)) for i, check in enumerate(checks))
        .collect(engine=engine)
        .row(0)
    )
    for check, bad in zip(checks, failed, strict=True):
        if bad:
            hits = _numbered(frame).filter(check.mask)
            rows = hits.select(ROW).collect(engine=engine).to_series()
            message = check.message if isinstance(check.message, str) else check.message(hits)
            raise InputError(
                message,
                file=file,
                column=check.column,
                rows=rows.head(20).to_list(),
                total_rows=rows.len(),
            )


def _quoted(column: str, template: str) -> Callable[[pl.LazyFrame], str]:
    """A message quoting the first three values of ``column`` among the rows at fault."""

    def build(hits: pl.LazyFrame) -> str:
        values = hits.select(pl.col(column)).head(3).collect().to_series().to_list()
        return template.format(values=", ".join(repr(v) for v in values))

    return build


def _raw(name: str) -> str:
    """The column that keeps a column's value as read, for checks and messages."""
    return f"_raw_{name}"


def _parse_dates(
    frame: AnyFrame,
    column: str,
    *,
    file: str,
    timezone: str,
    fmt: str | None,
    as_date: bool,
) -> tuple[AnyFrame, list[_Check]]:
    """Parse a date/datetime column to naive local time of the client's time zone."""
    raw = frame.collect_schema()[column]
    expr = pl.col(column)
    checks: list[_Check] = []
    if raw == pl.String:
        text = _stripped(expr)
        if isinstance(frame, pl.LazyFrame):
            if fmt is None:
                raise InputError(
                    "dates stored as text need 'date_format' on this table in the params "
                    "file to be read in streaming mode (or store them as dates)",
                    file=file,
                    column=column,
                )
            parsed = text.str.to_datetime(format=fmt, strict=False).dt.cast_time_unit("us")
            frame = frame.with_columns(text.alias(_raw(column)), parsed.alias(column))
        else:
            values = frame.select(text).to_series()
            parsed_values = _text_dates(values, fmt, file=file, column=column)
            frame = frame.with_columns(values.alias(_raw(column)), parsed_values.alias(column))
        checks.append(
            _Check(
                column,
                pl.col(column).is_null() & pl.col(_raw(column)).is_not_null(),
                _date_message(_raw(column), fmt),
            )
        )
    else:
        frame = _typed_dates(frame, column, raw, file=file, as_date=as_date)
    dtype = frame.collect_schema()[column]
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            frame = frame.with_columns(
                pl.col(column).dt.convert_time_zone(timezone).dt.replace_time_zone(None)
            )
        if as_date:
            frame = frame.with_columns(pl.col(column).dt.date())
    day = pl.col(column).cast(pl.Date) if not as_date else pl.col(column)
    today = dt.date.today()
    checks += [
        _Check(
            column,
            day < EARLIEST_DATE,
            f"dates before {EARLIEST_DATE} are not plausible; fix the export",
        ),
        _Check(
            column,
            day > today,
            f"dates after today ({today}) are not plausible; fix the export "
            "or check the date format",
        ),
    ]
    return frame, checks


def _typed_dates(
    frame: AnyFrame, column: str, raw: pl.DataType, *, file: str, as_date: bool
) -> AnyFrame:
    """A column of dates or datetimes as microsecond datetimes; dates stay dates where
    dates are wanted (no round trip through datetimes)."""
    if isinstance(raw, pl.Date):
        return frame if as_date else frame.with_columns(pl.col(column).cast(pl.Datetime("us")))
    if isinstance(raw, pl.Datetime):
        if raw.time_unit == "us":
            return frame
        return frame.with_columns(pl.col(column).dt.cast_time_unit("us"))
    raise InputError(f"expected dates, found values of type {raw}", file=file, column=column)


def _text_dates(values: pl.Series, fmt: str | None, *, file: str, column: str) -> pl.Series:
    """Parse text dates: with ``fmt``, else day/month dates by the order their values
    show (never guessed), else as polars infers them (ISO dates, timestamps, offsets)."""
    if fmt is None:
        try:
            fmt = day_month_format(values)
        except AmbiguousDates as exc:
            first, second = exc.formats
            raise InputError(
                f"dates such as {exc.sample!r} are ambiguous: no day or month is above 12, so "
                f"they fit date_format {first!r} (day first) and {second!r} (month first); "
                "set the right one on this table in the params file",
                file=file,
                column=column,
            ) from None
    try:
        # parsed eagerly on the Series: as an expression, polars 2.1 refuses to infer
        # a format whose values carry a UTC offset
        return values.str.to_datetime(format=fmt, strict=False).dt.cast_time_unit("us")
    except pl.exceptions.ComputeError:  # no format could be inferred from the first value
        sample = [str(v) for v in values.drop_nulls().head(3).to_list()]
        raise InputError(
            f"cannot parse {', '.join(map(repr, sample))} as dates{date_hint(sample)}",
            file=file,
            column=column,
        ) from None


def _date_message(column: str, fmt: str | None) -> Callable[[pl.LazyFrame], str]:
    """'cannot parse ... as a date', with the formats that would read them if any do."""

    def build(hits: pl.LazyFrame) -> str:
        values = [str(v) for v in hits.select(pl.col(column)).head(3).collect().to_series()]
        quoted = ", ".join(map(repr, values))
        if fmt is not None:
            return f"cannot parse {quoted} as a date with date_format {fmt!r}{date_hint(values)}"
        return f"cannot parse {quoted} as a date (mixed or unknown formats){date_hint(values)}"

    return build


def _stripped(text: pl.Expr) -> pl.Expr:
    """Text without surrounding whitespace; empty text is null."""
    value = text.str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value)


def _trimmed(name: str) -> pl.Expr:
    return _stripped(pl.col(name).cast(pl.String)).alias(name)


def _ends(text: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The first and last byte of the text, and its length in bytes."""
    data = text.cast(pl.Binary)
    return data.bin.get(0, null_on_oob=True), data.bin.get(-1, null_on_oob=True), data.bin.size()


def _loose(text: pl.Expr) -> pl.Expr:
    """True on text that trimming may change: empty, or its first or last byte is a
    control character, a space or part of a non-ASCII character (every whitespace
    character is one of these). Reading two bytes is much cheaper than trimming."""
    first, last, size = _ends(text)
    return (size == 0) | (first <= 32) | (first >= 128) | (last <= 32) | (last >= 128)


def _changed(text: pl.Expr) -> pl.Expr:
    """True where trimming (:func:`_stripped`) changes the text."""
    return _stripped(text).ne_missing(text)


def _untrimmed(frame: AnyFrame, names: list[str], engine: Engine) -> set[str]:
    """The columns among ``names`` holding text that trimming changes: one pass reading
    the ends of every value (:func:`_loose` holds somewhere when the least or greatest
    end byte, or the shortest length, says so), then trimming only the loose values."""
    plan = frame.lazy().select(pl.col(name).cast(pl.String) for name in names)
    return {
        name
        for name in names
        if _may_be_loose(plan, name, engine)
        and plan.select(name)
        .filter(_loose(pl.col(name)))
        .select(_changed(pl.col(name)).any())
        .collect(engine=engine)
        .item()
    }


def _may_be_loose(plan: pl.LazyFrame, name: str, engine: Engine) -> bool:
    """Whether :func:`_loose` holds on some value of a column, from the least and
    greatest end bytes and the shortest length."""
    first, last, size = _ends(pl.col(name))
    if engine != "streaming":  # in memory, each end is read once into a column
        ends = plan.select(first.alias("first"), last.alias("last"), size.alias("size"))
        plan = ends.collect().lazy()
        first, last, size = pl.col("first"), pl.col("last"), pl.col("size")
    least, greatest, shortest = (
        plan.select(
            pl.min_horizontal(first.min(), last.min()),
            pl.max_horizontal(first.max(), last.max()).alias("greatest"),
            size.min().alias("shortest"),
        )
        .collect(engine=engine)
        .row(0)
    )
    return (
        (least is not None and least <= 32)
        or (greatest is not None and greatest >= 128)
        or shortest == 0
    )


#: columns of few distinct labels, mapped by the params file: checked and matched on
#: their distinct values
LABEL_COLUMNS = {"orders": ("channel", "status")}
#: the distinct values (trimmed; ``None`` for empty) of each label column of a table
Labels = dict[str, list[str | None]]


def _distinct(frame: AnyFrame, name: str, engine: Engine) -> pl.Series:
    """The distinct values of a column, as text."""
    plan = frame.lazy().select(pl.col(name).cast(pl.String).unique())
    return plan.collect(engine=engine).to_series()


def _trim_text(
    frame: AnyFrame,
    table: Table,
    schema: pl.Schema,
    engine: Engine,
    labels: Labels,
    coded: frozenset[str] = frozenset(),
) -> AnyFrame:
    """Every id and text column as text, trimmed (and "" made null) where that changes
    a value; ``labels`` receives the distinct values of the label columns. The ``coded``
    columns were trimmed and coded while read (:func:`_codes_apart`)."""
    text = [
        c.name
        for c in table.columns
        if c.kind in ("id", "text") and c.name in schema and c.name not in coded
    ]
    trim: set[str] = set()
    for name in LABEL_COLUMNS.get(table.name, ()):
        if name in text:
            distinct = _distinct(frame, name, engine).to_frame(name)
            if distinct.select(_changed(pl.col(name)).any()).item():
                trim.add(name)
                distinct = distinct.select(_stripped(pl.col(name))).unique()
            labels[name] = distinct.to_series().to_list()
    trim |= _untrimmed(frame, [name for name in text if name not in labels], engine)
    # the columns to change, in one parallel pass
    frame = frame.with_columns(
        _trimmed(name) if name in trim else pl.col(name).cast(pl.String)
        for name in text
        if name in trim or schema[name] != pl.String
    )
    if isinstance(frame, pl.DataFrame) and "customer_id" in text:
        # in memory, the ids as text are let go as soon as they are read
        frame = frame.with_columns(_categorical(frame.get_column("customer_id")))
    return frame


def _categorical(ids: pl.Series) -> pl.Series:
    """Customer ids as categorical codes: customers are counted and joined on
    everywhere, and codes make n_unique and group-bys several times faster than text.

    Cast chunk after chunk, in order, the codes follow the order of first appearance
    (as an expression, the chunks are cast in parallel and the codes vary from run to
    run), and the column keeps its chunks: an eager operation on a frame whose columns
    are chunked differently first copies every column into one chunk."""
    chunks = ids.get_chunks()
    if len(chunks) < 2:
        return ids.cast(pl.Categorical)
    return pl.concat([chunk.cast(pl.Categorical) for chunk in chunks], rechunk=False)


def _parse_numbers(
    frame: AnyFrame, name: str, kind: str, *, file: str, source: Source, table: str
) -> tuple[AnyFrame, list[_Check]]:
    """Type a number column; text is read with the source's decimal and thousands marks.

    A value that is not a number, NaN or infinite is never null: it is refused."""
    dtype = frame.collect_schema()[name]
    raw = pl.col(_raw(name))
    frame = frame.with_columns(pl.col(name).alias(_raw(name)))
    if dtype == pl.String:
        text = _stripped(raw)
        value, valid = parse_number(text, source.decimal, source.thousands)
        unreadable = text.is_not_null() & ~valid
    elif dtype.is_numeric() or dtype == pl.Boolean:
        value, unreadable = raw.cast(pl.Float64), pl.lit(False)
    else:
        raise InputError(f"expected numbers, found values of type {dtype}", file=file, column=name)
    frame = frame.with_columns(value.cast(DTYPES[kind], strict=False).alias(name))
    # the checks read the value again from the raw column: a count is cast to Int64 above
    checks = [
        _Check(name, unreadable, _number_message(_raw(name), source, f"data.{table}")),
        _Check(
            name,
            value.is_nan() | value.is_infinite(),
            _quoted(
                _raw(name),
                "NaN or infinite values ({values}) are not numbers; fix the export "
                "(an unknown value is an empty cell)",
            ),
        ),
    ]
    if kind == "count":
        checks.append(
            _Check(name, value % 1 != 0, _quoted(_raw(name), "{values} is not a whole number"))
        )
    return frame, checks


def _number_message(column: str, source: Source, where: str) -> Callable[[pl.LazyFrame], str]:
    """'{values} is not a number', with the marks that would read them if any do."""

    def build(hits: pl.LazyFrame) -> str:
        values = hits.select(pl.col(column)).head(3).collect().to_series().to_list()
        text = number_message(source.decimal, source.thousands)
        hint = number_hint([str(v) for v in values], source.decimal, source.thousands, where)
        return text.format(values=", ".join(repr(v) for v in values)) + hint

    return build


def _typed(
    frame: AnyFrame,
    table: Table,
    *,
    file: str,
    params: ClientParams,
    source: Source,
    engine: Engine = "auto",
    labels: Labels | None = None,
    coded: frozenset[str] = frozenset(),
) -> tuple[AnyFrame, list[_Check]]:
    """Trim text, type every column; the checks that find the rows this fails on.
    ``labels`` receives the distinct values of the label columns (:data:`LABEL_COLUMNS`);
    the ``coded`` columns are trimmed and coded already (:func:`_codes_apart`)."""
    schema = frame.collect_schema()
    frame = _trim_text(frame, table, schema, engine, {} if labels is None else labels, coded)
    checks: list[_Check] = []
    for column in table.columns:
        name = column.name
        if name not in schema:
            continue
        kind = column.kind
        if kind in ("date", "datetime"):
            frame, date_checks = _parse_dates(
                frame,
                name,
                file=file,
                timezone=params.timezone,
                fmt=source.date_format,
                as_date=kind == "date",
            )
            checks += date_checks
        elif kind not in ("id", "text"):  # ids and text were trimmed above
            frame, number_checks = _parse_numbers(
                frame, name, kind, file=file, source=source, table=table.name
            )
            checks += number_checks
            if kind in ("money", "count") and (table.name, name) not in SIGNED_ON_RETURNS:
                checks.append(
                    _Check(
                        name,
                        pl.col(name) < 0,
                        "negative values are not allowed (fix the export)",
                    )
                )
        if column.required and not (table.name == "visits" and name == "customer_id"):
            checks.append(
                _Check(
                    name,
                    pl.col(name).is_null(),
                    "empty values are not allowed in a required column",
                )
            )
    return frame, checks


def _rows_where(frame: AnyFrame, mask: pl.Expr, engine: Engine) -> tuple[list[int], int]:
    hits = _numbered(frame).filter(mask).select(ROW).collect(engine=engine).to_series()
    return hits.head(20).to_list(), hits.len()


#: rows per slice when checking that ids increase (bounds the memory of the check: a
#: slice and its shifted copy; 1M rows checked 29M scanned visit ids in 1.4 s and 75 MB,
#: 10M rows in 2.1 s and 460 MB)
ID_SLICE_ROWS = 1_000_000


def _strictly_increasing(frame: AnyFrame, key: str) -> bool:
    """Whether ``key`` has no nulls and increases strictly down the table.

    Such ids are unique. Exports are usually sorted by their id, and checking the
    order is one comparison pass with no hashing (hashing 29M visit ids takes 9 s).
    Two orders are accepted, tried one after the other: plain string order, then
    shorter ids first (ids whose number is not zero-padded, or outgrows its padding:
    ``A-99`` before ``A-100``). The check runs on slices so that a scanned table is
    never held in memory whole.
    """
    plan = frame.lazy().select(key)
    height = plan.select(pl.len()).collect().item()
    ids, size = pl.col(key), pl.col(key).str.len_bytes()
    orders: list[tuple[pl.Expr, Callable[[str], Any]]] = [
        (ids > ids.shift(1), lambda value: value),
        (
            (size > size.shift(1)) | ((size == size.shift(1)) & (ids > ids.shift(1))),
            lambda value: (len(value.encode()), value),
        ),
    ]
    for within, rank in orders:
        previous = None
        for offset in range(0, height, ID_SLICE_ROWS):
            part = plan.slice(offset, ID_SLICE_ROWS).collect().to_series()
            if part.null_count():
                return False
            across = previous is None or rank(part[0]) > rank(previous)
            if not (across and part.to_frame().select(within.all()).item()):
                break
            previous = part[-1]
        else:
            return True
    return False


def _deduplicate(frame: AnyFrame, table: Table, file: str, engine: Engine) -> AnyFrame:
    key = table.key
    if key is None or _strictly_increasing(frame, key):
        return frame
    ids = pl.col(key)
    duplicated = _numbered(frame).filter(ids.is_duplicated()).collect(engine=engine)
    if duplicated.is_empty():
        return frame
    payload = [c for c in duplicated.columns if c != ROW]
    conflicting = duplicated.filter(pl.struct(payload).n_unique().over(key) > 1)
    if not conflicting.is_empty():
        rows = conflicting.sort(key, ROW).get_column(ROW)
        sample = conflicting.get_column(key).unique(maintain_order=True).head(3).to_list()
        raise InputError(
            f"duplicate {key} values with different contents ({', '.join(map(repr, sample))}); "
            "each id must appear once",
            file=file,
            column=key,
            rows=rows.head(20).to_list(),
            total_rows=rows.len(),
        )
    extra = duplicated.filter(pl.col(ROW) != pl.col(ROW).min().over(key))
    warnings.warn(
        f"{file}: column '{key}': {extra.height} exact duplicate row(s) dropped "
        f"(first at row {extra.get_column(ROW).min()!s})",
        DataWarning,
        stacklevel=3,
    )
    # the kept rows keep their numbers in the file, for later messages
    kept = _numbered(frame).filter(~pl.col(ROW).is_in(extra.get_column(ROW).implode()))
    return kept if isinstance(frame, pl.LazyFrame) else kept.collect()


#: (table, column) that may be negative on a returned order: a credit note
SIGNED_ON_RETURNS = {("orders", "revenue"), ("orders", "cost")}
#: unknown labels an error lists before it says how many more there are
MAX_LABELS_SHOWN = 30


def _label_lookup(labels: tuple[str, ...]) -> list[str]:
    """The labels as compared: trimmed, lower-case, each once, sorted."""
    return sorted({label_key(label) for label in labels})


def _raw_labels(
    frame: AnyFrame,
    column: str,
    classes: Mapping[str, tuple[str, ...]],
    engine: Engine,
    distinct: list[str | None] | None = None,
) -> dict[str, list[str]]:
    """Per class, the distinct values of ``column`` (found here unless given) that match
    one of its labels (trimmed, case-insensitive).

    Matching the few distinct values once, then ``is_in`` on the raw column, is
    cheaper than lower-casing every row.
    """
    if distinct is None:
        found = frame.lazy().select(pl.col(column).unique()).collect(engine=engine)
        distinct = found.to_series().to_list()
    values = [value for value in distinct if value is not None]
    wanted = {name: set(_label_lookup(labels)) for name, labels in classes.items()}
    return {name: [v for v in values if label_key(v) in keys] for name, keys in wanted.items()}


def _refuse_unknown(
    frame: AnyFrame,
    column: str,
    known: list[str],
    engine: Engine,
    *,
    file: str,
    hint: str,
    distinct: list[str | None] | None = None,
) -> None:
    """Stop on the rows whose ``column`` is none of the ``known`` raw labels: one line
    listing every unknown label (an empty one as ``(empty)``) with its number of orders,
    then ``hint``. With the column's ``distinct`` values all known, the rows are not read."""
    if distinct is not None and all(value in known for value in distinct):
        return
    unknown_rows = ~pl.col(column).is_in(known).fill_null(False)
    unknown = (
        _numbered(frame)
        .filter(unknown_rows)
        .group_by(column)
        .agg(pl.len().alias("n"), pl.col(ROW).min())
        .sort(ROW)
        .collect(engine=engine)
    )
    if unknown.is_empty():
        return
    listed = ", ".join(
        ("(empty)" if label is None else repr(label)) + f" ({n:,} orders)"
        for label, n, _ in unknown.head(MAX_LABELS_SHOWN).iter_rows()
    )
    if unknown.height > MAX_LABELS_SHOWN:
        listed += f" and {unknown.height - MAX_LABELS_SHOWN:,} more labels"
    rows, total = _rows_where(frame, unknown_rows, engine)
    raise InputError(
        f"{column} label(s) not in the {column} mapping: {listed}; {hint}",
        file=file,
        column=column,
        rows=rows,
        total_rows=total,
    )


def _status_labels(
    frame: AnyFrame, params: ClientParams, file: str, engine: Engine, labels: Labels
) -> dict[str, list[str]]:
    """The raw status labels of each status (placed, cancelled, returned); without a
    ``status`` column, none. Unknown (or empty) labels stop the run unless
    ``statuses.unmapped`` says they are placed."""
    if "status" not in frame.collect_schema():
        return {name: [] for name in params.statuses.classes()}
    distinct = labels.get("status")
    classes = _raw_labels(frame, "status", params.statuses.classes(), engine, distinct)
    if params.statuses.unmapped == "error":
        _refuse_unknown(
            frame,
            "status",
            [label for labels in classes.values() for label in labels],
            engine,
            file=file,
            hint="add them to statuses.placed, statuses.cancelled or statuses.returned in "
            "the params file, or set statuses.unmapped: placed",
            distinct=distinct,
        )
    return classes


def _sign_checks(frame: AnyFrame, returned: list[str]) -> list[_Check]:
    """Orders' revenue and cost may be negative only on a returned order (a credit note):
    ``returned`` holds the raw labels of returned orders (:func:`_status_labels`)."""
    schema = frame.collect_schema()
    signed = [column for table, column in sorted(SIGNED_ON_RETURNS) if column in schema]
    is_return = pl.col("status").is_in(returned).fill_null(False) if returned else pl.lit(False)
    return [
        _Check(
            column,
            (pl.col(column) < 0) & ~is_return,
            f"negative {column} on orders whose status is not returned; a return or credit "
            "note needs a status listed under statuses.returned in the params file, "
            "otherwise fix the export",
        )
        for column in signed
    ]


def _is_online(
    frame: AnyFrame, params: ClientParams, file: str, engine: Engine, labels: Labels
) -> pl.Expr:
    """The channel mapping: true on online orders; unknown labels as ``channels.unmapped``."""
    label = pl.col("channel")
    distinct = labels.get("channel")
    classes = _raw_labels(frame, "channel", params.channels.classes(), engine, distinct)
    online, offline = classes["online"], classes["offline"]
    if params.channels.unmapped == "error":
        _refuse_unknown(
            frame,
            "channel",
            online + offline,
            engine,
            file=file,
            hint="add them to channels.online or channels.offline in the params file, "
            "or set channels.unmapped: offline",
            distinct=distinct,
        )
    if params.channels.unmapped == "online":
        return ~label.is_in(offline)
    return label.is_in(online)


def _status(frame: AnyFrame, classes: dict[str, list[str]]) -> pl.Expr:
    """The status of each order from the raw labels of each status (:func:`_status_labels`):
    placed, cancelled or returned (any other label, when ``statuses.unmapped`` allows one,
    and no ``status`` column at all: placed)."""
    if "status" not in frame.collect_schema():
        return pl.lit("placed")
    label = pl.col("status")
    return (
        pl.when(label.is_in(classes["cancelled"]))
        .then(pl.lit("cancelled"))
        .when(label.is_in(classes["returned"]))
        .then(pl.lit("returned"))
        .otherwise(pl.lit("placed"))
    )


def _map_orders(
    frame: AnyFrame,
    params: ClientParams,
    file: str,
    engine: Engine,
    statuses: dict[str, list[str]],
    labels: Labels,
) -> AnyFrame:
    """Add ``is_online``, ``status`` (placed / cancelled / returned) and ``is_valid``
    (placed); a returned order's negative revenue or cost (a credit note) becomes its
    absolute value, the value of the order that was returned."""
    is_online = _is_online(frame, params, file, engine, labels)
    status = _status(frame, statuses)
    frame = frame.with_columns(is_online.alias("is_online"), status.alias("status"))
    returned = pl.col("status") == "returned"
    # without a returned label in the data, no order is returned: nothing to turn positive
    signed = [c for t, c in sorted(SIGNED_ON_RETURNS) if c in frame.collect_schema()]
    return frame.with_columns(
        (pl.col("status") == "placed").alias("is_valid"),
        *(
            pl.when(returned).then(pl.col(c).abs()).otherwise(pl.col(c)).alias(c)
            for c in (signed if statuses.get("returned") else [])
        ),
    )


def _survey_checks(frame: AnyFrame) -> tuple[AnyFrame, list[_Check]]:
    frame = frame.with_columns(pl.col("kind").str.to_lowercase())
    checks = [
        _Check(
            "kind",
            ~pl.col("kind").is_in(list(SURVEY_KINDS)),
            f"survey kind must be one of {sorted(SURVEY_KINDS)}",
        )
    ]
    checks += [
        _Check(
            "score",
            (pl.col("kind") == kind) & ~pl.col("score").is_between(lo, hi),
            f"{kind} scores must be between {lo} and {hi}",
        )
        for kind, (lo, hi) in SURVEY_KINDS.items()
    ]
    return frame, checks


def _read(
    loaded: LoadedParams, spec: Table, source: Source, streaming: bool
) -> tuple[pl.DataFrame | pl.LazyFrame, str, frozenset[str]]:
    """The raw table, its label and the columns coded while read: scanned (streaming
    Parquet) or read into memory (a Parquet file with only the columns of ``spec``, its
    customer ids apart when it can: :func:`_codes_apart`)."""
    raw: AnyFrame
    coded: frozenset[str] = frozenset()
    if streaming and source.kind == "parquet":
        raw, label = scan_parquet(loaded, spec.name)
    elif _ids_apart(loaded, spec, source):
        ids = source.columns.get("customer_id", "customer_id")
        rest = replace(spec, columns=tuple(c for c in spec.columns if c.name != "customer_id"))
        raw, label = read_source(loaded, spec.name, projected=True, spec=rest)
        lengths = raw.get_column(raw.columns[0]).chunk_lengths()
        with _readable(label):  # the file is read once more, for its ids
            raw = raw.with_columns(_codes_apart(Path(label), ids, lengths))
        coded = frozenset({"customer_id"})
    else:
        raw, label = read_source(loaded, spec.name, projected=True, spec=spec)
    schema = raw.collect_schema()
    if schema.len() == 0:
        raise InputError("the file has no columns", file=label)
    if ROW in schema:  # the file's own column of that name: rows are numbered here
        raw = raw.drop(ROW)
    return raw, label, coded


def _ids_apart(loaded: LoadedParams, spec: Table, source: Source) -> bool:
    """Whether a Parquet table's customer ids are read apart (:func:`_codes_apart`): the
    file holds them, every required column and another column the table reads."""
    if source.kind != "parquet" or source.wide_columns or "customer_id" not in spec.names:
        return False
    try:
        names = set(pl.read_parquet_schema(loaded.resolve(spec.name)))
    except (OSError, pl.exceptions.PolarsError):
        return False  # the usual reading reports it
    required = {source.columns.get(c, c) for c in spec.required}
    others = _wanted_names(spec, source) - {source.columns.get("customer_id", "customer_id")}
    return required <= names and bool(others & names)


def _codes_apart(path: Path, name: str, lengths: list[int]) -> pl.Series:
    """A Parquet file's customer ids (column ``name``) as categorical codes, trimmed
    where that changes them, read slice after slice (:data:`ID_SLICE_ROWS`): the ids as
    text are never held whole (29M visits' ids: about 460 MB as text, 116 MB as codes).

    The codes are those of :func:`_categorical` (cast in order, chunk after chunk) and
    the column has ``lengths`` as chunks, those of the table's other columns. Trimming
    a slice where trimming changes it is trimming the column (it works value by value).
    """
    plan = pl.scan_parquet(path, glob=False).select(pl.col(name).cast(pl.String))
    chunks: list[pl.Series] = []
    offset = 0
    for group in _slices(lengths, ID_SLICE_ROWS):
        part = plan.slice(offset, sum(group)).collect()
        if _untrimmed(part, [name], "auto"):
            part = part.select(_trimmed(name))
        ids = part.to_series()
        start = 0
        for n in group:
            chunks.append(ids.slice(start, n).cast(pl.Categorical))
            start += n
        offset += sum(group)
    if not chunks:
        return plan.collect().to_series().cast(pl.Categorical)
    return pl.concat(chunks, rechunk=False)


def _slices(lengths: list[int], rows: int) -> list[list[int]]:
    """Consecutive chunk lengths grouped so that each group holds about ``rows`` rows
    (at least one chunk).

    >>> _slices([3, 3, 3, 3, 3], 6)
    [[3, 3], [3, 3], [3]]
    """
    groups: list[list[int]] = []
    for n in lengths:
        if groups and sum(groups[-1]) + n <= rows:
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def _renamed(raw: AnyFrame, spec: Table, source: Source, label: str) -> AnyFrame:
    """The table under canonical names; a workbook's sheets are named when it fails."""
    table = spec.name
    try:
        return _rename(raw, spec, source, label)
    except InputError as exc:
        sheets = _excel_sheets(Path(label)) if source.kind == "excel" else []
        if len(sheets) > 1:
            raise InputError(
                f"{exc.message}; the workbook has sheets {sheets}: name the one holding "
                f"the data with 'sheet: <name>' under data.{table}",
                file=label,
            ) from None
        raise


def _require_rows(frame: AnyFrame, table: str, label: str) -> None:
    """Orders must have rows; another table with only a header warns (its KPIs are null)."""
    if frame.lazy().select(pl.len()).collect().item() > 0:
        return
    if table == "orders":
        raise InputError("the orders table has a header but no rows", file=label)
    warnings.warn(
        f"{label}: the {table} table has no rows; KPIs that need it are null",
        DataWarning,
        stacklevel=3,
    )


def _derived(
    frame: AnyFrame,
    table: str,
    params: ClientParams,
    label: str,
    engine: Engine,
    statuses: dict[str, list[str]],
    labels: Labels,
) -> AnyFrame:
    """The columns loading adds: channel and status of orders, the visit date, and
    (streaming) categorical customer ids."""
    if table == "orders":
        frame = _map_orders(frame, params, label, engine, statuses, labels)
    elif table == "visits":
        frame = frame.with_columns(pl.col("visit_start").dt.date().alias("visit_date"))
    if isinstance(frame, pl.LazyFrame) and "customer_id" in frame.collect_schema():
        # in memory, cast as soon as it is trimmed (:func:`_categorical`)
        frame = frame.with_columns(pl.col("customer_id").cast(pl.Categorical))
    return frame


def load_table(
    loaded: LoadedParams, table: str, *, streaming: bool = False
) -> tuple[pl.DataFrame | pl.LazyFrame | None, str | None]:
    """Read, rename, type-check and normalise one table; ``(None, None)`` if not configured.

    With ``streaming``, a Parquet table is scanned rather than read: it is validated
    in streaming passes and returned as a ``LazyFrame`` that re-reads the file when
    collected. Other sources are read into memory and returned as a ``LazyFrame``.
    """
    source: Source | None = getattr(loaded.params.data, table)
    if source is None:
        return None, None
    try:
        frame, label = _load(loaded, table, source, streaming)
    except InputError as exc:  # name the client's column beside the canonical one
        raise exc.naming_source(_source_names(source)) from None
    return (frame.lazy() if streaming else frame), label


def _source_names(source: Source) -> dict[str, str]:
    """Canonical column -> the client's name for it, where they differ."""
    names = dict(source.columns)
    if source.wide_columns:
        names["score"] = "/".join(source.wide_columns.values())
    return names


#: tables whose key is checked (present, unique) while loading and then left out of
#: the loaded frame: nothing after loading reads a visit's id, and at 29M visits the
#: ids are the largest column (about 300 MB)
KEYS_NOT_KEPT = frozenset({"visits"})


def _without_key(table: Table) -> Table:
    """The table's columns but its key, and no key to check."""
    return replace(table, columns=tuple(c for c in table.columns if c.name != table.key), key=None)


def _key_checked_apart(loaded: LoadedParams, table: Table, source: Source) -> bool:
    """Whether the key of a Parquet table, scanned alone, passes every check loading makes
    on it: present, no value empty or changed by trimming, and increasing (so unique).

    Then the table is read without it, and the ids are never held in memory with the
    other columns (nor whole: the scan is checked in streaming passes and slices).
    Otherwise (also when the file cannot be read) the table is read whole as usual, so
    that every message, and which one comes first, stays as it was.
    """
    key = table.key
    if key is None or table.name not in KEYS_NOT_KEPT:
        return False
    if source.kind != "parquet" or source.wide_columns:
        return False
    raw = source.columns.get(key, key)
    try:
        path = loaded.resolve(table.name)
        if raw not in pl.read_parquet_schema(path):
            return False
        plan = pl.scan_parquet(path, glob=False).select(pl.col(raw).cast(pl.String).alias(key))
        return not _untrimmed(plan, [key], "streaming") and _strictly_increasing(plan, key)
    except (OSError, pl.exceptions.PolarsError):
        return False


def _load(
    loaded: LoadedParams, table: str, source: Source, streaming: bool
) -> tuple[AnyFrame, str]:
    engine: Engine = "streaming" if streaming else "auto"
    spec = TABLES[table]
    if not streaming and _key_checked_apart(loaded, spec, source):
        spec = _without_key(spec)
    raw, label, coded = _read(loaded, spec, source, streaming)
    if table == "surveys" and source.wide_columns:
        raw = _unpivot_surveys(raw, source, label)
    frame = _renamed(raw, spec, source, label)
    del raw  # the columns not needed are let go
    _require_rows(frame, table, label)
    labels: Labels = {}
    # a scanned file is read by these passes (in memory, the table is read already)
    with _readable(label) if streaming else contextlib.nullcontext():
        frame, checks = _typed(
            frame,
            spec,
            file=label,
            params=loaded.params,
            source=source,
            engine=engine,
            labels=labels,
            coded=coded,
        )
        if table == "surveys":
            frame, survey_checks = _survey_checks(frame)
            checks += survey_checks
        statuses: dict[str, list[str]] = {}
        if table == "orders":  # labels first: a negative revenue is judged by its status
            statuses = _status_labels(frame, loaded.params, label, engine, labels)
            checks += _sign_checks(frame, statuses["returned"])
    with _readable(label):  # a scanned file that breaks while the checks read it
        _verify(frame, checks, file=label, engine=engine)
    frame = frame.drop(cs.starts_with("_raw_"))
    frame = _deduplicate(frame, spec, label, engine)
    if table in KEYS_NOT_KEPT and spec.key is not None:  # checked the usual way
        frame = frame.drop(spec.key)
    frame = _derived(frame, table, loaded.params, label, engine, statuses, labels)
    if ROW in frame.collect_schema():  # rows dropped as duplicates, or wide surveys
        frame = frame.drop(ROW)
    return frame, label


def load_client(loaded: LoadedParams, *, streaming: bool = False) -> ClientData[Any]:
    """Load and validate every table a params file names.

    By default every table is read into memory and the result holds ``DataFrame``s.
    With ``streaming`` (for tables larger than memory) Parquet tables are validated
    in streaming passes and the result holds ``LazyFrame``s that read the files
    again whenever they are collected; :func:`b2b_analysis.kpis.compute_kpis` then
    runs on polars' streaming engine.
    """
    tables: dict[str, pl.DataFrame | pl.LazyFrame | None] = {}
    sources: dict[str, str] = {}
    for name in TABLES:
        frame, label = load_table(loaded, name, streaming=streaming)
        tables[name] = frame
        if label is not None:
            sources[name] = label
    orders = tables.pop("orders")
    assert orders is not None
    return ClientData(params=loaded.params, orders=orders, sources=sources, **tables)
