"""The library API that the command line and notebooks share.

>>> import tariffcalc
>>> flows = tariffcalc.load_flows()                       # bundled 2024 US imports
>>> result = tariffcalc.compute(flows, "liberation-day")  # static duties vs baseline-2024
>>> result.by_partner().head()
"""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from typing import Any

import pandas as pd

from tariffcalc import __version__, duties
from tariffcalc.flows import FlowSet, load_flows
from tariffcalc.report import files, summary, tables
from tariffcalc.scenario import Scenario, load_scenario

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
) -> duties.Result:
    """Static duties of ``scenario`` against ``baseline`` on ``flows`` (default: bundled 2024 US imports).

    ``flows`` is a :class:`FlowSet` from :func:`load_flows` or a canonical DataFrame (``partner``, ``hs``,
    ``value_usd`` in USD). Scenarios are bundled names or paths to TOML files.
    """
    if flows is None:
        flows = load_flows()
    frame = flows.flows if isinstance(flows, FlowSet) else flows
    return duties.compute(frame, _scenario(scenario), _scenario(baseline), as_of=as_of, level=level)


def _manifest(result: duties.Result, flowset: FlowSet) -> dict[str, Any]:
    return {
        "tool": "tariffcalc",
        "version": __version__,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "inputs": [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in flowset.files],
        "parameters": {"as_of": result.as_of.isoformat(), "level": result.level, "model": "static"},
        "scenario": result.scenario.to_dict(),
        "baseline": result.baseline.to_dict(),
    }


def write_outputs(
    result: duties.Result, flowset: FlowSet, out: Path, force: bool = False, bom: bool = True
) -> dict[str, Any]:
    """Write the output contract of ``run`` (DESIGN.md) into ``out`` and return the summary figures."""
    inputs = [Path(f.path) for f in flowset.files]
    if result.scenario.path:
        inputs.append(result.scenario.path)
    out = files.prepare_output_dir(out, inputs, force=force)
    by_partner = result.by_partner()
    by_product = result.by_product()
    tables.write_csv(by_partner, out / "by_partner.csv", bom=bom)
    tables.write_csv(by_product, out / "by_product.csv", bom=bom)
    pairs = result.by_partner_product()
    tables.write_csv(pairs, out / "by_partner_product.csv", bom=bom)
    tables.write_csv(result.by_measure(), out / "by_measure.csv", bom=bom)
    tables.write_csv(flowset.rejects, out / "rejects.csv", bom=bom)
    figures = summary.build_summary(result, flowset, by_partner, by_product)
    files.write_json(out / "summary.json", figures)
    files.write_text(out / "summary.md", summary.to_markdown(figures))
    files.write_json(out / files.MANIFEST, _manifest(result, flowset))
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
) -> tuple[duties.Result, dict[str, Any], Path]:
    """Everything ``tariffcalc run`` does: load, compute, write. Returns (result, summary, output folder)."""
    scenario = _scenario(scenario)
    flowset = load_flows(flows, importer=scenario.importer)
    result = compute(flowset, scenario, baseline, as_of=as_of, level=level)
    out = Path(out) if out is not None else Path("reports") / scenario.name
    figures = write_outputs(result, flowset, out, force=force, bom=bom)
    return result, figures, out
