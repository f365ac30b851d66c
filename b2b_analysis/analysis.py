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

from b2b_analysis import bridge
from b2b_analysis import metrics as m
from b2b_analysis.cache import from_environment
from b2b_analysis.config import load_params, parse_date
from b2b_analysis.io import ClientData, load_client
from b2b_analysis.kpis import KpiReport, compute_kpis
from b2b_analysis.periods import Calendar
from b2b_analysis.trends import flag_cohort_cells

__all__ = ["MIN_PAIRS", "Analysis", "markdown_text", "open_analysis"]

#: Fewest customer-periods a satisfaction band needs before its retention is shown.
MIN_PAIRS = 30


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
    def locale(self) -> str:
        """The params file's ``locale``: how the charts and tables write numbers and dates."""
        return self.kpis.locale

    @property
    def currency(self) -> str:
        return self.kpis.currency

    def t(self, key: str, **fields: Any) -> str:
        """The report text ``key`` in the client's language (:func:`b2b_analysis.i18n.text`)."""
        from b2b_analysis.i18n import text

        return text(key, self.locale, **fields)

    def text(self, key: str) -> Any:
        """A heading (and its note) of the report in the client's language, as Markdown."""
        from IPython.display import Markdown

        return Markdown(self.t(key))

    @property
    def orders(self) -> pl.LazyFrame:
        """All orders (history before the window included); every metric takes these
        with the window's ``start`` and ``end``."""
        return self.data.orders.lazy()

    def title(self, page: str) -> Any:
        """The page's title and question in the client's language (HTML: ``page.<page>``
        and ``nb.<page>.intro`` of the catalogue)."""
        from IPython.display import HTML

        return HTML(
            f"<h1>{html.escape(self.t(f'page.{page}'))}</h1>\n"
            f"<p>{html.escape(self.t(f'nb.{page}.intro'))}</p>"
        )

    def header(self) -> Any:
        """Markdown heading: client, window and period (the client name is escaped), then
        one paragraph per table with rows outside the window (``KpiReport.window_notes``):
        what the KPIs leave out is said where they are shown."""
        from IPython.display import Markdown

        from b2b_analysis.i18n import format_date, text

        k = self.kpis
        window = text(
            "header.window",
            k.locale,
            start=format_date(k.start, k.locale),
            end=format_date(k.end, k.locale),
            series=text(f"header.series.{k.period}", k.locale),
            currency=k.currency,
        )
        lines = [
            f"**{markdown_text(k.client)}** · {window}",
            *(markdown_text(note) for note in k.window_notes.values()),
        ]
        return Markdown("\n\n".join(lines))

    @functools.cached_property
    def cohorts(self) -> pl.DataFrame:
        """:func:`metrics.cohort_retention` over the window, each observed cell flagged
        ``mature`` or ``immature`` in ``maturity`` (:func:`trends.flag_cohort_cells`,
        with the KPIs' follow-up rule)."""
        matrix = m.cohort_retention(
            self.orders, calendar=self.calendar, start=self.start, end=self.end
        ).collect()
        return flag_cohort_cells(matrix, self.calendar, self.kpis.maturity_rule)

    def cohort_table(self) -> pl.LazyFrame:
        """:func:`metrics.cohort_table` of :attr:`cohorts`: cells and an average row."""
        return m.cohort_table(self.cohorts)

    def retention_curves(self) -> pl.LazyFrame:
        """:func:`metrics.retention_curves` of :attr:`cohorts`: the average and a few cohorts."""
        return m.retention_curves(self.cohorts)

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

    def adoption_by_period(self) -> pl.LazyFrame:
        """:func:`metrics.adoption_outcomes_by_period` in the report's period."""
        return m.adoption_outcomes_by_period(self.adoption(), calendar=self.calendar)

    def satisfaction_by_period(self) -> pl.DataFrame | None:
        """:func:`metrics.period_retention_by_satisfaction`; None without a surveys table."""
        if self.data.surveys is None:
            return None
        return m.period_retention_by_satisfaction(
            self.orders,
            self.data.surveys.lazy(),
            calendar=self.calendar,
            start=self.start,
            end=self.end,
        ).collect()

    def satisfaction_view(self, *, min_pairs: int = MIN_PAIRS) -> Any:
        """Period retention by satisfaction band (a chart), or a sentence saying why not:
        no surveys table, or fewer than ``min_pairs`` customer-periods in a band."""
        from b2b_analysis import charts
        from b2b_analysis.display import Note, optional
        from b2b_analysis.i18n import format_count, text

        def view() -> Any:
            bands = self.satisfaction_by_period()
            pairs = dict(bands.select("band", "pairs").iter_rows()) if bands is not None else {}
            fewest = min((pairs.get(b, 0) for b in ("satisfied", "not satisfied")), default=0)
            if bands is None or fewest < min_pairs:
                n = format_count(fewest, self.locale)
                return Note(text("note.satisfaction_too_few", self.locale, n=n, min=min_pairs))
            return charts.satisfaction_period_retention_chart(frame=bands, locale=self.locale)

        return optional(self.data, "surveys", view, locale=self.locale)

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

    def revenue_bridge(self) -> pl.DataFrame:
        """:func:`bridge.waterfall` of the KPIs' bridge: the steps of the waterfall chart."""
        if self.kpis.drivers is None:
            return bridge.waterfall(bridge.Drivers(None, None, pl.DataFrame(), 0.0))
        return bridge.waterfall(self.kpis.drivers)

    def revenue_bridge_view(self, against: str) -> Any:
        """The waterfall of one comparison of the bridge (``previous`` or
        ``year_earlier``: :func:`charts.revenue_bridge_chart`), or a sentence saying why
        there is none. Without any comparison the sentence is given once, for
        ``previous`` (``year_earlier`` then shows nothing)."""
        from b2b_analysis import charts
        from b2b_analysis.display import Note

        steps = self.revenue_bridge()
        if not steps.filter(pl.col("against") == against).is_empty():
            return charts.revenue_bridge_chart(
                bridge=steps,
                against=against,  # type: ignore[arg-type]
                currency=self.currency,
                locale=self.locale,
            )
        if steps.is_empty():
            return Note(self.t("note.bridge.none")) if against == "previous" else None
        # only the year-earlier comparison can be missing beside the period before's
        period = steps.filter(pl.col("part") == "current").get_column("label").item(0)
        key = "note.bridge.week_53" if period.endswith("W53") else "note.bridge.year_earlier"
        return Note(self.t(key, period=period))

    def sales_effort(self) -> pl.DataFrame:
        """The sales effort freed per period (:func:`bridge.sales_effort`): orders moved
        online and the hours they free, all and small orders; ``is_partial`` marks a
        period the window cuts."""
        columns = ["period_label", "is_partial", "orders_moved_online", "hours"]
        columns += ["small_orders_moved_online", "small_order_hours"]
        if self.kpis.drivers is None:
            return pl.DataFrame(schema=columns)
        return self.kpis.drivers.effort.select(columns)

    def sales_effort_total(self) -> Any:
        """One sentence (Markdown) with the window's sales effort freed: hours, orders
        moved online, minutes per offline order and the small orders' hours."""
        from IPython.display import Markdown

        from b2b_analysis.i18n import format_count, format_date, format_decimal

        doc = self.kpis.drivers.to_dict()["sales_effort"] if self.kpis.drivers else None
        if not doc or not doc["orders_moved_online"]:
            return Markdown(self.t("nb.overview.effort_zero"))

        def hours(value: float) -> str:
            return format_decimal(value, self.locale, 0 if abs(value) >= 10 else 1)

        minutes = doc["offline_order_minutes"]
        fields = {
            "start": format_date(self.start, self.locale),
            "end": format_date(self.end, self.locale),
            "hours": hours(doc["hours"]),
            "orders": format_count(round(doc["orders_moved_online"]), self.locale),
            "minutes": format_decimal(minutes, self.locale, 0 if minutes == int(minutes) else 1),
        }
        if doc["small_order_hours"] is None:
            return Markdown(self.t("nb.overview.effort_total", **fields))
        small = hours(doc["small_order_hours"])
        return Markdown(self.t("nb.overview.effort_total_small", small=small, **fields))

    def aov_shift_bands(self) -> pl.LazyFrame:
        """:func:`metrics.change_bands` of each new online customer's AOV after / before."""
        return m.change_bands(self.aov_shifts(), "aov_shift_ratio")

    def aov_ratio_bands(self) -> pl.LazyFrame:
        """:func:`metrics.change_bands` of each two-channel customer's online / offline AOV."""
        return m.change_bands(self.aov_comparison(), "aov_ratio")

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
