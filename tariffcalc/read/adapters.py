"""Recognise the layout of a flow file and map it onto the canonical fields.

Four sources (``--source``):

``canonical``
    ``partner`` (ISO3), ``hs``, ``period`` (optional), ``value_usd``, ``reporter`` (optional); other names
    through ``--map their_column=field``. Other columns travel along.
``dataweb``
    USITC DataWeb exports: title lines, then ``Data Type``, ``HTS Number``, ``Description``, ``Country``
    and one column per year or month (wide, turned long here), or a ``Customs Value`` column (long).
    Rows of the data type "Customs Value" (or "General Customs Value") are the flows; "Calculated
    Duties" travel along as ``calc_duty_usd``.
``census``
    US Census exports: the international trade API saved as CSV (``CTY_CODE``, ``CTY_NAME``,
    ``I_COMMODITY``, ``CON_VAL_MO`` or ``GEN_VAL_MO``, ``CAL_DUT_MO``, ``time``) and USA Trade Online
    downloads (``Country``, ``Commodity`` "0101210010 Horses…", ``Time``, ``Customs Value (Gen) ($US)``).
``comtrade``
    UN Comtrade bulk or API CSV (``reporterISO``, ``partnerISO``/``partnerCode``, ``cmdCode``,
    ``flowCode``, ``period``, ``primaryValue``) and the legacy column names ("Reporter ISO", "Partner ISO",
    "Commodity Code", "Trade Flow Code", "Trade Value (US$)"). Only imports (flow M) are flows; World,
    areas and breakdown rows are rejected with their reason so nothing is counted twice.

An adapter does not judge values, codes, periods or partners (the validators of :mod:`tariffcalc.read.cells`
do that for every source); from the header (and the head of the file) it finds the columns and makes a
:class:`Layout`, which is then applied to each chunk of the file on its own: it turns wide tables long,
says which judge reads the partner cells (ISO3 codes, names, Census codes), and marks the rows that are
not flows of the importer (other flows, totals, breakdowns) with a kind and a reason. The canonical
layout needs no applying: its columns are the fields (:mod:`tariffcalc.read.stream` reads them directly).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from tariffcalc.errors import FlowsError, suggest
from tariffcalc.read import FIELDS, REQUIRED, SOURCES, UNITS, cells
from tariffcalc.read.cells import Judge
from tariffcalc.read.tables import shown

US_COLUMNS: dict[str, tuple[str, ...]] = {
    "partner_code": ("cty_code", "country code"),
    "partner": ("partner", "country", "country name", "cty_name", "country of origin"),
    "hs": (
        "hs",
        "hts number",
        "hts10",
        "hts8",
        "hts6",
        "hts4",
        "hts2",
        "hts code",
        "hts",
        "i_commodity",
        "commodity",
        "commodity code",
        "hs code",
    ),
    "description": ("description", "i_commodity_ldesc", "i_commodity_sdesc", "commodity description"),
    "data_type": ("data type",),
    "value_usd": (
        "value_usd",
        "customs value",
        "con_val_mo",
        "customs value (cons) ($us)",
        "customs value (consumption) ($us)",
        "consumption customs value",
        "imports for consumption",
        "general customs value",
        "gen_val_mo",
        "customs value (gen) ($us)",
        "con_val_yr",
        "gen_val_yr",
    ),
    "calc_duty_usd": (
        "calc_duty_usd",
        "calculated duties",
        "cal_dut_mo",
        "calculated duty ($us)",
        "cal_dut_yr",
    ),
    "period": ("period", "time", "year"),
    "month": ("month",),
}
"""Column names (lower case) of US exports by field, the preferred first."""

CENSUS_MARKERS = (
    "cty_code",
    "cty_name",
    "i_commodity",
    "con_val_mo",
    "gen_val_mo",
    "con_val_yr",
    "gen_val_yr",
)
VALUE_TYPES = (
    "customs value",
    "general customs value",
    "imports for consumption",
    "consumption customs value",
)
"""DataWeb data types that are the customs value of imports, the preferred first."""
DUTY_TYPE = "calculated duties"

COMTRADE_COLUMNS: dict[str, tuple[str, ...]] = {
    "reporter": ("reporteriso", "reporter iso", "reporter"),
    "reporter_code": ("reportercode", "reporter code"),
    "partner_iso": ("partneriso", "partner iso"),
    "partner_code": ("partnercode", "partner code"),
    "partner_name": ("partnerdesc", "partner"),
    "hs": ("hs", "cmdcode", "commodity code"),
    "description": ("cmddesc", "commodity"),
    "flow": ("flowcode", "trade flow code", "flowdesc", "trade flow"),
    "period": ("period", "refyear", "year"),
    "value_usd": ("value_usd", "primaryvalue", "trade value (us$)"),
    "mot": ("motcode",),
    "customs": ("customscode",),
    "partner2": ("partner2code",),
}
COMTRADE_BREAKDOWN_TOTALS = {"mot": ("0", ""), "customs": ("C00", ""), "partner2": ("0", "")}
"""Comtrade rows split by mode of transport, customs procedure or second partner have these "all" codes
in their total row; other codes mark a breakdown that the total already contains."""
COMTRADE_IMPORTS = frozenset({"m", "1", "import", "imports"})
COMTRADE_WORLD = frozenset({"0", "w00", "wld", "world"})
COMTRADE_EU = frozenset({"97", "eur", "eu", "eu27", "eun", "eu-27"})
COMTRADE_TAIWAN = frozenset({"490", "s19"})
"""UN Comtrade reports trade with Taiwan as "Other Asia, nes" (code 490, ISO S19); read as TWN."""

EXPECTED = (
    "canonical: partner (ISO3), hs, value_usd, optional period and reporter; "
    "USITC DataWeb: Country, HTS Number and year columns (2023, 2024 …) or a Customs Value column; "
    "US Census: CTY_CODE or CTY_NAME, I_COMMODITY, CON_VAL_MO or GEN_VAL_MO, time; "
    "UN Comtrade: reporterISO, partnerISO, cmdCode, flowCode, period, primaryValue"
)


@dataclasses.dataclass
class Adapted:
    """The rows of one chunk in canonical fields, before values, codes, periods and partners are judged.

    Arrays are aligned: one entry per flow row. ``partner``/``hs``/``period``/``value`` are the raw cells,
    ``src`` the row of ``frame`` each flow row comes from (a wide row gives several), ``line`` its line,
    ``value_column`` the column its value cell is in. ``kind``/``reason`` mark rows the adapter itself
    rejects (not a flow of the importer), ``kind_column`` the column at fault for them. ``counts`` holds
    what the layout's notes add up over chunks; ``duty_key``/``duties`` match "Calculated Duties" rows to
    flow rows across chunks (only when the accepted rows are kept).
    """

    partner: pd.Series
    hs: pd.Series
    period: pd.Series | None
    value: pd.Series
    reporter: pd.Series | None
    extras: pd.DataFrame
    line: np.ndarray
    src: np.ndarray
    value_column: np.ndarray
    kind: np.ndarray
    reason: np.ndarray
    frame: pd.DataFrame
    kind_column: np.ndarray | None = None
    counts: dict = dataclasses.field(default_factory=dict)
    duty_key: np.ndarray | None = None
    duties: pd.Series | None = None


@dataclasses.dataclass
class Layout:
    """How one file's columns map onto the canonical fields, decided once from its header and head.

    ``names`` are the file's column names with ``--map`` columns renamed to their fields; ``display`` maps
    such a column back to the name the user knows; ``fields`` maps each field to its column; the ledger
    shows ``raw_columns`` (and, for wide tables, the value cell as ``cell``). ``partner_judge`` reads the
    partner cells. :meth:`apply` maps one chunk (not needed for the canonical layout).
    """

    source: str
    how: str
    names: list[str]
    display: dict[str, str]
    fields: dict[str, str]
    raw_columns: list[str]
    partner_judge: Judge
    notes: list[str] = dataclasses.field(default_factory=list)
    cell_column: str | None = None
    key_extras: list[str] = dataclasses.field(default_factory=list)
    money_extras: tuple[str, ...] = ()
    pick: dict = dataclasses.field(default_factory=dict)
    years: list[str] = dataclasses.field(default_factory=list)
    value_type: str | None = None

    def shown(self, column: str) -> str:
        """The user's name of a column."""
        return self.display.get(column, column)

    def apply(self, frame: pd.DataFrame, line: np.ndarray, duties: bool = False) -> Adapted:
        """Map one chunk (``frame``: the chunk's cells as text, columns ``names``; ``line`` of each row).
        With ``duties``, calculated duties are matched to flow rows (for the table of accepted rows)."""
        if self.source == "comtrade":
            return _comtrade(self, frame, line)
        return _us(self, frame, line, duties)

    def final_notes(self, counts: dict) -> list[str]:
        """The layout's notes on a whole file, from the ``counts`` of its chunks added up."""
        notes = []
        if counts.get("not_data"):
            count, where, text = counts["not_data"]
            notes.append(
                f"{count} line(s) with no product code and no value are not data "
                f"(e.g. line {where}: {shown(text, 60)!r})"
            )
        others = counts.get("other_types")
        if others:
            ranked = sorted(others.items(), key=lambda item: (-item[1][0], item[1][1]))
            listed = "; ".join(f"{count} of {shown(name)!r}" for name, (count, _) in ranked[:5])
            notes.append(f"rows of other data types are not flows and were not used: {listed}")
        notes += self.notes
        if counts.get("taiwan"):
            notes.append("partner 'Other Asia, nes' (490, S19) read as Taiwan (TWN), as UN Comtrade uses it")
        return notes


