"""Build the rulebook tables of the dated US tariff timeline from the Yale Budget Lab tracker's files.

The Budget Lab at Yale's tariff-rate-tracker (commit 8315fff, 11 May 2026, MIT License; a copy of its
reference files is in ``shared/data/tbl-tracker``, described in its README.md) keeps the product lists and
shares that the 2025-26 US measures need. This script turns them into the project's own schema:

* product lists in ``data/lists/`` (``hs`` prefix, ``effective``/``expires`` dates, and per list a
  ``category``, ``metal``, ``annex`` or ``description`` column): the cumulative IEEPA reciprocal exemptions
  with the date of every change the research can date, the Section 122 exemptions split by the subdivision
  of U.S. note 2(aa), the exemptions of the 15 % floor deals (EU, Japan, Korea, Switzerland), the Brazil
  order's exemptions, the fentanyl-duty carve-outs, and the Section 232 scopes of 2025 and 2026;
* ``data/metal_content.csv``: steel, aluminium, copper and total metal share of each HTS10's value;
* ``data/usmca_shares.parquet``: the share of each HTS10's Canadian and Mexican imports claimed under USMCA,
  by month (2025-01 to 2026-02) and for 2024 as a whole.

Dates come from the legal texts as summarised in the project's research notes (see data/README.md, section
"Rulebook tables", which explains every inference). Where the tracker's files and the legal text disagree
the script either corrects the row (and says so) or keeps it and flags it in a ``category`` column.
Every output is checked (codes, dates, uniqueness, counts against the sources); a failed check stops the
build with an AssertionError. Outputs are deterministic: rebuilding gives byte-identical files.

Run from the repository root::

    python scripts/build_rulebook_data.py                    # reads ../shared, writes data/
    python scripts/build_rulebook_data.py --shared /path/to/shared --out data
"""

from __future__ import annotations

import argparse
import io
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_OUT = REPO_ROOT / "data"
TRACKER = Path("data") / "tbl-tracker"  # inside the shared folder
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# ----------------------------------------------------------------------------------------- legal dates
# Entry dates (goods entered or withdrawn from warehouse on or after 12:01 a.m. ET), from the research notes.
S232_METALS_2025 = "2025-03-12"  # Procs. 10895/10896: all exemptions end, derivative lists, 12 Mar 2025
S232_INCLUSIONS = "2025-08-18"  # BIS inclusions round 1 (90 FR 40326), 407 HTSUS codes, 18 Aug 2025
S232_AUTO_PARTS = "2025-05-03"  # Proc. 10908: automobile parts from 3 May 2025
S232_COPPER = "2025-08-01"  # Proc. 10962 (copper, 30 Jul 2025): 1 Aug 2025 (lists/s232_copper.csv, checked)
S232_TRUCK_PARTS = "2025-11-01"  # Proc. 10984 (17 Oct 2025): medium/heavy-duty vehicle parts, 1 Nov 2025
S232_SEMIS = "2026-01-15"  # Proc. 11002 (14 Jan 2026): 15 Jan 2026 (the tracker's HTS date is 16 Jan)
S232_ANNEXES = "2026-04-06"  # Proc. 11021 (2 Apr 2026): annexes I-A/I-B/II/III replace the 2025 lists
EO14346_DATE = "2025-09-08"  # EO 14346 (5 Sep 2025) Annex II changes, CBP CSMS #66151866
AG_EO_DATE = "2025-11-13"  # EO of 14 Nov 2025 on agricultural products, retroactive to 13 Nov 2025
WOOD_DATE = "2025-10-14"  # Proc. 10976 (29 Sep 2025) removes chapter 44 from Annex II, 14 Oct 2025
BRAZIL_DATES = ("2025-08-06", "2025-11-13")  # EO 14323 Annex I; EO of 20 Nov 2025 (retro to 13 Nov)
POTASH_DATE = "2025-03-07"  # EO 14231 / Mexico EO of 6 Mar 2025: potash at 10 % from 7 Mar 2025
FLOOR_DATES = {  # first day each deal's product exemptions applied (retroactive where the notice says so)
    "eu": "2025-09-01",  # EU framework notice of 25 Sep 2025: exemptions retroactive to 1 Sep 2025
    "japan": "2025-09-16",  # 90 FR 44638 (16 Sep 2025): civil aircraft of Japan exempt from 16 Sep 2025
    "korea": "2025-11-14",  # 90 FR 55964 (4 Dec 2025): reciprocal changes and aircraft retro to 14 Nov 2025
    "swiss": "2025-11-14",  # notice of 18 Dec 2025 (FR Doc 2025-23316): retroactive to 14 Nov 2025
}
# Copper semis lost the Annex II exemption when Proc. 10962 charged them from 1 Aug 2025 (their non-copper
# content pays the reciprocal duty, CSMS #65794272): an inference, the removal itself was not read.
COPPER_REMOVAL = S232_COPPER

# ----------------------------------------------------------------------------------------- code sets


def _codes(text: str) -> frozenset[str]:
    """A set of codes written space-separated."""
    return frozenset(text.split())


