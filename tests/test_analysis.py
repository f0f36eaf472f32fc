"""compare, sweep and timeline: hand-worked small cases and the CLI commands."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app import analysis
from tariffcalc.app.cli import cli
from tariffcalc.engine.duties import compute
from tariffcalc.errors import ScenarioError, TariffcalcError

from .conftest import CHINA, TEN, flows

DATA = flows(("CHN", "95", 1200.0), ("DEU", "84", 2400.0))


def test_compare_differences_by_hand(write_scenario, zero_baseline):
    ten, china = write_scenario(TEN, "ten"), write_scenario(CHINA, "china")
    tables = analysis.compare(compute(DATA, ten, zero_baseline), [ten, china])
    partners = tables["by_partner"].set_index("partner")
    # CHN: 1200 × 0.10 = 120 vs 1200 × 0.50 = 600 → +480; DEU: 240 in both
    assert partners.loc["CHN", "ten.added_duty_usd"] == pytest.approx(120.0)
    assert partners.loc["CHN", "china.added_duty_usd"] == pytest.approx(600.0)
    assert partners.loc["CHN", "china-vs-ten.added_duty_usd"] == pytest.approx(480.0)
    assert partners.loc["DEU", "china-vs-ten.added_duty_usd"] == pytest.approx(0.0)
    assert list(tables["by_partner"]["partner"]) == ["CHN", "DEU"]  # largest difference first
    totals = tables["totals"].set_index("scenario")
    assert totals.loc["china", "added_rate"] == pytest.approx(840 / 3600)
    with pytest.raises(TariffcalcError, match="distinct"):
        analysis.compare(compute(DATA, ten, zero_baseline), [ten, ten])


def test_sweep_line_and_grid_by_hand(write_scenario, zero_baseline):
    china = write_scenario(CHINA, "china")
    first = compute(DATA, china, zero_baseline)
    line = analysis.sweep(first, {"measure.flat.rates.CHN": np.array([0.0, 0.25, 1.0])})
    added = line[line["figure"] == "added_duty_usd"].set_index("measure.flat.rates.CHN")["value"]
    # 1200 × r + 2400 × 0.10
    assert added.to_dict() == pytest.approx({0.0: 240.0, 0.25: 540.0, 1.0: 1440.0})
    grid = analysis.sweep(
        first,
        {"measure.flat.rate": np.array([0.0, 0.2]), "measure.flat.applies_to_share": np.array([0.5, 1.0])},
    )
    added = grid[grid["figure"] == "added_duty_usd"]
    assert len(added) == 4
    point = added[(added["measure.flat.rate"] == 0.2) & (added["measure.flat.applies_to_share"] == 0.5)]
    # CHN keeps its own 0.50; DEU gets 0.20; both on half the value: (1200 × 0.5 + 2400 × 0.2) × 0.5
    assert point["value"].item() == pytest.approx(540.0)
    assert analysis.current_value(china, "measure.flat.rates.CHN") == 0.5


def test_sweep_parameter_errors_list_valid_names(write_scenario):
    china = write_scenario(CHINA, "china")
    with pytest.raises(ScenarioError) as caught:
        analysis._set(china, "measure.flat.rat", 0.1)
    assert "measure.flat.rate" in str(caught.value) and "Valid names" in str(caught.value)
    with pytest.raises(TariffcalcError, match="START:STOP:STEPS"):
        analysis.parse_range("measure.flat.rate=0:1")


@pytest.fixture
def plan(tmp_path, write_scenario) -> analysis.Timeline:
    """Two regimes: ten from 11 January 2025, china from 15 February."""
    write_scenario(TEN, "ten")
    write_scenario(CHINA, "china")
    path = tmp_path / "t.toml"
    path.write_text(
        textwrap.dedent("""
        title = "test"
        [[regime]]
        start = 2025-01-11
        scenario = "ten.toml"
        source = "s1"
        [[regime]]
        start = 2025-02-15
        scenario = "china.toml"
        source = "s2"
    """)
    )
    return analysis.load_timeline(path)


def test_timeline_weights_regimes_by_days(plan, zero_baseline):
    first = compute(DATA, plan.regimes[0].scenario, zero_baseline)
    series = analysis.timeline_series(first, plan, 2025).set_index("month")
    # annual added: ten 360, china 840; per month ÷ 12 = 30 and 70
    # January: 21 of 31 days under ten → 30 × 21/31; February: 14 days ten + 14 days china of 28
    assert series.loc["2025-01", "added_duty_usd"] == pytest.approx(30 * 21 / 31)
    assert series.loc["2025-02", "added_duty_usd"] == pytest.approx(30 * 14 / 28 + 70 * 14 / 28)
    assert series.loc["2025-12", "added_rate"] == pytest.approx(70 / 300)
    assert series.loc["2025-02", "regimes"] == "ten@2025-01-11 (14 d); china@2025-02-15 (14 d)"


def test_timeline_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[regime]]\nstart = 2025-01-01\nscenario = "universal-10"\n')
    with pytest.raises(TariffcalcError, match="needs start, scenario and source"):
        analysis.load_timeline(bad)
    with pytest.raises(TariffcalcError, match="us-2025"):
        analysis.load_timeline("us-2026")


def test_bundled_timeline_covers_the_april_events():
    plan = analysis.load_timeline("us-2025")
    starts = [r.start.isoformat() for r in plan.regimes]
    assert {"2025-04-05", "2025-04-09", "2025-04-10"} <= set(starts)
    assert all(r.source for r in plan.regimes)


def test_cli_compare_sweep_timeline_on_the_default_data(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "compare",
            "baseline-2024",
            "liberation-day",
            "pause-90-day",
            "--out",
            str(tmp_path / "c"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    totals = pd.read_csv(tmp_path / "c" / "compare_totals.csv", encoding="utf-8-sig").set_index("scenario")
    assert totals.loc["baseline-2024", "added_duty_usd"] == pytest.approx(0.0, abs=1e-3)
    assert totals.loc["pause-90-day", "added_duty_usd"] > totals.loc["liberation-day", "added_duty_usd"]
    result = runner.invoke(
        cli,
        [
            "sweep",
            "universal-10",
            "--param",
            "measure.universal-10.rate=0:0.2:3",
            "--out",
            str(tmp_path / "s"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    swept = pd.read_csv(tmp_path / "s" / "sweep.csv", encoding="utf-8-sig")
    rates = swept[swept["figure"] == "added_rate"].set_index("measure.universal-10.rate")["value"]
    assert rates.to_dict() == pytest.approx({0.0: 0.0, 0.1: 0.1, 0.2: 0.2})  # uniform rate = added rate
    result = runner.invoke(cli, ["sweep", "universal-10", "--param", "measure.universal-ten.rate=0:1:2"])
    assert result.exit_code == 2 and "measure.universal-10.rate" in result.output
    result = runner.invoke(
        cli, ["timeline", "us-2025", "--year", "2025", "--out", str(tmp_path / "t"), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    series = pd.read_csv(tmp_path / "t" / "timeline.csv", encoding="utf-8-sig")
    assert len(series) == 12 and series.loc[0, "added_duty_usd"] == 0.0


def test_sweeping_a_model_parameter_runs_the_response(write_scenario, zero_baseline):
    china = write_scenario(CHINA, "china")
    table = analysis.sweep(
        compute(DATA, china, zero_baseline), {"import_demand_elasticity": np.array([0.0, 1.0, 3.0])}
    )
    post = table[table["figure"] == "post_substitution_added_rate"].set_index("import_demand_elasticity")[
        "value"
    ]
    static = table[table["figure"] == "added_rate"]["value"]
    assert list(static) == pytest.approx([840 / 3600] * 3)  # the static figure does not depend on η
    # each partner is alone in its market: with η = 0 nothing responds; larger η, less trade at the high rate
    assert post[0.0] == pytest.approx(840 / 3600)
    assert post[0.0] > post[1.0] > post[3.0]
    assert "import_demand_elasticity" in analysis.sweep_parameter_names(china)


def test_timeline_with_monthly_flows_uses_each_months_flows(plan, zero_baseline):
    data = pd.DataFrame(
        {
            "partner": ["CHN", "CHN", "DEU"],
            "hs": ["95", "95", "84"],
            "period": ["2024-01", "2024-02", "2024-02"],
            "value_usd": [1200.0, 600.0, 2400.0],
        }
    )
    series = analysis.timeline_series(compute(data, plan.regimes[0].scenario, zero_baseline), plan, 2025)
    series = series.set_index("month")
    # January's flows (CHN 1200) under ten for 21 of 31 days: 120 × 21/31
    assert series.loc["2025-01", "added_duty_usd"] == pytest.approx(120 * 21 / 31)
    # February's flows (CHN 600, DEU 2400): ten adds 300, china 540; 14 days each of 28
    assert series.loc["2025-02", "added_duty_usd"] == pytest.approx(300 * 14 / 28 + 540 * 14 / 28)
    assert series.loc["2025-02", "imports_usd"] == pytest.approx(3000.0)
    assert series.loc["2025-03", "imports_usd"] == 0.0 and series.loc["2025-03", "added_duty_usd"] == 0.0
    assert set(series["flows"]) == {"monthly"}
