"""One importer, many sources: the CES Armington partial-equilibrium response, solved exactly.

For every product market m (one product code of the flow data) and source i (a partner), with customs
value ``M0_i`` (USD at world prices), baseline rate ``t0_i`` and scenario rate ``t1_i`` (fractions):

* ``s_i = M0_i (1 + t0_i) / Σ_k M0_k (1 + t0_k)``, the source's share of spending at internal prices;
* ``τ_i = (1 + t1_i) / (1 + t0_i)``, the change in the power of the tariff;
* ``p_i = τ_i w_i``, the change in the internal price, ``w_i`` the change in the exporter's world price;
* ``P = (Σ s_i p_i^(1−σ))^(1/(1−σ))``, the CES price index (``exp Σ s_i ln p_i`` when σ = 1);
* ``Q = P^(−η)`` the composite quantity, ``q_i = Q (p_i / P)^(−σ)`` the source's quantity;
* ``w_i = q_i^(1/ε)`` with export supply elasticity ε (``w_i = 1`` when ε is infinite).

(All of ``τ, p, w, P, Q, q`` are ratios new/old.) Substituting the supply curve into the demand gives
``ln w_i = ((σ − η) ln P − σ ln τ_i) / (ε + σ)``, so ``ln p_i = a ln τ_i + b ln P`` with
``a = ε/(ε+σ)`` and ``b = (σ−η)/(ε+σ)``, and the price index solves in closed form:

    ln P = ln(Σ s_i τ_i^(a(1−σ))) / ((1−σ)(1−b)),     or  a Σ s_i ln τ_i / (1−b)  when σ = 1,

with ``1 − b = (ε+η)/(ε+σ)``. This is the exact fixed point of the model (no linearisation and no
iteration), for every market at once. Imports after the response are ``M1_i = M0_i q_i w_i`` (USD at the
new world prices); the duty after is ``t1_i M1_i``.

Trade creation of a source is its share of the market's change in imports, ``(M0_i / Σ M0) ΔM``; trade
diversion is the rest of its change, ``ΔM_i − creation_i``, and sums to zero within each market.

Welfare (USD per year, changes): areas between the old and the new equilibrium measured with the
trapezoid rule (exact for linear curves, second-order accurate for the constant-elasticity ones):
consumer surplus ``−½ (q0 + q1)(p1 − p0)``, foreign producer surplus ``½ (q0 + q1)(w1 − w0)``, tariff
revenue ``t1 M1 − t0 M0`` and deadweight loss ``½ (q0 − q1)(t0 w0 + t1 w1)``, which equals minus the
sum of the other three. Quantities are in units worth 1 USD at the baseline world price.
See docs/model.md for the sources (Armington 1969; the SMART documentation; Francois and Hall 2003).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.engine.duties import Result
from tariffcalc.errors import ModelError
from tariffcalc.models import prices, revenue
from tariffcalc.reference.parameters import Parameters

COBB_DOUGLAS_TOLERANCE = 1e-12
"""``|1 − σ|`` below which the Cobb-Douglas (geometric mean) form of the price index is used."""

SUM_COLUMNS = (
    "imports_after_usd",
    "duty_after_usd",
    "trade_creation_usd",
    "trade_diversion_usd",
    "revenue_change_usd",
    "consumer_surplus_change_usd",
    "producer_surplus_change_usd",
    "deadweight_loss_usd",
)
"""Response columns (USD) that aggregate tables sum."""

RESPONSE_COLUMNS = (
    *SUM_COLUMNS,
    "scenario_rate_after",
    "added_rate_after",
    "price_index_change",
    "world_price_change",
)
"""Columns the response adds to the static tables, in order."""


@dataclasses.dataclass(frozen=True)
class MarketSolution:
    """The exact solution for every source (arrays over sources) and market (arrays over markets).

    Ratios are new/old; amounts are USD per year; ``price_index_change`` and ``world_price_change`` are
    fractions (0.05 = +5 %).
    """

    market: np.ndarray
    imports_usd: np.ndarray
    rate_before: np.ndarray
    rate_after: np.ndarray
    quantity_ratio: np.ndarray
    world_price_ratio: np.ndarray
    internal_price_ratio: np.ndarray
    market_price_index_ratio: np.ndarray
    market_spending_usd: np.ndarray
    market_quantity_ratio: np.ndarray
    """Each market's composite quantity new/old, ``Q = P^(−η)``."""
    imports_after_usd: np.ndarray
    duty_after_usd: np.ndarray
    trade_creation_usd: np.ndarray
    trade_diversion_usd: np.ndarray
    consumer_surplus_change_usd: np.ndarray
    producer_surplus_change_usd: np.ndarray
    revenue_change_usd: np.ndarray
    deadweight_loss_usd: np.ndarray

    @property
    def price_index_change(self) -> np.ndarray:
        """Change in each source's market price index (fraction), one value per source."""
        return self.market_price_index_ratio[self.market] - 1.0

    @property
    def world_price_change(self) -> np.ndarray:
        """Change in each source's world (exporter) price (fraction)."""
        return self.world_price_ratio - 1.0

    def totals(self) -> dict[str, float]:
        """Sums over all sources (USD) and the burden shares (fractions)."""
        out = {"imports_usd": float(self.imports_usd.sum())}
        for name in SUM_COLUMNS:
            out[name] = float(getattr(self, name).sum())
        out["trade_diversion_gross_usd"] = float(np.abs(self.trade_diversion_usd).sum() / 2)
        out["importer_net_welfare_usd"] = out["consumer_surplus_change_usd"] + out["revenue_change_usd"]
        foreign, domestic = self.burden_usd()
        out["foreign_burden_usd"] = foreign
        out["domestic_burden_usd"] = domestic
        out["foreign_burden_share"] = foreign / (foreign + domestic) if foreign + domestic != 0 else 0.0
        return out

    def burden_usd(self) -> tuple[float, float]:
        """Who bears the change in the tariff wedge on the new quantities (USD).

        Foreign: the fall of exporters' world prices, ``Σ q1 (w0 − w1)``; domestic: the rise of the
        buyers' duty-inclusive prices, ``Σ q1 (p1 − p0)``. With infinitely elastic supply the foreign part
        is zero; in a single small market it tends to ``η / (η + ε)`` of the total.
        """
        q1 = self.imports_usd * self.quantity_ratio
        foreign = float(np.sum(q1 * (1.0 - self.world_price_ratio)))
        domestic = float(
            np.sum(q1 * ((1.0 + self.rate_after) * self.world_price_ratio - (1.0 + self.rate_before)))
        )
        return foreign, domestic


