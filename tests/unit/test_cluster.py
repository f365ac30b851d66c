"""``report --scheduler``'s pieces that need no cluster: the option's value, and a
client's task run in this process (no Dask worker around it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2b_analysis.errors import InputError
from b2b_analysis.report.cluster import (
    LOCAL_WORKERS,
    SchedulerSpec,
    parse_scheduler,
    run_client,
)
from b2b_analysis.report.parameters import RunParameters


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("local", SchedulerSpec(local_workers=2)),
        ("local:1", SchedulerSpec(local_workers=1)),
        ("local:16", SchedulerSpec(local_workers=16)),
        ("tcp://10.0.0.5:8786", SchedulerSpec(address="tcp://10.0.0.5:8786")),
        ("tls://scheduler.example.com:8786", SchedulerSpec("tls://scheduler.example.com:8786")),
        (" tcp://127.0.0.1:40123 ", SchedulerSpec(address="tcp://127.0.0.1:40123")),
    ],
)
def test_scheduler_values(value: str, spec: SchedulerSpec) -> None:
    assert parse_scheduler(value) == spec
    assert LOCAL_WORKERS == 2  # what the docs promise for plain `local`


@pytest.mark.parametrize("value", ["local:0", "local:-1", "local:x", "local:", "local:1.5"])
def test_local_needs_a_whole_number_of_workers(value: str) -> None:
    with pytest.raises(InputError, match=rf"^--scheduler {value}: N must be a whole number"):
        parse_scheduler(value)


@pytest.mark.parametrize("value", ["foo", "", "8786", "tcp://", "tcp://host:8786/path", "a b"])
def test_anything_else_is_not_an_address(value: str) -> None:
    with pytest.raises(InputError, match="not a scheduler address; give one like tcp://"):
        parse_scheduler(value)


def test_a_params_file_the_worker_cannot_read_fails_the_client_with_a_sentence(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "params" / "acme.yaml"
    out = run_client(RunParameters(str(missing)), {}, "Acme")
    assert out.problem == (
        f"worker this process cannot read {missing}: shared filesystem needed "
        "(the same paths on every worker), see docs/cluster.md"
    )
    assert out.files == {} and out.kpis is None and out.notebooks == []


def test_an_unreadable_notebook_is_named_too(tmp_path: Path) -> None:
    params = tmp_path / "acme.yaml"
    params.write_text("client: Acme\n", encoding="utf-8")
    notebook = tmp_path / "nb" / "overview.ipynb"
    out = run_client(RunParameters(str(params)), {"overview": str(notebook)}, "Acme")
    assert out.problem is not None and f"cannot read {notebook}: " in out.problem


def test_a_failed_kpi_step_is_a_result_with_the_local_message_and_no_notebook(
    tmp_path: Path,
) -> None:
    """The params file names an orders table that is not there: the KPI step raises
    (locally: ``kpis: InputError: ...``); the task returns that, and runs no notebook."""
    params = tmp_path / "acme.yaml"
    params.write_text("client: Acme\ndata:\n  orders: data/orders.csv\n", encoding="utf-8")
    notebook = tmp_path / "overview.ipynb"
    notebook.write_text("{}", encoding="utf-8")  # readable; never run
    out = run_client(RunParameters(str(params)), {"overview": str(notebook)}, "Acme")
    assert out.problem is None
    assert out.failure is not None and out.failure.startswith("InputError: ")
    assert "orders.csv" in out.failure
    assert out.kpis is None and out.notebooks == [] and out.files == {}


def test_a_client_task_ships_back_its_outputs_but_not_the_notebooks_cache(tmp_path: Path) -> None:
    from b2b_analysis.cache import FOLDER
    from b2b_analysis.report.cluster import _files

    (tmp_path / "kpis.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_bytes(b"<p>")
    (tmp_path / FOLDER).mkdir()
    (tmp_path / FOLDER / "orders.arrow").write_bytes(b"tables")
    assert _files(tmp_path) == {"kpis.json": b"{}", "sub/page.html": b"<p>"}
