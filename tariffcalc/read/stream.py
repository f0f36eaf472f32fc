"""The one reader of flows: every input, a chunk at a time, judged by the same validators.

Every path that reads flows — ``tariffcalc run`` and ``validate``, :func:`tariffcalc.load_flows` on files
or DataFrames, the Parquet route, ``--engine dask`` — goes through :func:`read_chunk` and :class:`Sums`:

1. :func:`plan` looks at the head of the input (:func:`tariffcalc.read.tables.inspect`) and makes a
   :class:`Plan`: layout (:mod:`tariffcalc.read.adapters`), number format, units, importer.
2. The input is cut into pieces: byte ranges of a CSV file cut at record boundaries, Parquet row groups,
   slices of a DataFrame. :func:`read_chunk` reads one piece on its own: it parses it, applies the layout,
   judges every cell with the per-value validators of :mod:`tariffcalc.read.cells` (each distinct cell
   once, through shared :class:`~tariffcalc.read.cells.Lookup` caches), and returns a :class:`Part`: the
   accepted rows as integer ids and values, and the rejected rows as ledger rows with their line, reason
   and cells. A clean canonical piece is first tried the fast way (amounts parsed as numbers, only the
   needed columns); any doubt sends the piece to the full reading, never the file.
3. :class:`Sums` adds the parts in file order (so totals never depend on thread timing) into a dense
   partner × code grid of values and a (period, partner, code) grid of row counts. Rows that share a
   (partner, hs, period) key are summed there and counted; the counts also find subtotal rows (a code
   beside finer codes of the same partner and period). When some rows must be rejected for what only
   the whole file shows — subtotals, or repeated keys with ``duplicates="reject"`` — a second pass reads
   the file again and rejects them with the line of a finer row or of the first row of their key.

:data:`WORKERS` threads read pieces at once (pyarrow and NumPy release the GIL); at most ``2 × WORKERS``
pieces are in flight, so memory is bounded by the chunk size, not by the file. Memory otherwise grows with
distinct partners, codes and periods: 8 bytes per partner × code cell of the value grid and one byte per
(period, partner, code) cell of the count grid, touched only where rows are.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import hashlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tariffcalc.errors import FlowsError, os_reason, suggest
from tariffcalc.read import UNITS, adapters, cells, tables
from tariffcalc.read.cells import MAX_VALUE_USD
from tariffcalc.util.progress import Progress
from tariffcalc.util.text import neutralise

PARQUET_BATCH_ROWS = 1 << 20
"""Parquet rows per piece: a row group of up to twice this is one piece, a larger one is read in batches."""
FRAME_ROWS = 1 << 20
"""DataFrame rows per piece."""
WORKERS = max(1, min(8, os.cpu_count() or 1))
"""Threads that read pieces at once."""
DUPLICATES = ("sum", "reject")
"""What to do with rows that share a (partner, hs, period) key: add them up (default), or reject all but
the first as duplicates (``--duplicates reject``)."""
REJECT_COLUMNS = ("source_file", "line", "reason", "value_usd_parsed")
ISSUE_COLUMNS = ("source_file", "line", "column", "kind", "reason", "value_usd", "cell")
VALUE_KINDS = ("", "missing", "suppressed", "not_numeric", "too_large", "negative")
_KEY_PARTNER, _KEY_CODE = 40, 16
_PAIR_PARTNER = 32
"""A (partner, code) pair as one integer: partner id << 32 | code id."""
"""A (partner, code, period) key as one integer: partner id << 40 | code id << 16 | period id."""


@dataclasses.dataclass(frozen=True)
class Options:
    """How inputs are read: the importer (rows of another reporter are rejected), ``source`` (adapter),
    ``column_map`` (``--map``), ``units`` of the amounts, ``duplicates`` (:data:`DUPLICATES`), and whether
    to keep the accepted ``rows`` as a table (else only the totals by partner and code)."""

    importer: str = "USA"
    source: str = "auto"
    column_map: Mapping[str, str] | None = None
    units: str = "usd"
    duplicates: str = "sum"
    rows: bool = False


@dataclasses.dataclass
class Plan:
    """What every piece of one input shares (picklable: Dask workers get it)."""

    path: str
    layout: adapters.Layout
    style: str
    scale: float
    importer: str
    rows: bool
    head: tables.Head | None = None
    parquet: bool = False
    frame: pa.Table | None = None
    partition: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)

    @property
    def canonical(self) -> bool:
        return self.layout.source == "canonical"

    @property
    def fast(self) -> bool:
        """True when pieces may first be tried the fast way (canonical, amounts with a decimal point)."""
        return self.canonical and self.style == cells.POINT and not self.rows

    @property
    def wanted(self) -> list[str]:
        """The columns of the canonical fields."""
        fields = self.layout.fields
        return [fields[f] for f in ("partner", "hs", "period", "reporter", "value_usd") if f in fields]


def _value_columns(layout: adapters.Layout) -> list[str]:
    if layout.years:
        return list(layout.years)
    if layout.source == "comtrade":
        return [layout.pick["value_usd"]]
    if layout.source == "canonical":
        return [layout.fields["value_usd"]]
    return [layout.pick["value_usd"]]


def _style(layout: adapters.Layout, rows: list[list[str]], delimiter: str) -> str:
    """The number format the head's amount cells prove, else the delimiter's custom."""
    where = [layout.names.index(c) for c in _value_columns(layout) if c in layout.names]
    texts = [row[i] for row in rows for i in where if i < len(row) and "," in row[i]]
    return cells.number_style(texts[:1000], delimiter)


def plan(source: str | Path | pd.DataFrame, options: Options) -> Plan:
    """The :class:`Plan` of a file (CSV in any supported encoding and layout, gzip, Parquet) or DataFrame."""
    if options.units not in UNITS:
        raise FlowsError(
            f"Unknown units {options.units!r}: use one of {', '.join(UNITS)}." + suggest(options.units, UNITS)
        )
    common = {"scale": UNITS[options.units], "importer": options.importer, "rows": options.rows}
    if isinstance(source, pd.DataFrame):
        table = frame_table(source)
        head_rows = [[cells.as_text(v) for v in row.values()] for row in table.slice(0, 1000).to_pylist()]
        layout = adapters.layout(
            "DataFrame", table.column_names, options.source, options.column_map, head_rows
        )
        renamed = table.rename_columns(layout.names)
        return Plan("DataFrame", layout, _style(layout, head_rows, ""), frame=renamed, **common)
    path = Path(source)
    if path.is_dir():
        return _dataset_plan(path, options, common)
    head = tables.inspect(path, adapters.header_score)
    if head.parquet:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            names = tables.unique_names(path, [str(n) for n in parquet.schema_arrow.names], 1)
            first = next(parquet.iter_batches(batch_size=1000), None)
        except (pa.ArrowException, OSError) as exc:
            raise FlowsError(f"{path}: cannot read as Parquet ({exc}).") from None
        head_rows = [[cells.as_text(v) for v in row.values()] for row in first.to_pylist()] if first else []
        layout = adapters.layout(path, names, options.source, options.column_map, head_rows)
        return Plan(str(path), layout, _style(layout, head_rows, ""), parquet=True, **common)
    head_rows = head.head_rows()
    layout = adapters.layout(path, head.names, options.source, options.column_map, head_rows)
    return Plan(str(path), layout, _style(layout, head_rows, head.delimiter), head=head, **common)


def partition_of(folder: Path, file: Path) -> dict[str, str]:
    """The hive partition values in a file's path below ``folder`` (``period=2024-01/part-0.parquet``)."""
    from urllib.parse import unquote

    parts = file.relative_to(folder).parts[:-1]
    return {k: unquote(v) for k, _, v in (p.partition("=") for p in parts if "=" in p)}


