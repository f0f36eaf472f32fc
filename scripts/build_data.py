"""Build the datasets bundled with tariffcalc (the files in ``data/``) from the shared reference data.

The reference data (``shared/data``, described in its README.md) holds public US Census / USITC DataWeb trade
statistics, the EO 14257 annexes, Section 232 product lists, the HS 2022 nomenclature and economic parameters,
as collected by the project's data librarian. This script turns them into the files tariffcalc ships:

* ``us_imports_2024.parquet``: 2024 imports for consumption by partner x product with Census calculated duties
  (HTS10 for the 50 largest partners and the 26 EU members other than Slovakia, whose HTS10 rows are allocated
  from the EU bloc; HS chapters for everyone else);
* ``us_exports_2024.csv``, ``us_trade_by_partner_2024.csv``: exports and the country trade table;
* ``countries.csv``, ``groups.csv``: Census country codes with ISO3 and EU membership with dates;
* ``hs_sections.csv``, ``hs_chapters.csv``, ``hs_headings.csv``, ``hs_subheadings.csv``: HS 2022 descriptions;
* ``eo14257_annex1.csv``, ``eo14257_rates_by_partner_2025-04-09.csv``, the product lists in ``data/lists/``
  (Section 232 steel and aluminum both combined and split into articles / derivatives);
* ``parameters.csv``, ``elasticities_hs2.csv``: economic parameters and import demand elasticities.

Every output is checked against invariants (totals, uniqueness, reconciliation with the source tables); a
failed check stops the build with an AssertionError. Outputs are deterministic: rebuilding gives
byte-identical files. See data/README.md for provenance, units and caveats.

Run from the repository root::

    python scripts/build_data.py                      # reads ../shared/data, writes data/
    python scripts/build_data.py --shared /path/to/shared/data --out data
"""

from __future__ import annotations

import argparse
import io
import math
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "data"

YEAR = "2024"
EU_BLOC_CODE = "0003"  # Census code of the European Union aggregate
SLOVAKIA_CODE = "4359"  # Slovakia: in the HTS10 file on its own *and* inside the EU bloc
EXPECTED_IMPORTS_USD = 3_251_151_779_682  # 2024 imports for consumption, sum of the chapter file
EXPECTED_DUTY_USD = 76_159_762_026  # 2024 Census calculated duties, sum of the chapter file
EXPECTED_EXPORTS_USD = 2_061_690_757_601  # 2024 exports, sum of the DataWeb chapter file
N_HTS10_COUNTRIES = 50
REL_TOL = 1e-6
RECIPROCAL_START = "2025-04-05"  # EO 14257: 10 % baseline from 5 April 2025 (Annex I rates from 9 April)
EU_CHECK_DATE = "2025-04-09"

# EU accessions (first day of membership) and the one withdrawal (last day of membership).
EU_ACCESSIONS: dict[str, tuple[str, ...]] = {
    "1958-01-01": ("BEL", "DEU", "FRA", "ITA", "LUX", "NLD"),
    "1973-01-01": ("DNK", "IRL", "GBR"),
    "1981-01-01": ("GRC",),
    "1986-01-01": ("ESP", "PRT"),
    "1995-01-01": ("AUT", "FIN", "SWE"),
    "2004-05-01": ("CYP", "CZE", "EST", "HUN", "LVA", "LTU", "MLT", "POL", "SVK", "SVN"),
    "2007-01-01": ("BGR", "ROU"),
    "2013-07-01": ("HRV",),
}
EU_EXITS = {"GBR": "2020-01-31"}

# The HS sections file has no row for the US-only chapters 98-99, which hs2022_chapters.csv puts in "XXI-US".
US_SECTION = (
    "XXI-US",
    "(US HTS only, not HS) Special classification provisions; temporary legislation and modifications",
)

S232_LISTS = {
    # steel and aluminium are split by program: the 2024 baseline already holds part of the articles'
    # duty, while the derivative lists of 12 March 2025 were new (see data/scenarios/april-2025.toml)
    "s232_steel_articles.csv": ("steel_articles",),
    "s232_steel_derivatives.csv": ("steel_derivatives",),
    "s232_aluminum_articles.csv": ("aluminum_articles",),
    "s232_aluminum_derivatives.csv": ("aluminum_derivatives",),
    "s232_autos.csv": ("autos",),
    "s232_auto_parts.csv": ("auto_parts",),
    "s232_copper.csv": ("copper",),
}

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ----------------------------------------------------------------------------------------------- helpers


def read_source(shared: Path, name: str) -> pd.DataFrame:
    """Read one shared CSV (gzip allowed) with every column as text and empty cells as ''."""
    path = shared / name
    assert path.is_file(), f"missing source file {path}"
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")


def to_int(series: pd.Series, what: str) -> pd.Series:
    """Convert a text column of whole numbers (optionally negative) to int64, failing on anything else."""
    bad = ~series.str.fullmatch(r"-?\d+")
    assert not bad.any(), f"{what}: non-integer values {series[bad].unique()[:5].tolist()}"
    return series.astype("int64")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a CSV the project's way: UTF-8, no index, one header row, LF line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def assert_unique(df: pd.DataFrame, keys: list[str], what: str) -> None:
    """Fail if the key columns do not identify rows uniquely."""
    dup = df.duplicated(keys, keep=False)
    assert not dup.any(), f"{what}: duplicate {keys}: {df.loc[dup, keys].head().to_dict('records')}"


