"""Commands that analyse several scenarios: ``compare``, ``sweep``, ``timeline`` and ``reciprocal``.

Each command parses its options, calls one library function (tariffcalc.analysis, tariffcalc.reciprocal)
and writes or prints the result, like ``cli.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

_FLOWS = click.option(
    "--flows",
    "flow_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Flow file(s), CSV or Parquet. Default: bundled 2024 US imports.",
)
_BASELINE = click.option(
    "--baseline", default="baseline-2024", show_default=True, help="Scenario to compare against."
)
_QUIET = click.option("--quiet", is_flag=True, help="Print nothing but errors.")


def _first_result(scenario, flow_paths, baseline, level: int = 2):
    """Load flows and compute the first scenario; the others reuse its pairs and baseline."""
    from tariffcalc import api
    from tariffcalc.flows import load_flows
    from tariffcalc.scenario import load_scenario

    first = load_scenario(scenario)
    flowset = load_flows(list(flow_paths), importer=first.importer)
    return api.compute(flowset, first, baseline, level=level), flowset


def _write(out: Path, tables: dict, manifest: dict, flowset, drawn: tuple | None = None) -> Path:
    """Write ``tables`` (name → DataFrame) as CSV into ``out`` with a manifest.json of the inputs, and
    ``drawn`` = (charts, context) next to them (PNG, PDF and each chart's data as CSV)."""
    from tariffcalc import __version__
    from tariffcalc.report.files import MANIFEST, prepare_output_dir, write_json
    from tariffcalc.report.tables import write_csv

    inputs = [Path(f.path) for f in flowset.files]
    folder = prepare_output_dir(out, inputs)
    for name, table in tables.items():
        write_csv(table, folder / f"{name}.csv")
    if drawn is not None:
        from tariffcalc.report import charts

        charts.write(*drawn, folder)
    inputs_info = [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in flowset.files]
    write_json(
        folder / MANIFEST, {"tool": "tariffcalc", "version": __version__, "inputs": inputs_info, **manifest}
    )
    return folder


@click.command()
@click.argument("scenarios", nargs=-1, required=True)
@_FLOWS
@_BASELINE
@click.option(
    "--level",
    type=click.Choice(["2", "4", "6", "8", "10"]),
    default="2",
    show_default=True,
    help="HS digits of the product table.",
)
@click.option(
    "--model",
    type=click.Choice(["static", "armington"]),
    default="static",
    show_default=True,
    help="armington: also the figures after the trade response (compare_totals.csv).",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Default: reports/compare-<names>."
)
@_QUIET
def compare(scenarios, flow_paths, baseline, level, model, out, quiet) -> None:
    """Compare SCENARIOS on the same flows and baseline (differences from the first one).

    Writes compare_totals.csv, compare_by_partner.csv and compare_by_product.csv, and the charts
    compare_headline, compare_differ_by_partner and compare_differ_by_product (PNG, PDF and their data as CSV).
    """
    from tariffcalc import analysis
    from tariffcalc.report import analysis_charts
    from tariffcalc.scenario import load_scenario

    if len(scenarios) < 2:
        raise click.UsageError("Give at least two scenarios to compare.")
    first, flowset = _first_result(scenarios[0], flow_paths, baseline, int(level))
    model = None if model == "static" else model
    tables = analysis.compare(first, [first.scenario] + [load_scenario(s) for s in scenarios[1:]], model)
    names = [first.scenario.name] + [load_scenario(s).name for s in scenarios[1:]]
    out = out or Path("reports") / ("compare-" + "-".join(names))
    ctx = analysis_charts.context(first, flowset, "Scenarios " + ", ".join(names))
    drawn = [
        analysis_charts.compare_headline_chart(tables["totals"], ctx),
        analysis_charts.compare_difference_chart(tables["by_partner"], "by_partner", names, ctx),
        analysis_charts.compare_difference_chart(tables["by_product"], "by_product", names, ctx),
    ]
    folder = _write(
        out,
        {f"compare_{k}": v for k, v in tables.items()},
        {
            "command": "compare",
            "scenarios": names,
            "baseline": str(baseline),
            "level": int(level),
            "model": model or "static",
        },
        flowset,
        (drawn, ctx),
    )
    if not quiet:
        shown = ["scenario", "as_of", "added_duty_usd", "baseline_rate", "scenario_rate", "added_rate"]
        shown += [c for c in analysis.RESPONSE_FIGURES if c in tables["totals"]]
        totals = tables["totals"][shown]
        _emit(totals, "table", None, "")
        click.echo(f"\nWrote {folder}/")


@click.command()
@click.argument("scenario")
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    help="NAME=START:STOP:STEPS, e.g. measure.ieepa-reciprocal-baseline.rate=0:0.3:7 (one or two).",
)
@_FLOWS
@_BASELINE
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Default: reports/sweep-<scenario>."
)
@_QUIET
def sweep(scenario, params, flow_paths, baseline, out, quiet) -> None:
    """Sensitivity of SCENARIO's headline figures to one or two parameters (a tidy sweep.csv).

    Also writes the chart sweep_headline (one parameter: lines) or sweep_grid (two: a heat map of the added
    duty) as PNG, PDF and its data as CSV, with the scenario's own value marked.
    """
    from tariffcalc import analysis
    from tariffcalc.report import analysis_charts

    if len(params) > 2:
        raise click.UsageError("Sweep one parameter (a line) or two (a grid), not more.")
    grid = dict(analysis.parse_range(p) for p in params)
    first, flowset = _first_result(scenario, flow_paths, baseline)
    table = analysis.sweep(first, grid)
    out = out or Path("reports") / f"sweep-{first.scenario.name}"
    defaults = {name: analysis.current_value(first.scenario, name) for name in grid}
    ctx = analysis_charts.context(
        first, flowset, first.scenario.name, "armington" if _responds(table) else None
    )
    chart = analysis_charts.sweep_chart(table, list(grid), list(defaults.values()), ctx)
    folder = _write(
        out,
        {"sweep": table},
        {
            "command": "sweep",
            "scenario": first.scenario.name,
            "grid": {k: list(map(float, v)) for k, v in grid.items()},
            "defaults": defaults,
        },
        flowset,
        ([chart], ctx),
    )
    if not quiet:
        wide = table.pivot_table(index=list(grid), columns="figure", values="value").reset_index()
        shown = [
            c
            for c in (
                "added_duty_usd",
                "added_rate",
                "post_substitution_added_rate",
                "revenue_after_response_usd",
                "cost_per_household_usd",
            )
            if c in wide.columns
        ]
        _emit(wide[[*grid, *shown]], "table", None, "")
        click.echo(f"\nWrote {folder}/")


