"""The Global Simulation Model (Francois and Hall 2003) under its short name.

``tariffcalc.gsim.solve(flows, tariff_before, tariff_after, import_demand_elasticity,
export_supply_elasticity, substitution_elasticity)`` is the library entry point; the implementation and
the equations are in :mod:`tariffcalc.model.gsim`.
"""

from tariffcalc.model.gsim import GsimResult, solve

__all__ = ["GsimResult", "solve"]
