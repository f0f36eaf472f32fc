"""The canonical flow reader (tariffcalc.read.flows): accepted rows, the rejects ledger, reconciliation, errors.

Every expected value below is worked out by hand from the small files the tests write.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tariffcalc.errors import FlowsError
from tariffcalc.read.flows import load_flows, read_flows

HEADER = "partner,hs,period,value_usd\n"


def write(tmp_path: Path, text: str, name: str = "flows.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def reject_for(rejects: pd.DataFrame, line: int) -> dict:
    rows = rejects[rejects["line"] == line]
    assert len(rows) == 1, f"expected exactly one reject on line {line}, got {len(rows)}"
    return rows.iloc[0].to_dict()


# ----------------------------------------------------------------------------------------- good files


def test_good_csv_is_accepted_with_codes_as_text(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "CHN,0101210010,2024,100\n"  # line 2: HTS10 with a leading zero
        + "DEU,0101,2024-03,2.5\n"  # line 3: heading with a leading zero, monthly period
        + "JPN,87,2024,0\n",  # line 4: a zero value is valid
    )
    accepted, rejects, report = read_flows(path)

    assert accepted["hs"].tolist() == ["0101210010", "0101", "87"]
    assert all(isinstance(code, str) for code in accepted["hs"])
    assert accepted["partner"].tolist() == ["CHN", "DEU", "JPN"]
    assert accepted["period"].tolist() == ["2024", "2024-03", "2024"]
    assert accepted["value_usd"].tolist() == [100.0, 2.5, 0.0]
    assert len(rejects) == 0
    # 100 + 2.5 + 0 = 102.5, all accepted
    assert report.rows == 3
    assert report.accepted_rows == 3
    assert report.rejected_rows == 0
    assert report.input_value_usd == 102.5
    assert report.accepted_value_usd == 102.5
    assert report.rejected_value_usd == 0.0


def test_parquet_is_read_like_the_same_csv(tmp_path):
    rows = {
        "partner": ["CHN", "DEU", "JPN"],
        "hs": ["0101210010", "0101", "87"],
        "period": ["2024", "2024-03", "2024"],
        "value_usd": [100.0, 2.5, 0.0],
    }
    parquet = tmp_path / "flows.parquet"
    pd.DataFrame(rows).to_parquet(parquet, index=False)
    csv = write(tmp_path, HEADER + "CHN,0101210010,2024,100\nDEU,0101,2024-03,2.5\nJPN,87,2024,0\n")

    from_parquet, parquet_rejects, parquet_report = read_flows(parquet)
    from_csv, _, _ = read_flows(csv)

    assert from_parquet["hs"].tolist() == ["0101210010", "0101", "87"]
    assert from_parquet["value_usd"].tolist() == [100.0, 2.5, 0.0]
    assert from_parquet.to_dict("records") == from_csv.to_dict("records")
    assert len(parquet_rejects) == 0
    assert parquet_report.input_value_usd == 102.5  # 100 + 2.5 + 0


def test_parquet_bad_rows_are_rejected_too(tmp_path):
    parquet = tmp_path / "flows.parquet"
    pd.DataFrame(
        {"partner": ["CHN", "DEUX", "JPN"], "hs": ["0101", "0102", "0103"], "value_usd": [10.0, 5.0, -4.0]}
    ).to_parquet(parquet, index=False)
    accepted, rejects, report = read_flows(parquet)
    assert accepted["hs"].tolist() == ["0101"]
    assert rejects["line"].tolist() == [3, 4]  # row numbers as if the table were a CSV with a header
    assert "'DEU'" in rejects["reason"].iloc[0]
    assert "negative" in rejects["reason"].iloc[1]
    # input 10 + 5 + (-4) = 11 = accepted 10 + rejected (5 − 4)
    assert report.input_value_usd == 11.0
    assert report.accepted_value_usd == 10.0
    assert report.rejected_value_usd == 1.0


def test_normalisation_of_partner_case_and_code_separators(tmp_path):
    path = write(tmp_path, "partner,hs,value_usd\n chn ,8703.23.01,7\n")
    accepted, rejects, _ = read_flows(path)
    assert len(rejects) == 0
    assert accepted["partner"].tolist() == ["CHN"]
    assert accepted["hs"].tolist() == ["87032301"]  # dots removed, text kept


def test_utf8_bom_file_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfpartner,hs,value_usd\r\nCHN,0101,5\r\nFRA,22,1.25\r\n")
    accepted, rejects, report = read_flows(path)
    # the BOM must not end up in the first column's name ("\ufeffpartner" would be a missing column)
    assert list(accepted.columns[:3]) == ["partner", "hs", "value_usd"]
    assert accepted["partner"].tolist() == ["CHN", "FRA"]
    assert accepted["hs"].tolist() == ["0101", "22"]
    assert len(rejects) == 0
    assert report.input_value_usd == 6.25  # 5 + 1.25


# ------------------------------------------------------------------------------------- rejected rows


@pytest.fixture
def mixed(tmp_path):
    """A file with one good row and one bad row of each kind, and the values a human adds up."""
    text = (
        HEADER
        + "CHN,0101210010,2024,100\n"  # 2 good
        + "DEUX,0101,2024,5\n"  # 3 unknown partner (typo of DEU)
        + "Germany,0102,2024,7\n"  # 4 a country name, not a code: accepted as DEU and reported
        + "JPN,123,2024,1\n"  # 5 odd-length HS code
        + "JPN,87A3,2024,2\n"  # 6 letter in HS code
        + "JPN,01,2024,-3\n"  # 7 negative value
        + "JPN,02,2024,abc\n"  # 8 not a number
        + "JPN,03,2024,\n"  # 9 missing value
        + "CHN,0101210010,2024,11\n"  # 10 duplicate of line 2
        + "JPN,04,24,4\n"  # 11 bad period
        + "JPN,05,2024-13,6\n"  # 12 month 13
        + "FRA,22,2024,0.5\n"  # 13 good
    )
    return write(tmp_path, text)


def test_each_bad_row_is_rejected_with_its_line_and_file(mixed):
    accepted, rejects, _ = read_flows(mixed)
    # line 10 repeats the key of line 2: both are accepted (and summed by a run); line 4 names Germany
    assert accepted["hs"].tolist() == ["0101210010", "0102", "0101210010", "22"]
    assert accepted["partner"].tolist() == ["CHN", "DEU", "CHN", "FRA"]
    assert rejects["line"].tolist() == [3, 5, 6, 7, 8, 9, 11, 12]  # header is line 1, first data row line 2
    assert set(rejects["source_file"]) == {str(mixed)}
    # the raw cells travel along unchanged
    assert reject_for(rejects, 3)["partner"] == "DEUX"
    assert reject_for(rejects, 8)["value_usd"] == "abc"
    assert reject_for(rejects, 5)["hs"] == "123"


def test_unknown_partner_reasons_suggest_the_iso3_code(mixed):
    _, rejects, report = read_flows(mixed)
    typo = reject_for(rejects, 3)["reason"]
    assert "unknown partner" in typo and "DEUX" in typo
    assert "'DEU'" in typo  # DEUX → DEU
    assert 4 not in rejects["line"].tolist()  # Germany: a name the country table knows, read as DEU
    assert (
        "1 row(s) name their partner instead of giving its ISO3 code, read with the bundled country table "
        "(e.g. line 4: partner name 'Germany' read as DEU)"
    ) in report.notes


def test_country_names_are_accepted_when_the_table_maps_them_to_one_code(tmp_path):
    """Census and DataWeb files carry names ("Vietnam", "Korea, South"): each is read as its code and the
    file's notes say how many rows were; a name the table does not know is still rejected."""
    path = write(
        tmp_path,
        HEADER
        + "Vietnam,6109100012,2024,100\n"
        + '"Korea, South",8703,2024,50\n'
        + "vietnam,0101,2024,3\n"
        + "VNM,6109100012,2024,4\n"  # the same key as line 2 once the name is read: a duplicate
        + "Atlantis,01,2024,5\n"
        + "European Union,02,2024,6\n",  # a group, not a country: an aggregate, as before
    )
    accepted, rejects, report = read_flows(path)
    assert accepted["partner"].tolist() == [
        "VNM",
        "KOR",
        "VNM",
        "VNM",
    ]  # line 5's key is summed with line 2's
    assert rejects["line"].tolist() == [6, 7]
    assert "unknown partner 'ATLANTIS'" in reject_for(rejects, 6)["reason"]
    assert "aggregate partner" in reject_for(rejects, 7)["reason"]
    assert report.notes == (
        "3 row(s) name their partner instead of giving its ISO3 code, read with the bundled country table "
        "(e.g. line 2: partner name 'Vietnam' read as VNM)",
        "1 (partner, hs, period) key(s) on more than one row (2 rows): summed",
    )
    _, rejects, _ = read_flows(path, duplicates="reject")
    assert "duplicate of line 2" in reject_for(rejects, 5)["reason"]


