"""A client's loaded tables and KPIs, saved once per report run for its notebooks.

The ``report`` runner's KPI step loads the client and computes its KPIs; it saves
both with :func:`save` into a hidden folder of the client's staging folder
(:data:`FOLDER`). While a notebook of that client runs, the worker names the folder
in the environment variable :data:`ENVIRONMENT` (the kernel inherits it), and
:func:`b2b_analysis.analysis.open_analysis` takes the tables and KPIs from there
(:func:`from_environment`) instead of loading and computing them again. The runner
removes the folder before it publishes the client: a published report never
contains it. A notebook opened alone (JupyterLab, nbval) has no such variable and
computes what it needs.

A cache is used only for exactly what it was made for (its :class:`CacheKey`): the
same params file (resolved path and SHA-256 of its bytes) and the same window
(start, end, period as given). Anything else (another client, an edited params
file, another window, a half-written or unreadable folder, another format version)
is ignored and the notebook computes, so a stale or foreign cache changes no number.

Layout: ``manifest.json`` (format version, key, table names; written last, so a
folder without it is incomplete), one Arrow IPC file per loaded table
(``<table>.arrow``) and ``analysis.pickle`` (the :class:`~b2b_analysis.kpis.KpiReport`
and the client's other fields: params, sources). The pickle is read only from the
folder the runner itself wrote in this run and names in the worker's environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from b2b_analysis.atomic import write_atomic

if TYPE_CHECKING:
    from b2b_analysis.io import ClientData
    from b2b_analysis.kpis import KpiReport

__all__ = [
    "ENVIRONMENT",
    "FOLDER",
    "CacheKey",
    "environment",
    "from_environment",
    "load",
    "save",
]

#: The hidden folder inside a client's staging folder.
FOLDER = ".analysis-cache"
#: The environment variable naming the folder to a notebook's kernel.
ENVIRONMENT = "B2B_ANALYSIS_CACHE"
#: Bumped when the layout changes; a folder of another version is ignored.
VERSION = 1
MANIFEST = "manifest.json"
PICKLE = "analysis.pickle"


@dataclasses.dataclass(frozen=True)
class CacheKey:
    """What a cache was made for: one params file (path and content) and one window."""

    params_file: str
    params_sha256: str
    start: str | None
    end: str | None
    period: str | None

    @classmethod
    def of(
        cls,
        params_path: str | os.PathLike[str],
        start: dt.date | None,
        end: dt.date | None,
        period: str | None,
    ) -> CacheKey:
        """The key of a params file (read now) and a window; raises ``OSError`` when
        the file cannot be read."""
        path = Path(params_path).resolve()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(
            str(path),
            digest,
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            period,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def save(folder: Path, key: CacheKey, data: ClientData[Any], kpis: KpiReport) -> bool:
    """Save ``data`` and ``kpis`` under ``key`` into ``folder`` (replaced if present).

    Returns False, leaving no folder, when the tables are lazy (streaming mode: not
    held in memory, nothing to save) or a file cannot be written.
    """
    import polars as pl

    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    frames = {n: v for n, v in fields.items() if isinstance(v, pl.DataFrame)}
    if any(isinstance(v, pl.LazyFrame) for v in fields.values()):
        return False
    rest = {n: v for n, v in fields.items() if n not in frames}
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.mkdir(parents=True)
        for name, frame in frames.items():
            frame.write_ipc(folder / f"{name}.arrow", compression="uncompressed")
        write_atomic(folder / PICKLE, pickle.dumps({"data": rest, "kpis": kpis}))
        manifest = {"version": VERSION, "key": key.to_dict(), "tables": sorted(frames)}
        write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return False
    return True


def _manifest(folder: Path, key: CacheKey) -> dict[str, Any] | None:
    """The folder's manifest when it is complete and made for ``key``."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("version") != VERSION:
        return None
    return manifest if manifest.get("key") == key.to_dict() else None


def load(folder: Path, key: CacheKey) -> tuple[ClientData[Any], KpiReport] | None:
    """The client's data and KPIs saved in ``folder`` for ``key``; ``None`` when the
    folder is missing, incomplete, unreadable or made for anything else."""
    manifest = _manifest(folder, key)
    if manifest is None:
        return None
    import polars as pl

    from b2b_analysis.io import ClientData

    try:
        saved = pickle.loads((folder / PICKLE).read_bytes())
        fields: dict[str, Any] = dict(saved["data"])
        fields.update((name, pl.read_ipc(folder / f"{name}.arrow")) for name in manifest["tables"])
        return ClientData(**fields), saved["kpis"]
    except Exception:  # anything unreadable: the notebook computes instead
        return None


def from_environment(
    params_path: str | os.PathLike[str],
    start: dt.date | None,
    end: dt.date | None,
    period: str | None,
) -> tuple[ClientData[Any], KpiReport] | None:
    """The saved data and KPIs for this params file and window, when
    :data:`ENVIRONMENT` names a folder that holds them; else ``None``."""
    folder = os.environ.get(ENVIRONMENT)
    if not folder:
        return None
    try:
        key = CacheKey.of(params_path, start, end, period)
    except OSError:  # loading will say what is wrong with the file
        return None
    return load(Path(folder), key)


@contextlib.contextmanager
def environment(folder: Path | None) -> Iterator[None]:
    """Name ``folder`` in :data:`ENVIRONMENT` for the block (processes started in it,
    such as a notebook's kernel, inherit it); ``None``: the variable is unset."""
    before = os.environ.get(ENVIRONMENT)
    if folder is None:
        os.environ.pop(ENVIRONMENT, None)
    else:
        os.environ[ENVIRONMENT] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENVIRONMENT, None)
        else:
            os.environ[ENVIRONMENT] = before
