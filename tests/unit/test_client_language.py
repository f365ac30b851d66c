"""Sentences in the client's language: a German (de-DE) and a Spanish (es-ES) document
give German and Spanish sentences with German and Spanish numbers, amounts and dates,
in the scorecard, the findings, the accounts section and the notes on rows outside the
window. Every expected string is written by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from b2b_analysis.findings import findings
from b2b_analysis.kpis import OUTSIDE_WINDOW, _note
from b2b_analysis.narrative import kpi_sentence, scorecard_html
from b2b_analysis.report.pages import account_sections, client_page
from b2b_analysis.report.results import ClientResult

#: A no-break space: German and Spanish write it before € and %.
NB = "\xa0"
WINDOW = {"start": "2025-01-01", "end": "2025-06-30"}


def _comparison(period: str, value: float, change: float, low: float, high: float) -> Any:
    return {
        "period": period,
        "value": value,
        "n": 900,
        "change": change,
        "low": low,
        "high": high,
        "significant": low > 0 or high < 0,
        "direction": "up" if change > 0 else "down",
        "tone": "neutral",
    }


SHARE = {
    "period": "2025-05",
    "value": 0.412,
    "n": 1830,
    "previous": _comparison("2025-04", 0.381, 0.031, 0.010, 0.052),  # significant
    "year_earlier": _comparison("2024-05", 0.416, -0.004, -0.029, 0.021),  # not
}
REVENUE = {
    "period": "2025-05",
    "value": 5000.0,
    "n": 1090,
    "previous": _comparison("2025-04", 3000.0, 2000.0, 1017.2, 2962.8),
    "year_earlier": None,
}


def _doc(locale: str, **parts: Any) -> dict[str, Any]:
    rows = [{"period_label": "2025-05"}, {"period_label": "2025-06"}]
    return {
        "currency": "EUR",
        "locale": locale,
        "window": WINDOW,
        "kpis": {},
        "notes": {},
        "series": {"columns": ["period_label"], "rows": rows},
        **parts,
    }


# ------------------------------------------------------------------ scorecard


SCORECARD = {
    "de-DE": [
        f"Online-Bestellanteil: 41,2{NB}% bei 1.830 Bestellungen in 2025-05; 3,1 Prozentpunkte "
        "mehr als in 2025-04 (95-%-Intervall +1,0 bis +5,2); keine klare Änderung gegenüber "
        f"2024-05; im Gesamtzeitraum 01.01.2025 bis 30.06.2025: 40,0{NB}% bei 12.345 "
        "Bestellungen.",
        f"Nettoumsatz: 5.000,00{NB}€ bei 1.090 Bestellungen in 2025-05; 2.000,00{NB}€ mehr als "
        f"in 2025-04 (95-%-Intervall +1.017,20{NB}€ bis +2.962,80{NB}€); keine Vorjahresperiode "
        f"zum Vergleich; im Gesamtzeitraum 01.01.2025 bis 30.06.2025: 1.234.567,50{NB}€.",
    ],
    "es-ES": [
        f"Proporción de pedidos online: 41,2{NB}% de 1.830 pedidos en 2025-05; 3,1 puntos más "
        "que en 2025-04 (intervalo del 95 % +1,0 a +5,2); ningún cambio claro respecto a "
        f"2024-05; en el periodo completo del 1 ene 2025 al 30 jun 2025: 40,0{NB}% de 12.345 "
        "pedidos.",
        f"Ingresos netos: 5.000,00{NB}€ sobre 1.090 pedidos en 2025-05; 2.000,00{NB}€ más que "
        f"en 2025-04 (intervalo del 95 % +1.017,20{NB}€ a +2.962,80{NB}€); ningún periodo del "
        "año anterior con el que comparar; en el periodo completo del 1 ene 2025 al 30 jun "
        f"2025: 1.234.567,50{NB}€.",
    ],
    "en-US": [
        "Online order share: 41.2% of 1,830 orders in 2025-05; up 3.1 points on 2025-04 "
        "(95% interval +1.0 to +5.2); no clear change on 2024-05; over the window 2025-01-01 "
        "to 2025-06-30: 40.0% of 12,345 orders.",
        "Net revenue: 5,000.00 EUR over 1,090 orders in 2025-05; up 2,000.00 EUR on 2025-04 "
        "(95% interval +1,017.20 to +2,962.80 EUR); no year-earlier period to compare; over "
        "the window 2025-01-01 to 2025-06-30: 1,234,567.50 EUR.",
    ],
}


@pytest.mark.parametrize("locale", sorted(SCORECARD))
def test_scorecard_sentences_with_a_significant_change_and_no_clear_change(locale: str) -> None:
    doc = _doc(
        locale,
        kpis={"online_order_share": 0.4, "net_revenue": 1234567.5},
        intervals={"online_order_share": {"n": 12345}},
        trends={"online_order_share": SHARE, "net_revenue": REVENUE},
    )
    got = [kpi_sentence(doc, key) for key in ("online_order_share", "net_revenue")]
    assert got == SCORECARD[locale]


IMMATURE = {
    "de-DE": (
        f"Online-Bindungsrate: 30,0{NB}% bei 20 neuen Online-Kunden in 2025-04; keine "
        "Vorperiode zum Vergleich; keine Vorjahresperiode zum Vergleich; 2025-05 bis 2025-06 "
        "sind unreif (unter 45 Tagen Nachbeobachtung) und werden nicht verglichen; im "
        f"Gesamtzeitraum 01.01.2025 bis 30.06.2025: 25,0{NB}% bei 1.500 neuen Online-Kunden "
        "(einschließlich unreifer Perioden).",
        "2025-06 ist unreif (unter 45 Tagen Nachbeobachtung) und wird nicht verglichen",
        f"25,0{NB}% (unreif)",
    ),
    "es-ES": (
        f"Retención online: 30,0{NB}% de 20 nuevos clientes online en 2025-04; ningún periodo "
        "anterior con el que comparar; ningún periodo del año anterior con el que comparar; "
        "2025-05 a 2025-06 son inmaduros (menos de 45 días de seguimiento) y no se comparan; "
        f"en el periodo completo del 1 ene 2025 al 30 jun 2025: 25,0{NB}% de 1.500 nuevos "
        "clientes online (incluye periodos inmaduros).",
        "2025-06 es inmaduro (menos de 45 días de seguimiento) y no se compara",
        f"25,0{NB}% (inmaduro)",
    ),
}


@pytest.mark.parametrize("locale", sorted(IMMATURE))
def test_immature_periods_are_said_in_the_clients_language(locale: str) -> None:
    sentence, single, cell = IMMATURE[locale]
    entry = {"immature_periods": ["2025-05", "2025-06"], "follow_up_days": 45}
    doc = _doc(
        locale,
        kpis={"online_retention_rate": 0.25},
        intervals={"online_retention_rate": {"n": 1500}},
        maturity={"kpis": {"online_retention_rate": {**entry, "headline_mature": False}}},
        trends={
            "online_retention_rate": {
                "period": "2025-04",
                "value": 0.3,
                "n": 20,
                "previous": None,
                "year_earlier": None,
            }
        },
    )
    assert kpi_sentence(doc, "online_retention_rate") == sentence
    one = {**entry, "immature_periods": ["2025-06"]}
    doc["maturity"]["kpis"]["online_retention_rate"] = one
    assert single in kpi_sentence(doc, "online_retention_rate")
    doc["maturity"]["kpis"]["online_retention_rate"]["headline_mature"] = False
    assert cell in scorecard_html(doc, keys=["online_retention_rate"])


# ------------------------------------------------------------------ findings

ACCOUNTS = {
    "reverted": {"count": 12, "revenue_at_stake": 184000.0, "median_days": 34},
    "overdue": {"count": 1, "revenue_at_stake": 520000.5},
    "lapsed": {"count": 1200, "revenue_at_stake": 900.0},
    "reactivated": {"count": 3, "revenue_at_stake": 4500.0},
    "adopters": {"count": 2, "revenue_at_stake": 1234.5},
}
ACCOUNT_FINDINGS = {
    "de-DE": {
        "overdue": "Überfällig gegenüber ihrem üblichen Bestellrhythmus: 1 Kunde mit "
        f"520.000{NB}€ Umsatz auf dem Spiel.",
        "reverted": "Nach einem Versuch mit dem Webshop zurück zur Offline-Bestellung (Median "
        f"34 Tage): 12 Kunden mit 184.000{NB}€ Umsatz auf dem Spiel.",
        "reactivated": f"Nach einer Pause in 2025-06 zurückgekehrt: 3 Kunden mit 4.500{NB}€ "
        "Umsatz.",
        "adopters": f"Erste Online-Bestellung in 2025-06: 2 Kunden mit 1.234{NB}€ Umsatz, "
        "ein Anlass zum Nachfassen beim Onboarding.",
        "lapsed": "In 2025-05 bestellt, in 2025-06 nicht mehr: 1.200 Kunden (900\xa0€ Umsatz "
        "auf dem Spiel).",
    },
    "es-ES": {
        "overdue": "Con retraso respecto a su ciclo habitual de pedidos: 1 cliente con "
        f"520.000{NB}€ de ingresos en juego.",
        "reverted": "Volvieron a pedir offline tras probar la tienda online (mediana 34 días): "
        f"12 clientes con 184.000{NB}€ de ingresos en juego.",
        "reactivated": "Volvieron en 2025-06 tras una pausa: 3 clientes con 4.500\xa0€ de "
        "ingresos.",
        "adopters": f"Primer pedido online en 2025-06: 2 clientes con 1.234{NB}€ de ingresos, "
        "un buen momento para el seguimiento de la incorporación.",
        "lapsed": "Pidieron en 2025-05 y no en 2025-06: 1.200 clientes (900\xa0€ de ingresos "
        "en juego).",
    },
}


@pytest.mark.parametrize("locale", sorted(ACCOUNT_FINDINGS))
def test_account_findings(locale: str) -> None:
    found = findings(_doc(locale, accounts=ACCOUNTS))
    assert {f["subject"]: f["sentence"] for f in found} == ACCOUNT_FINDINGS[locale]


TRENDS = {
    "de-DE": (
        "Online-Bestellanteil stieg in 2025-05 gegenüber 2025-04 (die Vorperiode) um 3,1 "
        f"Prozentpunkte, von 38,1{NB}% auf 41,2{NB}% (n = 1.830 zählende Bestellungen, "
        "95-%-Intervall der Änderung +1,0 bis +5,2).",
        "Online-Bestellanteil: keine klare Änderung in 2025-05 gegenüber 2025-04 (n = 1.830 "
        "zählende Bestellungen).",
    ),
    "es-ES": (
        "Proporción de pedidos online subió 3,1 puntos en 2025-05 respecto a 2025-04 (el "
        f"periodo anterior), de 38,1{NB}% a 41,2{NB}% (n = 1.830 pedidos que cuentan, "
        "intervalo del 95 % del cambio +1,0 a +5,2).",
        "Proporción de pedidos online: ningún cambio claro en 2025-05 respecto a 2025-04 "
        "(n = 1.830 pedidos que cuentan).",
    ),
}


@pytest.mark.parametrize("locale", sorted(TRENDS))
def test_trend_and_no_clear_change_findings(locale: str) -> None:
    trend, quiet = TRENDS[locale]
    (found,) = findings(_doc(locale, trends={"online_order_share": SHARE}))
    assert (found["kind"], found["sentence"]) == ("trend", trend)
    calm = {**SHARE, "previous": _comparison("2025-04", 0.381, 0.031, -0.002, 0.064)}
    (found,) = findings(_doc(locale, trends={"online_order_share": calm}))
    assert (found["kind"], found["sentence"]) == ("no_clear_change", quiet)


BRIDGE = {
    "de-DE": (
        "Der Nettoumsatz sank in 2025-05 gegenüber 2025-04 (die Vorperiode, n = 950 "
        f"Bestellungen, 95-%-Intervall der Änderung -15.000{NB}€ bis -5.000{NB}€) um "
        f"10.000{NB}€: -12.000{NB}€ aus der Zahl der Kunden, +1.500{NB}€ aus dem "
        f"durchschnittlichen Bestellwert, +500{NB}€ aus den Bestellungen je Kunde.",
        "Bestellungen, die zu online wechselten, sparten dem Vertrieb vom 01.01.2025 bis "
        "30.06.2025 etwa 1.234 Stunden (457 davon durch kleine Bestellungen): 3.703 "
        "Bestellungen zu je 7,5 Minuten.",
    ),
    "es-ES": (
        f"Los ingresos netos bajaron 10.000{NB}€ en 2025-05 respecto a 2025-04 (el periodo "
        f"anterior, n = 950 pedidos, intervalo del 95 % del cambio -15.000{NB}€ a "
        f"-5.000{NB}€): -12.000{NB}€ por el número de clientes, +1.500{NB}€ por el "
        f"valor medio del pedido, +500{NB}€ por los pedidos por cliente.",
        "Los pedidos que pasaron a online liberaron unas 1.234 horas del equipo de ventas del "
        "1 ene 2025 al 30 jun 2025 (457 de ellas por pedidos pequeños): 3.703 pedidos a 7,5 "
        "minutos cada uno.",
    ),
}


@pytest.mark.parametrize("locale", sorted(BRIDGE))
def test_bridge_and_sales_effort_findings(locale: str) -> None:
    bridge, effort = BRIDGE[locale]
    revenue = {
        "period": "2025-05",
        "value": 90000.0,
        "n": 950,
        "previous": _comparison("2025-04", 100000.0, -10000.0, -15000.0, -5000.0),
        "year_earlier": None,
    }
    doc = _doc(
        locale,
        kpis={"orders": 20000},
        trends={"net_revenue": revenue},
        bridge={
            "previous": {
                "period": "2025-05",
                "base_period": "2025-04",
                "revenue": 90000.0,
                "base_revenue": 100000.0,
                "change": -10000.0,
                "parts": {"customers": -12000.0, "orders_per_customer": 500.0, "aov": 1500.0},
            },
            "year_earlier": None,
        },
        sales_effort={
            "hours": 1234.4,
            "small_order_hours": 456.7,
            "orders_moved_online": 3702.6,
            "offline_order_minutes": 7.5,
        },
    )
    found = {f["kind"]: f["sentence"] for f in findings(doc)}
    assert (found["bridge"], found["sales_effort"]) == (bridge, effort)


# ------------------------------------------------------------------ accounts section

TOP_REVERTED = {
    "customer_id": "A1",
    "first_online_date": "2025-03-01",
    "days_to_revert": 16.5,
    "orders_since": 1200,
    "revenue_since": 1234.5,
    "revenue_12m": 700.0,
}
SECTIONS = {
    "de-DE": [
        (
            f"Zurück zu offline: 2 Kunden, 750,00{NB}€ im Jahr (Median 17 Tage bis zur Rückkehr)",
            "erste Online-Bestellung im Zeitraum, jede spätere Bestellung offline",
            [
                "Kunde",
                "Erste Online-Bestellung",
                "Tage bis zur Rückkehr",
                "Bestellungen seitdem",
                "Umsatz seitdem",
                "Umsatz, letzte 12 Monate",
            ],
            [["A1", "01.03.2025", "16,5", "1.200", "1.234,50", "700,00"]],
        ),
        (
            f"Überfällig: 1 Kunde, 100,00{NB}€ im Jahr",
            "Stammkunden, deren nächste Bestellung längst überfällig ist",
            [],
            [],
        ),
    ],
    "es-ES": [
        (
            f"Vuelta a offline: 2 clientes, 750,00{NB}€ al año (mediana de 17 días hasta volver)",
            "primer pedido online en el periodo, todos los posteriores offline",
            [
                "Cliente",
                "Primer pedido online",
                "Días hasta volver",
                "Pedidos desde entonces",
                "Ingresos desde entonces",
                "Ingresos, últimos 12 meses",
            ],
            [["A1", "1 mar 2025", "16,5", "1.200", "1.234,50", "700,00"]],
        ),
        (
            f"Con retraso: 1 cliente, 100,00{NB}€ al año",
            "clientes habituales cuyo próximo pedido lleva mucho retraso",
            [],
            [],
        ),
    ],
}
PAGE = {
    "de-DE": (
        '<h2>Kunden zum Anrufen</h2>\n<p class="meta">Die 5 Kunden jeder Liste mit dem '
        "größten Umsatz der letzten 12 Monate (dem Umsatz auf dem Spiel); alle Kunden stehen "
        'in <a href="accounts.xlsx">accounts.xlsx</a>, ein Blatt je Liste.</p>'
    ),
    "es-ES": (
        '<h2>Clientes a los que llamar</h2>\n<p class="meta">Los 5 clientes de cada lista '
        "con más ingresos en los últimos 12 meses (los ingresos en juego); todos los clientes "
        'están en <a href="accounts.xlsx">accounts.xlsx</a>, una hoja por lista.</p>'
    ),
}


@pytest.mark.parametrize("locale", sorted(SECTIONS))
def test_accounts_section(locale: str) -> None:
    accounts = {
        "reverted": {
            "count": 2,
            "revenue_at_stake": 750.0,
            "median_days": 17.0,
            "top": [TOP_REVERTED],
        },
        "overdue": {"count": 1, "revenue_at_stake": 100.0, "top": []},
    }
    doc = _doc(locale, accounts=accounts)
    got = [(s["heading"], s["description"], s["headers"], s["rows"]) for s in account_sections(doc)]
    assert got == SECTIONS[locale]
    page = client_page(ClientResult(Path(), "t", "Test", Path(), kpis=doc))
    assert PAGE[locale] in page
    assert f'<h3 id="accounts-reverted">{SECTIONS[locale][0][0]}</h3>' in page
    assert '<td class="num">1.234,50</td>' in page


# ------------------------------------------------------------------ rows outside the window

NOTES = {
    "en-US": (
        "1 order (gross value 1,234.50 EUR) on 2024-12-30 and 1,200 orders (gross value "
        "99.00 EUR) from 2025-07-01 to 2025-07-31 are outside the analysis window (2025-01-01 "
        "to 2025-06-30) and left out of its KPIs (orders before the window still count as "
        "customer history).",
        "1 visit on 2025-07-01 is outside the analysis window (2025-01-01 to 2025-06-30) and "
        "left out of its KPIs.",
    ),
    "de-DE": (
        f"1 Bestellung (Bruttowert 1.234,50{NB}€) am 30.12.2024 und 1.200 Bestellungen "
        f"(Bruttowert 99,00{NB}€) vom 01.07.2025 bis 31.07.2025 liegen außerhalb des "
        "Analysezeitraums (01.01.2025 bis 30.06.2025) und fließen nicht in seine Kennzahlen "
        "ein (Bestellungen vor dem Zeitraum zählen weiter als Kundenhistorie).",
        "1 Besuch am 01.07.2025 liegt außerhalb des Analysezeitraums (01.01.2025 bis "
        "30.06.2025) und fließt nicht in seine Kennzahlen ein.",
    ),
    "es-ES": (
        f"1 pedido (valor bruto 1.234,50{NB}€) el 30 dic 2024 y 1.200 pedidos (valor bruto "
        f"99,00{NB}€) del 1 jul 2025 al 31 jul 2025 quedan fuera del periodo de análisis (del "
        "1 ene 2025 al 30 jun 2025) y no entran en sus indicadores (los pedidos anteriores al "
        "periodo siguen contando como historial del cliente).",
        "1 visita el 1 jul 2025 queda fuera del periodo de análisis (del 1 ene 2025 al 30 jun "
        "2025) y no entra en sus indicadores.",
    ),
}


@pytest.mark.parametrize("locale", sorted(NOTES))
def test_notes_on_rows_outside_the_window(locale: str) -> None:
    orders, visits = NOTES[locale]
    day = dt.date
    lo, hi = day(2025, 1, 1), day(2025, 6, 30)
    sides = pl.DataFrame(
        {
            "after": [False, True],
            "rows": [1, 1200],
            "first": [day(2024, 12, 30), day(2025, 7, 1)],
            "last": [day(2024, 12, 30), day(2025, 7, 31)],
            "value": [1234.5, 99.0],
        }
    )
    assert _note(sides, OUTSIDE_WINDOW["orders"], lo, hi, "EUR", locale) == orders
    one = pl.DataFrame(
        {"after": [True], "rows": [1], "first": [day(2025, 7, 1)], "last": [day(2025, 7, 1)]}
    ).with_columns(value=pl.lit(None, pl.Float64))
    assert _note(one, OUTSIDE_WINDOW["visits"], lo, hi, "EUR", locale) == visits
