"""Issue 10's "Done when", through the command line: a German wholesaler's ERP export
(tests/support/erp_export.py) read with a params file alone, its headline KPIs against
a plain-Python computation on the raw files; refused without a status mapping; and
``init`` proposing a params file that, once its TODOs are settled by editing the YAML
as a person would, gives the same KPIs. ``check`` reports rows, dates and labels.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.clientkit import kpis_json, run_cli
from tests.support.erp_export import (
    CHANNELS,
    GROSS_MARGIN,
    HAND_WRITTEN_PARAMS,
    INVESTMENTS_FILE,
    ORDERS_FILE,
    STATUSES,
    SURVEYS_FILE,
    move_label,
    write_erp_export,
)

HEADLINE = (
    "customers",
    "orders",
    "net_revenue",
    "gross_merchandise_value",
    "average_order_value",
    "online_order_share",
    "customer_retention_rate",
    "csat",
    "nps",
    "roi",
)


# ------------------------------------------------------- the raw files, in plain Python


def german(text: str) -> float:
    """'-1.234,50' -> -1234.5, written here from the format, not from the package."""
    return float(text.replace(".", "").replace(",", "."))


def day_first(text: str) -> dt.date:
    day, month, year = text.split(".")
    return dt.date(int(year), int(month), int(day))


def raw_rows(path: Path, encoding: str, delimiter: str) -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def expected_kpis(folder: Path) -> dict[str, Any]:
    """The headline KPIs of the export, from the raw files with the csv module."""
    orders = [
        {
            "customer": r["Kundennummer"],
            "date": day_first(r["Auftragsdatum"]),
            "online": CHANNELS[r["Vertriebsweg"]],
            "value": abs(german(r["Umsatz"])),  # a credit note counts its value
            "counts": STATUSES[r["Status"]] == "placed",
        }
        for r in raw_rows(folder / ORDERS_FILE, "cp1252", ";")
    ]
    first, last = min(o["date"] for o in orders), max(o["date"] for o in orders)
    lo = first.replace(day=1)  # the default window: whole months spanning the orders
    hi = (last.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    inside = [o for o in orders if lo <= o["date"] <= hi]
    valid = [o for o in inside if o["counts"]]
    per_customer = Counter(o["customer"] for o in valid)
    net = sum(o["value"] for o in valid)
    surveys = raw_rows(folder / SURVEYS_FILE, "utf-8-sig", ",")
    answered = [r for r in surveys if lo <= dt.date.fromisoformat(r["Antwortdatum"][:10]) <= hi]
    csat = [int(r["Zufriedenheit (1-5)"]) for r in answered if r["Zufriedenheit (1-5)"]]
    nps = [int(r["Weiterempfehlung (0-10)"]) for r in answered if r["Weiterempfehlung (0-10)"]]
    invested = sum(
        german(r["Betrag"])
        for r in raw_rows(folder / INVESTMENTS_FILE, "cp1252", ";")
        if lo <= day_first(r["Datum"]) <= hi
    )
    profit = GROSS_MARGIN * sum(o["value"] for o in valid if o["online"])
    return {
        "customers": len(per_customer),
        "orders": len(valid),
        "net_revenue": net,
        "gross_merchandise_value": sum(o["value"] for o in inside),
        "average_order_value": net / len(valid),
        "online_order_share": sum(o["online"] for o in valid) / len(valid),
        "customer_retention_rate": sum(n >= 2 for n in per_customer.values()) / len(per_customer),
        "csat": sum(x >= 4 for x in csat) / len(csat),
        "nps": 100 * (sum(x >= 9 for x in nps) - sum(x <= 6 for x in nps)) / len(nps),
        "roi": (profit - invested) / invested,
    }


def status_counts(folder: Path) -> Counter[str]:
    return Counter(r["Status"] for r in raw_rows(folder / ORDERS_FILE, "cp1252", ";"))


def channel_counts(folder: Path) -> Counter[str]:
    return Counter(r["Vertriebsweg"] for r in raw_rows(folder / ORDERS_FILE, "cp1252", ";"))


# --------------------------------------------------------------- editing as a person


def settle(text: str) -> str:
    """Every TODO of the proposal for the ERP export settled: the labels classified,
    the investments' date order given, the gross margin set."""
    classes = {"Außendienst": "offline", "Telefon": "offline"}
    for label, cls in classes.items():
        text = move_label(text, label, f"channels.{cls}")
    for label, status in STATUSES.items():
        text = move_label(text, label, f"statuses.{status}")
    lines = text.splitlines()
    todo = next(i for i, line in enumerate(lines) if "TODO: dates such as '01.01.2024'" in line)
    lines[todo:todo] = ["    date_format: '%d.%m.%Y'"]
    text = "\n".join(lines) + "\n"
    margin = "# gross_margin: 0.30"
    assert margin in text
    return text.replace(margin, f"gross_margin: {GROSS_MARGIN}")


