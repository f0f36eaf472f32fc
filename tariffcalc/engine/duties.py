"""Static ("pre-substitution") duties: a scenario and a baseline applied to the same flows.

Trade is held at its observed value; each flow pays the rate of its (partner, product) pair. Duty in
USD = value in USD × rate (a fraction). The *added* duty of a scenario is its duty minus the baseline's
duty on the same flows. Work is done on the distinct (partner, product) pairs, and rows are summed into
pairs with ``np.bincount``, so the cost grows with the number of distinct pairs, not with rows.

Coarse rows (a chapter-level code, say) are split over the finer codes of the reference import mix
(:mod:`tariffcalc.reference.mix`) before rates are resolved: the pairs priced are then the data's pairs that
were not split and the sub-pairs of those that were, each sub-pair carrying its share of the row's value.
Tables stay at the data's own codes; ``compute(..., split_coarse=False)`` prices coarse rows as they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.reference import countries, hs
from tariffcalc.reference.mix import FINEST, IMPORTER, ImportMix, Split, is_coarse, us_2024_mix
from tariffcalc.rules.scenario import Scenario
from tariffcalc.rules.schedule import Schedule, resolve_pairs

VALUE_COLUMNS = (
    "imports_usd",
    "baseline_duty_usd",
    "scenario_duty_usd",
    "added_duty_usd",
    "baseline_rate",
    "scenario_rate",
    "added_rate",
)


@dataclasses.dataclass(frozen=True, repr=False)
class Result:
    """Duties of one scenario against one baseline, by distinct (partner, code) pair.

    Pairs are integer indices into the distinct ``partners`` and ``codes`` (``pair_partner_index``,
    ``pair_code_index``), and every array over pairs is aligned with them; ``row_pair`` maps each input
    row to its pair in the data, so per-row figures (:meth:`flow_duties`) are a gather away. Amounts in
    USD, rates as fractions.

    When coarse rows were split (``split``), the pairs are the *priced* pairs: the data's pairs that were
    not split and the sub-pairs of those that were (a sub-pair's code is a code of the mix, its value the
    row's value × its weight). ``row_pair`` then maps rows to the data's pairs (:class:`Split` relates the
    two), and the tables use each pair's code in the data (:attr:`pair_data_code_index`).
    """

    scenario: Scenario
    baseline: Scenario
    as_of: dt.date
    level: int
    flows: pd.DataFrame
    row_pair: np.ndarray
    pair_value: np.ndarray
    scenario_schedule: Schedule
    baseline_schedule: Schedule
    pair_partner_index: np.ndarray
    """Each pair's index into ``partners`` (the distinct partners): tables aggregate on these integers."""
    partners: np.ndarray
    pair_code_index: np.ndarray
    """Each pair's index into ``codes`` (the distinct product codes)."""
    codes: np.ndarray
    flowset: Any = None
    """The reading the flows came from (a :class:`tariffcalc.read.flows.FlowSet`, with its rejects), when
    :func:`tariffcalc.compute` read them; None for flows given as a table to this module's ``compute``."""
    split: Split | None = None
    """How coarse rows were split (None when none was, or with ``split_coarse=False``)."""
    data_value: np.ndarray | None = None
    """Each data pair's value (USD) when rows were split (``pair_value`` holds the priced pairs')."""
    split_coarse: bool = True
    """Whether coarse rows were to be split (``compute(..., split_coarse=...)``)."""

    @property
    def pair_data_code_index(self) -> np.ndarray:
        """Each pair's code as in the data (index into ``codes``): the coarse code of a split row's sub-pairs."""
        return self.pair_code_index if self.split is None else self.split.origin_code_index

    @property
    def observed_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The data's pairs and each pair's data pair, whose observed 2024 rate it takes (None: its own);
        see :func:`~tariffcalc.rules.schedule.resolve_pairs`."""
        if self.split is None:
            return None
        return self.split.data_partner_index, self.split.data_code_index, self.split.origin

    @property
    def data_pair_value(self) -> np.ndarray:
        """Each data pair's value (USD): ``row_pair``'s pairs."""
        return self.pair_value if self.data_value is None else self.data_value

    def data_pair_rate(self, rate: np.ndarray) -> np.ndarray:
        """A rate (fraction) of each pair as a rate of each data pair (``row_pair``'s pairs): a split row's
        rate is its sub-pairs' rates averaged with their weights."""
        return rate if self.split is None else self.split.average(rate)

    def data_pair_sum(self, values: np.ndarray) -> np.ndarray:
        """Amounts (USD) of each pair summed by data pair (``row_pair``'s pairs)."""
        return values if self.split is None else self.split.fold(values)

    def __repr__(self) -> str:
        totals = self.totals()
        return (
            f"<Result {self.scenario.name} vs {self.baseline.name} as of {self.as_of.isoformat()}: "
            f"{len(self.pair_value):,} partner × product pairs, imports ${totals['imports_usd']:,.0f}, "
            f"added duty ${totals['added_duty_usd']:,.0f} ({totals['added_rate']:+.2%})>"
        )

    @property
    def pair_partner(self) -> np.ndarray:
        """Each pair's partner (ISO3), as text."""
        return self.partners[self.pair_partner_index]

    @property
    def pair_code(self) -> np.ndarray:
        """Each pair's product code, as text."""
        return self.codes[self.pair_code_index]

    @property
    def baseline_duty(self) -> np.ndarray:
        return self.pair_value * self.baseline_schedule.total_rate

    @property
    def scenario_duty(self) -> np.ndarray:
        return self.pair_value * self.scenario_schedule.total_rate

    @staticmethod
    def _finish(table: pd.DataFrame) -> pd.DataFrame:
        table["added_duty_usd"] = table["scenario_duty_usd"] - table["baseline_duty_usd"]
        value = table["imports_usd"].where(table["imports_usd"] > 0)
        for name in ("baseline", "scenario", "added"):
            table[f"{name}_rate"] = (table[f"{name}_duty_usd"] / value).fillna(0.0)
        return table

    @functools.cached_property
    def _cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """The partner × product cells at ``level``: each cell's partner and product (indices into
        ``partners`` and the level codes), the level codes, and imports and duties (USD) by cell.

        The three tables are sums of these cells, so the pairs (millions) are summed only once, by
        counting on the dense partner × product grid when it is small enough, else by sorting.
        """
        index, levels = self.product_levels()
        grid = len(self.partners) * len(levels)
        key = self.pair_partner_index.astype(np.intp)  # intp: bincount and gathers would convert others
        key *= len(levels)
        key += index  # in place: pairs run to millions, and fresh memory is slow to touch
        data_key = None
        if self.split is not None:  # imports from the data's pairs, so they add up exactly as the rows do
            data_key = self.split.data_partner_index.astype(np.intp) * len(levels)
            data_key += self._code_levels[0][self.split.data_code_index]
        if grid > DENSE_PAIRS:
            cells, key = np.unique(key, return_inverse=True)
            grid, keep = len(cells), slice(None)
            if data_key is not None:
                data_key = np.searchsorted(cells, data_key)
        else:
            cells = keep = np.flatnonzero(np.bincount(key, minlength=grid))
        scratch = np.empty(len(self.pair_value))
        sums = {}
        for name, rate in (
            ("imports_usd", None),
            ("baseline_duty_usd", self.baseline_schedule.total_rate),
            ("scenario_duty_usd", self.scenario_schedule.total_rate),
        ):
            if rate is None and data_key is not None:
                sums[name] = np.bincount(data_key, weights=self.data_value, minlength=grid)[keep]
                continue
            weights = self.pair_value if rate is None else np.multiply(self.pair_value, rate, out=scratch)
            sums[name] = np.bincount(key, weights=weights, minlength=grid)[keep]
        return cells // len(levels), cells % len(levels), levels, sums

    def _cell_sums(self, group: np.ndarray, size: int) -> dict[str, np.ndarray]:
        """The cells' imports and duties (USD) summed by an integer ``group`` of cells."""
        sums = self._cells[3]
        return {name: np.bincount(group, weights=column, minlength=size) for name, column in sums.items()}

    def by_partner(self) -> pd.DataFrame:
        """One row per partner, largest added duty first."""
        partner, _, _, _ = self._cells
        table = pd.DataFrame({"partner": self.partners, **self._cell_sums(partner, len(self.partners))})
        table.insert(1, "partner_name", table["partner"].map(countries.partner_name))
        table = self._finish(table)
        return table.sort_values(["added_duty_usd", "partner"], ascending=[False, True], ignore_index=True)

    def product_levels(self) -> tuple[np.ndarray, np.ndarray]:
        """Each pair's product at the table level as an index into the distinct level codes, and those codes.

        Codes coarser than the level keep their own length, and a split row's sub-pairs take the row's
        code. Cut once per distinct code, then gathered: pairs run to millions, distinct codes to thousands.
        """
        of_code, levels = self._code_levels
        return of_code[self.pair_data_code_index], levels

    @functools.cached_property
    def _code_levels(self) -> tuple[np.ndarray, np.ndarray]:
        """Each of the data's codes at the table level, as an index into the distinct level codes; those codes."""
        codes = self.codes if self.split is None else self.codes[: self.split.data_codes]  # the data's own
        of_code, levels = pd.factorize(np.array([code[: self.level] for code in codes], dtype=object))
        return of_code, np.asarray(levels, dtype=object)

    def partner_product_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each pair's partner × product cell at ``level`` (the rows of :meth:`by_partner_product`, in
        another order), and each cell's partner and product code."""
        index, _ = self.product_levels()
        partner, product, levels, _ = self._cells
        key = self.pair_partner_index.astype(np.intp) * len(levels) + index
        return np.searchsorted(partner * len(levels) + product, key), self.partners[partner], levels[product]

    def by_product(self) -> pd.DataFrame:
        """One row per product at ``level`` digits, largest added duty first."""
        _, product, levels, _ = self._cells
        table = pd.DataFrame({"hs": levels, **self._cell_sums(product, len(levels))})
        table.insert(1, "description", hs.describe(table["hs"]))
        table = self._finish(table)
        return table.sort_values(["added_duty_usd", "hs"], ascending=[False, True], ignore_index=True)

    def by_partner_product(self) -> pd.DataFrame:
        """One row per partner × product at ``level`` digits, sorted by partner then product."""
        partner, product, levels, sums = self._cells
        table = pd.DataFrame({"partner": self.partners[partner], "hs": levels[product], **sums})
        table = self._finish(table)
        return table.sort_values(["partner", "hs"], ignore_index=True)

    def by_measure(self) -> pd.DataFrame:
        """Duty each measure contributes (USD) in the scenario and the baseline, and what it adds.

        For ordinary measures this is ``value × (rate − in_baseline) × applies_to_share`` where the measure
        applies; for an observed measure, the observed duty.
        """
        rows = {}
        for schedule, column in ((self.scenario_schedule, "scenario"), (self.baseline_schedule, "baseline")):
            class_value = schedule.classes.sums(self.pair_value)
            for m in schedule.measures:
                entry = rows.setdefault(
                    m.measure.id,
                    {
                        "measure": m.measure.id,
                        "authority": m.measure.authority,
                        "basis": m.measure.basis,
                        "citation": m.measure.citation,
                        "in_scenario": False,
                        "in_baseline": False,
                        "covered_imports_usd": 0.0,
                        "scenario_duty_usd": 0.0,
                        "baseline_duty_usd": 0.0,
                    },
                )
                entry[f"in_{column}"] = True
                duty, covered = m.duty_usd(self.pair_value, class_value)
                entry[f"{column}_duty_usd"] = duty
                if column == "scenario":
                    entry["covered_imports_usd"] = covered
        table = pd.DataFrame(list(rows.values()))
        table["added_duty_usd"] = table["scenario_duty_usd"] - table["baseline_duty_usd"]
        return table

    def by_authority(self) -> pd.DataFrame:
        """Duty by legal authority (IEEPA, Section 232, 301, 122, …, MFN/observed): the sums of
        :meth:`by_measure` by each measure's ``basis``, in USD, with the measures of each."""
        measures = self.by_measure()
        columns = ["covered_imports_usd", "scenario_duty_usd", "baseline_duty_usd", "added_duty_usd"]
        table = measures.groupby("basis", sort=False)[columns].sum()
        table["measures"] = measures.groupby("basis", sort=False)["measure"].agg(" ".join)
        table = table.reset_index().rename(columns={"basis": "authority"})
        return table.sort_values("scenario_duty_usd", ascending=False, ignore_index=True)

    def flow_duties(self) -> pd.DataFrame:
        """The input flows, one row each, with baseline, scenario and added duty and each measure's duty."""
        out = self.flows.copy()
        value = out["value_usd"].to_numpy()
        baseline_rate = self.data_pair_rate(self.baseline_schedule.total_rate)[self.row_pair]
        scenario_rate = self.data_pair_rate(self.scenario_schedule.total_rate)[self.row_pair]
        out["baseline_duty_usd"] = value * baseline_rate
        out["scenario_duty_usd"] = value * scenario_rate
        out["added_duty_usd"] = out["scenario_duty_usd"] - out["baseline_duty_usd"]
        for m in self.scenario_schedule.measures:
            out[f"duty_usd:{m.measure.id}"] = value * self.data_pair_rate(m.contribution)[self.row_pair]
        return out

    def with_scenario(self, scenario: Scenario, as_of: dt.date | None = None) -> Result:
        """The same flows and baseline under another scenario (or date), reusing everything else.

        Sensitivity sweeps, comparisons and timelines call this many times; only the scenario's rates
        are resolved again.
        """
        on = as_of or scenario.as_of
        schedule = resolve_pairs(
            scenario,
            self.partners,
            self.codes,
            self.pair_partner_index,
            self.pair_code_index,
            on,
            observed_pairs=self.observed_pairs,
        )
        return dataclasses.replace(self, scenario=scenario, as_of=on, scenario_schedule=schedule)

    def totals(self) -> dict[str, float]:
        """Headline totals: imports, baseline/scenario/added duty (USD) and effective rates (fractions)."""
        imports = float((self.pair_value if self.data_value is None else self.data_value).sum())
        base = float(self.baseline_duty.sum())
        scen = float(self.scenario_duty.sum())
        share = (lambda x: x / imports) if imports > 0 else (lambda x: 0.0)
        return {
            "imports_usd": imports,
            "baseline_duty_usd": base,
            "scenario_duty_usd": scen,
            "added_duty_usd": scen - base,
            "baseline_rate": share(base),
            "scenario_rate": share(scen),
            "added_rate": share(scen - base),
        }

    def coarse_masks(self) -> dict[str, np.ndarray]:
        """Each measure (of the scenario or the baseline) whose product list is finer than some pairs' codes:
        a bool over pairs, True where the measure covers the pair's partner but a prefix of its list is finer
        than the pair's code (the coarse-row rule treats such a pair as outside that prefix)."""
        return {**_coarse_masks(self.baseline_schedule), **_coarse_masks(self.scenario_schedule)}

    def coarse_pairs(self) -> np.ndarray:
        """Pairs touched by the coarse-row rule of any measure (bool over pairs; see :meth:`coarse_masks`)."""
        any_coarse = np.zeros(len(self.pair_value), dtype=bool)
        for mask in self.coarse_masks().values():
            any_coarse |= mask
        return any_coarse

    def diagnostics(self) -> dict[str, object]:
        """Value of coarse rows split over the import mix and of those matched coarsely, value at each
        observed-rate fallback, and value whose rate was floored (USD)."""
        masks = self.coarse_masks()
        any_coarse = self.coarse_pairs()
        tiers: dict[str, float] = {}
        for schedule in (self.scenario_schedule, self.baseline_schedule):
            if schedule.observed_tier is not None:
                sums = pd.Series(self.pair_value).groupby(schedule.observed_tier, observed=True).sum()
                tiers = {str(k): float(v) for k, v in sums.items()}
                break
        code_length = np.fromiter(map(len, self.codes), dtype=np.int64, count=len(self.codes))
        data_code_length = code_length[self.pair_data_code_index]
        coarser_than_level = data_code_length < self.level
        floored = self.scenario_schedule.floored | self.baseline_schedule.floored
        split = np.zeros(len(self.pair_value), dtype=bool)
        if self.split is not None:
            split = self.split.was_split[self.split.origin]
        by_partner = np.bincount(
            self.pair_partner_index[split], weights=self.pair_value[split], minlength=len(self.partners)
        )
        return {
            "coarse_split": self.split_coarse,
            "coarse_split_value_usd": float(self.pair_value[split].sum()),
            "coarse_split_rows": int(self.split.was_split.sum()) if self.split is not None else 0,
            "coarse_split_partners": int(np.count_nonzero(by_partner)),
            "coarse_split_value_by_partner_usd": {
                str(self.partners[i]): float(by_partner[i]) for i in np.argsort(-by_partner) if by_partner[i]
            },
            "coarse_split_mix": self.split.mix.source if self.split is not None else "",
            "coarse_unsplit_value_usd": float(self.pair_value[(data_code_length < FINEST) & ~split].sum()),
            "coarse_match_value_usd": float(self.pair_value[any_coarse].sum()),
            "coarse_match_value_by_measure_usd": {
                k: float(self.pair_value[v].sum()) for k, v in masks.items() if v.any()
            },
            "observed_rate_value_by_tier_usd": tiers,
            "value_coarser_than_level_usd": float(self.pair_value[coarser_than_level].sum()),
            "floored_value_usd": float(self.pair_value[floored].sum()),
        }


def _coarse_masks(schedule: Schedule) -> dict[str, np.ndarray]:
    """Pairs where an in-force measure covers the partner but has a product prefix finer than the code."""
    return {
        m.measure.id: m.partners.in_scope[schedule.partner_index] & m.products.coarse[schedule.code_index]
        for m in schedule.measures
        if m.active and m.products.coarse.any()
    }


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of a partner or hs column and its distinct values (text, in a NumPy object array).

    A categorical column (what the fast reader returns) gives its own codes, without touching a string,
    less the categories no row uses.
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        index, uniques = pd.factorize(column.to_numpy(dtype=object))
        return index, np.asarray(uniques, dtype=object)
    index = column.cat.codes.to_numpy().astype(np.intp)  # int8/int16 codes would overflow in arithmetic
    categories = np.asarray(column.cat.categories, dtype=object)
    used = np.bincount(index, minlength=len(categories)) > 0
    if used.all():
        return index, categories
    return (np.cumsum(used) - 1)[index], categories[used]


DENSE_PAIRS = 1 << 26
"""Largest partners × codes grid in which distinct pairs are found by counting instead of sorting."""


def _pairs(
    partner_index: np.ndarray, code_index: np.ndarray, codes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The distinct (partner, code) pairs of rows, sorted: each pair's partner and code, and each row's pair.

    Rows that are already distinct and sorted (summed flows) are recognised in one pass and are their own
    pairs: the row → pair map is then None. Otherwise pairs are counted on the dense partner × code grid
    when it is small enough, else sorted.
    """
    grid = (int(partner_index.max(initial=-1)) + 1) * codes
    key = partner_index.astype(np.intp)
    key *= codes
    key += code_index
    if np.all(key[1:] > key[:-1]):
        return partner_index, code_index, None
    if grid > DENSE_PAIRS:
        pairs, row_pair = np.unique(key, return_inverse=True)
    else:
        pairs = np.flatnonzero(np.bincount(key, minlength=grid))
        position = np.zeros(grid, dtype=np.int64)
        position[pairs] = np.arange(len(pairs))
        row_pair = position[key]
    return pairs // codes, pairs % codes, row_pair


def compute(
    flows: pd.DataFrame,
    scenario: Scenario,
    baseline: Scenario,
    as_of: dt.date | None = None,
    level: int = 2,
    split_coarse: bool = True,
    mix: ImportMix | None = None,
) -> Result:
    """Static duties of ``scenario`` and ``baseline`` on ``flows`` (canonical table; value_usd in USD).

    ``as_of`` defaults to the scenario's own date; the baseline is evaluated on its own ``as_of``.
    ``level`` (2/4/6/8/10) is the product level of the product tables. With ``split_coarse`` (and US
    imports, the importer of the reference mix), each row coarser than HTS10 is priced as the mix of the
    HTS10 codes under it (:func:`tariffcalc.reference.mix.us_2024_mix`): it pays the weighted average
    of their rates, and its observed 2024 rate is unchanged. ``mix`` replaces the reference mix (tests,
    studies of another mix).
    """
    hs.check_level(level)
    on = as_of or scenario.as_of
    partner_code, partners = _factorize(flows["partner"])
    hs_code, codes = _factorize(flows["hs"])
    pair_partner_index, pair_code_index, row_pair = _pairs(partner_code, hs_code, max(len(codes), 1))
    value = flows["value_usd"].to_numpy(dtype=float)
    if row_pair is None:  # the rows are the pairs, in order
        row_pair, pair_value = np.arange(len(value)), value
    else:
        pair_value = np.bincount(row_pair, weights=value, minlength=len(pair_partner_index))
    split = None
    if split_coarse and scenario.importer == IMPORTER and is_coarse(codes).any():  # else no mix is read
        split = (mix or us_2024_mix()).split(codes, pair_partner_index, pair_code_index)
    observed_pairs = data_value = None
    if split is not None:
        codes, pair_partner_index, pair_code_index = split.codes, split.partner_index, split.code_index
        data_value, pair_value = pair_value, pair_value[split.origin] * split.weight
        observed_pairs = (split.data_partner_index, split.data_code_index, split.origin)

    def schedule(of: Scenario, on: dt.date | None) -> Schedule:
        return resolve_pairs(
            of, partners, codes, pair_partner_index, pair_code_index, on, observed_pairs=observed_pairs
        )

    return Result(
        scenario=scenario,
        baseline=baseline,
        as_of=on,
        level=level,
        flows=flows,
        row_pair=row_pair,
        pair_value=pair_value,
        scenario_schedule=schedule(scenario, on),
        baseline_schedule=schedule(baseline, None),
        pair_partner_index=pair_partner_index,
        partners=partners,
        pair_code_index=pair_code_index,
        codes=codes,
        split=split,
        split_coarse=split_coarse,
        data_value=data_value,
    )
