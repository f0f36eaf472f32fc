"""Analyses of several scenarios as library calls: ``compare``, ``sweep``, ``timeline`` and ``gsim``.

Each function loads what it needs, computes, and returns a :class:`Study`: an immutable result holding
its tables (pandas DataFrames; USD amounts, rates as fractions), what its manifest records, and how to
draw its charts. ``study.write(out)`` writes the folder through the one bundle writer
(:mod:`tariffcalc.report.bundle`). The command line only parses options, calls these, and prints.

>>> import tariffcalc
>>> study = tariffcalc.compare(["liberation-day", "pause-90-day"])
>>> study.tables["totals"]
>>> study.write("reports/compare")
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from tariffcalc.app import analysis
from tariffcalc.app.api import DEFAULT_BASELINE, DEFAULT_SCENARIO, compute
from tariffcalc.engine.duties import Result
from tariffcalc.errors import InvalidArgument, TariffcalcError
from tariffcalc.read.flows import FlowSet, load_flows
from tariffcalc.report import bundle
from tariffcalc.rules.scenario import Scenario, load_scenario

ScenarioLike = str | Path | Scenario
FlowsLike = FlowSet | Sequence[str | Path] | None


@dataclasses.dataclass(frozen=True, repr=False)
class Study:
    """The finished result of an analysis command.

    ``tables`` maps a table name to its DataFrame (written as ``<name>.csv``); ``manifest`` holds what the
    command was asked (scenarios, grid, regimes …); ``default_out`` is where the CLI writes by default.
    """

    command: str
    tables: Mapping[str, pd.DataFrame]
    manifest: Mapping[str, Any]
    default_out: Path
    flowset: FlowSet | None = None
    inputs: tuple[Path, ...] = ()
    draw: Callable[[], tuple[list, Any]] | None = None
    text: str = ""

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name} {t.shape[0]}×{t.shape[1]}" for name, t in self.tables.items())
        return f"<{self.command} study: {shapes}>"

    def write(
        self, out: str | Path | None = None, force: bool = False, bom: bool = True, charts: bool = True
    ) -> Path:
        """Write the tables as CSV, the charts (unless ``charts`` is False) and manifest.json into ``out``
        (default :attr:`default_out`); return the folder."""
        protect = [Path(f.path) for f in self.flowset.files] if self.flowset else []
        protect += list(self.inputs)
        manifest = bundle.manifest(
            self.command, bundle.input_entries(self.flowset, self.inputs), **dict(self.manifest)
        )
        drawn = self.draw() if (charts and self.draw is not None) else None
        return bundle.write_bundle(
            Path(out) if out is not None else self.default_out,
            self.tables,
            manifest,
            protect=protect,
            drawn=drawn,
            force=force,
            bom=bom,
        )


def _warnings(*scenarios: Scenario | None) -> list[str]:
    """The load-time warnings of ``scenarios`` (a rate above 100 %, in_baseline above the rate), once each."""
    return list(dict.fromkeys(w for s in scenarios if s is not None for w in s.warnings))


def _frozen(tables: dict[str, pd.DataFrame]) -> Mapping[str, pd.DataFrame]:
    return MappingProxyType(dict(tables))


def _scenario(value: ScenarioLike) -> Scenario:
    return value if isinstance(value, Scenario) else load_scenario(value)


def _first_result(
    scenario: ScenarioLike, flows: FlowsLike, baseline: ScenarioLike, level: int = 2
) -> tuple[Result, FlowSet]:
    """Load the flows (unless given as a FlowSet) and compute the first scenario; the others reuse its
    distinct pairs and baseline."""
    first = _scenario(scenario)
    flowset = flows if isinstance(flows, FlowSet) else load_flows(list(flows or []), importer=first.importer)
    return compute(flowset, first, baseline, level=level), flowset


def compare(
    scenarios: Sequence[ScenarioLike],
    flows: FlowsLike = None,
    baseline: ScenarioLike = DEFAULT_BASELINE,
    level: int = 2,
    model: str | None = None,
) -> Study:
    """Compare ``scenarios`` on the same flows and baseline, with differences from the first one.

    Tables ``compare_totals``, ``compare_by_partner``, ``compare_by_product`` (see
    :func:`tariffcalc.app.analysis.compare`); charts compare_headline and compare_differ_by_partner/product.
    ``model="armington"`` adds the figures after the trade response to the totals.
    """
    if len(scenarios) < 2:
        raise TariffcalcError("Give at least two scenarios to compare.")
    loaded = [_scenario(s) for s in scenarios]
    first, flowset = _first_result(loaded[0], flows, baseline, level)
    model = None if model == "static" else model
    tables = analysis.compare(first, [first.scenario, *loaded[1:]], model)
    names = [s.name for s in loaded]

    def draw() -> tuple[list, Any]:
        from tariffcalc.report import analysis_charts

        ctx = analysis_charts.context(first, flowset, "Scenario files " + ", ".join(names))
        titles = {s.name: s.title for s in [first.scenario, *loaded[1:]]}
        return [
            analysis_charts.compare_headline_chart(tables["totals"], ctx, titles),
            analysis_charts.compare_difference_chart(
                tables["by_partner"], "by_partner", names, ctx, titles=titles
            ),
            analysis_charts.compare_difference_chart(
                tables["by_product"], "by_product", names, ctx, titles=titles
            ),
        ], ctx

    return Study(
        "compare",
        _frozen({f"compare_{k}": v for k, v in tables.items()}),
        {
            "scenarios": names,
            "baseline": first.baseline.name,
            "level": level,
            "model": model or "static",
            "warnings": _warnings(first.baseline, *loaded),
        },
        Path("reports") / ("compare-" + "-".join(names)),
        flowset,
        tuple(s.path for s in loaded if s.path),
        draw,
    )


def sweep(
    scenario: ScenarioLike = DEFAULT_SCENARIO,
    params: Sequence[str] | Mapping[str, Sequence[float]] = (),
    flows: FlowsLike = None,
    baseline: ScenarioLike = DEFAULT_BASELINE,
) -> Study:
    """Sensitivity of ``scenario``'s headline figures to one or two parameters.

    ``params`` are ``"NAME=START:STOP:STEPS"`` texts or a mapping of name → values. Table ``sweep`` (tidy:
    one row per grid point and figure); chart sweep_headline (one parameter) or sweep_grid (two). The
    default folder is named after the scenario and the grid (:func:`grid_name`), so sweeps of different
    grids do not replace each other.
    """
    if isinstance(params, Mapping):
        grid = {name: np.asarray(values, dtype=float) for name, values in params.items()}
    else:
        grid = dict(analysis.parse_range(p) for p in params)
    if not 1 <= len(grid) <= 2:
        raise TariffcalcError("Sweep one parameter (a line) or two (a grid).", parameter="params")
    scenario = _scenario(scenario)
    analysis.check_grid(scenario, grid)
    first, flowset = _first_result(scenario, flows, baseline)
    table = analysis.sweep(first, grid)
    defaults = {name: analysis.current_value(first.scenario, name) for name in grid}
    responds = bool(table["figure"].isin(analysis.RESPONSE_FIGURES).any())

    def draw() -> tuple[list, Any]:
        from tariffcalc.report import analysis_charts

        ctx = analysis_charts.context(
            first,
            flowset,
            f"Scenario file {first.scenario.name}",
            "armington" if responds else None,
            title=first.scenario.title,
        )
        chart = analysis_charts.sweep_chart(table, list(grid), list(defaults.values()), ctx, first.scenario)
        return [chart], ctx

    return Study(
        "sweep",
        _frozen({"sweep": table}),
        {
            "scenario": first.scenario.name,
            "grid": {k: list(map(float, v)) for k, v in grid.items()},
            "defaults": defaults,
            "warnings": _warnings(first.scenario, first.baseline),
        },
        Path("reports") / f"sweep-{first.scenario.name}-{grid_name(grid)}",
        flowset,
        (first.scenario.path,) if first.scenario.path else (),
        draw,
    )


def grid_name(grid: Mapping[str, Sequence[float]]) -> str:
    """A sweep's grid in a folder name, so each grid gets its own default folder:
    ``import_demand_elasticity-0.5-3-6`` (parameter, first and last value, points), two joined by ``_x_``."""
    parts = []
    for name, values in grid.items():
        values = list(values)
        parts.append(f"{name}-{values[0]:g}-{values[-1]:g}-{len(values)}" if values else name)
    return "_x_".join(parts)


def _is_regime_file(name: str | Path) -> bool:
    """Whether ``name`` is a regime file (a bundled timeline such as us-2025, or a TOML file with
    ``[[regime]]`` blocks) rather than a dated scenario such as us-tariffs."""
    import tomllib

    from tariffcalc.reference import bundled

    path = Path(name)
    try:
        if path.is_file():
            return "regime" in tomllib.loads(path.read_text(encoding="utf-8-sig"))
        stem = path.name.removesuffix(".toml")
        return bool(stem) and bundled.data_path(f"timelines/{stem}.toml").is_file()
    except (OSError, ValueError, RecursionError):  # loading it as a scenario then says what is wrong
        return False


def timeline(
    timeline_file: str | Path,
    year: int = 2025,
    flows: FlowsLike = None,
    baseline: ScenarioLike = DEFAULT_BASELINE,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Study:
    """Added duty and effective rate over time, day-weighted.

    A dated rulebook (``us-tariffs``, or any scenario whose measures carry dates) is priced on every
    stretch between rule changes from ``start`` (default 20 January 2025) to ``end`` (exclusive; default
    today): tables ``timeline`` (by month) and ``timeline_regimes`` (by stretch, with what changed), chart
    timeline_dated marking each change. A regime file (``us-2025``) is priced month by month over
    ``year``: table ``timeline`` (:func:`tariffcalc.app.analysis.timeline_series`), chart timeline_monthly.
    """
    if not 1900 <= year <= 2100:
        raise InvalidArgument(
            f"{year} is not a year to price; give a calendar year such as 2025.", parameter="year"
        )
    if not _is_regime_file(timeline_file):
        return _dated_timeline(timeline_file, flows, baseline, start, end)
    if start is not None or end is not None:
        raise TariffcalcError(
            f"{timeline_file} is a file of regimes priced over a calendar year: give the year, not a period."
        )
    plan = analysis.load_timeline(timeline_file)
    first_regime = plan.regimes[0].scenario
    first, flowset = _first_result(first_regime.path or first_regime.name, flows, baseline)
    table = analysis.timeline_series(first, plan, year)
    regimes = [
        {
            "start": r.start.isoformat(),
            "scenario": r.scenario.name,
            "as_of": r.as_of.isoformat(),
            "source": r.source,
        }
        for r in plan.regimes
    ]

    def draw() -> tuple[list, Any]:
        from tariffcalc.report import analysis_charts

        ctx = analysis_charts.context(first, flowset, plan.title)
        return [analysis_charts.timeline_chart(table, plan.title, year, len(plan.regimes), ctx)], ctx

    return Study(
        "timeline",
        _frozen({"timeline": table}),
        {
            "title": plan.title,
            "year": year,
            "regimes": regimes,
            "warnings": _warnings(first.baseline, *(r.scenario for r in plan.regimes)),
        },
        Path("reports") / f"timeline-{year}",
        flowset,
        (plan.path,) if plan.path else (),
        draw,
    )


RULEBOOK_START = dt.date(2025, 1, 20)
"""Default start of a dated timeline: the first day of the 2025 administration."""


def _dated_timeline(
    name: ScenarioLike, flows: FlowsLike, baseline: ScenarioLike, start: dt.date | None, end: dt.date | None
) -> Study:
    scenario = _scenario(name)
    start = start or RULEBOOK_START
    end = end or dt.date.today()
    first, flowset = _first_result(scenario, flows, baseline)
    series = analysis.dated_series(first, start, end)
    warnings = _warnings(scenario, first.baseline) + list(scenario.date_warnings(end - dt.timedelta(days=1)))

    def draw() -> tuple[list, Any]:
        from tariffcalc.report import analysis_charts

        ctx = analysis_charts.context(first, flowset, scenario.title)
        return [analysis_charts.dated_timeline_chart(series["regimes"], scenario.title, ctx)], ctx

    return Study(
        "timeline",
        _frozen({"timeline": series["monthly"], "timeline_regimes": series["regimes"]}),
        {
            "scenario": scenario.name,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "baseline": first.baseline.name,
            "warnings": warnings,
        },
        Path("reports") / f"timeline-{scenario.name}",
        flowset,
        (scenario.path,) if scenario.path else (),
        draw,
    )


def refunds(
    scenario: ScenarioLike = "us-tariffs",
    flows: FlowsLike = None,
    baseline: ScenarioLike = DEFAULT_BASELINE,
    start: dt.date | None = None,
    end: dt.date | None = None,
    level: int = 2,
) -> Study:
    """The IEEPA duties a static estimate says were owed from ``start`` (default 20 January 2025) to
    ``end`` (default and at most 24 February 2026, when collection ended) by partner and product: the
    refund exposure after Learning Resources v. Trump (:func:`tariffcalc.app.analysis.ieepa_refunds`).
    Tables ``refunds_totals``, ``refunds_by_partner``, ``refunds_by_product``, ``refunds_by_measure``."""
    scenario = _scenario(scenario)
    start = start or RULEBOOK_START
    first, flowset = _first_result(scenario, flows, baseline, level)
    tables = analysis.ieepa_refunds(first, start, end or analysis.IEEPA_END)
    return Study(
        "refunds",
        _frozen({f"refunds_{k}": v for k, v in tables.items()}),
        {
            "scenario": scenario.name,
            "from": start.isoformat(),
            "to": tables["totals"]["to"].iloc[0],
            "level": level,
            "warnings": _warnings(scenario, first.baseline),
        },
        Path("reports") / f"refunds-{scenario.name}",
        flowset,
        (scenario.path,) if scenario.path else (),
        None,
    )


def gsim(
    scenario: ScenarioLike | None = None,
    baseline: ScenarioLike = DEFAULT_BASELINE,
    retaliation: str = "none",
    parameters: Any = None,
    matrices: Sequence[str | Path] | None = None,
) -> Study:
    """The Global Simulation Model (Francois and Hall 2003) as a study.

    Either ``matrices`` = (flows, tariff_before, tariff_after) CSV files (first column exporters, header
    importers), or the bundled US mode: the US and its partners, one market per HS chapter, for
    ``scenario`` (default liberation-day) with ``retaliation`` "none" or "mirror". Tables ``welfare``,
    ``welfare_by_product`` and ``flows``; ``study.text`` is the terminal summary and
    ``study.manifest["warnings"]`` the model's warnings.
    """
    from tariffcalc.models import gsim as model
    from tariffcalc.reference import countries
    from tariffcalc.reference.parameters import Parameters

    parameters = parameters or Parameters()
    if matrices:
        if len(matrices) != 3:
            raise TariffcalcError("GSIM needs three matrix files: flows, tariffs before, tariffs after.")
        if scenario is not None or retaliation != "none":
            raise TariffcalcError("A scenario and retaliation are for the bundled US mode, not matrix files.")
        result = model.solve_files(*matrices, parameters)
        inputs = tuple(Path(p) for p in matrices)
        warnings = []
    else:
        static = compute(None, scenario or DEFAULT_SCENARIO, baseline)
        result = model.us_markets(static, retaliation, parameters)
        inputs = tuple(p for p in (static.scenario.path, static.baseline.path) if p)
        warnings = _warnings(static.scenario, static.baseline)
    welfare = result.welfare.reset_index()
    welfare.insert(1, "country_name", welfare["country"].map(countries.partner_name))
    return Study(
        "gsim",
        _frozen(
            {
                "welfare": welfare,
                "welfare_by_product": result.welfare_by_product(),
                "flows": result.bilateral(),
            }
        ),
        {
            "parameters": parameters.describe(),
            "max_market_clearing_residual": result.max_residual,
            "warnings": warnings + list(result.warnings),
        },
        Path("reports") / "gsim",
        None,
        inputs,
        None,
        model.to_text(result),
    )
