"""The partner brief: competitor rates and margins by hand, totals against by_partner.csv, the command."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app import brief as briefs
from tariffcalc.app.cli import cli
from tariffcalc.engine.duties import compute
from tariffcalc.errors import TariffcalcError
from tariffcalc.report import brief as report

from .conftest import ZERO_BASELINE, flat_scenario, flows

# Three partners × two chapters; one measure: 10 % on all, Vietnam 46 %, China 34 %; no baseline duty.
SMALL = flows(
    ("UKR", "72", 100.0),
    ("UKR", "85", 300.0),
    ("VNM", "72", 200.0),
    ("VNM", "85", 600.0),
    ("CHN", "72", 300.0),
    ("CHN", "85", 100.0),
)
RATES = flat_scenario(0.10, "Three rates", "three", VNM=0.46, CHN=0.34)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


@pytest.fixture
def small_files(tmp_path: Path) -> dict[str, Path]:
    """The small case as a user's files: flows CSV, scenario and a zero baseline."""
    paths = {
        "flows": tmp_path / "flows.csv",
        "scenario": tmp_path / "three.toml",
        "zero": tmp_path / "zero.toml",
    }
    SMALL.to_csv(paths["flows"], index=False)
    paths["scenario"].write_text(RATES, encoding="utf-8")
    paths["zero"].write_text(ZERO_BASELINE, encoding="utf-8")
    return paths


def test_competitor_rate_and_margin_by_hand(write_scenario, zero_baseline):
    result = compute(SMALL, write_scenario(RATES, "three"), zero_baseline)
    table = briefs.product_table(result, ["UKR"], level=2).set_index("hs")
    # Ukraine, chapter 72: its duty 100 × 0.10 = 10. Competitors: Vietnam 200 × 0.46 = 92, China 300 × 0.34 = 102,
    # so 194 on 500 of imports = 38.8 %; margin 38.8 − 10 = +28.8 pp; its share of US imports 100 / 600.
    assert table.loc["72", "added_duty_usd"] == pytest.approx(10.0)
    assert table.loc["72", "competitor_imports_usd"] == pytest.approx(500.0)
    assert table.loc["72", "competitor_added_rate"] == pytest.approx(0.388)
    assert table.loc["72", "margin_pp"] == pytest.approx(28.8)
    assert table.loc["72", "share_of_us_imports"] == pytest.approx(100 / 600)
    # Chapter 85: competitors Vietnam 600 × 0.46 = 276, China 100 × 0.34 = 34: 310 / 700 = 44.2857 %;
    # margin 44.2857 − 10 = +34.2857 pp; share 300 / 1000.
    assert table.loc["85", "competitor_added_rate"] == pytest.approx(310 / 700)
    assert table.loc["85", "margin_pp"] == pytest.approx(100 * (310 / 700 - 0.10))
    assert table.loc["85", "share_of_us_imports"] == pytest.approx(0.3)
    assert list(table.index) == ["85", "72"]  # largest imports first
    # Vietnam, chapter 72: its 46 % against Ukraine 10 + China 102 = 112 on 400 = 28 %: a handicap of −18 pp;
    # chapter 85: Ukraine 30 + China 34 = 64 on 400 = 16 %: −30 pp.
    vietnam = briefs.product_table(result, ["VNM"], level=2).set_index("hs")
    assert vietnam["margin_pp"].to_dict() == pytest.approx({"85": -30.0, "72": -18.0})
    # Ukraine's margin over its products, weighted by its imports: (100 × 28.8 + 300 × 34.2857) / 400.
    margin = briefs._weighted_margin(table.reset_index())
    assert margin["margin_pp"] == pytest.approx((100 * 28.8 + 300 * 100 * (310 / 700 - 0.10)) / 400)
    assert margin["advantage_imports_usd"] == pytest.approx(400.0)


def test_a_group_is_one_partner_and_its_competitors_are_non_members(write_scenario, zero_baseline):
    data = flows(("DEU", "72", 100.0), ("FRA", "72", 100.0), ("CHN", "72", 200.0))
    scenario = write_scenario(flat_scenario(0.10, "EU at twenty", "eu", EU=0.20, CHN=0.34), "eu")
    result = compute(data, scenario, zero_baseline)
    eu = briefs.resolve_partner("eu", result.as_of)
    assert eu.code == "EU" and {"DEU", "FRA"} <= set(eu.members) and eu.text == "the European Union"
    row = briefs.product_table(result, eu.members, level=2).iloc[0]
    # the EU: 200 × 0.20 = 40 against China 200 × 0.34 = 68: 34 % − 20 % = +14 pp; Germany and France are
    # not each other's competitors
    assert (row["imports_usd"], row["added_duty_usd"]) == pytest.approx((200.0, 40.0))
    assert row["competitor_imports_usd"] == pytest.approx(200.0)
    assert row["margin_pp"] == pytest.approx(14.0)
    ranking = briefs.partner_ranking(result, eu).set_index("partner")
    assert list(ranking.index) == ["CHN", "EU"]
    assert ranking.loc["EU", "rank_added_duty"] == 2 and ranking.loc["EU", "added_rate"] == pytest.approx(0.2)


