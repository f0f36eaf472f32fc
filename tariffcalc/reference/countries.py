"""Partner countries: ISO3 codes, display names, Census-style names, and dated groups such as the EU.

Trade partners are identified by ISO 3166-1 alpha-3 codes everywhere inside tariffcalc. The table comes
from the US Census Bureau's Schedule C country list (bundled as ``countries.csv``), which is also what maps
Census names like "Korea, South" or "Burma" to ISO3 (``pycountry`` and ``country_converter`` fail on
those; see DESIGN.md).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools

from tariffcalc.errors import UnknownCodeError, suggest
from tariffcalc.reference import bundled


@functools.cache
def partner_names() -> dict[str, str]:
    """ISO3 → short display name, e.g. ``"KOR" → "South Korea"``."""
    table = bundled.read_table("countries.csv")
    names: dict[str, str] = {}
    for iso3, name in zip(table["iso3"], table["name"], strict=True):
        names.setdefault(iso3, name)
    return names


@functools.cache
def _name_index() -> dict[str, str]:
    """Lower-cased name (display, Census short and long) or code → ISO3."""
    table = bundled.read_table("countries.csv")
    index: dict[str, str] = {}
    for column in ("name", "census_short_name", "census_name"):
        for name, iso3 in zip(table[column], table["iso3"], strict=True):
            if name:
                index.setdefault(name.strip().lower(), iso3)
    for iso3 in table["iso3"]:
        index[iso3.lower()] = iso3
    for name, iso3 in ALIASES.items():
        index.setdefault(name, iso3)
    return index


@functools.cache
def _name_candidates() -> dict[str, frozenset[str]]:
    """Lower-cased country name (display, Census short and long, aliases) → every ISO3 it names."""
    table = bundled.read_table("countries.csv")
    index: dict[str, set[str]] = {}
    for column in ("name", "census_short_name", "census_name"):
        for name, iso3 in zip(table[column], table["iso3"], strict=True):
            if name:
                index.setdefault(" ".join(name.split()).lower(), set()).add(iso3)
    for name, iso3 in ALIASES.items():
        index.setdefault(name, set()).add(iso3)
    return {name: frozenset(codes) for name, codes in index.items()}


def name_to_iso3(name: str) -> str | None:
    """The ISO3 code of a country *name* ("Vietnam", "Korea, South", "Burma", "Bahamas, The") when the
    bundled country table maps it to exactly one partner; None when it names none, or more than one.

    Census and USITC DataWeb files carry names where tariffcalc's own layout has codes; the readers accept
    such a name through this function (and say how many rows they recoded). Codes are not names: ``"DEU"``
    gives None (see :func:`is_partner`).
    """
    key = " ".join(str(name).split()).lower()
    if not key:
        return None
    index = _name_candidates()
    for candidate in (key, *_variants(key)):
        codes = index.get(candidate)
        if codes:
            return next(iter(codes)) if len(codes) == 1 else None
    return None


ALIASES = {
    "czechia (czech republic)": "CZE",
    "eswatini (swaziland)": "SWZ",
    "democratic republic of the congo": "COD",
    "congo, democratic republic of the": "COD",
    "republic of the congo": "COG",
    "congo, republic of the": "COG",
    "ivory coast": "CIV",
    "korea, republic of": "KOR",
    "republic of korea": "KOR",
    "korea, democratic people's republic of": "PRK",
    "turkiye": "TUR",
    "viet nam": "VNM",
    "russian federation": "RUS",
    "taiwan, province of china": "TWN",
    "hong kong, china": "HKG",
    "macao": "MAC",
    "lao people's democratic republic": "LAO",
    "iran, islamic republic of": "IRN",
    "syrian arab republic": "SYR",
    "united republic of tanzania": "TZA",
    "united states": "USA",
}
"""Other spellings of partner names seen in USITC DataWeb and UN exports (lower case) → ISO3."""


def _variants(name: str) -> list[str]:
    """Other forms of a name to try: without a parenthesis ("Eswatini (Swaziland)"), "Bahamas, The"."""
    out = []
    bare = name.split("(")[0].strip()
    if bare and bare != name:
        out.append(bare)
    for suffix in (", the", " the"):
        if name.endswith(suffix):
            out.append(name[: -len(suffix)].strip())
    if name.startswith("the "):
        out.append(name[4:])
    return out


def closest(name: str) -> tuple[str, str] | None:
    """(ISO3, display name) of the partner whose name is closest to a misspelt ``name``, or None."""
    names = {display.lower(): (iso3, display) for iso3, display in partner_names().items()}
    close = difflib.get_close_matches(" ".join(name.split()).lower(), list(names), n=1, cutoff=0.75)
    return names[close[0]] if close else None


@functools.cache
def census_codes() -> dict[str, str]:
    """US Census Schedule C country code (4 digits, text) → ISO3, e.g. ``"5700" → "CHN"``."""
    table = bundled.read_table("countries.csv")
    return dict(zip(table["census_code"], table["iso3"], strict=True))


def is_partner(code: str) -> bool:
    """True when ``code`` is a known ISO3 partner code."""
    return code in partner_names()


def partner_name(code: str) -> str:
    """Display name of an ISO3 code (the code itself when unknown, so output never loses a row)."""
    return partner_names().get(code, code)


def to_iso3(name_or_code: str) -> str:
    """Map an ISO3 code or a country name (display or Census style) to ISO3.

    Raises :class:`UnknownCodeError` with a suggestion when nothing matches.
    """
    key = " ".join(name_or_code.split()).lower()
    index = _name_index()
    for candidate in (key, *_variants(key)):
        if candidate in index:
            return index[candidate]
    raise UnknownCodeError(
        f"Unknown partner {name_or_code!r}: use an ISO3 code (e.g. DEU) or a country name"
        + (f" ({', '.join(group_names())} for a group, where a command takes one)." if group_names() else ".")
        + suggest(name_or_code, [*group_names(), *partner_names(), *partner_names().values()])
    )


@functools.cache
def _group_table() -> list[tuple[str, str, dt.date, dt.date | None]]:
    table = bundled.read_table("groups.csv")
    return [
        (group, partner, dt.date.fromisoformat(start), dt.date.fromisoformat(end) if end else None)
        for group, partner, start, end in zip(
            table["group"], table["partner"], table["start"], table["end"], strict=True
        )
    ]


def group_names() -> list[str]:
    """Names of the partner groups a scenario may use (e.g. ``EU``)."""
    return sorted({group for group, *_ in _group_table()})


GROUP_TITLES = {"EU": "European Union"}
"""Display names of the bundled partner groups (a group without one is shown by its code)."""
GROUP_ALIASES = {
    "european union": "EU",
    "eu-27": "EU",
    "eu27": "EU",
    "eu 27": "EU",
    "european union (eu-27)": "EU",
}
"""Other ways to write a group's name (lower case) → its code."""


