"""Shares of customs value by HS code that rules need: USMCA claim shares and content shares.

* USMCA claim shares (bundled ``usmca_shares.parquet``, derived by ``scripts/build_rulebook_data.py`` from
  the Yale Budget Lab tracker's Census rate-provision files): the share of each HTS10's imports from
  Canada or Mexico entered under USMCA preference, by month (January 2025 to February 2026) and for 2024
  as a whole. A measure that exempts USMCA goods charges the rest.
* Content shares (e.g. bundled ``metal_content.csv``: steel, aluminium and copper content of each HTS10):
  the share of value a measure charges (Section 232 derivatives are charged on their metal content).

A code the table lacks takes the share of the longest prefix the table has (the value-weighted share of the
table's codes under it, or their plain mean when the table has no values); a code with no match at any
length takes ``default``. Shares are fractions in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np

from tariffcalc.reference import bundled

USMCA_FILE = "usmca_shares.parquet"
USMCA_PARTNERS = ("CAN", "MEX")


class PrefixShares:
    """Shares by HS code with longest-prefix fallback (see the module docstring)."""

    def __init__(self, codes: np.ndarray, shares: np.ndarray, weights: np.ndarray | None = None):
        weights = np.ones(len(codes)) if weights is None else np.asarray(weights, dtype=float)
        shares = np.asarray(shares, dtype=float)
        self._by_prefix: dict[str, float] = {}
        sums: dict[str, list[float]] = {}
        for code, share, weight in zip(codes.tolist(), shares.tolist(), weights.tolist(), strict=True):
            for length in range(2, len(code) + 1, 2):
                entry = sums.setdefault(code[:length], [0.0, 0.0, 0.0, 0.0])
                entry[0] += share * weight
                entry[1] += weight
                entry[2] += share
                entry[3] += 1
        for prefix, (weighted, weight, plain, count) in sums.items():
            self._by_prefix[prefix] = weighted / weight if weight > 0 else plain / count
        total_weight = float(weights.sum())
        self.overall = (
            float((shares * weights).sum() / total_weight) if total_weight > 0 else float(shares.mean())
        )

    def lookup(self, codes: np.ndarray, default: float) -> tuple[np.ndarray, np.ndarray]:
        """Each code's share and the prefix it came from ("" where ``default`` was used)."""
        out = np.full(len(codes), default, dtype=float)
        matched = np.full(len(codes), "", dtype=object)
        for i, code in enumerate(codes.tolist()):
            for length in range(len(code), 1, -2):
                share = self._by_prefix.get(code[:length])
                if share is not None:
                    out[i] = share
                    matched[i] = code[:length]
                    break
        return out, matched


@functools.cache
def content_shares(path: Path, column: str) -> PrefixShares:
    """A content-share table (``hs`` and share columns, CSV) read once per process."""
    import pandas as pd

    table = pd.read_csv(path, dtype={"hs": str}, usecols=["hs", column])
    table = table[table[column].notna()]
    shares = table[column].to_numpy(dtype=float).clip(0.0, 1.0)
    return PrefixShares(table["hs"].to_numpy(dtype=object), shares)


@functools.cache
def _usmca_months() -> tuple[str, ...]:
    import pyarrow.parquet as pq

    table = pq.read_table(bundled.data_path(USMCA_FILE), columns=["month"])
    return tuple(sorted(set(table.column("month").to_pylist())))


def usmca_month(on: dt.date) -> str:
    """The month of claim shares used for a date: its own month when the table has it, the annual 2024
    figure before 2025, and the latest month after the table ends."""
    months = _usmca_months()
    monthly = [m for m in months if len(m) == 7]
    key = f"{on.year:04d}-{on.month:02d}"
    if on.year < 2025 and "2024" in months:
        return "2024"
    if key in months:
        return key
    earlier = [m for m in monthly if m < key]
    return earlier[-1] if earlier else monthly[0]


@functools.cache
def _usmca_table(partner: str, month: str) -> PrefixShares | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(bundled.data_path(USMCA_FILE))
    rows = table.filter(pc.and_(pc.equal(table["partner"], partner), pc.equal(table["month"], month)))
    if rows.num_rows == 0:
        return None
    return PrefixShares(
        np.asarray(rows.column("hs").to_pylist(), dtype=object),
        rows.column("share").to_numpy(),
        rows.column("value_usd").to_numpy(),
    )


def usmca_claimed(partner: str, codes: np.ndarray, on: dt.date) -> tuple[np.ndarray, str]:
    """Share of each code's imports from ``partner`` claimed under USMCA in the month used for ``on``
    (0 for partners other than Canada and Mexico), and that month. A code the month's table lacks at every
    prefix takes the partner's overall share that month."""
    if partner not in USMCA_PARTNERS:
        return np.zeros(len(codes)), ""
    month = usmca_month(on)
    shares = _usmca_table(partner, month)
    if shares is None:
        return np.zeros(len(codes)), month
    claimed, _ = shares.lookup(np.asarray(codes, dtype=object), default=shares.overall)
    return claimed, month
