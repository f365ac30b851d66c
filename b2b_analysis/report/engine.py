"""The papermill engine of a report run: papermill's own (nbclient), writing less often.

papermill writes the output notebook when the run starts, before and after every
cell, and when it ends. Each write copies, validates and serialises the whole
notebook (with an indent, by Python's slow JSON encoder); with the charts' specs in
the notebook that was about a third of a worker's time for one notebook (2.1 s of
JSON encoding out of 8.3 s for the overview page, profiled on a loaded machine).
:data:`ENGINE` writes it when the run starts, every 30 s or more during a long run
(papermill's autosave), and once when the run ends, whether it ends well, with a
failed cell (papermill's own final write, both) or with a dead kernel (the engine's):
the same final notebook, and still a partial one to look at after a failure. It
also gives the cell of injected parameters a fixed id (:func:`fix_injected_id`).
Everything else is papermill's ``nbclient`` engine.

>>> engine_name() == ENGINE
True
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

__all__ = ["ENGINE", "INJECTED_ID", "engine_name", "fix_injected_id"]

#: The name the engine is registered under with papermill.
ENGINE = "b2b-report"
#: The id of the cell of injected parameters (its tag, too).
INJECTED_ID = "injected-parameters"


@functools.cache
def engine_name() -> str:
    """Register the engine with papermill (once per process); its name, for
    ``papermill.execute_notebook(..., engine_name=...)``."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class Manager(NotebookExecutionManager):  # type: ignore[misc]
        """papermill's bookkeeping, without the writes before and after each cell."""

        writes = True

        def save(self, **kwargs: Any) -> None:
            if self.writes:
                super().save(**kwargs)

        @contextlib.contextmanager
        def unsaved(self) -> Iterator[None]:
            self.writes = False
            try:
                yield
            finally:
                self.writes = True

        def cell_start(self, cell: Any, cell_index: Any = None, **kwargs: Any) -> None:
            with self.unsaved():
                super().cell_start(cell, cell_index, **kwargs)

        def cell_complete(self, cell: Any, cell_index: Any = None, **kwargs: Any) -> None:
            with self.unsaved():
                super().cell_complete(cell, cell_index, **kwargs)

    class Engine(NBClientEngine):  # type: ignore[misc]
        """The nbclient engine with :class:`Manager` keeping the notebook."""

        @classmethod
        def execute_notebook(
            cls,
            nb: Any,
            kernel_name: str,
            output_path: str | None = None,
            progress_bar: bool = True,
            log_output: bool = False,
            autosave_cell_every: int = 30,
            **kwargs: Any,
        ) -> Any:
            fix_injected_id(nb)
            manager = Manager(
                nb,
                output_path=output_path,
                progress_bar=progress_bar,
                log_output=log_output,
                autosave_cell_every=autosave_cell_every,
            )
            manager.notebook_start()
            try:
                cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
            except BaseException:  # a dead kernel, a timeout: the partial notebook
                manager.cleanup_pbar()
                manager.notebook_complete()
                raise
            manager.cleanup_pbar()
            with manager.unsaved():  # papermill writes it next, failed cell or not
                manager.notebook_complete()
            return manager.nb

    papermill_engines.register(ENGINE, Engine)
    return ENGINE


def fix_injected_id(nb: Any) -> None:
    """Give the cell of injected parameters the id :data:`INJECTED_ID` (papermill
    draws a random one), so that the same inputs give the same notebook."""
    for cell in nb.cells:
        if INJECTED_ID in cell.get("metadata", {}).get("tags", []):
            cell["id"] = INJECTED_ID
