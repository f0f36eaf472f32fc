"""Checks on the datasets bundled in data/ (built by scripts/build_data.py; see data/README.md)."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

TOTAL_IMPORTS_USD = 3_251_151_779_682  # 2024 imports for consumption, Census, all partners
TOTAL_DUTY_USD = 76_159_762_026  # 2024 Census calculated duties, all partners
EU_BLOC_HTS10_IMPORTS_USD = 597_473_236_377  # source HTS10 file, cty 0003 (EU-27), sum over codes
EU_BLOC_HTS10_DUTY_USD = 7_343_410_621
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LIST_FILES = [
    "eo14257_annex2.csv",
    "eo14257_electronics_2025-04-11.csv",
    "s232_steel_articles.csv",
    "s232_steel_derivatives.csv",
    "s232_aluminum_articles.csv",
    "s232_aluminum_derivatives.csv",
    "s232_autos.csv",
    "s232_auto_parts.csv",
    "s232_copper.csv",
]


def read_csv(name: str) -> pd.DataFrame:
    """A bundled CSV (name relative to data/), every column as text, empty cells as ''."""
    with (files("tariffcalc.data") / name).open("rb") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@cache
def imports() -> pd.DataFrame:
    """The bundled default flow table."""
    with (files("tariffcalc.data") / "us_imports_2024.parquet").open("rb") as fh:
        return pd.read_parquet(fh)


def eu_members() -> set[str]:
    """EU-27 ISO3 codes according to countries.csv."""
    countries = read_csv("countries.csv")
    return set(countries.loc[countries["eu27"] == "true", "iso3"])


# ------------------------------------------------------------------------------------- imports parquet


def test_imports_schema() -> None:
    df = imports()
    assert list(df.columns) == ["partner", "hs", "period", "value_usd", "calc_duty_usd", "method"]
    assert df["value_usd"].dtype == "float64" and df["calc_duty_usd"].dtype == "float64"
    assert set(df["period"]) == {"2024"}
    assert set(df["method"]) == {"census_hts10", "eu_allocated_hts10", "census_hs2"}
    assert df["partner"].str.fullmatch(r"[A-Z]{3}").all()
    hts10 = df["method"] != "census_hs2"
    assert df.loc[hts10, "hs"].str.fullmatch(r"\d{10}").all()
    assert df.loc[~hts10, "hs"].str.fullmatch(r"\d{2}").all()


def test_imports_totals() -> None:
    df = imports()
    assert df["value_usd"].sum() == pytest.approx(TOTAL_IMPORTS_USD, abs=1.0)
    assert df["calc_duty_usd"].sum() == pytest.approx(TOTAL_DUTY_USD, abs=1.0)
    assert round(df["value_usd"].sum() / 1e9, 2) == 3251.15
    assert round(df["calc_duty_usd"].sum() / 1e9, 2) == 76.16


def test_imports_keys_unique_and_sorted() -> None:
    df = imports()
    assert not df.duplicated(["partner", "hs"]).any()
    assert df[["partner", "hs"]].equals(df[["partner", "hs"]].sort_values(["partner", "hs"]))


def test_imports_no_negative_or_empty_rows() -> None:
    df = imports()
    assert not df.isna().any().any()
    assert (df["value_usd"] >= 0).all() and (df["calc_duty_usd"] >= 0).all()
    assert ((df["value_usd"] > 0) | (df["calc_duty_usd"] > 0)).all()


def test_eu_members_individual_no_bloc() -> None:
    df = imports()
    partners = set(df["partner"])
    assert "EU27" not in partners and "EU" not in partners
    members = eu_members()
    assert len(members) == 27 and members <= partners
    methods = df[df["partner"].isin(members)].groupby("partner")["method"].unique()
    assert methods.pop("SVK").tolist() == ["census_hts10"]  # Slovakia has its own HTS10 rows
    assert all(m.tolist() == ["eu_allocated_hts10"] for m in methods)


def test_eu_members_sum_to_bloc() -> None:
    df = imports()
    eu = df[df["partner"].isin(eu_members())]
    assert eu["value_usd"].sum() == pytest.approx(EU_BLOC_HTS10_IMPORTS_USD, abs=1.0)
    assert eu["calc_duty_usd"].sum() == pytest.approx(EU_BLOC_HTS10_DUTY_USD, abs=1.0)


def test_spot_values() -> None:
    df = imports().set_index(["partner", "hs"])
    assert round(df.loc[("CHN", "8517130000"), "value_usd"] / 1e9, 2) == 40.68
    can = imports()[(imports()["partner"] == "CAN") & imports()["hs"].str.match(r"270900[12]")]
    assert round(can["value_usd"].sum() / 1e9, 1) == 96.4


def test_pse_single_partner() -> None:
    df = imports()
    assert (df["partner"] == "PSE").any()
    assert not df[df["partner"] == "PSE"].duplicated("hs").any()


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data not available next to the repository")
def test_partner_chapter_totals_match_source() -> None:
    src = pd.read_csv(SHARED / "us_imports_by_country_hs2.csv", dtype=str, keep_default_na=False)
    src = src[src["year"] == "2024"].astype({"imports_cons_usd": "int64", "calc_duty_usd": "int64"})
    want = src.groupby(["iso3", "hs2"])[["imports_cons_usd", "calc_duty_usd"]].sum()
    df = imports().assign(hs2=lambda d: d["hs"].str[:2])
    got = df.groupby(["partner", "hs2"])[["value_usd", "calc_duty_usd"]].sum()
    got.index.names = want.index.names
    assert set(got.index) == set(want.index)
    got = got.loc[want.index]
    for g, w in (("value_usd", "imports_cons_usd"), ("calc_duty_usd", "calc_duty_usd")):
        rel = (got[g] - want[w]).abs() / want[w].clip(lower=1)
        assert (rel <= 1e-6).all(), rel.sort_values().tail()


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data not available next to the repository")
def test_eu_allocation_adds_up_to_bloc_per_hts10() -> None:
    src = pd.read_csv(SHARED / "us_imports_2024_hts10_top_partners.csv.gz", dtype=str, keep_default_na=False)
    bloc = src[src["cty_code"] == "0003"].set_index("hts10")["imports_cons_usd"].astype("int64")
    df = imports()
    eu = df[df["partner"].isin(eu_members())].groupby("hs")["value_usd"].sum()
    assert set(eu.index) <= set(bloc.index)
    diff = (eu.reindex(bloc.index, fill_value=0.0) - bloc).abs()
    assert (diff <= 1e-6 * bloc.clip(lower=1)).all()


# ------------------------------------------------------------------------------------- other tables


def test_partners_in_countries() -> None:
    iso3 = set(read_csv("countries.csv")["iso3"])
    assert set(imports()["partner"]) <= iso3
    assert set(read_csv("us_exports_2024.csv")["partner"]) <= iso3
    assert set(read_csv("us_trade_by_partner_2024.csv")["partner"]) <= iso3
    assert set(read_csv("eo14257_annex1.csv")["partner"]) - {"EU"} <= iso3
    assert set(read_csv("eo14257_rates_by_partner_2025-04-09.csv")["partner"]) <= iso3


def test_countries_table() -> None:
    c = read_csv("countries.csv")
    assert c["census_code"].str.fullmatch(r"\d{4}").all() and c["census_code"].is_unique
    assert set(c["eu27"]) == {"true", "false"}
    assert c.set_index("census_code").loc["5800", "iso3"] == "KOR"
    assert c.set_index("census_code").loc["5460", "name"] == "Myanmar"


def test_trade_by_partner() -> None:
    t = read_csv("us_trade_by_partner_2024.csv")
    assert t["partner"].is_unique
    x, m, b = (t[c].astype("int64") for c in ("exports_usd", "imports_usd", "balance_usd"))
    assert (b == x - m).all()
    chn = t.set_index("partner").loc["CHN"]
    assert round(int(chn["imports_usd"]) / 1e9, 2) == 438.95


def test_exports() -> None:
    x = read_csv("us_exports_2024.csv")
    assert not x.duplicated(["partner", "hs"]).any()
    assert x["exports_usd"].astype("int64").sum() == 2_061_690_757_601


def test_groups_eu_2025() -> None:
    g = read_csv("groups.csv")
    eu = g[g["group"] == "EU"]

    def members(day: str) -> set[str]:
        on = (eu["start"] <= day) & ((eu["end"] == "") | (day <= eu["end"]))
        return set(eu.loc[on, "partner"])

    assert len(members("2025-04-09")) == 27
    assert "GBR" not in members("2025-04-09")
    assert members("2025-04-09") == eu_members()
    assert "GBR" in members("2020-01-31") and "GBR" not in members("2020-02-01")
    assert "HRV" not in members("2013-06-30") and "HRV" in members("2013-07-01")


def test_annex1() -> None:
    a = read_csv("eo14257_annex1.csv")
    assert len(a) == 57 and a["partner"].is_unique
    rate = a.set_index("partner")["rate"].astype(float)
    assert rate["EU"] == 0.20 and rate["CHN"] == 0.34 and rate["VNM"] == 0.46 and rate["JPN"] == 0.24
    assert rate.between(0.1, 0.5).all()


def test_rates_by_partner() -> None:
    r = read_csv("eo14257_rates_by_partner_2025-04-09.csv").set_index("partner")
    assert r.loc["DEU", "rate"] == "0.2" and r.loc["UKR", "rate"] == "0.1"
    assert r.loc["HKG", "rate"] == "0.34" and r.loc["CAN", "rate"] == ""
    assert r.loc["RUS", "rate"] == ""


def test_hs_tables() -> None:
    chapters = read_csv("hs_chapters.csv")
    headings = read_csv("hs_headings.csv")
    subs = read_csv("hs_subheadings.csv")
    assert chapters["section"].isin(read_csv("hs_sections.csv")["section"]).all()
    assert len(chapters) == 98 and "9999" not in set(headings["hs"])
    assert headings["hs"].str.fullmatch(r"\d{4}").all() and subs["hs"].str.fullmatch(r"\d{6}").all()
    assert subs["hs"].str[:4].isin(headings["hs"]).all()


def test_elasticities() -> None:
    e = read_csv("elasticities_hs2.csv")
    v = e[["p25", "import_demand_elasticity", "p75"]].astype(float)
    assert (v["p25"] <= v["import_demand_elasticity"]).all() and (
        v["import_demand_elasticity"] <= v["p75"]
    ).all()
    assert e["hs"].str.fullmatch(r"\d{2}").all() and len(e) == 95


def test_parameters() -> None:
    p = read_csv("parameters.csv")
    assert list(p.columns) == [
        "name",
        "value",
        "unit",
        "year",
        "description",
        "source",
        "source_detail",
        "confidence",
    ]
    assert p["name"].is_unique and len(p) == 66
    assert float(p.set_index("name").loc["pce_total_2024", "value"]) == 19_896_010_000_000


# ------------------------------------------------------------------------------------- product lists


def test_annex2_list() -> None:
    a2 = read_csv("lists/eo14257_annex2.csv")
    assert len(a2) == 1039 and a2["hs"].is_unique
    assert a2["hs"].str.fullmatch(r"\d{8}").all()
    assert (a2["description"] != "").all()


def test_electronics_list() -> None:
    el = read_csv("lists/eo14257_electronics_2025-04-11.csv")
    assert len(el) == 109 and el["hs"].is_unique
    assert el["hs"].str.fullmatch(r"\d{10}").all()
    assert set(el["effective"]) == {"2025-04-05"}
    assert "8517130000" in set(el["hs"])


@pytest.mark.parametrize("name", LIST_FILES)
def test_list_codes(name: str) -> None:
    df = read_csv(f"lists/{name}")
    assert list(df.columns) == ["hs", "effective", "description"]
    assert len(df) > 0
    assert df["hs"].map(lambda s: s.isdigit() and len(s) % 2 == 0 and 2 <= len(s) <= 10).all()
    assert df["hs"].is_unique and df["hs"].is_monotonic_increasing
    dates = df.loc[df["effective"] != "", "effective"]
    assert dates.map(lambda s: re.fullmatch(r"20\d\d-\d\d-\d\d", s) is not None).all()


def test_s232_article_and_derivative_lists_do_not_overlap() -> None:
    for metal in ("steel", "aluminum"):
        parts = [read_csv(f"lists/s232_{metal}_{kind}.csv") for kind in ("articles", "derivatives")]
        assert all(len(p) > 0 for p in parts)
        assert not set(parts[0]["hs"]) & set(parts[1]["hs"])


def test_s232_dates() -> None:
    steel = read_csv("lists/s232_steel_articles.csv").set_index("hs")
    assert steel.loc["7208", "effective"] == ""  # steel article since 2018
    assert read_csv("lists/s232_autos.csv")["effective"].eq("2025-04-03").all()
    assert read_csv("lists/s232_copper.csv")["effective"].eq("2025-08-01").all()
