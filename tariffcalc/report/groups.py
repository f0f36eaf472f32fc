"""Partner groups (the EU) as one partner: summed from the by-partner table of a run.

A scenario may set one rate for a group (``rates = { EU = 0.20 }``), and readers think of the EU as one
trading partner, while the data and the tables are by member state. :func:`by_group` sums each bundled
group's members (data/groups.csv, membership on the run's date) into one row, and :func:`fold` replaces
the members of a by-partner table by their group, so charts can show the EU as one partner without
counting anything twice. Amounts in USD, rates as fractions, recomputed from the sums.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tariffcalc.reference import countries

RATES = {
    "baseline_rate": ("baseline_duty_usd", "imports_usd"),
    "scenario_rate": ("scenario_duty_usd", "imports_usd"),
    "added_rate": ("added_duty_usd", "imports_usd"),
    "scenario_rate_after": ("duty_after_usd", "imports_after_usd"),
}
"""Rates recomputed from summed amounts: rate column → (numerator, denominator)."""


def _money(table: pd.DataFrame) -> list[str]:
    """The amounts of a table (USD columns), which add up over partners."""
    return [c for c in table.columns if str(c).endswith("_usd")]


def _rates(table: pd.DataFrame) -> pd.DataFrame:
    """Rates of summed rows: duty ÷ imports (0 without imports); the post-substitution added rate too."""
    for rate, (numerator, denominator) in RATES.items():
        if numerator in table and denominator in table:
            value = table[denominator].where(table[denominator] > 0)
            table[rate] = (table[numerator] / value).fillna(0.0)
    if "scenario_rate_after" in table and "baseline_rate" in table:
        table["added_rate_after"] = table["scenario_rate_after"] - table["baseline_rate"]
    return table


def group_label(group: str, members: int) -> str:
    """How a group is named as one partner: ``"European Union (27)"``."""
    return f"{countries.group_title(group)} ({members})"


def by_group(by_partner: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """One row per bundled partner group: its members on ``on`` summed (USD) and its rates (fractions).

    Columns: ``group`` (its code, as scenarios write it), ``group_name``, ``members`` (how many partners
    belong to it on ``on``), ``members_with_imports`` and ``member_list`` (ISO3 codes of the members with
    imports, largest first), then every USD column of ``by_partner`` summed and the rates recomputed.
    A member the data does not have adds nothing. Largest added duty first.
    """
    money = _money(by_partner)
    rows = []
    for group in countries.group_names():
        members = countries.group_members(group, on)
        part = by_partner[by_partner["partner"].isin(members)].sort_values(
            "imports_usd", ascending=False, kind="stable"
        )
        row = {
            "group": group,
            "group_name": countries.group_title(group),
            "members": len(members),
            "members_with_imports": int((part["imports_usd"] > 0).sum()),
            "member_list": " ".join(part.loc[part["imports_usd"] > 0, "partner"]),
        }
        row |= {column: float(part[column].sum()) for column in money}
        rows.append(row)
    columns = ["group", "group_name", "members", "members_with_imports", "member_list", *money]
    table = _rates(pd.DataFrame(rows, columns=columns))
    rates = [c for c in (*RATES, "added_rate_after") if c in table]
    table = table[[*columns, *rates]]
    return table.sort_values("added_duty_usd", ascending=False, kind="stable", ignore_index=True)


def fold(table: pd.DataFrame, on: dt.date, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """``table`` (by partner, or by partner and ``keys`` such as ``hs``) with each group's members summed
    into one row whose ``partner`` is the group code and ``partner_name`` :func:`group_label`.

    Only USD columns are kept besides ``partner``, ``partner_name`` and the keys; rates are recomputed.
    Partners outside any group are unchanged. Rows keep the order of their first member; callers sort.
    """
    membership = countries.group_of(table["partner"].astype(str).unique(), on)
    if not membership:
        return table
    money = _money(table)
    grouped = table.assign(partner=table["partner"].astype(str).map(lambda p: membership.get(p, p)))
    sizes = {group: len(countries.group_members(group, on)) for group in set(membership.values())}
    by = ["partner", *keys]
    summed = grouped.groupby(by, sort=False, observed=True)[money].sum().reset_index()
    names = dict(zip(table["partner"].astype(str), table.get("partner_name", table["partner"]), strict=False))
    names |= {group: group_label(group, size) for group, size in sizes.items()}
    summed.insert(1, "partner_name", summed["partner"].map(names))
    return _rates(summed)
