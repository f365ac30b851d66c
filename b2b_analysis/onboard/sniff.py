"""Reading an export file whose format is not known yet: its encoding, separator,
title lines, number marks and date format, each found from the file's own bytes
and values, and said to be unknown (with the candidates) when they do not show it.

The rules for reading are :mod:`b2b_analysis.formats`'; this module only guesses
the params that make them read a file.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from b2b_analysis.formats import (
    MARKS,
    SEPARATORS,
    AmbiguousDates,
    bom_codec,
    day_month_format,
    fitting_formats,
    looks_utf16,
    number_pattern,
    parse_number,
)

#: file suffixes read, by kind
SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}


@dataclass
class Sniffed:
    """One file as read for the proposal: its cells and the params that read it."""

    path: Path
    kind: str
    frame: pl.DataFrame
    #: source keys (separator, encoding, skip_rows) that differ from the defaults
    options: dict[str, object] = field(default_factory=dict)


def read_export(path: Path) -> Sniffed:
    """Read one export file, finding how it is written; ``ValueError`` says why not."""
    kind = SUFFIXES[path.suffix.lower()]
    if kind == "parquet":
        return Sniffed(path, kind, pl.read_parquet(path, glob=False))
    if kind == "excel":
        return Sniffed(path, kind, pl.read_excel(path, sheet_id=1, infer_schema_length=0))
    return _read_text(path)


def text_encoding(data: bytes) -> tuple[str, str | None]:
    """The Python codec of a text file, and the params ``encoding`` that names it
    (``None`` where none is needed: UTF-8, or a byte-order mark).

    >>> text_encoding("Kunde;Straße\\n".encode("cp1252"))
    ('cp1252', 'cp1252')
    >>> text_encoding("id\\n".encode("utf-16"))
    ('utf-16', None)
    """
    bom = bom_codec(data[:4])
    if bom is not None:
        return bom, None
    head = data[:4096]
    if looks_utf16(head):
        codec = "utf-16-le" if head[1::2].count(b"\x00") > head[::2].count(b"\x00") else "utf-16-be"
        return codec, codec.replace("-le", "le").replace("-be", "be")
    for codec, name in (("utf-8", None), ("cp1252", "cp1252")):
        try:
            data.decode(codec)
        except UnicodeDecodeError:
            continue
        return codec, name
    return "latin-1", "latin-1"


def separator_of(lines: list[str]) -> tuple[str, int]:
    """The separator that splits most lines into the same number (2 or more) of
    fields, and the number of lines above the first such line (a title).

    >>> separator_of(["Export 2024", "a;b;c", "1;2,5;3", "4;5;6"])
    (';', 1)
    """
    best: tuple[tuple[int, int], str, int] | None = None
    for separator in SEPARATORS:
        widths = [len(next(csv.reader([line], delimiter=separator))) for line in lines]
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        if best is None or (count, width) > best[0]:
            first = widths.index(width)
            best = ((count, width), separator, first if first < 10 else 0)
    if best is None:
        return ",", 0
    return best[1], best[2]


def _read_text(path: Path) -> Sniffed:
    data = path.read_bytes()
    codec, encoding = text_encoding(data)
    text = data.decode(codec).lstrip("\ufeff")
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    if not lines:
        raise ValueError("the file is empty")
    separator, skip = separator_of(lines)
    try:
        frame = pl.read_csv(
            text.encode("utf-8"), separator=separator, infer_schema=False, skip_rows=skip
        )
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"cannot read it as CSV: {str(exc).splitlines()[0]}") from None
    frame = frame.rename(lambda name: name.strip())
    options: dict[str, object] = {}
    if separator != ",":
        options["separator"] = separator
    if encoding is not None:
        options["encoding"] = encoding
    if skip:
        options["skip_rows"] = skip
    return Sniffed(path, "csv", frame, options)


def _text_values(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """The non-empty text cells of the given columns, trimmed, as one Series."""
    parts = [
        frame.get_column(c).str.strip_chars()
        for c in columns
        if c in frame.columns and frame.schema[c] == pl.String
    ]
    if not parts:
        return pl.Series("v", [], pl.String)
    values = pl.concat([p.alias("v") for p in parts])
    return values.filter(values.is_not_null() & (values != ""))


@dataclass(frozen=True)
class Guess:
    """A params value found from the data, or ``None`` with a TODO saying why not."""

    value: object = None
    todo: str | None = None


def number_marks(frame: pl.DataFrame, columns: list[str]) -> Guess:
    """The ``(decimal, thousands)`` that read every text number of ``columns``.

    Of the pairs that read every value, those that read them alike are one answer
    (the plainest is taken); pairs that read a value differently (``1,234``: 1.234 or
    1234) are not chosen between: the TODO names them.

    >>> frame = pl.DataFrame({"x": ["1.234,50", "12,00"]})
    >>> number_marks(frame, ["x"]).value
    (',', '.')
    >>> print(number_marks(pl.DataFrame({"x": ["1,234", "5,000"]}), ["x"]).todo)
    numbers such as '1,234' read differently with decimal ',' and with decimal '.', thousands ','
    """
    values = _text_values(frame, columns)
    if values.is_empty():
        return Guess((".", None))
    fits = [(d, t) for d, t in MARKS if values.str.contains(number_pattern(d, t)).all()]
    if not fits:
        return Guess(
            (".", None),
            "some values of the number columns are numbers with no usual marks "
            f"(such as {_not_numbers(values)!r}); kpis names their rows",
        )
    readings = [values.to_frame().select(parse_number(pl.col("v"), d, t)[0]) for d, t in fits]
    differ = [
        pair
        for pair, reading in zip(fits, readings, strict=True)
        if not reading.equals(readings[0])
    ]
    if not differ:
        return Guess(fits[0])
    sample = _differing_value(values, fits[0], differ[0])
    return Guess(
        None,
        f"numbers such as {sample!r} read differently with {_marks(fits[0])} and with "
        f"{_marks(differ[0])}",
    )


def _marks(pair: tuple[str, str | None]) -> str:
    decimal, thousands = pair
    return f"decimal {decimal!r}" + (f", thousands {thousands!r}" if thousands else "")


def _not_numbers(values: pl.Series) -> str:
    any_marks = pl.any_horizontal(pl.col("v").str.contains(number_pattern(d, t)) for d, t in MARKS)
    return str(values.to_frame().filter(~any_marks).item(0, 0))


def _differing_value(
    values: pl.Series, a: tuple[str, str | None], b: tuple[str, str | None]
) -> str:
    frame = values.unique(maintain_order=True).to_frame()
    first, second = parse_number(pl.col("v"), *a)[0], parse_number(pl.col("v"), *b)[0]
    return str(frame.filter(first != second).item(0, 0))


def date_format(frame: pl.DataFrame, column: str) -> Guess:
    """The ``date_format`` of a text date column, when the values show it.

    ``Guess(None)`` when none is needed (dates, or ISO text polars reads by
    itself); a TODO naming both candidates for day/month dates that could be
    either, and for text no common format reads.

    >>> date_format(pl.DataFrame({"d": ["31.01.2024", "01.02.2024"]}), "d").value
    '%d.%m.%Y'
    >>> print(date_format(pl.DataFrame({"d": ["05/01/2024"]}), "d").todo)
    dates such as '05/01/2024' fit date_format '%d/%m/%Y' (day first) and '%m/%d/%Y' (month first)
    """
    if column not in frame.columns or frame.schema[column] != pl.String:
        return Guess()
    values = _text_values(frame, [column])
    if values.is_empty():
        return Guess()
    try:
        found = day_month_format(values)
    except AmbiguousDates as exc:
        first, second = exc.formats
        return Guess(
            None,
            f"dates such as {exc.sample!r} fit date_format {first!r} (day first) and "
            f"{second!r} (month first)",
        )
    if found is not None:
        return Guess(found)
    try:
        parsed = values.str.to_datetime(strict=False)
        if parsed.null_count() == 0:
            return Guess()
    except pl.exceptions.PolarsError:
        pass
    sample = values.unique(maintain_order=True).head(200).to_list()
    fits = fitting_formats(sample)
    if len(fits) == 1:
        return Guess(fits[0])
    named = " or ".join(repr(f) for f in fits) or "no common format"
    return Guess(None, f"dates such as {sample[0]!r} fit {named}")


def utc_offsets(frame: pl.DataFrame, column: str) -> list[str]:
    """The UTC offsets other than zero that the text timestamps of ``column`` carry.

    >>> utc_offsets(pl.DataFrame({"t": ["2024-01-05T10:00:00+01:00", "2024-07-01 09:00+0200",
    ...                                  "2024-01-05T10:00:00Z", "2024-01-05"]}), "t")
    ['+01:00', '+0200']
    """
    if column not in frame.columns or frame.schema[column] != pl.String:
        return []
    found = (
        _text_values(frame, [column])
        .str.extract(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*([+-]\d{2}:?\d{2})$")
        .drop_nulls()
        .unique()
        .sort()
    )
    return [v for v in found.to_list() if v.strip("+-").replace(":", "") != "0000"]
