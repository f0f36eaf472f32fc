"""Read trade-flow files into the canonical flow table, rejecting bad rows into a ledger.

Canonical columns (DESIGN.md): ``partner`` (ISO3 of origin), ``hs`` (2–10 digits as text), ``period``
(``YYYY`` or ``YYYY-MM``, optional), ``value_usd`` (customs value, USD, ≥ 0) and optional ``reporter``
(importer, ISO3). Other columns travel along unchanged. Files from US Census, USITC DataWeb and UN Comtrade
are mapped onto these columns by :mod:`tariffcalc.read` (``source="auto"`` recognises them).

Nothing is lost: every row either lands in the flow table or in the rejects ledger with the file, the
line and the reason, and each file's input value equals its accepted plus rejected value (USD; a value
that is missing, suppressed or not a number counts as 0 and its row is rejected).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tariffcalc.errors import FlowsError, UnknownCodeError, suggest
from tariffcalc.read import FIELDS, REQUIRED, SOURCES, UNITS, adapters, cells, tables
from tariffcalc.read.cells import MAX_VALUE_USD
from tariffcalc.reference import countries, hs
from tariffcalc.util.hashing import sha256_file
from tariffcalc.util.progress import Progress
from tariffcalc.util.text import neutralise

if TYPE_CHECKING:
    from tariffcalc.read.stream import PairTotals

__all__ = [
    "FIELDS",
    "ISSUE_COLUMNS",
    "KINDS",
    "REJECT_COLUMNS",
    "REQUIRED",
    "SOURCES",
    "UNITS",
    "FileReport",
    "FlowSet",
    "describe_files",
    "load_flows",
    "read_flows",
    "read_flowset",
]

REJECT_COLUMNS = ("source_file", "line", "reason", "value_usd_parsed")
ISSUE_COLUMNS = ("source_file", "line", "column", "kind", "reason", "value_usd", "cell")
KINDS = {
    "bad_row": "wrong number of fields",
    "missing": "missing value",
    "suppressed": "suppressed value",
    "not_numeric": "value not a number",
    "negative": "negative value",
    "too_large": "implausibly large value",
    "unknown_partner": "unknown partner",
    "aggregate_partner": "aggregate partner (World, group, area)",
    "malformed_hs": "malformed HS code",
    "aggregate_product": "aggregate product (a total of other rows)",
    "bad_period": "bad period",
    "other_reporter": "another reporter",
    "not_imports": "not imports",
    "breakdown": "breakdown of another row",
    "duplicate": "duplicate key",
}
"""Kinds of rejected rows (the ``kind`` of :attr:`FlowSet.issues`) and their names in reports."""


@dataclasses.dataclass(frozen=True)
class FileReport:
    """Reconciliation of one input file: input value = accepted value + rejected value (USD).

    Also how the file was read (``source`` adapter and ``how`` it was chosen, ``encoding``, ``delimiter``,
    ``number_format``, ``units``, ``header_line``), codes repaired (lost leading zeros), value whose code is
    not in the bundled HS 2022 nomenclature (accepted, described by a coarser level or not at all), and
    ``notes`` on anything else the reader did (rows of other data types, title lines, recoded partners).
    """

    path: str
    sha256: str
    rows: int
    accepted_rows: int
    rejected_rows: int
    input_value_usd: float
    accepted_value_usd: float
    rejected_value_usd: float
    source: str = "canonical"
    how: str = ""
    encoding: str = ""
    delimiter: str = ""
    number_format: str = ""
    units: str = "usd"
    header_line: int = 1
    blank_lines: int = 0
    repaired_rows: int = 0
    repaired_value_usd: float = 0.0
    not_in_nomenclature_rows: int = 0
    not_in_nomenclature_value_usd: float = 0.0
    notes: tuple[str, ...] = ()


def _no_issues() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype=float if c == "value_usd" else object) for c in ISSUE_COLUMNS}
    )


@dataclasses.dataclass
class FlowSet:
    """Accepted flows (canonical table), the rejects ledger, and one reconciliation report per file.

    ``issues`` has one row per rejected row, in the ledger's order, saying which column of the file is at
    fault, the kind of problem (:data:`KINDS`) and the offending cell.
    """

    flows: pd.DataFrame
    rejects: pd.DataFrame
    files: list[FileReport]
    issues: pd.DataFrame = dataclasses.field(default_factory=_no_issues)

    @property
    def rejected_value_usd(self) -> float:
        return float(sum(f.rejected_value_usd for f in self.files))

    @property
    def input_value_usd(self) -> float:
        return float(sum(f.input_value_usd for f in self.files))

    def problems(self, examples: int = 3) -> list[dict[str, object]]:
        """Rejected rows by kind: rows, value (USD) and the first ``examples`` as ``file:line:column``."""
        out = []
        for kind, group in self.issues.groupby("kind", sort=False):
            shown = group.drop_duplicates(["source_file", "line", "column", "reason"]).head(examples)
            out.append(
                {
                    "kind": kind,
                    "label": KINDS.get(kind, kind),
                    "rows": len(group),
                    "value_usd": float(group["value_usd"].sum()),
                    "examples": [
                        {"where": _where(r), "reason": r["reason"], "cell": r["cell"]}
                        for r in shown.to_dict("records")
                    ],
                }
            )
        return sorted(out, key=lambda p: (-p["rows"], p["kind"]))


def _where(issue: Mapping[str, object]) -> str:
    column = f":{issue['column']}" if issue["column"] else ""
    return f"{issue['source_file']}:{issue['line']}{column}"


# ------------------------------------------------------------------------------------------------ reading


@dataclasses.dataclass
class _Read:
    accepted: pd.DataFrame
    rejects: pd.DataFrame
    issues: pd.DataFrame
    report: FileReport


def read_flows(
    path: str | Path,
    importer: str = "USA",
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
) -> tuple[pd.DataFrame, pd.DataFrame, FileReport]:
    """Read one flow file: (accepted flows, rejected rows, reconciliation report).

    ``source`` is the adapter (``auto``, ``canonical``, ``census``, ``dataweb``, ``comtrade``),
    ``column_map`` renames the file's columns to canonical fields (``{"Amount": "value_usd"}``), ``units``
    is what the file's amounts are in (``usd``, ``thousands``, ``millions``; converted to USD).
    """
    read = _read(Path(path), importer, source, column_map, units)
    return read.accepted, read.rejects, read.report


class _Verdicts:
    """Per row: the first problem found (kind) and its reason; reasons are built only for rejected rows."""

    def __init__(self, kind: np.ndarray, reason: np.ndarray):
        self.kind = kind
        self.reason = reason

    def flag(self, mask: np.ndarray, kind, reason) -> None:
        """Rows in ``mask`` without a problem yet get ``kind`` (text or per-row array) and ``reason`` (text,
        per-row array, or a function of the row positions that returns the texts)."""
        fresh = np.flatnonzero(mask & (self.kind == ""))
        if not len(fresh):
            return
        self.kind[fresh] = kind[fresh] if isinstance(kind, np.ndarray) else kind
        if callable(reason):
            self.reason[fresh] = reason(fresh)
        else:
            self.reason[fresh] = reason[fresh] if isinstance(reason, np.ndarray) else reason


def _read(path: Path, importer: str, source: str, column_map: Mapping[str, str] | None, units: str) -> _Read:
    if units not in UNITS:
        raise FlowsError(f"Unknown units {units!r}: use one of {', '.join(UNITS)}." + suggest(units, UNITS))
    raw = tables.read_table(path, adapters.header_score)
    adapted = adapters.adapt(raw, source, column_map)
    n = len(adapted.src)
    verdict = _Verdicts(adapted.kind.copy(), adapted.reason.copy())

    def value_text(rows: np.ndarray) -> np.ndarray:
        return _text(adapted.value.iloc[rows])

    value, value_kind, number_format = cells.read_money(adapted.value, raw.delimiter)
    value = value * UNITS[units]
    verdict.flag(value_kind == "missing", "missing", "missing value_usd")
    verdict.flag(
        value_kind == "suppressed",
        "suppressed",
        lambda rows: (
            "suppressed value " + _quoted(value_text(rows)) + " (withheld by the source: unknown, not used)"
        ),
    )
    verdict.flag(
        value_kind == "not_numeric",
        "not_numeric",
        lambda rows: "value_usd is not a number: " + _cut(value_text(rows), 40),
    )
    too_large = np.abs(value) > MAX_VALUE_USD
    verdict.flag(
        too_large,
        "too_large",
        lambda rows: (
            "value_usd "
            + _cut(value_text(rows), 24)
            + f" is implausible: beyond ${MAX_VALUE_USD:,.0f} (world trade is about $25 trillion a year); "
            "a unit or typing error?"
        ),
    )
    value[too_large] = np.nan
    verdict.flag(value < 0, "negative", "negative value_usd")
    partner = adapted.partner
    partner_kind = partner.rows("kind")
    verdict.flag(partner_kind != "", partner_kind, lambda rows: partner.reason[partner.ids[rows]])
    codes = cells.read_codes(adapted.hs)
    code_kind = codes.rows("kind")
    verdict.flag(code_kind == "malformed", "malformed_hs", lambda rows: codes.reason[codes.ids[rows]])
    periods = cells.read_periods(adapted.period if adapted.period is not None else pd.Series([""] * n))
    verdict.flag(periods.rows("kind") != "", "bad_period", lambda rows: periods.reason[periods.ids[rows]])
    reporter = None
    if adapted.reporter is not None:
        reporter = _reporters(adapted.reporter)
        who = reporter.rows("value")
        verdict.flag(
            (who != importer) & (who != ""),
            "other_reporter",
            lambda rows: "reporter " + who[rows] + f" is not the scenario's importer {importer}",
        )
    key_ok = np.isin(verdict.kind, ("", "missing", "suppressed", "not_numeric", "negative", "too_large"))
    first_line = _duplicates(adapted, raw, codes, periods, key_ok)
    verdict.flag(
        first_line > 0, "duplicate", lambda rows: "duplicate of line " + first_line[rows].astype(str)
    )
    finer = _totals_of_finer_rows(adapted, codes, periods, verdict.kind == "")
    verdict.flag(
        finer > 0,
        "aggregate_product",
        lambda rows: (
            "HS "
            + codes.value[codes.ids[rows]]
            + " is the total of finer codes in this file (e.g. line "
            + finer[rows].astype(str)
            + "): counted through them, not twice"
        ),
    )

    bad = verdict.kind != ""
    rows = np.flatnonzero(bad)
    bad_period = periods.kind != ""
    accepted = _accepted(adapted, raw, ~bad, codes, periods, value, reporter, importer, units)
    rejects, issues = _ledger(adapted, raw, rows, verdict, value, periods, value_text(rows))
    values = np.nan_to_num(value)
    repaired = code_kind == "repaired"
    known = np.array([hs.in_nomenclature(c) for c in codes.value], dtype=bool)
    unknown = ~known[codes.ids] & ~bad
    report = FileReport(
        path=str(path),
        sha256=raw.sha256,
        rows=n + len(raw.bad_rows),
        accepted_rows=n - len(rows),
        rejected_rows=len(rows) + len(raw.bad_rows),
        input_value_usd=float(values.sum()),
        accepted_value_usd=float(values[~bad].sum()),
        rejected_value_usd=float(values[rows].sum()),
        source=adapted.source,
        how=adapted.how,
        encoding=raw.encoding,
        delimiter=tables.DELIMITER_NAMES[raw.delimiter],
        number_format=number_format if raw.delimiter else "",
        units=units,
        header_line=raw.header_line,
        blank_lines=raw.blank_lines,
        repaired_rows=int(repaired.sum()),
        repaired_value_usd=float(values[repaired].sum()),
        not_in_nomenclature_rows=int(unknown.sum()),
        not_in_nomenclature_value_usd=float(values[unknown].sum()),
        notes=tuple(adapted.notes)
        + _reading_notes(raw, adapted, codes, repaired, periods.value[~bad_period])
        + _overlapping_periods(adapted, codes, periods, ~bad)
        + _number_format_note(adapted, raw.delimiter, number_format),
    )
    return _Read(accepted, rejects, issues, report)


def _text(column: pd.Series) -> np.ndarray:
    """Cells as text (whole floats of Parquet files without ".0")."""
    return np.array([cells.as_text(c) for c in column.to_numpy(dtype=object)], dtype=object)


def _quoted(values: np.ndarray) -> np.ndarray:
    return np.array([repr(tables.shown(v)) for v in values], dtype=object)


def _cut(values: np.ndarray, width: int) -> np.ndarray:
    return np.array([tables.shown(v, width) for v in values], dtype=object)


def _reporters(column: pd.Series) -> cells.Distinct:
    """Reporter cells as ISO3 where they name a country ("usa", "United States"); blank stays blank."""

    def one(text: str) -> tuple[str, str, str]:
        text = text.strip()
        try:
            return (countries.to_iso3(text) if text else ""), "", ""
        except UnknownCodeError:
            return text.upper(), "", ""

    return cells.Distinct.read(column, one)


def _duplicates(adapted, raw, codes, periods, key_ok) -> np.ndarray:
    """For each row repeating the key of an earlier row (partner, code, period and any breakdown columns
    of the source): the line of the first such row; 0 elsewhere. Rows with a bad key are not compared."""
    out = np.zeros(len(key_ok), dtype=np.int64)
    rows = np.flatnonzero(key_ok)
    if not len(rows):
        return out
    parts = [adapted.partner.key(), codes.key(), periods.key()]
    parts += [pd.factorize(adapted.frame[c])[0][adapted.src] for c in adapted.key_extras]
    keys = pd.DataFrame({i: part[rows] for i, part in enumerate(parts)})
    repeated = keys.duplicated(keep="first").to_numpy()
    if repeated.any():
        group = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
        first = pd.Series(adapted.line[rows]).groupby(group).transform("min").to_numpy()
        out[rows[repeated]] = first[repeated]
    return out


def _totals_of_finer_rows(adapted, codes, periods, usable) -> np.ndarray:
    """For each usable row whose code is a prefix of another usable row's code with the same partner and
    period (a subtotal, e.g. HS 0101 beside 0101210010): the line of one such finer row; 0 elsewhere."""
    out = np.zeros(len(usable), dtype=np.int64)
    rows = np.flatnonzero(usable)
    code_id, distinct = pd.factorize(codes.value)
    lengths = np.array([len(c) for c in distinct], dtype=np.int64)
    if len(rows) < 2 or len(set(lengths)) < 2:
        return out
    where = {c: i for i, c in enumerate(distinct)}
    row_code = code_id[codes.ids[rows]]
    group = pd.DataFrame({"p": adapted.partner.key()[rows], "t": periods.key()[rows]})
    group = group.groupby(["p", "t"], sort=False).ngroup().to_numpy().astype(np.int64)
    width = len(distinct)
    own = group * width + row_code
    line = adapted.line[rows]
    for level in sorted(set(lengths))[:-1]:
        parent_of = np.array([where.get(c[:level], -1) if len(c) > level else -1 for c in distinct], np.int64)
        parent = parent_of[row_code]
        finer = parent >= 0
        if not finer.any():
            continue
        first_child = pd.Series(line[finer]).groupby(group[finer] * width + parent[finer]).min()
        hit = (lengths[row_code] == level) & np.isin(own, first_child.index.to_numpy())
        out[rows[hit]] = first_child.reindex(own[hit]).to_numpy()
    return out


def _text_column(distinct: cells.Distinct, keep: np.ndarray, original: pd.Series | None) -> pd.Series:
    """Accepted rows of a text field: the file's own column when nothing changed, else built in Arrow."""
    import pyarrow as pa

    if original is not None and distinct.unchanged and pd.api.types.is_string_dtype(original.dtype):
        return original[keep].reset_index(drop=True)
    indices = pa.array(distinct.ids[keep].astype(np.int32))
    dictionary = pa.array([str(v) for v in distinct.value], type=pa.string())
    return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string()).to_pandas()


