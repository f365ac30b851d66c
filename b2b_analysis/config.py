"""The client params file: one YAML per client, validated.

See ``docs/params.md`` for the reference of every key. The model is strict:
an unknown key is an error that names it, so a typo never passes silently.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from b2b_analysis.errors import InputError
from b2b_analysis.schema import TABLES, WIDE_SURVEY_COLUMNS

if TYPE_CHECKING:  # periods imports Period from here
    from b2b_analysis.periods import Calendar

Period = Literal["week", "month", "quarter"]

#: Raw channel labels counted as online unless the params say otherwise
#: (compared trimmed and case-insensitively).
DEFAULT_ONLINE_LABELS: tuple[str, ...] = (
    "online",
    "web",
    "webshop",
    "web shop",
    "e-shop",
    "eshop",
    "ecommerce",
    "e-commerce",
    "portal",
    "b2b portal",
    "app",
)
#: Raw channel labels counted as offline unless the params say otherwise.
DEFAULT_OFFLINE_LABELS: tuple[str, ...] = (
    "offline",
    "phone",
    "telephone",
    "email",
    "e-mail",
    "fax",
    "edi",
    "sales rep",
    "sales_rep",
    "field sales",
    "rep",
    "counter",
    "store",
    "showroom",
    "in person",
    "trade show",
)
#: A slug names a folder: never a path, never hidden.
SLUG_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
#: Raw status labels of orders that were placed and count (open and pending ones too).
DEFAULT_PLACED_LABELS: tuple[str, ...] = (
    "placed",
    "new",
    "open",
    "pending",
    "processing",
    "in progress",
    "confirmed",
    "accepted",
    "approved",
    "backordered",
    "partially shipped",
    "shipped",
    "dispatched",
    "in transit",
    "delivered",
    "completed",
    "complete",
    "fulfilled",
    "invoiced",
    "billed",
    "paid",
    "closed",
)
#: Raw status labels of cancelled orders.
DEFAULT_CANCELLED_LABELS: tuple[str, ...] = ("cancelled", "canceled", "void", "voided")
#: Raw status labels of returned orders (a credit note's negative revenue is allowed).
DEFAULT_RETURNED_LABELS: tuple[str, ...] = (
    "returned",
    "refunded",
    "credit note",
    "credit memo",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: The column loading numbers the rows in (an export's own column of that name is not read).
ROW_COLUMN = "_row"


def _polars_zone(name: str) -> None:
    """``ValueError`` unless polars knows the time zone ``name`` too (the system's zone
    files have some it does not: ``posix/...``, ``right/...``, ``localtime``)."""
    import polars as pl

    try:
        pl.select(pl.lit(dt.datetime(2000, 1, 1)).dt.replace_time_zone(name))
    except pl.exceptions.PolarsError:
        raise ValueError(name) from None


class Source(_Strict):
    """Where one table comes from: a file, or a SQL query against PostgreSQL."""

    path: str | None = None
    sheet: str | int | None = None
    query: str | None = None
    connection_env: str | None = None
    #: canonical column name -> column name in the source
    columns: dict[str, str] = Field(default_factory=dict)
    #: strftime format of the date columns, when it cannot be inferred
    date_format: str | None = None
    #: the marks numbers are written with (CSV, and text cells of Excel)
    decimal: Literal[".", ","] = "."
    thousands: Literal[",", ".", " ", "'", "\u00a0"] | None = None
    #: CSV only
    separator: str = ","
    encoding: Literal[
        "utf8", "utf8-lossy", "latin-1", "cp1252", "utf-16", "utf-16le", "utf-16be"
    ] = "utf8"
    #: CSV only: lines above the header (a title, an export date) to skip
    skip_rows: int = Field(default=0, ge=0)

    @field_validator("columns")
    @classmethod
    def _not_row_numbers(cls, value: dict[str, str]) -> dict[str, str]:
        for canonical, raw in value.items():
            if raw == ROW_COLUMN:
                raise ValueError(
                    f"{canonical}: {ROW_COLUMN!r} is the name loading gives the rows' "
                    "numbers, so a column of the export with that name is not read: "
                    "rename it in the export"
                )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if (self.path is None) == (self.query is None):
            raise ValueError("give exactly one of 'path' or 'query'")
        if self.query is not None and not self.connection_env:
            raise ValueError(
                "a 'query' source needs 'connection_env', the environment "
                "variable that holds the PostgreSQL connection string"
            )
        if self.path is not None and self.connection_env is not None:
            raise ValueError("'connection_env' only applies to a 'query' source")
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands are both {self.decimal!r}")
        if (
            self.sheet is not None
            and self.path is not None
            and not self.path.lower().endswith((".xlsx", ".xlsm", ".xls"))
        ):
            raise ValueError("'sheet' only applies to an Excel file")
        return self

    @property
    def wide_columns(self) -> dict[str, str]:
        """Survey kind -> the column holding that kind's scores, for a wide survey export."""
        return {k: v for k, v in self.columns.items() if k in WIDE_SURVEY_COLUMNS}

    @property
    def kind(self) -> Literal["csv", "parquet", "excel", "postgres"]:
        if self.query is not None:
            return "postgres"
        assert self.path is not None
        suffix = self.path.lower().rsplit(".", 1)[-1]
        if suffix in ("parquet", "pq"):
            return "parquet"
        if suffix in ("xlsx", "xlsm", "xls"):
            return "excel"
        return "csv"


