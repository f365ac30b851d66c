"""The account lists (b2b_analysis.accounts) against a client worked out by hand, the
``overdue`` params, the lapsed/reactivated series and the lists' outputs.

The hand-worked client (:func:`client`): window 2024-01-01 .. 2024-06-30, monthly, so
the last period is June 2024 and the period before is May 2024. The 12 months at
stake run from 2023-07-01 to 2024-06-30 (orders dated after 2023-06-30). Web orders
are online, phone orders offline; cancelled and returned orders do not count.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from b2b_analysis import accounts as acc
from b2b_analysis.config import load_params
from b2b_analysis.errors import InputError
from b2b_analysis.io import ClientData, load_client
from b2b_analysis.kpis import compute_kpis
from tests.support.clientkit import ORDER_HEADER, write_client

D = dt.date
START, END = D(2024, 1, 1), D(2024, 6, 30)

#: (customer, date, channel, revenue, status): the orders of the hand-worked client.
ORDERS: list[tuple[str, str, str, float, str]] = [
    # R1: offline before the window, first online order 2024-02-01, then only offline
    # (02-11 and 05-20): reverted, 10 days to revert, 2 orders and 500 since. Last
    # order in May, none in June: lapsed too. 12 months: 100 + 50 + 200 + 300 = 650.
    ("R1", "2023-12-10", "phone", 100.0, "completed"),
    ("R1", "2024-02-01", "web", 50.0, "completed"),
    ("R1", "2024-02-11", "phone", 200.0, "completed"),
    ("R1", "2024-05-20", "phone", 300.0, "completed"),
    # R2: first online order 2024-03-01; the later offline order is cancelled, so no
    # later order counts: not reverted (and nothing else).
    ("R2", "2024-03-01", "web", 80.0, "completed"),
    ("R2", "2024-03-10", "phone", 999.0, "cancelled"),
    # =EVIL (an id a spreadsheet would run as a formula): offline in January, first
    # online order in June: an adopter, and reactivated (June, not May, earlier: Jan).
    ("=EVIL", "2024-01-20", "phone", 60.0, "completed"),
    ("=EVIL", "2024-06-15", "web", 40.0, "completed"),
    # O1: 4 order days a week apart (cycle 7), the last 2024-01-22, 160 days before the
    # window's end (> 2 x 7): overdue by 160 - 7 = 153 days. 12 months: 100.
    ("O1", "2024-01-01", "phone", 25.0, "completed"),
    ("O1", "2024-01-08", "phone", 25.0, "completed"),
    ("O1", "2024-01-15", "phone", 25.0, "completed"),
    ("O1", "2024-01-22", "phone", 25.0, "completed"),
    # O2: cycle 10, last order 9 days before the end: not overdue; first order in June:
    # new, so not reactivated.
    ("O2", "2024-06-01", "phone", 10.0, "completed"),
    ("O2", "2024-06-11", "phone", 10.0, "completed"),
    ("O2", "2024-06-21", "phone", 10.0, "completed"),
    # O3: three orders but two distinct order days: below min_order_days = 3.
    ("O3", "2024-01-01", "phone", 5.0, "completed"),
    ("O3", "2024-01-01", "phone", 5.0, "completed"),
    ("O3", "2024-01-02", "phone", 5.0, "completed"),
    # L1: its 2023-06-30 order is outside the 12 months (and the window). In May only:
    # lapsed, 2 orders, 100. First online order 05-03, later order offline (05-25):
    # reverted after 22 days, 1 order and 30 since. 12 months: 100.
    ("L1", "2023-06-30", "phone", 500.0, "completed"),
    ("L1", "2024-05-03", "web", 70.0, "completed"),
    ("L1", "2024-05-25", "phone", 30.0, "completed"),
    # K1: May and June: retained, on no list.
    ("K1", "2024-05-10", "phone", 20.0, "completed"),
    ("K1", "2024-06-10", "phone", 20.0, "completed"),
    # A2: new in June, online: an adopter; its returned order does not count.
    ("A2", "2024-06-02", "web", 500.0, "completed"),
    ("A2", "2024-06-03", "web", 10.0, "returned"),
]


def client(folder: Path, **params: Any) -> ClientData[Any]:
    rows = [(f"o{i}", *order) for i, order in enumerate(ORDERS)]
    path = write_client(
        folder,
        {"orders": (ORDER_HEADER, rows)},
        window={"start": START.isoformat(), "end": END.isoformat()},
        **params,
    )
    return load_client(load_params(path))


@pytest.fixture
def data(tmp_path: Path) -> ClientData[Any]:
    return client(tmp_path)


def rows(data: ClientData[Any], name: str, **kwargs: Any) -> list[tuple[Any, ...]]:
    found = acc.for_client(data, names=(name,), **kwargs)
    return found.frames[name].rows()


# ------------------------------------------------------------------ each list


def test_reverted(data: ClientData[Any]) -> None:
    # (id, first online, days to revert, orders since, revenue since, last order, 12 months)
    assert rows(data, "reverted") == [
        ("R1", D(2024, 2, 1), 10, 2, 500.0, D(2024, 5, 20), 650.0),
        ("L1", D(2024, 5, 3), 22, 1, 30.0, D(2024, 5, 25), 100.0),
    ]


def test_overdue(data: ClientData[Any]) -> None:
    # (id, last order, order days, usual cycle, days since last order, days overdue, 12m)
    assert rows(data, "overdue") == [("O1", D(2024, 1, 22), 4, 7.0, 160, 153.0, 100.0)]
    # R1 has 3 order days in the window (02-01, 02-11, 05-20; 2023-12-10 is before it):
    # gaps 10 and 99, cycle 54.5; 41 days since its last order: not overdue.


def test_overdue_follows_the_params(tmp_path: Path) -> None:
    """min_order_days 2, factor 1: O3 (days 01-01, 01-02: cycle 1, 180 days since), L1
    (05-03, 05-25: cycle 22, 36 days since) and O1 qualify; R1 (41 < 54.5), =EVIL
    (cycle 147, 15 days), K1 (cycle 31, 20 days) and O2 (cycle 10, 9 days) do not.
    L1 and O1 are both worth 100: the tie is broken by id."""
    data = client(tmp_path, overdue={"min_order_days": 2, "factor": 1})
    assert rows(data, "overdue") == [
        ("L1", D(2024, 5, 25), 2, 22.0, 36, 14.0, 100.0),
        ("O1", D(2024, 1, 22), 4, 7.0, 160, 153.0, 100.0),
        ("O3", D(2024, 1, 2), 2, 1.0, 180, 179.0, 15.0),
    ]


def test_lapsed(data: ClientData[Any]) -> None:
    # May: R1, L1, K1; June: K1, =EVIL, O2, A2. (id, last order, orders, revenue, 12m)
    assert rows(data, "lapsed") == [
        ("R1", D(2024, 5, 20), 1, 300.0, 650.0),
        ("L1", D(2024, 5, 25), 2, 100.0, 100.0),
    ]


def test_reactivated(data: ClientData[Any]) -> None:
    # of June's =EVIL, O2 and A2 (none in May), only =EVIL ordered before (January)
    # (id, order before the gap, last order, orders in June, revenue in June, 12m)
    assert rows(data, "reactivated") == [
        ("=EVIL", D(2024, 1, 20), D(2024, 6, 15), 1, 40.0, 100.0),
    ]


def test_adopters(data: ClientData[Any]) -> None:
    # (id, first online, first order, orders in June, online ones, revenue in June, 12m)
    assert rows(data, "adopters") == [
        ("A2", D(2024, 6, 2), D(2024, 6, 2), 1, 1, 500.0, 500.0),
        ("=EVIL", D(2024, 6, 15), D(2024, 1, 20), 1, 1, 40.0, 100.0),
    ]


def test_the_last_period_follows_the_period(data: ClientData[Any]) -> None:
    """Quarterly, the last period is 2024 Q2 and the one before Q1. Q1: =EVIL, O1, O3,
    R1, R2; Q2: R1, L1, K1, =EVIL, O2, A2. Lapsed: O1 (100), R2 (80), O3 (15); L1 is in
    Q2 only but ordered in 2023 Q2 before the gap: reactivated (K1, O2, A2 are new)."""
    assert [r[0] for r in rows(data, "lapsed", period="quarter")] == ["O1", "R2", "O3"]
    assert [r[0] for r in rows(data, "reactivated", period="quarter")] == ["L1"]
    found = acc.for_client(data, names=("lapsed",), period="quarter")
    assert found.last_period == "2024 Q2"


def test_an_empty_window_is_refused(data: ClientData[Any]) -> None:
    with pytest.raises(InputError, match="no orders that count"):
        acc.for_client(data, start=D(2030, 1, 1), end=D(2030, 3, 31))


# ------------------------------------------------------------------ params


@pytest.mark.parametrize(
    ("overdue", "message"),
    [
        ({"min_order_days": 1}, r"overdue\.min_order_days.*greater than or equal to 2"),
        ({"factor": 0.5}, r"overdue\.factor.*greater than or equal to 1"),
        ({"factor": "x"}, r"overdue\.factor"),
        ({"min_days": 3}, r"overdue\.min_days.*unknown key"),
    ],
)
def test_overdue_params_are_validated(tmp_path: Path, overdue: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        client(tmp_path, overdue=overdue)


def test_overdue_defaults(data: ClientData[Any]) -> None:
    assert (data.params.overdue.min_order_days, data.params.overdue.factor) == (3, 2.0)


# ------------------------------------------------------------------ kpis.json and the series


def test_kpis_document_sums_up_each_list(data: ClientData[Any]) -> None:
    doc = compute_kpis(data).to_dict()
    accounts = doc["accounts"]
    assert list(accounts) == ["reverted", "overdue", "lapsed", "reactivated", "adopters"]
    counts = {name: (entry["count"], entry["revenue_at_stake"]) for name, entry in accounts.items()}
    assert counts == {
        "reverted": (2, 750.0),  # R1 650 + L1 100
        "overdue": (1, 100.0),
        "lapsed": (2, 750.0),
        "reactivated": (1, 100.0),
        "adopters": (2, 600.0),  # A2 500 + =EVIL 100
    }
    assert accounts["reverted"]["median_days"] == 16.0  # median of 10 and 22
    assert "median_days" not in accounts["overdue"]
    assert accounts["adopters"]["top"][1] == {
        "customer_id": "=EVIL",
        "first_online_date": "2024-06-15",
        "first_order_date": "2024-01-20",
        "orders_last_period": 1,
        "online_orders_last_period": 1,
        "revenue_last_period": 40.0,
        "revenue_12m": 100.0,
    }


def test_series_split_customers_into_new_retained_and_reactivated(data: ClientData[Any]) -> None:
    """By hand, per month of the window (customers with an order that counts):
    Jan =EVIL, O1, O3 (all new); Feb R1 (ordered 2023-12: reactivated);
    Mar R2 (new); Apr none; May R1 (back after Feb), L1 (ordered 2023-06), K1 (new);
    Jun K1 (retained), =EVIL (back after Jan), O2 and A2 (new)."""
    series = compute_kpis(data).series
    got = series.select(
        "period_label",
        "customers",
        "new_customers",
        "retained_customers",
        "reactivated_customers",
        "lapsed_customers",
    ).rows()
    assert got == [
        # R1's December order makes it a customer of 2023-12, lapsed in January
        ("2024-01", 3, 3, 0, 0, 1),
        ("2024-02", 1, 0, 0, 1, 3),  # =EVIL, O1, O3 lapse
        ("2024-03", 1, 1, 0, 0, 1),  # R1 lapses
        ("2024-04", 0, 0, 0, 0, 1),  # R2 lapses
        ("2024-05", 3, 1, 0, 2, 0),
        ("2024-06", 4, 2, 1, 1, 2),  # R1 and L1 lapse
    ]


def test_series_identity_on_the_demo_clients(tmp_path: Path) -> None:
    """Every period of every demo client: customers = new + retained + reactivated, and
    customers of the period before = retained + lapsed."""
    from b2b_analysis import demo as gen

    for slug in gen.DEMO_CLIENTS:
        gen.generate(tmp_path / slug, profile=slug, orders=3_000, seed=3)
        params = tmp_path / f"{slug}.yaml"
        params.write_text(gen.params_yaml(slug, slug), encoding="utf-8")
        series = compute_kpis(load_client(load_params(params))).series
        assert series.height > 4
        parts = series["new_customers"] + series["retained_customers"]
        assert (series["customers"] == parts + series["reactivated_customers"]).all(), slug
        before = series["retained_customers"] + series["lapsed_customers"]
        assert (series["customers_start"] == before).all(), slug
        assert series["reactivated_customers"].sum() > 0 and series["lapsed_customers"].sum() > 0


# ------------------------------------------------------------------ outputs


def test_csv_guards_text_a_spreadsheet_would_run(data: ClientData[Any]) -> None:
    found = acc.for_client(data, names=("adopters",))
    text = acc.csv_text(found.frames["adopters"])
    assert text.splitlines() == [
        "customer_id,first_online_date,first_order_date,orders_last_period,"
        "online_orders_last_period,revenue_last_period,revenue_12m",
        "A2,2024-06-02,2024-06-02,1,1,500.0,500.0",
        "'=EVIL,2024-06-15,2024-01-20,1,1,40.0,100.0",
    ]


def test_xlsx_has_a_sheet_per_list_and_repeats_its_bytes(data: ClientData[Any]) -> None:
    frames = acc.for_client(data).frames
    first = acc.xlsx_bytes(frames, currency="EUR")
    assert first == acc.xlsx_bytes(frames, currency="EUR")
    book = openpyxl.load_workbook(io.BytesIO(first))
    assert book.sheetnames == list(acc.LISTS)
    sheet = book["reactivated"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "Customer" and values[0][-1] == "Revenue, last 12 months (EUR)"
    # the id stays text: no formula, the same characters
    assert values[1] == ("=EVIL", dt.datetime(2024, 1, 20), dt.datetime(2024, 6, 15), 1, 40, 100)
    assert sheet.cell(2, 1).data_type == "s"
    assert book.properties.created == acc.WORKBOOK_DATE
    empty = pl.DataFrame(schema=frames["overdue"].schema)
    assert (
        openpyxl.load_workbook(io.BytesIO(acc.xlsx_bytes({"overdue": empty})))["overdue"].max_row
        == 1
    )


def test_client_page_shows_the_top_accounts_escaped(data: ClientData[Any]) -> None:
    from b2b_analysis.report.pages import client_page
    from b2b_analysis.report.results import ClientResult

    doc = compute_kpis(data).to_dict()
    doc["accounts"]["adopters"]["top"][1]["customer_id"] = "<script>alert(1)</script>"
    page = client_page(ClientResult(Path(), "t", "Test Client", Path(), kpis=doc))
    section = page.split("<h2>Accounts to call</h2>", 1)[1]
    assert "<script>alert(1)</script>" not in page
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in section
    assert 'href="accounts.xlsx"' in section
    # each list: its title, count and revenue at stake (hand-worked above), then its rows
    assert "Reverted to offline: 2 accounts, 750.00 EUR a year (median 16 days to revert)" in (
        section
    )
    assert "Overdue: 1 account, 100.00 EUR a year" in section
    assert "New online customers: 2 accounts, 600.00 EUR a year" in section
    assert '<td>A2</td><td>2024-06-02</td><td>2024-06-02</td><td class="num">1</td>' in section
    assert section.count('<table class="accounts">') == 5
    # a document without the accounts (an older run's kpis.json): no section
    del doc["accounts"]
    assert "Accounts to call" not in client_page(
        ClientResult(Path(), "t", "Test Client", Path(), kpis=doc)
    )


def test_the_command_line_offers_every_list() -> None:
    from b2b_analysis.cli import ListChoice

    assert [choice.value for choice in ListChoice] == list(acc.LISTS)