def _accepted(adapted, raw, keep, codes, periods, value, reporter, importer, units) -> pd.DataFrame:
    """The canonical table of accepted rows. Canonical files keep their column order and extra columns."""
    fields = adapted.fields
    original = {
        f: adapted.frame[c] for f, c in fields.items() if adapted.source == "canonical" and c in adapted.frame
    }
    columns = {
        "partner": _text_column(adapted.partner, keep, original.get("partner")),
        "hs": _text_column(codes, keep, original.get("hs")),
        "period": _text_column(periods, keep, original.get("period")),
        "value_usd": value[keep],
    }
    if reporter is not None:
        filled = dataclasses.replace(reporter, value=np.where(reporter.value == "", importer, reporter.value))
        columns["reporter"] = _text_column(filled, keep, None)
    if adapted.source == "canonical":
        frame = adapted.frame.loc[keep].reset_index(drop=True)
        frame = frame.rename(columns={c: f for f, c in fields.items() if c in frame.columns})
        for name, column in columns.items():
            frame[name] = column
        return frame
    frame = pd.DataFrame(columns)
    for name in adapted.extras.columns:
        extra = adapted.extras[name]
        if name in adapted.money_extras:
            amounts, _, _ = cells.read_money(extra, raw.delimiter)
            frame[name] = amounts[keep] * UNITS[units]
        else:
            frame[name] = extra.to_numpy(dtype=object)[keep]
    return frame


