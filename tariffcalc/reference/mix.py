"""The import mix of the finest codes under each HS prefix, for splitting coarse rows.

The bundled 2024 flows have HTS10 detail for the largest partners and only HS chapters for 148 small ones.
A chapter-level row cannot tell which of its goods are exempt at HTS8 or HTS10, so it is split over the
HTS10 codes of its chapter (or of its prefix, for a 4-, 6- or 8-digit row) in proportion to those codes'
2024 imports from the partners that do have HTS10 detail (docs/scenarios.md, "How rates are resolved",
item 4). Rates are then resolved on the sub-pairs, and the row pays their weighted average.

:func:`us_2024_mix` is the reference mix, computed once per process from the bundled flows, with read-only
arrays. :meth:`ImportMix.split` turns distinct (partner, code) pairs into the pairs to price: each coarse
pair whose prefix the mix has becomes one sub-pair per code of the mix under it, with its weight; every
other pair stays as it is. It is pure integer arithmetic on the pairs (no loop over pairs or rows).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd

from tariffcalc.reference import bundled

FINEST = 10
"""Digits of the mix's codes (HTS10): a code shorter than this is coarse."""
IMPORTER = "USA"
"""The importer of the reference mix: only its coarse rows are split."""


def is_coarse(codes: np.ndarray) -> np.ndarray:
    """Which of ``codes`` (text) are coarser than :data:`FINEST` digits (bool array)."""
    codes = np.asarray(codes, dtype=object)
    return np.fromiter(map(len, codes.tolist()), dtype=np.int64, count=len(codes)) < FINEST


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclasses.dataclass(frozen=True)
class Split:
    """Distinct (partner, code) pairs after coarse pairs were split over a mix.

    The *data pairs* are the pairs given to :meth:`ImportMix.split`; the *priced pairs* are those to
    resolve rates for: every data pair that was not split, and for each split one its sub-pairs, in the
    order of the data pairs. Arrays over priced pairs have one entry per priced pair.
    """

    codes: np.ndarray
    """The distinct codes: the data's, then the mix's codes that the data lacks (text)."""
    partner_index: np.ndarray
    """Each priced pair's partner (index into the data's distinct partners)."""
    code_index: np.ndarray
    """Each priced pair's code (index into ``codes``): a code of the mix for a sub-pair."""
    origin_code_index: np.ndarray
    """Each priced pair's code in the data (index into ``codes``): the coarse code for a sub-pair."""
    origin: np.ndarray
    """Each priced pair's data pair (index into the data pairs)."""
    weight: np.ndarray
    """Each priced pair's share of its data pair's value: the code's share of the prefix's imports in the
    mix for a sub-pair, 1 for a pair that was not split."""
    was_split: np.ndarray
    """Whether each data pair was split (bool over the data pairs)."""
    data_partner_index: np.ndarray
    """Each data pair's partner (the ``partner_index`` given)."""
    data_code_index: np.ndarray
    """Each data pair's code (the ``code_index`` given)."""
    new_codes: int
    """How many codes of the mix were added after the data's own."""
    mix: ImportMix

    @property
    def data_pairs(self) -> int:
        return len(self.was_split)

    @property
    def data_codes(self) -> int:
        """How many of ``codes`` are the data's own (they come first)."""
        return len(self.codes) - self.new_codes

    def fold(self, values: np.ndarray) -> np.ndarray:
        """Per-priced-pair ``values`` summed by data pair (USD amounts: a split pair gets its sub-pairs' sum)."""
        return np.bincount(self.origin, weights=values, minlength=self.data_pairs)

    def average(self, values: np.ndarray) -> np.ndarray:
        """Per-priced-pair ``values`` (rates, shares) averaged by data pair with the weights."""
        return np.bincount(self.origin, weights=self.weight * values, minlength=self.data_pairs)


