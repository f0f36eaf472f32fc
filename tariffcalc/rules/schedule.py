"""Compile a scenario into rates for (partner, product) pairs, vectorised over the distinct pairs.

Rules (documented for users in docs/scenarios.md):

* A measure is in force on a date when ``effective`` ≤ date < ``expires``; product-list entries with an
  ``effective`` date count from that date.
* Partners: ``exclude_partners`` beats everything; a partner's own entry in ``rates`` beats its group's
  entry (``EU``), which beats the measure's ``rate``. A partner with no applicable rate is out of scope.
* Products: among the measure's ``products`` and ``exclude_products`` prefixes, the longest prefix of a
  code decides whether the code is in or out (an HTS8 carve-out inside an included chapter is out; with no
  ``products`` every code is in unless excluded).
* Coarse rows: a scope prefix *longer* than a pair's code (an HTS8 exemption and a chapter row) does not
  match it. The pair is treated as outside that prefix, and its value is counted as a *coarse match* so the
  summary can report how much value the rule touched. (The engine first splits coarse rows over the
  finer codes of a reference import mix, :mod:`tariffcalc.reference.mix`, so this applies only to rows
  the mix has no codes for, or to runs without the split.) A sub-pair of a split row takes the row's own
  observed rate (``observed_pairs``).
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

from tariffcalc.reference import countries
from tariffcalc.reference.shares import USMCA_PARTNERS, content_shares, usmca_claimed
from tariffcalc.rules.scenario import Measure, Scenario, ScopeEntry

ALL_IMPORTS = "all imports"
EXACT = "exact"


TIERS = (
    EXACT,
    *(f"partner × HS{length}" for length in (8, 6, 4, 2)),
    *(f"all partners × HS{length}" for length in (10, 8, 6, 4, 2)),
    ALL_IMPORTS,
)
"""Where an observed rate comes from, finest first (see :class:`ObservedRates`)."""
_LENGTHS = (10, 8, 6, 4, 2)


def _prefixes(codes: np.ndarray, length: int) -> tuple[np.ndarray, pd.Index]:
    """Each code's prefix of ``length`` digits as an index into the distinct prefixes (-1 if shorter)."""
    cut = np.array([code[:length] if len(code) >= length else "" for code in codes], dtype=object)
    index, prefixes = pd.factorize(cut)
    return np.where(cut == "", -1, index), pd.Index(prefixes, dtype=object)


