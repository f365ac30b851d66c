"""The run's file operations: staging folders and publishing them.

Every file is written to a temporary name and renamed (:mod:`b2b_analysis.atomic`);
a client is written into ``.<slug>.partial/`` beside its folder, which replaces the
folder only when all its steps are done (:func:`swap_in`). A killed run leaves
either the old folder or the new one, never a mix, and never a page that looks
complete but is not.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

__all__ = ["read_json", "remove", "staging_folder", "swap_in"]


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when it is missing, unreadable or not an object."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def remove(path: Path) -> None:
    """Remove a file, a symlink or a folder tree, if there is one."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _aside(final: Path) -> Path:
    return final.with_name(f".{final.name}.old")


def staging_folder(final: Path) -> Path:
    """A fresh, empty ``.<name>.partial`` folder beside ``final``.

    The leftovers of a killed run are removed first; a folder a killed
    :func:`swap_in` had moved aside is put back.
    """
    staging = final.with_name(f".{final.name}.partial")
    aside = _aside(final)
    remove(staging)
    if aside.exists() and not final.exists():
        aside.rename(final)
    remove(aside)
    staging.mkdir(parents=True)
    return staging


def swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` by the finished ``staging`` folder (two renames)."""
    aside = _aside(final)
    remove(aside)
    if final.exists() or final.is_symlink():
        final.rename(aside)
    staging.rename(final)
    remove(aside)
