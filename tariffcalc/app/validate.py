"""Check flow files without computing duties: what was read, what was rejected and why, and how well the
data's product codes fit a scenario's product lists.

:func:`validate` returns plain data (the ``--json`` output of ``tariffcalc validate``); :func:`to_text`
renders it for the terminal. Money is in USD; shares are fractions of the accepted value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.errors import TariffcalcError
from tariffcalc.read.flows import FlowSet, read_flowset, repeated_inputs

EXAMPLES = 3
"""Examples shown per kind of problem."""


def _lengths(codes: pd.Series) -> np.ndarray:
    """Length of each code (a categorical's are measured once per category)."""
    if isinstance(codes.dtype, pd.CategoricalDtype):
        lengths = np.fromiter(map(len, codes.cat.categories), dtype=np.int64, count=len(codes.cat.categories))
        return lengths[codes.cat.codes.to_numpy()]
    return codes.astype(str).str.len().to_numpy()


def _levels(codes: pd.Series, value: pd.Series) -> dict[str, float]:
    """Accepted value (USD) by code length, e.g. ``{"HS10": 1.2e9, "HS2": 3.4e6}``."""
    sums = pd.Series(value.to_numpy()).groupby(_lengths(codes)).sum()
    return {f"HS{int(k)}": float(v) for k, v in sorted(sums.items(), reverse=True)}


def _used(column: pd.Series) -> set:
    """The distinct values of a column (a categorical's used categories, without touching its rows)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        used = np.bincount(column.cat.codes.to_numpy(), minlength=len(column.cat.categories)) > 0
        return set(np.asarray(column.cat.categories, dtype=object)[used])
    return set(pd.unique(column))


def _file_summary(flowset: FlowSet) -> dict[str, Any]:
    report = dataclasses.asdict(flowset.files[0])
    flows = flowset.flows
    report.update(
        partners=len(_used(flows["partner"])) if len(flows) else 0,
        products=len(_used(flows["hs"])) if len(flows) else 0,
        periods=list(report["periods"]),
        value_by_level_usd=_levels(flows["hs"], flows["value_usd"]) if len(flows) else {},
    )
    return report


def scenario_fit(flows: pd.DataFrame, scenario) -> dict[str, Any]:
    """How the data's codes meet the scenario's product lists (on the scenario's ``as_of`` date).

    A row is *coarser* than a measure when the measure covers its partner and lists a product prefix
    longer than the row's code that starts with it (a chapter-level row beside HTS8 exemptions): such
    rows cannot be matched exactly and are treated as outside that prefix. Also the value whose observed
    2024 baseline rate comes from a coarser cell than the row itself.
    """
    from tariffcalc.rules.schedule import EXACT, resolve

    pairs = flows.groupby(["partner", "hs"], sort=False)["value_usd"].sum()
    partner = pairs.index.get_level_values(0).to_numpy(dtype=object)
    code = pairs.index.get_level_values(1).to_numpy(dtype=object)
    value = pairs.to_numpy(dtype=float)
    total = float(value.sum())
    schedule = resolve(scenario, partner, code)
    coarse = np.zeros(len(value), dtype=bool)
    by_measure = {}
    lengths: set[int] = set()
    for m in schedule.measures:
        if not m.active:
            continue
        lengths.update(len(e.prefix) for e in (m.measure.products or ()) + m.measure.exclude_products)
        mask = m.partners.in_scope[schedule.partner_index] & m.products.coarse[schedule.code_index]
        if mask.any():
            by_measure[m.measure.id] = float(value[mask].sum())
            coarse |= mask
    tiers = {}
    if schedule.observed_tier is not None:
        sums = pd.Series(value).groupby(schedule.observed_tier, observed=True).sum()
        tiers = {str(k): float(v) for k, v in sums.items() if k != EXACT}
    fine = total - float(value[coarse].sum())
    return {
        "name": scenario.name,
        "as_of": scenario.as_of.isoformat(),
        "product_list_levels": sorted(lengths),
        "value_usd": total,
        "value_at_least_as_fine_usd": fine,
        "value_coarser_usd": float(value[coarse].sum()),
        "share_at_least_as_fine": fine / total if total else 1.0,
        "share_coarser": float(value[coarse].sum()) / total if total else 0.0,
        "coarser_by_measure_usd": by_measure,
        "baseline_rate_from_coarser_cell_usd": tiers,
    }


def validate(
    paths: list[str | Path],
    scenario: str | Path | None = None,
    importer: str | None = None,
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    duplicates: str = "sum",
) -> dict[str, Any]:
    """Read every file as ``tariffcalc run`` would (the same reader, summing by partner and product) and
    report on it; no duties are computed.

    A file that cannot be read at all, or that is given twice (the same path or the same bytes), is listed
    under ``errors`` and the others are still checked. ``importer`` defaults to the scenario's (``USA``
    without a scenario).
    """
    from tariffcalc.rules.scenario import load_scenario

    chosen = load_scenario(scenario) if scenario is not None else None
    importer = importer or (chosen.importer if chosen else "USA")
    files, errors, parts = [], [], []
    repeats = repeated_inputs(list(paths))
    for number, path in enumerate(paths):
        if number in repeats:
            errors.append({"path": str(path), "message": repeats[number]})
            continue
        try:
            flowset = read_flowset(
                path, importer, source, column_map, units, aggregate=True, duplicates=duplicates
            )
        except TariffcalcError as exc:
            errors.append({"path": str(path), "message": str(exc)})
            continue
        parts.append(flowset)
        files.append(_file_summary(flowset))
    if parts:
        combined = FlowSet(
            flows=pd.concat([p.flows for p in parts], ignore_index=True),
            rejects=pd.concat([p.rejects for p in parts], ignore_index=True),
            files=[p.files[0] for p in parts],
            issues=pd.concat([p.issues for p in parts], ignore_index=True),
        )
    else:
        combined = None
    flows = combined.flows if combined is not None else pd.DataFrame()
    totals = {
        "files": len(paths),
        "rows": sum(f["rows"] for f in files),
        "accepted_rows": sum(f["accepted_rows"] for f in files),
        "rejected_rows": sum(f["rejected_rows"] for f in files),
        "partners": len(set().union(*(_used(p.flows["partner"]) for p in parts))) if parts else 0,
        "products": len(set().union(*(_used(p.flows["hs"]) for p in parts))) if parts else 0,
        "input_value_usd": float(sum(f["input_value_usd"] for f in files)),
        "accepted_value_usd": float(sum(f["accepted_value_usd"] for f in files)),
        "rejected_value_usd": float(sum(f["rejected_value_usd"] for f in files)),
        "repaired_rows": sum(f["repaired_rows"] for f in files),
        "repaired_value_usd": float(sum(f["repaired_value_usd"] for f in files)),
        "not_in_nomenclature_value_usd": float(sum(f["not_in_nomenclature_value_usd"] for f in files)),
        "repeated_keys": sum(f["repeated_keys"] for f in files),
        "repeated_rows": sum(f["repeated_rows"] for f in files),
    }
    fit = scenario_fit(flows, chosen) if chosen is not None and len(flows) else None
    return {
        "importer": importer,
        "files": files,
        "errors": errors,
        "totals": totals,
        "problems": combined.problems(EXAMPLES) if combined is not None else [],
        "scenario": fit,
    }


# ----------------------------------------------------------------------------------------------- text


def money(usd: float) -> str:
    """``$1.2 bn``, ``$3.4 m`` or ``$12,345`` (USD)."""
    if abs(usd) >= 1e9:
        return f"${usd / 1e9:,.1f} bn"
    if abs(usd) >= 1e6:
        return f"${usd / 1e6:,.1f} m"
    return f"${usd:,.0f}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _file_text(f: Mapping[str, Any]) -> list[str]:
    how = [f"{f['source']} ({f['how']})"]
    if f["encoding"]:
        how.append(f["encoding"])
    if f["delimiter"]:
        how.append(f"{f['delimiter']}-separated")
    if f["number_format"]:
        how.append(f"numbers like {f['number_format']}")
    if f["units"] != "usd":
        how.append(f"amounts in {f['units']} of USD")
    levels = ", ".join(f"{k} {money(v)}" for k, v in f["value_by_level_usd"].items())
    periods = f["periods"]
    shown = ", ".join(periods[:6]) + (f" … ({len(periods)})" if len(periods) > 6 else "")
    lines = [
        f"{f['path']}: " + "; ".join(how),
        f"  {_plural(f['rows'], 'row')}: {f['accepted_rows']:,} accepted, {f['rejected_rows']:,} rejected; value "
        f"{money(f['input_value_usd'])} = {money(f['accepted_value_usd'])} accepted + "
        f"{money(f['rejected_value_usd'])} rejected",
        f"  {_plural(f['partners'], 'partner')}, {_plural(f['products'], 'product')}"
        + (f" ({levels})" if levels else "")
        + (f", periods {shown}" if periods else ""),
    ]
    if f["repaired_rows"]:
        lines.append(
            f"  {_plural(f['repaired_rows'], 'code')} repaired (lost leading zero): {money(f['repaired_value_usd'])}"
        )
    if f["repeated_keys"]:
        what = "all but the first row of each rejected" if f["duplicates"] == "reject" else "summed"
        lines.append(
            f"  {_plural(f['repeated_keys'], 'key')} (partner, hs, period) on more than one row "
            f"({f['repeated_rows']:,} rows): {what}"
        )
    if f["not_in_nomenclature_rows"]:
        lines.append(
            f"  {_plural(f['not_in_nomenclature_rows'], 'row')} with codes not in HS 2022 at 6 digits "
            f"(accepted; described at a coarser level or not at all): {money(f['not_in_nomenclature_value_usd'])}"
        )
    lines += [f"  note: {note}" for note in f["notes"]]
    return lines


def to_text(report: Mapping[str, Any]) -> str:
    """The report of :func:`validate` for the terminal."""
    lines: list[str] = []
    for f in report["files"]:
        lines += _file_text(f)
    for error in report["errors"]:
        lines.append(f"Cannot read: {error['message']}")
    t = report["totals"]
    problems = report["problems"]
    lines.append("")
    if problems:
        lines.append(
            f"Problems: {_plural(t['rejected_rows'], 'row')} rejected, {money(t['rejected_value_usd'])}"
        )
        for p in problems:
            lines.append(f"  {p['label']}: {_plural(p['rows'], 'row')}, {money(p['value_usd'])}")
            for example in p["examples"]:
                lines.append(f"    {example['where']}: {example['reason']}")
    elif report["files"]:
        lines.append("Problems: none; every row is accepted.")
    fit = report["scenario"]
    if fit:
        levels = ", ".join(map(str, fit["product_list_levels"])) or "none"
        lines += [
            "",
            f"Scenario {fit['name']} (as of {fit['as_of']}): product lists at {levels} digits",
            f"  value at least as fine as the lists: {fit['share_at_least_as_fine']:.1%} "
            f"({money(fit['value_at_least_as_fine_usd'])})",
            f"  matched at a coarser level:          {fit['share_coarser']:.1%} ({money(fit['value_coarser_usd'])})",
        ]
        for measure, value in fit["coarser_by_measure_usd"].items():
            lines.append(f"    {measure}: {money(value)}")
        for tier, value in fit["baseline_rate_from_coarser_cell_usd"].items():
            lines.append(f"  baseline rate from {tier}: {money(value)}")
    lines += [
        "",
        f"Total: {_plural(t['files'], 'file')}, {_plural(t['rows'], 'row')}, {_plural(t['partners'], 'partner')}, "
        f"{_plural(t['products'], 'product')}; accepted {money(t['accepted_value_usd'])} of "
        f"{money(t['input_value_usd'])}",
    ]
    return "\n".join(lines)
