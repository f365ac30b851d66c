"""The report's notebook files: where they are, checking that they declare the run
parameters, and the developer tool that refreshes their committed outputs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from b2b_analysis.atomic import write_atomic
from b2b_analysis.errors import InputError
from b2b_analysis.report.contents import NOTEBOOKS
from b2b_analysis.report.parameters import PARAMETERS

__all__ = ["DEFAULT_NOTEBOOKS", "check_notebooks", "refresh_notebooks"]

#: Where the notebooks live in a source checkout.
DEFAULT_NOTEBOOKS = Path(__file__).resolve().parent.parent.parent / "notebooks"


def check_notebooks(notebooks_dir: Path, names: Iterable[str] = NOTEBOOKS) -> dict[str, Path]:
    """Each notebook exists and declares exactly the parameters the runner injects."""
    from b2b_analysis.quickimport import import_jsonschema

    import_jsonschema()
    import papermill

    found: dict[str, Path] = {}
    for name in names:
        path = notebooks_dir / f"{name}.ipynb"
        if not path.exists():
            raise InputError(f"notebook not found: {path}")
        declared = set(papermill.inspect_notebook(str(path)))
        missing = sorted(set(PARAMETERS) - declared)
        if missing:
            raise InputError(
                f"{path}: its parameters cell does not declare {', '.join(missing)} "
                f"(it declares {', '.join(sorted(declared)) or 'nothing'})"
            )
        found[name] = path
    return found


def refresh_notebooks(notebooks_dir: Path | None = None, *, orders: int = 40_000) -> None:
    """Regenerate the acme demo data and re-execute the notebooks in place.

    Run after a change to the generator, the metrics or the charts: the notebooks
    are committed with these outputs and ``tests/test_nbval.py`` compares them
    exactly. ``python -c "from b2b_analysis.report import refresh_notebooks as r; r()"``
    """
    import papermill

    from b2b_analysis import demo as gen
    from b2b_analysis.report.worker import KERNEL

    folder = notebooks_dir or DEFAULT_NOTEBOOKS
    params = folder.parent / "params"
    gen.generate(params / "data" / "acme", profile="acme", orders=orders, seed=0)
    params_file = params / "acme.yaml"
    if not params_file.exists():
        write_atomic(params_file, gen.params_yaml("acme", "data/acme"))
    for name in check_notebooks(folder):
        path = folder / f"{name}.ipynb"
        tmp = folder / f".{name}.tmp.ipynb"
        papermill.execute_notebook(
            str(path), str(tmp), kernel_name=KERNEL, progress_bar=False, cwd=str(folder)
        )
        tmp.replace(path)
