"""The message catalogues (``b2b_analysis/locales/<lang>.json``): every language has
every entry, no entry is left unused, and every key the code asks for exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from b2b_analysis import charts, i18n
from b2b_analysis.registry import REGISTRY
from b2b_analysis.report.contents import NOTEBOOKS

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
}
#: Keys only other languages hold (English KPI labels are the registry's).
NOT_IN_ENGLISH = {f"kpi.{key}" for key in REGISTRY}


def _sources() -> str:
    files = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.j2"), *NOTEBOOK_DIR.glob("*.ipynb")]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


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