def assert_close(got: float, expected: float, tol: float, what: str) -> None:
    """Fail if two totals differ by more than an absolute tolerance."""
    assert abs(got - expected) <= tol, f"{what}: got {got:,.2f}, expected {expected:,.2f}"


def usd(x: float) -> str:
    """Format a dollar amount for the report."""
    return f"${x:,.0f} (${x / 1e9:,.2f} bn)"


# ----------------------------------------------------------------------------------------------- countries


def build_countries(shared: Path) -> pd.DataFrame:
    """countries.csv: one row per Census country code with ISO3, names and EU-27 membership."""
    src = read_source(shared, "census_country_codes.csv")
    assert src["eu27"].isin(["True", "False"]).all(), "census_country_codes.eu27 must be True/False"
    out = pd.DataFrame(
        {
            "census_code": src["cty_code"],
            "iso3": src["iso3"],
            "name": src["name_short"],
            "census_short_name": src["census_short_name"],
            "census_name": src["census_name"],
            "eu27": src["eu27"].map({"True": "true", "False": "false"}),
        }
    ).sort_values("census_code", ignore_index=True)
    assert out["census_code"].str.fullmatch(r"\d{4}").all(), "census codes must be 4 digits"
    assert out["iso3"].str.fullmatch(r"[A-Z]{3}").all(), "iso3 must be 3 capital letters"
    assert (out[["name", "census_short_name", "census_name"]] != "").all().all(), "empty country name"
    assert_unique(out, ["census_code"], "countries")
    eu = read_source(shared, "eu27_members.csv")
    assert set(out.loc[out["eu27"] == "true", "iso3"]) == set(eu["iso3"]), "eu27 flags != eu27_members.csv"
    assert len(eu) == 27 and eu["iso3"].is_unique, "eu27_members.csv must list 27 distinct members"
    return out


def build_groups(shared: Path) -> pd.DataFrame:
    """groups.csv: EU membership with start and end dates (end empty while a member)."""
    rows = [
        {"group": "EU", "partner": iso3, "start": start, "end": EU_EXITS.get(iso3, "")}
        for start, members in EU_ACCESSIONS.items()
        for iso3 in members
    ]
    out = pd.DataFrame(rows).sort_values(["group", "partner", "start"], ignore_index=True)
    assert_unique(out, ["group", "partner", "start"], "groups")
    on_date = members_on(out, "EU", EU_CHECK_DATE)
    eu = set(read_source(shared, "eu27_members.csv")["iso3"])
    assert on_date == eu, f"EU members on {EU_CHECK_DATE} differ from eu27_members.csv: {on_date ^ eu}"
    assert members_on(out, "EU", "2020-01-31") == eu | {"GBR"}, "GBR must be a member on its last day"
    return out


def members_on(groups: pd.DataFrame, group: str, day: str) -> set[str]:
    """Members of a group on an ISO date (start <= day and (end empty or day <= end))."""
    date.fromisoformat(day)
    g = groups[groups["group"] == group]
    active = (g["start"] <= day) & ((g["end"] == "") | (day <= g["end"]))
    return set(g.loc[active, "partner"])


# ----------------------------------------------------------------------------------------------- imports


def load_hts10(shared: Path) -> pd.DataFrame:
    """The 2024 HTS10 file (50 countries + EU bloc) with integer value and duty columns."""
    src = read_source(shared, "us_imports_2024_hts10_top_partners.csv.gz")
    assert (src["year"] == YEAR).all(), "HTS10 file must hold 2024 only"
    assert src["hts10"].str.fullmatch(r"\d{10}").all(), "HTS10 codes must be 10 digits"
    assert src["cty_code"].str.fullmatch(r"\d{4}").all(), "cty_code must be 4 digits"
    out = pd.DataFrame(
        {
            "cty_code": src["cty_code"],
            "iso3": src["iso3"],
            "hts10": src["hts10"],
            "hs2": src["hts10"].str[:2],
            "value": to_int(src["imports_cons_usd"], "HTS10 imports"),
            "duty": to_int(src["calc_duty_usd"], "HTS10 duty"),
        }
    )
    assert_unique(out, ["cty_code", "hts10"], "HTS10 file")
    assert (out["value"] >= 0).all() and (out["duty"] >= 0).all(), "negative HTS10 values"
    assert (out.groupby("cty_code")["iso3"].nunique() == 1).all(), "one ISO3 per Census code expected"
    return out


