"""tariffcalc: what a tariff schedule costs — duties by partner and product, on real trade data.

Money is nominal USD (not millions); rates are fractions (0.10 = 10 %). The names below are the
notebook API; the command line (``tariffcalc``) is a thin layer over the same functions (docs/api.md).
They are imported on first use, so ``tariffcalc --help`` starts without loading pandas.

>>> import tariffcalc
>>> result = tariffcalc.compute(tariffcalc.load_flows(), "liberation-day")
>>> result.by_partner().head()
"""

from __future__ import annotations

import importlib
from typing import Any

from tariffcalc._version import __version__

_API = {
    # reading
    "load_flows": "tariffcalc.read.flows",
    # rules
    "load_scenario": "tariffcalc.rules.scenario",
    "explain": "tariffcalc.rules.explain",
    # computing and models
    "compute": "tariffcalc.app.api",
    "respond": "tariffcalc.app.api",
    # whole jobs
    "run": "tariffcalc.app.api",
    "write_outputs": "tariffcalc.app.api",
    "compare": "tariffcalc.app.studies",
    "sweep": "tariffcalc.app.studies",
    "timeline": "tariffcalc.app.studies",
    "gsim": "tariffcalc.app.studies",
    "refunds": "tariffcalc.app.studies",
    "brief": "tariffcalc.app.brief",
    "validate": "tariffcalc.app.validate",
    # errors
    "TariffcalcError": "tariffcalc.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'tariffcalc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