def _ledger(adapted, raw, rows, verdict, value, periods, value_text) -> tuple[pd.DataFrame, pd.DataFrame]:
    """rejects.csv rows and the matching issues (kind, column, cell), in the order of the file."""
    shown = adapted.frame.iloc[adapted.src[rows]][adapted.raw_columns].reset_index(drop=True)
    shown.columns = [neutralise(adapted.shown(c)) for c in shown.columns]  # a header cell "=…" stays text
    shown = pd.DataFrame(
        {c: _text(shown[c]) for c in shown.columns}, index=shown.index, columns=shown.columns
    )
    if adapted.cell_column:
        shown[adapted.cell_column] = value_text
    shown = shown.rename(columns={c: f"raw_{c}" for c in shown.columns if c in REJECT_COLUMNS})
    where = {"source_file": str(raw.path), "line": adapted.line[rows].astype(np.int64)}
    rejects = pd.DataFrame(
        {**where, "reason": verdict.reason[rows], "value_usd_parsed": np.nan_to_num(value[rows])}
    )
    rejects = pd.concat([rejects, shown], axis=1)
    column, cell = _issue_cells(adapted, raw, rows, verdict.kind, periods, value_text)
    issues = pd.DataFrame(
        {
            **where,
            "column": column,
            "kind": verdict.kind[rows],
            "reason": verdict.reason[rows],
            "value_usd": np.nan_to_num(value[rows]),
            "cell": cell,
        }
    )
    if not len(raw.bad_rows):
        return rejects, issues
    bad = raw.bad_rows
    why = [
        _field_count_reason(text, fields, raw.header_cells)
        for text, fields in zip(bad["text"], bad["fields"], strict=True)
    ]
    where = {"source_file": str(raw.path), "line": bad["line"].to_numpy(np.int64)}
    rejects = pd.concat(
        [
            rejects,
            pd.DataFrame(
                {
                    **where,
                    "reason": why,
                    "value_usd_parsed": 0.0,
                    "raw_line": [tables.shown(t, 200) for t in bad["text"]],
                }
            ),
        ],
        ignore_index=True,
    )
    issues = pd.concat(
        [
            issues,
            pd.DataFrame(
                {
                    **where,
                    "column": "",
                    "kind": "bad_row",
                    "reason": why,
                    "value_usd": 0.0,
                    "cell": [tables.shown(t, 60) for t in bad["text"]],
                }
            ),
        ],
        ignore_index=True,
    )
    order = np.argsort(rejects["line"].to_numpy(), kind="stable")
    return rejects.iloc[order].reset_index(drop=True), issues.iloc[order].reset_index(drop=True)


