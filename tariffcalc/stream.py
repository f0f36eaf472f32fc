"""Streaming fast path for large, clean canonical files: read in chunks, keep only pair totals.

A static run needs, per (partner, product) pair, the sum of customs values: the periods and the rows
themselves do not matter. This module reads a canonical CSV or Parquet file in chunks with pyarrow
(partner, hs and period dictionary-encoded, so Python only ever touches the few thousand distinct codes),
and adds each chunk into a dense partner × product array with ``np.bincount``. Peak memory depends on
the number of distinct partners and codes and on the chunk size, never on the number of rows.

It is a fast path, not a second reader: it accepts only what :func:`tariffcalc.flows.read_flows` would
accept unchanged (known ISO3 partner, a code of 2-10 digits in even length, a finite value between 0 and
``MAX_VALUE_USD``, a YYYY or YYYY-MM period, no duplicate (partner, hs, period) key, the reporter equal to
the importer, no subtotal row beside finer rows of the same partner) and gives up — returning ``None`` —
at the first doubt, so that the careful reader reads that file, repairs what it can and reports every
problem with its line number.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tariffcalc import countries, hs
from tariffcalc.flows import MAX_VALUE_USD
from tariffcalc.report.progress import Progress

CHUNK_BYTES = 64 << 20
"""CSV block size read per chunk (bytes); Parquet files are read one row group batch at a time."""
_CODE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{8}|\d{10})$")
_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")
_TEXT = pa.dictionary(pa.int32(), pa.string())
MAX_PERIODS = 52
"""Distinct periods a file may have on the fast path (one bit each, summed exactly in float64)."""


@dataclasses.dataclass
class PairTotals:
    """Customs value (USD) summed by distinct (partner, hs) pair over a whole file; rows in all and by code."""

    partner: np.ndarray
    code: np.ndarray
    value: np.ndarray
    code_rows: dict[str, int]
    rows: int
    columns: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()


class _Codes:
    """Maps the dictionary values of each chunk to stable ids; validates every distinct value once."""

    def __init__(self, normalise, valid):
        self.ids: dict[str, int] = {}
        self.values: list[str] = []
        self.invalid = ""
        self._normalise, self._valid = normalise, valid

    def map(self, dictionary: pa.Array) -> np.ndarray | None:
        """Ids of a chunk's dictionary entries, or None if an entry is invalid (kept in ``invalid``)."""
        out = np.empty(len(dictionary), dtype=np.int64)
        for i, raw in enumerate(dictionary.to_pylist()):
            value = self._normalise(raw or "")
            if value not in self.ids:
                if not self._valid(value):
                    self.invalid = value
                    return None
                self.ids[value] = len(self.values)
                self.values.append(value)
            out[i] = self.ids[value]
        return out


def _batches(path: Path, columns: list[str]) -> Iterator[tuple[pa.RecordBatch, float | None]]:
    """The file's chunks, each with the share of the file read so far (0-1; None when unknown)."""
    if path.suffix.lower() == ".parquet":
        reader = pq.ParquetFile(path, read_dictionary=[c for c in columns if c != "value_usd"])
        total, done = max(reader.metadata.num_rows, 1), 0
        for batch in reader.iter_batches(batch_size=1 << 20, columns=columns):
            done += batch.num_rows
            yield batch, done / total
        return
    types = {c: (pa.float64() if c == "value_usd" else _TEXT) for c in columns}
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=CHUNK_BYTES, encoding="utf8"),
        convert_options=pacsv.ConvertOptions(
            column_types=types, include_columns=columns, strings_can_be_null=False
        ),
    )
    for batch in reader:  # pyarrow reads ahead, so the bytes consumed say little: no share for CSV
        yield batch, None


def read_header(path: Path) -> list[str]:
    """The column names of a CSV (first line) or Parquet file."""
    if path.suffix.lower() == ".parquet":
        return pq.ParquetFile(path).schema_arrow.names
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        return [c.strip().strip('"') for c in handle.readline().rstrip("\r\n").split(",")]


class NotClean(ValueError):
    """A chunk needs the careful reader; the message says the first thing found wrong."""


def _code_maps() -> tuple[_Codes, _Codes, _Codes]:
    """Fresh id maps of partners, HS codes and periods, each validating a distinct value once."""
    known = countries.partner_names()
    partners = _Codes(lambda s: s.strip().upper(), known.__contains__)
    codes = _Codes(lambda s: re.sub(hs.SEPARATORS, "", s), lambda s: bool(_CODE.match(s)))
    periods = _Codes(str.strip, lambda s: s == "" or bool(_PERIOD.match(s)))
    return partners, codes, periods


def _column_ids(column: pa.Array | pa.ChunkedArray, codes: _Codes, name: str) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    if column.null_count:
        raise NotClean(f"empty {name}")
    if not (pa.types.is_string(column.dictionary.type) or pa.types.is_large_string(column.dictionary.type)):
        raise NotClean(f"{name} is not text ({column.dictionary.type})")
    lookup = codes.map(column.dictionary)
    if lookup is None:
        raise NotClean(f"{name} {codes.invalid!r}")
    return lookup[column.indices.to_numpy(zero_copy_only=False)]


