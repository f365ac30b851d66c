"""The house colours and fonts: one place for the stylesheet and the chart theme.

The stylesheet (``templates/assets/b2b.css.j2``, rendered by
:func:`b2b_analysis.templating.stylesheet`) and the altair theme
(:mod:`b2b_analysis.charts`) both take their colours from here, so a page and its
charts always agree. Plain constants: importing this module needs neither altair
nor jinja2.

>>> FONT.startswith("system-ui, ") and ONLINE == BRAND
True
"""

from __future__ import annotations

__all__ = [
    "BAD",
    "BRAND",
    "CATEGORY",
    "FONT",
    "FONTS",
    "GOOD",
    "GRID",
    "HYBRID",
    "INK",
    "MUTED",
    "OFFLINE",
    "ONLINE",
    "REVERTED",
    "SOFT_INK",
]

#: The font stack, first choice first (CSS writes it joined by commas).
FONTS: tuple[str, ...] = (
    "system-ui",
    "-apple-system",
    "'Segoe UI'",
    "Roboto",
    "Helvetica",
    "Arial",
    "sans-serif",
)
#: The font stack as one CSS/Vega value.
FONT = ", ".join(FONTS)

#: Body text and titles.
INK = "#1f2933"
#: Secondary text (the scorecard's sentences).
SOFT_INK = "#3e4c59"
#: Labels, meta lines, axis labels and titles.
MUTED = "#616e7c"
#: Rules between rows, grid lines, axis domains and ticks.
GRID = "#e4e7eb"
#: The brand colour: links and the online channel.
BRAND = "#1f77b4"
#: Channel colours: online is the brand colour, offline a neutral.
ONLINE = BRAND
OFFLINE = "#9aa5b1"
#: Customers buying on both channels (between online and offline).
HYBRID = "#6baed6"
#: Customers who went back to offline after trying the webshop.
REVERTED = "#d62728"
#: Further series of a chart, after the online colour (the offline neutral comes last).
CATEGORY: tuple[str, ...] = ("#ff7f0e", "#2ca02c", REVERTED, "#9467bd", "#8c564b", "#e377c2")
#: A change for the better, and for the worse (trend arrows, failures).
GOOD = "#1a7f37"
BAD = "#c0392b"
