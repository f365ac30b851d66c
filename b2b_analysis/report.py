"""Per-client HTML reports: run the notebooks with papermill, export them, index them.

:func:`run_reports` is the ``report`` command. For every client and notebook it
  starts a fresh kernel (papermill) in a separate **process** (papermill's
  ``cwd`` is process-wide), then exports the executed notebook to HTML with the
  ``b2b_report`` template (no code, no external request, one Vega runtime per
  page), and writes per client ``reports/<slug>/`` (``<notebook>.html``,
  ``<notebook>.ipynb``, ``kpis.json``, ``status.json``, ``index.html``) and a
  portfolio ``reports/index.html``. Every file is written to a temporary name and
  renamed; a client is written into ``reports/.<slug>.partial/``, which replaces
  ``reports/<slug>/`` only when all its steps are done, and the portfolio page is
  removed at the start and written last. A killed run thus leaves no page that
  looks complete but is not, and its workers exit with it. A failing client does
  not stop the others: its partial executed notebook is kept and the result names
  the failing cell.

Only the parameters in :data:`PARAMETERS` are injected (the params file's path
and the window); connection strings stay in the environment variables the
params file names, so they never reach a notebook or its HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from b2b_analysis.analysis import open_analysis
from b2b_analysis.config import SLUG_PATTERN, load_params
from b2b_analysis.errors import InputError

__all__ = [
    "NOTEBOOKS",
    "PARAMETERS",
    "ClientResult",
    "run_reports",
]

#: The report's notebooks, in page order, with their titles.
NOTEBOOKS: dict[str, str] = {
    "overview": "Overview",
    "retention": "Retention",
    "order_frequency": "Order frequency",
    "aov": "Average order value",
}
#: The only parameters the runner injects; every notebook must declare them.
PARAMETERS: tuple[str, ...] = ("params_path", "start", "end", "period")
TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "b2b_report"
#: Where the notebooks live in a source checkout.
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL = "python3"
#: Seconds a kernel may take to start. papermill's 60 s failed clients on a loaded
#: machine ("Kernel didn't respond in 60 seconds") in unattended runs.
KERNEL_START_TIMEOUT = 300


# ------------------------------------------------------------------ files


def _write_atomic(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    tmp.replace(path)


# ------------------------------------------------------------------ worker side


@dataclass
class NotebookResult:
    notebook: str
    ok: bool
    seconds: float
    error: str | None = None
    html_bytes: int = 0


def _failed_cell(exc: BaseException, nb_path: Path) -> str:
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
                first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
                where = f"cell In [{cell.get('execution_count')}] (`{first[:80]}`)"
                break
    except Exception:  # the summary must not fail because the notebook is odd
        pass
    return f"{where}: {ename}: {evalue}".strip()


def _stable_cell_ids(nb_path: Path) -> None:
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
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            wanted = "injected-parameters"
        elif "papermill-error-cell-tag" in tags:
            banners += 1
            wanted = f"papermill-error-{banners}"
        else:
            continue
        if cell.get("id") != wanted:
            cell["id"] = wanted
            changed = True
    if changed:
        nbformat.write(nb, nb_path)


def _nav(current: str | None) -> list[dict[str, Any]]:
    items = [{"href": "index.html", "title": "Scorecard", "current": current is None}]
    items += [
        {"href": f"{name}.html", "title": title, "current": name == current}
        for name, title in NOTEBOOKS.items()
    ]
    items.append({"href": "../index.html", "title": "All clients", "current": False})
    return items


@functools.cache
def _exporter() -> Any:
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    return HTMLExporter(
        config=config, template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)]
    )


def export_html(nb_path: Path, html_path: Path, *, title: str, current: str | None) -> int:
    """Export an executed notebook to a self-contained HTML page; returns its size.

    Each Vega-Lite output is replaced (in memory) by its HTML fallback
    (:func:`b2b_analysis.display.chart_html`); the page then carries the Vega
    runtime once, only when it has a chart.
    """
    import nbformat

    from b2b_analysis.display import CHART_LOADER, VEGALITE_MIME, chart_html, vega_runtime

    nb = nbformat.read(nb_path, as_version=4)
    charts = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if VEGALITE_MIME in data:
                out["data"] = {"text/html": chart_html(data[VEGALITE_MIME])}
                out.get("metadata", {}).pop(VEGALITE_MIME, None)
                charts += 1
    resources = {
        "metadata": {"name": title},
        "b2b_nav": _nav(current),
        "b2b_vega_runtime": vega_runtime() if charts else "",
        "b2b_chart_loader": CHART_LOADER,
    }
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    data = body.encode("utf-8")
    _write_atomic(html_path, data)
    return len(data)


def _run_notebook(
    notebook: str,
    source: str,
    out_dir: str,
    parameters: dict[str, Any],
    client: str,
) -> NotebookResult:
    """Worker: execute one notebook for one client, then export it (own process)."""
    import papermill

    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = out / f"{notebook}.ipynb"
    tmp = out / f".{notebook}.tmp.ipynb"
    error: str | None = None
    try:
        papermill.execute_notebook(
            source,
            str(tmp),
            parameters=parameters,
            kernel_name=KERNEL,
            progress_bar=False,
            log_output=False,
            cwd=str(Path(source).parent),
            start_timeout=KERNEL_START_TIMEOUT,
        )
    except Exception as exc:
        error = _failed_cell(exc, tmp)
    if tmp.exists():
        _stable_cell_ids(tmp)
        tmp.replace(final)  # kept even when a cell failed: the partial run
    size = 0
    if final.exists():
        try:
            size = export_html(
                final,
                out / f"{notebook}.html",
                title=f"{client} · {NOTEBOOKS.get(notebook, notebook)}",
                current=notebook,
            )
        except Exception as exc:
            error = error or f"HTML export failed: {type(exc).__name__}: {exc}"
    return NotebookResult(notebook, error is None, time.perf_counter() - began, error, size)


def _run_kpis(params_path: str, out_dir: str, window: dict[str, Any]) -> dict[str, Any]:
    """Worker: compute and write ``kpis.json``; returns the document."""
    analysis = open_analysis(params_path, **window)
    doc = analysis.kpis.to_dict()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    _write_atomic(Path(out_dir) / "kpis.json", text)
    return doc


def _quiet_worker(log_path: str) -> None:
    """Send a worker's (and its kernels') stdout/stderr to a log, not the terminal, and
    end the worker when the run that started it dies (see :func:`_exit_with_parent`)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    parent = os.getppid()
    threading.Thread(
        target=_exit_with_parent, args=(parent,), daemon=True, name="b2b-parent-watch"
    ).start()


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Exit as soon as the parent process is gone (a killed ``report`` run).

    Pool workers otherwise outlive a SIGKILLed run: they finish their notebook, write
    it, then wait forever for work. Their kernels exit by themselves (ipykernel
    watches its parent too); unfinished outputs stay in the run's staging folder.
    """
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


# ------------------------------------------------------------------ parent side


@dataclass
class ClientResult:
    """What happened to one client's report."""

    params_path: Path
    slug: str
    client: str
    out_dir: Path
    notebooks: dict[str, NotebookResult] = field(default_factory=dict)
    kpis: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and self.kpis is not None
            and len(self.notebooks) == len(NOTEBOOKS)
            and all(r.ok for r in self.notebooks.values())
        )

    def problems(self) -> list[str]:
        out = [self.error] if self.error else []
        out += [f"{r.notebook}.ipynb {r.error}" for r in self.notebooks.values() if r.error]
        return out


