"""The run summary: one dictionary (summary.json) rendered as Markdown (summary.md) and as terminal text.

All three carry the same figures, so what a user reads in the shell is what the files say.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from tariffcalc.engine.duties import VALUE_COLUMNS, Result
from tariffcalc.read.flows import FlowSet
from tariffcalc.reference import bundled
from tariffcalc.rules.schedule import EXACT

TOP = 10
COARSE_RULE = (
    "A row coarser than HTS10 (a chapter-level row) is split over the HTS10 codes under it in proportion to their "
    "2024 US imports from the partners with HTS10 detail: rates are resolved on those codes and the row pays their "
    "weighted average, so goods exempt at HTS8 or HTS10 are exempt in the row too by their share of the mix; the "
    "row's observed 2024 rate stays its own. Where the mix has no codes under a row, a product-scope prefix finer "
    "than the row's code does not match that row: the row is treated as outside that prefix."
)
COARSE_RULE_UNSPLIT = (
    "Rows coarser than HTS10 were not split over the import mix (--no-split-coarse): a product-scope prefix finer "
    "than a data row's code (an HTS8 exemption and a chapter-level row) does not match that row: the row is "
    "treated as outside that prefix."
)
FALLBACK_RULE = (
    "Observed 2024 rates come from the same partner and code; failing that the same partner and the longest "
    "shorter prefix, then all partners at the longest prefix, then the rate of all 2024 imports."
)


STATIC = (
    "Static (pre-substitution) estimate: imports are held at their observed value, so importers do not switch "
    "suppliers, buy less or pay different prices. The added duty is a first-round measure of the cost of the "
    "schedule at the border, not a forecast of revenue."
)
NOT_INCLUDED = (
    "responses of trade, prices and exchange rates (substitution, lower imports, pass-through)",
    "retaliation by partners",
    "antidumping and countervailing duties, which the observed 2024 duties do not contain",
    "fees (merchandise processing, harbor maintenance) and excise taxes",
    "evasion, transshipment, duty drawback and refunds",
    "changes in trade preferences or quotas not written as a measure of the scenario",
)
"""What a static run leaves out (listed in summary.md and on the methods page of report.pdf)."""
BUNDLED_DATA = (
    "US Census Bureau, 2024 US imports for consumption and calculated duties (bundled with tariffcalc)"
)


def is_bundled(path: str | Path) -> bool:
    """True when ``path`` is the bundled default flow file."""
    return Path(path).resolve() == bundled.default_flows_path().resolve()


def data_source(flowset: FlowSet) -> str:
    """One phrase naming where the trade flows come from: the bundled Census data or the user's files."""
    if all(is_bundled(f.path) for f in flowset.files):
        return BUNDLED_DATA
    return "trade flows from " + ", ".join(Path(f.path).name for f in flowset.files)


def _periods(flowset: FlowSet) -> list[str]:
    """The distinct periods (``YYYY`` or ``YYYY-MM``) of the accepted flows, sorted (as each file's report
    says: flows summed by partner and product keep no period)."""
    if all(hasattr(f, "periods") for f in flowset.files) and flowset.files:
        return sorted({p for f in flowset.files for p in f.periods if p})
    if "period" not in flowset.flows.columns:
        return []
    return sorted({str(p) for p in flowset.flows["period"].dropna().unique() if str(p)})


REFERENCE_DATA = (
    "Country codes and names: US Census Bureau Schedule C country codes mapped to ISO 3166-1 alpha-3 "
    "(data/countries.csv)",
    "EU membership by date: the accession treaties (data/groups.csv)",
    "Product descriptions: HS 2022 nomenclature, UN Comtrade short texts, licence ODC-PDDL (data/hs_*.csv)",
)
"""Bundled reference data every run uses (data/README.md documents each file)."""


def repositories() -> list[dict[str, str]]:
    """The public repositories the bundled data were built from: ``key``, ``repository``, ``commit``.

    Read from the table under "Where the data come from" in data/README.md (shipped with the package).
    """
    text = bundled.data_path("README.md").read_text(encoding="utf-8")
    rows = []
    inside = False
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[:3] == ["key", "repository", "commit"]:
            inside = True
        elif inside and line.startswith("|") and not set(line) <= set("|-: "):
            rows.append({"key": cells[0], "repository": cells[1], "commit": " | ".join(cells[2:])})
        elif inside and not line.startswith("|"):
            break
    return rows


