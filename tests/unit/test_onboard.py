"""init's guesses (b2b_analysis.onboard): header synonyms, tables, encodings,
separators, number marks, date formats, labels; the proposal for Parquet and Excel
exports loads as written; the params file is written atomically, never over one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml

from b2b_analysis.config import Statuses, load_params
from b2b_analysis.errors import InputError
from b2b_analysis.io import load_client
from b2b_analysis.onboard.headers import assign_tables, header_key, match_columns
from b2b_analysis.onboard.labels import count_labels
from b2b_analysis.onboard.proposal import propose, write_params_file
from b2b_analysis.onboard.sniff import (
    date_format,
    number_marks,
    read_export,
    separator_of,
    text_encoding,
)
from tests.support.erp_export import move_label


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Auftragsnummer", "Kundennummer", "Auftragsdatum", "Vertriebsweg", "Umsatz"],
            ["order_id", "customer_id", "order_date", "channel", "revenue"],
        ),
        (
            ["pedido", "cliente", "fecha", "canal", "importe", "estado"],
            ["order_id", "customer_id", "order_date", "channel", "revenue", "status"],
        ),
        (
            ["N° commande", "Client", "Date", "Canal", "Montant (€)", "Statut"],
            ["order_id", "customer_id", "order_date", "channel", "revenue", "status"],
        ),
    ],
)
def test_order_headers_in_german_spanish_and_french(
    headers: list[str], expected: list[str]
) -> None:
    guess = match_columns("orders", headers)
    assert list(guess.columns) == expected
    assert list(guess.columns.values()) == headers
    assert guess.missing == ()


def test_a_header_no_list_holds_is_not_guessed_from_a_part() -> None:
    guess = match_columns("orders", ["Auftragsnummer", "Kundennummer", "Datum", "Umsatzsteuer"])
    assert "revenue" not in guess.columns
    assert guess.missing == ("channel", "revenue")
    assert guess.unread == ("Umsatzsteuer",)


def test_a_wide_survey_export_maps_csat_and_nps() -> None:
    guess = match_columns("surveys", ["Kunde", "Datum", "Zufriedenheit", "NPS (0-10)"])
    assert guess.columns == {
        "customer_id": "Kunde",
        "response_date": "Datum",
        "csat": "Zufriedenheit",
        "nps": "NPS (0-10)",
    }
    assert guess.missing == () and guess.wide


def test_each_file_is_one_table_the_best_fit_first() -> None:
    """The investments file also fits orders in part (a date, an amount), the order
    lines file orders too (an order id): each goes to the table it fits best."""
    chosen, unused = assign_tables(
        {
            "investitionen.csv": ["Datum", "Betrag", "Kategorie"],
            "auftraege.csv": ["Auftragsnummer", "Kunde", "Datum", "Kanal", "Umsatz"],
            "positionen.csv": ["Auftragsnummer", "Artikelnummer", "Menge"],
            "notes.csv": ["Text"],
            "auftraege-alt.csv": ["Auftragsnummer", "Kunde", "Datum", "Kanal", "Umsatz"],
        }
    )
    assert {t: f for t, (f, _) in chosen.items()} == {
        "orders": "auftraege.csv",
        "order_lines": "positionen.csv",
        "investments": "investitionen.csv",
    }
    assert unused == {
        "notes.csv": "its columns fit no table",
        "auftraege-alt.csv": "it also fits orders, which auftraege.csv fits better",
    }


def test_a_file_that_fits_a_table_in_part_needs_a_name_that_says_it() -> None:
    """Missing columns are left as TODOs only where the file's name says the table."""
    chosen, unused = assign_tables({"export.csv": ["Auftragsnummer", "Kunde", "Datum"]})
    assert chosen == {} and unused == {"export.csv": "its columns fit no table"}
    chosen, _ = assign_tables({"auftraege.csv": ["Auftragsnummer", "Kunde", "Datum"]})
    assert chosen["orders"][1].missing == ("channel", "revenue")


def test_header_key_drops_accents_case_punctuation_and_units() -> None:
    assert header_key("Coût (EUR)") == header_key("cout") == "cout"
    assert header_key("Straße") == "strasse"


