"""Several scenarios at once: comparisons, sensitivity sweeps and dated timelines.

All three evaluate scenarios on the same flows and baseline, resolving the flows into distinct
(partner, product) pairs once (:meth:`tariffcalc.engine.duties.Result.with_scenario`), so a sweep of ten points
costs little more than one run. Amounts in USD, rates as fractions.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import itertools
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from tariffcalc.engine.duties import Result
from tariffcalc.errors import ScenarioError, TariffcalcError, suggest
from tariffcalc.rules.scenario import Measure, Scenario, load_scenario

COMPARED = ("scenario_duty_usd", "added_duty_usd", "scenario_rate", "added_rate")


# ------------------------------------------------------------------------------------------------ compare


def compare(first: Result, scenarios: list[Scenario], model: str | None = None) -> dict[str, pd.DataFrame]:
    """Tables by partner, by product and of totals with one column group per scenario.

    ``first`` is the result of the first scenario (its flows, baseline and level are used for all).
    With ``model="armington"`` the totals also hold each scenario's figures after the trade response
    (:data:`RESPONSE_FIGURES`: post-substitution added rate, imports and revenue after the response in USD,
    price level change, cost per household in USD a year).
    Column names are ``<scenario>.<figure>``; ``<scenario>-vs-<first>.<figure>`` hold the differences from
    the first scenario. Rows are sorted by the largest absolute difference in added duty, so the partners
    and products where the scenarios disagree most come first.
    """
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise TariffcalcError(f"Compare needs distinct scenarios; got {', '.join(names)}.")
    results = [first] + [first.with_scenario(s) for s in scenarios[1:]]
    views = {
        "by_partner": (["partner", "partner_name"], lambda r: r.by_partner()),
        "by_product": (["hs", "description"], lambda r: r.by_product()),
    }
    tables = {}
    for view, (keys, build) in views.items():
        merged = None
        for name, result in zip(names, results, strict=True):
            table = build(result)
            part = table[[*keys, "imports_usd", "baseline_duty_usd"]] if merged is None else table[keys]
            part = part.join(table[list(COMPARED)].rename(columns=lambda c, n=name: f"{n}.{c}"))
            merged = part if merged is None else merged.merge(part, on=keys, how="outer")
        tables[view] = _with_differences(merged, names)
    from tariffcalc.app.api import respond

    rows = []
    for name, result in zip(names, results, strict=True):
        row = {"scenario": name, "as_of": result.as_of.isoformat(), **result.totals()}
        response = respond(result, model)
        if response is not None:
            row |= _response_figures(response.summary())
        rows.append(row)
    tables["totals"] = pd.DataFrame(rows)
    return tables


def _with_differences(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    first = names[0]
    spread = pd.Series(0.0, index=table.index)
    for name in names[1:]:
        for figure in COMPARED:
            table[f"{name}-vs-{first}.{figure}"] = table[f"{name}.{figure}"] - table[f"{first}.{figure}"]
        spread = np.maximum(spread, table[f"{name}-vs-{first}.added_duty_usd"].abs())
    return (
        table.assign(_spread=spread)
        .sort_values("_spread", ascending=False, ignore_index=True)
        .drop(columns="_spread")
    )


# -------------------------------------------------------------------------------------------------- sweep

_PARAM = re.compile(
    r"^measure\.(?P<id>[a-z0-9-]+)\.(?P<field>rate|rates\.(?P<partner>[A-Z]{2,3})|"
    r"applies_to_share|in_baseline)$"
)


RESPONSE_FIGURES = (
    "post_substitution_added_rate",
    "imports_after_usd",
    "revenue_after_response_usd",
    "price_level_change",
    "cost_per_household_usd",
)
"""Figures a sweep adds when the response model runs (a model parameter is swept)."""


def model_parameter_names() -> list[str]:
    """The response model's numeric parameters (``import_demand_elasticity``, ``pass_through``, ...)."""
    from tariffcalc.reference.parameters import KEYS

    return [k for k in KEYS if k != "elasticities_file"]


def sweep_parameter_names(scenario: Scenario) -> list[str]:
    """Every parameter ``sweep`` accepts for ``scenario``: measures' rates, partner rates and shares, and the
    response model's parameters."""
    names = model_parameter_names()
    for m in scenario.measures:
        if m.observed:
            continue
        names += [f"measure.{m.id}.rate", f"measure.{m.id}.applies_to_share", f"measure.{m.id}.in_baseline"]
        names += [f"measure.{m.id}.rates.{p}" for p in m.rates]
    return names


