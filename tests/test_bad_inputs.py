"""A corpus of small bad flow files (tests/data/bad/): each with the exact message or rejects it gets.

Files that cannot be read at all raise FlowsError with the message in ``ERRORS``; the others are read, and
``REJECTS`` lists every rejected row (line, column, kind, reason) and the accepted values. Every readable
input reconciles: input value = accepted value + rejected value. Two inputs too large to keep in the
repository (one very long line, one very long cell) are written by the tests.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from tariffcalc.app.cli import cli
from tariffcalc.errors import FlowsError
from tariffcalc.read.flows import load_flows, read_flowset

from .conftest import REPO

BAD = REPO / "tests" / "data" / "bad"
EXPECTED = (
    "canonical: partner (ISO3), hs, value_usd, optional period and reporter; USITC DataWeb: Country, HTS Number "
    "and year columns (2023, 2024 …) or a Customs Value column; US Census: CTY_CODE or CTY_NAME, I_COMMODITY, "
    "CON_VAL_MO or GEN_VAL_MO, time; UN Comtrade: reporterISO, partnerISO, cmdCode, flowCode, period, "
    "primaryValue"
)

ERRORS = {
    "empty.csv": "{path}: the file is empty; expected a header row naming the columns.",
    "duplicate_header.csv": (
        "{path}:1: the header names column 'value_usd' twice (columns 3 and 4); rename or delete one of them."
    ),
    "wrong_delimiter_spaces.csv": (
        "{path}: is not a flow file tariffcalc recognises. Found columns: partner hs period value_usd. "
        f"Expected one of: {EXPECTED}. Use --source to choose the layout and --map their_column=field to name "
        "columns. The header has a single column: is the file separated by something other than , ; tab or |?"
    ),
    "unknown_layout.csv": (
        "{path}: is not a flow file tariffcalc recognises. Found columns: a, b, c. "
        f"Expected one of: {EXPECTED}. Use --source to choose the layout and --map their_column=field to name "
        "columns."
    ),
    "excel_workbook.csv": (
        "{path}: this is a zip archive or an Excel workbook, not a CSV file; open it in a spreadsheet and save "
        "it as 'CSV UTF-8'."
    ),
    "binary.csv": "{path}: not a text file (it contains NUL bytes); flows must be CSV or Parquet.",
    "not_parquet.parquet": "{path}: not a Parquet file (it does not start with the Parquet signature PAR1).",
}

# file → (rejects as (line, column, kind, reason), accepted (partner, hs, period, value_usd), encoding, delimiter)
REJECTS = {
    "truncated_line.csv": (
        [(4, "", "bad_row", "2 field(s) where the header has 4 (a truncated line?); the row cannot be read")],
        [("CHN", "0101210010", "2024", 1000.0), ("DEU", "8703230190", "2024", 2500.0)],
        "utf-8",
        "comma",
    ),
    "extra_field.csv": (
        [
            (
                2,
                "",
                "bad_row",
                "5 field(s) where the header has 4 (an unquoted delimiter inside a cell?); the row cannot be read",
            )
        ],
        [("DEU", "8703230190", "2024", 2500.0)],
        "utf-8",
        "comma",
    ),
    "unclosed_quote.csv": (
        [
            (
                3,
                "",
                "bad_row",
                "2 field(s) where the header has 4 (an unclosed quote?); the row cannot be read",
            )
        ],
        [("CHN", "0101210010", "2024", 1000.0)],
        "utf-8",
        "comma",
    ),
    "wrong_delimiter_semicolon.csv": (
        [],
        # decimal comma and dots between thousands, as a semicolon-separated export from Excel writes them
        [("DEU", "8703230190", "2024", 1234567.5), ("FRA", "2204215050", "2024", 98.25)],
        "utf-8",
        "semicolon",
    ),
    "bom_crlf.csv": (
        [],
        [("CHN", "0101210010", "2024", 1000.0), ("DEU", "8703230190", "2024", 2500.0)],
        "utf-8 with BOM",
        "comma",
    ),
    "utf16_tab.csv": ([], [("CHN", "0101210010", "", 1000.0)], "utf-16", "tab"),
    "latin1_names.csv": (
        [],
        # Census-style names in a Latin-1 file: Curaçao, Côte d'Ivoire, Réunion
        [
            ("CUW", "0101210010", "2024", 1000.0),
            ("CIV", "1801000000", "2024", 2500.0),
            ("REU", "0803900010", "2024", 40.0),
        ],
        "cp1252",
        "comma",
    ),
    "text_in_value.csv": (
        [
            (3, "value_usd", "not_numeric", "value_usd is not a number: about 2 million"),
            (4, "value_usd", "not_numeric", "value_usd is not a number: 12O0"),
        ],
        [("CHN", "0101210010", "2024", 1000.0)],
        "utf-8",
        "comma",
    ),
    "negative_values.csv": (
        [
            (3, "value_usd", "negative", "negative value_usd"),
            (4, "value_usd", "negative", "negative value_usd"),  # "(1,200)": accounting style for -1200
        ],
        [("CHN", "0101210010", "2024", 1000.0)],
        "utf-8",
        "comma",
    ),
    "implausible_value.csv": (
        [
            (
                3,
                "value_usd",
                "too_large",
                "value_usd 1e300 is implausible: beyond $1,000,000,000,000,000 (world trade is about $25 trillion "
                "a year); a unit or typing error?",
            )
        ],
        [("CHN", "0101210010", "2024", 1000.0)],
        "utf-8",
        "comma",
    ),
    "suppressed.csv": (
        [
            (
                2,
                "value_usd",
                "suppressed",
                "suppressed value '(D)' (withheld by the source: unknown, not used)",
            ),
            (4, "value_usd", "missing", "missing value_usd"),
        ],
        [("DEU", "8703230190", "2024", 2500.0)],
        "utf-8",
        "comma",
    ),
    "header_only.csv": ([], [], "utf-8", "comma"),
    "blank_lines_and_quoted_newline.csv": (
        # line 2-3: a note spanning two lines; line 4 blank; the unknown partner is on line 5
        [(5, "partner", "unknown_partner", "unknown partner 'XXX': use an ISO3 code (did you mean 'XKX'?)")],
        [("CHN", "0101210010", "2024", 1000.0)],
        "utf-8",
        "comma",
    ),
    "lost_leading_zeros.csv": (
        [
            (
                5,
                "hs",
                "malformed_hs",
                "malformed HS code 12345 (need 2, 4, 6, 8 or 10 digits) (not repaired: 0123, with a leading zero, "
                "is not an HS heading)",
            ),
            (
                6,
                "hs",
                "malformed_hs",
                "malformed HS code 101.21 (need 2, 4, 6, 8 or 10 digits) (did it lose a leading zero in a "
                "spreadsheet? dotted codes are not repaired)",
            ),
            (
                7,
                "hs",
                "malformed_hs",
                "malformed HS code 8471.0 (need 2, 4, 6, 8 or 10 digits) (a number with decimals: store codes as text)",
            ),
        ],
        # 101210010 → 0101210010 and 20110 → 020110 repaired; 8471 is a valid heading and stays
        [
            ("CHN", "0101210010", "2024", 1000.0),
            ("DEU", "8471", "2024", 2500.0),
            ("MEX", "020110", "2024", 300.0),
        ],
        "utf-8",
        "comma",
    ),
    "duplicate_key.csv": (
        # 0101.21.00.10 is 0101210010 written with the dots of the printed schedule: the same key twice,
        # summed (both rows are accepted; `--duplicates reject` rejects the second, see below)
        [],
        [("CHN", "0101210010", "2024", 1000.0), ("CHN", "0101210010", "2024", 1000.0)],
        "utf-8",
        "comma",
    ),
    "subtotal_rows.csv": (
        [
            (
                2,
                "hs",
                "aggregate_product",
                "HS 87 is the total of finer codes in this file (e.g. line 3): counted through them, not twice",
            )
        ],
        [("DEU", "8703230190", "2024", 2500.0), ("DEU", "8708", "2024", 400.0)],
        "utf-8",
        "comma",
    ),
}


def test_the_corpus_is_complete():
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == set(ERRORS) | set(REJECTS)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_unreadable_files_give_one_exact_message(name):
    path = BAD / name
    with pytest.raises(FlowsError) as info:
        read_flowset(path)
    assert str(info.value) == ERRORS[name].format(path=path)


@pytest.mark.parametrize("name", sorted(REJECTS))
def test_bad_rows_are_rejected_with_exact_reasons(name):
    rejects, accepted, encoding, delimiter = REJECTS[name]
    flowset = read_flowset(BAD / name)
    issues = flowset.issues
    got = list(zip(issues["line"], issues["column"], issues["kind"], issues["reason"], strict=True))
    assert got == rejects
    assert flowset.rejects["line"].tolist() == [r[0] for r in rejects]
    assert flowset.rejects["reason"].tolist() == [r[3] for r in rejects]
    rows = flowset.flows[["partner", "hs", "period", "value_usd"]].itertuples(index=False, name=None)
    assert list(rows) == accepted
    report = flowset.files[0]
    assert (report.encoding, report.delimiter) == (encoding, delimiter)
    assert report.rows == len(accepted) + len(rejects)
    assert report.accepted_rows == len(accepted)
    assert report.rejected_rows == len(rejects)


@pytest.mark.parametrize("name", sorted(REJECTS))
def test_every_readable_input_reconciles(name):
    report = read_flowset(BAD / name).files[0]
    assert report.input_value_usd == pytest.approx(report.accepted_value_usd + report.rejected_value_usd)
    assert report.accepted_value_usd == pytest.approx(sum(r[3] for r in REJECTS[name][1]))


def test_a_repeated_key_is_summed_and_counted_or_rejected_on_request():
    path = BAD / "duplicate_key.csv"
    summed = read_flowset(path, aggregate=True)
    assert summed.flows["value_usd"].tolist() == [2000.0]  # 1000 + 1000
    report = summed.files[0]
    assert (report.repeated_keys, report.repeated_rows, report.rejected_rows) == (1, 2, 0)
    assert "1 (partner, hs, period) key(s) on more than one row (2 rows): summed" in report.notes
    rejected = read_flowset(path, duplicates="reject")
    issues = rejected.issues
    assert list(zip(issues["line"], issues["column"], issues["kind"], issues["reason"], strict=True)) == [
        (3, "partner+hs+period", "duplicate", "duplicate of line 2")
    ]
    assert rejected.flows["value_usd"].tolist() == [1000.0]


def test_reconciliation_by_hand_for_the_negative_values():
    report = read_flowset(BAD / "negative_values.csv").files[0]
    # input 1000 − 2500 − 1200 = −2700 = accepted 1000 + rejected (−2500 − 1200)
    assert (report.input_value_usd, report.accepted_value_usd, report.rejected_value_usd) == (
        -2700,
        1000,
        -3700,
    )


def test_repairs_are_counted_with_their_value():
    report = read_flowset(BAD / "lost_leading_zeros.csv").files[0]
    assert report.repaired_rows == 2
    assert report.repaired_value_usd == 1300.0  # 1000 (0101210010) + 300 (020110)
    assert "line 2: 101210010 → 0101210010" in report.notes[-1]


def test_one_very_long_line_is_refused(tmp_path):
    path = tmp_path / "one_line.csv"
    path.write_text("x" * 2_000_000)
    with pytest.raises(FlowsError) as info:
        read_flowset(path)
    assert str(info.value) == (
        f"{path}: line 1 is longer than 1 MiB; a CSV file starts with a short header line naming its columns. "
        "Is this the right file?"
    )


def test_a_very_long_cell_is_read_and_the_next_line_keeps_its_number(tmp_path):
    path = tmp_path / "long_cell.csv"
    path.write_text("partner,hs,value_usd,note\nCHN,0101,5," + "y" * 3_000_000 + "\nXXX,0102,7,z\n")
    flowset = read_flowset(path)
    assert flowset.flows["value_usd"].tolist() == [5.0]
    assert flowset.issues["line"].tolist() == [3]


def test_header_only_file_is_an_error_for_a_run():
    path = BAD / "header_only.csv"
    with pytest.raises(FlowsError) as info:
        load_flows([path])
    assert str(info.value) == f"No flows to compute: {path} has a header but no data rows."


def test_a_file_where_every_row_is_rejected_says_why(tmp_path):
    path = tmp_path / "all_bad.csv"
    path.write_text("partner,hs,value_usd\nXXX,0101,5\nCHN,0101,(D)\n")
    with pytest.raises(FlowsError) as info:
        load_flows([path])
    assert str(info.value) == (
        f"No flows to compute: all 2 row(s) of {path} were rejected (1 suppressed value, 1 unknown partner); "
        "`tariffcalc validate FILES` shows where."
    )


def test_strict_turns_any_reject_into_an_error():
    path = BAD / "suppressed.csv"
    with pytest.raises(FlowsError) as info:
        load_flows([path], strict=True)
    assert str(info.value) == (
        f"--strict: 2 row(s) rejected ($0.00 of $2,500.00): {path}:2:value_usd: suppressed value '(D)' (withheld "
        f"by the source: unknown, not used); {path}:4:value_usd: missing value_usd. Fix them or run without "
        "--strict (`tariffcalc validate FILES` lists every problem)."
    )


def test_run_never_overwrites_and_reports_every_bad_file(tmp_path):
    """Through the command line: exit 2 and one line for unreadable files, rejects.csv for the others."""
    runner = CliRunner()
    for name, message in ERRORS.items():
        path = tmp_path / name
        shutil.copy(BAD / name, path)
        result = runner.invoke(cli, ["run", "--flows", str(path), "--out", str(tmp_path / "out"), "--quiet"])
        assert result.exit_code == 2, name
        assert result.stderr == f"Error: {message.format(path=path)}\n"
        assert path.read_bytes() == (BAD / name).read_bytes()


def test_validate_lists_problems_with_file_line_and_column():
    path = BAD / "suppressed.csv"
    result = CliRunner().invoke(cli, ["validate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [(p["kind"], p["rows"]) for p in report["problems"]] == [("missing", 1), ("suppressed", 1)]
    assert report["problems"][1]["examples"][0]["where"] == f"{path}:2:value_usd"
    strict = CliRunner().invoke(cli, ["validate", str(path), "--strict"])
    assert strict.exit_code == 2
    assert strict.stderr == "Error: --strict: 2 row(s) rejected.\n"


def test_validate_goes_on_after_an_unreadable_file():
    empty, good = BAD / "empty.csv", BAD / "bom_crlf.csv"
    result = CliRunner().invoke(cli, ["validate", str(empty), str(good)])
    assert result.exit_code == 2
    assert f"Cannot read: {empty}: the file is empty" in result.stdout
    assert (
        f"{good}: canonical (auto-detected from columns partner, hs, value_usd); utf-8 with BOM"
        in result.stdout
    )
    assert result.stderr == "Error: 1 of 2 file(s) cannot be read.\n"


def test_validate_fails_when_every_row_is_rejected(tmp_path):
    path = tmp_path / "all_bad.csv"
    path.write_text("partner,hs,value_usd\nXXX,0101,10\nCHN,01x1,20\nDEU,8703,-5\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "Problems: 3 rows rejected" in result.stdout
    assert result.stderr == (
        "Error: every row was rejected (3 of 3): nothing in this file can be used; the problems are listed above.\n"
    )
    path.write_text("partner,hs,value_usd\nXXX,0101,10\nCHN,0101,20\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["validate", str(path)]).exit_code == 0  # one usable row is enough


def test_header_only_file_validates_with_zero_rows():
    report = json.loads(CliRunner().invoke(cli, ["validate", str(BAD / "header_only.csv"), "--json"]).stdout)
    assert report["totals"]["rows"] == 0
    assert report["problems"] == []
    assert report["errors"] == []


# ------------------------------------------------------------------------------------------ scenario files

MEASURE = """title = "t"
as_of = 2025-04-09