@pytest.mark.parametrize(
    ("data", "codec", "setting"),
    [
        ("Kunde;Außendienst\n".encode("cp1252"), "cp1252", "cp1252"),
        ("Kunde;Außendienst\n".encode(), "utf-8", None),
        ("Kunde;Außendienst\n".encode("utf-8-sig"), "utf-8-sig", None),
        ("Kunde;Außendienst\n".encode("utf-16"), "utf-16", None),
        ("Kunde;Außendienst\n".encode("utf-16-le"), "utf-16-le", "utf-16le"),
        ("Kunde;Außendienst\n".encode("utf-16-be"), "utf-16-be", "utf-16be"),
    ],
)
def test_text_encoding(data: bytes, codec: str, setting: str | None) -> None:
    assert text_encoding(data) == (codec, setting)
    assert data.decode(text_encoding(data)[0]).lstrip("\ufeff") == "Kunde;Außendienst\n"


def test_separator_and_title_lines() -> None:
    lines = ["Export vom 02.01.2025", "", "id|name|Betrag", "1|a, b|1,5", "2|c|2"]
    assert separator_of([x for x in lines if x]) == ("|", 1)
    assert separator_of(["a\tb", "1\t2,5"]) == ("\t", 0)
    assert separator_of(["id,text", '1,"x; y"', "2,z"]) == (",", 0)


@pytest.mark.parametrize(
    ("values", "marks"),
    [
        (["1.234,56", "12,00", "-7,5"], (",", ".")),
        (["1,234.56", "12.00"], (".", ",")),
        (["12,5", "7,25"], (",", None)),
        (["12.5", "7"], (".", None)),
        (["1 234,50", "3,00"], (",", " ")),
        (["1'234.50", "3.00"], (".", "'")),
    ],
)
def test_number_marks_read_every_value(values: list[str], marks: tuple[str, str | None]) -> None:
    found = number_marks(pl.DataFrame({"x": values}), ["x"])
    assert found == type(found)(marks)


def test_number_marks_that_could_read_a_value_two_ways_are_a_todo() -> None:
    found = number_marks(pl.DataFrame({"x": ["1,234", "12,500"]}), ["x"])
    assert found.value is None
    assert found.todo is not None and "'1,234'" in found.todo
    assert "decimal ','" in found.todo and "thousands ','" in found.todo


def test_number_columns_not_read_as_text_need_no_marks() -> None:
    assert number_marks(pl.DataFrame({"x": [1.5, 2.0]}), ["x"]).value == (".", None)


@pytest.mark.parametrize(
    ("values", "fmt"),
    [
        (["31.01.2024", "01.02.2024"], "%d.%m.%Y"),
        (["01/31/2024 10:30", "02/01/2024 09:00"], "%m/%d/%Y %H:%M"),
        (["5 Feb 2024", "12 Mar 2024"], "%d %b %Y"),
        (["2024-01-31", "2024-02-01"], None),
        (["2024-01-31T10:00:00+01:00"], None),
    ],
)
def test_date_format_only_when_the_values_show_it(values: list[str], fmt: str | None) -> None:
    found = date_format(pl.DataFrame({"d": values}), "d")
    assert (found.value, found.todo) == (fmt, None)


def test_day_month_dates_that_fit_both_orders_are_a_todo_naming_both() -> None:
    found = date_format(pl.DataFrame({"d": ["01.01.2024", "01.07.2024"]}), "d")
    assert found.value is None
    assert found.todo is not None
    assert "'%d.%m.%Y' (day first)" in found.todo and "'%m.%d.%Y' (month first)" in found.todo


def test_labels_counted_as_the_loader_compares_them() -> None:
    values = pl.Series(["fakturiert", "Fakturiert ", "storniert", "Cancelled", None, ""])
    labels = count_labels(values, Statuses().classes())
    assert [(x.label, x.orders, x.cls) for x in labels] == [
        (None, 2, None),
        ("fakturiert", 2, None),
        ("Cancelled", 1, "cancelled"),
        ("storniert", 1, None),
    ]


def _write_parquet_client(folder: Path) -> None:
    folder.mkdir()
    pl.DataFrame(
        {
            "ordernr": ["1", "2", "3", "4"],
            "kundnr": ["a", "b", "a", "c"],
            "orderdatum": [dt.date(2024, 1, d) for d in (5, 6, 20, 21)],
            "kanal": ["Web", "Phone", "Webbutik", "Web"],
            "nettobelopp": [100.0, 250.5, 80.0, 40.0],
            "status": ["Completed", "Cancelled", "Completed", "Levererad"],
        }
    ).write_parquet(folder / "orders.parquet")
    import xlsxwriter

    with xlsxwriter.Workbook(folder / "investments.xlsx") as book:
        sheet = book.add_worksheet("Invest")
        sheet.write_row(0, 0, ["Date", "Amount", "Category"])
        sheet.write_row(1, 0, ["2024-01-01", 500, "platform"])
        sheet.write_row(2, 0, ["2024-01-15", 250.5, "marketing"])


