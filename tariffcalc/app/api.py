"""The library API that the command line and notebooks share.

>>> import tariffcalc
>>> flows = tariffcalc.load_flows()                       # bundled 2024 US imports
>>> result = tariffcalc.compute(flows, "liberation-day")  # static duties vs baseline-2024
>>> result.by_partner().head()
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from tariffcalc.engine import duties
from tariffcalc.errors import InvalidArgument, TariffcalcError
from tariffcalc.read.flows import FlowSet, load_flows
from tariffcalc.report import bundle, groups, summary, tables
from tariffcalc.rules.scenario import Scenario, load_scenario
from tariffcalc.util import files
from tariffcalc.util.progress import Progress

DEFAULT_SCENARIO = "liberation-day"
DEFAULT_BASELINE = "baseline-2024"


def _scenario(value: str | Path | Scenario) -> Scenario:
    return value if isinstance(value, Scenario) else load_scenario(value)


def compute(
    flows: FlowSet | pd.DataFrame | None = None,
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    baseline: str | Path | Scenario = DEFAULT_BASELINE,
    as_of: dt.date | None = None,
    level: int = 2,
    split_coarse: bool = True,
) -> duties.Result:
    """Static duties of ``scenario`` against ``baseline`` on ``flows`` (default: bundled 2024 US imports).

    ``flows`` is a :class:`FlowSet` from :func:`load_flows` or a DataFrame in the canonical layout
    (``partner``, ``hs``, ``value_usd`` in USD, optional ``period`` and ``reporter``). A DataFrame is read
    like a file (:func:`load_flows`): partners are ISO3 codes (``"chn "`` is CHN), codes are text (integer
    codes are read as digits, and repaired if they lost a leading zero), and rows that cannot be used
    (unknown partners, negative or missing values, malformed codes) are rejected with a warning, not priced.
    The reading is kept on the result as ``result.flowset`` (``result.flowset.problems()`` lists the
    rejected rows). Scenarios are bundled names or paths to TOML files. ``split_coarse=False`` prices rows
    coarser than HTS10 as they are instead of as the 2024 import mix of the codes under them
    (docs/scenarios.md, "How rates are resolved", item 4).
    """
    if flows is None:
        flows = load_flows()
    chosen = _scenario(scenario)
    flowset = flows if isinstance(flows, FlowSet) else _read_frame(flows, chosen.importer)
    result = duties.compute(
        flowset.flows, chosen, _scenario(baseline), as_of=as_of, level=level, split_coarse=split_coarse
    )
    return dataclasses.replace(result, flowset=flowset)


def _read_frame(frame: pd.DataFrame, importer: str) -> FlowSet:
    """A DataFrame of flows through the reader's checks; a warning names what was rejected."""
    import warnings

    flowset = load_flows(frame, importer=importer)
    if len(flowset.issues):
        report = flowset.files[0]
        kinds = "; ".join(
            f"{p['rows']} {p['label']} (e.g. {p['examples'][0]['where']}: {p['examples'][0]['reason']})"
            for p in flowset.problems(1)
        )
        warnings.warn(
            f"{report.rejected_rows} of {report.rows} row(s) of the DataFrame rejected "
            f"(${report.rejected_value_usd:,.2f} of ${report.input_value_usd:,.2f}): {kinds}. They are not "
            "priced; result.flowset.problems() lists them.",
            stacklevel=3,
        )
    return flowset


def respond(result: duties.Result, model: str | None, overrides: dict[str, Any] | None = None):
    """The response model's answer for a static result (None for the static model).

    Parameters: the bundled defaults, then the scenario's ``[parameters]``, then ``overrides``.
    """
    if model in (None, "static"):
        return None
    if model != "armington":
        raise TariffcalcError(f"Unknown model {model!r}: use 'static' or 'armington'.")
    from tariffcalc.models import armington
    from tariffcalc.reference.parameters import Parameters

    parameters = Parameters.from_mapping(result.scenario.parameters, where=f"scenario {result.scenario.name}")
    return armington.respond(result, parameters.with_overrides(**(overrides or {})))


def _named(table: pd.DataFrame) -> pd.DataFrame:
    """A partner × product table with the partner's name after ``partner`` and the product's description
    after ``hs`` (by_partner_product.csv reads without a lookup)."""
    from tariffcalc.reference import countries, hs

    table = table.copy()
    if "partner_name" not in table.columns:
        table.insert(
            table.columns.get_loc("partner") + 1, "partner_name", table["partner"].map(countries.partner_name)
        )
    if "description" not in table.columns:
        table.insert(table.columns.get_loc("hs") + 1, "description", hs.describe(table["hs"]))
    return table


