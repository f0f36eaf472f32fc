"""The per-value validators: money amounts, HS codes, periods, partner names and codes, reporters.

Every path that reads flows (files of any layout, Parquet, DataFrames, Dask partitions) judges cells with
these functions and nothing else. A *judge* takes one cell as text and returns its clean value, a *kind*
("" when the cell is fine, ``"repaired"`` for a code repaired without doubt, else the problem, such as
``"malformed_hs"``) and a reason in words. :class:`Lookup` applies a judge to whole columns, judging each
distinct text once (a file of millions of rows costs a few thousand Python calls), and :func:`money`
reads amounts vectorised, looking at the few cells that are not plain numbers one distinct text at a
time. Nothing is guessed: a cell is repaired only where there is exactly one sensible reading.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tariffcalc.errors import UnknownCodeError, suggest
from tariffcalc.read.tables import shown
from tariffcalc.reference import countries, hs

Judge = Callable[[str], tuple[str, str, str]]
"""A per-value validator: cell text → (clean value, kind, reason)."""

MAX_VALUE_USD = 1e15
"""Largest credible value of one flow row (USD): world merchandise trade is about 2.5e13 a year."""


class Lookup:
    """A judge applied to whole columns: each distinct text is judged once, then looked up (thread-safe).

    Clean values get integer ids (``values[id]``) shared by every chunk read through the same lookup;
    rejected texts get the id -1, and their ``kind`` and ``reason`` are kept for the rejects ledger.
    Known texts are found by pyarrow (``index_in``), so only texts never seen before reach Python.
    """

    def __init__(self, judge: Judge):
        self.judge = judge
        self.values: list[str] = []
        self.ids: dict[str, int] = {}
        self.raw: list[str] = []
        self.kind: list[str] = []
        self.reason: list[str] = []
        self._id = np.zeros(0, dtype=np.intp)
        self._repaired = np.zeros(0, dtype=bool)
        self._known = pa.array([], pa.string())
        self._lock = threading.Lock()

    def intern(self, value: str) -> int:
        """The id of a clean value, given one if it is new (values judged elsewhere, e.g. on a Dask worker)."""
        with self._lock:
            return self._intern(value)

    def _intern(self, value: str) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found

    def take(self, ids: np.ndarray) -> np.ndarray:
        """The clean values behind ``ids`` (all >= 0), as an object array.

        Taken under the lock: another thread's chunk may be adding values meanwhile, and building an
        array from a list that grows underneath fails ("Content of sequences changed")."""
        if not len(ids):
            return np.zeros(0, dtype=object)
        with self._lock:
            known = np.array(self.values, dtype=object)
        return known[ids]

    def map(self, texts: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each of ``texts`` (text, no nulls): the id of its clean value (-1 if rejected), whether it was
        repaired, and its index into :attr:`raw`, :attr:`kind` and :attr:`reason`."""
        with self._lock:
            found = pc.index_in(texts, value_set=self._known)
            if found.null_count:
                new = pc.unique(pc.filter(texts, pc.is_null(found))).to_pylist()
                ids = np.empty(len(new), dtype=np.intp)
                repaired = np.zeros(len(new), dtype=bool)
                for i, text in enumerate(new):
                    value, kind, reason = self.judge(text)
                    good = kind in ("", "repaired")
                    ids[i] = self._intern(value) if good else -1
                    repaired[i] = kind == "repaired"
                    self.kind.append("" if good else kind)
                    self.reason.append(reason)
                self.raw.extend(new)
                self._id = np.concatenate([self._id, ids])
                self._repaired = np.concatenate([self._repaired, repaired])
                self._known = pa.array(self.raw, pa.string())
                found = pc.index_in(texts, value_set=self._known)
            index = found.to_numpy(zero_copy_only=False).astype(np.intp)
            return self._id[index], self._repaired[index], index