def _responds(table) -> bool:
    """Whether a sweep ran the response model (its table has the response figures)."""
    from tariffcalc import analysis

    return bool(table["figure"].isin(analysis.RESPONSE_FIGURES).any())


@click.command()
@click.argument("timeline_file")
@click.option(
    "--year", type=int, default=2025, show_default=True, help="Calendar year of the monthly series."
)
@_FLOWS
@_BASELINE
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Default: reports/timeline-<year>."
)
@_QUIET
def timeline(timeline_file, year, flow_paths, baseline, out, quiet) -> None:
    """Monthly added duty and effective rate of TIMELINE_FILE's dated regimes (bundled: us-2025).

    Writes timeline.csv and the chart timeline_monthly (PNG, PDF, data as CSV).
    """
    from tariffcalc import analysis
    from tariffcalc.report import analysis_charts

    plan = analysis.load_timeline(timeline_file)
    first, flowset = _first_result(
        plan.regimes[0].scenario.path or plan.regimes[0].scenario.name, flow_paths, baseline
    )
    table = analysis.timeline_series(first, plan, year)
    out = out or Path("reports") / f"timeline-{year}"
    regimes = [
        {
            "start": r.start.isoformat(),
            "scenario": r.scenario.name,
            "as_of": r.as_of.isoformat(),
            "source": r.source,
        }
        for r in plan.regimes
    ]
    ctx = analysis_charts.context(first, flowset, plan.title)
    chart = analysis_charts.timeline_chart(table, plan.title, year, len(plan.regimes), ctx)
    folder = _write(
        out,
        {"timeline": table},
        {"command": "timeline", "title": plan.title, "year": year, "regimes": regimes},
        flowset,
        ([chart], ctx),
    )
    if not quiet:
        _emit(table[["month", "added_duty_usd", "scenario_rate", "added_rate"]], "table", None, "")
        click.echo(f"\nWrote {folder}/")