# EO 14346 Annex II: the 39 subheadings added from 8 Sep 2025 (as listed in the order; 8505.11.0070 is a
# statistical line) and the 8 removed (aluminium hydroxide, resins, silicones), per the White House text as
# reproduced by vastlog.com and jas.com. The build derives the additions from the tracker's files and
# asserts they equal this published list.
EO14346_ADDED = _codes(
    "25041010 26040000 26090000 26122000 26139000 28254000 28332400 29035110 29242901 29242903 29242923"
    " 29242926 29242928 29242933 29242957 29242980 29269050 29332905 29332960 47031100 47032100 47032900"
    " 71081100 71081250 71081310 71081355 71081370 71082000 71159005 71159030 72026000 75011000 75021000"
    " 75022000 75030000 75040000 79039030 8505110070 85414100"
)
EO14346_REMOVED = _codes("28183000 38249993 39072900 39073000 39076100 39076900 39079950 39100000")
# The 11 "particular articles" of the 14 Nov 2025 order (HTSUS 9903.02.78, U.S. note 2(v)(iii)(b)), listed
# again for Section 122 in U.S. note 2(aa)(iii) (heading 9903.03.04).
PARTICULAR_ARTICLES = _codes(
    "08059001 08119080 14049090 19059010 19059090 20089921 20093160 20098970 20099040 21069099 33012951"
)
# 9031.49.70 is in the tracker's Section 122 list but in none of the subdivisions of U.S. note 2(aa)
# (HTSUS 2026 Rev. 6); the tracker's own audit calls it a civil-aircraft instrument.
S122_UNLISTED = frozenset({"90314970"})
# Headings and subheadings the 11 April 2025 memorandum exempts whole (the rest of the memo is the HTS10
# list of eo14257_apr11_electronics_exempt_hts10.csv).
ELECTRONICS_HEADINGS = ("8471", "847330", "8486", "8524", "8542")
# Chapters of the 14 Nov 2025 agricultural order (the 5 Sep order added chapters 25-29, 47, 71, 72, 75, 85).
AG_CHAPTERS = frozenset([f"{c:02d}" for c in range(1, 25)] + ["31", "33"])
# Annex II entries that are informational materials or similar (ch. 49, 4820.20): still in the reciprocal
# Annex II of HTSUS 2026, absent from the Section 122 list only because note 2(aa) exempts them elsewhere.
INFORMATIONAL = ("49", "48202000")
# Chapter 98 provisions that pay the reciprocal duty on the value added abroad (U.S. note 2(v)(i)).
CH98_VALUE_ADDED = ("98020040", "98020050", "98020060", "98020080")

CENSUS_PARTNERS = {"1220": "CAN", "2010": "MEX"}
SHARE_COLUMNS = ["steel_share", "aluminum_share", "copper_share", "other_metal_share", "metal_share"]
EXPECTED = {  # source row counts the build must find (a changed source stops the build)
    "ieepa_exempt_products.csv": 4297,
    "s122_exempt_products.csv": 1656,
    "floor_exempt_products.csv": 3823,
    "country_eo_exempt_products.csv": 952,
    "fentanyl_carveout_products.csv": 308,
    "s232_derivative_products.csv": 568,
    "s232_copper_products.csv": 80,
    "s232_auto_parts.txt": 130,
    "s232_mhd_parts.txt": 182,
    "s232_semi_products.csv": 10,
    "s232_annex_products.csv": 799,
    "metal_content_shares_bea_hs10.csv.gz": 20780,
}


# ----------------------------------------------------------------------------------------- helpers


def read_text_csv(path: Path, **kwargs) -> pd.DataFrame:
    """Read a CSV (gzip allowed) with every column as text and empty cells as ''."""
    assert path.is_file(), f"missing source file {path}"
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8", **kwargs)


def tracker(shared: Path, name: str, **kwargs) -> pd.DataFrame:
    """A tracker resource file (``resources/NAME``), every column as text, row count checked."""
    df = read_text_csv(shared / TRACKER / "resources" / name, **kwargs)
    if name in EXPECTED:
        assert len(df) == EXPECTED[name], f"{name}: {len(df)} rows, expected {EXPECTED[name]}"
    return df


def tracker_codes(shared: Path, name: str) -> pd.Series:
    """A tracker .txt list (one code a line)."""
    path = shared / TRACKER / "resources" / name
    assert path.is_file(), f"missing source file {path}"
    codes = pd.Series(path.read_text(encoding="utf-8").split(), dtype=object)
    assert len(codes) == EXPECTED[name], f"{name}: {len(codes)} codes, expected {EXPECTED[name]}"
    return codes


def digits(codes: pd.Series) -> pd.Series:
    """HTS codes written with dots ('0801.21.00') as plain digits."""
    return codes.str.replace(".", "", regex=False).str.strip()


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a CSV the project's way: UTF-8, no index, one header row, LF line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def assert_unique(df: pd.DataFrame, keys: list[str], what: str) -> None:
    """Fail if the key columns do not identify rows uniquely."""
    dup = df.duplicated(keys, keep=False)
    assert not dup.any(), f"{what}: duplicate {keys}: {df.loc[dup, keys].head().to_dict('records')}"


