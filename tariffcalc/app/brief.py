"""A partner brief: what a tariff schedule means for one exporting country (or group), against its competitors.

``brief("UKR")`` computes the scenario once on all flows and returns a :class:`Brief`: the partner's US
imports by product at the finest level the data have for it, with the duties before and after, the added
rate that all *other* suppliers of the same product face (``competitor_added_rate``, weighted by their
imports) and the partner's margin against them in percentage points; the headline figures (totals,
rank among partners, shares); and, with ``model="armington"``, the change in the partner's US sales by
product from :mod:`tariffcalc.models.armington`. ``brief.write(out)`` writes products.csv, summary.md,
brief.pdf, the charts and manifest.json through the one bundle writer (:mod:`tariffcalc.report.bundle`).

A group (``EU``) is one partner: its members on the scenario's date (data/groups.csv) are summed, and its
competitors are all non-members. Amounts in USD a year at the flows' values, rates as fractions, margins
in percentage points.

>>> import tariffcalc
>>> b = tariffcalc.brief("UKR", "liberation-day")
>>> b.products.head()
>>> b.write()                                   # reports/brief-UKR-liberation-day/
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.app.api import DEFAULT_BASELINE, DEFAULT_SCENARIO, compute, respond
from tariffcalc.app.studies import RULEBOOK_START
from tariffcalc.engine.duties import Result
from tariffcalc.errors import TariffcalcError, UnknownCodeError
from tariffcalc.read.flows import FlowSet, load_flows
from tariffcalc.reference import countries, hs
from tariffcalc.report import bundle
from tariffcalc.report import summary as run_summary
from tariffcalc.rules.scenario import Scenario, load_scenario
from tariffcalc.util.text import shorten

ScenarioLike = str | Path | Scenario
FlowsLike = FlowSet | Sequence[str | Path] | None

LEVEL_NAMES = {2: "HS chapter", 4: "HS heading", 6: "HS subheading", 8: "HTS8 line", 10: "HTS10 line"}
"""What a product is at each level of digits (as in the charts of a run)."""
GROUP_NAMES = {"EU": "European Union"}
"""Display names of the partner groups of data/groups.csv."""
WITH_ARTICLE = frozenset(
    {"European Union", "Bahamas", "Comoros", "Gambia", "Maldives", "Netherlands", "Philippines"}
)
"""Names a sentence writes with "the" (besides "United …", "… Islands", "… Republic")."""
MONEY = ("imports_usd", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd")
PRODUCT_COLUMNS = (
    "hs",
    "description",
    *MONEY,
    "baseline_rate",
    "scenario_rate",
    "added_rate",
    "competitor_imports_usd",
    "competitor_scenario_rate",
    "competitor_added_rate",
    "margin_pp",
    "share_of_us_imports",
    "coarse_match",
)
"""The columns of products.csv (static), in order; the response adds :data:`RESPONSE_COLUMNS`."""
RESPONSE_COLUMNS = ("imports_after_usd", "sales_change_usd", "sales_change", "trade_diversion_usd")
"""Columns the Armington response adds to products.csv."""
EVEN_PP = 0.5
"""A margin within ± this many percentage points counts as even: neither an advantage nor a handicap."""
ALLOCATED_METHOD = "eu_allocated_hts10"
"""The ``method`` of bundled rows allocated from the EU bloc (data/README.md): a caveat when a partner has them."""


@dataclasses.dataclass(frozen=True)
class Partner:
    """Who the brief is about: a code (ISO3 or a group), its display name, and the ISO3 codes it sums."""

    code: str
    name: str
    members: tuple[str, ...]

    @property
    def is_group(self) -> bool:
        return self.members != (self.code,)

    @property
    def text(self) -> str:
        """The name as a sentence writes it: "Ukraine", "the European Union", "the Netherlands"."""
        name = self.name
        plural = name.endswith(("Islands", "Territories", " Republic", "Emirates")) or name.startswith(
            "United "
        )
        return f"the {name}" if plural or name in WITH_ARTICLE else name

    @property
    def owner(self) -> str:
        """The possessive: "Ukraine's", "the Netherlands'"."""
        return self.text + ("'" if self.text.endswith("s") else "'s")


def resolve_partner(text: str, on: dt.date) -> Partner:
    """The partner named by ``text``: a group (``EU``, members on ``on``), an ISO3 code or a country name."""
    key = text.strip()
    groups = {name.upper(): name for name in countries.group_names()}
    if key.upper() in groups:
        group = groups[key.upper()]
        return Partner(group, GROUP_NAMES.get(group, group), tuple(countries.group_members(group, on)))
    try:
        code = countries.to_iso3(key)
    except UnknownCodeError as exc:
        raise UnknownCodeError(f"{exc} Groups: {', '.join(countries.group_names())}.") from None
    return Partner(code, countries.partner_name(code), (code,))


# ------------------------------------------------------------------------------------------ tables


def _pair_arrays(result: Result, members: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs belong to the partner (bool over pairs), and each distinct code's length."""
    mine = np.isin(result.partners.astype(str), list(members))
    lengths = np.fromiter(map(len, result.codes), dtype=np.int64, count=len(result.codes))
    return mine[result.pair_partner_index], lengths


