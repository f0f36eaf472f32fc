"""The run summary: one dictionary (summary.json) rendered as Markdown (summary.md) and as terminal text.

All three carry the same figures, so what a user reads in the shell is what the files say.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tariffcalc.duties import Result
from tariffcalc.flows import FlowSet
from tariffcalc.schedule import EXACT

TOP = 10
COARSE_RULE = (
    "A product-scope prefix finer than a data row's code (an HTS8 exemption and a chapter-level row) does not "
    "match that row: the row is treated as outside that prefix."
)
FALLBACK_RULE = (
    "Observed 2024 rates come from the same partner and code; failing that the same partner and the longest "
    "shorter prefix, then all partners at the longest prefix, then the rate of all 2024 imports."
)


def _records(table, columns: list[str], n: int = TOP) -> list[dict[str, Any]]:
    return [
        {c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()}
        for row in table[columns].head(n).to_dict("records")
    ]


def build_summary(result: Result, flowset: FlowSet, by_partner=None, by_product=None) -> dict[str, Any]:
    """The figures of a run as plain data (USD amounts, rates as fractions)."""
    by_partner = result.by_partner() if by_partner is None else by_partner
    by_product = result.by_product() if by_product is None else by_product
    columns = [
        "imports_usd",
        "baseline_duty_usd",
        "scenario_duty_usd",
        "added_duty_usd",
        "baseline_rate",
        "scenario_rate",
        "added_rate",
    ]
    accepted = float(flowset.flows["value_usd"].sum())
    warnings = list(dict.fromkeys(result.scenario.warnings + result.baseline.warnings))
    diagnostics = result.diagnostics()
    if diagnostics["floored_value_usd"] > 0:
        warnings.append(
            f"Rates below zero were floored at 0 on ${diagnostics['floored_value_usd']:,.0f} of imports "
            "(a measure lowers a duty by more than the observed duty)."
        )
    return {
        "scenario": {
            "name": result.scenario.name,
            "title": result.scenario.title,
            "as_of": result.as_of.isoformat(),
        },
        "baseline": {
            "name": result.baseline.name,
            "title": result.baseline.title,
            "as_of": result.baseline.as_of.isoformat(),
        },
        "model": "static (pre-substitution): trade values held at their observed level",
        "product_level": result.level,
        "totals": result.totals(),
        "top_partners": _records(by_partner, ["partner", "partner_name", *columns]),
        "top_products": _records(by_product, ["hs", "description", *columns]),
        "reconciliation": {
            "input_value_usd": flowset.input_value_usd,
            "accepted_value_usd": accepted,
            "rejected_value_usd": flowset.rejected_value_usd,
            "rejected_rows": int(sum(f.rejected_rows for f in flowset.files)),
            "files": [dataclasses.asdict(f) for f in flowset.files],
        },
        "diagnostics": diagnostics,
        "rules": {"coarse_rows": COARSE_RULE, "observed_fallback": FALLBACK_RULE},
        "warnings": warnings,
    }


def _short(description: str | None, width: int = 60) -> str:
    """First clause of an HS description, cut to ``width`` characters (full texts are in by_product.csv)."""
    text = (description or "").split(";")[0].strip()
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _bn(usd: float) -> str:
    return f"${usd / 1e9:,.1f} bn"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def to_markdown(summary: dict[str, Any]) -> str:
    """summary.md: the headline in words, a small table, the largest partners and products, caveats."""
    t = summary["totals"]
    s, b = summary["scenario"], summary["baseline"]
    rec, diag = summary["reconciliation"], summary["diagnostics"]
    partners = summary["top_partners"][:5]
    products = summary["top_products"][:5]
    lines = [
        f"# {s['title']}",
        "",
        f"Applied to {_bn(t['imports_usd'])} of imports, the scenario **{s['name']}** (as in force on {s['as_of']}) "
        f"raises duties by **{_bn(t['added_duty_usd'])}** a year compared with **{b['name']}**: from "
        f"{_bn(t['baseline_duty_usd'])} to {_bn(t['scenario_duty_usd'])}. The effective tariff rate, duty divided by "
        f"imports, goes from {_pct(t['baseline_rate'])} to {_pct(t['scenario_rate'])}, "
        f"{t['added_rate'] * 100:+.1f} percentage points.",
        "",
        "| | baseline | scenario | change |",
        "|---|---:|---:|---:|",
        f"| Duty | {_bn(t['baseline_duty_usd'])} | {_bn(t['scenario_duty_usd'])} | {_bn(t['added_duty_usd'])} |",
        f"| Effective tariff rate | {_pct(t['baseline_rate'])} | {_pct(t['scenario_rate'])} | "
        f"{t['added_rate'] * 100:+.1f} pp |",
        "",
        "The largest increases fall on "
        + ", ".join(
            f"{p['partner_name']} ({_bn(p['added_duty_usd'])}, +{p['added_rate'] * 100:.1f} pp)"
            for p in partners
        )
        + ".",
        "",
        "By product, the largest increases are in "
        + "; ".join(f"HS {p['hs']} {_short(p['description'])} ({_bn(p['added_duty_usd'])})" for p in products)
        + ".",
        "",
        "## Caveats",
        "",
        f"- {summary['model'].capitalize()}. Importers do not switch suppliers and prices do not change; "
        "the added duty is a first-round measure of the cost, not a revenue forecast.",
        f"- Input: {_bn(rec['input_value_usd'])}; rejected {rec['rejected_rows']:,} rows worth "
        f"{_bn(rec['rejected_value_usd'])} (see rejects.csv).",
        f"- {_bn(diag['coarse_match_value_usd'])} of imports is reported at a coarser product level than some "
        f"measure's product list. {summary['rules']['coarse_rows']}",
    ]
    fallback = {k: v for k, v in diag["observed_rate_value_by_tier_usd"].items() if k != EXACT}
    if fallback:
        lines.append(
            "- Observed baseline rates by source: "
            + ", ".join(f"{tier} {_bn(value)}" for tier, value in sorted(fallback.items()))
            + f". {summary['rules']['observed_fallback']}"
        )
    lines += [f"- Warning: {w}" for w in summary["warnings"]]
    return "\n".join(lines) + "\n"


def to_terminal(summary: dict[str, Any]) -> str:
    """A short text table for the shell: totals, rates before/after, rejects and the top partners."""
    t = summary["totals"]
    rec = summary["reconciliation"]
    rows = [
        (
            "Scenario",
            f"{summary['scenario']['name']} (as of {summary['scenario']['as_of']}) vs {summary['baseline']['name']}",
        ),
        ("Imports", _bn(t["imports_usd"])),
        ("Baseline duty", _bn(t["baseline_duty_usd"])),
        ("Scenario duty", _bn(t["scenario_duty_usd"])),
        ("Added duty", _bn(t["added_duty_usd"])),
        (
            "Effective rate",
            f"{_pct(t['baseline_rate'])} -> {_pct(t['scenario_rate'])} ({t['added_rate'] * 100:+.1f} pp)",
        ),
        ("Rejected", f"{rec['rejected_rows']:,} rows, {_bn(rec['rejected_value_usd'])}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines.append("")
    lines.append(f"{'Top partners by added duty':<28}{'added':>12}{'added rate':>12}")
    for p in summary["top_partners"][:5]:
        lines.append(
            f"  {p['partner_name'][:26]:<26}{_bn(p['added_duty_usd']):>12}{p['added_rate'] * 100:>11.1f}%"
        )
    lines += [f"Warning: {w}" for w in summary["warnings"]]
    return "\n".join(lines)