def _set(scenario: Scenario, name: str, value: float) -> Scenario:
    if name in model_parameter_names():
        return dataclasses.replace(scenario, parameters={**scenario.parameters, name: value})
    match = _PARAM.match(name)
    valid = sweep_parameter_names(scenario)
    if not match or (name not in valid and not match["partner"]):
        raise ScenarioError(
            f"Unknown sweep parameter {name!r}." + suggest(name, valid) + " Valid names: " + ", ".join(valid)
        )
    measure: Measure = scenario.measure(match["id"])
    if measure.observed:
        raise ScenarioError(f"Measure {measure.id!r} uses observed rates; it has no rate to sweep.")
    if match["partner"]:
        changed = dataclasses.replace(measure, rates={**measure.rates, match["partner"]: value})
    else:
        changed = dataclasses.replace(measure, **{match["field"]: value})
    measures = tuple(changed if m.id == measure.id else m for m in scenario.measures)
    return dataclasses.replace(scenario, measures=measures)


def parse_range(text: str) -> tuple[str, np.ndarray]:
    """``NAME=START:STOP:STEPS`` → (name, evenly spaced values, endpoints included)."""
    try:
        name, spec = text.split("=", 1)
        start, stop, steps = spec.split(":")
        values = np.linspace(float(start), float(stop), int(steps))
    except ValueError:
        raise TariffcalcError(
            f"--param {text!r}: write NAME=START:STOP:STEPS, e.g. measure.x.rate=0:0.5:6."
        ) from None
    if len(values) < 1:
        raise TariffcalcError(f"--param {text!r}: STEPS must be at least 1.")
    return name.strip(), values


def current_value(scenario: Scenario, name: str) -> float | None:
    """The scenario's own value of a sweep parameter (marked as the default on charts)."""
    if name in model_parameter_names():
        from tariffcalc.reference.parameters import Parameters

        given = scenario.parameters.get(name)
        if given is not None:
            return float(given)
        try:
            return Parameters().value(name)
        except (TypeError, ValueError, KeyError):
            return None  # a per-chapter default (the import demand elasticity) has no single value
    match = _PARAM.match(name)
    if not match:
        return None
    measure = scenario.measure(match["id"])
    if match["partner"]:
        return measure.rates.get(match["partner"])
    return getattr(measure, match["field"])


def sweep(first: Result, grid: dict[str, np.ndarray], model: str | None = None) -> pd.DataFrame:
    """Headline figures at every point of the grid: tidy, one row per point and figure.

    Columns: the parameter names (one column each), ``figure`` (e.g. ``added_rate``) and ``value``.
    When a response-model parameter is swept (or ``model="armington"``), the response runs at every point
    and its figures (:data:`RESPONSE_FIGURES`) join the static ones.
    """
    from tariffcalc.app.api import respond

    if model is None and any(name in model_parameter_names() for name in grid):
        model = "armington"
    rows = []
    for point in itertools.product(*grid.values()):
        scenario = first.scenario
        for name, value in zip(grid, point, strict=True):
            scenario = _set(scenario, name, float(value))
        result = first.with_scenario(scenario, as_of=first.as_of)
        figures = result.totals()
        response = respond(result, model)
        if response is not None:
            figures |= _response_figures(response.summary())
        values = dict(zip(grid, map(float, point), strict=True))
        rows += [{**values, "figure": k, "value": v} for k, v in figures.items()]
    return pd.DataFrame(rows)


def _response_figures(summary: dict) -> dict[str, float]:
    ladder = {step["step"]: step["revenue_usd"] for step in summary["revenue_ladder"]}
    central = summary["prices"]["central"]
    return {
        "post_substitution_added_rate": summary["effective_rates"]["post_substitution_added_rate"],
        "imports_after_usd": summary["trade"]["imports_after_usd"],
        "revenue_after_response_usd": ladder["after_response"],
        "price_level_change": central["price_level_change"],
        "cost_per_household_usd": central["cost_per_household_usd"],
    }


