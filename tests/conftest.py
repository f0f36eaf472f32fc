"""Shared helpers: write small scenario and flow files, build flow frames."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tariffcalc.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parent.parent


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


TEN = """
name = "ten"
title = "Ten percent"
as_of = 2025-04-09
[[measure]]
id = "flat"
authority = "a"
citation = "c"
rate = 0.10
"""
"""10 % on everything (compare, sweep and timeline tests)."""

CHINA = """
name = "china"
title = "China at fifty"
as_of = 2025-04-09
[[measure]]
id = "flat"
authority = "a"
citation = "c"
rate = 0.10
rates = { CHN = 0.50 }
"""
"""10 % on everything, 50 % on China."""

CHINA_40 = """
name = "china-40"
title = "test"
as_of = 2025-04-09
[[measure]]
id = "flat"
authority = "test"
citation = "test"
rate = 0.10
rates = { CHN = 0.40 }
"""
"""10 % on everything, 40 % on China (response-model tests)."""