def product_list(df: pd.DataFrame, extra: list[str], what: str, key: list[str] | None = None) -> pd.DataFrame:
    """A list in the project's schema: hs, effective, expires, the ``extra`` columns; sorted, checked.

    Rows repeating a key keep the earliest ``effective`` (empty = always = earliest); ``key`` defaults to
    ``hs`` (``["hs", "metal"]`` where one code can be on two metals' lists).
    """
    key = key or ["hs"]
    out = df.copy()
    for col in ("effective", "expires"):
        if col not in out.columns:
            out[col] = ""
    out = out[["hs", "effective", "expires", *extra]].astype(str)
    order = out["effective"].replace("", "0000-00-00")
    out = out.assign(_order=order).sort_values([*key, "_order", *extra]).drop_duplicates(key, keep="first")
    out = out.drop(columns="_order").sort_values(key, ignore_index=True)
    check_product_list(out, key, what)
    return out


def check_product_list(df: pd.DataFrame, key: list[str], what: str) -> None:
    """Assert codes are digit prefixes of even length 2-10, keys unique and sorted, dates ISO and ordered."""
    ok = df["hs"].str.fullmatch(r"(\d\d){1,5}")
    assert ok.all(), f"{what}: bad codes {df.loc[~ok, 'hs'].tolist()[:5]}"
    assert_unique(df, key, what)
    assert df[key].equals(df[key].sort_values(key, ignore_index=True)), f"{what}: not sorted"
    for col in ("effective", "expires"):
        dates = df.loc[df[col] != "", col]
        assert dates.str.fullmatch(ISO_DATE).all(), f"{what}: {col} must be an ISO date or empty"
        for d in dates.unique():
            date.fromisoformat(d)
    both = (df["effective"] != "") & (df["expires"] != "")
    assert (df.loc[both, "effective"] < df.loc[both, "expires"]).all(), f"{what}: expires before effective"


def electronics_covered(codes: pd.Series, memo10: set[str], memo8: set[str]) -> pd.Series:
    """True for codes the 11 April 2025 electronics memorandum exempts: its HTS10 list (and the other
    statistical suffixes of those HTS8) and the headings it exempts whole."""
    return codes.isin(memo10) | codes.str[:8].isin(memo8) | codes.str.startswith(ELECTRONICS_HEADINGS)


# ----------------------------------------------------------------------------------------- Section 122


def april_lists(shared: Path) -> tuple[pd.DataFrame, set[str], set[str]]:
    """EO 14257 Annex II as of 2 April 2025 (HTS8 frame) and the 11 April memo (HTS10 and HTS8 sets)."""
    a2 = read_text_csv(shared / "data" / "eo14257_annex2_exempt_hts8.csv")
    assert len(a2) == 1039 and a2["hts8"].is_unique and a2["hts8"].str.fullmatch(r"\d{8}").all()
    el = read_text_csv(shared / "data" / "eo14257_apr11_electronics_exempt_hts10.csv")
    assert len(el) == 109 and el["hts10"].str.fullmatch(r"\d{10}").all()
    return a2, set(el["hts10"]), set(el["hts10"].str[:8])


def build_s122(shared: Path, april8: set[str], memo10: set[str], memo8: set[str]) -> pd.DataFrame:
    """s122_exempt.csv: the Section 122 exemptions, each with its subdivision of U.S. note 2(aa).

    ``unconditional`` = 2(aa)(ii) (heading 9903.03.03: Annex II as amended by then); ``particular`` =
    2(aa)(iii) (9903.03.04, 11 articles, four "for religious purposes only"); ``civil_aircraft`` =
    2(aa)(iv) (9903.03.05: only goods meeting general note 6, a use condition); ``unlisted`` = in the
    tracker's list but in no subdivision of the note. The aircraft codes are recognised as those on the
    deals' GN6 civil-aircraft lists (floor_exempt_products.csv) or in heading 8806, and not still on Annex
    II; this reproduces the 546 codes printed in the note exactly.
    """
    src = tracker(shared, "s122_exempt_products.csv")
    codes = src["hts8"]
    assert codes.is_unique and codes.str.fullmatch(r"\d{8}|\d{10}").all(), "s122: bad codes"
    floor = tracker(shared, "floor_exempt_products.csv")
    aircraft_lists = set(
        floor.loc[
            (floor["category"] == "civil_aircraft") & floor["country_group"].isin(["eu", "korea", "swiss"]),
            "hts8",
        ]
    )
    h8 = codes.str[:8]
    # on Annex II too (then 2(aa)(ii) lists it): April codes other than the wood and copper chapters, which
    # left Annex II in 2025 (7413.00.90 is an aircraft code that did), and the electronics memo
    on_annex = (h8.isin(april8) & ~h8.str[:2].isin(["44", "74"])) | electronics_covered(codes, memo10, memo8)
    aircraft = (h8.isin(aircraft_lists) | codes.str.startswith("8806")) & ~on_annex
    category = np.select(
        [codes.isin(PARTICULAR_ARTICLES), codes.isin(S122_UNLISTED), aircraft],
        ["particular", "unlisted", "civil_aircraft"],
        default="unconditional",
    )
    out = pd.DataFrame({"hs": codes, "category": category})
    counts = out["category"].value_counts().to_dict()
    expected = {"unconditional": 1098, "particular": 11, "civil_aircraft": 546, "unlisted": 1}
    assert counts == expected, f"s122 subdivisions {counts}, expected {expected} (U.S. note 2(aa))"
    return product_list(out, ["category"], "s122_exempt")