# ----------------------------------------------------------------------------------------------- timeline


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
    ``as_of`` (optional, default ``start``) and ``source``; scenario paths are relative to the file."""
    path = Path(path)
    if not path.is_file():
        from tariffcalc.reference import bundled

        name = path.name if path.suffix == ".toml" else f"{path.name}.toml"
        bundled_path = bundled.data_path(f"timelines/{name}")
        if not bundled_path.is_file():
            known = sorted(p.stem for p in bundled.data_path("timelines").glob("*.toml"))
            raise TariffcalcError(
                f"Timeline {str(path)!r} is neither a file nor a bundled timeline ({', '.join(known)})."
                + suggest(path.stem, known)
            )
        path = bundled_path
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise TariffcalcError(f"{path}: not valid TOML: {exc}.") from None
    unknown = set(data) - {"title", "regime"}
    if unknown:
        raise TariffcalcError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))}; use title and [[regime]]."
        )
    regimes = []
    for index, block in enumerate(data.get("regime", []), start=1):
        extra = set(block) - {"start", "scenario", "as_of", "source"}
        if extra or not {"start", "scenario", "source"} <= set(block):
            raise TariffcalcError(
                f"{path}: regime {index} needs start, scenario and source (got {', '.join(sorted(block))})."
            )
        if not isinstance(block["start"], dt.date):
            raise TariffcalcError(f"{path}: regime {index}: start must be a date written YYYY-MM-DD.")
        name = str(block["scenario"])
        local = path.parent / name
        scenario = load_scenario(local if local.suffix == ".toml" and local.is_file() else name)
        regimes.append(
            Regime(block["start"], scenario, block.get("as_of", block["start"]), str(block["source"]))
        )
    if not regimes:
        raise TariffcalcError(f"{path}: no [[regime]] blocks.")
    starts = [r.start for r in regimes]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise TariffcalcError(f"{path}: regime start dates must be strictly increasing.")
    return Timeline(str(data.get("title", path.stem)), tuple(regimes), path)


def _monthly_flows(first: Result) -> dict[int, Result] | None:
    """One result per calendar month when the flows are monthly (every period ``YYYY-MM``), else None."""
    from tariffcalc.engine import duties

    periods = first.flows["period"].astype(str) if "period" in first.flows.columns else None
    if periods is None or len(periods) == 0 or not periods.str.fullmatch(r"\d{4}-\d{2}").all():
        return None
    month = periods.str[5:].astype(int).to_numpy()
    return {
        m: duties.compute(first.flows[month == m], first.scenario, first.baseline, first.as_of, first.level)
        for m in sorted(set(month))
    }


def timeline_series(first: Result, timeline: Timeline, year: int) -> pd.DataFrame:
    """Monthly added duty and effective tariff rate of ``year``, each regime weighted by its days in force.

    Annual flows (periods ``YYYY`` or none) give each month 1/12 of the annual value (the bundled 2024
    imports are annual totals). Monthly flows (every period ``YYYY-MM``) give each calendar month its own
    flows (matched by month, so 2024 monthly trade can price 2025 regimes); a month without flows has no
    imports. Days before the first regime count as the baseline (no added duty). Columns: ``month``
    (YYYY-MM), ``imports_usd``, ``added_duty_usd``, ``baseline_rate``, ``scenario_rate``, ``added_rate``,
    ``regimes`` (the regimes in force that month with their days), ``flows`` (annual ÷ 12 or monthly).
    """
    monthly = _monthly_flows(first)
    cache: dict[tuple[int, str, dt.date], float] = {}

    def added_in(month: int, regime: Regime) -> float:
        """Added duty (USD) of ``regime`` over a whole month of flows."""
        key = (month if monthly else 0, regime.scenario.name, regime.as_of)
        if key not in cache:
            if monthly is None:
                cache[key] = (
                    first.with_scenario(regime.scenario, as_of=regime.as_of).totals()["added_duty_usd"] / 12
                )
            elif month in monthly:
                cache[key] = (
                    monthly[month]
                    .with_scenario(regime.scenario, as_of=regime.as_of)
                    .totals()["added_duty_usd"]
                )
            else:
                cache[key] = 0.0
        return cache[key]

    base = first.totals()
    rows = []
    for month in range(1, 13):
        days = calendar.monthrange(year, month)[1]
        added = 0.0
        parts = []
        for day in range(1, days + 1):
            today = dt.date(year, month, day)
            current = [r for r in timeline.regimes if r.start <= today]
            if current:
                regime = current[-1]
                added += added_in(month, regime) / days
                parts.append(regime.scenario.name + "@" + regime.as_of.isoformat())
        if monthly is None:
            imports, baseline_rate = base["imports_usd"] / 12, base["baseline_rate"]
        elif month in monthly:
            totals = monthly[month].totals()
            imports, baseline_rate = totals["imports_usd"], totals["baseline_rate"]
        else:
            imports, baseline_rate = 0.0, 0.0
        added_rate = added / imports if imports else 0.0
        summary = "; ".join(f"{name} ({parts.count(name)} d)" for name in dict.fromkeys(parts))
        rows.append(
            {
                "month": f"{year}-{month:02d}",
                "imports_usd": imports,
                "added_duty_usd": added,
                "baseline_rate": baseline_rate,
                "scenario_rate": baseline_rate + added_rate,
                "added_rate": added_rate,
                "regimes": summary or "baseline",
                "flows": "annual ÷ 12" if monthly is None else "monthly",
            }
        )
    return pd.DataFrame(rows)
