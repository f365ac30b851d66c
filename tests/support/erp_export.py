"""A German wholesaler's exports, as its ERP and its survey tool write them.

Issue 10's *Why*: the orders from the ERP are semicolon-separated cp1252 text with
decimal commas and thousands dots, dd.mm.yyyy dates, German headers and German
status and channel labels; returns are booked with a minus sign (credit notes);
free-text remarks hold the separator inside quotes. The survey tool writes UTF-8
with a byte-order mark, commas, ISO timestamps and one column per question (CSAT
1-5, NPS 0-10), a cell left empty where the customer skipped the question. The
investments are booked on 1 January (and 1 July), so every date of that file has
day and month 12 or less: its day/month order cannot be told from the values.

:func:`write_erp_export` writes the three files; :data:`HAND_WRITTEN_PARAMS` is
the params file a consultant writes for them (no file rewritten); :func:`move_label`
edits a proposal of ``init`` as a person classifying a label would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

ORDERS_FILE = "auftraege.csv"
SURVEYS_FILE = "umfrage_export.csv"
INVESTMENTS_FILE = "investitionen.csv"

ORDER_HEADER = (
    "Auftragsnummer",
    "Kundennummer",
    "Auftragsdatum",
    "Vertriebsweg",
    "Umsatz",
    "Status",
    "Bemerkung",
)
#: channel label -> online?
CHANNELS = {"Webshop": True, "Außendienst": False, "Telefon": False, "EDI": False}
#: status label -> placed / cancelled / returned
STATUSES = {
    "fakturiert": "placed",
    "offen": "placed",
    "storniert": "cancelled",
    "retoure": "returned",
}
SURVEY_HEADER = ("Kundennummer", "Antwortdatum", "Zufriedenheit (1-5)", "Weiterempfehlung (0-10)")
INVESTMENT_HEADER = ("Datum", "Betrag", "Kategorie")
GROSS_MARGIN = 0.25

#: the params a consultant writes for these files by hand
HAND_WRITTEN_PARAMS = f"""\
client: Müller Großhandel GmbH
data:
  orders:
    path: {ORDERS_FILE}
    separator: ';'
    encoding: cp1252
    decimal: ','
    thousands: '.'
    date_format: '%d.%m.%Y'
    columns:
      order_id: Auftragsnummer
      customer_id: Kundennummer
      order_date: Auftragsdatum
      channel: Vertriebsweg
      revenue: Umsatz
      status: Status
  surveys:
    path: {SURVEYS_FILE}
    columns:
      customer_id: Kundennummer
      response_date: Antwortdatum
      csat: Zufriedenheit (1-5)
      nps: Weiterempfehlung (0-10)
  investments:
    path: {INVESTMENTS_FILE}
    separator: ';'
    encoding: cp1252
    decimal: ','
    thousands: '.'
    date_format: '%d.%m.%Y'
    columns:
      date: Datum
      amount: Betrag
      category: Kategorie
gross_margin: {GROSS_MARGIN}
channels:
  online: [Webshop]
  offline: [Außendienst, Telefon, EDI]
statuses:
  placed: [fakturiert, offen]
  cancelled: [storniert]
  returned: [retoure]
"""


def german_number(value: float) -> str:
    """``1234.5`` as ``1.234,50``.

    >>> german_number(-1234567.5), german_number(12.0)
    ('-1.234.567,50', '12,00')
    """
    return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _text(header: tuple[str, ...], rows: list[tuple[str, ...]], separator: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def order_rows(orders: int, seed: int) -> list[tuple[str, ...]]:
    """The ERP's order rows: a year (2024) of orders from 200 customers."""
    rng = random.Random(seed)
    customers = [f"K{10000 + i}" for i in range(200)]
    first = dt.date(2024, 1, 3)
    rows = []
    for number in range(orders):
        day = first + dt.timedelta(days=rng.randrange(362))
        channel = rng.choices(list(CHANNELS), weights=[5, 3, 2, 1])[0]
        status = rng.choices(list(STATUSES), weights=[80, 6, 8, 6])[0]
        amount = round(rng.lognormvariate(6.5, 1.1), 2)
        if status == "retoure" and rng.random() < 0.5:
            amount = -amount  # a credit note
        remark = rng.choice(["", "", "", "Sonderpreis; Skonto 2%", "Rückfrage Lager"])
        rows.append(
            (
                f"A-{2024000 + number}",
                rng.choice(customers),
                day.strftime("%d.%m.%Y"),
                channel,
                german_number(amount),
                status,
                remark,
            )
        )
    rows[0] = (rows[0][0], rows[0][1], first.strftime("%d.%m.%Y"), *rows[0][3:])
    return rows


def survey_rows(seed: int) -> list[tuple[str, ...]]:
    """One row per reply; a skipped question is an empty cell (one reply skipped both)."""
    rng = random.Random(seed + 1)
    rows = []
    for i in range(300):
        moment = dt.datetime(2024, 1, 2, 9) + dt.timedelta(hours=rng.randrange(24 * 360))
        csat = str(rng.randint(1, 5)) if rng.random() < 0.8 else ""
        nps = str(rng.randint(0, 10)) if rng.random() < 0.7 else ""
        rows.append((f"K{10000 + i % 200}", moment.strftime("%Y-%m-%d %H:%M:%S"), csat, nps))
    rows[5] = (*rows[5][:2], "", "")
    return rows


def investment_rows() -> list[tuple[str, ...]]:
    return [
        ("01.01.2024", german_number(18_500.0), "Webshop-Lizenz"),
        ("01.01.2024", german_number(7_250.5), "Online-Marketing"),
        ("01.07.2024", german_number(4_100.0), "Online-Marketing"),
    ]


def write_erp_export(folder: Path, *, orders: int = 600, seed: int = 7) -> dict[str, Path]:
    """Write the three export files into ``folder``; their paths by table."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "orders": folder / ORDERS_FILE,
        "surveys": folder / SURVEYS_FILE,
        "investments": folder / INVESTMENTS_FILE,
    }
    paths["orders"].write_bytes(_text(ORDER_HEADER, order_rows(orders, seed), ";").encode("cp1252"))
    paths["surveys"].write_bytes(_text(SURVEY_HEADER, survey_rows(seed), ",").encode("utf-8-sig"))
    paths["investments"].write_bytes(
        _text(INVESTMENT_HEADER, investment_rows(), ";").encode("cp1252")
    )
    return paths


def move_label(text: str, label: str, key: str) -> str:
    """Cut the commented line of ``label`` out of the TODO block and add the label to
    the list ``key`` (``statuses.placed``), as someone editing the file would."""
    section, cls = key.split(".")
    lines = text.splitlines()
    todo = [i for i, line in enumerate(lines) if line.strip().split("  #")[0] == f"# - {label}"]
    assert len(todo) == 1, f"{label!r} is not listed once in a TODO block"
    del lines[todo[0]]
    start = lines.index(f"{section}:")
    at = next(i for i in range(start, len(lines)) if lines[i].startswith(f"  {cls}:"))
    lines[at] = f"  {cls}:"  # `placed: []` becomes a block list
    lines.insert(at + 1, f"  - {label}")
    return "\n".join(lines) + "\n"
