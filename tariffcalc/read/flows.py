"""Read trade flows into the canonical flow table, rejecting bad rows into a ledger.

Canonical columns (DESIGN.md): ``partner`` (ISO3 of origin), ``hs`` (2–10 digits as text), ``period``
(``YYYY`` or ``YYYY-MM``, optional), ``value_usd`` (customs value, USD, ≥ 0) and optional ``reporter``
(importer, ISO3). Other columns travel along unchanged. Files from US Census, USITC DataWeb and UN Comtrade
are mapped onto these columns by :mod:`tariffcalc.read.adapters` (``source="auto"`` recognises them), and a
pandas DataFrame is read like a file. Everything is read by the one reader, :mod:`tariffcalc.read.stream`.

Nothing is lost: every row either lands in the flow table or in the rejects ledger with the file, the
line and the reason, and each input's value equals its accepted plus rejected value (USD; a value that is
missing, suppressed or not a number counts as 0 and its row is rejected). Rows that share a (partner, hs,
period) key are added up and counted (``duplicates="reject"`` rejects all but the first instead).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tariffcalc.errors import FlowsError
from tariffcalc.read import FIELDS, REQUIRED, SOURCES, UNITS, cells, stream, tables
from tariffcalc.read.stream import DUPLICATES, ISSUE_COLUMNS, REJECT_COLUMNS, PairTotals
from tariffcalc.reference import hs
from tariffcalc.util.hashing import sha256_file
from tariffcalc.util.progress import Progress

__all__ = [
    "DUPLICATES",
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
    """Reconciliation of one input: input value = accepted value + rejected value (USD).

    Also how the input was read (``source`` adapter and ``how`` it was chosen, ``encoding``, ``delimiter``,
    ``number_format``, ``units``, ``header_line``), codes repaired (lost leading zeros), value whose code is
    not in the bundled HS 2022 nomenclature (accepted, described by a coarser level or not at all), the
    (partner, hs, period) keys on more than one row (``repeated_keys``, with ``repeated_rows`` rows: summed,
    or all but the first rejected when ``duplicates`` is "reject"), the periods of the accepted rows, and
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
    repeated_keys: int = 0
    repeated_rows: int = 0
    duplicates: str = "sum"
    periods: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _no_issues() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series([], dtype=float if c == "value_usd" else object) for c in ISSUE_COLUMNS}
    )


