"""The demo clients (*profiles*): how each one's exports look and how its customers behave.

>>> sorted(PROFILES) == sorted(DEMO_CLIENTS)
True
>>> PROFILES["iberia"].separator
';'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from b2b_analysis import schema

Format = Literal["csv", "parquet"]

#: Default analysis window of the demo; the generated history starts a year earlier.
DEFAULT_START = date(2023, 1, 1)
DEFAULT_END = date(2025, 12, 31)
#: Tables a profile may have besides orders (always) and order lines (when asked for).
OPTIONAL_TABLES = ("visits", "surveys", "investments")
#: Number of product categories every profile names (the catalogue's popularity
#: weights, in :mod:`b2b_analysis.demo.catalogue`, have one per category).
N_CATEGORIES = 12
#: How CSV files of a profile with ``timestamps`` write them: ISO 8601 with the UTC offset.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
#: Columns of the data contract that no demo client exports: the demo has no delivery
#: locations or contacts.
_NOT_EXPORTED: dict[str, tuple[str, ...]] = {"orders": ("location_id", "contact_id")}


@dataclass(frozen=True)
class Profile:
    """A made-up client: how its exports look and how its customers behave.

    Attributes
    ----------
    slug, client
        Short name (params ``slug``, output folder) and full company name.
    currency, timezone, fiscal_year_start, period, gross_margin, locale
        Written to the params file as they are. ``gross_margin`` is ``None`` for a
        profile whose orders carry a ``cost`` column.
    fmt
        The file format the client exports (used when
        :func:`~b2b_analysis.demo.generate` gets no ``fmt``).
    tables
        Optional tables the client has, out of visits, surveys and investments
        (orders always; order lines when asked for).
    columns
        ``{table: {canonical name: raw export name}}``; a column not listed keeps its
        canonical name.
    online_labels, offline_labels
        Raw channel labels with their relative weights.
    status_labels
        Raw labels of a placed, a cancelled and a returned order (the order of
        :data:`b2b_analysis.schema.STATUSES`).
    categories
        The 12 product category names.
    separator
        CSV field separator.
    timestamps
        Write ``order_date`` (and visit starts) as ISO timestamps with the UTC offset
        of ``timezone``, e.g. ``2024-03-05T10:12:00+01:00``, rather than ISO dates.
    cost_column, margin
        Whether orders carry a ``cost`` column; the mean gross margin behind it (and
        behind the investment scale).
    order_prefix, customer_prefix, visit_prefix, sku_prefix
        Id formats: prefix + zero-padded number (orders 8 digits, customers 6, visits
        9).
    aov
        Median base order value of a customer, in ``currency``.
    never_adopt, adoption_mid, adoption_spread, revert_share
        Share of customers who never order online; centre (days after ``start``) and
        spread (days) of the adoption S-curve; share of adopters who revert to offline.
    online_small, online_large
        After adoption, chance that an order below / above the customer's usual value
        is placed online.
    online_aov_factor, frequency_uplift
        Online orders are this much smaller; adopters order this much more often.
    lines_pre, lines_post
        Mean number of extra lines per order before / after adoption (cross-sell).
    browse_visits
        Visits without an order per online order.
    research_visits
        Share of offline orders looked up on the web shop first (a visit, no order).
    invest_ratio
        Total investments as a share of the online channel's gross margin.
    summer_month, summer_factor
        A month with less business (holidays) and its calendar weight.
    """

    slug: str
    client: str
    currency: str
    timezone: str
    fmt: Format
    tables: tuple[str, ...]
    columns: Mapping[str, Mapping[str, str]]
    online_labels: tuple[tuple[str, float], ...]
    offline_labels: tuple[tuple[str, float], ...]
    status_labels: tuple[str, str, str]
    categories: tuple[str, ...]
    separator: str = ","
    timestamps: bool = False
    fiscal_year_start: int = 1
    period: Literal["week", "month", "quarter"] = "month"
    gross_margin: float | None = 0.3
    #: the params file's ``locale``: how the client's report writes numbers and dates
    locale: str = "en-US"
    cost_column: bool = False
    margin: float = 0.3
    order_prefix: str = "A-"
    customer_prefix: str = "C-"
    visit_prefix: str = "V-"
    sku_prefix: str = "SKU-"
    aov: float = 450.0
    never_adopt: float = 0.25
    adoption_mid: int = 365
    adoption_spread: float = 120.0
    revert_share: float = 0.1
    online_small: float = 0.9
    online_large: float = 0.6
    online_aov_factor: float = 0.72
    frequency_uplift: float = 1.35
    lines_pre: float = 1.6
    lines_post: float = 2.5
    browse_visits: float = 3.0
    research_visits: float = 0.12
    invest_ratio: float = 0.3
    summer_month: int | None = None
    summer_factor: float = 1.0

    def __post_init__(self) -> None:
        if len(self.categories) != N_CATEGORIES:
            raise ValueError(f"profile {self.slug}: give {N_CATEGORIES} categories")
        unknown = set(self.tables) - set(OPTIONAL_TABLES)
        if unknown:
            raise ValueError(f"profile {self.slug}: unknown table(s) {sorted(unknown)}")
        if self.cost_column == (self.gross_margin is not None):
            raise ValueError(f"profile {self.slug}: give either cost_column or gross_margin")

    def raw(self, table: str, column: str) -> str:
        """The client's export name of a canonical column."""
        return self.columns.get(table, {}).get(column, column)

    def written_tables(self, with_lines: bool = True) -> tuple[str, ...]:
        """Tables the client's data set has: orders, order lines (with ``with_lines``),
        then its optional tables.

        >>> PROFILES["nordic"].written_tables(with_lines=False)
        ('orders', 'investments')
        """
        return ("orders", *(["order_lines"] if with_lines else []), *self.tables)

    def written_columns(self, table: str) -> tuple[str, ...]:
        """Canonical columns the client's export of ``table`` has, in file order.

        The columns of the data contract (:data:`b2b_analysis.schema.TABLES`), in its
        order, less those no demo client exports, and ``cost`` only with
        ``cost_column``.

        >>> PROFILES["acme"].written_columns("orders")
        ('order_id', 'customer_id', 'order_date', 'channel', 'revenue', 'status', 'lines')
        >>> PROFILES["nordic"].written_columns("orders")[-2:]
        ('lines', 'cost')
        """
        skipped = set(_NOT_EXPORTED.get(table, ()))
        if table == "orders" and not self.cost_column:
            skipped.add("cost")
        return tuple(c for c in schema.TABLES[table].names if c not in skipped)

    def status_label(self, status: str) -> str:
        """The client's raw label of a contract status (:data:`b2b_analysis.schema.STATUSES`).

        >>> PROFILES["iberia"].status_label("returned")
        'devuelto'
        """
        return self.status_labels[schema.STATUSES.index(status)]

    @property
    def online(self) -> tuple[str, ...]:
        """Raw online channel labels."""
        return tuple(label for label, _ in self.online_labels)

    @property
    def offline(self) -> tuple[str, ...]:
        """Raw offline channel labels."""
        return tuple(label for label, _ in self.offline_labels)


