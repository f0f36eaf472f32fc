"""The one-importer CES Armington model against hand-worked cases, closed forms and a second implementation."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from tariffcalc.engine import duties
from tariffcalc.errors import ModelError
from tariffcalc.models import armington
from tariffcalc.models.armington import solve_markets
from tariffcalc.reference import bundled
from tariffcalc.reference.parameters import Parameters
from tariffcalc.rules.scenario import load_scenario
from tests.conftest import CHINA_40, flows

INF = math.inf


def one_market(value, t0, t1, eta, sigma, eps=INF):
    """Solve a single market of sources given as lists."""
    n = len(value)
    return solve_markets(
        np.array(value, float), np.array(t0, float), np.array(t1, float), np.zeros(n, int), eta, sigma, eps
    )


# --- special cases required by the issue -------------------------------------------------------------


@pytest.mark.parametrize("eps", [INF, 2.0, 0.5])
def test_no_demand_response_gives_the_static_result(eps):
    # η = σ = 0: quantities cannot move, so (with any supply elasticity) world prices stay put too and
    # every source pays the scenario rate on unchanged trade.
    value, t0, t1 = [100.0, 50.0, 25.0], [0.02, 0.0, 0.10], [0.30, 0.10, 0.10]
    s = one_market(value, t0, t1, eta=0.0, sigma=0.0, eps=eps)
    np.testing.assert_allclose(s.imports_after_usd, value, rtol=1e-14)
    np.testing.assert_allclose(s.world_price_ratio, 1.0, rtol=1e-14)
    np.testing.assert_allclose(s.duty_after_usd, [30.0, 5.0, 2.5], rtol=1e-14)
    np.testing.assert_allclose(s.trade_creation_usd, 0.0, atol=1e-12)
    np.testing.assert_allclose(s.trade_diversion_usd, 0.0, atol=1e-12)
    # Revenue change = added duty = 100·0.28 + 50·0.10 + 0 = 33; consumers pay exactly that, no deadweight loss.
    assert s.revenue_change_usd.sum() == pytest.approx(33.0, rel=1e-14)
    assert s.consumer_surplus_change_usd.sum() == pytest.approx(-33.0, rel=1e-14)
    np.testing.assert_allclose(s.deadweight_loss_usd, 0.0, atol=1e-12)
    # With σ = 0 the price index is the Laspeyres index: spending 102, 50, 27.5 (total 179.5) and price
    # ratios 1.3/1.02, 1.1, 1 → (102 · 1.3/1.02 + 50 · 1.1 + 27.5) / 179.5 = (130 + 55 + 27.5) / 179.5.
    assert s.market_price_index_ratio[0] == pytest.approx(212.5 / 179.5, rel=1e-14)


@pytest.mark.parametrize("eps", [INF, 3.0])
def test_equal_changes_on_every_source_give_no_diversion(eps):
    # Every source's tariff power rises by the same factor τ = 1.1 (t0 differs, so t1 = 1.1 (1 + t0) − 1):
    # relative prices do not move, so nothing is diverted and each source shrinks in proportion.
    value = np.array([300.0, 120.0, 80.0])
    t0 = np.array([0.0, 0.05, 0.20])
    t1 = 1.1 * (1 + t0) - 1
    s = one_market(value, t0, t1, eta=1.4, sigma=2.5, eps=eps)
    np.testing.assert_allclose(s.trade_diversion_usd, 0.0, atol=1e-10)
    np.testing.assert_allclose(s.trade_creation_usd, s.imports_after_usd - value, rtol=1e-12)
    if eps == INF:
        # Closed form with fixed world prices: P = τ, q = τ^(−η) = 1.1^(−1.4) = 0.8751136…
        np.testing.assert_allclose(s.quantity_ratio, 1.1**-1.4, rtol=1e-13)
        assert s.trade_creation_usd.sum() == pytest.approx(500.0 * (1.1**-1.4 - 1), rel=1e-12)
    else:
        # Single-good algebra: ln w = −η/(ε+η) ln τ = −(1.4/4.4) ln 1.1 for every source.
        np.testing.assert_allclose(np.log(s.world_price_ratio), -(1.4 / 4.4) * math.log(1.1), rtol=1e-12)


def test_tiny_changes_match_the_linear_smart_formulas():
    # Three sources with the same baseline rate t0 = 0.05 (so spending shares equal value shares) and
    # tiny, different increases. The linear (SMART-style, first-order) formulas, η and σ as magnitudes:
    #   trade creation TC_i = −M0_i · η · Δt_i / (1 + t0)
    #   diversion (first order) TD_i = −σ · M0_i · (Δt_i − Σ_k w_k Δt_k) / (1 + t0),  w = value shares.
    value = np.array([600.0, 300.0, 100.0])
    t0 = np.full(3, 0.05)
    dt = np.array([2e-6, 1e-6, 0.0])
    eta, sigma = 1.3, 1.5
    s = one_market(value, t0, t0 + dt, eta=eta, sigma=sigma)
    # Hand: Σ M0 Δt = 600·2e-6 + 300·1e-6 = 1.5e-3 → TC = −1.3 · 1.5e-3 / 1.05 = −1.857142857e-3
    assert s.trade_creation_usd.sum() == pytest.approx(-1.3 * 1.5e-3 / 1.05, rel=1e-5)
    # Σ w Δt = 0.6·2e-6 + 0.3·1e-6 = 1.5e-6 → TD = −1.5 · M0 · (Δt − 1.5e-6) / 1.05
    #   = [−1.5·600·0.5e-6, −1.5·300·(−0.5e-6), −1.5·100·(−1.5e-6)] / 1.05
    expected_td = np.array([-4.5e-4, 2.25e-4, 2.25e-4]) / 1.05
    np.testing.assert_allclose(s.trade_diversion_usd, expected_td, rtol=1e-5)


def test_tiny_change_single_source_trade_creation():
    # One flow, M0 = 1000, t0 = 0.05, Δt = 1e-5, η = 1.3: TC = −1000 · 1.3 · 1e-5 / 1.05 = −0.012380952…
    s = one_market([1000.0], [0.05], [0.05 + 1e-5], eta=1.3, sigma=1.5)
    assert s.trade_creation_usd[0] == pytest.approx(-0.0123809524, rel=1e-4)


def test_cobb_douglas_sigma_one():
    # σ = 1: the price index is the geometric mean. Two sources, equal value, t0 = 0; source 1 gets 20 %.
    # P = 1.2^0.5 * 1^0.5 = 1.0954451. With η = 1 spending at internal prices on each source is unchanged
    # (Cobb-Douglas shares are constant and total spending P·Q = P^(1−η) = 1): M1 = (100, 100) / (1.2, 1).
    s = one_market([100.0, 100.0], [0.0, 0.0], [0.2, 0.0], eta=1.0, sigma=1.0)
    assert s.market_price_index_ratio[0] == pytest.approx(math.sqrt(1.2), rel=1e-14)
    np.testing.assert_allclose(s.imports_after_usd, [100.0 / 1.2, 100.0], rtol=1e-13)
    # Continuity: σ just off 1 gives the same answer (no division by zero, no loss of precision).
    for sigma in (1 - 1e-9, 1 + 1e-9, 1 + 1e-13):
        near = one_market([100.0, 100.0], [0.0, 0.0], [0.2, 0.0], eta=1.0, sigma=sigma)
        np.testing.assert_allclose(near.imports_after_usd, s.imports_after_usd, rtol=1e-8)
    finite = one_market([100.0, 100.0], [0.0, 0.0], [0.2, 0.0], eta=1.0, sigma=1.0, eps=2.0)
    assert np.isfinite(finite.imports_after_usd).all()


def test_finite_export_supply_lowers_exporter_prices_and_shifts_the_burden():
    # One source, t0 = 0, t1 = 0.10, η = 1. Substituting w = q^(1/ε) into q = (τ w)^(−η) gives
    # ln w = −η/(ε+η) ln τ: ε = 3 → w = 1.1^(−1/4) = 0.976454; the buyer's price rises by 1.1^(3/4).
    fixed = one_market([1000.0], [0.0], [0.1], eta=1.0, sigma=1.5)
    elastic = one_market([1000.0], [0.0], [0.1], eta=1.0, sigma=1.5, eps=3.0)
    inelastic = one_market([1000.0], [0.0], [0.1], eta=1.0, sigma=1.5, eps=1.0)
    assert fixed.world_price_ratio[0] == 1.0
    assert fixed.totals()["foreign_burden_share"] == 0.0
    assert elastic.world_price_ratio[0] == pytest.approx(1.1**-0.25, rel=1e-14)
    assert elastic.internal_price_ratio[0] == pytest.approx(1.1**0.75, rel=1e-14)
    # Burden on the new quantity: foreign (1 − w), domestic (τ w − 1) per unit →
    # share = (1 − 1.1^−0.25) / (1.1^0.75 − 1.1^−0.25) = 0.0235459 / 0.0976454 = 0.24114
    share = (1 - 1.1**-0.25) / (1.1**0.75 - 1.1**-0.25)
    assert elastic.totals()["foreign_burden_share"] == pytest.approx(share, rel=1e-12)
    assert inelastic.totals()["foreign_burden_share"] > elastic.totals()["foreign_burden_share"] > 0
    assert elastic.producer_surplus_change_usd[0] < 0
    # Tiny tariff: the textbook incidence η / (η + ε) = 1/4 of the wedge falls on the foreign supplier.
    tiny = one_market([1000.0], [0.0], [1e-6], eta=1.0, sigma=1.5, eps=3.0)
    assert tiny.totals()["foreign_burden_share"] == pytest.approx(0.25, rel=1e-5)


def test_finite_supply_with_diversion_raises_untaxed_exporters_prices():
    # Two sources, only the first is taxed: demand shifts to the second, whose supply price rises.
    s = one_market([100.0, 100.0], [0.0, 0.0], [0.25, 0.0], eta=0.5, sigma=3.0, eps=2.0)
    assert s.world_price_ratio[0] < 1.0 < s.world_price_ratio[1]
    assert s.trade_diversion_usd[1] > 0 > s.trade_diversion_usd[0]


def test_textbook_linear_supply_and_demand():
    # Textbook: demand Q = 100 − P, foreign supply Q = w − 20, ad valorem tariff 50 % (P = 1.5 w).
    #   Free trade: 100 − P = P − 20 → P = w = 60, Q = 40; imports M0 = 60 · 40 = 2400 USD.
    #   Tariff: 100 − 1.5 w = w − 20 → w = 48, P = 72, Q = 28.
    #   Consumer surplus change  = −(72 − 60)(40 + 28)/2 = −408
    #   Producer surplus change  = −(60 − 48)(40 + 28)/2 = −408
    #   Tariff revenue           = 0.5 · 48 · 28 = 672
    #   Deadweight loss          = (72 − 48)(40 − 28)/2 = 144 = −(−408 − 408 + 672)
    #   Importer's net welfare   = −408 + 672 = +264 (terms-of-trade gain 336 less the triangle 72)
    # The model's constant-elasticity curves through the same two points have arc elasticities
    # η = −ln(28/40)/ln(72/60) and ε = ln(28/40)/ln(48/60); with them it finds the same equilibrium, and its
    # trapezoid areas equal the textbook's triangles and rectangles exactly.
    eta = -math.log(0.7) / math.log(1.2)
    eps = math.log(0.7) / math.log(0.8)
    s = one_market([2400.0], [0.0], [0.5], eta=eta, sigma=1.5, eps=eps)
    assert s.quantity_ratio[0] == pytest.approx(0.7, rel=1e-12)
    assert s.world_price_ratio[0] == pytest.approx(0.8, rel=1e-12)
    assert s.market_price_index_ratio[0] == pytest.approx(1.2, rel=1e-12)
    assert s.imports_after_usd[0] == pytest.approx(48 * 28, rel=1e-12)
    totals = s.totals()
    assert totals["consumer_surplus_change_usd"] == pytest.approx(-408.0, rel=1e-12)
    assert totals["producer_surplus_change_usd"] == pytest.approx(-408.0, rel=1e-12)
    assert totals["revenue_change_usd"] == pytest.approx(672.0, rel=1e-12)
    assert totals["deadweight_loss_usd"] == pytest.approx(144.0, rel=1e-12)
    assert totals["importer_net_welfare_usd"] == pytest.approx(264.0, rel=1e-12)
    assert totals["foreign_burden_share"] == pytest.approx(0.5, rel=1e-12)  # 12 of the 24 wedge


def test_small_country_harberger_triangle():
    # Flat foreign supply, one source: DWL = ½ · t · ΔM exactly with the trapezoid rule.
    # M0 = 1000, t = 0.2, η = 2: q = 1.2^(−2) = 0.694444…, ΔM = 305.555…, DWL = 0.1 · 305.555… = 30.5555…
    s = one_market([1000.0], [0.0], [0.2], eta=2.0, sigma=1.5)
    assert s.deadweight_loss_usd[0] == pytest.approx(0.1 * 1000 * (1 - 1.2**-2), rel=1e-13)


# --- a second implementation: damped fixed-point iteration on the original equations -----------------


def iterate(value, t0, t1, eta, sigma, eps, steps=4000):
    """Solve one market by iterating w ← q(w)^(1/ε) from w = 1, with the CES formulas as written."""
    spend = value * (1 + t0)
    share = spend / spend.sum()
    tau = (1 + t1) / (1 + t0)
    w = np.ones_like(value)
    for _ in range(steps):
        p = tau * w
        index = (
            np.exp(np.sum(share * np.log(p)))
            if sigma == 1
            else np.sum(share * p ** (1 - sigma)) ** (1 / (1 - sigma))
        )
        q = index**-eta * (p / index) ** -sigma
        w = 0.5 * w + 0.5 * (q ** (1 / eps) if math.isfinite(eps) else 1.0)
    return index, q, w


@pytest.mark.parametrize(
    ("eta", "sigma", "eps"),
    [(0.7, 1.5, 2.0), (1.3, 1.0, 0.5), (2.0, 4.0, INF), (0.9, 0.0, 1.2), (1.1, 0.5, 8.0)],
)
def test_closed_form_equals_fixed_point_iteration(eta, sigma, eps):
    rng = np.random.default_rng(7)
    value = rng.uniform(1, 100, 6)
    t0 = rng.uniform(0, 0.3, 6)
    t1 = t0 + rng.uniform(-0.05, 0.8, 6)
    index, q, w = iterate(value, t0, t1, eta, sigma, eps)
    s = one_market(value, t0, t1, eta, sigma, eps)
    assert s.market_price_index_ratio[0] == pytest.approx(index, rel=1e-12)
    np.testing.assert_allclose(s.quantity_ratio, q, rtol=1e-12)
    np.testing.assert_allclose(s.world_price_ratio, w, rtol=1e-12)


def test_many_markets_at_once_equal_markets_one_by_one():
    rng = np.random.default_rng(3)
    market = np.repeat(np.arange(4), [3, 1, 5, 2])
    value = rng.uniform(0, 50, len(market))
    t0 = rng.uniform(0, 0.2, len(market))
    t1 = t0 + rng.uniform(0, 0.5, len(market))
    eta, sigma, eps = (
        np.array([0.5, 1.0, 1.5, 2.0]),
        np.array([1.5, 1.0, 3.0, 0.0]),
        np.array([INF, 2.0, 0.8, 5.0]),
    )
    together = solve_markets(value, t0, t1, market, eta, sigma, eps)
    for m in range(4):
        rows = market == m
        alone = one_market(value[rows], t0[rows], t1[rows], eta[m], sigma[m], eps[m])
        np.testing.assert_allclose(together.imports_after_usd[rows], alone.imports_after_usd, rtol=1e-13)
        # diversion sums to zero within each market; the welfare identity holds source by source
        assert together.trade_diversion_usd[rows].sum() == pytest.approx(0.0, abs=1e-10)
    identity = (
        together.consumer_surplus_change_usd
        + together.producer_surplus_change_usd
        + together.revenue_change_usd
        + together.deadweight_loss_usd
    )
    np.testing.assert_allclose(identity, 0.0, atol=1e-10)


def test_invalid_inputs_are_clear_errors():
    with pytest.raises(ModelError, match="export_supply_elasticity must be > 0"):
        one_market([1.0], [0.0], [0.1], 1.0, 1.5, eps=0.0)
    with pytest.raises(ModelError, match="substitution_elasticity must be >= 0"):
        one_market([1.0], [0.0], [0.1], 1.0, -1.0)
    with pytest.raises(ModelError, match="above -1"):
        one_market([1.0], [0.0], [-1.0], 1.0, 1.5)


# --- respond() on a static Result ---------------------------------------------------------------------


@pytest.fixture
def small_result(write_scenario, zero_baseline) -> duties.Result:
    table = flows(
        ("CHN", "6109100012", 300.0),
        ("VNM", "6109100012", 100.0),
        ("MEX", "6109100012", 100.0),
        ("CHN", "8471300100", 400.0),
        ("DEU", "8471300100", 100.0),
        ("CHN", "8471300100", 50.0),  # a second row of the same pair: shares its pair's response
        ("FRA", "99", 20.0),
    )
    scenario = write_scenario(CHINA_40 + '\nexclude_partners = ["MEX"]\n')
    return duties.compute(table, scenario, zero_baseline, level=2)


def test_respond_with_no_response_reproduces_the_static_tables(small_result):
    response = armington.respond(
        small_result, Parameters(import_demand_elasticity=0, substitution_elasticity=0)
    )
    static = small_result.by_partner()
    table = response.by_partner()
    pd.testing.assert_frame_equal(table[static.columns], static)
    np.testing.assert_allclose(table["imports_after_usd"], table["imports_usd"], rtol=1e-14)
    np.testing.assert_allclose(table["duty_after_usd"], table["scenario_duty_usd"], rtol=1e-14)
    np.testing.assert_allclose(table["scenario_rate_after"], table["scenario_rate"], rtol=1e-14)
    rates = response.effective_rates()
    assert rates["post_substitution_scenario_rate"] == pytest.approx(rates["static_scenario_rate"], rel=1e-14)


def test_respond_tables_add_up(small_result):
    response = armington.respond(small_result)
    pairs = response.pairs()
    # Hand: the 6109 market has CHN 300 at 40 %, VNM 100 at 10 %, MEX 100 at 0 % → MEX gains by diversion.
    market = pairs[pairs["hs"] == "6109100012"].set_index("partner")
    assert market["trade_diversion_usd"].sum() == pytest.approx(0.0, abs=1e-9)
    assert market.loc["MEX", "trade_diversion_usd"] > 0 > market.loc["CHN", "trade_diversion_usd"]
    by_product = response.by_product()
    assert by_product["trade_diversion_usd"].abs().max() < 1e-9  # sums to zero within products
    for table in (response.by_partner(), by_product, response.by_partner_product()):
        assert set(armington.RESPONSE_COLUMNS) <= set(table.columns)
        assert table["imports_after_usd"].sum() == pytest.approx(pairs["imports_after_usd"].sum(), rel=1e-12)
        assert table["deadweight_loss_usd"].sum() == pytest.approx(
            pairs["deadweight_loss_usd"].sum(), rel=1e-12
        )
    rows = response.flow_rows()
    assert rows["imports_after_usd"].sum() == pytest.approx(pairs["imports_after_usd"].sum(), rel=1e-12)
    chn = rows[(rows["partner"] == "CHN") & (rows["hs"] == "8471300100")]["imports_after_usd"].to_numpy()
    assert chn[0] / chn[1] == pytest.approx(400.0 / 50.0, rel=1e-12)
    # The chapter row 99 is split over chapter 99's HTS10 import mix; FRA is the only source of each of
    # those codes here: with t0 = 0, t1 = 0.10 and the fallback η = 1.0 (chapter 99 has no Hauk estimate)
    # its imports fall to 20 · 1.1^(−1).
    fra = pairs[(pairs["partner"] == "FRA") & (pairs["data_hs"] == "99")]
    assert len(fra) >= 1 and fra["hs"].str.len().eq(10).all()  # chapter 99's mix: 9999950000 alone
    assert (fra["import_demand_elasticity"] == 1.0).all()
    assert fra["imports_after_usd"].sum() == pytest.approx(20.0 / 1.1, rel=1e-12)
    assert rows.set_index(["partner", "hs"]).loc[("FRA", "99"), "imports_after_usd"] == pytest.approx(
        20.0 / 1.1, rel=1e-12
    )
    summary = response.summary()
    assert {"effective_rates", "trade", "welfare", "prices", "revenue_ladder", "parameters"} <= set(summary)
    assert summary["trade"]["trade_creation_usd"] == pytest.approx(
        pairs["imports_after_usd"].sum() - pairs["imports_usd"].sum(), rel=1e-12
    )


def test_chapter_file_overrides_scalars_and_defaults(small_result, tmp_path):
    path = tmp_path / "el.csv"
    path.write_text("hs,import_demand_elasticity,substitution_elasticity\n61,3.0,\n84,,0\n")
    parameters = Parameters(import_demand_elasticity=2.0, elasticities_file=path)
    pairs = armington.respond(small_result, parameters).pairs().set_index(["partner", "hs"])
    assert pairs.loc[("CHN", "6109100012"), "import_demand_elasticity"] == 3.0  # file beats the scalar
    assert pairs.loc[("CHN", "6109100012"), "substitution_elasticity"] == 1.5  # empty cell: default
    assert pairs.loc[("CHN", "8471300100"), "import_demand_elasticity"] == 2.0  # scalar beats Hauk
    assert pairs.loc[("CHN", "8471300100"), "substitution_elasticity"] == 0.0


def test_default_run_is_fast_and_consistent():
    # The default job: liberation-day vs baseline-2024 on the bundled 2024 imports (about 588,000 pairs in
    # the data, 1.92 million priced once the chapter rows of 148 partners are split over the HTS10 mix).
    result = duties.compute(
        bundled.default_flows(), load_scenario("liberation-day"), load_scenario("baseline-2024")
    )
    start = time.perf_counter()
    response = armington.respond(result)
    elapsed = time.perf_counter() - start
    assert elapsed < 10.0, f"response took {elapsed:.1f} s"
    s = response.solution
    per_market = np.bincount(s.market, weights=s.trade_diversion_usd)
    imports = np.bincount(s.market, weights=s.imports_usd)
    assert np.abs(per_market).max() <= 1e-9 * max(imports.max(), 1.0)
    rates = response.effective_rates()
    assert rates["static_added_rate"] == pytest.approx(result.totals()["added_rate"], rel=1e-12)
    assert rates["baseline_rate"] < rates["post_substitution_scenario_rate"] < rates["static_scenario_rate"]
