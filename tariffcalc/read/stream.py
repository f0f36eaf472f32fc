"""Streaming fast path for large, clean canonical files: read in chunks, keep only pair totals.

A static run needs, per (partner, product) pair, the sum of customs values: the periods and the rows
themselves do not matter. This module reads a canonical CSV or Parquet file in chunks with pyarrow
(partner, hs and period dictionary-encoded, so Python only ever touches the few thousand distinct codes)
and adds each chunk into dense partner × product grids (``np.add.at``). Peak memory depends on the number
of distinct partners and codes and on the chunk size, never on the number of rows.

:data:`WORKERS` threads read, parse and check chunks at once (pyarrow releases the GIL); the calling
thread adds them into the grids in file order, so the totals do not depend on timing. CSV chunks are
byte ranges of :data:`CHUNK_BYTES` cut at line ends (a file with a quote character in its data rows is
read by pyarrow's sequential streaming reader instead, because a quoted field may hold a line end);
Parquet chunks are row groups (a very large row group is read in batches of :data:`PARQUET_BATCH_ROWS`
rows, in the calling thread, so it cannot make a chunk as large as the file).

It is a fast path, not a second reader: it accepts only what :func:`tariffcalc.read.flows.read_flows` would
accept unchanged (known ISO3 partner, a code of 2-10 digits in even length, a finite value between 0 and
``MAX_VALUE_USD``, a YYYY or YYYY-MM period, no duplicate (partner, hs, period) key, the reporter equal to
the importer, no subtotal row beside finer rows of the same partner) and gives up — returning ``None`` —
at the first doubt, so that the careful reader reads that file, repairs what it can and reports every
problem with its line number.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import hashlib
import mmap
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tariffcalc.errors import NotClean
from tariffcalc.read.cells import MAX_VALUE_USD
from tariffcalc.reference import countries, hs
from tariffcalc.util.progress import Progress

CHUNK_BYTES = 8 << 20
"""CSV bytes per chunk."""
PARQUET_BATCH_ROWS = 1 << 20
"""Parquet rows per chunk: a row group of up to twice this is one chunk, a larger one is read in batches."""
WORKERS = max(1, min(8, os.cpu_count() or 1))
"""Threads that read and check chunks at once."""
_CODE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{8}|\d{10})$")
_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")
MAX_PERIODS = 52
"""Distinct periods a file may have on the fast path (one bit each in a 64-bit mask)."""
_PERIOD_BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))


@dataclasses.dataclass
class PairTotals:
    """Customs value (USD) summed by distinct (partner, hs) pair over a whole file.

    Pairs are integer indices into the distinct ``partners`` (ISO3) and ``codes``, both sorted, so that
    millions of pairs never become millions of Python strings; pairs are sorted by partner, then code.
    ``code_rows`` counts the file's rows of each code (aligned with ``codes``).
    """

    partners: np.ndarray
    codes: np.ndarray
    partner_index: np.ndarray
    code_index: np.ndarray
    value: np.ndarray
    code_rows: np.ndarray
    rows: int
    columns: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    sha256: str = ""
    """The file's SHA-256 when it was computed while reading (CSV files), else empty."""

    @property
    def partner(self) -> np.ndarray:
        """Each pair's partner (ISO3), as strings."""
        return self.partners[self.partner_index]

    @property
    def code(self) -> np.ndarray:
        """Each pair's product code, as strings."""
        return self.codes[self.code_index]


class _Codes:
    """Maps the dictionary values of each chunk to stable ids; validates every distinct value once.

    Thread-safe: the reading threads share one map per column, so all chunks share one id space.
    Known raw values are looked up by pyarrow (``index_in``); only values never seen before reach Python.
    """

    def __init__(self, normalise: Callable[[str], str], valid: Callable[[str], bool]):
        self.ids: dict[str, int] = {}
        self.values: list[str] = []
        self.invalid = ""
        self._normalise, self._valid = normalise, valid
        self._raw: list[str] = []
        self._raw_ids = np.zeros(0, dtype=np.intp)
        self._known = pa.array([], pa.string())
        self._lock = threading.Lock()

    def map(self, dictionary: pa.Array) -> np.ndarray | None:
        """Ids of a chunk's dictionary entries, or None if an entry is invalid (kept in ``invalid``)."""
        dictionary = dictionary.cast(pa.string())
        with self._lock:
            found = pc.index_in(dictionary, value_set=self._known)
            if found.null_count:
                new = pc.filter(dictionary, pc.is_null(found)).to_pylist()
                ids = np.empty(len(new), dtype=np.intp)
                for i, raw in enumerate(new):
                    value = self._normalise(raw or "")
                    if value not in self.ids:
                        if not self._valid(value):
                            self.invalid = value
                            return None
                        self.ids[value] = len(self.values)
                        self.values.append(value)
                    ids[i] = self.ids[value]
                self._raw.extend(new)
                self._raw_ids = np.concatenate([self._raw_ids, ids])
                self._known = pa.array(self._raw, pa.string())
                found = pc.index_in(dictionary, value_set=self._known)
            return self._raw_ids[found.to_numpy(zero_copy_only=False)]