def sources(result: Result) -> dict[str, Any]:
    """Every source of a run: the scenario's and baseline's documents, each measure's citation and product
    lists, the bundled reference data and the repositories they were built from."""
    documents = list(dict.fromkeys([*result.scenario.sources, *result.baseline.sources]))
    measures = {}
    for measure in [*result.scenario.measures, *result.baseline.measures]:
        lists = [
            e.source for e in (*(measure.products or ()), *measure.exclude_products) if e.source != "inline"
        ]
        measures.setdefault(
            measure.id,
            {
                "measure": measure.id,
                "authority": measure.authority,
                "citation": measure.citation,
                "from_scenario": measure.scenario,
                "product_lists": list(dict.fromkeys(lists)),
            },
        )
    return {
        "documents": documents,
        "measures": list(measures.values()),
        "reference_data": list(REFERENCE_DATA),
        "repositories": repositories(),
    }


def _records(table, columns: list[str], n: int = TOP) -> list[dict[str, Any]]:
    return [
        {c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()}
        for row in table[columns].head(n).to_dict("records")
    ]


def build_summary(
    result: Result, flowset: FlowSet, by_partner=None, by_product=None, by_measure=None, by_group=None
) -> dict[str, Any]:
    """The figures of a run as plain data (USD amounts, rates as fractions); ``groups`` holds each bundled
    partner group (the EU) as one partner (:func:`tariffcalc.report.groups.by_group`)."""
    from tariffcalc.report.groups import by_group as group_table

    by_partner = result.by_partner() if by_partner is None else by_partner
    by_group = group_table(by_partner, result.as_of) if by_group is None else by_group
    by_product = result.by_product() if by_product is None else by_product
    by_measure = result.by_measure() if by_measure is None else by_measure
    columns = list(VALUE_COLUMNS)
    accepted = float(flowset.flows["value_usd"].sum())
    warnings = list(
        dict.fromkeys(
            result.scenario.date_warnings(result.as_of) + result.scenario.warnings + result.baseline.warnings
        )
    )
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
            "importer": result.scenario.importer,
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
        "groups": _records(
            by_group, ["group", "group_name", "members", "members_with_imports", *columns], n=len(by_group)
        ),
        "reconciliation": {
            "input_value_usd": flowset.input_value_usd,
            "accepted_value_usd": accepted,
            "rejected_value_usd": flowset.rejected_value_usd,
            "rejected_rows": int(sum(f.rejected_rows for f in flowset.files)),
            "rejected_by_kind": {
                p["kind"]: {"rows": p["rows"], "value_usd": p["value_usd"]} for p in flowset.problems(0)
            },
            "repaired_rows": int(sum(f.repaired_rows for f in flowset.files)),
            "repaired_value_usd": float(sum(f.repaired_value_usd for f in flowset.files)),
            "not_in_nomenclature_value_usd": float(
                sum(f.not_in_nomenclature_value_usd for f in flowset.files)
            ),
            "repeated_keys": int(sum(getattr(f, "repeated_keys", 0) for f in flowset.files)),
            "repeated_rows": int(sum(getattr(f, "repeated_rows", 0) for f in flowset.files)),
            "files": [dataclasses.asdict(f) for f in flowset.files],
        },
        "diagnostics": diagnostics,
        "rules": {
            "coarse_rows": COARSE_RULE if result.split_coarse else COARSE_RULE_UNSPLIT,
            "observed_fallback": FALLBACK_RULE,
        },
        "warnings": warnings,
        "data": {"source": data_source(flowset), "periods": _periods(flowset)},
        "measures": _records(
            by_measure,
            ["measure", "authority", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd"],
            n=len(by_measure),
        ),
        "not_included": list(NOT_INCLUDED),
        "sources": sources(result),
    }


