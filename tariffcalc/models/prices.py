"""Consumer prices and households: what the added duties do to the price level, on average.

After the trade response, the duty-inclusive price of imports changes by ``π``, the average change of the
markets' CES price indices weighted by baseline spending at internal prices (customs value plus duty).
A share ``pass_through`` of that change reaches buyers' prices, and imports make up a share ``m`` of
personal consumption expenditures (PCE) at all stages of production, so

    price level change = pass_through × π × m,
    consumer cost (USD per year) = pass_through × κ × m × PCE,
    cost per household (USD per year) = consumer cost ÷ households,

where ``κ = Σ s (P − 1)(1 + Q)/2`` is the price rise paid on the average of the basket before and after
(``s`` each market's share of baseline spending, ``P`` its price index ratio and ``Q = P^(−η)`` its
composite quantity ratio): the loss of consumer surplus, by the trapezoid rule, as a share of spending.
Buyers who cut back pay the higher price on less, so the cost falls as the import demand elasticity η
rises, while the price level change does not depend on η when export supply is infinitely elastic (world
prices do not move, so the price index depends only on the tariffs and on substitution between sources).
With ``Q = 1`` (no response) ``κ = π``: the cost of the unchanged basket.

This is an **average** over all US households (PCE includes non-profit institutions and imputed items);
it says nothing about any particular household, and lower-income households spend a larger share of
their income on goods. The range brackets the central figure with the pass-through and substitution
assumptions: low = ``pass_through_low`` with ``substitution_elasticity_high``; high = full pass-through
with no substitution and no cut-back (the pre-substitution price rise on the unchanged basket).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tariffcalc.reference.parameters import Parameters

RANGE_NOTE = (
    "Averages over all US households (2024 PCE ÷ 2024 households), not the cost to any particular household; "
    "lower-income households spend a larger share of income on goods. Low: partial pass-through "
    "(pass_through_low) and high substitution (substitution_elasticity_high); high: full pass-through, no "
    "substitution and no cut-back (pre-substitution prices on the unchanged basket). The cost is the price rise "
    "paid on the average of the basket before and after buyers respond, so it falls as import demand becomes "
    "more elastic; the price level change does not."
)


@dataclasses.dataclass(frozen=True)
class PriceEffect:
    """One price-level estimate. Fractions for changes and shares, USD per year for costs."""

    import_price_change: float
    pass_through: float
    import_quantity_change: float
    """Spending-weighted change of the markets' composite import quantity (fraction; 0: no cut-back)."""
    import_share_of_consumption: float
    price_level_change: float
    consumer_cost_usd: float
    cost_per_household_usd: float


def import_price_change(spending_usd: np.ndarray, price_index_ratio: np.ndarray) -> float:
    """Spending-weighted average change (fraction) of the markets' import price indices.

    ``spending_usd``: each market's baseline spending at internal prices (customs value plus duty, USD);
    ``price_index_ratio``: each market's price index new/old.
    """
    spending = np.asarray(spending_usd, dtype=float)
    total = float(spending.sum())
    if total <= 0:
        return 0.0
    return float(np.dot(spending, np.asarray(price_index_ratio, dtype=float) - 1.0)) / total


def cost_change(
    spending_usd: np.ndarray, price_index_ratio: np.ndarray, quantity_ratio: np.ndarray | None = None
) -> tuple[float, float]:
    """``κ``, the price rise paid on the average basket (fraction of baseline spending), and the
    spending-weighted change of the composite quantity (fraction), over markets.

    ``quantity_ratio`` is each market's composite quantity new/old (None: unchanged, so ``κ`` is the
    import price change itself).
    """
    spending = np.asarray(spending_usd, dtype=float)
    total = float(spending.sum())
    if total <= 0:
        return 0.0, 0.0
    rise = np.asarray(price_index_ratio, dtype=float) - 1.0
    quantity = np.ones_like(rise) if quantity_ratio is None else np.asarray(quantity_ratio, dtype=float)
    kappa = float(np.dot(spending, rise * (1.0 + quantity) / 2.0)) / total
    return kappa, float(np.dot(spending, quantity - 1.0)) / total


def price_effect(
    import_price_change: float,
    pass_through: float,
    parameters: Parameters,
    cost: tuple[float, float] | None = None,
) -> PriceEffect:
    """The price level change and the consumer cost per household for one import price change (fraction).

    ``cost`` is (κ, quantity change) from :func:`cost_change`; None: no cut-back (κ = the price change).
    """
    share = parameters.value("import_share_of_consumption")
    level = pass_through * import_price_change * share
    kappa, quantity = cost if cost is not None else (import_price_change, 0.0)
    cost_usd = pass_through * kappa * share * parameters.value("pce_usd")
    return PriceEffect(
        import_price_change=import_price_change,
        pass_through=pass_through,
        import_quantity_change=quantity,
        import_share_of_consumption=share,
        price_level_change=level,
        consumer_cost_usd=cost_usd,
        cost_per_household_usd=cost_usd / parameters.value("households"),
    )


def summarise(effects: dict[str, PriceEffect]) -> dict[str, Any]:
    """The price figures for summary.json: each estimate as a dict, and the note on what they mean."""
    out: dict[str, Any] = {name: dataclasses.asdict(effect) for name, effect in effects.items()}
    out["note"] = RANGE_NOTE
    return out
