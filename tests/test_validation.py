"""tariffcalc's us-tariffs rates against the published statutory rates (docs/validation.md).

The published figures and URLs are in docs/validation/published.csv, the tolerance each row is held to
(with its reason) in docs/validation/reasons.csv. The published numbers are independent of tariffcalc:
the Budget Lab at Yale's tariff-rate tracker and State of U.S. Tariffs reports.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tariffcalc.app import api
from tariffcalc.read.flows import load_flows

from .conftest import REPO

RATES = ("statutory_rate", "pre_substitution_rate")


def _held_rows() -> pd.DataFrame:
    published = pd.read_csv(REPO / "docs" / "validation" / "published.csv", dtype=str, keep_default_na=False)
    reasons = pd.read_csv(REPO / "docs" / "validation" / "reasons.csv", dtype=str, keep_default_na=False)
    table = published.merge(reasons, on="id", how="left", validate="one_to_one")
    return table[table["metric"].isin(RATES) & (table["tolerance_pp"].fillna("") != "")]


@pytest.fixture(scope="module")
def rates() -> dict[str, float]:
    first = api.compute(load_flows(aggregate=True), "us-tariffs")
    out = {}
    for on in sorted(set(_held_rows()["on"])):
        day = dt.date.fromisoformat(on)
        out[on] = first.with_scenario(first.scenario, as_of=day).totals()["scenario_rate"] * 100
    return out


def test_every_published_row_has_a_reason():
    published = pd.read_csv(REPO / "docs" / "validation" / "published.csv", dtype=str)
    reasons = pd.read_csv(REPO / "docs" / "validation" / "reasons.csv", dtype=str)
    assert set(published["id"]) == set(reasons["id"])
    assert published["url"].str.startswith("http").all()


@pytest.mark.parametrize("row", _held_rows().to_dict("records"), ids=lambda r: r["id"])
def test_statutory_rate_within_the_stated_tolerance(rates, row):
    gap = rates[row["on"]] - float(row["value"])
    assert abs(gap) <= float(row["tolerance_pp"]), f"{row['id']}: gap {gap:+.2f} pp; {row['reason']}"


def test_the_daily_statutory_series_agrees_within_a_point_on_average(rates):
    """The aim of issue 13: Yale's daily statutory rate (same quantity, same 2024 weights)."""
    rows = _held_rows()
    daily = rows[rows["id"].str.startswith("ybl-daily")]
    gaps = [abs(rates[r.on] - float(r.value)) for r in daily.itertuples()]
    assert len(gaps) >= 12
    assert sum(gaps) / len(gaps) < 1.0