def merge_counts(total: dict, part: dict) -> None:
    """Add one chunk's note counts into ``total`` (chunks in file order: the first example is kept)."""
    if part.get("not_data"):
        if total.get("not_data"):
            total["not_data"][0] += part["not_data"][0]
        else:
            total["not_data"] = list(part["not_data"])
    for name, (count, order) in part.get("other_types", {}).items():
        have = total.setdefault("other_types", {}).get(name)
        total["other_types"][name] = (count + (have[0] if have else 0), have[1] if have else order)
    if part.get("taiwan"):
        total["taiwan"] = True
    for name, found in part.get("comma", {}).items():
        total.setdefault("comma", {}).setdefault(name, found)


# -------------------------------------------------------------------------------------------- columns


def _key(name: str) -> str:
    return " ".join(str(name).split()).lower()


class _Columns:
    """Case- and space-insensitive lookup of a frame's column names."""

    def __init__(self, names: Iterable[str]):
        self.names = list(names)
        self.by_key = {}
        for name in self.names:
            self.by_key.setdefault(_key(name), name)

    def pick(self, aliases: Iterable[str]) -> str | None:
        for alias in aliases:
            if alias in self.by_key:
                return self.by_key[alias]
        return None

    def has(self, alias: str) -> bool:
        return alias in self.by_key


