"""HTML from templates: the Jinja environment of the report pages, the scorecard,
the stylesheet and the chart script.

Everything lives in ``templates/`` (shipped as package data):

* ``pages/``: the client index, the portfolio page and the scorecard table;
* ``assets/b2b.css.j2``: the one stylesheet, its colours from
  :mod:`b2b_analysis.palette`; each page embeds the parts it uses
  (:func:`stylesheet`);
* ``assets/b2b.js``: the one script, which draws a page's charts (:func:`chart_script`);
* ``b2b_report/``: the nbconvert template of the notebook pages (it runs in
  nbconvert's own environment and gets the stylesheet and script through its
  resources, see :mod:`b2b_analysis.report.export`).

Every value an HTML template outputs is escaped, as :func:`html.escape` does it
(``'`` becomes ``&#x27;``, where markupsafe would write ``&#39;``; the pages keep
their bytes); only :class:`markupsafe.Markup` (a rendered part, the stylesheet)
goes in as it is. Templates render exactly as written except for the single
newline Jinja drops at the end of a file.

>>> render("pages/scorecard.html.j2", css=False, rows=[]).splitlines()[0]
'<table class="b2b-scorecard">'
>>> "'Segoe UI'" in stylesheet("page") and "#1f77b4" in stylesheet("page")
True
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from b2b_analysis import palette

__all__ = ["TEMPLATES", "chart_script", "render", "stylesheet"]

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = "assets/b2b.css.j2"
SCRIPT = "assets/b2b.js"


@jinja2.pass_eval_context
def _escape(eval_ctx: jinja2.nodes.EvalContext, value: Any) -> Any:
    """Escape an output value like :func:`html.escape` (HTML templates only)."""
    if not eval_ctx.autoescape or hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value)))


def _english(key: str, **fields: Any) -> str:
    from b2b_analysis.i18n import text

    return text(key, **fields)


def _is_html(name: str | None) -> bool:
    return name is not None and ".html" in name


@functools.cache
def environment() -> jinja2.Environment:
    """The package's Jinja environment (HTML templates autoescaped, undefined names fail)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=_is_html,
        finalize=_escape,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["stylesheet"] = stylesheet
    # the report text in English; a page in a client's language passes its own ``t``
    env.globals["t"] = _english
    return env


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` (a path under ``templates/``) with ``context``."""
    return environment().get_template(name).render(**context)


@functools.cache
def stylesheet(part: str) -> Markup:
    """The rules of one part of the stylesheet: ``page``, ``scorecard`` or ``notebook``.

    The part's rules alone, without a ``<style>`` element or surrounding newlines.
    """
    template = environment().get_template(STYLESHEET)
    block = template.blocks[part]
    return Markup("".join(block(template.new_context({"palette": palette}))))


@functools.cache
def chart_script() -> str:
    """The script that draws every ``div.b2b-chart`` of a page (after the Vega runtime)."""
    return (TEMPLATES / SCRIPT).read_text(encoding="utf-8")
