"""tariffcalc: what a tariff schedule costs — duties by partner and product, on real trade data.

Money is nominal USD (not millions); rates are fractions (0.10 = 10 %). The names below are the
notebook API; the command line (``tariffcalc``) is a thin layer over the same functions. They are
imported on first use, so ``tariffcalc --help`` starts without loading pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "compute": "tariffcalc.api",
    "run": "tariffcalc.api",
    "write_outputs": "tariffcalc.api",
    "explain": "tariffcalc.explain",
    "load_flows": "tariffcalc.flows",
    "load_scenario": "tariffcalc.scenario",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    if name == "gsim":  # the many-market model's module: tariffcalc.gsim.solve(...)
        return importlib.import_module("tariffcalc.gsim")
    raise AttributeError(f"module 'tariffcalc' has no attribute {name!r}")
