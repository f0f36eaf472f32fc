"""The bundled scenarios against independent sources: the Annex I table, the per-country rate table
derived from the HTSUS, and a second, plain-pandas implementation of the liberation-day arithmetic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import tariffcalc
from tariffcalc.reference import bundled, countries
from tariffcalc.rules.rates import statutory_rates
from tariffcalc.rules.scenario import load_scenario

NAMES = ["baseline-2024", "liberation-day", "april-2025", "pause-90-day", "geneva-2025", "universal-10"]


@pytest.fixture(scope="module")
def default_result():
    return tariffcalc.compute(scenario="liberation-day")


@pytest.mark.parametrize("name", NAMES)
def test_bundled_scenarios_load_cleanly_and_cite_every_measure(name):
    scenario = load_scenario(name)
    assert scenario.warnings == () or name == "pause-90-day"
    assert scenario.sources, "every bundled scenario lists its sources"
    for measure in scenario.measures:
        assert measure.citation and measure.authority


def test_annex1_rates_are_those_of_the_bundled_annex():
    measure = load_scenario("liberation-day").measure("ieepa-reciprocal-annex1")
    annex = bundled.read_table("eo14257_annex1.csv")
    expected = {p: float(r) for p, r in zip(annex["partner"], annex["rate"], strict=True)}
    # Annex I lists China once; heading 9903.01.63 applies its 34 % to Hong Kong and Macau too
    expected |= {"HKG": expected["CHN"], "MAC": expected["CHN"]}
    assert dict(measure.rates) == pytest.approx(expected)


def test_statutory_rates_match_the_per_country_table_of_9_april_2025():
    """Every Census country's reciprocal rate, from the table derived from HTSUS chapter 99."""
    table = bundled.read_table("eo14257_rates_by_partner_2025-04-09.csv")
    rates = statutory_rates(load_scenario("liberation-day"))
    by_measure = {m: group.set_index("partner")["rate"] for m, group in rates.groupby("measure")}
    # the Annex I measure pre-empts the 10 % one where both cover a partner
    charged = by_measure["ieepa-reciprocal-annex1"].combine_first(by_measure["ieepa-reciprocal-baseline"])
    checked = 0
    for partner, rate, basis in zip(table["partner"], table["rate"], table["basis"], strict=True):
        if basis == "not_applicable_us_territory" or partner == "USA":
            continue
        if basis.startswith("not_subject"):
            assert partner not in charged.index, partner
        else:
            assert charged[partner] == pytest.approx(float(rate)), partner
        checked += 1
    assert checked > 220


def test_baseline_reproduces_census_duties_exactly(default_result):
    flows = bundled.default_flows()
    by_partner = default_result.by_partner().set_index("partner")["baseline_duty_usd"]
    census = flows.groupby("partner")["calc_duty_usd"].sum()
    assert by_partner.sort_index().to_numpy() == pytest.approx(census.sort_index().to_numpy(), rel=1e-9)
    assert default_result.totals()["baseline_duty_usd"] == pytest.approx(76_159_762_026, rel=1e-12)


def test_universal_ten_adds_exactly_ten_percent():
    totals = tariffcalc.compute(scenario="universal-10").totals()
    assert totals["added_duty_usd"] == pytest.approx(0.10 * 3_251_151_779_682, rel=1e-12)
    assert totals["added_rate"] == pytest.approx(0.10, rel=1e-12)


def _prefix_match(codes: pd.Series, prefixes: set[str]) -> pd.Series:
    """True where some prefix (no longer than the code) starts the code: a plain second implementation."""
    hit = pd.Series(False, index=codes.index)
    for length in sorted({len(p) for p in prefixes}):
        wanted = {p for p in prefixes if len(p) == length}
        hit |= (codes.str.len() >= length) & codes.str[:length].isin(wanted)
    return hit


