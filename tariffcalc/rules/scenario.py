"""Scenario files: parse TOML, validate every key, resolve ``extends``, find bundled scenarios.

A scenario is a list of *measures* (one tariff action each: who, what, how much, when, on what legal
basis). The file format is documented in ``docs/scenarios.md``. Everything a user can get wrong is
checked here, before any data is read, and reported with the file, the line and a suggestion.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tariffcalc.errors import ScenarioError, UnknownCodeError, one_line, os_reason, suggest
from tariffcalc.reference import bundled, countries, hs

MAX_RATE = 10.0
"""Highest ad valorem rate accepted (1000 %); anything above is almost certainly a typo."""

ALL = "all"

TOP_LEVEL_KEYS = (
    "parameters",
    "name",
    "title",
    "description",
    "importer",
    "extends",
    "as_of",
    "sources",
    "measure",
    "remove_measures",
    "stacking",
    "documented_to",
)
MEASURE_KEYS = (
    "id",
    "authority",
    "citation",
    "note",
    "override",
    "rate",
    "rates",
    "high_rates",
    "observed",
    "partners",
    "exclude_partners",
    "products",
    "exclude_products",
    "effective",
    "expires",
    "preempted_by",
    "applies_to_share",
    "in_baseline",
    "in_baseline_rates",
    "all_in",
    "value_share",
    "preempts_only_share",
    "usmca_exempt",
    "usmca_exempt_from",
    "usmca_value_share",
    "status",
    "status_note",
    "basis",
    "source",
    "unsourced",
)
STACKING_KEYS = ("order", "effective", "expires", "citation", "source", "note")
STATUSES = ("in-force", "announced", "suspended", "struck-down")
"""A measure's legal status: ``announced`` and ``suspended`` measures never apply; ``struck-down`` ones
apply on their dates (duties collected before the courts ended them) and ``explain`` says so."""
BASES = (
    "IEEPA",
    "Section 232",
    "Section 301",
    "Section 122",
    "Section 201",
    "Section 338",
    "MFN/observed",
    "other",
)
"""Legal authorities that ``by_authority.csv`` groups duties by."""
OBSERVED_TABLES = ("us-2024",)
"""Names of observed duty-rate tables a measure can use (``observed = "us-2024"``): see schedule.py."""

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
"""A scenario name: an id (letters, digits, '-', '_'), never a path: it names folders (reports/<name>)."""
MAX_EXTENDS = 32
"""How many scenarios an ``extends`` chain may hold above a file; deeper chains are an error."""
MAX_NESTING = 100
"""Deepest nesting of arrays and tables a scenario file may have (tomllib recurses once per level)."""


@dataclasses.dataclass(frozen=True)
class ScopeEntry:
    """One HS prefix of a product scope, the days it counts (``effective`` ≤ day < ``expires``) and where
    it was listed."""

    prefix: str
    effective: dt.date | None
    source: str
    expires: dt.date | None = None

    def counts_on(self, on: dt.date) -> bool:
        return (self.effective is None or self.effective <= on) and (
            self.expires is None or on < self.expires
        )


@dataclasses.dataclass(frozen=True)
class ValueShare:
    """The share of customs value a measure charges: a constant, or a column of a table by HS code
    (e.g. the aluminium content of each HTS10). ``label`` says where it comes from."""

    constant: float | None = None
    file: Path | None = None
    column: str = ""
    label: str = ""


@dataclasses.dataclass(frozen=True)
class Stacking:
    """A dated stacking order: while in force, a measure later in ``order`` does not apply where an
    earlier one covers the good (on the share of value the earlier one charges, when that one says
    ``preempts_only_share``)."""

    order: tuple[str, ...]
    citation: str
    effective: dt.date | None = None
    expires: dt.date | None = None
    source: tuple[str, ...] = ()
    note: str = ""

    def in_force(self, on: dt.date) -> bool:
        return (self.effective is None or self.effective <= on) and (
            self.expires is None or on < self.expires
        )


@dataclasses.dataclass(frozen=True)
class Measure:
    """One tariff measure. Rates are ad valorem fractions of customs value (0.25 = 25 %).

    ``partners``/``products`` of ``None`` mean "every partner"/"every product". ``rates`` maps ISO3 codes
    or group names (``EU``) to rates; a partner's own rate beats its group's, which beats ``rate``.
    ``in_baseline`` is the part of the rate that the observed 2024 duties already contain, so only the
    difference is added; ``applies_to_share`` is the fraction of covered value that pays the measure.
    """

    id: str
    authority: str
    citation: str
    scenario: str
    note: str = ""
    rate: float | None = None
    rates: Mapping[str, float] = dataclasses.field(default_factory=dict)
    observed: str | None = None
    partners: tuple[str, ...] | None = None
    exclude_partners: tuple[str, ...] = ()
    products: tuple[ScopeEntry, ...] | None = None
    exclude_products: tuple[ScopeEntry, ...] = ()
    effective: dt.date | None = None
    expires: dt.date | None = None
    preempted_by: tuple[str, ...] = ()
    applies_to_share: float = 1.0
    in_baseline: float = 0.0
    in_baseline_rates: Mapping[str, float] = dataclasses.field(default_factory=dict)
    all_in: bool = False
    """The rate is the total a good pays, its MFN duty included: the measure tops the good's base rate
    (its observed 2024 rate) up to the rate and adds nothing where the base is already higher."""
    value_share: ValueShare | None = None
    """The share of customs value the measure charges (metal content, non-US content); None: all of it."""
    preempts_only_share: bool = False
    """Where this measure pre-empts another, it does so only on the share of value it charges (a Section
    232 derivative charged on its metal content leaves the rest of the good to the other duties)."""
    usmca_exempt: bool = False
    """Canadian and Mexican goods entered under USMCA preference are exempt: the measure charges the
    share of each HTS10's value not claimed under USMCA in the month (bundled ``usmca_shares.parquet``)."""
    usmca_exempt_from: dt.date | None = None
    """First day of the USMCA exemption when it started later than the measure (None: from the start)."""
    usmca_value_share: float | None = None
    """With ``usmca_exempt``: the share of a USMCA-claimed good's value that is still charged, a fraction
    (the non-US content of a USMCA car, Proclamation 10908); None: a claimed good is wholly exempt."""
    status: str = "in-force"
    status_note: str = ""
    basis: str = "other"
    """The legal authority (one of :data:`BASES`), for ``by_authority.csv`` and refunds."""
    source: tuple[str, ...] = ()
    """Where the measure's dates and rates were read (URLs)."""
    unsourced: bool = False
    """True when no source could be found for the measure; said in ``explain`` and the docs."""

    def in_force(self, on: dt.date) -> bool:
        """True when the measure is in force on ``on`` (``effective`` ≤ on < ``expires``) and is neither
        merely announced nor suspended."""
        if self.status in ("announced", "suspended"):
            return False
        return (self.effective is None or self.effective <= on) and (
            self.expires is None or on < self.expires
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view for manifests and ``scenarios show`` (product files summarised by source)."""

        def scope(entries: tuple[ScopeEntry, ...] | None) -> Any:
            if entries is None:
                return ALL
            by_source: dict[str, list[str]] = {}
            for entry in entries:
                by_source.setdefault(entry.source, []).append(entry.prefix)
            return {
                source: (codes if len(codes) <= 12 else f"{len(codes)} codes")
                for source, codes in by_source.items()
            }

        out = {
            "id": self.id,
            "authority": self.authority,
            "citation": self.citation,
            "from_scenario": self.scenario,
            "rate": self.rate,
            "rates": dict(self.rates),
            "observed": self.observed,
            "partners": ALL if self.partners is None else list(self.partners),
            "exclude_partners": list(self.exclude_partners),
            "products": scope(self.products),
            "exclude_products": scope(self.exclude_products),
            "effective": self.effective.isoformat() if self.effective else None,
            "expires": self.expires.isoformat() if self.expires else None,
            "preempted_by": list(self.preempted_by),
            "applies_to_share": self.applies_to_share,
            "in_baseline": self.in_baseline,
            "in_baseline_rates": dict(self.in_baseline_rates),
            "all_in": self.all_in or None,
            "value_share": _share_text(self.value_share),
            "preempts_only_share": self.preempts_only_share or None,
            "usmca_exempt": self.usmca_exempt or None,
            "usmca_exempt_from": self.usmca_exempt_from.isoformat() if self.usmca_exempt_from else None,
            "usmca_value_share": self.usmca_value_share,
            "status": self.status if self.status != "in-force" else None,
            "status_note": self.status_note,
            "basis": self.basis,
            "source": list(self.source),
            "unsourced": self.unsourced or None,
            "note": self.note,
        }
        return {key: value for key, value in out.items() if value not in (None, "", [], {})}


def _share_text(share: ValueShare | None) -> str | None:
    if share is None:
        return None
    if share.constant is not None:
        return f"{share.constant:g}"
    return share.label


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A resolved scenario: its own measures plus everything inherited through ``extends``."""

    name: str
    title: str
    description: str
    importer: str
    as_of: dt.date
    measures: tuple[Measure, ...]
    sources: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()
    path: Path | None = None
    warnings: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The ``[parameters]`` table of the response model (merged through ``extends``; see docs/model.md)."""
    stacking: tuple[Stacking, ...] = ()
    """Dated stacking orders (``[[stacking]]`` blocks), inherited through ``extends``."""
    documented_to: dt.date | None = None
    """The last date the scenario's sources document; a run after it warns."""
    dated: bool = False
    """True when ``as_of = "today"``: the scenario is a dated rulebook evaluated on any date."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):  # also for scenarios built in code: the name names folders
            raise ScenarioError(
                f"Scenario name {self.name!r} is not an id: use letters, digits, '-' and '_' (at most 100)."
            )

    def date_warnings(self, on: dt.date) -> tuple[str, ...]:
        """A warning when ``on`` lies after the last date the scenario's sources document."""
        if self.documented_to is not None and on > self.documented_to:
            return (
                f"{self.name} documents measures up to {self.documented_to.isoformat()}; for "
                f"{on.isoformat()} it assumes nothing changed after that date.",
            )
        return ()

    def stacking_preemptors(self, measure_id: str, on: dt.date) -> tuple[str, ...]:
        """Measures that rank before ``measure_id`` in a stacking order in force on ``on``."""
        out: list[str] = []
        for block in self.stacking:
            if block.in_force(on) and measure_id in block.order:
                out += [m for m in block.order[: block.order.index(measure_id)] if m not in out]
        return tuple(out)

    def measure(self, measure_id: str) -> Measure:
        """The measure with id ``measure_id`` (ScenarioError with a suggestion when absent)."""
        for measure in self.measures:
            if measure.id == measure_id:
                return measure
        raise ScenarioError(
            f"Scenario {self.name!r} has no measure {measure_id!r}."
            + suggest(measure_id, [m.id for m in self.measures])
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-data view of the resolved scenario (used in manifest.json and ``scenarios show``)."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "importer": self.importer,
            "as_of": self.as_of.isoformat(),
            "extends": list(self.lineage[1:]),
            "file": str(self.path) if self.path else None,
            "sources": list(self.sources),
            "parameters": {k: str(v) if isinstance(v, Path) else v for k, v in self.parameters.items()},
            "measures": [m.to_dict() for m in self.measures],
            "stacking": [
                {
                    "order": list(s.order),
                    "citation": s.citation,
                    "effective": s.effective.isoformat() if s.effective else None,
                    "expires": s.expires.isoformat() if s.expires else None,
                }
                for s in self.stacking
            ],
            "documented_to": self.documented_to.isoformat() if self.documented_to else None,
        }


# --------------------------------------------------------------------------------------------- registry


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False for a name the file system cannot even look up (too long, a NUL byte)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _unknown(text: str) -> ScenarioError:
    known = bundled.bundled_scenarios()
    return ScenarioError(
        f"Unknown scenario {text!r}: give a bundled name ({', '.join(known)}) or a path to a .toml file."
        + suggest(text, known)
    )


def _find(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """The file of a scenario: a bundled name or a path given by the user (``relative_to`` None), or a
    name or path written in a scenario file in ``relative_to``, which must stay inside that folder (or be
    a bundled name)."""
    text = str(name_or_path)
    if not text.strip() or "\x00" in text:
        raise ScenarioError(
            f"{text!r} is not a scenario: give a bundled name or a path to a .toml file "
            "(without control characters)."
        )
    if relative_to is None:
        candidate = Path(text)
        if text.endswith(".toml") or _is_file(candidate):
            if _is_file(candidate):
                return candidate
            if candidate.is_dir():
                raise ScenarioError(f"{text!r} is a folder, not a scenario file.")
            raise ScenarioError(f"Scenario file {text!r} does not exist.")
        known = bundled.bundled_scenarios()
        if text in known:
            return known[text]
        raise _unknown(text)
    folder = relative_to.resolve()
    for name in (text,) if text.endswith(".toml") else (f"{text}.toml",):
        candidate = relative_to / name
        if not candidate.resolve().is_relative_to(folder):
            raise ScenarioError(
                f"{text!r} points outside the scenario's folder; copy it next to the scenario file "
                "(paths in a scenario file cannot leave its folder)."
            )
        if _is_file(candidate):
            return candidate
    known = bundled.bundled_scenarios()
    if text in known:
        return known[text]
    if text.endswith(".toml"):
        raise ScenarioError(f"Scenario file {text!r} does not exist next to the scenario.")
    raise _unknown(text)


def _name_of(path: Path) -> str:
    """The default name of a scenario file: its file name without .toml, as an id."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-")[:100] or "scenario"


def read_text(path: Path, what: str = "scenario file") -> str:
    """The text of a TOML file, or a :class:`ScenarioError` that says what is wrong with it (cannot be
    read, not UTF-8 text, arrays or tables nested too deeply to parse) and where."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the {what}: {os_reason(exc)}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}:{line}: the {what} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8."
        ) from None
    depth = _nesting(text)
    if depth > MAX_NESTING:
        raise ScenarioError(
            f"{path}: the {what} nests arrays or tables {depth} levels deep; at most {MAX_NESTING} are read."
        )
    return text


def parse_toml(path: Path, text: str, what: str = "scenario file") -> dict[str, Any]:
    """``tomllib.loads(text)``; :class:`ScenarioError` if nesting still exhausts the recursion limit.
    (A TOML syntax error is left to the caller, which points at its line.)"""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(
            f"{path}: the {what} nests arrays or tables too deeply to read; at most {MAX_NESTING} levels."
        ) from None


def read_toml(path: Path, what: str = "scenario file") -> dict[str, Any]:
    """The data of a TOML file; any problem reading it is a :class:`ScenarioError` naming the file."""
    text = read_text(path, what)
    try:
        return parse_toml(path, text, what)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}.") from None


