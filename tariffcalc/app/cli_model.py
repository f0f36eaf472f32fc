"""Command-line commands of the response models, to be registered on the main ``tariffcalc`` group.

Each command parses its options, calls one library function and prints, like :mod:`tariffcalc.app.cli`.
:func:`model_options` (or :func:`elasticity_options`) adds the model parameters as options to a command,
and :func:`parameters_from_options` turns them into :class:`~tariffcalc.reference.parameters.Parameters`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

OPTION_NAMES = (
    "import_demand_elasticity",
    "substitution_elasticity",
    "export_supply_elasticity",
    "elasticities_file",
    "pass_through",
)


def _number(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    from tariffcalc.errors import ModelError
    from tariffcalc.reference.parameters import parse_number

    try:
        return parse_number(param.name or "", value)
    except ModelError as exc:
        raise click.BadParameter(str(exc)) from None


def _elasticity_option_list() -> list[Callable[[Any], Any]]:
    return [
        click.option(
            "--import-demand-elasticity",
            callback=_number,
            metavar="NUMBER",
            help="Import demand elasticity η (magnitude), all chapters. Default: Hauk (2012) by chapter, else 1.0.",
        ),
        click.option(
            "--substitution-elasticity",
            callback=_number,
            metavar="NUMBER",
            help="Substitution elasticity σ between partners. Default: 1.5 (SMART).",
        ),
        click.option(
            "--export-supply-elasticity",
            callback=_number,
            metavar="NUMBER|inf",
            help="Export supply elasticity ε_x. Default: inf, world prices fixed (SMART).",
        ),
        click.option(
            "--elasticities",
            "elasticities_file",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="CSV of elasticities by HS chapter: hs and any of the three elasticity columns.",
        ),
    ]


def _apply(command: Callable[..., Any], options: list[Callable[[Any], Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        command = option(command)
    return command


def elasticity_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --import-demand-elasticity, --substitution-elasticity, --export-supply-elasticity, --elasticities."""
    return _apply(command, _elasticity_option_list())


def model_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`elasticity_options` plus --pass-through: the options of ``run --model armington``."""
    pass_through = click.option(
        "--pass-through",
        callback=_number,
        metavar="FRACTION",
        help="Share of the import price rise passed to consumer prices. Default: 1.0.",
    )
    return _apply(command, [*_elasticity_option_list(), pass_through])


def parameters_from_options(base: Any = None, **options: Any) -> Any:
    """``base`` parameters (default: the bundled defaults) with the options that were given replacing them."""
    from tariffcalc.reference.parameters import Parameters

    return (base or Parameters()).with_overrides(**{k: options.get(k) for k in OPTION_NAMES})


@click.command()
@click.option(
    "--flows",
    "flows_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Matrix CSV of trade values in USD: exporters as rows, importers as columns, same labels.",
)
@click.option(
    "--tariff-before",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Matrix CSV of tariffs before (fractions), same labels.",
)
@click.option(
    "--tariff-after",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Matrix CSV of tariffs after (fractions), same labels.",
)
@click.option(
    "--scenario",
    help="Bundled mode: a scenario name or .toml on the bundled 2024 US data (default: liberation-day).",
)
@click.option(
    "--baseline",
    default="baseline-2024",
    show_default=True,
    help="Bundled mode: scenario to compare against.",
)
@click.option(
    "--retaliation",
    type=click.Choice(["none", "mirror"]),
    default="none",
    show_default=True,
    help="Bundled mode: 'mirror' = each partner charges on US exports the rate the US added on its goods.",
)
@elasticity_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write welfare.csv, welfare_by_product.csv, flows.csv here.",
)
@click.option("--force", is_flag=True, help="Write into an output folder that tariffcalc did not create.")
@click.option("--no-bom", is_flag=True, help="Write CSV without the UTF-8 byte-order mark Excel needs.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors and warnings.")
def gsim(
    flows_path,
    tariff_before,
    tariff_after,
    scenario,
    baseline,
    retaliation,
    out,
    force,
    no_bom,
    quiet,
    **options,
) -> None:
    """Global Simulation Model (Francois & Hall 2003): prices, trade and welfare in many markets at once.

    Either three matrix CSVs (--flows, --tariff-before, --tariff-after: first column exporters, header
    importers), or the bundled US mode: the US and its partners, one market per HS chapter, for
    --scenario (default liberation-day), optionally with --retaliation mirror.
    """
    from tariffcalc.app import studies

    matrices = [flows_path, tariff_before, tariff_after]
    parameters = parameters_from_options(**options)
    if any(matrices) and not all(matrices):
        raise click.UsageError("Give all three of --flows, --tariff-before and --tariff-after, or none.")
    if any(matrices) and (scenario or retaliation != "none"):
        raise click.UsageError("--scenario and --retaliation are for the bundled US mode, not matrix files.")
    study = studies.gsim(scenario, baseline, retaliation, parameters, matrices if any(matrices) else None)
    for warning in study.manifest["warnings"]:
        click.echo(f"Warning: {warning}", err=True)
    folder = study.write(out, force=force, bom=not no_bom) if out is not None else None
    if not quiet:
        click.echo(study.text)
        if folder is not None:
            click.echo(f"\nWrote {folder}/")