def test_brief_on_a_users_flows_file(small_files, tmp_path):
    made = briefs.brief(
        "Ukraine", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"]
    )
    figures = made.figures
    assert figures["partner"]["code"] == "UKR" and figures["level"] == 2 and figures["finest_level"] == 2
    assert figures["totals"]["imports_usd"] == pytest.approx(400.0)
    assert figures["totals"]["added_rate"] == pytest.approx(0.10)
    # Vietnam 368, China 136, Ukraine 40 of added duty; rates after 46 %, 34 %, 10 %
    assert figures["rank"] == {"added_duty": 3, "scenario_rate": 3, "partners": 3}
    assert any("HS chapter only" in text for text in figures["caveats"])
    assert "ranks 3rd of 3 partners" in report.lead(figures)
    assert made.default_out == Path("reports") / "brief-UKR-three"
    # the same inputs give the same PDF bytes (no dates, no versions), in one to three pages
    first, second = made.pdf_bytes(), made.pdf_bytes()
    assert first == second and 1 <= _pages(first) <= 3
    with pytest.raises(TariffcalcError, match="no imports from"):
        briefs.brief("DEU", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"])
    with pytest.raises(TariffcalcError, match="2 digits at most"):
        briefs.brief(
            "UKR", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"], level=4
        )
    with pytest.raises(TariffcalcError, match="Groups: EU"):
        briefs.brief(
            "Atlantis", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"]
        )


def test_cli_brief_with_a_users_flows_file(small_files, tmp_path):
    out = tmp_path / "out"
    args = ["brief", "UKR", str(small_files["scenario"]), "--flows", str(small_files["flows"])]
    args += ["--baseline", str(small_files["zero"]), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "ranks 3rd of 3 partners" in result.output and f"Wrote {out.resolve()}" in result.output
    products = pd.read_csv(out / "products.csv", dtype={"hs": str}, encoding="utf-8-sig").set_index("hs")
    assert products.loc["72", "margin_pp"] == pytest.approx(28.8)
    assert {"summary.md", "brief.pdf", "manifest.json", "brief_margins.png", "brief_added_duty.csv"} <= {
        p.name for p in out.iterdir()
    }
    assert "trade flows from flows.csv" in (out / "summary.md").read_text(encoding="utf-8")


def test_products_csv_is_spreadsheet_safe(small_files, tmp_path):
    made = briefs.brief("UKR", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"])
    hostile = made.products.assign(description=['=HYPERLINK("http://x")', "@SUM(A1)"])
    folder = dataclasses.replace(made, products=hostile).write(tmp_path / "safe", charts=False)
    raw = (folder / "products.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b"e+" not in raw
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    assert text.splitlines()[0].split(",")[:3] == [
        "hs",
        "product",
        "description",
    ]  # the code as text beside hs
    assert not (folder / "brief.pdf").exists() and (folder / "summary.md").exists()


def test_rate_history_is_a_hook_that_the_brief_draws(small_files, tmp_path):
    points = [(dt.date(2025, 4, 9), 0.10), ("2025-04-05", 0.10), (dt.date(2025, 1, 1), 0.013)]
    table = briefs.rate_history(points)
    assert table["date"].tolist() == ["2025-01-01", "2025-04-05", "2025-04-09"]
    with pytest.raises(TariffcalcError, match="one rate per date"):
        briefs.rate_history([("2025-01-01", 0.1), (dt.date(2025, 1, 1), 0.2)])
    made = briefs.brief(
        "UKR", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"], history=points
    )
    folder = made.write(tmp_path / "history")
    assert (folder / "rate_history.csv").exists() and (folder / "brief_rate_history.png").exists()
    assert _pages((folder / "brief.pdf").read_bytes()) <= 3


RULEBOOK = """
name = "book"
title = "A small dated rulebook"
as_of = "today"
documented_to = 2026-06-30

[[measure]]
id = "ieepa-ten"
authority = "IEEPA test duty"
citation = "EO test"
basis = "IEEPA"
rate = 0.10
effective = 2025-02-01
expires = 2026-02-24

[[measure]]
id = "s232-five"
authority = "Section 232 test duty"
citation = "Proclamation test"
basis = "Section 232"
rate = 0.05
effective = 2025-03-01
partners = ["UKR"]
"""


def test_a_dated_rulebook_gives_the_partners_rate_over_time(small_files, tmp_path):
    book = tmp_path / "book.toml"
    book.write_text(RULEBOOK, encoding="utf-8")
    common = {"flows": [small_files["flows"]], "baseline": small_files["zero"]}
    made = briefs.brief("UKR", book, as_of=dt.date(2025, 6, 30), **common)
    # nothing from 20 January 2025; 10 % from 1 February; 15 % from 1 March (Section 232 on Ukraine only)
    history = made.history
    assert history["date"].tolist() == ["2025-01-20", "2025-02-01", "2025-03-01", "2025-06-30"]
    assert history["scenario_rate"].tolist() == pytest.approx([0.0, 0.10, 0.15, 0.15])
    h = made.figures["history"]
    assert (h["changes"], h["peak_rate"], h["peak_date"]) == (2, pytest.approx(0.15), "2025-03-01")
    assert "went from 0.0% on 2025-01-20 to 15.0% on 2025-06-30, in two changes" in made.summary_markdown()
    assert made.default_out == Path("reports") / "brief-UKR-book-2025-06-30"
    folder = made.write(tmp_path / "dated")
    assert (folder / "rate_history.csv").is_file() and (folder / "brief_rate_history.png").is_file()
    # on its own date (today) the rulebook also has the end of the IEEPA duty on 24 February 2026
    today = briefs.brief("UKR", book, **common)
    assert ("2026-02-24", pytest.approx(0.05)) in list(
        zip(today.history["date"], today.history["scenario_rate"], strict=True)
    )
    if dt.date.today() > dt.date(2026, 6, 30):
        assert any("documents measures up to 2026-06-30" in text for text in today.figures["caveats"])
    # a scenario that is not a dated rulebook has no history
    assert briefs.brief("UKR", small_files["scenario"], **common).history is None


# ---------------------------------------------------------------------------------- the bundled data


@pytest.fixture(scope="module")
def by_partner(tmp_path_factory) -> pd.DataFrame:
    """by_partner.csv of the default run (liberation-day vs baseline-2024 on the bundled data)."""
    out = tmp_path_factory.mktemp("run") / "run"
    result = CliRunner().invoke(cli, ["run", "--no-charts", "--format", "png", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_csv(out / "by_partner.csv", encoding="utf-8-sig", keep_default_na=False).set_index(
        "partner"
    )


@pytest.mark.parametrize(
    ("partner", "options", "level"),
    [("UKR", [], 2), ("EU", [], 10), ("VNM", ["--model", "armington"], 10)],
)
def test_cli_brief_on_the_bundled_data(partner, options, level, by_partner, tmp_path):
    out = tmp_path / partner
    result = CliRunner().invoke(cli, ["brief", partner, "liberation-day", "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    products = pd.read_csv(out / "products.csv", dtype={"hs": str}, encoding="utf-8-sig")
    assert products["hs"].str.len().eq(level).all()
    # the partner's totals are its row of by_partner.csv (a group: its members' rows summed)
    members = [partner] if partner != "EU" else [p for p in by_partner.index if p in _eu_members()]
    for column in ("imports_usd", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd"):
        assert products[column].sum() == pytest.approx(
            by_partner.loc[members, column].sum(), rel=1e-9, abs=1.0
        )
    pdf = (out / "brief.pdf").read_bytes()
    assert 1 <= _pages(pdf) <= 3
    summary = (out / "summary.md").read_text(encoding="utf-8")
    if partner == "UKR":
        assert "by HS chapter only" in summary and "priced as the 2024 US import mix" in summary
    if partner == "EU":
        assert "27 members" in summary and "allocated" in summary
    if partner == "VNM":
        assert "Once trade responds" in summary and "sales_change_usd" in products
        assert (out / "brief_sales_change.png").exists()
    competitors = products.dropna(subset=["competitor_added_rate"])
    margin = 100 * (competitors["competitor_added_rate"] - competitors["added_rate"])
    assert (margin - competitors["margin_pp"]).abs().max() < 1e-6


def _eu_members() -> list[str]:
    from tariffcalc.reference import countries

    return countries.group_members("EU", dt.date(2025, 4, 9))


def test_brief_charts_are_titled_in_words(small_files):
    """Chart titles name the scenario by its title and the baseline in words, never by file ids."""
    made = briefs.brief("UKR", small_files["scenario"], [small_files["flows"]], baseline=small_files["zero"])
    title = made.figures["scenario"]["title"]
    charts = report.charts(made.figures, made.products, made.history, 8)
    assert charts
    for chart in charts:
        assert chart.title.endswith(title) or title in chart.title
        assert " vs " not in chart.title
        assert "vs zero" not in chart.title
    assert charts[0].subtitle.startswith("Compared with the baseline")
    bundled = report.context(
        {**made.figures, "baseline": {"name": "baseline-2024", "title": "Observed 2024 US duties"}}
    )
    assert bundled.against == "Compared with the baseline, observed 2024 US duties."
