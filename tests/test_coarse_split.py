"""Coarse rows split over the import mix (docs/scenarios.md, "How rates are resolved", item 4).

A row coarser than HTS10 becomes one sub-pair per HTS10 code under it, weighted by the code's share of the
prefix's imports among partners with HTS10 detail; it pays the weighted average of the sub-pairs' rates and
keeps its own observed 2024 rate.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffcalc.app.cli import cli
from tariffcalc.engine.duties import compute
from tariffcalc.reference import bundled
from tariffcalc.reference.mix import ImportMix, us_2024_mix
from tariffcalc.rules.explain import explain, to_text
from tariffcalc.rules.scenario import load_scenario

from .conftest import flows

# ------------------------------------------------------------------------------------- hand-worked case

HAND = """
as_of = 2025-04-09
[[measure]]
id = "m"
authority = "a"
citation = "c"
rate = 0.10
rates = { GUY = 0.30 }
exclude_products = ["8502000020"]
"""
# two partners with HTS10 detail: chapter 85's mix is 8501000010 600 + 200 = 800, 8502000020 300,
# 8503000030 100: total 1,200, weights 2/3, 1/4, 1/12
DETAIL = (
    ("DEU", "8501000010", 600.0),
    ("DEU", "8502000020", 300.0),
    ("JPN", "8501000010", 200.0),
    ("JPN", "8503000030", 100.0),
)


def hand_flows():
    # GUY has chapter 85 only; LBY a heading (8501: all of it is 8501000010 in the mix); KAZ a chapter the
    # mix has no codes in
    return flows(*DETAIL, ("GUY", "85", 1000.0), ("LBY", "8501", 40.0), ("KAZ", "09", 50.0))


def hand_mix(data):
    return ImportMix.of_flows(data, "the test's detail partners")


def test_hand_worked_chapter_row_pays_the_mix_average(write_scenario, zero_baseline):
    scenario = write_scenario(HAND)
    data = hand_flows()
    mix = hand_mix(data)
    assert list(mix.codes) == ["8501000010", "8502000020", "8503000030"]
    assert list(mix.value) == [800.0, 300.0, 100.0]
    result = compute(data, scenario, zero_baseline, level=4, mix=mix)

    # by hand: GUY pays 30 % on 8501000010 (2/3) and 8503000030 (1/12), 0 on the exempt 8502000020 (1/4)
    ccc_rate = 2 / 3 * 0.30 + 1 / 4 * 0.0 + 1 / 12 * 0.30
    assert ccc_rate == pytest.approx(0.225)
    rows = result.flow_duties().set_index(["partner", "hs"])
    assert rows.loc[("GUY", "85"), "scenario_duty_usd"] == pytest.approx(1000 * ccc_rate)
    assert rows.loc[("LBY", "8501"), "scenario_duty_usd"] == pytest.approx(40 * 0.10)  # all 8501000010
    assert rows.loc[("KAZ", "09"), "scenario_duty_usd"] == pytest.approx(50 * 0.10)  # no mix: as before
    assert rows.loc[("DEU", "8502000020"), "scenario_duty_usd"] == 0.0
    assert rows.loc[("GUY", "85"), "duty_usd:m"] == pytest.approx(225.0)

    # tables stay at the data's own codes, coarser than the level where the data is
    pairs = result.by_partner_product().set_index(["partner", "hs"])
    assert pairs.loc[("GUY", "85"), "scenario_duty_usd"] == pytest.approx(225.0)
    assert pairs.loc[("GUY", "85"), "imports_usd"] == pytest.approx(1000.0)
    assert pairs.loc[("GUY", "85"), "scenario_rate"] == pytest.approx(0.225)
    assert set(result.by_product()["hs"]) == {"8501", "8502", "8503", "85", "09"}
    detail_duty = 800 * 0.10 + 100 * 0.10 + 40 * 0.10 + 50 * 0.10
    measures = result.by_measure().set_index("measure")
    assert measures.loc["m", "scenario_duty_usd"] == pytest.approx(225.0 + detail_duty)
    assert result.totals()["scenario_duty_usd"] == pytest.approx(225.0 + detail_duty)

    diagnostics = result.diagnostics()
    assert diagnostics["coarse_split_value_usd"] == pytest.approx(1040.0)
    assert diagnostics["coarse_split_rows"] == 2
    assert diagnostics["coarse_split_partners"] == 2
    assert diagnostics["coarse_split_value_by_partner_usd"] == {
        "GUY": pytest.approx(1000.0),
        "LBY": pytest.approx(40.0),
    }
    assert diagnostics["coarse_split_mix"] == "the test's detail partners"
    assert diagnostics["coarse_unsplit_value_usd"] == pytest.approx(50.0)
    assert diagnostics["value_coarser_than_level_usd"] == pytest.approx(1050.0)  # GUY 85 and KAZ 09

    # turned off: the HTS10 exemption does not match the chapter row, which pays the full 30 %
    unsplit = compute(data, scenario, zero_baseline, level=4, mix=mix, split_coarse=False)
    rows = unsplit.flow_duties().set_index(["partner", "hs"])
    assert rows.loc[("GUY", "85"), "scenario_duty_usd"] == pytest.approx(300.0)
    assert unsplit.diagnostics()["coarse_split_value_usd"] == 0.0
    assert unsplit.diagnostics()["coarse_split"] is False


def test_a_split_row_keeps_its_observed_rate_and_with_scenario_keeps_the_split(write_scenario):
    """Sub-pairs take the coarse row's observed rate, even where the 2024 table has finer cells for the
    partner (CHN has HTS10 detail in 2024, but its chapter row here is priced at CHN × 85's own rate)."""
    observed = load_scenario("baseline-2024")
    data = hand_flows().replace({"partner": {"GUY": "CHN"}})
    mix = hand_mix(data)
    split = compute(data, observed, observed, mix=mix)
    unsplit = compute(data, observed, observed, split_coarse=False)
    assert split.split is not None and unsplit.split is None
    by_split = split.by_partner().set_index("partner")["baseline_duty_usd"]
    by_unsplit = unsplit.by_partner().set_index("partner")["baseline_duty_usd"]
    pd.testing.assert_series_equal(by_split.sort_index(), by_unsplit.sort_index(), rtol=1e-12)
    again = split.with_scenario(load_scenario("liberation-day"))
    assert again.split is split.split
    assert again.totals()["baseline_duty_usd"] == pytest.approx(split.totals()["baseline_duty_usd"])


# --------------------------------------------------------------------------- bundled data: crude oil


@functools.cache
def bundled_result(split: bool):
    return compute(
        bundled.default_flows(),
        load_scenario("liberation-day"),
        load_scenario("baseline-2024"),
        split_coarse=split,
    )


EXEMPT_LISTS = (
    "eo14257_annex2.csv",
    "s232_steel_articles.csv",
    "s232_steel_derivatives.csv",
    "s232_aluminum_articles.csv",
    "s232_aluminum_derivatives.csv",
    "s232_autos.csv",
)
"""The product lists liberation-day's reciprocal measures exclude."""


def exempt_share(chapter: str, on: dt.date) -> float:
    """Share of the chapter's 2024 imports from partners with HTS10 detail whose code a reciprocal
    exclusion list in force on ``on`` covers: plain pandas on the bundled files, independent of the engine."""
    imports = pd.read_parquet(bundled.data_path("us_imports_2024.parquet"))
    detail = imports[(imports["hs"].str.len() == 10) & imports["hs"].str.startswith(chapter)]
    by_code = detail.groupby("hs")["value_usd"].sum()
    prefixes = set()
    for name in EXEMPT_LISTS:
        table = pd.read_csv(bundled.data_path(f"lists/{name}"), dtype=str, keep_default_na=False)
        prefixes |= {p for p, d in zip(table["hs"], table["effective"], strict=True) if not d or d <= str(on)}
    exempt = [any(code.startswith(p) for p in prefixes if p[:2] == chapter) for code in by_code.index]
    return float(by_code[exempt].sum() / by_code.sum())


@pytest.mark.parametrize(
    ("partner", "chapter", "on", "full"),
    [
        ("GUY", "27", dt.date(2025, 4, 9), 0.38),  # Annex I rates from 9 April
        ("LBY", "27", dt.date(2025, 4, 9), 0.31),
        ("KAZ", "27", dt.date(2025, 4, 9), 0.27),
        ("GUY", "27", dt.date(2025, 4, 5), 0.10),  # the 10 % baseline duty alone, 5-8 April
        ("KAZ", "81", dt.date(2025, 4, 9), 0.27),  # a chapter only partly exempt
    ],
)
def test_chapter_rows_of_crude_oil_pay_only_on_the_mix_that_is_not_exempt(partner, chapter, on, full):
    share = exempt_share(chapter, on)
    expected = full * (1 - share)
    e = explain("liberation-day", partner, chapter, as_of=on)
    assert e["added_rate"] == pytest.approx(expected, abs=1e-9)
    assert e["added_rate"] < full
    assert e["split"]["codes"] > 1
    assert "partners with HTS10 detail" in e["split"]["mix"]
    assert sum(c["share"] for c in e["split"]["largest"]) <= 1 + 1e-12
    text = to_text(e)
    assert "priced as a mix" in text and "Largest codes" in text
    unsplit = explain("liberation-day", partner, chapter, as_of=on, split_coarse=False)
    assert unsplit["added_rate"] == pytest.approx(full)
    assert unsplit["split"] is None
    assert e["baseline_rate"] == pytest.approx(unsplit["baseline_rate"])
    if on == dt.date(2025, 4, 9):  # run prices the same row at the same rate
        pairs = bundled_result(True).by_partner_product().set_index(["partner", "hs"])
        assert pairs.loc[(partner, chapter), "added_rate"] == pytest.approx(expected, abs=1e-9)


def test_crude_oil_is_all_exempt_in_the_mix():
    assert exempt_share("27", dt.date(2025, 4, 9)) == pytest.approx(1.0)
    assert explain("liberation-day", "GUY", "27")["added_rate"] == pytest.approx(0.0, abs=1e-12)


def test_bundled_run_baseline_unchanged_and_totals_reconcile():
    split, unsplit = bundled_result(True), bundled_result(False)
    totals = split.totals()
    assert totals["imports_usd"] == pytest.approx(unsplit.totals()["imports_usd"], rel=1e-12)
    assert totals["baseline_duty_usd"] == pytest.approx(unsplit.totals()["baseline_duty_usd"], rel=1e-12)
    assert totals["added_duty_usd"] < unsplit.totals()["added_duty_usd"]
    # the coarse partners' baseline duty is their 2024 calculated duty, as before
    imports = bundled.default_flows()
    coarse = imports[imports["hs"].str.len() < 10]
    duty_2024 = coarse.groupby("partner")["calc_duty_usd"].sum()
    by_partner = split.by_partner().set_index("partner")
    for partner in ("GUY", "LBY", "KAZ", "JOR"):
        assert by_partner.loc[partner, "baseline_duty_usd"] == pytest.approx(duty_2024[partner], rel=1e-9)
    for table in (split.by_partner(), split.by_product(), split.by_partner_product()):
        for column in ("imports_usd", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd"):
            assert table[column].sum() == pytest.approx(totals[column], rel=1e-12)
    measures = split.by_measure()
    assert measures["scenario_duty_usd"].sum() == pytest.approx(totals["scenario_duty_usd"], rel=1e-12)
    rows = split.flow_duties()
    assert rows["scenario_duty_usd"].sum() == pytest.approx(totals["scenario_duty_usd"], rel=1e-12)
    assert len(rows) == len(imports)
    # outputs stay at the data's codes: a chapter partner's rows are its chapters
    assert set(split.by_partner_product().query("partner == 'GUY'")["hs"]) == set(
        imports.loc[imports["partner"] == "GUY", "hs"]
    )
    diagnostics = split.diagnostics()
    assert diagnostics["coarse_split_value_usd"] == pytest.approx(coarse["value_usd"].sum(), rel=1e-12)
    assert diagnostics["coarse_split_partners"] == coarse["partner"].nunique()
    assert diagnostics["coarse_split_rows"] == len(coarse)
    assert diagnostics["coarse_match_value_usd"] == 0.0


def test_the_reference_mix_is_read_only_and_computed_once():
    mix = us_2024_mix()
    assert us_2024_mix() is mix
    with pytest.raises(ValueError):
        mix.value[0] = 1.0
    with pytest.raises(ValueError):
        mix.codes[0] = "0000000000"
    assert mix.partners == 76
    shares = mix.shares("2709")
    assert shares["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("flag", [[], ["--no-split-coarse"]])
def test_run_says_what_was_split_and_can_turn_it_off(tmp_path, flag):
    data = tmp_path / "flows.csv"
    flows(("CHN", "8501000010", 100.0), ("GUY", "27", 50.0)).to_csv(data, index=False)
    out = tmp_path / "out"
    args = [
        "run",
        "liberation-day",
        "--flows",
        str(data),
        "--no-charts",
        "--format",
        "png",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(cli, [*args, "--quiet", *flag])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    diagnostics = summary["diagnostics"]
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    pairs = pd.read_csv(out / "by_partner_product.csv", dtype={"hs": str}, encoding="utf-8-sig")
    assert set(pairs["hs"]) == {"85", "27"}  # the data's own codes
    guy = pairs.set_index("partner").loc["GUY"]
    if flag:
        assert diagnostics["coarse_split"] is False and diagnostics["coarse_split_value_usd"] == 0.0
        assert "--no-split-coarse" in summary["rules"]["coarse_rows"]
        assert guy["added_duty_usd"] == pytest.approx(50.0 * 0.38)
    else:
        assert diagnostics["coarse_split_value_usd"] == pytest.approx(50.0)
        assert diagnostics["coarse_split_value_by_partner_usd"] == {"GUY": pytest.approx(50.0)}
        assert "partners with HTS10 detail" in diagnostics["coarse_split_mix"]
        assert "was split over the HTS10 codes" in markdown
        assert guy["added_duty_usd"] == pytest.approx(0.0, abs=1e-9)  # crude oil: all Annex II
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["split_coarse"] is not bool(flag)


# ------------------------------------------------------------------------------------------ properties

PARTNERS = ("GUY", "KAZ", "CHN", "DEU", "UKR")
CODES = ("8501000010", "8502000020", "8503000030", "8504000040", "2709001000", "2710190635")
COARSE = ("85", "8501", "850200", "27", "2709", "09")


@st.composite
def split_cases(draw):
    detail = draw(
        st.lists(
            st.tuples(st.sampled_from(PARTNERS[2:]), st.sampled_from(CODES), st.floats(1.0, 1e9)),
            min_size=1,
            max_size=10,
            unique_by=lambda r: r[:2],
        )
    )
    coarse = draw(
        st.lists(
            st.tuples(st.sampled_from(PARTNERS[:2]), st.sampled_from(COARSE), st.floats(0.0, 1e9)),
            min_size=1,
            max_size=6,
            unique_by=lambda r: r[:2],
        )
    )
    return flows(*detail, *coarse)


# each example prices twice against the observed 2024 baseline, whose lookups cost ~0.3 s however small the data
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(split_cases(), st.floats(0.0, 2.0), st.sampled_from(["mix of the data", "bundled mix"]))
def test_splitting_never_changes_imports_baseline_or_a_uniform_rate(write_scenario, data, rate, which):
    """With the observed 2024 baseline and a uniform rate without product scope, the split changes neither
    the imports, nor the baseline duty, nor the scenario duty, of any partner."""
    baseline = load_scenario("baseline-2024")
    uniform = write_scenario(
        f'as_of = 2025-04-09\n[[measure]]\nid = "u"\nauthority = "a"\ncitation = "c"\nrate = {rate}\n'
    )
    mix = hand_mix(data) if which == "mix of the data" else None
    split = compute(data, uniform, baseline, mix=mix).by_partner().set_index("partner").sort_index()
    unsplit = (
        compute(data, uniform, baseline, split_coarse=False).by_partner().set_index("partner").sort_index()
    )
    columns = ["imports_usd", "baseline_duty_usd", "scenario_duty_usd"]
    np.testing.assert_allclose(split[columns].to_numpy(), unsplit[columns].to_numpy(), rtol=1e-9, atol=1e-6)
