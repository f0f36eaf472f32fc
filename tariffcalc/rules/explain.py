"""Why one good from one partner pays what it pays: every measure, whether it applies, and why.

``explain`` resolves the scenario for a single (partner, HS code) pair with the same code that prices
millions of rows, then turns the intermediate results into sentences, so the explanation cannot drift
from the computation. A code coarser than HTS10 is split over the reference import mix as ``run`` splits
it (:mod:`tariffcalc.reference.mix`): its rate is the weighted average of the rates of the HTS10 codes
under it, and the explanation lists the largest of them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from tariffcalc.errors import UnknownCodeError
from tariffcalc.reference import countries, hs
from tariffcalc.reference.mix import FINEST, IMPORTER, us_2024_mix
from tariffcalc.rules.scenario import Scenario, load_scenario
from tariffcalc.rules.schedule import EXACT, MeasureRates, resolve_pairs, us_2024_observed_chapter

LARGEST = 8
"""How many codes of a split code's mix ``explain`` lists."""


def _period(m: MeasureRates) -> str:
    start = m.measure.effective.isoformat() if m.measure.effective else "always"
    end = f"until {m.measure.expires.isoformat()} (exclusive)" if m.measure.expires else "open-ended"
    return f"from {start}, {end}"


def _observed_cell(tier: str, partner: str, code: str) -> str:
    """Which 2024 cell an observed rate comes from, e.g. ``UKR × HS 61 (fallback: ...)``."""
    if tier == EXACT:
        return f"{partner} × HS {code} itself"
    who, _, level = tier.partition(" × HS")
    if not level:
        return f"{tier} (fallback: no 2024 cell for this partner or code)"
    who = partner if who == "partner" else who
    return f"{who} × HS {code[: int(level)]} (fallback: no 2024 cell for {partner} × HS {code})"


def _reason(m: MeasureRates, i: int, partner: str, code: str, cell: str, on: dt.date) -> str:
    """Why measure ``m`` does or does not apply to pair ``i`` (of one partner), whose code is ``code``."""
    p, q, c = m.partners, m.products, m.code_index[i]
    coarse = (
        " (some of its product prefixes are finer than this code; they do not match it)"
        if q.coarse[c]
        else ""
    )
    if not m.active:
        return f"not in force on {on.isoformat()} (in force {_period(m)})"
    if p.excluded[0]:
        return f"{partner} is excluded from this measure (exclude_partners)"
    if not p.in_scope[0]:
        return f"{partner} is not among this measure's partners"
    if not q.in_scope[c]:
        if q.decided_by[c]:
            return f"HS {code} is excluded: prefix {q.decided_by[c]} is in {q.source[c]}{coarse}"
        return f"HS {code} is not among this measure's products{coarse}"
    if not m.applies[i] and m.preempted_by[i]:
        return f"pre-empted: {_preemption(m, i, on)}, so this one does not apply"
    if m.measure.observed:
        return f"observed 2024 duty rate of {cell}{coarse}"
    basis = p.basis[0]
    why = "the rate for all partners" if basis == "all partners" else f"the rate for {basis}"
    if m.measure.all_in and m.base_rate is not None:
        base = float(m.base_rate[i])
        parts = [
            f"an all-in rate of {m.rate[i]:.2%} ({why}), MFN included: the good's base rate is {base:.2%} "
            f"(observed 2024 rate of {cell}), so it adds {max(m.rate[i] - base, 0.0):.2%}"
        ]
    else:
        parts = [f"applies at {m.rate[i]:.2%}, {why}"]
    if q.decided_by[c]:
        parts.append(f"product matched by prefix {q.decided_by[c]} ({q.source[c]})")
    if p.in_baseline[0]:
        parts.append(
            f"{p.in_baseline[0]:.2%} of it is already in the observed baseline, so it adds the difference"
        )
    if m.measure.applies_to_share < 1:
        parts.append(f"on {m.measure.applies_to_share:.0%} of the value (applies_to_share)")
    share = m.measure.value_share
    if share is not None:
        charged = float(m.charged_share[i]) if m.charged_share is not None else 1.0
        if m.usmca_claimed is not None:
            charged /= max(1.0 - float(m.usmca_claimed[i]), 1e-12)
        parts.append(f"charged on {charged:.1%} of the value ({share.label})")
    if m.usmca_claimed is not None and m.usmca_month:  # a Canadian or Mexican good (the month is set)
        claimed = float(m.usmca_claimed[i])
        parts.append(
            f"goods claiming USMCA preference are exempt: {claimed:.1%} of {partner}'s imports of this code "
            f"claimed it in {m.usmca_month}, so it is charged on the other {1 - claimed:.1%} (a good that "
            f"does not claim USMCA pays the full {m.rate[i]:.2%})"
        )
    if m.remaining_share is not None and m.remaining_share[i] < 1:
        parts.append(
            f"{_preemption(m, i, on)} on its share of the value, so this one applies to the remaining "
            f"{float(m.remaining_share[i]):.1%}"
        )
    return "; ".join(parts) + coarse