@dataclasses.dataclass
class FlowSet:
    """Accepted flows (canonical table), the rejects ledger, and one reconciliation report per input.

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

    @property
    def repeated_keys(self) -> int:
        """(partner, hs, period) keys on more than one row, over all inputs (each input on its own)."""
        return int(sum(f.repeated_keys for f in self.files))

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


def read_flows(
    path: str | Path,
    importer: str = "USA",
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    duplicates: str = "sum",
) -> tuple[pd.DataFrame, pd.DataFrame, FileReport]:
    """Read one flow file: (accepted flows, rejected rows, reconciliation report).

    ``source`` is the adapter (``auto``, ``canonical``, ``census``, ``dataweb``, ``comtrade``),
    ``column_map`` renames the file's columns to canonical fields (``{"Amount": "value_usd"}``), ``units``
    is what the file's amounts are in (``usd``, ``thousands``, ``millions``; converted to USD).
    """
    flowset = read_flowset(path, importer, source, column_map, units, duplicates=duplicates)
    return flowset.flows, flowset.rejects, flowset.files[0]


def read_flowset(
    path: str | Path | pd.DataFrame,
    importer: str = "USA",
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    aggregate: bool = False,
    progress: Progress | None = None,
    duplicates: str = "sum",
) -> FlowSet:
    """One input (a file or a DataFrame) as a :class:`FlowSet`, never raising for rejected rows (``validate``).

    With ``aggregate``, the flows come back summed by (partner, hs) pair over the periods (see
    :func:`pair_flows`): all a static run needs, and memory does not grow with rows. Without it, the
    accepted rows themselves, in input order.
    """
    options = stream.Options(importer, source, column_map, units, duplicates, rows=not aggregate)
    return flowset_of(
        stream.read_input(path if isinstance(path, pd.DataFrame) else Path(path), options, progress)
    )


def flowset_of(reading: stream.Reading, how: str = "") -> FlowSet:
    """The :class:`FlowSet` of one input read by :func:`tariffcalc.read.stream.read_input` (``how``: an
    engine's words on how it was read, added to the layout's)."""
    plan, totals = reading.plan, reading.totals
    flows = reading.table if reading.table is not None else pair_flows(totals)
    ledger = reading.ledger
    where = {"source_file": plan.path, "line": ledger["line"].astype(np.int64).to_numpy()}
    shown = [
        c for c in ledger.columns if not c.startswith("_") and c not in ("line", "reason", "value_usd_parsed")
    ]
    rejects = pd.DataFrame(
        {
            **where,
            "reason": ledger["reason"].to_numpy(dtype=object),
            "value_usd_parsed": ledger["value_usd_parsed"].to_numpy(dtype=float),
            **{c: ledger[c].to_numpy(dtype=object) for c in shown},
        }
    )
    if "raw_line" in rejects.columns:  # rows that could not be split into fields come last
        rejects["raw_line"] = rejects["raw_line"].where(rejects["raw_line"].notna(), "")
        rejects = rejects[[c for c in rejects.columns if c != "raw_line"] + ["raw_line"]]
    for name in shown:
        if name != "raw_line":
            rejects[name] = rejects[name].where(rejects[name].notna(), "")
    issues = pd.DataFrame(
        {
            **where,
            "column": ledger["_column"].to_numpy(dtype=object),
            "kind": ledger["_kind"].to_numpy(dtype=object),
            "reason": ledger["reason"].to_numpy(dtype=object),
            "value_usd": ledger["value_usd_parsed"].to_numpy(dtype=float),
            "cell": ledger["_cell"].to_numpy(dtype=object),
        }
    )
    return FlowSet(flows=flows, rejects=rejects, files=[_report(reading, how)], issues=issues)


def _report(reading: stream.Reading, how: str) -> FileReport:
    plan, sums, totals = reading.plan, reading.sums, reading.totals
    head = plan.head
    accepted = float(np.sum(totals.value))  # pairs come sorted, so the sum is the same on every run
    rejected = float(sums.rejected_value)
    unknown = np.array([not hs.in_nomenclature(code) for code in totals.codes], dtype=bool)
    encoding = "parquet" if plan.parquet else (head.encoding if head is not None else "")
    if sums.replaced:
        encoding = f"{encoding} ({sums.replaced} undecodable byte(s) replaced by U+FFFD)"
    rejected_rows = len(reading.ledger)
    return FileReport(
        path=plan.path,
        sha256=reading.sha256,
        rows=totals.rows + rejected_rows,
        accepted_rows=totals.rows,
        rejected_rows=rejected_rows,
        input_value_usd=accepted + rejected,
        accepted_value_usd=accepted,
        rejected_value_usd=rejected,
        source=plan.layout.source,
        how=plan.layout.how + (f"; {how}" if how else ""),
        encoding=encoding,
        delimiter=tables.DELIMITER_NAMES[head.delimiter] if head is not None else "",
        number_format=plan.style if head is not None else "",
        units=next(u for u, scale in UNITS.items() if scale == plan.scale),
        header_line=head.header_line if head is not None else 1,
        blank_lines=sums.blank,
        repaired_rows=sums.repaired_rows,
        repaired_value_usd=float(sums.repaired_value),
        not_in_nomenclature_rows=int(totals.code_rows[unknown].sum()),
        not_in_nomenclature_value_usd=float(np.sum(totals.value[unknown[totals.code_index]])),
        repeated_keys=totals.repeated_keys,
        repeated_rows=totals.repeated_rows,
        duplicates=reading.duplicates,
        periods=totals.periods,
        notes=tuple(plan.layout.final_notes(sums.counts)) + _reading_notes(reading),
    )


def _reading_notes(reading: stream.Reading) -> tuple[str, ...]:
    plan, sums, totals = reading.plan, reading.sums, reading.totals
    notes = []
    years = sorted({p[:4] for p in totals.periods if p})
    if len(years) > 1:
        notes.append(
            f"the file spans the years {years[0]}–{years[-1]}: a run adds them up; keep one year to compare "
            "with yearly figures"
        )
    if plan.head is not None and plan.head.title_lines:
        notes.append(
            f"{plan.head.title_lines} title line(s) above the header (line {plan.head.header_line}) skipped"
        )
    if sums.blank:
        notes.append(f"{sums.blank} blank line(s) skipped")
    if sums.named_rows:
        line, before, after = sums.named_example
        notes.append(
            f"{sums.named_rows:,} row(s) name their partner instead of giving its ISO3 code, read with the "
            f"bundled country table (e.g. line {line}: {cells.NAMED_PARTNER.format(name=before.strip(), code=after)})"
        )
    if sums.repaired_rows:
        line, before, after = sums.repaired_example
        notes.append(
            f"{sums.repaired_rows} code(s) had lost their leading zero and were repaired "
            f"(e.g. line {line}: {before} → {after})"
        )
    if totals.repeated_keys:
        what = (
            "all but the first row of each rejected as duplicates"
            if reading.duplicates == "reject"
            else "summed"
        )
        notes.append(
            f"{totals.repeated_keys:,} (partner, hs, period) key(s) on more than one row "
            f"({totals.repeated_rows:,} rows): {what}"
        )
    if reading.overlapping is not None:
        pairs, partner, code, rows = reading.overlapping
        shown = ", ".join(f"line {line} ({period or 'no period'})" for line, period in rows)
        notes.append(
            f"{pairs:,} partner-product pair(s) have rows for overlapping periods, and all are added up "
            f"(e.g. {partner} {code}: {shown}); keep one kind of period — a year or its months, each row "
            "with its period"
        )
    comma = sums.counts.get("comma", {})
    if "proof" in comma and "other" in comma:
        (proof_line, proof), (other_line, other) = comma["proof"], comma["other"]
        read = cells.money(pa.array([other]), cells.COMMA)[0][0]
        notes.append(
            f"numbers are read with a decimal comma because of {proof!r} on line {proof_line}, so {other!r} on "
            f"line {other_line} is {read:g}, not {other.replace(',', '')}; if commas separate thousands in "
            f"this file, correct line {proof_line}"
        )
    return tuple(notes)


def pair_flows(totals: PairTotals) -> pd.DataFrame:
    """The flow table of pair totals: one row per (partner, hs) pair, sorted, summed over the periods.

    ``partner``, ``hs`` and ``period`` are categoricals built on the totals' integer indices: millions of
    pairs cost no Python strings, and :func:`tariffcalc.engine.duties.compute` uses the codes directly.
    ``period`` is the input's period if it has only one, else empty.
    """
    seen = sorted(p for p in totals.periods if p)
    period = seen[0] if len(seen) == 1 else ""
    return pd.DataFrame(
        {
            "partner": pd.Categorical.from_codes(totals.partner_index, _categories(totals.partners)),
            "hs": pd.Categorical.from_codes(totals.code_index, _categories(totals.codes)),
            "period": pd.Categorical.from_codes(np.zeros(len(totals.value), np.int8), _categories([period])),
            "value_usd": totals.value,
        }
    )


def _categories(values) -> pd.Index:
    """Categories of text held as Python strings (object), as in the tables of accepted rows."""
    return pd.Index(np.asarray(values, dtype=object), dtype=object)


# ------------------------------------------------------------------------------------------------ loading


def load_flows(
    paths: list[str | Path] | str | Path | pd.DataFrame | None = None,
    importer: str = "USA",
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    strict: bool = False,
    aggregate: bool = False,
    progress: Progress | None = None,
    duplicates: str = "sum",
) -> FlowSet:
    """Read flow files (default: the bundled 2024 US imports), or a DataFrame, into one :class:`FlowSet`.

    See :func:`read_flows` for ``source``, ``column_map`` and ``units``. A DataFrame is read like a file
    in the canonical layout (or any other, with ``source``): the same checks, rejects and reports; its
    ``line`` in the ledger is its row position + 2, as if it were written to CSV with a header. With
    ``strict``, any rejected row is an error (:class:`FlowsError` naming the first few). An error too when
    no row at all can be used, and when the same file is given twice (same path, or same bytes). With
    ``aggregate``, flows come back summed by (partner, hs) (see :func:`read_flowset`): enough for static
    duties, and memory stays bounded on huge files. ``duplicates`` (``sum`` or ``reject``) says what happens
    to rows that share a (partner, hs, period) key.
    """
    from tariffcalc.reference import bundled

    if isinstance(paths, pd.DataFrame):
        parts = [read_flowset(paths, importer, source, column_map, units, aggregate, progress, duplicates)]
        return combine_flowsets(parts, strict)
    if paths is None or (isinstance(paths, list | tuple) and not paths):
        paths = [bundled.default_flows_path()]
    if isinstance(paths, str | Path):
        paths = [paths]
    refuse_repeats(paths)
    parts = [
        read_flowset(path, importer, source, column_map, units, aggregate, progress, duplicates)
        for path in paths
    ]
    return combine_flowsets(parts, strict)


def repeated_inputs(paths: list[str | Path]) -> dict[int, str]:
    """The inputs given again (by position in ``paths``), each with why: the same path as an earlier one,
    or the same bytes (its flows would count twice). Files of equal size are hashed to tell."""
    out: dict[int, str] = {}
    first_of: dict[Path, int] = {}
    for i, given in enumerate(paths):
        path = Path(given)
        if not path.is_file():
            continue
        key = path.resolve()
        if key in first_of:
            out[i] = (
                f"{given} is given twice (as {paths[first_of[key]]} and {given}): its flows would be counted "
                "twice; give each flow file once."
            )
            continue
        first_of[key] = i
    by_size: dict[int, list[int]] = {}
    for key, i in first_of.items():
        by_size.setdefault(key.stat().st_size, []).append(i)
    for same in by_size.values():
        digests: dict[str, int] = {}
        for i in same if len(same) > 1 else []:
            digest = sha256_file(paths[i])
            if digest in digests:
                out[i] = (
                    f"{paths[i]} has the same bytes as {paths[digests[digest]]} (SHA-256 {digest[:12]}…): the "
                    "same flows would be counted twice; give each flow file once."
                )
            else:
                digests[digest] = i
    return dict(sorted(out.items()))


def refuse_repeats(paths: list[str | Path]) -> None:
    """:class:`FlowsError` when a file is given twice: the same path, or two paths with the same bytes."""
    repeats = repeated_inputs(paths)
    if repeats:
        raise FlowsError(next(iter(repeats.values())))


def combine_flowsets(parts: list[FlowSet], strict: bool = False) -> FlowSet:
    """One :class:`FlowSet` of the inputs of ``parts``; :class:`FlowsError` as :func:`load_flows` says."""
    flows = pd.concat([p.flows for p in parts], ignore_index=True) if len(parts) > 1 else parts[0].flows
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
        if f.get("repeated_keys"):
            what = "rejected but the first" if f.get("duplicates") == "reject" else "summed"
            parts.append(f"{f['repeated_keys']:,} key(s) on more than one row, {what}")
        lines.append(f"Read {f['path']}: " + "; ".join(parts))
    return lines