@dataclasses.dataclass
class Judged:
    """A column judged by a :class:`Lookup`: per row, the id of the clean value (-1 when rejected), whether
    it was repaired (None when no row was), and the index of its text in the lookup's ``raw``."""

    ids: np.ndarray
    repaired: np.ndarray | None
    raw: np.ndarray

    @property
    def bad(self) -> np.ndarray:
        return self.ids < 0


def as_strings(values: list) -> pa.Array:
    """Cells of any type as text (:func:`as_text`: a whole float is its digits, a missing cell is "")."""
    return pa.array([as_text(v) for v in values], pa.string())


def judge_column(lookup: Lookup, column: pa.Array | pa.ChunkedArray) -> Judged:
    """Judge every row of ``column`` (text, dictionary, or numbers read as text) through ``lookup``."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    dictionary, indices = column.dictionary, column.indices
    if pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type):
        texts = dictionary.cast(pa.string())
    else:
        texts = as_strings(dictionary.to_pylist())
    if indices.null_count:  # a missing cell is the text ""
        texts = pa.concat_arrays([texts, pa.array([""], pa.string())])
        indices = indices.fill_null(len(dictionary))
    ids, repaired, raw = lookup.map(texts)
    rows = indices.to_numpy(zero_copy_only=False)
    return Judged(ids[rows], repaired[rows] if repaired.any() else None, raw[rows])


def as_text(cell: object) -> str:
    """A cell as text: missing → "", a whole float (a Parquet code stored as a number) → its digits."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


# ------------------------------------------------------------------------------------------------ money

POINT = "1,234.56"
COMMA = "1.234,56"
"""The two number formats: decimal point (thousands , or space) and decimal comma (thousands . or space)."""

SUPPRESSED = frozenset(
    {"(d)", "(s)", "(x)", "(z)", "(na)", "(n)", "(w)", "..", "...", ":", "x", "c", "na", "n/a", "n.a."}
)
"""Cells that stand for a value the source withheld or does not have (lower case): Census "(D)"
(withheld to avoid disclosing a company's data), "(S)", "(X)", "(Z)", "(NA)"; UN/OECD ".."; Eurostat ":";
"x", "c" (confidential). Such a value is unknown: the row is rejected as *suppressed*, never read as 0."""

_GROUP = "[\u00a0\u202f' ]"
_POINT_NUMBER = re.compile(rf"\d{{1,3}}(?:(?:,|{_GROUP})\d{{3}})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+")
_COMMA_NUMBER = re.compile(rf"\d{{1,3}}(?:(?:\.|{_GROUP})\d{{3}})+(?:,\d+)?|\d+(?:,\d*)?|,\d+")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d+)?[eE][-+]?\d+")
_COMMA_EVIDENCE = re.compile(r"[-+($]*\d+,\d{1,2}\)?|[-+($]*\d+,\d{4,}\)?|[-+($]*\d{1,3}(?:\.\d{3})+,\d*\)?")
_POINT_EVIDENCE = re.compile(r"[-+($]*\d{1,3}(?:,\d{3}){2,}(?:\.\d*)?\)?|[-+($]*\d{1,3}(?:,\d{3})+\.\d*\)?")


def _number(text: str, style: str) -> tuple[float, str]:
    """One cell → (value, kind). Kinds: "" (a number), "missing", "suppressed", "not_numeric"."""
    cell = text.strip()
    if not cell:
        return np.nan, "missing"
    if cell.lower() in SUPPRESSED:
        return np.nan, "suppressed"
    negative = False
    if cell.startswith("(") and cell.endswith(")"):  # accounting style: (1,234) is -1,234
        negative, cell = True, cell[1:-1].strip()
    if cell[:1] in "+-":
        negative ^= cell[0] == "-"
        cell = cell[1:].strip()
    for currency in ("US$", "USD", "$"):
        cell = cell.removeprefix(currency).strip()
    if style == POINT and _SCIENTIFIC.fullmatch(cell):
        value = float(cell)
    elif (_POINT_NUMBER if style == POINT else _COMMA_NUMBER).fullmatch(cell):
        digits = re.sub(_GROUP, "", cell)
        digits = digits.replace(",", "") if style == POINT else digits.replace(".", "").replace(",", ".")
        value = float(digits)
    else:
        return np.nan, "not_numeric"
    return (-value if negative else value), ""


