"""Economic response models: how trade, prices and revenue respond to a tariff schedule.

* :mod:`tariffcalc.models.armington`: one importer, CES Armington demand, solved exactly per product market;
* :mod:`tariffcalc.models.gsim`: many importers and exporters, the Global Simulation Model of Francois and
  Hall (2003);
* :mod:`tariffcalc.models.prices`: the consumer price level and the cost per household;
* :mod:`tariffcalc.models.revenue`: the revenue ladder from static duty to net budget effect;
* :mod:`tariffcalc.reference.parameters`: defaults with sources, per-chapter overrides, validation.

The equations and their sources are in docs/model.md.
"""
