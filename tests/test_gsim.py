"""GSIM (Francois & Hall 2003) against a 2×2 case solved by hand, the Armington model, and its own identities."""

from __future__ import annotations

import math
from fractions import Fraction as F
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import tariffcalc.models.gsim
from tariffcalc.app.cli_model import gsim as gsim_command
from tariffcalc.engine import duties
from tariffcalc.errors import ModelError
from tariffcalc.models import gsim
from tariffcalc.models.armington import solve_markets
from tariffcalc.reference.parameters import Parameters
from tests.conftest import CHINA_40, flows


def frame(rows, labels):
    return pd.DataFrame(rows, index=labels, columns=labels, dtype=float)


# --- the 2×2 case, worked by hand ----------------------------------------------------------------------
#
# Two countries, A and B, that each buy from both (the diagonal is domestic supply competing as a variety).
# Flows (rows exporters, columns importers): A→A 300, B→A 100, A→B 100, B→B 100; no tariffs before;
# after, B charges 10 % on A's goods (T̂_AB = 0.1). E_m = −1, E_s = 3, E_x = 2 everywhere, so E_m + E_s = 2.
#
#   θ (shares of each importer's spending): θ_AA = 300/400 = .75, θ_BA = .25, θ_AB = θ_BB = .5
#   φ (shares of each exporter's sales):    φ_AA = 300/400 = .75, φ_AB = .25, φ_BA = φ_BB = .5
#   M̂_rj = (E_m + E_s) P̄_j − E_s (T̂_rj + P̂_r), with P̄_j = Σ_k θ_kj (T̂_kj + P̂_k). Write a = P̂_A, b = P̂_B:
#   P̄_A = .75a + .25b,  P̄_B = .5(0.1 + a) + .5b = .05 + .5a + .5b
#   M̂_AA = 2(.75a + .25b) − 3a = −1.5a + .5b        M̂_AB = 2(.05 + .5a + .5b) − 3(.1 + a) = −.2 − 2a + b
#   M̂_BA = 2(.75a + .25b) − 3b = 1.5a − 2.5b        M̂_BB = 2(.05 + .5a + .5b) − 3b = .1 + a − 2b
#   clearing A: .75 M̂_AA + .25 M̂_AB = 2a  →  −1.625a + .625b − .05 = 2a  →  −3.625a + .625b = .05
#   clearing B: .5 M̂_BA + .5 M̂_BB = 2b    →   1.25a − 2.25b + .05 = 2b  →   1.25a − 4.25b = −.05
#   ×8 and ×4: −29a + 5b = .4 and 5a − 17b = −.2; b = .08 + 5.8a → 5a − 1.36 − 98.6a = −.2 → a = −1.16/93.6
#   a = −29/2340 = −0.0123932,  b = .08 + 5.8a = 19/2340 = 0.0081197
#   M̂_AA = 53/2340, M̂_AB = −391/2340, M̂_BA = −91/2340, M̂_BB = 167/2340
#   (check A: .75·53 − .25·391 = −58 = 2·(−29) ✓;  check B: .5·(−91) + .5·167 = 38 = 2·19 ✓)
A, B = F(-29, 2340), F(19, 2340)
M_HAT = {
    ("A", "A"): F(53, 2340),
    ("A", "B"): F(-391, 2340),
    ("B", "A"): F(-91, 2340),
    ("B", "B"): F(167, 2340),
}


def two_by_two(**elasticities):
    labels = ["A", "B"]
    before = frame([[0, 0], [0, 0]], labels)
    after = frame([[0, 0.1], [0, 0]], labels)
    arguments = {
        "import_demand_elasticity": -1.0,
        "export_supply_elasticity": 2.0,
        "substitution_elasticity": 3.0,
    }
    arguments.update(elasticities)
    return tariffcalc.models.gsim.solve(frame([[300, 100], [100, 100]], labels), before, after, **arguments)


