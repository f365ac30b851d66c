"""The correctness check: the toolkit, DuckDB and pandas must give the same numbers.

Headline KPIs and every cell of the cohort matrix, the channel transitions and the
per-customer AOV comparison must agree to a relative 1e-9 (counts exactly); the
lifetimes summary must agree with the toolkit's equivalent the same way.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl

REL = 1e-9
ABS = 1e-9  # for values that should be 0

FRAMES = {
    "cohort": ["cohort", "periods_since"],
    "transitions": ["period", "from_state", "to_state"],
    "aov": ["customer_id"],
    "rfm": ["customer_id"],
}


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or (isinstance(a, float) and math.isnan(a))) and (
            b is None or (isinstance(b, float) and math.isnan(b))
        )
    return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=ABS)


def _normalise(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    casts = []
    for name, dtype in frame.schema.items():
        if name in keys:
            casts.append(
                pl.col(name).cast(pl.String)
                if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Categorical)
                else pl.col(name).cast(pl.Int64)
            )
        elif dtype.is_numeric() or dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Float64))
        else:
            casts.append(pl.col(name))
    return frame.select(casts).sort(keys)


def compare_frames(name: str, ref: pl.DataFrame, other: pl.DataFrame) -> list[str]:
    keys = FRAMES[name]
    ref, other = _normalise(ref, keys), _normalise(other, keys)
    problems = []
    if ref.height != other.height:
        problems.append(f"{name}: {ref.height} rows against {other.height}")
    columns = [c for c in ref.columns if c in other.columns and c not in keys]
    missing = [c for c in ref.columns if c not in other.columns]
    if missing:
        problems.append(f"{name}: columns missing {missing}")
    joined = ref.join(other, on=keys, how="full", suffix="_o", coalesce=True, nulls_equal=True)
    unmatched = joined.filter(
        pl.any_horizontal(pl.col(c).is_null() & pl.col(f"{c}_o").is_not_null() for c in columns)
        | pl.any_horizontal(pl.col(c).is_not_null() & pl.col(f"{c}_o").is_null() for c in columns)
    )
    if unmatched.height:
        problems.append(
            f"{name}: {unmatched.height} rows present on one side only, e.g. "
            f"{unmatched.head(2).to_dicts()}"
        )
    for c in columns:
        a, b = pl.col(c), pl.col(f"{c}_o")
        bad = joined.filter(
            a.is_not_null()
            & b.is_not_null()
            & ((a - b).abs() > pl.max_horizontal(a.abs(), b.abs()) * REL + ABS)
        )
        if bad.height:
            problems.append(
                f"{name}.{c}: {bad.height} cells differ, e.g. "
                f"{bad.select(*keys, c, f'{c}_o').head(3).to_dicts()}"
            )
    return problems


def compare_headline(ref: dict[str, Any], other: dict[str, Any], keys: list[str]) -> list[str]:
    return [
        f"headline {k}: {ref.get(k)!r} against {other.get(k)!r}"
        for k in keys
        if not _close(ref.get(k), other.get(k))
    ]


def compare_dumps(ref_dir: Path, other_dir: Path) -> list[str]:
    """Problems found comparing ``other_dir``'s outputs with ``ref_dir``'s (toolkit)."""
    from b2b_analysis.registry import KPIS

    problems: list[str] = []
    ref_head = ref_dir / "headline.json"
    if ref_head.exists():
        ref = json.loads(ref_head.read_text())
        other = json.loads((other_dir / "headline.json").read_text())
        problems += compare_headline(ref, other, list(KPIS))
    for name in FRAMES:
        ref_file = ref_dir / f"{name}.parquet"
        if ref_file.exists():
            problems += compare_frames(
                name, pl.read_parquet(ref_file), pl.read_parquet(other_dir / f"{name}.parquet")
            )
    return problems
