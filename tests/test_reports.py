"""Charts, report.pdf, report.xlsx, summary.md, progress and the reports/ gallery.

Most tests share one run on small synthetic flows (a few seconds); one test runs the bundled default job
to check that the gallery in reports/ is current.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import re
import textwrap
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import matplotlib.image
import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app import api
from tariffcalc.app.cli import FORMATS as CLI_FORMATS
from tariffcalc.app.cli import cli
from tariffcalc.report import charts, pdf, style, workbook
from tariffcalc.util import progress

from .conftest import REPO, ZERO_BASELINE

SCENARIO = """
name = "small"
title = "Small test tariff"
as_of = 2025-04-09

[[measure]]
id = "flat"
authority = "=cmd|' /C calc'!A0"
citation = "@SUM(A1)"
rate = 0.10
rates = { CHN = 0.34, VNM = 0.46 }
exclude_partners = ["CAN", "MEX"]
exclude_products = ["0101"]

[[measure]]
id = "autos"
authority = "+Autos, 25 %"
citation = "-test"
rate = 0.25
products = ["87"]
"""


FLOWS = """partner,hs,period,value_usd
CHN,0101210010,2024,1000
CHN,8471300100,2024,20000
CHN,8703230190,2024,5000
CHN,6109100012,2024,3000
VNM,6109100012,2024,9000
VNM,8517130000,2024,7000
DEU,8703230190,2024,30000
DEU,8471300100,2024,4000
JPN,8703230190,2024,25000
JPN,0201,2024,250.5
MEX,8703230190,2024,40000
CAN,2709,2024,35000
FRA,2204,2024,6000
FRA,8471300100,2024,1500
XXX,0201,2024,40
"""

SHEETS = ["README", "by_partner", "by_group", "by_product", "by_partner_product", "by_measure", "rejects"]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "scenario": folder / "small.toml",
        "baseline": folder / "zero.toml",
        "flows": folder / "flows.csv",
    }
    paths["scenario"].write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    paths["baseline"].write_text(textwrap.dedent(ZERO_BASELINE), encoding="utf-8")
    paths["flows"].write_text(FLOWS, encoding="utf-8")
    return paths


def _run(inputs: dict[str, Path], out: Path, **options):
    return api.run(
        scenario=inputs["scenario"], flows=[inputs["flows"]], baseline=inputs["baseline"], out=out, **options
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    return _inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def small(inputs, tmp_path_factory):
    """One run of every report on the small flows, top 3 (so "all other" rows exist)."""
    out = tmp_path_factory.mktemp("small") / "out"
    result, figures, _ = _run(inputs, out, top=3)
    return out, result, figures


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", data))


# ------------------------------------------------------------------------------------------ files


def test_run_writes_every_chart_and_report(small):
    out, _, _ = small
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for name in charts.CHART_NAMES:
        assert {f"charts/{name}.png", f"charts/{name}.pdf", f"charts/{name}.csv"} <= names
    assert {"report.pdf", "report.xlsx", "summary.md", "summary.json", "manifest.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["formats"] == ["png", "pdf", "xlsx"]
    assert manifest["parameters"]["top"] == 3


def test_pngs_are_200_dpi_charts_eight_inches_wide(small):
    out, _, _ = small
    for name in charts.CHART_NAMES:
        image = matplotlib.image.imread(out / "charts" / f"{name}.png")
        height, width = image.shape[:2]
        assert width == 8 * style.DPI, name
        assert 2.5 * style.DPI < height < 12 * style.DPI, name
        assert b"Software" not in (out / "charts" / f"{name}.png").read_bytes()


def test_chart_pdfs_have_one_page_and_no_dates_or_versions(small):
    out, _, _ = small
    for path in [*(out / "charts").glob("*.pdf"), out / "report.pdf"]:
        data = path.read_bytes()
        assert data.startswith(b"%PDF")
        assert b"/CreationDate" not in data and b"/Producer" not in data and b"Matplotlib" not in data
    for name in charts.CHART_NAMES:
        assert _pdf_pages((out / "charts" / f"{name}.pdf").read_bytes()) == 1


def test_report_pdf_has_a_page_per_section_page_and_chart(small, inputs):
    out, result, figures = small
    flowset = api.load_flows([inputs["flows"]])
    context = charts.context(result, flowset)
    tables = [result.by_partner(), result.by_product(), result.by_partner_product(), result.by_measure()]
    made = charts.build(*tables, result.totals(), context, 3)
    report = pdf.ReportInputs(result, figures, tables[0], tables[1], flowset.rejects, made, context, 3)
    body = pdf.pages(report)
    data = (out / "report.pdf").read_bytes()
    assert _pdf_pages(data) == 1 + len(body)
    assert [chart.name for page in body for chart in page.charts] == list(charts.CHART_NAMES)
    sections = [placed.section for page in body for placed in page.placed]
    assert list(dict.fromkeys(sections)) == ["Methods", "Charts", "Tables", "Data quality", "Sources"]
    assert b"/MediaBox [ 0 0 595.44 841.68 ]" in data  # A4
    # no page but the last is half empty: text flows on, and a chart goes under the text when it fits
    layout = pdf.Layout("a4")
    for page in body[:-1]:
        bottom = max(placed.top + placed.height for placed in page.placed)
        assert bottom - pdf.TOP > 0.5 * layout.text_height, [p.item.mark for p in page.placed]


def test_report_pdf_is_a_document_with_truetype_fonts_metadata_bookmarks_and_linked_contents(small):
    from pypdf import PdfReader

    out, _, _ = small
    reader = PdfReader(out / "report.pdf")
    fonts = {
        str(font.get_object()["/BaseFont"]): str(font.get_object()["/Subtype"])
        for page in reader.pages
        for font in page["/Resources"].get_object().get("/Font", {}).values()
    }
    assert fonts and set(fonts.values()) == {"/Type0"}  # CID TrueType (pdf.fonttype 42), never /Type3
    assert reader.metadata["/Title"] == "Small test tariff"
    assert reader.metadata["/Author"] == "tariffcalc"
    assert reader.metadata["/Subject"].startswith("Duties by partner and product under Small test tariff")
    assert "/Producer" not in reader.metadata and "/CreationDate" not in reader.metadata
    outline = [item for item in reader.outline if not isinstance(item, list)]
    top = [item.title for item in outline]
    assert top == ["Contents", "Methods", "Charts", "Tables", "Data quality", "Sources"]
    nested = [item.title for items in reader.outline if isinstance(items, list) for item in items]
    assert "Added US duty by partner" in nested and "Where the added US duty comes from" in nested
    links = [a.get_object() for a in reader.pages[0]["/Annots"]]
    targets = [reader.get_destination_page_number(item) for item in outline[1:]]
    assert [link["/Subtype"] for link in links] == ["/Link"] * 5
    pages = [reader.get_page_number(link["/Dest"][0].get_object()) for link in links]
    assert pages == targets  # each contents line opens its section's first page
    assert reader.trailer["/Root"]["/PageMode"] == "/UseOutlines"


def test_report_pdf_stands_alone_without_pointers_to_docs(small):
    from pypdf import PdfReader

    out, _, _ = small
    text = "\n".join(page.extract_text() for page in PdfReader(out / "report.pdf").pages)
    assert "Methods" in text and "docs/" not in text and "docs." not in text
    assert pdf.standalone('Cells fall back (see docs/scenarios.md, "Observed rates"). Next.') == (
        "Cells fall back. Next."
    )


def test_amount_columns_take_a_unit_that_suits_them():
    """Data-quality tables print amounts in $ bn, $ m or $ k by their largest value, one decimal."""
    unit, amount = pdf._amounts([5_219_943_033.0, 1_231_650_854.0])
    assert unit == "$ bn" and amount(5_219_943_033.0) == "5.2" and amount(1_231_650_854.0) == "1.2"
    unit, amount = pdf._amounts([8_500_000.0, 12_500.0])
    assert unit == "$ m" and amount(12_500.0) == "0.0" and amount(8_500_000.0) == "8.5"
    unit, amount = pdf._amounts([50.0])
    assert unit == "$" and amount(50.0) == "50"


def test_a_second_run_writes_identical_bytes(small, inputs, tmp_path):
    out, _, _ = small
    again = tmp_path / "again"
    _run(inputs, again, top=3)
    first = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert first == {p.relative_to(again) for p in again.rglob("*") if p.is_file()}
    for name in sorted(first - {Path("manifest.json")}):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


# ------------------------------------------------------------------------------------------ chart data


def test_partner_and_product_charts_draw_the_csv_numbers(small):
    out, _, _ = small
    for chart, table, key in (
        ("added_duty_by_partner", "by_partner.csv", "partner"),
        ("added_duty_by_product", "by_product.csv", "hs"),
    ):
        drawn = _csv(out / "charts" / f"{chart}.csv")
        full = _csv(out / table)
        if key == "partner":
            full = _partners_as_drawn(out)
        shown = drawn[drawn[key] != ""]
        assert len(shown) == 3
        for column in ("imports_usd", "added_duty_usd", "added_rate", "baseline_rate", "scenario_rate"):
            expected = full.set_index(key).loc[shown[key], column].tolist()
            assert shown[column].tolist() == expected, (chart, column)
        rest = full[~full[key].isin(shown[key])]
        [other] = drawn[drawn[key] == ""].to_dict("records")
        assert other[drawn.columns[1]].startswith(f"All other ({len(rest)} ")
        assert float(other["added_duty_usd"]) == pytest.approx(rest["added_duty_usd"].astype(float).sum())
        total = drawn["added_duty_usd"].astype(float).sum()
        assert total == pytest.approx(full["added_duty_usd"].astype(float).sum())


def _partners_as_drawn(out: Path) -> pd.DataFrame:
    """by_partner.csv with the EU's members replaced by the EU's row of by_group.csv, as the charts draw it."""
    full = _csv(out / "by_partner.csv")
    group = _csv(out / "by_group.csv").rename(columns={"group": "partner"})
    members = set(" ".join(group["member_list"]).split())
    return pd.concat([full[~full["partner"].isin(members)], group[group.columns.intersection(full.columns)]])


def test_partner_charts_draw_the_eu_as_one_partner(small):
    out, _, _ = small
    [eu] = _csv(out / "by_group.csv").to_dict("records")
    assert eu["group"] == "EU" and eu["members"] == "27" and eu["member_list"] == "DEU FRA"
    by_partner = _csv(out / "by_partner.csv").set_index("partner")
    for column in ("imports_usd", "added_duty_usd"):
        summed = by_partner.loc[["DEU", "FRA"], column].astype(float).sum()
        assert float(eu[column]) == pytest.approx(summed)
    for chart in ("added_duty_by_partner", "effective_rate_by_partner"):
        drawn = _csv(out / "charts" / f"{chart}.csv")
        assert "EU" in drawn["partner"].tolist() and not {"DEU", "FRA"} & set(drawn["partner"]), chart
        assert drawn.set_index("partner").loc["EU", "partner_name"] == "European Union (27)"


def test_rate_chart_shows_the_largest_importers_and_the_total(small):
    out, _, figures = small
    drawn = _csv(out / "charts" / "effective_rate_by_partner.csv")
    full = _partners_as_drawn(out)
    largest = full.assign(v=full["imports_usd"].astype(float)).sort_values("v", ascending=False).head(3)
    assert drawn["partner"].tolist()[:3] == largest["partner"].tolist()
    for column in ("baseline_rate", "scenario_rate"):
        assert drawn[column].tolist()[:3] == largest[column].tolist()
    last = drawn.iloc[-1]
    assert last["partner_name"] == "All partners"
    assert float(last["scenario_rate"]) == pytest.approx(figures["totals"]["scenario_rate"])


def test_heatmap_cells_are_partner_by_chapter_rows(small):
    out, _, _ = small
    drawn = _csv(out / "charts" / "added_rate_partner_chapter.csv")
    full = _csv(out / "by_partner_product.csv").set_index(["partner", "hs"])
    assert len(drawn) > 0
    for row in drawn.to_dict("records"):
        if row["partner"] == "EU":  # the EU's members summed: here DEU and FRA
            cells = full.loc[[p for p in ("DEU", "FRA") if (p, row["hs"]) in full.index]].xs(
                row["hs"], level=1
            )
            imports, added = (cells[c].astype(float).sum() for c in ("imports_usd", "added_duty_usd"))
            assert float(row["imports_usd"]) == pytest.approx(imports)
            assert float(row["added_rate"]) == pytest.approx(added / imports)
            continue
        assert row["added_rate"] == full.loc[(row["partner"], row["hs"]), "added_rate"]
        assert row["imports_usd"] == full.loc[(row["partner"], row["hs"]), "imports_usd"]
    assert "EU" in set(drawn["partner"])


def test_waterfall_steps_are_the_by_measure_added_duty(small):
    out, _, figures = small
    drawn = _csv(out / "charts" / "added_duty_by_measure.csv")
    measures = _csv(out / "by_measure.csv")
    adding = measures[measures["added_duty_usd"].astype(float) != 0]
    steps = drawn[drawn["kind"] == "step"]
    assert steps["measure"].tolist() == adding["measure"].tolist()
    assert steps["added_duty_usd"].tolist() == adding["added_duty_usd"].tolist()
    assert float(drawn.iloc[0]["end_usd"]) == pytest.approx(figures["totals"]["baseline_duty_usd"])
    assert float(drawn.iloc[-1]["end_usd"]) == pytest.approx(figures["totals"]["scenario_duty_usd"])
    assert float(steps.iloc[-1]["end_usd"]) == pytest.approx(figures["totals"]["scenario_duty_usd"])


def test_measure_table_adds_a_step_for_floored_rates():
    by_measure = pd.DataFrame(
        {"measure": ["a", "b", "c"], "authority": ["A", "B", "C"], "added_duty_usd": [100.0, 0.0, -30.0]}
    )
    totals = {"baseline_duty_usd": 50.0, "added_duty_usd": 90.0, "scenario_duty_usd": 140.0}
    table = charts.measure_table(by_measure, totals)
    assert table["measure"].tolist() == ["", "a", "c", "floor", ""]
    assert table["added_duty_usd"].tolist()[1:4] == [100.0, -30.0, 20.0]
    assert table["end_usd"].tolist() == [50.0, 150.0, 120.0, 140.0, 140.0]


def test_top_rows_skip_partners_without_change_and_sum_the_rest():
    by_partner = pd.DataFrame(
        {
            "partner": ["AAA", "BBB", "CCC", "DDD"],
            "partner_name": ["A", "B", "C", "D"],
            "imports_usd": [10.0, 20.0, 30.0, 40.0],
            "baseline_duty_usd": [1.0, 1.0, 1.0, 1.0],
            "scenario_duty_usd": [1.0, 6.0, 0.0, 1.0],
            "added_duty_usd": [0.0, 5.0, -1.0, 0.0],
        }
    )
    table = charts.partner_table(by_partner, top=5)
    assert table["partner"].tolist() == ["BBB", "CCC", ""]
    assert table["partner_name"].iloc[-1] == "All other (2 partners)"
    assert table["imports_usd"].iloc[-1] == 50.0
    assert table["added_rate"].tolist()[:2] == [0.25, pytest.approx(-1 / 30)]


def test_heatmap_of_falling_rates_uses_a_diverging_scale():
    norm, name = charts._heat_norm(pd.Series([-5.0, 0.0, 10.0]).to_numpy())
    assert name == style.DIVERGING and norm(0.0) == 0.5
    norm, name = charts._heat_norm(pd.Series([0.0, 10.0]).to_numpy())
    assert name == style.HEATMAP and norm(0.0) == 0.0


# ------------------------------------------------------------------------------------------ workbook


def _cells(book: zipfile.ZipFile, sheet: int) -> dict[str, tuple[str, str]]:
    """Cell reference → (type, text) of one sheet (shared strings resolved); formulas as type "formula"."""
    strings = [
        "".join(t.text or "" for t in si.iter(f"{MAIN}t"))
        for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).iter(f"{MAIN}si")
    ]
    cells = {}
    for cell in ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml")).iter(f"{MAIN}c"):
        if cell.find(f"{MAIN}f") is not None:
            cells[cell.get("r")] = ("formula", cell.find(f"{MAIN}f").text)
        elif cell.get("t") == "s":
            cells[cell.get("r")] = ("string", strings[int(cell.find(f"{MAIN}v").text)])
        elif cell.find(f"{MAIN}v") is not None:
            cells[cell.get("r")] = (cell.get("t") or "number", cell.find(f"{MAIN}v").text)
    return cells


def test_workbook_has_a_readme_and_one_filtered_frozen_sheet_per_table(small):
    out, _, _ = small
    with zipfile.ZipFile(out / "report.xlsx") as book:
        names = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
        assert names == SHEETS
        styles = book.read("xl/styles.xml").decode()
        assert 'formatCode="&quot;$&quot;#,##0"' in styles and 'formatCode="0.00%"' in styles
        for number in range(2, len(SHEETS) + 1):
            xml = book.read(f"xl/worksheets/sheet{number}.xml").decode()
            assert 'ySplit="1"' in xml and 'state="frozen"' in xml, SHEETS[number - 1]
            assert "<autoFilter" in xml and "<col " in xml, SHEETS[number - 1]
        product = _cells(book, 4)
        assert product["A1"] == ("string", "hs")
        codes = [value for ref, value in product.items() if re.fullmatch(r"A\d+", ref) and ref != "A1"]
        assert ("string", "01") in codes and all(kind == "string" for kind, _ in codes)
        partner = _cells(book, 2)
        assert partner["C1"] == ("string", "imports_usd") and partner["C2"][0] == "number"


def test_workbook_readme_lists_the_columns_this_run_has_and_no_others(small):
    out, _, _ = small
    with zipfile.ZipFile(out / "report.xlsx") as book:
        readme = _cells(book, 1)
    labels = {ref: text for ref, (_, text) in readme.items() if ref.startswith("A")}
    start = next(int(ref[1:]) for ref, text in labels.items() if text == "Columns")
    end = next(int(ref[1:]) for ref, text in labels.items() if text == "Sources")
    listed = [labels[f"A{row}"] for row in range(start + 1, end) if f"A{row}" in labels]
    assert {
        "partner",
        "hs",
        "imports_usd",
        "member_list",
        "covered_imports_usd",
        "other rejects columns",
    } <= set(listed)
    for absent in (
        "imports_after_usd",
        "trade_creation_usd",
        "revenue_usd",
        "cost_per_household_usd",
        "step",
    ):
        assert absent not in listed  # a static run has no response columns
    assert "value_usd" not in listed and "period" not in listed  # the raw cells of rejects are one entry
    assert all(readme.get(f"B{row}", ("", ""))[1] for row in range(start + 1, end) if f"A{row}" in labels)


def test_workbook_keeps_formula_looking_text_as_text(small):
    out, _, _ = small
    with zipfile.ZipFile(out / "report.xlsx") as book:
        every = [kind for number in range(1, len(SHEETS) + 1) for kind, _ in _cells(book, number).values()]
        assert "formula" not in every
        measures = _cells(book, 6)
        texts = {value for kind, value in measures.values() if kind == "string"}
        assert {"=cmd|' /C calc'!A0", "@SUM(A1)", "+Autos, 25 %", "-test"} <= texts
        assert 'quotePrefix="1"' in book.read("xl/styles.xml").decode()


def test_workbook_text_cells_for_names_and_descriptions_starting_like_formulas(small):
    _, _, figures = small
    table = pd.DataFrame(
        {
            "partner": ["AAA", "BBB", "CCC", "DDD"],
            "partner_name": ["=1+1", "+SUM(A1)", "-2+3", "@cmd"],
            "hs": ["0101", "=01", "-85", "@87"],
            "description": ['=HYPERLINK("http://x")', "+x", "-y", "@z"],
            "imports_usd": [1.0, 2.0, 3.0, 4.0],
        }
    )
    data = workbook.workbook_bytes({"by_partner": table}, figures)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        cells = _cells(book, 2)
    for column in "ABCD":
        for row in range(2, 6):
            kind, _ = cells[f"{column}{row}"]
            assert kind == "string", f"{column}{row}"
    assert cells["B2"] == ("string", "=1+1") and cells["C2"] == ("string", "0101")
    assert cells["D2"] == ("string", '=HYPERLINK("http://x")')
    assert cells["E2"] == ("number", "1")


def test_csv_tables_neutralise_formula_looking_text(small):
    out, _, _ = small
    for path in (out / "by_measure.csv", out / "charts" / "added_duty_by_measure.csv"):
        text = path.read_text(encoding="utf-8-sig")
        assert "'=cmd|' /C calc'!A0" in text and "'+Autos, 25 %" in text, path.name
        assert "\n=" not in text and ",=" not in text and ',"=' not in text


# ------------------------------------------------------------------------------------------ options


def test_formats_choose_what_is_written(inputs, tmp_path):
    out = tmp_path / "xlsx"
    _run(inputs, out, charts=False, formats=("xlsx",))
    assert (out / "report.xlsx").is_file()
    assert not (out / "charts").exists() and not (out / "report.pdf").exists()
    out = tmp_path / "png"
    _run(inputs, out, formats=("png",), top=2)
    assert sorted(p.name for p in (out / "charts").glob("*.png")) == sorted(
        f"{n}.png" for n in charts.CHART_NAMES
    )
    assert not list(out.rglob("*.pdf")) and not (out / "report.xlsx").exists()
    with pytest.raises(ValueError, match="svg"):
        _run(inputs, tmp_path / "bad", formats=("svg",))
    assert CLI_FORMATS == api.FORMATS


def test_cli_format_top_paper_and_no_progress_off_a_terminal(inputs, tmp_path):
    out = tmp_path / "cli"
    args = [
        "run",
        str(inputs["scenario"]),
        "--flows",
        str(inputs["flows"]),
        "--baseline",
        str(inputs["baseline"]),
    ]
    result = CliRunner().invoke(
        cli, [*args, "--out", str(out), "--format", "pdf", "--top", "2", "--paper", "letter"]
    )
    assert result.exit_code == 0, result.output
    assert "tariffcalc run" not in result.stderr and "report.pdf" not in result.stderr  # no progress bar
    data = (out / "report.pdf").read_bytes()
    assert b"/MediaBox [ 0 0 612 792 ]" in data
    assert not list((out / "charts").glob("*.png")) and not (out / "report.xlsx").exists()
    assert _csv(out / "charts" / "added_duty_by_partner.csv")["partner"].tolist()[:2] != ["", ""]
    bad = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "bad"), "--format", "png,svg"])
    assert bad.exit_code == 2 and "'svg' is not a format" in bad.output
    none = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "none"), "--no-charts", "--format", "png"])
    assert none.exit_code == 0 and not (tmp_path / "none" / "charts").exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Recorder(progress.Progress):
    def __init__(self) -> None:
        self.total, self.labels, self.finished = 0, [], False

    def start(self, total: int) -> None:
        self.total = total

    def step(self, label: str) -> None:
        self.labels.append(label)

    def finish(self) -> None:
        self.finished = True


def test_progress_bar_only_on_a_terminal_and_not_when_quiet():
    assert type(progress.for_terminal(stream=io.StringIO())) is progress.Progress
    assert type(progress.for_terminal(quiet=True, stream=_Terminal())) is progress.Progress
    stream = _Terminal()
    bar = progress.for_terminal(stream=stream)
    bar.start(2)
    bar.step("reading flows")
    bar.step("charts")
    bar.finish()
    text = stream.getvalue()
    assert "tariffcalc run" in text and "charts" in text and "2/2" in text


def test_run_reports_as_many_steps_as_it_announces(inputs, tmp_path):
    recorder = _Recorder()
    _run(inputs, tmp_path / "steps", formats=("png", "xlsx"), progress=recorder)
    assert recorder.finished and recorder.total == len(recorder.labels)
    assert recorder.labels[:3] == ["reading flows", "computing duties", "tables"]
    assert recorder.labels[-1] == "report.xlsx"


# ------------------------------------------------------------------------------------------ text


def test_summary_md_reads_like_a_policy_note(small):
    out, _, figures = small
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("# Small test tariff\n")
    assert "would raise US duties by" in text and "| Effective tariff rate |" in text
    largest = figures["top_partners"][0]["partner_name"]
    assert "partners with the largest increases account for" in text and largest in text
    assert "## Caveats" in text and "Not included:" in text
    assert "(flat)" in text and "(autos)" in text  # the measures sentence names where the duty comes from


def test_wrap_fits_the_width_and_marks_cut_text():
    text = "Electrical machinery and equipment and parts thereof; sound recorders and reproducers " * 3
    lines = style.wrap(text, 2.0, 9)
    assert len(lines) > 3 and all(style.text_width(line, 9) <= 2.0 for line in lines)
    short = style.wrap(text, 2.0, 9, max_lines=2)
    assert len(short) == 2 and short[-1].endswith("…")
    assert all(style.text_width(line, 9) <= 1.0 for line in style.wrap("a" * 200, 1.0, 9))


def test_long_tables_continue_on_the_next_page_under_their_header():
    layout = pdf.Layout("a4")
    items = layout.table(
        [pdf.Column("Name", 3.0), pdf.Column("Value", 1.0, "right")], [[f"r{i}", "1"] for i in range(120)]
    )
    pages = layout.paginate("Tables", items)
    assert len(pages) >= 2
    header = items[0]
    assert all(page.items[0] is header for page in pages)


# ------------------------------------------------------------------------------------------ gallery


def _gallery():
    spec = importlib.util.spec_from_file_location("make_gallery", REPO / "scripts" / "make_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gallery_is_current(tmp_path):
    """The default run, rebuilt, gives the chart data recorded in reports/gallery.json (and, with the same
    matplotlib, the same PNG and PDF bytes); the files in reports/ are those the manifest lists."""
    gallery = _gallery()
    recorded = json.loads((gallery.GALLERY / gallery.MANIFEST).read_text(encoding="utf-8"))
    for name, digest in recorded["files"].items():
        assert hashlib.sha256((gallery.GALLERY / name).read_bytes()).hexdigest() == digest, name
    assert (gallery.GALLERY / "report.pdf").stat().st_size < 2_000_000
    rebuilt = gallery.build(tmp_path)
    assert rebuilt["chart_data"] == recorded["chart_data"], "run `python scripts/make_gallery.py`"
    if rebuilt["matplotlib"] == recorded["matplotlib"]:
        assert rebuilt["files"] == recorded["files"], "run `python scripts/make_gallery.py`"
    partners = _csv(tmp_path / "run" / "charts" / "added_duty_by_partner.csv")
    full = _partners_as_drawn(tmp_path / "run")  # the EU as one partner
    largest = full.assign(v=full["added_duty_usd"].astype(float)).sort_values("v", ascending=False)
    assert partners["added_duty_usd"].tolist()[:15] == largest["added_duty_usd"].tolist()[:15]
    assert partners["partner"].tolist()[:3] == ["CHN", "EU", "VNM"]
