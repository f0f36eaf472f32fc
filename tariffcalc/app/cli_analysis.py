"""Commands that analyse several scenarios or dates: ``compare``, ``sweep``, ``timeline``, ``refunds``
and ``reciprocal``.

Each command parses its options, calls one library function (tariffcalc.app.studies, tariffcalc.models.reciprocal)
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
_QUIET = click.option("--quiet", is_flag=True, help="Print nothing but errors and warnings.")


def warn(figures) -> None:
    """Print the ``warnings`` of a summary or manifest on stderr (also with --quiet: a warning says that a
    result may not be what was meant, e.g. a rate of 1000 %)."""
    for warning in figures.get("warnings", []):
        click.echo(f"Warning: {warning}", err=True)


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
    from tariffcalc.app import analysis, studies

    if len(scenarios) < 2:
        raise click.UsageError("Give at least two scenarios to compare.")
    study = studies.compare(scenarios, flow_paths, baseline, int(level), model)
    warn(study.manifest)
    folder = study.write(out)
    if not quiet:
        totals = study.tables["compare_totals"]
        shown = ["scenario", "as_of", "added_duty_usd", "baseline_rate", "scenario_rate", "added_rate"]
        shown += [c for c in analysis.RESPONSE_FIGURES if c in totals]
        _emit(totals[shown], "table", None, "")
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
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Default: reports/sweep-<scenario>-<grid>, one folder per grid (e.g. "
    "reports/sweep-liberation-day-import_demand_elasticity-0.5-3-6).",
)
@_QUIET
def sweep(scenario, params, flow_paths, baseline, out, quiet) -> None:
    """Sensitivity of SCENARIO's headline figures to one or two parameters (a tidy sweep.csv).

    Also writes the chart sweep_headline (one parameter: lines) or sweep_grid (two: a heat map of the added
    duty) as PNG, PDF and its data as CSV, with the scenario's own value marked.
    """
    from tariffcalc.app import studies

    if len(params) > 2:
        raise click.UsageError("Sweep one parameter (a line) or two (a grid), not more.")
    study = studies.sweep(scenario, params, flow_paths, baseline)
    warn(study.manifest)
    target = Path(out) if out is not None else study.default_out
    earlier = _earlier_run(target)
    folder = study.write(out)
    if earlier:
        click.echo(f"Replaced the earlier {earlier} in {folder}/ (--out chooses another folder).", err=True)
    if not quiet:
        grid = list(study.manifest["grid"])
        table = study.tables["sweep"]
        wide = table.pivot_table(index=grid, columns="figure", values="value").reset_index()
        figures = (
            "added_duty_usd",
            "added_rate",
            "post_substitution_added_rate",
            "revenue_after_response_usd",
            "cost_per_household_usd",
        )
        _emit(wide[[*grid, *(c for c in figures if c in wide.columns)]], "table", None, "")
        click.echo(f"\nWrote {folder}/")


def _earlier_run(folder: Path) -> str:
    """What an earlier run left in ``folder`` ("sweep of import_demand_elasticity 0.5 to 3"), or "" when
    the folder holds no run of tariffcalc's."""
    import json

    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    grid = manifest.get("grid") or {}
    if manifest.get("command") == "sweep" and grid:
        ranges = ", ".join(
            f"{name} {values[0]:g} to {values[-1]:g}" if values else name for name, values in grid.items()
        )
        return f"sweep of {ranges}"
    return str(manifest.get("command") or "run")


def parse_date(ctx, param, value: str | None):
    """A click callback: an ISO date (YYYY-MM-DD), or a usage error saying how to write one."""
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2025-04-09.") from None


@click.command()
@click.argument("timeline_file")
@click.option("--year", type=int, help="Calendar year of the monthly series of a regime file (default 2025).")
@click.option(
    "--from", "start", callback=parse_date, help="A dated rulebook: first day (default 2025-01-20)."
)
@click.option(
    "--to", "end", callback=parse_date, help="A dated rulebook: day after the last (default today)."
)
@_FLOWS
@_BASELINE
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Default: reports/timeline-<name> (rulebook) or reports/timeline-<year> (regime file).",
)
@_QUIET
def timeline(timeline_file, year, start, end, flow_paths, baseline, out, quiet) -> None:
    """Added duty and effective rate over time, day-weighted.

    TIMELINE_FILE is a dated rulebook (bundled: us-tariffs; priced on every stretch between rule changes
    --from/--to: timeline.csv by month, timeline_regimes.csv by stretch, chart timeline_dated) or a file of
    dated regimes (bundled: us-2025; --year: timeline.csv by month, chart timeline_monthly).
    """
    from tariffcalc.app import studies

    if year is not None and (start or end):
        raise click.UsageError("--year is for a regime file; --from/--to for a dated rulebook. Give one.")
    study = studies.timeline(timeline_file, 2025 if year is None else year, flow_paths, baseline, start, end)
    warn(study.manifest)
    folder = study.write(out)
    if not quiet:
        table = study.tables["timeline"]
        _emit(table[["month", "added_duty_usd", "scenario_rate", "added_rate"]], "table", None, "")
        click.echo(f"\nWrote {folder}/")