# ------------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mueller") / "export"
    write_erp_export(folder)
    return folder


def test_hand_written_params_read_the_export_as_it_is(export: Path, tmp_path: Path) -> None:
    """(a) No file rewritten: the params file alone; the KPIs equal plain Python's."""
    params = export / "mueller.yaml"
    params.write_text(HAND_WRITTEN_PARAMS, encoding="utf-8")
    doc = kpis_json(params)
    expected = expected_kpis(export)
    for key in HEADLINE:
        assert doc["kpis"][key] == pytest.approx(expected[key], rel=1e-9), key


def test_without_a_status_mapping_the_export_is_refused(export: Path) -> None:
    """(b) One error line listing every status label with its number of orders."""
    text = HAND_WRITTEN_PARAMS.split("statuses:")[0]
    params = export / "no-statuses.yaml"
    params.write_text(text, encoding="utf-8")
    result = run_cli("kpis", str(params))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "column 'status (Status)'" in errors[0]
    for label, n in status_counts(export).items():
        assert f"'{label}' ({n:,} orders)" in errors[0]
    assert "statuses.placed, statuses.cancelled or statuses.returned" in errors[0]


def test_init_proposes_params_that_give_the_same_kpis(export: Path) -> None:
    """(c) The proposal read as written, then with its TODOs settled."""
    result = run_cli("init", str(export), "--out", str(export / "proposed.yaml"))
    assert result.returncode == 0, result.stderr
    proposal = (export / "proposed.yaml").read_text(encoding="utf-8")
    for line in (
        "    separator: ';'",
        "    encoding: cp1252",
        "    decimal: ','",
        "    thousands: '.'",
        "    date_format: '%d.%m.%Y'",
        "      order_id: Auftragsnummer",
        "      csat: Zufriedenheit (1-5)",
        "      nps: Weiterempfehlung (0-10)",
        "  unmapped: error",
    ):
        assert line in proposal.splitlines(), line
    counts = status_counts(export) + channel_counts(export)
    for label in ("Außendienst", "Telefon", *STATUSES):
        assert f"  # - {label}  # {counts[label]:,} orders" in proposal.splitlines()
    assert f"  - Webshop  # {counts['Webshop']:,} orders (built-in: online)" in proposal
    assert "'%m.%d.%Y' (month first)" in proposal  # the investments' dates: both named
    assert "4 TODO(s) to settle" in result.stderr

    unedited = run_cli("kpis", str(export / "proposed.yaml"))
    assert unedited.returncode == 2
    errors = [line for line in unedited.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "label(s) not in the" in errors[0]

    settled = export / "settled.yaml"
    settled.write_text(settle(proposal), encoding="utf-8")
    doc = kpis_json(settled)
    hand = export / "hand.yaml"
    hand.write_text(HAND_WRITTEN_PARAMS, encoding="utf-8")
    assert doc["kpis"] == kpis_json(hand)["kpis"]
    expected = expected_kpis(export)
    for key in HEADLINE:
        assert doc["kpis"][key] == pytest.approx(expected[key], rel=1e-9), key


def test_init_never_overwrites_without_force(export: Path) -> None:
    out = export / "kept.yaml"
    out.write_text("client: mine\n", encoding="utf-8")
    refused = run_cli("init", str(export), "--out", str(out))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: {out}: the params file exists; use --force to replace it, or give another --out"
    )
    assert out.read_text(encoding="utf-8") == "client: mine\n"
    forced = run_cli("init", str(export), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Auftragsnummer" in out.read_text(encoding="utf-8")
    assert not [p for p in export.iterdir() if p.name.endswith(".tmp")]


def test_init_refuses_an_out_from_which_the_data_is_outside(export: Path, tmp_path: Path) -> None:
    result = run_cli("init", str(export), "--out", str(tmp_path / "elsewhere" / "p.yaml"))
    assert result.returncode == 2
    assert "data paths must stay inside the params file's folder" in result.stderr
    assert not (tmp_path / "elsewhere").exists()


def test_check_reports_rows_dates_labels_and_the_refusals(export: Path) -> None:
    """The unedited proposal: orders and investments refused with their error lines,
    surveys loaded; every count against the raw files."""
    run_cli("init", str(export), "--out", str(export / "to-check.yaml"), "--force")
    result = run_cli("check", str(export / "to-check.yaml"), "--format", "json")
    assert result.returncode == 2
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2  # one per refused table
    orders, surveys, investments = (doc["tables"][t] for t in ("orders", "surveys", "investments"))
    assert orders["rows"] == 600 and orders["refused"] == 600 and orders["loaded"] is None
    assert errors[0] == f"error: {orders['error']}"
    assert "ambiguous" in investments["error"] and investments["refused"] is None
    survey_rows = raw_rows(export / SURVEYS_FILE, "utf-8-sig", ",")
    cells = sum(bool(r[c]) for r in survey_rows for c in list(r)[2:])
    assert surveys["rows"] == len(survey_rows) and surveys["loaded"] == cells
    days = sorted(r["Antwortdatum"][:10] for r in survey_rows)
    assert (surveys["first"], surveys["last"]) == (days[0], days[-1])
    assert len(surveys["warnings"]) == 1 and "no score" in surveys["warnings"][0]
    found = {x["label"]: (x["orders"], x["class"]) for x in doc["labels"]["status"]}
    assert found == {label: (n, "UNKNOWN") for label, n in status_counts(export).items()}
    channels = {x["label"]: (x["orders"], x["class"]) for x in doc["labels"]["channel"]}
    classes = {
        "Webshop": "online",
        "EDI": "offline",
        "Außendienst": "UNKNOWN",
        "Telefon": "UNKNOWN",
    }
    assert channels == {k: (n, classes[k]) for k, n in channel_counts(export).items()}


def test_check_of_settled_params_fits_80_columns(export: Path) -> None:
    proposal = run_cli("init", str(export), "--out", str(export / "ok.yaml"), "--force")
    assert proposal.returncode == 0
    path = export / "ok.yaml"
    path.write_text(settle(path.read_text(encoding="utf-8")), encoding="utf-8")
    result = run_cli("check", str(path), env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "error:" not in result.stderr
    orders = next(line.split() for line in lines if line.strip().startswith("orders"))
    rows = raw_rows(export / ORDERS_FILE, "cp1252", ";")
    dates = sorted(day_first(r["Auftragsdatum"]) for r in rows)
    assert orders == [
        "orders",
        f"{len(rows):,}",
        f"{len(rows):,}",
        "0",
        str(dates[0]),
        str(dates[-1]),
    ]
    labels = next(i for i, line in enumerate(lines) if line.startswith("Status labels"))
    for label, n in status_counts(export).items():
        status = STATUSES[label]
        assert any(line.split() == [label, f"{n:,}", status] for line in lines[labels:])
    investments = json.loads(run_cli("check", str(path), "-f", "json").stdout)["tables"]
    assert investments["investments"]["first"] == "2024-01-01"