def _coerce_source(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class Data(_Strict):
    orders: Source
    order_lines: Source | None = None
    visits: Source | None = None
    surveys: Source | None = None
    investments: Source | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _path_shorthand(cls, value: Any) -> Any:
        return _coerce_source(value)

    @model_validator(mode="after")
    def _known_columns(self) -> Data:
        for name in type(self).model_fields:
            source: Source | None = getattr(self, name)
            if source is None:
                continue
            known = TABLES[name].names + (WIDE_SURVEY_COLUMNS if name == "surveys" else ())
            unknown = sorted(set(source.columns) - set(known))
            if unknown:
                raise ValueError(
                    f"{name}.columns maps unknown canonical column(s) {unknown}; "
                    f"known: {list(known)}"
                )
        wide = self.surveys is not None and set(self.surveys.columns) & set(WIDE_SURVEY_COLUMNS)
        if wide and self.surveys and {"score", "kind"} & set(self.surveys.columns):
            raise ValueError(
                "surveys.columns maps both 'score'/'kind' (one response per row) and "
                "'csat'/'nps' (one column per kind): map one form or the other"
            )
        return self


def label_key(label: str) -> str:
    """How a raw label is compared: trimmed and case-insensitive.

    >>> label_key("  Web Shop ")
    'web shop'
    """
    return label.strip().lower()


def _is_labels(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


class _LabelMap(_Strict):
    """Lists of raw labels, one per class, that extend built-in lists.

    A list given in the params file is added to the built-in labels of its class
    (``defaults: extend``, the default); a label the file lists in one class is
    taken out of the built-in labels of every other class, so the file always wins.
    ``defaults: replace`` drops the built-in labels: only the labels the file
    lists are known. After validation each field holds the labels in effect.
    """

    #: class name -> its built-in labels
    _builtin: ClassVar[dict[str, tuple[str, ...]]] = {}

    defaults: Literal["extend", "replace"] = "extend"

    @model_validator(mode="before")
    @classmethod
    def _extend_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("defaults") == "replace":
            return {name: () for name in cls._builtin} | data
        given = [name for name in cls._builtin if name in data]
        lists = {name: data[name] for name in given if _is_labels(data[name])}
        if data.get("defaults", "extend") != "extend" or len(lists) < len(given):
            return data  # a bad value: the fields' own validation names it
        listed = {label_key(label) for labels in lists.values() for label in labels}
        extended = dict(data)
        for name, builtin in cls._builtin.items():
            more = [label for label in builtin if label_key(label) not in listed]
            extended[name] = (*lists.get(name, ()), *more)
        return extended

    @model_validator(mode="after")
    def _disjoint(self) -> Self:
        owner: dict[str, str] = {}
        for name in self._builtin:
            for label in getattr(self, name):
                other = owner.setdefault(label_key(label), name)
                if other != name:
                    raise ValueError(f"label {label!r} is listed under both {other} and {name}")
        return self

    def classes(self) -> dict[str, tuple[str, ...]]:
        """Each class with its labels in effect."""
        return {name: getattr(self, name) for name in self._builtin}


class Channels(_LabelMap):
    """Which raw channel labels count as online and which as offline.

    >>> Channels(online=["Tienda online"]).online[:3]
    ('Tienda online', 'online', 'web')
    >>> "phone" in Channels(online=["Phone"]).offline
    False
    >>> Channels(online=["Tienda online"], defaults="replace").offline
    ()
    """

    _builtin: ClassVar[dict[str, tuple[str, ...]]] = {
        "online": DEFAULT_ONLINE_LABELS,
        "offline": DEFAULT_OFFLINE_LABELS,
    }

    online: tuple[str, ...] = DEFAULT_ONLINE_LABELS
    offline: tuple[str, ...] = DEFAULT_OFFLINE_LABELS
    #: what a label in neither list counts as; ``error`` stops with the list of them
    unmapped: Literal["error", "online", "offline"] = "error"


class Statuses(_LabelMap):
    """Which raw status labels mean placed, cancelled or returned.

    >>> Statuses(cancelled=["storniert"], placed=["fakturiert"]).cancelled
    ('storniert', 'cancelled', 'canceled', 'void', 'voided')
    """

    _builtin: ClassVar[dict[str, tuple[str, ...]]] = {
        "placed": DEFAULT_PLACED_LABELS,
        "cancelled": DEFAULT_CANCELLED_LABELS,
        "returned": DEFAULT_RETURNED_LABELS,
    }

    placed: tuple[str, ...] = DEFAULT_PLACED_LABELS
    cancelled: tuple[str, ...] = DEFAULT_CANCELLED_LABELS
    returned: tuple[str, ...] = DEFAULT_RETURNED_LABELS
    #: what a label in no list (or an empty status) counts as; ``error`` stops with them
    unmapped: Literal["error", "placed"] = "error"


def parse_date(value: str | dt.date | None, name: str) -> dt.date | None:
    """A window end given on the command line or as a notebook parameter.

    ``None`` stays open; a date is kept; text must be ``YYYY-MM-DD``.

    >>> parse_date("2024-02-29", "start"), parse_date(None, "end")
    (datetime.date(2024, 2, 29), None)
    >>> parse_date("29.02.2024", "start")
    Traceback (most recent call last):
    ...
    b2b_analysis.errors.InputError: start must be a date as YYYY-MM-DD, not '29.02.2024'
    """
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None


class Window(_Strict):
    """The analysis window, both ends inclusive; open ends take whole periods of the data.

    The one place a window is resolved: the params file's ``window`` is
    overridden end by end (:meth:`override`, from the command line or a notebook's
    parameters), then its open ends are closed by the orders' range, widened to
    whole periods (:meth:`over`).

    >>> from b2b_analysis.periods import Calendar
    >>> w = Window(start=dt.date(2024, 1, 1)).override(end="2024-06-30")
    >>> w.over(dt.date(2023, 5, 2), dt.date(2025, 1, 9), Calendar("month"))
    (datetime.date(2024, 1, 1), datetime.date(2024, 6, 30))
    >>> Window().over(dt.date(2023, 5, 2), dt.date(2025, 1, 9), Calendar("quarter"))
    (datetime.date(2023, 4, 1), datetime.date(2025, 3, 31))
    """

    start: dt.date | None = None
    end: dt.date | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                shaped = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip())
                why = f" ({exc})" if shaped else ""
                raise ValueError(f"{value!r} is not a date{why}; write it as YYYY-MM-DD") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start and self.end and self.start > self.end:
            raise ValueError(
                f"start {self.start} is after end {self.end}; window.start must not be "
                "after window.end"
            )
        return self

    def override(
        self, start: str | dt.date | None = None, end: str | dt.date | None = None
    ) -> Window:
        """This window with the ends that are given replaced (text parsed as ISO dates)."""
        lo, hi = parse_date(start, "start"), parse_date(end, "end")
        return Window.model_construct(start=lo or self.start, end=hi or self.end)

    def over(self, first: dt.date, last: dt.date, calendar: Calendar) -> tuple[dt.date, dt.date]:
        """The closed window: an open start is the first day of the period (of the
        ``calendar``) holding ``first`` (the first order), an open end the last day of
        the period holding ``last`` (the last order), so the first and last periods are
        whole."""
        lo = self.start or calendar.bounds(first)[0]
        hi = self.end or calendar.bounds(last)[1]
        if lo > hi:
            raise InputError(f"the analysis window starts ({lo}) after it ends ({hi})")
        return lo, hi


class Maturity(_Strict):
    """When a recent period or cohort has had enough time to be compared (right-censoring).

    ``follow_up``: the days of follow-up a value needs, ``median_reorder`` (the default:
    the customers' median interval between consecutive order days) or a whole number of
    days. How each KPI measures its follow-up is its registry entry
    (:attr:`b2b_analysis.registry.Kpi.maturity`; see ``docs/kpis.md``, *Maturity*).

    >>> Maturity().follow_up, Maturity(follow_up=45).follow_up
    ('median_reorder', 45)
    """

    follow_up: Literal["median_reorder"] | int = "median_reorder"

    @field_validator("follow_up", mode="before")
    @classmethod
    def _rule(cls, value: Any) -> Any:
        whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        if value == "median_reorder" or whole:
            return value
        raise ValueError(
            f"{value!r} is not a follow-up rule: write median_reorder or a whole number "
            "of days (0 or more)"
        )


class Overdue(_Strict):
    """When an account counts as overdue (the ``overdue`` list of ``b2b-analysis accounts``):
    at least ``min_order_days`` distinct order days in the window, and more than
    ``factor`` times its median gap between consecutive order days since its last one."""

    min_order_days: int = Field(default=3, ge=2)
    factor: float = Field(default=2.0, ge=1)


class ClientParams(_Strict):
    client: str = Field(min_length=1, max_length=200)
    slug: str | None = None
    data: Data
    gross_margin: float | None = Field(default=None, ge=0, le=1)
    channels: Channels = Channels()
    statuses: Statuses = Statuses()
    window: Window = Window()
    period: Period = "month"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    #: number, date and currency formats and the report's language (b2b_analysis.i18n)
    locale: str = "en-US"
    fiscal_year_start: int = Field(default=1, ge=1, le=12)
    timezone: str = "UTC"
    #: orders below this net value count as small; default: the median order value
    small_order_threshold: float | None = Field(default=None, gt=0)
    #: minutes the sales team spends on one offline order (sales effort freed, bridge.py)
    offline_order_minutes: float = Field(default=10.0, gt=0, le=480)
    #: right-censoring: the follow-up a recent period needs before it is compared
    maturity: Maturity = Maturity()
    overdue: Overdue = Overdue()

    @field_validator("slug")
    @classmethod
    def _folder_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(SLUG_PATTERN, value):
            raise ValueError(
                f"{value!r} cannot name the client's report folder: use 1 to 64 lower-case "
                "letters, digits, '-' or '_', starting with a letter or digit"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
            _polars_zone(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as 'Europe/Madrid')"
            ) from None
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        from b2b_analysis.i18n import check_locale

        return check_locale(value)

    @property
    def client_slug(self) -> str:
        return self.slug or slugify(self.client)


class LoadedParams(BaseModel):
    """A validated params file together with where it was read from."""

    model_config = ConfigDict(frozen=True)

    path: Path
    params: ClientParams

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, table: str) -> Path:
        """Absolute path of a file source; it must stay inside the params file's folder."""
        source: Source | None = getattr(self.params.data, table)
        assert source is not None and source.path is not None
        raw = Path(source.path)
        if raw.is_absolute():
            raise InputError(
                f"data.{table}.path is absolute ({source.path}); give it relative to "
                "the params file's folder",
                file=self.path,
            )
        base = self.base_dir.resolve()
        resolved = (base / raw).resolve()
        if not resolved.is_relative_to(base):
            raise InputError(
                f"data.{table}.path '{source.path}' points outside the params file's "
                f"folder {base}; move the data inside it",
                file=self.path,
            )
        return resolved

    def connection_string(self, table: str) -> str:
        source: Source | None = getattr(self.params.data, table)
        assert source is not None and source.connection_env is not None
        value = os.environ.get(source.connection_env)
        if not value:
            raise InputError(
                f"data.{table}.connection_env names the environment variable "
                f"{source.connection_env}, which is not set; export the PostgreSQL "
                "connection string in it",
                file=self.path,
            )
        return value