def _field_count_reason(text: str, fields: int, expected: int) -> str:
    if text.count('"') % 2:
        why = "an unclosed quote?"
    elif fields < expected:
        why = "a truncated line?"
    else:
        why = "an unquoted delimiter inside a cell?"
    return f"{fields} field(s) where the header has {expected} ({why}); the row cannot be read"


def _issue_cells(adapted, raw, rows, kind, periods, value_text) -> tuple[np.ndarray, np.ndarray]:
    """The file column at fault and its cell, for each rejected row."""
    fields = adapted.fields
    value_column = adapted.value_column[rows]
    column = np.full(len(rows), "", dtype=object)
    cell = np.full(len(rows), "", dtype=object)
    kinds = kind[rows]
    by_field = {
        "partner": ("unknown_partner", "aggregate_partner"),
        "hs": ("malformed_hs", "aggregate_product"),
        "reporter": ("other_reporter",),
        "flow": ("not_imports",),
    }
    for field, field_kinds in by_field.items():
        mine = np.isin(kinds, field_kinds)
        name = fields.get(field, "")
        if mine.any() and name in adapted.frame.columns:
            column[mine] = adapted.shown(name)
            cell[mine] = _text(adapted.frame[name].iloc[adapted.src[rows[mine]]])
    value_column = np.array([adapted.shown(c) for c in value_column], dtype=object)
    mine = np.isin(kinds, ("missing", "suppressed", "not_numeric", "negative", "too_large"))
    column[mine], cell[mine] = value_column[mine], value_text[mine]
    mine = kinds == "bad_period"
    column[mine] = adapted.shown(fields["period"]) if "period" in fields else value_column[mine]
    cell[mine] = periods.raw[periods.ids[rows[mine]]]
    mine = kinds == "duplicate"
    column[mine] = "+".join(adapted.shown(fields[f]) for f in ("partner", "hs", "period") if f in fields)
    if adapted.kind_column is not None:
        named = adapted.kind_column[rows]
        for name in set(named[named != ""]):
            mine = named == name
            column[mine] = adapted.shown(name)
            cell[mine] = _text(adapted.frame[name].iloc[adapted.src[rows[mine]]])
    return column, cell


