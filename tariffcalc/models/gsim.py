"""Many importers and exporters: the Global Simulation Model (GSIM) of Francois and Hall (2003).

For one product, exporters r and importers j (the same set of countries), trade ``M_rj`` at world prices
(USD), tariffs ``t_rj`` (fractions) and their power ``T = 1 + t``:

* ``θ_rj``: exporter r's share of importer j's spending at internal prices (``M_rj T0_rj / Σ_k M_kj T0_kj``);
* ``φ_rj``: the share of r's exports that goes to j (``M_rj / Σ_j M_rj``);
* own-price elasticity ``N_rj = θ_rj E_m − (1 − θ_rj) E_s``, cross-price ``N_rj,kj = θ_kj (E_m + E_s)``,
  with ``E_m < 0`` the composite import demand elasticity and ``E_s`` the substitution elasticity of
  importer j, ``E_x`` the export supply elasticity of exporter r;
* ``T̂_rj = T1_rj / T0_rj − 1``; the internal price changes by ``T̂_rj + P̂_r`` (``P̂_r`` the change of r's
  world price), and the quantity imported by ``M̂_rj = N_rj (T̂_rj + P̂_r) + Σ_k≠r N_rj,kj (T̂_kj + P̂_k)``;
* market clearing for each exporter r: ``Σ_j φ_rj M̂_rj = E_x,r P̂_r``.

The clearing conditions are linear in ``P̂``; since ``N`` collapses to ``(E_m + E_s) θ_kj − E_s δ_rk``, they
read ``A P̂ = b`` with ``A = Φ diag(E_m + E_s) Θᵀ − diag(Φ E_s + E_x)`` and
``b_r = −Σ_j φ_rj [(E_m + E_s)_j Σ_k θ_kj T̂_kj − E_s,j T̂_rj]``, solved with ``numpy.linalg.solve`` for all
products at once. Exporters with infinitely elastic supply, or with no exports, keep ``P̂ = 0``.

Welfare, per country and product (USD per year, changes), from the linear curves of the model (trapezoids):
consumer surplus ``−½ Σ_r (q0 + q1)(p1 − p0)`` over the country's imports, with ``p = T × world price``;
producer surplus ``½ (X0 + X1) P̂`` on its exports; tariff revenue ``Σ_r t1 M1 − t0 M0``; net = the sum.
Quantities are measured in units worth 1 USD at the baseline world price, so ``q0 = M0``.

Import demand elasticities are given as magnitudes or with the paper's negative sign: the sign is ignored
and ``E_m = −|value|`` is used. See docs/model.md for the equations with their sources.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.engine.duties import Result
from tariffcalc.errors import ModelError
from tariffcalc.reference import bundled
from tariffcalc.reference.parameters import Parameters

USA = "USA"
RETALIATION_MODES = ("none", "mirror")
NEGATIVE_FLOW_WARNING = (
    "{count} trade flow(s) worth ${value:,.0f} would fall below zero in the linear GSIM approximation "
    "(the changes are too large for a linear model); their values after are negative, as the linear "
    "model computes them. Use smaller elasticities or tariff changes, or the exact armington model."
)


@dataclasses.dataclass
class GsimResult:
    """The GSIM solution for one or more products (arrays are product × exporter × importer).

    ``exporter_price_change``: Series by exporter (fraction; averaged over products with base export
    weights). ``welfare``: DataFrame by country, summed over products, with imports and exports before and
    after (USD at world prices), the exporter price change and the changes in consumer surplus, producer
    surplus, tariff revenue and their sum ``net_welfare_usd`` (USD per year).
    """

    countries: list[str]
    products: list[str]
    flows_before: np.ndarray
    flows_after: np.ndarray
    tariff_before: np.ndarray
    tariff_after: np.ndarray
    quantity_change: np.ndarray
    price_change: np.ndarray
    residual: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    tariff_revenue: np.ndarray
    exporter_price_change: pd.Series
    welfare: pd.DataFrame
    warnings: list[str]

    @property
    def max_residual(self) -> float:
        """Largest absolute market-clearing residual (a fraction of the exporter's sales; ≈ 0)."""
        return float(np.abs(self.residual).max()) if self.residual.size else 0.0

    def prices_by_product(self) -> pd.DataFrame:
        """Exporter price change (fraction) by product (rows) and country (columns)."""
        return pd.DataFrame(
            self.price_change, index=pd.Index(self.products, name="hs"), columns=self.countries
        )

    def welfare_by_product(self) -> pd.DataFrame:
        """Consumer and producer surplus, tariff revenue and net change by product × country (USD)."""
        n_products, n = len(self.products), len(self.countries)
        frame = pd.DataFrame(
            {
                "hs": np.repeat(self.products, n),
                "country": np.tile(self.countries, n_products),
                "exporter_price_change": self.price_change.ravel(),
                "consumer_surplus_usd": self.consumer_surplus.ravel(),
                "producer_surplus_usd": self.producer_surplus.ravel(),
                "tariff_revenue_usd": self.tariff_revenue.ravel(),
            }
        )
        frame["net_welfare_usd"] = (
            frame["consumer_surplus_usd"] + frame["producer_surplus_usd"] + frame["tariff_revenue_usd"]
        )
        active = (self.flows_before.sum(axis=2) + self.flows_before.sum(axis=1)).ravel() > 0
        return frame[active].reset_index(drop=True)

    def bilateral(self) -> pd.DataFrame:
        """One row per product × exporter × importer with trade: values before/after (USD), rates, changes.

        ``trade_creation_usd`` is the flow's share (by base value) of its importer's change in imports of the
        product; ``trade_diversion_usd`` the rest of its change, which sums to zero for each importer and
        product.
        """
        index = np.nonzero(self.flows_before != 0)
        p, r, j = index
        countries = np.asarray(self.countries, dtype=object)
        before = self.flows_before[index]
        after = self.flows_after[index]
        market_before = self.flows_before.sum(axis=1)[p, j]
        market_change = (self.flows_after - self.flows_before).sum(axis=1)[p, j]
        creation = np.divide(
            before * market_change, market_before, out=np.zeros_like(before), where=market_before != 0
        )
        return pd.DataFrame(
            {
                "hs": np.asarray(self.products, dtype=object)[p],
                "exporter": countries[r],
                "importer": countries[j],
                "tariff_before": self.tariff_before[index],
                "tariff_after": self.tariff_after[index],
                "flow_before_usd": before,
                "flow_after_usd": after,
                "flow_change_usd": after - before,
                "trade_creation_usd": creation,
                "trade_diversion_usd": after - before - creation,
                "quantity_change": self.quantity_change[index],
                "exporter_price_change": self.price_change[p, r],
            }
        )


def _elasticity(name: str, value: Any, countries: list[str], role: str) -> np.ndarray:
    """Scalar, mapping/Series by country, or sequence aligned with ``countries`` → array over countries."""
    if isinstance(value, Mapping | pd.Series):
        lookup = dict(value.items())
        missing = [c for c in countries if c not in lookup]
        if missing:
            raise ModelError(
                f"{name} is given by {role} but has no value for {', '.join(map(str, missing[:5]))}."
            )
        array = np.array([float(lookup[c]) for c in countries])
    else:
        try:
            array = np.broadcast_to(np.asarray(value, dtype=float), (len(countries),)).copy()
        except (TypeError, ValueError):
            raise ModelError(
                f"{name} must be a number, a mapping by {role}, or one value per country ({len(countries)})."
            ) from None
    if np.isnan(array).any():
        raise ModelError(f"{name} must not be NaN.")
    return array


def _matrix(name: str, frame: Any, labels: list[str] | None) -> tuple[np.ndarray, list[str]]:
    if not isinstance(frame, pd.DataFrame):
        raise ModelError(
            f"{name} must be a pandas DataFrame with exporters as rows and importers as columns."
        )
    rows = [str(x) for x in frame.index]
    columns = [str(x) for x in frame.columns]
    if len(set(rows)) != len(rows) or len(set(columns)) != len(columns):
        raise ModelError(f"{name} has repeated country labels.")
    if set(rows) != set(columns):
        extra = ", ".join(sorted(set(rows) ^ set(columns))[:5])
        raise ModelError(
            f"{name} must be square with the same countries as rows and columns; differing: {extra}."
        )
    order = labels if labels is not None else rows
    if set(order) != set(rows):
        extra = ", ".join(sorted(set(order) ^ set(rows))[:5])
        raise ModelError(f"{name} must have the same countries as the flows; differing: {extra}.")
    aligned = frame.copy()
    aligned.index = rows
    aligned.columns = columns
    try:
        values = aligned.loc[order, order].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ModelError(f"{name} must hold numbers only.") from None
    if not np.isfinite(values).all():
        raise ModelError(f"{name} holds missing or infinite values; write 0 for no trade or no tariff.")
    return values, order


def solve(
    flows: pd.DataFrame,
    tariff_before: pd.DataFrame,
    tariff_after: pd.DataFrame,
    import_demand_elasticity: float | Mapping[str, float] | pd.Series | Sequence[float] = 1.0,
    export_supply_elasticity: float | Mapping[str, float] | pd.Series | Sequence[float] = math.inf,
    substitution_elasticity: float | Mapping[str, float] | pd.Series | Sequence[float] = 1.5,
) -> GsimResult:
    """Solve GSIM for one product market.

    ``flows``: square DataFrame of trade at world prices (USD), exporters as rows and importers as columns,
    the same labels on both (the diagonal may hold zeros, or domestic sales if the user wants them to
    compete). ``tariff_before``/``tariff_after``: ad valorem fractions, same labels. Elasticities: scalars,
    or by country (mapping/Series or a sequence in the flows' row order): import demand (magnitude; the
    sign is ignored) and substitution by importer, export supply by exporter (``math.inf`` allowed).
    """
    m0, countries = _matrix("flows", flows, None)
    t0, _ = _matrix("tariff_before", tariff_before, countries)
    t1, _ = _matrix("tariff_after", tariff_after, countries)
    if (m0 < 0).any():
        raise ModelError("flows must be >= 0 (trade values in USD).")
    if (t0 <= -1).any() or (t1 <= -1).any():
        raise ModelError("Tariffs must be above -1 (-100 %); they are ad valorem fractions (0.25 = 25 %).")
    em = _elasticity("import_demand_elasticity", import_demand_elasticity, countries, "importer")
    es = _elasticity("substitution_elasticity", substitution_elasticity, countries, "importer")
    ex = _elasticity("export_supply_elasticity", export_supply_elasticity, countries, "exporter")
    return solve_stack(countries, ["all"], m0[None], t0[None], t1[None], em[None], es[None], ex[None])


BLOCK_CELLS = 2_000_000
"""Products are solved in blocks of about this many exporter × importer cells, to bound memory."""


def solve_stack(
    countries: list[str],
    products: list[str],
    flows: np.ndarray,
    tariff_before: np.ndarray,
    tariff_after: np.ndarray,
    import_demand: np.ndarray,
    substitution: np.ndarray,
    export_supply: np.ndarray,
) -> GsimResult:
    """Solve GSIM for a stack of products at once.

    ``flows``, ``tariff_before``, ``tariff_after``: arrays product × exporter × importer (USD, fractions);
    ``import_demand`` and ``substitution``: product × importer; ``export_supply``: product × exporter.
    """
    em = -np.abs(np.asarray(import_demand, dtype=float))
    es = np.asarray(substitution, dtype=float)
    ex = np.asarray(export_supply, dtype=float)
    if (es < 0).any() or np.isinf(es).any() or np.isinf(em).any():
        raise ModelError("substitution_elasticity must be finite and >= 0; import_demand_elasticity finite.")
    if (ex < 0).any():
        raise ModelError("export_supply_elasticity must be >= 0 (math.inf for infinitely elastic supply).")
    m0 = np.asarray(flows, dtype=float)
    t0 = np.asarray(tariff_before, dtype=float)
    t1 = np.asarray(tariff_after, dtype=float)
    n_products, n = m0.shape[0], m0.shape[1]
    quantity_change = np.zeros_like(m0)
    flows_after = np.zeros_like(m0)
    price = np.zeros((n_products, n))
    residual = np.zeros((n_products, n))
    consumer = np.zeros((n_products, n))
    producer = np.zeros((n_products, n))
    tariff_revenue = np.zeros((n_products, n))
    step = max(1, BLOCK_CELLS // max(n * n, 1))
    for start in range(0, n_products, step):
        block = slice(start, start + step)
        (
            price[block],
            quantity_change[block],
            residual[block],
            flows_after[block],
            consumer[block],
            producer[block],
            tariff_revenue[block],
        ) = _solve_block(m0[block], t0[block], t1[block], em[block], es[block], ex[block])
    exports = m0.sum(axis=2)

    warnings = []
    negative = (1.0 + quantity_change < 0) & (m0 > 0)
    if negative.any():
        warnings.append(
            NEGATIVE_FLOW_WARNING.format(count=int(negative.sum()), value=float(m0[negative].sum()))
        )

    weights = exports.sum(axis=0)
    average_price = np.divide((exports * price).sum(axis=0), weights, out=np.zeros(n), where=weights > 0)
    exporter_price_change = pd.Series(
        average_price, index=pd.Index(countries, name="country"), name="exporter_price_change"
    )
    welfare = pd.DataFrame(
        {
            "imports_before_usd": m0.sum(axis=(0, 1)),
            "imports_after_usd": flows_after.sum(axis=(0, 1)),
            "exports_before_usd": m0.sum(axis=(0, 2)),
            "exports_after_usd": flows_after.sum(axis=(0, 2)),
            "exporter_price_change": average_price,
            "consumer_surplus_usd": consumer.sum(axis=0),
            "producer_surplus_usd": producer.sum(axis=0),
            "tariff_revenue_usd": tariff_revenue.sum(axis=0),
        },
        index=pd.Index(countries, name="country"),
    )
    welfare["net_welfare_usd"] = (
        welfare["consumer_surplus_usd"] + welfare["producer_surplus_usd"] + welfare["tariff_revenue_usd"]
    )
    return GsimResult(
        countries=list(countries),
        products=list(products),
        flows_before=m0,
        flows_after=flows_after,
        tariff_before=t0,
        tariff_after=t1,
        quantity_change=quantity_change,
        price_change=price,
        residual=residual,
        consumer_surplus=consumer,
        producer_surplus=producer,
        tariff_revenue=tariff_revenue,
        exporter_price_change=exporter_price_change,
        welfare=welfare,
        warnings=warnings,
    )


def _solve_block(
    m0: np.ndarray, t0: np.ndarray, t1: np.ndarray, em: np.ndarray, es: np.ndarray, ex: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Prices, quantity changes, residuals, flows after and welfare terms for a block of products."""
    n = m0.shape[1]
    power0 = 1.0 + t0
    t_hat = (1.0 + t1) / power0 - 1.0
    spend = m0 * power0
    spend_j = spend.sum(axis=1, keepdims=True)
    theta = np.divide(spend, spend_j, out=spend, where=spend_j > 0)
    exports = m0.sum(axis=2)
    phi = np.divide(m0, exports[:, :, None], out=np.zeros_like(m0), where=exports[:, :, None] > 0)
    slope = em + es  # E_m + E_s by importer

    fixed = (exports <= 0) | np.isinf(ex)
    ex_finite = np.where(np.isinf(ex), 0.0, ex)
    a = (phi * slope[:, None, :]) @ theta.transpose(0, 2, 1)
    diagonal = (phi * es[:, None, :]).sum(axis=2) + ex_finite
    a[:, np.arange(n), np.arange(n)] -= diagonal
    average_t = (theta * t_hat).sum(axis=1)
    b = -((phi * (slope * average_t)[:, None, :]).sum(axis=2) - (phi * es[:, None, :] * t_hat).sum(axis=2))
    # Fixed exporters (P̂ = 0) get the row P̂_r = 0; only exporters free in some product of the block enter
    # the solve, since a fixed exporter's column multiplies a zero.
    a[fixed] = 0.0
    product_index, exporter_index = np.nonzero(fixed)
    a[product_index, exporter_index, exporter_index] = 1.0
    b[fixed] = 0.0
    free = np.flatnonzero(~fixed.all(axis=0))
    price = np.zeros_like(b)
    if free.size:
        try:
            price[:, free] = np.linalg.solve(a[:, free][:, :, free], b[:, free, None])[:, :, 0]
        except np.linalg.LinAlgError:
            raise ModelError(
                "The GSIM market-clearing system is singular: prices are not determined. Give a positive "
                "import demand or export supply elasticity."
            ) from None

    internal_change = t_hat + price[:, :, None]
    composite = (theta * internal_change).sum(axis=1)
    quantity_change = slope[:, None, :] * composite[:, None, :] - es[:, None, :] * internal_change
    supply_response = np.where(fixed, 0.0, ex_finite * price)
    residual = np.where(fixed, 0.0, (phi * quantity_change).sum(axis=2) - supply_response)

    q1 = m0 * (1.0 + quantity_change)
    world1 = 1.0 + price[:, :, None]
    flows_after = q1 * world1
    p_change = (1.0 + t1) * world1 - power0
    consumer = -0.5 * ((m0 + q1) * p_change).sum(axis=1)
    tariff_revenue = (t1 * flows_after - t0 * m0).sum(axis=1)
    producer = 0.5 * (exports + q1.sum(axis=2)) * price
    return price, quantity_change, residual, flows_after, consumer, producer, tariff_revenue


def read_matrix(path: Path | str) -> pd.DataFrame:
    """Read a square matrix CSV: first column the exporter labels, header row the importer labels."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, index_col=0, dtype={0: str})
    except FileNotFoundError:
        raise ModelError(f"Matrix file {path} does not exist.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ModelError(f"Cannot read {path} as a CSV matrix: {exc}") from None
    frame.index = [str(x).strip() for x in frame.index]
    frame.columns = [str(x).strip().lstrip("\ufeff") for x in frame.columns]
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ModelError(
            f"{path}: column {bad[0]!r} holds text; every cell after the label column must be a number."
        )
    return frame


def solve_files(
    flows_path: Path | str,
    tariff_before_path: Path | str,
    tariff_after_path: Path | str,
    parameters: Parameters | None = None,
) -> GsimResult:
    """:func:`solve` on three CSV matrices, with scalar elasticities from ``parameters``.

    Without a chapter the import demand elasticity is the parameter given, else the flat fallback.
    """
    parameters = parameters or Parameters()
    eta = parameters.import_demand_elasticity
    if eta is None:
        eta = parameters.chapter_elasticities([""])["import_demand_elasticity"].iloc[0]
    try:
        return solve(
            read_matrix(flows_path),
            read_matrix(tariff_before_path),
            read_matrix(tariff_after_path),
            import_demand_elasticity=eta,
            export_supply_elasticity=parameters.value("export_supply_elasticity"),
            substitution_elasticity=parameters.value("substitution_elasticity"),
        )
    except ModelError as exc:
        raise ModelError(f"{exc} (files: {flows_path}, {tariff_before_path}, {tariff_after_path})") from None


def us_markets(result: Result, retaliation: str = "none", parameters: Parameters | None = None) -> GsimResult:
    """GSIM on the US scenario of a static result: one market per HS chapter, the US and its partners.

    US imports from each partner and chapter come from the result's flows, with the chapter's value-weighted
    baseline and scenario rates. US exports by partner and chapter (bundled 2024 exports) face no tariff
    before; with ``retaliation="mirror"`` each partner charges on all US goods, after, the rate the US added
    on that partner's goods (its added duty ÷ its imports, floored at 0). Partners trade only with the US
    here, so each partner's market has one source. Elasticities by chapter come from ``parameters`` (the
    US import demand elasticities are also used for the partners' imports of US goods).
    """
    if retaliation not in RETALIATION_MODES:
        raise ModelError(f"retaliation must be one of {', '.join(RETALIATION_MODES)}, not {retaliation!r}.")
    parameters = parameters or Parameters()
    pairs = pd.DataFrame(
        {
            "partner": result.pair_partner,
            "hs": pd.Series(result.pair_code, dtype=object).str[:2].to_numpy(),
            "value": result.pair_value,
            "duty0": result.baseline_duty,
            "duty1": result.scenario_duty,
        }
    )
    pairs = pairs[pairs["partner"] != USA]
    imports = pairs.groupby(["hs", "partner"], sort=True)[["value", "duty0", "duty1"]].sum().reset_index()
    exports = bundled.read_table("us_exports_2024.csv").assign(
        exports_usd=lambda t: t["exports_usd"].astype(float)
    )
    by_partner = pairs.groupby("partner")[["value", "duty0", "duty1"]].sum()
    added = (
        (by_partner["duty1"] - by_partner["duty0"]) / by_partner["value"].where(by_partner["value"] > 0)
    ).fillna(0.0)
    added = added.clip(lower=0.0)

    products = sorted(set(imports["hs"]) | set(exports["hs"]))
    countries = [USA, *sorted((set(imports["partner"]) | set(exports["partner"])) - {USA})]
    p_index = {code: i for i, code in enumerate(products)}
    c_index = {code: i for i, code in enumerate(countries)}
    shape = (len(products), len(countries), len(countries))
    m0, t0, t1 = np.zeros(shape), np.zeros(shape), np.zeros(shape)

    p = imports["hs"].map(p_index).to_numpy()
    r = imports["partner"].map(c_index).to_numpy()
    value = imports["value"].to_numpy()
    positive = value > 0
    m0[p, r, 0] = value
    t0[p, r, 0] = np.divide(imports["duty0"].to_numpy(), value, out=np.zeros_like(value), where=positive)
    t1[p, r, 0] = np.divide(imports["duty1"].to_numpy(), value, out=np.zeros_like(value), where=positive)

    p = exports["hs"].map(p_index).to_numpy()
    j = exports["partner"].map(c_index).to_numpy()
    m0[p, 0, j] = exports["exports_usd"].to_numpy()
    if retaliation == "mirror":
        t1[p, 0, j] = exports["partner"].map(added).fillna(0.0).to_numpy()

    elasticities = parameters.chapter_elasticities(products)
    ones = np.ones(len(countries))
    return solve_stack(
        countries,
        products,
        m0,
        t0,
        t1,
        np.outer(elasticities["import_demand_elasticity"].to_numpy(), ones),
        np.outer(elasticities["substitution_elasticity"].to_numpy(), ones),
        np.outer(elasticities["export_supply_elasticity"].to_numpy(), ones),
    )


MONEY_COLUMNS = ("consumer_surplus_usd", "producer_surplus_usd", "tariff_revenue_usd", "net_welfare_usd")
"""The welfare figures the terminal summary prints (USD a year)."""


def _unit(largest: float) -> tuple[float, str]:
    """Divisor and label for the terminal table: $bn, $m, $ thousand or $, by the largest amount."""
    for scale, unit in ((1e9, "$bn"), (1e6, "$m"), (1e3, "$ thousand")):
        if largest >= 10 * scale:
            return scale, unit
    return 1.0, "$"


def _countries(n: int) -> str:
    return "country" if n == 1 else "countries"


def to_text(result: GsimResult, top: int = 10) -> str:
    """Terminal summary: the countries whose welfare or prices change, largest first, and the residual.

    A country is shown only when one of its figures is not zero at the printed precision (0.01 in the
    table's unit, 0.01 % for prices); how many are left out is said, and every country is in welfare.csv.
    The price column appears only when some shown price moves (with infinitely elastic export supply, the
    default, no world price does).
    """
    from tariffcalc.reference.countries import partner_name

    welfare = result.welfare
    largest = float(welfare[list(MONEY_COLUMNS)].abs().to_numpy().max(initial=0.0))
    scale, unit = _unit(largest)
    money = welfare[list(MONEY_COLUMNS)].to_numpy() / scale
    price = welfare["exporter_price_change"].to_numpy() * 100
    moves = (np.abs(np.round(money, 2)) > 0).any(axis=1) | (np.abs(np.round(price, 2)) > 0)
    order = (
        welfare.assign(_net=welfare["net_welfare_usd"].abs(), _cs=welfare["consumer_surplus_usd"].abs())
        .loc[moves]
        .sort_values(["_net", "_cs"], ascending=False, kind="stable")
        .index
    )
    shown = list(order[:top])
    shown_price = welfare.loc[shown, "exporter_price_change"].to_numpy() * 100
    with_price = bool((np.abs(np.round(shown_price, 2)) > 0).any())
    lines = [
        f"GSIM: {len(result.countries)} countries, {len(result.products)} product market(s); "
        f"largest market-clearing residual {result.max_residual:.1e}",
        "",
    ]
    if not shown:
        lines.append("No country's welfare or prices change at this precision.")
        return "\n".join(lines)
    header = f"{'country':<28}" + (f"{'price':>9}" if with_price else "")
    header += f"{'CS':>11}{'PS':>11}{'tariff':>11}{'net':>11}"
    lines += [
        f"Welfare changes, {unit} a year (CS consumer, PS producer surplus; net: their sum with tariff revenue)",
        header,
    ]
    for country in shown:
        row = welfare.loc[country]
        name = partner_name(str(country))
        label = f"{name[:20]} ({country})" if name != country else str(country)
        text = f"{label[:27]:<28}"
        if with_price:
            text += f"{row['exporter_price_change'] * 100 + 0.0:>8.2f}%"
        text += "".join(f"{row[column] / scale + 0.0:>11.2f}" for column in MONEY_COLUMNS)
        lines.append(text)
    more = len(order) - len(shown)
    still = len(welfare) - len(order)
    if more:
        lines.append(f"… {more} more {_countries(more)} with changes in welfare.csv (--out)")
    if still:
        lines.append(
            f"{still} {_countries(still)} whose figures are all zero at this precision not shown "
            "(welfare.csv has every country)."
        )
    if not with_price:
        lines.append("No exporter's world price changes by 0.01 % or more (price column left out).")
    return "\n".join(lines)
