"""The command line end to end: click's CliRunner for each command, and real subprocesses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app.cli import cli

from .conftest import flat_scenario

SCENARIO = flat_scenario(0.10, "Test tariff", CHN=0.30)
ZERO = flat_scenario(0.0, "Test tariff")

FLOWS = "partner,hs,period,value_usd\nCHN,0101210010,2024,1000\nDEU,8703,2024,500\nXXX,85,2024,70\n"


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    scenario = tmp_path / "flat.toml"
    scenario.write_text(SCENARIO)
    flows = tmp_path / "flows.csv"
    flows.write_text(FLOWS)
    return scenario, flows


def test_run_writes_the_contract_files_with_hand_checked_numbers(inputs, tmp_path):
    scenario, flows = inputs
    out = tmp_path / "out"
    result = invoke(
        "run", str(scenario), "--flows", str(flows), "--baseline", str(scenario), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    for name in (
        "by_partner.csv",
        "by_product.csv",
        "by_partner_product.csv",
        "by_measure.csv",
        "rejects.csv",
        "summary.json",
        "summary.md",
        "manifest.json",
    ):
        assert (out / name).is_file(), name
    # baseline = scenario here, so added duty is 0; scenario duty: 1000 × 0.30 + 500 × 0.10 = 350
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["scenario_duty_usd"] == pytest.approx(350.0)
    assert summary["totals"]["added_duty_usd"] == pytest.approx(0.0)
    # the unknown partner XXX is rejected, not lost: 1570 input = 1500 accepted + 70 rejected
    assert summary["reconciliation"]["rejected_value_usd"] == pytest.approx(70.0)
    assert summary["reconciliation"]["input_value_usd"] == pytest.approx(1570.0)
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, encoding="utf-8-sig")
    assert rejects.loc[0, "line"] == "4" and "unknown partner 'XXX'" in rejects.loc[0, "reason"]
    by_product = pd.read_csv(out / "by_product.csv", dtype={"hs": str}, encoding="utf-8-sig")
    assert set(by_product["hs"]) == {"01", "87"}  # chapter level by default, leading zero kept
    assert (
        "Rejected        1 rows, $70" in result.output and " bn" not in result.output
    )  # a small input in dollars


def test_run_added_duty_against_a_zero_baseline(inputs, tmp_path):
    scenario, flows = inputs
    zero = tmp_path / "zero.toml"
    zero.write_text(ZERO)
    out = tmp_path / "out"
    result = invoke(
        "run",
        str(scenario),
        "--flows",
        str(flows),
        "--baseline",
        str(zero),
        "--out",
        str(out),
        "--level",
        "4",
        "--quiet",
    )
    assert result.exit_code == 0 and result.output == ""
    partners = pd.read_csv(out / "by_partner.csv", encoding="utf-8-sig").set_index("partner")
    assert partners.loc["CHN", "added_duty_usd"] == pytest.approx(300.0)
    assert partners.loc["DEU", "added_rate"] == pytest.approx(0.10)
    products = pd.read_csv(out / "by_product.csv", dtype={"hs": str}, encoding="utf-8-sig")
    assert set(products["hs"]) == {"0101", "8703"}


def test_run_refuses_a_folder_it_did_not_write(inputs, tmp_path):
    scenario, flows = inputs
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    result = CliRunner().invoke(cli, ["run", str(scenario), "--flows", str(flows), "--out", str(out)])
    assert result.exit_code == 2
    assert "did not write" in result.output and "--force" in result.output
    assert (out / "notes.txt").read_text() == "precious"


@pytest.mark.parametrize(
    ("scenario", "partner", "code", "added"),
    [
        ("liberation-day", "UKR", "6109100012", 0.10),  # T-shirt from Ukraine: 10 % baseline rate
        ("liberation-day", "DEU", "8428900390", 0.20),  # German handling machinery: EU 20 %
        ("liberation-day", "CHN", "9503000073", 0.34),  # Chinese toys: Annex I 34 %
        ("liberation-day", "RUS", "6109100012", 0.0),  # Russia is not subject
        ("liberation-day", "IRL", "3004909250", 0.0),  # Irish medicine in Annex II
        ("liberation-day", "JPN", "8703230190", 0.0),  # Japanese car: Section 232, outside the reciprocal
        ("april-2025", "JPN", "8703230190", 0.25),  # ... but pays Section 232 autos in april-2025
        ("april-2025", "CHN", "9503000073", 0.54),  # toys: 34 % reciprocal + 20 % fentanyl
        ("pause-90-day", "CHN", "9503000073", 1.45),  # 125 % + 20 %
        ("pause-90-day", "VNM", "6109100012", 0.10),  # Annex I suspended: 10 %
        ("pause-90-day", "CHN", "8517130000", 0.20),  # smartphones exempt from the reciprocal from 11 April
    ],
)
def test_explain_gives_the_published_rates(scenario, partner, code, added):
    result = invoke("explain", scenario, "--partner", partner, "--hs", code, "--json")
    data = json.loads(result.output)
    assert data["added_rate"] == pytest.approx(added, abs=1e-12)
    assert data["partner"] == partner and data["hs"] == code
    for component in data["components"]:
        assert set(component) >= {"measure", "authority", "rate", "applies", "reason", "citation"}
        assert component["citation"]


def test_explain_text_says_why(tmp_path):
    result = invoke("explain", "liberation-day", "--partner", "Japan", "--hs", "8703.23.01.90")
    assert result.exit_code == 0
    assert "Japan (JPN), HS 8703230190" in result.output
    assert "excluded: prefix 870323 is in Section 232 automobiles" in result.output
    assert "added +0.00%" in result.output


def test_explain_and_rates_take_a_partner_group():
    """`explain --partner EU`: how the group resolves: its members on the date, the scenario's rate for the
    group, the measures of one member, and each member's rates."""
    data = json.loads(
        invoke("explain", "liberation-day", "--partner", "EU", "--hs", "6109100012", "--json").output
    )
    assert data["group"] == "EU" and data["partner_name"] == "European Union" and len(data["members"]) == 27
    assert data["group_rates"] == [
        {
            "measure": "ieepa-reciprocal-annex1",
            "authority": "IEEPA reciprocal tariff, Annex I individual rates (EO 14257)",
            "rate": 0.20,
        }
    ]
    assert data["uniform"] is True
    assert data["added_rate"] == pytest.approx(0.20) and data["added_rate_max"] == pytest.approx(0.20)
    assert {m["partner"] for m in data["member_rates"]} == set(data["members"])
    text = invoke("explain", "liberation-day", "--partner", "European Union", "--hs", "6109100012").output
    assert "EU is a partner group: 27 members on 2025-04-09" in text
    assert "Rates for the group in this scenario: ieepa-reciprocal-annex1 20.00%" in text
    assert "applies at 20.00%, the rate for group EU" in text and "added +20.00%" in text
    # membership follows the date: the United Kingdom was a member until 31 January 2020
    older = json.loads(
        invoke(
            "explain", "liberation-day", "--partner", "EU", "--hs", "61", "--as-of", "2019-06-01", "--json"
        ).output
    )
    assert "GBR" in older["members"] and "GBR" not in data["members"]
    table = invoke("rates", "liberation-day", "--partner", "EU", "--format", "csv").output
    frame = pd.read_csv(pd.io.common.StringIO(table.lstrip("\ufeff")))
    annex = frame[frame["measure"] == "ieepa-reciprocal-annex1"]
    assert len(annex) == 27 and set(annex["rate_basis"]) == {"group EU"}
    wrong = CliRunner().invoke(cli, ["explain", "liberation-day", "--partner", "EUU", "--hs", "61"])
    assert wrong.exit_code == 2 and "Did you mean 'EU'" in wrong.output


