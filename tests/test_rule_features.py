"""The rule features of the 2025-26 measures, each against a case worked out by hand.

All-in floors (EU/Japan/Korea deals), value shares (Section 232 metal content) with partial pre-emption,
USMCA claim shares, dated stacking orders (EO 14289), statuses, and the errors of each new key.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tariffcalc.errors import ScenarioError
from tariffcalc.reference.shares import PrefixShares
from tariffcalc.rules import schedule as schedule_module
from tariffcalc.rules.explain import explain
from tariffcalc.rules.schedule import ObservedRates, resolve

DEU_LOW, DEU_HIGH, CAN_CAR = "8428900390", "6403990000", "8703230190"


def _observed() -> ObservedRates:
    """A small observed 2024 table: DEU machines pay 2 %, DEU shoes 20 % (duty ÷ value)."""
    return ObservedRates(
        np.array(["DEU", "DEU"], dtype=object),
        np.array([DEU_LOW, DEU_HIGH], dtype=object),
        np.array([100.0, 100.0]),
        np.array([2.0, 20.0]),
    )


def _rates(scenario, partners, codes, on=None, observed=None) -> np.ndarray:
    schedule = resolve(
        scenario, np.array(partners, dtype=object), np.array(codes, dtype=object), on, observed=observed
    )
    return schedule.total_rate


def test_an_all_in_rate_tops_the_base_rate_up_and_adds_nothing_above_it(write_scenario):
    scenario = write_scenario(
        """
        as_of = 2025-08-07
        [[measure]]
        id = "eu-floor"
        authority = "EO 14326 EU deal"
        citation = "EO 14326; HTSUS 9903.02.19/.20"
        basis = "IEEPA"
        rates = { EU = 0.15 }
        all_in = true
        """
    )
    # 15 % all-in on a good whose base is 2 % adds 13 points; on one whose base is 20 % it adds nothing.
    rates = _rates(scenario, ["DEU", "DEU"], [DEU_LOW, DEU_HIGH], observed=_observed())
    np.testing.assert_allclose(rates, [0.13, 0.0])


def test_a_metal_content_share_charges_part_of_the_value_and_leaves_the_rest_to_other_duties(write_scenario):
    scenario = write_scenario(
        """
        as_of = 2025-06-04
        [[measure]]
        id = "s232-derivatives"
        authority = "Section 232 aluminium derivatives"
        citation = "Proclamation 10947"
        rate = 0.50
        products = ["8479"]
        value_share = 0.4
        preempts_only_share = true

        [[measure]]
        id = "reciprocal"
        authority = "IEEPA reciprocal"
        citation = "EO 14257"
        rate = 0.20
        preempted_by = ["s232-derivatives"]
        """
    )
    # 50 % on the 40 % metal content = 20 points; 20 % on the other 60 % = 12 points; 32 % in all.
    # A good outside the derivative list pays the reciprocal 20 % on its whole value.
    rates = _rates(scenario, ["DEU", "DEU"], ["8479899599", DEU_LOW])
    np.testing.assert_allclose(rates, [0.32, 0.20])


def test_a_value_share_from_a_table_by_code_with_prefix_fallback(write_scenario, tmp_path):
    (tmp_path / "content.csv").write_text("hs,aluminum_share\n8479899599,0.25\n8479890000,0.75\n")
    scenario = write_scenario(
        """
        as_of = 2025-06-04
        [[measure]]
        id = "s232-derivatives"
        authority = "Section 232 aluminium derivatives"
        citation = "Proclamation 10947"
        rate = 0.50
        value_share = { file = "content.csv", column = "aluminum_share" }
        """
    )
    # Exact code: 50 % × 25 %. A code of the same HS8 missing from the table: the plain mean of the table's
    # codes under its longest shared prefix (847989: (0.25 + 0.75) / 2 = 0.5) → 25 %. No match: full value.
    rates = _rates(scenario, ["DEU"] * 3, ["8479899599", "8479891111", "0101210010"])
    np.testing.assert_allclose(rates, [0.125, 0.25, 0.50])


def test_prefix_shares_are_value_weighted_where_the_table_has_values():
    shares = PrefixShares(
        np.array(["2709000000", "2709001000", "2710000000"], dtype=object),
        np.array([1.0, 0.0, 0.5]),
        np.array([300.0, 100.0, 600.0]),
    )
    found, matched = shares.lookup(np.array(["2709001000", "2709", "27", "2711"], dtype=object), default=-1)
    # 2709: (1.0 × 300 + 0 × 100) / 400 = 0.75; chapter 27: (300 + 0 + 300) / 1000 = 0.6; 2711 → its chapter.
    np.testing.assert_allclose(found, [0.0, 0.75, 0.6, 0.6])
    assert list(matched) == ["2709001000", "2709", "27", "27"]


def test_usmca_claims_exempt_a_share_of_canadian_goods_from_their_start_date(write_scenario, monkeypatch):
    def claimed(partner, codes, on):  # 80 % of Canadian cars claimed USMCA in the month
        return np.full(len(codes), 0.8 if partner == "CAN" else 0.0), "2025-03"

    monkeypatch.setattr(schedule_module, "usmca_claimed", claimed)
    scenario = write_scenario(
        """
        as_of = 2025-03-10
        [[measure]]
        id = "fentanyl-canada"
        authority = "IEEPA fentanyl duty on Canada"
        citation = "EO 14193; EO 14231"
        rates = { CAN = 0.25 }
        usmca_exempt = true
        usmca_exempt_from = 2025-03-07
        """
    )
    # From 7 March only the 20 % not claimed under USMCA pays 25 %: 5 points. On 5 March all of it pays.
    np.testing.assert_allclose(_rates(scenario, ["CAN"], [CAN_CAR]), [0.05])
    np.testing.assert_allclose(_rates(scenario, ["CAN"], [CAN_CAR], on=dt.date(2025, 3, 5)), [0.25])


def test_usmca_claimed_cars_pay_on_their_usmca_value_share(write_scenario, monkeypatch):
    """Proclamation 10908: a USMCA car pays 25 % on its non-US content only, a non-claiming car on all of
    it. With 80 % of value claimed and a 60 % non-US content: 25 % × (0.2 + 0.8 × 0.6) = 17 points."""

    def claimed(partner, codes, on):
        return np.full(len(codes), 0.8 if partner == "CAN" else 0.0), "2025-05"

    monkeypatch.setattr(schedule_module, "usmca_claimed", claimed)
    scenario = write_scenario(
        """
        as_of = 2025-05-10
        [[measure]]
        id = "autos"
        authority = "Section 232 automobiles"
        citation = "Proclamation 10908"
        rate = 0.25
        products = ["8703"]
        usmca_exempt = true
        usmca_value_share = 0.6
        """
    )
    np.testing.assert_allclose(_rates(scenario, ["CAN", "JPN"], [CAN_CAR, CAN_CAR]), [0.17, 0.25])
    reason = explain(scenario, "CAN", CAN_CAR, baseline=scenario)["components"][0]["reason"]
    assert "pay on 60% of their value" in reason and "= 68.0% of the value" in reason


STACKED = """
as_of = 2025-04-09
[[measure]]
id = "autos"
authority = "Section 232 automobiles"
citation = "Proclamation 10908"
rate = 0.25
products = ["8703"]