def _emit(table, fmt: str, out: Path | None, filename: str) -> None:
    """Print ``table`` as a text table, CSV or JSON; with ``out`` also write ``out/filename`` as CSV."""
    from tariffcalc.report.files import prepare_output_dir
    from tariffcalc.report.tables import to_csv_text, write_csv

    if out is not None:
        folder = prepare_output_dir(out, inputs=[])
        write_csv(table, folder / filename)
        click.echo(f"Wrote {folder / filename}", err=True)
    if fmt == "csv":
        click.echo(to_csv_text(table), nl=False)
    elif fmt == "json":
        click.echo(table.to_json(orient="records", indent=2, force_ascii=False))
    else:
        shown = table.copy()
        for column in shown.columns:
            if column.endswith("_rate") or column == "difference":
                shown[column] = shown[column].map(lambda x: "" if x != x else f"{x:.1%}")
            elif column == "cost_per_household_usd":
                shown[column] = shown[column].map(lambda x: f"{x:,.0f}")
            elif column.endswith("_usd"):
                shown[column] = shown[column].map(lambda x: f"{x / 1e9:,.2f}")
        renamed = {c: c.replace("_usd", "_bn") for c in shown.columns if c != "cost_per_household_usd"}
        click.echo(shown.rename(columns=renamed).to_string(index=False))


@click.command()
@click.option(
    "--year",
    type=click.Choice(["2024"]),
    default="2024",
    show_default=True,
    help="Year of the bundled goods trade by partner.",
)
@click.option(
    "--epsilon",
    type=float,
    default=4.0,
    show_default=True,
    help="Elasticity of imports to import prices (ε).",
)
@click.option(
    "--phi", type=float, default=0.25, show_default=True, help="Pass-through of tariffs to import prices (φ)."
)
@click.option(
    "--share",
    type=float,
    default=0.5,
    show_default=True,
    help="Share of the formula rate announced (0.5: 'discounted' by half).",
)
@click.option("--floor", "floor_rate", type=float, default=0.10, show_default=True, help="Minimum rate.")
@click.option(
    "--rounding",
    type=click.Choice(["up", "nearest", "none"]),
    default="up",
    show_default=True,
    help="Round the announced rate up to a whole percent (as published), to nearest, or not.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Also write reciprocal.csv here."
)
@click.option(
    "--write-scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a scenario file (TOML) with the derived rates, for `tariffcalc run`.",
)
def reciprocal(year, epsilon, phi, share, floor_rate, rounding, fmt, out, write_scenario) -> None:
    """Reproduce the USTR formula behind EO 14257's Annex I rates.

    rate = max(floor, share × (imports − exports) / (ε × φ × imports)) on 2024 US goods trade, the EU as
    one bloc; compared with the published Annex I rate.
    """
    from tariffcalc import reciprocal as formula

    method = formula.Method(epsilon, phi, share, floor_rate, rounding)
    table = formula.reciprocal_rates(method)
    _emit(table, fmt, out, "reciprocal.csv")
    if write_scenario is not None:
        formula.write_scenario(write_scenario, table, method)
        click.echo(f"Wrote {write_scenario}; run it with: tariffcalc run {write_scenario}", err=True)