# ----------------------------------------------------------------------------------------- reciprocal


def annex_ii_changes(
    s122: pd.DataFrame, april8: set[str], memo10: set[str], memo8: set[str]
) -> tuple[set[str], set[str], dict[str, str]]:
    """Annex II changes between April 2025 and February 2026, read off the Section 122 list.

    U.S. note 2(aa)(ii) of the Section 122 proclamation (24 Feb 2026) reproduces the reciprocal Annex II as
    amended by then. Codes there but not on the April lists were added: outside the agricultural chapters by
    EO 14346 (asserted equal to the order's published list), inside them by the 14 Nov 2025 order (with the
    11 particular articles). April codes no longer there were removed: chapter 44 by Proc. 10976, chapter 74
    with the copper duty, the rest by EO 14346 (asserted equal to the order's list). Returns
    (EO 14346 additions, agricultural additions, removed HTS8 -> date of removal).
    """
    annex = s122.loc[s122["category"] == "unconditional", "hs"]
    new = annex[~(annex.str[:8].isin(april8) | electronics_covered(annex, memo10, memo8))]
    ag = set(new[new.str[:2].isin(AG_CHAPTERS)])
    added = set(new) - ag
    assert added == EO14346_ADDED, f"EO 14346 additions differ: {sorted(added ^ EO14346_ADDED)}"
    assert len(ag) == 237, f"14 Nov 2025 order: {len(ag)} classifications, expected 237"
    still = set(annex.str[:8]) | PARTICULAR_ARTICLES
    gone = sorted(c for c in april8 if c not in still and not c.startswith(INFORMATIONAL))
    removed: dict[str, str] = {}
    for code in gone:
        if code[:2] == "44":
            removed[code] = WOOD_DATE
        elif code[:2] == "74":
            removed[code] = COPPER_REMOVAL
        elif code in EO14346_REMOVED:
            removed[code] = EO14346_DATE
    unexplained = sorted(set(gone) - set(removed))
    assert not unexplained, f"April Annex II codes removed for no known reason: {unexplained}"
    assert set(removed) >= EO14346_REMOVED, "EO 14346 removals must all be April Annex II codes"
    by_date = pd.Series(removed).value_counts().to_dict()
    assert by_date == {WOOD_DATE: 158, COPPER_REMOVAL: 76, EO14346_DATE: 8}, f"removals {by_date}"
    return added, ag | PARTICULAR_ARTICLES, removed


def build_reciprocal(
    shared: Path, a2: pd.DataFrame, memo10: set[str], memo8: set[str], s122: pd.DataFrame
) -> pd.DataFrame:
    """ieepa_reciprocal_exempt.csv: the tracker's cumulative reciprocal exemptions, dated.

    Every tracker code is kept (but a mistyped 12-digit duplicate) with a ``category`` saying why it
    is exempt and from when; April Annex II codes the tracker dropped come back as HTS8 rows with the date
    they left Annex II in ``expires``.
    """
    src = tracker(shared, "ieepa_exempt_products.csv")
    codes = src["hts10"]
    bad = codes[~codes.str.fullmatch(r"\d{10}")]
    assert bad.tolist() == ["850511007000"], f"unexpected malformed codes {bad.tolist()}"
    # "850511007000" is 8505.11.0070 of EO 14346 mistyped; the list also has it right, so the row goes
    assert "8505110070" in set(codes), "8505110070 expected in the tracker's list"
    codes = codes[codes != "850511007000"]
    assert codes.is_unique, "ieepa_exempt_products: duplicate codes"
    april8 = set(a2["hts8"])
    added, ag, removed = annex_ii_changes(s122, april8, memo10, memo8)
    h8 = codes.str[:8]
    conditions = [
        h8.isin(april8),
        electronics_covered(codes, memo10, memo8),
        h8.isin(added) | codes.isin(added),
        h8.isin(ag),
        h8.isin(CH98_VALUE_ADDED),
        codes.str[:2] == "98",
    ]
    categories = [
        "eo14257_annex_ii",
        "electronics_memo",
        "eo14346_addition",
        "ag_order_2025_11",
        "chapter_98_value_added",
        "chapter_98",
    ]
    out = pd.DataFrame({"hs": codes, "category": np.select(conditions, categories, default="untraced")})
    out["effective"] = out["category"].map({"eo14346_addition": EO14346_DATE, "ag_order_2025_11": AG_EO_DATE})
    out["effective"] = out["effective"].fillna("")
    out["expires"] = h8.map(removed).where(out["category"] == "eo14257_annex_ii").fillna("")
    dropped = sorted(c for c in april8 if c not in set(h8))
    assert set(dropped) <= set(removed), f"tracker dropped April codes still in Annex II: {dropped[:5]}"
    back = pd.DataFrame({"hs": dropped, "category": "eo14257_annex_ii", "effective": ""})
    back["expires"] = back["hs"].map(removed)
    out = product_list(pd.concat([out, back], ignore_index=True), ["category"], "ieepa_reciprocal_exempt")
    assert len(out) == len(codes) + len(dropped), "reciprocal list: rows lost"
    return out