class ObservedRates:
    """Observed ad valorem duty rates (duty ÷ value) of a flow table, looked up with fallbacks.

    A pair (partner, code) takes the rate of the same partner and code (tier ``exact``); if that cell is
    absent, the same partner and the longest shorter prefix present (HS8, HS6, HS4, chapter); then all
    partners at the longest prefix present; then the rate of all imports. The tier used is reported for
    every pair (:data:`TIERS`). Work is done on integer partner and prefix ids: per distinct code, then
    one hashed lookup per pair and tier.
    """

    def __init__(
        self,
        partner: np.ndarray,
        code: np.ndarray,
        value: np.ndarray,
        duty: np.ndarray,
        overall_rate: float | None = None,
    ):
        partner_id, self._partners = pd.factorize(np.asarray(partner, dtype=object))
        code_id, self._codes = pd.factorize(np.asarray(code, dtype=object))
        self._partner_id, self._code_id = partner_id, code_id
        self._value, self._duty = np.asarray(value, dtype=float), np.asarray(duty, dtype=float)
        self._last: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, pd.Categorical]] | None = None
        total_value = float(np.sum(value))
        self.overall_rate = overall_rate
        if overall_rate is None:
            self.overall_rate = float(np.sum(duty)) / total_value if total_value > 0 else 0.0

    @functools.cache  # noqa: B019 - one table per process; cached cells are tiny next to the data
    def _cells(self, length: int, by_partner: bool) -> pd.Series:
        """Rates of the table's cells at ``length`` digits (by partner and prefix, or by prefix), indexed
        by (partner, prefix) or prefix; cells without value are left out."""
        prefix_of_code, prefixes = _prefixes(np.asarray(self._codes, dtype=object), length)
        prefix = prefix_of_code[self._code_id]
        rows = prefix >= 0
        key = prefix[rows] + (self._partner_id[rows] * len(prefixes) if by_partner else 0)
        cells, cell_of_row = np.unique(key, return_inverse=True)
        value = np.bincount(cell_of_row, weights=self._value[rows])
        duty = np.bincount(cell_of_row, weights=self._duty[rows])
        keep = value > 0
        cells = cells[keep]
        labels = prefixes[cells % len(prefixes)]
        if by_partner:
            labels = pd.MultiIndex.from_arrays([self._partners[cells // len(prefixes)], labels])
        return pd.Series(duty[keep] / value[keep], index=labels)

    def lookup(self, partner: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, pd.Categorical]:
        """Rates (fractions) and tiers (:data:`TIERS`) for arrays of partners and codes of equal length."""
        partner_index, partners = pd.factorize(np.asarray(partner, dtype=object))
        code_index, codes = pd.factorize(np.asarray(code, dtype=object))
        return self.lookup_pairs(
            np.asarray(partners, dtype=object), np.asarray(codes, dtype=object), partner_index, code_index
        )

    def lookup_pairs(
        self, partners: np.ndarray, codes: np.ndarray, partner_index: np.ndarray, code_index: np.ndarray
    ) -> tuple[np.ndarray, pd.Categorical]:
        """Rates and tiers of pairs ``(partners[partner_index], codes[code_index])`` (distinct partners
        and codes). The last answer is kept: a run looks up the same pairs for scenario and baseline."""
        asked = (partners, codes, partner_index, code_index)
        if self._last is not None and all(a is b for a, b in zip(self._last[0], asked, strict=True)):
            return self._last[1]
        answer = self._lookup(*asked)
        self._last = (asked, answer)
        return answer

    def _lookup(self, partners, codes, partner_index, code_index) -> tuple[np.ndarray, pd.Categorical]:
        rate = np.full(len(partner_index), np.nan)
        tier = np.full(len(partner_index), len(TIERS) - 1, dtype=np.int8)
        code_length = np.fromiter(map(len, codes), dtype=np.int64, count=len(codes))
        partner_position = pd.Index(partners, dtype=object)
        for by_partner in (True, False):
            for length in _LENGTHS:
                todo = np.flatnonzero(np.isnan(rate) & (code_length[code_index] >= length))
                if not len(todo):
                    continue
                cells = self._cells(length, by_partner)
                prefix_of_code, prefixes = _prefixes(codes, length)
                if by_partner:
                    key = partner_index[todo].astype(np.int64) * len(prefixes)
                    key += prefix_of_code[code_index[todo]]
                    cell_partner = partner_position.get_indexer(cells.index.get_level_values(0))
                    cell_prefix = prefixes.get_indexer(cells.index.get_level_values(1))
                    known = (cell_partner >= 0) & (cell_prefix >= 0)
                    cell_key = cell_partner[known] * len(prefixes) + cell_prefix[known]
                    found = pd.Index(cell_key).get_indexer(key)
                    values = cells.to_numpy()[known]
                else:
                    found = cells.index.get_indexer(prefixes)[prefix_of_code[code_index[todo]]]
                    values = cells.to_numpy()
                hit = found >= 0
                where = todo[hit]
                rate[where] = values[found[hit]]
                if by_partner:  # the partner's own cell at the code's full length is the exact tier
                    coarser = TIERS.index(f"partner × HS{length}") if length < 10 else 0
                    tier[where] = np.where(code_length[code_index[where]] == length, 0, coarser)
                else:
                    tier[where] = TIERS.index(f"all partners × HS{length}")
        rate[np.isnan(rate)] = self.overall_rate
        return rate, pd.Categorical.from_codes(tier, categories=TIERS)


@functools.cache
def us_2024_observed() -> ObservedRates:
    """Observed rates of the bundled 2024 US imports (Census calculated duties ÷ customs value)."""
    from tariffcalc.reference import bundled

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
    from tariffcalc.reference import bundled

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


@dataclasses.dataclass(frozen=True)
class PartnerScope:
    """A measure's view of the distinct partners: in scope?, excluded?, statutory rate and why."""

    in_scope: np.ndarray
    excluded: np.ndarray
    rate: np.ndarray
    basis: np.ndarray
    in_baseline: np.ndarray


@dataclasses.dataclass(frozen=True)
class ProductScope:
    """A measure's view of the distinct codes: in scope?, the deciding prefix and list, coarse?"""

    in_scope: np.ndarray
    decided_by: np.ndarray
    source: np.ndarray
    coarse: np.ndarray


@dataclasses.dataclass(frozen=True)
class PairClasses:
    """Pairs grouped into classes that every measure of a scenario treats alike.

    Partners with the same scope, rate and in-baseline share under every measure form a partner class;
    codes with the same product scope under every measure form a code class; a pair's class is its
    (partner class, code class) cell. There are a few dozen partner classes and code classes however many
    pairs there are, so rates are worked out per class and each pair's rate is one gather.
    """

    partner_class: np.ndarray
    """Each distinct partner's class."""
    code_class: np.ndarray
    """Each distinct code's class."""
    partner_first: np.ndarray
    """A partner of each partner class (index into the distinct partners)."""
    code_first: np.ndarray
    """A code of each code class (index into the distinct codes)."""
    pair: np.ndarray
    """Each pair's class: ``partner class × len(code_first) + code class``."""

    @property
    def size(self) -> int:
        return len(self.partner_first) * len(self.code_first)

    def grid(self, partner_values: np.ndarray, code_values: np.ndarray) -> np.ndarray:
        """The class cells' values of per-partner and per-code booleans, combined with "and" (flat)."""
        return np.outer(partner_values[self.partner_first], code_values[self.code_first]).ravel()

    def sums(self, pair_values: np.ndarray) -> np.ndarray:
        """``pair_values`` (e.g. imports in USD) summed by class."""
        return np.bincount(self.pair, weights=pair_values, minlength=self.size)


def _step(measure: Measure, scope: PartnerScope) -> np.ndarray:
    """What an ordinary measure adds to each partner's rate where it applies (fraction): ``(rate −
    in_baseline) × applies_to_share``; 0 outside its partner scope and for an observed measure."""
    if measure.observed is not None:
        return np.zeros(len(scope.rate))
    step = (scope.rate - scope.in_baseline) * measure.applies_to_share
    return np.where(scope.in_scope, step, 0.0)


def _classes(columns: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each of ``n`` items' class (items equal in every column share one) and one item of each class."""
    if not columns or n == 0:
        return np.zeros(n, dtype=np.intp), np.zeros(min(n, 1), dtype=np.intp)
    _, first, inverse = np.unique(
        np.column_stack(columns).astype(float), axis=0, return_index=True, return_inverse=True
    )
    return inverse.ravel(), first


@dataclasses.dataclass(frozen=True, repr=False)
class MeasureRates:
    """One measure resolved over the distinct pairs of a :class:`Schedule`.

    Stored: the measure's view of the distinct partners and codes, and of the pair classes
    (:class:`PairClasses`). The arrays over pairs (``covers``, ``preempted_by``, ``applies``, ``rate``,
    ``contribution``) are gathered when asked for, so that millions of pairs do not cost a dozen arrays
    per measure.
    """

    measure: Measure
    active: bool
    partners: PartnerScope
    products: ProductScope
    partner_index: np.ndarray
    code_index: np.ndarray
    classes: PairClasses
    class_covers: np.ndarray
    """Whether the measure covers each pair class (flat, as :attr:`PairClasses.pair`)."""
    class_applies: np.ndarray
    """Whether it covers each class and no pre-empting measure does."""
    class_step: np.ndarray
    """What it adds to the rate (fraction) of each class where it applies; 0 for an observed measure."""
    preemptor_covers: tuple[tuple[str, np.ndarray], ...] = ()
    """(id, class coverage) of the measures of ``measure.preempted_by`` (in the order listed there), then of
    those ranked before it by a stacking order in force."""
    observed_rate: np.ndarray | None = None
    """Each pair's observed rate (fraction) when the measure is ``observed``."""

    def __repr__(self) -> str:
        return f"<MeasureRates {self.measure.id}: {'in force' if self.active else 'not in force'}>"

    pair_contribution: np.ndarray | None = None
    """What it adds to each pair's rate, for a measure whose effect varies within a class (an all-in
    rate, a share of value by code or by USMCA claims, a partial pre-emption); None otherwise."""
    charged_share: np.ndarray | None = None
    """Share of each pair's value the measure charges (value share × :attr:`usmca_kept`)."""
    usmca_claimed: np.ndarray | None = None
    """Share of each pair's value claimed under USMCA (Canada, Mexico) when the measure exempts it."""
    usmca_month: str = ""
    """The month of USMCA claim shares used."""
    usmca_kept: np.ndarray | None = None
    """Share of each pair's value the USMCA exemption leaves charged (the unclaimed value, plus the claimed
    value times ``usmca_value_share``) when the measure exempts USMCA goods."""
    base_rate: np.ndarray | None = None
    """Each pair's base rate (observed 2024) that an all-in rate tops up."""
    remaining_share: np.ndarray | None = None
    """Share of each pair's value left to this measure by measures that pre-empt it only on their share."""
    schedule_stacking: tuple = ()
    """The scenario's stacking orders (for ``explain`` to name the one that pre-empts)."""

    @property
    def covers(self) -> np.ndarray:
        """Pairs in the measure's partner and product scope on the date (before pre-emption)."""
        return self.class_covers[self.classes.pair]

    @property
    def preempted_by(self) -> np.ndarray:
        """The first measure of ``measure.preempted_by`` that covers each pair ("" where none does)."""
        out = np.full(len(self.partner_index), "", dtype=object)
        for other, class_covers in reversed(self.preemptor_covers):
            out[class_covers[self.classes.pair]] = other
        return out

    @property
    def applies(self) -> np.ndarray:
        """Pairs the measure covers and no pre-empting measure covers."""
        return self.class_applies[self.classes.pair]

    @property
    def rate(self) -> np.ndarray:
        """The measure's rate (fraction) where it covers a pair, NaN elsewhere."""
        if self.observed_rate is not None:
            return np.where(self.covers, self.observed_rate, np.nan)
        return np.where(self.covers, self.partners.rate[self.partner_index], np.nan)

    @property
    def contribution(self) -> np.ndarray:
        """What the measure adds to each pair's rate: ``(rate − in_baseline) × applies_to_share`` where it
        applies (the observed rate × applies_to_share for an observed measure), 0 elsewhere."""
        if self.observed_rate is not None:
            return np.where(self.applies, self.observed_rate * self.measure.applies_to_share, 0.0)
        if self.pair_contribution is not None:
            return self.pair_contribution
        return self.class_contribution()[self.classes.pair]

    @property
    def by_pair(self) -> bool:
        """Whether the measure's contribution is worked out per pair rather than per class."""
        return self.observed_rate is not None or self.pair_contribution is not None

    def class_contribution(self) -> np.ndarray:
        """What the measure adds to each class's rate (fraction; not defined for per-pair measures)."""
        return np.where(self.class_applies, self.class_step, 0.0)

    def duty_usd(self, pair_value: np.ndarray, class_value: np.ndarray) -> tuple[float, float]:
        """Duty the measure adds (USD) and the value it applies to (USD), given the pairs' values and
        their sums by class (:meth:`PairClasses.sums`)."""
        if self.by_pair:
            return float(np.dot(pair_value, self.contribution)), float(pair_value[self.applies].sum())
        return (
            float(np.dot(class_value, self.class_contribution())),
            float(class_value[self.class_applies].sum()),
        )


@dataclasses.dataclass(frozen=True, repr=False)
class Schedule:
    """A scenario resolved for a set of distinct (partner, code) pairs on one date.

    Pairs are integer indices into the distinct ``partners`` (ISO3) and ``codes``.
    """

    scenario: Scenario
    as_of: dt.date
    partners: np.ndarray
    codes: np.ndarray
    partner_index: np.ndarray
    code_index: np.ndarray
    measures: list[MeasureRates]
    classes: PairClasses
    total_rate: np.ndarray
    observed_tier: pd.Categorical | None
    """Which 2024 cell each pair's observed rate comes from (:data:`TIERS`); None without an observed
    measure."""
    floored: np.ndarray

    def __repr__(self) -> str:
        return (
            f"<Schedule {self.scenario.name} as of {self.as_of.isoformat()}: {len(self.total_rate):,} pairs, "
            f"{len(self.measures)} measures, {self.classes.size:,} pair classes>"
        )


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
    return [e for e in entries if e.counts_on(on)]


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


def resolve(
    scenario: Scenario,
    partner: np.ndarray,
    code: np.ndarray,
    as_of: dt.date | None = None,
    observed: ObservedRates | None = None,
) -> Schedule:
    """Rates of ``scenario`` for distinct (partner, code) pairs given as two aligned arrays of text.

    See :func:`resolve_pairs`, which takes the pairs as integer indices (what large inputs have).
    """
    partner_index, partners = pd.factorize(np.asarray(partner, dtype=object))
    code_index, codes = pd.factorize(np.asarray(code, dtype=object))
    return resolve_pairs(
        scenario,
        np.asarray(partners, dtype=object),
        np.asarray(codes, dtype=object),
        partner_index,
        code_index,
        as_of,
        observed,
    )


def resolve_pairs(
    scenario: Scenario,
    partners: np.ndarray,
    codes: np.ndarray,
    partner_index: np.ndarray,
    code_index: np.ndarray,
    as_of: dt.date | None = None,
    observed: ObservedRates | None = None,
    observed_pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Schedule:
    """Rates of ``scenario`` for distinct pairs ``(partners[partner_index], codes[code_index])``.

    ``partners`` (ISO3) and ``codes`` are distinct. ``observed`` supplies the rates of ``observed``
    measures (default: the bundled 2024 US table). ``observed_pairs`` = ``(partner_index, code_index,
    of)`` gives each pair *i* the observed 2024 rate of another pair, ``(partners[partner_index[of[i]]],
    codes[code_index[of[i]]])``, for observed measures and the base of all-in rates (default: its own):
    the sub-pairs of a split coarse row take the row's rate, so splitting never changes an observed duty.
    Scopes are resolved once per distinct partner and once per distinct code; over pairs there are only
    integer gathers.
    """
    on = as_of or scenario.as_of
    observed_rate = observed_tier = None
    if any(m.observed or m.all_in for m in scenario.measures):
        observed = observed or us_2024_observed()
        if observed_pairs is None:
            observed_rate, observed_tier = observed.lookup_pairs(partners, codes, partner_index, code_index)
        else:
            of_partner, of_code, of = observed_pairs
            observed_rate, observed_tier = observed.lookup_pairs(partners, codes, of_partner, of_code)
            observed_rate, observed_tier = observed_rate[of], observed_tier[of]
    if not any(m.observed for m in scenario.measures):
        observed_tier = None

    scopes = [
        (m, m.in_force(on), partner_scope(m, partners, on), product_scope(m, codes, on))
        for m in scenario.measures
    ]
    partner_columns, code_columns = [], []
    for measure, active, p, q in scopes:
        partner_columns += [p.in_scope & active, _step(measure, p)]
        code_columns.append(q.in_scope)
    partner_class, partner_first = _classes(partner_columns, len(partners))
    code_class, code_first = _classes(code_columns, len(codes))
    if len(partner_first) * len(code_first) == 1:  # all pairs alike (no measure, say): nothing to gather
        pair_class = np.zeros(len(partner_index), dtype=np.intp)
    else:
        pair_class = partner_class[partner_index]
        pair_class *= len(code_first)
        pair_class += code_class[code_index]
    classes = PairClasses(partner_class, code_class, partner_first, code_first, pair_class)

    covers = {m.id: classes.grid(p.in_scope & active, q.in_scope) for m, active, p, q in scopes}
    by_id = {m.id: m for m in scenario.measures}
    preemptors = {
        m.id: tuple(dict.fromkeys((*m.preempted_by, *scenario.stacking_preemptors(m.id, on))))
        for m in scenario.measures
    }
    shares = _PairShares(partners, codes, partner_index, code_index, on)
    charged = {m.id: shares.charged(m) for m in scenario.measures}
    resolved: dict[str, MeasureRates] = {}
    for measure, active, p, q in scopes:
        applies = covers[measure.id].copy()
        partial = [o for o in preemptors[measure.id] if by_id[o].preempts_only_share]
        for other in preemptors[measure.id]:
            if other not in partial:
                applies &= ~covers[other]
        per_pair = {}
        if measure.observed is None and (charged[measure.id] is not None or measure.all_in or partial):
            per_pair = _per_pair(
                measure,
                p,
                partner_index,
                pair_class,
                applies,
                charged,
                partial,
                covers,
                observed_rate,
                shares,
            )
        resolved[measure.id] = MeasureRates(
            measure,
            active,
            p,
            q,
            partner_index,
            code_index,
            classes,
            covers[measure.id],
            applies,
            np.repeat(_step(measure, p)[partner_first], len(code_first)),
            preemptor_covers=tuple((other, covers[other]) for other in preemptors[measure.id]),
            observed_rate=observed_rate if measure.observed is not None else None,
            schedule_stacking=scenario.stacking,
            **per_pair,
        )

    by_class = np.zeros(classes.size)
    for rates in resolved.values():
        if not rates.by_pair:
            by_class += rates.class_contribution()
    if classes.size == 1:
        total = np.full(len(pair_class), by_class[0]) if by_class[0] else np.zeros(len(pair_class))
    else:
        total = by_class[classes.pair]
    for rates in resolved.values():
        if rates.by_pair and rates.active:
            total += rates.contribution
    floored = total < 0
    total[floored] = 0.0
    total.flags.writeable = False
    return Schedule(
        scenario=scenario,
        as_of=on,
        partners=partners,
        codes=codes,
        partner_index=partner_index,
        code_index=code_index,
        measures=list(resolved.values()),
        classes=classes,
        total_rate=total,
        observed_tier=observed_tier,
        floored=floored,
    )


class _PairShares:
    """Shares of each pair's value that measures charge, looked up once per resolve and reused."""

    def __init__(self, partners, codes, partner_index, code_index, on: dt.date):
        self.partners, self.codes = partners, codes
        self.partner_index, self.code_index, self.on = partner_index, code_index, on
        self._usmca: tuple[np.ndarray, str] | None = None

    def value_share(self, measure: Measure) -> np.ndarray | None:
        """The measure's value share of each pair (None when it charges the whole value)."""
        share = measure.value_share
        if share is None:
            return None
        if share.constant is not None:
            return np.full(len(self.partner_index), share.constant)
        by_code, _ = content_shares(share.file, share.column).lookup(self.codes, default=1.0)
        return by_code[self.code_index]

    def usmca_claimed(self) -> tuple[np.ndarray, str]:
        """Share of each pair's value claimed under USMCA (0 outside Canada and Mexico) and the month used."""
        if self._usmca is None:
            claimed = np.zeros(len(self.partner_index))
            month = ""
            for position, partner in enumerate(self.partners.tolist()):
                if partner in USMCA_PARTNERS:
                    mine = self.partner_index == position
                    if mine.any():
                        by_code, month = usmca_claimed(partner, self.codes, self.on)
                        claimed[mine] = by_code[self.code_index[mine]]
            self._usmca = (claimed, month)
        return self._usmca

    def usmca_applies(self, measure: Measure) -> bool:
        return measure.usmca_exempt and (
            measure.usmca_exempt_from is None or self.on >= measure.usmca_exempt_from
        )

    def usmca_kept(self, measure: Measure) -> np.ndarray:
        """Share of each pair's value a USMCA-exempt measure still charges: the value not claimed under
        USMCA, plus the claimed value times the measure's ``usmca_value_share`` (0 when unset)."""
        claimed, _ = self.usmca_claimed()
        return 1.0 - claimed * (1.0 - (measure.usmca_value_share or 0.0))

    def charged(self, measure: Measure) -> np.ndarray | None:
        """Share of each pair's value the measure charges: its value share × the share left after the
        USMCA exemption (None when both are 1 everywhere)."""
        share = self.value_share(measure)
        if self.usmca_applies(measure):
            kept = self.usmca_kept(measure)
            share = kept if share is None else share * kept
        return share


def _per_pair(
    measure: Measure,
    scope: PartnerScope,
    partner_index: np.ndarray,
    pair: np.ndarray,
    class_applies: np.ndarray,
    charged_by_id: dict[str, np.ndarray | None],
    partial: list[str],
    covers: dict[str, np.ndarray],
    observed_rate: np.ndarray | None,
    shares: _PairShares,
) -> dict[str, object]:
    """The per-pair fields of a measure whose effect varies within a class (see
    :attr:`MeasureRates.pair_contribution`)."""
    statutory = scope.rate[partner_index]
    fields: dict[str, object] = {}
    if measure.all_in:
        fields["base_rate"] = observed_rate
        step = np.maximum(statutory - observed_rate, 0.0) * measure.applies_to_share
    else:
        step = (statutory - scope.in_baseline[partner_index]) * measure.applies_to_share
    remaining = np.ones(len(pair))
    for other in partial:
        other_share = charged_by_id[other]
        covered = covers[other][pair]
        remaining[covered] *= 1.0 - (other_share[covered] if other_share is not None else 1.0)
    charged = charged_by_id[measure.id]
    if partial:
        fields["remaining_share"] = remaining
    fields["charged_share"] = charged
    if shares.usmca_applies(measure):
        fields["usmca_claimed"], fields["usmca_month"] = shares.usmca_claimed()
        fields["usmca_kept"] = shares.usmca_kept(measure)
    factor = remaining if charged is None else charged * remaining
    fields["pair_contribution"] = np.where(class_applies[pair], np.nan_to_num(step) * factor, 0.0)
    return fields
