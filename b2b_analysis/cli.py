"""The ``b2b-analysis`` command line.

Bad input never shows a traceback: it prints one ``error:`` line naming the
file, column and rows at fault to stderr and exits with status 2.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TextIO

import typer

try:  # typer 0.2x carries its own copy of click; older releases use click itself
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

from b2b_analysis.atomic import write_atomic
from b2b_analysis.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

EXIT_INPUT = 2

app = typer.Typer(
    name="b2b-analysis",
    help="KPIs of a B2B company's online sales channel, per client, from its data exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@functools.cache
def _err() -> Console:
    """The console of the messages on stderr, made on first use (``--help`` and
    ``kpis --format json`` do not import rich)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"
    table = "table"


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


class ProfileChoice(StrEnum):
    """The demo client profiles (``b2b_analysis.demo.PROFILES``; a test keeps them equal)."""

    acme = "acme"
    iberia = "iberia"
    nordic = "nordic"


class PeriodChoice(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(f"warning: {message}\n")


def _format_value(value: Any, unit: str, currency: str, locale: str = "en-US") -> str:
    """A value of the terminal tables: the numbers as the client's ``locale`` writes
    them, the words in English like the rest of the table (the tables are the
    consultant's; the client reads the report).

    >>> _format_value(26.0, "days", "", "de-DE"), _format_value(1234.5, "money", "EUR", "de-DE")
    ('26 days', '1.234,50\xa0€')
    """
    if value is None:
        return "—"
    from b2b_analysis import i18n
    from b2b_analysis.narrative import format_value

    if unit == "days":
        return i18n.text("unit.days", i18n.DEFAULT, n=i18n.format_decimal(value, locale, 0))
    return format_value(value, unit, currency, locale)


def _null_note(doc: dict[str, Any], key: str) -> str:
    """Why a null KPI is null; nothing for a KPI with a value (``notes`` also holds the
    notes on rows outside the window, keyed by table: ``orders`` is a table and a KPI)."""
    return str(doc["notes"].get(key, "")) if doc["kpis"][key] is None else ""


@app.command()
def kpis(
    params: Annotated[
        Path, typer.Argument(metavar="PARAMS", help="The client's params YAML file.")
    ],
    start: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD",
            help="First day of the window (default: params, else the first day of the "
            "first order's period).",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Last day of the window, inclusive."),
    ] = None,
    period: Annotated[
        PeriodChoice | None, typer.Option(help="Period of the series (default: params).")
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="json: the full document on stdout; csv or table: the headline KPIs.",
        ),
    ] = OutputFormat.table,
    series: Annotated[
        bool, typer.Option("--series", help="With csv or table, print the per-period series.")
    ] = False,
    streaming: Annotated[
        bool,
        typer.Option(
            "--streaming",
            help="For tables larger than memory: scan Parquet tables and compute on "
            "polars' streaming engine (slower when the tables fit in memory).",
        ),
    ] = False,
) -> None:
    """Print the headline KPIs of one client (and, as JSON, the per-period series)."""
    from b2b_analysis.config import load_params, parse_date
    from b2b_analysis.io import load_client
    from b2b_analysis.kpis import compute_kpis

    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    loaded = load_params(params)
    # plain text: the client's name is data, never console markup
    sys.stderr.write(f"Loading {loaded.params.client}{' (streaming)' if streaming else ''} ...\n")
    data = load_client(loaded, streaming=streaming)
    report = compute_kpis(
        data,
        start=first,
        end=last,
        period=period.value if period else None,  # type: ignore[arg-type]
    )
    for note in report.window_notes.values():  # rows left out are never silent
        sys.stderr.write(f"warning: {note}\n")
    doc = report.to_dict()
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    if output_format is OutputFormat.csv:
        _print_csv(doc, series=series)
        return
    from rich.console import Console

    if series:
        _print_series_table(doc, Console(highlight=False))
    else:
        _print_headline_table(doc, Console(highlight=False))


def _print_csv(doc: dict[str, Any], *, series: bool) -> None:
    """The headline (one KPI a row) or the whole series (every column), as CSV."""
    from b2b_analysis.registry import KPIS

    if series:
        columns = doc["series"]["columns"]
        rows = [[row[c] for c in columns] for row in doc["series"]["rows"]]
    else:
        columns = ["kpi", "value", "unit", "note"]
        rows = [
            [key, doc["kpis"][key], info.unit, _null_note(doc, key)] for key, info in KPIS.items()
        ]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)