@dataclasses.dataclass(frozen=True)
class ImportMix:
    """Imports (USD) by code at the finest level, sorted by code, so a prefix's codes are one slice.

    Read-only: the arrays cannot be written, and :func:`us_2024_mix` returns one shared instance.
    """

    codes: np.ndarray
    """The codes (text, all of :data:`FINEST` digits), sorted."""
    value: np.ndarray
    """Imports of each code (USD) from the partners with detail; every value is positive."""
    source: str
    """Where the mix comes from, in words (said in diagnostics, summary.md, report.pdf and ``explain``)."""
    partners: int
    """How many partners' imports make up the mix."""

    @classmethod
    def from_flows(cls, code: np.ndarray, value: np.ndarray, partners: int, source: str) -> ImportMix:
        """The mix of rows ``code`` (text, :data:`FINEST` digits) with imports ``value`` (USD), summed by code;
        codes without positive imports are left out."""
        sums = pd.Series(np.asarray(value, dtype=float)).groupby(np.asarray(code, dtype=object)).sum()
        sums = sums[sums > 0].sort_index()
        codes = np.asarray(sums.index, dtype=object)
        if len(codes) and not all(len(c) == FINEST for c in codes.tolist()):
            raise ValueError(f"an import mix holds {FINEST}-digit codes only")
        return cls(_read_only(codes), _read_only(sums.to_numpy(dtype=float)), source, partners)

    @classmethod
    def of_flows(cls, flows: pd.DataFrame, source: str) -> ImportMix:
        """The mix of a flow table (``partner``, ``hs``, ``value_usd`` in USD): its :data:`FINEST`-digit rows,
        summed by code. ``source`` says where the table comes from."""
        detail = flows["hs"].astype(str).str.len().to_numpy() == FINEST
        rows = flows.loc[detail]
        return cls.from_flows(
            rows["hs"].astype(str).to_numpy(dtype=object),
            rows["value_usd"].to_numpy(dtype=float),
            int(rows["partner"].nunique()),
            source,
        )

    def bounds(self, prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each prefix (text), the slice ``[lo, hi)`` of :attr:`codes` that start with it (empty if none)."""
        prefixes = np.asarray(prefixes, dtype=object)
        lo = np.searchsorted(self.codes, prefixes, side="left")
        # ":" sorts right after "9": every code that starts with the prefix sorts before prefix + ":"
        hi = np.searchsorted(self.codes, prefixes + ":", side="left")
        return lo, hi

    def shares(self, prefix: str) -> pd.DataFrame:
        """The mix of one prefix: ``hs`` and ``share`` (fraction of the prefix's imports), largest first."""
        (lo,), (hi,) = self.bounds(np.array([prefix], dtype=object))
        value = self.value[lo:hi]
        table = pd.DataFrame({"hs": self.codes[lo:hi], "share": value / value.sum() if len(value) else value})
        return table.sort_values(["share", "hs"], ascending=[False, True], ignore_index=True)

    def split_one(self, code: str) -> Split | None:
        """:meth:`split` of a single pair of ``code`` (what ``explain`` prices)."""
        return self.split(np.array([code], dtype=object), np.zeros(1, np.intp), np.zeros(1, np.intp))

    def split(self, codes: np.ndarray, partner_index: np.ndarray, code_index: np.ndarray) -> Split | None:
        """Split the coarse ones of the distinct pairs ``(partner_index, codes[code_index])`` over the mix.

        A pair is split when its code is shorter than :data:`FINEST` digits and the mix has imports under
        it; it becomes one sub-pair per code of the mix under it, weighted by that code's share of the
        prefix's imports (the weights of a pair sum to 1). None when no pair is split.
        """
        codes = np.asarray(codes, dtype=object)
        short = np.flatnonzero(is_coarse(codes))
        if not len(short) or not len(self.codes):
            return None
        lo, hi = self.bounds(codes[short])
        has_mix = hi > lo  # every value of the mix is positive
        count_of_code = np.zeros(len(codes), dtype=np.int64)
        count_of_code[short[has_mix]] = (hi - lo)[has_mix]
        count = count_of_code[code_index]
        was_split = count > 0
        if not was_split.any():
            return None
        first_of_code = np.zeros(len(codes), dtype=np.int64)
        first_of_code[short] = lo

        # the mix's codes used (those under a split code), numbered after the data's own codes
        used = np.zeros(len(self.codes) + 1, dtype=np.int64)
        split_codes = np.flatnonzero(count_of_code)
        np.add.at(used, first_of_code[split_codes], 1)
        np.add.at(used, first_of_code[split_codes] + count_of_code[split_codes], -1)
        used = np.cumsum(used[:-1]) > 0
        in_data = pd.Index(codes).get_indexer(self.codes[used])
        new = in_data < 0
        mix_code = np.full(len(self.codes), -1, dtype=np.int64)
        mix_code[np.flatnonzero(used)] = np.where(new, len(codes) + np.cumsum(new) - 1, in_data)
        all_codes = np.concatenate([codes, self.codes[used][new]])

        # priced pairs: each data pair once, or once per code of its mix, in the order of the data pairs
        per_pair = np.where(was_split, count, 1)
        origin = np.repeat(np.arange(len(per_pair)), per_pair)
        within = np.arange(len(origin)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)
        data_code = code_index[origin]
        sub = was_split[origin]
        position = first_of_code[data_code[sub]] + within[sub]
        priced_code = data_code.copy()
        priced_code[sub] = mix_code[position]
        # each split pair's weights: its codes' imports over their sum, summed over the slice itself (a
        # running total over all codes would lose a small prefix's digits next to a large one)
        weight = np.ones(len(origin))
        value = self.value[position]
        total = np.bincount(origin[sub], weights=value, minlength=len(per_pair))
        weight[sub] = value / total[origin[sub]]
        return Split(
            codes=_read_only(all_codes),
            partner_index=partner_index[origin],
            code_index=priced_code,
            origin_code_index=data_code,
            origin=origin,
            weight=weight,
            was_split=was_split,
            data_partner_index=partner_index,
            data_code_index=code_index,
            new_codes=int(new.sum()),
            mix=self,
        )


@functools.cache
def us_2024_mix() -> ImportMix:
    """The reference mix: 2024 US imports for consumption by HTS10 of every partner with HTS10 detail in
    the bundled flows (data/README.md, methods ``census_hts10`` and ``eu_allocated_hts10``).

    Computed once per process and shared: its arrays are read-only.
    """
    flows = bundled.default_flows()
    partners = flows.loc[flows["hs"].str.len() == FINEST, "partner"].nunique()
    source = (
        f"the 2024 US import mix of the {partners} partners with HTS10 detail (Census imports for consumption, "
        f"bundled {bundled.DEFAULT_FLOWS})"
    )
    return ImportMix.of_flows(flows, source)
