"""Read single cells: money amounts, HS codes, periods, partner names and codes.

Each reader works on a whole column and looks at every distinct text once, so a file of millions of rows
costs a few thousand Python calls. Readers return the clean value and, for cells that cannot be used, a
*kind* (a short code such as ``"suppressed"``) and a reason in words; an empty kind means the cell is
fine. Nothing is guessed: a cell is repaired only where there is exactly one sensible reading.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from tariffcalc.errors import suggest
from tariffcalc.read.tables import shown
from tariffcalc.reference import countries, hs

MAX_VALUE_USD = 1e15
"""Largest credible value of one flow row (USD): world merchandise trade is about 2.5e13 a year."""


@dataclasses.dataclass
class Distinct:
    """A column read once per distinct cell.

    ``ids`` maps each row to its distinct cell; per distinct cell, ``raw`` is the cell as text, ``value``
    the clean value, ``kind`` the problem ("" when the cell is fine) and ``reason`` the problem in words.
    """

    ids: np.ndarray
    raw: np.ndarray
    value: np.ndarray
    kind: np.ndarray
    reason: np.ndarray

    @classmethod
    def read(cls, column: pd.Series, one: Callable[[str], tuple[str, str, str]]) -> Distinct:
        """Apply ``one`` (text → (value, kind, reason)) to each distinct cell of ``column``."""
        ids, uniques = pd.factorize(column, use_na_sentinel=False)
        raw = np.array([as_text(u) for u in uniques], dtype=object)
        results = [one(t) for t in raw]
        value, kind, reason = (np.array([r[i] for r in results], dtype=object) for i in range(3))
        return cls(ids.astype(np.int64), raw, value, kind, reason)

    def rows(self, name: str) -> np.ndarray:
        """Per-row array of ``raw``, ``value``, ``kind`` or ``reason``."""
        return getattr(self, name)[self.ids]

    def take(self, index: np.ndarray) -> Distinct:
        """The same distinct cells for the rows ``index`` (e.g. a wide table's rows turned long)."""
        return dataclasses.replace(self, ids=self.ids[index])

    def key(self) -> np.ndarray:
        """Per row, an integer identifying its clean value (two spellings of one code share a key)."""
        return pd.factorize(self.value)[0][self.ids] if len(self.value) else self.ids

    @property
    def unchanged(self) -> bool:
        """True when every clean value is its raw cell (the column can be used as it is)."""
        return bool(np.array_equal(self.raw, self.value))


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


def comma_conflict(cells: pd.Series) -> tuple[int, int] | None:
    """For a text column read with a decimal comma because some cell proves it (``2,5``): the positions
    of the first such cell and of the first cell that the other format reads as a whole number with
    thousands separators (``1,500``: 1.5 here, 1500 there); None when there is no such pair."""
    text = cells.astype(str).str.strip()
    proof = text.str.fullmatch(_COMMA_EVIDENCE.pattern).to_numpy(dtype=bool)
    if not proof.any():
        return None
    other = text.str.fullmatch(_THOUSANDS_ONLY.pattern).to_numpy(dtype=bool)
    if not other.any():
        return None
    return int(np.argmax(proof)), int(np.argmax(other))


def read_money(
    cells: pd.Series, delimiter: str = ",", style: str | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Amounts of a column: (values as float, kinds, number format used).

    Float columns (Parquet) are taken as they are (a null is *missing*). Text is read with thousands
    separators (``1,234,567.89``; ``1.234.567,89`` in decimal-comma files; spaces), an optional ``$``,
    and ``(1,234)`` for a negative number. Non-finite numbers (``inf``, ``nan``) are *not_numeric*.
    Amounts are in the file's units; the caller scales them to USD.
    """
    n = len(cells)
    kind = np.full(n, "", dtype=object)
    if pd.api.types.is_float_dtype(cells.dtype) or pd.api.types.is_integer_dtype(cells.dtype):
        value = cells.to_numpy(dtype=float, na_value=np.nan, copy=True)
        kind[np.isnan(value)] = "missing"
        kind[np.isinf(value)] = "not_numeric"
        value[np.isinf(value)] = np.nan
        return value, kind, POINT
    text = cells.astype(str)
    value = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    slow = ~np.isfinite(value)
    if style is None:
        candidates = pd.unique(text[slow]) if slow.any() else []
        style = number_style([t for t in candidates if "," in t][:1000], delimiter)
    if style == COMMA:
        slow |= text.str.contains(".", regex=False).to_numpy()
    if slow.any():
        distinct = pd.unique(text[slow])
        parsed = {t: _number(t, style) for t in distinct}
        chosen = text[slow]
        value[slow] = chosen.map({t: v for t, (v, _) in parsed.items()}).to_numpy(dtype=float)
        kind[slow] = chosen.map({t: k for t, (_, k) in parsed.items()}).to_numpy(dtype=object)
    return value, kind, style


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


def read_codes(column: pd.Series) -> Distinct:
    """HS codes of a column; kinds "" (valid), "repaired" and "malformed".

    Dots and spaces that schedules print inside codes are removed where they sit between digit pairs
    (``8703.23.01``, ``0101.21.00.10``, ``8471.30.0100``). A code that lost its leading zero in a
    spreadsheet (``101210010``) is repaired to ``0101210010`` (kind ``"repaired"``) only when that is
    unambiguous: the cell is digits only, of odd length 3 to 9, does not start with 0, and one zero in
    front gives a code of 4/6/8/10 digits whose first four digits are an HS 2022 heading (chapters 01–09).
    A single digit is not repaired: every digit would make a chapter, so nothing confirms the reading.
    Anything else that is not 2/4/6/8/10 digits is ``"malformed"``.
    """

    def one(text: str) -> tuple[str, str, str]:
        code, kind, hint = _code(text)
        reason = (
            f"malformed HS code {shown(text, 20)} (need {LEVELS_TEXT}){hint}" if kind == "malformed" else ""
        )
        return code, kind, reason

    return Distinct.read(column, one)


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


def read_periods(column: pd.Series) -> Distinct:
    """Periods of a column as ``YYYY``/``YYYY-MM``; kind "bad_period" for others. A blank cell is no period."""

    def one(text: str) -> tuple[str, str, str]:
        text = text.strip()
        if not text:
            return "", "", ""
        clean = period(text)
        if clean is None:
            return text, "bad_period", f"period must be YYYY or YYYY-MM: {shown(text, 20)}"
        return clean, "", ""

    return Distinct.read(column, one)


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
"""The ``reason`` of an accepted partner cell that held a country name rather than a code (the kind is "",
so the row is kept; the reader counts these rows in a note)."""


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
        return named, "", NAMED_PARTNER.format(name=shown(text.strip()), code=named)
    try:
        hint = f" (did you mean {countries.to_iso3(code)!r}?)"
    except Exception:
        hint = suggest(code, known).replace(" Did you mean", " (did you mean").replace("?", "?)")
    return code, "unknown_partner", f"unknown partner {shown(code)!r}: use an ISO3 code{hint}"


def iso3_reasons(column: pd.Series) -> Distinct:
    """Partner ISO3 codes (upper-cased); unknown codes get a "did you mean"."""
    return Distinct.read(column, partner_code)


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


def name_reasons(column: pd.Series) -> Distinct:
    """Partner names or codes ("Korea, South", "Burma", "CHN") → ISO3."""
    return Distinct.read(column, partner_name)


def _census_code(text: str) -> tuple[str, str, str]:
    code = text.strip()
    padded = code.zfill(4) if code.isdigit() else code.upper()
    table = countries.census_codes()
    if padded in table:
        return table[padded], "", ""
    if padded in ("-", "") or padded.startswith("0") or "X" in padded:
        what = "all countries" if padded in ("-", "") else f"Census group {padded}"
        return "", "aggregate_partner", AGGREGATE_REASON.format(name=what)
    return "", "unknown_partner", f"unknown Census country code {shown(code)!r}"


def census_code_reasons(column: pd.Series) -> Distinct:
    """US Census country codes (``5700``, ``0003``, ``-``) → ISO3.

    ``-`` (all countries), codes starting with 0 (EU, Pacific Rim, USMCA, …) and codes with X (continents)
    are aggregates. Codes that lost leading zeros in a spreadsheet (``3``) are padded to four digits.
    """
    return Distinct.read(column, _census_code)