def _dataset_plan(folder: Path, options: Options, common: dict) -> Plan:
    """The plan of a Parquet dataset folder: its files in sorted order, hive partition columns last."""
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    files = sorted(p for p in folder.rglob("*.parquet") if p.is_file())
    if not files:
        raise FlowsError(f"{folder} is a folder without .parquet files (a Parquet dataset is expected).")
    try:
        names = [str(n) for n in pads.dataset(folder, format="parquet", partitioning="hive").schema.names]
        first = next(pq.ParquetFile(files[0]).iter_batches(batch_size=1000), None)
    except (pa.ArrowException, OSError) as exc:
        raise FlowsError(f"{folder} is not a Parquet dataset: {_arrow_reason(exc, str(folder))}.") from None
    names = tables.unique_names(folder, names, 1)
    partition = {str(f): partition_of(folder, f) for f in files}
    head_rows = []
    if first is not None:
        extra = partition[str(files[0])]
        head_rows = [
            [cells.as_text(row.get(n, extra.get(n, ""))) for n in names] for row in first.to_pylist()
        ]
    layout = adapters.layout(folder, names, options.source, options.column_map, head_rows)
    return Plan(
        str(folder), layout, _style(layout, head_rows, ""), parquet=True, partition=partition, **common
    )


def _arrow_reason(exc: BaseException, path: str) -> str:
    """Why pyarrow could not read ``path``, in words: a file that is not Parquet is named."""
    text = str(exc)
    if "magic bytes" in text or "Could not open Parquet" in text:
        culprit = re.search(r"'([^']+\.parquet)'", text)
        return f"{culprit.group(1) if culprit else path} is not a Parquet file (convert it, or remove it)"
    if isinstance(exc, OSError) and exc.errno:
        return os_reason(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def frame_table(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as an Arrow table: numbers stay numbers, everything else is text (missing cells null)."""
    names = [str(c) for c in frame.columns]
    if len(set(n.lower() for n in names)) != len(names):
        raise FlowsError(f"The DataFrame names a column twice: {', '.join(names)}.")
    arrays = []
    for name in frame.columns:
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if pd.api.types.is_bool_dtype(column.dtype):
            arrays.append(as_text_array(column))
        elif pd.api.types.is_numeric_dtype(column.dtype):
            arrays.append(pa.array(column.to_numpy(), from_pandas=True))
        else:
            try:
                arrays.append(pa.array(column.to_numpy(dtype=object), type=pa.string(), from_pandas=True))
            except (pa.ArrowException, TypeError, ValueError):
                arrays.append(as_text_array(column))
    return pa.table(arrays, names=names)


def as_text_array(column: pd.Series) -> pa.Array:
    return cells.as_strings(column.tolist())


# ------------------------------------------------------------------------------------------------ pieces


@dataclasses.dataclass
class CsvPiece:
    """Some whole records of a CSV file: ``data`` (or the byte range ``start:end`` of ``path``, read by a
    Dask worker), in ``codec``."""

    number: int
    data: bytes | memoryview | None
    quoted: bool
    codec: str
    share: float | None = None
    path: str | None = None
    start: int = 0
    end: int = 0

    def bytes(self):
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            return handle.read(self.end - self.start)


@dataclasses.dataclass
class ArrowPiece:
    """Rows of a Parquet file (row ``group`` of ``path``, or a ``table`` already read) or of a DataFrame."""

    number: int
    rows: int
    share: float | None = None
    path: str | None = None
    group: int = -1
    table: pa.Table | None = None
    partition: dict[str, str] = dataclasses.field(default_factory=dict)

    def read(self, columns: list[str] | None, dictionary: list[str] | None = None) -> pa.Table:
        if self.table is not None:
            table = self.table
        else:
            import pyarrow.parquet as pq

            names = [c for c in columns if c not in self.partition] if columns is not None else None
            dictionary = [c for c in dictionary or [] if c not in self.partition] or None
            reader = pq.ParquetFile(self.path, read_dictionary=dictionary)
            table = reader.read_row_group(self.group, columns=names, use_threads=False)
        for name, value in self.partition.items():
            if columns is None or name in columns:
                table = table.append_column(name, pa.array([value] * table.num_rows, pa.string()))
        if columns is not None:
            table = table.select([c for c in columns if c in table.column_names])
        return table


def csv_pieces(head: tables.Head, digest=None) -> Iterator[CsvPiece]:
    """The pieces of a CSV file, in order (hashing the file's bytes into ``digest`` as they are cut)."""
    if digest is not None and not head.streamed:
        with head.path.open("rb") as handle:
            digest.update(handle.read(head.data_offset))
    size = max(head.size, 1)
    for chunk in tables.csv_chunks(head, digest if head.streamed else None):
        share = chunk.end / size if not head.streamed else None
        yield CsvPiece(chunk.number, chunk.data, chunk.quoted, chunk.codec, share, start=chunk.start)


def parquet_pieces(path: Path, partition: dict[str, str] | None = None, batches: bool = True):
    """One piece per row group; a row group of more than twice :data:`PARQUET_BATCH_ROWS` rows is read
    here, in batches (unless ``batches`` is False: Dask workers read whole row groups)."""
    import pyarrow.parquet as pq

    metadata = pq.ParquetFile(path).metadata
    total, done, number = max(metadata.num_rows, 1), 0, 0
    for group in range(metadata.num_row_groups):
        rows = metadata.row_group(group).num_rows
        if rows <= 2 * PARQUET_BATCH_ROWS or not batches:
            done += rows
            yield ArrowPiece(number, rows, done / total, str(path), group, partition=partition or {})
            number += 1
            continue
        for batch in pq.ParquetFile(path).iter_batches(
            batch_size=PARQUET_BATCH_ROWS, row_groups=[group], use_threads=False
        ):
            done += batch.num_rows
            table = pa.Table.from_batches([batch])
            yield ArrowPiece(number, batch.num_rows, done / total, table=table, partition=partition or {})
            number += 1


def frame_pieces(table: pa.Table) -> Iterator[ArrowPiece]:
    total = max(table.num_rows, 1)
    for number, start in enumerate(range(0, table.num_rows, FRAME_ROWS)):
        piece = table.slice(start, FRAME_ROWS)
        yield ArrowPiece(number, piece.num_rows, (start + piece.num_rows) / total, table=piece)


def pieces(plan: Plan, digest=None):
    """The pieces of a planned input, in order."""
    if plan.frame is not None:
        return frame_pieces(plan.frame)
    if plan.partition:
        return dataset_pieces(plan)
    if plan.parquet:
        return parquet_pieces(Path(plan.path))
    return csv_pieces(plan.head, digest)


def dataset_pieces(plan: Plan, batches: bool = True) -> Iterator[ArrowPiece]:
    number = 0
    for file, partition in plan.partition.items():
        for piece in parquet_pieces(Path(file), partition, batches):
            piece.number = number
            number += 1
            yield piece


# ------------------------------------------------------------------------------------------------ judging


class Lookups:
    """The validators' caches of one reading, shared by its threads: partners (with the layout's judge),
    codes, periods and reporters. Clean values get ids; :meth:`seeded` copies can be sent to Dask."""

    def __init__(self, plan: Plan):
        self.partner = cells.Lookup(plan.layout.partner_judge)
        self.code = cells.Lookup(cells.code)
        self.period = cells.Lookup(cells.period_of)
        self.period.intern("")  # id 0: no period (rows of inputs without a period column)
        self.reporter = cells.Lookup(cells.Reporter(plan.importer))

    def values(self) -> tuple[list[str], list[str], list[str]]:
        return list(self.partner.values), list(self.code.values), list(self.period.values)

    def seed(self, values: tuple[list[str], list[str], list[str]]) -> Lookups:
        """Give the clean ``values`` the same ids as in the lookups they come from."""
        for lookup, known in zip((self.partner, self.code, self.period), values, strict=True):
            for value in known:
                lookup.intern(value)
        return self


@dataclasses.dataclass
class Held:
    """What the second pass looks for: sorted keys of subtotal rows and, with ``duplicates="reject"``, of
    repeated keys (to reject); for each level of the subtotal codes, each code's prefix of that length
    (code id or -1); and the (partner, code) pairs whose periods overlap (for the lines of an example)."""

    subtotals: np.ndarray
    repeated: np.ndarray
    parents: dict[int, np.ndarray]
    extras: list[str]
    overlapping: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))


@dataclasses.dataclass
class Part:
    """What :func:`read_chunk` makes of one piece. Lines are relative to the piece (1 = its first line)."""

    number: int
    rows: int = 0
    lines: int = 0
    blank: int = 0
    p: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.intp))
    c: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.intp))
    t: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.intp))
    value: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    code_rows: np.ndarray | None = None
    repaired_rows: int = 0
    repaired_value: float = 0.0
    repaired_example: tuple[int, str, str] | None = None
    named_rows: int = 0
    named_example: tuple[int, str, str] | None = None
    rejected_rows: int = 0
    rejected_value: float = 0.0
    ledger: pd.DataFrame | None = None
    table: pd.DataFrame | None = None
    counts: dict = dataclasses.field(default_factory=dict)
    duties: pd.Series | None = None
    replaced: int = 0
    fast: bool = False
    held: dict | None = None
    values: tuple | None = None
    """The clean values behind the ids, when the piece was read with lookups of its own (Dask)."""


