"""What a run did: one :class:`NotebookResult` per notebook, one :class:`ClientResult`
per client, their ``status.json`` and the run's summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from b2b_analysis.report.contents import NOTEBOOKS
from b2b_analysis.report.files import read_json

__all__ = ["ClientResult", "NotebookResult", "earlier_results", "status_document", "summary"]


@dataclass
class NotebookResult:
    """One notebook of one client: executed and exported, or where it failed."""

    notebook: str
    ok: bool
    seconds: float
    error: str | None = None
    html_bytes: int = 0


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
    #: The cluster worker that ran the client (``report --scheduler``); not in status.json.
    worker: str | None = None

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


def status_document(result: ClientResult) -> dict[str, Any]:
    """``status.json``: what the client's last run left in its folder (no timings)."""
    return {
        "client": result.client,
        "slug": result.slug,
        "ok": result.ok,
        "problems": result.problems(),
        "notebooks": {n: n in result.notebooks and result.notebooks[n].ok for n in NOTEBOOKS},
    }


def _from_folder(folder: Path) -> ClientResult | None:
    """A client reported earlier into ``folder``, as its ``status.json`` describes it."""
    status = read_json(folder / "status.json")
    doc = read_json(folder / "kpis.json")
    if status is None and doc is None:
        return None
    client = str((status or doc or {}).get("client", folder.name))
    result = ClientResult(Path(), folder.name, client, folder, kpis=doc)
    done = (status or {}).get("notebooks", {})
    result.notebooks = {
        n: NotebookResult(n, done.get(n) is True, 0.0, None if done.get(n) else "not run")
        for n in NOTEBOOKS
    }
    return result


def earlier_results(out_dir: Path, skip: set[str]) -> list[ClientResult]:
    """Clients reported earlier into ``out_dir`` (kept on the portfolio page).

    Their state comes from the ``status.json`` their run wrote last: a client whose
    notebooks failed then is still shown incomplete, and a folder without it (an
    older version's) is never taken for a complete report.
    """
    folders = (p for p in out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    found = (_from_folder(f) for f in sorted(folders) if f.name not in skip)
    return [r for r in found if r is not None]


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