def load_chapters(shared: Path) -> pd.DataFrame:
    """The 2024 rows of the partner x HS chapter import file, with integer value and duty columns."""
    src = read_source(shared, "us_imports_by_country_hs2.csv")
    src = src[src["year"] == YEAR]
    out = pd.DataFrame(
        {
            "cty_code": src["cty_code"],
            "iso3": src["iso3"],
            "hs2": src["hs2"],
            "value": to_int(src["imports_cons_usd"], "chapter imports"),
            "duty": to_int(src["calc_duty_usd"], "chapter duty"),
        }
    ).reset_index(drop=True)
    assert out["hs2"].str.fullmatch(r"\d{2}").all(), "chapters must be 2 digits"
    assert out["iso3"].str.fullmatch(r"[A-Z]{3}").all(), "chapter file: bad iso3"
    assert EU_BLOC_CODE not in set(out["cty_code"]), "chapter file must not hold the EU aggregate"
    assert_unique(out, ["cty_code", "hs2"], "chapter file")
    assert (out["value"] >= 0).all() and (out["duty"] >= 0).all(), "negative chapter values"
    assert out["value"].sum() == EXPECTED_IMPORTS_USD, f"chapter file imports {out['value'].sum():,}"
    assert out["duty"].sum() == EXPECTED_DUTY_USD, f"chapter file duty {out['duty'].sum():,}"
    return out


def hts10_countries(hts10: pd.DataFrame, eu_codes: set[str]) -> pd.DataFrame:
    """The individual countries' HTS10 rows (everything but the EU bloc), method census_hts10."""
    rows = hts10[hts10["cty_code"] != EU_BLOC_CODE]
    codes = set(rows["cty_code"])
    assert len(codes) == N_HTS10_COUNTRIES, f"expected {N_HTS10_COUNTRIES} countries, got {len(codes)}"
    assert codes & eu_codes == {SLOVAKIA_CODE}, f"EU members in HTS10 file: {sorted(codes & eu_codes)}"
    return pd.DataFrame(
        {
            "partner": rows["iso3"],
            "hs": rows["hts10"],
            "value_usd": rows["value"].astype("float64"),
            "calc_duty_usd": rows["duty"].astype("float64"),
            "method": "census_hts10",
        }
    )


def eu_remainder(hts10: pd.DataFrame) -> pd.DataFrame:
    """EU bloc minus Slovakia per HTS10 code: the HTS10 imports of the other 26 members together."""
    bloc = hts10.loc[hts10["cty_code"] == EU_BLOC_CODE, ["hts10", "hs2", "value", "duty"]]
    svk = hts10.loc[hts10["cty_code"] == SLOVAKIA_CODE, ["hts10", "value", "duty"]]
    assert len(bloc) and len(svk), "HTS10 file must hold the EU bloc and Slovakia"
    missing = set(svk["hts10"]) - set(bloc["hts10"])
    assert not missing, f"Slovak HTS10 codes absent from the EU bloc: {sorted(missing)[:5]}"
    rest = bloc.merge(svk, on="hts10", how="left", suffixes=("", "_svk"), validate="one_to_one")
    for col in ("value", "duty"):
        rest[col] = rest[col] - rest[f"{col}_svk"].fillna(0).astype("int64")
        neg = rest[col] < 0
        assert not neg.any(), (
            f"EU bloc minus Slovakia negative ({col}): {rest.loc[neg, 'hts10'].tolist()[:5]}"
        )
    return rest[["hts10", "hs2", "value", "duty"]].reset_index(drop=True)