# ----------------------------------------------------------------------------------------- country lists


def build_floor(shared: Path) -> dict[str, pd.DataFrame]:
    """floor_exempt_{eu,japan,korea,swiss}.csv: products exempt from each 15 % floor deal, dated."""
    src = tracker(shared, "floor_exempt_products.csv")
    assert src["hts8"].str.fullmatch(r"\d{8}").all(), "floor list: codes must be HTS8"
    assert set(src["country_group"]) == set(FLOOR_DATES), f"floor groups {set(src['country_group'])}"
    out = {}
    for group, effective in FLOOR_DATES.items():
        rows = src[src["country_group"] == group]
        df = pd.DataFrame(
            {
                "hs": rows["hts8"],
                "effective": effective,
                "category": rows["category"],
                "description": rows["ch99_code"],
            }
        )
        out[f"floor_exempt_{group}.csv"] = product_list(df, ["category", "description"], f"floor {group}")
        assert len(out[f"floor_exempt_{group}.csv"]) == len(rows), f"floor {group}: duplicate codes"
    return out


def build_brazil(shared: Path) -> pd.DataFrame:
    """brazil_exempt.csv: products exempt from the Brazil order (EO 14323), dated per row.

    The tracker's file carries five chapter-99 heading numbers as if they were products (9903.01.77 etc.,
    in the November rows); they are dropped.
    """
    src = tracker(shared, "country_eo_exempt_products.csv", comment="#")
    assert set(src["ch99_code"]) == {"9903.01.77"}, "Brazil list: one heading expected"
    hs = digits(src["hts10"])
    headings = hs.str.startswith("9903")
    assert headings.sum() == 5, f"Brazil list: {headings.sum()} chapter-99 rows, expected 5"
    src, hs = src[~headings], hs[~headings]
    assert set(src["effective_date_start"]) == set(BRAZIL_DATES), "Brazil list: unexpected start dates"
    category = src["effective_date_start"].map(
        {BRAZIL_DATES[0]: "eo14323_annex_i", BRAZIL_DATES[1]: "addition_2025_11"}
    )
    df = pd.DataFrame(
        {
            "hs": hs,
            "effective": src["effective_date_start"],
            "expires": src["effective_date_end"],
            "category": category,
        }
    )
    out = product_list(df, ["category"], "brazil_exempt")
    assert len(out) == len(src), "Brazil list: duplicate codes"
    return out


def build_fentanyl(shared: Path) -> dict[str, pd.DataFrame]:
    """fentanyl_*.csv: the Canada energy and Canada/Mexico potash carve-outs (10 % instead of 25/35 %)."""
    src = tracker(shared, "fentanyl_carveout_products.csv")
    files = {
        "energy_ca": ("fentanyl_energy_canada.csv", "", "9903.01.13"),
        "potash_ca": ("fentanyl_potash_canada.csv", POTASH_DATE, "9903.01.15"),
        "potash_mx": ("fentanyl_potash_mexico.csv", POTASH_DATE, "9903.01.05"),
    }
    assert set(src["category"]) == set(files), f"fentanyl categories {set(src['category'])}"
    out = {}
    for category, (name, effective, heading) in files.items():
        rows = src[src["category"] == category]
        assert set(rows["ch99_code"]) == {heading}, f"{category}: heading {set(rows['ch99_code'])}"
        df = pd.DataFrame({"hs": rows["hts8"], "effective": effective, "description": rows["ch99_code"]})
        out[name] = product_list(df, ["description"], name)
        assert len(out[name]) == len(rows), f"{name}: duplicate codes"
    return out


# ----------------------------------------------------------------------------------------- Section 232


NOT_AUTO_PARTS = ("8471",)
"""Tracker auto-parts prefixes left out: the whole heading 8471 (computers). Census entry data show
8471.50.0150 from Taiwan and Mexico entered duty-free throughout 2025-26 (rate provisions 10/19, about $0
of duty on $5-12 bn a month: the Budget Lab's own "Trackerover diagnostic" of 28 April 2026), so the
auto-parts duty was not collected on computers; kept, every laptop would pay 25 % from 3 May 2025."""