_STRINGS_AND_COMMENTS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*'
)


def _nesting(text: str) -> int:
    """How deep ``[`` and ``{`` nest in TOML ``text`` (outside strings and comments)."""
    depth = deepest = 0
    for char in re.sub(r"[^\[\]{}]", "", _STRINGS_AND_COMMENTS.sub("", text)):
        depth = depth + 1 if char in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def load_scenario(name_or_path: str | Path, relative_to: Path | None = None) -> Scenario:
    """Load a bundled scenario by name (``"liberation-day"``) or a scenario file by path, resolving ``extends``.

    With ``relative_to`` (the folder of a file that names the scenario), a path must stay inside it.
    """
    return _load(_find(name_or_path, relative_to), chain=())


# ---------------------------------------------------------------------------------------------- parsing


class _Reader:
    """Validates one scenario file and knows where its keys are, for messages that point at a line."""

    def __init__(self, path: Path):
        self.path = path
        self.warnings: list[str] = []
        self.text = read_text(path)
        self.lines = self.text.splitlines()
        try:
            self.data = parse_toml(path, self.text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(self._toml_message(exc)) from None

    def _toml_message(self, exc: tomllib.TOMLDecodeError) -> str:
        """A TOML syntax error pointing at its line; a date not written YYYY-MM-DD is named as such."""
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        if at is None or not 0 < int(at.group(1)) <= len(self.lines):
            return f"{self.path}: not valid TOML: {exc}."
        number = int(at.group(1))
        line = self.lines[number - 1].split("#")[0].strip()
        key, _, value = line.partition("=")
        if re.fullmatch(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", value.strip()):
            return (
                f"{self.path}:{number}: {key.strip()!r} = {value.strip()} is not a date: "
                "write YYYY-MM-DD with two-digit month and day (e.g. 2025-04-09)."
            )
        return f"{self.path}:{number}: not valid TOML: {exc}."

    def _measure_start(self, index: int) -> int:
        seen = -1
        for number, line in enumerate(self.lines):
            if line.strip().startswith("[[measure]]"):
                seen += 1
                if seen == index:
                    return number
        return 0

    def line_of(self, key: str, measure_index: int | None = None) -> int | None:
        """1-based line where ``key`` is set (inside the given [[measure]] block), if it can be found."""
        start = 0 if measure_index is None else self._measure_start(measure_index) + 1
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if measure_index is not None and line.strip().startswith("[["):
                break
            if measure_index is None and line.strip().startswith("[[measure]]"):
                break
            if pattern.match(line):
                return number + 1
        return None if measure_index is None else self._measure_start(measure_index) + 1

    def where(self, key: str, measure_index: int | None = None) -> str:
        line = self.line_of(key, measure_index)
        return f"{self.path}:{line}" if line else str(self.path)

    def fail(self, message: str, key: str, measure_index: int | None = None) -> ScenarioError:
        return ScenarioError(f"{self.where(key, measure_index)}: {message}")

    def check_keys(
        self, table: Mapping[str, Any], allowed: tuple[str, ...], measure_index: int | None
    ) -> None:
        for key in table:
            if key not in allowed:
                what = "measure key" if measure_index is not None else "scenario key"
                raise self.fail(f"unknown {what} {key!r}." + suggest(key, allowed), key, measure_index)

    # -- typed getters ------------------------------------------------------------------------------

    def text_value(
        self, table: Mapping[str, Any], key: str, index: int | None, required: bool = False
    ) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            raise self.fail(f"{key!r} must be text in quotes, not {value!r}.", key, index)
        if required and not value.strip():
            raise self.fail(f"{key!r} is required and must not be empty.", key, index)
        return value.strip()

    def date_value(self, table: Mapping[str, Any], key: str, index: int | None) -> dt.date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(
            f"{key!r} must be a date written YYYY-MM-DD (e.g. 2025-04-09), not {value!r}.", key, index
        )

    def rate_value(self, value: Any, key: str, index: int, high_rates: bool, label: str = "") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(
                f"{key}{label} must be a number (a fraction: 0.25 = 25 %), not {value!r}.", key, index
            )
        rate = float(value)
        if not 0.0 <= rate <= MAX_RATE:
            hint = f" For {value} % write {rate / 100:g}." if 1.0 < rate <= 100.0 else ""
            raise self.fail(
                f"{key}{label} = {value} is outside [0, {MAX_RATE:g}]; rates are fractions (0.25 = 25 %).{hint}",
                key,
                index,
            )
        if rate > 1.0 and not high_rates:
            self.warnings.append(
                f"{self.where(key, index)}: {key}{label} = {value} means {rate:.0%}; if you meant {value}% write "
                f"{rate / 100:g}, if you do mean it add `high_rates = true` to the measure."
            )
        return rate

    def partner_list(self, table: Mapping[str, Any], key: str, index: int) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None or value == ALL:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(
                f'{key!r} must be "all" or a list of ISO3 codes or groups, e.g. ["CHN", "EU"].', key, index
            )
        for code in value:
            self.check_partner(code, key, index)
        duplicates = sorted({code for code in value if value.count(code) > 1})
        if duplicates:
            raise self.fail(f"{key!r} lists {', '.join(duplicates)} more than once.", key, index)
        return tuple(value)

    def check_partner(self, code: str, key: str, index: int) -> None:
        if countries.is_partner(code) or code in countries.group_names():
            return
        hint = suggest(code, [*countries.partner_names(), *countries.group_names()])
        if not hint:
            try:
                hint = f" Did you mean {countries.to_iso3(code)!r}?"
            except UnknownCodeError:
                close = countries.closest(code)
                hint = f" Did you mean {close[0]!r} ({close[1]})?" if close else ""
        raise self.fail(
            f"unknown partner or group {code!r} in {key!r}: use ISO3 codes or a group (EU).{hint}", key, index
        )

    def id_list(self, table: Mapping[str, Any], key: str, index: int) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f'{key!r} must be a list of measure ids, e.g. ["s232-autos"].', key, index)
        return tuple(value)

    def rate_table(
        self, table: Mapping[str, Any], key: str, index: int, high_rates: bool
    ) -> dict[str, float]:
        value = table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(
                f"{key!r} must be a table of partner = rate, e.g. {{ CHN = 0.34, EU = 0.20 }}.", key, index
            )
        out = {}
        for code, rate in value.items():
            self.check_partner(code, key, index)
            out[code] = self.rate_value(rate, key, index, high_rates, label=f".{code}")
        return out

    def product_scope(self, table: Mapping[str, Any], key: str, index: int) -> tuple[ScopeEntry, ...] | None:
        value = table.get(key)
        if value is None or value == ALL:
            return None
        items = value if isinstance(value, list) else [value]
        entries: list[ScopeEntry] = []
        inline: list[str] = []
        for item in items:
            if isinstance(item, str):
                code = hs.normalise(item)
                if not hs.is_valid(code):
                    raise self.fail(
                        f"{key!r}: {item!r} is not an HS code (2, 4, 6, 8 or 10 digits, as text in quotes).",
                        key,
                        index,
                    )
                inline.append(code)
                entries.append(ScopeEntry(code, None, "inline"))
            elif isinstance(item, dict):
                entries.extend(self.product_file(item, key, index))
            else:
                raise self.fail(
                    f'{key!r} items must be HS codes in quotes ("8703") or {{ file = "list.csv" }}, not {item!r}.',
                    key,
                    index,
                )
        duplicates = sorted({code for code in inline if inline.count(code) > 1})
        if duplicates:
            raise self.fail(f"{key!r} lists {', '.join(duplicates)} more than once.", key, index)
        return tuple(entries)

    def product_file(self, item: Mapping[str, Any], key: str, index: int) -> list[ScopeEntry]:
        unknown = set(item) - {"file", "label"}
        if unknown or "file" not in item:
            raise self.fail(
                f'{key!r}: a product file is written {{ file = "name.csv", label = "..." }}.', key, index
            )
        path = self.resolve_list(item["file"], key, index)
        label = str(item.get("label") or path.name)
        frame = self.read_csv(path, key, index, "product file")
        if "hs" not in frame.columns:
            raise self.fail(
                f"product file {path} has no 'hs' column (found: {_shown(frame.columns)}).", key, index
            )
        entries = []
        blank = [""] * len(frame)
        starts = frame["effective"] if "effective" in frame.columns else blank
        ends = frame["expires"] if "expires" in frame.columns else blank
        for line, (code, effective, expires) in enumerate(
            zip(frame["hs"], starts, ends, strict=True), start=2
        ):
            code = hs.normalise(code)
            if not hs.is_valid(code):
                raise ScenarioError(f"{path}:{line}: {code!r} is not an HS code (2-10 digits, even length).")
            dates = []
            for column, text in (("effective", effective), ("expires", expires)):
                try:
                    dates.append(dt.date.fromisoformat(text) if text else None)
                except ValueError:
                    raise ScenarioError(f"{path}:{line}: {column} date {text!r} is not YYYY-MM-DD.") from None
            entries.append(ScopeEntry(code, dates[0], label, dates[1]))
        return entries

    def value_share(self, table: Mapping[str, Any], index: int) -> ValueShare | None:
        """``value_share = 0.4`` or ``{ file = "metal_content.csv", column = "aluminum_share" }``."""
        value = table.get("value_share")
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not 0.0 <= value <= 1.0:
                raise self.fail(
                    f"value_share must be a fraction between 0 and 1, not {value!r}.", "value_share", index
                )
            return ValueShare(constant=float(value), label=f"{value:g} of the value")
        if (
            not isinstance(value, dict)
            or set(value) - {"file", "column", "label"}
            or not {"file", "column"} <= set(value)
        ):
            raise self.fail(
                'value_share is a fraction (0.4) or { file = "metal_content.csv", column = "aluminum_share" }.',
                "value_share",
                index,
            )
        path = self.resolve_list(value["file"], "value_share", index, "value_share file")
        frame = self.read_csv(path, "value_share", index, "value_share file")
        header = [str(c) for c in frame.columns]
        column = str(value["column"])
        if "hs" not in header or column not in header:
            raise self.fail(
                f"value_share file {path.name} needs columns 'hs' and {column!r} (found: {_shown(header)})."
                + suggest(column, header),
                "value_share",
                index,
            )
        given = frame[column].str.strip() != ""
        shares = pd.to_numeric(frame[column].where(given), errors="coerce")
        bad = given & ~shares.between(0.0, 1.0)
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ScenarioError(
                f"{path}:{row + 2}: {column} = {frame[column].iloc[row][:40]!r} is not a share between 0 "
                "and 1 (empty: no share known)."
            )
        label = str(value.get("label") or f"{column} of {path.name}")
        return ValueShare(file=path, column=column, label=label)

    def choice(
        self, table: Mapping[str, Any], key: str, index: int, choices: tuple[str, ...], default: str
    ) -> str:
        value = table.get(key, default)
        if value not in choices:
            raise self.fail(
                f"{key} = {value!r} is not one of {', '.join(choices)}." + suggest(str(value), choices),
                key,
                index,
            )
        return str(value)

    def flag(self, table: Mapping[str, Any], key: str, index: int | None) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{key!r} must be true or false (without quotes), not {value!r}.", key, index)
        return value

    def text_list(self, table: Mapping[str, Any], key: str, index: int | None) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{key!r} must be text or a list of texts (URLs).", key, index)
        return tuple(value)

    def read_csv(self, path: Path, key: str, index: int | None, what: str) -> pd.DataFrame:
        """A CSV file the scenario names, all text; an error naming the file when it cannot be read as one."""
        try:
            with path.open("rb") as handle:
                start = handle.read(8192)
            if b"\x00" in start:
                raise self.fail(
                    f"cannot read {what} {path}: it is a binary file, not a CSV file.", key, index
                )
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except OSError as exc:
            reason = os_reason(exc)
        except pd.errors.EmptyDataError:
            reason = "it is empty (it needs a header line with a column 'hs')"
        except UnicodeDecodeError:
            reason = "it is not UTF-8 text; save it as UTF-8 CSV"
        except (pd.errors.ParserError, ValueError) as exc:
            detail = one_line(str(exc)).removeprefix("Error tokenizing data. ")[:120]
            reason = f"it is not a well-formed CSV file ({detail})"
        raise self.fail(f"cannot read {what} {path}: {reason}.", key, index)

    def resolve_list(self, name: Any, key: str, index: int | None, what: str = "product file") -> Path:
        """A file the scenario names (a product list, a value_share table, an elasticities file): next to
        the scenario file, else bundled; never outside those folders."""
        if not isinstance(name, str) or not name.strip() or any(ord(c) < 32 for c in name):
            raise self.fail(
                f"{what} {name!r} is not a file name (text, without control characters such as NUL).",
                key,
                index,
            )
        for folder in (self.path.parent, bundled.lists_dir(), bundled.data_root()):
            candidate = (folder / name).resolve()
            if not candidate.is_relative_to(folder.resolve()):
                raise self.fail(
                    f"{what} {name!r} points outside the scenario's folder; copy it next to the scenario file.",
                    key,
                    index,
                )
            if _is_file(candidate):
                return candidate
        if what != "product file":
            raise self.fail(
                f"{what} {name!r} not found next to the scenario or among the bundled data.", key, index
            )
        available = sorted(p.name for p in bundled.lists_dir().glob("*.csv"))
        raise self.fail(
            f"product file {name!r} not found next to the scenario or among the bundled lists "
            f"({', '.join(available)}).{suggest(name, available)}",
            key,
            index,
        )


def _shown(names: Any) -> str:
    """Column names for a message: each cut to 30 characters, at most eight."""
    names = [str(n) for n in names]
    cut = [repr(n[:30] + ("…" if len(n) > 30 else "")) for n in names[:8]]
    return ", ".join(cut) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _parse_measure(
    reader: _Reader, table: Mapping[str, Any], index: int, scenario: str
) -> tuple[Measure, bool]:
    if not isinstance(table, dict):
        raise reader.fail("each [[measure]] must be a table.", "measure")
    reader.check_keys(table, MEASURE_KEYS, index)
    measure_id = reader.text_value(table, "id", index, required=True)
    if not _ID.match(measure_id):
        raise reader.fail(
            f"measure id {measure_id!r} must be lower-case letters, digits and '-'.", "id", index
        )
    override = table.get("override", False)
    if not isinstance(override, bool):
        raise reader.fail("'override' must be true or false.", "override", index)
    high_rates = reader.flag(table, "high_rates", index)
    rate = table.get("rate")
    observed = table.get("observed")
    if observed is not None and observed not in OBSERVED_TABLES:
        raise reader.fail(
            f"observed = {observed!r} is not a known table ({', '.join(OBSERVED_TABLES)}).", "observed", index
        )
    share = table.get("applies_to_share", 1.0)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 <= share <= 1.0:
        raise reader.fail(
            f"applies_to_share must be a fraction between 0 and 1, not {share!r}.", "applies_to_share", index
        )
    fields: dict[str, Any] = {
        "id": measure_id,
        "scenario": scenario,
        "authority": reader.text_value(table, "authority", index, required=not override),
        "citation": reader.text_value(table, "citation", index, required=not override),
        "note": reader.text_value(table, "note", index),
        "rate": None if rate is None else reader.rate_value(rate, "rate", index, high_rates),
        "rates": reader.rate_table(table, "rates", index, high_rates),
        "observed": observed,
        "partners": reader.partner_list(table, "partners", index),
        "exclude_partners": reader.partner_list(table, "exclude_partners", index) or (),
        "products": reader.product_scope(table, "products", index),
        "exclude_products": reader.product_scope(table, "exclude_products", index) or (),
        "effective": reader.date_value(table, "effective", index),
        "expires": reader.date_value(table, "expires", index),
        "preempted_by": reader.id_list(table, "preempted_by", index),
        "applies_to_share": float(share),
        "in_baseline": reader.rate_value(table.get("in_baseline", 0.0), "in_baseline", index, True),
        "in_baseline_rates": reader.rate_table(table, "in_baseline_rates", index, True),
        "all_in": reader.flag(table, "all_in", index),
        "value_share": reader.value_share(table, index),
        "preempts_only_share": reader.flag(table, "preempts_only_share", index),
        "usmca_exempt": reader.flag(table, "usmca_exempt", index),
        "usmca_exempt_from": reader.date_value(table, "usmca_exempt_from", index),
        "usmca_value_share": (
            reader.rate_value(table["usmca_value_share"], "usmca_value_share", index, True)
            if "usmca_value_share" in table
            else None
        ),
        "status": reader.choice(table, "status", index, STATUSES, "in-force"),
        "status_note": reader.text_value(table, "status_note", index),
        "basis": reader.choice(table, "basis", index, BASES, "MFN/observed" if observed else "other"),
        "source": reader.text_list(table, "source", index),
        "unsourced": reader.flag(table, "unsourced", index),
    }
    return Measure(**fields), override


def _check_measure(reader: _Reader, measure: Measure, index: int) -> None:
    """Consistency rules that need the whole measure (after ``override`` merging)."""
    if measure.observed is not None and (measure.rate is not None or measure.rates):
        raise reader.fail("a measure takes either 'observed' or 'rate'/'rates', not both.", "observed", index)
    if measure.observed is None and measure.rate is None and not measure.rates:
        raise reader.fail(f"measure {measure.id!r} has no 'rate' (or 'rates', or 'observed').", "id", index)
    if measure.observed is not None and (measure.all_in or measure.value_share or measure.usmca_exempt):
        raise reader.fail(
            "an observed measure takes none of 'all_in', 'value_share', 'usmca_exempt'.", "observed", index
        )
    if measure.usmca_value_share is not None and not measure.usmca_exempt:
        raise reader.fail(
            "'usmca_value_share' (the share of a USMCA-claimed good still charged) needs 'usmca_exempt = true'.",
            "usmca_value_share",
            index,
        )
    if measure.usmca_value_share is not None and measure.usmca_value_share > 1:
        raise reader.fail(
            f"'usmca_value_share' is a share of value, at most 1 (got {measure.usmca_value_share}).",
            "usmca_value_share",
            index,
        )
    if measure.preempts_only_share and measure.value_share is None:
        raise reader.fail(
            "'preempts_only_share' needs a 'value_share' (the share of value the measure charges).",
            "preempts_only_share",
            index,
        )
    if measure.id in measure.preempted_by:
        raise reader.fail(f"measure {measure.id!r} cannot be pre-empted by itself.", "preempted_by", index)
    if measure.effective and measure.expires and measure.expires <= measure.effective:
        raise reader.fail(
            f"'expires' ({measure.expires}) must be after 'effective' ({measure.effective}).",
            "expires",
            index,
        )
    excluded = set(measure.exclude_partners)
    for key, codes in (("rates", measure.rates), ("partners", measure.partners or ())):
        both = sorted(excluded.intersection(codes))
        if both:
            raise reader.fail(
                f"{', '.join(both)} is both in {key!r} and in 'exclude_partners'.", "exclude_partners", index
            )
    if measure.partners is not None and not set(measure.partners) & set(countries.group_names()):
        outside = sorted(set(measure.rates) - set(measure.partners))
        if outside:
            raise reader.fail(
                f"'rates' has {', '.join(outside)}, which 'partners' does not list.", "rates", index
            )
    if measure.partners is not None and measure.rate is None:
        missing = [p for p in measure.partners if p not in measure.rates]
        if missing:
            raise reader.fail(
                f"partners {', '.join(missing)} have no rate: add 'rate' or list them in 'rates'.",
                "rates",
                index,
            )
    if measure.products is not None:
        included = {e.prefix for e in measure.products}
        both = sorted(included.intersection(e.prefix for e in measure.exclude_products))
        if both:
            shown = ", ".join(both[:5]) + (" …" if len(both) > 5 else "")
            raise reader.fail(
                f"HS {shown} is both in 'products' and in 'exclude_products'.", "exclude_products", index
            )


def _warn_negative(reader: _Reader, measure: Measure, index: int) -> None:
    """A warning when ``in_baseline`` is above the rate (for all partners or one): the measure then lowers
    the duty below what the observed 2024 duties hold, which is right only for a measure that cuts one."""
    if measure.observed is not None or measure.all_in:
        return
    pairs = [("", measure.rate, measure.in_baseline)]
    for code in sorted(set(measure.rates) | set(measure.in_baseline_rates)):
        rate = measure.rates.get(code, measure.rate)
        pairs.append((code, rate, measure.in_baseline_rates.get(code, measure.in_baseline)))
    for code, rate, base in pairs:
        if rate is not None and base > rate + 1e-12:
            key = f"in_baseline_rates.{code}" if code in measure.in_baseline_rates else "in_baseline"
            whose = f" for {code}" if code else ""
            reader.warnings.append(
                f"{reader.where(key.split('.')[0], index)}: measure {measure.id!r}: {key} = {base:g} is above "
                f"its rate{whose} ({rate:g}), so it lowers the duty by {base - rate:.1%} of the value (a negative "
                "added duty); right only if the measure cuts a 2024 duty, otherwise lower in_baseline."
            )
            return


def _merge(parent: Measure, child: Measure, table: Mapping[str, Any]) -> Measure:
    """An ``override = true`` measure replaces only the keys it sets; the scenario that set them is recorded."""
    changes = {f.name: getattr(child, f.name) for f in dataclasses.fields(Measure) if f.name in table}
    changes["scenario"] = child.scenario
    return dataclasses.replace(parent, **changes)


class _TooDeep(ScenarioError):
    """An ``extends`` chain longer than :data:`MAX_EXTENDS` (reported once, by the file that starts it)."""


def _load(path: Path, chain: tuple[Path, ...]) -> Scenario:
    if path.resolve() in chain:
        cycle = " → ".join(p.stem for p in (*chain, path.resolve()))
        raise ScenarioError(f"{path}: 'extends' forms a cycle: {cycle}.")
    if len(chain) > MAX_EXTENDS:
        raise _TooDeep(
            f"{chain[0]}: 'extends' goes more than {MAX_EXTENDS} scenarios deep ({chain[0].stem} → "
            f"{chain[1].stem} → … → {path.stem}); a scenario can build on at most {MAX_EXTENDS} others: "
            "merge some of them into one file."
        )
    reader = _Reader(path)
    data = reader.data
    reader.check_keys(data, TOP_LEVEL_KEYS, None)
    given_name = reader.text_value(data, "name", None)
    if given_name and not _NAME.match(given_name):
        raise reader.fail(
            f"name = {given_name!r} is not a scenario name: use letters, digits, '-' and '_' (at most 100); "
            "it names output folders (reports/<name>), so it can be no path.",
            "name",
        )
    name = given_name or _name_of(path)

    parent: Scenario | None = None
    if "extends" in data:
        parent_name = reader.text_value(data, "extends", None, required=True)
        try:
            parent = _load(_find(parent_name, relative_to=path.parent), (*chain, path.resolve()))
        except _TooDeep:
            raise
        except ScenarioError as exc:
            raise ScenarioError(
                f"{reader.where('extends')}: cannot load 'extends = {parent_name!r}': {exc}"
            ) from None

    measures: dict[str, Measure] = dict((m.id, m) for m in parent.measures) if parent else {}
    inherited = set(measures)
    removed = data.get("remove_measures", [])
    if not isinstance(removed, list) or not all(isinstance(m, str) for m in removed):
        shown = (
            next((m for m in removed if not isinstance(m, str)), removed)
            if isinstance(removed, list)
            else removed
        )
        raise reader.fail(
            f"'remove_measures' must be a list of measure ids in quotes, e.g. [\"s232-autos\"], not {shown!r}.",
            "remove_measures",
        )
    for measure_id in removed:
        if measure_id not in measures:
            raise reader.fail(
                f"cannot remove {measure_id!r}: not inherited." + suggest(measure_id, measures),
                "remove_measures",
            )
        del measures[measure_id]

    tables = data.get("measure", [])
    if not isinstance(tables, list):
        raise reader.fail("measures are written as [[measure]] blocks.", "measure")
    own: set[str] = set()
    for index, table in enumerate(tables):
        measure, override = _parse_measure(reader, table, index, name)
        if measure.id in own:
            raise reader.fail(f"measure id {measure.id!r} is defined twice in this file.", "id", index)
        own.add(measure.id)
        if override:
            if measure.id not in inherited:
                raise reader.fail(
                    f"'override = true' but {measure.id!r} is not inherited from 'extends'."
                    + suggest(measure.id, inherited),
                    "override",
                    index,
                )
            measure = _merge(measures[measure.id], measure, table)
        elif measure.id in inherited:
            raise reader.fail(
                f"measure {measure.id!r} is already defined by {measures[measure.id].scenario!r}; "
                "add 'override = true' to change it, or pick another id.",
                "id",
                index,
            )
        _check_measure(reader, measure, index)
        _warn_negative(reader, measure, index)
        measures[measure.id] = measure

    ids_here = [table.get("id") for table in tables]
    for measure in measures.values():
        for other in measure.preempted_by:
            if other not in measures:
                index = ids_here.index(measure.id) if measure.id in ids_here else None
                raise reader.fail(
                    f"measure {measure.id!r} is 'preempted_by' {other!r}, which is not a measure of this scenario."
                    + suggest(other, measures),
                    "preempted_by" if index is not None else "extends",
                    index,
                )

    for measure in measures.values():
        mutual = [o for o in measure.preempted_by if measure.id in measures[o].preempted_by]
        if mutual:
            raise reader.fail(
                f"measures {measure.id!r} and {mutual[0]!r} pre-empt each other, so neither would ever apply; "
                "keep 'preempted_by' on one of them (or use a [[stacking]] order).",
                "preempted_by",
                ids_here.index(measure.id) if measure.id in ids_here else None,
            )
    stacking = (parent.stacking if parent else ()) + _stacking(reader, data, measures)
    dated = data.get("as_of") == "today" or (parent.dated if parent and "as_of" not in data else False)
    inherited_as_of = parent.as_of if parent else None
    as_of = dt.date.today() if dated else reader.date_value(data, "as_of", None) or inherited_as_of
    if as_of is None:
        raise reader.fail(
            "'as_of' (the date the scenario describes, YYYY-MM-DD, or \"today\") is required.", "as_of"
        )
    documented_to = reader.date_value(data, "documented_to", None) or (
        parent.documented_to if parent else None
    )
    parameters = _parameters(reader, data, parent)
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise reader.fail("'sources' must be a list of text citations.", "sources")
    return Scenario(
        name=name,
        title=reader.text_value(data, "title", None) or (parent.title if parent else name),
        description=reader.text_value(data, "description", None),
        importer=reader.text_value(data, "importer", None) or (parent.importer if parent else "USA"),
        as_of=as_of,
        measures=tuple(measures.values()),
        sources=tuple((parent.sources if parent else ()) + tuple(sources)),
        lineage=(name, *(parent.lineage if parent else ())),
        path=path,
        warnings=tuple((parent.warnings if parent else ()) + tuple(reader.warnings)),
        parameters=parameters,
        stacking=stacking,
        documented_to=documented_to,
        dated=dated,
    )


def _stacking(
    reader: _Reader, data: Mapping[str, Any], measures: Mapping[str, Measure]
) -> tuple[Stacking, ...]:
    """The file's ``[[stacking]]`` blocks, each naming measures of the scenario in priority order."""
    blocks = data.get("stacking", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise reader.fail("stacking orders are written as [[stacking]] blocks.", "stacking")
    out = []
    for block in blocks:
        for key in block:
            if key not in STACKING_KEYS:
                raise reader.fail(f"unknown stacking key {key!r}." + suggest(key, STACKING_KEYS), key)
        order = block.get("order")
        if not isinstance(order, list) or len(order) < 2 or not all(isinstance(m, str) for m in order):
            raise reader.fail(
                "a [[stacking]] 'order' lists two or more measure ids, first = applies first.", "order"
            )
        for measure_id in order:
            if measure_id not in measures:
                raise reader.fail(
                    f"stacking order names {measure_id!r}, which is not a measure of this scenario."
                    + suggest(measure_id, measures),
                    "order",
                )
        if len(set(order)) != len(order):
            raise reader.fail("a stacking order lists a measure twice.", "order")
        citation = block.get("citation")
        if not isinstance(citation, str) or not citation.strip():
            raise reader.fail("a [[stacking]] block needs a 'citation' (its legal source).", "order")
        effective = reader.date_value(block, "effective", None)
        expires = reader.date_value(block, "expires", None)
        out.append(
            Stacking(
                tuple(order),
                citation.strip(),
                effective,
                expires,
                reader.text_list(block, "source", None),
                str(block.get("note", "")),
            )
        )
    return tuple(out)


def _parameters(reader: _Reader, data: Mapping[str, Any], parent: Scenario | None) -> dict[str, Any]:
    """The parent's ``[parameters]`` updated with this file's, checked now so typos surface at load time.

    ``elasticities_file`` is looked up next to the file that names it, then in the bundled data; it cannot
    lie outside those folders.
    """
    from tariffcalc.reference.parameters import Parameters

    own = data.get("parameters", {})
    if not isinstance(own, dict):
        raise reader.fail("[parameters] must be a table of name = value.", "parameters")
    own = dict(own)
    if "elasticities_file" in own:
        own["elasticities_file"] = reader.resolve_list(
            own["elasticities_file"], "elasticities_file", None, "elasticities file"
        )
    merged = {**(parent.parameters if parent else {}), **own}
    Parameters.from_mapping(merged, where=f"{reader.path} [parameters]")
    return merged