def test_liberation_day_matches_an_independent_pandas_implementation(default_result):
    flows = bundled.default_flows()
    on = dt.date(2025, 4, 9)

    def listed(name: str) -> set[str]:
        table = bundled.read_table(f"lists/{name}")
        dates = pd.to_datetime(table["effective"].replace("", "1900-01-01")).dt.date
        return set(table.loc[dates <= on, "hs"])

    exempt = set().union(
        *(
            listed(n)
            for n in (
                "eo14257_annex2.csv",
                "s232_steel_articles.csv",
                "s232_steel_derivatives.csv",
                "s232_aluminum_articles.csv",
                "s232_aluminum_derivatives.csv",
                "s232_autos.csv",
            )
        )
    )
    annex = bundled.read_table("eo14257_annex1.csv")
    rate_of = {p: float(r) for p, r in zip(annex["partner"], annex["rate"], strict=True) if p != "EU"}
    rate_of |= {
        m: float(annex.set_index("partner").loc["EU", "rate"]) for m in countries.group_members("EU", on)
    }
    rate_of |= {"HKG": rate_of["CHN"], "MAC": rate_of["CHN"]}
    rate = flows["partner"].map(rate_of).fillna(0.10)
    rate[flows["partner"].isin(["CAN", "MEX", "RUS", "BLR", "CUB", "PRK"])] = 0.0
    coarse = flows["hs"].str.len() < 10  # chapter rows: priced as the chapter's HTS10 import mix
    rate[~coarse & _prefix_match(flows["hs"], exempt)] = 0.0
    mix = flows[~coarse].groupby("hs")["value_usd"].sum()
    taxed = mix[~_prefix_match(mix.index.to_series(), exempt).to_numpy()]
    by_chapter = mix.groupby(mix.index.str[:2]).sum()
    taxed_share = (taxed.groupby(taxed.index.str[:2]).sum() / by_chapter).fillna(0.0)
    rate[coarse] *= flows.loc[coarse, "hs"].map(taxed_share)
    expected = float(np.sum(flows["value_usd"] * rate))
    assert default_result.totals()["added_duty_usd"] == pytest.approx(expected, rel=1e-12)
    by_partner = (flows["value_usd"] * rate).groupby(flows["partner"]).sum()
    engine = default_result.by_partner().set_index("partner")["added_duty_usd"]
    assert engine.sort_index().to_numpy() == pytest.approx(
        by_partner.sort_index().to_numpy(), rel=1e-9, abs=1e-3
    )


def test_headline_figures_are_in_the_published_range(default_result):
    """A sanity band, not a golden value: EO 14257 alone adds roughly 10-15 points (Yale Budget Lab: ~11.5)."""
    totals = default_result.totals()
    assert 0.10 < totals["added_rate"] < 0.16
    assert totals["baseline_rate"] == pytest.approx(76_159_762_026 / 3_251_151_779_682)


def test_chapter_restricted_observed_rates_equal_the_full_lookup():
    """explain looks up one code in its chapter's rows only; the answers must not change."""
    from tariffcalc.rules.schedule import us_2024_observed, us_2024_observed_chapter

    cases = [("DEU", "8428900390"), ("UKR", "6109100012"), ("ITA", "8479899599"), ("FRA", "9999999999")]
    for partner, code in cases:
        p, c = np.array([partner], dtype=object), np.array([code], dtype=object)
        full_rate, full_tier = us_2024_observed().lookup(p, c)
        part_rate, part_tier = us_2024_observed_chapter(code[:2]).lookup(p, c)
        assert part_rate == pytest.approx(full_rate, rel=1e-12) and list(part_tier) == list(full_tier)


def test_streamed_flows_price_like_the_careful_reader():
    """The fast reader's pair table (sorted pairs, categorical partner and hs with small integer codes)
    and the careful reader's rows give the same duties, observed baseline tiers included."""
    from tariffcalc import compute
    from tariffcalc.read.flows import load_flows

    streamed, careful = compute(load_flows(aggregate=True)), compute(load_flows())
    assert isinstance(streamed.flows["partner"].dtype, pd.CategoricalDtype)
    for key, value in careful.totals().items():
        assert streamed.totals()[key] == pytest.approx(value, rel=1e-12), key
    fast, slow = streamed.diagnostics(), careful.diagnostics()
    assert fast.keys() == slow.keys()
    for key, value in slow.items():  # one level at a time: approx does not compare nested mappings
        assert fast[key] == (value if isinstance(value, str) else pytest.approx(value, rel=1e-12)), key
