"""Source adapters on realistic samples (tests/data/samples/): USITC DataWeb, US Census (API and USA Trade
Online), UN Comtrade (API and legacy bulk), a spreadsheet needing --map and --units, and Parquet.

Every expected number is added up by hand from the sample files; every sample reconciles.
"""

from __future__ import annotations

import gzip
import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app.cli import cli
from tariffcalc.app.validate import validate
from tariffcalc.errors import FlowsError
from tariffcalc.read.adapters import parse_column_map
from tariffcalc.read.flows import load_flows, read_flows, read_flowset

from .conftest import REPO, flat_scenario

SAMPLES = REPO / "tests" / "data" / "samples"
SPREADSHEET_MAP = {"HS code": "hs", "Imports (USD thousands)": "value_usd", "Year": "period"}

SCENARIO = flat_scenario(0.10, "Flat 10 %")


def kinds(flowset) -> list[tuple[int, str, str]]:
    return list(zip(flowset.issues["line"], flowset.issues["column"], flowset.issues["kind"], strict=True))


def reconciles(flowset) -> None:
    for report in flowset.files:
        assert report.input_value_usd == pytest.approx(report.accepted_value_usd + report.rejected_value_usd)
        assert report.rows == report.accepted_rows + report.rejected_rows


# ----------------------------------------------------------------------------------------------- DataWeb


def test_dataweb_wide_years_turned_long_with_duties():
    flowset = read_flowset(SAMPLES / "dataweb_hts10_2023_2024.csv")
    report = flowset.files[0]
    assert report.source == "dataweb"
    assert report.how == "auto-detected from columns Country, HTS Number, year columns 2023, 2024"
    assert report.header_line == 3  # two title lines above the header
    flows = flowset.flows
    # 6 "Customs Value" rows × 2 year columns; "Calculated Duties" rows are not flows
    assert len(flows) == 12 and report.rejected_rows == 0
    assert set(flows["partner"]) == {
        "ARG",
        "BEL",
        "FRA",
        "KOR",
        "CZE",
        "DEU",
    }  # South Korea, Czechia (Czech Republic)
    assert flows["hs"].str.len().eq(10).all() and flows["hs"].iloc[0] == "0101210010"
    by_year = flows.groupby("period")["value_usd"].sum()
    # 2023: 98,500 + 3,812,004 + 1,520,330,118 + 455,012 + 2,310,877 + 16,720,000,111
    assert by_year["2023"] == 18_247_006_622
    # 2024: 106,950 + 4,005,963 + 1,498,871,002 + 398,100 + 2,118,004 + 15,903,441,230
    assert by_year["2024"] == 17_408_941_249
    assert report.input_value_usd == 35_655_947_871
    wine = flows[(flows["partner"] == "FRA") & (flows["period"] == "2024")].iloc[0]
    assert wine["calc_duty_usd"] == 18_810_831  # from the matching "Calculated Duties" row and column
    laptops = flows[flows["partner"] == "CZE"]
    assert laptops["calc_duty_usd"].isna().all()  # no duty row for it in the file
    assert "WINE, RED" in wine["description"]


def test_dataweb_cp1252_census_names_suppressed_blank_and_total_rows():
    flowset = read_flowset(SAMPLES / "dataweb_hs2_cp1252.csv")
    report = flowset.files[0]
    assert (report.source, report.encoding) == ("dataweb", "cp1252")
    assert set(flowset.flows["partner"]) == {"CUW", "CIV", "KOR", "MMR", "COD"}  # Curaçao, Côte d'Ivoire, …
    assert kinds(flowset) == [
        (5, "2024", "suppressed"),  # Burma 2024: (D)
        (6, "2023", "missing"),  # Congo (Kinshasa) 2023: blank
        (7, "Country", "aggregate_partner"),  # "Total" in each of the three year columns
        (7, "Country", "aggregate_partner"),
        (7, "Country", "aggregate_partner"),
    ]
    # accepted 1,000 + 5,447,262 + 249,741 + 339,248 + 59,018; rejected the Total row 3 × 9,000
    assert report.accepted_value_usd == 6_096_269
    assert report.rejected_value_usd == 27_000
    assert report.input_value_usd == 6_123_269
    rejects = flowset.rejects
    assert rejects.loc[0, "cell"] == "(D)" and rejects.loc[0, "Country"] == "Burma"


