"""Output files: spreadsheet-safe CSV (report.tables), safe writing (report.files), and ``api.run`` end to end."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tariffcalc.app import api
from tariffcalc.errors import OutputError
from tariffcalc.report import summary, tables
from tariffcalc.util import files

from .conftest import ZERO_BASELINE

BOM = b"\xef\xbb\xbf"


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# ------------------------------------------------------------------------------------------ CSV cells


def test_formula_like_text_gets_an_apostrophe_and_numbers_do_not():
    frame = pd.DataFrame(
        {
            "label": ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "plain", "a=b"],
            "loss_usd": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    rows = rows_of(tables.to_csv_text(frame))
    assert rows[0] == ["label", "loss_usd"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "plain", "a=b"]
    # a negative amount is a number, not a formula: no apostrophe, two decimals
    assert rows[1][1] == "-5.00"
    assert [r[1] for r in rows[2:]] == ["1.00", "2.00", "3.00", "4.00", "5.00", "6.00"]


def test_a_plain_signed_number_in_a_text_column_is_left_readable():
    """rejects.csv shows a rejected "-50" as -50: a spreadsheet reads it as that number, which runs
    nothing; anything more than a signed number still gets the apostrophe."""
    cells = ["-50", "+1.5", "-1,234.56", "-2.5e3", "-12%", "-2+3", "-1 2", "+A1", "-", "--5", "-5)", "=5"]
    frame = pd.DataFrame({"raw_value": cells})
    rows = rows_of(tables.to_csv_text(frame))
    assert [r[0] for r in rows[1:]] == [
        "-50",
        "+1.5",
        "-1,234.56",
        "-2.5e3",
        "-12%",
        "'-2+3",
        "'-1 2",
        "'+A1",
        "'-",
        "'--5",
        "'-5)",
        "'=5",
    ]


def test_tables_with_hs_codes_get_a_product_label_that_keeps_the_zeros():
    frame = pd.DataFrame(
        {
            "hs": ["0304", "03", "9999", ""],
            "description": [
                "Fish fillets and other fish meat (whether or not minced), fresh, chilled or frozen",
                "",
                "",
                "All other (3 HS chapters)",
            ],
            "imports_usd": [1.0, 2.0, 3.0, 4.0],
        }
    )
    rows = rows_of(tables.to_csv_text(frame))
    assert rows[0] == ["hs", "product", "description", "imports_usd"]
    assert [r[0] for r in rows[1:]] == ["0304", "03", "9999", ""]  # the machine-readable codes as they are
    assert [r[1] for r in rows[1:]] == [
        "0304 Fish fillets and other fish meat (whether or not minced)…",
        "03 (no HS 2022 description)",  # always a letter: a spreadsheet keeps it as text
        "9999 (no HS 2022 description)",
        "All other (3 HS chapters)",
    ]
    assert rows_of(tables.to_csv_text(frame, labels=False))[0] == ["hs", "description", "imports_usd"]
    bare = rows_of(tables.to_csv_text(frame[["hs"]].head(2)))  # no description column: the bundled texts
    assert bare == [
        ["hs", "product"],
        ["0304", "0304 Fish fillets and other fish meat (whether or not minced)…"],
        ["03", "03 Fish and crustaceans, molluscs and other aquatic…"],
    ]
    assert "product" not in rows_of(tables.to_csv_text(frame[["description"]]))[0]


def test_floats_are_plain_decimals_never_exponents():
    frame = pd.DataFrame(
        {
            "imports_usd": [1e12, 123456789012.25, 0.125, -0.001],
            "added_rate": [1e-7, 0.25, 1 / 3, 2.0],
        }
    )
    text = tables.to_csv_text(frame)
    assert "e" not in text.replace("imports_usd", "").replace("added_rate", "").lower()
    rows = rows_of(text)
    # amounts to the cent (values exact in binary, so no rounding doubt):
    assert rows[1][0] == "1000000000000.00"  # 1e12
    assert rows[2][0] == "123456789012.25"  # never 1.2345678901225e+11
    assert rows[3][0] == "0.12"  # 0.125 → round half to even → 0.12
    assert rows[4][0] == "0.00"  # -0.001 to the cent is zero, written without a minus sign
    # rates: up to 10 decimals, trailing zeros dropped
    assert [r[1] for r in rows[1:]] == ["0.0000001", "0.25", "0.3333333333", "2"]


def test_nan_and_none_are_empty_cells_and_bools_are_words():
    frame = pd.DataFrame(
        {
            "name": ["x", None],
            "value_usd": [np.nan, 1.5],
            "rate": [0.5, np.nan],
            "flag": [True, False],
        }
    )
    rows = rows_of(tables.to_csv_text(frame))
    assert rows == [
        ["name", "value_usd", "rate", "flag"],
        ["x", "", "0.5", "true"],
        ["", "1.50", "", "false"],
    ]


def test_one_header_row_and_no_index_column():
    frame = pd.DataFrame({"partner": ["CHN", "DEU"], "duty_usd": [1.0, 2.0]}, index=[17, 42])
    text = tables.to_csv_text(frame)
    assert text == "partner,duty_usd\r\nCHN,1.00\r\nDEU,2.00\r\n"  # RFC 4180 line ends


def test_text_with_a_carriage_return_survives_a_round_trip():
    frame = pd.DataFrame({"reason": ["bad\rcell", "ok"], "value_usd": [1.0, 2.0]})
    rows = rows_of(tables.to_csv_text(frame))
    assert rows == [["reason", "value_usd"], ["bad\rcell", "1.00"], ["ok", "2.00"]]


def test_write_csv_bom_by_default_and_not_when_asked(tmp_path):
    frame = pd.DataFrame({"name": ["Côte d'Ivoire"], "value_usd": [1.0]})
    tables.write_csv(frame, tmp_path / "with.csv")
    tables.write_csv(frame, tmp_path / "without.csv", bom=False)
    expected = "name,value_usd\r\nCôte d'Ivoire,1.00\r\n".encode()
    assert (tmp_path / "with.csv").read_bytes() == BOM + expected
    assert (tmp_path / "without.csv").read_bytes() == expected


# ------------------------------------------------------------------------------------------ safe writing


def test_write_bytes_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "data.csv"
    files.write_bytes(target, b"one")
    files.write_bytes(target, b"two")  # over an existing file
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_write_bytes_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "data.csv"
    target.write_bytes(b"old contents")

    def broken_replace(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        files.write_bytes(target, b"new contents")
    monkeypatch.undo()
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_write_bytes_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "c.txt"
    files.write_bytes(target, b"x")
    assert target.read_bytes() == b"x"


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        files.write_bytes(tmp_path / "report.csv", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "report.csv").stat().st_mode) == 0o644  # 0o666 & ~0o022


def test_output_dir_refuses_a_folder_holding_an_input(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    flows = out / "flows.csv"
    flows.write_text("partner,hs,value_usd\n")
    (out / files.MANIFEST).write_text("{}")  # even a tariffcalc folder: the input would be at risk
    with pytest.raises(OutputError, match="input"):
        files.prepare_output_dir(out, [flows])
    with pytest.raises(OutputError, match="input"):
        files.prepare_output_dir(out, [flows], force=True)
    assert flows.read_text() == "partner,hs,value_usd\n"


def test_output_dir_refuses_a_foreign_non_empty_folder_unless_forced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(OutputError, match="force"):
        files.prepare_output_dir(out, [])
    assert files.prepare_output_dir(out, [], force=True) == out.resolve()
    assert (out / "thesis.docx").read_bytes() == b"precious"


def test_output_dir_accepts_new_empty_and_tariffcalc_folders(tmp_path):
    new = tmp_path / "new" / "deeper"
    assert files.prepare_output_dir(new, []) == new.resolve()
    assert new.is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert files.prepare_output_dir(empty, []) == empty.resolve()
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "by_partner.csv").write_text("old")
    (ours / files.MANIFEST).write_text("{}")
    assert files.prepare_output_dir(ours, []) == ours.resolve()


def test_output_dir_refuses_a_file(tmp_path):
    target = tmp_path / "out"
    target.write_text("x")
    with pytest.raises(OutputError):
        files.prepare_output_dir(target, [])


# ------------------------------------------------------------------------------------------ end to end

SCENARIO = """
name = "small"
title = "Small hand-checked scenario"
as_of = 2025-04-09

