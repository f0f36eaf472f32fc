"""Derive the product-list views that the `us-tariffs` rulebook needs from the bundled lists.

The scenario language selects products by HS prefix (longest prefix wins); it cannot filter a list by a
column (`metal`, `annex`) or intersect a list with a chapter. Where a measure needs such a subset, this
script writes it as a list of its own, from the lists in data/lists/ (themselves built by
scripts/build_data.py and scripts/build_rulebook_data.py). Run it after either of those:

    python scripts/build_rulebook_views.py

Every view keeps the `hs`, `effective` and `expires` columns of its source rows and adds `view_of` (the source file),
so a view can always be traced back and rebuilt; never edit a view by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

LISTS = Path(__file__).resolve().parent.parent / "data" / "lists"

Rows = Callable[[pd.DataFrame], pd.Series]


def _chapter_in(*chapters: str) -> Rows:
    return lambda frame: frame["hs"].str[:2].isin(chapters)


def _chapter_not_in(*chapters: str) -> Rows:
    return lambda frame: ~frame["hs"].str[:2].isin(chapters)


def _column(name: str, *values: str) -> Rows:
    return lambda frame: frame[name].isin(values)


def _both(first: Rows, second: Rows) -> Rows:
    return lambda frame: first(frame) & second(frame)


def _all_rows(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(True, index=frame.index)


# (view, source, rows kept, keep the source's `effective` dates?)
VIEWS: list[tuple[str, str, Rows, bool]] = [
    # Section 232 steel/aluminium derivatives of 2025: those of chapters 72/73 (steel) and 76 (aluminium)
    # pay on their full value, those outside on their metal content (CBP FAQ of 21 March 2025; CSMS
    # #65236374).
    (
        "s232_steel_derivatives_ch73.csv",
        "s232_steel_aluminum_2025.csv",
        _both(_both(_column("metal", "steel"), _column("category", "derivative")), _chapter_in("72", "73")),
        True,
    ),
    (
        "s232_steel_derivatives_content.csv",
        "s232_steel_aluminum_2025.csv",
        _both(
            _both(_column("metal", "steel"), _column("category", "derivative")), _chapter_not_in("72", "73")
        ),
        True,
    ),
    (
        "s232_aluminum_derivatives_ch76.csv",
        "s232_steel_aluminum_2025.csv",
        _both(_both(_column("metal", "aluminum"), _column("category", "derivative")), _chapter_in("76")),
        True,
    ),
    (
        "s232_aluminum_derivatives_content.csv",
        "s232_steel_aluminum_2025.csv",
        _both(_both(_column("metal", "aluminum"), _column("category", "derivative")), _chapter_not_in("76")),
        True,
    ),
    # EO 14257 sec. 3(b): auto parts subject to Proclamation 10908 were out of the reciprocal tariff from
    # 5 April 2025 although their Section 232 duty began on 3 May (CBP Section 232 auto FAQ): undated.
    ("s232_auto_parts_eo14257.csv", "s232_auto_parts_2025.csv", _all_rows, False),
    # Proclamation 11021 (6 April 2026): annex I-A 50 % (UK 25 % on steel/aluminium, not copper), I-B 25 %
    # (UK 15 %), III 15 % all-in; annex II goods left Section 232.
    (
        "s232_metals_2026_1a.csv",
        "s232_metals_2026.csv",
        _both(_column("annex", "1a"), _column("metal", "steel", "aluminum")),
        True,
    ),
    (
        "s232_metals_2026_1a_copper.csv",
        "s232_metals_2026.csv",
        _both(_column("annex", "1a"), _column("metal", "copper")),
        True,
    ),
    (
        "s232_metals_2026_1b.csv",
        "s232_metals_2026.csv",
        _both(_column("annex", "1b"), _column("metal", "steel", "aluminum")),
        True,
    ),
    (
        "s232_metals_2026_1b_copper.csv",
        "s232_metals_2026.csv",
        _both(_column("annex", "1b"), _column("metal", "copper")),
        True,
    ),
    ("s232_metals_2026_3.csv", "s232_metals_2026.csv", _column("annex", "3"), True),
]


def build(lists: Path = LISTS) -> list[Path]:
    written = []
    for view, source, rows, dated in VIEWS:
        frame = pd.read_csv(lists / source, dtype=str, keep_default_na=False)
        kept = frame.loc[rows(frame)]
        out = pd.DataFrame({"hs": kept["hs"]})
        for column in ("effective", "expires"):
            out[column] = kept[column] if dated and column in kept else ""
        out["view_of"] = source
        out = out.drop_duplicates("hs").sort_values("hs")
        out.to_csv(lists / view, index=False, lineterminator="\n")
        written.append(lists / view)
    return written


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else LISTS):
        print(f"{path.name}: {sum(1 for _ in path.open()) - 1} rows")