def build_s232(shared: Path) -> dict[str, pd.DataFrame]:
    """The Section 232 product lists: metals 2025 (with articles), auto and truck parts, semiconductors,
    and the 2026 metals annexes (copper: see check_copper)."""
    out = {"s232_steel_aluminum_2025.csv": build_metals_2025(shared)}
    for name, source, effective in (
        ("s232_auto_parts_2025.csv", "s232_auto_parts.txt", S232_AUTO_PARTS),
        ("s232_trucks_parts.csv", "s232_mhd_parts.txt", S232_TRUCK_PARTS),
    ):
        codes = tracker_codes(shared, source)
        if name == "s232_auto_parts_2025.csv":
            codes = codes[~codes.isin(NOT_AUTO_PARTS)]
        out[name] = product_list(pd.DataFrame({"hs": codes, "effective": effective}), [], name)
    semi = tracker(shared, "s232_semi_products.csv")
    out["s232_semiconductors.csv"] = product_list(
        pd.DataFrame({"hs": semi["hts10"], "effective": S232_SEMIS, "description": semi["description"]}),
        ["description"],
        "s232_semiconductors",
    )
    annex = tracker(shared, "s232_annex_products.csv")
    assert set(annex["effective_date"]) == {S232_ANNEXES}, "annex products: one effective date expected"
    assert set(annex["annex"]) == {"1a", "1b", "2", "3"}, f"annexes {set(annex['annex'])}"
    out["s232_metals_2026.csv"] = product_list(
        pd.DataFrame(
            {
                "hs": annex["hts_prefix"],
                "effective": S232_ANNEXES,
                "annex": annex["annex"],
                "metal": annex["metal_type"],
            }
        ),
        ["annex", "metal"],
        "s232_metals_2026",
    )
    for name, n in (
        ("s232_auto_parts_2025.csv", 129),
        ("s232_trucks_parts.csv", 182),
        ("s232_semiconductors.csv", 10),
        ("s232_metals_2026.csv", 799),
    ):
        assert len(out[name]) == n, f"{name}: {len(out[name])} rows, expected {n} (duplicates in the source?)"
    return out


def check_copper(shared: Path, out: Path) -> None:
    """s232_copper.csv is already bundled (scripts/build_data.py writes it from the same U.S. note 36(b)
    list, older scenarios use it): assert it holds exactly the tracker's 80 codes, dated 1 Aug 2025."""
    cu = tracker(shared, "s232_copper_products.csv")
    assert set(cu["ch99_code"]) == {"9903.78.01"}, "copper: one heading expected"
    have = read_text_csv(out / "lists" / "s232_copper.csv")
    assert sorted(have["hs"]) == sorted(cu["hts10"]), "lists/s232_copper.csv differs from the tracker's list"
    assert set(have["effective"]) == {S232_COPPER}, "lists/s232_copper.csv: effective must be 2025-08-01"


def build_metals_2025(shared: Path) -> pd.DataFrame:
    """s232_steel_aluminum_2025.csv: steel and aluminium articles and derivatives as charged in 2025.

    Articles: U.S. note 16(c)(i)/(iii) prefixes (shared section232_products.csv; the tracker itself only has
    whole chapters 72, 73, 76). Derivatives: the tracker's s232_derivative_products.csv (aluminium lists of
    2020 and March 2025 undated there, the 18 Aug 2025 inclusions for both metals) plus the steel
    derivatives of the 12 March 2025 annex, which the tracker lacks (shared section232_products.csv).
    Everything on the lists before the inclusions round is dated 12 March 2025, the first day it applied to
    all countries; every row expires on 6 April 2026, when the annexes of Proc. 11021 replaced the lists.
    """
    shared232 = read_text_csv(shared / "data" / "section232_products.csv")
    parts = []
    for program, metal, category in (
        ("steel_articles", "steel", "article"),
        ("aluminum_articles", "aluminum", "article"),
        ("steel_derivatives", "steel", "derivative"),
    ):
        rows = shared232[shared232["program"] == program]
        if category == "derivative":  # only the March list: the August round comes from the tracker
            rows = rows[rows["effective_date"] == S232_METALS_2025]
            assert len(rows) == 108, f"March 2025 steel derivatives: {len(rows)}, expected 108"
        parts.append(
            pd.DataFrame(
                {
                    "hs": rows["hts_prefix"],
                    "metal": metal,
                    "category": category,
                    "effective": S232_METALS_2025,
                    "description": rows["ch99_heading"],
                }
            )
        )
    der = tracker(shared, "s232_derivative_products.csv")
    assert set(der["derivative_type"]) == {"steel", "aluminum"}, "derivative types"
    assert set(der["effective_date"]) == {"", S232_INCLUSIONS}, (
        f"derivative dates {set(der['effective_date'])}"
    )
    assert (der.loc[der["derivative_type"] == "steel", "effective_date"] == S232_INCLUSIONS).all()
    parts.append(
        pd.DataFrame(
            {
                "hs": der["hts_prefix"],
                "metal": der["derivative_type"],
                "category": "derivative",
                "effective": der["effective_date"].replace("", S232_METALS_2025),
                "description": der["ch99_code"],
            }
        )
    )
    df = pd.concat(parts, ignore_index=True)
    df["description"] = df["description"].str.replace(r"^9903\.82\.xx.*", "U.S. note 16(c)", regex=True)
    df["description"] = df["description"].replace("", "steel derivatives annex of 12 Mar 2025")
    df["expires"] = S232_ANNEXES
    # an article and a derivative row for the same code and metal: keep the article (same date)
    df = df.sort_values(["hs", "metal", "effective", "category"]).drop_duplicates(["hs", "metal"])
    return product_list(df, ["metal", "category", "description"], "s232_steel_aluminum_2025", ["hs", "metal"])


