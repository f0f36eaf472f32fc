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
import math
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd

from tariffcalc.engine.duties import Result
from tariffcalc.errors import ScenarioError, TariffcalcError, suggest
from tariffcalc.rules.scenario import Measure, Scenario
from tariffcalc.rules.timeline import Regime, Timeline, load_timeline  # noqa: F401 (re-exported)

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


MAX_SWEEP_POINTS = 1_000
"""Most points a sweep computes (each is a full pricing of the scenario): a 31 × 31 grid fits."""
_SHARE_FIELDS = ("applies_to_share",)


def parse_range(text: str) -> tuple[str, np.ndarray]:
    """``NAME=START:STOP:STEPS`` → (name, evenly spaced values, endpoints included)."""
    try:
        name, spec = text.split("=", 1)
        start, stop, steps = spec.split(":")
        first, last, count = float(start), float(stop), int(steps)
    except ValueError:
        raise TariffcalcError(
            f"{text!r}: write NAME=START:STOP:STEPS, e.g. measure.x.rate=0:0.5:6.", parameter="params"
        ) from None
    if not (math.isfinite(first) and math.isfinite(last)):
        raise TariffcalcError(f"{text!r}: START and STOP must be finite numbers.", parameter="params")
    if not 1 <= count <= MAX_SWEEP_POINTS:
        raise TariffcalcError(
            f"{text!r}: STEPS must be between 1 and {MAX_SWEEP_POINTS:,}, not {count:,}.", parameter="params"
        )
    return name.strip(), np.linspace(first, last, count)


def check_grid(scenario: Scenario, grid: dict[str, np.ndarray]) -> None:
    """:class:`TariffcalcError` when a sweep has more than :data:`MAX_SWEEP_POINTS` points, or a value
    outside what its parameter takes: a rate in [0, 10] (as in scenario files), a share in [0, 1], and
    every value finite. (Names are checked when the sweep sets them; model parameters by the model.)"""
    from tariffcalc.rules.scenario import MAX_RATE

    points = math.prod(len(values) for values in grid.values())
    if points > MAX_SWEEP_POINTS:
        raise TariffcalcError(
            f"the sweep has {points:,} points; at most {MAX_SWEEP_POINTS:,} are computed: use fewer steps.",
            parameter="params",
        )
    for name, values in grid.items():
        values = np.asarray(values, dtype=float)
        if not len(values) or not np.isfinite(values).all():
            raise TariffcalcError(f"{name}: the values must be finite numbers.", parameter="params")
        if len(np.unique(values)) != len(values):
            raise TariffcalcError(
                f"{name}: a value repeats ({', '.join(f'{v:g}' for v in values[:4])}…); give distinct values "
                "(START different from STOP, or STEPS = 1).",
                parameter="params",
            )
        match = _PARAM.match(name)
        if match is None:
            continue
        low, high = (0.0, 1.0) if match["field"] in _SHARE_FIELDS else (0.0, MAX_RATE)
        outside = values[(values < low) | (values > high)]
        if len(outside):
            kind = "a share" if high == 1.0 else "a rate (a fraction: 0.25 = 25 %)"
            raise TariffcalcError(
                f"{name} = {outside[0]:g} is outside [{low:g}, {high:g}]: the value is {kind}.",
                parameter="params",
            )


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

    check_grid(first.scenario, grid)
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