def _reading_notes(raw, adapted, codes, repaired, periods) -> tuple[str, ...]:
    notes = []
    years = sorted({p[:4] for p in periods if p})
    if len(years) > 1:
        notes.append(
            f"the file spans the years {years[0]}–{years[-1]}: a run adds them up; keep one year to compare "
            "with yearly figures"
        )
    if raw.title_lines:
        notes.append(f"{raw.title_lines} title line(s) above the header (line {raw.header_line}) skipped")
    if raw.blank_lines:
        notes.append(f"{raw.blank_lines} blank line(s) skipped")
    named = (adapted.partner.rows("kind") == "") & (adapted.partner.rows("reason") != "")
    if named.any():
        first = np.flatnonzero(named)[0]
        notes.append(
            f"{int(named.sum())} row(s) name their partner instead of giving its ISO3 code, read with the "
            f"bundled country table (e.g. line {adapted.line[first]}: {adapted.partner.rows('reason')[first]})"
        )
    if repaired.any():
        first = np.flatnonzero(repaired)[0]
        before, after = codes.raw[codes.ids[first]], codes.value[codes.ids[first]]
        notes.append(
            f"{int(repaired.sum())} code(s) had lost their leading zero and were repaired "
            f"(e.g. line {adapted.line[first]}: {before} → {after})"
        )
    return tuple(notes)


