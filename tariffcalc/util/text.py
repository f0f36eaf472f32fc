"""Spreadsheet-safe text: a cell that a spreadsheet would run as a formula is shown as text instead.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula, so such text is prefixed with an apostrophe (``'=cmd|…`` shows as text).
One kind is left as it is: a plain signed number such as ``-50``, ``+1.5`` or ``-1,234.56`` (a sign,
digits with ``,`` or ``.``, an optional exponent or ``%``). A spreadsheet reads it as that number, which
runs nothing, and a reader sees exactly what the input file held (rejects.csv shows a rejected negative
value as ``-50``, not ``'-50``). Anything more (``-2+3``, ``-1 2``, ``+A1``, ``-cmd|…``) is prefixed.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula."""
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,.]*(?:[eE][+-]?\d+)?%?")
"""A signed number and nothing else: a spreadsheet reads it as a number, never as a formula."""


def neutralise(text: str) -> str:
    """Prefix a text cell with ``'`` when a spreadsheet would run it as a formula (plain signed numbers
    such as ``-50`` stay as they are: they are read as numbers)."""
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def shorten(text: str, width: int) -> str:
    """``text`` with its white space folded, cut at a word boundary to at most ``width`` characters and
    ending in "…" when cut (product labels in CSV tables, chart tick labels)."""
    text = " ".join(re.split(r"[ \t\r\n]+", text.strip()))
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-(") + "…"
