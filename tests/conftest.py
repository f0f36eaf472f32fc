"""Shared helpers: write small scenario and flow files, build flow frames."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tariffcalc.rules.scenario import Scenario, load_scenario

REPO = Path(os.environ.get("TARIFFCALC_SOURCE") or Path(__file__).resolve().parent.parent)
"""The source tree: the tests' parent folder, or TARIFFCALC_SOURCE when CI runs a copy of the tests
against a plain install (.ci/run)."""


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write TOML text (dedented) to tmp_path/<name>.toml and return the loaded scenario."""

    def write(text: str, name: str = "test") -> Scenario:
        path = tmp_path / f"{name}.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return load_scenario(path)

    return write


@pytest.fixture
def scenario_file(tmp_path: Path):
    """Write TOML text to tmp_path/<name>.toml and return the path (for tests that expect errors)."""

    def write(text: str, name: str = "test") -> Path:
        path = tmp_path / f"{name}.toml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def flows(*rows: tuple[str, str, float]) -> pd.DataFrame:
    """A canonical flow table from (partner, hs, value_usd) tuples."""
    return pd.DataFrame(rows, columns=["partner", "hs", "value_usd"]).assign(period="2024")


ZERO_BASELINE = """
name = "zero"
title = "no duties"
as_of = 2024-12-31

[[measure]]
id = "nothing"
authority = "none"
citation = "test"
rate = 0.0
"""


@pytest.fixture
def zero_baseline(write_scenario) -> Scenario:
    """A baseline with no duty at all, so added duty equals scenario duty in hand-worked cases."""
    return write_scenario(ZERO_BASELINE, name="zero")


def flat_scenario(rate: float, title: str = "test", name: str | None = None, **partner_rates: float) -> str:
    """TOML of a scenario with one measure, "flat": ``rate`` (a fraction) on every partner, and
    ``partner_rates`` (ISO3 = fraction) on some of them."""
    lines = [f'name = "{name}"'] if name else []
    lines += [f'title = "{title}"', "as_of = 2025-04-09", "[[measure]]", 'id = "flat"']
    lines += ['authority = "test authority"', 'citation = "test citation"', f"rate = {rate}"]
    if partner_rates:
        lines.append("rates = { " + ", ".join(f"{iso3} = {r}" for iso3, r in partner_rates.items()) + " }")
    return "\n".join(lines) + "\n"


TEN = flat_scenario(0.10, "Ten percent", "ten")
"""10 % on everything (compare, sweep and timeline tests)."""
CHINA = flat_scenario(0.10, "China at fifty", "china", CHN=0.50)
"""10 % on everything, 50 % on China."""
CHINA_40 = flat_scenario(0.10, name="china-40", CHN=0.40)
"""10 % on everything, 40 % on China (response-model tests)."""