@pytest.mark.parametrize(("line", "code"), [(5, "123"), (6, "87A3")])
def test_malformed_hs_codes(mixed, line, code):
    _, rejects, _ = read_flows(mixed)
    reason = reject_for(rejects, line)["reason"]
    assert "HS" in reason and code in reason


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (7, "negative"),
        (8, "not a number"),
        (9, "missing"),
        (11, "period"),
        (12, "period"),
    ],
)
def test_value_and_period_reasons(mixed, line, words):
    _, rejects, _ = read_flows(mixed)
    assert words in reject_for(rejects, line)["reason"]


def test_duplicate_key_names_the_first_line_when_duplicates_are_rejected(mixed):
    _, rejects, _ = read_flows(mixed, duplicates="reject")
    reason = reject_for(rejects, 10)["reason"]
    assert "duplicate" in reason
    assert "line 2" in reason


def test_same_key_in_another_period_is_not_a_duplicate(tmp_path):
    path = write(tmp_path, HEADER + "CHN,0101,2024-01,1\nCHN,0101,2024-02,2\nCHN,0101,2024-01,4\n")
    accepted, rejects, report = read_flows(path, duplicates="reject")
    assert accepted["period"].tolist() == ["2024-01", "2024-02"]
    assert rejects["line"].tolist() == [4]
    assert "line 2" in rejects["reason"].iloc[0]
    accepted, rejects, report = read_flows(path)  # summed: one key (2024-01) on two rows
    assert accepted["value_usd"].tolist() == [1.0, 2.0, 4.0] and len(rejects) == 0
    assert (report.repeated_keys, report.repeated_rows) == (1, 2)