def test_two_by_two_prices_and_quantities_by_hand():
    result = two_by_two()
    assert result.exporter_price_change["A"] == pytest.approx(float(A), rel=1e-12)
    assert result.exporter_price_change["B"] == pytest.approx(float(B), rel=1e-12)
    q = pd.DataFrame(result.quantity_change[0], index=["A", "B"], columns=["A", "B"])
    for (r, j), value in M_HAT.items():
        assert q.loc[r, j] == pytest.approx(float(value), rel=1e-12)
    assert result.max_residual < 1e-15


def test_two_by_two_welfare_by_hand():
    # Values after at world prices: M1 = M0 (1 + M̂)(1 + P̂_r). Welfare (trapezoids):
    #   CS_A = −½ [ (300 + 300(1 + 53/2340)) · a + (100 + 100(1 − 91/2340)) · b ]   (A has no tariffs)
    #        = −½ [ 300 · 4733/2340 · (−29/2340) + 100 · 4589/2340 · 19/2340 ] = 2.96388
    #   CS_B = −½ [ (100 + 100(1 − 391/2340)) · (1.1(1 + a) − 1) + (100 + 100(1 + 167/2340)) · b ]
    #   PS_A = ½ (400 + 300(1 + 53/2340) + 100(1 − 391/2340)) · a,  PS_B likewise with b
    #   revenue_B = 0.1 · 100 (1 − 391/2340)(1 + a) = 10 · 1949/2340 · 2311/2340 = 8.22584
    half = F(1, 2)
    cs_a = -half * (300 * (2 + M_HAT["A", "A"]) * A + 100 * (2 + M_HAT["B", "A"]) * B)
    cs_b = -half * (100 * (2 + M_HAT["A", "B"]) * (F(11, 10) * (1 + A) - 1) + 100 * (2 + M_HAT["B", "B"]) * B)
    ps_a = half * (400 + 300 * (1 + M_HAT["A", "A"]) + 100 * (1 + M_HAT["A", "B"])) * A
    ps_b = half * (200 + 100 * (1 + M_HAT["B", "A"]) + 100 * (1 + M_HAT["B", "B"])) * B
    revenue_b = F(1, 10) * 100 * (1 + M_HAT["A", "B"]) * (1 + A)
    assert float(cs_a) == pytest.approx(2.96388, abs=1e-5)
    assert float(revenue_b) == pytest.approx(8.22584, abs=1e-5)
    welfare = two_by_two().welfare
    expected = {
        "A": (cs_a, ps_a, F(0), cs_a + ps_a),
        "B": (cs_b, ps_b, revenue_b, cs_b + ps_b + revenue_b),
    }
    columns = ["consumer_surplus_usd", "producer_surplus_usd", "tariff_revenue_usd", "net_welfare_usd"]
    for country, values in expected.items():
        for column, value in zip(columns, values, strict=True):
            assert welfare.loc[country, column] == pytest.approx(float(value), rel=1e-12, abs=1e-12)


def test_import_demand_elasticity_sign_is_ignored():
    negative = two_by_two(import_demand_elasticity=-1.25)
    positive = two_by_two(import_demand_elasticity=1.25)
    pd.testing.assert_series_equal(negative.exporter_price_change, positive.exporter_price_change)


# --- identities on a larger random case ----------------------------------------------------------------


@pytest.fixture
def random_world():
    rng = np.random.default_rng(11)
    labels = ["USA", "CHN", "DEU", "MEX", "JPN", "KOR"]
    values = rng.uniform(0, 100, (6, 6)) * (rng.uniform(size=(6, 6)) > 0.2)
    np.fill_diagonal(values, 0.0)
    before = rng.uniform(0, 0.1, (6, 6))
    after = before + rng.uniform(0, 0.3, (6, 6))
    em = pd.Series(rng.uniform(0.5, 2.0, 6), index=labels)
    es = pd.Series(rng.uniform(1.0, 5.0, 6), index=labels)
    ex = pd.Series([1.5, 2.0, math.inf, 0.8, 3.0, 1.0], index=labels)
    result = tariffcalc.models.gsim.solve(
        frame(values, labels), frame(before, labels), frame(after, labels), em, ex, es
    )
    return result, values, before, after, em, es, ex