def number_style(texts: list[str], delimiter: str) -> str:
    """The number format of a file: what its cells prove, else the delimiter's custom (``;`` → comma)."""
    comma = any(_COMMA_EVIDENCE.fullmatch(t.strip()) for t in texts)
    point = any(_POINT_EVIDENCE.fullmatch(t.strip()) for t in texts)
    if comma != point:
        return COMMA if comma else POINT
    return COMMA if delimiter == ";" else POINT


_THOUSANDS_ONLY = re.compile(r"[-+($]*\d{1,3}(?:,\d{3})+\)?")


def comma_evidence(column: pa.Array) -> dict[str, tuple[int, str]]:
    """In a text column read with the decimal comma: the first cell that proves it (``2,5``: "proof")
    and the first that the other format reads as a whole number with thousands separators (``1,500``:
    1.5 here, 1500 there: "other"), as (row, cell); empty when the column has no such cells."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return {}
    text = pc.utf8_trim_whitespace(column.fill_null(""))
    out = {}
    for name, pattern in (("proof", _COMMA_EVIDENCE), ("other", _THOUSANDS_ONLY)):
        hits = np.flatnonzero(
            pc.match_substring_regex(text, f"^(?:{pattern.pattern})$").to_numpy(zero_copy_only=False)
        )
        if len(hits):
            out[name] = (int(hits[0]), text[int(hits[0])].as_py())
    return out


MONEY_KINDS = ("", "missing", "suppressed", "not_numeric")
"""Kinds of amount cells, by the codes :func:`money` returns (0: a number)."""


def _plain(array: pa.Array, dot: bool) -> np.ndarray:
    """True where a text cell is a plain number: ASCII digits with at most one ``.`` (if ``dot``)."""
    n = len(array)
    buffers = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(buffers[1], dtype=width)[array.offset : array.offset + n + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, np.uint8)
    body = data[offsets[0] : offsets[-1]]
    length = np.diff(offsets)
    plain = length > 0
    digit = (body >= 48) & (body <= 57)
    point = body == 46
    bad = ~(digit | point) if dot else ~digit
    if bad.any():
        plain[np.searchsorted(offsets, np.flatnonzero(bad) + offsets[0], side="right") - 1] = False
    if dot and point.any():
        rows = np.searchsorted(offsets, np.flatnonzero(point) + offsets[0], side="right") - 1
        points = np.bincount(rows, minlength=n)
        plain &= (points <= 1) & (length > points)
    return plain


def money(column: pa.Array | pa.ChunkedArray, style: str = POINT) -> tuple[np.ndarray, np.ndarray]:
    """Amounts of a column: (values as float, kind codes into :data:`MONEY_KINDS`).

    Number columns (Parquet) are taken as they are (a null or NaN is *missing*, an infinity *not a
    number*). Text is read with thousands separators (``1,234,567.89``; ``1.234.567,89`` in the
    decimal-comma ``style``; spaces), an optional ``$``, and ``(1,234)`` for a negative number; a blank cell
    is *missing*, ``(D)``, ``..`` and the like are *suppressed*, anything else that is not a finite number
    is *not a number*. Plain numbers are converted by pyarrow; every other cell is read by one function
    (:func:`_number`), once per distinct text. Amounts are in the file's units; callers scale them to USD.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    n = len(column)
    kind = np.zeros(n, dtype=np.uint8)
    if (
        pa.types.is_floating(column.type)
        or pa.types.is_integer(column.type)
        or pa.types.is_decimal(column.type)
    ):
        value = column.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(float, copy=True)
        kind[np.isnan(value)] = 1
        kind[np.isinf(value)] = 3
        value[np.isinf(value)] = np.nan
        return value, kind
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = as_strings(column.to_pylist())
    if column.null_count:
        column = column.fill_null("")
    plain = _plain(column, dot=style == POINT)
    if plain.all():
        value = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False).astype(float, copy=True)
        slow = ~np.isfinite(value)
    else:  # cells that are not plain numbers are read as "0" here, and by _number below
        safe = pc.if_else(pa.array(plain), column, pa.scalar("0", pa.string()))
        value = pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False).astype(float, copy=True)
        slow = ~plain | ~np.isfinite(value)
    if slow.any():
        rows = np.flatnonzero(slow)
        chosen = pc.take(column, pa.array(rows))
        encoded = chosen.dictionary_encode()
        parsed = [_number(t, style) for t in encoded.dictionary.to_pylist()]
        which = encoded.indices.to_numpy(zero_copy_only=False)
        value[rows] = np.array([v for v, _ in parsed], dtype=float)[which]
        kind[rows] = np.array([MONEY_KINDS.index(k) for _, k in parsed], dtype=np.uint8)[which]
    return value, kind


