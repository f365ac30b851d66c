"""Number, money, percent and date formats of :mod:`b2b_analysis.i18n`, against strings
written by hand from the conventions of each language (not from babel's output)."""

from __future__ import annotations

import datetime as dt

import pytest

from b2b_analysis import i18n, narrative
from b2b_analysis.config import ClientParams

NB = "\u00a0"  # the no-break space German and Spanish put before € and %


@pytest.mark.parametrize(
    ("locale", "money", "percent", "decimal", "count"),
    [
        ("en-US", "1,896,347.50 EUR", "45.7%", "-1,234.5", "12,345"),
        ("de-DE", f"1.896.347,50{NB}€", f"45,7{NB}%", "-1.234,5", "12.345"),
        ("es-ES", f"1.896.347,50{NB}€", f"45,7{NB}%", "-1.234,5", "12.345"),
    ],
)
def test_formats_follow_the_locale(
    locale: str, money: str, percent: str, decimal: str, count: str
) -> None:
    assert i18n.format_money(1896347.5, "EUR", locale) == money
    assert i18n.format_percent(0.4567, locale) == percent
    assert i18n.format_decimal(-1234.5, locale) == decimal
    assert i18n.format_count(12345, locale) == count


def test_money_digits_and_other_currencies() -> None:
    assert i18n.format_money(1896347.5, "SEK", "de-DE") == f"1.896.347,50{NB}SEK"
    assert i18n.format_money(1896347.5, "EUR", "de-DE", digits=0) == f"1.896.348{NB}€"
    assert i18n.format_money(1896347.5, "USD", "en-US", digits=0) == "1,896,348 USD"
    assert i18n.format_money(12.5, "", "de-DE") == "12,50"


def test_dates() -> None:
    day = dt.date(2025, 3, 1)
    assert i18n.format_date(day) == "2025-03-01"
    assert i18n.format_date(day, "de-DE") == "01.03.2025"
    assert i18n.format_date("2025-03-01", "es-ES") == "1 mar 2025"


def test_format_value_keeps_the_default_output_and_follows_the_locale() -> None:
    """en-US writes exactly what the scorecard always wrote."""
    assert narrative.format_value(0.4567, "rate") == "45.7%"
    assert narrative.format_value(1234.5, "money", "EUR") == "1,234.50 EUR"
    assert narrative.format_value(1234.5, "money") == "1,234.50"
    assert narrative.format_value(None, "count") == "n/a"
    assert narrative.format_value(1234.4, "days") == "1,234 days"
    assert narrative.format_value(-12.0, "score") == "-12.0"
    assert narrative.format_value(1234.4, "days", locale="de-DE") == "1.234 Tage"
    assert narrative.format_value(None, "count", locale="es-ES") == "n/d"
    assert narrative.format_value(1234.5, "money", "EUR", "es-ES") == f"1.234,50{NB}€"


def test_d3_locale_for_charts() -> None:
    de = i18n.d3_format_locale("de-DE", "EUR")
    assert (de["decimal"], de["thousands"], de["currency"]) == (",", ".", ["", f"{NB}€"])
    en = i18n.d3_format_locale("en-US", "USD")
    assert (en["decimal"], en["thousands"], en["currency"]) == (".", ",", ["", f"{NB}USD"])
    time = i18n.d3_time_locale("de-DE")
    assert time["months"][0] == "Januar" and time["days"][0] == "Sonntag"
    assert time["shortMonths"][2] == "März"
    options = i18n.embed_options("es-ES", "EUR")
    assert options["formatLocale"]["currency"] == ["", f"{NB}€"]
    assert options["timeFormatLocale"]["months"][0] == "enero"


def test_locale_is_checked_and_normalised() -> None:
    assert i18n.check_locale("de_DE") == "de-DE"
    with pytest.raises(ValueError, match="unknown locale 'xx-QQ'"):
        i18n.check_locale("xx-QQ")
    params = ClientParams.model_validate({"client": "X", "data": {"orders": "o.csv"}})
    assert params.locale == "en-US"
    params = ClientParams.model_validate(
        {"client": "X", "data": {"orders": "o.csv"}, "locale": "es_ES"}
    )
    assert params.locale == "es-ES"


def test_text_falls_back_to_english_for_other_languages() -> None:
    assert i18n.language("fr-FR") == "en"
    assert i18n.text("page.pages", "fr-FR") == "Pages"
    assert i18n.text("unit.days", "de-DE", n="3") == "3 Tage"
    assert i18n.kpi_label("net_revenue", "es-ES") == "Ingresos netos"
    with pytest.raises(KeyError):
        i18n.text("no.such.key")
