"""Hand-worked golden cases, one per rule of the engine (docs/scenarios.md, schedule.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tariffcalc.engine.duties import compute
from tariffcalc.rules.schedule import ObservedRates

from .conftest import flows


def duty_by_pair(result) -> dict[tuple[str, str], float]:
    table = result.flow_duties()
    return {
        (p, h): round(d, 6)
        for p, h, d in zip(table["partner"], table["hs"], table["scenario_duty_usd"], strict=True)
    }


def test_partner_rate_beats_group_rate_which_beats_default(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.10
        rates = { EU = 0.20, DEU = 0.30 }
    """)
    data = flows(("DEU", "8479", 100.0), ("FRA", "8479", 200.0), ("JPN", "8479", 50.0))
    result = compute(data, scenario, zero_baseline)
    # by hand: 100 × 0.30, 200 × 0.20, 50 × 0.10
    assert duty_by_pair(result) == {("DEU", "8479"): 30.0, ("FRA", "8479"): 40.0, ("JPN", "8479"): 5.0}


def test_group_membership_follows_the_date(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2019-06-01
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.10
        rates = { EU = 0.20 }
    """)
    data = flows(("GBR", "22", 1000.0))
    before_brexit = compute(data, scenario, zero_baseline)
    after_brexit = compute(data, scenario, zero_baseline, as_of=dt.date(2020, 2, 1))
    assert before_brexit.totals()["scenario_duty_usd"] == pytest.approx(200.0)  # UK in the EU: 20 %
    assert after_brexit.totals()["scenario_duty_usd"] == pytest.approx(100.0)  # left 31 Jan 2020: 10 %


def test_longest_prefix_decides_including_carve_backs(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.50
        products = ["84", "847130"]
        exclude_products = ["8471"]
    """)
    data = flows(
        ("JPN", "8401100000", 10.0),  # in 84 → 5
        ("JPN", "8471410150", 20.0),  # 8471 excluded → 0
        ("JPN", "8471300100", 40.0),  # 847130 re-included (longer than 8471) → 20
        ("JPN", "8501100020", 80.0),  # not in 84 → 0
    )
    duties = duty_by_pair(compute(data, scenario, zero_baseline))
    assert duties == {
        ("JPN", "8401100000"): 5.0,
        ("JPN", "8471410150"): 0.0,
        ("JPN", "8471300100"): 20.0,
        ("JPN", "8501100020"): 0.0,
    }


def test_excluded_partners_pay_nothing_even_inside_a_group(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rates = { EU = 0.20 }
        exclude_partners = ["IRL"]
    """)
    data = flows(("IRL", "30", 100.0), ("ITA", "30", 100.0), ("USA", "30", 100.0), ("CHN", "30", 100.0))
    duties = duty_by_pair(compute(data, scenario, zero_baseline))
    # IRL excluded, ITA via EU, CHN has no rate (no default) → out of scope
    assert duties[("IRL", "30")] == 0.0
    assert duties[("ITA", "30")] == 20.0
    assert duties[("CHN", "30")] == 0.0


def test_preemption_replaces_instead_of_stacking(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "reciprocal"
        authority = "a"
        citation = "c"
        rate = 0.10
        preempted_by = ["autos"]

        [[measure]]
        id = "autos"
        authority = "a"
        citation = "c"
        rate = 0.25
        products = ["8703"]
    """)
    data = flows(("JPN", "8703230190", 1000.0), ("JPN", "8704100000", 1000.0))
    result = compute(data, scenario, zero_baseline)
    assert duty_by_pair(result) == {("JPN", "8703230190"): 250.0, ("JPN", "8704100000"): 100.0}
    by_measure = result.by_measure().set_index("measure")
    assert by_measure.loc["reciprocal", "scenario_duty_usd"] == pytest.approx(100.0)
    assert by_measure.loc["autos", "scenario_duty_usd"] == pytest.approx(250.0)


def test_effective_and_expiry_dates(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.34
        effective = 2025-04-09
        expires = 2025-04-10
    """)
    data = flows(("CHN", "95", 100.0))
    totals = {
        day: compute(data, scenario, zero_baseline, as_of=dt.date(2025, 4, day)).totals()["scenario_duty_usd"]
        for day in (8, 9, 10)
    }
    assert totals == {8: 0.0, 9: pytest.approx(34.0), 10: 0.0}


def test_product_list_entries_count_from_their_own_date(write_scenario, tmp_path, zero_baseline):
    (tmp_path / "list.csv").write_text("hs,effective,description\n7308,2025-03-12,\n7326,2025-08-18,\n")
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.25
        products = [{ file = "list.csv" }]
    """)
    data = flows(("CHN", "7308", 100.0), ("CHN", "7326", 100.0))
    assert duty_by_pair(compute(data, scenario, zero_baseline)) == {
        ("CHN", "7308"): 25.0,
        ("CHN", "7326"): 0.0,
    }
    later = compute(data, scenario, zero_baseline, as_of=dt.date(2025, 9, 1))
    assert later.totals()["scenario_duty_usd"] == pytest.approx(50.0)