def _preemption(m: MeasureRates, i: int, on: dt.date) -> str:
    """Which measure pre-empts ``m`` on pair ``i``, and by what rule."""
    other = m.preempted_by[i]
    if other in m.measure.preempted_by:
        return f"measure {other!r} covers this good"
    orders = [s for s in m.schedule_stacking if s.in_force(on) and other in s.order]
    rule = f" (stacking order of {orders[0].citation})" if orders else ""
    return f"measure {other!r} covers this good and ranks first{rule}"


def _status(m: MeasureRates) -> str:
    measure = m.measure
    words = {
        "announced": "announced, never in force",
        "suspended": "suspended",
        "struck-down": "struck down",
    }.get(measure.status, "")
    parts = [words] if words else []
    if measure.status_note:
        parts.append(measure.status_note)
    if measure.unsourced:
        parts.append("no source document was found for this measure")
    return "; ".join(parts)


def explain(
    scenario: str | Path | Scenario,
    partner: str,
    code: str,
    as_of: dt.date | None = None,
    baseline: str | Path | Scenario = "baseline-2024",
    split_coarse: bool = True,
) -> dict[str, Any]:
    """Every measure of ``scenario`` for one partner (ISO3 or name) and HS code, with rates as fractions.

    Returns ``partner``, ``hs``, ``as_of``, ``rate`` (total), ``baseline_rate``, ``added_rate``,
    ``components`` (``measure``, ``authority``, ``rate``, ``applies``, ``contribution``, ``reason``,
    ``citation``, ...) and ``split``. A code coarser than HTS10 that the reference import mix has codes
    under is priced as ``run`` prices it (unless ``split_coarse`` is False): ``rate`` and each
    component's ``contribution`` are averages over the mix, ``applies_share`` is the share of the mix a
    measure applies to, and ``split`` gives the mix's source, its number of codes and the largest of them
    (``hs``, ``description``, ``share``, ``rate``, ``baseline_rate``, ``added_rate``); ``split`` is None
    for a code that was not split.
    """
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    baseline = baseline if isinstance(baseline, Scenario) else load_scenario(baseline)
    iso3 = countries.to_iso3(partner)
    code = hs.normalise(code)
    if not hs.is_valid(code):
        raise UnknownCodeError(f"HS code {code!r} must have 2, 4, 6, 8 or 10 digits (e.g. 6109100012).")
    split = None
    if split_coarse and scenario.importer == IMPORTER and len(code) < FINEST:
        split = us_2024_mix().split_one(code)
    if split is None:
        codes = np.array([code], dtype=object)
        code_index = partner_index = np.zeros(1, dtype=np.intp)
        weight, observed_pairs = np.ones(1), None
    else:
        codes, code_index, partner_index = split.codes, split.code_index, split.partner_index
        weight = split.weight
        observed_pairs = (split.data_partner_index, split.data_code_index, split.origin)
    pair_partner = np.array([iso3], dtype=object)
    observed = us_2024_observed_chapter(code[:2])

    def priced(of: Scenario, on: dt.date | None):
        return resolve_pairs(
            of, pair_partner, codes, partner_index, code_index, on, observed, observed_pairs=observed_pairs
        )

    schedule, base = priced(scenario, as_of), priced(baseline, None)
    tier = str(schedule.observed_tier[0]) if schedule.observed_tier is not None else ""
    cell = _observed_cell(tier, iso3, code)
    largest = np.argsort(-weight, kind="stable")
    components = []
    for m in schedule.measures:
        applies = m.applies
        i = int(largest[np.argmax(applies[largest])])  # the largest code it applies to, else the largest
        rate = float(m.rate[i]) if not np.isnan(m.rate[i]) else None
        reason = _reason(m, i, iso3, str(codes[code_index[i]]), cell, schedule.as_of)
        share = float(np.dot(weight, applies))
        if split is not None:
            reason = _split_reason(share, str(codes[code_index[i]]), reason)
        components.append(
            {
                "measure": m.measure.id,
                "authority": m.measure.authority,
                "rate": rate,
                "applies": bool(share > 0),
                "applies_share": share,
                "in_force": bool(m.active),
                "contribution": float(np.dot(weight, m.contribution)),
                "reason": reason,
                "citation": m.measure.citation,
                "basis": m.measure.basis,
                "status": m.measure.status,
                "status_words": _status(m),
                "source": list(m.measure.source),
                "from_scenario": m.measure.scenario,
            }
        )
    rate = float(np.dot(weight, schedule.total_rate))
    baseline_rate = float(np.dot(weight, base.total_rate))
    return {
        "scenario": scenario.name,
        "baseline": baseline.name,
        "partner": iso3,
        "partner_name": countries.partner_name(iso3),
        "hs": code,
        "description": hs.description(code),
        "as_of": schedule.as_of.isoformat(),
        "rate": rate,
        "baseline_rate": baseline_rate,
        "added_rate": rate - baseline_rate,
        "components": components,
        "split": None if split is None else _split_figures(split, codes, code_index, schedule, base, largest),
        "warnings": list(scenario.date_warnings(schedule.as_of)),
    }


