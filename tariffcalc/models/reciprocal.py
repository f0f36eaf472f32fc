"""The published method behind EO 14257's Annex I rates, reproduced and open to sensitivity analysis.

The US Trade Representative's note "Reciprocal Tariff Calculations" (April 2025) set, for each partner i,

    Δτ_i = (x_i − m_i) / (ε · φ · m_i)

with x_i US goods exports to i, m_i US goods imports from i (2024, Census basis), ε = 4 the elasticity of
imports with respect to import prices and φ = 0.25 the pass-through of tariffs to import prices, so that
ε·φ = 1 and the rate is the deficit divided by imports. The announced rate was half of that, rounded up
to a whole percent, and at least 10 %. Rates here are fractions (0.34 = 34 %), trade in USD.

The EU is one row (``EU``: its 27 members summed), as in Annex I. Canada and Mexico (covered by the
IEEPA fentanyl orders) and Russia, Belarus, Cuba and North Korea (already under sanctions or column 2
rates) were not subject to EO 14257; they are listed with ``subject = false``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from tariffcalc.errors import TariffcalcError
from tariffcalc.reference import bundled, countries

NOT_SUBJECT = {
    "CAN": "fentanyl orders (EO 14193)",
    "MEX": "fentanyl orders (EO 14194)",
    "RUS": "sanctions",
    "BLR": "sanctions",
    "CUB": "sanctions",
    "PRK": "sanctions",
}
EU_DATE = dt.date(2025, 4, 2)


@dataclasses.dataclass(frozen=True)
class Method:
    """Parameters of the formula: elasticity ε, pass-through φ, the share announced, floor and rounding."""

    elasticity: float = 4.0
    pass_through: float = 0.25
    discount: float = 0.5
    floor: float = 0.10
    rounding: str = "up"

    def __post_init__(self):
        if not (0 < self.elasticity < math.inf and 0 < self.pass_through < math.inf):  # nan fails too
            raise TariffcalcError(
                "The elasticity ε and the pass-through φ must be positive (finite) numbers.",
                parameter="epsilon" if not 0 < self.elasticity < math.inf else "phi",
            )
        if not 0 < self.discount <= 1:
            raise TariffcalcError(
                "The share of the formula rate that is announced must be in (0, 1].", parameter="share"
            )
        if not 0 <= self.floor <= 1:
            raise TariffcalcError(
                "The floor is a rate between 0 and 1 (0.10 = 10 %).", parameter="floor_rate"
            )
        if self.rounding not in ("up", "nearest", "none"):
            raise TariffcalcError("Rounding must be 'up', 'nearest' or 'none'.")


def _trade_by_partner() -> pd.DataFrame:
    """2024 US goods exports and general imports by partner (USD), with the EU-27 summed into one row."""
    table = bundled.read_table("us_trade_by_partner_2024.csv")
    trade = pd.DataFrame(
        {
            "partner": table["partner"],
            "exports_usd": table["exports_usd"].astype(float),
            "imports_usd": table["imports_usd"].astype(float),
        }
    )
    members = countries.group_members("EU", EU_DATE)
    eu = trade[trade["partner"].isin(members)][["exports_usd", "imports_usd"]].sum()
    trade = trade[~trade["partner"].isin(members)]
    eu_row = pd.DataFrame([{"partner": "EU", **eu.to_dict()}])
    return pd.concat([trade, eu_row], ignore_index=True)


def _round_up_percent(rate: np.ndarray) -> np.ndarray:
    # ceil of a whole percent; the small tolerance keeps 0.45 (exactly 45 %) from becoming 46 %
    return np.array([math.ceil(r * 100 - 1e-9) / 100 for r in rate])


def reciprocal_rates(method: Method | None = None) -> pd.DataFrame:
    """One row per partner: trade, the formula rate, the announced rate and the published Annex I rate.

    Columns: ``partner``, ``partner_name``, ``imports_usd``, ``exports_usd``, ``deficit_usd`` (imports −
    exports), ``formula_rate``, ``announced_rate``, ``published_rate`` (Annex I; NaN where none),
    ``difference`` (announced − published), ``subject`` (false for partners EO 14257 did not cover).
    """
    method = method or Method()
    trade = _trade_by_partner()
    trade = trade[trade["imports_usd"] > 0].copy()
    trade["deficit_usd"] = trade["imports_usd"] - trade["exports_usd"]
    trade["formula_rate"] = trade["deficit_usd"] / (
        method.elasticity * method.pass_through * trade["imports_usd"]
    )
    half = (trade["formula_rate"] * method.discount).to_numpy()
    if method.rounding == "up":
        half = _round_up_percent(half)
    elif method.rounding == "nearest":
        half = np.round(half, 2)
    trade["announced_rate"] = np.maximum(half, method.floor)
    annex = bundled.read_table("eo14257_annex1.csv")
    published = dict(zip(annex["partner"], annex["rate"].astype(float), strict=True))
    trade["published_rate"] = trade["partner"].map(published)
    trade["difference"] = trade["announced_rate"] - trade["published_rate"]
    trade["subject"] = ~trade["partner"].isin(list(NOT_SUBJECT))
    trade.insert(
        1,
        "partner_name",
        trade["partner"].map(lambda p: "European Union" if p == "EU" else countries.partner_name(p)),
    )
    return trade.sort_values(["deficit_usd", "partner"], ascending=[False, True], ignore_index=True)


def scenario_text(table: pd.DataFrame, method: Method, name: str = "reciprocal-formula") -> str:
    """A scenario file (TOML) charging each subject partner its announced rate on top of 2024 duties.

    Exemptions follow liberation-day: Annex II goods and the Section 232 goods of 9 April 2025.
    """
    subject = table[table["subject"]]
    rates = "\n".join(
        f"{p} = {r:.4f}"
        for p, r in zip(subject["partner"], subject["announced_rate"], strict=True)
        if r > method.floor
    )
    excluded = ", ".join(f'"{p}"' for p in NOT_SUBJECT)
    lists = [
        "eo14257_annex2.csv",
        "s232_steel_articles.csv",
        "s232_steel_derivatives.csv",
        "s232_aluminum_articles.csv",
        "s232_aluminum_derivatives.csv",
        "s232_autos.csv",
    ]
    products = ",\n".join(f'  {{ file = "{f}" }}' for f in lists)
    return f'''# Written by `tariffcalc reciprocal --write-scenario`: rates from the USTR formula on 2024 trade.
name = "{name}"
title = "Reciprocal tariffs from the USTR formula (epsilon {method.elasticity:g}, phi {method.pass_through:g}, \
share {method.discount:g}, floor {method.floor:g})"
extends = "baseline-2024"
as_of = 2025-04-09
sources = ["USTR, Reciprocal Tariff Calculations (April 2025); US Census Bureau, US trade in goods by country, 2024"]

[[measure]]
id = "reciprocal-formula"
authority = "Reciprocal tariff computed with the USTR formula"
citation = "USTR formula: rate = max(floor, share x (m - x) / (epsilon x phi x m)); exemptions as EO 14257"
rate = {method.floor:g}
exclude_partners = [{excluded}]
exclude_products = [
{products},
]

[measure.rates]
{rates}
'''


def write_scenario(path: Path, table: pd.DataFrame, method: Method) -> None:
    """Write :func:`scenario_text` to ``path`` atomically (``run`` accepts the file)."""
    from tariffcalc.util.files import write_text

    write_text(path, scenario_text(table, method, name=path.stem))
