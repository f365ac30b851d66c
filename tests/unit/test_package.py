"""The package's public surface: every name of ``__all__`` resolves to its module's object,
and importing the package (or the command line) loads no heavy dependency by itself."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import b2b_analysis


@pytest.mark.parametrize("name", b2b_analysis.__all__)
def test_every_public_name_is_its_modules_object(name: str) -> None:
    source = importlib.import_module(f"b2b_analysis.{b2b_analysis._SOURCES[name]}")
    assert getattr(b2b_analysis, name) is getattr(source, name)
    assert name in dir(b2b_analysis)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'load_everything'"):
        b2b_analysis.load_everything  # noqa: B018


@pytest.mark.slow
def test_importing_the_package_and_the_cli_loads_no_polars_or_pydantic() -> None:
    """What ``b2b-analysis --help`` pays for: the CLI module, without the data stack."""
    code = (
        "import sys, b2b_analysis, b2b_analysis.cli; "
        "print(sorted(m for m in ('polars', 'pydantic', 'altair', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


#: Never imported by ``--help`` or ``kpis``: the report stack (charts, notebooks and
#: their export) and data libraries the KPIs are not computed with.
REPORT_STACK = (
    "altair", "jsonschema", "nbformat", "nbconvert", "papermill", "IPython", "jinja2",
    "vl_convert", "xlsxwriter", "pyarrow", "pandas", "scipy", "duckdb",
)  # fmt: skip

#: Runs the command line with the arguments given as JSON, then prints the top-level
#: packages it imported (``main`` ends with ``sys.exit``).
_IMPORTED_BY = """
import json, sys
sys.argv = ["b2b-analysis", *json.loads(sys.argv[1])]
from b2b_analysis.cli import main
try:
    main()
except SystemExit as exc:
    status = exc.code
sys.stderr.write(f"status {status}\\n")
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _imported_by(*args: str) -> set[str]:
    """The top-level packages a ``b2b-analysis ARGS`` process imported (its output,
    which goes to the same stdout, is dropped)."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED_BY, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "status 0" in result.stderr, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.slow
def test_help_imports_neither_the_data_stack_nor_rich() -> None:
    """``--help`` needs typer only (issue 14: under 0.3 s)."""
    heavy = {*REPORT_STACK, "polars", "pydantic", "numpy", "yaml", "babel", "rich"}
    assert _imported_by("--help") & heavy == set()


@pytest.mark.slow
def test_kpis_imports_no_report_stack(hand_checked_params: Path) -> None:
    """``kpis`` imports what computing the KPIs needs; as JSON, not even rich."""
    as_json = _imported_by("kpis", str(hand_checked_params), "--format", "json")
    assert as_json & {*REPORT_STACK, "rich"} == set()
    table = _imported_by("kpis", str(hand_checked_params))
    assert table & set(REPORT_STACK) == set()
    assert "rich" in table  # the check sees what a command imports
