"""Time tariffcalc against DuckDB on the same synthetic flows: wall time, rows/s and peak memory.

    pip install -e '.[bench]'
    python benchmarks/run.py --rows 1000000 --runs 3
    python benchmarks/run.py --rows 10000000 --formats csv parquet --variants clean dirty duplicates

Each engine runs in its own process (so peak RSS is its own, read with os.wait4), several times; the
median is reported. Before timing, the aggregates of both engines are compared (by partner, by chapter,
by partner × chapter; relative tolerance 1e-9). Results go to the terminal and to
benchmarks/results/<date>-<host>-<rows>.md. Timing is never asserted: this is not part of the test suite.

Variants of the CSV file (benchmarks/generate.py): ``dirty`` has 0.1 % bad value cells (negative, text,
blank, suppressed), which tariffcalc rejects into rejects.csv — DuckDB's typed CSV reader stops at the
first one, so only tariffcalc runs and the check is that exactly those rows were rejected; ``duplicates``
repeats the key of another row on 30 % of the rows, which both engines sum. Each variant's time is also
given as a ratio to the clean file's (issue 12: dirty and duplicates within 1.3×).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import DIRTY_EVERY, VARIANTS, generate  # noqa: E402


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process; raises if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def _console_script() -> str:
    """The ``tariffcalc`` installed beside this Python (its venv need not be activated), else on PATH."""
    beside = shutil.which("tariffcalc", path=str(Path(sys.executable).parent))
    return beside or shutil.which("tariffcalc") or "tariffcalc"


def tariffcalc_command(flows: Path, out: Path) -> list[str]:
    """`tariffcalc run` of the benchmark scenario against a zero baseline: the CSV tables and the summary.

    ``--no-charts --format png`` leaves out the charts, report.pdf and report.xlsx, which are reports of
    the result rather than the computation DuckDB is compared with (see docs/performance.md for a run
    with everything).
    """
    command = [
        _console_script(),
        "run",
        str(HERE / "bench-liberation-day.toml"),
        "--baseline",
        str(HERE / "zero.toml"),
        "--flows",
        str(flows),
        "--out",
        str(out),
        "--quiet",
        "--force",
    ]
    help_text = subprocess.run([*command[:2], "--help"], capture_output=True, text=True, check=True).stdout
    return command + (["--no-charts", "--format", "png"] if "--no-charts" in help_text else [])


def duckdb_command(flows: Path, out: Path) -> list[str]:
    return [sys.executable, str(HERE / "reference_duckdb.py"), str(flows), "--out", str(out)]


def check_agreement(ours: Path, theirs: Path) -> float:
    """Largest relative difference between the engines' aggregates (value and duty); fails above 1e-9."""
    worst = 0.0
    for name, keys in (
        ("by_partner", ["partner"]),
        ("by_product", ["hs"]),
        ("by_partner_product", ["partner", "hs"]),
    ):
        a = pd.read_csv(ours / f"{name}.csv", dtype={"hs": str}, encoding="utf-8-sig").set_index(keys)
        b = pd.read_csv(theirs / f"{name}.csv", dtype={"hs": str}).set_index(keys)
        a, b = a.sort_index(), b.reindex(a.index)
        for mine, other in (("imports_usd", "imports_usd"), ("scenario_duty_usd", "duty_usd")):
            diff = (a[mine] - b[other]).abs() / b[other].abs().clip(lower=1.0)
            worst = max(worst, float(diff.max()))
    # tariffcalc writes cents: allow the rounding of a 2-decimal CSV on top of 1e-9
    if worst > 1e-9:
        raise SystemExit(f"engines disagree: largest relative difference {worst:.3g}")
    return worst


def check_rejects(ours: Path, expected: int) -> str:
    """The dirty file's check: exactly ``expected`` rows rejected, every one of them a bad value cell."""
    summary = json.loads((ours / "summary.json").read_text())
    by_kind = summary["reconciliation"]["rejected_by_kind"]
    rejected = summary["reconciliation"]["rejected_rows"]
    if rejected != expected or set(by_kind) - {"negative", "not_numeric", "missing", "suppressed"}:
        raise SystemExit(f"dirty file: {rejected} rows rejected ({by_kind}), expected {expected}")
    return f"{rejected} rejected"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"], choices=["csv", "parquet"])
    parser.add_argument(
        "--variants", nargs="+", default=["clean"], choices=VARIANTS, help="Variants of the CSV file."
    )
    parser.add_argument("--data", type=Path, default=HERE / "data", help="Where generated files are kept.")
    args = parser.parse_args()

    csv_path, parquet_path = generate(args.rows, args.data)
    cases = [("csv", "clean", csv_path)] if "csv" in args.formats and "clean" in args.variants else []
    cases += [("csv", v, generate(args.rows, args.data, variant=v)[0]) for v in args.variants if v != "clean"]
    cases += [("parquet", "clean", parquet_path)] if "parquet" in args.formats else []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, variant, flows in cases:
            ours, theirs = Path(tmp) / f"tc-{fmt}-{variant}", Path(tmp) / f"duck-{fmt}-{variant}"
            engines = {"tariffcalc": tariffcalc_command(flows, ours)}
            if variant != "dirty":  # DuckDB's typed reader stops at the first bad value
                engines["duckdb"] = duckdb_command(flows, theirs)
            for command in engines.values():
                measure(command)  # warm the page cache and check that it runs
            if variant == "dirty":
                check = check_rejects(ours, args.rows // DIRTY_EVERY)
            else:
                check = f"{check_agreement(ours, theirs):.1e}"
            for engine, command in engines.items():
                samples = [measure(command) for _ in range(args.runs)]
                wall = statistics.median(s[0] for s in samples)
                rss = max(s[1] for s in samples)
                rows.append(
                    {
                        "format": fmt,
                        "variant": variant,
                        "engine": engine,
                        "rows": args.rows,
                        "file_mb": round(flows.stat().st_size / 1e6, 1),
                        "wall_s": round(wall, 3),
                        "rows_per_s": round(args.rows / wall),
                        "peak_rss_mib": round(rss),
                        "check": check,
                    }
                )
    table = pd.DataFrame(rows)
    ours = table["engine"] == "tariffcalc"
    for (fmt, _), mine in table.groupby(["format", "variant"], sort=False):
        if (mine["engine"] == "duckdb").any():
            ratio = (
                mine.loc[mine["engine"] == "tariffcalc", "wall_s"].item()
                / mine.loc[mine["engine"] == "duckdb", "wall_s"].item()
            )
            table.loc[mine.index, "ratio_to_duckdb"] = round(ratio, 2)
        clean = table[ours & (table["format"] == fmt) & (table["variant"] == "clean")]
        if len(clean):
            table.loc[mine.index[mine["engine"] == "tariffcalc"], "ratio_to_clean"] = round(
                mine.loc[mine["engine"] == "tariffcalc", "wall_s"].item() / clean["wall_s"].item(), 2
            )
    table = table.fillna("")
    text = markdown(table)
    machine = f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})"
    report = (
        f"# Benchmark {dt.date.today().isoformat()}, {machine}\n\nMedian of {args.runs} runs.\n\n{text}\n"
    )
    print(report)
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"{dt.date.today().isoformat()}-{platform.node()}-{args.rows}.md").write_text(report)


def markdown(table: pd.DataFrame) -> str:
    """A pipe table of ``table`` (readable in the terminal and pasted as is into docs/performance.md)."""
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