def check_notebooks(notebooks_dir: Path, names: Iterable[str] = NOTEBOOKS) -> dict[str, Path]:
    """Each notebook exists and declares exactly the parameters the runner injects."""
    import papermill

    found: dict[str, Path] = {}
    for name in names:
        path = notebooks_dir / f"{name}.ipynb"
        if not path.exists():
            raise InputError(f"notebook not found: {path}")
        declared = set(papermill.inspect_notebook(str(path)))
        missing = sorted(set(PARAMETERS) - declared)
        if missing:
            raise InputError(
                f"{path}: its parameters cell does not declare {', '.join(missing)} "
                f"(it declares {', '.join(sorted(declared)) or 'nothing'})"
            )
        found[name] = path
    return found


def _client_index(result: ClientResult) -> str:
    from b2b_analysis.narrative import CSS, scorecard_html

    esc = html.escape
    doc = result.kpis or {}
    window = doc.get("window", {})
    links = []
    for name, title in NOTEBOOKS.items():
        nb = result.notebooks.get(name)
        status = "" if nb is not None and nb.ok else ' <span class="failed">(failed)</span>'
        links.append(
            f'<li><a href="{esc(name)}.html">{esc(title)}</a>{status} · '
            f'<a class="aux" href="{esc(name)}.ipynb">notebook</a></li>'
        )
    problems = "".join(f"<li>{esc(p)}</li>" for p in result.problems())
    body = scorecard_html(doc, css=False) if doc else "<p>The KPIs could not be computed.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(result.client)} · online channel report</title>