# ------------------------------------------------------------------------------------------------ codes

LEVELS_TEXT = "2, 4, 6, 8 or 10 digits"


def _code(text: str) -> tuple[str, str, str]:
    """One HS cell → (code, kind, hint). Kinds: "" (valid), "repaired", "malformed"."""
    cell = re.sub(r"[\s\u00a0]", "", text)
    if "." in cell:
        parts = cell.split(".")
        lengths = np.cumsum([len(p) for p in parts])
        digits = "".join(parts)
        if all(p.isdigit() for p in parts) and all(n % 2 == 0 for n in lengths) and is_code(digits):
            return digits, "", ""
        if all(p.isdigit() for p in parts) and len(parts) == 2 and set(parts[1]) == {"0"}:
            return cell, "malformed", " (a number with decimals: store codes as text)"
        if all(p.isdigit() for p in parts) and len(parts[0]) % 2:
            return (
                cell,
                "malformed",
                " (did it lose a leading zero in a spreadsheet? dotted codes are not repaired)",
            )
        return cell, "malformed", ""
    if is_code(cell):
        return cell, "", ""
    if cell.isdigit() and cell.isascii() and len(cell) == 1:
        return cell, "malformed", f" (a single digit is not repaired: write the chapter as 0{cell})"
    if cell.isdigit() and cell.isascii() and len(cell) % 2 and len(cell) < 10 and cell[0] != "0":
        candidate = "0" + cell
        if hs.in_nomenclature(candidate[:4]):
            return candidate, "repaired", ""
        return (
            cell,
            "malformed",
            f" (not repaired: {candidate[:4]}, with a leading zero, is not an HS heading)",
        )
    return cell, "malformed", ""


def is_code(text: str) -> bool:
    """True for 2, 4, 6, 8 or 10 ASCII digits."""
    return text.isascii() and text.isdigit() and len(text) in hs.LEVELS


def code(text: str) -> tuple[str, str, str]:
    """Judge of HS codes: kinds "" (valid), "repaired" and "malformed_hs".

    Dots and spaces that schedules print inside codes are removed where they sit between digit pairs
    (``8703.23.01``, ``0101.21.00.10``, ``8471.30.0100``). A code that lost its leading zero in a
    spreadsheet (``101210010``) is repaired to ``0101210010`` (kind ``"repaired"``) only when that is
    unambiguous: the cell is digits only, of odd length 3 to 9, does not start with 0, and one zero in
    front gives a code of 4/6/8/10 digits whose first four digits are an HS 2022 heading (chapters 01–09).
    A single digit is not repaired: every digit would make a chapter, so nothing confirms the reading.
    A number written with decimals (``101210010.0``, ``90111.0``) and dots that do not sit between digit
    pairs (``847.1``, ``8.7.0.3``) are malformed: their digits cannot be trusted.
    Anything else that is not 2/4/6/8/10 digits is ``"malformed_hs"``.
    """
    clean, kind, hint = _code(text)
    if kind == "malformed":
        return clean, "malformed_hs", f"malformed HS code {shown(text, 20)} (need {LEVELS_TEXT}){hint}"
    return clean, kind, ""