def _monthly_flows(first: Result) -> dict[int, Result] | None:
    """One result per calendar month when the flows are monthly (every period ``YYYY-MM``), else None."""
    from tariffcalc.engine import duties

    periods = first.flows["period"].astype(str) if "period" in first.flows.columns else None
    if periods is None or len(periods) == 0 or not periods.str.fullmatch(r"\d{4}-\d{2}").all():
        return None
    month = periods.str[5:].astype(int).to_numpy()
    return {
        m: duties.compute(
            first.flows[month == m],
            first.scenario,
            first.baseline,
            first.as_of,
            first.level,
            split_coarse=first.split_coarse,
        )
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


# ---------------------------------------------------------------------------------- dated rulebooks

IEEPA_END = dt.date(2026, 2, 24)
"""First day no IEEPA duty was collected: CBP CSMS #67834313 after Learning Resources v. Trump (20 Feb 2026)."""


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of days ``start`` ≤ day < ``end`` over which a dated rulebook does not change (and which
    stays within one calendar month), priced as of ``start``."""

    start: dt.date
    end: dt.date
    result: Result
    changes: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def year_share(self) -> float:
        """The segment's share of a year of the (annual) flows."""
        return self.days / (366 if calendar.isleap(self.start.year) else 365)


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    out, day = [], dt.date(start.year, start.month, 1)
    while day < end:
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if start < day < end:
            out.append(day)
    return out


def dated_segments(first: Result, start: dt.date, end: dt.date) -> Iterator[Segment]:
    """Cut ``start`` ≤ day < ``end`` at every change of ``first.scenario``'s rules and at month starts, and
    price each piece as of its first day (reusing the previous piece's rates when only the month changed
    and no rule depends on the month).

    A generator: each piece's rates (arrays over every pair, for every measure) are dropped once the
    caller moves on, so memory stays that of one piece however long the period (a list of the ~100
    pieces of 2025-26 on the bundled data would hold about 20 GB)."""
    from tariffcalc.rules.timeline import change_dates

    if end <= start:
        raise TariffcalcError(f"The period must end after it starts ({start} → {end}).")
    scenario = first.scenario
    changes = change_dates(scenario, start, end)
    monthly_rules = any(m.usmca_exempt for m in scenario.measures)
    cuts = sorted({start, end, *changes, *_month_starts(start, end)})
    previous: Result | None = None
    for day, stop in itertools.pairwise(cuts):
        if previous is None or day in changes or monthly_rules:
            previous = None  # release the last piece's arrays before pricing the next
            previous = first.with_scenario(scenario, as_of=day)
        yield Segment(day, stop, previous, tuple(changes.get(day, ())))


def _ieepa_pair_rate(result: Result) -> np.ndarray:
    """What the IEEPA measures in force add to each pair's rate (fraction)."""
    rate = np.zeros(len(result.pair_value))
    for measure in result.scenario_schedule.measures:
        if measure.active and measure.measure.basis == "IEEPA":
            rate += measure.contribution
    return rate


def dated_series(first: Result, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    """A dated rulebook over ``start`` ≤ day < ``end``, day-weighted, on annual flows.

    ``regimes``: one row per stretch between rule changes (``start``, ``end`` exclusive, ``days``, what
    changed, imports and duties over the stretch in USD, rates as fractions, and the IEEPA duty);
    ``monthly``: the same summed by calendar month. Each day carries 1/365 (1/366 in a leap year) of the
    annual flows, so a stretch's duty is its annual duty × days ÷ days in the year.
    """
    rows = []
    for segment in dated_segments(first, start, end):
        totals = segment.result.totals()
        ieepa = float(np.dot(segment.result.pair_value, _ieepa_pair_rate(segment.result)))
        rows.append(
            {
                "start": segment.start.isoformat(),
                "end": segment.end.isoformat(),
                "days": segment.days,
                "changes": "; ".join(segment.changes),
                "imports_usd": totals["imports_usd"] * segment.year_share,
                "baseline_duty_usd": totals["baseline_duty_usd"] * segment.year_share,
                "scenario_duty_usd": totals["scenario_duty_usd"] * segment.year_share,
                "added_duty_usd": totals["added_duty_usd"] * segment.year_share,
                "ieepa_duty_usd": ieepa * segment.year_share,
                "baseline_rate": totals["baseline_rate"],
                "scenario_rate": totals["scenario_rate"],
                "added_rate": totals["added_rate"],
            }
        )
    regimes = pd.DataFrame(rows)
    money = ["imports_usd", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd", "ieepa_duty_usd"]
    monthly = regimes.assign(month=regimes["start"].str[:7]).groupby("month", sort=True)
    table = monthly[money].sum()
    table["days"] = monthly["days"].sum()
    table["regimes"] = monthly["start"].count()
    for name in ("baseline", "scenario", "added"):
        table[f"{name}_rate"] = table[f"{name}_duty_usd"] / table["imports_usd"]
    monthly_table = table.reset_index()[
        ["month", "days", *money, "baseline_rate", "scenario_rate", "added_rate", "regimes"]
    ]
    return {"regimes": regimes, "monthly": monthly_table}


def ieepa_refunds(first: Result, start: dt.date, end: dt.date = IEEPA_END) -> dict[str, pd.DataFrame]:
    """IEEPA duties a static estimate says were owed on entries ``start`` ≤ day < ``end`` (at most to
    24 February 2026, when collection ended): the refund exposure after Learning Resources v. Trump.

    Tables (USD, on annual flows day-weighted as :func:`dated_series`): ``by_partner``, ``by_product``
    (at ``first.level`` digits), ``by_measure`` and ``totals`` (one row). Trade is held at its observed
    2024 value (no response) and every entry is assumed to have paid what the law said, so the figure is an
    upper bound of what was collected (see docs/validation.md for the comparison with CBP's figures).
    """
    end = min(end, IEEPA_END)
    pair_duty = np.zeros(len(first.pair_value))
    by_measure: dict[str, dict[str, object]] = {}
    years = 0.0  # the period's length in years of flows
    for segment in dated_segments(first, start, end):
        years += segment.year_share
        result = segment.result
        for measure in result.scenario_schedule.measures:
            if not (measure.active and measure.measure.basis == "IEEPA"):
                continue
            duty = result.pair_value * measure.contribution * segment.year_share
            pair_duty += duty
            entry = by_measure.setdefault(
                measure.measure.id,
                {
                    "measure": measure.measure.id,
                    "authority": measure.measure.authority,
                    "citation": measure.measure.citation,
                    "ieepa_duty_usd": 0.0,
                },
            )
            entry["ieepa_duty_usd"] = float(entry["ieepa_duty_usd"]) + float(duty.sum())
    from tariffcalc.reference import countries, hs

    partners = first.pair_partner
    level_index, levels = first.product_levels()
    by_partner = (
        pd.DataFrame({"partner": partners, "ieepa_duty_usd": pair_duty})
        .groupby("partner", as_index=False)["ieepa_duty_usd"]
        .sum()
    )
    by_partner.insert(1, "partner_name", by_partner["partner"].map(countries.partner_name))
    by_product = pd.DataFrame(
        {"hs": levels, "ieepa_duty_usd": np.bincount(level_index, weights=pair_duty, minlength=len(levels))}
    )
    by_product.insert(1, "description", [hs.description(code) for code in by_product["hs"]])
    totals = pd.DataFrame(
        [
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "days": (end - start).days,
                "ieepa_duty_usd": float(pair_duty.sum()),
                "imports_usd": float(first.pair_value.sum()) * years,
            }
        ]
    )
    order = {"ascending": False, "ignore_index": True}
    return {
        "totals": totals,
        "by_partner": by_partner.sort_values("ieepa_duty_usd", **order),
        "by_product": by_product[by_product["ieepa_duty_usd"] != 0].sort_values("ieepa_duty_usd", **order),
        "by_measure": pd.DataFrame(
            list(by_measure.values()), columns=["measure", "authority", "citation", "ieepa_duty_usd"]
        ).sort_values("ieepa_duty_usd", **order),
    }