def test_reconciliation_adds_up_by_hand(mixed):
    _, _, report = read_flows(mixed, duplicates="reject")
    # accepted: 100 (line 2) + 7 (line 4, Germany) + 0.5 (line 13) = 107.5
    # rejected parsed values: 5 + 1 + 2 + (-3) + 0 ("abc") + 0 (missing) + 11 + 4 + 6 = 26
    assert report.rows == 12
    assert report.accepted_rows == 3
    assert report.rejected_rows == 9
    assert report.accepted_value_usd == 107.5
    assert report.rejected_value_usd == 26.0
    assert report.input_value_usd == 133.5
    assert report.input_value_usd == report.accepted_value_usd + report.rejected_value_usd


def test_reporter_column_other_than_usa_is_rejected(tmp_path):
    path = write(
        tmp_path,
        "reporter,partner,hs,value_usd\n"
        + "USA,CHN,0101,10\n"  # 2 good
        + "usa,DEU,0102,20\n"  # 3 good (case-insensitive)
        + "CAN,CHN,0103,30\n",  # 4 Canada's imports, not the USA's
    )
    accepted, rejects, report = read_flows(path)
    assert accepted["hs"].tolist() == ["0101", "0102"]
    assert rejects["line"].tolist() == [4]
    reason = rejects["reason"].iloc[0]
    assert "reporter" in reason and "CAN" in reason and "USA" in reason
    assert report.accepted_value_usd == 30.0  # 10 + 20
    assert report.rejected_value_usd == 30.0
    assert report.input_value_usd == 60.0


