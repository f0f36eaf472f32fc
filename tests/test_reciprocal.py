"""The USTR reciprocal formula against hand arithmetic and the published Annex I rates."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app.cli import cli
from tariffcalc.models.reciprocal import Method, reciprocal_rates
from tariffcalc.reference import bundled
from tariffcalc.rules.scenario import load_scenario


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return reciprocal_rates().set_index("partner")


def test_china_by_hand(table):
    # 2024 Census: imports 438,947,386,145; exports 143,545,739,507 (shared/data README)
    # (438.947 − 143.546) / (4 × 0.25 × 438.947) = 0.67298; half = 0.33649 → rounded up to 34 %
    china = table.loc["CHN"]
    assert china["formula_rate"] == pytest.approx((438_947_386_145 - 143_545_739_507) / 438_947_386_145)
    assert china["announced_rate"] == pytest.approx(0.34)
    assert china["published_rate"] == pytest.approx(0.34)


def test_eu_is_one_bloc(table):
    # the 27 members: imports $605.76 bn, deficit $235.57 bn (shared/data README) → 38.9 % → 19.4 % → 20 %
    eu = table.loc["EU"]
    assert eu["imports_usd"] == pytest.approx(605.76e9, rel=1e-4)
    assert eu["deficit_usd"] == pytest.approx(235.57e9, rel=1e-4)
    assert eu["announced_rate"] == pytest.approx(0.20)
    assert not set(table.index) & {"DEU", "FRA", "IRL"}


def test_surplus_partners_get_the_floor_and_non_subjects_are_flagged(table):
    assert table.loc["UKR", "formula_rate"] < 0  # the US has a surplus with Ukraine
    assert table.loc["UKR", "announced_rate"] == pytest.approx(0.10)
    assert not table.loc["CAN", "subject"] and not table.loc["RUS", "subject"]
    assert table.loc["JPN", "subject"]


def test_defaults_match_annex_one_within_a_point(table):
    annex = bundled.read_table("eo14257_annex1.csv").set_index("partner")
    ours = table.loc[annex.index, "announced_rate"]
    published = annex["rate"].astype(float)
    assert len(annex) == 57
    assert ((ours - published).abs() <= 0.01 + 1e-9).all()
    # rounding up reproduces the Annex I first posted on 2 April for 56 of 57 entries
    initial = annex["rate_initial_whitehouse_pdf"].astype(float)
    assert ((ours - initial).abs() < 1e-9).sum() == 56


def test_sensitivity_to_pass_through():
    base = reciprocal_rates().set_index("partner")
    critics = reciprocal_rates(Method(pass_through=0.95)).set_index("partner")
    # φ from 0.25 to 0.95 scales the formula rate by 0.25 / 0.95
    assert critics.loc["VNM", "formula_rate"] == pytest.approx(base.loc["VNM", "formula_rate"] * 0.25 / 0.95)
    assert critics.loc["VNM", "announced_rate"] < base.loc["VNM", "announced_rate"]


def test_cli_formats_and_scenario_round_trip(tmp_path):
    runner = CliRunner()
    records = json.loads(runner.invoke(cli, ["reciprocal", "--format", "json"]).output)
    columns = {
        "partner",
        "imports_usd",
        "exports_usd",
        "deficit_usd",
        "formula_rate",
        "announced_rate",
        "published_rate",
        "difference",
    }
    assert columns <= set(records[0])
    scenario_path = tmp_path / "mine.toml"
    result = runner.invoke(
        cli,
        [
            "reciprocal",
            "--floor",
            "0.15",
            "--write-scenario",
            str(scenario_path),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(tmp_path / "out" / "reciprocal.csv", encoding="utf-8-sig")
    assert (written["announced_rate"] >= 0.15 - 1e-12).all()
    measure = load_scenario(scenario_path).measure("reciprocal-formula")
    assert measure.rate == pytest.approx(0.15)
    assert measure.rates["VNM"] == pytest.approx(0.46) and measure.rates["EU"] == pytest.approx(0.20)
    run = runner.invoke(cli, ["run", str(scenario_path), "--out", str(tmp_path / "run"), "--quiet"])
    assert run.exit_code == 0, run.output


def test_bad_parameters_are_clear_errors():
    result = CliRunner().invoke(cli, ["reciprocal", "--phi", "0"])
    assert result.exit_code == 2 and "must be positive" in result.output