def eu_member_shares(
    chapters: pd.DataFrame, rest: pd.DataFrame, members: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """Each member's share of the 26 members' chapter imports and duties; chapters needing a duty fallback.

    Returns (shares, fallback_chapters). ``shares`` has hs2, partner, share_value, share_duty. Where the
    members' chapter duties sum to 0 but the bloc rows carry duty, the duty share falls back to the value
    share, and the chapter is listed in ``fallback_chapters`` (reported by the caller).
    """
    m = chapters[chapters["cty_code"].isin(members["cty_code"])]
    iso3 = members.set_index("cty_code")["iso3"]
    assert (m["iso3"] == m["cty_code"].map(iso3)).all(), "EU member ISO3 differs between source files"
    tot = m.groupby("hs2")[["value", "duty"]].sum()
    rest_tot = rest.groupby("hs2")[["value", "duty"]].sum()
    reconcile_eu_chapters(rest_tot, tot)
    fallback = sorted(set(tot.index[tot["duty"] == 0]) & set(rest_tot.index[rest_tot["duty"] > 0]))
    m = m.merge(tot.add_suffix("_tot"), left_on="hs2", right_index=True, how="left")
    shares = pd.DataFrame(
        {
            "hs2": m["hs2"],
            "partner": m["iso3"],
            "share_value": m["value"] / m["value_tot"],
            "share_duty": m["duty"] / m["duty_tot"].where(m["duty_tot"] > 0),
        }
    )
    use_value = shares["hs2"].isin(fallback)
    shares.loc[use_value, "share_duty"] = shares.loc[use_value, "share_value"]
    shares["share_duty"] = shares["share_duty"].fillna(0.0)
    for col in ("share_value", "share_duty"):
        sums = shares.groupby("hs2")[col].sum()
        live = sums.index.isin(rest_tot.index[rest_tot[col.replace("share_", "")] > 0])
        assert (abs(sums[live] - 1) < 1e-12).all(), f"EU {col} do not sum to 1 in some chapter"
    return shares, fallback


def reconcile_eu_chapters(rest_tot: pd.DataFrame, members_tot: pd.DataFrame) -> None:
    """Assert the bloc-minus-Slovakia HTS10 rows equal the 26 members' chapter totals (value exactly).

    Duty must match too, except in chapters where the members report no duty at all (the fallback case,
    reported separately). This is what makes the allocation preserve every member's chapter totals.
    """
    j = rest_tot.merge(
        members_tot, left_index=True, right_index=True, how="outer", suffixes=("_hts10", "_members")
    ).fillna(0)
    bad_value = j.index[j["value_hts10"] != j["value_members"]]
    assert not len(bad_value), f"EU bloc - SVK != 26 members (value) in chapters {list(bad_value)}"
    bad_duty = j.index[(j["duty_hts10"] != j["duty_members"]) & (j["duty_members"] > 0)]
    assert not len(bad_duty), f"EU bloc - SVK != 26 members (duty) in chapters {list(bad_duty)}"


def allocate_eu(rest: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Split each bloc-minus-Slovakia HTS10 row across the 26 members by chapter shares (value and duty)."""
    rows = rest.merge(shares, on="hs2", how="inner", validate="many_to_many")
    out = pd.DataFrame(
        {
            "partner": rows["partner"],
            "hs": rows["hts10"],
            "value_usd": rows["value"].astype("float64") * rows["share_value"],
            "calc_duty_usd": rows["duty"].astype("float64") * rows["share_duty"],
            "method": "eu_allocated_hts10",
        }
    )
    keep = (out["value_usd"] != 0) | (out["calc_duty_usd"] != 0)
    return out[keep]


def chapter_partners(chapters: pd.DataFrame, exclude_codes: set[str]) -> pd.DataFrame:
    """Chapter rows (method census_hs2) of every partner not covered at HTS10; PSE's two codes summed."""
    rows = chapters[~chapters["cty_code"].isin(exclude_codes)]
    agg = rows.groupby(["iso3", "hs2"], as_index=False)[["value", "duty"]].sum()
    return pd.DataFrame(
        {
            "partner": agg["iso3"],
            "hs": agg["hs2"],
            "value_usd": agg["value"].astype("float64"),
            "calc_duty_usd": agg["duty"].astype("float64"),
            "method": "census_hs2",
        }
    )


def build_imports(shared: Path, members: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The default flow table (us_imports_2024.parquet) and facts for the report."""
    hts10 = load_hts10(shared)
    chapters = load_chapters(shared)
    eu_codes = set(members["cty_code"])
    members26 = members[members["cty_code"] != SLOVAKIA_CODE]
    assert len(members26) == 26, "26 EU members other than Slovakia expected"
    rest = eu_remainder(hts10)
    rest = rest[(rest["value"] != 0) | (rest["duty"] != 0)]
    shares, fallback = eu_member_shares(chapters, rest, members26)
    parts = [
        hts10_countries(hts10, eu_codes),
        allocate_eu(rest, shares),
        chapter_partners(chapters, set(hts10["cty_code"]) | eu_codes),
    ]
    flows = pd.concat(parts, ignore_index=True)
    flows.insert(2, "period", YEAR)
    flows = flows.sort_values(["partner", "hs"], ignore_index=True)
    facts = {
        "fallback_chapters": fallback,
        "eu_bloc_value": float(hts10.loc[hts10["cty_code"] == EU_BLOC_CODE, "value"].sum()),
        "eu_bloc_duty": float(hts10.loc[hts10["cty_code"] == EU_BLOC_CODE, "duty"].sum()),
    }
    check_imports(flows, chapters, fallback, members26)
    return flows, facts


def check_imports(
    flows: pd.DataFrame, chapters: pd.DataFrame, fallback: list[str], members26: pd.DataFrame
) -> None:
    """Assert the flow table's invariants: keys, signs, totals and partner x chapter reconciliation."""
    assert_unique(flows, ["partner", "hs"], "us_imports_2024")
    assert not flows.isna().any().any(), "NaN in us_imports_2024"
    assert ((flows["value_usd"] > 0) | (flows["calc_duty_usd"] > 0)).all(), "row with no value and no duty"
    assert (flows["value_usd"] >= 0).all() and (flows["calc_duty_usd"] >= 0).all(), "negative flows"
    assert flows["hs"].str.fullmatch(r"\d{2}|\d{10}").all(), "hs must be 2 or 10 digits"
    assert "EU27" not in set(flows["partner"]), "the EU bloc must not appear as a partner"
    assert (flows.groupby("partner")["method"].nunique() == 1).all(), "one method per partner expected"
    assert_close(math.fsum(flows["value_usd"]), EXPECTED_IMPORTS_USD, 1.0, "total imports")
    assert_close(math.fsum(flows["calc_duty_usd"]), EXPECTED_DUTY_USD, 1.0, "total duty")
    got = flows.assign(hs2=flows["hs"].str[:2]).groupby(["partner", "hs2"])[["value_usd", "calc_duty_usd"]]
    want = chapters.groupby(["iso3", "hs2"])[["value", "duty"]].sum().rename_axis(["partner", "hs2"])
    j = got.sum().join(want, how="outer")
    assert not j.isna().any().any(), f"partner x chapter keys differ: {j[j.isna().any(axis=1)].head()}"
    skip = j.index.get_level_values("hs2").isin(fallback) & j.index.get_level_values("partner").isin(
        members26["iso3"]
    )
    for col, ref in (("value_usd", "value"), ("calc_duty_usd", "duty")):
        rel = (j[col] - j[ref]).abs() / j[ref].abs().clip(lower=1.0)
        if col == "calc_duty_usd":
            rel = rel[~skip]
        assert (rel <= REL_TOL).all(), f"partner x chapter {col} off: {rel[rel > REL_TOL].head()}"


def imports_table(flows: pd.DataFrame) -> pa.Table:
    """The flow table as an Arrow table with a fixed schema (no pandas metadata, no index)."""
    schema = pa.schema(
        [
            ("partner", pa.string()),
            ("hs", pa.string()),
            ("period", pa.string()),
            ("value_usd", pa.float64()),
            ("calc_duty_usd", pa.float64()),
            ("method", pa.string()),
        ]
    )
    arrays = [
        pa.array(flows[f.name].to_numpy(dtype=object if f.type == pa.string() else "float64"), type=f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise the flow table: zstd; partner, method, period (and hs, 7 % smaller) dictionary-encoded."""
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=["partner", "method", "period", "hs"])
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------- other trade


def build_exports(shared: Path) -> pd.DataFrame:
    """us_exports_2024.csv: 2024 exports by partner x HS chapter (PSE's two codes summed)."""
    src = read_source(shared, "us_exports_by_country_hs2.csv")
    src = src[src["year"] == YEAR]
    assert src["iso3"].str.fullmatch(r"[A-Z]{3}").all(), "exports: bad iso3"
    assert src["hs2"].str.fullmatch(r"\d{2}").all(), "exports: bad chapter"
    assert_unique(src, ["cty_code", "hs2"], "exports source")
    src = src.assign(exports_usd=to_int(src["exports_usd"], "exports"))
    out = src.groupby(["iso3", "hs2"], as_index=False)["exports_usd"].sum()
    out = out.rename(columns={"iso3": "partner", "hs2": "hs"}).sort_values(
        ["partner", "hs"], ignore_index=True
    )
    assert (out["exports_usd"] >= 0).all(), "negative exports"
    assert out["exports_usd"].sum() == EXPECTED_EXPORTS_USD, f"exports total {out['exports_usd'].sum():,}"
    return out


def build_trade_by_partner(shared: Path, countries: pd.DataFrame) -> pd.DataFrame:
    """us_trade_by_partner_2024.csv: country rows of the Census 2024 table (general imports)."""
    src = read_source(shared, "us_trade_by_country_2024.csv")
    world = src[src["country"] == "World, Not Seasonally Adjusted"]
    src = src[src["row_type"] == "country"]
    assert src["cty_code"].isin(countries["census_code"]).all(), "trade table: unknown Census code"
    names = countries.set_index("census_code")["name"]
    src = src.assign(name=src["cty_code"].map(names))
    for col in ("exports_usd", "imports_usd", "balance_usd"):
        src[col] = to_int(src[col], f"trade table {col}")
    assert (src["balance_usd"] == src["exports_usd"] - src["imports_usd"]).all(), "balance != X - M"
    src = src.sort_values("cty_code")
    out = src.groupby("iso3", as_index=False).agg(
        name=("name", " and ".join),
        exports_usd=("exports_usd", "sum"),
        imports_usd=("imports_usd", "sum"),
        balance_usd=("balance_usd", "sum"),
    )
    out = out.rename(columns={"iso3": "partner"}).sort_values("partner", ignore_index=True)
    assert len(world) == 1, "World NSA row expected once"
    world_m = int(world["imports_usd"].iloc[0])
    assert abs(out["imports_usd"].sum() / world_m - 1) < 1e-4, "country rows far from the World total"
    return out


# ----------------------------------------------------------------------------------------------- HS


def build_hs(shared: Path) -> dict[str, pd.DataFrame]:
    """HS 2022 sections, chapters, headings and subheadings (Comtrade's 9999/999999 catch-alls dropped)."""
    sec = read_source(shared, "hs2022_sections.csv")
    ch = read_source(shared, "hs2022_chapters.csv")
    hd = read_source(shared, "hs2022_headings.csv")
    sub = read_source(shared, "hs2022_subheadings.csv")
    sections = pd.DataFrame({"section": sec["section"], "name": sec["name"].str.strip()})
    if US_SECTION[0] not in set(sections["section"]):
        sections = pd.concat([sections, pd.DataFrame([US_SECTION], columns=["section", "name"])])
    sections = sections.reset_index(drop=True)
    chapters = pd.DataFrame(
        {"hs": ch["hs2"], "section": ch["section"], "description": ch["description"].str.strip()}
    ).sort_values("hs", ignore_index=True)
    hd = hd[hd["hs4"] != "9999"]
    headings = pd.DataFrame({"hs": hd["hs4"], "description": hd["description"].str.strip()})
    headings = headings.sort_values("hs", ignore_index=True)
    sub = sub[sub["hs6"] != "999999"]
    subs = pd.DataFrame({"hs": sub["hs6"], "description": sub["description"].str.strip()})
    subs = subs.sort_values("hs", ignore_index=True)
    out = {"hs_sections.csv": sections, "hs_chapters.csv": chapters, "hs_headings.csv": headings}
    out["hs_subheadings.csv"] = subs
    check_hs(out)
    return out


def check_hs(hs: dict[str, pd.DataFrame]) -> None:
    """Assert code formats, uniqueness, non-empty descriptions and parent links of the HS tables."""
    sections, chapters = hs["hs_sections.csv"], hs["hs_chapters.csv"]
    headings, subs = hs["hs_headings.csv"], hs["hs_subheadings.csv"]
    assert_unique(sections, ["section"], "hs_sections")
    assert chapters["section"].isin(sections["section"]).all(), "chapter with unknown section"
    for df, n, name in ((chapters, 2, "chapters"), (headings, 4, "headings"), (subs, 6, "subheadings")):
        assert df["hs"].str.fullmatch(rf"\d{{{n}}}").all(), f"hs_{name}: codes must be {n} digits"
        assert_unique(df, ["hs"], f"hs_{name}")
        assert (df["description"] != "").all(), f"hs_{name}: empty description"
    assert headings["hs"].str[:2].isin(chapters["hs"]).all(), "heading without chapter"
    assert subs["hs"].str[:4].isin(headings["hs"]).all(), "subheading without heading"
    assert len(chapters) == 98 and len(headings) == 1228 and len(subs) == 5612, "HS row counts changed"


# ----------------------------------------------------------------------------------------------- tariffs


def pct_to_fraction(series: pd.Series) -> pd.Series:
    """Integer percent text ('34') to a fraction (0.34); empty stays missing."""
    num = pd.to_numeric(series.mask(series == ""), errors="raise")
    return (num / 100).round(6)


def build_annex1(shared: Path) -> pd.DataFrame:
    """eo14257_annex1.csv: the 57 Annex I entries with rates as fractions (EU as 'EU')."""
    src = read_source(shared, "eo14257_annex1_rates.csv")
    out = pd.DataFrame(
        {
            "partner": src["iso3"].replace({"EU27": "EU"}),
            "country": src["country"],
            "rate": pct_to_fraction(src["rate_pct"]),
            "hts_heading": src["hts_heading"],
            "rate_initial_whitehouse_pdf": pct_to_fraction(src["rate_initial_whitehouse_pdf_pct"]),
        }
    ).sort_values("partner", ignore_index=True)
    assert len(out) == 57, f"Annex I must have 57 entries, got {len(out)}"
    assert_unique(out, ["partner"], "Annex I")
    assert out["rate"].between(0.1, 0.5).all(), "Annex I rates outside 10-50 %"
    assert out["hts_heading"].str.fullmatch(r"9903\.01\.\d{2}").all(), "bad Annex I heading"
    rates = out.set_index("partner")["rate"]
    expected = {"EU": 0.20, "CHN": 0.34, "VNM": 0.46, "JPN": 0.24}
    assert all(rates[k] == v for k, v in expected.items()), f"Annex I spot rates: {rates[list(expected)]}"
    return out


def build_rates_by_partner(shared: Path, countries: pd.DataFrame, annex1: pd.DataFrame) -> pd.DataFrame:
    """eo14257_rates_by_partner_2025-04-09.csv: the reciprocal rate of every Census country code."""
    src = read_source(shared, "eo14257_rates_by_census_country_2025-04-09.csv")
    c = countries.set_index("census_code")
    assert src["cty_code"].isin(c.index).all(), "rates file: unknown Census code"
    assert (src["iso3"].to_numpy() == c.loc[src["cty_code"], "iso3"].to_numpy()).all(), "rates: iso3 mismatch"
    out = pd.DataFrame(
        {
            "census_code": src["cty_code"],
            "partner": src["iso3"],
            "name": c.loc[src["cty_code"], "name"].to_numpy(),
            "rate": pct_to_fraction(src["reciprocal_rate_pct"]),
            "basis": src["basis"],
            "hts_heading": src["hts_heading"],
            "note": src["note"],
        }
    ).sort_values("census_code", ignore_index=True)
    check_rates_by_partner(out, annex1)
    return out


def check_rates_by_partner(out: pd.DataFrame, annex1: pd.DataFrame) -> None:
    """Assert the by-country rates agree with Annex I and that rates are empty exactly when not subject."""
    assert_unique(out, ["census_code"], "rates by partner")
    not_subject = out["basis"].str.startswith("not_")
    assert out.loc[not_subject, "rate"].isna().all(), "a not-subject partner has a rate"
    assert out.loc[~not_subject, "rate"].notna().all(), "a subject partner has no rate"
    a1 = annex1.set_index("partner")["rate"]
    expected = out["basis"].map({"baseline_10": 0.10, "annex1_eu": a1["EU"], "annex1_china": a1["CHN"]})
    own = out["basis"] == "annex1"
    expected[own] = out.loc[own, "partner"].map(a1)
    assert not expected[~not_subject].isna().any(), f"unknown basis: {set(out['basis'])}"
    assert (out.loc[~not_subject, "rate"] == expected[~not_subject]).all(), "rates differ from Annex I"
    assert set(out.loc[own, "partner"]) | {"EU"} == set(a1.index), "Annex I partners missing by country"


# ----------------------------------------------------------------------------------------------- lists


def product_list(hs: pd.Series, effective: pd.Series, description: pd.Series) -> pd.DataFrame:
    """A product list (hs prefix, effective date, description), deduplicated keeping the earliest date."""
    df = pd.DataFrame(
        {"hs": hs.str.replace(".", "", regex=False).to_numpy(), "effective": effective.to_numpy()}
    )
    df["description"] = description.to_numpy()
    df["_order"] = df["effective"].replace("", "0000-00-00")  # empty = in force before 2025 = earliest
    df = df.sort_values(["hs", "_order", "description"]).drop_duplicates("hs", keep="first")
    df = df.drop(columns="_order").reset_index(drop=True)
    check_product_list(df)
    return df


def check_product_list(df: pd.DataFrame) -> None:
    """Assert list codes are digit prefixes of even length 2-10, unique and sorted, with ISO dates."""
    ok = df["hs"].str.fullmatch(r"(\d\d){1,5}")
    assert ok.all(), f"bad list codes: {df.loc[~ok, 'hs'].tolist()[:5]}"
    assert df["hs"].is_unique and df["hs"].is_monotonic_increasing, "list codes must be unique and sorted"
    dates = df["effective"][df["effective"] != ""]
    assert dates.str.fullmatch(ISO_DATE).all(), "effective must be an ISO date or empty"
    for d in dates.unique():
        date.fromisoformat(d)


def build_lists(shared: Path) -> dict[str, pd.DataFrame]:
    """The product lists of data/lists/: Annex II, the 11 April electronics, and the Section 232 scopes."""
    a2 = read_source(shared, "eo14257_annex2_exempt_hts8.csv")
    el = read_source(shared, "eo14257_apr11_electronics_exempt_hts10.csv")
    out = {
        "eo14257_annex2.csv": product_list(
            a2["hts8"], pd.Series(RECIPROCAL_START, index=a2.index), a2["description"]
        ),
        "eo14257_electronics_2025-04-11.csv": product_list(
            el["hts10"], pd.Series(RECIPROCAL_START, index=el.index), pd.Series("", index=el.index)
        ),
    }
    assert len(out["eo14257_annex2.csv"]) == len(a2) == 1039, "Annex II must have 1,039 distinct HTS8"
    assert out["eo14257_annex2.csv"]["hs"].str.len().eq(8).all(), "Annex II codes must be 8 digits"
    assert (out["eo14257_annex2.csv"]["description"] != "").all(), "Annex II: empty description"
    assert len(out["eo14257_electronics_2025-04-11.csv"]) == len(el) == 109, "electronics: 109 HTS10 expected"
    s232 = read_source(shared, "section232_products.csv")
    known = {p for programs in S232_LISTS.values() for p in programs}
    assert set(s232["program"]) == known, f"unexpected Section 232 programs: {set(s232['program']) ^ known}"
    assert (s232["hts_prefix"].str.len() == s232["digits"].astype(int)).all(), "digits column mismatch"
    for name, programs in S232_LISTS.items():
        rows = s232[s232["program"].isin(programs)]
        desc = rows["program"] + "; " + rows["ch99_heading"].where(rows["ch99_heading"] != "", "heading n/a")
        out[name] = product_list(rows["hts_prefix"], rows["effective_date"], desc)
    return out


# ----------------------------------------------------------------------------------------------- parameters


def build_parameters(shared: Path) -> pd.DataFrame:
    """parameters.csv: economic_parameters.csv with its content unchanged."""
    src = read_source(shared, "economic_parameters.csv")
    cols = ["name", "value", "unit", "year", "description", "source", "source_detail", "confidence"]
    assert list(src.columns) == cols, f"economic_parameters columns changed: {list(src.columns)}"
    assert_unique(src, ["name"], "parameters")
    pd.to_numeric(src["value"], errors="raise")
    return src.reset_index(drop=True)  # source order kept: rows are grouped by topic


def build_elasticities(shared: Path, chapters: pd.DataFrame) -> pd.DataFrame:
    """elasticities_hs2.csv: Hauk (2012) US import demand elasticities by chapter (correct-sign medians)."""
    src = read_source(shared, "us_import_demand_elasticity_by_hs2_hauk2012.csv")
    out = pd.DataFrame(
        {
            "hs": src["hs2"],
            "description": src["description"],
            "import_demand_elasticity": src["median_correct_sign"],
            "p25": src["p25_correct_sign"],
            "p75": src["p75_correct_sign"],
            "n_hs6": src["n_hs6"],
            "n_correct_sign": src["n_correct_sign"],
        }
    ).sort_values("hs", ignore_index=True)
    assert_unique(out, ["hs"], "elasticities")
    assert out["hs"].isin(chapters["hs"]).all(), "elasticity chapter not in HS chapters"
    num = out[["import_demand_elasticity", "p25", "p75"]].apply(pd.to_numeric, errors="raise")
    assert (num > 0).all().all(), "elasticities must be positive magnitudes"
    assert (num["p25"] <= num["import_demand_elasticity"]).all(), "p25 above median"
    assert (num["import_demand_elasticity"] <= num["p75"]).all(), "median above p75"
    n = out[["n_hs6", "n_correct_sign"]].apply(lambda s: to_int(s, "elasticity counts"))
    assert (n["n_correct_sign"] <= n["n_hs6"]).all() and (n["n_correct_sign"] > 0).all(), "bad counts"
    return out


# ----------------------------------------------------------------------------------------------- main


def check_partners_known(countries: pd.DataFrame, frames: dict[str, pd.Series]) -> None:
    """Assert every partner ISO3 in the outputs is in countries.csv ('EU' is the group in groups.csv)."""
    known = set(countries["iso3"])
    for name, partners in frames.items():
        unknown = set(partners) - known - {"EU"}
        assert not unknown, f"{name}: partners not in countries.csv: {sorted(unknown)}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options: where the shared data is and where the bundled data goes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="shared/data folder (source)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output data/ folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Build, check and write every bundled dataset, then print a short report."""
    args = parse_args(argv)
    shared, out = args.shared.resolve(), args.out.resolve()
    assert shared.is_dir(), f"shared data folder not found: {shared} (pass --shared)"
    countries = build_countries(shared)
    groups = build_groups(shared)
    members = read_source(shared, "eu27_members.csv")
    flows, facts = build_imports(shared, members)
    first = parquet_bytes(imports_table(flows))
    again = parquet_bytes(imports_table(build_imports(shared, members)[0]))
    assert first == again, "us_imports_2024.parquet is not byte-identical across two builds"
    hs = build_hs(shared)
    annex1 = build_annex1(shared)
    csvs = {
        "us_exports_2024.csv": build_exports(shared),
        "us_trade_by_partner_2024.csv": build_trade_by_partner(shared, countries),
        "countries.csv": countries,
        "groups.csv": groups,
        **hs,
        "eo14257_annex1.csv": annex1,
        "eo14257_rates_by_partner_2025-04-09.csv": build_rates_by_partner(shared, countries, annex1),
        "parameters.csv": build_parameters(shared),
        "elasticities_hs2.csv": build_elasticities(shared, hs["hs_chapters.csv"]),
    }
    lists = build_lists(shared)
    check_partners_known(
        countries,
        {
            "us_imports_2024": flows["partner"],
            "us_exports_2024": csvs["us_exports_2024.csv"]["partner"],
            "us_trade_by_partner_2024": csvs["us_trade_by_partner_2024.csv"]["partner"],
            "eo14257_annex1": annex1["partner"],
            "eo14257_rates_by_partner": csvs["eo14257_rates_by_partner_2025-04-09.csv"]["partner"],
            "groups": groups["partner"],
        },
    )
    (out / "us_imports_2024.parquet").write_bytes(first)
    check_parquet_roundtrip(out / "us_imports_2024.parquet", flows)
    for name, df in csvs.items():
        write_csv(df, out / name)
    for name, df in lists.items():
        write_csv(df, out / "lists" / name)
    report(flows, facts, csvs, lists)


def check_parquet_roundtrip(path: Path, flows: pd.DataFrame) -> None:
    """Read the written Parquet file back and assert it holds exactly the built table."""
    back = pq.read_table(path)
    assert back.schema.names == list(flows.columns), f"parquet columns {back.schema.names}"
    assert back.num_rows == len(flows), "parquet row count differs"
    pd.testing.assert_frame_equal(back.to_pandas(), flows, check_dtype=False)


def report(flows: pd.DataFrame, facts: dict, csvs: dict, lists: dict) -> None:
    """Print the totals that were checked and the row counts written."""
    by_method = flows.groupby("method")[["value_usd", "calc_duty_usd"]].sum()
    eu = flows[flows["method"] == "eu_allocated_hts10"]
    print("us_imports_2024.parquet (checked: unique keys, totals, partner x chapter within 1e-6):")
    print(f"  rows {len(flows):,}, partners {flows['partner'].nunique()}")
    print(f"  imports {usd(math.fsum(flows['value_usd']))} = expected {usd(EXPECTED_IMPORTS_USD)}")
    print(f"  duty    {usd(math.fsum(flows['calc_duty_usd']))} = expected {usd(EXPECTED_DUTY_USD)}")
    for method, row in by_method.iterrows():
        print(f"  {method:<20} imports {usd(row['value_usd'])}, duty {usd(row['calc_duty_usd'])}")
    print(f"  EU bloc HTS10 {usd(facts['eu_bloc_value'])}, duty {usd(facts['eu_bloc_duty'])}")
    print(f"  allocated to 26 members (bloc minus Slovakia) {usd(eu['value_usd'].sum())}")
    fb = facts["fallback_chapters"]
    print(f"  EU duty allocated by value shares (members report no duty): {', '.join(fb) if fb else 'none'}")
    print("  byte-identical across two builds: yes")
    exports = csvs["us_exports_2024.csv"]["exports_usd"].sum()
    print(f"us_exports_2024.csv: exports {usd(exports)} = expected {usd(EXPECTED_EXPORTS_USD)}")
    general = csvs["us_trade_by_partner_2024.csv"]["imports_usd"].sum()
    print(f"us_trade_by_partner_2024.csv: general imports {usd(general)} (country rows)")
    for name, df in {**csvs, **{f"lists/{k}": v for k, v in lists.items()}}.items():
        print(f"  {name}: {len(df):,} rows")


if __name__ == "__main__":
    main()