PROFILES: dict[str, Profile] = {
    "acme": Profile(
        slug="acme",
        client="Acme Industrial Supply",
        currency="USD",
        timezone="UTC",
        fmt="csv",
        tables=("visits", "surveys", "investments"),
        columns={},
        online_labels=(("Web Shop", 0.8), ("Portal", 0.2)),
        offline_labels=(("Sales Rep", 0.45), ("Phone", 0.35), ("EDI", 0.2)),
        status_labels=("Completed", "Cancelled", "Returned"),
        categories=(
            "Fasteners",
            "Hand Tools",
            "Power Tools",
            "Abrasives",
            "Adhesives & Sealants",
            "Safety & PPE",
            "Electrical",
            "Plumbing",
            "Hydraulics",
            "Lubricants",
            "Janitorial",
            "Packaging",
        ),
        gross_margin=0.3,
        margin=0.3,
        order_prefix="A-",
        customer_prefix="C-",
        visit_prefix="V-",
        sku_prefix="AC-",
        aov=450.0,
        never_adopt=0.15,
        adoption_mid=90,
        adoption_spread=75.0,
        revert_share=0.06,
        online_small=0.93,
        online_large=0.78,
        browse_visits=2.6,
        invest_ratio=0.35,
    ),
    "iberia": Profile(
        slug="iberia",
        client="Distribuciones Ibéricas S.L.",
        currency="EUR",
        timezone="Europe/Madrid",
        locale="es-ES",
        fmt="csv",
        tables=("visits", "surveys", "investments"),
        columns={
            "orders": {
                "order_id": "pedido",
                "customer_id": "cliente",
                "order_date": "fecha",
                "channel": "canal",
                "revenue": "importe",
                "status": "estado",
                "lines": "lineas",
            },
            "order_lines": {
                "order_id": "pedido",
                "sku": "articulo",
                "category": "familia",
                "quantity": "cantidad",
                "line_revenue": "importe_linea",
            },
            "visits": {"visit_id": "sesion", "customer_id": "cliente", "visit_start": "inicio"},
            "surveys": {
                "customer_id": "cliente",
                "response_date": "fecha_respuesta",
                "score": "puntuacion",
                "kind": "tipo",
            },
            "investments": {"date": "fecha", "amount": "importe", "category": "partida"},
        },
        online_labels=(("Tienda online", 1.0),),
        offline_labels=(("Comercial", 0.5), ("Teléfono", 0.35), ("Email", 0.15)),
        status_labels=("servido", "anulado", "devuelto"),
        categories=(
            "Tornillería",
            "Herramienta manual",
            "Herramienta eléctrica",
            "Abrasivos",
            "Adhesivos y selladores",
            "Protección laboral",
            "Material eléctrico",
            "Fontanería",
            "Hidráulica",
            "Lubricantes",
            "Limpieza",
            "Embalaje",
        ),
        separator=";",
        timestamps=True,
        gross_margin=0.22,
        margin=0.22,
        order_prefix="PV-",
        customer_prefix="CLI-",
        visit_prefix="S-",
        sku_prefix="REF-",
        aov=380.0,
        never_adopt=0.45,
        adoption_mid=640,
        adoption_spread=220.0,
        revert_share=0.3,
        online_small=0.8,
        online_large=0.45,
        online_aov_factor=0.78,
        frequency_uplift=1.2,
        lines_post=2.2,
        browse_visits=4.0,
        invest_ratio=0.7,
        summer_month=8,
        summer_factor=0.45,
    ),
    "nordic": Profile(
        slug="nordic",
        client="Nordic Fasteners AB",
        currency="SEK",
        timezone="Europe/Stockholm",
        locale="de-DE",
        fmt="parquet",
        tables=("investments",),
        columns={
            "orders": {
                "order_id": "ordernr",
                "customer_id": "kundnr",
                "order_date": "orderdatum",
                "channel": "kanal",
                "revenue": "nettobelopp",
                "status": "status",
                "lines": "antal_rader",
                "cost": "kostnad",
            },
            "order_lines": {
                "order_id": "ordernr",
                "sku": "artikelnr",
                "category": "varugrupp",
                "quantity": "antal",
                "line_revenue": "radbelopp",
            },
            "investments": {"date": "datum", "amount": "belopp", "category": "kategori"},
        },
        online_labels=(("Webbshop", 0.85), ("B2B-portal", 0.15)),
        offline_labels=(("Säljare", 0.4), ("Telefon", 0.25), ("EDI", 0.35)),
        status_labels=("Levererad", "Makulerad", "Returnerad"),
        categories=(
            "Skruv",
            "Mutter",
            "Bult",
            "Bricka",
            "Nit",
            "Ankare",
            "Handverktyg",
            "Elverktyg",
            "Lim och tätning",
            "Skyddsutrustning",
            "Förbrukning",
            "Förpackning",
        ),
        fiscal_year_start=7,
        period="quarter",
        gross_margin=None,
        cost_column=True,
        margin=0.34,
        order_prefix="SO",
        customer_prefix="K",
        visit_prefix="W",
        sku_prefix="ART-",
        aov=5200.0,
        never_adopt=0.3,
        adoption_mid=365,
        adoption_spread=160.0,
        revert_share=0.12,
        online_small=0.88,
        online_large=0.55,
        lines_pre=2.2,
        lines_post=3.0,
        invest_ratio=0.45,
        summer_month=7,
        summer_factor=0.5,
    ),
}

#: The clients of the demo, in the order it shows them.
DEMO_CLIENTS: tuple[str, ...] = ("acme", "iberia", "nordic")


def get_profile(name: str) -> Profile:
    """The profile called ``name``.

    Raises
    ------
    ValueError
        For a name that is not a key of :data:`PROFILES`.

    >>> get_profile("nordic").currency
    'SEK'
    """
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}; choose one of {', '.join(sorted(PROFILES))}"
        ) from None
