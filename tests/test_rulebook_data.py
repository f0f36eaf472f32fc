"""Checks on the rulebook tables derived from the Yale Budget Lab tracker (scripts/build_rulebook_data.py;
see data/README.md, "Rulebook tables").

The schema checks always run on the installed files. When the shared source folder exists next to the
repository (``../shared``), the tables are also compared with the tracker's files, recomputed here with plain
pandas (nothing is imported from the build script).
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import pandas as pd
import pyarrow.parquet as pq
import pytest

from .conftest import REPO

SHARED = REPO.parent / "shared"
RESOURCES = SHARED / "data" / "tbl-tracker" / "resources"
needs_shared = pytest.mark.skipif(
    not RESOURCES.is_dir(), reason="shared/ not available next to the repository"
)

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
# list file -> (columns after hs, effective, expires; key columns)
LISTS: dict[str, tuple[list[str], list[str]]] = {
    "ieepa_reciprocal_exempt.csv": (["category"], ["hs"]),
    "ieepa_reciprocal_exempt_untraced.csv": (["category"], ["hs"]),
    "s122_exempt.csv": (["category"], ["hs"]),
    "floor_exempt_eu.csv": (["category", "description"], ["hs"]),
    "floor_exempt_japan.csv": (["category", "description"], ["hs"]),
    "floor_exempt_korea.csv": (["category", "description"], ["hs"]),
    "floor_exempt_swiss.csv": (["category", "description"], ["hs"]),
    "brazil_exempt.csv": (["category"], ["hs"]),
    "fentanyl_energy_canada.csv": (["description"], ["hs"]),
    "fentanyl_potash_canada.csv": (["description"], ["hs"]),
    "fentanyl_potash_mexico.csv": (["description"], ["hs"]),
    "s232_steel_aluminum_2025.csv": (["metal", "category", "description"], ["hs", "metal"]),
    "s232_auto_parts_2025.csv": ([], ["hs"]),
    "s232_trucks_parts.csv": ([], ["hs"]),
    "s232_semiconductors.csv": (["description"], ["hs"]),
    "s232_metals_2026.csv": (["annex", "metal"], ["hs"]),
}
SHARE_COLUMNS = ["steel_share", "aluminum_share", "copper_share", "other_metal_share", "metal_share"]


@cache
def bundled(name: str) -> pd.DataFrame:
    """A bundled CSV (name relative to data/), every column as text, empty cells as ''."""
    with (files("tariffcalc.data") / name).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def lst(name: str) -> pd.DataFrame:
    return bundled(f"lists/{name}")


@cache
def usmca() -> pd.DataFrame:
    with (files("tariffcalc.data") / "usmca_shares.parquet").open("rb") as fh:
        return pd.read_parquet(fh)


@cache
def source(name: str, **kwargs) -> pd.DataFrame:
    """A tracker resource file, every column as text."""
    return pd.read_csv(RESOURCES / name, dtype=str, keep_default_na=False, **kwargs)


def by_code(df: pd.DataFrame, column: str) -> dict[str, str]:
    return dict(zip(df["hs"], df[column], strict=True))


# ------------------------------------------------------------------------------------------ always


@pytest.mark.parametrize(
    "name", [f"lists/{n}" for n in LISTS] + ["metal_content.csv", "usmca_shares.parquet"]
)
def test_importlib_resources_finds_each_file(name: str) -> None:
    assert (files("tariffcalc.data") / name).is_file()


@pytest.mark.parametrize("name", list(LISTS))
def test_list_schema(name: str) -> None:
    extra, key = LISTS[name]
    df = lst(name)
    assert list(df.columns) == ["hs", "effective", "expires", *extra]
    assert len(df) > 0
    assert df["hs"].str.fullmatch(r"(\d\d){1,5}").all(), "codes: text of 2-10 digits, even length"
    assert not df.duplicated(key).any()
    assert df[key].equals(df[key].sort_values(key, ignore_index=True))
    for col in ("effective", "expires"):
        dates = df.loc[df[col] != "", col]
        assert dates.map(lambda s: ISO.fullmatch(s) is not None).all()
        pd.to_datetime(dates, format="%Y-%m-%d")  # real dates
    both = (df["effective"] != "") & (df["expires"] != "")
    assert (df.loc[both, "effective"] < df.loc[both, "expires"]).all()


def _reciprocal_all() -> pd.DataFrame:
    """The reciprocal list and the rows set apart as without legal basis, together (the tracker's list)."""
    return pd.concat([lst("ieepa_reciprocal_exempt.csv"), lst("ieepa_reciprocal_exempt_untraced.csv")])


def test_rows_without_a_legal_basis_are_set_apart() -> None:
    assert set(lst("ieepa_reciprocal_exempt_untraced.csv")["category"]) == {
        "untraced",
        "chapter_98_value_added",
    }
    assert (
        not lst("ieepa_reciprocal_exempt.csv")["category"].isin(["untraced", "chapter_98_value_added"]).any()
    )


def test_reciprocal_dates_follow_the_category() -> None:
    df = _reciprocal_all()
    assert set(df["category"]) == {
        "eo14257_annex_ii",
        "electronics_memo",
        "eo14346_addition",
        "ag_order_2025_11",
        "chapter_98",
        "chapter_98_value_added",
        "untraced",
    }
    dated = {"eo14346_addition": "2025-09-08", "ag_order_2025_11": "2025-11-13"}
    for category, rows in df.groupby("category"):
        assert set(rows["effective"]) == {dated.get(category, "")}, category
    ended = df[df["expires"] != ""]
    assert set(ended["category"]) == {"eo14257_annex_ii"}
    assert set(ended["expires"]) == {"2025-08-01", "2025-09-08", "2025-10-14"}
    assert ended["hs"].str[:2].where(ended["expires"] != "2025-09-08").dropna().isin(["44", "74"]).all()
    assert (df["hs"].str.len() == 8).sum() == 195 and (df["hs"].str.len() == 10).sum() == 4296
    codes = by_code(df, "expires")
    assert codes["2818300000"] == "2025-09-08" and codes["44011100"] == "2025-10-14"
    assert codes["74061000"] == "2025-08-01" and codes["4403420000"] == ""
    eff = by_code(df, "effective")
    assert eff["0901110000"] == "2025-11-13" and eff["7108110000"] == "2025-09-08"
    assert eff["8505110070"] == "2025-09-08" and eff["8471300100"] == ""


def test_s122_subdivisions() -> None:
    df = lst("s122_exempt.csv")
    assert df["category"].value_counts().to_dict() == {
        "unconditional": 1098,
        "civil_aircraft": 546,
        "particular": 11,
        "unlisted": 1,
    }
    cat = by_code(df, "category")
    assert cat["88061000"] == "civil_aircraft" and cat["74130090"] == "civil_aircraft"
    assert cat["27090010"] == "unconditional" and cat["81089060"] == "unconditional"
    assert cat["33012951"] == "particular" and cat["90314970"] == "unlisted"
    assert set(df["effective"]) == {""} and set(df["expires"]) == {""}


@pytest.mark.parametrize(
    ("group", "effective", "n"),
    [
        ("eu", "2025-09-01", 1580),
        ("japan", "2025-09-16", 8),
        ("korea", "2025-11-14", 554),
        ("swiss", "2025-11-14", 1681),
    ],
)
def test_floor_lists(group: str, effective: str, n: int) -> None:
    df = lst(f"floor_exempt_{group}.csv")
    assert len(df) == n and set(df["effective"]) == {effective}
    assert df["hs"].str.len().eq(8).all()
    assert set(df["category"]) <= {"civil_aircraft", "pharma", "ptaap", "particular"}
    assert df["description"].str.fullmatch(r"9903\.(02|96)\.\d\d").all()


def test_country_and_fentanyl_lists() -> None:
    br = lst("brazil_exempt.csv")
    assert len(br) == 947 and not br["hs"].str.startswith("9903").any()
    assert br.groupby("category")["effective"].agg(set).to_dict() == {
        "eo14323_annex_i": {"2025-08-06"},
        "addition_2025_11": {"2025-11-13"},
    }
    assert set(lst("fentanyl_energy_canada.csv")["effective"]) == {""}
    for name in ("fentanyl_potash_canada.csv", "fentanyl_potash_mexico.csv"):
        assert set(lst(name)["effective"]) == {"2025-03-07"} and len(lst(name)) == 7
    assert len(lst("fentanyl_energy_canada.csv")) == 294


def test_s232_lists() -> None:
    m = lst("s232_steel_aluminum_2025.csv")
    assert set(m["metal"]) == {"steel", "aluminum"} and set(m["category"]) == {"article", "derivative"}
    assert set(m["effective"]) == {"2025-03-12", "2025-08-18"} and set(m["expires"]) == {"2026-04-06"}
    assert set(m.loc[m["category"] == "article", "effective"]) == {"2025-03-12"}
    assert m.groupby(["metal", "category"]).size().to_dict() == {
        ("aluminum", "article"): 9,
        ("aluminum", "derivative"): 209,
        ("steel", "article"): 39,
        ("steel", "derivative"): 465,
    }
    a = lst("s232_metals_2026.csv")
    assert set(a["annex"]) == {"1a", "1b", "2", "3"} and set(a["metal"]) == {"steel", "aluminum", "copper"}
    assert set(a["effective"]) == {"2026-04-06"} and len(a) == 799
    for name, effective, n in (
        ("s232_auto_parts_2025.csv", "2025-05-03", 129),
        ("s232_trucks_parts.csv", "2025-11-01", 182),
        ("s232_semiconductors.csv", "2026-01-15", 10),
    ):
        df = lst(name)
        assert set(df["effective"]) == {effective} and len(df) == n, name


def test_new_s232_lists_keep_the_old_ones() -> None:
    """The 2025 lists repeat the older per-program files' codes (same sources), dated for 2025."""
    m = lst("s232_steel_aluminum_2025.csv")
    for metal in ("steel", "aluminum"):
        old = set(lst(f"s232_{metal}_articles.csv")["hs"]) | set(lst(f"s232_{metal}_derivatives.csv")["hs"])
        assert set(m.loc[m["metal"] == metal, "hs"]) == old
    # the whole heading 8471 (computers) is left out of the 2025 list: build_rulebook_data.NOT_AUTO_PARTS
    assert set(lst("s232_auto_parts_2025.csv")["hs"]) == set(lst("s232_auto_parts.csv")["hs"]) - {"8471"}


def test_metal_content_schema() -> None:
    df = bundled("metal_content.csv")
    assert list(df.columns) == ["hs", *SHARE_COLUMNS]
    assert df["hs"].str.fullmatch(r"\d{10}").all() and df["hs"].is_unique
    shares = df[SHARE_COLUMNS].astype(float)
    assert shares.notna().all().all() and ((shares >= 0) & (shares <= 1)).all().all()
    assert (shares[SHARE_COLUMNS[:-1]].sum(axis=1) <= shares["metal_share"] + 1e-9).all()


def test_usmca_parquet_schema() -> None:
    df = usmca()
    assert list(df.columns) == ["partner", "hs", "month", "share", "value_usd"]
    assert df["share"].dtype == "float64" and df["value_usd"].dtype == "float64"
    for col in ("partner", "hs", "month"):
        assert pd.api.types.is_string_dtype(df[col]), col
    assert set(df["partner"]) == {"CAN", "MEX"}
    assert df["hs"].str.fullmatch(r"\d{10}").all()
    months = sorted(set(df["month"]))
    assert months[0] == "2024" and months[1] == "2025-01" and months[-1] == "2026-02" and len(months) == 15
    assert df["share"].between(0, 1).all() and (df["value_usd"] > 0).all()
    assert not df.duplicated(["partner", "hs", "month"]).any()
    path = files("tariffcalc.data") / "usmca_shares.parquet"
    with path.open("rb") as fh:
        meta = pq.ParquetFile(fh).metadata
    assert meta.metadata is None or b"pandas" not in meta.metadata
    chunk = meta.row_group(0)
    encodings = {chunk.column(i).path_in_schema: chunk.column(i).encodings for i in range(chunk.num_columns)}
    for col in ("partner", "hs", "month"):
        assert any("DICTIONARY" in e for e in encodings[col]), col
    assert chunk.column(0).compression == "ZSTD"
    with path.open("rb") as fh:
        assert len(fh.read()) < 8_000_000


# ------------------------------------------------------------------------------------------ against sources


@needs_shared
def test_reciprocal_against_tracker() -> None:
    src = source("ieepa_exempt_products.csv")["hts10"]
    df = _reciprocal_all()
    assert len(src) == 4297
    assert set(df.loc[df["hs"].str.len() == 10, "hs"]) == set(src) - {"850511007000"}
    annex = pd.read_csv(SHARED / "data" / "eo14257_annex2_exempt_hts8.csv", dtype=str)["hts8"]
    dropped = set(annex) - set(src.str[:8])
    assert set(df.loc[df["hs"].str.len() == 8, "hs"]) == dropped
    assert {c[:2] for c in dropped} == {"44", "74"}
    on_april = df["hs"].str[:8].isin(set(annex))
    assert (df.loc[on_april, "category"] == "eo14257_annex_ii").all()


@needs_shared
def test_s122_against_tracker() -> None:
    src = source("s122_exempt_products.csv")["hts8"]
    assert set(lst("s122_exempt.csv")["hs"]) == set(src) and len(src) == 1656


@needs_shared
def test_floor_against_tracker() -> None:
    src = source("floor_exempt_products.csv")
    for group, rows in src.groupby("country_group"):
        df = lst(f"floor_exempt_{group}.csv")
        assert by_code(df, "category") == dict(zip(rows["hts8"], rows["category"], strict=True))
        assert by_code(df, "description") == dict(zip(rows["hts8"], rows["ch99_code"], strict=True))


@needs_shared
def test_brazil_and_fentanyl_against_tracker() -> None:
    src = source("country_eo_exempt_products.csv", comment="#")
    src = src.assign(hs=src["hts10"].str.replace(".", "", regex=False))
    src = src[~src["hs"].str.startswith("9903")]
    assert by_code(lst("brazil_exempt.csv"), "effective") == dict(
        zip(src["hs"], src["effective_date_start"], strict=True)
    )
    fent = source("fentanyl_carveout_products.csv")
    for category, name in (
        ("energy_ca", "fentanyl_energy_canada.csv"),
        ("potash_ca", "fentanyl_potash_canada.csv"),
        ("potash_mx", "fentanyl_potash_mexico.csv"),
    ):
        assert set(lst(name)["hs"]) == set(fent.loc[fent["category"] == category, "hts8"])


@needs_shared
def test_s232_against_tracker() -> None:
    der = source("s232_derivative_products.csv")
    m = lst("s232_steel_aluminum_2025.csv")
    pairs = set(zip(m["hs"], m["metal"], strict=True))
    assert set(zip(der["hts_prefix"], der["derivative_type"], strict=True)) <= pairs
    aug = der[der["effective_date"] == "2025-08-18"]
    earlier = set(
        zip(
            der.loc[der["effective_date"] == "", "hts_prefix"],
            der.loc[der["effective_date"] == "", "derivative_type"],
            strict=True,
        )
    )
    dates = dict(zip(zip(m["hs"], m["metal"], strict=True), m["effective"], strict=True))
    for code, metal in zip(aug["hts_prefix"], aug["derivative_type"], strict=True):
        assert dates[code, metal] == ("2025-03-12" if (code, metal) in earlier else "2025-08-18")
    assert set(lst("s232_auto_parts_2025.csv")["hs"]) | {"8471"} == set(
        (RESOURCES / "s232_auto_parts.txt").read_text().split()
    )
    assert set(lst("s232_trucks_parts.csv")["hs"]) == set(
        (RESOURCES / "s232_mhd_parts.txt").read_text().split()
    )
    semi = source("s232_semi_products.csv")
    assert by_code(lst("s232_semiconductors.csv"), "description") == dict(
        zip(semi["hts10"], semi["description"], strict=True)
    )
    annex = source("s232_annex_products.csv")
    got = lst("s232_metals_2026.csv")
    assert set(zip(got["hs"], got["annex"], got["metal"], strict=True)) == set(
        zip(annex["hts_prefix"], annex["annex"], annex["metal_type"], strict=True)
    )
    copper = lst("s232_copper.csv")  # kept from build_data.py, checked against the tracker's list
    assert set(copper["hs"]) == set(source("s232_copper_products.csv")["hts10"])


@needs_shared
def test_metal_content_against_tracker() -> None:
    src = pd.read_csv(RESOURCES / "metal_content_shares_bea_hs10.csv.gz", dtype={"hs10": str})
    got = bundled("metal_content.csv").set_index("hs")[SHARE_COLUMNS].astype(float)
    src = src.set_index("hs10")[SHARE_COLUMNS]
    assert len(got) == len(src) == 20780 and set(got.index) == set(src.index)
    got = got.loc[src.index]
    assert (abs(got["metal_share"] - src["metal_share"]) < 1e-9).all()
    parts = SHARE_COLUMNS[:-1]
    as_is = src[parts].sum(axis=1) <= src["metal_share"] + 1e-6
    assert (abs(got.loc[as_is, parts] - src.loc[as_is, parts]) < 1e-9).all().all()
    scaled = ~as_is
    assert scaled.sum() == 1211
    assert (abs(got.loc[scaled, parts].sum(axis=1) - src.loc[scaled, "metal_share"]) < 1e-8).all()
    ratio = got.loc[scaled, "steel_share"] / src.loc[scaled, "steel_share"].where(
        src.loc[scaled, "steel_share"] > 0
    )
    factor = src.loc[scaled, "metal_share"] / src.loc[scaled, parts].sum(axis=1)
    assert (abs(ratio - factor).dropna() < 1e-6).all()


@needs_shared
def test_usmca_against_tracker() -> None:
    df = usmca()
    month = pd.read_csv(
        RESOURCES / "usmca_product_shares_2025_07.csv.gz", dtype={"hts10": str, "cty_code": str}
    )
    month = month[month["total_value"] > 0]
    got = df[df["month"] == "2025-07"]
    assert len(got) == len(month)
    assert got["value_usd"].sum() == pytest.approx(month["total_value"].sum())
    key = month.assign(partner=month["cty_code"].map({"1220": "CAN", "2010": "MEX"}))
    merged = got.merge(key, left_on=["partner", "hs"], right_on=["partner", "hts10"], validate="one_to_one")
    assert len(merged) == len(got) and (abs(merged["share"] - merged["usmca_share"]) < 1e-12).all()
    annual = pd.read_csv(
        RESOURCES / "usmca_product_shares_2024.csv.gz", dtype={"hts10": str, "cty_code": str}
    )
    census = pd.read_csv(
        SHARED / "data" / "us_imports_2024_hts10_top_partners.csv.gz",
        dtype={"cty_code": str, "hts10": str},
        usecols=["cty_code", "hts10", "imports_cons_usd"],
    )
    census = census[census["cty_code"].isin(["1220", "2010"])]
    joined = annual.merge(census, on=["cty_code", "hts10"], how="inner")
    joined = joined[joined["imports_cons_usd"] > 0]
    got = df[df["month"] == "2024"]
    assert len(got) == len(joined)
    assert got["value_usd"].sum() == pytest.approx(joined["imports_cons_usd"].sum())
    assert dict(got.groupby("partner")["share"].size()) == {
        "CAN": (joined["cty_code"] == "1220").sum(),
        "MEX": (joined["cty_code"] == "2010").sum(),
    }