def _print_headline_table(doc: dict[str, Any], out: Console) -> None:
    from rich.table import Table

    from b2b_analysis.i18n import text
    from b2b_analysis.registry import KPIS
    from b2b_analysis.trends import headline_immature

    currency = doc["currency"]
    window = doc["window"]
    locale = doc.get("locale", "en-US")
    threshold = _format_value(doc["small_order_threshold"], "money", currency, locale)
    table = Table(
        "KPI",
        "Value",
        "Definition",
        title=f"{doc['client']} · {window['start']} to {window['end']}",
        caption=f"Null values: see the notes. Small orders: below {threshold}.",
    )
    for key, info in KPIS.items():
        note = _null_note(doc, key)
        definition = info.definition + (f" [dim](null: {note})[/]" if note else "")
        value = _format_value(doc["kpis"][key], info.unit, currency, locale)
        if doc["kpis"][key] is not None and headline_immature(doc, key):
            # includes periods too recent to be final (docs/kpis.md)
            value += " " + text("scorecard.immature", "en-US")
        table.add_row(info.label, value, definition)
    out.print(table)


#: Width of a value column of the series table (a money value with its cents).
SERIES_COLUMN = 13


def _print_series_table(doc: dict[str, Any], out: Console) -> None:
    """The series as pages of a few KPIs each, periods down the rows, to fit the terminal.

    Values are formatted by unit (rates in %, money without the currency code, which
    the title gives); a partial period's label is starred, an immature value (its
    ``<kpi>_mature`` is false) marked with a degree sign.
    """
    from rich.table import Table

    from b2b_analysis.registry import REGISTRY, SERIES_KPIS

    rows = doc["series"]["rows"]
    keys = [k for k in SERIES_KPIS if any(r.get(k) is not None for r in rows)]
    per_page = max(1, (out.width - 14) // (SERIES_COLUMN + 3))
    pages = [keys[i : i + per_page] for i in range(0, len(keys), per_page)]
    for number, page in enumerate(pages, start=1):
        title = f"{doc['client']}: {doc['period']}ly series ({number}/{len(pages)})"
        table = Table(
            "Period",
            *(REGISTRY[k].label for k in page),
            title=title,
            caption=f"Amounts in {doc['currency']}; * a period the window covers in part; "
            "° an immature value (too recent to compare).",
            min_width=min(len(title), out.width),  # a last page of few columns: title unwrapped
        )
        for column in table.columns[1:]:
            column.justify = "right"
            column.max_width = SERIES_COLUMN
        for row in rows:
            label = f"{row['period_label']}{'*' if row['is_partial'] else ''}"
            locale = doc.get("locale", "en-US")
            values = (
                _series_value(row.get(k), REGISTRY[k].unit, locale)
                + ("°" if row.get(f"{k}_mature") is False and row.get(k) is not None else "")
                for k in page
            )
            table.add_row(label, *values)
        out.print(table)


def _series_value(value: Any, unit: str, locale: str = "en-US") -> str:
    return _format_value(value, unit, "", locale)


class ListChoice(StrEnum):
    """The account lists (``b2b_analysis.accounts.LISTS``; a test keeps them equal)."""

    reverted = "reverted"
    overdue = "overdue"
    lapsed = "lapsed"
    reactivated = "reactivated"
    adopters = "adopters"


class AccountsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


@app.command()
def accounts(
    params: Annotated[
        Path, typer.Argument(metavar="PARAMS", help="The client's params YAML file.")
    ],
    list_name: Annotated[
        ListChoice | None,
        typer.Option(
            "--list",
            metavar="NAME",
            help="reverted, overdue, lapsed, reactivated or adopters (required).",
            show_choices=False,
        ),
    ] = None,
    output_format: Annotated[
        AccountsFormat,
        typer.Option("--format", "-f", help="table, csv, json, or xlsx (needs --out)."),
    ] = AccountsFormat.table,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
    start: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="First day of the window.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(metavar="YYYY-MM-DD", help="Last day of the window, inclusive."),
    ] = None,
    period: Annotated[
        PeriodChoice | None,
        typer.Option(help="Period whose last one the lists look at (default: params)."),
    ] = None,
) -> None:
    """Print one list of accounts to call, sorted by revenue of the last 12 months."""
    from b2b_analysis import accounts as acc
    from b2b_analysis.config import load_params, parse_date
    from b2b_analysis.io import load_client

    if list_name is None:
        names = ", ".join(c.value for c in ListChoice)
        raise UsageError(f"Missing option '--list': name one of {names}")
    if output_format is AccountsFormat.xlsx and out is None:
        raise InputError("--format xlsx writes a workbook: give its file with --out FILE.xlsx")
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    loaded = load_params(params)
    data = load_client(loaded)
    found = acc.for_client(
        data, start=first, end=last, period=period.value if period else None,
        names=(list_name.value,),
    )  # fmt: skip
    name = list_name.value
    frame = found.frames[name]
    if output_format is AccountsFormat.xlsx:
        _emit(acc.xlsx_bytes({name: frame}, currency=found.currency), out)
    elif output_format is AccountsFormat.json:
        _emit(json.dumps(found.to_dict(name), indent=2, ensure_ascii=False) + "\n", out)
    elif output_format is AccountsFormat.csv:
        _emit(acc.csv_text(frame), out)
    else:
        _emit_table(_accounts_table(found, name), out)


