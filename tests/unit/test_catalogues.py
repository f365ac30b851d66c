"""The message catalogues (``b2b_analysis/locales/<lang>.json``): every language has
every entry, no entry is left unused, and every key the code asks for exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from b2b_analysis import charts, i18n
from b2b_analysis.accounts import COLUMNS, LISTS
from b2b_analysis.kpis import OUTSIDE_WINDOW
from b2b_analysis.registry import REGISTRY
from b2b_analysis.report.contents import NOTEBOOKS
from b2b_analysis.trends import N_NOUNS

PACKAGE = Path(i18n.__file__).parent
NOTEBOOK_DIR = PACKAGE.parent / "notebooks"

#: Keys built at run time from a known set of names (prefix -> the names).
FAMILIES: dict[str, set[str]] = {
    "kpi.": set(REGISTRY),
    "chart.state.": {"online-only", "hybrid", "offline-only", "inactive"},
    "chart.outcome.": {o.replace(" ", "_") for o in charts.OUTCOMES},
    "chart.channel.": {"online", "offline"},
    "chart.aov_shift.": {"title", "subtitle"},
    "chart.aov_ratio.": {"title", "subtitle"},
    "header.series.": {"week", "month", "quarter"},
    "table.": {"visits", "surveys", "order_lines", "investments"},
    "portfolio.status.": {"ok", "incomplete", "failed"},
    "page.": set(NOTEBOOKS),
    "nb.": {f"{name}.intro" for name in NOTEBOOKS},
    "sentence.change.": {"up", "down", "flat"},
    "sentence.untested.": {"up", "down", "flat"},
    "finding.accounts.": set(LISTS),
    "finding.trend.": {"up", "down"},
    "finding.bridge.": {"up", "down"},
    "finding.which.": {"previous", "year_earlier"},
    "finding.part.": {"customers", "orders_per_customer", "aov"},
}
#: Keys only other languages hold: English KPI labels are the registry's, the n nouns
#: ``trends.N_NOUNS`` and the registry's ``n``, the account lists' titles, descriptions
#: and column labels ``accounts.LISTS`` and ``accounts.COLUMNS`` (``i18n.worded``).
NOT_IN_ENGLISH = (
    {f"kpi.{key}" for key in REGISTRY}
    | {f"n.{key}" for key in N_NOUNS}
    | {f"finding.n.{key}" for key in REGISTRY}
    | {f"accounts.{part}.{name}" for name in LISTS for part in ("title", "description")}
    | {f"accounts.column.{column}" for column in COLUMNS}
)
#: Plural entries (``i18n.plural``) named outside a ``plural(...)`` call.
PLURAL_BASES = {dated.noun for dated in OUTSIDE_WINDOW.values()}
PLURAL_CALL = re.compile(r"""\bplural\(\s*["']([a-z][a-z0-9_.\-]*)["']""")


def _sources() -> str:
    files = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.j2"), *NOTEBOOK_DIR.glob("*.ipynb")]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _plurals(sources: str) -> set[str]:
    """Every plural's entries: ``<base>.one`` and ``<base>.other``."""
    bases = set(PLURAL_CALL.findall(sources)) | PLURAL_BASES
    return {f"{base}.{form}" for base in bases for form in ("one", "other")}


def test_every_language_has_every_entry_and_no_more() -> None:
    english = set(i18n.catalogue("en"))
    assert not english & NOT_IN_ENGLISH
    for lang in i18n.LANGUAGES[1:]:
        keys = set(i18n.catalogue(lang))
        missing = sorted((english | NOT_IN_ENGLISH) - keys)
        extra = sorted(keys - english - NOT_IN_ENGLISH)
        assert missing == [], f"{lang}.json lacks {missing}"
        assert extra == [], f"{lang}.json has entries English lacks: {extra}"


def test_translations_keep_the_placeholders() -> None:
    english = i18n.catalogue("en")
    for lang in i18n.LANGUAGES[1:]:
        for key, text in i18n.catalogue(lang).items():
            if key in english:
                assert _fields(text) == _fields(english[key]), f"{lang}.json {key}"
            assert text.strip(), f"{lang}.json {key} is empty"


def test_no_entry_is_unused() -> None:
    sources = _sources()
    generated = {prefix + name for prefix, names in FAMILIES.items() for name in names}
    generated |= _plurals(sources)
    unused = [
        key
        for key in i18n.catalogue("en")
        if key not in generated
        and f'"{key}"' not in sources
        and f"'{key}'" not in sources
        and f'\\"{key}\\"' not in sources
    ]
    assert unused == []


def test_every_key_the_code_asks_for_exists() -> None:
    english = set(i18n.catalogue("en"))
    literal = re.compile(
        r"""\b(?:_t|t|text)\(\s*\\?["']([a-z][a-z0-9_.\-]*\.[a-z0-9_.\-]+)\\?["']"""
    )
    asked = set(literal.findall(_sources()))
    assert asked, "the pattern finds the calls"
    # a key written as a prefix plus a name ("portfolio.status." + status) is a family
    prefixes = {key for key in asked if key.endswith(".")}
    assert sorted(prefixes - set(FAMILIES)) == []
    assert sorted(asked - prefixes - english) == []
    for prefix, names in FAMILIES.items():
        for name in names:
            key = prefix + name
            assert key in english or key in NOT_IN_ENGLISH, key
    plurals = _plurals(_sources())
    assert len(plurals) > 2 * len(PLURAL_BASES), "the pattern finds the plural calls"
    assert sorted(plurals - english) == []


def test_english_words_kept_in_the_code_have_their_translations() -> None:
    """The words ``i18n.worded`` takes from the code (registry, account lists) exist in
    every other language, and nothing else of that kind does."""
    for lang in i18n.LANGUAGES[1:]:
        words = {k for k in i18n.catalogue(lang) if k not in i18n.catalogue("en")}
        assert words == NOT_IN_ENGLISH, lang
