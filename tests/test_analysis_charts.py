"""Charts of the response model (run --model armington) and of compare, sweep and timeline.

Small synthetic flows only: the files exist and open, a rerun gives the same bytes, and each chart's data
equals the command's CSV tables.
"""

from __future__ import annotations

import json
import re
import textwrap
import zipfile
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app import api
from tariffcalc.app.cli import cli
from tariffcalc.report import charts, style

from .conftest import CHINA, TEN, ZERO_BASELINE
from .test_reports import FLOWS, SCENARIO

TIMELINE = """
title = "Test year"
[[regime]]
start = 2025-03-01
scenario = "ten.toml"
source = "s1"
[[regime]]
start = 2025-06-15
scenario = "china.toml"
source = "s2"
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("in")
    for name, text in {
        "small.toml": SCENARIO,
        "zero.toml": ZERO_BASELINE,
        "ten.toml": TEN,
        "china.toml": CHINA,
        "timeline.toml": TIMELINE,
    }.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "flows.csv").write_text(FLOWS, encoding="utf-8")
    return folder


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _pages(path: Path) -> int:
    return len(re.findall(rb"/Type /Page\b", path.read_bytes()))


def _check_chart(folder: Path, name: str) -> pd.DataFrame:
    """The PNG is 8 inches wide at 200 dpi, the PDF has one page; returns the chart's data."""
    height, width = matplotlib.image.imread(folder / f"{name}.png").shape[:2]
    assert width == 8 * style.DPI and 2 * style.DPI < height < 12 * style.DPI, name
    assert _pages(folder / f"{name}.pdf") == 1, name
    return _csv(folder / f"{name}.csv")


def _same_bytes(first: Path, second: Path) -> None:
    names = {p.relative_to(first) for p in first.rglob("*") if p.is_file()} - {Path("manifest.json")}
    assert names == {p.relative_to(second) for p in second.rglob("*") if p.is_file()} - {
        Path("manifest.json")
    }
    for name in sorted(names):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


# ------------------------------------------------------------------------------------------ response


def _run(files: Path, out: Path, model: str | None):
    return api.run(
        scenario=files / "small.toml",
        flows=[files / "flows.csv"],
        baseline=files / "zero.toml",
        out=out,
        top=3,
        model=model,
    )


@pytest.fixture(scope="module")
def responded(files, tmp_path_factory):
    out = tmp_path_factory.mktemp("armington") / "out"
    _, figures, _ = _run(files, out, "armington")
    return out, figures


def test_response_charts_only_with_a_response_model(files, responded, tmp_path):
    out, _ = responded
    for name in charts.RESPONSE_CHART_NAMES:
        _check_chart(out / "charts", name)
    _run(files, tmp_path / "static", None)
    drawn = {p.stem for p in (tmp_path / "static" / "charts").glob("*.png")}
    assert drawn == set(charts.CHART_NAMES)
    assert _pages(out / "report.pdf") > _pages(tmp_path / "static" / "report.pdf")


def test_response_chart_draws_the_by_partner_numbers(responded):
    out, figures = responded
    drawn = _csv(out / "charts" / "added_rate_response_by_partner.csv")
    groups = _csv(out / "by_group.csv").rename(columns={"group": "partner"})  # the EU is drawn as one partner
    full = pd.concat([_csv(out / "by_partner.csv"), groups]).set_index("partner")
    partners = drawn[drawn["partner"] != ""]
    assert 0 < len(partners) <= 3
    for column in ("added_rate", "added_rate_after", "imports_after_usd", "added_duty_usd"):
        assert partners[column].tolist() == full.loc[partners["partner"], column].tolist(), column
    total = drawn.iloc[-1]
    rates = figures["response"]["effective_rates"]
    assert total["partner_name"] == "All partners"
    assert float(total["added_rate"]) == pytest.approx(rates["static_added_rate"])
    assert float(total["added_rate_after"]) == pytest.approx(rates["post_substitution_added_rate"])


