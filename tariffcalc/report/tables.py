"""Spreadsheet-safe CSV tables.

UTF-8 (with a BOM by default, so Excel reads accents right), CRLF line ends, one header row, no index column, plain
decimal numbers (never ``1e+12``), and text cells that a spreadsheet would execute as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tariffcalc.util.files import write_text
from tariffcalc.util.text import neutralise


def _format_numbers(column: pd.Series) -> np.ndarray:
    """Plain decimals: USD amounts to the cent, other numbers (rates, elasticities) to 10 decimals."""
    digits = 2 if str(column.name).endswith("_usd") else 10
    values = column.to_numpy(dtype=float)
    spec = f".{digits}f"
    text = [format(value, spec) for value in values.tolist()]
    if digits > 2:
        text = [t.rstrip("0").rstrip(".") if "." in t else t for t in text]
    text = np.array(text, dtype=object)
    text[np.isnan(values)] = ""
    text[text == "-0"] = "0"
    text[text == "-0.00"] = "0.00"
    return text


def _cells(column: pd.Series) -> np.ndarray:
    """The text of a column's cells under the rules of this module."""
    if pd.api.types.is_bool_dtype(column):
        return np.where(column.to_numpy(dtype=bool), "true", "false").astype(object)
    if pd.api.types.is_numeric_dtype(column):
        return _format_numbers(column)
    text = column.astype(object).where(column.notna(), "").astype(str)
    return np.array([neutralise(cell) for cell in text], dtype=object)


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` with the rules of this module applied."""
    columns = [_cells(column) for _, column in frame.items()]
    out = io.StringIO()
    # CRLF as RFC 4180 says: the csv writer then also quotes cells holding a bare carriage return
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(name) for name in frame.columns])
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def write_csv(frame: pd.DataFrame, path: Path, bom: bool = True) -> None:
    """Write ``frame`` as a spreadsheet-safe CSV file, atomically."""
    write_text(path, to_csv_text(frame), bom=bom)