class Mode:
    """Shared by the pieces of one reading: once a piece cannot be read the fast way, the next ones are
    read in full straight away (a dirty file would otherwise be parsed twice)."""

    def __init__(self, fast: bool):
        self.fast = fast


def read_chunk(
    plan: Plan, lookups: Lookups, piece, mode: Mode | None = None, held: Held | None = None
) -> Part:
    """Read one piece: the chunk function of every engine (local threads, Dask workers)."""
    mode = mode or Mode(plan.fast)
    if plan.fast and mode.fast and held is None:
        part = _fast(plan, lookups, piece)
        if part is not None:
            return part
        mode.fast = False
    return _full(plan, lookups, piece, held)


def _fast(plan: Plan, lookups: Lookups, piece) -> Part | None:
    """The piece read the fast way (needed columns, amounts as numbers), or None at the first doubt."""
    fields = plan.layout.fields
    value_column = fields["value_usd"]
    if isinstance(piece, CsvPiece):
        data = piece.bytes()
        if piece.codec != "utf-8":
            return None
        # unquoted LF lines: empty lines are skipped (a file of blank lines costs nothing) and counted
        # as the lines that are not rows; otherwise an empty line fails the attempt
        plain = not piece.quoted and not tables.has_carriage_return(data, piece.start)
        try:
            table = tables.parse(
                data,
                plan.layout.names,
                plan.head.delimiter,
                piece.quoted,
                types={value_column: pa.float64()},
                include=plan.wanted,
                skip_empty=plain,
            )
        except pa.ArrowInvalid:
            return None
        if plain:
            lines = tables.lf_lines(data)
            blank = lines - table.num_rows
        else:
            lines = table.num_rows if not piece.quoted else tables.line_count(data)
            blank = 0
    else:
        original = [plan.layout.shown(c) for c in plan.wanted]
        text = [plan.layout.shown(c) for c in plan.wanted if c != value_column]
        table = piece.read(original, text).rename_columns(plan.wanted)
        lines, blank = table.num_rows, 0
        kind = table.schema.field(value_column).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            return None
    partner = cells.judge_column(lookups.partner, table.column(fields["partner"]))
    if partner.bad.any():
        return None
    code = cells.judge_column(lookups.code, table.column(fields["hs"]))
    if code.bad.any():
        return None
    period = None
    if "period" in fields:
        period = cells.judge_column(lookups.period, table.column(fields["period"]))
        if period.bad.any():
            return None
    if (
        "reporter" in fields
        and cells.judge_column(lookups.reporter, table.column(fields["reporter"])).bad.any()
    ):
        return None
    column = table.column(value_column)
    if column.null_count:
        return None
    value = column.to_numpy().astype(float, copy=False)
    if plan.scale != 1.0:
        value = value * plan.scale
    if len(value) and not (value.min() >= 0 and value.max() <= MAX_VALUE_USD):  # NaN fails both
        return None
    n = table.num_rows
    part = Part(
        piece.number,
        rows=n,
        lines=lines,
        blank=blank,
        p=partner.ids,
        c=code.ids,
        t=period.ids if period is not None else np.zeros(n, np.intp),
        value=value,
        fast=True,
    )
    if code.repaired is not None or partner.repaired is not None:

        def line_of(row: int) -> int:
            if isinstance(piece, CsvPiece) and (piece.quoted or blank):
                return int(tables.record_lines(data, piece.quoted, n)[0][row])
            return row + 1

        everything = np.ones(n, dtype=bool)
        part.repaired_rows, part.repaired_value, part.repaired_example = _repairs(
            code, lookups.code, everything, value, line_of
        )
        part.named_rows, _, part.named_example = _repairs(
            partner, lookups.partner, everything, value, line_of
        )
    return part


def _repairs(
    judged: cells.Judged, lookup: cells.Lookup, good: np.ndarray, value: np.ndarray, line_of
) -> tuple[int, float, tuple[int, str, str] | None]:
    """Rows among ``good`` whose cell was repaired (a code that lost its leading zero, a partner given by
    name): their count, their value (USD) and the first one as (line, text as written, value read)."""
    if judged.repaired is None or not (judged.repaired & good).any():
        return 0, 0.0, None
    fixed = judged.repaired & good
    first = int(np.flatnonzero(fixed)[0])
    example = (line_of(first), lookup.raw[judged.raw[first]], lookup.values[judged.ids[first]])
    return int(fixed.sum()), float(np.nan_to_num(value[fixed]).sum()), example


def _full_table(plan: Plan, piece) -> tuple[pa.Table, np.ndarray, int, int, tables.Invalid, int]:
    """The whole piece as text (numbers of Parquet files stay numbers): (table without blank rows, relative
    line of each row, lines, blank lines, records with the wrong number of fields, bytes replaced)."""
    invalid = tables.Invalid()
    if isinstance(piece, CsvPiece):
        data, replaced = piece.bytes(), 0
        if piece.codec != "utf-8":
            data, replaced = tables.to_utf8(data, piece.codec)
        try:
            try:
                table = tables.parse(
                    data, plan.layout.names, plan.head.delimiter, piece.quoted, invalid=invalid
                )
            except pa.ArrowInvalid as exc:  # bytes that are not UTF-8: replaced, counted, parsed again
                if "UTF8" not in str(exc) or piece.codec != "utf-8":
                    raise
                data, replaced = tables.to_utf8(data, "utf-8")
                invalid = tables.Invalid()
                table = tables.parse(
                    data, plan.layout.names, plan.head.delimiter, piece.quoted, invalid=invalid
                )
        except pa.ArrowInvalid as exc:
            raise FlowsError(f"{plan.path}: not a well-formed CSV file ({exc}).") from None
        records = table.num_rows + len(invalid.number)
        carriage = tables.has_carriage_return(data, piece.start) if not replaced else None
        starts, lines, empty = tables.record_lines(data, piece.quoted, records, carriage)
        if len(starts) != records:  # cannot happen: pyarrow and the line map agree on records
            starts = np.arange(1, records + 1, dtype=np.int64)
        bad = np.zeros(records, dtype=bool)
        bad[np.array(invalid.number, dtype=np.int64) - 1] = True
        invalid.line = starts[bad]
        line = starts[~bad]
        blank = np.zeros(table.num_rows, dtype=bool)  # rows whose cells are all empty (",,,")
        maybe = np.flatnonzero(pc.equal(table.columns[-1], "").to_numpy(zero_copy_only=False))
        if len(maybe):
            few = table.take(pa.array(maybe))
            empty_cells = np.ones(len(maybe), dtype=bool)
            for column in few.columns:
                empty_cells &= pc.equal(column, "").to_numpy(zero_copy_only=False)
            blank[maybe[empty_cells]] = True
        if blank.any():
            table = table.filter(pa.array(~blank))
            line = line[~blank]
        return table, line, lines, empty + int(blank.sum()), invalid, replaced
    table = piece.read(None)
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_floating(column.type):
            columns.append(column)
            continue
        try:
            columns.append(column.cast(pa.string()))
        except pa.ArrowException:  # every pyarrow error, unsupported types included
            raise FlowsError(
                f"{plan.path}: column {name!r} holds {column.type} values, which cannot be read as text."
            ) from None
    table = pa.table(columns, names=plan.layout.names)
    invalid.line = np.zeros(0, dtype=np.int64)
    return table, np.arange(1, table.num_rows + 1, dtype=np.int64), table.num_rows, 0, invalid, 0