[[measure]]
id = "fentanyl"
authority = "IEEPA fentanyl duty"
citation = "EO 14193"
rates = { CAN = 0.25 }

[[stacking]]
order = ["autos", "fentanyl"]
effective = 2025-03-04
citation = "EO 14289 sec. 2, retroactive to 4 March 2025"
"""


def test_a_dated_stacking_order_stops_the_later_measure_where_the_earlier_covers(write_scenario):
    scenario = write_scenario(STACKED)
    # On 9 April a Canadian car pays the 232 duty only (EO 14289), a Canadian chair pays the fentanyl
    # duty; before the order's date (1 March) the car would have paid both.
    np.testing.assert_allclose(_rates(scenario, ["CAN", "CAN"], [CAN_CAR, "9401610000"]), [0.25, 0.25])
    np.testing.assert_allclose(_rates(scenario, ["CAN"], [CAN_CAR], on=dt.date(2025, 3, 1)), [0.50])
    words = explain(scenario, "CAN", CAN_CAR, baseline=scenario)["components"][1]["reason"]
    assert "EO 14289" in words and "autos" in words


@pytest.mark.parametrize(
    ("status", "applies"), [("announced", False), ("suspended", False), ("struck-down", True)]
)
def test_announced_and_suspended_measures_never_apply_struck_down_ones_apply_on_their_dates(
    write_scenario, status, applies
):
    scenario = write_scenario(
        f"""
        as_of = 2025-09-01
        [[measure]]
        id = "m"
        authority = "IEEPA"
        citation = "EO"
        rate = 0.10
        expires = 2026-02-24
        status = "{status}"
        status_note = "Learning Resources v. Trump"
        """
    )
    assert _rates(scenario, ["UKR"], ["6109100012"])[0] == pytest.approx(0.10 if applies else 0.0)
    component = explain(scenario, "UKR", "6109100012", baseline=scenario)["components"][0]
    assert "Learning Resources" in component["status_words"]


def test_explain_says_all_in_and_usmca_in_words(write_scenario, monkeypatch):
    monkeypatch.setattr(schedule_module, "usmca_claimed", lambda p, c, on: (np.full(len(c), 0.9), "2025-06"))
    scenario = write_scenario(
        """
        as_of = 2025-06-10
        [[measure]]
        id = "fentanyl-canada"
        authority = "IEEPA fentanyl duty on Canada"
        citation = "EO 14193"
        rates = { CAN = 0.25 }
        usmca_exempt = true
        """
    )
    reason = explain(scenario, "CAN", CAN_CAR, baseline=scenario)["components"][0]["reason"]
    assert "90.0% of CAN's imports of this code claimed it in 2025-06" in reason
    assert "does not claim USMCA pays the full 25.00%" in reason


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('rate = 0.1\npreempted_by = ["m"]', "cannot be pre-empted by itself"),
        ('rate = 0.1\nhigh_rates = "no"', "must be true or false"),
        ("rate = 0.1\npreempts_only_share = true", "needs a 'value_share'"),
        ('rate = 0.1\nstatus = "repealed"', "is not one of"),
        ('rate = 0.1\nbasis = "IEPA"', "Did you mean 'IEEPA'"),
        ("rate = 0.1\nvalue_share = 1.5", "between 0 and 1"),
        ('observed = "us-2024"\nall_in = true', "observed measure takes none"),
        ("rate = 0.1\nusmca_value_share = 0.6", "needs 'usmca_exempt = true'"),
        ("rate = 0.1\nusmca_exempt = true\nusmca_value_share = 1.5", "at most 1"),
    ],
)
def test_new_keys_reject_bad_values_with_the_line(scenario_file, body, message):
    path = scenario_file(
        f'as_of = 2025-01-01\n[[measure]]\nid = "m"\nauthority = "a"\ncitation = "c"\n{body}\n'
    )
    from tariffcalc.rules.scenario import load_scenario

    with pytest.raises(ScenarioError, match=message) as caught:
        load_scenario(path)
    assert f"{path}:" in str(caught.value)


def test_mutual_pre_emption_and_unknown_stacking_ids_are_errors(scenario_file):
    from tariffcalc.rules.scenario import load_scenario

    mutual = "as_of = 2025-01-01\n" + "".join(
        f'[[measure]]\nid = "{a}"\nauthority = "x"\ncitation = "y"\nrate = 0.1\npreempted_by = ["{b}"]\n'
        for a, b in (("a", "b"), ("b", "a"))
    )
    with pytest.raises(ScenarioError, match="pre-empt each other"):
        load_scenario(scenario_file(mutual))
    with pytest.raises(ScenarioError, match="Did you mean 'fentanyl'"):
        load_scenario(
            scenario_file(STACKED.replace('order = ["autos", "fentanyl"]', 'order = ["autos", "fentanil"]'))
        )