def test_two_files_reconcile_each_and_together(tmp_path):
    one = write(tmp_path, HEADER + "CHN,0101,2024,10\nXXX,0101,2024,1\n", "one.csv")
    two = write(tmp_path, HEADER + "CHN,0101,2024,20\nJPN,8,2024,2\n", "two.csv")
    flowset = load_flows([one, two])
    # the same key in two files is not a duplicate: the duplicate rule is per file
    assert flowset.flows["value_usd"].tolist() == [10.0, 20.0]
    assert [(r.input_value_usd, r.accepted_value_usd, r.rejected_value_usd) for r in flowset.files] == [
        (11.0, 10.0, 1.0),  # 10 + 1
        (22.0, 20.0, 2.0),  # 20 + 2
    ]
    assert flowset.input_value_usd == 33.0
    assert flowset.rejected_value_usd == 3.0
    assert flowset.rejects[["source_file", "line"]].values.tolist() == [[str(one), 3], [str(two), 3]]


def test_line_numbers_count_blank_lines(tmp_path):
    # file lines: 1 header, 2 CHN, 3 (blank), 4 DEUX
    path = write(tmp_path, "partner,hs,value_usd\nCHN,0101,5\n\nDEUX,0102,7\n")
    _, rejects, _ = read_flows(path)
    assert rejects["line"].tolist() == [4]


def test_line_numbers_count_quoted_newlines(tmp_path):
    # file lines: 1 header, 2-3 CHN row whose note spans two lines, 4 DEUX
    path = write(tmp_path, 'partner,hs,value_usd,note\nCHN,0101,5,"two\nlines"\nDEUX,0102,7,x\n')
    _, rejects, _ = read_flows(path)
    assert rejects["line"].tolist() == [4]


# ------------------------------------------------------------------------------------- whole-file errors


def test_missing_column_lists_what_was_found(tmp_path):
    path = write(tmp_path, "partner,hs,value\nCHN,0101,5\n")
    with pytest.raises(FlowsError) as info:
        read_flows(path)
    message = str(info.value)
    assert "value_usd" in message
    assert "partner, hs, value" in message  # what the file has


def test_missing_column_suggests_the_canonical_name(tmp_path):
    path = write(tmp_path, "partner,hs,value\nCHN,0101,5\n")
    with pytest.raises(FlowsError) as info:
        read_flows(path)
    message = str(info.value)
    assert "Did you mean 'value'?" not in message
    assert "'value_usd'" in message


def test_empty_file_is_an_error(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(FlowsError, match="empty"):
        read_flows(path)


def test_latin1_file_is_read_and_the_encoding_reported(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("partner,hs,value_usd,note\nFRA,22,5,Côte\n".encode("latin-1"))
    accepted, rejects, report = read_flows(path)
    assert report.encoding == "cp1252"
    assert len(rejects) == 0 and accepted["value_usd"].sum() == 5.0


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(FlowsError, match="does not exist"):
        read_flows(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------------------ bundled data


def test_bundled_flows_total():
    flowset = load_flows()
    assert len(flowset.rejects) == 0
    assert flowset.rejected_value_usd == 0.0
    assert flowset.flows["value_usd"].sum() == pytest.approx(3_251_151_779_682, abs=1.0)
    assert flowset.input_value_usd == pytest.approx(3_251_151_779_682, abs=1.0)
    assert flowset.flows["hs"].str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{8}|\d{10}").all()


def test_run_reports_partner_names_it_read_on_stderr_and_in_the_caveats(tmp_path):
    from click.testing import CliRunner

    from tariffcalc.app.cli import cli

    path = write(tmp_path, HEADER + "Vietnam,6109100012,2024,100\nCHN,0101,2024,5\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "--flows", str(path), "--out", str(out), "--no-charts", "--format", "xlsx"]
    )
    assert result.exit_code == 0, result.output
    note = "1 row(s) name their partner instead of giving its ISO3 code, read with the bundled country table"
    assert f"  note: {note}" in result.stderr
    assert f"Reading flows.csv: {note}" in (out / "summary.md").read_text(encoding="utf-8")
