"""Read the bytes of a flow file into a table of text cells, keeping the physical line of every row.

CSV files may come in UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode text"),
or the Windows-1252 / Latin-1 of older exports; separated by commas, semicolons, tabs or pipes; gzip
compressed; with title lines above the header (USITC DataWeb). Parquet files are recognised by their
signature. Rows with the wrong number of fields are kept aside with their line and text, so they can be
rejected rather than lost. Cells are read as text (HS codes keep their leading zeros); Parquet columns
of floating-point numbers stay numeric.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import gzip
import hashlib
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from tariffcalc.errors import FlowsError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "": ""}
HEAD_BYTES = 1 << 20
"""How much of a file is read to find its header and delimiter (1 MiB): a header is one short line."""
HEADER_SEARCH_LINES = 50
"""Title lines above the header that are skipped at most."""
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MAX_BLOCK = 1 << 26
"""Largest block pyarrow parses at once (64 MiB); a single line longer than this is refused."""


@dataclasses.dataclass
class RawTable:
    """One file as text cells, with where every row came from.

    ``frame`` has one column per header cell (text; numeric Parquet columns stay float64), ``line`` the
    1-based physical line of each row (for Parquet: row number + 1, as if the table were a CSV file with a
    header). ``bad_rows`` holds rows whose number of fields differs from the header's (``line``,
    ``text``, ``fields``). Blank lines are dropped and counted in ``blank_lines``.
    """

    path: Path
    sha256: str
    frame: pd.DataFrame
    line: np.ndarray
    encoding: str
    delimiter: str
    header_line: int
    bad_rows: pd.DataFrame
    blank_lines: int = 0
    header_cells: int = 0

    @property
    def title_lines(self) -> int:
        """Lines above the header (title and notes of DataWeb exports) that were skipped."""
        return max(self.header_line - 1, 0)


def _no_bad_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {"line": np.array([], dtype=np.int64), "text": pd.Series([], dtype=object), "fields": []}
    )


def read_table(path: Path, header_hint: Callable[[list[str]], int] | None = None) -> RawTable:
    """Read ``path`` (CSV, gzip-compressed CSV, or Parquet) into a :class:`RawTable`.

    ``header_hint`` scores a list of header cells (how many look like known column names); the first line
    among the first 50 that scores 2 or more is the header, else the first non-blank line. Raises
    :class:`FlowsError` for files that cannot be read as a table at all.
    """
    if not path.is_file():
        raise FlowsError(f"Flow file {path} does not exist.")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    packed = ""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FlowsError(f"{path}: a damaged gzip file ({exc}).") from None
        packed = ", gzip"
    if data[:4] == b"PAR1":
        return _read_parquet(path, data, digest)
    if path.suffix.lower() == ".parquet":
        raise FlowsError(f"{path}: not a Parquet file (it does not start with the Parquet signature PAR1).")
    if data[:4] == b"PK\x03\x04":
        raise FlowsError(
            f"{path}: this is a zip archive or an Excel workbook, not a CSV file; "
            "open it in a spreadsheet and save it as 'CSV UTF-8'."
        )
    text, encoding = _to_utf8(path, data)
    return _read_csv(path, text, digest, encoding + packed, header_hint or (lambda cells: 0))


# ------------------------------------------------------------------------------------------- encodings


def _to_utf8(path: Path, data: bytes) -> tuple[bytes, str]:
    """The file's bytes as UTF-8 without a BOM, and the name of the encoding they were in."""
    if data.startswith(codecs.BOM_UTF8):
        data, bom = data[len(codecs.BOM_UTF8) :], True
    else:
        bom = False
    if not bom and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8"), "utf-16"
        except UnicodeDecodeError:
            raise FlowsError(f"{path}: starts like UTF-16 text but is not valid UTF-16.") from None
    if b"\x00" in data[:HEAD_BYTES]:
        raise FlowsError(f"{path}: not a text file (it contains NUL bytes); flows must be CSV or Parquet.")
    try:
        data.decode("utf-8")
        return data, "utf-8 with BOM" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - replaced
    if bom or valid > 2 * replaced:
        # mostly valid UTF-8 with a few damaged bytes: keep UTF-8, say how many bytes were replaced
        return text.encode("utf-8"), f"utf-8 ({replaced} undecodable byte(s) replaced by U+FFFD)"
    try:
        return data.decode("cp1252").encode("utf-8"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1").encode("utf-8"), "latin-1"


# ------------------------------------------------------------------------------------------------- CSV


def split_line(line: str) -> tuple[str, list[str]]:
    """Split one line on the delimiter (of , ; tab |) that gives the most cells; commas win ties."""
    best = (",", [line])
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(cells) > len(best[1]):
            best = (delimiter, cells)
    return best[0], [cell.strip().lstrip("\ufeff") for cell in best[1]]


def _find_header(path: Path, text: bytes, hint: Callable[[list[str]], int]) -> tuple[int, str, list[str]]:
    """(0-based line index of the header, delimiter, header cells)."""
    head = text[:HEAD_BYTES]
    if len(text) > HEAD_BYTES and b"\n" not in head and b"\r" not in head:
        raise FlowsError(
            f"{path}: line 1 is longer than {HEAD_BYTES >> 20} MiB; a CSV file starts with a short header "
            "line naming its columns. Is this the right file?"
        )
    lines = _LINE_BREAK.split(head.decode("utf-8", errors="replace"))[:HEADER_SEARCH_LINES]
    first: tuple[int, str, list[str]] | None = None
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        delimiter, cells = split_line(line)
        if hint(cells) >= 2:
            return index, delimiter, cells
        if first is None:
            first = (index, delimiter, cells)
    if first is None:
        raise FlowsError(f"{path}: the file is empty; expected a header row naming the columns.")
    return first


def unique_names(path: Path, cells: list[str], line: int) -> list[str]:
    """Header cells as column names: blank ones named ``column_N``; a name given twice is an error."""
    names, seen = [], {}
    for number, cell in enumerate(cells, start=1):
        if not cell:
            names.append(f"column_{number}")
            continue
        key = cell.lower()
        if key in seen:
            raise FlowsError(
                f"{path}:{line}: the header names column {cell!r} twice (columns {seen[key]} and {number}); "
                "rename or delete one of them."
            )
        seen[key] = number
        names.append(cell)
    return names


def _parse(text: bytes, names: list[str], skip: int, delimiter: str, on_bad) -> pa.Table:
    import pyarrow.csv as pcsv

    block = min(max(len(text) + 1, 1 << 20), MAX_BLOCK)
    return pcsv.read_csv(
        pa.BufferReader(text),
        read_options=pcsv.ReadOptions(
            use_threads=False, block_size=block, skip_rows=skip, column_names=names
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=delimiter,
            ignore_empty_lines=False,
            newlines_in_values=True,
            invalid_row_handler=on_bad,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )


def _read_csv(
    path: Path, text: bytes, digest: str, encoding: str, hint: Callable[[list[str]], int]
) -> RawTable:
    index, delimiter, cells = _find_header(path, text, hint)
    header_line = index + 1
    names = unique_names(path, cells, header_line)
    bad: list[tuple[int, str, int]] = []

    def on_bad(row) -> str:
        bad.append((int(row.number), str(row.text), int(row.actual_columns)))
        return "skip"

    try:
        table = _parse(text, names, index + 1, delimiter, on_bad)
    except pa.ArrowInvalid as exc:
        if "straddling" in str(exc):
            raise FlowsError(
                f'{path}: a line is longer than {MAX_BLOCK >> 20} MiB; is an unclosed quote (") swallowing the '
                "rest of the file?"
            ) from None
        raise FlowsError(f"{path}: not a well-formed CSV file ({exc}).") from None

    records = table.num_rows + len(bad)
    record_number = np.arange(header_line + 1, header_line + 1 + records, dtype=np.int64)
    bad_numbers = np.array([b[0] for b in bad], dtype=np.int64)
    good_numbers = record_number[~np.isin(record_number, bad_numbers)]
    breaks = _record_breaks(table, good_numbers, bad)
    line = _lines_for(good_numbers, breaks)

    frame = table.to_pandas()
    frame.columns = names
    blank = np.ones(len(frame), dtype=bool)
    for name in names:
        blank &= (frame[name] == "").to_numpy()
    blank_lines = int(blank.sum())
    if blank_lines:
        frame = frame.loc[~blank].reset_index(drop=True)
        line = line[~blank]
    bad_rows = _no_bad_rows()
    if bad:
        bad_rows = pd.DataFrame(
            {
                "line": _lines_for(bad_numbers, breaks),
                "text": pd.Series([b[1] for b in bad], dtype=object),
                "fields": [b[2] for b in bad],
            }
        )
    return RawTable(
        path=path,
        sha256=digest,
        frame=frame,
        line=line,
        encoding=encoding,
        delimiter=delimiter,
        header_line=header_line,
        bad_rows=bad_rows,
        blank_lines=blank_lines,
        header_cells=len(names),
    )


def _newlines_per_good_row(table: pa.Table) -> np.ndarray | None:
    """Line breaks inside quoted cells of each parsed row (None when there are none at all)."""
    import pyarrow.compute as pc

    total = None
    for column in table.columns:
        counts = pc.count_substring(column, "\n")
        if pc.max(counts).as_py():
            values = counts.to_numpy(zero_copy_only=False).astype(np.int64)
            total = values if total is None else total + values
    return total


def _record_breaks(
    table: pa.Table, good_numbers: np.ndarray, bad: list
) -> tuple[np.ndarray, np.ndarray] | None:
    """(record numbers, line breaks inside each record) over all records, sorted; None if there are none.

    A record is one CSV row; it spans several physical lines when a quoted cell holds line breaks.
    """
    inside = _newlines_per_good_row(table)
    bad_breaks = np.array([b[1].count("\n") for b in bad], dtype=np.int64)
    if inside is None and not bad_breaks.any():
        return None
    if inside is None:
        inside = np.zeros(len(good_numbers), dtype=np.int64)
    numbers = np.concatenate([good_numbers, np.array([b[0] for b in bad], dtype=np.int64)])
    breaks = np.concatenate([inside, bad_breaks])
    order = np.argsort(numbers, kind="stable")
    return numbers[order], breaks[order]


def _lines_for(numbers: np.ndarray, record_breaks: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Physical line of each record number: the number plus the line breaks inside earlier records."""
    if record_breaks is None:
        return numbers.astype(np.int64)
    all_numbers, breaks = record_breaks
    before = np.concatenate([[0], np.cumsum(breaks)[:-1]])
    return numbers.astype(np.int64) + before[np.searchsorted(all_numbers, numbers)]


# --------------------------------------------------------------------------------------------- Parquet


def _read_parquet(path: Path, data: bytes, digest: str) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise FlowsError(f"{path}: cannot read as Parquet ({exc}).") from None
    names = unique_names(path, [str(n) for n in table.column_names], 1)
    columns = []
    for name, column in zip(names, table.columns, strict=True):
        if pa.types.is_floating(column.type):
            columns.append(column)
            continue
        try:
            columns.append(column.cast(pa.string()))
        except pa.ArrowException:  # every pyarrow error, unsupported types included
            raise FlowsError(
                f"{path}: column {name!r} holds {column.type} values, which cannot be read as text."
            ) from None
    table = pa.table(columns, names=names)
    frame = table.to_pandas()
    return RawTable(
        path=path,
        sha256=digest,
        frame=frame,
        line=np.arange(2, len(frame) + 2, dtype=np.int64),
        encoding="parquet",
        delimiter="",
        header_line=1,
        bad_rows=_no_bad_rows(),
        header_cells=len(names),
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters with control characters made visible, for messages."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return text if len(text) <= width else text[: width - 1] + "…"