def test_rates_formats():
    table = invoke("rates", "liberation-day", "--partner", "VNM")
    assert "ieepa-reciprocal-annex1" in table.output and "46.0%" in table.output
    csv = invoke("rates", "liberation-day", "--format", "csv")
    frame = pd.read_csv(pd.io.common.StringIO(csv.output.lstrip("\ufeff")))
    annex = frame[frame["measure"] == "ieepa-reciprocal-annex1"].set_index("partner")["rate"]
    assert annex["FRA"] == pytest.approx(0.20) and annex["CHN"] == pytest.approx(0.34)
    assert "CAN" not in set(frame["partner"])  # not subject
    records = json.loads(
        invoke("rates", "april-2025", "--partner", "CAN", "--hs", "2709", "--format", "json").output
    )
    by_measure = {r["measure"]: r for r in records}
    assert by_measure["ieepa-fentanyl-canada-energy-potash"]["applies"] is True
    # 10 % on the 62 % of value that does not claim USMCA
    assert by_measure["ieepa-fentanyl-canada-energy-potash"]["added_rate"] == pytest.approx(0.062)


def test_scenarios_list_and_show():
    listing = invoke("scenarios").output
    for name in ("baseline-2024", "liberation-day", "april-2025", "pause-90-day", "universal-10"):
        assert name in listing
    shown = json.loads(invoke("scenarios", "show", "april-2025").output)
    assert shown["extends"] == ["liberation-day", "baseline-2024"]
    ids = [m["id"] for m in shown["measures"]]
    assert ids[0] == "observed-2024" and "s232-autos" in ids