# ----------------------------------------------------------------------------------------- shares


def build_metal_content(shared: Path) -> tuple[pd.DataFrame, int]:
    """metal_content.csv: steel, aluminium, copper, other-metal and total metal share of each HTS10.

    In primary-metal industries (BEA 3311-3315) the tracker's component shares exceed 1 while metal_share
    is capped at 1; there the components are scaled down in proportion so they sum to metal_share. Returns
    the table and the number of codes rescaled.
    """
    src = tracker(shared, "metal_content_shares_bea_hs10.csv.gz")
    assert src["hs10"].str.fullmatch(r"\d{10}").all() and src["hs10"].is_unique, "metal content: codes"
    shares = src[SHARE_COLUMNS].apply(pd.to_numeric, errors="raise").astype("float64")
    assert (shares >= 0).all().all() and (shares["metal_share"] <= 1).all(), "metal content: bad shares"
    parts = SHARE_COLUMNS[:-1]
    total = shares[parts].sum(axis=1)
    over = total > shares["metal_share"] + 1e-6
    scale = (shares["metal_share"] / total).where(over, 1.0)
    shares[parts] = shares[parts].mul(scale, axis=0)
    shares = shares.round(10)
    assert ((shares >= 0) & (shares <= 1)).all().all(), "metal content: shares outside [0, 1]"
    out = pd.concat([src[["hs10"]].rename(columns={"hs10": "hs"}), shares], axis=1)
    return out.sort_values("hs", ignore_index=True), int(over.sum())


def build_usmca(shared: Path) -> pd.DataFrame:
    """usmca_shares.parquet rows: partner, hs, month, share, value_usd (rows with no value dropped).

    The 2024 file has shares only; its value is the 2024 Census import value of the same HTS10 and partner
    (shared us_imports_2024_hts10_top_partners.csv.gz), so that month "2024" can be weighted too.
    """
    res = shared / TRACKER / "resources"
    frames = []
    monthly = sorted(res.glob("usmca_product_shares_20[0-9][0-9]_[0-9][0-9].csv.gz"))
    assert len(monthly) == 14, f"expected 14 monthly USMCA files, found {len(monthly)}"
    for path in monthly:
        src = read_text_csv(path)
        assert list(src.columns) == ["hts10", "cty_code", "usmca_share", "total_value", "usmca_value"], (
            path.name
        )
        month = "-".join(path.name.removesuffix(".csv.gz").split("_")[-2:])
        value = pd.to_numeric(src["total_value"], errors="raise").astype("float64")
        claimed = pd.to_numeric(src["usmca_value"], errors="raise").astype("float64")
        share = pd.to_numeric(src["usmca_share"], errors="raise").astype("float64")
        assert (claimed <= value).all(), f"{path.name}: claimed value above total"
        live = value > 0
        assert (abs(claimed[live] / value[live] - share[live]) < 1e-9).all(), f"{path.name}: share != ratio"
        frames.append(
            pd.DataFrame(
                {
                    "cty": src["cty_code"],
                    "hs": src["hts10"],
                    "month": month,
                    "share": share,
                    "value_usd": value,
                }
            )[live]
        )
    annual = read_text_csv(res / "usmca_product_shares_2024.csv.gz")
    census = read_text_csv(shared / "data" / "us_imports_2024_hts10_top_partners.csv.gz")
    census = census[census["cty_code"].isin(CENSUS_PARTNERS) & (census["year"] == "2024")]
    values = census.set_index(["cty_code", "hts10"])["imports_cons_usd"].astype("float64")
    key = pd.MultiIndex.from_arrays([annual["cty_code"], annual["hts10"]])
    value = pd.Series(values.reindex(key).to_numpy(), index=annual.index).fillna(0.0)
    share = pd.to_numeric(annual["usmca_share"], errors="raise").astype("float64")
    assert not ((share > 0) & (value == 0)).any(), "2024 USMCA share on a code with no 2024 imports"
    frames.append(
        pd.DataFrame(
            {
                "cty": annual["cty_code"],
                "hs": annual["hts10"],
                "month": "2024",
                "share": share,
                "value_usd": value,
            }
        )[value > 0]
    )
    df = pd.concat(frames, ignore_index=True)
    assert df["cty"].isin(CENSUS_PARTNERS).all(), "USMCA: unexpected Census codes"
    df.insert(0, "partner", df.pop("cty").map(CENSUS_PARTNERS))
    assert df["hs"].str.fullmatch(r"\d{10}").all(), "USMCA: codes must be HTS10"
    assert df["share"].between(0, 1).all() and (df["value_usd"] > 0).all(), "USMCA: bad share or value"
    df = df.sort_values(["partner", "hs", "month"], ignore_index=True)
    assert_unique(df, ["partner", "hs", "month"], "usmca_shares")
    return df