def slugify(text: str) -> str:
    """A file-name-safe slug: lower-case ASCII letters, digits and hyphens.

    >>> slugify("Distribuciones Ibéricas, S.L.")
    'distribuciones-ibericas-s-l'
    >>> slugify("../../etc")
    'etc'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:64].strip("-") or "client"


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(p) for p in error["loc"] if not str(p).startswith("function-"))
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling against docs/params.md)"
    elif error["type"] == "missing":
        message = "required key is missing"
    return f"{where}: {message}" if where else message


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error
    (the safe loader keeps the last value silently, so a typo would pass)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            line = key_node.start_mark.line + 1
            if isinstance(key, list | dict):
                continue  # unhashable: the model rejects it with its own message
            if key in first:
                lines = f"line {line}" if first[key] == line else f"lines {first[key]} and {line}"
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is given twice ({lines}); keep one",
                    key_node.start_mark,
                )
            first[key] = line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date-like value that is no date (2024-02-30) stays text, so that the key
        holding it is named when the params are validated."""
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[no-untyped-call]
        except ValueError:
            return self.construct_scalar(node)


_UniqueKeyLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_yaml_timestamp
)


def _read_yaml(text: str, file: Path) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if problem.startswith("key "):
            raise InputError(problem, file=file) from None
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"malformed YAML{where}: {problem}", file=file) from None


def load_params(path: str | os.PathLike[str]) -> LoadedParams:
    """Read and validate one client params file.

    Raises
    ------
    InputError
        When the file is missing, is not valid YAML, gives a key twice, or a key is
        unknown or invalid; the message names the file and the key at fault.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("params file not found", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read params file: {exc}", file=file) from None
    raw = _read_yaml(text, file)
    if not isinstance(raw, dict):
        raise InputError("a params file must be a YAML mapping of keys to values", file=file)
    try:
        params = ClientParams.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise InputError(problems, file=file) from None
    return LoadedParams(path=file.resolve(), params=params)