def test_market_clearing_residuals_vanish(random_world):
    result, values, *_ = random_world
    assert result.max_residual < 1e-12
    # independently: Σ_j φ_rj M̂_rj = E_x,r P̂_r for the finite-E_x exporters
    q = result.quantity_change[0]
    phi = values / values.sum(axis=1, keepdims=True)
    ex = np.array([1.5, 2.0, np.inf, 0.8, 3.0, 1.0])
    finite = np.isfinite(ex)
    lhs = (phi * q).sum(axis=1)
    np.testing.assert_allclose(lhs[finite], ex[finite] * result.price_change[0][finite], atol=1e-12)
    assert result.price_change[0][~finite] == 0.0


def test_diversion_sums_to_zero_within_each_market(random_world):
    result, values, before, after, em, *_ = random_world
    table = result.bilateral()
    assert table.groupby("importer")["trade_diversion_usd"].sum().abs().max() < 1e-9
    # The model's own substitution term E_s (P̄_j − P̂_rj) averages to zero over sources at internal prices:
    # Σ_r θ_rj (M̂_rj − E_m,j P̄_j) = 0, with P̄_j = Σ_r θ_rj P̂_rj.
    theta = values * (1 + before) / (values * (1 + before)).sum(axis=0, keepdims=True)
    internal = (1 + after) / (1 + before) - 1 + result.price_change[0][:, None]
    composite = (theta * internal).sum(axis=0)
    substitution = result.quantity_change[0] - (-em.to_numpy()) * composite
    np.testing.assert_allclose((theta * substitution).sum(axis=0), 0.0, atol=1e-12)


def test_equal_tariff_changes_give_no_diversion():
    labels = ["USA", "CHN", "DEU"]
    values = frame([[0, 50, 20], [400, 0, 30], [250, 60, 0]], labels)
    before = frame([[0, 0.05, 0.05], [0.1, 0, 0.02], [0.1, 0.03, 0]], labels)
    after = before.copy()
    after["USA"] = before["USA"] + 0.2  # every source into the USA market: the same rate change
    result = tariffcalc.models.gsim.solve(values, before, after, 1.2, math.inf, 2.5)
    table = result.bilateral()
    assert table.loc[table["importer"] == "USA", "trade_diversion_usd"].abs().max() < 1e-9


# --- the one-importer GSIM is the linearised Armington model ------------------------------------------


@pytest.mark.parametrize("eps", [2.0, math.inf])
def test_one_importer_matches_armington_for_small_changes(eps):
    labels = ["USA", "CHN", "DEU", "MEX"]
    value = np.array([400.0, 250.0, 350.0])
    t0 = np.array([0.03, 0.02, 0.0])
    t1 = t0 + 1e-4 * np.array([1.0, 0.5, 0.0])
    flows_matrix = frame(np.zeros((4, 4)), labels)
    before, after = flows_matrix.copy(), flows_matrix.copy()
    flows_matrix.loc[labels[1:], "USA"] = value
    before.loc[labels[1:], "USA"] = t0
    after.loc[labels[1:], "USA"] = t1
    linear = tariffcalc.models.gsim.solve(flows_matrix, before, after, 1.2, eps, 1.5)
    exact = solve_markets(value, t0, t1, np.zeros(3, int), 1.2, 1.5, eps)
    # Both changes are O(1e-4); they agree to O(1e-8), i.e. to about 1e-4 of their size.
    gsim_flow_change = linear.flows_after[0, 1:, 0] - value
    np.testing.assert_allclose(gsim_flow_change, exact.imports_after_usd - value, rtol=1e-3, atol=1e-9)
    np.testing.assert_allclose(linear.price_change[0, 1:], exact.world_price_ratio - 1, rtol=1e-3, atol=1e-12)
    usa = linear.welfare.loc["USA"]
    assert usa["consumer_surplus_usd"] == pytest.approx(exact.consumer_surplus_change_usd.sum(), rel=1e-3)
    assert usa["tariff_revenue_usd"] == pytest.approx(exact.revenue_change_usd.sum(), rel=1e-3)
    partners = linear.welfare.loc[labels[1:], "producer_surplus_usd"].to_numpy()
    np.testing.assert_allclose(partners, exact.producer_surplus_change_usd, rtol=1e-3, atol=1e-12)