def read_header(path: Path) -> list[str]:
    """The column names of a CSV (first line) or Parquet file."""
    if path.suffix.lower() == ".parquet":
        return pq.ParquetFile(path).schema_arrow.names
    with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
        return [c.strip().strip('"') for c in handle.readline().rstrip("\r\n").split(",")]


class _Quoted(Exception):
    """A CSV chunk has a quote character: its byte range may cut a quoted field, so read sequentially."""


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
        else np.zeros(chunk.num_rows, np.intp)
    )
    if "reporter" in names:
        reporter = pc.unique(chunk.column("reporter").cast(pa.string())).to_pylist()
        other = {(r or "").strip().upper() for r in reporter} - {importer}
        if other:
            raise NotClean(f"reporter {sorted(other)[0]!r} is not the importer {importer}")
    value = chunk.column("value_usd")
    if value.null_count or (not pa.types.is_floating(value.type) and not pa.types.is_integer(value.type)):
        raise NotClean(f"value_usd is empty or not a number ({value.type})")
    value = value.to_numpy(zero_copy_only=False).astype(float, copy=False)
    if len(value) and not (value.min() >= 0 and value.max() <= MAX_VALUE_USD):  # NaN fails both
        raise NotClean(f"value_usd not a finite amount between 0 and {MAX_VALUE_USD:,.0f}")
    return p, c, t, value


class _Grids:
    """Dense partner × code sums: value (USD), and the sum of each row's period bit.

    The period bits find duplicate keys from the totals alone: where a (partner, hs, period) key repeats,
    two equal bits add into a carry and the cell's sum has fewer bits set than it has rows, so the file
    is clean exactly when all cells together have as many bits set as the file has rows (:func:`_totals`).
    Sums wrap around at the width of the bits type, which can only lose bits, never add them; the type
    widens (16 → 64 bits) when a period id needs it.
    """

    def __init__(self) -> None:
        self.capacity = (256, 1 << 15)  # HTS10 files have ~20k codes; zero pages cost nothing until touched
        self.value = np.zeros(self.capacity)
        self.bits = np.zeros(self.capacity, dtype=np.uint16)

    def add(self, p: np.ndarray, c: np.ndarray, t: np.ndarray, value: np.ndarray) -> None:
        """Add a chunk's rows (partner, code and period ids, values in USD); ``p`` is overwritten."""
        needed = (int(p.max(initial=0)) + 1, int(c.max(initial=0)) + 1)
        if needed[0] > self.capacity[0] or needed[1] > self.capacity[1]:
            self._grow(needed)
        if int(t.max(initial=0)) >= 8 * self.bits.itemsize:
            self.bits = self.bits.astype(np.uint64)
        cell = p  # a fresh intp gather (chunk_ids), reused in place: fewer fresh arrays per chunk
        cell *= self.capacity[1]
        cell += c
        np.add.at(self.value.ravel(), cell, value)
        np.add.at(self.bits.ravel(), cell, _PERIOD_BITS.astype(self.bits.dtype)[t])

    def _grow(self, needed: tuple[int, int]) -> None:
        """Re-lay the grids for more partners or codes (rare: capacity doubles)."""
        new = tuple(
            max(have, 1 << int(np.ceil(np.log2(want))))
            for have, want in zip(self.capacity, needed, strict=True)
        )
        for name in ("value", "bits"):
            bigger = np.zeros(new, dtype=getattr(self, name).dtype)
            bigger[: self.capacity[0], : self.capacity[1]] = getattr(self, name)
            setattr(self, name, bigger)
        self.capacity = new


def _csv_ranges(path: Path, size: int) -> list[tuple[int, int]]:
    """Byte ranges of the data rows (after the header line) of about :data:`CHUNK_BYTES`, cut at line ends.

    They cover the file from the end of the header line to the end of the file, without gaps.
    """
    with path.open("rb") as handle:
        handle.readline()
        start, cuts = handle.tell(), []
        while start < size:
            handle.seek(min(start + CHUNK_BYTES, size))
            end = handle.tell() + len(handle.readline()) if handle.tell() < size else size
            cuts.append((start, end))
            start = end
    return cuts


