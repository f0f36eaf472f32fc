"""Compile a scenario into rates for (partner, product) pairs, vectorised over the distinct pairs.

Rules (documented for users in docs/scenarios.md):

* A measure is in force on a date when ``effective`` ≤ date < ``expires``; product-list entries with an
  ``effective`` date count from that date.
* Partners: ``exclude_partners`` beats everything; a partner's own entry in ``rates`` beats its group's
  entry (``EU``), which beats the measure's ``rate``. A partner with no applicable rate is out of scope.
* Products: among the measure's ``products`` and ``exclude_products`` prefixes, the longest prefix of a
  code decides whether the code is in or out (an HTS8 carve-out inside an included chapter is out; with no
  ``products`` every code is in unless excluded).
* Coarse rows: a scope prefix *longer* than the data's code (an HTS8 exemption and a chapter row) does not
  match it. The row is treated as outside that prefix, and its value is counted as a *coarse match* so the
  summary can report how much value the rule touched.
* Pre-emption: where any measure listed in ``preempted_by`` covers the pair (partner, product and date in
  its scope), this measure does not apply.
* A measure adds ``(rate − in_baseline) × applies_to_share`` to the pair's rate; an ``observed`` measure
  adds the observed 2024 rate of the pair (see :class:`ObservedRates`). The total is floored at 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import numpy as np
import pandas as pd

from tariffcalc import countries
from tariffcalc.scenario import Measure, Scenario, ScopeEntry

ALL_IMPORTS = "all imports"
EXACT = "exact"


class ObservedRates:
    """Observed ad valorem duty rates (duty ÷ value) of a flow table, looked up with fallbacks.

    A pair (partner, code) takes the rate of the same partner and code (tier ``exact``); if that cell is
    absent, the same partner and the longest shorter prefix present (HS8, HS6, HS4, chapter); then all
    partners at the longest prefix present; then the rate of all imports. The tier used is reported for every pair.
    """

    def __init__(
        self,
        partner: np.ndarray,
        code: np.ndarray,
        value: np.ndarray,
        duty: np.ndarray,
        overall_rate: float | None = None,
    ):
        # object columns, not pandas' Arrow strings: lookups below mix them with object arrays, and each
        # conversion between the two would copy every string
        self._frame = pd.DataFrame({"partner": partner, "hs": code, "value": value, "duty": duty}).astype(
            {"partner": object, "hs": object}
        )
        self._frame["length"] = self._frame["hs"].str.len()
        self._last: tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]] | None = None
        total_value = float(np.sum(value))
        self.overall_rate = overall_rate
        if overall_rate is None:
            self.overall_rate = float(np.sum(duty)) / total_value if total_value > 0 else 0.0

    @functools.cache  # noqa: B019 - one table per process; cached cells are tiny next to the data
    def _cells(self, length: int, by_partner: bool) -> pd.Series:
        rows = self._frame[self._frame["length"] >= length]
        prefix = rows["hs"].str[:length]
        key = rows["partner"] + "|" + prefix if by_partner else prefix
        sums = rows[["value", "duty"]].groupby(key.to_numpy()).sum()
        sums = sums[sums["value"] > 0]
        return sums["duty"] / sums["value"]

    def lookup(self, partner: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rates (fractions) and tier labels for arrays of partners and codes of equal length.

        The last answer is kept: a run looks up the same pairs for the scenario and for the baseline.
        """
        if self._last is not None and self._last[0] is partner and self._last[1] is code:
            return self._last[2]
        answer = self._lookup(partner, code)
        self._last = (partner, code, answer)
        return answer

    def _lookup(self, partner: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(code)
        rate = np.full(n, np.nan)
        tier = np.full(n, ALL_IMPORTS, dtype=object)
        codes = pd.Series(code, dtype=object)
        lengths = codes.str.len().to_numpy()
        partners = pd.Series(partner, dtype=object)
        for by_partner in (True, False):
            for length in (10, 8, 6, 4, 2):
                todo = np.isnan(rate) & (lengths >= length)
                if not todo.any():
                    continue
                prefix = codes[todo].str[:length]
                keys = (partners[todo] + "|" + prefix) if by_partner else prefix
                found = self._cells(length, by_partner).reindex(keys.to_numpy()).to_numpy()
                hit = ~np.isnan(found)
                where = np.flatnonzero(todo)[hit]
                rate[where] = found[hit]
                exact = by_partner & (lengths[where] == length)
                tier[where] = np.where(
                    exact, EXACT, f"{'partner' if by_partner else 'all partners'} × HS{length}"
                )
        rate[np.isnan(rate)] = self.overall_rate
        return rate, tier


@functools.cache
def us_2024_observed() -> ObservedRates:
    """Observed rates of the bundled 2024 US imports (Census calculated duties ÷ customs value)."""
    from tariffcalc import bundled

    flows = bundled.default_flows()
    return ObservedRates(
        flows["partner"].to_numpy(dtype=object),
        flows["hs"].to_numpy(dtype=object),
        flows["value_usd"].to_numpy(),
        flows["calc_duty_usd"].to_numpy(),
    )


def us_2024_observed_chapter(chapter: str) -> ObservedRates:
    """The observed 2024 rates restricted to one HS chapter, for looking up a few codes of that chapter.

    Every fallback of a code stays within its chapter except the last ("all imports"), whose rate is
    that of the whole table, so the answers equal :func:`us_2024_observed`'s at a fraction of the cost
    (``explain`` needs one code).
    """
    from tariffcalc import bundled

    flows = bundled.default_flows()
    rows = flows["hs"].str.startswith(chapter)
    overall = float(flows["calc_duty_usd"].sum()) / float(flows["value_usd"].sum())
    return ObservedRates(
        flows.loc[rows, "partner"].to_numpy(dtype=object),
        flows.loc[rows, "hs"].to_numpy(dtype=object),
        flows.loc[rows, "value_usd"].to_numpy(),
        flows.loc[rows, "calc_duty_usd"].to_numpy(),
        overall_rate=overall,
    )


@dataclasses.dataclass
class PartnerScope:
    """A measure's view of the distinct partners: in scope?, excluded?, statutory rate and why."""

    in_scope: np.ndarray
    excluded: np.ndarray
    rate: np.ndarray
    basis: np.ndarray
    in_baseline: np.ndarray


@dataclasses.dataclass
class ProductScope:
    """A measure's view of the distinct codes: in scope?, the deciding prefix and list, coarse?"""

    in_scope: np.ndarray
    decided_by: np.ndarray
    source: np.ndarray
    coarse: np.ndarray


@dataclasses.dataclass
class MeasureRates:
    """One measure resolved over the distinct pairs (arrays aligned with ``Schedule.pair_partner``)."""

    measure: Measure
    active: bool
    partners: PartnerScope
    products: ProductScope
    covers: np.ndarray
    preempted_by: np.ndarray
    applies: np.ndarray
    rate: np.ndarray
    contribution: np.ndarray


@dataclasses.dataclass
class Schedule:
    """A scenario resolved for a set of distinct (partner, code) pairs on one date."""

    scenario: Scenario
    as_of: dt.date
    pair_partner: np.ndarray
    pair_code: np.ndarray
    partner_index: np.ndarray
    code_index: np.ndarray
    measures: list[MeasureRates]
    total_rate: np.ndarray
    observed_tier: np.ndarray
    floored: np.ndarray


def _expand(codes: tuple[str, ...], on: dt.date) -> set[str]:
    groups = set(countries.group_names())
    out: set[str] = set()
    for code in codes:
        out.update(countries.group_members(code, on) if code in groups else [code])
    return out


def _by_partner(table: dict[str, float], default: float | None, partners: np.ndarray, on: dt.date):
    """Rate of each partner from a partner/group table: own entry > group entry > default."""
    groups = [g for g in table if g in set(countries.group_names())]
    value = np.full(len(partners), np.nan if default is None else default)
    basis = np.full(len(partners), "" if default is None else "all partners", dtype=object)
    for group in groups:
        members = np.isin(partners, countries.group_members(group, on))
        value[members] = table[group]
        basis[members] = f"group {group}"
    for code, rate in table.items():
        if code not in groups:
            mine = partners == code
            value[mine] = rate
            basis[mine] = code
    return value, basis


def partner_scope(measure: Measure, partners: np.ndarray, on: dt.date) -> PartnerScope:
    """Resolve a measure's partner scope and rates over distinct ISO3 ``partners``."""
    if measure.partners is None:
        listed = np.ones(len(partners), dtype=bool)
    else:
        listed = np.isin(partners, sorted(_expand(measure.partners, on)))
    excluded = np.isin(partners, sorted(_expand(measure.exclude_partners, on)))
    if measure.observed is not None:
        rate = np.zeros(len(partners))
        basis = np.full(len(partners), f"observed {measure.observed}", dtype=object)
    else:
        rate, basis = _by_partner(dict(measure.rates), measure.rate, partners, on)
    in_baseline, _ = _by_partner(dict(measure.in_baseline_rates), measure.in_baseline, partners, on)
    return PartnerScope(listed & ~excluded & ~np.isnan(rate), excluded, rate, basis, in_baseline)


def _active_entries(entries: tuple[ScopeEntry, ...], on: dt.date) -> list[ScopeEntry]:
    return [e for e in entries if e.effective is None or e.effective <= on]


def product_scope(measure: Measure, codes: np.ndarray, on: dt.date) -> ProductScope:
    """Resolve a measure's product scope over distinct HS ``codes`` by longest matching prefix."""
    decisions: dict[str, tuple[bool, str]] = {}
    for entry in _active_entries(measure.exclude_products, on):
        decisions.setdefault(entry.prefix, (False, entry.source))
    if measure.products is not None:
        for entry in _active_entries(measure.products, on):
            decisions.setdefault(entry.prefix, (True, entry.source))
    default_in = measure.products is None
    stems = {prefix[:k] for prefix in decisions for k in range(2, len(prefix), 2)}
    lengths = sorted({len(prefix) for prefix in decisions}, reverse=True)

    in_scope = np.full(len(codes), default_in)
    decided_by = np.full(len(codes), "", dtype=object)
    source = np.full(len(codes), "", dtype=object)
    coarse = np.zeros(len(codes), dtype=bool)
    for i, code in enumerate(codes):
        coarse[i] = code in stems
        for length in lengths:
            if length <= len(code) and (hit := decisions.get(code[:length])) is not None:
                in_scope[i], source[i] = hit
                decided_by[i] = code[:length]
                break
    return ProductScope(in_scope, decided_by, source, coarse)


_FACTORIZED: list[tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = []


def remember_factorization(values: np.ndarray, index: np.ndarray, uniques: np.ndarray) -> None:
    """Record that ``values`` = ``uniques[index]`` (a caller that built the pair arrays knows it)."""
    _FACTORIZED[:] = [*_FACTORIZED[-3:], (values, (index, np.asarray(uniques, dtype=object)))]


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and distinct values of a pair array; the last few answers are kept, because a run
    resolves the same pair arrays for the scenario and for the baseline."""
    for array, answer in _FACTORIZED:
        if array is values:
            return answer
    index, uniques = pd.factorize(np.asarray(values, dtype=object))
    answer = (index, np.asarray(uniques, dtype=object))
    _FACTORIZED[:] = [*_FACTORIZED[-3:], (values, answer)]
    return answer


def resolve(
    scenario: Scenario,
    partner: np.ndarray,
    code: np.ndarray,
    as_of: dt.date | None = None,
    observed: ObservedRates | None = None,
) -> Schedule:
    """Rates of ``scenario`` for distinct (partner, code) pairs given as two aligned arrays.

    ``observed`` supplies the rates of ``observed`` measures (default: the bundled 2024 US table).
    Work is done once per distinct partner, once per distinct code and once per pair, never per row.
    """
    on = as_of or scenario.as_of
    partner_index, partners = _factorize(partner)
    code_index, codes = _factorize(code)
    n = len(partner_index)

    scopes = {}
    for measure in scenario.measures:
        active = measure.in_force(on)
        p = partner_scope(measure, partners, on)
        q = product_scope(measure, codes, on)
        covers = active & p.in_scope[partner_index] & q.in_scope[code_index]
        scopes[measure.id] = (measure, active, p, q, covers)

    observed_rate = observed_tier = None
    if any(m.observed for m in scenario.measures):
        observed = observed or us_2024_observed()
        observed_rate, observed_tier = observed.lookup(partner, code)

    resolved = []
    total = np.zeros(n)
    for measure, active, p, q, covers in scopes.values():
        preempted_by = np.full(n, "", dtype=object)
        for other in reversed(measure.preempted_by):
            preempted_by[scopes[other][4]] = other
        applies = covers & (preempted_by == "")
        if measure.observed is not None:
            rate = np.where(covers, observed_rate, np.nan)
            step = rate
        else:
            rate = np.where(covers, p.rate[partner_index], np.nan)
            step = rate - p.in_baseline[partner_index]
        contribution = np.where(applies, step * measure.applies_to_share, 0.0)
        total += contribution
        resolved.append(
            MeasureRates(measure, active, p, q, covers, preempted_by, applies, rate, contribution)
        )

    floored = total < 0
    return Schedule(
        scenario=scenario,
        as_of=on,
        pair_partner=np.asarray(partner, dtype=object),
        pair_code=np.asarray(code, dtype=object),
        partner_index=partner_index,
        code_index=code_index,
        measures=resolved,
        total_rate=np.where(floored, 0.0, total),
        observed_tier=observed_tier if observed_tier is not None else np.full(n, "", dtype=object),
        floored=floored,
    )
