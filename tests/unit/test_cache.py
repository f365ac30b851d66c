"""The KPI step's saved tables and KPIs (:mod:`b2b_analysis.cache`) and their use by
:func:`b2b_analysis.analysis.open_analysis`.

A cache is read back exactly; ``open_analysis`` takes it only when it was made for
the same params file (path and content) and window, and otherwise loads and
computes as a notebook opened alone does. The report run itself (the published
folder holds no cache, the kernels use it) is checked in
``tests/system/test_report_cache.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from b2b_analysis import analysis, cache
from b2b_analysis import demo as gen
from b2b_analysis.analysis import open_analysis
from b2b_analysis.report.parameters import RunParameters
from b2b_analysis.report.worker import run_kpis

TABLES = ("orders", "order_lines", "visits", "surveys", "investments")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,000-order demo client with every optional table; returns its params file."""
    base = tmp_path_factory.mktemp("client")
    gen.generate(base / "data", profile="acme", orders=1000, seed=3)
    params = base / "acme.yaml"
    params.write_text(gen.params_yaml("acme", "data"), encoding="utf-8")
    return params


@pytest.fixture(scope="module")
def computed(client: Path) -> analysis.Analysis:
    """The client's analysis as a notebook opened alone makes it (no cache)."""
    assert cache.ENVIRONMENT not in os.environ
    return open_analysis(client)


@pytest.fixture
def saved(client: Path, tmp_path: Path) -> Path:
    """The KPI step of a run for the client: ``kpis.json`` and the cache folder."""
    run_kpis(RunParameters.for_client(client), str(tmp_path))
    return tmp_path / cache.FOLDER


class Calls:
    def __init__(self) -> None:
        self.loads = 0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Counts the loads ``open_analysis`` makes (a cache that is used makes none)."""
    calls = Calls()
    real = analysis.load_client

    def load_client(*args: Any, **kwargs: Any) -> Any:
        calls.loads += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "load_client", load_client)
    yield calls


def _same_analysis(got: analysis.Analysis, want: analysis.Analysis) -> None:
    assert got.kpis.to_dict() == want.kpis.to_dict()
    assert got.kpis.series.equals(want.kpis.series)
    assert got.data.params == want.data.params and got.data.sources == want.data.sources
    for name in TABLES:
        frame, expected = getattr(got.data, name), getattr(want.data, name)
        assert frame.schema == expected.schema, name
        assert frame.equals(expected), name
    assert got.cohorts.equals(want.cohorts)


def test_the_kpi_step_saves_what_it_computed(
    saved: Path, client: Path, computed: analysis.Analysis
) -> None:
    manifest = json.loads((saved / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"] == sorted(TABLES)
    assert manifest["key"]["params_file"] == str(client.resolve())
    assert manifest["key"]["start"] is None and manifest["key"]["period"] is None
    kpis_json = json.loads((saved.parent / "kpis.json").read_text(encoding="utf-8"))
    assert kpis_json == computed.kpis.to_dict()
    key = cache.CacheKey.of(client, None, None, None)
    loaded = cache.load(saved, key)
    assert loaded is not None
    _same_analysis(analysis.Analysis(data=loaded[0], kpis=loaded[1]), computed)


def test_open_analysis_takes_a_matching_cache_and_loads_nothing(
    saved: Path, client: Path, computed: analysis.Analysis, counted: Calls
) -> None:
    with cache.environment(saved):
        got = open_analysis(str(client))
    assert counted.loads == 0
    _same_analysis(got, computed)


def test_a_window_given_as_text_or_date_is_the_same_key(
    client: Path, tmp_path: Path, counted: Calls
) -> None:
    window = {"start": "2023-04-01", "end": "2024-03-31", "period": "quarter"}
    run_kpis(RunParameters.for_client(client, window), str(tmp_path))
    counted.loads = 0  # the KPI step loaded the client once
    with cache.environment(tmp_path / cache.FOLDER):
        got = open_analysis(client, start=dt.date(2023, 4, 1), end="2024-03-31", period="quarter")
    assert counted.loads == 0
    assert (got.start, got.end, got.kpis.period) == (
        dt.date(2023, 4, 1),
        dt.date(2024, 3, 31),
        "quarter",
    )


def _other_window(saved: Path, client: Path) -> dict[str, Any]:
    return {"start": "2023-02-01"}


def _other_period(saved: Path, client: Path) -> dict[str, Any]:
    return {"period": "quarter"}


def _edited_params(saved: Path, client: Path) -> dict[str, Any]:
    text = client.read_text(encoding="utf-8")
    client.write_text(text + "# edited\n", encoding="utf-8")
    return {}


def _no_manifest(saved: Path, client: Path) -> dict[str, Any]:
    (saved / "manifest.json").unlink()
    return {}


def _other_version(saved: Path, client: Path) -> dict[str, Any]:
    path = saved / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["version"] += 1
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return {}


def _broken_pickle(saved: Path, client: Path) -> dict[str, Any]:
    (saved / "analysis.pickle").write_bytes(b"not a pickle")
    return {}


def _missing_table(saved: Path, client: Path) -> dict[str, Any]:
    (saved / "visits.arrow").unlink()
    return {}


@pytest.mark.parametrize(
    "spoil",
    [
        _other_window,
        _other_period,
        _edited_params,
        _no_manifest,
        _other_version,
        _broken_pickle,
        _missing_table,
    ],
)
def test_a_stale_foreign_or_broken_cache_is_not_used(
    spoil: Any, client: Path, tmp_path: Path, counted: Calls
) -> None:
    own = tmp_path / "client"
    shutil.copytree(client.parent, own)
    params = own / client.name
    run_kpis(RunParameters.for_client(params), str(tmp_path / "run"))
    saved = tmp_path / "run" / cache.FOLDER
    window = spoil(saved, params)
    expected = open_analysis(params, **window)  # computed: no cache named
    counted.loads = 0
    with cache.environment(saved):
        got = open_analysis(params, **window)
    assert counted.loads == 1
    assert got.kpis.to_dict() == expected.kpis.to_dict()


def test_another_params_file_with_the_same_text_is_another_client(
    saved: Path, client: Path, tmp_path: Path, counted: Calls
) -> None:
    """The same YAML in another folder names other data files: not the cached client."""
    twin = tmp_path / "twin"
    shutil.copytree(client.parent, twin)
    with cache.environment(saved):
        open_analysis(twin / client.name)
    assert counted.loads == 1


def test_lazy_tables_are_not_saved(client: Path, tmp_path: Path) -> None:
    from b2b_analysis.config import load_params
    from b2b_analysis.io import load_client
    from b2b_analysis.kpis import compute_kpis

    data = load_client(load_params(client), streaming=True)
    assert isinstance(data.orders, pl.LazyFrame)
    report = compute_kpis(data)
    key = cache.CacheKey.of(client, None, None, None)
    assert cache.save(tmp_path / "c", key, data, report) is False
    assert not (tmp_path / "c").exists()


def test_the_environment_is_restored(tmp_path: Path) -> None:
    os.environ.pop(cache.ENVIRONMENT, None)
    with cache.environment(tmp_path):
        assert os.environ[cache.ENVIRONMENT] == str(tmp_path)
        with cache.environment(None):
            assert cache.ENVIRONMENT not in os.environ
        assert os.environ[cache.ENVIRONMENT] == str(tmp_path)
    assert cache.ENVIRONMENT not in os.environ