def _per_market(name: str, value: Any, n_markets: int) -> np.ndarray:
    array = np.broadcast_to(np.asarray(value, dtype=float), (n_markets,)).copy()
    if np.isnan(array).any() or (array < 0).any():
        raise ModelError(f"{name} must be >= 0 in every market.")
    return array


def solve_markets(
    imports_usd: np.ndarray,
    rate_before: np.ndarray,
    rate_after: np.ndarray,
    market: np.ndarray,
    import_demand_elasticity: float | np.ndarray,
    substitution_elasticity: float | np.ndarray,
    export_supply_elasticity: float | np.ndarray,
    n_markets: int | None = None,
) -> MarketSolution:
    """Solve the CES Armington model exactly for every market at once.

    ``imports_usd`` (customs value, USD), ``rate_before``/``rate_after`` (ad valorem fractions) and
    ``market`` (integer market index 0..n_markets−1) are arrays over sources. The elasticities are
    magnitudes, scalars or arrays over markets; ``export_supply_elasticity`` may be ``math.inf``.
    """
    value = np.asarray(imports_usd, dtype=float)
    t0 = np.asarray(rate_before, dtype=float)
    t1 = np.asarray(rate_after, dtype=float)
    g = np.asarray(market, dtype=np.int64)
    if not (len(value) == len(t0) == len(t1) == len(g)):
        raise ModelError("imports, rates and markets must have the same length.")
    if (value < 0).any() or not np.isfinite(value).all():
        raise ModelError("Import values must be finite and >= 0.")
    if (t0 <= -1).any() or (t1 <= -1).any() or not (np.isfinite(t0).all() and np.isfinite(t1).all()):
        raise ModelError("Tariff rates must be finite and above -1 (-100 %).")
    m = int(n_markets if n_markets is not None else (g.max() + 1 if len(g) else 0))
    eta = _per_market("import_demand_elasticity", import_demand_elasticity, m)
    sigma = _per_market("substitution_elasticity", substitution_elasticity, m)
    eps = _per_market("export_supply_elasticity", export_supply_elasticity, m)
    if np.isinf(eta).any() or np.isinf(sigma).any():
        raise ModelError("import_demand_elasticity and substitution_elasticity must be finite.")
    if (eps == 0).any():
        raise ModelError("export_supply_elasticity must be > 0 (use a small number for nearly fixed supply).")

    finite = np.isfinite(eps)
    eps_f = np.where(finite, eps, 1.0)  # 1.0 stands in where ε is infinite; those cells are never used
    a = np.where(finite, eps_f / (eps_f + sigma), 1.0)
    b = np.where(finite, (sigma - eta) / (eps_f + sigma), 0.0)
    one_minus_b = 1.0 - b  # = (ε + η)/(ε + σ) > 0 because ε > 0

    spend0 = value * (1.0 + t0)
    spending = np.bincount(g, weights=spend0, minlength=m)
    active = spending > 0
    share = np.divide(spend0, spending[g], out=np.zeros_like(spend0), where=spending[g] > 0)
    log_tau = np.log1p(t1) - np.log1p(t0)

    one_minus_sigma = 1.0 - sigma
    cobb_douglas = np.abs(one_minus_sigma) < COBB_DOUGLAS_TOLERANCE
    # ln Σ s τ^c with c = a(1−σ), computed as log1p(Σ s expm1(c ln τ)) so that it stays accurate as σ → 1.
    c = a * one_minus_sigma
    ces_sum = np.bincount(g, weights=share * np.expm1(c[g] * log_tau), minlength=m)
    geometric = np.bincount(g, weights=share * log_tau, minlength=m)
    safe_divisor = np.where(cobb_douglas, 1.0, one_minus_sigma * one_minus_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_index = np.where(
            cobb_douglas, a * geometric / one_minus_b, np.log1p(np.maximum(ces_sum, -1.0)) / safe_divisor
        )
    log_index = np.where(active, log_index, 0.0)
    if not np.isfinite(log_index).all():
        raise ModelError("The price index could not be computed (a market's tariff change is out of range).")

    x = log_index[g]
    log_w = np.where(finite[g], ((sigma - eta)[g] * x - sigma[g] * log_tau) / (eps_f + sigma)[g], 0.0)
    log_p = log_tau + log_w
    log_q = -eta[g] * x - sigma[g] * (log_p - x)
    q = np.exp(log_q)
    w = np.exp(log_w)
    imports_after = value * q * w

    total_before = np.bincount(g, weights=value, minlength=m)
    total_change = np.bincount(g, weights=imports_after - value, minlength=m)
    creation = np.divide(
        value * total_change[g], total_before[g], out=np.zeros_like(value), where=total_before[g] > 0
    )
    diversion = (imports_after - value) - creation

    p_before = 1.0 + t0
    p_after = (1.0 + t1) * w
    return MarketSolution(
        market=g,
        imports_usd=value,
        rate_before=t0,
        rate_after=t1,
        quantity_ratio=q,
        world_price_ratio=w,
        internal_price_ratio=np.exp(log_p),
        market_price_index_ratio=np.exp(log_index),
        market_spending_usd=spending,
        market_quantity_ratio=np.exp(-eta * log_index),
        imports_after_usd=imports_after,
        duty_after_usd=t1 * imports_after,
        trade_creation_usd=creation,
        trade_diversion_usd=diversion,
        consumer_surplus_change_usd=-0.5 * value * (1.0 + q) * (p_after - p_before),
        producer_surplus_change_usd=0.5 * value * (1.0 + q) * (w - 1.0),
        revenue_change_usd=t1 * imports_after - t0 * value,
        deadweight_loss_usd=0.5 * value * (1.0 - q) * (t0 + t1 * w),
    )


@dataclasses.dataclass(frozen=True)
class Markets:
    """Distinct (partner, code) pairs of a static result grouped into product markets (one per code)."""

    market: np.ndarray
    codes: np.ndarray
    elasticities: pd.DataFrame

    @classmethod
    def from_result(cls, result: Result, parameters: Parameters) -> Markets:
        codes = np.asarray(result.codes, dtype=object)  # the result's distinct codes: one market each
        chapters = np.array([code[:2] for code in codes], dtype=object)
        return cls(
            market=result.pair_code_index.astype(np.int64),
            codes=codes,
            elasticities=parameters.chapter_elasticities(chapters),
        )

    def solve(self, result: Result, substitution_elasticity: float | None = None) -> MarketSolution:
        """Solve all markets; ``substitution_elasticity`` replaces σ in every market (for the price range)."""
        e = self.elasticities
        sigma = (
            e["substitution_elasticity"].to_numpy()
            if substitution_elasticity is None
            else substitution_elasticity
        )
        return solve_markets(
            result.pair_value,
            result.baseline_schedule.total_rate,
            result.scenario_schedule.total_rate,
            self.market,
            e["import_demand_elasticity"].to_numpy(),
            sigma,
            e["export_supply_elasticity"].to_numpy(),
            n_markets=len(self.codes),
        )


@dataclasses.dataclass
class Response:
    """The Armington response of a static :class:`~tariffcalc.engine.duties.Result`.

    Tables carry the static columns of the result and the :data:`RESPONSE_COLUMNS`; amounts in USD per
    year at 2024 trade values, rates and price changes as fractions.
    """

    result: Result
    parameters: Parameters
    markets: Markets
    solution: MarketSolution
    price_effects: dict[str, prices.PriceEffect]
    ladder: list[revenue.LadderStep]

    def pairs(self) -> pd.DataFrame:
        """One row per distinct (partner, code) pair priced with its static and response figures.

        A coarse row split over the import mix gives one row per code of the mix (``hs``; each code is its
        own market, where the partner competes with that code's other sources), with ``data_hs`` the row's
        own code; elsewhere ``data_hs`` equals ``hs``.
        """
        s = self.solution
        r = self.result
        table = pd.DataFrame(
            {
                "partner": r.pair_partner,
                "hs": r.pair_code,
                "data_hs": r.codes[r.pair_data_code_index],
                "imports_usd": r.pair_value,
                "baseline_duty_usd": r.baseline_duty,
                "scenario_duty_usd": r.scenario_duty,
                "baseline_rate": s.rate_before,
                "scenario_rate": s.rate_after,
            }
        )
        for name in SUM_COLUMNS:
            table[name] = getattr(s, name)
        table["scenario_rate_after"] = s.rate_after
        table["added_rate_after"] = s.rate_after - s.rate_before
        table["price_index_change"] = s.price_index_change
        table["world_price_change"] = s.world_price_change
        elasticities = self.markets.elasticities.iloc[self.markets.market]
        for column in ("import_demand_elasticity", "substitution_elasticity", "export_supply_elasticity"):
            table[column] = elasticities[column].to_numpy()
        return table

    def flow_rows(self) -> pd.DataFrame:
        """The input flows, one row each, with the response of their pair in proportion to their value."""
        r = self.result
        out = r.flows.copy()
        pair = r.row_pair  # the data's pairs: a split coarse row's sub-pairs are summed back first
        value = out["value_usd"].to_numpy(dtype=float)
        pair_value = r.data_pair_value[pair]
        weight = np.divide(value, pair_value, out=np.zeros_like(value), where=pair_value > 0)
        s = self.solution
        for name in SUM_COLUMNS:
            out[name] = r.data_pair_sum(getattr(s, name))[pair] * weight
        out["price_index_change"] = r.data_pair_rate(s.price_index_change)[pair]
        out["world_price_change"] = r.data_pair_rate(s.world_price_change)[pair]
        return out

    def _aggregate(
        self, static: pd.DataFrame, group: np.ndarray, labels: dict[str, np.ndarray]
    ) -> pd.DataFrame:
        """``static`` with the response columns, summed over pairs by ``group`` (each pair's index into the
        rows of ``labels``, the key columns that ``static`` is merged on)."""
        s = self.solution
        spend = s.imports_usd * (1.0 + s.rate_before)
        columns = {name: getattr(s, name) for name in SUM_COLUMNS} | {
            "_spend": spend,
            "_spend_price": spend * s.price_index_change,
            "_value": s.imports_usd,
            "_value_price": s.imports_usd * s.world_price_change,
            "_baseline_duty": s.imports_usd * s.rate_before,
        }
        size = len(next(iter(labels.values())))
        sums = pd.DataFrame(
            {**labels, **{k: np.bincount(group, weights=v, minlength=size) for k, v in columns.items()}}
        )
        out = static.merge(sums, on=list(labels), how="left", validate="one_to_one")
        after = out["imports_after_usd"].where(out["imports_after_usd"] > 0)
        before = out["_value"].where(out["_value"] > 0)
        out["scenario_rate_after"] = (out["duty_after_usd"] / after).fillna(0.0)
        out["added_rate_after"] = out["scenario_rate_after"] - (out["_baseline_duty"] / before).fillna(0.0)
        out["price_index_change"] = (out["_spend_price"] / out["_spend"].where(out["_spend"] > 0)).fillna(0.0)
        out["world_price_change"] = (out["_value_price"] / before).fillna(0.0)
        return out.drop(columns=[c for c in out.columns if c.startswith("_")])

    def by_partner(self) -> pd.DataFrame:
        """The static by-partner table with the response columns (price changes weighted by spending/value)."""
        r = self.result
        return self._aggregate(r.by_partner(), r.pair_partner_index, {"partner": r.partners})

    def by_product(self) -> pd.DataFrame:
        """The static by-product table (at the result's level) with the response columns."""
        index, levels = self.result.product_levels()
        return self._aggregate(self.result.by_product(), index, {"hs": levels})

    def by_partner_product(self) -> pd.DataFrame:
        """The static partner × product table with the response columns."""
        cell, partner, product = self.result.partner_product_cells()
        return self._aggregate(self.result.by_partner_product(), cell, {"partner": partner, "hs": product})

    def effective_rates(self) -> dict[str, float]:
        """Baseline, static (pre-substitution) and post-substitution effective tariff rates (fractions).

        Post-substitution rate: duty after ÷ imports after the response (both at scenario rates).
        """
        s = self.solution
        imports = float(s.imports_usd.sum())
        after = float(s.imports_after_usd.sum())
        baseline = float(np.dot(s.imports_usd, s.rate_before)) / imports if imports > 0 else 0.0
        static = float(np.dot(s.imports_usd, s.rate_after)) / imports if imports > 0 else 0.0
        post = float(s.duty_after_usd.sum()) / after if after > 0 else 0.0
        return {
            "baseline_rate": baseline,
            "static_scenario_rate": static,
            "static_added_rate": static - baseline,
            "post_substitution_scenario_rate": post,
            "post_substitution_added_rate": post - baseline,
        }

    def summary(self) -> dict[str, Any]:
        """The figures for summary.json: rates, trade, welfare, prices and households, revenue ladder."""
        totals = self.solution.totals()
        imports = totals["imports_usd"]
        return {
            "model": "armington",
            "description": (
                "CES Armington partial equilibrium, one importer, one market per product code, solved exactly "
                "(see docs/model.md)"
            ),
            "parameters": self.parameters.describe(),
            "markets": len(self.markets.codes),
            "effective_rates": self.effective_rates(),
            "trade": {
                "imports_usd": imports,
                "imports_after_usd": totals["imports_after_usd"],
                "trade_creation_usd": totals["trade_creation_usd"],
                "trade_creation_share": totals["trade_creation_usd"] / imports if imports > 0 else 0.0,
                "trade_diversion_gross_usd": totals["trade_diversion_gross_usd"],
            },
            "welfare": {
                key: totals[key]
                for key in (
                    "consumer_surplus_change_usd",
                    "producer_surplus_change_usd",
                    "revenue_change_usd",
                    "deadweight_loss_usd",
                    "importer_net_welfare_usd",
                    "foreign_burden_share",
                )
            },
            "prices": prices.summarise(self.price_effects),
            "revenue_ladder": [dataclasses.asdict(step) for step in self.ladder],
        }


def respond(result: Result, parameters: Parameters | None = None) -> Response:
    """The Armington response of a static result (scenario rates vs baseline rates on the same flows).

    Solves every product market exactly with the parameters (defaults: SMART σ = 1.5 and infinite export
    supply, Hauk 2012 import demand elasticities by HS chapter), and derives the consumer-price range and
    the revenue ladder. The price range re-solves with σ = 0 (no substitution: the pre-substitution price
    rise) and with ``substitution_elasticity_high``.
    """
    parameters = parameters or Parameters()
    markets = Markets.from_result(result, parameters)
    solution = markets.solve(result)

    def effect(of: MarketSolution, pass_through: float, responds: bool = True) -> prices.PriceEffect:
        change = prices.import_price_change(of.market_spending_usd, of.market_price_index_ratio)
        quantity = of.market_quantity_ratio if responds else None
        cost = prices.cost_change(of.market_spending_usd, of.market_price_index_ratio, quantity)
        return prices.price_effect(change, pass_through, parameters, cost)

    # the range's two solutions are needed only for their market price indices: each is dropped after use,
    # which keeps memory at two solutions' arrays instead of three on large inputs
    effects = {
        "central": effect(solution, parameters.value("pass_through")),
        "low": effect(
            markets.solve(result, substitution_elasticity=parameters.value("substitution_elasticity_high")),
            parameters.value("pass_through_low"),
        ),
        "high": effect(markets.solve(result, substitution_elasticity=0.0), 1.0, responds=False),
    }
    static_added = float(np.dot(solution.imports_usd, solution.rate_after - solution.rate_before))
    ladder = revenue.ladder(
        static_added,
        float(solution.revenue_change_usd.sum()),
        parameters.value("compliance_haircut"),
        parameters.value("income_payroll_offset"),
    )
    return Response(result, parameters, markets, solution, effects, ladder)
