"""The worker side of a run: the tasks a pool process runs for one client.

:func:`run_notebook` executes one notebook with papermill (in a fresh kernel of its
own, in the notebook's folder) and exports it to HTML; :func:`run_kpis` writes the
client's ``kpis.json`` and ``accounts.xlsx``, and saves its tables and KPIs for its
notebooks (:mod:`b2b_analysis.cache`). The kernel is usually one started ahead of
time (:mod:`b2b_analysis.report.kernels`): ``spare=True`` starts the next one while
this notebook runs. A failed cell does not raise: the partial executed notebook is
kept and exported, and the result names the cell (:func:`failed_cell`). The cells
papermill adds get fixed ids (:func:`stable_cell_ids`), so the same inputs give the
same files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from b2b_analysis import cache
from b2b_analysis.atomic import write_atomic
from b2b_analysis.report import kernels
from b2b_analysis.report.engine import INJECTED_ID, engine_name
from b2b_analysis.report.export import (
    export_failure,
    export_html,
    page_title,
    warm_up_in_background,
)
from b2b_analysis.report.kernels import KERNEL, KERNEL_START_TIMEOUT
from b2b_analysis.report.parameters import RunParameters
from b2b_analysis.report.results import NotebookResult

__all__ = [
    "KERNEL",
    "KERNEL_START_TIMEOUT",
    "failed_cell",
    "run_kpis",
    "run_notebook",
    "stable_cell_ids",
]


def _first_line(source: str) -> str:
    return next((ln.strip() for ln in source.splitlines() if ln.strip()), "")


def failed_cell(exc: BaseException, nb_path: Path) -> str:
    """'cell In [4] (`a = open_analysis(...)`): InputError: ...' from papermill's error.

    The failing cell is the code cell with an error output (papermill also puts a
    banner cell at the top of a failed notebook, so its ``cell_index`` is off by one).
    """
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = "a cell"
    count = getattr(exc, "exec_count", None)
    if count is not None:
        where = f"cell In [{count}]"
    try:
        import nbformat

        for cell in nbformat.read(nb_path, as_version=4).cells:
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                where = (
                    f"cell In [{cell.get('execution_count')}] (`{_first_line(cell.source)[:80]}`)"
                )
                break
    except Exception:  # the summary must not fail because the notebook is odd
        pass
    return f"{where}: {ename}: {evalue}".strip()


def _fixed_id(tags: list[str], banners: int) -> str | None:
    """The id a cell papermill added gets (``None``: not one of those cells)."""
    if INJECTED_ID in tags:
        return INJECTED_ID
    if "papermill-error-cell-tag" in tags:
        return f"papermill-error-{banners + 1}"
    return None


def stable_cell_ids(nb_path: Path) -> None:
    """Give the cells papermill adds fixed ids (it draws random ones): the injected
    parameters and, in a failed run, its two error banners. The same inputs then
    give the same executed notebook and HTML."""
    import nbformat

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception:  # an unreadable partial notebook is reported as it is
        return
    changed, banners = False, 0
    for cell in nb.cells:
        wanted = _fixed_id(cell.get("metadata", {}).get("tags", []), banners)
        if wanted is None:
            continue
        if wanted != INJECTED_ID:
            banners += 1
        if cell.get("id") != wanted:
            cell["id"] = wanted
            changed = True
    if changed:
        nbformat.write(nb, nb_path)


def _execute(
    source: str, target: Path, params: RunParameters, cache_folder: Path | None, spare: bool
) -> str | None:
    """Run ``source`` into ``target`` with papermill, in a kernel started ahead of
    time when this process has one (:func:`b2b_analysis.report.kernels.take`) whose
    environment names ``cache_folder``; with ``spare``, the next notebook's kernel
    starts meanwhile. The failed cell, or ``None``."""
    from b2b_analysis.quickimport import import_jsonschema

    import_jsonschema()
    import papermill

    cwd = str(Path(source).parent)
    kernel = None
    try:
        kernel = kernels.take(cwd)
        if spare:
            kernels.start_spare(cwd)
        folder = None if cache_folder is None else str(cache_folder)
        km = kernel.hand_over({cache.ENVIRONMENT: folder})
        papermill.execute_notebook(
            source,
            str(target),
            parameters=params.injected(),
            kernel_name=KERNEL,
            progress_bar=False,
            log_output=False,
            cwd=cwd,
            start_timeout=KERNEL_START_TIMEOUT,
            engine_name=engine_name(),
            km=km,
        )
    except Exception as exc:
        return failed_cell(exc, target)
    finally:
        if kernel is not None:
            kernel.close()
    return None


def _export(final: Path, notebook: str, client: str) -> tuple[int, str | None]:
    """Export the executed notebook next to it; its size, or why it failed."""
    try:
        size = export_html(
            final,
            final.parent / f"{notebook}.html",
            title=page_title(client, notebook),
            current=notebook,
        )
    except Exception as exc:
        return 0, export_failure(exc)
    return size, None


def run_notebook(
    notebook: str,
    source: str,
    out_dir: str,
    params: RunParameters,
    client: str,
    *,
    spare: bool = False,
    export: bool = True,
) -> NotebookResult:
    """Execute one notebook for one client, then export it (in a pool process).

    ``spare``: more notebooks are to come to this process; start the next one's
    kernel now (:mod:`b2b_analysis.report.kernels`). ``export=False``: leave the
    page to the caller (the process-pool runner renders every page itself,
    :mod:`b2b_analysis.report.rendering`)."""
    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = out / f"{notebook}.ipynb"
    tmp = out / f".{notebook}.tmp.ipynb"
    if export:
        warm_up_in_background()  # the export's one-time costs, while the kernel works
    saved = out / cache.FOLDER  # the KPI step's tables and KPIs, for the kernel
    error = _execute(source, tmp, params, saved if saved.is_dir() else None, spare)
    if tmp.exists():
        if error is not None:  # the ids of papermill's error banners (the engine fixed the rest)
            stable_cell_ids(tmp)
        tmp.replace(final)  # kept even when a cell failed: the partial run
    size = 0
    if export and final.exists():
        size, export_error = _export(final, notebook, client)
        error = error or export_error
    return NotebookResult(notebook, error is None, time.perf_counter() - began, error, size)


def run_kpis(params: RunParameters, out_dir: str) -> dict[str, Any]:
    """Compute and write the client's ``kpis.json`` and ``accounts.xlsx`` (one sheet per
    account list, for the sales team); returns the document.

    The loaded tables and the KPIs are saved for the client's notebooks
    (:mod:`b2b_analysis.cache`, in ``out_dir``; the runner removes them before
    publishing), so that a run loads a client and computes its KPIs once.
    """
    from b2b_analysis.accounts import xlsx_bytes
    from b2b_analysis.analysis import open_analysis
    from b2b_analysis.config import parse_date

    with cache.environment(None):  # computed here, never taken from a cache
        analysis = open_analysis(
            params.params_path, start=params.start, end=params.end, period=params.period
        )
    doc = analysis.kpis.to_dict()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    write_atomic(Path(out_dir) / "kpis.json", text)
    report = analysis.kpis
    write_atomic(
        Path(out_dir) / "accounts.xlsx", xlsx_bytes(report.account_lists, currency=report.currency)
    )
    first, last = parse_date(params.start, "start"), parse_date(params.end, "end")
    key = cache.CacheKey.of(params.params_path, first, last, params.period)
    cache.save(Path(out_dir) / cache.FOLDER, key, analysis.data, analysis.kpis)
    return doc
