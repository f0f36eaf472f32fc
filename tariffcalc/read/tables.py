"""The bytes of a flow file, a chunk at a time: what it is, where its rows are, and each chunk parsed as text.

A file is never read whole. :func:`inspect` reads its head (the first :data:`HEAD_BYTES`, decompressed if
it is gzip) to learn what it is: Parquet, or CSV in UTF-8 (with or without a byte-order mark), UTF-16,
Windows-1252 or Latin-1; the delimiter (comma, semicolon, tab or pipe); the header line, after any title
lines (USITC DataWeb); how lines end (LF, CRLF or CR alone). Then :func:`csv_chunks` cuts the data rows into
chunks of about :data:`CHUNK_BYTES` at record boundaries (a line end outside quotes), and :func:`parse`
parses one chunk with pyarrow. Plain files are cut by byte ranges of a memory map, so many chunks are
parsed at once; gzip and UTF-16 files are decoded in one pass, block by block, by the calling thread.

Memory is bounded by the chunk size whatever the file: a record longer than :data:`MAX_RECORD` is refused
(an unclosed quote swallowing the file), and a gzip file may not decompress to more than
:func:`gzip_cap` bytes (a "zip bomb" of blank lines would otherwise run for ever).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import mmap
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from tariffcalc.errors import FlowsError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "": ""}
HEAD_BYTES = 1 << 20
"""How much of a file is read to find its header and delimiter (1 MiB): a header is one short line."""
HEADER_SEARCH_LINES = 50
"""Title lines above the header that are skipped at most."""
HEAD_ROWS = 10_000
"""Data rows of the head that decide what the whole file proves (number format, DataWeb data type)."""
CHUNK_BYTES = 8 << 20
"""Bytes of CSV per chunk (a chunk ends at the first record boundary after this many bytes)."""
MAX_RECORD = 1 << 26
"""Longest record (64 MiB): a chunk that cannot end within this many bytes is refused."""
GZIP_RATIO = 100
GZIP_FLOOR = 64 << 20
"""A gzip file may decompress to ``max(GZIP_FLOOR, GZIP_RATIO × its size)`` bytes (see :func:`gzip_cap`)."""
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_GZIP = b"\x1f\x8b"


def gzip_cap(compressed: int) -> int:
    """Most bytes a gzip file of ``compressed`` bytes may decompress to: 100 times its size, and at least
    64 MiB. Real CSV compresses 4 to 20 times; a file of blank lines compresses 1,000 times."""
    return max(GZIP_FLOOR, GZIP_RATIO * compressed)


@dataclasses.dataclass
class Head:
    """What :func:`inspect` learnt from the head of a file.

    For CSV, ``data_offset`` is where the data rows start: a byte offset into the file for plain files,
    or into the decoded (UTF-8) stream for ``streamed`` ones (gzip, UTF-16). ``codec`` is the Python codec
    that turns a chunk's bytes into text ("utf-8" for UTF-8 files); ``head`` is the decoded head.
    """

    path: Path
    parquet: bool = False
    gzip: bool = False
    encoding: str = ""
    codec: str = "utf-8"
    streamed: bool = False
    bom: int = 0
    head: str = ""
    header_line: int = 1
    delimiter: str = ""
    names: list[str] = dataclasses.field(default_factory=list)
    data_offset: int = 0
    terminator: bytes = b"\n"
    size: int = 0
    complete: bool = True
    """True when the head is the whole file."""

    @property
    def title_lines(self) -> int:
        return max(self.header_line - 1, 0)

    def head_rows(self) -> list[list[str]]:
        """The data rows in the head (the last, perhaps cut, line left out), split on the delimiter."""
        lines = _LINE_BREAK.split(self.head)
        rows = lines[self.header_line : None if self.complete else -1][:HEAD_ROWS]
        try:
            return [cells for cells in csv.reader(rows, delimiter=self.delimiter or ",") if cells]
        except csv.Error:  # a huge cell: read the lines one by one, leaving such lines out
            pass
        out = []
        for line in rows:
            try:
                cells = next(csv.reader([line], delimiter=self.delimiter or ","), [])
            except csv.Error:
                continue
            if cells:
                out.append(cells)
        return out


def _open_head(path: Path) -> tuple[bytes, bool, int]:
    """(the first bytes of the file, decompressed if gzip, up to HEAD_BYTES + 4; gzip?; file size)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = handle.read(HEAD_BYTES + 4)
    if not start.startswith(_GZIP):
        return start, False, size
    out = bytearray()
    for block in gunzip(path, size):
        out += block
        if len(out) > HEAD_BYTES + 4:
            break
    return bytes(out[: HEAD_BYTES + 4]), True, size


