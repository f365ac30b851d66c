"""b2b_analysis: KPIs of a B2B company's online sales channel, in polars.

Load a client with :func:`load_client` (from a params file read by
:func:`load_params`), then either compute everything with :func:`compute_kpis`
or use the metric building blocks in :mod:`b2b_analysis.metrics` directly.
"""

from b2b_analysis.config import ClientParams, LoadedParams, load_params
from b2b_analysis.errors import InputError
from b2b_analysis.io import ClientData, DataWarning, load_client
from b2b_analysis.kpis import KpiReport, compute_kpis
from b2b_analysis.periods import Calendar, period_index, period_label, period_start
from b2b_analysis.registry import KPIS, REGISTRY, Kpi

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