def _csv_chunk(
    mapped: mmap.mmap, header: list[str], wanted: list[str], span: tuple[int, int]
) -> tuple[pa.Table, memoryview]:
    """One byte range of a memory-mapped CSV file's data rows, parsed with the file's header, and its bytes.

    The bytes are a view of the page cache, never copied. :class:`_Quoted` if the range has a quote.
    """
    if mapped.find(b'"', *span) != -1:
        raise _Quoted
    data = memoryview(mapped)[span[0] : span[1]]
    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(
            column_names=header, use_threads=False, block_size=len(data) + 1, encoding="utf8"
        ),
        convert_options=_convert(wanted),
    )
    return table, data


def _convert(wanted: list[str]) -> pacsv.ConvertOptions:
    """Codes as text (dictionary-encoded later: faster than pyarrow's dictionary columns), values as float."""
    types = {c: (pa.float64() if c == "value_usd" else pa.string()) for c in wanted}
    return pacsv.ConvertOptions(column_types=types, include_columns=wanted, strings_can_be_null=False)


Reader = Callable[[], tuple[pa.Table | pa.RecordBatch, bytes | memoryview]]
"""Reads one chunk of a file (run in a pool thread): the chunk, and its bytes if it is a byte range."""


class _Reading:
    """Reads chunks in threads and adds them, in file order, into one set of grids.

    Each chunk is read, parsed and turned into ids (:func:`chunk_ids`) by a pool thread; the calling thread
    adds the chunks into the grids strictly in file order, so sums never depend on timing. At most
    ``2 × WORKERS`` chunks are in flight, which bounds memory. With a ``digest`` (already fed with the bytes
    before the first chunk), the chunks' bytes are hashed in order too, so the file is read only once.
    """

    def __init__(self, importer: str, progress: Callable[[int, float | None], None], digest=None):
        self.importer = importer
        self.partners, self.codes, self.periods = _code_maps()
        self.grids = _Grids()
        self.rows = 0
        self.progress = progress
        self.digest = digest

    def _ids(self, read: Reader) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bytes | memoryview]:
        chunk, data = read()
        ids = chunk_ids(chunk, self.partners, self.codes, self.periods, self.importer)
        if len(self.periods.values) > MAX_PERIODS:
            raise NotClean(f"more than {MAX_PERIODS} periods")
        return (*ids, data)

    def _add(self, future: concurrent.futures.Future, share: float | None) -> None:
        p, c, t, value, data = future.result()
        if self.digest is not None:
            self.digest.update(data)
        self.grids.add(p, c, t, value)
        self.rows += len(value)
        self.progress(self.rows, share)

    def run(self, readers: Iterable[tuple[Reader, float | None]]) -> _Reading:
        """Read and add the chunks of ``readers`` (each with the share of the file read after it, or None)."""
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            pending: collections.deque = collections.deque()
            try:
                for read, share in readers:
                    pending.append((pool.submit(self._ids, read), share))
                    if len(pending) >= 2 * WORKERS:
                        self._add(*pending.popleft())
                while pending:
                    self._add(*pending.popleft())
            finally:
                for future, _ in pending:
                    future.cancel()
        return self


def _csv_readers(path: Path, header: list[str], wanted: list[str]) -> Iterator[tuple[Reader, float]]:
    size = path.stat().st_size
    spans = _csv_ranges(path, size)
    if not spans:
        return
    with path.open("rb") as handle:  # the mapping outlives the file handle
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    for span in spans:
        yield functools.partial(_csv_chunk, mapped, header, wanted, span), span[1] / size


def _sequential_csv_readers(path: Path, wanted: list[str]) -> Iterator[tuple[Reader, None]]:
    """Batches of pyarrow's streaming reader, which understands quoted line ends (read in this thread)."""
    batches = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=CHUNK_BYTES, encoding="utf8"),
        convert_options=_convert(wanted),
    )
    for batch in batches:  # pyarrow reads ahead, so the bytes consumed say little: no share
        yield functools.partial(_itself, batch), None


def _itself(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, bytes]:
    return batch, b""


def _parquet_readers(path: Path, wanted: list[str]) -> Iterator[tuple[Reader, float]]:
    """One reader per row group (each opens the file itself: readers run in different threads); a row
    group of more than twice :data:`PARQUET_BATCH_ROWS` rows is read here, in batches."""
    metadata = pq.ParquetFile(path).metadata
    total, done = max(metadata.num_rows, 1), 0
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows <= 2 * PARQUET_BATCH_ROWS:
            done += rows
            yield functools.partial(_row_group, path, wanted, group), done / total
            continue
        text = [c for c in wanted if c != "value_usd"]
        batches = pq.ParquetFile(path, read_dictionary=text).iter_batches(
            batch_size=PARQUET_BATCH_ROWS, row_groups=[group], columns=wanted, use_threads=False
        )
        for batch in batches:
            done += batch.num_rows
            yield functools.partial(_itself, batch), done / total


