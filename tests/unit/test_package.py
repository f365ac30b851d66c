"""The package's public surface: every name of ``__all__`` resolves to its module's object,
and importing the package (or the command line) loads no heavy dependency by itself."""

from __future__ import annotations

import importlib
import subprocess
import sys

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