def group_title(group: str) -> str:
    """Display name of a partner group (``"EU"`` → ``"European Union"``)."""
    return GROUP_TITLES.get(group, group)


def group_code(text: str) -> str | None:
    """The bundled group ``text`` names (``"EU"``, ``"eu"``, ``"European Union"``), or None."""
    key = " ".join(str(text).split())
    for group in group_names():
        if key.upper() == group.upper():
            return group
    alias = GROUP_ALIASES.get(key.lower())
    return alias if alias in group_names() else None


def group_of(partners, on: dt.date) -> dict[str, str]:
    """Partner (ISO3) → the bundled group it belongs to on ``on``, for those of ``partners`` in a group.

    A partner in more than one group goes to the first by name, so groups summed this way never count a
    partner twice.
    """
    wanted = set(partners)
    out: dict[str, str] = {}
    for group in group_names():
        for member in group_members(group, on):
            if member in wanted:
                out.setdefault(member, group)
    return out


def group_members(group: str, on: dt.date) -> list[str]:
    """ISO3 members of ``group`` on date ``on`` (membership ``start`` … ``end`` inclusive), sorted."""
    if group not in group_names():
        raise UnknownCodeError(f"Unknown partner group {group!r}." + suggest(group, group_names()))
    return sorted(
        partner
        for name, partner, start, end in _group_table()
        if name == group and start <= on and (end is None or on <= end)
    )