@dataclasses.dataclass
class _Fields:
    """One piece's rows in canonical fields, whatever the layout: raw cells and where they come from."""

    partner: pa.Array
    hs: pa.Array
    period: pa.Array | None
    value: pa.Array
    reporter: pa.Array | None
    line: np.ndarray
    kind: np.ndarray | None = None
    reason: np.ndarray | None = None
    adapted: adapters.Adapted | None = None


def _arrow(column) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if isinstance(column, pa.Array):
        return column
    values = column.to_numpy(dtype=object) if isinstance(column, pd.Series) else column
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return cells.as_strings(list(values))


def _fields(plan: Plan, table: pa.Table, line: np.ndarray) -> _Fields:
    layout = plan.layout
    if plan.canonical:
        f = layout.fields
        return _Fields(
            partner=_arrow(table.column(f["partner"])),
            hs=_arrow(table.column(f["hs"])),
            period=_arrow(table.column(f["period"])) if "period" in f else None,
            value=_arrow(table.column(f["value_usd"])),
            reporter=_arrow(table.column(f["reporter"])) if "reporter" in f else None,
            line=line,
        )
    frame = table.to_pandas()
    frame.columns = layout.names
    for name in frame.columns:
        if not pd.api.types.is_float_dtype(frame[name].dtype):
            frame[name] = frame[name].astype(object)
    adapted = layout.apply(frame, line, duties=plan.rows)
    value = adapted.value
    value = (
        pa.array(value.to_numpy(dtype=float), from_pandas=True)
        if pd.api.types.is_float_dtype(value.dtype)
        else _arrow(value)
    )
    return _Fields(
        partner=_arrow(adapted.partner),
        hs=_arrow(adapted.hs),
        period=_arrow(adapted.period) if adapted.period is not None else None,
        value=value,
        reporter=_arrow(adapted.reporter) if adapted.reporter is not None else None,
        line=adapted.line,
        kind=adapted.kind,
        reason=adapted.reason,
        adapted=adapted,
    )


def _full(plan: Plan, lookups: Lookups, piece, held: Held | None) -> Part:
    """The piece read in full: every row judged, bad rows to the ledger."""
    table, line, lines, blank, invalid, replaced = _full_table(plan, piece)
    fields = _fields(plan, table, line)
    n = len(fields.line)
    part = Part(piece.number, rows=n, lines=lines, blank=blank, replaced=replaced)
    value, vkind = cells.money(fields.value, plan.style)
    if plan.scale != 1.0:
        value = value * plan.scale
    too_large = (vkind == 0) & (np.abs(value) > MAX_VALUE_USD)
    vkind[too_large] = 4
    value[too_large] = np.nan
    vkind[(vkind == 0) & (value < 0)] = 5
    partner = cells.judge_column(lookups.partner, fields.partner)
    code = cells.judge_column(lookups.code, fields.hs)
    period = cells.judge_column(lookups.period, fields.period) if fields.period is not None else None
    reporter = cells.judge_column(lookups.reporter, fields.reporter) if fields.reporter is not None else None
    adapter_bad = (fields.kind != "") if fields.kind is not None else np.zeros(n, dtype=bool)
    bad = adapter_bad | (vkind != 0) | partner.bad | code.bad
    if period is not None:
        bad |= period.bad
    if reporter is not None:
        bad |= reporter.bad
    t = period.ids if period is not None else np.zeros(n, np.intp)
    good = ~bad
    subtotal = repeated = None
    if held is not None:
        key = (partner.ids.astype(np.int64) << _KEY_PARTNER) | (code.ids.astype(np.int64) << _KEY_CODE) | t
        in_subtotal = good & _isin(key, held.subtotals)
        repeated = good & _isin(key, held.repeated)
        part.held = {"finer": _finer(held, partner.ids, code.ids, t, fields.line, good)}
        if len(held.overlapping):
            pair = (partner.ids.astype(np.int64) << _PAIR_PARTNER) | code.ids.astype(np.int64)
            mine = np.flatnonzero(good & ~in_subtotal & _isin(pair, held.overlapping))
            part.held["overlapping"] = (pair[mine], fields.line[mine], t[mine])
        subtotal = in_subtotal & ~repeated  # for a repeated key, its first row decides (in Sums)
        good = good & ~subtotal & ~repeated
    keep = np.flatnonzero(good)
    part.p, part.c, part.t, part.value = partner.ids[keep], code.ids[keep], t[keep], value[keep]

    def line_of(row: int) -> int:
        return int(fields.line[row])

    part.repaired_rows, part.repaired_value, part.repaired_example = _repairs(
        code, lookups.code, good, value, line_of
    )
    part.named_rows, _, part.named_example = _repairs(partner, lookups.partner, good, value, line_of)
    rows = np.flatnonzero(bad)
    kinds, reasons = _verdicts(rows, fields, vkind, partner, code, period, reporter, lookups)
    ledger = _ledger(plan, table, fields, rows, kinds, reasons, value)
    if held is not None:
        keys = (partner.ids.astype(np.int64) << _KEY_PARTNER) | (code.ids.astype(np.int64) << _KEY_CODE) | t
        if subtotal.any():
            where = np.flatnonzero(subtotal)
            text = [_SUBTOTAL.format(code=lookups.code.values[c]) for c in code.ids[where]]
            kinds = np.full(len(where), "aggregate_product", dtype=object)
            held_rows = _ledger(plan, table, fields, where, kinds, text, value)
            held_rows["_key"] = keys[where]
            part.held["subtotals"] = held_rows
        if repeated.any():
            where = np.flatnonzero(repeated)
            kinds = np.full(len(where), "duplicate", dtype=object)
            dup = _ledger(plan, table, fields, where, kinds, [""] * len(where), value)
            dup["_key"] = keys[where]
            dup["_code"] = lookups.code.take(code.ids[where])
            dup["_extras"] = _extras_key(plan, fields, where)
            dup["_subtotal"] = in_subtotal[where]
            dup["_p"], dup["_c"], dup["_t"], dup["_v"] = (
                partner.ids[where],
                code.ids[where],
                t[where],
                value[where],
            )
            if plan.rows:
                dup["_row"] = _accepted(
                    plan, lookups, table, fields, where, partner, code, period, value
                ).to_dict("records")
            part.held["repeated"] = dup
    if invalid.number:
        ledger = pd.concat([ledger, _bad_rows(plan, invalid)], ignore_index=True)
    part.ledger = ledger if len(ledger) else None
    part.rejected_rows = len(rows) + len(invalid.number)
    part.rejected_value = float(np.nan_to_num(value[rows]).sum())
    if plan.rows:
        part.table = _accepted(plan, lookups, table, fields, keep, partner, code, period, value)
    if fields.adapted is not None:
        part.counts = dict(fields.adapted.counts)
        if plan.rows and fields.adapted.duties is not None:
            part.duties = fields.adapted.duties
    if plan.style == cells.COMMA and (plan.head is None or plan.head.delimiter != ";"):
        comma = cells.comma_evidence(fields.value)
        if comma:
            part.counts = {
                **part.counts,
                "comma": {k: (int(fields.line[i]), t) for k, (i, t) in comma.items()},
            }
    return part


_SUBTOTAL = (
    "HS {code} is the total of finer codes in this file (e.g. line \x00): counted through them, not twice"
)
"""Reason of a subtotal row; ``\\x00`` becomes the line of a finer row once the whole file has been read."""
_HELD = ("_key", "_extras", "_subtotal", "_p", "_c", "_t", "_v", "_row", "_code")
"""Columns of the second pass's held rows that are not ledger columns."""


