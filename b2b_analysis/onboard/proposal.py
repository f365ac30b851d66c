"""``b2b-analysis init``: a proposed params file from the export files in a folder.

Each step is a function: read the files (:func:`read_folder`), tell which is which
table (:func:`b2b_analysis.onboard.headers.assign_tables`), find each source's
params (:func:`source_entry`), count and classify the labels, then write the YAML
(:class:`Writer`) with a ``# TODO`` where the data does not settle a value. Nothing
is guessed that could be read two ways: an unsettled value is left so that ``kpis``
stops with an error naming it (labels stay unknown under ``unmapped: error``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from b2b_analysis.atomic import write_atomic
from b2b_analysis.config import Channels, ClientParams, Statuses, slugify
from b2b_analysis.errors import InputError
from b2b_analysis.onboard.headers import TableGuess, assign_tables
from b2b_analysis.onboard.labels import Label, count_labels
from b2b_analysis.onboard.sniff import (
    SUFFIXES,
    Sniffed,
    date_format,
    number_marks,
    read_export,
    utc_offsets,
)
from b2b_analysis.schema import TABLES, WIDE_SURVEY_COLUMNS

#: canonical columns whose text is read as numbers (with the source's marks)
NUMBER_KINDS = ("money", "count", "score")


@dataclass
class Proposal:
    """The proposed params file and what the command says about it."""

    text: str
    #: table -> (file, rows)
    tables: dict[str, tuple[str, int]]
    #: file -> why it is not used
    unused: dict[str, str]
    #: each TODO as ``line N: what``, in file order
    todos: list[str]


def _scalar(value: object, *, quoted: bool = False) -> str:
    """A YAML scalar; whitespace and invisible characters double-quoted."""
    if isinstance(value, str) and (value != value.strip() or not value.isprintable()):
        return json.dumps(value)
    style = "'" if quoted and isinstance(value, str) else None
    text = yaml.safe_dump(
        value, allow_unicode=True, default_flow_style=True, width=1 << 20, default_style=style
    )
    return text.removesuffix("\n...\n").strip()


@dataclass
class Writer:
    """YAML lines with comments; every ``# TODO:`` sentence is also kept in ``todos``."""

    lines: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)

    def add(self, line: str, comment: str = "") -> None:
        self.lines.append(f"{line}  # {comment}" if comment else line)

    def note(self, indent: int, text: str) -> None:
        """A comment of one or more lines, wrapped at 88 columns."""
        pad = " " * indent + "# "
        words, line = text.split(), ""
        for word in words:
            if line and len(pad) + len(line) + 1 + len(word) > 88:
                self.lines.append(pad + line)
                line = word
            else:
                line = f"{line} {word}".strip()
        self.lines.append(pad + line)

    def todo(self, indent: int, text: str) -> None:
        """A ``# TODO:`` comment; ``todos`` keeps its line number and first clause."""
        first = re.split(r"; |\. ", text, maxsplit=1)[0].rstrip(".")
        self.todos.append(f"line {len(self.lines) + 1}: {first}")
        self.note(indent, f"TODO: {text}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# ------------------------------------------------------------------------- the files


#: files of a client's folder that are not exports: not read, and not listed
NOT_EXPORTS = (".yaml", ".yml", ".md")


def read_folder(folder: Path) -> tuple[dict[str, Sniffed], dict[str, str]]:
    """Every export file directly in ``folder`` read (name -> file), and the files
    that could not be read (name -> why); params files and notes are passed over."""
    if not folder.is_dir():
        raise InputError("not a folder; give the folder that holds the export files", file=folder)
    read, unread = {}, {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.is_file() or path.suffix in NOT_EXPORTS:
            continue
        if path.suffix.lower() not in SUFFIXES:
            unread[path.name] = f"not an export file ({', '.join(sorted(SUFFIXES))})"
            continue
        try:
            read[path.name] = read_export(path)
        except Exception as exc:  # any file that cannot be read is reported, not fatal
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            unread[path.name] = f"cannot be read: {reason}"
    return read, unread


def _no_orders(folder: Path, files: dict[str, Sniffed]) -> InputError:
    seen = "; ".join(f"{name} has {list(f.frame.columns)[:8]}" for name, f in files.items())
    return InputError(
        "no file here has the columns of an orders table (order_id, customer_id, "
        f"order_date, channel, revenue) under names init knows ({seen or 'no export files'}); "
        "write the params file by hand (docs/params.md)",
        file=folder,
    )


# ----------------------------------------------------------------------- one source


def source_entry(w: Writer, name: str, guess: TableGuess, sniffed: Sniffed, path: str) -> None:
    """The lines of one ``data.<table>`` entry: path, how the file is written, columns."""
    w.add(f"  {guess.table}:")
    w.add(f"    path: {_scalar(path)}")
    for key, value in sniffed.options.items():
        w.add(f"    {key}: {_scalar(value, quoted=key == 'separator')}")
    _marks_lines(w, guess, sniffed)
    _date_lines(w, guess, sniffed)
    _column_lines(w, guess)


def _number_columns(guess: TableGuess) -> list[str]:
    table = TABLES[guess.table]
    canonical = [c.name for c in table.columns if c.kind in NUMBER_KINDS]
    return [h for c, h in guess.columns.items() if c in canonical or c in WIDE_SURVEY_COLUMNS]


def _marks_lines(w: Writer, guess: TableGuess, sniffed: Sniffed) -> None:
    found = number_marks(sniffed.frame, _number_columns(guess))
    if isinstance(found.value, tuple):
        decimal, thousands = found.value
        if decimal != ".":
            w.add(f"    decimal: {_scalar(decimal, quoted=True)}")
        if thousands is not None:
            w.add(f"    thousands: {_scalar(thousands, quoted=True)}")
    if found.todo:
        w.todo(4, f"{found.todo}; set decimal (and thousands) here to the marks of this file.")


def _date_lines(w: Writer, guess: TableGuess, sniffed: Sniffed) -> None:
    dates = [c.name for c in TABLES[guess.table].columns if c.kind in ("date", "datetime")]
    for column in (c for c in dates if c in guess.columns):
        found = date_format(sniffed.frame, guess.columns[column])
        if found.value is not None:
            w.add(f"    date_format: {_scalar(found.value, quoted=True)}")
        elif found.todo:
            w.todo(4, f"{found.todo}; set date_format here (kpis stops until then).")


def _column_lines(w: Writer, guess: TableGuess) -> None:
    mapped = {c: h for c, h in guess.columns.items() if c != h}
    for column in guess.missing:
        w.todo(
            4,
            f"no column of this file is known as {column}: map it below to one of "
            f"{list(guess.unread)} (kpis stops naming '{column}' until then).",
        )
        mapped[column] = "TODO"
    if mapped:
        w.add("    columns:")
        for column, header in mapped.items():
            w.add(f"      {column}: {_scalar(header)}")
    if guess.unread:
        w.note(4, f"columns not read: {', '.join(guess.unread)}")


# ------------------------------------------------------------------------- labels


def label_block(w: Writer, key: str, labels: list[Label], file: str) -> None:
    """``channels:`` or ``statuses:`` with every label found: those the built-in lists
    know under their class, the others in a commented TODO block to be moved."""
    model = Channels() if key == "channels" else Statuses()
    noun = {"channels": "channel", "statuses": "status"}[key]
    w.add("")
    w.note(0, f"The {noun} labels of {file} with their number of orders.")
    w.add(f"{key}:")
    for cls in model.classes():
        known = [x for x in labels if x.cls == cls]
        w.add(f"  {cls}:" + ("" if known else " []"))
        for x in known:
            w.add(f"  - {_scalar(x.label)}", f"{x.orders:,} orders (built-in: {cls})")
    unknown = [x for x in labels if x.cls is None and x.label is not None]
    if unknown:
        where = " or ".join(model.classes())
        w.todo(
            2,
            f"{len(unknown)} {noun} label(s) the built-in lists do not know. Move each line "
            f"below into {where} above (without the '#'); until then kpis stops with an "
            "error naming them.",
        )
        for x in unknown:
            w.add(f"  # - {_scalar(x.label)}", f"{x.orders:,} orders")
    empty = sum(x.orders for x in labels if x.label is None)
    if empty:
        w.todo(
            2,
            f"{empty:,} orders have an empty {noun}: set unmapped: placed to count them "
            "as placed, or fix the export (kpis stops until then).",
        )
    w.add("  unmapped: error")


def _orders_labels(w: Writer, guess: TableGuess, sniffed: Sniffed, file: str) -> None:
    for key, column in (("channels", "channel"), ("statuses", "status")):
        header = guess.columns.get(column)
        if header is None or header not in sniffed.frame.columns:
            continue
        model = Channels() if key == "channels" else Statuses()
        labels = count_labels(sniffed.frame.get_column(header), model.classes())
        label_block(w, key, labels, file)


def _timezone_lines(
    w: Writer, chosen: dict[str, tuple[str, TableGuess]], files: dict[str, Sniffed]
) -> None:
    """Timestamps with UTC offsets are converted to ``timezone``: UTC is not assumed."""
    seen: dict[str, list[str]] = {}
    for name, guess in chosen.values():
        dates = [c.name for c in TABLES[guess.table].columns if c.kind in ("date", "datetime")]
        for column in (guess.columns[c] for c in dates if c in guess.columns):
            offsets = utc_offsets(files[name].frame, column)
            if offsets:
                seen[name] = offsets
    if not seen:
        return
    where = " and ".join(f"{name}: {', '.join(offsets)}" for name, offsets in seen.items())
    w.todo(
        0,
        f"the timestamps carry UTC offsets ({where}); their dates are taken in the "
        "client's time zone: set it (an IANA name such as Europe/Madrid); kpis stops "
        "until then.",
    )
    w.add("timezone: TODO")


# -------------------------------------------------------------------------- the file


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()


def propose(folder: Path, out: Path) -> Proposal:
    """The proposed params file for the exports in ``folder``, to be written at ``out``."""
    base = out.parent.resolve()
    if not folder.resolve().is_relative_to(base):
        raise InputError(
            f"--out {out} is not in {folder} or a folder above it; data paths must stay "
            "inside the params file's folder: write it there"
        )
    files, unread = read_folder(folder)
    chosen, unused = assign_tables({name: list(f.frame.columns) for name, f in files.items()})
    if "orders" not in chosen:
        raise _no_orders(folder, files)
    w = Writer()
    w.note(
        0,
        f"Proposed by `b2b-analysis init {folder.as_posix()}`. Settle every TODO, then run "
        f"`b2b-analysis check {out.name}`. Every key: docs/params.md.",
    )
    w.add(f"client: {_scalar(folder.resolve().name)}", "the display name in reports")
    w.add("data:")
    tables = {}
    for table in (t for t in TABLES if t in chosen):
        name, guess = chosen[table]
        path = _relative(files[name].path, base)
        source_entry(w, name, guess, files[name], path)
        tables[table] = (path, files[name].frame.height)
    for name, why in {**unused, **unread}.items():
        w.note(0, f"not used: {name} ({why})")
    orders_file, orders = chosen["orders"]
    if "cost" not in orders.columns:
        w.todo(
            0,
            "the orders have no cost column: for ROI, set gross_margin (0-1) and remove "
            "the '#'; without it ROI is null with a note (kpis works).",
        )
        w.add("# gross_margin: 0.30")
    _orders_labels(w, orders, files[orders_file], tables["orders"][0])
    w.add("")
    _timezone_lines(w, chosen, files)
    w.add("period: month")
    w.add("currency: EUR", "display only: the currency of the amounts")
    _validate(w.text)
    return Proposal(w.text, tables, {**unused, **unread}, w.todos)


def _validate(text: str) -> None:
    """The proposal is a valid params file (a bug here must not leave a broken file)."""
    document = yaml.safe_load(text)
    if document.get("timezone") == "TODO":  # left for the user to settle, on purpose
        document["timezone"] = "UTC"
    ClientParams.model_validate(document)
    assert slugify(document["client"])


def write_params_file(path: Path, text: str, *, force: bool) -> None:
    """Write the proposal at ``path`` (atomically, :func:`b2b_analysis.atomic.write_atomic`);
    an existing file is replaced only with ``force``."""
    if path.is_dir():
        raise InputError("--out is a folder; give the params file's name", file=path)
    if path.exists() and not force:
        raise InputError(
            "the params file exists; use --force to replace it, or give another --out",
            file=path,
        )
    try:
        write_atomic(path, text)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write the params file ({reason})", file=path) from None
