"""Why one good from one partner pays what it pays: every measure, whether it applies, and why.

``explain`` resolves the scenario for a single (partner, HS code) pair with the same code that prices
millions of rows, then turns the intermediate results into sentences, so the explanation cannot drift
from the computation.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from tariffcalc.errors import UnknownCodeError
from tariffcalc.reference import countries, hs
from tariffcalc.rules.scenario import Scenario, load_scenario
from tariffcalc.rules.schedule import EXACT, MeasureRates, resolve, us_2024_observed_chapter


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


def _reason(m: MeasureRates, partner: str, code: str, cell: str, on: dt.date) -> str:
    p, q = m.partners, m.products
    coarse = (
        " (some of its product prefixes are finer than this code; they do not match it)"
        if q.coarse[0]
        else ""
    )
    if not m.active:
        return f"not in force on {on.isoformat()} (in force {_period(m)})"
    if p.excluded[0]:
        return f"{partner} is excluded from this measure (exclude_partners)"
    if not p.in_scope[0]:
        return f"{partner} is not among this measure's partners"
    if not q.in_scope[0]:
        if q.decided_by[0]:
            return f"HS {code} is excluded: prefix {q.decided_by[0]} is in {q.source[0]}{coarse}"
        return f"HS {code} is not among this measure's products{coarse}"
    if not m.applies[0] and m.preempted_by[0]:
        return f"pre-empted: {_preemption(m, on)}, so this one does not apply"
    if m.measure.observed:
        return f"observed 2024 duty rate of {cell}{coarse}"
    basis = p.basis[0]
    why = "the rate for all partners" if basis == "all partners" else f"the rate for {basis}"
    if m.measure.all_in and m.base_rate is not None:
        base = float(m.base_rate[0])
        parts = [
            f"an all-in rate of {m.rate[0]:.2%} ({why}), MFN included: the good's base rate is {base:.2%} "
            f"(observed 2024 rate of {cell}), so it adds {max(m.rate[0] - base, 0.0):.2%}"
        ]
    else:
        parts = [f"applies at {m.rate[0]:.2%}, {why}"]
    if q.decided_by[0]:
        parts.append(f"product matched by prefix {q.decided_by[0]} ({q.source[0]})")
    if p.in_baseline[0]:
        parts.append(
            f"{p.in_baseline[0]:.2%} of it is already in the observed baseline, so it adds the difference"
        )
    if m.measure.applies_to_share < 1:
        parts.append(f"on {m.measure.applies_to_share:.0%} of the value (applies_to_share)")
    share = m.measure.value_share
    if share is not None:
        charged = float(m.charged_share[0]) if m.charged_share is not None else 1.0
        if m.usmca_claimed is not None:
            charged /= max(1.0 - float(m.usmca_claimed[0]), 1e-12)
        parts.append(f"charged on {charged:.1%} of the value ({share.label})")
    if m.usmca_claimed is not None and m.usmca_month:  # a Canadian or Mexican good (the month is set)
        claimed = float(m.usmca_claimed[0])
        parts.append(
            f"goods claiming USMCA preference are exempt: {claimed:.1%} of {partner}'s imports of this code "
            f"claimed it in {m.usmca_month}, so it is charged on the other {1 - claimed:.1%} (a good that "
            f"does not claim USMCA pays the full {m.rate[0]:.2%})"
        )
    if m.remaining_share is not None and m.remaining_share[0] < 1:
        parts.append(
            f"{_preemption(m, on)} on its share of the value, so this one applies to the remaining "
            f"{float(m.remaining_share[0]):.1%}"
        )
    return "; ".join(parts) + coarse


def _preemption(m: MeasureRates, on: dt.date) -> str:
    """Which measure pre-empts ``m`` on the explained pair, and by what rule."""
    other = m.preempted_by[0]
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
) -> dict[str, Any]:
    """Every measure of ``scenario`` for one partner (ISO3 or name) and HS code, with rates as fractions.

    Returns ``partner``, ``hs``, ``as_of``, ``rate`` (total), ``baseline_rate``, ``added_rate`` and
    ``components`` (``measure``, ``authority``, ``rate``, ``applies``, ``contribution``, ``reason``,
    ``citation``).
    """
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    baseline = baseline if isinstance(baseline, Scenario) else load_scenario(baseline)
    code = hs.normalise(code)
    if not hs.is_valid(code):
        raise UnknownCodeError(f"HS code {code!r} must have 2, 4, 6, 8 or 10 digits (e.g. 6109100012).")
    group = None if countries.is_partner(partner.strip().upper()) else countries.group_code(partner)
    if group is not None:
        return _explain_group(scenario, baseline, group, code, as_of)
    iso3 = countries.to_iso3(partner)
    schedule, base = _resolve(scenario, baseline, [iso3], code, as_of)
    rate = float(schedule.total_rate[0])
    baseline_rate = float(base.total_rate[0])
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
        "components": _components(schedule, iso3, code),
        "warnings": list(scenario.date_warnings(schedule.as_of)),
    }


def _resolve(scenario: Scenario, baseline: Scenario, partners: list[str], code: str, as_of: dt.date | None):
    """The scenario's and the baseline's schedules for ``partners`` × one ``code``."""
    pair_partner = np.array(partners, dtype=object)
    pair_code = np.full(len(partners), code, dtype=object)
    observed = us_2024_observed_chapter(code[:2])
    schedule = resolve(scenario, pair_partner, pair_code, as_of, observed=observed)
    return schedule, resolve(baseline, pair_partner, pair_code, observed=observed)


def _components(schedule, iso3: str, code: str) -> list[dict[str, Any]]:
    """Every measure of a one-pair ``schedule`` (partner ``iso3``): its rate, whether and why it applies."""
    tier = str(schedule.observed_tier[0]) if schedule.observed_tier is not None else ""
    cell = _observed_cell(tier, iso3, code)
    components = []
    for m in schedule.measures:
        rate = float(m.rate[0]) if not np.isnan(m.rate[0]) else None
        components.append(
            {
                "measure": m.measure.id,
                "authority": m.measure.authority,
                "rate": rate,
                "applies": bool(m.applies[0]),
                "in_force": bool(m.active),
                "contribution": float(m.contribution[0]),
                "reason": _reason(m, iso3, code, cell, schedule.as_of),
                "citation": m.measure.citation,
                "basis": m.measure.basis,
                "status": m.measure.status,
                "status_words": _status(m),
                "source": list(m.measure.source),
                "from_scenario": m.measure.scenario,
            }
        )
    return components


def _explain_group(
    scenario: Scenario, baseline: Scenario, group: str, code: str, as_of: dt.date | None
) -> dict[str, Any]:
    """How a partner group (``EU``) resolves for one code: a scenario's rate for the group applies to each
    member (a member's own rate beats it), and each member is then priced as a partner. Returns the
    members with their rates, the group's rates in the scenario's measures, and the components of the
    first member; ``uniform`` says whether every member gets the same measures (only the observed 2024
    rates, which are each member's own, may then differ)."""
    on = as_of or scenario.as_of
    members = countries.group_members(group, on)
    schedule, base = _resolve(scenario, baseline, members, code, as_of)
    rates = np.asarray(schedule.total_rate, dtype=float)
    baseline_rates = np.asarray(base.total_rate, dtype=float)
    added = [
        float(sum(m.contribution[i] for m in schedule.measures if m.measure.observed is None))
        for i in range(len(members))
    ]
    statutory = [m for m in schedule.measures if m.measure.observed is None]
    uniform = all(
        np.allclose(m.contribution, m.contribution[0]) and len(set(map(bool, m.applies))) == 1
        for m in statutory
    )
    group_rates = [
        {"measure": m.measure.id, "authority": m.measure.authority, "rate": float(m.measure.rates[group])}
        for m in schedule.measures
        if m.active and group in m.measure.rates
    ]
    detail = [
        {
            "partner": iso3,
            "partner_name": countries.partner_name(iso3),
            "rate": float(rates[i]),
            "baseline_rate": float(baseline_rates[i]),
            "added_rate": float(rates[i] - baseline_rates[i]),
        }
        for i, iso3 in enumerate(members)
    ]
    return {
        "scenario": scenario.name,
        "baseline": baseline.name,
        "partner": group,
        "partner_name": countries.group_title(group),
        "group": group,
        "members": members,
        "hs": code,
        "description": hs.description(code),
        "as_of": schedule.as_of.isoformat(),
        "group_rates": group_rates,
        "uniform": bool(uniform),
        "statutory_added_rate": added,
        "member_rates": detail,
        "rate": float(rates.min()) if len(members) else 0.0,
        "rate_max": float(rates.max()) if len(members) else 0.0,
        "baseline_rate": float(baseline_rates.min()) if len(members) else 0.0,
        "baseline_rate_max": float(baseline_rates.max()) if len(members) else 0.0,
        "added_rate": float((rates - baseline_rates).min()) if len(members) else 0.0,
        "added_rate_max": float((rates - baseline_rates).max()) if len(members) else 0.0,
        "components": _components(_resolve(scenario, baseline, members[:1], code, as_of)[0], members[0], code)
        if members
        else [],
        "shown_for": members[0] if members else "",
        "warnings": list(scenario.date_warnings(schedule.as_of)),
    }


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
