"""The wheel must carry every subpackage and the bundled data: pyproject lists packages explicitly."""

from __future__ import annotations

import tomllib
from pathlib import Path

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


def test_the_version_is_written_once():
    """pyproject.toml reads the version from tariffcalc/_version.py; nothing else writes it."""
    import tariffcalc
    from tariffcalc._version import __version__

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert tariffcalc.__version__ == __version__


def test_python_started_in_the_repository_root_finds_the_bundled_data():
    """A notebook or script started in the source tree imports the in-tree package, which must find data/
    whether or not the package is also installed."""
    import subprocess
    import sys

    code = "import tariffcalc.reference.bundled as b; print(b.data_path('countries.csv').is_file())"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_the_installed_copy_is_what_ci_tests():
    """In .ci/run's second pass (TARIFFCALC_INSTALLED=1) the package must come from site-packages."""
    import os

    import tariffcalc

    located = Path(tariffcalc.__file__).resolve()
    if os.environ.get("TARIFFCALC_INSTALLED"):
        assert not located.is_relative_to(REPO.resolve()), located
        assert "site-packages" in located.parts
    else:
        assert located.is_file()


def test_the_notebook_face_lists_the_api():
    import tariffcalc

    for name in ("run", "compute", "compare", "sweep", "timeline", "refunds", "gsim", "explain", "respond"):
        assert name in dir(tariffcalc) and callable(getattr(tariffcalc, name))
