"""The run parameters: exactly what papermill injects into every notebook.

>>> p = RunParameters.for_client("params/acme.yaml", {"period": "quarter"})
>>> p
RunParameters(params_path='params/acme.yaml', start=None, end=None, period='quarter')
>>> p.injected() == {"params_path": "params/acme.yaml", "start": None, "end": None,
...                  "period": "quarter"}
True
>>> PARAMETERS
('params_path', 'start', 'end', 'period')
>>> RunParameters.for_client("acme.yaml", {"password": "x"})
Traceback (most recent call last):
...
b2b_analysis.errors.InputError: unknown window keys ['password']
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b2b_analysis.errors import InputError

__all__ = ["PARAMETERS", "WINDOW", "RunParameters", "check_window"]


@dataclass(frozen=True)
class RunParameters:
    """The parameters of one client's notebooks: its params file and the window.

    Nothing else is ever injected: connection strings stay in the environment
    variables the params file names, so they never reach a notebook or its HTML.
    Every notebook's ``parameters`` cell declares these names
    (:func:`b2b_analysis.report.notebooks.check_notebooks`).

    Attributes
    ----------
    params_path
        The client's params file.
    start, end
        The window (ISO dates); ``None`` for the params file's own.
    period
        ``week``, ``month`` or ``quarter``; ``None`` for the params file's own.
    """

    params_path: str
    start: str | None = None
    end: str | None = None
    period: str | None = None

    @classmethod
    def for_client(
        cls, params_path: str | os.PathLike[str], window: Mapping[str, Any] | None = None
    ) -> RunParameters:
        """The parameters of one client; ``window`` may give ``start``, ``end``, ``period``."""
        return cls(str(params_path), **check_window(window))

    def injected(self) -> dict[str, Any]:
        """The parameters as papermill injects them (name to value)."""
        return dataclasses.asdict(self)


#: The names of the injected parameters, in order.
PARAMETERS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(RunParameters))
#: The parameters a run's window sets (the same for every client).
WINDOW: tuple[str, ...] = PARAMETERS[1:]


def check_window(window: Mapping[str, Any] | None) -> dict[str, Any]:
    """The window of a run (``start``, ``end``, ``period``, each optional) as a dict.

    Raises :class:`InputError` for any other key: nothing else is ever injected.
    """
    window = dict(window or {})
    unknown = set(window) - set(WINDOW)
    if unknown:
        raise InputError(f"unknown window keys {sorted(unknown)}")
    return window
