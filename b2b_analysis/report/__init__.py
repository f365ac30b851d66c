"""Per-client HTML reports: run the notebooks with papermill, export them, index them.

:func:`run_reports` is the ``report`` command. For every client and notebook it
runs papermill in a separate **process** (papermill's ``cwd`` is process-wide), in
a fresh kernel of its own that the worker started ahead of time, then exports the
executed notebook to HTML with the
``b2b_report`` template (no code, no external request, one Vega runtime per
page), and writes per client ``reports/<slug>/`` (``<notebook>.html``,
``<notebook>.ipynb``, ``kpis.json``, ``accounts.xlsx``, ``status.json``,
``index.html``) and a
portfolio ``reports/index.html``. Every file is written to a temporary name and
renamed; a client is written into ``reports/.<slug>.partial/``, which replaces
``reports/<slug>/`` only when all its steps are done, and the portfolio page is
removed at the start and written last. A killed run thus leaves no page that
looks complete but is not, and its workers exit with it. A failing client does
not stop the others: its partial executed notebook is kept and the result names
the failing cell.

Only the :class:`RunParameters` (:data:`PARAMETERS`: the params file's path and
the window) are injected; connection strings stay in the environment variables
the params file names, so they never reach a notebook or its HTML.

One module per concern:

* :mod:`~b2b_analysis.report.runner`: the run as a chain of named steps;
* :mod:`~b2b_analysis.report.parameters`: the run parameters;
* :mod:`~b2b_analysis.report.pool`: the process pool;
* :mod:`~b2b_analysis.report.cluster`: ``--scheduler``, one Dask task per client;
* :mod:`~b2b_analysis.report.worker`: a worker's tasks (papermill, ``kpis.json``,
  ``accounts.xlsx``);
* :mod:`~b2b_analysis.report.kernels`: kernels started ahead of time;
* :mod:`~b2b_analysis.report.engine`: the papermill engine (fewer notebook writes);
* :mod:`~b2b_analysis.report.export`: the nbconvert export of a notebook page;
* :mod:`~b2b_analysis.report.rendering`: the pages rendered in the run's process;
* :mod:`~b2b_analysis.report.pages`: the client index and the portfolio page;
* :mod:`~b2b_analysis.report.results`: what a run did, ``status.json``;
* :mod:`~b2b_analysis.report.files`: atomic writes, staging and publishing folders;
* :mod:`~b2b_analysis.report.contents`: the notebooks and the portfolio's KPIs;
* :mod:`~b2b_analysis.report.notebooks`: checking and refreshing the notebooks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b2b_analysis.report.contents import NOTEBOOKS, PORTFOLIO_KPIS
    from b2b_analysis.report.export import export_html
    from b2b_analysis.report.notebooks import check_notebooks, refresh_notebooks
    from b2b_analysis.report.parameters import PARAMETERS, RunParameters
    from b2b_analysis.report.results import ClientResult, NotebookResult, summary
    from b2b_analysis.report.runner import run_reports

__all__ = [
    "NOTEBOOKS",
    "PARAMETERS",
    "PORTFOLIO_KPIS",
    "ClientResult",
    "NotebookResult",
    "RunParameters",
    "check_notebooks",
    "export_html",
    "refresh_notebooks",
    "run_reports",
    "summary",
]

#: The module of each public name, imported on first use: a report worker imports
#: only what its tasks need (not the runner, its config and polars) before it starts
#: its first kernel.
_MODULES = {
    "NOTEBOOKS": "contents",
    "PORTFOLIO_KPIS": "contents",
    "export_html": "export",
    "check_notebooks": "notebooks",
    "refresh_notebooks": "notebooks",
    "PARAMETERS": "parameters",
    "RunParameters": "parameters",
    "ClientResult": "results",
    "NotebookResult": "results",
    "summary": "results",
    "run_reports": "runner",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
