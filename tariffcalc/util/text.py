"""Spreadsheet-safe text: a cell that a spreadsheet would run as a formula is shown as text instead."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula."""


def neutralise(text: str) -> str:
    """Prefix a text cell with ``'`` when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