def test_domain_errors_are_one_line_with_exit_2():
    result = CliRunner().invoke(cli, ["explain", "liberation-dya", "--partner", "UKR", "--hs", "61"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: Unknown scenario 'liberation-dya'")
    assert "Did you mean 'liberation-day'" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["explain", "liberation-day", "--partner", "Germny", "--hs", "61"])
    assert result.exit_code == 2 and "Germany" in result.output


def test_usage_errors_exit_2():
    result = CliRunner().invoke(cli, ["run", "--level", "3"])
    assert result.exit_code == 2
    result = CliRunner().invoke(
        cli, ["explain", "liberation-day", "--partner", "UKR", "--hs", "61", "--as-of", "9/4"]
    )
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def _console_script() -> str:
    found = shutil.which("tariffcalc", path=str(Path(sys.executable).parent))
    assert found, "the tariffcalc console script is not installed next to this Python"
    return found


def test_installed_console_script_runs_the_default_job(tmp_path):
    """The real entry point, in a subprocess, on the bundled data, from a folder with nothing in it."""
    completed = subprocess.run(
        [_console_script(), "run"], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "Imports         $3,251.2 bn" in completed.stdout
    summary = json.loads((tmp_path / "reports" / "liberation-day" / "summary.json").read_text())
    assert summary["totals"]["imports_usd"] == pytest.approx(3_251_151_779_682, abs=1)
    assert summary["totals"]["baseline_duty_usd"] == pytest.approx(76_159_762_026, rel=1e-9)
    assert summary["reconciliation"]["rejected_rows"] == 0


def test_python_dash_m_reports_errors_on_stderr(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tariffcalc", "run", "nope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("Error: Unknown scenario 'nope'") and completed.stdout == ""


def test_help_and_scenarios_do_not_import_pandas_or_matplotlib():
    """The CLI starts fast: heavy libraries are imported inside the commands that need them."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tariffcalc.app.cli import cli\n"
        "for args in (['--help'], ['scenarios'], ['run', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('pandas', 'matplotlib', 'numpy', 'pyarrow') if m in sys.modules))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "[]"


def test_run_with_the_armington_model_adds_response_columns(inputs, tmp_path):
    scenario, flows = inputs
    zero = tmp_path / "zero.toml"
    zero.write_text(ZERO)
    out = tmp_path / "arm"
    args = [
        "run",
        str(scenario),
        "--flows",
        str(flows),
        "--baseline",
        str(zero),
        "--out",
        str(out),
        "--no-charts",
        "--format",
        "png",
        "--model",
        "armington",
    ]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "After trade responds (armington)" in result.output
    partners = pd.read_csv(out / "by_partner.csv", encoding="utf-8-sig").set_index("partner")
    assert {"imports_after_usd", "trade_creation_usd", "added_rate_after"} <= set(partners.columns)
    # each partner is alone in its product market, so a 30 % tariff cuts imports (η > 0): 1000 → less
    assert partners.loc["CHN", "imports_after_usd"] < 1000.0
    response = json.loads((out / "summary.json").read_text())["response"]
    assert [step["step"] for step in response["revenue_ladder"]] == [
        "static",
        "after_response",
        "after_compliance",
        "net_of_offset",
    ]
    # η = σ = 0: nothing responds, so the post-substitution figures equal the static ones
    frozen = invoke(
        *args[:-2],
        "--model",
        "armington",
        "--import-demand-elasticity",
        "0",
        "--substitution-elasticity",
        "0",
        "--force",
    )
    assert frozen.exit_code == 0, frozen.output
    rates = json.loads((out / "summary.json").read_text())["response"]["effective_rates"]
    assert rates["post_substitution_added_rate"] == pytest.approx(rates["static_added_rate"], rel=1e-12)


def test_model_options_need_the_model():
    result = CliRunner().invoke(cli, ["run", "--substitution-elasticity", "2"])
    assert result.exit_code == 2 and "need --model armington" in result.output


def test_scenario_parameters_reach_the_model(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        'extends = "liberation-day"\n[parameters]\nsubstitution_elasticity = 0.0\n'
        "import_demand_elasticity = 0.0\n"
    )
    from tariffcalc.app import api

    result = api.compute(scenario=path)
    response = api.respond(result, "armington")
    rates = response.summary()["effective_rates"]
    assert rates["post_substitution_added_rate"] == pytest.approx(rates["static_added_rate"], rel=1e-12)
    path.write_text('extends = "liberation-day"\n[parameters]\nsubstitution_elastcity = 2\n')
    with pytest.raises(Exception, match="Did you mean 'substitution_elasticity'"):
        api.compute(scenario=path)