# --- input errors --------------------------------------------------------------------------------------


def test_input_errors_say_what_is_wrong():
    labels = ["A", "B"]
    good = frame([[0, 1], [1, 0]], labels)
    with pytest.raises(ModelError, match="same countries"):
        tariffcalc.models.gsim.solve(good, frame([[0, 0], [0, 0]], ["A", "C"]), good * 0)
    with pytest.raises(ModelError, match="DataFrame"):
        tariffcalc.models.gsim.solve(good.to_numpy(), good * 0, good * 0)
    with pytest.raises(ModelError, match="no value for B"):
        tariffcalc.models.gsim.solve(good, good * 0, good * 0.1, pd.Series({"A": 1.0}))
    with pytest.raises(ModelError, match=">= 0"):
        tariffcalc.models.gsim.solve(-good, good * 0, good * 0)
    # One exporter, one importer, no demand or supply response: the price level is not determined.
    only = frame([[0, 0], [5, 0]], labels)
    with pytest.raises(ModelError, match="singular"):
        tariffcalc.models.gsim.solve(only, only * 0, only * 0.1, 0.0, 0.0, 2.0)


# --- the bundled US mode ------------------------------------------------------------------------------


@pytest.fixture
def us_result(write_scenario, zero_baseline) -> duties.Result:
    table = flows(("CHN", "6109100012", 300.0), ("VNM", "6109100012", 100.0), ("CHN", "8471300100", 450.0))
    return duties.compute(table, write_scenario(CHINA_40), zero_baseline)


def test_us_mode_mirror_retaliation(us_result):
    plain = gsim.us_markets(us_result, "none")
    mirror = gsim.us_markets(us_result, "mirror")
    exports = plain.bilateral().query("exporter == 'USA'")
    assert (exports["flow_after_usd"] == exports["flow_before_usd"]).all()  # no retaliation, ε = ∞
    # China's goods paid 40 % more, so China charges 40 % on US goods. China's market for US goods in
    # chapter 01 has one source (θ = 1), so M̂ = E_m T̂ = −0.872 · 0.4 (Hauk, chapter 01) with P̂ = 0.
    table = mirror.bilateral().set_index(["hs", "exporter", "importer"])
    row = table.loc[("01", "USA", "CHN")]
    assert row["tariff_after"] == pytest.approx(0.40, rel=1e-12)
    assert row["flow_after_usd"] == pytest.approx(row["flow_before_usd"] * (1 - 0.872 * 0.4), rel=1e-12)
    # China's tariff revenue is 40 % of the US goods it still buys; the US's imports are unaffected.
    to_china = mirror.bilateral().query("exporter == 'USA' and importer == 'CHN'")
    assert mirror.welfare.loc["CHN", "tariff_revenue_usd"] == pytest.approx(
        0.4 * to_china["flow_after_usd"].sum()
    )
    assert mirror.welfare.loc["USA", "imports_after_usd"] == pytest.approx(
        plain.welfare.loc["USA", "imports_after_usd"]
    )
    with pytest.raises(ModelError, match="retaliation"):
        gsim.us_markets(us_result, "tit-for-tat")


# --- the command -------------------------------------------------------------------------------------