def gunzip(path: Path, size: int, block: int = 1 << 20, digest=None) -> Iterator[bytes]:
    """The decompressed bytes of a gzip file (one or more members), block by block, at most
    :func:`gzip_cap` bytes in all; :class:`FlowsError` for a damaged file or one that expands too much.
    ``digest`` (a hashlib object) is fed the compressed bytes as they are read."""
    cap, total = gzip_cap(size), 0
    with path.open("rb") as handle:
        decompressor = zlib.decompressobj(31)
        pending = b""
        while True:
            if not pending:
                pending = handle.read(block)
                if not pending:
                    break
                if digest is not None:
                    digest.update(pending)
            if decompressor.eof:  # another member follows the last one (padding NULs are ignored)
                if not pending.strip(b"\x00"):
                    pending = b""
                    continue
                decompressor = zlib.decompressobj(31)
            try:
                data = decompressor.decompress(pending, block)
            except zlib.error as exc:
                raise FlowsError(f"{path}: a damaged gzip file ({exc}).") from None
            pending = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
            total += len(data)
            if total > cap:
                raise FlowsError(
                    f"{path}: decompresses to more than {cap >> 20:,} MiB ({GZIP_RATIO} times its "
                    f"{size:,} bytes, and at least {GZIP_FLOOR >> 20} MiB): refused as a likely decompression "
                    "bomb. If the file is genuine, decompress it yourself and give the CSV file."
                )
            if data:
                yield data
        if not decompressor.eof:
            raise FlowsError(
                f"{path}: a damaged gzip file (Compressed file ended before the end-of-stream marker was "
                "reached)."
            )


# ------------------------------------------------------------------------------------------- encodings