def test_dataweb_data_type_without_customs_value_is_an_error(tmp_path):
    path = tmp_path / "charges.csv"
    path.write_text("Data Type,HTS Number,Country,2024\nGeneral Import Charges,01,Mexico,1948857.00\n")
    with pytest.raises(FlowsError) as info:
        read_flowset(path)
    assert str(info.value) == (
        f"{path}: column 'Data Type' has 'General Import Charges'; none is a customs value (Customs Value, "
        "General Customs Value, Imports For Consumption, Consumption Customs Value). Add 'Customs Value' to the "
        "DataWeb query."
    )


# ------------------------------------------------------------------------------------------------ Census


def test_census_api_codes_aggregates_and_nested_levels():
    flowset = read_flowset(SAMPLES / "census_api_hs_2024.csv")
    report = flowset.files[0]
    assert report.source == "census"
    assert kinds(flowset) == [
        (2, "CTY_CODE", "aggregate_partner"),  # "-": total for all countries
        (3, "CTY_CODE", "aggregate_partner"),  # 0003: European Union
        (5, "I_COMMODITY", "aggregate_product"),  # Germany's chapter 87 beside its heading 8703
    ]
    assert "(e.g. line 4)" in flowset.issues["reason"].iloc[2]
    assert set(flowset.flows["partner"]) == {"DEU", "CHN", "KOR", "MMR", "COD", "MAC"}
    assert sorted(set(flowset.flows["period"])) == ["2024-01", "2024-02"]
    # 2,288,100,400 + 165,442,019 + 3,187,001,456 + 2,104,005,600 + 1,255,300 + 451,200 + 11,890
    assert report.accepted_value_usd == 7_746_267_865
    # 18,342,200,111 (total) + 4,120,088,000 (EU) + 3,501,122,000 (chapter 87)
    assert report.rejected_value_usd == 25_963_410_111
    germany = flowset.flows[(flowset.flows["partner"] == "DEU") & (flowset.flows["period"] == "2024-01")]
    assert germany["calc_duty_usd"].tolist() == [57_202_510.0]
    reconciles(flowset)


def test_usa_trade_online_commodity_with_description_and_census_names():
    flowset = read_flowset(SAMPLES / "usatradeonline_hs10_2024.csv")
    report = flowset.files[0]
    assert (report.source, report.header_line) == ("census", 3)
    assert flowset.flows["partner"].tolist() == ["KOR", "COD", "KOR", "MAC", "TUR"]  # Korea, South; Turkey
    assert flowset.flows["hs"].tolist() == [
        "0101210010",
        "6109100012",
        "8517130000",
        "8517130000",
        "8703230190",
    ]
    assert flowset.flows["description"].iloc[2] == "Smartphones"
    assert kinds(flowset) == [
        (5, "Customs Value (Cons) ($US)", "suppressed"),
        (10, "Country", "unknown_partner"),
    ]
    assert flowset.issues["reason"].iloc[1].startswith("unknown partner 'Narnia'")
    # 1,250,000 + 12,400 + 3,456,789,012 + 45,000 + 1,234,567
    assert report.accepted_value_usd == 3_459_330_979
    assert report.rejected_value_usd == 99
    reconciles(flowset)


def test_census_year_to_date_values_only_count_december(tmp_path):
    path = tmp_path / "ytd.csv"
    path.write_text(
        "CTY_CODE,I_COMMODITY,CON_VAL_YR,time\n5700,8703,100,2024-11\n5700,8703,120,2024-12\n5700,87,,2023-12\n"
    )
    flowset = read_flowset(path)
    assert flowset.flows[["partner", "hs", "period", "value_usd"]].values.tolist() == [
        ["CHN", "8703", "2024", 120.0]
    ]
    assert kinds(flowset) == [(2, "", "breakdown"), (4, "CON_VAL_YR", "missing")]