def period_columns(names: Iterable[str]) -> list[str]:
    """Columns whose name is a year or a month (``2024``, ``2024-01``, ``Jan 2024``): a wide layout."""
    return [name for name in names if cells.period(name) is not None]


KNOWN_NAMES = frozenset(
    {*FIELDS}
    | {alias for aliases in US_COLUMNS.values() for alias in aliases}
    | {alias for aliases in COMTRADE_COLUMNS.values() for alias in aliases}
)


def header_score(header: list[str]) -> int:
    """How much a line looks like a header: known column names, plus one for year columns beside them."""
    known = sum(_key(cell) in KNOWN_NAMES for cell in header)
    return known + (1 if known and period_columns(header) else 0)


def parse_column_map(items: Iterable[str]) -> dict[str, str]:
    """``["Customs Value=value_usd", …]`` → ``{"Customs Value": "value_usd"}`` (``--map`` options).

    Fields are the canonical ones (partner, hs, period, value_usd, reporter); each may be given once.
    """
    mapping: dict[str, str] = {}
    for item in items:
        their, sep, field = item.rpartition("=")
        their, field = their.strip(), field.strip()
        if not sep or not their or not field:
            raise FlowsError(
                f"--map {item!r}: write their_column=field, e.g. --map 'Customs Value=value_usd'."
            )
        if field not in FIELDS:
            raise FlowsError(
                f"--map {item!r}: {field!r} is not a field ({', '.join(FIELDS)})." + suggest(field, FIELDS)
            )
        if field in mapping.values():
            raise FlowsError(f"--map gives the field {field!r} twice.")
        mapping[their] = field
    return mapping


def _found(names: list[str], limit: int = 12) -> str:
    shown_names = [shown(n) for n in names[:limit]]
    more = f" … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(shown_names) + more if names else "(none)"


# ------------------------------------------------------------------------------------------ detection