def _emit(data: str | bytes, out: Path | None) -> None:
    """Write ``data`` to ``out`` (atomically) or, without it, to stdout."""
    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    write_atomic(out, data)
    _err().print(f"Wrote {out}", markup=False)


def _emit_table(table: Table, out: Path | None) -> None:
    """Print ``table`` at least as wide as its values need (a value is never cut short:
    a narrower terminal wraps the lines), to stdout or, as plain text, to ``out``."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(highlight=False) if out is None else Console(file=buffer, color_system=None)
    # each column: its width, a space of padding on either side and one between columns
    needed = sum((column.width or 0) + 3 for column in table.columns) + 1
    console.width = max(console.width, needed)
    console.print(table)
    if out is not None:
        _emit(buffer.getvalue(), out)


def _accounts_table(found: Any, name: str) -> Table:
    """One list for the terminal: the columns' labels, values by kind, ids escaped."""
    from rich.box import SIMPLE_HEAD
    from rich.markup import escape
    from rich.table import Table

    from b2b_analysis.accounts import COLUMNS, LISTS, STAKE, cell_text

    frame = found.frames[name]
    kinds = [COLUMNS[c][1] for c in frame.columns]
    table = Table(
        *(COLUMNS[c][0] for c in frame.columns),
        box=SIMPLE_HEAD,
        title=escape(
            f"{found.client} · {LISTS[name].title}: {LISTS[name].description} · "
            f"last period {found.last_period} · {found.start} to {found.end}"
        ),
        caption=f"{frame.height:,} account{'' if frame.height == 1 else 's'}, largest "
        f"{COLUMNS[STAKE][0].lower()} first; amounts in {escape(found.currency)}.",
    )
    cells = [
        [(escape if k == "text" else str)(cell_text(v, k)) for v, k in zip(row, kinds, strict=True)]
        for row in frame.iter_rows()
    ]
    for i, (column, kind) in enumerate(zip(table.columns, kinds, strict=True)):
        column.justify = "left" if kind in ("text", "date") else "right"
        column.overflow = "fold"
        # as wide as its longest value and longest header word: headers wrap, values never
        words = str(column.header).split()
        column.width = max([len(word) for word in words] + [len(row[i]) for row in cells])
    for row in cells:
        table.add_row(*row)
    return table


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Folder to write the tables into.")],
    profile: Annotated[ProfileChoice, typer.Option(help="Demo client profile.")] = (
        ProfileChoice.acme
    ),
    orders: Annotated[
        int, typer.Option(min=1000, metavar="N", help="Number of orders (1,000 or more).")
    ] = 50_000,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed; same seed, same files.")] = 0,
    file_format: Annotated[
        FileFormat | None,
        typer.Option("--format", help="csv or parquet (default: the profile's)."),
    ] = None,
    lines: Annotated[bool, typer.Option(help="Also write the order_lines table.")] = True,
    params_file: Annotated[
        Path | None,
        typer.Option(
            "--params", metavar="FILE", help="Also write a params YAML for the generated data."
        ),
    ] = None,
) -> None:
    """Write deterministic synthetic B2B data (orders, lines, visits, surveys, investments)."""
    from b2b_analysis import demo as gen

    name = profile.value
    fmt: Literal["csv", "parquet"] | None = None if file_format is None else file_format.value
    written = _generate_with_progress(
        out, profile=name, orders=orders, seed=seed, fmt=fmt, with_lines=lines
    )
    if params_file is not None:
        data_dir = Path(_relative(out, params_file.parent))
        write_atomic(
            params_file,
            gen.params_yaml(name, data_dir.as_posix(), fmt=fmt, with_lines=lines),
        )
        _err().print(f"Wrote {params_file}")
    for table, path in written.items():
        _err().print(f"Wrote {table}: {path}")


