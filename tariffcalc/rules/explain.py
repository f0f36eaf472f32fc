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
            charged /= max(float(m.usmca_kept[i]), 1e-12)
        parts.append(f"charged on {charged:.1%} of the value ({share.label})")
    if m.usmca_claimed is not None and m.usmca_month:  # a Canadian or Mexican good (the month is set)
        claimed = float(m.usmca_claimed[i])
        kept_share = m.measure.usmca_value_share
        if kept_share is None:
            parts.append(
                f"goods claiming USMCA preference are exempt: {claimed:.1%} of {partner}'s imports of this code "
                f"claimed it in {m.usmca_month}, so it is charged on the other {1 - claimed:.1%} (a good that "
                f"does not claim USMCA pays the full {m.rate[i]:.2%})"
            )
        else:
            parts.append(
                f"goods claiming USMCA preference pay on {kept_share:.0%} of their value (their non-US content; "
                f"usmca_value_share): {claimed:.1%} of {partner}'s imports of this code claimed it in "
                f"{m.usmca_month}, so it is charged on {1 - claimed:.1%} + {claimed:.1%} × {kept_share:.0%} = "
                f"{float(m.usmca_kept[i]):.1%} of the value (a good that does not claim USMCA pays the full "
                f"{m.rate[i]:.2%})"
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

    ``partner`` may also be a bundled partner group (``EU``, ``European Union``): see
    :func:`_explain_group` for what is returned then.
    """
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    baseline = baseline if isinstance(baseline, Scenario) else load_scenario(baseline)
    code = hs.normalise(code)
    if not hs.is_valid(code):
        raise UnknownCodeError(f"HS code {code!r} must have 2, 4, 6, 8 or 10 digits (e.g. 6109100012).")
    group = None if countries.is_partner(partner.strip().upper()) else countries.group_code(partner)
    if group is not None:
        return _explain_group(scenario, baseline, group, code, as_of, split_coarse)
    iso3 = countries.to_iso3(partner)
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
                "observed": m.measure.observed is not None,
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


def _explain_group(
    scenario: Scenario,
    baseline: Scenario,
    group: str,
    code: str,
    as_of: dt.date | None,
    split_coarse: bool,
) -> dict[str, Any]:
    """How a partner group (``EU``) resolves for one code: a scenario's rate for the group applies to each
    member (a member's own rate beats it), and each member is then priced as a partner — by
    :func:`explain` itself, member by member, so a group cannot be priced differently from its members.

    Returns the members with their rates (``member_rates``), the group's rates in the scenario's measures
    (``group_rates``), the lowest and highest total, baseline and added rate (``rate``/``rate_max``, ...),
    each member's statutory added rate (``statutory_added_rate``: the measures other than observed 2024
    rates), and the components of the first member (``shown_for``); ``uniform`` says whether every member
    gets the same statutory measures (only the observed 2024 rates, each member's own, may then differ).
    """
    on = as_of or scenario.as_of
    members = countries.group_members(group, on)
    each = [explain(scenario, member, code, as_of, baseline, split_coarse) for member in members]

    def statutory(e: dict[str, Any]) -> list[tuple[str, bool, float]]:
        return [
            (c["measure"], c["applies"], round(c["contribution"], 12))
            for c in e["components"]
            if not c["observed"]
        ]

    rates = np.array([e["rate"] for e in each], dtype=float)
    baseline_rates = np.array([e["baseline_rate"] for e in each], dtype=float)
    added = rates - baseline_rates
    if not each:
        raise UnknownCodeError(f"Partner group {group!r} has no members on {on}; give a partner's ISO3 code.")
    first = each[0]
    group_rates = [
        {"measure": m.id, "authority": m.authority, "rate": float(m.rates[group])}
        for m in scenario.measures
        if m.in_force(dt.date.fromisoformat(first["as_of"])) and group in m.rates
    ]

    def low_high(values: np.ndarray) -> tuple[float, float]:
        return float(values.min()), float(values.max())

    return {
        "scenario": scenario.name,
        "baseline": baseline.name,
        "partner": group,
        "partner_name": countries.group_title(group),
        "group": group,
        "members": members,
        "hs": code,
        "description": hs.description(code),
        "as_of": first["as_of"],
        "group_rates": group_rates,
        "uniform": all(statutory(e) == statutory(each[0]) for e in each),
        "statutory_added_rate": [
            float(sum(c["contribution"] for c in e["components"] if not c["observed"])) for e in each
        ],
        "member_rates": [
            {
                "partner": e["partner"],
                "partner_name": e["partner_name"],
                "rate": e["rate"],
                "baseline_rate": e["baseline_rate"],
                "added_rate": e["added_rate"],
            }
            for e in each
        ],
        "rate": low_high(rates)[0],
        "rate_max": low_high(rates)[1],
        "baseline_rate": low_high(baseline_rates)[0],
        "baseline_rate_max": low_high(baseline_rates)[1],
        "added_rate": low_high(added)[0],
        "added_rate_max": low_high(added)[1],
        "components": first["components"],
        "split": first["split"],
        "shown_for": members[0],
        "warnings": first["warnings"],
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


def _span(low: float, high: float, signed: bool = False) -> str:
    spec = "+.2%" if signed else ".2%"
    return f"{low:{spec}}" if abs(high - low) < 5e-5 else f"{low:{spec}} to {high:{spec}}"


def _group_text(e: dict[str, Any]) -> list[str]:
    """The lines that say how a group resolves: its members, its rates, and each member's rates."""
    members = e["members"]
    lines = [
        f"{e['group']} is a partner group: {len(members)} members on {e['as_of']} ({' '.join(members)}). A "
        f"scenario's rate for {e['group']} applies to each member (a member's own rate beats it); each member is "
        "then priced as a partner.",
    ]
    if e["group_rates"]:
        lines.append(
            "Rates for the group in this scenario: "
            + "; ".join(f"{g['measure']} {g['rate']:.2%} ({g['authority']})" for g in e["group_rates"])
            + "."
        )
    else:
        lines.append(
            f"No measure of this scenario names {e['group']}: each member gets its own or the general rate."
        )
    shown = countries.partner_name(e["shown_for"])
    lines.append(
        (
            f"Every member gets the same measures (below for {shown}, {e['shown_for']}); only the observed 2024 "
            "rates, each member's own, differ."
        )
        if e["uniform"]
        else f"The members do not all get the same measures; below for {shown} ({e['shown_for']}), then each member."
    )
    lines.append("")
    return lines


def to_text(explanation: dict[str, Any]) -> str:
    """Human-readable rendering of :func:`explain` for the terminal (a partner group: how it resolves)."""
    e = explanation
    lines = [
        f"{e['partner_name']} ({e['partner']}), HS {e['hs']} {e['description']}".rstrip(),
        f"Scenario {e['scenario']} as of {e['as_of']}, compared with {e['baseline']}",
        "",
    ]
    if "group" in e:
        lines += _group_text(e)
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
    if "group" in e:
        lines += [
            "",
            f"Members: total rate {_span(e['rate'], e['rate_max'])}; baseline "
            f"{_span(e['baseline_rate'], e['baseline_rate_max'])}; "
            f"added {_span(e['added_rate'], e['added_rate_max'], signed=True)}",
        ]
        lines += [
            f"  {m['partner_name'][:24]:<24} {m['partner']}  {m['rate']:>7.2%}  baseline {m['baseline_rate']:>6.2%}  "
            f"added {m['added_rate']:+.2%}"
            for m in e["member_rates"]
        ]
    else:
        lines += [
            "",
            f"Total rate {e['rate']:.2%}; baseline {e['baseline_rate']:.2%}; added {e['added_rate']:+.2%}",
        ]
    lines += [f"Warning: {w}" for w in e.get("warnings", [])]
    return "\n".join(lines)