def _short(description: str | None, width: int = 60) -> str:
    """An HS description cut at a word boundary to ``width`` characters, "…" when cut (full texts: by_product.csv)."""
    text = " ".join((description or "").split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    return cut[: cut.rfind(" ")].rstrip(" ,;:(") + "…" if " " in cut else cut + "…"


def _money(usd: float) -> str:
    """An amount in USD in a unit that suits its size, for the terminal, Markdown tables and sentences:
    "$438.6 bn", "$12.3 m" or "$4,950" (a small input never reads "$0.0 bn")."""
    sign = "-" if usd < 0 else ""
    size = abs(usd)
    for scale, unit in ((1e9, "bn"), (1e6, "m")):
        if size >= scale:
            return f"{sign}${size / scale:,.1f} {unit}"
    return f"{sign}${size:,.0f}"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def words(usd: float) -> str:
    """An amount in USD in words for prose: "$3.25 trillion", "$438.6 billion", "$12.3 million", "$950"."""
    size = abs(usd)
    sign = "-" if usd < 0 else ""
    if size >= 1e12:
        return f"{sign}${size / 1e12:,.2f} trillion"
    for scale, name in ((1e9, "billion"), (1e6, "million")):
        if size >= scale:
            return f"{sign}${size / scale:,.1f} {name}"
    return f"{sign}${size:,.0f}"


def _share(part: float, whole: float) -> str:
    """``part`` as a whole-number percentage of ``whole`` ("n/a" when ``whole`` is zero)."""
    return f"{part / whole:.0%}" if whole else "n/a"


def _adjective(importer: str) -> str:
    """ "US " for the United States, else the importer's code and a space (empty when unknown)."""
    return "US " if importer == "USA" else f"{importer} " if importer else ""


def baseline_words(title: str) -> str:
    """A baseline's title inside a sentence: "Observed 2024 US duties (calculated duties ÷ customs value)" →
    "observed 2024 US duties" (a closing parenthesis dropped, the first letter lower-cased unless it starts
    an acronym)."""
    text = re.sub(r"\s*\([^()]*\)$", "", title.strip()) or title.strip()
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def lead(summary: dict[str, Any]) -> str:
    """The headline in words: imports, duty before and after, the effective rate (plain text, no Markdown)."""
    t, s, b = summary["totals"], summary["scenario"], summary["baseline"]
    verb = "raise" if t["added_duty_usd"] >= 0 else "lower"
    text = (
        f"Applied to imports of {words(t['imports_usd'])}, the scenario “{s['title']}” would {verb} "
        f"{_adjective(s.get('importer', ''))}duties by {words(abs(t['added_duty_usd']))} "
        f"a year compared with the baseline, {baseline_words(b['title'])}, from {words(t['baseline_duty_usd'])} "
        f"to {words(t['scenario_duty_usd'])}"
    )
    if t["baseline_duty_usd"] > 0:
        text += f", {t['scenario_duty_usd'] / t['baseline_duty_usd']:.1f} times the baseline duty"
    return (
        text
        + f". The effective tariff rate, duty divided by imports, goes from {_pct(t['baseline_rate'])} to "
        f"{_pct(t['scenario_rate'])}: {t['added_rate'] * 100:+.1f} percentage points."
    )


def count(n: int) -> str:
    """Small counts in words ("five"), larger ones in digits."""
    names = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return names[n] if 0 <= n < len(names) else f"{n:,}"


def _direction(summary: dict[str, Any]) -> str:
    """ "increases" when the scenario adds duty overall, else "changes"."""
    return "increases" if summary["totals"]["added_duty_usd"] >= 0 else "changes"


def partners_sentence(summary: dict[str, Any], n: int = 5) -> str:
    """Who pays: the ``n`` partners with the largest added duty and their share of it."""
    t = summary["totals"]
    partners = summary["top_partners"][:n]
    if not partners:
        return ""
    share = _share(sum(p["added_duty_usd"] for p in partners), t["added_duty_usd"])
    named = "; ".join(
        f"{p['partner_name']} {_money(p['added_duty_usd'])} (rate {_pct(p['baseline_rate'])} → "
        f"{_pct(p['scenario_rate'])})"
        for p in partners
    )
    return (
        f"The {count(len(partners))} partners with the largest {_direction(summary)} account for {share} of the "
        f"added duty: {named}."
    )


def _groups_with_imports(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The partner groups of a summary whose members have imports (an EU-less input shows no EU)."""
    return [g for g in summary.get("groups", []) if g["imports_usd"] > 0]


def groups_sentence(summary: dict[str, Any]) -> str:
    """Each partner group as one partner: its added duty, share and rates (its members are also listed
    one by one among the partners)."""
    t = summary["totals"]
    parts = [
        f"{g['group_name']} ({g['group']}, {g['members']} members) {_money(g['added_duty_usd'])}, "
        f"{_share(g['added_duty_usd'], t['added_duty_usd'])} of the added duty (rate {_pct(g['baseline_rate'])} → "
        f"{_pct(g['scenario_rate'])})"
        for g in _groups_with_imports(summary)
    ]
    if not parts:
        return ""
    return (
        "Taken as one partner, as a scenario's group rate treats it: "
        + "; ".join(parts)
        + ". Its members also "
        "appear one by one among the partners (by_group.csv has the sums)."
    )


def products_sentence(summary: dict[str, Any], n: int = 5) -> str:
    """What is taxed: the ``n`` products with the largest added duty and their share of it."""
    t = summary["totals"]
    products = summary["top_products"][:n]
    if not products:
        return ""
    share = _share(sum(p["added_duty_usd"] for p in products), t["added_duty_usd"])
    named = "; ".join(
        f"HS {p['hs']} {_short(p['description'], 45)} {_money(p['added_duty_usd'])} ({p['added_rate'] * 100:+.1f} pp)"
        for p in products
    )
    return (
        f"By product, the {count(len(products))} largest {_direction(summary)} make up {share} of the total: "
        f"{named}."
    )


def measures_sentence(summary: dict[str, Any]) -> str:
    """Where the added duty comes from: the measures that add the most, largest first."""
    t = summary["totals"]
    adding = sorted(
        (m for m in summary.get("measures", []) if m["added_duty_usd"] != 0),
        key=lambda m: -abs(m["added_duty_usd"]),
    )
    if not adding:
        return ""
    named = "; ".join(
        f"{m['authority']} ({m['measure']}) {_money(m['added_duty_usd'])}, "
        f"{_share(m['added_duty_usd'], t['added_duty_usd'])}"
        for m in adding[:4]
    )
    more = f"; {len(adding) - 4} more measures add the rest" if len(adding) > 4 else ""
    return f"By measure: {named}{more}."


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, first column left-aligned and the others right-aligned."""
    return [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows),
    ]


def caveats(summary: dict[str, Any]) -> list[str]:
    """The caveats of a run as sentences: the static model, what is left out, data quality, warnings."""
    rec, diag = summary["reconciliation"], summary["diagnostics"]
    left_out = summary.get("not_included", NOT_INCLUDED)
    rejected = (
        f"{rec['rejected_rows']:,} input rows worth {_money(rec['rejected_value_usd'])} were rejected "
        f"(of {_money(rec['input_value_usd'])}; see rejects.csv for each row and its reason)."
        if rec["rejected_rows"]
        else f"No input row was rejected ({_money(rec['input_value_usd'])} of imports read)."
    )
    items = [STATIC, "Not included: " + "; ".join(left_out) + ".", rejected]
    if rec.get("repaired_rows"):
        items.append(
            f"{rec['repaired_rows']:,} product codes that had lost their leading zero in a spreadsheet were repaired "
            f"({_money(rec['repaired_value_usd'])}; each file in summary.json says which)."
        )
    if rec.get("repeated_keys"):
        items.append(
            f"{rec['repeated_keys']:,} (partner, product, period) keys appear on more than one input row "
            f"({rec['repeated_rows']:,} rows); each file in summary.json says whether they were summed (the "
            "default: extracts split a key over districts, ports or provisions) or rejected as duplicates."
        )
    for f in rec.get("files", []):
        if not is_bundled(f["path"]):
            items += [f"Reading {Path(f['path']).name}: {note}." for note in f.get("notes", ())]
    if rec.get("not_in_nomenclature_value_usd"):
        items.append(
            f"{_money(rec['not_in_nomenclature_value_usd'])} of imports has codes that are not in HS 2022 at 6 digits "
            "(US chapters 98-99, national lines or another HS vintage): used, but described at a coarser level or "
            "not at all."
        )
    split = split_sentence(diag)
    if split:
        items.append(split)
    if diag["coarse_match_value_usd"] > 0:
        items.append(
            f"{_money(diag['coarse_match_value_usd'])} of imports is reported at a coarser product level than some "
            f"measure's product list{' and was not split' if split else ''}. {summary['rules']['coarse_rows']}"
        )
    fallback = {k: v for k, v in diag["observed_rate_value_by_tier_usd"].items() if k != EXACT}
    if fallback:
        items.append(
            "Observed baseline rates by source: "
            + ", ".join(f"{tier} {_money(value)}" for tier, value in sorted(fallback.items()))
            + f". {summary['rules']['observed_fallback']}"
        )
    return items + [f"Warning: {w}" for w in summary["warnings"]]


def split_sentence(diag: dict[str, Any]) -> str:
    """How much value coarser than HTS10 was split over the import mix, from whom, and by which mix ("" if none)."""
    value = diag.get("coarse_split_value_usd", 0.0)
    if not value:
        return ""
    partners = diag["coarse_split_value_by_partner_usd"]
    largest = ", ".join(f"{p} {_money(v)}" for p, v in list(partners.items())[:3])
    return (
        f"{_money(value)} of imports ({diag['coarse_split_rows']:,} rows from {count(len(partners))} partners, the "
        f"largest {largest}) is reported only at a level coarser than HTS10 and was split over the HTS10 codes "
        f"under each row by {diag['coarse_split_mix']}: each such row pays the mix's average of the rates of its "
        "codes (goods exempt at HTS8 or HTS10 are exempt by their share of the mix); its observed 2024 duty is "
        "unchanged. `tariffcalc run --no-split-coarse` prices the rows as they are."
    )


def to_markdown(summary: dict[str, Any]) -> str:
    """summary.md, the opening of a policy note: headline in words, a small table, who and what pays, caveats."""
    t = summary["totals"]
    s, b = summary["scenario"], summary["baseline"]
    data = summary.get("data", {})
    periods = data.get("periods", [])
    when = f"; period {periods[0]}{' to ' + periods[-1] if len(periods) > 1 else ''}" if periods else ""
    lines = [
        f"# {s['title']}",
        "",
        f"*Scenario **{s['name']}**, as in force on {s['as_of']}, against **{b['name']}**: {b['title']}. "
        f"{summary['model'][0].upper()}{summary['model'][1:]}. Data: {data.get('source', 'the input flows')}{when}.*",
        "",
        lead(summary),
        "",
        *_table(
            ["", "Baseline", "Scenario", "Change"],
            [
                [
                    "Duty",
                    _money(t["baseline_duty_usd"]),
                    _money(t["scenario_duty_usd"]),
                    _money(t["added_duty_usd"]),
                ],
                [
                    "Effective tariff rate",
                    _pct(t["baseline_rate"]),
                    _pct(t["scenario_rate"]),
                    f"{t['added_rate'] * 100:+.1f} pp",
                ],
                ["Imports", _money(t["imports_usd"]), _money(t["imports_usd"]), "held constant"],
            ],
        ),
    ]
    for sentence in (partners_sentence(summary), products_sentence(summary), measures_sentence(summary)):
        if sentence:
            lines += ["", sentence]
    partners = summary["top_partners"][:10]
    if partners:
        lines += ["", f"## Largest {_direction(summary)} by partner", ""]
        lines += _table(
            ["Partner", "Imports", "Rate before", "Rate after", "Added duty", "Share of added"],
            [
                [
                    p["partner_name"],
                    _money(p["imports_usd"]),
                    _pct(p["baseline_rate"]),
                    _pct(p["scenario_rate"]),
                    _money(p["added_duty_usd"]),
                    _share(p["added_duty_usd"], t["added_duty_usd"]),
                ]
                for p in partners
            ],
        )
    grouped = _groups_with_imports(summary)
    if grouped:
        lines += ["", "## Partner groups as one partner", "", groups_sentence(summary), ""]
        lines += _table(
            ["Group", "Members", "Imports", "Rate before", "Rate after", "Added duty", "Share of added"],
            [
                [
                    g["group_name"],
                    f"{g['members_with_imports']} of {g['members']}",
                    _money(g["imports_usd"]),
                    _pct(g["baseline_rate"]),
                    _pct(g["scenario_rate"]),
                    _money(g["added_duty_usd"]),
                    _share(g["added_duty_usd"], t["added_duty_usd"]),
                ]
                for g in grouped
            ],
        )
    products = summary["top_products"][:10]
    if products:
        lines += ["", f"## Largest {_direction(summary)} by product", ""]
        lines += _table(
            ["Product", "Imports", "Rate before", "Rate after", "Added duty", "Share of added"],
            [
                [
                    f"HS {p['hs']} {_short(p['description'], 50)}",
                    _money(p["imports_usd"]),
                    _pct(p["baseline_rate"]),
                    _pct(p["scenario_rate"]),
                    _money(p["added_duty_usd"]),
                    _share(p["added_duty_usd"], t["added_duty_usd"]),
                ]
                for p in products
            ],
        )
    if "response" in summary:
        lines += ["", *response_section(summary["response"])]
    lines += ["", "## Caveats", ""]
    lines += [f"- {item}" for item in caveats(summary)]
    return "\n".join(lines) + "\n"


def _ladder(response: dict[str, Any]) -> str:
    return " → ".join(_money(step["revenue_usd"]) for step in response["revenue_ladder"])


def response_section(response: dict[str, Any]) -> list[str]:
    """summary.md's account of the trade and price response (``run --model armington``)."""
    rates, trade, welfare, prices = (response[k] for k in ("effective_rates", "trade", "welfare", "prices"))
    central, low, high = prices["central"], prices["low"], prices["high"]
    lines = [
        "## After trade responds",
        "",
        f"With the {response['description']}, imports fall to {_money(trade['imports_after_usd'])} "
        f"({trade['trade_creation_share']:+.1%}; trade creation {_money(trade['trade_creation_usd'])}) and "
        f"{_money(trade['trade_diversion_gross_usd'])} of purchases move between partners. The effective tariff "
        f"rate after the response is {_pct(rates['post_substitution_scenario_rate'])} "
        f"({rates['post_substitution_added_rate'] * 100:+.1f} pp, against "
        f"{rates['static_added_rate'] * 100:+.1f} pp before substitution).",
        "",
        f"Consumer prices rise by about {central['price_level_change']:.2%}, "
        f"{_money(central['cost_per_household_usd'])} per household a year on average (range "
        f"{_money(low['cost_per_household_usd'])} to {_money(high['cost_per_household_usd'])}). {prices['note']}",
        "",
        *_table(
            ["Revenue step", "USD a year", "How"],
            [
                [step["label"], _money(step["revenue_usd"]), step["note"]]
                for step in response["revenue_ladder"]
            ],
        ),
        "",
        f"Welfare: consumer surplus {_money(welfare['consumer_surplus_change_usd'])}, tariff revenue "
        f"{_money(welfare['revenue_change_usd'])}, foreign producer surplus "
        f"{_money(welfare['producer_surplus_change_usd'])}, deadweight loss {_money(welfare['deadweight_loss_usd'])}.",
    ]
    return lines


def to_terminal(summary: dict[str, Any]) -> str:
    """A short text table for the shell: totals, rates before/after, rejects and the top partners."""
    t = summary["totals"]
    rec = summary["reconciliation"]
    rows = [
        ("Scenario", summary["scenario"]["title"]),
        (
            "",
            f"({summary['scenario']['name']} as of {summary['scenario']['as_of']}, against "
            f"{summary['baseline']['name']}: {summary['baseline']['title']})",
        ),
        ("Imports", _money(t["imports_usd"])),
        ("Baseline duty", _money(t["baseline_duty_usd"])),
        ("Scenario duty", _money(t["scenario_duty_usd"])),
        ("Added duty", _money(t["added_duty_usd"])),
        (
            "Effective rate",
            f"{_pct(t['baseline_rate'])} -> {_pct(t['scenario_rate'])} ({t['added_rate'] * 100:+.1f} pp)",
        ),
        ("Rejected", f"{rec['rejected_rows']:,} rows, {_money(rec['rejected_value_usd'])}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines.append("")
    lines.append(f"{'Top partners by added duty':<28}{'added':>12}{'added rate':>12}")
    for p in summary["top_partners"][:5]:
        lines.append(
            f"  {p['partner_name'][:26]:<26}{_money(p['added_duty_usd']):>12}{p['added_rate'] * 100:>11.1f}%"
        )
    grouped = _groups_with_imports(summary)
    if grouped:
        lines.append(f"{'Groups as one partner':<28}")
    for g in grouped:
        name = f"{g['group_name']} ({g['members']})"
        lines.append(f"  {name[:26]:<26}{_money(g['added_duty_usd']):>12}{g['added_rate'] * 100:>11.1f}%")
    if "response" in summary:
        r = summary["response"]
        rates, trade, central = r["effective_rates"], r["trade"], r["prices"]["central"]
        lines += [
            "",
            f"After trade responds ({r['model']}):",
            f"  Effective rate  {_pct(rates['post_substitution_scenario_rate'])} "
            f"({rates['post_substitution_added_rate'] * 100:+.1f} pp; "
            f"static {rates['static_added_rate'] * 100:+.1f} pp)",
            f"  Imports         {_money(trade['imports_after_usd'])} (creation "
            f"{_money(trade['trade_creation_usd'])}, diversion {_money(trade['trade_diversion_gross_usd'])} gross)",
            f"  Revenue         {_ladder(r)} (static, after response, compliance, net of offsets)",
            f"  Prices          {central['price_level_change']:+.2%}; "
            f"{_money(central['cost_per_household_usd'])} per household a year",
        ]
    lines += [f"Warning: {w}" for w in summary["warnings"]]
    return "\n".join(lines)