def test_revenue_ladder_chart_and_sheet_hold_the_summary_ladder(responded):
    out, figures = responded
    ladder = figures["response"]["revenue_ladder"]
    drawn = _csv(out / "charts" / "revenue_ladder.csv")
    assert drawn["step"].tolist() == [step["step"] for step in ladder]
    assert [float(v) for v in drawn["revenue_usd"]] == pytest.approx([s["revenue_usd"] for s in ladder])
    assert float(drawn["change_usd"].iloc[1]) == pytest.approx(
        ladder[1]["revenue_usd"] - ladder[0]["revenue_usd"]
    )
    with zipfile.ZipFile(out / "report.xlsx") as book:
        names = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
    assert names[-2:] == ["revenue_ladder", "consumer_prices"]


def test_response_run_twice_gives_identical_bytes(files, responded, tmp_path):
    out, _ = responded
    _run(files, tmp_path / "again", "armington")
    _same_bytes(out, tmp_path / "again")


# ------------------------------------------------------------------------------------------ commands


def _invoke(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--quiet"])
    assert result.exit_code == 0, result.output


def _compare(files: Path, out: Path, *extra: str) -> None:
    scenarios = [str(files / f"{name}.toml") for name in ("ten", "china", "small")]
    flows = ["--flows", str(files / "flows.csv"), "--baseline", str(files / "zero.toml")]
    _invoke(["compare", *scenarios, *flows, "--out", str(out), *extra])


def test_compare_charts_draw_the_compare_tables(files, tmp_path):
    out = tmp_path / "c"
    _compare(files, out)
    headline = _check_chart(out, "compare_headline")
    totals = _csv(out / "compare_totals.csv")
    for column in ("scenario", "added_duty_usd", "added_rate"):
        assert headline[column].tolist() == totals[column].tolist()
    for view, key in (("by_partner", "partner"), ("by_product", "hs")):
        drawn = _check_chart(out, f"compare_differ_{view}")
        table = _csv(out / f"compare_{view}.csv").head(len(drawn))
        assert drawn[key].tolist() == table[key].tolist()  # the largest differences, in the table's order
        for name in ("ten", "china", "small"):
            assert drawn[f"{name}.added_duty_usd"].tolist() == table[f"{name}.added_duty_usd"].tolist()
    _compare(files, tmp_path / "again")
    _same_bytes(out, tmp_path / "again")


def test_compare_with_the_response_model_adds_post_substitution_figures(files, tmp_path):
    out = tmp_path / "m"
    _compare(files, out, "--model", "armington")
    totals = _csv(out / "compare_totals.csv")
    headline = _check_chart(out, "compare_headline")
    for column in ("post_substitution_added_rate", "revenue_after_response_usd"):
        assert headline[column].tolist() == totals[column].tolist()
    assert {"imports_after_usd", "cost_per_household_usd"} <= set(totals.columns)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["model"] == "armington"


def test_sweep_line_and_grid_charts_draw_sweep_csv(files, tmp_path):
    flows = ["--flows", str(files / "flows.csv"), "--baseline", str(files / "zero.toml")]
    param = "measure.flat.rates.CHN"
    _invoke(
        [
            "sweep",
            str(files / "china.toml"),
            "--param",
            f"{param}=0:1:5",
            *flows,
            "--out",
            str(tmp_path / "s"),
        ]
    )
    drawn = _check_chart(tmp_path / "s", "sweep_headline")
    tidy = _csv(tmp_path / "s" / "sweep.csv")
    assert drawn["added_rate"].tolist() == tidy.loc[tidy["figure"] == "added_rate", "value"].tolist()
    duty = tidy.loc[tidy["figure"] == "added_duty_usd", "value"].astype(float).tolist()
    assert drawn["added_duty_usd"].astype(float).tolist() == pytest.approx(duty, abs=0.005)
    assert drawn[param].tolist() == tidy.loc[tidy["figure"] == "added_rate", param].tolist()
    grid = ["--param", "measure.flat.rate=0:0.2:3", "--param", "measure.flat.applies_to_share=0.5:1:2"]
    _invoke(["sweep", str(files / "china.toml"), *grid, *flows, "--out", str(tmp_path / "g")])
    drawn = _check_chart(tmp_path / "g", "sweep_grid")
    assert len(drawn) == 6
    tidy = _csv(tmp_path / "g" / "sweep.csv")
    added = tidy[tidy["figure"] == "added_duty_usd"]
    # sweep.csv writes every value with 10 decimals, the chart's USD column to the cent
    expected = sorted(added["value"].astype(float))
    assert sorted(drawn["added_duty_usd"].astype(float)) == pytest.approx(expected, abs=0.005)


def test_timeline_chart_draws_timeline_csv(files, tmp_path):
    flows = ["--flows", str(files / "flows.csv"), "--baseline", str(files / "zero.toml")]
    out = tmp_path / "t"
    _invoke(["timeline", str(files / "timeline.toml"), "--year", "2025", *flows, "--out", str(out)])
    drawn = _check_chart(out, "timeline_monthly")
    series = _csv(out / "timeline.csv")
    assert drawn.columns.tolist() == [c for c in series.columns if c not in ("regimes", "flows")]
    assert drawn.equals(series[drawn.columns])
    _invoke(
        ["timeline", str(files / "timeline.toml"), "--year", "2025", *flows, "--out", str(tmp_path / "again")]
    )
    _same_bytes(out, tmp_path / "again")


def test_compare_charts_name_scenarios_by_title_and_leave_out_one_that_adds_nothing(files):
    """Comparing the baseline itself with two scenarios: its row of zero bars is not drawn, and says so."""
    from tariffcalc.app import studies

    names = [files / f"{name}.toml" for name in ("zero", "ten", "china")]
    study = studies.compare(names, [files / "flows.csv"], files / "zero.toml")
    (headline, partners, _), _ = study.draw()
    assert headline.data["scenario"].tolist() == ["ten", "china"]
    assert headline.data["title"].tolist() == ["Ten percent", "China at fifty"]
    assert "Not drawn, adding nothing against the baseline: no duties." in headline.subtitle
    assert "the first scenario adds nothing and is not drawn" in partners.subtitle
    assert "zero" in study.tables["compare_totals"]["scenario"].tolist()  # the table keeps every scenario


def _axes(chart, ctx):
    import matplotlib.axes

    with style.context():
        figure = charts.render(chart, ctx)
    return [ax for ax in figure.findobj(matplotlib.axes.Axes) if ax.get_label() != "<colorbar>"]


def test_sweep_axes_name_the_parameter_in_words_and_start_at_zero(files):
    from tariffcalc.app import studies

    study = studies.sweep(
        files / "china.toml", ["measure.flat.rates.CHN=0.3:0.6:4"], [files / "flows.csv"], files / "zero.toml"
    )
    [chart], ctx = study.draw()
    top, bottom = _axes(chart, ctx)
    assert bottom.get_xlabel() == "Rate on China: test authority, %"
    assert [round(x, 6) for x in bottom.get_lines()[0].get_xdata()] == [30.0, 40.0, 50.0, 60.0]  # percent
    assert top.get_ylim()[0] <= 0 and bottom.get_ylim()[0] <= 0  # lines read against zero
    assert chart.title.endswith(": China at fifty") and "measure.flat" not in chart.title + chart.subtitle
    assert "The scenario's own value: rate on China: test authority = 50." in chart.subtitle
    model = studies.sweep(
        files / "china.toml", ["import_demand_elasticity=1:2:2"], [files / "flows.csv"], files / "zero.toml"
    )
    [chart], ctx = model.draw()
    assert _axes(chart, ctx)[1].get_xlabel() == "Import demand elasticity (absolute value)"


def test_a_second_sweep_of_another_grid_gets_its_own_folder_and_a_repeat_says_it_replaces(
    files, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    flows = ["--flows", str(files / "flows.csv"), "--baseline", str(files / "zero.toml")]
    runner = CliRunner()
    first = ["sweep", str(files / "china.toml"), "--param", "measure.flat.rates.CHN=0.2:1:3", *flows]
    assert runner.invoke(cli, [*first, "--quiet"]).exit_code == 0
    other = ["sweep", str(files / "china.toml"), "--param", "measure.flat.rate=0:0.3:4", *flows, "--quiet"]
    assert runner.invoke(cli, other).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "reports").iterdir() if not p.name.startswith(".")) == [
        "sweep-china-measure.flat.rate-0-0.3-4",
        "sweep-china-measure.flat.rates.CHN-0.2-1-3",
    ]
    again = runner.invoke(cli, [*first, "--quiet"])
    assert again.exit_code == 0
    assert "Replaced the earlier sweep of measure.flat.rates.CHN 0.2 to 1 in" in again.stderr
