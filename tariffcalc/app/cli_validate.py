"""The ``validate`` command: check flow files without computing, and say what is wrong and where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tariffcalc.read import SOURCES, UNITS


def _options() -> list:
    return [
        click.option(
            "--source",
            type=click.Choice(SOURCES),
            default="auto",
            show_default=True,
            help="Layout of the flow files: canonical, census, dataweb or comtrade (auto: recognised from "
            "the header; the choice is reported).",
        ),
        click.option(
            "--map",
            "mapping",
            multiple=True,
            metavar="COLUMN=FIELD",
            help="Read the files' COLUMN as the canonical FIELD (partner, hs, period, value_usd, reporter); "
            "repeatable, e.g. --map 'Customs Value=value_usd'.",
        ),
        click.option(
            "--units",
            type=click.Choice(list(UNITS)),
            default="usd",
            show_default=True,
            help="What the amounts in the flow files are in; converted to US dollars.",
        ),
        click.option("--strict", is_flag=True, help="Any rejected row is an error (exit status 2)."),
        click.option(
            "--duplicates",
            type=click.Choice(["sum", "reject"]),
            default="sum",
            show_default=True,
            help="Rows that share a (partner, hs, period) key: sum adds them up (extracts split a key over "
            "districts, ports or rate provisions) and counts them; reject keeps the first row of each key "
            "and rejects the others as duplicates.",
        ),
    ]


def reading_options(command):
    """Add --source, --map, --units, --strict and --duplicates (how flow files are read) to a command."""
    for option in reversed(_options()):
        command = option(command)
    return command


def flow_options(
    source: str, mapping: tuple[str, ...], units: str, strict: bool, duplicates: str = "sum"
) -> dict[str, Any]:
    """The reading options of the command line as keyword arguments of :func:`tariffcalc.load_flows`."""
    from tariffcalc.read.adapters import parse_column_map

    return {
        "source": source,
        "column_map": parse_column_map(mapping),
        "units": units,
        "strict": strict,
        "duplicates": duplicates,
    }


def echo_reading(figures: dict[str, Any], given: bool) -> None:
    """Say on stderr how each flow file the user gave was read (adapter and why, encoding, rejects) and
    the reader's notes on it (rows whose periods overlap, a number format one cell decided, …)."""
    from tariffcalc.read.flows import describe_files

    if given:
        files = figures["reconciliation"]["files"]
        for line, report in zip(describe_files(files), files, strict=True):
            click.echo(line, err=True)
            for note in report.get("notes", ()):
                click.echo(f"  note: {note}", err=True)


@click.command()
@click.argument("flows", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scenario", help="Also report how the data's codes meet this scenario's product lists.")
@reading_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def validate(flows, scenario, source, mapping, units, strict, duplicates, as_json) -> None:
    """Check FLOWS files without computing: rows, partners, products, value, and every problem.

    Problems are grouped by kind with examples as file:line:column; keys on more than one row are counted.
    With --scenario, also the share of value whose codes are at least as fine as the scenario's product
    lists. Exit status 2 when a file cannot be read or is given twice, when every row is rejected (nothing
    could be used), or, with --strict, when any row is.
    """
    from tariffcalc.app.validate import to_text
    from tariffcalc.app.validate import validate as check
    from tariffcalc.errors import FlowsError

    options = flow_options(source, mapping, units, strict, duplicates)
    del options["strict"]
    report = check(list(flows), scenario, **options)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else to_text(report))
    rejected = report["totals"]["rejected_rows"]
    if report["errors"]:
        raise FlowsError(f"{len(report['errors'])} of {len(flows)} file(s) cannot be read.")
    totals = report["totals"]
    if totals["rows"] and not totals["accepted_rows"]:
        raise FlowsError(
            f"every row was rejected ({totals['rows']:,} of {totals['rows']:,}): nothing in "
            f"{'these files' if len(flows) > 1 else 'this file'} can be used; the problems are listed above."
        )
    if strict and rejected:
        raise FlowsError(f"--strict: {rejected:,} row(s) rejected.")
