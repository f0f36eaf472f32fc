"""The wheel must carry every subpackage and the bundled data: pyproject lists packages explicitly."""

from __future__ import annotations

import tomllib

from .conftest import REPO


def test_every_subpackage_is_declared_in_pyproject():
    declared = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "tariffcalc").rglob("__init__.py")
    }
    missing = on_disk - declared
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_bundled_data_files_are_declared_as_package_data():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = {suffix for globs in config.values() for suffix in globs}
    suffixes = {f"*{p.suffix}" for p in (REPO / "data").rglob("*") if p.is_file() and p.suffix != ".py"}
    assert suffixes <= patterns, (
        f"data files with suffixes {sorted(suffixes - patterns)} would not be installed"
    )
