"""The CSV tables opened by a real spreadsheet: LibreOffice Calc, headless, converts them to xlsx.

The import is set up as an eager spreadsheet would do it: numbers, dates and other special values
recognised, formulas evaluated. The test then reads the cells LibreOffice made: product labels are text
and keep their leading zeros, amounts and rates are numbers, and no cell anywhere became a formula.
Skipped when LibreOffice (``soffice``) is not installed (Debian: libreoffice-calc-nogui).
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import textwrap
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tariffcalc.app import api

from .conftest import ZERO_BASELINE

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

IMPORT = "CSV:44,34,76,1,,1033,false,true,false,false,false,-1,true"
"""LibreOffice's CSV import options: comma, double quote, UTF-8, from line 1, English (US), quoted cells
not forced to text, special numbers detected, formulas evaluated (tokens 1-13 of the CSV filter)."""
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"

SCENARIO = """
name = "sheet"
title = "Spreadsheet test"
as_of = 2025-04-09

[[measure]]
id = "flat"
authority = "=HYPERLINK(\\"http://example.com\\")"
citation = "-cmd|' /C calc'!A0"
rate = 0.10
rates = { EU = 0.20 }
"""

FLOWS = (
    "partner,hs,period,value_usd\n"
    "CHN,0304610000,2024,1000\n"
    "DEU,0101210010,2024,2500.5\n"
    "VNM,0902100000,2024,300\n"
    "JPN,8703230190,2024,4000\n"
    "FRA,0304,2024,-50\n"  # rejected: negative value; rejects.csv shows -50
    "XXX,0101,2024,=1+1\n"  # rejected: a formula in a value cell stays text
)


def _convert(paths: list[Path], folder: Path) -> list[Path]:
    """Convert CSV files to xlsx with LibreOffice in one call (a private profile, so nothing is shared)."""
    profile = (folder / "profile").as_uri()
    command = [SOFFICE, f"-env:UserInstallation={profile}", "--headless", f"--infilter={IMPORT}"]
    command += ["--convert-to", "xlsx", "--outdir", str(folder / "xlsx"), *map(str, paths)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return [folder / "xlsx" / f"{path.stem}.xlsx" for path in paths]


def _sheet(path: Path) -> list[dict[str, tuple[str, str]]]:
    """The first sheet's rows below the header as {column name: (cell type, text)}; a formula is
    ("formula", its text)."""
    with zipfile.ZipFile(path) as book:
        strings = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            strings = ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root.iter(f"{MAIN}si")]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{MAIN}row"):
        cells = {}
        for cell in row.iter(f"{MAIN}c"):
            column = re.sub(r"\d", "", cell.get("r"))
            if cell.find(f"{MAIN}f") is not None:
                cells[column] = ("formula", cell.find(f"{MAIN}f").text or "")
            elif cell.get("t") == "s":
                cells[column] = ("text", strings[int(cell.find(f"{MAIN}v").text)])
            elif cell.get("t") in ("str", "inlineStr"):
                cells[column] = ("text", "".join(t.text or "" for t in cell.iter(f"{MAIN}t")))
            elif cell.find(f"{MAIN}v") is not None:
                cells[column] = ("number", cell.find(f"{MAIN}v").text)
        rows.append(cells)
    header = {column: text for column, (_, text) in rows[0].items()}
    return [{header[c]: value for c, value in row.items() if c in header} for row in rows[1:]]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """A run's CSV tables at HS heading level, each as LibreOffice read it, and as written."""
    folder = tmp_path_factory.mktemp("spreadsheet")
    (folder / "sheet.toml").write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    (folder / "zero.toml").write_text(textwrap.dedent(ZERO_BASELINE), encoding="utf-8")
    (folder / "flows.csv").write_text(FLOWS, encoding="utf-8")
    out = folder / "out"
    api.run(
        folder / "sheet.toml",
        [folder / "flows.csv"],
        folder / "zero.toml",
        level=4,
        out=out,
        charts=False,
        formats=(),
    )
    paths = sorted(out.glob("*.csv"))
    converted = _convert(paths, folder)
    return {path.stem: (_sheet(book), _csv(path)) for path, book in zip(paths, converted, strict=True)}


def test_no_cell_of_any_table_becomes_a_formula(opened):
    assert {"by_product", "by_partner_product", "by_group", "by_measure", "rejects"} <= set(opened)
    for name, (sheet, _) in opened.items():
        kinds = {kind for row in sheet for kind, _ in row.values()}
        assert "formula" not in kinds, name
    measures = {row["measure"][1]: row for row in opened["by_measure"][0]}
    assert measures["flat"]["authority"] == ("text", '\'=HYPERLINK("http://example.com")')
    assert measures["flat"]["citation"] == ("text", "'-cmd|' /C calc'!A0")


def test_product_labels_keep_their_zeros_and_amounts_stay_numbers(opened):
    for name in ("by_product", "by_partner_product", "by_group"):
        sheet, written = opened[name]
        assert len(sheet) == len(written) > 0, name
        for cells, row in zip(sheet, written, strict=True):
            for column, text in row.items():
                if column.endswith(("_usd", "_rate")):
                    kind, value = cells[column]
                    assert kind == "number" and float(value) == pytest.approx(float(text)), (name, column)
            if "hs" in row:
                kind, label = cells["product"]
                assert kind == "text" and label == row["product"], name
                assert label.startswith(row["hs"] + " "), name  # "0304 Fish fillets…", zeros kept
    labels = [cells["product"][1] for cells in opened["by_product"][0]]
    assert any(label.startswith("0304 ") for label in labels)
    assert any(label.startswith("0101 ") for label in labels)
    # the machine-readable code is a number to the spreadsheet, as expected: the label is what keeps the zeros
    assert {cells["hs"] for cells in opened["by_product"][0]} >= {("number", "304"), ("number", "101")}


def test_rejects_show_a_negative_value_as_the_number_and_formulas_as_text(opened):
    sheet, _ = opened["rejects"]
    values = {cells["line"][1]: cells["value_usd"] for cells in sheet}
    assert values["6"] == ("number", "-50")
    assert values["7"] == ("text", "'=1+1")