def _overlapping_periods(adapted, codes, periods, usable) -> tuple[str, ...]:
    """A note when one partner and product has rows for periods that overlap — a row without a period
    beside dated ones, or a year beside its months — since all of them are added up."""
    rows = np.flatnonzero(usable)
    period = periods.rows("value")[rows].astype(str)
    kind = np.char.str_len(period.astype("U7"))  # 0: none, 4: a year, 7: a month
    if len(np.unique(kind)) < 2:
        return ()
    frame = pd.DataFrame(
        {
            "partner": adapted.partner.rows("value")[rows],
            "code": codes.rows("value")[rows],
            "year": np.char.ljust(period.astype("U7"), 4).astype("U4"),
            "blank": kind == 0,
            "annual": kind == 4,
            "monthly": kind == 7,
            "line": adapted.line[rows],
            "period": period,
        }
    )
    pair = frame.groupby(["partner", "code"], sort=False)["blank"]
    undated = pair.transform("any") & ~pair.transform("all")
    year = frame.groupby(["partner", "code", "year"], sort=False)
    both = year["annual"].transform("any") & year["monthly"].transform("any") & ~frame["blank"]
    flagged = frame[undated.to_numpy() | both.to_numpy()]
    if flagged.empty:
        return ()
    first = flagged.iloc[0]
    example = flagged[(flagged["partner"] == first["partner"]) & (flagged["code"] == first["code"])].head(3)
    shown = ", ".join(f"line {r.line} ({r.period or 'no period'})" for r in example.itertuples())
    pairs = len(flagged.drop_duplicates(["partner", "code"]))
    return (
        f"{pairs:,} partner-product pair(s) have rows for overlapping periods, and all are added up "
        f"(e.g. {first['partner']} {first['code']}: {shown}); keep one kind of period — a year or its "
        "months, each row with its period",
    )


