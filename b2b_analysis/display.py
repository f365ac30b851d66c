"""Offline chart display for notebooks, JupyterLab and the HTML reports.

Call :func:`setup` once at the top of a notebook. It registers (and enables) the
``b2b`` altair renderer and the house theme. The renderer emits a MIME bundle of

* ``application/vnd.vegalite.v5+json``: the chart's spec, which JupyterLab 4.6
  renders natively with its own bundled Vega (no network);
* ``text/plain``: a one-line placeholder for consoles.

It deliberately emits **no** ``text/html``: JupyterLab ranks its HTML renderer
(rank 50) above its Vega renderer (rank 57), so any ``text/html`` in the bundle
would hide the interactive chart in the Lab. The HTML fallback is produced at
export time instead: the report template (``templates/b2b_report``) turns each
Vega-Lite output into a ``<div class="b2b-chart">`` carrying its spec inline and
embeds the Vega runtime (:func:`vega_runtime`) once per HTML file.

Altair 6 writes Vega-Lite v6 specs; the bundle's ``$schema`` is rewritten to the
v5 schema that JupyterLab's renderer understands (the house charts use nothing
v6-only), and the report embeds Vega-Lite :data:`VL_VERSION` so the Lab and the
HTML render with the same library. Specs are stable across reruns (altair 6 names
datasets by content hash), so nbval can compare them exactly.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
#: Vega-Lite version embedded in the HTML reports (same major as JupyterLab 4.6's).
VL_VERSION = "5.21"
VL_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.21.0.json"
RENDERER = "b2b"
#: Options passed to vega-embed in JupyterLab (via output metadata) and in the HTML.
EMBED_OPTIONS: dict[str, Any] = {"actions": False, "renderer": "svg"}


def vegalite_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as emitted: altair's dict with the v5 ``$schema``."""
    out = dict(spec)
    out["$schema"] = VL_SCHEMA
    return out


def mimebundle(spec: dict[str, Any], **_: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``b2b`` renderer: a Vega-Lite v5 bundle plus a text placeholder."""
    spec = vegalite_spec(spec)
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    text = f"<chart: {title}>" if title else "<chart>"
    return {VEGALITE_MIME: spec, "text/plain": text}, {
        VEGALITE_MIME: {"embed_options": EMBED_OPTIONS}
    }


def setup() -> None:
    """Register and enable the ``b2b`` renderer and the house theme (idempotent).

    Importing the package changes nothing; notebooks call this once.
    """
    import altair as alt

    from b2b_analysis.charts import use_theme

    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, mimebundle)
    alt.renderers.enable(RENDERER)
    use_theme()


# ------------------------------------------------------------------ HTML export


@functools.cache
def vega_runtime() -> str:
    """Vega, Vega-Lite and vega-embed as one script (about 900 KB), made offline.

    Safe to put inside ``<script>...</script>``: any ``</script`` is escaped.
    Making it takes vl-convert 1.5-2 s of CPU (holding the GIL), so the first one
    made is kept in the user's cache folder (:func:`runtime_file`) and read from
    there by later processes.
    """
    import vl_convert

    saved = runtime_file(getattr(vl_convert, "__version__", None))
    if saved is not None and saved.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return saved.read_text(encoding="utf-8")
    # the stub omits the default of snippet (the default snippet sets window.vegaEmbed)
    bundle: str = vl_convert.javascript_bundle(vl_version=VL_VERSION)  # type: ignore[call-arg]
    bundle = bundle.replace("</script", "<\\/script")
    if saved is not None:
        from b2b_analysis.atomic import write_atomic

        with contextlib.suppress(OSError):
            write_atomic(saved, bundle)
    return bundle


def runtime_file(converter_version: str | None) -> Path | None:
    """Where :func:`vega_runtime` keeps the script made by this vl-convert version:
    ``$XDG_CACHE_HOME/b2b-analysis/`` (default ``~/.cache``); ``None`` when the
    version is unknown (nothing is kept).

    >>> runtime_file("1.9.0").name
    'vega-runtime-vl5.21-vlconvert1.9.0.js'
    >>> runtime_file(None) is None
    True
    """
    if not converter_version:
        return None
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    name = f"vega-runtime-vl{VL_VERSION}-vlconvert{converter_version}.js"
    return Path(root) / "b2b-analysis" / name


def _json_for_script(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_html(spec: dict[str, Any]) -> str:
    """The HTML fallback of one chart: a div and its spec inline, no external script.

    The id derives from the spec's content, so the output is stable. The page's
    runtime (:func:`vega_runtime`) and its chart script (``templates/assets/b2b.js``) draw it.
    """
    data = _json_for_script(spec)
    digest = hashlib.sha256(data.encode()).hexdigest()[:12]
    embed = html.escape(json.dumps(EMBED_OPTIONS, sort_keys=True), quote=True)
    return (
        f'<div class="b2b-chart" id="b2b-chart-{digest}" data-b2b-spec="b2b-spec-{digest}" '
        f'data-b2b-embed="{embed}"></div>\n'
        f'<script type="application/json" id="b2b-spec-{digest}">{data}</script>'
    )


class Note:
    """A sentence shown instead of a chart or table (e.g. an absent optional table)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="b2b-note">{html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return self.text


def optional(data: Any, table: str, make: Callable[[], Any], *, locale: str = "en-US") -> Any:
    """``make()`` when the client has ``table``, else a :class:`Note` saying why not
    (in the language of ``locale``).

    ``data`` is a :class:`b2b_analysis.io.ClientData`.
    """
    if getattr(data, table, None) is None:
        from b2b_analysis.i18n import text

        what = text(f"table.{table}", locale)
        return Note(text("note.no_table", locale, table=table, what=what))
    return make()