# ---------------------------------------------------------------------------------------------- Comtrade


def test_comtrade_api_imports_only_world_areas_breakdowns_and_totals_are_rejects():
    flowset = read_flowset(SAMPLES / "comtrade_usa_imports_2024.csv")
    report = flowset.files[0]
    assert report.source == "comtrade"
    assert kinds(flowset) == [
        (2, "partnerISO", "aggregate_partner"),  # World W00
        (6, "partnerISO", "aggregate_partner"),  # Areas, nes _X
        (7, "flowCode", "not_imports"),  # X: exports
        (8, "motCode", "breakdown"),  # by sea, inside Germany's total row
        (9, "cmdCode", "aggregate_product"),  # TOTAL
        (10, "reporterISO", "other_reporter"),  # Canada's imports
        (12, "primaryValue", "missing"),
    ]
    flows = flowset.flows
    assert flows["partner"].tolist() == ["CHN", "DEU", "TWN", "JPN"]  # Other Asia, nes (S19) read as Taiwan
    assert flows["hs"].tolist() == ["8703", "8703", "8703", "870323"]
    assert (flows["reporter"] == "USA").all()
    # 1,551,002,000 + 25,102,300,000 + 301,000,000 + 29,500,100,000
    assert report.accepted_value_usd == 56_454_402_000
    # 204,118,800,000 + 5,000,000 + 7,200,000,000 + 20,030,000,000 + 438,947,000,000 + 88,100,000
    assert report.rejected_value_usd == 670_388_900_000
    assert any("Taiwan" in note for note in report.notes)
    reconciles(flowset)


def test_comtrade_fob_value_through_map():
    flowset = read_flowset(SAMPLES / "comtrade_usa_imports_2024.csv", column_map={"fobvalue": "value_usd"})
    # 1,500,100,000 + 24,811,000,000 + 295,500,000 + 28,800,000,000
    assert flowset.files[0].accepted_value_usd == 55_406_600_000


def test_comtrade_legacy_bulk_gzip_tab_separated(tmp_path):
    path = tmp_path / "comtrade_legacy.txt.gz"
    path.write_bytes(gzip.compress((SAMPLES / "comtrade_legacy_201903.tsv").read_bytes()))
    flowset = read_flowset(path)
    report = flowset.files[0]
    assert (report.source, report.encoding, report.delimiter) == ("comtrade", "utf-8, gzip", "tab")
    assert flowset.flows["partner"].tolist() == ["BRA", "COL", "VNM"]
    assert set(flowset.flows["period"]) == {"2019-03"}  # 201903
    assert kinds(flowset) == [
        (2, "Partner ISO", "aggregate_partner"),  # World (WLD)
        (6, "Trade Flow Code", "not_imports"),  # 2 = export
        (7, "Partner ISO", "aggregate_partner"),  # EU-28
    ]
    assert report.accepted_value_usd == 314_091_232  # 142,200,900 + 131,778,002 + 40,112,330
    assert report.rejected_value_usd == 692_203_611  # 612,300,411 + 70,100,200 + 9,803,000


# ------------------------------------------------------------------------------------- canonical, --map


def test_spreadsheet_with_map_units_and_lost_zeros():
    flowset = read_flowset(
        SAMPLES / "spreadsheet_thousands.csv", column_map=SPREADSHEET_MAP, units="thousands"
    )
    report = flowset.files[0]
    flows = flowset.flows
    assert flows["hs"].tolist() == ["0101210010", "8471300100", "020110", "0201"]
    assert flows["value_usd"].tolist() == [1_234_500.0, 250_000.0, 12_000_000.0, 40_000.0]
    assert flows["Note"].tolist() == ["horses", "laptops", "beef carcasses", ""]  # extra columns travel along
    assert kinds(flowset) == [(5, "HS code", "malformed_hs"), (6, "HS code", "malformed_hs")]
    assert (report.repaired_rows, report.repaired_value_usd) == (2, 13_234_500.0)
    assert (report.accepted_value_usd, report.rejected_value_usd) == (13_524_500.0, 4_500.0)


