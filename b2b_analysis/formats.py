"""How exports write numbers, dates and text files: the rules :mod:`b2b_analysis.io` reads them by.

Pure helpers, no file access beyond the bytes handed in: number marks (decimal and
thousands), the day/month order of dates, byte-order marks and the diagnosis of a
CSV whose rows do not fit its header. Each either parses a value or says, in words
a user can act on, which params key would make it parse.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections import Counter

import polars as pl

#: the separators a CSV export commonly uses, tried when the configured one does not fit
SEPARATORS = (",", ";", "\t", "|")
#: Excel counts days from this date (serial 1 is 1900-01-01, after Lotus' leap-year bug)
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


# ----------------------------------------------------------------------------- numbers


def number_pattern(decimal: str, thousands: str | None) -> str:
    """The regular expression a number written with these marks matches in full.

    Grouping by the thousands mark is optional, but where it is used every group
    after the first has three digits, so ``1.2.3`` is never read as 123.

    >>> bool(re.fullmatch(number_pattern(",", "."), "-1.234.567,5"))
    True
    >>> bool(re.fullmatch(number_pattern(",", "."), "1.23,5"))
    False
    """
    d = re.escape(decimal)
    whole = r"\d+"
    if thousands is not None:
        whole = rf"(?:\d+|\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+)"
    return rf"^[+-]?(?:{whole}(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?$"


def parse_number(text: pl.Expr, decimal: str, thousands: str | None) -> tuple[pl.Expr, pl.Expr]:
    """``(value, valid)``: the Float64 of trimmed text written with these marks, and
    whether the text is a number at all (false for ``NaN``, ``inf``, ``12 EUR``).

    >>> frame = pl.DataFrame({"x": ["1.234,5", "12", "1,234.5", "NaN"]})
    >>> value, valid = parse_number(pl.col("x"), ",", ".")
    >>> frame.select(value.alias("v"), valid.alias("ok")).rows()
    [(1234.5, True), (12.0, True), (None, False), (None, False)]
    """
    plain = text
    if thousands is not None:
        plain = plain.str.replace_all(thousands, "", literal=True)
    if decimal != ".":
        plain = plain.str.replace(decimal, ".", literal=True)
    valid = text.str.contains(number_pattern(decimal, thousands))
    value = pl.when(valid).then(plain.cast(pl.Float64, strict=False))
    return value, valid


def _marks_name(decimal: str, thousands: str | None) -> str:
    grouping = f"thousands {thousands!r}" if thousands else "no thousands separator"
    return f"decimal {decimal!r}, {grouping}"


#: (decimal, thousands) pairs tried, the plainest first: to explain a value that fails,
#: and by ``init`` to find the marks of an export
MARKS: tuple[tuple[str, str | None], ...] = (
    (".", None),
    (",", None),
    (",", "."),
    (".", ","),
    (",", " "),
    (".", "'"),
    (",", "\u00a0"),
)


def number_hint(values: list[str], decimal: str, thousands: str | None, where: str) -> str:
    """What to set so that ``values`` (text that failed) read as numbers, if anything does.

    >>> print(number_hint(["1.234,56"], ".", None, "data.orders"))
    ; they read as numbers with decimal ',', thousands '.': set decimal: ',' and
    thousands: '.' under data.orders
    >>> number_hint(["12 EUR"], ".", None, "data.orders")
    ''
    """
    fits = [
        (d, t)
        for d, t in MARKS
        if (d, t) != (decimal, thousands)
        and all(re.fullmatch(number_pattern(d, t), v.strip()) for v in values)
    ]
    if not fits:
        return ""
    d, t = fits[0]
    keys = f"decimal: {d!r}" + (f" and thousands: {t!r}" if t else "")
    if t is None and thousands is not None:
        keys += " and remove thousands"
    return f"; they read as numbers with {_marks_name(d, t)}: set {keys} under {where}"


def number_message(decimal: str, thousands: str | None) -> str:
    """The start of the error for text that is not a number under these marks."""
    return f"{{values}} is not a number (read with {_marks_name(decimal, thousands)})"


# ------------------------------------------------------------------------------- dates

#: day/month dates: 05.01.2024, 5/1/24, 05-01-2024 10:30, 05/01/2024 10:30:15
_DAY_MONTH = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})[./-](?P<year>\d{4}|\d{2})"
    r"(?:(?P<t>[ T])\d{1,2}:\d{2}(?P<sec>:\d{2})?)?$"
)


class AmbiguousDates(ValueError):
    """Day/month dates whose every day and month is 12 or less."""

    def __init__(self, sample: str, formats: tuple[str, str]) -> None:
        self.sample, self.formats = sample, formats
        super().__init__(f"{sample!r} fits {formats[0]!r} and {formats[1]!r}")


def day_month_format(values: pl.Series) -> str | None:
    """The strftime format of day/month dates such as ``25.01.2024``, decided by the values.

    ``None`` when the values are not day/month dates (ISO dates and timestamps are
    left to polars' inference). Day first when some first number exceeds 12, month
    first when some second number does; when neither does, the order cannot be
    known and :class:`AmbiguousDates` names both candidates: it is never guessed.

    >>> day_month_format(pl.Series(["05.01.2024", "25.01.2024 10:30"]))
    '%d.%m.%Y %H:%M'
    >>> day_month_format(pl.Series(["01/31/24"]))
    '%m/%d/%y'
    >>> day_month_format(pl.Series(["2024-01-05"])) is None
    True
    >>> day_month_format(pl.Series(["05/01/2024"]))
    Traceback (most recent call last):
    ...
    b2b_analysis.formats.AmbiguousDates: '05/01/2024' fits '%d/%m/%Y' and '%m/%d/%Y'
    """
    parts = values.drop_nulls().str.extract_groups(_DAY_MONTH.pattern).struct.unnest()
    parts = parts.filter(pl.col("a").is_not_null())
    if parts.is_empty():
        return None
    common = parts.select(
        pl.col("sep").mode().first(),
        pl.col("year").str.len_chars().mode().first().alias("digits"),
        pl.col("t").drop_nulls().mode().first(),
        pl.col("sec").is_not_null().any(),
        pl.col("a").cast(pl.Int32).max().alias("a_max"),
        pl.col("b").cast(pl.Int32).max().alias("b_max"),
    ).row(0, named=True)
    sep = common["sep"]
    year = "%Y" if common["digits"] == 4 else "%y"
    time = ""
    if common["t"] is not None:
        time = common["t"] + ("%H:%M:%S" if common["sec"] else "%H:%M")
    day_first = f"%d{sep}%m{sep}{year}{time}"
    month_first = f"%m{sep}%d{sep}{year}{time}"
    if common["a_max"] > 12:
        return day_first
    if common["b_max"] > 12:
        return month_first
    sample = values.drop_nulls().first()
    raise AmbiguousDates(str(sample), (day_first, month_first))


#: formats tried to explain dates that do not parse (the hint names those that fit)
_HINT_FORMATS = (
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y%m%d",
    "%d.%m.%y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
_HINT_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S")


def fitting_formats(values: list[str]) -> list[str]:
    """The date formats (of the common ones) that read every value, at most three.

    >>> fitting_formats(["5 Feb 2024", "12 Mar 2024"])
    ['%d %b %Y']
    >>> fitting_formats(["31.01.2024 10:00"])
    ['%d.%m.%Y %H:%M']
    >>> fitting_formats(["soon"])
    []
    """
    found = []
    for date in _HINT_FORMATS:
        for time in _HINT_TIMES:
            fmt = date + time
            if all(_fits(v, fmt) for v in values):
                found.append(fmt)
    return found[:3]


def _fits(value: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(value.strip(), fmt)
    except ValueError:
        return False
    return True


def date_hint(values: list[str]) -> str:
    """Advice for dates that did not parse, from the values themselves."""
    if values and all(re.fullmatch(r"\d{5}(\.\d+)?", v.strip()) for v in values):
        return (
            "; numbers such as these are Excel serial dates: read the Excel file "
            "itself, or export the column as dates"
        )
    fits = fitting_formats(values)
    if not fits:
        return "; set 'date_format' for this table to the format of every row"
    named = " or ".join(repr(f) for f in fits)
    return f"; they fit date_format {named} (one format must fit every row)"


def excel_serial_text(days: pl.Expr) -> pl.Expr:
    """Excel serial day numbers (days since 1899-12-30, a fraction is the time of
    day) as ``YYYY-MM-DD HH:MM:SS`` text, the form Excel date cells are read in.

    >>> pl.select(excel_serial_text(pl.lit(45296.5))).item()
    '2024-01-05 12:00:00'
    """
    millis = (days * 86_400_000).round().cast(pl.Int64)
    return (pl.lit(EXCEL_EPOCH) + pl.duration(milliseconds=millis)).dt.strftime("%Y-%m-%d %H:%M:%S")


# -------------------------------------------------------------------- text files (CSV)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: the params' encoding names, as Python codecs
CODECS = {
    "utf8": "utf-8",
    "utf8-lossy": "utf-8",
    "latin-1": "latin-1",
    "cp1252": "cp1252",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}


def bom_codec(head: bytes) -> str | None:
    """The codec a byte-order mark at the start of a file names, if any.

    >>> bom_codec(b"\\xff\\xfeo\\x00"), bom_codec(b"order_id")
    ('utf-16', None)
    """
    return next((codec for bom, codec in _BOMS if head.startswith(bom)), None)


def looks_utf16(head: bytes) -> bool:
    """Whether the start of a file is UTF-16 without a byte-order mark: more than a
    quarter of its bytes are NUL, which no text in an 8-bit encoding has.

    >>> looks_utf16("order_id;Kunde".encode("utf-16-le")), looks_utf16(b"order_id;Kunde")
    (True, False)
    """
    return head.count(b"\x00") > len(head) // 4


def line_of(data: bytes, offset: int) -> int:
    """1-based line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def decoding_problem(data: bytes, codec: str, encoding: str) -> str | None:
    """Why ``data`` is not text in ``codec``, naming the line and an encoding to set.

    >>> print(decoding_problem("id\\nJos\\xe9\\n".encode("latin-1"), "utf-8", "utf8"))
    line 2 is not UTF-8 (byte 0xe9); the file is probably Windows or Latin-1 text:
    set 'encoding: cp1252' (or latin-1) on this table in the params file
    """
    if codec == "utf-8" and looks_utf16(data[:200]):
        return (
            "line 1 holds NUL bytes; it looks like UTF-16 without a byte-order mark: set "
            "'encoding: utf-16le' (or utf-16be) on this table in the params file"
        )
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        line = line_of(data, exc.start)
        byte = data[exc.start : exc.start + 1].hex()
        name = "UTF-8" if codec == "utf-8" else encoding
        if codec == "utf-8":
            hint = (
                "the file is probably Windows or Latin-1 text: set 'encoding: cp1252' (or latin-1)"
            )
        else:
            hint = "set the file's real 'encoding' (utf8, cp1252, latin-1, utf-16le)"
        return f"line {line} is not {name} (byte 0x{byte}); {hint} on this table in the params file"
    return None


def _field_counts(text: str, separator: str, limit: int | None = None) -> list[tuple[int, int]]:
    """(line number, number of fields) of each record, following quotes."""
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    counts = []
    for record in reader:
        if record:
            counts.append((reader.line_num, len(record)))
        if limit is not None and len(counts) >= limit:
            break
    return counts


def header_fields(text: str, separator: str) -> list[str]:
    """The names in the header (first) record."""
    for record in csv.reader(io.StringIO(text), delimiter=separator):
        return [name.lstrip("\ufeff").strip() for name in record]
    return []


def duplicate_names(names: list[str]) -> str | None:
    """A message for the first name the header gives twice, with the column positions.

    >>> duplicate_names(["id", "revenue", "revenue"])
    "the header names 'revenue' twice (columns 2 and 3); rename one of them in the export"
    """
    seen = Counter(names)
    for name, n in seen.items():
        if n > 1 and name:
            where = [str(i + 1) for i, other in enumerate(names) if other == name]
            return (
                f"the header names {name!r} {'twice' if n == 2 else f'{n} times'} "
                f"(columns {' and '.join(where)}); rename one of them in the export"
            )
    return None


def separator_hint(header: str, separator: str, wanted: set[str]) -> str | None:
    """Which other separator splits ``header`` into the columns the table needs.

    >>> separator_hint("id;date;amount", ",", {"id", "amount"})
    "with separator ';' the header has the columns this table needs: set separator: ';'"
    """
    best: tuple[int, str] | None = None
    for candidate in SEPARATORS:
        if candidate == separator:
            continue
        names = set(header_fields(header, candidate))
        if len(names) > 1:
            score = len(names & wanted)
            if best is None or score > best[0]:
                best = (score, candidate)
    if best is None:
        return None
    score, candidate = best
    if wanted and score == len(wanted):
        return f"with separator {candidate!r} the header has the columns this table needs: " + (
            f"set separator: {candidate!r}"
        )
    return f"the header splits into columns with separator {candidate!r}: is that the separator?"


def structure_problem(text: str, separator: str) -> str | None:
    """Why the records of a CSV do not fit its header: a title line above the
    header, or the first record with more fields than the header, by line number.

    >>> print(structure_problem("Orders 2024\\nid,x\\n1,2\\n", ","))
    line 1 looks like a title above the header on line 2 (1 field where the header has
    2): delete it, or set skip_rows: 1 on this table in the params file
    >>> print(structure_problem("id,x\\n1,2\\n1,2,3\\n", ","))
    line 3 has 3 fields but the header (line 1) has 2; quote values that contain the
    separator, or fix the export
    """
    counts = _field_counts(text, separator)
    if not counts:
        return None
    header_line, width = counts[0]
    common = Counter(n for _, n in counts[:50]).most_common(1)[0][0]
    first_full = next((i for i, (_, n) in enumerate(counts) if n == common), 0)
    if common > width and first_full > 0 and first_full < 10:
        line = counts[first_full][0]
        lines = "line 1" if line == 2 else f"lines 1-{line - 1}"
        looks = "looks" if line == 2 else "look"
        return (
            f"{lines} {looks} like a title above the header on line {line} ({width} field"
            f"{'' if width == 1 else 's'} where the header has {common}): delete "
            f"{'it' if line == 2 else 'them'}, or set skip_rows: {line - 1} on this table "
            "in the params file"
        )
    for line, n in counts[1:]:
        if n > width:
            return (
                f"line {line} has {n} fields but the header (line {header_line}) has {width}; "
                "quote values that contain the separator, or fix the export"
            )
    return None
