"""The notebooks' entry point: one client's data, KPIs and the frames behind each chart.

A notebook's first cell is ``a = open_analysis(params_path, start=..., end=..., period=...)``;
every later cell is one call on ``a`` plus its display. The ``report`` runner
(:mod:`b2b_analysis.report`) injects exactly those parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import os
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from b2b_analysis import metrics as m
from b2b_analysis.cache import from_environment
from b2b_analysis.config import load_params, parse_date
from b2b_analysis.io import ClientData, load_client
from b2b_analysis.kpis import KpiReport, compute_kpis
from b2b_analysis.periods import Calendar

__all__ = ["Analysis", "markdown_text", "open_analysis"]


@dataclass
class Analysis:
    """One client's data, KPIs and the frames behind every chart (cached)."""

    data: ClientData
    kpis: KpiReport

    @property
    def start(self) -> dt.date:
        return self.kpis.start

    @property
    def end(self) -> dt.date:
        return self.kpis.end

    @property
    def calendar(self) -> Calendar:
        return self.kpis.calendar

    @property
    def orders(self) -> pl.LazyFrame:
        """All orders (history before the window included); every metric takes these
        with the window's ``start`` and ``end``."""
        return self.data.orders.lazy()

    def header(self) -> Any:
        """Markdown heading: client, window and period (the client name is escaped), then
        one paragraph per table with rows outside the window (``KpiReport.window_notes``):
        what the KPIs leave out is said where they are shown."""
        from IPython.display import Markdown

        k = self.kpis
        lines = [
            f"**{markdown_text(k.client)}** · {k.start} to {k.end} · {k.period}ly series · "
            f"amounts in {k.currency}",
            *(markdown_text(note) for note in k.window_notes.values()),
        ]
        return Markdown("\n\n".join(lines))

    @functools.cached_property
    def cohorts(self) -> pl.DataFrame:
        """:func:`metrics.cohort_retention` over the window."""
        return m.cohort_retention(
            self.orders, calendar=self.calendar, start=self.start, end=self.end
        ).collect()

    def channel_states(self) -> pl.LazyFrame:
        """:func:`metrics.channel_states`: each customer's state in each period."""
        return m.channel_states(self.orders, calendar=self.calendar, start=self.start, end=self.end)

    def channel_state_counts(self) -> pl.LazyFrame:
        """:func:`metrics.channel_state_counts`: customers per period and state."""
        return m.channel_state_counts(self.channel_states(), calendar=self.calendar)

    def adoption(self) -> pl.LazyFrame:
        """:func:`metrics.online_adoption`: one row per new online customer."""
        return m.online_adoption(self.orders, start=self.start, end=self.end)

    def adoption_outcomes(self) -> pl.LazyFrame:
        """:func:`metrics.adoption_outcomes`: new online customers per month and outcome."""
        return m.adoption_outcomes(self.adoption())

    def satisfaction(self) -> pl.LazyFrame | None:
        """:func:`metrics.retention_by_satisfaction`; None without a surveys table."""
        if self.data.surveys is None:
            return None
        return m.retention_by_satisfaction(
            self.orders, self.data.surveys.lazy(), start=self.start, end=self.end
        )

    def frequency(self) -> pl.LazyFrame:
        """:func:`metrics.orders_per_customer` per period of the window."""
        return m.orders_per_customer(
            self.orders, calendar=self.calendar, start=self.start, end=self.end
        )

    def aov(self) -> pl.LazyFrame:
        """:func:`metrics.aov_by_channel` per period of the window."""
        return m.aov_by_channel(self.orders, calendar=self.calendar, start=self.start, end=self.end)

    def aov_comparison(self) -> pl.LazyFrame:
        """:func:`metrics.customer_aov_comparison` over the window."""
        return m.customer_aov_comparison(self.orders, start=self.start, end=self.end)

    def aov_shifts(self) -> pl.LazyFrame:
        """:func:`metrics.aov_before_after_online` for the window's new online customers."""
        return m.aov_before_after_online(self.orders, start=self.start, end=self.end)

    def aov_shift_histogram(self) -> pl.LazyFrame:
        """:func:`metrics.aov_shift_histogram` of :meth:`aov_shifts`."""
        return m.aov_shift_histogram(self.aov_shifts())

    def baskets(self) -> pl.LazyFrame:
        """:func:`metrics.basket_by_channel` per period of the window."""
        lines = self.data.order_lines.lazy() if self.data.order_lines is not None else None
        return m.basket_by_channel(
            self.orders, lines, calendar=self.calendar, start=self.start, end=self.end
        )


def markdown_text(text: str) -> str:
    r"""Text shown literally in Markdown: one line, Markdown punctuation backslash-escaped,
    then HTML escaped (nbconvert passes raw HTML in Markdown through to the page).

    >>> print(markdown_text("<b>*Acme*</b>\n'Q'"))
    &lt;b&gt;\*Acme\*&lt;/b&gt; &#x27;Q&#x27;
    """
    punctuation = re.sub(r"([\\`*_{}\[\]()#+!|~-])", r"\\\1", " ".join(text.split()))
    return html.escape(punctuation, quote=True)


def open_analysis(
    params_path: str | os.PathLike[str],
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    period: str | None = None,
) -> Analysis:
    """Load a client and compute its KPIs: the first call of every notebook.

    In a ``report`` run the KPI step has done both already: the tables and KPIs it
    saved for this params file and window are taken as they are
    (:func:`b2b_analysis.cache.from_environment`; a notebook opened alone computes).
    """
    first, last = parse_date(start, "start"), parse_date(end, "end")
    saved = from_environment(params_path, first, last, period)
    if saved is not None:
        return Analysis(data=saved[0], kpis=saved[1])
    data = load_client(load_params(params_path))
    kpis = compute_kpis(data, start=first, end=last, period=period)  # type: ignore[arg-type]
    return Analysis(data=data, kpis=kpis)