def test_spreadsheet_without_map_names_the_columns_to_map():
    path = SAMPLES / "spreadsheet_thousands.csv"
    with pytest.raises(FlowsError) as info:
        read_flowset(path)
    assert str(info.value) == (
        f"{path}: missing column(s) hs, value_usd; found Partner, HS code, Year, Imports (USD thousands), Note. "
        "The canonical columns are partner (ISO3), hs, period, value_usd. Column 'HS code' may be 'hs': pass "
        "--map 'HS code=hs'. Column 'Imports (USD thousands)' may be 'value_usd': pass --map "
        "'Imports (USD thousands)=value_usd'. Its name says thousands: add --units thousands."
    )


def test_parquet_with_integer_codes_and_map(tmp_path):
    path = tmp_path / "flows.parquet"
    frame = pd.DataFrame({"iso": ["CHN", "DEU"], "code": [101210010, 8703230190], "usd": [5.0, 7.0]})
    frame.to_parquet(path, index=False)
    accepted, rejects, report = read_flows(
        path, column_map={"iso": "partner", "code": "hs", "usd": "value_usd"}
    )
    assert accepted["hs"].tolist() == ["0101210010", "8703230190"]
    assert report.repaired_rows == 1
    assert len(rejects) == 0


def test_forced_source_that_does_not_fit_lists_expected_and_found():
    path = SAMPLES / "census_api_hs_2024.csv"
    with pytest.raises(FlowsError) as info:
        read_flowset(path, source="comtrade")
    message = str(info.value)
    assert message.startswith(
        f"{path}: is not a comtrade file. Found columns: CTY_CODE, CTY_NAME, I_COMMODITY"
    )
    assert "UN Comtrade: reporterISO, partnerISO, cmdCode, flowCode, period, primaryValue" in message


def test_census_and_dataweb_share_an_adapter():
    flowset = read_flowset(SAMPLES / "usatradeonline_hs10_2024.csv", source="dataweb")
    assert flowset.files[0].how == "chosen with --source dataweb"
    assert flowset.files[0].accepted_value_usd == 3_459_330_979


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["value"], "--map 'value': write their_column=field, e.g. --map 'Customs Value=value_usd'."),
        (
            ["Amount=value"],
            "--map 'Amount=value': 'value' is not a field (partner, hs, period, value_usd, reporter). "
            "Did you mean 'value_usd'?",
        ),
        (["a=hs", "b=hs"], "--map gives the field 'hs' twice."),
    ],
)
def test_bad_map_options(items, message):
    with pytest.raises(FlowsError) as info:
        parse_column_map(items)
    assert str(info.value) == message


