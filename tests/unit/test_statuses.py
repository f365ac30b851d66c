"""Status and channel labels: the built-in lists, how a params file extends them, how
loading maps them, and credit notes (negative revenue on a returned order).

Every expected number is computed in plain Python from the raw rows written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from b2b_analysis.config import (
    DEFAULT_CANCELLED_LABELS,
    DEFAULT_OFFLINE_LABELS,
    DEFAULT_ONLINE_LABELS,
    DEFAULT_PLACED_LABELS,
    DEFAULT_RETURNED_LABELS,
    Channels,
    Statuses,
    load_params,
)
from b2b_analysis.errors import InputError
from b2b_analysis.io import load_client
from b2b_analysis.kpis import compute_kpis
from b2b_analysis.periods import Calendar
from tests.support.clientkit import ORDER_HEADER, write_client

# ------------------------------------------------------------------- the defaults


def test_default_statuses_know_the_common_english_labels() -> None:
    statuses = Statuses()
    for label in ("placed", "open", "pending", "processing", "confirmed", "shipped"):
        assert label in statuses.placed
    for label in ("delivered", "completed", "complete", "invoiced", "paid", "fulfilled"):
        assert label in statuses.placed
    assert {"cancelled", "canceled", "void"} <= set(statuses.cancelled)
    assert {"returned", "refunded", "credit note"} <= set(statuses.returned)
    assert statuses.unmapped == "error"
    assert statuses.defaults == "extend"


def test_the_built_in_lists_are_disjoint() -> None:
    statuses = Statuses()
    labels = [label for labels in statuses.classes().values() for label in labels]
    assert len(labels) == len({label.strip().lower() for label in labels})
    channels = Channels()
    assert not {x.lower() for x in channels.online} & {x.lower() for x in channels.offline}


# ------------------------------------------------------- a params file extends them


def test_a_listed_label_is_added_to_the_built_in_ones() -> None:
    statuses = Statuses(placed=["fakturiert"], cancelled=["storniert"], returned=["retoure"])
    assert statuses.placed == ("fakturiert", *DEFAULT_PLACED_LABELS)
    assert statuses.cancelled[0] == "storniert" and "cancelled" in statuses.cancelled
    assert statuses.returned[0] == "retoure" and "credit note" in statuses.returned


def test_the_file_wins_over_a_built_in_label_of_another_class() -> None:
    """A client whose 'Closed' means cancelled: it leaves the built-in placed list."""
    statuses = Statuses(cancelled=["Closed"])
    assert "closed" not in [label.lower() for label in statuses.placed]
    assert "Closed" in statuses.cancelled
    channels = Channels(online=["Phone"])
    assert "phone" not in channels.offline and "Phone" in channels.online
    assert channels.offline == tuple(x for x in DEFAULT_OFFLINE_LABELS if x != "phone")


def test_defaults_replace_keeps_only_the_listed_labels() -> None:
    channels = Channels(online=["Tienda online"], offline=["Comercial"], defaults="replace")
    assert channels.online == ("Tienda online",) and channels.offline == ("Comercial",)
    statuses = Statuses(placed=["servido"], defaults="replace")
    assert statuses.classes() == {"placed": ("servido",), "cancelled": (), "returned": ()}
    assert Channels().online == DEFAULT_ONLINE_LABELS


def _params(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "client.yaml"
    path.write_text("client: T\ndata:\n  orders: orders.csv\n" + text, encoding="utf-8")
    return path


def test_a_label_in_two_lists_of_the_file_is_an_error_naming_the_key(tmp_path: Path) -> None:
    path = _params(tmp_path, "statuses:\n  placed: [offen]\n  cancelled: [' Offen']\n")
    with pytest.raises(InputError) as caught:
        load_params(path)
    assert str(caught.value) == (
        f"{path}: statuses: label ' Offen' is listed under both placed and cancelled"
    )


def test_unknown_keys_and_values_of_the_mapping_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"statuses\.unmapped: Input should be 'error' or"):
        load_params(_params(tmp_path, "statuses:\n  unmapped: cancelled\n"))
    with pytest.raises(InputError, match=r"channels\.defaults: Input should be 'extend' or"):
        load_params(_params(tmp_path, "channels:\n  defaults: keep\n"))
    with pytest.raises(InputError, match=r"statuses\.placed: Input should be a valid tuple"):
        load_params(_params(tmp_path, "statuses:\n  placed:\n"))


# ------------------------------------------------------------- loading maps them

HEADER = ORDER_HEADER
#: A German ERP's statuses: invoiced, open, cancelled, returned (a credit note
#: with negative revenue, and one returned order written positive).
GERMAN = [
    ("1", "a", "2024-01-05", "web", "100.0", "fakturiert"),
    ("2", "b", "2024-01-06", "phone", "200.0", " Fakturiert "),
    ("3", "a", "2024-01-09", "web", "50.0", "offen"),
    ("4", "c", "2024-01-10", "phone", "80.0", "storniert"),
    ("5", "b", "2024-01-12", "web", "-40.0", "retoure"),
    ("6", "c", "2024-01-15", "web", "30.0", "RETOURE"),
    ("7", "d", "2024-01-20", "portal", "70.0", "pending"),
]
GERMAN_STATUSES = {
    "placed": ["fakturiert", "offen"],
    "cancelled": ["storniert"],
    "returned": ["retoure"],
}
CLASS_OF = {"fakturiert": "placed", "offen": "placed", "pending": "placed"}
CLASS_OF |= {"storniert": "cancelled", "retoure": "returned"}


def _load(tmp_path: Path, rows: list[tuple[str, ...]], **params: Any) -> Any:
    path = write_client(tmp_path, {"orders": (HEADER, rows)}, **params)
    return load_client(load_params(path))


def test_labels_map_trimmed_and_case_insensitively(tmp_path: Path) -> None:
    data = _load(tmp_path, GERMAN, statuses=GERMAN_STATUSES)
    statuses = dict(zip(data.orders["order_id"], data.orders["status"], strict=True))
    expected = {r[0]: CLASS_OF[r[5].strip().lower()] for r in GERMAN}
    assert statuses == expected
    valid = dict(zip(data.orders["order_id"], data.orders["is_valid"], strict=True))
    assert valid == {k: v == "placed" for k, v in expected.items()}


def test_open_and_pending_orders_count_in_orders_and_revenue(tmp_path: Path) -> None:
    data = _load(tmp_path, GERMAN, statuses=GERMAN_STATUSES)
    kpis = compute_kpis(data).kpis
    placed = [r for r in GERMAN if CLASS_OF[r[5].strip().lower()] == "placed"]
    assert {r[5].strip() for r in placed} == {"fakturiert", "Fakturiert", "offen", "pending"}
    assert kpis["orders"] == len(placed) == 4
    assert kpis["net_revenue"] == pytest.approx(sum(float(r[4]) for r in placed))


def test_credit_notes_enter_gmv_at_their_value_and_never_net_revenue(tmp_path: Path) -> None:
    """A returned order counts in GMV at its absolute value, whatever its sign in the
    export (a credit note of -40 adds 40, like a returned order written 40); net
    revenue and AOV count placed orders only."""
    data = _load(tmp_path, GERMAN, statuses=GERMAN_STATUSES)
    kpis = compute_kpis(data).kpis
    gmv = sum(abs(float(r[4])) for r in GERMAN)
    net = sum(float(r[4]) for r in GERMAN if CLASS_OF[r[5].strip().lower()] == "placed")
    assert kpis["gross_merchandise_value"] == pytest.approx(gmv) == 570.0
    assert kpis["net_revenue"] == pytest.approx(net) == 420.0
    assert kpis["average_order_value"] == pytest.approx(net / 4)
    revenue = dict(zip(data.orders["order_id"], data.orders["revenue"], strict=True))
    assert revenue["5"] == 40.0 and revenue["6"] == 30.0


def test_negative_cost_is_allowed_on_a_returned_order_only(tmp_path: Path) -> None:
    header = (*HEADER, "cost")
    rows = [
        ("1", "a", "2024-01-05", "web", "100.0", "placed", "60.0"),
        ("2", "a", "2024-01-06", "web", "-100.0", "returned", "-60.0"),
    ]
    data = load_client(load_params(write_client(tmp_path, {"orders": (header, rows)})))
    assert data.orders["cost"].to_list() == [60.0, 60.0]
    bad = [rows[0], ("2", "a", "2024-01-06", "web", "100.0", "placed", "-60.0")]
    path = write_client(tmp_path / "bad", {"orders": (header, bad)})
    with pytest.raises(InputError, match=r"column 'cost': row 2: negative cost on orders whose"):
        load_client(load_params(path))


def test_a_negative_revenue_on_a_cancelled_order_is_still_an_error(tmp_path: Path) -> None:
    rows = [GERMAN[0], ("2", "b", "2024-01-06", "phone", "-20", "storniert")]
    with pytest.raises(InputError) as caught:
        _load(tmp_path, rows, statuses=GERMAN_STATUSES)
    assert caught.value.column == "revenue" and caught.value.rows == [2]


def test_unknown_labels_are_refused_with_their_counts(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        _load(tmp_path, GERMAN)
    message = caught.value.message
    # plain Python: the labels no built-in list knows, with their number of orders
    built_in = DEFAULT_PLACED_LABELS + DEFAULT_CANCELLED_LABELS + DEFAULT_RETURNED_LABELS
    unknown: dict[str, int] = {}
    for row in GERMAN:
        if row[5].strip().lower() not in built_in:
            unknown[row[5].strip()] = unknown.get(row[5].strip(), 0) + 1
    listed = ", ".join(f"'{label}' ({n} orders)" for label, n in unknown.items())
    assert message == (
        f"status label(s) not in the status mapping: {listed}; add them to statuses.placed, "
        "statuses.cancelled or statuses.returned in the params file, or set "
        "statuses.unmapped: placed"
    )
    assert caught.value.rows == [1, 2, 3, 4, 5, 6]  # every row but the pending one


def test_unmapped_placed_counts_unknown_and_empty_statuses_as_placed(tmp_path: Path) -> None:
    rows = [
        ("1", "a", "2024-01-05", "web", "100", "fakturiert"),
        ("2", "b", "2024-01-06", "phone", "200", ""),
        ("3", "a", "2024-01-07", "web", "50", "cancelled"),
    ]
    with pytest.raises(InputError, match=r"'fakturiert' \(1 orders\), \(empty\) \(1 orders\)"):
        _load(tmp_path / "strict", rows)
    data = _load(tmp_path, rows, statuses={"unmapped": "placed"})
    assert data.orders["status"].to_list() == ["placed", "placed", "cancelled"]
    assert compute_kpis(data).kpis["net_revenue"] == 300.0


def test_orders_without_a_status_column_are_placed(tmp_path: Path) -> None:
    rows = [("1", "a", "2024-01-05", "web", "100"), ("2", "b", "2024-01-06", "phone", "-5")]
    path = write_client(tmp_path, {"orders": (HEADER[:5], rows[:1])})
    data = load_client(load_params(path))
    assert data.orders["status"].to_list() == ["placed"]
    assert data.orders["is_valid"].to_list() == [True]
    path = write_client(tmp_path / "neg", {"orders": (HEADER[:5], rows)})
    with pytest.raises(InputError, match=r"column 'revenue': row 2: negative revenue"):
        load_client(load_params(path))


def test_channel_labels_given_extend_the_defaults(tmp_path: Path) -> None:
    """Listing the client's own label keeps the built-in ones: 'web' stays online."""
    rows = [
        ("1", "a", "2024-01-05", "Tienda online", "100", "placed"),
        ("2", "b", "2024-01-06", "web", "200", "placed"),
        ("3", "c", "2024-01-07", "Comercial", "50", "placed"),
    ]
    data = _load(tmp_path, rows, channels={"online": ["Tienda online"], "offline": ["Comercial"]})
    assert data.orders["is_online"].to_list() == [True, True, False]
    replaced = {"online": ["Tienda online"], "offline": ["Comercial"], "defaults": "replace"}
    with pytest.raises(InputError, match=r"channel label\(s\) not in the channel mapping: 'web'"):
        _load(tmp_path / "replace", rows, channels=replaced)


def test_the_default_window_closes_open_ends_on_whole_periods(tmp_path: Path) -> None:
    rows = [
        ("1", "a", "2024-01-05", "web", "100", "placed"),
        ("2", "b", "2024-03-06", "phone", "200", "placed"),
    ]
    data = _load(tmp_path, rows)
    assert data.window() == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert data.window(calendar=Calendar("quarter")) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    assert data.window(calendar=Calendar("week")) == (dt.date(2024, 1, 1), dt.date(2024, 3, 10))
    assert data.window(start="2024-01-03") == (dt.date(2024, 1, 3), dt.date(2024, 3, 31))
    fiscal = _load(tmp_path / "fy", rows, period="quarter", fiscal_year_start=2)
    assert fiscal.window() == (dt.date(2023, 11, 1), dt.date(2024, 4, 30))
