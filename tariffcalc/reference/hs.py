"""HS / HTS product codes: normalisation, levels and descriptions.

Codes are always text of digits (``"0101210010"``, never the integer 101210010). Valid levels are the
even lengths 2 (chapter), 4 (heading), 6 (subheading), 8 (US tariff line) and 10 (US statistical line).
Descriptions come from the HS 2022 nomenclature (UN Comtrade's short texts) for 2, 4 and 6 digits; finer
codes are described by their subheading.
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from tariffcalc.errors import InvalidArgument
from tariffcalc.reference import bundled

LEVELS = (2, 4, 6, 8, 10)
_CODE = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{8}|\d{10})$")
SEPARATORS = r"[.\s]"
"""Characters that tariff schedules print inside codes (``8703.23.01``); removed when reading."""
_SEPARATORS = re.compile(SEPARATORS)


def normalise(code: str) -> str:
    """Strip dots and spaces that tariff schedules print inside codes (``"8703.23.01"`` → ``"87032301"``)."""
    return _SEPARATORS.sub("", str(code).strip())


def is_valid(code: str) -> bool:
    """True for a string of 2, 4, 6, 8 or 10 digits."""
    return bool(_CODE.match(code))


def check_level(level: int) -> int:
    """Return ``level`` if it is one of 2/4/6/8/10, else raise ValueError naming the valid ones."""
    if level not in LEVELS:
        raise InvalidArgument(f"HS level must be one of {', '.join(map(str, LEVELS))}, not {level}.")
    return level


@functools.cache
def _descriptions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("hs_chapters.csv", "hs_headings.csv", "hs_subheadings.csv"):
        table = bundled.read_table(name)
        out.update(zip(table["hs"], table["description"], strict=True))
    return out


def description(code: str) -> str:
    """Best description of ``code``: its own (2/4/6 digits) or that of the longest known prefix; "" if none."""
    known = _descriptions()
    for length in range(min(len(code), 6), 1, -2):
        text = known.get(code[:length])
        if text:
            return text
    return ""


def in_nomenclature(code: str) -> bool:
    """True when the code's first 6 digits (all of them if shorter) are an HS 2022 code.

    Finer US lines (8 and 10 digits) are checked at their subheading: the bundled nomenclature is HS, not
    the HTSUS. A well-formed code that fails this check (another HS vintage, a national line) is still used;
    its value is reported in the diagnostics.
    """
    return code[:6] in _descriptions()


def describe(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`description` over a Series of codes (looks up each distinct code once)."""
    unique = pd.unique(codes)
    mapping = {code: description(code) for code in unique}
    return codes.map(mapping)