# ----------------------------------------------------------------------------------------------- periods

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_YEAR_MONTH = re.compile(r"(\d{4})\s*(?:[-/.m]|\s)\s*(\d{1,2})|(\d{4})(\d{2})")
_YEAR_NAME = re.compile(r"(\d{4})\s*-?\s*([a-z]+)\.?")
_NAME_YEAR = re.compile(r"([a-z]+)\.?\s*-?\s*(\d{4})")
_YEAR = re.compile(r"(?:(?:year|yr|cy)\s*)?(\d{4})")


def period(text: str) -> str | None:
    """``YYYY`` or ``YYYY-MM`` for the usual ways of writing a year or a month, else None.

    Accepted: ``2024``, ``Year 2024``, ``2024-01``, ``2024/1``, ``2024M01``, ``202401``, ``Jan 2024``,
    ``January 2024``, ``2024 - January``. Years 1900–2099, months 1–12.
    """
    cell = " ".join(str(text).split()).lower()
    year = month = None
    if match := _YEAR.fullmatch(cell):
        year = match.group(1)
    elif match := _YEAR_MONTH.fullmatch(cell):
        year, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        month = int(month)
    elif (match := _YEAR_NAME.fullmatch(cell)) and match.group(2) in _MONTHS:
        year, month = match.group(1), _MONTHS[match.group(2)]
    elif (match := _NAME_YEAR.fullmatch(cell)) and match.group(1) in _MONTHS:
        year, month = match.group(2), _MONTHS[match.group(1)]
    if year is None or not 1900 <= int(year) <= 2099 or (month is not None and not 1 <= month <= 12):
        return None
    return year if month is None else f"{year}-{month:02d}"


def period_of(text: str) -> tuple[str, str, str]:
    """Judge of periods: ``YYYY`` or ``YYYY-MM`` (see :func:`period`); a blank cell is no period (valid)."""
    text = text.strip()
    if not text:
        return "", "", ""
    clean = period(text)
    if clean is None:
        return text, "bad_period", f"period must be YYYY or YYYY-MM: {shown(text, 20)}"
    return clean, "", ""


class Reporter:
    """Judge of reporter cells: blank, or a name or code of ``importer`` ("usa", "United States")."""

    def __init__(self, importer: str):
        self.importer = importer

    def __call__(self, text: str) -> tuple[str, str, str]:
        text = text.strip()
        if not text:
            return self.importer, "", ""
        try:
            who = countries.to_iso3(text)
        except UnknownCodeError:
            who = text.upper()
        if who == self.importer:
            return who, "", ""
        return who, "other_reporter", f"reporter {who} is not the scenario's importer {self.importer}"


# ---------------------------------------------------------------------------------------------- partners

AGGREGATE_NAMES = frozenset(
    {
        "world",
        "total",
        "all countries",
        "total for all countries",
        "world total",
        "world, seasonally adjusted",
        "world, not seasonally adjusted",
        "european union",
        "european union (sum of eu-27)",
        "eu",
        "eu-27",
        "eu27",
        "euro area",
        "europe",
        "asia",
        "africa",
        "north america",
        "south america",
        "south and central america",
        "central america",
        "australia and oceania",
        "sub saharan africa",
        "pacific rim",
        "pacific rim countries",
        "cafta-dr",
        "usmca",
        "opec",
        "apec",
        "asean",
        "nato",
        "advanced technology products",
        "twenty latin american republics",
        "areas, nes",
        "other asia, nes",
    }
)
"""Names of country groups and totals (lower case) that appear in Census, DataWeb and UN tables."""