[[measure]]
id = "m"
authority = "a"
citation = "c"
"""


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            "rate = 0.1\nexclude_partner = ['CAN']",
            "{path}:9: unknown measure key 'exclude_partner'. Did you mean 'exclude_partners' or 'exclude_products' "
            "or 'partners'?",
        ),
        (
            "rate = 20",
            "{path}:8: rate = 20 is outside [0, 10]; rates are fractions (0.25 = 25 %). For 20 % write 0.2.",
        ),
        ("rate = '0.2'", "{path}:8: rate must be a number (a fraction: 0.25 = 25 %), not '0.2'."),
        (
            "rate = 0.1\npartners = ['Germny']",
            "{path}:9: unknown partner or group 'Germny' in 'partners': use ISO3 codes or a group (EU). "
            "Did you mean 'DEU' (Germany)?",
        ),
        (
            "rates = { EUU = 0.2 }",
            "{path}:8: unknown partner or group 'EUU' in 'rates': use ISO3 codes or a group (EU). "
            "Did you mean 'EU' or 'REU' or 'ECU'?",
        ),
        (
            "rate = 0.1\neffective = '9 April 2025'",
            "{path}:9: 'effective' must be a date written YYYY-MM-DD (e.g. 2025-04-09), not '9 April 2025'.",
        ),
        (
            "rate = 0.1\neffective = 2025-4-9",
            "{path}:9: 'effective' = 2025-4-9 is not a date: write YYYY-MM-DD with two-digit month and day "
            "(e.g. 2025-04-09).",
        ),
        (
            "rate = 0.1\nexpires = 09/04/2025",
            "{path}:9: 'expires' = 09/04/2025 is not a date: write YYYY-MM-DD with two-digit month and day "
            "(e.g. 2025-04-09).",
        ),
    ],
)
def test_scenario_mistakes_give_one_message_at_the_line(tmp_path, lines, message):
    from tariffcalc.errors import ScenarioError
    from tariffcalc.rules.scenario import load_scenario

    path = tmp_path / "mine.toml"
    path.write_text(MEASURE + lines + "\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == message.format(path=path)


def test_a_rate_above_one_is_a_warning_unless_the_measure_says_it_means_it(tmp_path):
    from tariffcalc.rules.scenario import load_scenario

    path = tmp_path / "high.toml"
    path.write_text(MEASURE + "rate = 2.5\n")
    assert load_scenario(path).warnings == (
        f"{path}:8: rate = 2.5 means 250%; if you meant 2.5% write 0.025, if you do mean it add "
        "`high_rates = true` to the measure.",
    )
    path.write_text(MEASURE + "rate = 2.5\nhigh_rates = true\n")
    assert load_scenario(path).warnings == ()


def test_rejects_keep_formulas_as_text_in_cells_and_in_the_header(tmp_path):
    from tariffcalc.report.tables import to_csv_text

    path = tmp_path / "formulas.csv"
    path.write_text('partner,hs,value_usd,=HYPERLINK("http://x")\nXXX,0101,5,=1+1\n')
    text = to_csv_text(read_flowset(path).rejects)
    assert text.splitlines()[0].endswith(',"\'=HYPERLINK(""http://x"")"')
    assert text.splitlines()[1].endswith(",'=1+1")


@pytest.mark.parametrize("parent", ["../parent.toml", "{folder}/parent.toml"])
def test_extends_cannot_leave_the_scenario_folder(tmp_path, parent):
    from tariffcalc.errors import ScenarioError
    from tariffcalc.rules.scenario import load_scenario

    (tmp_path / "parent.toml").write_text(MEASURE + "rate = 0.1\n")
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "child.toml"
    target = parent.format(folder=tmp_path)
    child.write_text(f'title = "c"\nextends = "{target}"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert str(info.value) == (
        f"{child}:2: cannot load 'extends = {target!r}': {target!r} points outside the scenario's folder; copy it "
        "next to the scenario file (paths in a scenario file cannot leave its folder)."
    )
    assert load_scenario(tmp_path / "parent.toml").name == "parent"  # on the command line any path is fine
