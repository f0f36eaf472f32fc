"""Spreadsheet-safe CSV tables.

UTF-8 (with a BOM by default, so Excel reads accents right), CRLF line ends, one header row, no index column, plain
decimal numbers (never ``1e+12``), and text cells that a spreadsheet would execute as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) prefixed with an apostrophe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tariffcalc.report.files import write_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Prefix a text cell with ``'`` when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _format_numbers(column: pd.Series) -> pd.Series:
    """Plain decimals: USD amounts to the cent, other numbers (rates, elasticities) to 10 decimals."""
    digits = 2 if str(column.name).endswith("_usd") else 10
    values = column.to_numpy(dtype=float)
    text = np.char.mod(f"%.{digits}f", values).astype(object)
    if digits > 2:
        text = np.array([t.rstrip("0").rstrip(".") if "." in t else t for t in text], dtype=object)
    text[np.isnan(values)] = ""
    text[text == "-0"] = "0"
    text[text == "-0.00"] = "0.00"
    return pd.Series(text, index=column.index)


def to_csv_text(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` with the rules of this module applied."""
    out = pd.DataFrame(index=frame.index)
    for name, column in frame.items():
        if pd.api.types.is_bool_dtype(column):
            out[name] = column.map({True: "true", False: "false"})
        elif pd.api.types.is_numeric_dtype(column):
            out[name] = _format_numbers(column)
        else:
            out[name] = column.astype(object).where(column.notna(), "").astype(str).map(neutralise)
    # CRLF as RFC 4180 says: the csv writer then also quotes cells holding a bare carriage return
    return out.to_csv(index=False, lineterminator="\r\n")


def write_csv(frame: pd.DataFrame, path: Path, bom: bool = True) -> None:
    """Write ``frame`` as a spreadsheet-safe CSV file, atomically."""
    write_text(path, to_csv_text(frame), bom=bom)