def _number_format_note(adapted, delimiter: str, number_format: str) -> tuple[str, ...]:
    """A note when one cell such as ``2,5`` made the file's numbers read with a decimal comma, which turns
    ``1,500`` elsewhere into 1.5 (a ``;`` file reads the decimal comma anyway)."""
    if number_format != cells.COMMA or delimiter == ";" or not isinstance(adapted.value, pd.Series):
        return ()
    if pd.api.types.is_numeric_dtype(adapted.value.dtype):
        return ()
    found = cells.comma_conflict(adapted.value)
    if found is None:
        return ()
    (proof, other), lines = found, adapted.line[list(found)]
    proof_text, other_text = (cells.as_text(adapted.value.iloc[i]).strip() for i in (proof, other))
    read, meant = (
        cells.read_money(pd.Series([other_text]), style=cells.COMMA)[0][0],
        other_text.replace(",", ""),
    )
    return (
        f"numbers are read with a decimal comma because of {proof_text!r} on line {lines[0]}, so "
        f"{other_text!r} on line {lines[1]} is {read:g}, not {meant}; if commas separate thousands in this "
        f"file, correct line {lines[0]}",
    )


# ------------------------------------------------------------------------------------------------ loading


def read_flowset(
    path: str | Path,
    importer: str = "USA",
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    aggregate: bool = False,
    progress: Progress | None = None,
) -> FlowSet:
    """One file as a :class:`FlowSet` (with its issues), never raising for rejected rows (``validate``).

    With ``aggregate``, a clean file in the canonical layout takes the streaming fast path
    (:mod:`tariffcalc.read.stream`): read in chunks and summed by (partner, hs) pair over its periods, so memory
    does not grow with rows — all a static run needs. Any doubt about any row sends the file to the careful
    reader instead, which repairs what it can and reports the rest with line numbers.
    """
    if aggregate and source in ("auto", "canonical") and not column_map and units == "usd":
        fast = _fast_path(Path(path), importer, progress)
        if fast is not None:
            return fast
    read = _read(Path(path), importer, source, column_map, units)
    return FlowSet(flows=read.accepted, rejects=read.rejects, files=[read.report], issues=read.issues)


def _fast_path(path: Path, importer: str, progress: Progress | None = None) -> FlowSet | None:
    """The file summed by pair if it is clean and canonical (see :func:`tariffcalc.read.stream.pair_totals`)."""
    from tariffcalc.read import stream

    if not path.is_file():
        return None
    totals = stream.pair_totals(path, importer, progress)
    if totals is None:
        return None
    parquet = path.suffix.lower() == ".parquet"
    return pair_flowset(
        totals,
        str(path),
        totals.sha256 or sha256_file(path),
        parquet,
        "streamed and summed by partner and product",
    )


def pair_flowset(totals: PairTotals, path: str, digest: str, parquet: bool, how: str) -> FlowSet:
    """The :class:`FlowSet` of one clean canonical input summed by pair (``how``: how it was summed).

    ``partner``, ``hs`` and ``period`` are categoricals built on the totals' integer indices: millions of
    pairs cost no Python strings, and :func:`tariffcalc.engine.duties.compute` uses the codes directly.
    """
    seen = sorted(p for p in totals.periods if p)
    period = seen[0] if len(seen) == 1 else ""  # pairs are summed over periods; keep a single one
    flows = pd.DataFrame(
        {
            "partner": pd.Categorical.from_codes(totals.partner_index, _categories(totals.partners)),
            "hs": pd.Categorical.from_codes(totals.code_index, _categories(totals.codes)),
            "period": pd.Categorical.from_codes(np.zeros(len(totals.value), np.int8), _categories([period])),
            "value_usd": totals.value,
        }
    )
    unknown = np.array([not hs.in_nomenclature(code) for code in totals.codes], dtype=bool)
    total = float(np.sum(totals.value))  # pairs come sorted, so the sum is the same on every run
    report = FileReport(
        path=path,
        sha256=digest,
        rows=totals.rows,
        accepted_rows=totals.rows,
        rejected_rows=0,
        input_value_usd=total,
        accepted_value_usd=total,
        rejected_value_usd=0.0,
        source="canonical",
        how=f"clean canonical file, {how}",
        encoding="parquet" if parquet else "utf-8",
        delimiter="" if parquet else "comma",
        number_format="plain",
        not_in_nomenclature_rows=int(totals.code_rows[unknown].sum()),
        not_in_nomenclature_value_usd=float(np.sum(totals.value[unknown[totals.code_index]])),
    )
    ledger = pd.DataFrame(columns=[*REJECT_COLUMNS, *totals.columns])
    return FlowSet(flows=flows, rejects=ledger, files=[report], issues=_no_issues())