def chunk_ids(
    chunk: pa.RecordBatch | pa.Table, partners: _Codes, codes: _Codes, periods: _Codes, importer: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Partner, code and period ids and values (USD) of one chunk, or :class:`NotClean` at the first doubt.

    The checks of the fast path on one chunk: known partner, valid code and period (each distinct value
    validated once, through the id maps), the reporter equal to ``importer``, a finite value between 0
    and ``MAX_VALUE_USD``. Duplicates and subtotals span chunks and are checked by the callers.
    """
    names = chunk.schema.names
    p = _column_ids(chunk.column("partner"), partners, "partner")
    c = _column_ids(chunk.column("hs"), codes, "hs code")
    t = (
        _column_ids(chunk.column("period"), periods, "period")
        if "period" in names
        else np.zeros(chunk.num_rows, np.int64)
    )
    if "reporter" in names:
        reporter = chunk.column("reporter").cast(pa.string()).to_pylist()
        other = {(r or "").strip().upper() for r in set(reporter)} - {importer}
        if other:
            raise NotClean(f"reporter {sorted(other)[0]!r} is not the importer {importer}")
    value = chunk.column("value_usd")
    if value.null_count or (not pa.types.is_floating(value.type) and not pa.types.is_integer(value.type)):
        raise NotClean(f"value_usd is empty or not a number ({value.type})")
    value = value.to_numpy(zero_copy_only=False).astype(float)
    if not np.all(np.isfinite(value)) or np.any(value < 0) or np.any(value > MAX_VALUE_USD):
        raise NotClean(f"value_usd not a finite amount between 0 and {MAX_VALUE_USD:,.0f}")
    return p, c, t, value


def pair_totals(
    path: str | Path, importer: str = "USA", progress: Progress | None = None
) -> PairTotals | None:
    """Sum a clean canonical file by (partner, hs); None as soon as any row needs the careful reader.

    ``progress`` (default: silent) hears, after each chunk, the rows and megabytes read and the rate.
    """
    path = Path(path)
    try:
        header = read_header(path)
    except (OSError, pa.ArrowInvalid):
        return None
    if len(set(header)) != len(header):
        return None
    wanted = [c for c in ("partner", "hs", "period", "reporter", "value_usd") if c in header]
    if not {"partner", "hs", "value_usd"} <= set(wanted):
        return None
    partners, codes, periods = _code_maps()
    capacity = (
        256,
        1 << 15,
    )  # HTS10 files have ~20k codes; zeros are lazily allocated, so untouched cells are free
    sums = np.zeros(capacity[0] * capacity[1])
    seen = np.zeros(capacity[0] * capacity[1], dtype=np.uint64)
    code_rows = np.zeros(0, dtype=np.int64)
    rows = 0
    try:
        progress = progress or Progress()
        megabytes, started = path.stat().st_size / 1e6, time.perf_counter()
        for batch, share in _batches(path, wanted):
            p, c, t, value = chunk_ids(batch, partners, codes, periods, importer)
            if len(periods.values) > MAX_PERIODS:
                return None
            if len(partners.values) > capacity[0] or len(codes.values) > capacity[1]:
                sums, seen, capacity = _grow((sums, seen), capacity, len(partners.values), len(codes.values))
            # the chunk's distinct pairs, by hashing (no sort, no pass over the whole grid)
            inverse, pairs = pd.factorize(p * capacity[1] + c)
            if _has_duplicates(pairs, inverse, t.astype(np.uint64), seen):
                return None
            sums[pairs] += np.bincount(inverse, weights=value, minlength=len(pairs))
            per_code = np.bincount(c, minlength=len(codes.values))
            code_rows = (
                np.concatenate([code_rows, np.zeros(len(per_code) - len(code_rows), np.int64)]) + per_code
            )
            rows += batch.num_rows
            seconds = max(time.perf_counter() - started, 1e-9)
            read = (
                f"{share * megabytes:,.0f} of {megabytes:,.0f} MB"
                if share is not None
                else f"{megabytes:,.0f} MB file"
            )
            progress.detail(
                f"reading {path.name}: {rows / 1e6:,.1f}M rows ({read}), {rows / seconds / 1e6:,.1f}M rows/s"
            )
    except (NotClean, pa.ArrowInvalid, UnicodeDecodeError):
        return None
    shape = (len(partners.values), len(codes.values))
    present = seen.reshape(capacity)[: shape[0], : shape[1]] != 0
    if has_subtotals(present, codes.values):
        return None
    p_idx, c_idx = np.nonzero(present)
    return PairTotals(
        partner=np.array(partners.values, dtype=object)[p_idx],
        code=np.array(codes.values, dtype=object)[c_idx],
        value=sums.reshape(capacity)[: shape[0], : shape[1]][p_idx, c_idx],
        code_rows=dict(zip(codes.values, code_rows.tolist(), strict=True)),
        rows=rows,
        columns=tuple(header),
        periods=tuple(periods.values),
    )


def has_subtotals(present: np.ndarray, codes: list[str]) -> bool:
    """True if a partner has a code that is a prefix of another of its codes (HS 0101 beside 0101210010).

    The careful reader rejects such subtotals per partner and period; checking per partner over all
    periods is stricter, so the fast path never accepts a row the careful reader would reject.
    """
    index = {code: i for i, code in enumerate(codes)}
    edges = [
        (i, index[code[:k]])
        for i, code in enumerate(codes)
        for k in range(2, len(code), 2)
        if code[:k] in index
    ]
    if not edges:
        return False
    child, parent = np.array(edges).T
    return bool(np.any(present[:, child] & present[:, parent]))


def _grow(arrays: tuple[np.ndarray, ...], capacity: tuple[int, int], partners: int, codes: int):
    """Re-lay the dense partner × code arrays for more partners or codes (rare: capacity doubles)."""
    new = (
        max(capacity[0], 1 << int(np.ceil(np.log2(max(partners, 1))))),
        max(capacity[1], 1 << int(np.ceil(np.log2(max(codes, 1))))),
    )
    grown = []
    for array in arrays:
        bigger = np.zeros(new, dtype=array.dtype)
        bigger[: capacity[0], : capacity[1]] = array.reshape(capacity)
        grown.append(bigger.ravel())
    return (*grown, new)


def _has_duplicates(pairs: np.ndarray, inverse: np.ndarray, period: np.ndarray, seen: np.ndarray) -> bool:
    """True if a (pair, period) key repeats in this chunk or was seen in an earlier chunk; else record them.

    ``pairs`` are the chunk's distinct pair cells and ``inverse`` each row's index into them. Each pair
    keeps a mask of the periods seen so far (bit ``period``), so the check costs memory per pair, not per
    row. Within a chunk no sort is needed: adding the bits of a pair's rows gives their OR exactly when no
    bit repeats, i.e. when the sum has as many bits set as the pair has rows.
    """
    bits = np.left_shift(np.uint64(1), period).astype(np.float64)
    total = np.bincount(inverse, weights=bits, minlength=len(pairs)).astype(np.uint64)
    rows = np.bincount(inverse, minlength=len(pairs))
    if np.any(np.bitwise_count(total) != rows) or np.any(seen[pairs] & total):
        return True
    seen[pairs] |= total
    return False


PARTIAL_COLUMNS = ("key", "value_usd", "rows", "periods")
"""Columns of :func:`partial_totals`: summing them by ``key`` over chunks gives the totals of all chunks."""
_PARTNER_SHIFT, _CODE_SHIFT = 49, 14
_NO_PERIOD = 10_000
"""Year of rows without a period (``period`` empty or absent): above every YYYY."""


def partial_totals(chunk: pa.RecordBatch | pa.Table, importer: str = "USA") -> dict[str, np.ndarray]:
    """Sums of one chunk on its own, by (partner, hs, year), for chunks read and summed independently.

    The same checks as :func:`pair_totals` (:func:`chunk_ids`, and no duplicate key within the chunk),
    raising :class:`NotClean` at the first doubt. ``key`` encodes the partner, the code and the year of the
    period the same way on every machine (:func:`decode_keys`); ``periods`` is the mask of the periods of
    that year the key has rows for (bit 0: the year itself or no period, bits 1-12: months), so summing
    the columns by key over chunks keeps ``popcount(periods) == rows`` exactly when no (partner, hs,
    period) key occurs in two chunks.
    """
    partners, codes, periods = _code_maps()
    p, c, t, value = chunk_ids(chunk, partners, codes, periods, importer)
    known = {name: i for i, name in enumerate(sorted(countries.partner_names()))}
    partner = np.array([known[name] for name in partners.values], dtype=np.int64)
    code = np.array([int("1" + s) for s in codes.values], dtype=np.int64)
    year = np.array([int(s[:4]) if s else _NO_PERIOD for s in periods.values], dtype=np.int64)
    bit = np.array([1 << int(s[5:]) if len(s) > 4 else 1 for s in periods.values], dtype=np.float64)
    key = (partner[p] << _PARTNER_SHIFT) | (code[c] << _CODE_SHIFT) | year[t]
    unique, inverse = np.unique(key, return_inverse=True)
    mask = np.bincount(inverse, weights=bit[t]).astype(np.int64)
    rows = np.bincount(inverse)
    if np.any(np.bitwise_count(mask) != rows):
        raise NotClean("duplicate (partner, hs, period) rows")
    return {"key": unique, "value_usd": np.bincount(inverse, weights=value), "rows": rows, "periods": mask}


def decode_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partners (ISO3), codes and years (``_NO_PERIOD`` for none) of the keys of :func:`partial_totals`."""
    key = np.asarray(key, dtype=np.int64)
    partners = np.array(sorted(countries.partner_names()), dtype=object)
    code = (key >> _CODE_SHIFT) & ((1 << (_PARTNER_SHIFT - _CODE_SHIFT)) - 1)
    codes = np.array([str(number)[1:] for number in code.tolist()], dtype=object)
    return partners[key >> _PARTNER_SHIFT], codes, key & ((1 << _CODE_SHIFT) - 1)