def detect(names: list[str]) -> tuple[str | None, str]:
    """(source, why) for a header, or (None, "") when no adapter recognises it."""
    columns = _Columns(names)
    if all(columns.has(field) for field in REQUIRED):
        return "canonical", "columns partner, hs, value_usd"
    comtrade_partner = columns.pick(COMTRADE_COLUMNS["partner_iso"] + COMTRADE_COLUMNS["partner_code"])
    comtrade_code = columns.pick(COMTRADE_COLUMNS["hs"][1:])
    comtrade_value = columns.pick(COMTRADE_COLUMNS["value_usd"])
    if comtrade_partner and comtrade_code and comtrade_value:
        return "comtrade", f"columns {comtrade_partner}, {comtrade_code}, {comtrade_value}"
    partner = columns.pick(US_COLUMNS["partner_code"] + US_COLUMNS["partner"])
    code = columns.pick(US_COLUMNS["hs"])
    value = columns.pick(US_COLUMNS["value_usd"])
    years = period_columns(names)
    generic = partner is not None and code is not None and _key(partner) == "partner" and _key(code) == "hs"
    if partner and code and (value or years) and not generic:
        census = any(columns.has(m) for m in CENSUS_MARKERS) or (
            columns.has("commodity") and columns.has("time")
        )
        what = value or f"year columns {', '.join(years[:3])}{' …' if len(years) > 3 else ''}"
        return ("census" if census else "dataweb"), f"columns {partner}, {code}, {what}"
    return None, ""


LOOKALIKES = {
    "partner": ("country", "origin", "iso3", "exporter"),
    "hs": ("hs", "hts", "code", "commodity", "product"),
    "value_usd": ("value", "amount", "import", "usd", "dollar"),
    "period": ("year", "period", "month", "time", "date"),
}
"""Words in a column name that suggest a canonical field, for ``--map`` hints."""


def _lookalike(field: str, names: list[str]) -> str | None:
    """The column that most likely holds ``field``: a close spelling, else a name with a telling word."""
    close = difflib.get_close_matches(field, [n.lower() for n in names], n=1, cutoff=0.6)
    if close:
        return next(n for n in names if n.lower() == close[0])
    return next((n for n in names if any(word in n.lower() for word in LOOKALIKES.get(field, ()))), None)


def _unrecognised(path, names: list[str], source: str | None = None) -> FlowsError:
    columns = _Columns(names)
    found = _found(names)
    if (source is None and (columns.has("partner") or columns.has("hs"))) or source == "canonical":
        missing = [f for f in REQUIRED if not columns.has(f)]
        hints = []
        others = [n for n in names if _key(n) not in FIELDS]
        for field in missing:
            their = _lookalike(field, others)
            if their is not None:
                others.remove(their)
                hints.append(f" Column {their!r} may be {field!r}: pass --map '{their}={field}'.")
                scale = next((u for u in UNITS if u != "usd" and u.rstrip("s") in their.lower()), None)
                if field == "value_usd" and scale:
                    hints.append(f" Its name says {scale}: add --units {scale}.")
        return FlowsError(
            f"{path}: missing column(s) {', '.join(missing)}; found {found}. "
            f"The canonical columns are partner (ISO3), hs, period, value_usd.{''.join(hints)}"
        )
    one = " The header has a single column: is the file separated by something other than , ; tab or |?"
    what = f"is not a {source} file" if source else "is not a flow file tariffcalc recognises"
    return FlowsError(
        f"{path}: {what}. Found columns: {found}. Expected one of: {EXPECTED}. "
        f"Use --source to choose the layout and --map their_column=field to name columns."
        + (one if len(names) == 1 else "")
    )


