"""Which file is which table, and which header is which canonical column.

The knowledge is one table of words, :data:`SYNONYMS`: per canonical column, the
header names exports use for it (English, German, Spanish, French, and the demo
clients' Swedish), most specific first. Headers are compared by :func:`header_key`
(accents, case, punctuation and a parenthesised unit dropped), and only exactly: a
header no list holds is left unmapped and said so, never guessed from a part of it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from b2b_analysis.schema import TABLES, WIDE_SURVEY_COLUMNS

#: canonical column -> header names that mean it, most specific first, comma-separated
#: ("date words" stands for the words any date column may be called)
_WORDS: dict[str, str] = {
    "order_id": "order, order id, order number, order no, auftragsnummer, auftragsnr, "
    "auftrag, bestellnummer, bestellnr, belegnummer, pedido, num pedido, numero pedido, "
    "n pedido, id pedido, commande, numero commande, no commande, n commande, id commande, "
    "ordernr",
    "customer_id": "customer, customer id, customer number, customer no, account, "
    "account id, client id, kundennummer, kundennr, kunde, kunden nr, debitor, "
    "debitorennummer, cliente, id cliente, codigo cliente, num cliente, client, "
    "numero client, code client, no client, kundnr, kund",
    "order_date": "order date, auftragsdatum, bestelldatum, belegdatum, fecha pedido, "
    "date commande, orderdatum, date words",
    "channel": "channel, sales channel, vertriebsweg, vertriebskanal, kanal, canal, "
    "canal venta, canal de venta, canal de vente",
    "revenue": "revenue, net revenue, net amount, amount, value, total, umsatz, "
    "nettoumsatz, betrag, nettobetrag, importe, importe neto, montant, montant ht, "
    "chiffre d'affaires, nettobelopp, belopp",
    "status": "status, order status, auftragsstatus, estado, statut",
    "lines": "lines, line count, positionen, anzahl positionen, lineas, lignes, nb lignes, "
    "antal rader",
    "cost": "cost, cogs, kosten, wareneinsatz, coste, costo, cout, kostnad",
    "location_id": "location, location id, standort, ubicacion, site",
    "contact_id": "contact, contact id, ansprechpartner, kontakt, contacto",
    "sku": "sku, item, article, product, artikelnummer, artikelnr, artikel, articulo, "
    "referencia, produit, reference",
    "category": "category, product group, kategorie, warengruppe, familia, categoria, "
    "categorie, famille, partida, posten, poste, kategori, varugrupp",
    "quantity": "quantity, qty, menge, anzahl, cantidad, quantite, antal",
    "line_revenue": "line revenue, line amount, positionswert, zeilenbetrag, importe linea, "
    "montant ligne, radbelopp",
    "visit_id": "visit id, visit, session, session id, sitzung, besuch, sesion, visite, id visite",
    "visit_start": "visit start, started, start, timestamp, zeitpunkt, beginn, inicio, "
    "debut, horodatage, date words",
    "response_date": "response date, answered, antwortdatum, fecha respuesta, date reponse, "
    "date words",
    "score": "score, rating, bewertung, punkte, puntuacion, note",
    "kind": "kind, type, question, survey, art, typ, frage, tipo, pregunta",
    "csat": "csat, satisfaction, zufriedenheit, kundenzufriedenheit, satisfaccion",
    "nps": "nps, recommendation, likelihood to recommend, weiterempfehlung, empfehlung, "
    "recomendacion, recommandation",
    "date": "investment date, buchungsdatum, date words",
    "amount": "amount, investment, spend, betrag, investition, importe, inversion, montant, "
    "investissement, belopp",
}
_DATE_WORDS = "date, datum, fecha"

#: canonical column -> header names that mean it, most specific first
SYNONYMS: dict[str, tuple[str, ...]] = {
    column: tuple(word.strip() for word in words.replace("date words", _DATE_WORDS).split(","))
    for column, words in _WORDS.items()
}

#: words in a file's name that say which table it is (used only to break a tie)
FILE_HINTS: dict[str, tuple[str, ...]] = {
    "orders": ("order", "auftr", "bestell", "pedido", "commande", "venta"),
    "order_lines": ("line", "position", "linea", "ligne", "rader"),
    "visits": ("visit", "session", "besuch", "visita", "weblog"),
    "surveys": ("survey", "umfrage", "encuesta", "enquete", "feedback", "nps", "csat"),
    "investments": ("invest", "inversion", "marketing", "budget"),
}


def header_key(name: str) -> str:
    """How a header is compared: a parenthesised or bracketed part (a unit, a scale)
    dropped, accents dropped, case folded, only letters and digits kept.

    >>> header_key("Auftrags-Nr."), header_key("Zufriedenheit (1-5)"), header_key("Coût")
    ('auftragsnr', 'zufriedenheit', 'cout')
    """
    bare = re.sub(r"[(\[][^)\]]*[)\]]", " ", name)
    folded = unicodedata.normalize("NFKD", bare.casefold())  # casefold: ß is ss
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode())


def _ranks(column: str) -> dict[str, int]:
    words = (column, *SYNONYMS.get(column, ()))
    ranks: dict[str, int] = {}
    for rank, word in enumerate(words):
        ranks.setdefault(header_key(word), rank)
    return ranks


@dataclass(frozen=True)
class TableGuess:
    """A file read as one table: canonical column -> the file's header."""

    table: str
    columns: dict[str, str]
    #: required columns no header was found for
    missing: tuple[str, ...]
    #: headers that map to no column of the table
    unread: tuple[str, ...] = field(default=())

    @property
    def score(self) -> tuple[float, int, int]:
        """How well the file fits: share of required columns found, how many the
        table requires (a more specific table first), columns found."""
        required = len(self.missing) + len(self.found_required)
        return (len(self.found_required) / required, required, len(self.columns))

    @property
    def found_required(self) -> tuple[str, ...]:
        return tuple(c for c in _required(self.table, self.columns) if c in self.columns)

    @property
    def wide(self) -> bool:
        """A survey export with one column per kind (csat, nps)."""
        return any(k in self.columns for k in WIDE_SURVEY_COLUMNS)