def _row_group(path: Path, wanted: list[str], group: int) -> tuple[pa.Table, bytes]:
    """One row group of a Parquet file, text columns as dictionaries (no bytes: not a byte range)."""
    text = [c for c in wanted if c != "value_usd"]
    reader = pq.ParquetFile(path, read_dictionary=text)
    return reader.read_row_group(group, columns=wanted, use_threads=False), b""


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
    progress = progress or Progress()
    megabytes, started = path.stat().st_size / 1e6, time.perf_counter()

    def report(rows: int, share: float | None) -> None:
        read = (
            f"{megabytes:,.0f} MB file"
            if share is None
            else f"{share * megabytes:,.0f} of {megabytes:,.0f} MB"
        )
        rate = rows / max(time.perf_counter() - started, 1e-9) / 1e6
        progress.detail(f"reading {path.name}: {rows / 1e6:,.1f}M rows ({read}), {rate:,.1f}M rows/s")

    try:
        if path.suffix.lower() == ".parquet":
            reading = _Reading(importer, report).run(_parquet_readers(path, wanted))
        else:
            try:
                reading = _Reading(importer, report, _header_digest(path))
                reading.run(_csv_readers(path, header, wanted))
            except _Quoted:
                reading = _Reading(importer, report).run(_sequential_csv_readers(path, wanted))
    except (NotClean, pa.ArrowInvalid, pa.ArrowKeyError, UnicodeDecodeError):
        return None  # e.g. a header pyarrow reads otherwise than read_header (spaces and quotes)
    return _totals(reading, header)


def _header_digest(path: Path):
    """A SHA-256 fed with a CSV file's header line (the bytes before its first chunk)."""
    with path.open("rb") as handle:
        return hashlib.sha256(handle.readline())


def _totals(reading: _Reading, header: list[str]) -> PairTotals | None:
    """Check duplicates and subtotals, and list the pairs sorted by partner and code."""
    shape = (len(reading.partners.values), len(reading.codes.values))
    bits = reading.grids.bits[: shape[0], : shape[1]]
    rows_of_cell = np.bitwise_count(bits)
    if int(rows_of_cell.sum(dtype=np.int64)) != reading.rows:
        return None  # a (partner, hs, period) key repeats
    if len({len(p) for p in reading.periods.values}) > 1:
        return None  # no period, years and months mixed: the careful reader notes what overlaps
    partner_order = np.argsort(np.array(reading.partners.values, dtype=object))
    code_order = np.argsort(np.array(reading.codes.values, dtype=object))
    codes = np.array(reading.codes.values, dtype=object)[code_order]
    present = (bits != 0)[partner_order][:, code_order]
    if has_subtotals(present, list(codes)):
        return None
    partner_index, code_index, value = _pairs_in_order(
        present, reading.grids.value, partner_order, code_order
    )
    return PairTotals(
        partners=np.array(reading.partners.values, dtype=object)[partner_order],
        codes=codes,
        partner_index=partner_index,
        code_index=code_index,
        value=value,
        code_rows=rows_of_cell.sum(axis=0, dtype=np.int64)[code_order],
        rows=reading.rows,
        columns=tuple(header),
        periods=tuple(reading.periods.values),
        sha256=reading.digest.hexdigest() if reading.digest is not None else "",
    )


def _pairs_in_order(
    present: np.ndarray, value_grid: np.ndarray, partner_order: np.ndarray, code_order: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of the sorted ``present`` grid (partner and code indices) and their values (USD)
    from the unsorted ``value_grid``, gathered one partner row at a time: no full-size copy of the grid."""
    counts = present.sum(axis=1)
    partner_index = np.repeat(np.arange(len(counts)), counts)
    code_index = np.empty(len(partner_index), dtype=np.intp)
    value = np.empty(len(partner_index))
    start = 0
    for row, original in enumerate(partner_order):
        columns = np.flatnonzero(present[row])
        end = start + len(columns)
        code_index[start:end] = columns
        value[start:end] = value_grid[original, code_order[columns]]
        start = end
    return partner_index, code_index, value


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


PARTIAL_COLUMNS = ("key", "value_usd", "rows", "periods")
"""Columns of :func:`partial_totals`: summing them by ``key`` over chunks gives the totals of all chunks."""
_PARTNER_SHIFT, _CODE_SHIFT = 49, 14
_NO_PERIOD = 10_000
"""Year of rows without a period (``period`` empty or absent): above every YYYY."""
NO_PERIOD = _NO_PERIOD


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
    named = periods.values or [""]  # no period column: every row has period id 0, "no period"
    year = np.array([int(s[:4]) if s else _NO_PERIOD for s in named], dtype=np.int64)
    bit = np.array([1 << int(s[5:]) if len(s) > 4 else 1 for s in named], dtype=np.float64)
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
