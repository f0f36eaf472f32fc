"""Consumer prices, households, the revenue ladder and the parameters behind them, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tariffcalc.engine import duties
from tariffcalc.errors import ModelError
from tariffcalc.models import armington, prices, revenue
from tariffcalc.reference.parameters import Parameters, read_chapter_file
from tests.conftest import flat_scenario, flows

# --- prices and households ------------------------------------------------------------------------------


def test_import_price_change_is_spending_weighted():
    # Two markets: spending 300 USD with +10 %, 100 USD with −2 % → (30 − 2) / 400 = 0.07
    assert prices.import_price_change(np.array([300.0, 100.0]), np.array([1.10, 0.98])) == pytest.approx(0.07)
    assert prices.import_price_change(np.array([0.0]), np.array([1.5])) == 0.0


def test_price_effect_and_cost_per_household_by_hand():
    parameters = Parameters(import_share_of_consumption=0.1, pce_usd=20e12, households=130e6)
    effect = prices.price_effect(0.12, 0.75, parameters)
    # 0.75 × 0.12 × 0.1 = 0.009 of PCE; × 20 tn = 180 bn USD; ÷ 130 m households = 1,384.615… USD
    assert effect.price_level_change == pytest.approx(0.009, rel=1e-14)
    assert effect.consumer_cost_usd == pytest.approx(180e9, rel=1e-14)
    assert effect.cost_per_household_usd == pytest.approx(180e9 / 130e6, rel=1e-14)


def test_default_household_figures_use_the_cited_2024_values():
    # PCE 2024 = 19,896,010 m USD (BEA PCE Bridge), households = 132,216 thousand (CPS ASEC), import content
    # of PCE 10.7 % (FRBSF 2019): a 10 % import price rise with full pass-through costs
    # 0.10 × 0.107 × 19,896,010,000,000 / 132,216,000 = 1,610.15 USD per household.
    effect = prices.price_effect(0.10, 1.0, Parameters())
    assert effect.cost_per_household_usd == pytest.approx(
        0.10 * 0.107 * 19_896_010_000_000 / 132_216_000, rel=1e-12
    )
    assert effect.cost_per_household_usd == pytest.approx(1610.15, abs=0.01)


# --- the revenue ladder ---------------------------------------------------------------------------------


def test_revenue_ladder_by_hand():
    steps = revenue.ladder(100.0, 80.0, compliance_haircut=0.10, income_payroll_offset=0.23)
    assert [s.step for s in steps] == ["static", "after_response", "after_compliance", "net_of_offset"]
    # 80 × (1 − 0.10) = 72; 80 × (1 − 0.10 − 0.23) = 53.6
    assert [s.revenue_usd for s in steps] == pytest.approx([100.0, 80.0, 72.0, 53.6], rel=1e-14)


SCENARIO = flat_scenario(0.20, name="flat-20")


@pytest.fixture
def uniform_result(write_scenario, zero_baseline) -> duties.Result:
    # One product, two partners, the same 20 % on both, no baseline duty.
    table = flows(("CHN", "6109100012", 600.0), ("VNM", "6109100012", 400.0))
    return duties.compute(table, write_scenario(SCENARIO), zero_baseline)


def test_ladder_and_prices_of_a_response_by_hand(uniform_result):
    # Chapter 61: Hauk's η = 1.194 (bundled elasticities_hs2.csv); σ and ε at their defaults (1.5, ∞).
    # Equal rates: P = 1.2, imports fall to 1000 · 1.2^(−η); duty after = 0.2 of that.
    eta = 1.194
    response = armington.respond(uniform_result)
    ladder = {step.step: step.revenue_usd for step in response.ladder}
    assert ladder["static"] == pytest.approx(200.0, rel=1e-14)
    assert ladder["after_response"] == pytest.approx(0.2 * 1000 * 1.2**-eta, rel=1e-12)
    assert ladder["net_of_offset"] == pytest.approx(0.2 * 1000 * 1.2**-eta * (1 - 0.10 - 0.23), rel=1e-12)
    # Prices: the import price index rises 20 % in every variant (no relative price changes to substitute
    # along); central = 1.0 × 0.20 × 0.107, low = 0.7 × 0.20 × 0.107 (CBO near term), high = central.
    effects = response.price_effects
    assert effects["central"].price_level_change == pytest.approx(0.2 * 0.107, rel=1e-12)
    assert effects["low"].price_level_change == pytest.approx(0.7 * 0.2 * 0.107, rel=1e-12)
    assert effects["high"].price_level_change == pytest.approx(0.2 * 0.107, rel=1e-12)
    summary = response.summary()
    assert "average" in summary["prices"]["note"].lower()
    assert [row["step"] for row in summary["revenue_ladder"]][-1] == "net_of_offset"


def test_cost_per_household_is_the_price_rise_on_the_average_basket(uniform_result):
    """One market, both partners at 20 %: P = 1.2 whatever η (world prices are fixed), Q = 1.2^(−η). The
    price level rises by 0.2 × m; buyers pay the rise on the average of the old and the new basket."""
    for eta in (0.5, 1.194, 3.0):
        response = armington.respond(uniform_result, Parameters(import_demand_elasticity=eta))
        central = response.price_effects["central"]
        quantity = 1.2**-eta
        assert central.price_level_change == pytest.approx(0.2 * 0.107, rel=1e-12)
        assert central.import_quantity_change == pytest.approx(quantity - 1, rel=1e-12)
        expected = 0.2 * (1 + quantity) / 2 * 0.107 * 19_896_010_000_000 / 132_216_000
        assert central.cost_per_household_usd == pytest.approx(expected, rel=1e-12)
        high = response.price_effects["high"]  # no response: the rise on the unchanged basket
        assert high.cost_per_household_usd == pytest.approx(0.2 * 0.107 * 19_896_010_000_000 / 132_216_000)


def test_sweeping_the_import_demand_elasticity_moves_the_cost_not_the_price_level(
    write_scenario, zero_baseline
):
    from tariffcalc.app import analysis

    table = flows(("CHN", "6109100012", 600.0), ("VNM", "6109100012", 400.0), ("MEX", "8471300100", 50.0))
    first = duties.compute(table, write_scenario(flat_scenario(0.20, name="flat-20", CHN=0.5)), zero_baseline)
    swept = analysis.sweep(first, {"import_demand_elasticity": np.array([0.5, 1.0, 2.0, 3.0])})
    wide = swept.pivot(index="import_demand_elasticity", columns="figure", values="value")
    cost = wide["cost_per_household_usd"].to_numpy()
    assert (np.diff(cost) < 0).all()  # more elastic demand: buyers cut back and pay the rise on less
    assert np.ptp(wide["price_level_change"].to_numpy()) < 1e-15  # the price index does not depend on η


def test_price_range_brackets_the_central_estimate(write_scenario, zero_baseline):
    scenario = write_scenario(flat_scenario(0.20, name="flat-20", CHN=0.50))
    table = flows(("CHN", "6109100012", 600.0), ("VNM", "6109100012", 400.0), ("MEX", "8471300100", 50.0))
    response = armington.respond(duties.compute(table, scenario, zero_baseline))
    low, central, high = (
        response.price_effects[k].cost_per_household_usd for k in ("low", "central", "high")
    )
    assert low < central < high
    # High = no substitution: the import price rise equals the static added duty over baseline spending.
    added = 600 * 0.5 + 400 * 0.2 + 50 * 0.2
    assert response.price_effects["high"].import_price_change == pytest.approx(added / 1050.0, rel=1e-12)


# --- parameters: defaults, sources and validation -----------------------------------------------------


def test_defaults_are_the_documented_ones():
    p = Parameters()
    assert p.value("substitution_elasticity") == 1.5  # SMART
    assert math.isinf(p.value("export_supply_elasticity"))  # SMART's "99 = infinite"
    chapters = p.chapter_elasticities(["01", "87", "98", "99", "31", ""])
    # Hauk (2012) median_correct_sign: chapter 01 = 0.872, 87 = 0.868; no estimate for 98, 99, 31 → 1.0
    assert chapters["import_demand_elasticity"].tolist() == [0.872, 0.868, 1.0, 1.0, 1.0, 1.0]
    described = {row["name"]: row for row in p.describe()}
    assert "Hauk" in described["import_demand_elasticity"]["source"]
    assert all(row["source"] for row in described.values())


def test_scenario_parameters_table():
    p = Parameters.from_mapping(
        {"substitution_elasticity": 3, "export_supply_elasticity": "inf", "pass_through": 0.5}
    )
    assert p.value("substitution_elasticity") == 3.0 and math.isinf(p.export_supply_elasticity)
    assert p.with_overrides(pass_through=None).pass_through == 0.5  # an option not given keeps the value
    assert p.with_overrides(pass_through=0.9).pass_through == 0.9
    with pytest.raises(ModelError, match="Did you mean 'substitution_elasticity'"):
        Parameters.from_mapping({"substitution_elasticty": 2}, where="[parameters] of test.toml")
    with pytest.raises(ModelError, match=r"pass_through must be a fraction between 0 and 1, not 1\.5"):
        Parameters.from_mapping({"pass_through": 1.5})
    with pytest.raises(ModelError, match="import_demand_elasticity must be a number >= 0"):
        Parameters.from_mapping({"import_demand_elasticity": -1})
    with pytest.raises(ModelError, match="must be finite"):
        Parameters.from_mapping({"substitution_elasticity": "inf"})
    with pytest.raises(ModelError, match="not True"):
        Parameters.from_mapping({"households": True})
    with pytest.raises(ModelError, match="below 1"):
        Parameters(compliance_haircut=0.5, income_payroll_offset=0.5)


def test_chapter_file_errors_name_the_line(tmp_path):
    path = tmp_path / "el.csv"
    path.write_text("hs,import_demand_elasticity\n1,0.5\n87,2.5\n")
    table = read_chapter_file(path)
    assert table.loc["01", "import_demand_elasticity"] == 0.5  # "1" is chapter 01
    for text, message in (
        ("hs,import_demand_elastcity\n01,1\n", "Did you mean 'import_demand_elasticity'"),
        ("hs,import_demand_elasticity\n01,1\n01,2\n", "line 3: chapter 01 is listed twice"),
        ("hs,import_demand_elasticity\n0101,1\n", "line 2: hs must be an HS chapter"),
        ("hs,export_supply_elasticity\n01,-3\n", "line 2"),
        ("hs,description\n01,x\n", "at least one of"),
    ):
        path.write_text(text)
        with pytest.raises(ModelError, match=message):
            read_chapter_file(path)
    with pytest.raises(ModelError, match="does not exist"):
        read_chapter_file(tmp_path / "missing.csv")


def test_model_options_build_parameters():
    # The options `run --model armington` uses: given values replace the scenario's, absent ones keep them.
    import click
    from click.testing import CliRunner

    from tariffcalc.app.cli_model import model_options, parameters_from_options

    seen = {}

    @click.command()
    @model_options
    def command(**options):
        seen["parameters"] = parameters_from_options(
            Parameters(substitution_elasticity=2.0, pass_through=0.9), **options
        )

    result = CliRunner().invoke(command, ["--export-supply-elasticity", "inf", "--pass-through", "0.8"])
    assert result.exit_code == 0, result.output
    p = seen["parameters"]
    assert (
        math.isinf(p.export_supply_elasticity) and p.pass_through == 0.8 and p.substitution_elasticity == 2.0
    )
    bad = CliRunner().invoke(command, ["--pass-through", "2"])
    assert bad.exit_code == 2 and "pass_through must be a fraction" in bad.output
