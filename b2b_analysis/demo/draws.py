"""Random streams and the vectorised draws every table builder uses.

Each (seed, profile, stage, chunk, table) has its own stream, so a table's bytes
never depend on the machine, its thread count, or which other tables are written.
"""

from __future__ import annotations

import zlib

import numpy as np

from b2b_analysis.demo.profiles import Profile


def rng(seed: int, profile: Profile, *stream: int) -> np.random.Generator:
    """An independent random stream per (seed, profile, stage, chunk, table)."""
    key = zlib.crc32(profile.slug.encode())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, key, *stream])))


def cdf(weights: tuple[tuple[str, float], ...] | np.ndarray) -> np.ndarray:
    """Cumulative distribution of relative weights, for :func:`pick`.

    >>> cdf((("a", 1.0), ("b", 3.0))).tolist()
    [0.25, 1.0]
    """
    p = np.array([w for _, w in weights] if isinstance(weights, tuple) else weights, float)
    return np.cumsum(p) / p.sum()


def pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn with the probabilities behind ``cdf``, for each ``u`` in [0, 1).

    >>> pick(np.array([0.25, 1.0]), np.array([0.1, 0.25, 0.9])).tolist()
    [0, 1, 1]
    """
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int32)


def sorted_by(key: np.ndarray) -> np.ndarray:
    """The permutation that sorts ``key`` (>= 0), ties kept in input order.

    Sorting ``key * n + position`` (all distinct) is several times faster than a
    stable argsort and gives the same, platform-independent answer.

    >>> sorted_by(np.array([3, 1, 3, 0])).tolist()
    [3, 1, 0, 2]
    """
    n = len(key)
    return np.sort(key.astype(np.int64) * n + np.arange(n, dtype=np.int64)) % n