def _required(table: str, columns: dict[str, str]) -> tuple[str, ...]:
    if table == "surveys" and any(k in columns for k in WIDE_SURVEY_COLUMNS):
        wide = tuple(k for k in WIDE_SURVEY_COLUMNS if k in columns)
        return ("customer_id", "response_date", *wide)
    return TABLES[table].required


def match_columns(table: str, headers: list[str]) -> TableGuess:
    """The canonical columns of ``table`` found among ``headers``: each header to at
    most one column, the most specific synonym first.

    >>> g = match_columns("orders", ["Auftragsnummer", "Kunde", "Datum", "Umsatz", "Notiz"])
    >>> g.columns, g.missing, g.unread
    ({'order_id': 'Auftragsnummer', 'customer_id': 'Kunde', 'order_date': 'Datum', \
'revenue': 'Umsatz'}, ('channel',), ('Notiz',))
    """
    names = list(TABLES[table].names)
    if table == "surveys":
        names += list(WIDE_SURVEY_COLUMNS)
    keys = {header: header_key(header) for header in headers}
    pairs = sorted(
        (rank, index, column, header)
        for index, column in enumerate(names)
        for header, key in keys.items()
        if (rank := _ranks(column).get(key)) is not None
    )
    columns: dict[str, str] = {}
    for _, _, column, header in pairs:
        if column not in columns and header not in columns.values():
            columns[column] = header
    columns = {c: columns[c] for c in names if c in columns}  # in the table's order
    if table == "surveys" and any(k in columns for k in WIDE_SURVEY_COLUMNS):
        columns = {c: h for c, h in columns.items() if c not in ("score", "kind")}
    missing = tuple(c for c in _required(table, columns) if c not in columns)
    unread = tuple(h for h in headers if h not in columns.values())
    return TableGuess(table, columns, missing, unread)


def assign_tables(files: dict[str, list[str]]) -> tuple[dict[str, tuple[str, TableGuess]], dict]:
    """Which file is which table: ``(table -> (file, guess), file -> why unused)``.

    A file is a candidate for a table when every required column of the table is
    found, or (the missing ones left as TODOs) at least two are and the file's name
    says the table (``auftraege.csv``): a customer and a date alone do not make a
    visits table. The best fits are taken first (all required columns found,
    then the table that requires more, then more columns found, then a file name
    that says the table), each file and each table at most once.
    """
    candidates = []
    for name, headers in files.items():
        for table in TABLES:
            guess = match_columns(table, headers)
            hinted = any(word in name.lower() for word in FILE_HINTS[table])
            if not guess.missing or (hinted and len(guess.found_required) >= 2):
                candidates.append(((*guess.score, hinted), name, guess))
    candidates.sort(key=lambda item: item[0], reverse=True)
    chosen: dict[str, tuple[str, TableGuess]] = {}
    for _, name, guess in candidates:
        if guess.table not in chosen and name not in {f for f, _ in chosen.values()}:
            chosen[guess.table] = (name, guess)
    used = {f for f, _ in chosen.values()}
    unused = {name: _why_unused(name, chosen, candidates) for name in files if name not in used}
    return chosen, unused


def _why_unused(name: str, chosen: dict[str, tuple[str, TableGuess]], candidates: list) -> str:
    tables = [g.table for _, n, g in candidates if n == name]
    if not tables:
        return "its columns fit no table"
    return f"it also fits {tables[0]}, which {chosen[tables[0]][0]} fits better"