def finest_level(result: Result, members: Iterable[str]) -> int:
    """The finest product level (digits) at which every import row of the partner can be shown: the
    length of its coarsest code (2 when its data are by chapter only)."""
    member, lengths = _pair_arrays(result, members)
    if not member.any():
        raise TariffcalcError("The partner has no imports in the flows.")
    return int(lengths[result.pair_data_code_index[member]].min())


def _rates(table: pd.DataFrame, prefix: str = "") -> None:
    """Add ``<prefix>baseline_rate``, ``scenario_rate`` and ``added_rate`` from the duties (NaN without imports)."""
    value = table[f"{prefix}imports_usd"].where(table[f"{prefix}imports_usd"] > 0)
    for name in ("baseline", "scenario", "added"):
        table[f"{prefix}{name}_rate"] = table[f"{prefix}{name}_duty_usd"] / value


def product_table(result: Result, members: Iterable[str], level: int, response: Any = None) -> pd.DataFrame:
    """The partner's imports by product at ``level`` digits against all other suppliers of each product.

    One row per product the partner sells (``hs``, largest imports first) with its imports, duties and
    rates (:data:`PRODUCT_COLUMNS`): ``competitor_imports_usd`` and ``competitor_added_rate`` are the
    imports of all other partners at the same product code and their added duty ÷ those imports (blank
    when nobody else sells it); ``margin_pp`` = (competitor_added_rate − added_rate) × 100, positive when
    the partner's rivals are hit harder; ``share_of_us_imports`` = the partner's imports ÷ all imports of
    the product that are reported at least at ``level`` digits. Rows of other partners coarser than
    ``level`` cannot be assigned to a product and are left out of the competitors (:func:`coverage`).
    ``coarse_match`` is True where some of the partner's rows are coarser than a measure's product list
    (a chapter row and an HTS8 exemption): the coarse-row rule treats them as outside the list, so a duty
    or an exemption listed finer does not reach them and the partner's rate there may be off.

    With a ``response`` (:func:`tariffcalc.app.api.respond`), also :data:`RESPONSE_COLUMNS`: the partner's
    imports after the trade response, the change (USD and fraction) and its trade diversion.
    """
    member, lengths = _pair_arrays(result, members)
    key_of_code, keys = pd.factorize(
        np.array([c[:level] if len(c) >= level else "" for c in result.codes], dtype=object)
    )
    key = key_of_code[result.pair_data_code_index]
    too_coarse = lengths[result.pair_data_code_index] < level
    if (member & too_coarse).any():
        raise TariffcalcError(f"The partner has imports at codes coarser than {level} digits.")
    n = len(keys)
    columns = {
        "imports_usd": result.pair_value,
        "baseline_duty_usd": result.baseline_duty,
        "scenario_duty_usd": result.scenario_duty,
    }

    def sums(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(key[mask], weights=values[mask], minlength=n)

    rivals = ~member & ~too_coarse
    table = pd.DataFrame({"hs": np.asarray(keys, dtype=object)})
    for name, values in columns.items():
        table[name] = sums(member, values)
        table[f"competitor_{name}"] = sums(rivals, values)
    sold = np.bincount(key[member], minlength=n) > 0
    for prefix in ("", "competitor_"):
        table[f"{prefix}added_duty_usd"] = (
            table[f"{prefix}scenario_duty_usd"] - table[f"{prefix}baseline_duty_usd"]
        )
        _rates(table, prefix)
    table["margin_pp"] = (table["competitor_added_rate"] - table["added_rate"]) * 100
    coarse = result.coarse_pairs() & member
    table["coarse_match"] = sums(coarse, result.pair_value) > 0
    everyone = table["imports_usd"] + table["competitor_imports_usd"]
    table["share_of_us_imports"] = table["imports_usd"] / everyone.where(everyone > 0)
    table["description"] = hs.describe(table["hs"])
    if response is not None:
        s = response.solution
        table["imports_after_usd"] = sums(member, s.imports_after_usd)
        table["sales_change_usd"] = table["imports_after_usd"] - table["imports_usd"]
        table["sales_change"] = table["sales_change_usd"] / table["imports_usd"].where(
            table["imports_usd"] > 0
        )
        table["trade_diversion_usd"] = sums(member, s.trade_diversion_usd)
    table = table[sold].sort_values(["imports_usd", "hs"], ascending=[False, True], kind="stable")
    wanted = [*PRODUCT_COLUMNS, *(RESPONSE_COLUMNS if response is not None else ())]
    return table[wanted].reset_index(drop=True)


def partner_ranking(result: Result, partner: Partner) -> pd.DataFrame:
    """by_partner with a group's members summed into one row (the partner's code), largest added duty first,
    and ``rank_added_duty`` (1 = largest) and ``rank_scenario_rate`` (1 = highest effective rate after) among
    the partners with imports; partners with equal figures share the best rank."""
    table = result.by_partner()
    if partner.is_group:
        inside = table["partner"].isin(partner.members)
        row = {"partner": partner.code, "partner_name": partner.name}
        row |= {c: float(table.loc[inside, c].sum()) for c in MONEY}
        table = pd.concat([table[~inside], pd.DataFrame([row])], ignore_index=True)
        _rates(table)
        table[["baseline_rate", "scenario_rate", "added_rate"]] = table[
            ["baseline_rate", "scenario_rate", "added_rate"]
        ].fillna(0.0)
    table = table[table["imports_usd"] > 0].sort_values(
        ["added_duty_usd", "partner"], ascending=[False, True], kind="stable", ignore_index=True
    )
    for column in ("added_duty", "scenario_rate"):
        source = table[f"{column}_usd" if column == "added_duty" else column]
        table[f"rank_{column}"] = source.rank(method="min", ascending=False).astype(int)
    return table


def measure_table(result: Result, members: Iterable[str]) -> pd.DataFrame:
    """The partner's duty by measure (USD): ``measure``, ``authority``, ``baseline_duty_usd``,
    ``scenario_duty_usd`` and ``added_duty_usd``, measures that add nothing left out, largest first."""
    member, _ = _pair_arrays(result, members)
    value = result.pair_value[member]
    rows: dict[str, dict[str, Any]] = {}
    for schedule, column in ((result.scenario_schedule, "scenario"), (result.baseline_schedule, "baseline")):
        for m in schedule.measures:
            entry = rows.setdefault(
                m.measure.id,
                {
                    "measure": m.measure.id,
                    "authority": m.measure.authority,
                    "baseline_duty_usd": 0.0,
                    "scenario_duty_usd": 0.0,
                },
            )
            entry[f"{column}_duty_usd"] = float(np.dot(value, m.contribution[member]))
    table = pd.DataFrame(
        list(rows.values()), columns=["measure", "authority", "baseline_duty_usd", "scenario_duty_usd"]
    )
    table["added_duty_usd"] = table["scenario_duty_usd"] - table["baseline_duty_usd"]
    table = table[table["added_duty_usd"].abs() > 1e-6]
    return table.sort_values("added_duty_usd", ascending=False, kind="stable", ignore_index=True)


def coverage(result: Result, members: Iterable[str], level: int) -> dict[str, float]:
    """What the competitor figures can and cannot see at ``level``, USD: imports of other partners in the
    partner's chapters (``rivals_in_chapters_usd``) and the part of it reported coarser than ``level``
    (``rivals_coarser_usd``), which no product of the brief can include; and the partner's imports touched
    by the coarse-row rule (``coarse_match_usd``, see :func:`product_table`) and those split over the
    import mix (``coarse_split_usd``, docs/scenarios.md "Coarse rows")."""
    member, lengths = _pair_arrays(result, members)
    split = (
        np.zeros(len(member), dtype=bool)
        if result.split is None
        else result.split.was_split[result.split.origin]
    )
    chapter_of_code = np.array([c[:2] for c in result.codes], dtype=object)
    chapters = set(chapter_of_code[result.pair_data_code_index[member]])
    in_chapters = np.isin(chapter_of_code, list(chapters))[result.pair_data_code_index] & ~member
    coarse = in_chapters & (lengths[result.pair_data_code_index] < level)
    return {
        "rivals_in_chapters_usd": float(result.pair_value[in_chapters].sum()),
        "rivals_coarser_usd": float(result.pair_value[coarse].sum()),
        "coarse_match_usd": float(result.pair_value[result.coarse_pairs() & member].sum()),
        "coarse_split_usd": float(result.pair_value[split & member].sum()),
    }


def rate_history(points: Iterable[tuple[dt.date, float]]) -> pd.DataFrame:
    """The partner's average (effective) rate on each date, as a table: the rate over time of a brief.

    ``points`` are (date, rate) pairs, rates as fractions; the table has ``date`` (ISO text, sorted) and
    ``scenario_rate``, and a rate holds until the next date. :func:`brief` computes the points of a dated
    rulebook (:func:`partner_history`) or takes them as ``history=``, writes the table as rate_history.csv
    and draws it.
    """
    rows = sorted(
        (dt.date.fromisoformat(str(d)) if not isinstance(d, dt.date) else d, float(r)) for d, r in points
    )
    if not rows:
        raise TariffcalcError("A rate history needs at least one (date, rate) point.")
    dates = [d for d, _ in rows]
    if len(set(dates)) != len(dates):
        raise TariffcalcError("A rate history has one rate per date.")
    return pd.DataFrame({"date": [d.isoformat() for d in dates], "scenario_rate": [r for _, r in rows]})


def partner_history(
    result: Result, members: Iterable[str], start: dt.date, end: dt.date
) -> list[tuple[dt.date, float]]:
    """The partner's effective rate (its scenario duty ÷ its imports, fractions) under a dated rulebook
    from ``start`` to ``end`` (inclusive): a point on ``start`` and on every later day the rate changes,
    and one on ``end``. Each stretch between rule changes is priced as of its first day
    (:func:`tariffcalc.app.analysis.dated_segments`)."""
    from tariffcalc.app.analysis import dated_segments

    member, _ = _pair_arrays(result, members)
    value = result.pair_value[member]
    imports = float(value.sum())
    if imports <= 0 or end < start:
        return []
    points: list[tuple[dt.date, float]] = []
    for segment in dated_segments(result, start, end + dt.timedelta(days=1)):
        rate = float(np.dot(value, segment.result.scenario_schedule.total_rate[member])) / imports
        if not points or abs(rate - points[-1][1]) > 1e-12:
            points.append((segment.start, rate))
    if points[-1][0] < end:
        points.append((end, points[-1][1]))
    return points


# ------------------------------------------------------------------------------------------ figures


def _weighted_margin(products: pd.DataFrame) -> dict[str, float]:
    """The margin over the partner's products with competitors, weighted by the partner's imports (pp),
    and the imports where it is an advantage (> :data:`EVEN_PP`), a handicap (< −EVEN_PP) or about even."""
    known = products[products["competitor_added_rate"].notna()]
    weight = known["imports_usd"]
    total = float(weight.sum())
    return {
        "margin_pp": float((known["margin_pp"] * weight).sum() / total) if total > 0 else float("nan"),
        "competitor_added_rate": float((known["competitor_added_rate"] * weight).sum() / total)
        if total > 0
        else float("nan"),
        "covered_imports_usd": total,
        "advantage_imports_usd": float(weight[known["margin_pp"] > EVEN_PP].sum()),
        "handicap_imports_usd": float(weight[known["margin_pp"] < -EVEN_PP].sum()),
        "even_pp": EVEN_PP,
    }


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def _caveats(
    partner: Partner,
    products: pd.DataFrame,
    result: Result,
    flowset: FlowSet | None,
    level: int,
    finest: int,
    seen: dict[str, float],
    model: str | None,
) -> list[str]:
    """The data-detail and method caveats of a brief, as sentences."""
    name, owner = partner.text, partner.owner
    level_name = LEVEL_NAMES[level]
    items = []
    if finest == 2:
        items.append(
            f"The trade data have {owner} imports by HS chapter only, so every figure of this brief is at "
            "chapter level: a chapter's rate is the average over all of its goods."
        )
    elif level < finest:
        items.append(
            f"The data have {owner} imports at {finest} digits; this brief sums them to {level_name}s."
        )
    else:
        items.append(
            f"Products are {level_name}s ({level} digits), the finest level the data have for {name}."
        )
    if seen.get("coarse_split_usd", 0.0) > 0:
        items.append(
            f"{run_summary.words(seen['coarse_split_usd'])} of {owner} imports is reported coarser than HTS10 and "
            "was priced as the 2024 US import mix of the HTS10 codes under each row (the partners with HTS10 "
            "detail): goods that a measure exempts or singles out count by their share of that mix, not of "
            f'{owner} own goods (docs/scenarios.md, "Coarse rows").'
        )
    if seen["coarse_match_usd"] > 0:
        flagged = products[products["coarse_match"]].sort_values(
            "imports_usd", ascending=False, kind="stable"
        )
        named = ", ".join(
            f"{row.hs} {shorten(row.description or '', 40)}" for row in flagged.head(3).itertuples()
        )
        member, _ = _pair_arrays(result, partner.members)
        measures = sorted(m for m, mask in result.coarse_masks().items() if (mask & member).any())
        items.append(
            f"{run_summary.words(seen['coarse_match_usd'])} of {owner} imports ({len(flagged)} products, marked * "
            f"and coarse_match in products.csv; the largest: {named}) is reported at a coarser level than the "
            f"product lists of {', '.join(measures)}. The coarse-row rule treats such a row as outside a list, so "
            "a duty or an exemption listed at finer codes (Section 232 steel, Annex II exemptions) does not reach "
            f"it: {owner} rate there may be too high (a missed exemption) or too low (a missed duty), and its "
            "margin the other way round."
        )
    if seen["rivals_coarser_usd"] > 0:
        share = seen["rivals_coarser_usd"] / seen["rivals_in_chapters_usd"]
        items.append(
            f"Other suppliers' imports reported only at a coarser level than {level_name}s "
            f"({run_summary.words(seen['rivals_coarser_usd'])}, {share:.1%} of their imports in {owner} chapters) "
            "cannot be assigned to a product and are left out of the competitor rates and shares."
        )
    if flowset is not None and "method" in flowset.flows.columns:
        rows = flowset.flows[flowset.flows["partner"].isin(partner.members)]
        if (rows["method"].astype(str) == ALLOCATED_METHOD).any():
            items.append(
                "The bundled data have the EU's product detail only for the bloc as a whole; the members' "
                "HTS10 rows are allocated from it with each member's chapter shares (data/README.md), so within "
                "a chapter every member has the bloc's product mix. Only member × chapter totals are observed."
            )
    if partner.is_group:
        items.append(
            f"{_cap(name)} is one partner here: its {len(partner.members)} members on {result.as_of.isoformat()} "
            "(data/groups.csv) are summed, and its competitors are all non-members."
        )
    if model == "armington":
        chapter_note = (
            f" With chapter-level data, {owner} market in a chapter holds only the other partners reported by "
            "chapter, so substitution between it and the main (HTS10-level) suppliers is not captured."
            if finest == 2
            else ""
        )
        items.append(
            "Change in US sales: the CES Armington partial-equilibrium response (docs/model.md), one market per "
            "product code, with the scenario's parameters (manifest.json); a change in the value of US imports "
            "from the partner, not in its output." + chapter_note
        )
    items.append(
        "Static figures hold trade at its observed value: buyers do not switch suppliers, buy less or pay other "
        "prices"
        + (" (the change in US sales alone comes from the response model)" if model == "armington" else "")
        + ". Not included: retaliation; antidumping and countervailing duties; fees and excise taxes; evasion, "
        "transshipment and drawback; preferences or quotas not written as a measure of the scenario."
    )
    warnings = list(
        dict.fromkeys(
            [
                *result.scenario.warnings,
                *result.baseline.warnings,
                *result.scenario.date_warnings(result.as_of),
            ]
        )
    )
    return items + [f"Warning: {w}" for w in warnings]


def _sources(result: Result, flowset: FlowSet | None, group: bool) -> list[str]:
    """The sources a brief names: the trade data, the scenario's and baseline's documents, reference data
    (EU membership only for a group)."""
    data = run_summary.data_source(flowset) if flowset is not None else "the flows given"
    found = run_summary.sources(result)
    return [
        f"Trade data: {data[:-1]}; see data/README.md)." if data.endswith(")") else f"Trade data: {data}.",
        *[f"{doc}." for doc in found["documents"]],
        *[f"{text}." for text in found["reference_data"][1:] if group or "groups.csv" not in text],
        f"Scenario {result.scenario.name}: {result.scenario.title}; baseline {result.baseline.name}: "
        f"{result.baseline.title}. Every measure with its citation: tariffcalc scenarios show {result.scenario.name}.",
    ]


@dataclasses.dataclass(frozen=True, repr=False)
class Brief:
    """The finished brief of one partner.

    ``products`` (products.csv), ``figures`` (the headline numbers and texts as plain data, also in
    manifest.json), ``ranking`` (every partner, a group as one row), ``measures`` (the partner's duty by
    measure) and, when given, ``history`` (the partner's rate over time).
    """

    partner: Partner
    products: pd.DataFrame
    figures: Mapping[str, Any]
    ranking: pd.DataFrame
    measures: pd.DataFrame
    default_out: Path
    flowset: FlowSet | None = None
    inputs: tuple[Path, ...] = ()
    history: pd.DataFrame | None = None

    def __repr__(self) -> str:
        t = self.figures["totals"]
        return (
            f"<brief {self.partner.code} {self.figures['scenario']['name']}: {len(self.products)} products, "
            f"added duty {t['added_duty_usd']:,.0f} USD>"
        )

    @property
    def tables(self) -> Mapping[str, pd.DataFrame]:
        """The CSV tables of the folder: products and, when given, the rate history."""
        tables = {"products": self.products}
        if self.history is not None:
            tables["rate_history"] = self.history
        return MappingProxyType(tables)

    def summary_markdown(self) -> str:
        """summary.md: the headline in words, the main products and margins, caveats and sources."""
        from tariffcalc.report import brief as report

        return report.to_markdown(self.figures, self.products)

    def pdf_bytes(self, paper: str = "a4", top: int = 8) -> bytes:
        """The bytes of brief.pdf (deterministic: no dates or versions in the metadata)."""
        from tariffcalc.report import brief as report

        return report.pdf_bytes(self.figures, self.products, self.history, paper, top)

    def write(
        self,
        out: str | Path | None = None,
        force: bool = False,
        bom: bool = True,
        charts: bool = True,
        paper: str = "a4",
        top: int = 8,
    ) -> Path:
        """Write products.csv, summary.md, brief.pdf, the charts (PNG, PDF, data as CSV) and manifest.json
        into ``out`` (default :attr:`default_out`); return the folder. ``charts=False`` leaves out the charts
        and brief.pdf."""
        from tariffcalc.report import brief as report

        protect = [Path(f.path) for f in self.flowset.files] if self.flowset else []
        protect += list(self.inputs)
        figures = dict(self.figures)
        manifest = bundle.manifest(
            "brief",
            bundle.input_entries(self.flowset, self.inputs),
            parameters={"paper": paper, "top": top, "charts": charts},
            brief=_plain(figures),
        )
        files: dict[str, bytes] = {"summary.md": self.summary_markdown().encode("utf-8")}
        drawn = None
        if charts:
            made = report.charts(figures, self.products, self.history, top)
            drawn = (made, report.context(figures))
            files["brief.pdf"] = report.pdf_bytes(figures, self.products, self.history, paper, top)
        return bundle.write_bundle(
            Path(out) if out is not None else self.default_out,
            self.tables,
            manifest,
            protect=protect,
            drawn=drawn,
            force=force,
            bom=bom,
            files=files,
        )


def _plain(value: Any) -> Any:
    """JSON-ready copy of the figures (NaN → None)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _load(
    scenario: ScenarioLike, flows: FlowsLike, reading: Mapping[str, Any] | None
) -> tuple[Scenario, FlowSet]:
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if isinstance(flows, FlowSet):
        return loaded, flows
    return loaded, load_flows(list(flows or []), importer=loaded.importer, **dict(reading or {}))


def brief(
    partner: str,
    scenario: ScenarioLike = DEFAULT_SCENARIO,
    flows: FlowsLike = None,
    baseline: ScenarioLike = DEFAULT_BASELINE,
    as_of: dt.date | None = None,
    model: str | None = None,
    level: int | None = None,
    history: Iterable[tuple[dt.date, float]] | None = None,
    reading: Mapping[str, Any] | None = None,
) -> Brief:
    """The brief of ``partner`` (ISO3 code, country name or group such as ``EU``) under ``scenario``.

    ``scenario`` and ``baseline`` are bundled names or TOML paths (or loaded scenarios), evaluated on
    ``as_of`` (default: the scenario's own date). ``flows``: a :class:`FlowSet` or flow files (default: the
    bundled 2024 US imports). ``level`` (2/4/6/8/10) sums the products coarser than the finest level the
    data have for the partner (the default). ``model="armington"`` adds the change in the partner's US
    sales by product. ``history``: (date, rate) points of the partner's average rate over time, drawn in
    the brief (:func:`rate_history`); by default, when the scenario is a dated rulebook (``as_of =
    "today"``, e.g. us-tariffs), its rate on every change from 20 January 2025 to the brief's date
    (:func:`partner_history`). ``reading`` holds keyword
    arguments of :func:`load_flows` (``source``, ``column_map``, ``units``, ``strict``).
    """
    model = None if model in (None, "static") else model
    loaded, flowset = _load(scenario, flows, reading)
    result = compute(flowset, loaded, baseline, as_of=as_of)
    who = resolve_partner(partner, result.as_of)
    present = set(result.partners.astype(str))
    if not present.intersection(who.members):
        raise TariffcalcError(f"The flows have no imports from {who.name} ({who.code}).")
    finest = finest_level(result, who.members)
    if level is None:
        level = finest
    hs.check_level(level)
    if level > finest:
        raise TariffcalcError(
            f"The data have {who.name}'s imports at {finest} digits at most ({LEVEL_NAMES[finest]}s); "
            f"choose a level of {finest} or fewer digits."
        )
    response = respond(result, model)
    products = product_table(result, who.members, level, response)
    ranking = partner_ranking(result, who)
    measures = measure_table(result, who.members)
    row = ranking[ranking["partner"] == who.code].iloc[0]
    us = result.totals()
    totals = {c: float(products[c].sum()) for c in MONEY}
    totals |= {
        f"{name}_rate": totals[f"{name}_duty_usd"] / totals["imports_usd"]
        if totals["imports_usd"] > 0
        else 0.0
        for name in ("baseline", "scenario", "added")
    }
    seen = coverage(result, who.members, level)
    figures: dict[str, Any] = {
        "partner": {
            "code": who.code,
            "name": who.name,
            "text": who.text,
            "members": list(who.members),
            "group": who.is_group,
        },
        "importer": "US" if loaded.importer == "USA" else loaded.importer,
        "scenario": {"name": loaded.name, "title": loaded.title, "as_of": result.as_of.isoformat()},
        "baseline": {"name": result.baseline.name, "title": result.baseline.title},
        "model": model or "static",
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "finest_level": finest,
        "data_source": run_summary.data_source(flowset),
        "periods": sorted({str(p) for p in flowset.flows["period"].dropna().unique() if str(p)})
        if "period" in flowset.flows.columns
        else [],
        "totals": totals,
        "us_totals": us,
        "share_of_us_imports": totals["imports_usd"] / us["imports_usd"] if us["imports_usd"] else 0.0,
        "share_of_added_duty": totals["added_duty_usd"] / us["added_duty_usd"]
        if us["added_duty_usd"]
        else 0.0,
        "rank": {
            "added_duty": int(row["rank_added_duty"]),
            "scenario_rate": int(row["rank_scenario_rate"]),
            "partners": len(ranking),
        },
        "margin": _weighted_margin(products),
        "products": len(products),
        "coverage": seen,
        "measures": [
            {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in measures.to_dict("records")
        ],
        "caveats": _caveats(who, products, result, flowset, level, finest, seen, model),
        "sources": _sources(result, flowset, who.is_group),
    }
    if response is not None:
        after = float(products["imports_after_usd"].sum())
        figures["response"] = {
            "imports_after_usd": after,
            "sales_change_usd": after - totals["imports_usd"],
            "sales_change": after / totals["imports_usd"] - 1 if totals["imports_usd"] > 0 else 0.0,
            "trade_diversion_usd": float(products["trade_diversion_usd"].sum()),
            "parameters": response.parameters.describe(),
        }
    if history is None and loaded.dated and result.as_of > RULEBOOK_START:
        history = partner_history(result, who.members, RULEBOOK_START, result.as_of) or None
    table = rate_history(history) if history is not None else None
    if table is not None:
        peak = int(table["scenario_rate"].to_numpy().argmax())
        figures["history"] = {
            "from": table["date"].iloc[0],
            "to": table["date"].iloc[-1],
            "first_rate": float(table["scenario_rate"].iloc[0]),
            "last_rate": float(table["scenario_rate"].iloc[-1]),
            "peak_rate": float(table["scenario_rate"].iloc[peak]),
            "peak_date": table["date"].iloc[peak],
            "changes": int((table["scenario_rate"].diff().fillna(0.0) != 0).sum()),
            "dated": bool(loaded.dated),
        }
    inputs = tuple(p for p in (loaded.path,) if p)
    name = f"brief-{who.code}-{loaded.name}" + (f"-{as_of.isoformat()}" if as_of else "")
    return Brief(
        who,
        products,
        MappingProxyType(figures),
        ranking,
        measures,
        Path("reports") / name,
        flowset,
        inputs,
        table,
    )