def _writable_folder(out: Path) -> None:
    """Refuse an ``--out`` that is a file or cannot be written, before any work is done."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is an existing file, not a folder; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".b2b-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"--out {out} is not a writable folder ({reason}); give another") from None


def _relative(target: Path, base: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), base.resolve())


def _generate_with_progress(out: Path, **kwargs: Any) -> dict[str, Path]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from b2b_analysis import demo as gen

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=_err(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"Generating {kwargs['profile']}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return gen.generate(out, progress=progress, **kwargs)


@app.command()
def report(
    params: Annotated[
        list[Path] | None,
        typer.Argument(metavar="PARAMS", help="Client params YAML files.", show_default=False),
    ] = None,
    all_clients: Annotated[
        bool, typer.Option("--all", help="Every *.yaml in --params-dir.")
    ] = False,
    params_dir: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder of the params files for --all.")
    ] = Path("params"),
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, metavar="N", help="Notebooks run in parallel (processes)."
        ),
    ] = 2,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Folder of the reports.")
    ] = Path("reports"),
    notebooks: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Folder of the report notebooks (default: the checkout's)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Run each client as a task on this Dask scheduler (tcp://HOST:PORT), or on "
            "local[:N] worker processes started for the run; see docs/cluster.md.",
        ),
    ] = None,
) -> None:
    """Run every notebook per client and write HTML reports into OUT/<slug>/ and OUT/index.html."""
    from rich.markup import escape

    _writable_folder(out)
    if scheduler is not None:  # a bad value is refused before anything runs
        from b2b_analysis.report.cluster import parse_scheduler

        parse_scheduler(scheduler)
    files = list(params or [])
    if all_clients:
        files += sorted(p for p in params_dir.glob("*.yaml") if p not in files)
    if not files:
        raise InputError("name at least one params file, or use --all")
    results = _run_reports(files, out=out, jobs=jobs, notebooks=notebooks, scheduler=scheduler)
    failed = [r for r in results if not r.ok]
    for r in results:  # names and paths are data: escaped, never read as console markup
        status = "[green]ok[/]" if r.ok else "[red]FAILED[/]"
        _err().print(f"{status} {escape(r.slug)}: {escape(str(r.out_dir))}/index.html", markup=True)
        for problem in r.problems():
            _err().print(f"    {problem}", markup=False)
        if not r.ok and r.worker:
            _err().print(f"    ran on worker {r.worker}", markup=False)
    _err().print(f"Portfolio: {out / 'index.html'}", markup=False)
    if failed:
        raise typer.Exit(1)


def _run_reports(
    files: list[Path], *, out: Path, jobs: int, notebooks: Path | None, scheduler: str | None
) -> list[Any]:
    """``run_reports`` with progress on stderr; Ctrl-C or SIGTERM stops it with one line
    saying what was finished, and the signal's exit code (130, 143)."""
    from b2b_analysis import report as rep
    from b2b_analysis.report.stopping import Interrupted, stop_on_signals

    with stop_on_signals() as stop, _progress() as on_step:
        try:
            return rep.run_reports(
                files,
                out_dir=out,
                jobs=jobs,
                notebooks_dir=notebooks,
                on_step=on_step,
                stop=stop,
                scheduler=scheduler,
            )
        except Interrupted as exc:
            interrupted = exc
    sys.stderr.write(interrupted.message() + "\n")
    raise typer.Exit(stop.exit_code)


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[Any], None]]:
    """What ``report`` calls after each finished step: with a terminal, a progress bar
    (failures printed above it); without one (CI, a log), the step's line, flushed."""
    if not _err().is_terminal:

        def line(step: Any) -> None:
            sys.stderr.write(step.line() + "\n")
            sys.stderr.flush()

        yield line
        return
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    text = (TextColumn("[bold]Reports"), *columns, TextColumn("{task.description}"))
    with Progress(*text, console=_err(), transient=False) as bar:
        task = bar.add_task("", total=None)

        def advance(step: Any) -> None:
            if step.problem:
                bar.console.print(step.line(), markup=False, highlight=False)
            description = escape(f"{step.slug}: {step.label}")  # names are data, not markup
            bar.update(task, completed=step.done, total=step.total, description=description)

        yield advance


