"""Spreadsheet-safe CSV tables.

UTF-8 (with a BOM by default, so Excel reads accents right), CRLF line ends, one header row, no index column, plain
decimal numbers (never ``1e+12``), and text cells that a spreadsheet would execute as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) prefixed with an apostrophe; a plain signed
number such as ``-50`` stays as it is (:func:`tariffcalc.util.text.neutralise`).

Product codes: a spreadsheet opening a CSV turns the cell ``0304`` into the number 304, and pandas does the
same unless told otherwise. The machine-readable ``hs`` column stays exactly as it is (read it as text:
``pd.read_csv(..., dtype={"hs": str})``), and every result table with an ``hs`` column also gets a
``product`` column right after it: the code and its description as one text cell, ``0304 Fish fillets and
other fish meat…``, which no spreadsheet turns into a number or a formula (:func:`product_labels`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tariffcalc.reference import hs
from tariffcalc.util.files import write_text
from tariffcalc.util.text import neutralise, shorten

LABEL = "product"
"""The column of product labels (code and description) that a table with an ``hs`` column gets."""
LABEL_WIDTH = 60
"""Longest description in a product label, characters (the full text is in the ``description`` column)."""


def product_labels(codes: pd.Series, descriptions: pd.Series | None = None) -> pd.Series:
    """``"0304 Fish fillets and other fish meat…"``: each code followed by its (shortened) description.

    A label always holds a letter, so a spreadsheet keeps it as text with its leading zeros: a code without
    a description reads ``"9999 (no HS 2022 description)"``. An empty code (a summed "All other" row) takes
    the description alone. ``descriptions`` default to the bundled HS 2022 texts.
    """
    codes = codes.astype(object).where(codes.notna(), "").astype(str)
    if descriptions is None:
        descriptions = hs.describe(codes)
    texts = descriptions.astype(object).where(descriptions.notna(), "").astype(str)
    # one label per distinct (code, description): long tables repeat each product for many partners
    positions, distinct = pd.factorize(
        pd.MultiIndex.from_arrays([codes.to_numpy(object), texts.to_numpy(object)])
    )
    labels = [
        (f"{code} {shorten(text, LABEL_WIDTH)}" if text.strip() else f"{code} (no HS 2022 description)")
        if code
        else " ".join(text.split())
        for code, text in distinct
    ]
    return pd.Series(np.array([*labels, ""], dtype=object)[positions], index=codes.index, dtype=object)


def with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``product`` label column right after ``hs`` (unchanged without ``hs``, or when it
    has a ``product`` column already)."""
    if "hs" not in frame.columns or LABEL in frame.columns:
        return frame
    description = frame["description"] if "description" in frame.columns else None
    labelled = frame.copy()
    labelled.insert(frame.columns.get_loc("hs") + 1, LABEL, product_labels(frame["hs"], description))
    return labelled


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
    text = column.astype(object).where(column.notna(), "").astype(str).to_numpy(dtype=object)
    # each distinct text is neutralised once: tables repeat partner names and product labels row by row
    positions, distinct = pd.factorize(text)
    return np.array([*(neutralise(cell) for cell in distinct), ""], dtype=object)[positions]


def to_csv_text(frame: pd.DataFrame, labels: bool = True) -> str:
    """The CSV text of ``frame`` with the rules of this module applied; with ``labels``, a table with an
    ``hs`` column gets its ``product`` labels (:func:`with_labels`). Raw input cells (rejects) take
    ``labels=False``: their ``hs`` column is what the file held, not a code to describe."""
    if labels:
        frame = with_labels(frame)
    columns = [_cells(column) for _, column in frame.items()]
    out = io.StringIO()
    # CRLF as RFC 4180 says: the csv writer then also quotes cells holding a bare carriage return
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(name) for name in frame.columns])
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def write_csv(frame: pd.DataFrame, path: Path, bom: bool = True, labels: bool = True) -> None:
    """Write ``frame`` as a spreadsheet-safe CSV file, atomically (``labels``: see :func:`to_csv_text`)."""
    write_text(path, to_csv_text(frame, labels), bom=bom)
