"""Paths to and readers of the datasets that ship inside the package (``tariffcalc.data``).

The files are built from public statistics by ``scripts/build_data.py``; ``data/README.md`` says where
every number comes from. Small tables are cached: they are read once per process.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported on use, so listing scenarios stays fast
    import pandas as pd

DEFAULT_FLOWS = "us_imports_2024.parquet"


@functools.cache
def data_root() -> Path:
    """The folder of the bundled data.

    Installed, it is the package ``tariffcalc.data`` (pyproject.toml maps the repository's ``data/`` onto
    it). Imported from a source tree without an install (Python started in the repository root, where the
    in-tree ``tariffcalc`` shadows the installed one), it is the ``data/`` folder beside the package.
    """
    try:
        return Path(str(resources.files("tariffcalc.data")))
    except ModuleNotFoundError:
        beside = Path(__file__).resolve().parents[2] / "data"
        if (beside / "countries.csv").is_file():
            return beside
        raise


def data_path(name: str) -> Path:
    """Absolute path of a bundled file, e.g. ``data_path("countries.csv")`` or ``"lists/s232_autos.csv"``."""
    return data_root() / name


def scenarios_dir() -> Path:
    """Folder of the bundled scenario files (``*.toml``)."""
    return data_path("scenarios")


def bundled_scenarios() -> dict[str, Path]:
    """Name → path of every bundled scenario file."""
    return {path.stem: path for path in sorted(scenarios_dir().glob("*.toml"))}


def scenario_titles() -> list[tuple[str, str]]:
    """(name, title) of each bundled scenario, for ``tariffcalc scenarios``."""
    out = []
    for name, path in bundled_scenarios().items():
        with path.open("rb") as handle:
            out.append((name, str(tomllib.load(handle).get("title", ""))))
    return out


def lists_dir() -> Path:
    """Folder of the bundled product lists (CSV files with an ``hs`` column of prefixes)."""
    return data_path("lists")


def default_flows_path() -> Path:
    """The default trade flows: 2024 US imports for consumption by partner × product (see data/README.md)."""
    return data_path(DEFAULT_FLOWS)


@functools.cache
def _read_table(name: str) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(data_path(name), dtype=str, keep_default_na=False)


def read_table(name: str) -> pd.DataFrame:
    """Read a small bundled CSV with every column as text (codes keep their leading zeros).

    The file is read once per process; each call returns a new frame over the same data (pandas
    copy-on-write), so a caller that changes it never changes what the next caller gets.
    """
    return _read_table(name).copy(deep=False)


@functools.cache
def _default_flows() -> pd.DataFrame:
    return read_parquet_text(default_flows_path(), numeric=("value_usd", "calc_duty_usd"))


def default_flows() -> pd.DataFrame:
    """The bundled 2024 flow table (``partner``, ``hs``, ``period``, ``value_usd``, ``calc_duty_usd``, ``method``).

    Read once per process; each call returns a new frame over the same data (pandas copy-on-write).
    """
    return _default_flows().copy(deep=False)


def read_parquet_text(path: Path, numeric: tuple[str, ...] = ("value_usd",)) -> pd.DataFrame:
    """Read a Parquet file with every column except ``numeric`` as text.

    Dictionary-encoded and integer columns are cast to strings in Arrow, which is far cheaper than
    converting pandas Categoricals afterwards; codes such as ``0101`` keep their leading zeros.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for index, field in enumerate(table.schema):
        if field.name not in numeric and field.type != pa.string():
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table.to_pandas()
