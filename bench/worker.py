"""One measured run of one engine, in its own process.

    python -m bench.worker ENGINE CONFIG_JSON [--dump DIR]

Prints one JSON line: the engine's phase timings, the process's peak RSS (MiB, from
``getrusage(RUSAGE_SELF)``) and the seconds spent importing. With ``--dump`` it then
writes the outputs (after the timers stopped) for the correctness check.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

began = time.perf_counter()


def _dump(outputs: dict, folder: Path) -> None:
    import polars as pl

    folder.mkdir(parents=True, exist_ok=True)
    for name, value in outputs.items():
        if name == "headline":
            clean = {
                k: (None if v is None else (v.item() if hasattr(v, "item") else v))
                for k, v in value.items()
            }
            (folder / "headline.json").write_text(json.dumps(clean, indent=1, default=str))
            continue
        frame = value
        if not isinstance(frame, pl.DataFrame):
            frame = pl.from_pandas(frame) if hasattr(frame, "to_numpy") else pl.from_arrow(frame)
        frame.write_parquet(folder / f"{name}.parquet")


#: What each engine imports before its timer starts (the baseline RSS is taken after).
IMPORTS = {
    "toolkit": ["polars", "b2b_analysis", "b2b_analysis.kpis", "b2b_analysis.metrics"],
    "toolkit_streaming": ["polars", "b2b_analysis", "b2b_analysis.kpis", "b2b_analysis.metrics"],
    "toolkit_rfm": ["polars", "b2b_analysis", "b2b_analysis.kpis"],
    "duckdb": ["duckdb", "pyarrow"],
    "pandas": ["pandas", "numpy", "pyarrow"],
    "lifetimes": ["pandas", "lifetimes.utils"],
}


def main() -> None:
    import importlib
    import os

    engine, cfg_json = sys.argv[1], sys.argv[2]
    revision = os.environ.get("BENCH_TOOLKIT_PATH")
    if revision:  # b2b_analysis exported at a baseline revision, ahead of the checkout
        sys.path.insert(0, revision)
    dump = Path(sys.argv[sys.argv.index("--dump") + 1]) if "--dump" in sys.argv else None
    for module in IMPORTS[engine]:
        importlib.import_module(module)
    from bench.engines import ENGINES

    cfg = json.loads(cfg_json)
    imported = time.perf_counter()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timings, outputs = ENGINES[engine](cfg)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "engine": engine,
                "timings": timings,
                "peak_rss_mib": peak,
                "baseline_rss_mib": baseline,
                "startup": imported - began,
                "package": sys.modules["b2b_analysis"].__file__
                if "b2b_analysis" in sys.modules
                else None,
            }
        ),
        flush=True,
    )
    if dump is not None:
        _dump(outputs, dump)


if __name__ == "__main__":
    main()
