"""Statutory rates of a scenario by partner (``tariffcalc rates``): who is charged what by which measure."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from tariffcalc.errors import UnknownCodeError
from tariffcalc.reference import countries, hs
from tariffcalc.rules.scenario import Measure, Scenario
from tariffcalc.rules.schedule import partner_scope, resolve


def _products(measure: Measure) -> str:
    if measure.products is None:
        return f"all except {len(measure.exclude_products)} prefixes" if measure.exclude_products else "all"
    return f"{len(measure.products)} prefixes" + (
        f" except {len(measure.exclude_products)}" if measure.exclude_products else ""
    )


def statutory_rates(
    scenario: Scenario, partner: str | None = None, code: str | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """One row per partner × rate measure in force: the statutory ad valorem rate (fraction).

    Observed (baseline) measures are left out: they have no statutory rate. With ``code`` the product
    scope and pre-emption are evaluated too (column ``applies``) and ``rate`` is what the measure adds.
    ``partner`` may be a partner group (``EU``): one row per member on the date, and ``rate_basis`` says
    where each member's rate comes from (the group's rate, or the member's own).
    """
    on = as_of or scenario.as_of
    everyone = sorted(set(countries.partner_names()) - {scenario.importer})
    group = None
    if partner and not countries.is_partner(partner.strip().upper()):
        group = countries.group_code(partner)
    if group is not None:
        chosen = countries.group_members(group, on)
    else:
        chosen = [countries.to_iso3(partner)] if partner else everyone
    partners = np.array(chosen, dtype=object)
    measures = [m for m in scenario.measures if m.observed is None and m.in_force(on)]
    rows = []
    if code is None:
        for measure in measures:
            scope = partner_scope(measure, partners, on)
            for i in np.flatnonzero(scope.in_scope):
                rows.append((partners[i], measure.id, scope.rate[i], scope.basis[i], _products(measure)))
        table = pd.DataFrame(rows, columns=["partner", "measure", "rate", "rate_basis", "products"])
    else:
        code = hs.normalise(code)
        if not hs.is_valid(code):
            raise UnknownCodeError(f"HS code {code!r} must have 2, 4, 6, 8 or 10 digits.")
        schedule = resolve(scenario, partners, np.full(len(partners), code, dtype=object), on)
        for m in schedule.measures:
            if m.measure.observed is None and m.active:
                for i in np.flatnonzero(m.covers):
                    rows.append(
                        (
                            partners[i],
                            m.measure.id,
                            m.rate[i],
                            m.partners.basis[schedule.partner_index[i]],
                            bool(m.applies[i]),
                            m.contribution[i],
                        )
                    )
        table = pd.DataFrame(
            rows, columns=["partner", "measure", "rate", "rate_basis", "applies", "added_rate"]
        )
        table.insert(1, "hs", code)
    table.insert(1, "partner_name", table["partner"].map(countries.partner_name))
    return table.sort_values(["partner", "measure"], ignore_index=True)
