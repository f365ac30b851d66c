"""The client's language: number, money, percent and date formats, and the report's text.

A client's params file names a ``locale`` (``en-US``, ``de-DE``, ``es-ES``...; default
:data:`DEFAULT`). Numbers, amounts, percentages and dates are written with babel's
CLDR data for that locale; the report's own words (headings, labels, notes, chart
titles) come from one message catalogue per language (``locales/<lang>.json``),
looked up with :func:`text`.

The default locale keeps the toolkit's historical style: amounts are followed by
the ISO currency code (``1,234.50 EUR``); every other locale writes amounts as its
own convention wants them (``1.234,50 €`` in German).

>>> format_money(1896347.5, "EUR", "de-DE")
'1.896.347,50\\xa0€'
>>> format_money(1896347.5, "EUR", "en-US")
'1,896,347.50 EUR'
>>> format_percent(0.4567, "es-ES"), format_percent(0.4567, "en-US")
('45,7\\xa0%', '45.7%')
>>> text("page.pages", "de-DE")
'Seiten'
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from pathlib import Path
from typing import Any

import babel
import babel.dates
import babel.numbers

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "catalogue",
    "check_locale",
    "d3_format_locale",
    "d3_time_locale",
    "embed_options",
    "format_count",
    "format_date",
    "format_decimal",
    "format_money",
    "format_percent",
    "format_plain",
    "format_signed",
    "kpi_label",
    "language",
    "plural",
    "text",
    "worded",
]

#: The locale of a params file without a ``locale`` key.
DEFAULT = "en-US"
#: Languages with a message catalogue (``locales/<lang>.json``); others fall back to English.
LANGUAGES: tuple[str, ...] = ("en", "de", "es")
CATALOGUES = Path(__file__).parent / "locales"


@functools.cache
def _locale(tag: str) -> babel.Locale:
    return babel.Locale.parse(tag.replace("-", "_"))


def check_locale(tag: str) -> str:
    """``tag`` when babel knows it (``de-DE`` or ``de_DE``), normalised to ``de-DE``.

    Raises :class:`ValueError` naming the tag otherwise.

    >>> check_locale("de_DE")
    'de-DE'
    """
    try:
        loc = _locale(tag)
    except (ValueError, TypeError, babel.UnknownLocaleError):
        raise ValueError(
            f"unknown locale {tag!r} (use a language and region such as 'de-DE', 'es-ES' "
            "or 'en-US')"
        ) from None
    return "-".join(part for part in (loc.language, loc.territory) if part)


def language(tag: str) -> str:
    """The catalogue language of ``tag``: its language when catalogued, else ``en``.

    >>> language("es-MX"), language("fr-FR")
    ('es', 'en')
    """
    lang = _locale(tag).language
    return lang if lang in LANGUAGES else "en"


def _symbols(tag: str) -> dict[str, str]:
    loc = _locale(tag)
    return dict(loc.number_symbols.get("latn", loc.number_symbols))


def _digits_pattern(pattern: str, digits: int) -> str:
    """A CLDR pattern with exactly ``digits`` fraction digits (``#,##0 %`` -> ``#,##0.0 %``)."""
    body = re.sub(r"\.[0#]+", "", pattern.split(";")[0])
    fraction = "." + "0" * digits if digits > 0 else ""
    return re.sub(r"0(?![0#,])", "0" + fraction, body, count=1)


def _is_default(tag: str) -> bool:
    return tag == DEFAULT


def kpi_label(key: str, locale: str = DEFAULT) -> str:
    """The label of a registry KPI in the language of ``locale``.

    English labels are the registry's own; other languages hold ``kpi.<key>``.

    >>> kpi_label("net_revenue", "de-DE"), kpi_label("net_revenue")
    ('Nettoumsatz', 'Net revenue')
    """
    from b2b_analysis.registry import REGISTRY

    info = REGISTRY.get(key)
    english = info.label if info is not None else key.replace("_", " ").capitalize()
    return worded(f"kpi.{key}", english, locale)


def worded(key: str, english: str, locale: str = DEFAULT) -> str:
    """``english`` in the language of ``locale``: for a word whose English lives in the
    code (a registry label, a column's label), other languages hold ``key``.

    >>> worded("kpi.orders", "Orders", "de-DE"), worded("kpi.orders", "Orders")
    ('Bestellungen', 'Orders')
    """
    lang = language(locale)
    if lang != "en":
        found = catalogue(lang).get(key)
        if found is not None:
            return found
    return english


def format_decimal(value: float, locale: str = DEFAULT, digits: int = 1) -> str:
    """``value`` grouped, with ``digits`` fraction digits.

    >>> format_decimal(-1234.5, "de-DE"), format_decimal(1234.5, "en-US", 0)
    ('-1.234,5', '1,234')
    """
    if _is_default(locale):  # the toolkit's historical output, to the character
        return f"{value:,.{digits}f}"
    pattern = _digits_pattern(_locale(locale).decimal_formats[None].pattern, digits)
    return babel.numbers.format_decimal(value, format=pattern, locale=_locale(locale))


def format_signed(value: float, locale: str = DEFAULT, digits: int = 1) -> str:
    """``value`` with its sign always written (``+1,234.5``, ``-0.3``; ``+1.234,5`` in German).

    >>> format_signed(1234.5), format_signed(-0.25, "es-ES", 2), format_signed(-0.0)
    ('+1,234.5', '-0,25', '-0.0')
    """
    if _is_default(locale):
        return f"{value:+,.{digits}f}"
    sign = "-" if math.copysign(1.0, value) < 0 else "+"
    return sign + format_decimal(abs(value), locale, digits)


def format_plain(value: float, locale: str = DEFAULT) -> str:
    """A number with as few fraction digits as it needs (``7.5``, ``15``; ``7,5`` in German).

    >>> format_plain(7.5), format_plain(15.0), format_plain(7.5, "de-DE")
    ('7.5', '15', '7,5')
    """
    if _is_default(locale):
        return f"{value:g}"
    return babel.numbers.format_decimal(value, locale=_locale(locale))


def format_count(value: float, locale: str = DEFAULT) -> str:
    """A whole number, grouped (``1.234`` in German)."""
    return format_decimal(int(value), locale, 0)


def format_percent(value: float, locale: str = DEFAULT, digits: int = 1) -> str:
    """A proportion as a percentage with ``digits`` fraction digits (``0.25`` -> ``25.0%``)."""
    if _is_default(locale):
        return f"{value:.{digits}%}"
    pattern = _digits_pattern(_locale(locale).percent_formats[None].pattern, digits)
    return babel.numbers.format_percent(value, format=pattern, locale=_locale(locale))


def format_money(value: float, currency: str, locale: str = DEFAULT, digits: int = 2) -> str:
    """An amount in ``currency`` with ``digits`` fraction digits.

    The default locale writes the code after the number (``1,234.50 EUR``), every
    other locale its own convention (``1.234,50 €``, ``1.234,50 SEK``).
    """
    if not currency:
        return format_decimal(value, locale, digits)
    if _is_default(locale):
        return f"{format_decimal(value, locale, digits)} {currency}"
    pattern = _digits_pattern(_locale(locale).currency_formats["standard"].pattern, digits)
    return babel.numbers.format_currency(
        value, currency, format=pattern, locale=_locale(locale), currency_digits=False
    )


def format_date(value: dt.date | str, locale: str = DEFAULT) -> str:
    """A date in the locale's medium style; the default locale keeps ISO dates.

    >>> format_date("2025-03-01", "de-DE"), format_date(dt.date(2025, 3, 1))
    ('01.03.2025', '2025-03-01')
    """
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    if _is_default(locale):
        return day.isoformat()
    return babel.dates.format_date(day, "medium", locale=_locale(locale))


# ------------------------------------------------------------------ charts (d3-format)


def _currency_affix(currency: str, locale: str) -> list[str]:
    """d3's ``currency`` pair (prefix, suffix) for ``currency`` in ``locale``."""
    if not currency:
        return ["", ""]
    loc = _locale(locale)
    symbol = babel.numbers.get_currency_symbol(currency, locale=loc)
    pattern = loc.currency_formats["standard"].pattern.split(";")[0]
    if _is_default(locale):
        return ["", f"\u00a0{currency}"]
    if pattern.startswith("¤"):
        return [symbol, ""]
    space = "\u00a0" if re.search(r"\s¤", pattern) else ""
    return ["", f"{space}{symbol}"]


def d3_format_locale(locale: str = DEFAULT, currency: str = "") -> dict[str, Any]:
    """The d3-format locale of a chart (vega-embed's ``formatLocale`` option).

    >>> d3_format_locale("de-DE", "EUR")["currency"], d3_format_locale("de-DE")["decimal"]
    (['', '\\xa0€'], ',')
    """
    symbols = _symbols(locale)
    return {
        "decimal": symbols["decimal"],
        "thousands": symbols["group"],
        "grouping": [3],
        "currency": _currency_affix(currency, locale),
        "percent": "\u00a0%" if "\u00a0%" in _locale(locale).percent_formats[None].pattern else "%",
        "minus": symbols.get("minusSign", "-"),
    }


def d3_time_locale(locale: str = DEFAULT) -> dict[str, Any]:
    """The d3-time-format locale (vega-embed's ``timeFormatLocale``): month and day names."""
    loc = _locale(locale)
    # d3 weeks start on Sunday, CLDR's day keys on Monday (0)
    order = [6, 0, 1, 2, 3, 4, 5]
    days = loc.days["format"]
    months = loc.months["format"]
    return {
        "dateTime": "%x, %X",
        "date": "%Y-%m-%d" if _is_default(locale) else "%d.%m.%Y",
        "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": [str(days["wide"][i]) for i in order],
        "shortDays": [str(days["abbreviated"][i]) for i in order],
        "months": [str(months["wide"][i]) for i in range(1, 13)],
        "shortMonths": [str(months["abbreviated"][i]) for i in range(1, 13)],
    }


def embed_options(locale: str = DEFAULT, currency: str = "") -> dict[str, Any]:
    """vega-embed options that make a chart write numbers and dates in ``locale``."""
    return {
        "formatLocale": d3_format_locale(locale, currency),
        "timeFormatLocale": d3_time_locale(locale),
    }


# ------------------------------------------------------------------ catalogues


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The message catalogue of one language (``en``, ``de``, ``es``): key -> text."""
    data: dict[str, str] = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def text(key: str, locale: str = DEFAULT, /, **fields: Any) -> str:
    """The report text ``key`` in the language of ``locale``, its ``{fields}`` filled in.

    A key missing from the language's catalogue falls back to English (the
    catalogue test keeps them complete); an unknown key raises :class:`KeyError`.

    >>> text("chart.cohort.size", "es-ES")
    'Tamaño'
    """
    found = catalogue(language(locale)).get(key)
    if found is None:
        found = catalogue("en")[key]
    return found.format(**fields) if fields else found


def plural(key: str, count: float, locale: str = DEFAULT, /, **fields: Any) -> str:
    """The report text ``key.one`` or ``key.other``, by the plural rule (CLDR, via babel)
    of ``locale``'s language for ``count``; ``{n}`` is ``count`` written as a whole number
    (:func:`format_count`) unless ``fields`` give it.

    >>> plural("accounts.count", 1, "de-DE"), plural("accounts.count", 1200, "de-DE")
    ('1 Kunde', '1.200 Kunden')
    >>> plural("accounts.count", 1), plural("accounts.count", 0)
    ('1 account', '0 accounts')
    """
    form = _locale(locale).plural_form(abs(count))
    fields.setdefault("n", format_count(count, locale))
    return text(f"{key}.{'one' if form == 'one' else 'other'}", locale, **fields)