def _guess_encoding(path: Path, data: bytes) -> tuple[str, str, int]:
    """(reported encoding, codec, BOM bytes) of a file from its head ``data``.

    UTF-8 with or without a byte-order mark; UTF-16 with one; for text that is not valid UTF-8,
    UTF-8 all the same when most of it is (a few damaged bytes are replaced and counted), else
    Windows-1252, else Latin-1. A head with NUL bytes is not text.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8 with BOM", "utf-8", len(codecs.BOM_UTF8)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data[: len(data) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            raise FlowsError(f"{path}: starts like UTF-16 text but is not valid UTF-16.") from None
        return "utf-16", "utf-16", 0
    head = data[:HEAD_BYTES]
    if b"\x00" in head:
        raise FlowsError(f"{path}: not a text file (it contains NUL bytes); flows must be CSV or Parquet.")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(data) <= HEAD_BYTES)
        return "utf-8", "utf-8", 0
    except UnicodeDecodeError:
        pass
    text = head.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - replaced
    if valid > 2 * replaced:
        return "utf-8", "utf-8", 0  # a few damaged bytes: replaced and counted as chunks are read
    try:
        head.decode("cp1252")
        return "cp1252", "cp1252", 0
    except UnicodeDecodeError:
        return "latin-1", "latin-1", 0


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decoding error handler: a byte Windows-1252 leaves undefined is read as Latin-1."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("tariffcalc-latin1", _latin1_fallback)


def to_utf8(data: bytes | memoryview, codec: str) -> tuple[bytes | memoryview, int]:
    """A chunk's bytes as UTF-8 and the number of bytes that were not valid UTF-8 (replaced by U+FFFD).

    UTF-8 chunks are returned as they are when valid; others are transcoded.
    """
    if codec == "utf-8":
        try:
            codecs.decode(data, "utf-8")
            return data, 0
        except UnicodeDecodeError:
            raw = bytes(data)
            text = raw.decode("utf-8", errors="replace")
            return text.encode("utf-8"), text.count("\ufffd") - raw.count("\ufffd".encode())
    return bytes(data).decode(codec, errors="tariffcalc-latin1").encode("utf-8"), 0


# --------------------------------------------------------------------------------------------- header


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


def inspect(path: Path, header_hint: Callable[[list[str]], int] | None = None) -> Head:
    """What ``path`` is and where its header and data rows are, from its head alone.

    ``header_hint`` scores a list of header cells (how many look like known column names); the first line
    among the first 50 that scores 2 or more is the header, else the first non-blank line. Raises
    :class:`FlowsError` for files that cannot be read as a table at all.
    """
    if not path.is_file():
        raise FlowsError(f"Flow file {path} does not exist.")
    data, packed, size = _open_head(path)
    if data[:4] == b"PAR1":
        if packed:
            raise FlowsError(f"{path}: a gzip-compressed Parquet file; give the Parquet file itself.")
        return Head(path=path, parquet=True, encoding="parquet", size=size)
    if path.suffix.lower() == ".parquet":
        raise FlowsError(f"{path}: not a Parquet file (it does not start with the Parquet signature PAR1).")
    if data[:4] == b"PK\x03\x04":
        raise FlowsError(
            f"{path}: this is a zip archive or an Excel workbook, not a CSV file; "
            "open it in a spreadsheet and save it as 'CSV UTF-8'."
        )
    encoding, codec, bom = _guess_encoding(path, data)
    head = Head(
        path=path, gzip=packed, encoding=encoding + (", gzip" if packed else ""), codec=codec, bom=bom
    )
    head.size = size
    head.streamed = packed or codec == "utf-16"
    head.complete = len(data) <= HEAD_BYTES + bom
    if codec == "utf-16":  # the stream is decoded and read as UTF-8 (see _streamed_chunks)
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        raw = decoder.decode(data[:HEAD_BYTES], final=head.complete).encode("utf-8")
        head.codec = "utf-8"
    else:
        raw = data[bom : HEAD_BYTES + bom]
    if not head.complete and b"\n" not in raw and b"\r" not in raw:
        raise FlowsError(
            f"{path}: line 1 is longer than {HEAD_BYTES >> 20} MiB; a CSV file starts with a short header "
            "line naming its columns. Is this the right file?"
        )
    head.head = raw.decode(head.codec, errors="replace" if head.codec == "utf-8" else "tariffcalc-latin1")
    index, delimiter, cells = _find_header(path, head.head, header_hint or (lambda cells: 0))
    head.header_line, head.delimiter = index + 1, delimiter
    head.names = unique_names(path, cells, index + 1)
    header_end = len(raw)  # the byte offset after the header's line end
    for number, match in enumerate(_LINE_BREAK.finditer(raw.decode("latin-1"))):
        if number == index:
            header_end = match.end()
            break
    head.data_offset = bom + header_end
    head.terminator = b"\r" if b"\r" in raw and b"\n" not in raw else b"\n"
    return head


def _find_header(path: Path, text: str, hint: Callable[[list[str]], int]) -> tuple[int, str, list[str]]:
    """(0-based line index of the header, delimiter, header cells)."""
    lines = _LINE_BREAK.split(text)[:HEADER_SEARCH_LINES]
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


# --------------------------------------------------------------------------------------------- chunks


@dataclasses.dataclass
class Chunk:
    """The bytes of some whole records of a CSV file (text in ``codec``) and where they are."""

    number: int
    data: bytes | memoryview
    quoted: bool
    codec: str
    end: int
    """Bytes of the file (of the decoded stream, for streamed files) read up to the end of this chunk."""
    start: int = 0
    """Where the chunk starts in the file (plain files: the chunk is the byte range ``start:end``)."""


def _quotes(data) -> int:
    """Number of ``"`` in ``data`` (bytes-like)."""
    if not len(data):
        return 0
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == 34))


def _boundary(buffer, start: int, stop: int, parity: int, terminator: bytes) -> int:
    """The first record boundary at or after ``start`` (an offset just after a line end outside quotes), or
    -1 if there is none before ``stop``. ``parity`` is the number of quotes before ``start`` modulo 2,
    counted from the start of the chunk (always a record boundary). A file whose head ends its lines with
    CR alone is cut at CRs, any other at LFs (which end a line however the file ends its lines). Quotes
    and line ends are found with ``find`` (memchr), so an unclosed quote costs one scan, not one per line."""
    position = start
    while True:
        if parity:  # inside quotes: only the closing quote matters
            quote = buffer.find(b'"', position, stop)
            if quote < 0:
                return -1
            position, parity = quote + 1, 0
            continue
        end = buffer.find(terminator, position, stop)
        if end < 0:
            return -1
        quote = buffer.find(b'"', position, end)
        if quote >= 0:  # a quote opens before the line ends
            position, parity = quote + 1, 1
            continue
        end += 1
        if terminator == b"\r":
            if end >= stop:
                return -1  # a LF may follow this CR
            if buffer[end : end + 1] == b"\n":
                end += 1
        return end


def _too_long(path: Path) -> FlowsError:
    return FlowsError(
        f'{path}: a record is longer than {MAX_RECORD >> 20} MiB; is an unclosed quote (") swallowing the '
        "rest of the file?"
    )