def test_map_of_a_missing_column(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("partner,hs,amount\nCHN,0101,5\n")
    with pytest.raises(FlowsError) as info:
        read_flowset(path, column_map={"amont": "value_usd"})
    assert str(info.value) == (
        f"{path}: --map names column 'amont', which this file does not have; found partner, hs, amount. "
        "Did you mean 'amount'?"
    )


def test_unknown_units_and_sources():
    with pytest.raises(FlowsError, match="Unknown units 'billions'"):
        read_flowset(SAMPLES / "dataweb_hts10_2023_2024.csv", units="billions")
    with pytest.raises(FlowsError, match=r"Unknown source 'datawb'.*Did you mean 'dataweb'"):
        read_flowset(SAMPLES / "dataweb_hts10_2023_2024.csv", source="datawb")


@pytest.mark.parametrize(
    "name", sorted(p.name for p in SAMPLES.iterdir() if p.name != "spreadsheet_thousands.csv")
)
def test_every_sample_reconciles(name):
    reconciles(read_flowset(SAMPLES / name))


def test_several_files_of_several_sources_load_together():
    flowset = load_flows([SAMPLES / "dataweb_hts10_2023_2024.csv", SAMPLES / "census_api_hs_2024.csv"])
    assert [f.source for f in flowset.files] == ["dataweb", "census"]
    assert flowset.input_value_usd == 35_655_947_871 + 33_709_677_976
    assert set(flowset.issues["source_file"]) == {str(SAMPLES / "census_api_hs_2024.csv")}


# -------------------------------------------------------------------------------------- command line


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "flat.toml"
    path.write_text(SCENARIO)
    return path


def test_run_reports_the_adapter_in_summary_and_on_stderr(tmp_path, scenario):
    flows = tmp_path / "dataweb.csv"
    shutil.copy(SAMPLES / "dataweb_hts10_2023_2024.csv", flows)
    out = tmp_path / "out"
    args = ["run", str(scenario), "--baseline", str(scenario), "--flows", str(flows), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--no-charts", "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"Read {flows}: dataweb (auto-detected from columns Country, HTS Number, year columns 2023, 2024); "
        "utf-8; 12 rows, 0 rejected"
    )
    summary = json.loads((out / "summary.json").read_text())
    file_report = summary["reconciliation"]["files"][0]
    assert (file_report["source"], file_report["encoding"]) == ("dataweb", "utf-8")
    assert summary["totals"]["imports_usd"] == 35_655_947_871
    quiet = CliRunner().invoke(cli, [*args, "--no-charts", "--format", "xlsx", "--quiet", "--force"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_run_with_map_units_and_strict(tmp_path, scenario):
    flows = tmp_path / "sheet.csv"
    shutil.copy(SAMPLES / "spreadsheet_thousands.csv", flows)
    base = [
        "run",
        str(scenario),
        "--baseline",
        str(scenario),
        "--flows",
        str(flows),
        "--no-charts",
        "--format",
        "xlsx",
    ]
    maps = [arg for column, field in SPREADSHEET_MAP.items() for arg in ("--map", f"{column}={field}")]
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [*base, *maps, "--units", "thousands", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["imports_usd"] == 13_524_500.0
    assert summary["reconciliation"]["rejected_by_kind"] == {
        "malformed_hs": {"rows": 2, "value_usd": 4_500.0}
    }
    assert summary["reconciliation"]["repaired_rows"] == 2
    strict = CliRunner().invoke(
        cli, [*base, *maps, "--units", "thousands", "--out", str(tmp_path / "s"), "--strict"]
    )
    assert strict.exit_code == 2
    assert strict.stderr.startswith(
        f"Error: --strict: 2 row(s) rejected ($4,500.00 of $13,529,000.00): {flows}:5:HS code"
    )
    assert not (tmp_path / "s").exists()


def test_validate_with_a_scenario_reports_fit_of_the_product_lists():
    report = validate([SAMPLES / "dataweb_hs2_cp1252.csv"], scenario="liberation-day")
    fit = report["scenario"]
    assert fit["name"] == "liberation-day"
    assert fit["product_list_levels"] == [4, 6, 8, 10]
    # chapter rows (HS2) only; chapters 18, 26 and 61 hold finer Annex II or Section 232 prefixes, 01 does not
    assert fit["value_usd"] == 6_096_269
    assert fit["value_coarser_usd"] + fit["value_at_least_as_fine_usd"] == pytest.approx(fit["value_usd"])
    assert 0 < fit["share_coarser"] <= 1
    assert report["files"][0]["value_by_level_usd"] == {"HS2": 6_096_269.0}


def test_validate_text_names_files_lines_and_columns():
    path = SAMPLES / "comtrade_usa_imports_2024.csv"
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert f"{path}: comtrade (auto-detected from columns partnerISO, cmdCode, primaryValue)" in text
    assert "11 rows: 4 accepted, 7 rejected" in text
    assert f"{path}:8:motCode: breakdown row (motCode 2100)" in text
    assert f"{path}:10:reporterISO: reporter CAN is not the scenario's importer USA" in text
