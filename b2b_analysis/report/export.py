"""The notebook pages: an executed notebook exported to one self-contained HTML page.

nbconvert renders it with the ``b2b_report`` template (``templates/b2b_report/``):
no code, no prompts, no external request, the house stylesheet's ``notebook``
part, a navigation bar across the client's pages, and the Vega runtime once per
page, only when the page has a chart.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from b2b_analysis import i18n
from b2b_analysis.atomic import write_atomic
from b2b_analysis.report.contents import NOTEBOOKS
from b2b_analysis.templating import TEMPLATES, chart_script, stylesheet

__all__ = [
    "TEMPLATE",
    "export_failure",
    "export_html",
    "page_locale",
    "page_title",
    "render_page",
    "warm_up",
    "warm_up_in_background",
]

#: The nbconvert template (a folder of ``templates/``).
TEMPLATE = "b2b_report"


def _nav(current: str | None, locale: str = i18n.DEFAULT) -> list[dict[str, Any]]:
    """The navigation bar: the scorecard, each notebook page, all clients (in the
    client's language)."""
    from b2b_analysis.report.pages import notebook_title

    def text(key: str) -> str:
        return i18n.text(key, locale)

    items = [{"href": "index.html", "title": text("page.scorecard"), "current": current is None}]
    items += [
        {"href": f"{name}.html", "title": notebook_title(name, locale), "current": name == current}
        for name in NOTEBOOKS
    ]
    items.append({"href": "../index.html", "title": text("page.all_clients"), "current": False})
    return items


def page_title(client: str, notebook: str) -> str:
    """A notebook page's title: ``Acme GmbH · Overview`` (the page's part in the
    client's language when rendered, see :func:`_render`)."""
    return f"{client} · {NOTEBOOKS.get(notebook, notebook)}"


def export_failure(exc: BaseException) -> str:
    """How a page that could not be exported is reported."""
    return f"HTML export failed: {type(exc).__name__}: {exc}"


def page_locale(folder: Path) -> str:
    """The locale of the client whose report ``folder`` holds (its ``kpis.json``)."""
    from b2b_analysis.report.files import read_json

    doc = read_json(folder / "kpis.json") or {}
    locale = doc.get("locale", i18n.DEFAULT)
    return locale if isinstance(locale, str) else i18n.DEFAULT


@functools.cache
def _exporter() -> Any:
    from b2b_analysis.quickimport import import_jsonschema

    import_jsonschema()
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    return HTMLExporter(
        config=config, template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)]
    )


def _inline_charts(nb: Any) -> int:
    """Replace (in memory) each Vega-Lite output by its HTML fallback, at the page's
    width (:func:`b2b_analysis.charts.page_spec`); the count."""
    from b2b_analysis.charts import page_spec
    from b2b_analysis.display import VEGALITE_MIME, chart_html

    charts = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if VEGALITE_MIME in data:
                out["data"] = {"text/html": chart_html(page_spec(data[VEGALITE_MIME]))}
                out.get("metadata", {}).pop(VEGALITE_MIME, None)
                charts += 1
    return charts


def export_html(nb_path: Path, html_path: Path, *, title: str, current: str | None) -> int:
    """Export an executed notebook to a self-contained HTML page; returns its size.

    Each Vega-Lite output is replaced (in memory) by its HTML fallback
    (:func:`b2b_analysis.display.chart_html`); the page then carries the Vega
    runtime once, only when it has a chart.
    """
    data = render_page(nb_path, title=title, current=current, locale=page_locale(html_path.parent))
    write_atomic(html_path, data)
    return len(data)


def render_page(
    nb_path: Path, *, title: str, current: str | None, locale: str = i18n.DEFAULT
) -> bytes:
    """The page :func:`export_html` writes, made in memory (it writes nothing)."""
    from b2b_analysis.quickimport import import_jsonschema

    import_jsonschema()
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    return _render(nb, title=title, current=current, locale=locale).encode("utf-8")


#: Held while a page renders: a warm-up under way finishes before the first export.
_RENDERING = threading.Lock()


def _render(nb: Any, *, title: str, current: str | None, locale: str = i18n.DEFAULT) -> str:
    """The HTML page of the notebook ``nb`` (its charts are inlined in place), its
    navigation and title in the client's ``locale``."""
    from b2b_analysis.display import vega_runtime
    from b2b_analysis.report.pages import notebook_title

    if current in NOTEBOOKS and " · " in title:  # the client's name, then the page's
        title = f"{title.rsplit(' · ', 1)[0]} · {notebook_title(current, locale)}"
    with _RENDERING:
        charts = _inline_charts(nb)
        resources = {
            "metadata": {"name": title},
            "language_code": i18n.language(locale),
            "b2b_nav": _nav(current, locale),
            "b2b_css": stylesheet("notebook"),
            "b2b_vega_runtime": vega_runtime() if charts else "",
            "b2b_chart_loader": chart_script(),
        }
        body, _ = _exporter().from_notebook_node(nb, resources=resources)
    return str(body)


def warm_up() -> None:
    """Pay a process's one-time export costs now (nbconvert's import and template, the
    Vega runtime, about 2-3 s) by rendering a small notebook with a chart, a table and
    Markdown; the report's workers do it in a background thread while their first notebook
    runs (:func:`warm_up_in_background`). Errors are left for the real export to report.
    """
    from b2b_analysis.quickimport import import_jsonschema

    import_jsonschema()
    try:
        import nbformat

        from b2b_analysis.display import VEGALITE_MIME

        spec = {"mark": "point", "data": {"values": [{"x": 1}]}}
        output = nbformat.v4.new_output(
            "display_data", data={VEGALITE_MIME: spec, "text/html": "<table></table>"}
        )
        cell = nbformat.v4.new_code_cell("chart", outputs=[output])
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# *a*"), cell])
        _render(nb, title="warm-up", current=None)
    except Exception:  # the real export reports any problem
        pass


@functools.cache
def warm_up_in_background() -> threading.Thread:
    """:func:`warm_up` in a daemon thread, started on the first call in a process (later
    calls return the same thread). The worker calls it when its first notebook starts:
    while the kernel starts and runs, the worker process only waits for it."""
    thread = threading.Thread(target=warm_up, daemon=True, name="b2b-export-warm-up")
    thread.start()
    return thread