def test_extends_inherits_overrides_and_removes(write_scenario, tmp_path, zero_baseline):
    write_scenario(
        """
        title = "parent"
        as_of = 2025-04-09
        [[measure]]
        id = "keep"
        authority = "a"
        citation = "c"
        rate = 0.10
        [[measure]]
        id = "change"
        authority = "a"
        citation = "c"
        rate = 0.20
        partners = ["CHN"]
        [[measure]]
        id = "drop"
        authority = "a"
        citation = "c"
        rate = 0.05
    """,
        name="parent",
    )
    child = write_scenario(
        """
        extends = "parent"
        remove_measures = ["drop"]
        [[measure]]
        id = "change"
        override = true
        partners = ["CHN"]
        rate = 0.50
        high_rates = true
    """,
        name="child",
    )
    assert [m.id for m in child.measures] == ["keep", "change"]
    assert child.measure("change").authority == "a"  # inherited key kept
    assert child.as_of == dt.date(2025, 4, 9)  # inherited
    data = flows(("CHN", "95", 100.0), ("VNM", "95", 100.0))
    # CHN: 10 % + 50 %; VNM: 10 %
    assert duty_by_pair(compute(data, child, zero_baseline)) == {("CHN", "95"): 60.0, ("VNM", "95"): 10.0}


def test_in_baseline_and_share_add_only_the_change(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.25
        in_baseline = 0.10
        in_baseline_rates = { CAN = 0.0 }
        applies_to_share = 0.5
    """)
    data = flows(("CHN", "76", 1000.0), ("CAN", "76", 1000.0))
    # CHN: 1000 × (0.25 − 0.10) × 0.5 = 75; CAN: 1000 × 0.25 × 0.5 = 125
    assert duty_by_pair(compute(data, scenario, zero_baseline)) == {("CHN", "76"): 75.0, ("CAN", "76"): 125.0}


def test_coarse_rows_are_not_matched_by_finer_prefixes_and_are_counted(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.10
        exclude_products = ["61091000"]
    """)
    data = flows(("UKR", "61", 500.0), ("UKR", "6109100012", 100.0), ("UKR", "62", 50.0))
    # without the split over the import mix (tests/test_coarse_split.py has the split)
    result = compute(data, scenario, zero_baseline, split_coarse=False)
    # chapter 61 row: the HTS8 exclusion is finer than the row, so it does not match; 10 % applies
    assert duty_by_pair(result) == {("UKR", "61"): 50.0, ("UKR", "6109100012"): 0.0, ("UKR", "62"): 5.0}
    diagnostics = result.diagnostics()
    assert diagnostics["coarse_match_value_usd"] == pytest.approx(500.0)
    assert diagnostics["coarse_match_value_by_measure_usd"] == {"m": pytest.approx(500.0)}
    assert diagnostics["coarse_split_value_usd"] == 0.0


def test_observed_rates_fall_back_from_fine_to_coarse_cells():
    observed = ObservedRates(
        partner=np.array(["DEU", "DEU", "FRA"], dtype=object),
        code=np.array(["8479899599", "8479100000", "8479899599"], dtype=object),
        value=np.array([100.0, 300.0, 600.0]),
        duty=np.array([2.0, 9.0, 30.0]),
    )
    rate, tier = observed.lookup(
        np.array(["DEU", "DEU", "ITA", "ITA"], dtype=object),
        np.array(["8479899599", "8479890000", "8479899599", "0101"], dtype=object),
    )
    # DEU exact 2/100; DEU 847989 cell → 2/100 (only the first row); ITA → all partners 8479899599 = 32/700;
    # ITA 0101: nothing anywhere → overall (2+9+30)/(100+300+600)
    assert rate == pytest.approx([0.02, 0.02, 32 / 700, 41 / 1000])
    assert list(tier) == ["exact", "partner × HS6", "all partners × HS10", "all imports"]


def test_negative_changes_are_floored_at_zero(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.0
        in_baseline = 0.25
    """)
    result = compute(flows(("CHN", "85", 100.0)), scenario, zero_baseline)
    assert result.totals()["scenario_duty_usd"] == 0.0
    assert result.diagnostics()["floored_value_usd"] == pytest.approx(100.0)


def test_tables_reconcile_with_rows_and_each_other(write_scenario, zero_baseline):
    scenario = write_scenario("""
        as_of = 2025-04-09
        [[measure]]
        id = "m"
        authority = "a"
        citation = "c"
        rate = 0.1
        rates = { CHN = 0.3 }
    """)
    data = flows(
        ("CHN", "8471300100", 10.0), ("CHN", "8471410150", 5.0), ("JPN", "87", 7.0), ("CHN", "95", 3.0)
    )
    result = compute(data, scenario, zero_baseline, level=4)
    added = result.totals()["added_duty_usd"]
    assert added == pytest.approx(0.3 * 18 + 0.1 * 7)
    for table in (result.by_partner(), result.by_product(), result.by_partner_product()):
        assert table["added_duty_usd"].sum() == pytest.approx(added)
        assert table["imports_usd"].sum() == pytest.approx(25.0)
    products = result.by_product().set_index("hs")
    assert set(products.index) == {"8471", "87", "95"}  # chapter rows stay at their own level
    assert result.diagnostics()["value_coarser_than_level_usd"] == pytest.approx(10.0)
    rows = result.flow_duties()
    assert len(rows) == 4
    assert rows["added_duty_usd"].sum() == pytest.approx(added)
