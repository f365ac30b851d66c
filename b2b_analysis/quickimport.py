"""Import jsonschema without compiling ``rfc3987_syntax``'s grammars (2-3 s per process).

altair (charts, in every notebook kernel), papermill and nbformat (the report's
main and worker processes) import jsonschema. When the ``rfc3987-syntax`` package
is installed (jupyter-events requires it, through ``jsonschema[format-nongpl]``),
``jsonschema._format`` imports it to check the ``iri`` and ``iri-reference``
formats, and importing it compiles about 30 Lark grammars: 2.2-2.8 s, measured
with ``python -X importtime -c "import altair"`` (``rfc3987_syntax.syntax_helpers``).

:func:`import_jsonschema` imports jsonschema with ``rfc3987_syntax`` hidden, then
un-hides it. The one effect: in that process jsonschema's format checker does not
know the ``iri`` and ``iri-reference`` formats (an unknown format passes, as it does
wherever ``rfc3987-syntax`` is not installed). Neither the Vega-Lite schema altair
validates against (formats ``uri``, ``uri-reference``, ``color-hex``) nor the
notebook format's schema uses them. A process that imported jsonschema before is
left as it is.
"""

from __future__ import annotations

import sys

__all__ = ["import_jsonschema"]

#: The module whose import compiles the grammars.
GRAMMARS = "rfc3987_syntax"


def import_jsonschema() -> None:
    """Import jsonschema (if installed) without the ``rfc3987_syntax`` grammars.

    Idempotent; does nothing when jsonschema or ``rfc3987_syntax`` is imported already.

    >>> import_jsonschema()
    >>> import sys
    >>> GRAMMARS in sys.modules and sys.modules[GRAMMARS] is None
    False
    """
    if "jsonschema" in sys.modules or GRAMMARS in sys.modules:
        return
    sys.modules[GRAMMARS] = None  # type: ignore[assignment]  # import fails: skipped
    try:
        import jsonschema  # noqa: F401
    except ImportError:  # not installed: nothing to speed up
        pass
    finally:
        del sys.modules[GRAMMARS]