@pytest.fixture
def matrices(tmp_path: Path) -> list[Path]:
    paths = []
    for name, text in (
        ("flows.csv", ",A,B\nA,300,100\nB,100,100\n"),
        ("before.csv", ",A,B\nA,0,0\nB,0,0\n"),
        ("after.csv", ",A,B\nA,0,0.1\nB,0,0\n"),
    ):
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    return paths


def test_command_on_matrix_files(matrices, tmp_path):
    flows_path, before, after = (str(p) for p in matrices)
    out = tmp_path / "out"
    arguments = ["--flows", flows_path, "--tariff-before", before, "--tariff-after", after]
    arguments += ["--import-demand-elasticity", "1", "--substitution-elasticity", "3"]
    arguments += ["--export-supply-elasticity", "2", "--out", str(out)]
    result = CliRunner().invoke(gsim_command, arguments)
    assert result.exit_code == 0, result.output
    welfare = pd.read_csv(out / "welfare.csv", encoding="utf-8-sig", index_col="country")
    assert welfare.loc["A", "exporter_price_change"] == pytest.approx(float(A), rel=1e-9)
    assert {"welfare.csv", "welfare_by_product.csv", "flows.csv", "manifest.json"} <= {
        p.name for p in out.iterdir()
    }
    again = CliRunner().invoke(gsim_command, arguments)  # the folder is ours now: rewriting is allowed
    assert again.exit_code == 0, again.output


def test_command_usage_errors(matrices):
    runner = CliRunner()
    only_flows = runner.invoke(gsim_command, ["--flows", str(matrices[0])])
    assert only_flows.exit_code == 2 and "all three" in only_flows.output
    bad = runner.invoke(gsim_command, ["--export-supply-elasticity", "-1"])
    assert bad.exit_code == 2 and "export_supply_elasticity" in bad.output
    group = click.Group(commands=[gsim_command])
    text = matrices[2].parent / "text.csv"
    text.write_text(",A,B\nA,0,x\nB,0,0\n")
    wrong = runner.invoke(
        group,
        [
            "gsim",
            "--flows",
            str(matrices[0]),
            "--tariff-before",
            str(text),
            "--tariff-after",
            str(matrices[2]),
        ],
    )
    assert isinstance(wrong.exception, ModelError) and "text.csv" in str(wrong.exception)


def test_parameters_reach_the_matrix_mode(matrices):
    result = gsim.solve_files(*matrices, Parameters(export_supply_elasticity=2, substitution_elasticity=3))
    assert result.exporter_price_change["A"] == pytest.approx(float(A), rel=1e-12)


def test_terminal_summary_leaves_out_countries_without_change():
    """With infinitely elastic supply no world price moves: no price column, and only the countries whose
    welfare changes are listed, with how many were left out."""
    labels = ["USA", "CHN", "AAA", "BBB"]
    values = frame([[0, 0, 0, 0], [500, 0, 0, 0], [0.001, 0, 0, 0], [0, 0, 0, 0]], labels)
    before = frame([[0] * 4] * 4, labels)
    after = frame([[0, 0, 0, 0], [0.25, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], labels)
    text = gsim.to_text(gsim.solve(values, before, after, 1.2, math.inf, 2.5))
    assert "price" not in text.splitlines()[3] and "0.00%" not in text
    assert "United States (USA)" in text  # the only country whose welfare changes: China's price is fixed
    assert "CHN" not in text and "AAA" not in text and "BBB" not in text
    assert "3 countries whose figures are all zero at this precision not shown" in text
    assert "No exporter's world price changes by 0.01 % or more" in text
    moving = gsim.to_text(gsim.solve(values, before, after, 1.2, 2.0, 2.5))
    assert "price" in moving.splitlines()[3] and "China (CHN)" in moving and "-9.38%" in moving
    assert "1 country whose figures are all zero" in moving and "BBB" not in moving