AGGREGATE_REASON = (
    "aggregate partner {name}: a total of other rows, not a country (left out so nothing is counted twice)"
)


def _aggregate_name(name: str) -> bool:
    key = " ".join(name.split()).lower()
    return key in AGGREGATE_NAMES or key.startswith(("total", "usmca with", "world")) or key.endswith(", nes")


AGGREGATE_PRODUCTS = frozenset(
    {"total", "-", "all", "all commodities", "all merchandise", "total all commodities"}
)
"""Product cells that stand for the total of all products (lower case): Census ``-``, Comtrade ``TOTAL``."""


def aggregate_products(cells: pd.Series) -> np.ndarray:
    """True where a product cell is a total of all products rather than a code."""
    key = cells.astype(str).str.strip().str.lower()
    return (key.isin(AGGREGATE_PRODUCTS) | key.str.startswith("total")).to_numpy(dtype=bool)


NAMED_PARTNER = "partner name {name!r} read as {code}"
"""The ``reason`` of an accepted partner cell that held a country name rather than a code (the kind is
"repaired", so the row is kept; the reader counts these rows in a note)."""


def partner_code(text: str) -> tuple[str, str, str]:
    """An ISO3 cell → (code, kind, reason); a country name that the bundled table maps to one code
    ("Vietnam", "Korea, South") is accepted as that code, with the recoding in ``reason``."""
    code = text.strip().upper()
    known = countries.partner_names()
    if code in known:
        return code, "", ""
    if not code:
        return code, "unknown_partner", "missing partner"
    if _aggregate_name(code):
        return code, "aggregate_partner", AGGREGATE_REASON.format(name=repr(shown(code)))
    named = countries.name_to_iso3(text)
    if named is not None:  # a country name the bundled table maps to one code: accepted, and counted
        return named, "repaired", NAMED_PARTNER.format(name=shown(text.strip()), code=named)
    try:
        hint = f" (did you mean {countries.to_iso3(code)!r}?)"
    except Exception:
        hint = suggest(code, known).replace(" Did you mean", " (did you mean").replace("?", "?)")
    return code, "unknown_partner", f"unknown partner {shown(code)!r}: use an ISO3 code{hint}"


def partner_name(text: str) -> tuple[str, str, str]:
    """A country name or code → (ISO3, kind, reason)."""
    name = text.strip()
    if not name:
        return "", "unknown_partner", "missing partner"
    try:
        return countries.to_iso3(name), "", ""
    except Exception:
        pass
    if _aggregate_name(name):
        return "", "aggregate_partner", AGGREGATE_REASON.format(name=repr(shown(name)))
    hint = suggest(name, countries.partner_names().values())
    hint = hint.replace(" Did you mean", " (did you mean").replace("?", "?)")
    return "", "unknown_partner", f"unknown partner {shown(name)!r}{hint}"


def census_code(text: str) -> tuple[str, str, str]:
    """A US Census country code (``5700``, ``0003``, ``-``) → ISO3; groups and totals are aggregates.

    ``-`` (all countries), codes starting with 0 (EU, Pacific Rim, USMCA, …) and codes with X (continents)
    are aggregates. Codes that lost leading zeros in a spreadsheet (``3``) are padded to four digits.
    """
    code = text.strip()
    padded = code.zfill(4) if code.isdigit() else code.upper()
    table = countries.census_codes()
    if padded in table:
        return table[padded], "", ""
    if padded in ("-", "") or padded.startswith("0") or "X" in padded:
        what = "all countries" if padded in ("-", "") else f"Census group {padded}"
        return "", "aggregate_partner", AGGREGATE_REASON.format(name=what)
    return "", "unknown_partner", f"unknown Census country code {shown(code)!r}"
