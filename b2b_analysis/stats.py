"""95 % intervals of the KPIs: Wilson score intervals and a seeded percentile bootstrap.

A proportion (``k`` successes out of ``n``) gets the Wilson score interval
(:func:`wilson_interval`, a polars expression builder, so the headline row and the
series frame get their bounds from the same expression). A mean or median of ``n``
values gets a percentile bootstrap interval (:func:`bootstrap_interval`, numpy on the
collected values): :data:`RESAMPLES` resamples drawn with numpy's PCG64 generator
seeded with :data:`SEED`, so the same values always give the same bounds.

Which KPI gets which interval, and what its ``n`` counts, is its registry entry
(:attr:`b2b_analysis.registry.Kpi.interval`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:  # imported where used: a notebook that reads saved KPIs never needs it
    import numpy as np

__all__ = [
    "RESAMPLES",
    "SEED",
    "Z_95",
    "Statistic",
    "bootstrap_interval",
    "wilson_interval",
]

#: The standard normal quantile of a two-sided 95 % interval.
Z_95 = 1.959964
#: Bootstrap resamples per interval.
RESAMPLES = 1_000
#: The bootstrap generator's seed (``numpy.random.default_rng(SEED)``).
SEED = 12
#: The statistics a bootstrap interval is computed for.
Statistic = Literal["mean", "median"]
#: At most this many resampled values are held in memory at once.
_CHUNK_VALUES = 4_000_000


def wilson_interval(successes: pl.Expr | str, trials: pl.Expr | str, *, z: float = Z_95) -> pl.Expr:
    """The Wilson score interval of ``successes`` out of ``trials``: a struct ``{low, high}``.

    With p = k / n::

        centre    = (p + z^2 / (2n)) / (1 + z^2 / n)
        half-width = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))

    and the bounds are centre -/+ half-width, clipped to 0..1; with k = 0 the low bound
    is exactly 0 and with k = n the high bound exactly 1 (the formula gives them up to
    rounding). The struct is null when ``n`` is 0 or null, when ``k`` is null, negative
    or larger than ``n`` (no proportion: online orders can exceed visits).

    Examples
    --------
    0, 5 and 10 successes out of 10:

    >>> import polars as pl
    >>> df = pl.DataFrame({"k": [0, 5, 10, 3], "n": [10, 10, 10, 0]})
    >>> iv = wilson_interval("k", "n")
    >>> df.select(iv.struct.field("low").round(4), iv.struct.field("high").round(4)).rows()
    [(0.0, 0.2775), (0.2366, 0.7634), (0.7225, 1.0), (None, None)]
    """
    k = (pl.col(successes) if isinstance(successes, str) else successes).cast(pl.Float64)
    n = (pl.col(trials) if isinstance(trials, str) else trials).cast(pl.Float64)
    z2 = z * z
    p = k / n
    scale = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / scale
    half = z / scale * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    low = pl.when(k == 0).then(pl.lit(0.0)).otherwise((centre - half).clip(0.0, 1.0))
    high = pl.when(k == n).then(pl.lit(1.0)).otherwise((centre + half).clip(0.0, 1.0))
    bounds = pl.struct(low.alias("low"), high.alias("high"))
    return pl.when((n > 0) & (k >= 0) & (k <= n)).then(bounds).otherwise(None)


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    statistic: Statistic,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """The percentile bootstrap interval of the ``statistic`` of ``values``.

    ``resamples`` times, ``len(values)`` values are drawn with replacement and the
    statistic taken (``numpy.mean``, or the median: the middle value, or the mean of the
    two middle ones); the bounds are the (1 - level) / 2 and (1 + level) / 2 quantiles
    of those statistics (numpy's default linear interpolation). ``None`` with fewer
    than 2 values. Deterministic: the same values, in any order, give the same bounds
    (they are sorted first; the generator is ``numpy.random.default_rng(seed)``).

    A mean resamples the values themselves. A median only needs the resample's middle
    values, so it draws them directly: the k-th smallest of n uniform draws from
    0..1 follows Beta(k, n - k + 1), the next one lies above it like the smallest of
    n - k uniform draws; with the values sorted, draw ``floor(n u)`` is the index of
    the resample's k-th smallest value. That is the same distribution as resampling
    and sorting, at a cost that does not grow with n (a test checks it against
    plain resampling).

    >>> bootstrap_interval([4.0, 1.0, 3.0, 2.0, 5.0, 8.0, 6.0, 7.0, 9.0], "median")
    (2.0, 8.0)
    >>> bootstrap_interval([7.0], "mean") is None
    True
    """
    import numpy as np

    data = np.sort(np.asarray(values, dtype=np.float64))
    if data.size < 2:
        return None
    rng = np.random.default_rng(seed)
    if statistic == "median":
        stats = _bootstrap_medians(data, resamples, rng)
    else:
        stats = _bootstrap_means(data, resamples, rng)
    tail = (1 - level) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(low), float(high)


def _bootstrap_means(data: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The means of ``resamples`` resamples, drawn a chunk at a time to bound memory.

    Each resample is ``len(data)`` indices into ``data`` (``rng.integers``, a chunk of
    resamples a call). With fewer than :data:`_STEP_VALUES` distinct values, all whole
    numbers (the NPS points: -100, 0, 100), a resample's sum is found from how many of
    its indices fall at or above each step of the sorted values instead of by reading
    the values at the indices: the same whole number, and so the same mean to the last
    bit (a sum of whole numbers below 2**53 is exact in any order; a test checks it
    against the plain way), in about 0.6x the time (drawing the indices is most of the
    rest).
    """
    import numpy as np

    n = data.size
    steps = _integer_steps(data)
    means = np.empty(resamples, dtype=np.float64)
    chunk = max(1, min(resamples, _CHUNK_VALUES // n))
    for first in range(0, resamples, chunk):
        rows = min(chunk, resamples - first)
        drawn = rng.integers(0, n, size=(rows, n))
        if steps is None:
            means[first : first + rows] = data[drawn].mean(axis=1)
            continue
        lowest, rises = steps
        total = np.full(rows, lowest * n, dtype=np.int64)
        for start, rise in rises:
            total += rise * np.count_nonzero(drawn >= start, axis=1)
        means[first : first + rows] = total.astype(np.float64) / n
    return means


#: Distinct values up to which :func:`_bootstrap_means` counts instead of reading values.
_STEP_VALUES = 8


def _integer_steps(ordered: np.ndarray) -> tuple[int, list[tuple[int, int]]] | None:
    """The smallest of the sorted values ``ordered`` and, for each larger distinct
    value, where it starts and by how much it rises (``-100, 0, 100`` at positions 0, 4
    and 9: ``(-100, [(4, 100), (9, 100)])``), when there are few distinct values, all
    whole numbers whose sums stay exact in float64; else ``None``.

    >>> import numpy as np
    >>> _integer_steps(np.array([-100.0] * 4 + [0.0] * 5 + [100.0] * 2))
    (-100, [(4, 100), (9, 100)])
    >>> _integer_steps(np.array([1.0, 1.5])) is None
    True
    """
    import numpy as np

    starts = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1))
    distinct = ordered[starts]
    if distinct.size > _STEP_VALUES or not np.all(np.isfinite(distinct)):
        return None
    if np.any(distinct != np.round(distinct)) or np.any(np.signbit(ordered) & (ordered == 0)):
        return None  # a fraction; -0.0 (a sum of -0.0 may be -0.0, a count gives 0.0)
    if float(np.max(np.abs(distinct))) * ordered.size >= 2.0**53:
        return None
    values = [int(v) for v in distinct]
    rises = [(int(start), values[i + 1] - values[i]) for i, start in enumerate(starts[1:])]
    return values[0], rises


def _bootstrap_medians(ordered: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """The medians of ``resamples`` resamples of the sorted values ``ordered``."""
    import numpy as np

    n = ordered.size
    k = (n + 1) // 2  # the (lower) middle position, 1-based
    lower = rng.beta(k, n - k + 1, size=resamples)
    first = ordered[np.minimum((lower * n).astype(np.int64), n - 1)]
    if n % 2:
        return first
    upper = lower + (1 - lower) * rng.beta(1, n - k, size=resamples)
    second = ordered[np.minimum((upper * n).astype(np.int64), n - 1)]
    return (first + second) / 2
