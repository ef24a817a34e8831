"""benchmarks/ runs from a checkout and is not installed (issue 15, item 8)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[2]


def _installed_packages() -> set[str]:
    """The packages ``pip install .`` puts in the wheel, found the way setuptools finds them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    find = config["tool"]["setuptools"]["packages"]["find"]
    return set(find_namespace_packages(where=str(ROOT), include=find["include"], exclude=find.get("exclude", [])))


def test_benchmarks_and_their_tuning_notebook_are_not_installed() -> None:
    """pip install . ships the application packages and none of benchmarks/ (its tuning/ notebook included)."""
    packages = _installed_packages()
    assert {"optimizer", "dispatch", "api", "fixtures"} <= packages
    assert not {p for p in packages if p.split(".")[0] in ("benchmarks", "tests")}


def test_benchmarks_import_from_the_checkout() -> None:
    """The test suite imports benchmarks/ from the checkout it runs in (pytest's pythonpath), not from an install."""
    import benchmarks.solomon

    assert Path(benchmarks.solomon.__file__).resolve().is_relative_to(ROOT / "benchmarks")