def usmca_bytes(df: pd.DataFrame) -> bytes:
    """The USMCA table as Parquet: strings dictionary-encoded, zstd, no pandas metadata."""
    schema = pa.schema(
        [
            ("partner", pa.string()),
            ("hs", pa.string()),
            ("month", pa.string()),
            ("share", pa.float64()),
            ("value_usd", pa.float64()),
        ]
    )
    arrays = [
        pa.array(df[f.name].to_numpy(dtype=object if f.type == pa.string() else "float64"), type=f.type)
        for f in schema
    ]
    buf = io.BytesIO()
    pq.write_table(
        pa.Table.from_arrays(arrays, schema=schema),
        buf,
        compression="zstd",
        use_dictionary=["partner", "hs", "month"],
    )
    return buf.getvalue()


# ----------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options: where the shared folder is and where the bundled data goes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="shared folder holding data/ and data/tbl-tracker/ (source)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output data/ folder")
    return parser.parse_args(argv)


NOT_EXEMPT_IN_LAW = ("untraced", "chapter_98_value_added")
"""Tracker rows the law does not exempt in full: codes on no version of Annex II (the tracker's own later
audit removed them) and 9802 provisions, which pay on the value added abroad. They go to
``ieepa_reciprocal_exempt_untraced.csv`` (kept for transparency, used by no bundled scenario), so the
list a scenario names holds only exemptions with a legal basis."""


def build_all(shared: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame, int]:
    """Every list (name -> frame), the metal-content table, the USMCA table, and the rescaled count."""
    a2, memo10, memo8 = april_lists(shared)
    s122 = build_s122(shared, set(a2["hts8"]), memo10, memo8)
    reciprocal = build_reciprocal(shared, a2, memo10, memo8, s122)
    doubtful = reciprocal["category"].isin(NOT_EXEMPT_IN_LAW)
    lists = {
        "ieepa_reciprocal_exempt.csv": reciprocal[~doubtful].reset_index(drop=True),
        "ieepa_reciprocal_exempt_untraced.csv": reciprocal[doubtful].reset_index(drop=True),
        "s122_exempt.csv": s122,
        **build_floor(shared),
        "brazil_exempt.csv": build_brazil(shared),
        **build_fentanyl(shared),
        **build_s232(shared),
    }
    metal, rescaled = build_metal_content(shared)
    return lists, metal, build_usmca(shared), rescaled


def main(argv: list[str] | None = None) -> None:
    """Build, check and write the rulebook tables, then print what was written."""
    args = parse_args(argv)
    shared, out = args.shared.resolve(), args.out.resolve()
    assert (shared / TRACKER).is_dir(), f"tracker files not found under {shared} (pass --shared)"
    licence = (shared / TRACKER / "LICENSE").read_bytes()
    assert (out / "tbl-tracker-LICENSE.txt").read_bytes() == licence, "data/tbl-tracker-LICENSE.txt is stale"
    lists, metal, usmca, rescaled = build_all(shared)
    check_copper(shared, out)
    parquet = usmca_bytes(usmca)
    assert parquet == usmca_bytes(build_usmca(shared)), "usmca_shares.parquet is not byte-identical"
    for name, df in lists.items():
        write_csv(df, out / "lists" / name)
    write_csv(metal, out / "metal_content.csv")
    (out / "usmca_shares.parquet").write_bytes(parquet)
    back = pq.read_table(out / "usmca_shares.parquet").to_pandas()
    pd.testing.assert_frame_equal(back, usmca, check_dtype=False)
    print("rulebook tables (from the Yale Budget Lab tracker, commit 8315fff):")
    for name, df in lists.items():
        path = out / "lists" / name
        extra = ""
        if "category" in df.columns:
            extra = ", " + ", ".join(
                f"{k} {v:,}" for k, v in df["category"].value_counts().sort_index().items()
            )
        print(f"  lists/{name}: {len(df):,} rows, {path.stat().st_size / 1e3:,.1f} kB{extra}")
    print(
        f"  metal_content.csv: {len(metal):,} rows ({rescaled:,} rescaled), "
        f"{(out / 'metal_content.csv').stat().st_size / 1e3:,.0f} kB"
    )
    size = (out / "usmca_shares.parquet").stat().st_size
    months = usmca.groupby("month").size()
    print(
        f"  usmca_shares.parquet: {len(usmca):,} rows, {len(months)} months, {size / 1e6:.2f} MB "
        f"(byte-identical across two builds)"
    )
    assert size < 8e6, "usmca_shares.parquet above 8 MB"


if __name__ == "__main__":
    main()