def _mapped_chunks(head: Head, size_of_chunk: int) -> Iterator[Chunk]:
    """Chunks of a plain file: byte ranges of a memory map (views, never copied)."""
    size = head.path.stat().st_size
    if size <= head.data_offset:
        return
    with head.path.open("rb") as handle:  # the mapping outlives the file handle
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    start, number = head.data_offset, 0
    while start < size:
        target = min(start + size_of_chunk, size)
        if target >= size:
            end = size
        else:
            quoted_before = mapped.find(b'"', start, target) >= 0
            parity = _quotes(memoryview(mapped)[start:target]) & 1 if quoted_before else 0
            stop = min(size, start + MAX_RECORD)
            end = _boundary(mapped, target, stop, parity, head.terminator)
            if end < 0:  # no line end of the head's kind: the file may change how it ends lines
                end = _boundary(mapped, target, stop, parity, b"\r" if head.terminator == b"\n" else b"\n")
            if end < 0:
                if stop < size:
                    raise _too_long(head.path)
                end = size
        view = memoryview(mapped)[start:end]
        yield Chunk(number, view, mapped.find(b'"', start, end) >= 0, head.codec, end, start)
        number += 1
        start = end


def _streamed_chunks(head: Head, digest=None) -> Iterator[Chunk]:
    """Chunks of a gzip or UTF-16 file, decompressed and decoded in one pass by the calling thread."""
    blocks = gunzip(head.path, head.size, digest=digest) if head.gzip else _file_blocks(head.path, digest)
    if head.encoding.startswith("utf-16"):
        blocks = _recoded(blocks, "utf-16")
    buffer = bytearray()
    skip, consumed, number = head.data_offset, 0, 0
    for block in blocks:
        if skip:
            taken = min(skip, len(block))
            block, skip = block[taken:], skip - taken
            consumed += taken
        buffer += block
        while len(buffer) >= CHUNK_BYTES:
            parity = _quotes(memoryview(buffer)[:CHUNK_BYTES]) & 1
            stop = min(len(buffer), MAX_RECORD)
            end = _boundary(buffer, CHUNK_BYTES, stop, parity, head.terminator)
            if end < 0:
                if len(buffer) >= MAX_RECORD:
                    raise _too_long(head.path)
                break
            data = bytes(buffer[:end])
            del buffer[:end]
            consumed += end
            yield Chunk(number, data, b'"' in data, head.codec, consumed)
            number += 1
    if buffer:
        data = bytes(buffer)
        consumed += len(data)
        yield Chunk(number, data, b'"' in data, head.codec, consumed)


def _file_blocks(path: Path, digest=None, block: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while data := handle.read(block):
            if digest is not None:
                digest.update(data)
            yield data


def _recoded(blocks: Iterator[bytes], codec: str) -> Iterator[bytes]:
    """Blocks of text in ``codec`` as UTF-8 (a character cut between two blocks is kept whole)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    for block in blocks:
        yield decoder.decode(block).encode("utf-8")
    rest = decoder.decode(b"", final=True)
    if rest:
        yield rest.encode("utf-8")


def csv_chunks(head: Head, digest=None, size: int | None = None) -> Iterator[Chunk]:
    """The data rows of a CSV file in chunks of whole records (of about ``size`` bytes, default
    :data:`CHUNK_BYTES`), in file order. A streamed file's bytes are hashed into ``digest`` as they are
    read (a plain file's chunks are views the caller can hash)."""
    if head.streamed:
        return _streamed_chunks(head, digest)
    return _mapped_chunks(head, size or CHUNK_BYTES)


# ------------------------------------------------------------------------------------------------ parse


@dataclasses.dataclass
class Invalid:
    """Records whose number of fields differs from the header's: their number among the chunk's non-empty
    records (1-based), their text, and how many fields they have."""

    number: list[int] = dataclasses.field(default_factory=list)
    text: list[str] = dataclasses.field(default_factory=list)
    fields: list[int] = dataclasses.field(default_factory=list)

    def __call__(self, row) -> str:
        self.number.append(int(row.number))
        self.text.append(str(row.text))
        self.fields.append(int(row.actual_columns))
        return "skip"


def parse(
    data,
    names: list[str],
    delimiter: str,
    quoted: bool,
    types: dict[str, pa.DataType] | None = None,
    include: list[str] | None = None,
    invalid: Invalid | None = None,
    skip_empty: bool = False,
) -> pa.Table:
    """One chunk of records parsed by pyarrow: every column as text unless ``types`` says otherwise.

    With ``invalid``, records with the wrong number of fields are collected there and empty lines are
    skipped; without it (the fast attempt), such a record is an error (``pyarrow.ArrowInvalid``), and so
    is a value that does not convert to its type, and so is an empty line unless ``skip_empty`` (an empty
    line would be a row of empty cells).
    """
    import pyarrow.csv as pacsv

    columns = include or names
    wanted = {c: (types or {}).get(c, pa.string()) for c in columns}
    return pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=len(data) + 1),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=quoted,
            ignore_empty_lines=invalid is not None or skip_empty,
            invalid_row_handler=invalid if invalid is not None else _refuse,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=wanted, include_columns=columns, strings_can_be_null=False, null_values=[]
        ),
    )


