"""The ``tariffcalc`` command line: each command parses its options, calls one library function, prints.

Every error a user can cause ends as one ``Error: …`` line on stderr and exit status 2, mapped in one
place (:class:`_Group`): a domain error (:class:`tariffcalc.errors.TariffcalcError`) in its own words,
after the option it is about (``--out: …``); an operating-system error (a full disk, a file that cannot
be read), input nested too deeply to read, or memory running out, in words. Option parsing errors are
click's usage errors, also exit 2. Exit status 1 is left to the unexpected (a bug: a traceback, please
report it). ``--debug`` shows the traceback instead of the one line. Heavy libraries (pandas) are imported
inside the commands, so ``tariffcalc --help`` is instant.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import click

from tariffcalc._version import __version__
from tariffcalc.app.cli_analysis import compare, parse_date, reciprocal, refunds, sweep, timeline, warn
from tariffcalc.app.cli_model import OPTION_NAMES as MODEL_OPTIONS
from tariffcalc.app.cli_model import gsim, model_options
from tariffcalc.app.cli_validate import echo_reading, flow_options, reading_options, validate
from tariffcalc.errors import TariffcalcError, one_line, os_reason

EXIT_USER_ERROR = 2
"""Exit status of every error a user can cause (click's usage errors use the same)."""


class UserError(click.ClickException):
    """One ``Error: …`` line on stderr and exit status 2."""

    exit_code = EXIT_USER_ERROR


class _Group(click.Group):
    """The one place where exceptions become messages: one line on stderr, exit status 2 (see the module)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except (TariffcalcError, OSError, RecursionError, MemoryError) as exc:
            if (ctx.obj and ctx.obj.get("debug")) or getattr(exc, "errno", None) == errno.EPIPE:
                raise  # a closed pipe (`| head`): click ends quietly
            raise UserError(one_line(_message(ctx, exc))) from None


def _message(ctx: click.Context, exc: BaseException) -> str:
    """What ``exc`` says to a user of the command line."""
    if isinstance(exc, TariffcalcError):
        option = _option(ctx, exc.parameter)
        return f"{option}: {exc}" if option else str(exc)
    if isinstance(exc, OSError):
        names = " → ".join(str(n) for n in (exc.filename, exc.filename2) if n)
        return f"{names or 'A file'}: {os_reason(exc)}."
    if isinstance(exc, RecursionError):
        return (
            "An input is nested too deeply to read (lists or tables inside each other hundreds of levels "
            "deep); simplify it."
        )
    return (
        "Not enough memory for this command; give it less data (or a smaller sweep), or use a larger machine."
    )


def _option(ctx: click.Context, parameter: str | None) -> str:
    """The option (``--out``) or argument (``SCENARIO``) of the invoked command for a library parameter."""
    if not parameter:
        return ""
    name = ctx.invoked_subcommand
    command = ctx.command.get_command(ctx, name) if name and isinstance(ctx.command, click.Group) else None
    for param in command.params if command is not None else ():
        if param.name == parameter:
            if isinstance(param, click.Option):
                return max(param.opts, key=len)
            return param.human_readable_name
    return ""


_date = parse_date


FORMATS = ("png", "pdf", "xlsx")
"""The report formats of ``run`` (the same as ``api.FORMATS``; kept here so ``--help`` needs no pandas)."""


def _formats(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """``--format png,pdf --format xlsx`` → ("png", "pdf", "xlsx"); default all; unknown names are usage errors."""
    chosen = [part.strip().lower() for value in values for part in value.split(",") if part.strip()]
    for name in chosen:
        if name not in FORMATS:
            raise click.BadParameter(
                f"{name!r} is not a format; choose from {', '.join(FORMATS)} (comma-separated)."
            )
    return tuple(dict.fromkeys(chosen)) or FORMATS


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="tariffcalc")
@click.option("--debug", is_flag=True, help="Show Python tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """What a tariff schedule costs: duties by partner and product on real trade data.

    Money is in US dollars; rates are fractions (0.10 = 10 %). Start with `tariffcalc run`.
    """
    ctx.obj = {"debug": debug}


@cli.command()
@click.argument("scenario", default="liberation-day")
@click.option(
    "--flows",
    "flow_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Flow file(s), CSV or Parquet: canonical, DataWeb, Census or Comtrade (see --source). "
    "Default: bundled 2024 US imports. With --engine dask also a quoted glob ('data/*.csv') or a "
    "Parquet dataset folder.",
)
@click.option("--baseline", default="baseline-2024", show_default=True, help="Scenario to compare against.")
@click.option(
    "--as-of", callback=_date, help="Evaluate the scenario on this date (YYYY-MM-DD) instead of its own."
)
@click.option(
    "--level",
    type=click.Choice(["2", "4", "6", "8", "10"]),
    default="2",
    show_default=True,
    help="HS digits of the product tables.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder. Default: reports/<scenario>.",
)
@click.option("--force", is_flag=True, help="Write into an output folder that tariffcalc did not create.")
@click.option("--no-bom", is_flag=True, help="Write CSV without the UTF-8 byte-order mark Excel needs.")
@click.option(
    "--no-charts", is_flag=True, help="Write no charts and no report.pdf (tables, summary and xlsx only)."
)
@click.option(
    "--format",
    "formats",
    multiple=True,
    callback=_formats,
    metavar="LIST",
    help="Reports to write, comma-separated from png, pdf, xlsx (repeatable). pdf = vector charts and "
    "report.pdf. Default: png,pdf,xlsx.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 50),
    default=15,
    show_default=True,
    help="Partners and products shown in the charts and report tables.",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="Page size of report.pdf.",
)
@reading_options
@click.option(
    "--model",
    type=click.Choice(["static", "armington"]),
    default="static",
    show_default=True,
    help="static: trade held at its observed value; armington: trade and prices respond (docs/model.md).",
)
@model_options
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="dask: sum clean canonical flows on a Dask cluster (pip install 'tariffcalc[dask]'; docs/dask.md).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Dask scheduler of a running cluster, e.g. tcp://10.0.0.5:8786 (default: start a local cluster).",
)
@click.option(
    "--no-split-coarse",
    is_flag=True,
    help="Price rows coarser than HTS10 (chapter-level partners) as they are, instead of as the 2024 "
    "import mix of the HTS10 codes under them (docs/scenarios.md).",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors and warnings (and no progress bar).")
def run(
    scenario,
    flow_paths,
    baseline,
    as_of,
    level,
    out,
    force,
    no_bom,
    no_charts,
    formats,
    top,
    paper,
    model,
    engine,
    scheduler,
    no_split_coarse,
    quiet,
    **reading,
) -> None:
    """Compute duties of SCENARIO (default: liberation-day) and write tables, a summary and reports.

    Writes by_partner.csv, by_product.csv, by_partner_product.csv, by_measure.csv, rejects.csv,
    summary.json, summary.md and manifest.json; charts/ (PNG, PDF and the data of each chart as CSV),
    report.pdf and report.xlsx. A progress bar goes to stderr when it is a terminal.
    """
    from tariffcalc.app import api
    from tariffcalc.report.summary import to_terminal
    from tariffcalc.util.progress import for_terminal

    overrides = {name: reading.pop(name) for name in MODEL_OPTIONS}
    if model == "static" and any(v is not None for v in overrides.values()):
        raise click.UsageError("Elasticity and pass-through options need --model armington.")
    if engine == "local" and scheduler:
        raise click.UsageError("--scheduler needs --engine dask.")
    folders = [str(p) for p in flow_paths if p.is_dir()]
    if engine == "local" and folders:
        raise click.BadParameter(
            f"{folders[0]} is a folder; a Parquet dataset folder needs --engine dask.", param_hint="--flows"
        )

    _, figures, folder = api.run(
        scenario,
        list(flow_paths),
        baseline,
        as_of=as_of,
        level=int(level),
        out=out,
        force=force,
        bom=not no_bom,
        charts=not no_charts,
        formats=formats,
        top=top,
        paper=paper,
        progress=for_terminal(quiet),
        reading=flow_options(**reading),
        model=None if model == "static" else model,
        parameters=overrides,
        engine=engine,
        scheduler=scheduler,
        split_coarse=not no_split_coarse,
    )
    if quiet:
        warn(figures)  # the summary below says them otherwise
    else:
        echo_reading(figures, bool(flow_paths))
        click.echo(to_terminal(figures))
        click.echo(f"\nWrote {folder}/")


@cli.command()
@click.argument("scenario")
@click.option("--partner", required=True, help="Partner, ISO3 code or name (e.g. UKR, Germany).")
@click.option("--hs", "code", required=True, help="HS/HTS code, 2-10 digits (e.g. 6109100012).")
@click.option("--as-of", callback=_date, help="Date (YYYY-MM-DD); default: the scenario's own.")
@click.option("--baseline", default="baseline-2024", show_default=True, help="Scenario to compare against.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--no-split-coarse",
    is_flag=True,
    help="Price a code coarser than HTS10 as it is, not as the 2024 import mix of the codes under it.",
)
def explain(scenario, partner, code, as_of, baseline, as_json, no_split_coarse) -> None:
    """Why one good from one partner pays what it pays under SCENARIO.

    A code coarser than HTS10 (a chapter, say) is priced as `run` prices a chapter-level row: as the 2024
    import mix of the HTS10 codes under it; the largest of them are listed.
    """
    from tariffcalc.rules.explain import explain as explain_pair
    from tariffcalc.rules.explain import to_text

    result = explain_pair(
        scenario, partner, code, as_of=as_of, baseline=baseline, split_coarse=not no_split_coarse
    )
    click.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else to_text(result))


@cli.command()
@click.argument("scenario")
@click.option("--partner", help="Only this partner (ISO3 code or name).")
@click.option("--hs", "code", help="Evaluate product scope for this HS code.")
@click.option("--as-of", callback=_date, help="Date (YYYY-MM-DD); default: the scenario's own.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
def rates(scenario, partner, code, as_of, fmt) -> None:
    """Statutory rates of SCENARIO's measures by partner."""
    from tariffcalc.report.tables import to_csv_text
    from tariffcalc.rules.rates import statutory_rates
    from tariffcalc.rules.scenario import load_scenario

    table = statutory_rates(load_scenario(scenario), partner, code, as_of)
    if fmt == "csv":
        click.echo(to_csv_text(table), nl=False)
    elif fmt == "json":
        click.echo(table.to_json(orient="records", indent=2, force_ascii=False))
    else:
        shown = table.assign(rate=table["rate"].map("{:.1%}".format))
        click.echo(shown.to_string(index=False, max_colwidth=40))


@cli.command()
@click.argument("partner")
@click.argument("scenario", default="liberation-day")
@click.option(
    "--as-of", callback=_date, help="Evaluate the scenario on this date (YYYY-MM-DD) instead of its own."
)
@click.option("--baseline", default="baseline-2024", show_default=True, help="Scenario to compare against.")
@click.option(
    "--flows",
    "flow_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Flow file(s), CSV or Parquet (see --source). Default: bundled 2024 US imports.",
)
@reading_options
@click.option(
    "--model",
    type=click.Choice(["static", "armington"]),
    default="static",
    show_default=True,
    help="armington: also the change in the partner's US sales by product (docs/model.md).",
)
@click.option(
    "--level",
    type=click.Choice(["2", "4", "6", "8", "10"]),
    help="HS digits of the products. Default: the finest the data have for the partner.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 30),
    default=8,
    show_default=True,
    help="Products shown in each chart (two charts of 8 fit on a page of brief.pdf).",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="Page size of brief.pdf.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder. Default: reports/brief-<partner>-<scenario>.",
)
@click.option("--force", is_flag=True, help="Write into an output folder that tariffcalc did not create.")
@click.option("--no-bom", is_flag=True, help="Write CSV without the UTF-8 byte-order mark Excel needs.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def brief(
    partner,
    scenario,
    as_of,
    baseline,
    flow_paths,
    model,
    level,
    top,
    paper,
    out,
    force,
    no_bom,
    quiet,
    **reading,
) -> None:
    """What SCENARIO (default: liberation-day) means for PARTNER against its competitors.

    PARTNER is an ISO3 code, a country name or a group (EU: its members summed, its competitors all
    non-members). Writes products.csv (the partner's products at the finest level the data have, with the
    competitors' added rate and the margin), summary.md, brief.pdf, the charts and manifest.json.
    """
    from tariffcalc.app.brief import brief as make_brief
    from tariffcalc.report.brief import lead, margin_sentence

    result = make_brief(
        partner,
        scenario,
        list(flow_paths),
        baseline,
        as_of=as_of,
        model=model,
        level=int(level) if level else None,
        reading=flow_options(**reading),
    )
    folder = result.write(out, force=force, bom=not no_bom, paper=paper, top=top)
    for caveat in result.figures.get("caveats", ()):  # the scenario's warnings, as run prints them
        if isinstance(caveat, str) and caveat.startswith("Warning: "):
            click.echo(caveat, err=True)
    if not quiet:
        click.echo(lead(result.figures))
        click.echo(margin_sentence(result.figures))
        click.echo(f"\nWrote {folder}/")


@cli.group(invoke_without_command=True)
@click.pass_context
def scenarios(ctx: click.Context) -> None:
    """List the bundled scenarios (or `scenarios show NAME`)."""
    if ctx.invoked_subcommand is None:
        from tariffcalc.reference.bundled import scenario_titles

        for name, title in scenario_titles():
            click.echo(f"{name:<16} {title}")


@scenarios.command("show")
@click.argument("name")
def scenarios_show(name: str) -> None:
    """Show scenario NAME (bundled name or .toml path) with every measure resolved through `extends`."""
    from tariffcalc.rules.scenario import load_scenario

    scenario = load_scenario(name)
    click.echo(json.dumps(scenario.to_dict(), indent=2, ensure_ascii=False))
    for warning in scenario.warnings:
        click.echo(f"Warning: {warning}", err=True)


for command in (compare, sweep, timeline, refunds, reciprocal, gsim):
    cli.add_command(command)
cli.add_command(validate)


def main() -> None:
    """Console-script entry point.

    The command reads files with its own threads (:mod:`tariffcalc.read.stream`) and does no large linear
    algebra, so OpenBLAS's threads would only spin on the same cores: they are off unless the user set
    ``OPENBLAS_NUM_THREADS``. (Set before NumPy is imported, which the commands do lazily.)
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    cli(prog_name="tariffcalc")


if __name__ == "__main__":
    sys.exit(main())