def _apply_map(path, names: list[str], column_map: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The column names with ``--map`` columns renamed to their fields, and field → the user's name."""
    if not column_map:
        return list(names), {}
    columns = _Columns(names)
    rename, shown_as = {}, {}
    for their, field in column_map.items():
        name = their if their in names else columns.pick([_key(their)])
        if name is None:
            raise FlowsError(
                f"{path}: --map names column {their!r}, which this file does not have; "
                f"found {_found(columns.names)}." + suggest(their, columns.names)
            )
        clash = columns.pick([field])
        if clash is not None and clash != name:
            raise FlowsError(
                f"{path}: --map {their}={field}, but the file already has a column {clash!r}; "
                "map only one column to each field."
            )
        rename[name] = field
        shown_as[field] = name
    return [rename.get(n, n) for n in names], shown_as


def layout(
    path,
    names: list[str],
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    head_rows: list[list[str]] | None = None,
) -> Layout:
    """The :class:`Layout` of a file with header ``names`` (``head_rows``: its first data rows, as text)
    read with the adapter ``source`` (``auto``: recognised from the header)."""
    if source not in SOURCES:
        raise FlowsError(
            f"Unknown source {source!r}: use one of {', '.join(SOURCES)}." + suggest(source, SOURCES)
        )
    renamed, shown_as = _apply_map(path, [str(n) for n in names], column_map or {})
    if source == "auto":
        source, why = detect(renamed)
        if source is None:
            raise _unrecognised(path, renamed)
        how = f"auto-detected from {why}"
    else:
        how = f"chosen with --source {source}"
    head = [(row + [""] * len(renamed))[: len(renamed)] for row in head_rows or []]
    maker = {
        "canonical": _canonical_layout,
        "census": _us_layout,
        "dataweb": _us_layout,
        "comtrade": _comtrade_layout,
    }
    made = maker[source](path, renamed, source, how, head)
    made.display = shown_as
    return made


# ------------------------------------------------------------------------------------------- helpers


def _none(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, "", dtype=object), np.full(n, "", dtype=object)


def _mark(
    kind: np.ndarray, reason: np.ndarray, mask: np.ndarray, what: str, why, where=None, column=""
) -> None:
    """Give rows in ``mask`` without a kind yet this kind and reason (text, or an array per row), and
    record in ``where`` (if given) the ``column`` at fault."""
    fresh = mask & (kind == "")
    if fresh.any():
        kind[fresh] = what
        reason[fresh] = why[fresh] if isinstance(why, np.ndarray) else why
        if where is not None:
            where[fresh] = column


# ----------------------------------------------------------------------------------------- canonical


def _canonical_layout(path, names: list[str], source: str, how: str, rows: list[list[str]]) -> Layout:
    columns = _Columns(names)
    name = {field: columns.pick([field]) for field in FIELDS}
    if not all(name[field] for field in REQUIRED):
        raise _unrecognised(path, names, source)
    return Layout(
        source=source,
        how=how,
        names=names,
        display={},
        fields={field: c for field, c in name.items() if c is not None},
        raw_columns=list(names),
        partner_judge=cells.partner_code,
    )


# ------------------------------------------------------------------------------------ Census, DataWeb


def _us_layout(path, names: list[str], source: str, how: str, rows: list[list[str]]) -> Layout:
    columns = _Columns(names)
    head = pd.DataFrame({n: pd.Series([r[i] for r in rows], dtype=object) for i, n in enumerate(names)})
    pick = {field: columns.pick(aliases) for field, aliases in US_COLUMNS.items()}
    partner_col = pick["partner_code"] or pick["partner"]
    used = {c for c in pick.values() if c}
    years = [] if pick["value_usd"] else [c for c in period_columns(names) if c not in used]
    if partner_col is None or pick["hs"] is None or not (pick["value_usd"] or years):
        raise _unrecognised(path, names, source)
    notes: list[str] = []
    value_type = None
    if pick["data_type"]:
        rows, _ = _data_rows(head, pick["hs"], years or [pick["value_usd"]], np.arange(len(head)))
        types = head[pick["data_type"]].astype(str).str.strip().iloc[rows]
        present = set(pd.unique(types.str.lower()))
        value_type = next((t for t in VALUE_TYPES if t in present), None)
        if value_type is None:
            listed = ", ".join(sorted(repr(shown(t)) for t in pd.unique(types))[:8])
            raise FlowsError(
                f"{path}: column {pick['data_type']!r} has {listed or 'no values'}; none is a customs value "
                f"({', '.join(t.title() for t in VALUE_TYPES)}). Add 'Customs Value' to the DataWeb query."
            )
        notes.append(f"values: data type {value_type!r}")
    if years:
        notes.append(f"wide layout: {len(years)} period columns ({years[0]} … {years[-1]}) turned into rows")
    else:
        notes.append(f"values: column {pick['value_usd']!r}")
    ids = [c for c in names if c not in years and c not in (pick["data_type"], pick["description"])]
    ids = [c for c in ids if c not in (pick["value_usd"], pick["calc_duty_usd"])]
    fields = {"partner": partner_col, "hs": pick["hs"], "value_usd": pick["value_usd"] or "(period columns)"}
    if pick["period"] and not years:
        fields["period"] = pick["period"]
    has_duty = bool(pick["calc_duty_usd"] and not years) or bool(pick["data_type"] and years)
    return Layout(
        source=source,
        how=how,
        names=names,
        display={},
        fields=fields,
        raw_columns=[c for c in names if c not in years],
        partner_judge=cells.census_code if pick["partner_code"] else cells.partner_name,
        notes=notes,
        cell_column="cell" if years else None,
        key_extras=[c for c in ids if c not in (partner_col, pick["hs"], pick["period"], pick["month"])],
        money_extras=("calc_duty_usd",) if has_duty else (),
        pick={**pick, "partner_col": partner_col, "ids": ids},
        years=years,
        value_type=value_type,
    )


def _us(self: Layout, frame: pd.DataFrame, line: np.ndarray, duties: bool) -> Adapted:
    pick, years = self.pick, self.years
    counts: dict = {}
    value_columns = years or [pick["value_usd"]]
    rows, not_data = _data_rows(frame, pick["hs"], value_columns, line)
    if not_data:
        counts["not_data"] = not_data
    duty_rows = None
    if pick["data_type"]:
        rows, duty_rows, others = _typed_rows(frame, pick["data_type"], rows, self.value_type)
        if others:
            counts["other_types"] = others
    if years:
        long = _melt(frame, rows, years)
        src, value, value_column, period_text = long["src"], long["value"], long["column"], long["period"]
    else:
        src = rows
        value = frame[pick["value_usd"]].iloc[rows].reset_index(drop=True)
        value_column = np.full(len(rows), pick["value_usd"], dtype=object)
        period_text = _us_period(frame, pick, rows)

    n = len(src)
    kind, reason = _none(n)
    hs_text = frame[pick["hs"]].astype(str).iloc[src].reset_index(drop=True)
    description = None
    split = hs_text.str.match(r"^\s*[\d.]+\s+\S")
    if split.any():  # USA Trade Online: "0101210010 HORSES, LIVE, PUREBRED BREEDING"
        parts = hs_text[split].str.extract(r"^\s*([\d.]+)\s+(.*)$")
        hs_text = hs_text.where(~split, parts[0])
        description = pd.Series("", index=hs_text.index, dtype=object).where(~split, parts[1])
    if pick["description"]:
        description = frame[pick["description"]].astype(str).iloc[src].reset_index(drop=True)
    partner = frame[pick["partner_col"]].astype(str).iloc[src].reset_index(drop=True)
    _mark(
        kind,
        reason,
        cells.aggregate_products(hs_text),
        "aggregate_product",
        "aggregate product: the total of all products (left out so nothing is counted twice)",
    )
    if (pick["value_usd"] or "").lower().endswith("_yr") and not years:
        ytd = (period_text.str.len() == 7).to_numpy() & (period_text.str[5:7] != "12").to_numpy()
        _mark(
            kind,
            reason,
            ytd,
            "breakdown",
            f"year-to-date value {pick['value_usd']} before December: only December's (the whole year) is used",
        )
        period_text = period_text.where(period_text.str.len() != 7, period_text.str[:4])

    extras = pd.DataFrame(index=range(n))
    if description is not None:
        extras["description"] = description.to_numpy(dtype=object)
    adapted = Adapted(
        partner=partner,
        hs=hs_text,
        period=period_text,
        value=value,
        reporter=None,
        extras=extras,
        line=line[src],
        src=src,
        value_column=value_column,
        kind=kind,
        reason=reason,
        frame=frame,
        counts=counts,
    )
    if pick["calc_duty_usd"] and not years:
        extras["calc_duty_usd"] = frame[pick["calc_duty_usd"]].astype(str).iloc[src].to_numpy(dtype=object)
    elif duties and pick["data_type"] and years:
        ids = pick["ids"]
        adapted.duty_key = _row_keys(frame, ids, src, value_column)
        if duty_rows is not None and len(duty_rows):
            duty = _melt(frame, duty_rows, years)
            table = pd.Series(
                duty["value"].to_numpy(), index=_row_keys(frame, ids, duty["src"], duty["column"])
            )
            adapted.duties = table[~table.index.duplicated(keep="first")]
    return adapted


def _data_rows(
    frame: pd.DataFrame, hs_col: str, value_columns: list[str], line
) -> tuple[np.ndarray, list | None]:
    """Rows with a product code or a value (the others are titles and notes around the table), and for
    the notes [how many others, the line and the text of the first] (None when there are none)."""
    empty = frame[hs_col].astype(str).str.strip() == ""
    for column in value_columns:
        cell = frame[column]
        empty &= (
            cell.isna() if pd.api.types.is_float_dtype(cell.dtype) else cell.astype(str).str.strip() == ""
        )
    empty = empty.to_numpy(dtype=bool)
    note = None
    if empty.any():
        first = np.flatnonzero(empty)[0]
        text = " ".join(t for t in frame.iloc[first].astype(str) if t.strip())
        note = [int(empty.sum()), int(line[first]), text]
    return np.flatnonzero(~empty), note


def _typed_rows(frame, type_col, rows, value_type) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Split DataWeb rows by ``Data Type``: (customs value rows, "Calculated Duties" rows or None, and the
    other data types as name → (rows, first position))."""
    types = frame[type_col].astype(str).str.strip().iloc[rows]
    lowered = types.str.lower()
    is_value = (lowered == value_type).to_numpy()
    is_duty = (lowered == DUTY_TYPE).to_numpy()
    other = ~(is_value | is_duty)
    others = {}
    if other.any():
        chosen = types[other]
        first = {name: position for position, name in reversed(list(enumerate(chosen)))}
        others = {name: (int(count), first[name]) for name, count in chosen.value_counts().items()}
    return rows[is_value], (rows[is_duty] if is_duty.any() else None), others


def _melt(frame: pd.DataFrame, rows: np.ndarray, years: list[str]) -> dict[str, object]:
    """Wide → long: one row per (source row, period column), in file order."""
    k = len(years)
    values = frame[years].iloc[rows].to_numpy(dtype=object).ravel()
    return {
        "src": np.repeat(rows, k),
        "column": np.tile(np.array(years, dtype=object), len(rows)),
        "period": pd.Series(np.tile(np.array([cells.period(y) for y in years], dtype=object), len(rows))),
        "value": pd.Series(values, dtype=object),
    }


def _us_period(frame: pd.DataFrame, pick: dict[str, str | None], rows: np.ndarray) -> pd.Series:
    """Period text of long US tables: ``time``/``Year``, or ``YEAR`` with ``MONTH``."""
    if pick["period"] is None:
        return pd.Series([""] * len(rows), dtype=object)
    text = frame[pick["period"]].astype(str).iloc[rows].reset_index(drop=True).str.strip()
    if pick["month"] and _key(pick["period"]) == "year":
        month = frame[pick["month"]].astype(str).iloc[rows].reset_index(drop=True).str.strip().str.zfill(2)
        text = text.where(month.isin(["", "00"]), text + "-" + month)
    return text


def _row_keys(frame: pd.DataFrame, columns: list[str], rows: np.ndarray, suffix: np.ndarray) -> np.ndarray:
    key = pd.Series(np.asarray(suffix).astype(str), dtype=object)
    for column in columns:
        key = frame[column].astype(str).iloc[rows].reset_index(drop=True).astype(object) + "\x1f" + key
    return key.to_numpy(dtype=object)


# -------------------------------------------------------------------------------------------- Comtrade


def _comtrade_layout(path, names: list[str], source: str, how: str, rows: list[list[str]]) -> Layout:
    columns = _Columns(names)
    pick = {field: columns.pick(aliases) for field, aliases in COMTRADE_COLUMNS.items()}
    missing = [f for f in ("hs", "value_usd") if pick[f] is None]
    if not (pick["partner_iso"] or pick["partner_code"] or pick["partner_name"]):
        missing.insert(0, "partnerISO")
    if missing:
        raise _unrecognised(path, names, source)
    notes = [f"values: column {pick['value_usd']!r}"]
    if not pick["flow"]:
        notes.append("no flow column: every row is read as imports")
    fields = {
        "partner": pick["partner_iso"] or pick["partner_code"] or pick["partner_name"],
        "hs": pick["hs"],
        "value_usd": pick["value_usd"],
    }
    if pick["period"]:
        fields["period"] = pick["period"]
    if pick["reporter"] or pick["reporter_code"]:
        fields["reporter"] = pick["reporter"] or pick["reporter_code"]
    if pick["flow"]:
        fields["flow"] = pick["flow"]
    shown_columns = [
        pick[f]
        for f in (
            "reporter",
            "reporter_code",
            "flow",
            "period",
            "partner_code",
            "partner_iso",
            "partner_name",
            "hs",
            "value_usd",
            "mot",
            "customs",
            "partner2",
        )
        if pick[f]
    ]
    return Layout(
        source=source,
        how=how,
        names=names,
        display={},
        fields=fields,
        raw_columns=list(dict.fromkeys(shown_columns)),
        partner_judge=comtrade_partner,
        notes=notes,
        pick=pick,
    )


def _comtrade(self: Layout, frame: pd.DataFrame, line: np.ndarray) -> Adapted:
    pick = self.pick
    n = len(frame)
    kind, reason = _none(n)
    if pick["flow"]:
        flow = frame[pick["flow"]].astype(str).str.strip()
        not_import = ~flow.str.lower().isin(COMTRADE_IMPORTS).to_numpy()
        _mark(
            kind,
            reason,
            not_import,
            "not_imports",
            (
                "flow " + flow.map(lambda t: repr(shown(t))) + " is not imports (M): only imports are flows"
            ).to_numpy(dtype=object),
        )
    where = np.full(n, "", dtype=object)
    for field, totals in COMTRADE_BREAKDOWN_TOTALS.items():
        if pick[field] is None:
            continue
        code = frame[pick[field]].astype(str).str.strip()
        part = ~code.isin(totals).to_numpy()
        _mark(
            kind,
            reason,
            part,
            "breakdown",
            (
                f"breakdown row ({pick[field]} "
                + code.map(lambda t: shown(t, 10))
                + f"): its value is inside the total row ({pick[field]} {totals[0]}); download totals only"
            ).to_numpy(dtype=object),
            where,
            pick[field],
        )
    _mark(
        kind,
        reason,
        cells.aggregate_products(frame[pick["hs"]]),
        "aggregate_product",
        "aggregate product TOTAL: the total of all products (left out so nothing is counted twice)",
    )

    def column(field: str) -> pd.Series:
        if pick[field] is None:
            return pd.Series([""] * n, dtype=object)
        return frame[pick[field]].astype(str).str.strip().astype(object)

    iso, number, name = column("partner_iso").str.upper(), column("partner_code"), column("partner_name")
    partner = (iso + "\x1f" + number + "\x1f" + name).reset_index(drop=True)
    counts = {}
    if (iso.str.lower().isin(COMTRADE_TAIWAN) | number.str.lower().isin(COMTRADE_TAIWAN)).any():
        counts["taiwan"] = True
    reporter = None
    if pick["reporter"]:
        reporter = frame[pick["reporter"]]
    elif pick["reporter_code"]:
        reporter = frame[pick["reporter_code"]].astype(str).str.strip().replace({"842": "USA"})
    extras = pd.DataFrame(index=range(n))
    if pick["description"]:
        extras["description"] = frame[pick["description"]].astype(str).to_numpy(dtype=object)
    return Adapted(
        partner=partner,
        hs=frame[pick["hs"]],
        period=frame[pick["period"]] if pick["period"] else None,
        value=frame[pick["value_usd"]],
        reporter=reporter,
        extras=extras,
        line=line,
        src=np.arange(n),
        value_column=np.full(n, pick["value_usd"], dtype=object),
        kind=kind,
        reason=reason,
        frame=frame,
        kind_column=where,
        counts=counts,
    )


def comtrade_partner(text: str) -> tuple[str, str, str]:
    """Judge of Comtrade partners, given as ``iso␟code␟name``: World, the EU and areas ("Areas, nes",
    "Bunkers") are aggregates; "Other Asia, nes" (490, S19) is Taiwan."""
    iso_code, number, label = [*text.split("\x1f"), "", "", ""][:3]
    words = {iso_code.lower(), number.lower(), label.lower()}
    what = repr(shown(label or iso_code or number))
    lowered = label.lower()
    if words & COMTRADE_WORLD:
        why = (
            f"partner World ({iso_code or number}) is the total of the other partners: "
            "left out so nothing is counted twice"
        )
        return "", "aggregate_partner", why
    if words & COMTRADE_EU:
        return "", "aggregate_partner", cells.AGGREGATE_REASON.format(name=what)
    if words & COMTRADE_TAIWAN:
        return "TWN", "", ""
    if (
        (iso_code and not (len(iso_code) == 3 and iso_code.isalpha()))
        or lowered.endswith(" nes")
        or (lowered in ("bunkers", "free zones", "special categories"))
    ):
        where = f" ({iso_code})" if iso_code else ""
        return "", "aggregate_partner", f"area or group partner {what}{where}: not a country"
    if iso_code:
        return cells.partner_code(iso_code)
    return cells.partner_name(label)