def _manifest(result: duties.Result, flowset: FlowSet, options: dict[str, Any]) -> dict[str, Any]:
    return bundle.manifest(
        "run",
        bundle.input_entries(flowset),
        parameters={
            "as_of": result.as_of.isoformat(),
            "level": result.level,
            "split_coarse": result.split_coarse,
            "model": "static",
            **options,
        },
        scenario=result.scenario.to_dict(),
        baseline=result.baseline.to_dict(),
    )


FORMATS = ("png", "pdf", "xlsx")
"""Report formats of ``run``: charts as PNG; charts as PDF and report.pdf; report.xlsx."""
PAPERS = ("a4", "letter")


def _check_options(formats: tuple[str, ...], top: int, paper: str) -> None:
    """ValueError naming the valid choices when a report option is wrong."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InvalidArgument(f"Unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}.")
    if top < 1:
        raise InvalidArgument(f"top must be at least 1, not {top}.")
    if paper not in PAPERS:
        raise InvalidArgument(f"Paper must be one of {', '.join(PAPERS)}, not {paper!r}.")


def output_steps(charts: bool = True, formats: tuple[str, ...] = FORMATS, response: bool = False) -> int:
    """How many progress steps :func:`write_outputs` reports with these options (``response``: a response
    model ran, which adds its charts)."""
    if not charts:  # charts.py imports matplotlib: not needed to count nothing
        return 1 + ("xlsx" in formats)
    from tariffcalc.report.charts import CHART_NAMES, RESPONSE_CHART_NAMES

    drawn = len(CHART_NAMES) + (len(RESPONSE_CHART_NAMES) if response else 0)
    return 1 + drawn + ("pdf" in formats) + ("xlsx" in formats)


def _write_reports(
    result: duties.Result,
    flowset: FlowSet,
    out: Path,
    figures: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    options: dict[str, Any],
    progress: Progress,
) -> None:
    """Charts (PNG/PDF, and each chart's data as CSV) in ``out/charts``, report.pdf and report.xlsx.

    With a response (``figures["response"]``) the response charts follow the static ones, report.pdf gets a
    page on the response and report.xlsx the revenue ladder and the consumer-price range.
    """
    formats = options["formats"]
    if options["charts"]:
        from tariffcalc.report import charts as chart_maker
        from tariffcalc.report import pdf

        context = chart_maker.context(result, flowset)
        made = chart_maker.build(
            frames["by_partner"],
            frames["by_product"],
            frames["by_partner_product"],
            frames["by_measure"],
            figures["totals"],
            context,
            options["top"],
        )
        if "response" in figures:
            made += chart_maker.build_response(
                frames["by_partner"], figures["response"], context, options["top"]
            )
        chart_maker.write(made, context, out / "charts", formats, bom=options["bom"], progress=progress)
        if "pdf" in formats:
            progress.step("report.pdf")
            inputs = pdf.ReportInputs(
                result,
                figures,
                frames["by_partner"],
                frames["by_product"],
                frames["rejects"],
                made,
                context,
                options["top"],
            )
            pdf.write(out / "report.pdf", inputs, options["paper"])
    if "xlsx" in formats:
        from tariffcalc.report import workbook

        progress.step("report.xlsx")
        sheets = frames | (workbook.response_tables(figures["response"]) if "response" in figures else {})
        workbook.write(out / "report.xlsx", sheets, figures)


def write_outputs(
    result: duties.Result,
    flowset: FlowSet,
    out: Path,
    force: bool = False,
    bom: bool = True,
    charts: bool = True,
    formats: tuple[str, ...] = FORMATS,
    top: int = 15,
    paper: str = "a4",
    progress: Progress | None = None,
    response: Any = None,
) -> dict[str, Any]:
    """Write the output contract of ``run`` (DESIGN.md) into ``out`` and return the summary figures.

    With a ``response`` (:func:`respond`), the tables carry the response columns too (imports and duty
    after the response, trade creation and diversion, welfare, post-substitution rates) and summary.json
    a ``response`` section (effective rates, trade, welfare, prices and households, revenue ladder).

    Besides the tables and the summary: unless ``charts`` is False, the charts in ``out/charts`` (PNG at
    200 dpi and/or vector PDF, per ``formats``, with the data of each as CSV) and, with "pdf",
    report.pdf on ``paper`` ("a4" or "letter"); with "xlsx", report.xlsx. ``top`` is the number of
    partners and products the charts and report tables show.
    """
    formats = tuple(formats)
    _check_options(formats, top, paper)
    progress = progress or Progress()
    inputs = [Path(f.path) for f in flowset.files]
    if result.scenario.path:
        inputs.append(result.scenario.path)
    with files.output_folder(out, inputs, force=force) as staging:
        figures = _write_run(
            result, flowset, staging.path, bom, charts, formats, top, paper, progress, response
        )
    return figures


def _write_run(
    result: duties.Result,
    flowset: FlowSet,
    out: Path,
    bom: bool,
    charts: bool,
    formats: tuple[str, ...],
    top: int,
    paper: str,
    progress: Progress,
    response: Any,
) -> dict[str, Any]:
    """The files of :func:`write_outputs`, written into ``out`` (the staging folder), manifest last."""
    progress.step("tables")
    source = response if response is not None else result
    by_partner = source.by_partner()
    by_product = source.by_product()
    tables.write_csv(by_partner, out / "by_partner.csv", bom=bom)
    tables.write_csv(by_product, out / "by_product.csv", bom=bom)
    pairs = _named(source.by_partner_product())
    tables.write_csv(pairs, out / "by_partner_product.csv", bom=bom)
    by_measure = result.by_measure()
    tables.write_csv(by_measure, out / "by_measure.csv", bom=bom)
    tables.write_csv(result.by_authority(), out / "by_authority.csv", bom=bom)
    by_group = groups.by_group(by_partner, result.as_of)
    tables.write_csv(by_group, out / "by_group.csv", bom=bom)
    tables.write_csv(flowset.rejects, out / "rejects.csv", bom=bom, labels=False)
    figures = summary.build_summary(result, flowset, by_partner, by_product, by_measure, by_group)
    if response is not None:
        figures["response"] = response.summary()
    files.write_json(out / "summary.json", figures)
    files.write_text(out / "summary.md", summary.to_markdown(figures))
    frames = {
        "by_partner": by_partner,
        "by_group": by_group,
        "by_product": by_product,
        "by_partner_product": pairs,
        "by_measure": by_measure,
        "rejects": flowset.rejects,
    }
    options = {"charts": charts, "formats": list(formats), "top": top, "paper": paper}
    if response is not None:
        options["model"] = response.parameters.describe()
    _write_reports(result, flowset, out, figures, frames, {**options, "bom": bom}, progress)
    files.write_manifest(out, _manifest(result, flowset, options))
    return figures


def run(
    scenario: str | Path | Scenario = DEFAULT_SCENARIO,
    flows: list[str | Path] | None = None,
    baseline: str | Path | Scenario = DEFAULT_BASELINE,
    as_of: dt.date | None = None,
    level: int = 2,
    out: Path | None = None,
    force: bool = False,
    bom: bool = True,
    charts: bool = True,
    formats: tuple[str, ...] = FORMATS,
    top: int = 15,
    paper: str = "a4",
    progress: Progress | None = None,
    reading: dict[str, Any] | None = None,
    model: str | None = None,
    parameters: dict[str, Any] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    split_coarse: bool = True,
) -> tuple[duties.Result, dict[str, Any], Path]:
    """Everything ``tariffcalc run`` does: load, compute, write. Returns (result, summary, output folder).

    ``charts``, ``formats``, ``top`` and ``paper`` choose the reports (see :func:`write_outputs`);
    ``progress`` receives each step (default: silent). ``reading`` holds keyword arguments of
    :func:`load_flows` (``source``, ``column_map``, ``units``, ``strict``). ``model="armington"`` adds the
    trade and price response (docs/model.md) with the scenario's ``[parameters]``, overridden by
    ``parameters`` (names as in the scenario file; ``None`` values are ignored). ``engine="dask"`` sums
    clean canonical flows (files, globs, Parquet dataset folders) on the Dask cluster at ``scheduler``, or
    on a local one (:mod:`tariffcalc.engine.dask_engine`, docs/dask.md); the results are the local engine's.
    ``split_coarse=False`` prices coarse rows as they are (see :func:`compute`).
    """
    formats = tuple(formats)
    _check_options(formats, top, paper)
    progress = progress or Progress()
    progress.start(2 + output_steps(charts, formats, response=model not in (None, "static")))
    try:
        progress.step("reading flows")
        scenario = _scenario(scenario)
        if engine == "dask":
            from tariffcalc.engine import dask_engine

            flowset = dask_engine.load_flows(flows, scenario.importer, scheduler, **(reading or {}))
        elif engine == "local" and scheduler is None:
            flowset = load_flows(
                flows, importer=scenario.importer, aggregate=True, progress=progress, **(reading or {})
            )
        else:
            raise TariffcalcError(
                f"Unknown engine {engine!r} (use 'local' or 'dask'; a scheduler needs 'dask')."
            )
        progress.step("computing duties")
        result = compute(flowset, scenario, baseline, as_of=as_of, level=level, split_coarse=split_coarse)
        response = respond(result, model, parameters)
        out = Path(out) if out is not None else Path("reports") / scenario.name
        options = {"charts": charts, "formats": formats, "top": top, "paper": paper, "progress": progress}
        figures = write_outputs(result, flowset, out, force=force, bom=bom, response=response, **options)
    finally:
        progress.finish()
    return result, figures, out