def test_a_parquet_and_an_excel_export_are_proposed_and_load(tmp_path: Path) -> None:
    folder = tmp_path / "nordic"
    _write_parquet_client(folder)
    out = folder / "params.yaml"
    proposal = propose(folder, out)
    document = yaml.safe_load(proposal.text)
    assert document["data"]["orders"] == {
        "path": "orders.parquet",
        "columns": {
            "order_id": "ordernr",
            "customer_id": "kundnr",
            "order_date": "orderdatum",
            "channel": "kanal",
            "revenue": "nettobelopp",
        },
    }
    assert document["data"]["investments"]["path"] == "investments.xlsx"
    assert document["channels"] == {"online": ["Web"], "offline": ["Phone"], "unmapped": "error"}
    assert "  # - Webbutik  # 1 orders" in proposal.text.splitlines()
    assert "  # - Levererad  # 1 orders" in proposal.text.splitlines()
    assert len(proposal.todos) == 3  # two label blocks, the gross margin
    write_params_file(out, proposal.text, force=False)
    with pytest.raises(InputError, match="'Levererad' \\(1 orders\\)"):
        load_client(load_params(out))
    settled = move_label(proposal.text, "Levererad", "statuses.placed")
    write_params_file(out, settled, force=True)
    with pytest.raises(InputError, match="'Webbutik' \\(1 orders\\)"):
        load_client(load_params(out))
    settled = move_label(settled, "Webbutik", "channels.online")
    write_params_file(out, settled, force=True)
    data = load_client(load_params(out))
    assert data.orders.get_column("is_online").to_list() == [True, False, True, True]
    assert data.orders.get_column("is_valid").to_list() == [True, False, True, True]
    assert data.investments is not None
    assert data.investments.get_column("amount").to_list() == [500.0, 250.5]


def test_a_folder_without_an_orders_file_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.csv").write_text("Text,Wer\nhallo,ich\n", encoding="utf-8")
    with pytest.raises(InputError, match="no file here has the columns of an orders table"):
        propose(tmp_path / "x", tmp_path / "x" / "params.yaml")
    with pytest.raises(InputError, match="not a folder"):
        propose(tmp_path / "missing", tmp_path / "params.yaml")


def test_an_unreadable_file_is_named_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    _write_parquet_client(folder)
    (folder / "broken.parquet").write_bytes(b"PAR1 not really")
    proposal = propose(folder, folder / "params.yaml")
    assert proposal.unused["broken.parquet"].startswith("cannot be read")
    assert "# not used: broken.parquet (cannot be read" in proposal.text


def test_write_params_file_replaces_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "p.yaml"
    write_params_file(target, "client: a\n", force=False)
    with pytest.raises(InputError, match="use --force"):
        write_params_file(target, "client: b\n", force=False)
    assert target.read_text() == "client: a\n"
    write_params_file(target, "client: b\n", force=True)
    assert target.read_text() == "client: b\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.yaml"]
    with pytest.raises(InputError, match="is a folder"):
        write_params_file(tmp_path, "client: c\n", force=True)


def test_read_export_reads_every_cell_as_written(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("Titel\nNr;Betrag\n007;1.234,50\n".encode("cp1252"))
    sniffed = read_export(path)
    assert sniffed.options == {"separator": ";", "skip_rows": 1}
    assert sniffed.frame.rows() == [("007", "1.234,50")]


def test_timestamps_with_utc_offsets_leave_the_time_zone_to_settle(tmp_path: Path) -> None:
    """UTC is not assumed: the proposal's timezone is a TODO that stops loading by key."""
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,customer_id,order_date,channel,revenue\n"
        "1,a,2024-01-05T23:30:00+01:00,web,10\n2,b,2024-07-05T00:30:00+02:00,phone,20\n",
        encoding="utf-8",
    )
    out = folder / "params.yaml"
    proposal = propose(folder, out)
    assert "timezone: TODO" in proposal.text.splitlines()
    assert "orders.csv: +01:00, +02:00" in proposal.todos[-1]
    line = int(proposal.todos[-1].split(":")[0].removeprefix("line "))
    assert proposal.text.splitlines()[line - 1].startswith("# TODO: the timestamps carry")
    write_params_file(out, proposal.text, force=False)
    with pytest.raises(InputError, match="timezone: unknown time zone 'TODO'"):
        load_params(out)