def _split_reason(share: float, code: str, reason: str) -> str:
    """A measure's reason for a split code: on how much of the mix it applies, and why for one code."""
    if share <= 0:
        return f"applies to none of the import mix; e.g. HS {code}: {reason}"
    whole = "the whole import mix" if share >= 1 - 1e-12 else f"{share:.1%} of the import mix (by value)"
    return f"applies to {whole}; e.g. HS {code}: {reason}"


def _split_figures(split, codes, code_index, schedule, base, largest) -> dict[str, Any]:
    """The mix a coarse code was split over: source, number of codes and the largest codes' rates."""
    top = largest[:LARGEST]
    top_codes = codes[code_index[top]]
    return {
        "mix": split.mix.source,
        "codes": len(split.weight),
        "largest": [
            {
                "hs": str(c),
                "description": hs.description(str(c)),
                "share": float(split.weight[i]),
                "rate": float(schedule.total_rate[i]),
                "baseline_rate": float(base.total_rate[i]),
                "added_rate": float(schedule.total_rate[i] - base.total_rate[i]),
            }
            for i, c in zip(top, top_codes, strict=True)
        ],
    }


def _cut(text: str | None, width: int = 50) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def to_text(explanation: dict[str, Any]) -> str:
    """Human-readable rendering of :func:`explain` for the terminal."""
    e = explanation
    lines = [
        f"{e['partner_name']} ({e['partner']}), HS {e['hs']} {e['description']}".rstrip(),
        f"Scenario {e['scenario']} as of {e['as_of']}, compared with {e['baseline']}",
        "",
    ]
    split = e.get("split")
    if split:
        lines += [
            f"HS {e['hs']} is coarser than HTS10, so it is priced as a mix: its rate is the average of the rates "
            f"of the {split['codes']:,} HTS10 codes under it, weighted by their shares of {split['mix']}. "
            "Its baseline (observed 2024) rate is the code's own. Largest codes:",
            *(
                f"   {c['hs']}  {c['share']:6.1%}  rate {c['rate']:6.2%} (added {c['added_rate']:+.2%})  "
                f"{_cut(c['description'])}".rstrip()
                for c in split["largest"]
            ),
            "",
        ]
    idle = [c for c in e["components"] if not c["applies"] and not c.get("in_force", True)]
    elsewhere = [
        c for c in e["components"] if not c["applies"] and "is not among this measure's" in c["reason"]
    ]
    for c in e["components"]:
        if c in idle or c in elsewhere:
            continue
        mark = "+" if c["applies"] else "-"
        rate = f"{c['contribution']:+.2%}" if c["applies"] else "  —  "
        lines.append(f" {mark} {c['measure']:<28} {rate:>9}  {c['reason']}")
        if not c["applies"]:  # the legal detail of measures that do not apply is in --json
            continue
        lines.append(f"   {'':<28} {'':>9}  {c['citation']}")
        if c.get("status_words"):
            lines.append(f"   {'':<28} {'':>9}  Status: {c['status_words']}")
        for url in c.get("source", [])[:2]:
            lines.append(f"   {'':<28} {'':>9}  Source: {url}")
    for group, words in (
        (elsewhere, "in force but not on this partner or product"),
        (idle, "not in force on " + e["as_of"]),
    ):
        if group:
            names = ", ".join(c["measure"] for c in group[:5]) + (" …" if len(group) > 5 else "")
            lines.append(f"   {len(group)} measure(s) {words}: {names} (each with its reason: --json)")
    lines += [
        "",
        f"Total rate {e['rate']:.2%}; baseline {e['baseline_rate']:.2%}; added {e['added_rate']:+.2%}",
    ]
    lines += [f"Warning: {w}" for w in e.get("warnings", [])]
    return "\n".join(lines)
