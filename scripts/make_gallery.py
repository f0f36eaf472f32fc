"""Regenerate reports/, the gallery of the default run: the chart PNGs, report.pdf and gallery.json.

    python scripts/make_gallery.py

runs the default job (``tariffcalc run``: liberation-day vs baseline-2024 on the bundled 2024 data, A4,
top 15) in a temporary folder and copies the PNGs and report.pdf into reports/, with the margins chart of
``tariffcalc brief UKR`` (the same scenario) as brief-UKR.png. gallery.json records the
SHA-256 of every copied file and of each chart's data (the CSV of the numbers it draws), with the
matplotlib version that drew them; tests/test_reports.py checks that the gallery is current.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import matplotlib

from tariffcalc import __version__
from tariffcalc.app import api
from tariffcalc.app.brief import brief
from tariffcalc.report import brief as brief_report
from tariffcalc.report import charts
from tariffcalc.report.charts import CHART_NAMES

GALLERY = Path(__file__).resolve().parent.parent / "reports"
MANIFEST = "gallery.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(folder: Path) -> dict[str, object]:
    """Run the default job into ``folder``/run, copy the gallery files into ``folder``; return the manifest."""
    run = folder / "run"
    api.run(out=run, formats=("png", "pdf"))
    files = {}
    for name in CHART_NAMES:
        shutil.copyfile(run / "charts" / f"{name}.png", folder / f"{name}.png")
        files[f"{name}.png"] = _sha256(folder / f"{name}.png")
    shutil.copyfile(run / "report.pdf", folder / "report.pdf")
    files["report.pdf"] = _sha256(folder / "report.pdf")
    chart_data = {name: _sha256(run / "charts" / f"{name}.csv") for name in CHART_NAMES}
    ukraine = brief("UKR")
    margins = brief_report.main_charts(ukraine.figures, ukraine.products)[1]
    charts.write([margins], brief_report.context(ukraine.figures), run / "brief", formats=("png",))
    shutil.copyfile(run / "brief" / f"{margins.name}.png", folder / "brief-UKR.png")
    files["brief-UKR.png"] = _sha256(folder / "brief-UKR.png")
    chart_data["brief-UKR"] = _sha256(run / "brief" / f"{margins.name}.csv")
    return {
        "command": "tariffcalc run (liberation-day vs baseline-2024, bundled 2024 data, A4, top 15); "
        "tariffcalc brief UKR (its margins chart)",
        "tariffcalc": __version__,
        "matplotlib": matplotlib.__version__,
        "files": files,
        "chart_data": chart_data,
    }


def main() -> int:
    """Rebuild reports/ from the default run and print what was written."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        manifest = build(folder)
        GALLERY.mkdir(exist_ok=True)
        for name in manifest["files"]:
            shutil.copyfile(folder / name, GALLERY / name)
    (GALLERY / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for name in [*manifest["files"], MANIFEST]:
        print(f"wrote reports/{name} ({(GALLERY / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