def _refuse(row) -> str:
    return "error"


def has_carriage_return(data, start: int = 0) -> bool:
    """True if ``data`` holds a CR, found by memchr: bytes, or a view of a memory map that begins at
    ``start`` in it (searched in the map, so the view is never copied)."""
    if isinstance(data, memoryview):
        if isinstance(data.obj, mmap.mmap):
            return data.obj.find(b"\r", start, start + len(data)) >= 0
        data = bytes(data)
    return data.find(b"\r") >= 0


def lf_lines(data) -> int:
    """Lines of ``data`` whose lines end with LF alone (a last line without one counts)."""
    if not len(data):
        return 0
    array = np.frombuffer(data, dtype=np.uint8)
    return int(np.count_nonzero(array == 10)) + (array[-1] != 10)


def line_count(data) -> int:
    """Physical lines in ``data`` (line ends LF, CRLF or CR; a last line without one counts)."""
    if not len(data):
        return 0
    array = np.frombuffer(data, dtype=np.uint8)
    ends = int(np.count_nonzero(array == 10))
    carriage = array == 13
    if carriage.any():
        ends += int(np.count_nonzero(carriage[:-1] & (array[1:] != 10))) + int(carriage[-1])
    return ends + (array[-1] not in (10, 13))


def record_lines(
    data, quoted: bool, records: int = -1, carriage: bool | None = None
) -> tuple[np.ndarray, int, int]:
    """(the 1-based line, within ``data``, on which each non-empty record starts; the lines in ``data``;
    the empty lines among them, which pyarrow skips). ``records``, if known, is how many records pyarrow
    found, and ``carriage`` whether ``data`` holds a CR (each saves a pass over the bytes in the usual
    case: LF line ends and as many records as lines).

    A record starts at a line start outside quotes; an empty line outside quotes is no record.
    """
    array = np.frombuffer(data, dtype=np.uint8)
    n = len(array)
    if not n:
        return np.zeros(0, dtype=np.int64), 0, 0
    newline = array == 10
    if carriage is False and not quoted:  # LF alone, no quotes: each non-empty line is a record
        lines = int(np.count_nonzero(newline)) + (not newline[-1])
        if records == lines:  # the usual case: record k is on line k
            return np.arange(1, lines + 1, dtype=np.int64), lines, 0
    carriage = array == 13
    if carriage.any():
        end = newline.copy()  # the last byte of each line end
        end[:-1] |= carriage[:-1] & ~newline[1:]
        end[-1] |= carriage[-1]
        terminator = newline | carriage
    else:  # LF alone: no more arrays as large as the chunk than needed
        end = terminator = newline
    del carriage
    start = np.empty(n, dtype=bool)  # bytes that begin a line
    start[0] = True
    start[1:] = end[:-1]
    if quoted:
        parity = np.bitwise_xor.accumulate((array == 34).view(np.uint8))
        outside = np.empty(n, dtype=bool)
        outside[0] = True
        outside[1:] = parity[:-1] == 0
        start &= outside
    empty = int(np.count_nonzero(start & terminator))
    starts = np.flatnonzero(start & ~terminator)
    lines = int(np.count_nonzero(end)) + (not end[-1])
    if not len(starts):
        return np.zeros(0, dtype=np.int64), lines, empty
    before_first = int(np.count_nonzero(end[: starts[0]]))
    between = np.add.reduceat(end.view(np.uint8), starts, dtype=np.int64)[:-1]
    line = np.empty(len(starts), dtype=np.int64)
    line[0] = before_first + 1
    line[1:] = before_first + 1 + np.cumsum(between)
    return line, lines, empty


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def shown(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters with control characters made visible, for messages."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return text if len(text) <= width else text[: width - 1] + "…"