def _categories(values) -> pd.Index:
    """Categories of text held as Python strings (object), as in the careful reader's tables."""
    return pd.Index(np.asarray(values, dtype=object), dtype=object)


def load_flows(
    paths: list[str | Path] | str | Path | None = None,
    importer: str = "USA",
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    strict: bool = False,
    aggregate: bool = False,
    progress: Progress | None = None,
) -> FlowSet:
    """Read one or more flow files (default: the bundled 2024 US imports) into one :class:`FlowSet`.

    See :func:`read_flows` for ``source``, ``column_map`` and ``units``. With ``strict``, any rejected row
    is an error (:class:`FlowsError` naming the first few). An error too when no row at all can be used.
    With ``aggregate``, clean canonical files come back summed by (partner, hs) with ``period`` empty
    (see :func:`read_flowset`): enough for static duties, and memory stays bounded on huge files.
    """
    from tariffcalc.reference import bundled

    if paths is None or (isinstance(paths, list | tuple) and not paths):
        paths = [bundled.default_flows_path()]
    if isinstance(paths, str | Path):
        paths = [paths]
    parts = [read_flowset(path, importer, source, column_map, units, aggregate, progress) for path in paths]
    return combine_flowsets(parts, strict)


def combine_flowsets(parts: list[FlowSet], strict: bool = False) -> FlowSet:
    """One :class:`FlowSet` of the files of ``parts``; :class:`FlowsError` as :func:`load_flows` says."""
    flows = pd.concat([p.flows for p in parts], ignore_index=True)
    with_rows = [p.rejects for p in parts if len(p.rejects)]
    ledger = pd.concat(with_rows, ignore_index=True) if with_rows else parts[0].rejects
    with_issues = [p.issues for p in parts if len(p.issues)]
    issues = pd.concat(with_issues, ignore_index=True) if with_issues else _no_issues()
    flowset = FlowSet(flows=flows, rejects=ledger, files=[p.files[0] for p in parts], issues=issues)
    if strict and len(issues):
        raise FlowsError(_strict_message(flowset))
    if flowset.flows.empty:
        raise FlowsError(_empty_message(flowset))
    return flowset


def _strict_message(flowset: FlowSet) -> str:
    rows = len(flowset.issues)
    first = "; ".join(f"{_where(r)}: {r['reason']}" for r in flowset.issues.head(3).to_dict("records"))
    more = f"; and {rows - 3} more" if rows > 3 else ""
    return (
        f"--strict: {rows} row(s) rejected (${flowset.rejected_value_usd:,.2f} of "
        f"${flowset.input_value_usd:,.2f}): {first}{more}. Fix them or run without --strict "
        "(`tariffcalc validate FILES` lists every problem)."
    )


def _empty_message(flowset: FlowSet) -> str:
    names = ", ".join(f.path for f in flowset.files)
    rows = sum(f.rows for f in flowset.files)
    if not rows:
        return f"No flows to compute: {names} has a header but no data rows."
    kinds = ", ".join(f"{p['rows']} {p['label']}" for p in flowset.problems(examples=0))
    return (
        f"No flows to compute: all {rows} row(s) of {names} were rejected ({kinds}); "
        "`tariffcalc validate FILES` shows where."
    )


def describe_files(files: list[Mapping[str, Any]]) -> list[str]:
    """One line per file on how it was read, from the ``files`` of ``summary.json`` (for stderr)."""
    lines = []
    for f in files:
        parts = [f"{f['source']} ({f['how']})"]
        if f["encoding"] and f["encoding"] != "parquet":
            parts.append(f["encoding"])
        if f["delimiter"] and f["delimiter"] != "comma":
            parts.append(f"{f['delimiter']}-separated")
        if f["units"] != "usd":
            parts.append(f"amounts in {f['units']} of USD")
        parts.append(f"{f['rows']:,} rows, {f['rejected_rows']:,} rejected")
        if f["repaired_rows"]:
            parts.append(f"{f['repaired_rows']:,} code(s) repaired")
        lines.append(f"Read {f['path']}: " + "; ".join(parts))
    return lines
