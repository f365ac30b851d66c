"""The package fixes the profile points to, applied to a scratch copy for before/after.

    python -m bench.fixes DIR        # copies b2b_analysis/ to DIR/b2b_analysis, patched

The package itself is never edited from bench/: each fix below is an exact text
replacement (it fails loudly if the package moved on), so the patched copy can be
benchmarked against the checkout in the same run (``kpi_bench --toolkit-path DIR``,
engine ``toolkit_fixed``; ``report_bench --toolkit-path DIR``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from bench.common import ROOT

#: (file, what the profile showed, old text, new text)
FIXES: list[tuple[str, str, str, str]] = [
    (
        "io.py",
        "io._deduplicate: is_duplicated() hashes every id of every table (0.8 s of 3.8 s "
        "of load_client on 1M orders: the 2.9M visit ids); ids of exports are usually "
        "sorted, and strictly increasing ids are unique: one comparison pass",
        """    payload = [c for c in frame.columns if c != ROW]
    duplicated = frame.filter(pl.col(key).is_duplicated())""",
        """    payload = [c for c in frame.columns if c != ROW]
    # fast path: exports are usually sorted by their id; strictly increasing ids are
    # unique, and checking that is one cheap comparison pass (no hashing)
    ids = pl.col(key)
    if frame.select((ids > ids.shift(1)).all() & ids.is_not_null().all()).item():
        return frame
    duplicated = frame.filter(pl.col(key).is_duplicated())""",
    ),
    (
        "io.py",
        "io._map_orders: lower-cases every channel and status label of every order; map "
        "the few distinct raw labels instead, then one is_in on the raw column",
        """def _map_orders(frame: pl.DataFrame, params: ClientParams, file: str) -> pl.DataFrame:
    label = pl.col("channel").str.to_lowercase()
    online = _label_lookup(params.channels.online)
    offline = _label_lookup(params.channels.offline)
    known = label.is_in(online) | label.is_in(offline)""",
        '''def _raw_labels(frame: pl.DataFrame, column: str, wanted: list[str]) -> list[str]:
    """The raw labels of ``column`` that lower-case to one of ``wanted``: the mapping is
    done once per distinct label, not once per row."""
    distinct = frame.get_column(column).unique().drop_nulls().to_list()
    return [v for v in distinct if v.lower() in set(wanted)]


def _map_orders(frame: pl.DataFrame, params: ClientParams, file: str) -> pl.DataFrame:
    label = pl.col("channel")
    online = _raw_labels(frame, "channel", _label_lookup(params.channels.online))
    offline = _raw_labels(frame, "channel", _label_lookup(params.channels.offline))
    known = label.is_in(online) | label.is_in(offline)''',
    ),
    (
        "io.py",
        "io._map_orders: the same for the status labels",
        """    if "status" in frame.columns:
        status_label = pl.col("status").str.to_lowercase()
        status = (
            pl.when(status_label.is_in(_label_lookup(params.statuses.cancelled)))
            .then(pl.lit("cancelled"))
            .when(status_label.is_in(_label_lookup(params.statuses.returned)))""",
        """    if "status" in frame.columns:
        status_label = pl.col("status")
        cancelled = _raw_labels(frame, "status", _label_lookup(params.statuses.cancelled))
        returned = _raw_labels(frame, "status", _label_lookup(params.statuses.returned))
        status = (
            pl.when(status_label.is_in(cancelled))
            .then(pl.lit("cancelled"))
            .when(status_label.is_in(returned))""",
    ),
    (
        "metrics.py",
        "metrics.channel_transitions: re-sorts the customer x period grid and runs two "
        "shift().over(customer) window functions; a join on (customer, period - 1) gives "
        "the same pairs without the sort",
        """    return (
        states.sort("customer_id", "period")
        .with_columns(
            pl.col("state").shift(1).over("customer_id").alias("from_state"),
            pl.col("period").shift(1).over("customer_id").alias("_prev_period"),
        )
        .filter(pl.col("_prev_period") == pl.col("period") - 1)
        .group_by("period", "from_state", pl.col("state").alias("to_state"))""",
        """    # a join on (customer, period - 1) instead of sort + shift().over(): no sort of
    # the customer x period grid, and the same pairs (one row per customer and period)
    previous = states.select(
        "customer_id",
        (pl.col("period") + 1).alias("period"),
        pl.col("state").alias("from_state"),
    )
    return (
        states.join(previous, on=["customer_id", "period"], how="inner")
        .group_by("period", "from_state", pl.col("state").alias("to_state"))""",
    ),
    (
        "__init__.py",
        "every notebook kernel imports altair -> jsonschema -> rfc3987_syntax, which "
        "compiles ~35 Lark grammars at import time (python-jsonschema/jsonschema#1428): "
        "seconds per kernel and per report worker; nothing here validates 'iri' formats",
        """from b2b_analysis.config import ClientParams, LoadedParams, load_params""",
        """import sys as _sys

# jsonschema (imported by altair in every notebook kernel, and by nbformat/papermill in
# every report worker) imports rfc3987_syntax when it is installed, which compiles some
# 35 Lark grammars at import time: seconds per process. No schema these libraries check
# uses the "iri" formats it validates; without it jsonschema skips those two formats.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from b2b_analysis.config import ClientParams, LoadedParams, load_params  # noqa: E402""",
    ),
]


def apply(target: Path) -> Path:
    """Copy the checkout's package to ``target/b2b_analysis`` and apply every fix."""
    dest = target / "b2b_analysis"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "b2b_analysis", dest, ignore=shutil.ignore_patterns("__pycache__"))
    for name, why, old, new in FIXES:
        path = dest / name
        text = path.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"fix no longer applies to {name} ({why[:60]}...)")
        path.write_text(text.replace(old, new))
    init = dest / "__init__.py"
    text = init.read_text()
    for line in text.splitlines():
        if line.startswith("from b2b_analysis.") and "noqa" not in line:
            text = text.replace(line, line + "  # noqa: E402")
    init.write_text(text)
    # the notebooks and templates are found next to the checkout's package
    return dest


if __name__ == "__main__":
    out = apply(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/b2b_fix"))
    print(out)