@app.command()
def demo(
    params_dir: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder of the demo clients' params files.")
    ] = Path("params"),
    orders: Annotated[
        int, typer.Option(min=1000, metavar="N", help="Orders per demo client (1,000 or more).")
    ] = 40_000,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, metavar="N", help="Parallel notebooks.")
    ] = 2,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Folder of the reports.")
    ] = Path("reports"),
) -> None:
    """Generate the demo clients' data (deterministic), then run `report --all` on them."""
    from rich.markup import escape

    from b2b_analysis import demo as gen

    _writable_folder(out)
    files = []
    for slug in gen.DEMO_CLIENTS:
        target = params_dir / "data" / slug
        _generate_with_progress(
            target, profile=slug, orders=orders, seed=0, fmt=None, with_lines=True
        )
        params_file = params_dir / f"{slug}.yaml"
        if not params_file.exists():
            write_atomic(params_file, gen.params_yaml(slug, f"data/{slug}"))
        _err().print(f"[bold]{slug}[/]: data in {escape(str(target))}", markup=True)
        files.append(params_file)
    report(files, False, params_dir, jobs, out, None, None)


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def init(
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="The folder holding the client's export files.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="PARAMS.yaml",
            help="Where to write the proposal (default: FOLDER/params.yaml); in FOLDER or "
            "a folder above it.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing params file.")
    ] = False,
) -> None:
    """Propose a params file for the export files in FOLDER (CSV, Parquet, Excel)."""
    from b2b_analysis.onboard.proposal import propose, write_params_file

    target = out if out is not None else folder / "params.yaml"
    if target.exists() and not force and not target.is_dir():
        raise InputError(
            "the params file exists; use --force to replace it, or give another --out",
            file=target,
        )
    proposal = propose(folder, target)
    write_params_file(target, proposal.text, force=force)
    _err().print(f"Wrote {target}", markup=False)
    for table, (path, rows) in proposal.tables.items():
        _err().print(f"  {table}: {path} ({rows:,} rows)", markup=False, soft_wrap=False)
    for name, why in proposal.unused.items():
        _err().print(f"  not used: {name} ({why})", markup=False, soft_wrap=False)
    if proposal.todos:
        _err().print(f"{len(proposal.todos)} TODO(s) to settle in {target}:", markup=False)
        for todo in proposal.todos:
            _err().print(f"  {todo}", markup=False, soft_wrap=False)
    else:
        _err().print(f"Nothing to settle; run: b2b-analysis check {target}", markup=False)


@app.command()
def check(
    params: Annotated[
        Path, typer.Argument(metavar="PARAMS", help="The client's params YAML file.")
    ],
    output_format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="table: for a terminal; json: for machines."),
    ] = CheckFormat.table,
) -> None:
    """Load every table of a params file and report rows, refusals, dates and labels (no KPIs)."""
    from rich.console import Console

    from b2b_analysis.config import load_params
    from b2b_analysis.onboard.check import check_params, print_check

    result = check_params(load_params(params))
    if output_format is CheckFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        print_check(result, Console(highlight=False))
    for table in result.tables.values():
        if table.error is not None:
            sys.stderr.write(f"error: {table.error}\n")
    if not result.ok:
        raise typer.Exit(EXIT_INPUT)


def main() -> None:
    """Entry point: run the app, turning input errors into one line and exit code 2."""
    warnings.showwarning = _show_warning
    try:
        code = app(prog_name="b2b-analysis", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # no command: the overview
        sys.stdout.write(exc.format_message() + "\n")
        sys.exit(0)
    except UsageError as exc:  # a bad option or argument: one line, like bad data
        message = exc.format_message().replace("Value error, ", "").rstrip(".")
        where = f"; see '{exc.ctx.command_path} --help'" if exc.ctx else ""
        sys.stderr.write(f"error: {message}{where}\n")
        sys.exit(EXIT_INPUT)
    except typer.Abort:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: say so in one line unless debugging
        if os.environ.get("B2B_ANALYSIS_DEBUG"):
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc} (this is a bug in b2b-analysis; "
            "set B2B_ANALYSIS_DEBUG=1 to see the traceback)\n"
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
