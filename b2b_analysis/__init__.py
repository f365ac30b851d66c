"""b2b_analysis: KPIs of a B2B company's online sales channel, in polars.

Load a client with :func:`load_client` (from a params file read by
:func:`load_params`), then either compute everything with :func:`compute_kpis`
or use the metric building blocks in :mod:`b2b_analysis.metrics` directly.

The names below are imported when first used, so that ``import b2b_analysis``
(and the command line's start-up) does not pay for polars and pydantic before
it needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from b2b_analysis.config import ClientParams, LoadedParams, load_params
    from b2b_analysis.errors import InputError
    from b2b_analysis.io import ClientData, DataWarning, load_client
    from b2b_analysis.kpis import KpiReport, compute_kpis
    from b2b_analysis.periods import Calendar, period_index, period_label, period_start
    from b2b_analysis.registry import KPIS, REGISTRY, Kpi

#: Each public name and the module that defines it.
_SOURCES: dict[str, str] = {
    "ClientParams": "config",
    "LoadedParams": "config",
    "load_params": "config",
    "InputError": "errors",
    "ClientData": "io",
    "DataWarning": "io",
    "load_client": "io",
    "KpiReport": "kpis",
    "compute_kpis": "kpis",
    "Calendar": "periods",
    "period_index": "periods",
    "period_label": "periods",
    "period_start": "periods",
    "KPIS": "registry",
    "REGISTRY": "registry",
    "Kpi": "registry",
}

__all__ = [
    "KPIS",
    "REGISTRY",
    "Calendar",
    "ClientData",
    "ClientParams",
    "DataWarning",
    "InputError",
    "Kpi",
    "KpiReport",
    "LoadedParams",
    "compute_kpis",
    "load_client",
    "load_params",
    "period_index",
    "period_label",
    "period_start",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    if name not in _SOURCES:
        raise AttributeError(f"module 'b2b_analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"b2b_analysis.{_SOURCES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SOURCES])