<style>{_PAGE_CSS}{CSS}</style>
</head>
<body>
<nav class="b2b-nav"><a href="../index.html">All clients</a></nav>
<h1>{esc(result.client)}</h1>
<p class="meta">{esc(str(window.get("start", "")))} to {esc(str(window.get("end", "")))} ·
{esc(str(doc.get("period", "")))}ly series · amounts in {esc(str(doc.get("currency", "")))} ·
<a href="kpis.json">kpis.json</a></p>
{f'<ul class="problems">{problems}</ul>' if problems else ""}
<h2>Pages</h2>
<ul class="pages">{"".join(links)}</ul>
<h2>Scorecard</h2>
{body}
</body>
</html>
"""


_PAGE_CSS = """
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
color:#1f2933;max-width:1180px;margin:0 auto;padding:0 16px 48px}
h1{font-size:24px;margin:16px 0 4px}h2{font-size:17px;margin:24px 0 8px}
a{color:#1f77b4;text-decoration:none}a:hover{text-decoration:underline}
nav.b2b-nav{padding:12px 0;border-bottom:1px solid #e4e7eb}
p.meta{color:#616e7c;margin:0}
ul.pages li{margin:2px 0}a.aux{color:#616e7c;font-size:13px}
.failed,ul.problems{color:#c0392b}
table.portfolio{border-collapse:collapse;width:100%}
table.portfolio th,table.portfolio td{padding:6px 10px;border-bottom:1px solid #e4e7eb;
text-align:right;white-space:nowrap}
table.portfolio th:first-child,table.portfolio td:first-child{text-align:left}
table.portfolio th{color:#616e7c;font-weight:600;font-size:12px}
td.best{font-weight:700}
"""


def _portfolio_index(results: Sequence[ClientResult], generated: str) -> str:
    from b2b_analysis.narrative import format_value
    from b2b_analysis.registry import KPIS, PORTFOLIO_KPIS

    esc = html.escape
    head = "".join(f"<th>{esc(KPIS[k].label)}</th>" for k in PORTFOLIO_KPIS)
    rows = []
    for r in sorted(results, key=lambda r: r.slug):
        doc = r.kpis or {"kpis": {}, "currency": ""}
        cells = []
        for key in PORTFOLIO_KPIS:
            value = doc["kpis"].get(key)
            note = doc.get("notes", {}).get(key, "")
            title = f' title="{esc(note)}"' if value is None and note else ""
            cells.append(
                f'<td data-kpi="{esc(key)}"{title}>'
                f"{esc(format_value(value, KPIS[key].unit, doc.get('currency', '')))}</td>"
            )
        status = "" if r.ok else ' <span class="failed">(incomplete)</span>'
        rows.append(
            f'<tr data-client="{esc(r.slug)}"><td><a href="{esc(r.slug)}/index.html">'
            f"{esc(r.client)}</a>{status}</td>{''.join(cells)}</tr>"
        )
    lower = ", ".join(KPIS[k].label for k in PORTFOLIO_KPIS if KPIS[k].direction == "lower")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Online channel reports · all clients</title>
<style>{_PAGE_CSS}</style>
</head>
<body>
<h1>Online channel reports</h1>
<p class="meta">{len(results)} clients · generated {esc(generated)} · each client over its own
window and currency (see its page); lower is better for: {esc(lower)}.</p>
<div style="overflow-x:auto">
<table class="portfolio">
<thead><tr><th>Client</th>{head}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</div>
</body>
</html>
"""


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _status(result: ClientResult) -> dict[str, Any]:
    """``status.json``: what the client's last run left in its folder (no timings)."""
    return {
        "client": result.client,
        "slug": result.slug,
        "ok": result.ok,
        "problems": result.problems(),
        "notebooks": {n: n in result.notebooks and result.notebooks[n].ok for n in NOTEBOOKS},
    }


def _existing_results(out_dir: Path, skip: set[str]) -> list[ClientResult]:
    """Clients reported earlier into ``out_dir`` (kept on the portfolio page).

    Their state comes from the ``status.json`` their run wrote last: a client whose
    notebooks failed then is still shown incomplete, and a folder without it (an
    older version's) is never taken for a complete report.
    """
    found = []
    folders = (p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in sorted(folders):
        if folder.name in skip:
            continue
        status = _read_json(folder / "status.json")
        doc = _read_json(folder / "kpis.json")
        if status is None and doc is None:
            continue
        client = str((status or doc or {}).get("client", folder.name))
        result = ClientResult(Path(), folder.name, client, folder, kpis=doc)
        done = (status or {}).get("notebooks", {})
        result.notebooks = {
            n: NotebookResult(n, done.get(n) is True, 0.0, None if done.get(n) else "not run")
            for n in NOTEBOOKS
        }
        found.append(result)
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _staging(final: Path) -> Path:
    """A fresh, empty ``.<slug>.partial`` folder beside the client's folder.

    The leftovers of a killed run are removed first; a client folder a killed
    :func:`_publish` had moved aside is put back.
    """
    staging = final.with_name(f".{final.name}.partial")
    aside = final.with_name(f".{final.name}.old")
    _remove(staging)
    if aside.exists() and not final.exists():
        aside.rename(final)
    _remove(aside)
    staging.mkdir(parents=True)
    return staging


def _publish(result: ClientResult, staging: Path) -> None:
    """Finish a client: its ``status.json`` and ``index.html`` go into the staging
    folder, which then replaces ``out/<slug>/`` (two renames). A client's folder is
    always one whole run, never a mix of an old and a new one."""
    status = json.dumps(_status(result), indent=2, ensure_ascii=False) + "\n"
    _write_atomic(staging / "status.json", status)
    _write_atomic(staging / "index.html", _client_index(result))
    final = result.out_dir
    aside = final.with_name(f".{final.name}.old")
    _remove(aside)
    if final.exists() or final.is_symlink():
        final.rename(aside)
    staging.rename(final)
    _remove(aside)


def run_reports(
    params_files: Sequence[Path],
    *,
    out_dir: Path = Path("reports"),
    jobs: int = 2,
    notebooks_dir: Path | None = None,
    window: dict[str, Any] | None = None,
    on_progress: Callable[[str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[ClientResult]:
    """Run every notebook for every client; see the module docstring.

    ``on_start(total)`` is called once with the number of steps, ``on_progress(label)``
    after each. Returns one :class:`ClientResult` per params file.
    """
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    notebooks = check_notebooks(notebooks_dir or DEFAULT_NOTEBOOKS)
    window = {"start": None, "end": None, "period": None, **(window or {})}
    unknown = set(window) - set(PARAMETERS)
    if unknown:
        raise InputError(f"unknown window keys {sorted(unknown)}")
    results: list[ClientResult] = []
    seen: dict[str, Path] = {}
    for path in params_files:
        try:
            loaded = load_params(path)
        except InputError as exc:
            results.append(
                ClientResult(Path(path), Path(path).stem, str(path), out_dir, error=str(exc))
            )
            continue
        slug = loaded.params.client_slug
        error = None
        if not re.fullmatch(SLUG_PATTERN, slug):  # config checks it already: never a path
            error = f"{path}: slug {slug!r} is not a safe folder name"
        elif slug in seen:  # the first keeps the folder; this one is not run
            error = (
                f"{path}: the slug {slug!r} is already used by {seen[slug]}; "
                "give one of them its own 'slug'"
            )
        if error:
            results.append(
                ClientResult(loaded.path, slug, loaded.params.client, out_dir, error=error)
            )
            continue
        seen[slug] = Path(path)
        results.append(ClientResult(loaded.path, slug, loaded.params.client, out_dir / slug))

    runnable = [r for r in results if r.error is None]
    if on_start:
        on_start(len(runnable) * (len(notebooks) + 1))
    context = multiprocessing.get_context("spawn")
    out_dir.mkdir(parents=True, exist_ok=True)
    # The portfolio page is the run's last write: while a run is under way, or after
    # it was killed, there is none rather than one that looks complete but is not.
    _remove(out_dir / "index.html")
    # Each client is written into a staging folder, published whole when it is done.
    staging = {r.slug: _staging(r.out_dir) for r in runnable}
    pending = {r.slug: len(notebooks) + 1 for r in runnable}
    log = out_dir / ".workers.log"
    with ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=context,
        initializer=_quiet_worker,
        initargs=(str(log),),
    ) as pool:
        futures: dict[Future[Any], tuple[ClientResult, str]] = {}
        for r in runnable:
            params = {"params_path": str(r.params_path), **window}
            assert set(params) == set(PARAMETERS)  # nothing else is ever injected
            where = str(staging[r.slug])
            futures[pool.submit(_run_kpis, str(r.params_path), where, window)] = (r, "kpis")
            for name, source in notebooks.items():
                fut = pool.submit(_run_notebook, name, str(source), where, params, r.client)
                futures[fut] = (r, name)
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            r, what = futures[fut]
            try:
                value: Any = fut.result()
            except Exception as exc:  # the worker itself broke (not a notebook cell)
                message = f"{type(exc).__name__}: {exc}"
                if what == "kpis":
                    r.error = r.error or f"kpis: {message}"
                else:
                    r.notebooks[what] = NotebookResult(what, False, 0.0, message)
            else:
                if what == "kpis":
                    r.kpis = value
                else:
                    r.notebooks[what] = value
            pending[r.slug] -= 1
            if pending[r.slug] == 0:
                _publish(r, staging[r.slug])
            if on_progress:
                on_progress(f"{r.slug}: {what}")

    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    on_page = list(runnable)
    on_page += _existing_results(out_dir, {r.slug for r in on_page})
    _write_atomic(out_dir / "index.html", _portfolio_index(on_page, generated))
    return results


def summary(results: Sequence[ClientResult]) -> dict[str, Any]:
    """A JSON-ready summary of a run."""
    return {
        r.slug: {
            "ok": r.ok,
            "problems": r.problems(),
            "notebooks": {n: dataclasses.asdict(v) for n, v in r.notebooks.items()},
        }
        for r in results
    }


def refresh_notebooks(notebooks_dir: Path | None = None, *, orders: int = 40_000) -> None:
    """Regenerate the acme demo data and re-execute the notebooks in place.

    Run after a change to the generator, the metrics or the charts: the notebooks
    are committed with these outputs and ``tests/test_nbval.py`` compares them
    exactly. ``python -c "from b2b_analysis.report import refresh_notebooks as r; r()"``
    """
    import papermill

    from b2b_analysis import demo as gen

    folder = notebooks_dir or DEFAULT_NOTEBOOKS
    params = folder.parent / "params"
    gen.generate(params / "data" / "acme", profile="acme", orders=orders, seed=0)
    params_file = params / "acme.yaml"
    if not params_file.exists():
        _write_atomic(params_file, gen.params_yaml("acme", "data/acme"))
    for name in check_notebooks(folder):
        path = folder / f"{name}.ipynb"
        tmp = folder / f".{name}.tmp.ipynb"
        papermill.execute_notebook(
            str(path), str(tmp), kernel_name=KERNEL, progress_bar=False, cwd=str(folder)
        )
        tmp.replace(path)
