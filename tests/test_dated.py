"""A dated rulebook over time: stretches between rule changes, day weighting, months, IEEPA refunds.

Hand-worked on 3,650 USD a year of imports (10 USD a day in 2025, a non-leap year) so every figure is a
small multiple of 10.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner

import tariffcalc
from tariffcalc.app.cli import cli
from tariffcalc.rules.scenario import load_scenario
from tariffcalc.rules.timeline import change_dates

RULEBOOK = """
name = "book"
title = "A small dated rulebook"
as_of = "today"
documented_to = 2026-06-30

[[measure]]
id = "zero"
authority = "none"
citation = "test"
rate = 0.0

[[measure]]
id = "ieepa-ten"
authority = "IEEPA test duty"
citation = "EO test"
basis = "IEEPA"
rate = 0.10
effective = 2025-02-01
expires = 2026-02-24
status = "struck-down"

[[measure]]
id = "s232-five"
authority = "Section 232 test duty"
citation = "Proclamation test"
basis = "Section 232"
rate = 0.05
effective = 2025-03-01
"""


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text(RULEBOOK)
    flows = tmp_path / "flows.csv"
    flows.write_text("partner,hs,value_usd\nUKR,6109100012,3650\n")
    return path, flows


def test_a_dated_rulebook_defaults_to_today_and_lists_its_changes(book):
    scenario = load_scenario(book[0])
    assert scenario.dated and scenario.as_of == dt.date.today()
    changes = change_dates(scenario, dt.date(2025, 1, 20), dt.date(2026, 3, 1))
    assert changes == {
        dt.date(2025, 2, 1): ["ieepa-ten starts"],
        dt.date(2025, 3, 1): ["s232-five starts"],
        dt.date(2026, 2, 24): ["ieepa-ten ends"],
    }


def test_the_timeline_weights_each_stretch_by_its_days(book):
    path, flows = book
    study = tariffcalc.timeline(
        path, flows=[flows], baseline=path, start=dt.date(2025, 1, 20), end=dt.date(2025, 3, 10)
    )
    # Baseline is the rulebook itself on its own date, so compare scenario duty: 10 USD a day of imports.
    regimes = study.tables["timeline_regimes"]
    assert list(regimes["start"]) == ["2025-01-20", "2025-02-01", "2025-03-01"]
    assert list(regimes["days"]) == [12, 28, 9]
    # Feb: 28 days × 10 USD × 10 % = 28 USD; March 1–9: 9 days × 10 USD × (10 % + 5 %) = 13.5 USD.
    assert regimes["scenario_duty_usd"].tolist() == pytest.approx([0.0, 28.0, 13.5])
    assert regimes["ieepa_duty_usd"].tolist() == pytest.approx([0.0, 28.0, 9.0])
    monthly = study.tables["timeline"].set_index("month")
    assert monthly.loc["2025-02", "imports_usd"] == pytest.approx(280.0)
    assert monthly.loc["2025-03", "scenario_rate"] == pytest.approx(0.15)


def test_refunds_sum_the_ieepa_duty_to_24_february_2026(book):
    path, flows = book
    study = tariffcalc.refunds(path, flows=[flows], baseline=path)
    totals = study.tables["refunds_totals"].iloc[0]
    # 1 Feb 2025 to 23 Feb 2026: 365 + 23 = 388 days; 2025 days at 10 USD/day, 2026 days at 3650/365 too.
    assert totals["to"] == "2026-02-24"
    assert totals["ieepa_duty_usd"] == pytest.approx(388 * 10 * 0.10)
    by_measure = study.tables["refunds_by_measure"]
    assert list(by_measure["measure"]) == ["ieepa-ten"]  # the Section 232 duty is no refund
    assert study.tables["refunds_by_partner"].iloc[0]["partner"] == "UKR"


def test_timeline_and_refunds_from_the_command_line(book, tmp_path):
    path, flows = book
    runner = CliRunner()
    out = tmp_path / "t"
    result = runner.invoke(
        cli,
        [
            "timeline",
            str(path),
            "--flows",
            str(flows),
            "--baseline",
            str(path),
            "--from",
            "2025-01-20",
            "--to",
            "2026-12-01",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "documents measures up to 2026-06-30" in result.output
    regimes = pd.read_csv(out / "timeline_regimes.csv", dtype=str)
    assert "s232-five starts" in set(regimes["changes"].dropna())
    assert (out / "timeline_dated.png").is_file()
    result = runner.invoke(
        cli,
        ["refunds", str(path), "--flows", str(flows), "--baseline", str(path), "--out", str(tmp_path / "r")],
    )
    assert result.exit_code == 0, result.output
    assert "$0.0 bn" in result.output or "IEEPA duties owed 2025-01-20 to 2026-02-24" in result.output
    bad = runner.invoke(cli, ["timeline", str(path), "--year", "2025", "--from", "2025-01-01"])
    assert bad.exit_code == 2 and "--year is for a regime file" in bad.output