@click.command()
@click.argument("scenario", default="us-tariffs")
@click.option("--from", "start", callback=parse_date, help="First day of entries (default 2025-01-20).")
@click.option(
    "--to", "end", callback=parse_date, help="Day after the last entry (default and at most 2026-02-24)."
)
@click.option(
    "--level",
    type=click.Choice(["2", "4", "6"]),
    default="2",
    show_default=True,
    help="HS digits of the product table.",
)
@_FLOWS
@_BASELINE
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Default: reports/refunds-<scenario>."
)
@_QUIET
def refunds(scenario, start, end, level, flow_paths, baseline, out, quiet) -> None:
    """IEEPA duties owed on entries from --from to --to (at most 24 February 2026, when collection ended),
    by partner and product: the refund exposure after Learning Resources v. Trump (static estimate).

    Writes refunds_totals.csv, refunds_by_partner.csv, refunds_by_product.csv, refunds_by_measure.csv.
    """
    from tariffcalc.app import studies

    study = studies.refunds(scenario, flow_paths, baseline, start, end, int(level))
    warn(study.manifest)
    folder = study.write(out)
    if not quiet:
        totals = study.tables["refunds_totals"].iloc[0]
        from tariffcalc.report.summary import words

        click.echo(
            f"IEEPA duties owed {totals['from']} to {totals['to']} (exclusive), static estimate: "
            f"{words(totals['ieepa_duty_usd'])} on {words(totals['imports_usd'])} of imports."
        )
        top = study.tables["refunds_by_partner"].head(10)
        _emit(top[["partner", "partner_name", "ieepa_duty_usd"]], "table", None, "")
        click.echo(f"\nWrote {folder}/")


def _emit(table, fmt: str, out: Path | None, filename: str, parameters: dict | None = None) -> None:
    """Print ``table`` as a text table, CSV or JSON; with ``out`` also write the folder ``out`` with
    ``filename`` (CSV) and a manifest holding ``parameters``, through the one bundle writer."""
    from tariffcalc.report.tables import to_csv_text

    if out is not None:
        from tariffcalc.report import bundle

        stem = Path(filename).stem
        manifest = bundle.manifest(stem, [], parameters=parameters or {})
        folder = bundle.write_bundle(out, {stem: table}, manifest)
        click.echo(f"Wrote {folder / filename}", err=True)
    if fmt == "csv":
        click.echo(to_csv_text(table), nl=False)
    elif fmt == "json":
        click.echo(table.to_json(orient="records", indent=2, force_ascii=False))
    else:
        shown = table.copy()
        money = [c for c in shown.columns if c.endswith("_usd") and c != "cost_per_household_usd"]
        divisor, suffix = _money_unit(shown[money].abs().to_numpy().max(initial=0.0) if money else 0.0)
        for column in shown.columns:
            if column.endswith("_rate") or column == "difference":
                shown[column] = shown[column].map(lambda x: "" if x != x else f"{x:.1%}")
            elif column == "cost_per_household_usd":
                shown[column] = shown[column].map(lambda x: f"{x:,.0f}")
            elif column in money:
                shown[column] = shown[column].map(lambda x: f"{x / divisor:,.2f}")
        renamed = {c: c.removesuffix("_usd") + suffix for c in money}
        click.echo(shown.rename(columns=renamed).to_string(index=False))


def _money_unit(largest: float) -> tuple[float, str]:
    """Divisor and column suffix for amounts whose largest is ``largest`` USD: billions, millions,
    thousands or dollars, so a small input never shows 0.00 everywhere."""
    for divisor, suffix in ((1e9, "_bn"), (1e6, "_m"), (1e3, "_thousand")):
        if largest >= divisor:
            return divisor, suffix
    return 1.0, "_usd"


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
    from tariffcalc.models import reciprocal as formula

    method = formula.Method(epsilon, phi, share, floor_rate, rounding)
    table = formula.reciprocal_rates(method)
    _emit(table, fmt, out, "reciprocal.csv", {"year": year, **vars(method)})
    if write_scenario is not None:
        formula.write_scenario(write_scenario, table, method)
        click.echo(f"Wrote {write_scenario}; run it with: tariffcalc run {write_scenario}", err=True)
