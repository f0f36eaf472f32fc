"""The one writer of an output folder ("bundle"): tables as spreadsheet-safe CSV, charts, and a manifest.

Every command that writes a folder (``compare``, ``sweep``, ``timeline``, ``refunds``, ``gsim``, ``brief``,
``reciprocal --out``; ``run`` through ``tariffcalc.app.api.write_outputs``, on the same staging folder and
lock) ends here, so every folder carries the same ``manifest.json``: the tool and its version, the Python
and pandas versions, the time, each input file with its SHA-256, what the command was asked to do, and
the files it wrote.
"""

from __future__ import annotations

import datetime as dt
import platform
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tariffcalc._version import __version__
from tariffcalc.report.tables import write_csv
from tariffcalc.util.files import output_folder, write_bytes, write_manifest
from tariffcalc.util.hashing import sha256_file


def input_entries(flowset: Any = None, files: Iterable[str | Path] = ()) -> list[dict[str, Any]]:
    """The ``inputs`` of a manifest: the flow files a :class:`FlowSet` read (with their rows) and other files."""
    entries = [{"path": f.path, "sha256": f.sha256, "rows": f.rows} for f in (flowset.files if flowset else [])]
    entries += [{"path": str(p), "sha256": sha256_file(p)} for p in files]
    return entries


def manifest(command: str, inputs: Sequence[Mapping[str, Any]], **fields: Any) -> dict[str, Any]:
    """A manifest: who wrote the folder, when, from which inputs, and the command's own ``fields``."""
    return {
        "tool": "tariffcalc",
        "version": __version__,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "command": command,
        "inputs": list(inputs),
        **fields,
    }


def write_bundle(
    out: Path,
    tables: Mapping[str, pd.DataFrame],
    manifest_data: Mapping[str, Any],
    protect: Iterable[Path] = (),
    drawn: tuple[list, Any] | None = None,
    force: bool = False,
    bom: bool = True,
    files: Mapping[str, bytes] | None = None,
) -> Path:
    """Write ``tables`` (file stem → DataFrame) as CSV into ``out``, the charts of ``drawn`` = (charts,
    context) beside them (PNG, PDF and each chart's data as CSV), the ready-made ``files`` (file name →
    bytes: a summary.md, a PDF report), then manifest.json (listing the files); return the folder.

    The folder is replaced as a whole when everything is written (:func:`tariffcalc.util.files.output_folder`:
    staged, under a lock, nothing of an earlier run left); ``protect`` are input files that must not lie
    inside ``out``; ``force`` writes into a folder holding files tariffcalc did not write (they are kept).
    """
    with output_folder(Path(out), list(protect), force=force) as staging:
        for name, table in tables.items():
            write_csv(table, staging.path / f"{name}.csv", bom=bom)
        if drawn is not None:
            from tariffcalc.report import charts

            charts.write(*drawn, staging.path, bom=bom)
        for name, data in (files or {}).items():
            write_bytes(staging.path / name, data)
        write_manifest(staging.path, dict(manifest_data))
    return staging.folder