def _isin(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    if not len(sorted_keys) or not len(keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(sorted_keys, keys).clip(max=len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _finer(held: Held, p, c, t, line, good) -> dict[int, int]:
    """For subtotal keys, the first line (relative) of a usable row with a finer code under them."""
    out: dict[int, int] = {}
    rows = np.flatnonzero(good)
    for parent_of in held.parents.values():
        parent = parent_of[c[rows]]
        has = parent >= 0
        if not has.any():
            continue
        chosen = rows[has]
        key = (
            (p[chosen].astype(np.int64) << _KEY_PARTNER)
            | (parent[has].astype(np.int64) << _KEY_CODE)
            | t[chosen]
        )
        hit = _isin(key, held.subtotals)
        if hit.any():
            first = pd.Series(line[chosen[hit]]).groupby(key[hit]).min()
            for k, v in first.items():
                out[int(k)] = min(out.get(int(k), int(v)), int(v))
    return out


def _texts(column: pa.Array, rows: np.ndarray) -> np.ndarray:
    """Cells of ``rows`` as text (whole floats without ".0")."""
    if not len(rows):
        return np.zeros(0, dtype=object)
    taken = column.take(pa.array(rows))
    if pa.types.is_string(taken.type) or pa.types.is_large_string(taken.type):
        return np.array(taken.fill_null("").to_pylist(), dtype=object)
    return np.array([cells.as_text(v) for v in taken.to_pylist()], dtype=object)


def _each(texts, make) -> np.ndarray:
    return np.array([make(t) for t in texts], dtype=object)


def _verdicts(rows, fields: _Fields, vkind, partner, code, period, reporter, lookups: Lookups):
    """Kind and reason of each bad row: the first problem of the adapter, the amount, the partner, the
    code, the period, the reporter."""
    kinds = np.full(len(rows), "", dtype=object)
    reasons = np.full(len(rows), "", dtype=object)

    def flag(mask: np.ndarray, kind, reason) -> None:
        fresh = mask & (kinds == "")
        if fresh.any():
            kinds[fresh] = kind[fresh] if isinstance(kind, np.ndarray) else kind
            reasons[fresh] = reason(fresh) if callable(reason) else reason

    if not len(rows):
        return kinds, reasons
    if fields.kind is not None:
        flag(fields.kind[rows] != "", fields.kind[rows], lambda m: fields.reason[rows][m])
    kind = vkind[rows]
    if kind.any():
        text = _texts(fields.value, rows)
        flag(kind == 1, "missing", "missing value_usd")
        flag(
            kind == 2,
            "suppressed",
            lambda m: _each(
                text[m],
                lambda v: f"suppressed value {tables.shown(v)!r} (withheld by the source: unknown, not used)",
            ),
        )
        flag(
            kind == 3,
            "not_numeric",
            lambda m: _each(text[m], lambda v: f"value_usd is not a number: {tables.shown(v, 40)}"),
        )
        flag(
            kind == 4,
            "too_large",
            lambda m: _each(
                text[m],
                lambda v: (
                    f"value_usd {tables.shown(v, 24)} is implausible: beyond ${MAX_VALUE_USD:,.0f} (world trade is "
                    "about $25 trillion a year); a unit or typing error?"
                ),
            ),
        )
        flag(kind == 5, "negative", "negative value_usd")
    for judged, lookup in (
        (partner, lookups.partner),
        (code, lookups.code),
        (period, lookups.period),
        (reporter, lookups.reporter),
    ):
        if judged is None:
            continue
        mine = judged.ids[rows] < 0
        if mine.any():
            raw = judged.raw[rows]
            flag(
                mine,
                np.array([lookup.kind[i] for i in raw], dtype=object),
                lambda m, raw=raw, lookup=lookup: np.array([lookup.reason[i] for i in raw[m]], dtype=object),
            )
    return kinds, reasons


def _column_texts(table: pa.Table, fields: _Fields, name: str, rows: np.ndarray) -> np.ndarray:
    """The cells of the input's column ``name`` on flow ``rows``."""
    if not len(rows):
        return np.zeros(0, dtype=object)
    if fields.adapted is None:
        return _texts(table.column(name), rows)
    adapted = fields.adapted
    return np.array([cells.as_text(v) for v in adapted.frame[name].iloc[adapted.src[rows]]], dtype=object)


def _ledger(plan: Plan, table, fields: _Fields, rows, kinds, reasons, value) -> pd.DataFrame:
    """Ledger rows of rejected flow ``rows``: line, reason, value, the input's cells; and, in columns
    starting with ``_``, what the issues table needs (column at fault, kind, cell)."""
    layout = plan.layout
    kinds = np.asarray(kinds, dtype=object)
    out = {
        "line": fields.line[rows].astype(np.int64),
        "reason": np.asarray(reasons, dtype=object),
        "value_usd_parsed": np.nan_to_num(value[rows]),
    }
    for name in layout.raw_columns:
        label = neutralise(layout.shown(name))
        if label in REJECT_COLUMNS:
            label = f"raw_{label}"
        out[label] = _column_texts(table, fields, name, rows)
    value_text = _texts(fields.value, rows)
    if layout.cell_column:
        out[layout.cell_column] = value_text
    column, cell = _issue_cells(plan, table, fields, rows, kinds, value_text)
    out.update({"_column": column, "_kind": kinds, "_cell": cell})
    return pd.DataFrame(out)


def _issue_cells(
    plan: Plan, table, fields: _Fields, rows, kinds, value_text
) -> tuple[np.ndarray, np.ndarray]:
    """The input column at fault and its cell, for each rejected row."""
    layout = plan.layout
    names = set(layout.names)
    column = np.full(len(rows), "", dtype=object)
    cell = np.full(len(rows), "", dtype=object)
    if not len(rows):
        return column, cell
    by_field = {
        "partner": ("unknown_partner", "aggregate_partner"),
        "hs": ("malformed_hs", "aggregate_product"),
        "reporter": ("other_reporter",),
        "flow": ("not_imports",),
    }
    for field, field_kinds in by_field.items():
        mine = np.isin(kinds, field_kinds)
        name = layout.fields.get(field, "")
        if mine.any() and name in names:
            column[mine] = layout.shown(name)
            cell[mine] = _column_texts(table, fields, name, rows[mine])
    if fields.adapted is not None:
        value_column = np.array([layout.shown(c) for c in fields.adapted.value_column[rows]], dtype=object)
    else:
        value_column = np.full(len(rows), layout.shown(layout.fields["value_usd"]), dtype=object)
    mine = np.isin(kinds, VALUE_KINDS[1:])
    column[mine], cell[mine] = value_column[mine], value_text[mine]
    mine = kinds == "bad_period"
    if mine.any():
        column[mine] = (
            layout.shown(layout.fields["period"]) if "period" in layout.fields else value_column[mine]
        )
        cell[mine] = _texts(fields.period, rows[mine])
    mine = kinds == "duplicate"
    column[mine] = "+".join(
        layout.shown(layout.fields[f]) for f in ("partner", "hs", "period") if f in layout.fields
    )
    if fields.adapted is not None and fields.adapted.kind_column is not None:
        named = fields.adapted.kind_column[rows]
        for name in set(named[named != ""]):
            mine = named == name
            column[mine] = layout.shown(name)
            cell[mine] = _column_texts(table, fields, name, rows[mine])
    return column, cell


def _field_count_reason(text: str, count: int, expected: int) -> str:
    if text.count('"') % 2:
        why = "an unclosed quote?"
    elif count < expected:
        why = "a truncated line?"
    else:
        why = "an unquoted delimiter inside a cell?"
    return f"{count} field(s) where the header has {expected} ({why}); the row cannot be read"


def _bad_rows(plan: Plan, invalid: tables.Invalid) -> pd.DataFrame:
    """Ledger rows of records that could not be split into the header's fields."""
    expected = len(plan.layout.names)
    why = [_field_count_reason(t, f, expected) for t, f in zip(invalid.text, invalid.fields, strict=True)]
    return pd.DataFrame(
        {
            "line": np.asarray(invalid.line, dtype=np.int64),
            "reason": why,
            "value_usd_parsed": 0.0,
            "raw_line": [tables.shown(t, 200) for t in invalid.text],
            "_column": "",
            "_kind": "bad_row",
            "_cell": [tables.shown(t, 60) for t in invalid.text],
        }
    )


def _extras_key(plan: Plan, fields: _Fields, rows: np.ndarray) -> np.ndarray:
    """The cells of the layout's other key columns (a DataWeb program or district) of ``rows``."""
    extras = plan.layout.key_extras
    if fields.adapted is None or not extras or not len(rows):
        return np.full(len(rows), "", dtype=object)
    frame = fields.adapted.frame[extras].iloc[fields.adapted.src[rows]].astype(str)
    return frame.agg("\x1f".join, axis=1).to_numpy(dtype=object)


def _accepted(plan: Plan, lookups: Lookups, table, fields: _Fields, keep, partner, code, period, value):
    """The canonical table of the accepted rows ``keep`` (and their line, in ``_line``). Canonical inputs
    keep their column order and extra columns; other layouts give the fields and the layout's extras."""
    layout = plan.layout
    clean = {
        "partner": lookups.partner.take(partner.ids[keep]),
        "hs": lookups.code.take(code.ids[keep]),
        "period": (
            lookups.period.take(period.ids[keep])
            if period is not None
            else np.full(len(keep), "", dtype=object)
        ),
        "value_usd": value[keep],
    }
    if fields.reporter is not None:
        clean["reporter"] = np.full(len(keep), plan.importer, dtype=object)
    if plan.canonical:
        frame = table.take(pa.array(keep, pa.int64())).to_pandas()
        frame.columns = layout.names
        frame = frame.rename(columns={c: f for f, c in layout.fields.items()})
        for name in frame.columns:
            if name not in clean and not pd.api.types.is_float_dtype(frame[name].dtype):
                frame[name] = frame[name].astype(object)
        for name, column in clean.items():
            frame[name] = column
    else:
        frame = pd.DataFrame(clean)
        adapted = fields.adapted
        for name in adapted.extras.columns:
            extra = adapted.extras[name].iloc[keep].reset_index(drop=True)
            if name in layout.money_extras:
                amounts, _ = cells.money(_arrow(extra), plan.style)
                frame[name] = amounts * plan.scale
            else:
                frame[name] = extra.to_numpy(dtype=object)
        if adapted.duty_key is not None:
            frame["_duty_key"] = adapted.duty_key[keep]
    frame["_line"] = fields.line[keep].astype(np.int64)
    return frame.reset_index(drop=True)


def _absolute_counts(counts: dict, base: int) -> dict:
    if counts.get("not_data"):
        count, line, text = counts["not_data"]
        counts = {**counts, "not_data": [count, line + base, text]}
    if counts.get("comma"):
        counts = {**counts, "comma": {k: (line + base, text) for k, (line, text) in counts["comma"].items()}}
    return counts


# ----------------------------------------------------------------------------------------------- summing


@dataclasses.dataclass
class PairTotals:
    """Customs value (USD) of the accepted rows summed by distinct (partner, hs) pair over a whole input.

    Pairs are integer indices into the distinct ``partners`` (ISO3) and ``codes``, both sorted, so that
    millions of pairs never become millions of Python strings; pairs are sorted by partner, then code.
    ``code_rows`` counts the accepted rows of each code (aligned with ``codes``); ``periods`` are the
    periods of the accepted rows; ``repeated_keys`` counts the (partner, hs, period) keys on more than one
    row (``repeated_rows`` rows in all), which are summed.
    """

    partners: np.ndarray
    codes: np.ndarray
    partner_index: np.ndarray
    code_index: np.ndarray
    value: np.ndarray
    code_rows: np.ndarray
    rows: int
    periods: tuple[str, ...] = ()
    repeated_keys: int = 0
    repeated_rows: int = 0

    @property
    def partner(self) -> np.ndarray:
        """Each pair's partner (ISO3), as strings."""
        return self.partners[self.partner_index]

    @property
    def code(self) -> np.ndarray:
        """Each pair's product code, as strings."""
        return self.codes[self.code_index]


@dataclasses.dataclass
class Found:
    """What the whole of one pass shows: the pair totals, the keys of subtotal rows and of repeated keys
    (sorted), each code's prefixes among the codes (by length), and whether a row count overflowed."""

    totals: PairTotals
    subtotals: np.ndarray
    repeated: np.ndarray
    parents: dict[int, np.ndarray]
    wrapped: bool
    overlapping: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    """(partner, code) pairs (partner id << 32 | code id) with rows for overlapping periods."""


class Sums:
    """Parts added in file order: values by partner × code, rows by (period, partner, code), the ledger,
    and the counts a file report needs. ``line`` is the line before the first piece (the header's)."""

    def __init__(self, line: int, wide: bool = False):
        self.capacity = (0, 0)  # laid out by the first rows (see _grow)
        self.value = np.zeros(self.capacity)
        self.count = np.zeros((16, 0), dtype=np.uint32 if wide else np.uint8)
        self.line = line
        self.rows = 0
        self.flow_rows = 0
        self.blank = 0
        self.repaired_rows = 0
        self.repaired_value = 0.0
        self.repaired_example: tuple[int, str, str] | None = None
        self.named_rows = 0
        self.named_example: tuple[int, str, str] | None = None
        self.rejected_rows = 0
        self.rejected_value = 0.0
        self.replaced = 0
        self.fast = 0
        self.pieces = 0
        self.counts: dict = {}
        self.ledger: list[pd.DataFrame] = []
        self.tables: list[pd.DataFrame] = []
        self.duties: list[pd.Series] = []
        self.finer: dict[int, int] = {}
        self.overlapping_pair: int | None = None
        self.overlapping_rows: list[tuple[int, int]] = []
        self.subtotal_rows: list[pd.DataFrame] = []
        self.first: dict[tuple[int, str], int] = {}

    def add(self, part: Part, remap: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """Add one part (the next in file order). ``remap`` turns its ids into this reading's ids."""
        base = self.line
        p, c, t = part.p, part.c, part.t
        if remap is not None:
            p, c, t = remap[0][p], remap[1][c], remap[2][t]
        self._add(p, c, t, part.value)
        self.flow_rows += part.rows
        self.blank += part.blank
        self.repaired_rows += part.repaired_rows
        self.repaired_value += part.repaired_value
        if part.repaired_example is not None and self.repaired_example is None:
            line, before, after = part.repaired_example
            self.repaired_example = (line + base, before, after)
        self.named_rows += part.named_rows
        if part.named_example is not None and self.named_example is None:
            line, before, after = part.named_example
            self.named_example = (line + base, before, after)
        self.rejected_rows += part.rejected_rows
        self.rejected_value += part.rejected_value
        self.replaced += part.replaced
        self.fast += part.fast
        self.pieces += 1
        adapters.merge_counts(self.counts, _absolute_counts(part.counts, base))
        if part.ledger is not None:
            self.ledger.append(part.ledger.assign(line=part.ledger["line"] + base))
        if part.table is not None and len(part.table):
            self.tables.append(part.table.assign(_line=part.table["_line"] + base))
        if part.duties is not None:
            self.duties.append(part.duties)
        if part.held:
            self._held(part, base, remap)
        self.line += part.lines

    def _add(self, p: np.ndarray, c: np.ndarray, t: np.ndarray, value: np.ndarray) -> None:
        if not len(value):
            return
        needed = (int(p.max()) + 1, int(c.max()) + 1)
        if needed[0] > self.capacity[0] or needed[1] > self.capacity[1]:
            self._grow(needed)
        periods = int(t.max()) + 1
        if periods > self.count.shape[0]:
            bigger = np.zeros((max(periods, 2 * self.count.shape[0]), self.count.shape[1]), self.count.dtype)
            bigger[: self.count.shape[0]] = self.count
            self.count = bigger
        cell = p * self.capacity[1]
        cell += c
        np.add.at(self.value.ravel(), cell, value)
        cell += t * (self.capacity[0] * self.capacity[1])
        np.add.at(self.count.ravel(), cell, self.count.dtype.type(1))  # a Python 1 takes a slow path
        self.rows += len(value)

    def _grow(self, needed: tuple[int, int]) -> None:
        """Lay the grids out for more partners or codes: room for 256 partners and a quarter more codes
        than needed (the first piece of a file brings most of them), rounded to 1,024. Zero pages cost
        nothing until touched, but every page a row touches is zeroed: a grid no larger than needed is
        faster to fill. Growing later copies the grids (rare)."""
        new = (
            max(self.capacity[0], needed[0], 256),
            max(self.capacity[1], -(-needed[1] * 5 // 4 // 1024) * 1024),
        )
        value = np.zeros(new)
        value[: self.capacity[0], : self.capacity[1]] = self.value
        count = np.zeros((self.count.shape[0], new[0] * new[1]), self.count.dtype)
        if self.count.size:
            count.reshape(-1, *new)[:, : self.capacity[0], : self.capacity[1]] = self.count.reshape(
                self.count.shape[0], *self.capacity
            )
        self.value, self.count, self.capacity = value, count, new

    def _held(self, part: Part, base: int, remap) -> None:
        """Second pass: the first line of finer rows under subtotals, and repeated keys decided in order."""
        for key, line in part.held.get("finer", {}).items():
            self.finer[key] = min(self.finer.get(key, line + base), line + base)
        if "overlapping" in part.held and len(self.overlapping_rows) < 3:
            pairs, lines, periods = part.held["overlapping"]
            if self.overlapping_pair is None and len(pairs):
                self.overlapping_pair = int(pairs[0])  # the pair of the first such row in the file
            mine = np.flatnonzero(pairs == self.overlapping_pair)[: 3 - len(self.overlapping_rows)]
            self.overlapping_rows += [(int(lines[i]) + base, int(periods[i])) for i in mine]
        if "subtotals" in part.held:
            held = part.held["subtotals"]
            self.subtotal_rows.append(held.assign(line=held["line"] + base))
        dup = part.held.get("repeated")
        if dup is None:
            return
        dup = dup.assign(line=dup["line"] + base)
        accepted = []
        for i, (key, extras, line) in enumerate(zip(dup["_key"], dup["_extras"], dup["line"], strict=True)):
            first = self.first.setdefault((int(key), extras), int(line))
            if first != line:
                row = dup.iloc[[i]].assign(reason=f"duplicate of line {first}")
                self.ledger.append(row.drop(columns=[c for c in _HELD if c in row.columns]))
                self.rejected_rows += 1
                self.rejected_value += float(np.nan_to_num(dup["_v"].iat[i]))
            elif dup["_subtotal"].iat[i]:
                reason = _SUBTOTAL.format(code=dup["_code"].iat[i])
                self.subtotal_rows.append(dup.iloc[[i]].assign(_kind="aggregate_product", reason=reason))
            else:
                accepted.append(i)
        if accepted:
            chosen = dup.iloc[accepted]
            p, c, t = (chosen[k].to_numpy(np.intp) for k in ("_p", "_c", "_t"))
            if remap is not None:
                p, c, t = remap[0][p], remap[1][c], remap[2][t]
            self._add(p, c, t, chosen["_v"].to_numpy(float))
            if "_row" in chosen:
                self.tables.append(pd.DataFrame(list(chosen["_row"])).assign(_line=chosen["line"].to_numpy()))

    def subtotals(self) -> pd.DataFrame | None:
        """The subtotal rows of the second pass, rejected with the line of a finer row."""
        if not self.subtotal_rows:
            return None
        rows = pd.concat(self.subtotal_rows, ignore_index=True)
        rows["reason"] = [
            reason.replace("\x00", str(self.finer.get(int(key), "?")))
            for reason, key in zip(rows["reason"], rows["_key"], strict=True)
        ]
        self.rejected_rows += len(rows)
        self.rejected_value += float(
            np.nan_to_num(rows["_v"] if "_v" in rows else rows["value_usd_parsed"]).sum()
        )
        return rows.drop(columns=[c for c in _HELD if c in rows.columns])

    def finish(self, lookups: Lookups, keys: bool = False) -> Found:
        """The pair totals, and what the second pass must reject (the repeated keys themselves only with
        ``keys``: ``duplicates="reject"``)."""
        partners = np.array(lookups.partner.values, dtype=object)
        codes = np.array(lookups.code.values, dtype=object)
        used = (min(len(partners), self.capacity[0]), min(len(codes), self.capacity[1]))
        planes = self.count.reshape(self.count.shape[0], *self.capacity)
        planes = planes[: len(lookups.period.values), : used[0], : used[1]]
        cell_rows = np.zeros((len(partners), len(codes)), dtype=np.uint32)
        rows_of = cell_rows[: used[0], : used[1]]
        repeated_keys = repeated_rows = 0
        repeated, seen_periods = [], []
        for t, plane in enumerate(planes):  # one period at a time: no temporary as large as all of them
            top = int(plane.max()) if plane.size else 0
            if not top:
                continue
            seen_periods.append(lookups.period.values[t])
            rows_of += plane
            if top >= 2:
                many = plane >= 2
                repeated_keys += int(np.count_nonzero(many))
                repeated_rows += int(plane[many].sum(dtype=np.int64))
                if keys:
                    pi, ci = np.nonzero(many)
                    repeated.append(
                        (pi.astype(np.int64) << _KEY_PARTNER) | (ci.astype(np.int64) << _KEY_CODE) | t
                    )
        wrapped = int(cell_rows.sum(dtype=np.int64)) != self.rows
        subtotals, parents = _subtotals(planes, list(codes))
        overlapping = _overlapping(planes, lookups.period.values, subtotals)
        present = cell_rows > 0
        used_partners = np.flatnonzero(present.any(axis=1))
        used_codes = np.flatnonzero(present.any(axis=0))
        partner_order = used_partners[np.argsort(partners[used_partners], kind="stable")]
        code_order = used_codes[np.argsort(codes[used_codes], kind="stable")]
        partner_index, code_index, value = _pairs_in_order(
            present[partner_order][:, code_order], self.value, partner_order, code_order
        )
        totals = PairTotals(
            partners=partners[partner_order],
            codes=codes[code_order],
            partner_index=partner_index,
            code_index=code_index,
            value=value,
            code_rows=cell_rows.sum(axis=0, dtype=np.int64)[code_order],
            rows=self.rows,
            periods=tuple(sorted(p for p in seen_periods if p)),
            repeated_keys=repeated_keys,
            repeated_rows=repeated_rows,
        )
        keys = np.sort(np.concatenate(repeated)) if repeated else np.zeros(0, np.int64)
        return Found(totals, subtotals, keys, parents, wrapped, overlapping)


def _subtotals(count: np.ndarray, codes: list[str]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Keys of subtotal rows (a code beside finer codes of the same partner and period) and, by length,
    each code's prefix of that length among ``codes`` (-1 for none)."""
    texts = pa.array(codes, pa.string())
    lengths = pc.utf8_length(texts).to_numpy(zero_copy_only=False)
    parents: dict[int, np.ndarray] = {}
    edges = []
    for k in (2, 4, 6, 8):
        longer = np.flatnonzero(lengths > k)
        if not len(longer):
            continue
        prefixes = pc.utf8_slice_codeunits(texts.take(pa.array(longer)), 0, k)
        at = pc.index_in(prefixes, value_set=texts).fill_null(-1).to_numpy().astype(np.intp)
        hit = at >= 0
        if hit.any():
            parents[k] = np.full(len(codes), -1, dtype=np.intp)
            parents[k][longer[hit]] = at[hit]
            edges.append(np.stack([longer[hit], at[hit]]))
    keys = []
    if edges:
        child, parent = np.concatenate(edges, axis=1)
        inside = (child < count.shape[2]) & (parent < count.shape[2])  # codes with rows in the grid
        child, parent = child[inside], parent[inside]
        order = np.argsort(parent, kind="stable")
        child, parent = child[order], parent[order]
        starts = list(np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])) if len(parent) else []
        for start, end in zip(starts, [*starts[1:], len(parent)][: len(starts)], strict=True):
            one = int(parent[start])
            both = (count[:, :, one] > 0) & (count[:, :, child[start:end]] > 0).any(axis=2)
            if both.any():
                tt, pp = np.nonzero(both)
                keys.append((pp.astype(np.int64) << _KEY_PARTNER) | (np.int64(one) << _KEY_CODE) | tt)
    return (np.sort(np.concatenate(keys)) if keys else np.zeros(0, np.int64)), parents


def _overlapping(planes: np.ndarray, periods: list[str], subtotals: np.ndarray) -> np.ndarray:
    """The (partner, code) pairs with rows for overlapping periods — a row without a period beside dated
    ones, or a year beside its months — all of which are added up (subtotal rows, rejected, left out)."""
    present = [t for t in range(len(planes)) if planes[t].any()]
    kinds = {len(periods[t]) for t in present}
    if len(kinds) < 2:
        return np.zeros(0, np.int64)

    def rows_of(t: int) -> np.ndarray:
        has = planes[t] > 0
        mine = subtotals[(subtotals & ((1 << _KEY_CODE) - 1)) == t]
        if len(mine):
            has[mine >> _KEY_PARTNER, (mine >> _KEY_CODE) & ((1 << (_KEY_PARTNER - _KEY_CODE)) - 1)] = False
        return has

    flagged = np.zeros(planes.shape[1:], dtype=bool)
    dated = [t for t in present if periods[t]]
    if 0 in present and dated:
        anywhen = np.zeros_like(flagged)
        for t in dated:
            anywhen |= rows_of(t)
        flagged |= rows_of(0) & anywhen
    years = {periods[t]: t for t in present if len(periods[t]) == 4}
    months: dict[str, list[int]] = {}
    for t in present:
        if len(periods[t]) == 7 and periods[t][:4] in years:
            months.setdefault(periods[t][:4], []).append(t)
    for year, ids in months.items():
        monthly = np.zeros_like(flagged)
        for t in ids:
            monthly |= rows_of(t)
        flagged |= rows_of(years[year]) & monthly
    p, c = np.nonzero(flagged)
    return np.sort((p.astype(np.int64) << _PAIR_PARTNER) | c.astype(np.int64))


def _pairs_in_order(
    present, value_grid, partner_order, code_order
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of the sorted ``present`` grid (partner and code indices) and their values (USD) from the
    unsorted ``value_grid``, gathered one partner row at a time: no full-size copy of the grid."""
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


# ------------------------------------------------------------------------------------------------ reading


@dataclasses.dataclass
class Reading:
    """One input read: its plan, SHA-256, pair totals, accepted rows (when kept), the ledger (with the
    issue columns ``_column``, ``_kind``, ``_cell``) and the sums of the pass that counts."""

    plan: Plan
    sha256: str
    totals: PairTotals
    table: pd.DataFrame | None
    ledger: pd.DataFrame
    sums: Sums
    passes: int = 1
    duplicates: str = "sum"
    overlapping: tuple | None = None
    """(pairs with overlapping periods, example partner, example code, [(line, period)…]) or None."""


def _progress(plan: Plan, progress: Progress | None):
    """A function of (rows, share of the input read) that reports progress, or None for silence."""
    if progress is None or type(progress) is Progress:
        return None
    name = Path(plan.path).name
    size = plan.head.size / 1e6 if plan.head is not None else 0.0
    started = time.perf_counter()

    def report(rows: int, share: float | None) -> None:
        read = (
            f"{size:,.0f} MB file" if share is None or not size else f"{share * size:,.0f} of {size:,.0f} MB"
        )
        rate = rows / max(time.perf_counter() - started, 1e-9) / 1e6
        progress.detail(f"reading {name}: {rows / 1e6:,.1f}M rows ({read}), {rate:,.1f}M rows/s")

    return report


def local_pass(plan: Plan, lookups: Lookups, held: Held | None, digest, progress, wide: bool) -> Sums:
    """One pass over an input with :data:`WORKERS` threads; parts are added in file order."""
    sums = Sums(plan.head.header_line if plan.head is not None else 1, wide)
    mode = Mode(plan.fast)
    report = _progress(plan, progress)
    hashed = digest is not None and plan.head is not None and not plan.head.streamed

    def take(future, piece) -> None:
        part = future.result()
        if hashed:
            digest.update(piece.data)
        sums.add(part)
        if report is not None:
            report(sums.flow_rows, piece.share)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        pending: collections.deque = collections.deque()
        try:
            for piece in pieces(plan, digest):
                pending.append((pool.submit(read_chunk, plan, lookups, piece, mode, held), piece))
                if len(pending) >= 2 * WORKERS:
                    take(*pending.popleft())
            while pending:
                take(*pending.popleft())
        finally:
            for future, _ in pending:
                future.cancel()
    return sums


def read_input(
    source: str | Path | pd.DataFrame,
    options: Options,
    progress: Progress | None = None,
    engine=local_pass,
    planned: Plan | None = None,
) -> Reading:
    """Read one input with the one reader: a first pass, and a second when subtotal rows (or repeated keys,
    with ``duplicates="reject"``) must be rejected. ``engine`` runs a pass (local threads, or Dask)."""
    if options.duplicates not in DUPLICATES:
        raise FlowsError(f"Unknown duplicates {options.duplicates!r}: use one of {', '.join(DUPLICATES)}.")
    plan_ = planned or plan(source, options)
    lookups = Lookups(plan_)
    digest = hashlib.sha256() if plan_.head is not None else None
    reject = options.duplicates == "reject"
    sums = engine(plan_, lookups, None, digest, progress, False)
    found = sums.finish(lookups, reject)
    wide = found.wrapped
    if wide:  # a key with more than 255 rows: count again with wider counters
        sums = engine(plan_, lookups, None, None, progress, True)
        found = sums.finish(lookups, reject)
    passes, first = 1, found.totals
    repeated, overlapping = found.repeated, found.overlapping
    if len(found.subtotals) or len(repeated) or len(overlapping):
        held = Held(found.subtotals, repeated, found.parents, plan_.layout.key_extras, overlapping)
        sums = engine(plan_, lookups, held, None, progress, wide)
        found = sums.finish(lookups)
        passes = 2
    example = None
    if len(overlapping) and sums.overlapping_pair is not None:
        pair = sums.overlapping_pair
        example = (
            len(overlapping),
            lookups.partner.values[pair >> _PAIR_PARTNER],
            lookups.code.values[pair & ((1 << _PAIR_PARTNER) - 1)],
            [(line, lookups.period.values[t]) for line, t in sums.overlapping_rows],
        )
    totals = dataclasses.replace(
        found.totals, repeated_keys=first.repeated_keys, repeated_rows=first.repeated_rows
    )
    parts = list(sums.ledger)
    subtotal_rows = sums.subtotals()
    if subtotal_rows is not None:
        parts.append(subtotal_rows)
    ledger = pd.concat(parts, ignore_index=True) if parts else _empty_ledger(plan_)
    ledger = ledger.sort_values("line", kind="stable", ignore_index=True)
    table = None
    if plan_.rows:
        table = _table(plan_, sums)
    if digest is not None:
        sha = digest.hexdigest()
    elif plan_.parquet and not plan_.partition:
        from tariffcalc.util.hashing import sha256_file

        sha = sha256_file(plan_.path)
    else:
        sha = ""
    return Reading(plan_, sha, totals, table, ledger, sums, passes, options.duplicates, example)


def _empty_ledger(plan: Plan) -> pd.DataFrame:
    columns = ["line", "reason", "value_usd_parsed"]
    columns += [neutralise(plan.layout.shown(c)) for c in plan.layout.raw_columns]
    columns += ["_column", "_kind", "_cell"]
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def _table(plan: Plan, sums: Sums) -> pd.DataFrame:
    """The accepted rows in file order; matched calculated duties filled in."""
    if sums.tables:
        table = pd.concat(sums.tables, ignore_index=True).sort_values(
            "_line", kind="stable", ignore_index=True
        )
    else:
        table = _empty_rows(plan)
    if "_duty_key" in table.columns:
        duties = pd.concat(sums.duties) if sums.duties else pd.Series([], dtype=object)
        duties = duties[~duties.index.duplicated(keep="first")]
        text = duties.reindex(table["_duty_key"].to_numpy()).fillna("").to_numpy(dtype=object)
        amounts, _ = cells.money(cells.as_strings(list(text)), plan.style)
        table["calc_duty_usd"] = amounts * plan.scale
        table = table.drop(columns="_duty_key")
    return table.drop(columns="_line")


def _empty_rows(plan: Plan) -> pd.DataFrame:
    layout = plan.layout
    if plan.canonical:
        names = [{c: f for f, c in layout.fields.items()}.get(n, n) for n in layout.names]
        if "period" not in names:
            names.append("period")
    else:
        names = ["partner", "hs", "period", "value_usd"] + (
            ["reporter"] if "reporter" in layout.fields else []
        )
        names += ["description"] if layout.pick.get("description") or layout.source == "census" else []
    frame = pd.DataFrame({n: pd.Series([], dtype=float if n == "value_usd" else object) for n in names})
    return frame.assign(_line=pd.Series([], dtype=np.int64))
