"""report.xlsx: the tables of a run in one workbook, one sheet each, with a README sheet first.

Every sheet has a frozen, filterable header row; money in USD shown as ``$1,234,567`` and rates (fractions)
shown as percentages, while the cells keep the exact values; HS codes and all other text are text cells.
The workbook is written by xlsxwriter with ``strings_to_formulas``/``strings_to_urls`` off, so a partner
name or description starting with ``=``, ``+``, ``-`` or ``@`` stays text (such cells also get Excel's
quote prefix, so editing them does not turn them into formulas). The document date is fixed, so the same
run gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from tariffcalc._version import __version__
from tariffcalc.util.files import write_bytes
from tariffcalc.util.text import FORMULA_STARTS

OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
CREATED = dt.datetime(2000, 1, 1)
"""Fixed document date (the run's time is in manifest.json), so equal runs give equal bytes."""
MAX_ROWS = 1_048_575
"""Data rows that fit on one sheet below the header."""
MAX_WIDTH = 60
"""Widest column, characters."""
MONEY_FORMAT = '"$"#,##0'
RATE_FORMAT = "0.00%"

COLUMNS = {
    "partner": "Exporting country (origin), ISO 3166-1 alpha-3 code",
    "partner_name": "Partner's short English name (a group such as the EU: its name and member count)",
    "hs": "HS/HTS product code at the table's level (text, leading zeros kept)",
    "product": "The product code and its description as one text cell (as in the CSV files)",
    "group": "Partner group code as scenarios write it (EU)",
    "group_name": "Name of the partner group",
    "members": "Partners belonging to the group on the run's date",
    "members_with_imports": "Members with imports in the data",
    "member_list": "ISO3 codes of the members with imports, largest first",
    "description": "HS 2022 description (UN Comtrade); codes finer than 6 digits take their subheading's",
    "imports_usd": "Customs value of imports, USD",
    "baseline_duty_usd": "Duty under the baseline, USD",
    "scenario_duty_usd": "Duty under the scenario, USD",
    "added_duty_usd": "Scenario duty minus baseline duty, USD",
    "baseline_rate": "Baseline duty ÷ imports (effective rate)",
    "scenario_rate": "Scenario duty ÷ imports (effective rate)",
    "added_rate": "Added duty ÷ imports (change of the effective rate)",
    "measure": "Measure id in the scenario file",
    "authority": "Legal authority of the measure",
    "basis": "Kind of legal authority (IEEPA, Section 232, 301, 122, MFN/observed, other)",
    "citation": "Legal citation of the measure",
    "in_scenario": "The measure is part of the scenario",
    "in_baseline": "The measure is part of the baseline",
    "covered_imports_usd": "Imports the measure applies to under the scenario, USD",
    "source_file": "Input file of the rejected row",
    "line": "Line number in the input file (the header is line 1)",
    "reason": "Why the row was rejected",
    "value_usd_parsed": "The row's value as read, USD (0 when unreadable)",
    "imports_after_usd": "Imports after the trade response, USD (response model)",
    "duty_after_usd": "Scenario duty on the imports after the response, USD",
    "trade_creation_usd": "Share of the market's change in imports, USD (negative when imports fall)",
    "trade_diversion_usd": "Change in imports beyond the trade creation, USD (nets to zero in each market)",
    "revenue_change_usd": "Duty after the response minus the baseline duty, USD",
    "consumer_surplus_change_usd": "Change in buyers' consumer surplus, USD",
    "producer_surplus_change_usd": "Change in foreign producers' surplus, USD",
    "deadweight_loss_usd": "Deadweight loss, USD",
    "scenario_rate_after": "Duty after the response ÷ imports after the response",
    "added_rate_after": "Post-substitution added rate: scenario_rate_after minus the baseline rate",
    "price_index_change": "Change of the import price index (fraction), spending-weighted",
    "world_price_change": "Change of the exporters' world price (fraction), value-weighted",
    "step": "Step of the revenue ladder",
    "label": "What the step is",
    "revenue_usd": "Change in federal revenue at this step, USD a year",
    "change_usd": "Change from the step above, USD a year",
    "note": "How the step is computed",
    "estimate": "Central estimate, or the low or high end of the range",
    "import_price_change": "Spending-weighted change of import prices (fraction)",
    "pass_through": "Share of the import price change passed on to consumer prices",
    "import_quantity_change": "Spending-weighted change of the quantity of imports bought (fraction)",
    "import_share_of_consumption": "Import content of personal consumption (fraction)",
    "price_level_change": "Change of the consumer price level (fraction)",
    "consumer_cost_usd": "Cost to consumers, USD a year",
    "cost_per_household_usd": "Average cost per household, USD a year",
}
"""Meaning of the columns of a run's tables; the README sheet lists those of the run's own sheets."""

SHEETS = {
    "by_partner": "One row per partner, largest added duty first",
    "by_group": "One row per partner group (the EU): its members summed as one partner",
    "by_product": "One row per product at the run's HS level, largest added duty first",
    "by_partner_product": "One row per partner × product at the run's HS level",
    "by_measure": "Duty of each measure in the scenario and the baseline, and what it adds",
    "rejects": "Input rows that could not be used, with file, line, reason and the raw cells",
    "revenue_ladder": "Response model: revenue from the static added duty to the net budget effect",
    "consumer_prices": "Response model: consumer prices and cost per household, central estimate and range",
}
"""Sheet name → what it holds (the names of the CSV files of the run)."""


class _Formats:
    """The cell formats of one workbook (xlsxwriter formats belong to the workbook that made them)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#EEEEEE", "bottom": 1, "text_wrap": True})
        self.money = book.add_format({"num_format": MONEY_FORMAT})
        self.rate = book.add_format({"num_format": RATE_FORMAT})
        self.text = book.add_format({"num_format": "@"})
        self.quoted = book.add_format({"num_format": "@", "quote_prefix": True})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})


def _text(sheet, row: int, col: int, text: str, formats: _Formats) -> None:
    """A text cell; one that looks like a formula also gets the quote prefix, so editing keeps it text."""
    sheet.write_string(row, col, text, formats.quoted if text.startswith(FORMULA_STARTS) else None)


def _kind(name: str, column: pd.Series) -> str:
    """How a column is written: ``money`` (USD), ``rate`` (fraction), ``bool``, ``number`` or ``text``."""
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_numeric_dtype(column):
        if name.endswith("_usd"):
            return "money"
        return "rate" if name.endswith("_rate") else "number"
    return "text"


def _width(name: str, column: pd.Series, kind: str) -> int:
    """Column width in characters: the longest displayed value or the header, at most :data:`MAX_WIDTH`."""
    if column.empty:
        longest = 0
    elif kind == "money":
        largest = float(np.nanmax(np.abs(column.to_numpy(dtype=float)), initial=0.0))
        longest = len(f"${largest:,.0f}") + 1
    elif kind == "rate":
        longest = 8
    elif kind in ("bool", "number"):
        longest = int(column.astype(str).str.len().max())
    else:
        longest = int(column.astype(object).fillna("").astype(str).str.len().max())
    return min(max(longest, len(name) + 3, 6) + 1, MAX_WIDTH)


def _write_column(sheet, col: int, column: pd.Series, kind: str, formats: _Formats) -> None:
    """Write one column below the header row, cell by cell, with the right cell type and format."""
    if kind == "text":
        for row, value in enumerate(column.astype(object).tolist(), start=1):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            _text(sheet, row, col, str(value), formats)
        return
    if kind == "bool":
        for row, value in enumerate(column.tolist(), start=1):
            sheet.write_boolean(row, col, bool(value))
        return
    cell_format = {"money": formats.money, "rate": formats.rate}.get(kind)
    for row, value in enumerate(column.to_numpy(dtype=float).tolist(), start=1):
        if np.isfinite(value):
            sheet.write_number(row, col, value, cell_format)


def _add_table(book: xlsxwriter.Workbook, name: str, table: pd.DataFrame, formats: _Formats) -> None:
    """One sheet holding ``table`` (cut at :data:`MAX_ROWS`): header, typed cells, widths, frozen header, filter."""
    sheet = book.add_worksheet(name)
    shown = table.head(MAX_ROWS)
    for col, (column_name, column) in enumerate(shown.items()):
        kind = _kind(str(column_name), column)
        sheet.write_string(0, col, str(column_name), formats.header)
        width = _width(str(column_name), column, kind)
        sheet.set_column(col, col, width, formats.text if kind == "text" else None)
        _write_column(sheet, col, column, kind, formats)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(shown), 1), max(len(shown.columns) - 1, 0))


def _readme(
    book: xlsxwriter.Workbook,
    figures: Mapping[str, Any],
    sources: list[str],
    names: list[str],
    cut: list[str],
    formats: _Formats,
    columns: list[str],
):
    """The README sheet: what the run is, its headline figures, the sheets, the ``columns`` the sheets
    have (each once, in order of first appearance) and the sources."""
    sheet = book.add_worksheet("README")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 100, formats.wrap)
    s, b, t = figures["scenario"], figures["baseline"], figures["totals"]
    row = 0
    sheet.write_string(row, 0, f"tariffcalc {__version__}: {s['title']}", formats.title)
    rows: list[tuple[str, Any, Any]] = [
        ("Scenario", f"{s['name']}: {s['title']} (evaluated on {s['as_of']})", None),
        ("Baseline", f"{b['name']}: {b['title']}", None),
        ("Model", figures["model"], None),
        ("Product level", f"{figures['product_level']} HS digits", None),
        ("Trade data", figures.get("data", {}).get("source", ""), None),
        ("Units", "Money in nominal US dollars; rates are fractions shown as percentages", None),
        ("Imports", t["imports_usd"], formats.money),
        ("Baseline duty", t["baseline_duty_usd"], formats.money),
        ("Scenario duty", t["scenario_duty_usd"], formats.money),
        ("Added duty", t["added_duty_usd"], formats.money),
        ("Baseline effective rate", t["baseline_rate"], formats.rate),
        ("Scenario effective rate", t["scenario_rate"], formats.rate),
        ("Added effective rate", t["added_rate"], formats.rate),
    ]
    row = _readme_block(sheet, row + 2, "Run", rows, formats)
    note = " (cut at the sheet's row limit; the CSV file has every row)"
    sheets = [(name, SHEETS[name] + (note if name in cut else ""), None) for name in names]
    row = _readme_block(sheet, row + 1, "Sheets", sheets, formats)
    described = [(k, COLUMNS.get(k, ""), None) for k in columns]
    row = _readme_block(sheet, row + 1, "Columns", described, formats)
    _readme_block(sheet, row + 1, "Sources", [("", source, None) for source in sources], formats)


def _readme_block(sheet, row: int, heading: str, rows: list[tuple[str, Any, Any]], formats: _Formats) -> int:
    """Write a heading and (label, value, format) rows from ``row``; return the next free row."""
    sheet.write_string(row, 0, heading, formats.bold)
    for offset, (label, value, cell_format) in enumerate(rows, start=1):
        sheet.write_string(row + offset, 0, label)
        if isinstance(value, float | int):
            sheet.write_number(row + offset, 1, float(value), cell_format)
        else:
            _text(sheet, row + offset, 1, str(value), formats)
    return row + len(rows) + 1


def _sources(figures: Mapping[str, Any]) -> list[str]:
    """The sources of a run (summary.json "sources") as lines of the README sheet."""
    found = figures["sources"]
    return [
        *found["documents"],
        *(f"{m['measure']}: {m['authority']}. Citation: {m['citation']}" for m in found["measures"]),
        *found["reference_data"],
        *(f"{r['key']}: {r['repository']}, commit {r['commit']}" for r in found["repositories"]),
        "Each bundled file's source, year, units and caveats: data/README.md; this run's inputs: manifest.json",
    ]


REJECT_COLUMNS = ("source_file", "line", "reason", "value_usd_parsed")
RAW_CELLS = "other rejects columns"
"""How the README sheet names the raw cells of rejected rows (the file's own columns, as it held them)."""
COLUMNS[RAW_CELLS] = (
    "The rejected row's cells exactly as the input file held them, under the file's own column names"
)


def _columns(name: str, table: pd.DataFrame) -> list[str]:
    """The columns a sheet contributes to the README: a rejects sheet its own four and its raw cells as one."""
    if name != "rejects":
        return list(table.columns)
    own = [c for c in REJECT_COLUMNS if c in table.columns]
    return own + ([RAW_CELLS] if len(table.columns) > len(own) else [])


def response_tables(response: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The sheets of a response model's figures (``Response.summary()``): the revenue ladder (USD a year) and
    the consumer prices with their range (fractions, USD a year)."""
    from tariffcalc.report.charts import ladder_table

    prices = pd.DataFrame(
        [{"estimate": key, **response["prices"][key]} for key in ("central", "low", "high")]
    )
    return {"revenue_ladder": ladder_table(response["revenue_ladder"]), "consumer_prices": prices}


def workbook_bytes(tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Any]) -> bytes:
    """The bytes of report.xlsx: a README sheet, then one sheet per table of ``tables`` (name → DataFrame)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, OPTIONS)
    book.set_properties({"title": "tariffcalc report", "created": CREATED})
    formats = _Formats(book)
    cut = [name for name, table in tables.items() if len(table) > MAX_ROWS]
    columns = list(dict.fromkeys(str(c) for name, table in tables.items() for c in _columns(name, table)))
    _readme(book, figures, _sources(figures), list(tables), cut, formats, columns)
    for name, table in tables.items():
        _add_table(book, name, table, formats)
    book.close()
    return buffer.getvalue()


def write(path: Path, tables: Mapping[str, pd.DataFrame], figures: Mapping[str, Any]) -> None:
    """Write report.xlsx to ``path`` atomically (see :func:`workbook_bytes`)."""
    write_bytes(path, workbook_bytes(tables, figures))
