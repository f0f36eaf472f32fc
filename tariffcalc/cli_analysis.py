"""Commands that analyse scenarios rather than run one: ``reciprocal`` (and, later, compare/sweep/timeline).

Each command parses its options, calls one library function and formats the result, like ``cli.py``.
"""

from __future__ import annotations

from pathlib import Path

import click


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
                shown[column] = shown[column].map(lambda x: "" if x != x else f"{x:.0%}")
            elif column.endswith("_usd"):
                shown[column] = shown[column].map(lambda x: f"{x / 1e9:,.2f}")
        click.echo(shown.rename(columns=lambda c: c.replace("_usd", "_bn")).to_string(index=False))


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
