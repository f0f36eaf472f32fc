"""Dated rules over time: regime files (a bundled scenario per dated regime, e.g. ``us-2025``) and the
dates on which a dated rulebook (``us-tariffs``) changes.

A *regime file* lists ``[[regime]]`` blocks, each a scenario in force from its start date. A *dated
rulebook* is one scenario whose measures, product-list entries and stacking orders carry their own dates;
:func:`change_dates` lists every date in a period on which something in it starts or ends, so a timeline
can price each stretch between changes once and weight it by its days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from tariffcalc.errors import ScenarioError, suggest
from tariffcalc.rules.scenario import Scenario, load_scenario, read_toml


@dataclasses.dataclass(frozen=True)
class Regime:
    """A scenario in force from ``start`` until the next regime starts, evaluated as of ``as_of``."""

    start: dt.date
    scenario: Scenario
    as_of: dt.date
    source: str


@dataclasses.dataclass(frozen=True)
class Timeline:
    """Dated regimes read from a timeline file (see docs/analysis.md)."""

    title: str
    regimes: tuple[Regime, ...]
    path: Path


def load_timeline(path: str | Path) -> Timeline:
    """Read a timeline TOML file: ``title`` and ``[[regime]]`` blocks with ``start``, ``scenario``,
    ``as_of`` (optional, default ``start``) and ``source``; scenarios are bundled names or files next to
    the timeline file (never outside its folder)."""
    path = Path(path)
    if not path.is_file():
        from tariffcalc.reference import bundled

        name = path.name if path.suffix == ".toml" else f"{path.name}.toml"
        bundled_path = bundled.data_path(f"timelines/{name}")
        if not bundled_path.is_file():
            known = sorted(p.stem for p in bundled.data_path("timelines").glob("*.toml"))
            raise ScenarioError(
                f"Timeline {str(path)!r} is neither a file nor a bundled timeline ({', '.join(known)})."
                + suggest(path.stem, known)
            )
        path = bundled_path
    data = read_toml(path, "timeline file")
    unknown = set(data) - {"title", "regime"}
    if unknown:
        raise ScenarioError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; use title and [[regime]].")
    blocks = data.get("regime", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise ScenarioError(f"{path}: regimes are written as [[regime]] blocks.")
    regimes = []
    for index, block in enumerate(blocks, start=1):
        extra = set(block) - {"start", "scenario", "as_of", "source"}
        if extra or not {"start", "scenario", "source"} <= set(block):
            raise ScenarioError(
                f"{path}: regime {index} needs start, scenario and source (got {', '.join(sorted(block))})."
            )
        if not isinstance(block["start"], dt.date):
            raise ScenarioError(f"{path}: regime {index}: start must be a date written YYYY-MM-DD.")
        as_of = block.get("as_of", block["start"])
        if not isinstance(block["scenario"], str) or not isinstance(as_of, dt.date):
            raise ScenarioError(
                f"{path}: regime {index}: scenario is a name or file in quotes, as_of a date YYYY-MM-DD."
            )
        try:
            scenario = load_scenario(block["scenario"], relative_to=path.parent)
        except ScenarioError as exc:
            raise ScenarioError(f"{path}: regime {index}: {exc}") from None
        regimes.append(Regime(block["start"], scenario, as_of, str(block["source"])))
    if not regimes:
        raise ScenarioError(f"{path}: no [[regime]] blocks.")
    starts = [r.start for r in regimes]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise ScenarioError(f"{path}: regime start dates must be strictly increasing.")
    return Timeline(str(data.get("title", path.stem)), tuple(regimes), path)


def change_dates(scenario: Scenario, start: dt.date, end: dt.date) -> dict[dt.date, list[str]]:
    """Every date in ``start < day < end`` on which the scenario's rules change, with what changes.

    Changes are measures starting or ending (``effective``/``expires``), product-list entries starting or
    ending, the start of a USMCA exemption, and stacking orders starting or ending. Descriptions read
    "id starts", "id ends", "id: <list> entries" and "stacking: <citation>" (no leading sign: a
    spreadsheet must not read one as a formula).
    """
    changes: dict[dt.date, list[str]] = {}

    def add(day: dt.date | None, text: str) -> None:
        if day is not None and start < day < end and text not in changes.setdefault(day, []):
            changes[day].append(text)

    for measure in scenario.measures:
        if measure.status in ("announced", "suspended"):
            continue
        add(measure.effective, f"{measure.id} starts")
        add(measure.expires, f"{measure.id} ends")
        add(measure.usmca_exempt_from, f"{measure.id}: USMCA goods exempt")
        for entry in (*(measure.products or ()), *measure.exclude_products):
            add(entry.effective, f"{measure.id}: {entry.source} entries")
            add(entry.expires, f"{measure.id}: {entry.source} entries end")
    for block in scenario.stacking:
        add(block.effective, f"stacking: {block.citation}")
        add(block.expires, f"stacking ends: {block.citation}")
    return dict(sorted((day, texts) for day, texts in changes.items() if texts))
