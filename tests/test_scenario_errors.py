"""Every mistake in a scenario file is an error (or a warning) naming the file, the line and a fix."""

from __future__ import annotations

import re

import pytest

from tariffcalc.errors import ScenarioError
from tariffcalc.rules.scenario import load_scenario

HEADER = """\
as_of = 2025-04-09
[[measure]]
id = "m"
authority = "a"
citation = "c"
"""


def error_of(scenario_file, text: str) -> str:
    path = scenario_file(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert str(path) in message or "test" in message
    return message


def test_unknown_measure_key_names_line_and_suggests(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\nexclude_partner = ["CAN"]\n')
    assert re.search(r"test\.toml:7: unknown measure key 'exclude_partner'", message)
    assert "Did you mean 'exclude_partners'" in message


def test_unknown_top_level_key(scenario_file):
    message = error_of(scenario_file, "titel = 'x'\n" + HEADER + "rate = 0.1\n")
    assert "test.toml:1: unknown scenario key 'titel'" in message and "'title'" in message


def test_rate_outside_bounds_is_an_error(scenario_file):
    message = error_of(scenario_file, HEADER + "rate = 20\n")
    assert "test.toml:6:" in message and "outside [0, 10]" in message and "For 20 % write 0.2" in message
    message = error_of(scenario_file, HEADER + "rate = -0.1\n")
    assert "outside [0, 10]" in message


def test_rate_above_one_warns_unless_declared(write_scenario):
    scenario = write_scenario(HEADER + "rate = 5\n")
    assert len(scenario.warnings) == 1
    assert "test.toml:6: rate = 5 means 500%; if you meant 5% write 0.05" in scenario.warnings[0]
    assert not write_scenario(HEADER + "rate = 1.25\nhigh_rates = true\n").warnings


def test_bad_hs_code(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\nproducts = ["870"]\n')
    assert "test.toml:7:" in message and "'870' is not an HS code" in message


def test_unknown_partner_suggests_a_code(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\nexclude_partners = ["Germany"]\n')
    assert "unknown partner or group 'Germany'" in message and "'DEU'" in message
    message = error_of(scenario_file, HEADER + "rates = { CHNA = 0.3 }\n")
    assert "'CHNA'" in message and "'CHN'" in message


def test_overlapping_definitions_are_errors(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\nproducts = ["84"]\nexclude_products = ["84"]\n')
    assert "HS 84 is both in 'products' and in 'exclude_products'" in message
    message = error_of(scenario_file, HEADER + 'rates = { CHN = 0.3 }\nexclude_partners = ["CHN"]\n')
    assert "CHN is both in 'rates' and in 'exclude_partners'" in message
    message = error_of(scenario_file, HEADER + "rate = 0.1\n" + HEADER.split("\n", 1)[1] + "rate = 0.2\n")
    assert "defined twice" in message


def test_missing_rate_and_missing_citation(scenario_file):
    assert "has no 'rate'" in error_of(scenario_file, HEADER)
    text = HEADER.replace('citation = "c"\n', "") + "rate = 0.1\n"
    assert "'citation' is required" in error_of(scenario_file, text)


def test_dates_in_the_wrong_format(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\neffective = "9 April 2025"\n')
    assert "test.toml:7:" in message and "YYYY-MM-DD" in message
    message = error_of(scenario_file, HEADER + "rate = 0.1\neffective = 2025-04-10\nexpires = 2025-04-09\n")
    assert "'expires' (2025-04-09) must be after 'effective' (2025-04-10)" in message


def test_extends_errors(scenario_file):
    message = error_of(scenario_file, 'extends = "liberation-dya"\n')
    assert "Did you mean 'liberation-day'" in message
    path = scenario_file('extends = "loop"\n', name="loop")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(path)


def test_preempted_by_must_name_a_measure(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\npreempted_by = ["s232-auto"]\n')
    assert "'preempted_by' 's232-auto', which is not a measure" in message


def test_override_rules(scenario_file):
    message = error_of(
        scenario_file,
        'extends = "liberation-day"\n'
        + HEADER.split("\n", 1)[1].replace('id = "m"', 'id = "ieepa-reciprocal-annex1"')
        + "rate = 0.1\n",
    )
    assert "already defined by 'liberation-day'" in message and "override = true" in message


def test_product_files_cannot_escape_the_scenario_folder(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\nproducts = [{ file = "../../etc/passwd" }]\n')
    assert "outside the scenario's folder" in message


def test_unknown_product_file_lists_the_bundled_ones(scenario_file):
    message = error_of(scenario_file, HEADER + 'rate = 0.1\nproducts = [{ file = "s232_auto.csv" }]\n')
    assert "s232_autos.csv" in message


def test_invalid_toml(scenario_file):
    message = error_of(scenario_file, "as_of = \n")
    assert "not valid TOML" in message


def test_unknown_bundled_name():
    with pytest.raises(ScenarioError, match="Did you mean 'pause-90-day'"):
        load_scenario("pause-90")