[[measure]]
id = "flat"
authority = "test authority"
citation = "=HYPERLINK(\\"http://example.com\\")"
rate = 0.10
rates = { CHN = 0.34, EU = 0.20 }
exclude_products = ["0101"]
"""


FLOWS = (
    "partner,hs,period,value_usd\n"
    "CHN,0101210010,2024,1000\n"  # line 2: chapter 0101 excluded → 0
    "CHN,8471300100,2024,2000\n"  # line 3: CHN 34 % → 680
    "DEU,8471300100,2024,500\n"  # line 4: EU 20 % → 100
    "JPN,0201,2024,250.5\n"  # line 5: default 10 % → 25.05
    "XXX,0201,2024,40\n"  # line 6: unknown partner → rejected
)


def _write_inputs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "small.toml").write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    (folder / "zero.toml").write_text(textwrap.dedent(ZERO_BASELINE), encoding="utf-8")
    (folder / "flows.csv").write_text(FLOWS, encoding="utf-8")
    return folder


def _run_small(inputs: Path, out: Path):
    result, figures, _ = api.run(
        scenario=inputs / "small.toml",
        flows=[inputs / "flows.csv"],
        baseline=inputs / "zero.toml",
        out=out,
    )
    return out, result, figures


@pytest.fixture
def inputs(tmp_path):
    return _write_inputs(tmp_path / "in")


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory):
    """The inputs of :func:`run_small`, shared by the tests of this module that only read its outputs."""
    return _write_inputs(tmp_path_factory.mktemp("small") / "in")


@pytest.fixture(scope="module")
def run_small(small_inputs, tmp_path_factory):
    """One run of the small scenario, made once for the module (a run writes the PDF report and every
    chart, about ten seconds); the tests read its files and never write into its folder."""
    return _run_small(small_inputs, tmp_path_factory.mktemp("small_out") / "out")


def read(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_run_writes_every_file_of_the_contract(run_small):
    out, _, _ = run_small
    expected = {
        "by_partner.csv",
        "by_product.csv",
        "by_partner_product.csv",
        "by_measure.csv",
        "by_authority.csv",
        "by_group.csv",
        "rejects.csv",
        "summary.json",
        "summary.md",
        "manifest.json",
    }
    names = {p.name for p in out.iterdir()}
    assert expected <= names
    assert not [n for n in names if n.endswith(".tmp")]
    for name in expected:
        if name.endswith(".csv"):
            assert (out / name).read_bytes().startswith(BOM), name


def test_by_partner_hand_computed(run_small):
    out, _, _ = run_small
    table = read(out, "by_partner.csv")
    assert table.columns[:9].tolist() == [
        "partner",
        "partner_name",
        "imports_usd",
        "baseline_duty_usd",
        "scenario_duty_usd",
        "added_duty_usd",
        "baseline_rate",
        "scenario_rate",
        "added_rate",
    ]
    # CHN: 1000 × 0 + 2000 × 0.34 = 680 on 3000 → 0.2266666667; DEU: 500 × 0.20 = 100; JPN: 250.5 × 0.10 = 25.05
    # largest added duty first
    got = table[["partner", "imports_usd", "scenario_duty_usd", "added_duty_usd", "scenario_rate"]]
    assert got.values.tolist() == [
        ["CHN", "3000.00", "680.00", "680.00", "0.2266666667"],
        ["DEU", "500.00", "100.00", "100.00", "0.2"],
        ["JPN", "250.50", "25.05", "25.05", "0.1"],
    ]
    assert table["partner_name"].tolist() == ["China", "Germany", "Japan"]
    assert set(table["baseline_duty_usd"]) == {"0.00"}


def test_by_product_hand_computed(run_small):
    out, _, _ = run_small
    table = read(out, "by_product.csv")
    # chapter 84: 2000 + 500 = 2500, duty 680 + 100 = 780, rate 780 / 2500 = 0.312
    # chapter 02: 250.5, duty 25.05; chapter 01: 1000, duty 0 (excluded) — largest added first
    got = table[["hs", "imports_usd", "scenario_duty_usd", "scenario_rate"]]
    assert got.values.tolist() == [
        ["84", "2500.00", "780.00", "0.312"],
        ["02", "250.50", "25.05", "0.1"],
        ["01", "1000.00", "0.00", "0"],
    ]
    assert table["description"].iloc[0] != ""


def test_by_partner_product_hand_computed(run_small):
    out, _, _ = run_small
    table = read(out, "by_partner_product.csv")
    assert table.columns[:5].tolist() == ["partner", "partner_name", "hs", "product", "description"]
    assert table["partner_name"].tolist() == ["China", "China", "Germany", "Japan"]
    assert table["description"].iloc[0] == "Animals; live"
    assert table["product"].tolist()[:2] == [
        "01 Animals; live",
        "84 Machinery and mechanical appliances, boilers, nuclear…",
    ]
    got = table[["partner", "hs", "imports_usd", "scenario_duty_usd"]]
    assert got.values.tolist() == [
        ["CHN", "01", "1000.00", "0.00"],
        ["CHN", "84", "2000.00", "680.00"],
        ["DEU", "84", "500.00", "100.00"],
        ["JPN", "02", "250.50", "25.05"],
    ]


def test_by_group_sums_the_eu_as_one_partner(run_small):
    out, _, figures = run_small
    table = read(out, "by_group.csv")
    assert table.columns[:5].tolist() == [
        "group",
        "group_name",
        "members",
        "members_with_imports",
        "member_list",
    ]
    [eu] = table.to_dict("records")
    # DEU is the only member with imports: 500 × 20 % (the EU rate of the scenario) = 100
    assert (eu["group"], eu["group_name"], eu["members"], eu["members_with_imports"]) == (
        "EU",
        "European Union",
        "27",
        "1",
    )
    assert (eu["member_list"], eu["imports_usd"], eu["added_duty_usd"], eu["scenario_rate"]) == (
        "DEU",
        "500.00",
        "100.00",
        "0.2",
    )
    assert figures["groups"][0]["added_duty_usd"] == pytest.approx(100.0)
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert "## Partner groups as one partner" in text
    assert "European Union (EU, 27 members) $100, 12% of the added duty (rate 0.0% → 20.0%)" in text
    terminal = summary.to_terminal(figures)
    assert "Groups as one partner" in terminal and "European Union (27)" in terminal


def test_a_small_input_prints_its_figures_in_dollars_not_billions(run_small):
    out, _, figures = run_small
    terminal = summary.to_terminal(figures)
    assert "Imports         $3,750" in terminal and "Added duty      $805" in terminal
    assert "Rejected        1 rows, $40" in terminal
    for text in (terminal, (out / "summary.md").read_text(encoding="utf-8")):
        assert " bn" not in text and "$0.0" not in text
    assert summary._money(2.5e9) == "$2.5 bn" and summary._money(-12.3e6) == "-$12.3 m"


def test_by_measure_hand_computed_and_neutralised(run_small):
    out, _, _ = run_small
    table = read(out, "by_measure.csv").set_index("measure")
    assert table.loc["flat", "citation"] == '\'=HYPERLINK("http://example.com")'
    # covered: 2000 + 500 + 250.5 = 2750.5; duty 680 + 100 + 25.05 = 805.05
    assert table.loc["flat", "covered_imports_usd"] == "2750.50"
    assert table.loc["flat", "scenario_duty_usd"] == "805.05"
    assert table.loc["flat", "in_scenario"] == "true"
    assert table.loc["nothing", "baseline_duty_usd"] == "0.00"


def test_by_authority_sums_the_measures_by_legal_basis(run_small):
    out, _, _ = run_small
    table = read(out, "by_authority.csv").set_index("authority")
    # both test measures have no basis: "other"; the same 805.05 USD as the measure table
    assert table.loc["other", "scenario_duty_usd"] == "805.05"
    assert table.loc["other", "measures"] == "flat nothing"


def test_rejects_csv(run_small, small_inputs):
    out, _, _ = run_small
    table = read(out, "rejects.csv")
    assert table.columns[:3].tolist() == ["source_file", "line", "reason"]
    assert len(table) == 1
    assert table.loc[0, "line"] == "6"
    assert table.loc[0, "source_file"] == str(small_inputs / "flows.csv")
    assert "XXX" in table.loc[0, "reason"]
    assert table.loc[0, "hs"] == "0201"
    assert "product" not in table.columns  # raw cells: no label


def test_summary_json_reconciles(run_small):
    out, _, _ = run_small
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rec = summary["reconciliation"]
    # input 1000 + 2000 + 500 + 250.5 + 40 = 3790.5 = accepted 3750.5 + rejected 40
    assert rec["input_value_usd"] == 3790.5
    assert rec["accepted_value_usd"] == 3750.5
    assert rec["rejected_value_usd"] == 40.0
    assert rec["input_value_usd"] == rec["accepted_value_usd"] + rec["rejected_value_usd"]
    assert rec["rejected_rows"] == 1
    totals = summary["totals"]
    assert totals["imports_usd"] == 3750.5
    assert totals["scenario_duty_usd"] == pytest.approx(805.05, abs=1e-9)
    assert totals["scenario_rate"] == pytest.approx(805.05 / 3750.5, rel=1e-12)
    assert "small" in (out / "summary.md").read_text(encoding="utf-8")


def test_manifest_records_inputs_and_the_resolved_scenario(run_small, small_inputs):
    out, _, _ = run_small
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    flows = small_inputs / "flows.csv"
    assert manifest["inputs"] == [
        {"path": str(flows), "sha256": hashlib.sha256(flows.read_bytes()).hexdigest(), "rows": 5}
    ]
    scenario = manifest["scenario"]
    assert scenario["name"] == "small"
    assert scenario["as_of"] == "2025-04-09"
    [measure] = scenario["measures"]
    assert measure["id"] == "flat"
    assert measure["rate"] == 0.10
    assert measure["rates"] == {"CHN": 0.34, "EU": 0.20}
    assert measure["exclude_products"] == {"inline": ["0101"]}
    assert manifest["baseline"]["name"] == "zero"
    assert manifest["parameters"]["level"] == 2


def test_run_again_into_its_own_folder_but_not_into_a_foreign_one(inputs, tmp_path):
    out, _, _ = _run_small(inputs, tmp_path / "out")
    # a second run may replace the files of the first (manifest.json marks the folder as ours)
    api.run(
        scenario=inputs / "small.toml", flows=[inputs / "flows.csv"], baseline=inputs / "zero.toml", out=out
    )
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError):
        api.run(
            scenario=inputs / "small.toml",
            flows=[inputs / "flows.csv"],
            baseline=inputs / "zero.toml",
            out=foreign,
        )
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_run_refuses_to_write_next_to_its_input(inputs):
    with pytest.raises(OutputError, match="input"):
        api.run(
            scenario=inputs / "small.toml",
            flows=[inputs / "flows.csv"],
            baseline=inputs / "zero.toml",
            out=inputs,
            force=True,
        )
    assert (inputs / "flows.csv").read_text(encoding="utf-8") == FLOWS
    assert not (inputs / "by_partner.csv").exists()


def test_write_outputs_without_bom(inputs, tmp_path):
    flowset = api.load_flows([inputs / "flows.csv"])
    result = api.compute(flowset, inputs / "small.toml", inputs / "zero.toml")
    out = tmp_path / "nobom"
    figures = api.write_outputs(result, flowset, out, bom=False)
    assert figures["totals"]["scenario_duty_usd"] == pytest.approx(805.05, abs=1e-9)
    for name in ("by_partner.csv", "by_product.csv", "rejects.csv"):
        assert not (out / name).read_bytes().startswith(BOM), name
    assert (out / "by_partner.csv").read_bytes().startswith(b"partner,partner_name,")


def test_rejects_csv_is_a_header_only_when_nothing_is_rejected(inputs, tmp_path):
    good = inputs / "good.csv"
    good.write_text("partner,hs,period,value_usd\nJPN,0201,2024,10\n", encoding="utf-8")
    out = tmp_path / "clean"
    _, figures, _ = api.run(
        scenario=inputs / "small.toml", flows=[good], baseline=inputs / "zero.toml", out=out
    )
    text = (out / "rejects.csv").read_bytes().decode("utf-8-sig")
    assert text.splitlines() == ["source_file,line,reason,value_usd_parsed,partner,hs,period,value_usd"]
    assert figures["reconciliation"]["rejected_rows"] == 0
    assert figures["totals"]["scenario_duty_usd"] == pytest.approx(1.0)  # 10 × 10 %
