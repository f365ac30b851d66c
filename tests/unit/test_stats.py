"""The intervals of :mod:`b2b_analysis.stats`: Wilson score and seeded bootstrap.

* The Wilson expression against textbook values and against the formula written
  here in plain Python, on random counts.
* The bootstrap: deterministic (same values in any order, same bounds), covering
  its point estimate, null below 2 values, and its direct draw of a resample's
  median against plain resampling and against the exact distribution, and its
  counted means (few whole-number values) against the plain means, bit for bit.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b2b_analysis.stats import (
    _CHUNK_VALUES,
    RESAMPLES,
    SEED,
    Z_95,
    _bootstrap_means,
    _bootstrap_medians,
    _integer_steps,
    bootstrap_interval,
    wilson_interval,
)


def plain_wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float] | None:
    """The Wilson score interval, from its textbook formula."""
    if n == 0 or k < 0 or k > n:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - margin), min(1.0, centre + margin)


def polars_wilson(pairs: list[tuple[int | None, int | None]]) -> list[tuple[float, float] | None]:
    frame = pl.DataFrame(pairs, schema={"k": pl.Int64, "n": pl.Int64}, orient="row")
    interval = wilson_interval("k", "n")
    rows = frame.select(
        interval.is_null().alias("null"),
        interval.struct.field("low"),
        interval.struct.field("high"),
    ).rows()
    return [None if null else (low, high) for null, low, high in rows]


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # 0, 5 and 10 out of 10: the usual textbook table
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        # Newcombe (1998), Statistics in Medicine 17, table I, method 3
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_textbook_values(k: int, n: int, low: float, high: float) -> None:
    (got,) = polars_wilson([(k, n)])
    assert got is not None
    assert (round(got[0], 4), round(got[1], 4)) == (low, high)


def test_wilson_has_no_interval_without_a_proportion() -> None:
    """n = 0, a null count, or more successes than trials (online orders above visits)."""
    assert polars_wilson([(0, 0), (3, 2), (None, 5), (2, None)]) == [None] * 4


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.lists(
        st.integers(0, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
        min_size=1,
        max_size=20,
    )
)
def test_wilson_matches_the_plain_formula(pairs: list[tuple[int, int]]) -> None:
    for (k, n), got in zip(pairs, polars_wilson(list(pairs)), strict=True):
        expected = plain_wilson(k, n)
        assert (got is None) == (expected is None)
        if got is not None and expected is not None:
            assert got[0] == pytest.approx(expected[0], abs=1e-12)
            assert got[1] == pytest.approx(expected[1], abs=1e-12)
            assert 0.0 <= got[0] <= k / n <= got[1] <= 1.0
            assert (got[0] == 0.0) == (k == 0) and (got[1] == 1.0) == (k == n)


def test_constants() -> None:
    assert (Z_95, RESAMPLES, SEED) == (1.959964, 1000, 12)
    # z is the 97.5th percentile of the standard normal, to 6 decimals
    assert statistics.NormalDist().inv_cdf(0.975) == pytest.approx(Z_95, abs=1e-6)


# ------------------------------------------------------------------ bootstrap

SKEWED = [3.0, 8.0, 1.0, 40.0, 12.0, 7.0, 7.0, 2.0, 95.0, 15.0, 4.0, 6.0, 30.0]


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_bootstrap_is_deterministic(statistic: str) -> None:
    """Same values, in any order: same bounds; another seed: other bounds."""
    first = bootstrap_interval(SKEWED, statistic)  # type: ignore[arg-type]
    assert first == bootstrap_interval(list(SKEWED), statistic)  # type: ignore[arg-type]
    assert first == bootstrap_interval(sorted(SKEWED, reverse=True), statistic)  # type: ignore[arg-type]
    # the seed matters (on values with many distinct resampled statistics)
    spread = [float(v) for v in np.random.default_rng(3).lognormal(3, 1, 100)]
    assert bootstrap_interval(spread, statistic) != bootstrap_interval(  # type: ignore[arg-type]
        spread,
        statistic,  # type: ignore[arg-type]
        seed=SEED + 1,
    )


@pytest.mark.parametrize("statistic", ["mean", "median"])
@pytest.mark.parametrize(
    "values",
    [SKEWED, [1.0, 2.0], [-100.0, 0.0, 100.0, 100.0, -100.0, 100.0], [5.0] * 7, list(range(200))],
)
def test_bootstrap_covers_the_point_estimate(values: list[float], statistic: str) -> None:
    bounds = bootstrap_interval(values, statistic)  # type: ignore[arg-type]
    assert bounds is not None
    point = statistics.fmean(values) if statistic == "mean" else statistics.median(values)
    assert min(values) <= bounds[0] <= point <= bounds[1] <= max(values)


def test_bootstrap_of_a_constant_is_the_constant() -> None:
    assert bootstrap_interval([5.0] * 7, "median") == (5.0, 5.0)


@pytest.mark.parametrize("values", [[], [4.0]])
def test_bootstrap_needs_two_values(values: list[float]) -> None:
    assert bootstrap_interval(values, "median") is None
    assert bootstrap_interval(values, "mean") is None


def plain_bootstrap(values: list[float], statistic: str, resamples: int) -> tuple[float, float]:
    """Resample with replacement, take the statistic, read the 2.5th and 97.5th percentiles."""
    rng = np.random.default_rng(7)
    data = np.asarray(values)
    reduce = np.mean if statistic == "mean" else np.median
    stats = [reduce(data[rng.integers(0, data.size, data.size)]) for _ in range(resamples)]
    low, high = np.quantile(stats, [0.025, 0.975])
    return float(low), float(high)


@pytest.mark.parametrize("statistic", ["mean", "median"])
@pytest.mark.parametrize("size", [40, 41])
def test_bootstrap_agrees_with_plain_resampling(statistic: str, size: int) -> None:
    """With many resamples both methods estimate the same percentiles."""
    values = [float(v) for v in np.random.default_rng(3).lognormal(3, 1, size)]
    got = bootstrap_interval(values, statistic, resamples=20_000)  # type: ignore[arg-type]
    expected = plain_bootstrap(values, statistic, 20_000)
    assert got is not None
    spread = expected[1] - expected[0]
    assert got[0] == pytest.approx(expected[0], abs=0.05 * spread)
    assert got[1] == pytest.approx(expected[1], abs=0.05 * spread)


@pytest.mark.parametrize("values", [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 10.0]])
def test_median_draws_follow_the_exact_resampling_distribution(values: list[float]) -> None:
    """Every resample of n values is equally likely: enumerate them all (n**n) and
    compare the distribution of their medians with 200,000 direct draws."""
    n = len(values)
    exact = Counter(statistics.median(r) for r in itertools.product(values, repeat=n))
    draws = _bootstrap_medians(np.asarray(values), 200_000, np.random.default_rng(1))
    drawn = Counter(draws.tolist())
    assert set(drawn) <= set(exact)
    for median, count in exact.items():
        assert drawn[median] / 200_000 == pytest.approx(count / n**n, abs=0.005)


def gathered_means(ordered: np.ndarray, resamples: int) -> np.ndarray:
    """The bootstrap means the plain way: the values at the drawn indices, averaged,
    with the generator, draws and chunks of ``bootstrap_interval``."""
    rng = np.random.default_rng(SEED)
    n = ordered.size
    means = np.empty(resamples)
    chunk = max(1, min(resamples, _CHUNK_VALUES // n))
    for first in range(0, resamples, chunk):
        rows = min(chunk, resamples - first)
        means[first : first + rows] = ordered[rng.integers(0, n, size=(rows, n))].mean(axis=1)
    return means


@pytest.mark.parametrize(
    ("classes", "size"),
    [
        ((-100.0, 0.0, 100.0), 50_001),  # NPS points, several chunks
        ((-100.0, 0.0, 100.0), 9),
        ((1.0, 2.0, 3.0, 4.0, 5.0), 3_001),  # CSAT-like scores
        ((0.0, 1.0), 1_000),
        ((7.0,), 10),  # one value
        ((0.5, 1.0), 1_000),  # fractions: read the values
        ((-0.0, 1.0), 1_000),  # a negative zero: read the values
        ((1e12, -1e12), 10_000),  # sums beyond 2**53: read the values
        (tuple(float(v) for v in range(9)), 1_000),  # more distinct values than counted
    ],
)
def test_bootstrap_means_are_the_plain_means_to_the_bit(
    classes: tuple[float, ...], size: int
) -> None:
    ordered = np.sort(np.random.default_rng(size).choice(classes, size=size))
    resamples = 200
    got = _bootstrap_means(ordered, resamples, np.random.default_rng(SEED))
    expected = gathered_means(ordered, resamples)
    assert got.tobytes() == expected.tobytes()


def test_integer_steps_are_counted_only_where_sums_stay_exact() -> None:
    nps = np.array([-100.0] * 3 + [0.0] * 2 + [100.0] * 4)
    assert _integer_steps(nps) == (-100, [(3, 100), (5, 100)])
    assert _integer_steps(np.array([0.0, 0.5])) is None
    assert _integer_steps(np.array([-0.0, 1.0])) is None
    assert _integer_steps(np.array([0.0, 2.0**52, 2.0**52])) is None
    assert _integer_steps(np.arange(9, dtype=np.float64)) is None
    assert _integer_steps(np.arange(8, dtype=np.float64)) is not None
