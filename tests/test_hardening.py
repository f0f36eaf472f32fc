"""Hostile inputs (issue 14): every error a user can cause is one ``Error: …`` line naming the file, line
or option, exit status 2, no traceback; nothing is read or written outside where it belongs; an output
folder always holds exactly one run's files.

The hostile files are in tests/data/hostile/ (``inner/`` holds scenarios whose references try to leave
their folder for ``outside/``); a 2,000-file ``extends`` chain and the output folders are made in tmp_path.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tariffcalc.app import api
from tariffcalc.app.cli import cli
from tariffcalc.errors import OutputError, ScenarioError
from tariffcalc.read.flows import load_flows
from tariffcalc.report import bundle
from tariffcalc.rules.scenario import MAX_EXTENDS, load_scenario
from tariffcalc.util import files

from .conftest import REPO, ZERO_BASELINE

HOSTILE = REPO / "tests" / "data" / "hostile"


def invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def error_line(result) -> str:
    """The one line a failed command printed: exit status 2, one ``Error: …`` line on stderr, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.fixture
def small(tmp_path) -> dict[str, Path]:
    """Two rows of flows, a zero baseline and the base scenario (10 % on everything)."""
    flows = tmp_path / "flows.csv"
    flows.write_text("partner,hs,value_usd\nCHN,8703,1000\nDEU,0101,500\n", encoding="utf-8")
    zero = tmp_path / "zero.toml"
    zero.write_text(ZERO_BASELINE, encoding="utf-8")
    return {"flows": flows, "zero": zero, "base": HOSTILE / "base.toml", "tmp": tmp_path}


def run_args(small, scenario, out, *more) -> list:
    return ["run", scenario, "--flows", small["flows"], "--baseline", small["zero"], "--out", out, *more]


# ------------------------------------------------------------------------------------------ scenarios

SCENARIO_ERRORS = {
    "latin1.toml": "{p}:1: the scenario file is not UTF-8 text (byte 0xe9); save it as UTF-8.",
    "deep.toml": "{p}: the scenario file nests arrays or tables 5000 levels deep; at most 100 are read.",
    "list_empty.toml": "{p}:9: cannot read product file {d}/empty.csv: it is empty (it needs a header line "
    "with a column 'hs').",
    "list_binary.toml": "{p}:9: cannot read product file {d}/binary.csv: it is a binary file, not a CSV file.",
    "list_malformed.toml": "{p}:9: cannot read product file {d}/malformed.csv: it is not a well-formed CSV "
    "file (C error: EOF inside string starting at row 1).",
    "list_nul.toml": "{p}:9: product file 'list\\x00.csv' is not a file name (text, without control "
    "characters such as NUL).",
    "remove_not_text.toml": "{p}:3: 'remove_measures' must be a list of measure ids in quotes, e.g. "
    '["s232-autos"], not 1.',
    "value_share_out_of_range.toml": "{d}/shares_out_of_range.csv:4: share = '1.5' is not a share between 0 "
    "and 1 (empty: no share known).",
    "high_rates_no.toml": "{p}:9: 'high_rates' must be true or false (without quotes), not 'no'.",
    "self_preempt.toml": "{p}:9: measure 'flat' cannot be pre-empted by itself.",
    "mutual_preempt.toml": "{p}:9: measures 'one' and 'two' pre-empt each other, so neither would ever "
    "apply; keep 'preempted_by' on one of them (or use a [[stacking]] order).",
    "name_path.toml": "{p}:3: name = '../../elsewhere' is not a scenario name: use letters, digits, '-' and "
    "'_' (at most 100); it names output folders (reports/<name>), so it can be no path.",
    "name_absolute.toml": "{p}:3: name = '/tmp/elsewhere' is not a scenario name: use letters, digits, '-' "
    "and '_' (at most 100); it names output folders (reports/<name>), so it can be no path.",
    "inner/extends_outside.toml": "{p}:2: cannot load 'extends = '../outside/secret'': '../outside/secret' "
    "points outside the scenario's folder; copy it next to the scenario file (paths in a scenario file "
    "cannot leave its folder).",
    "inner/list_outside.toml": "{p}:9: product file '../outside/list.csv' points outside the scenario's "
    "folder; copy it next to the scenario file.",
    "inner/value_share_outside.toml": "{p}:9: value_share file '../outside/shares.csv' points outside the "
    "scenario's folder; copy it next to the scenario file.",
    "inner/elasticities_outside.toml": "{p}:4: elasticities file '../outside/elasticities.csv' points "
    "outside the scenario's folder; copy it next to the scenario file.",
}


@pytest.mark.parametrize("name", sorted(SCENARIO_ERRORS))
def test_a_hostile_scenario_is_one_line_with_its_file_and_line(name):
    path = HOSTILE / name
    line = error_line(invoke("scenarios", "show", path))
    assert line == "Error: " + SCENARIO_ERRORS[name].format(p=path, d=HOSTILE)
    assert "SECRET" not in line  # nothing of a file outside the scenario's folder is read or shown


def test_a_long_extends_chain_stops_at_the_depth_limit(tmp_path):
    for i in range(2000):
        parent = (
            f'extends = "c{i - 1}"\n'
            if i
            else '[[measure]]\nid = "m"\nauthority = "a"\ncitation = "c"\nrate = 0.1\n'
        )
        (tmp_path / f"c{i}.toml").write_text(f"as_of = 2025-01-01\n{parent}", encoding="utf-8")
    started = time.perf_counter()
    line = error_line(invoke("scenarios", "show", tmp_path / "c1999.toml"))
    assert line == (
        f"Error: {tmp_path / 'c1999.toml'}: 'extends' goes more than {MAX_EXTENDS} scenarios deep (c1999 → "
        f"c1998 → … → c{1999 - MAX_EXTENDS - 1}); a scenario can build on at most {MAX_EXTENDS} others: "
        "merge some of them into one file."
    )
    assert time.perf_counter() - started < 30
    assert load_scenario(tmp_path / f"c{MAX_EXTENDS}.toml").lineage[-1] == "c0"  # the limit itself loads


def test_an_unreadable_scenario_file_is_one_line(tmp_path, monkeypatch):
    locked = tmp_path / "locked.toml"
    locked.write_text((HOSTILE / "base.toml").read_text(encoding="utf-8"), encoding="utf-8")
    real = pathlib.Path.read_bytes

    def refuse(self):
        if self.name == "locked.toml":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", refuse)
    line = error_line(invoke("scenarios", "show", locked))
    assert (
        line == f"Error: {locked}: cannot read the scenario file: permission denied: check its permissions."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_scenario_file_without_read_permission(tmp_path):
    locked = tmp_path / "locked.toml"
    locked.write_text((HOSTILE / "base.toml").read_text(encoding="utf-8"), encoding="utf-8")
    locked.chmod(0)
    assert "cannot read the scenario file: permission denied" in error_line(
        invoke("scenarios", "show", locked)
    )


def test_a_scenario_name_is_an_id_and_a_file_name_becomes_one(tmp_path):
    path = tmp_path / "my scenario.v2.toml"
    path.write_text("as_of = 2025-01-01\n" + (HOSTILE / "base.toml").read_text().split("\n\n", 1)[1])
    assert load_scenario(path).name == "my-scenario-v2"
    with pytest.raises(ScenarioError, match="not a scenario name"):
        load_scenario(HOSTILE / "name_path.toml")
    with pytest.raises(ScenarioError, match="is not an id"):  # nor a scenario built in code
        dataclasses.replace(load_scenario(path), name="../elsewhere")


def test_extends_without_suffix_resolves_inside_the_folder_or_bundled(tmp_path):
    (tmp_path / "parent.toml").write_text((HOSTILE / "base.toml").read_text(), encoding="utf-8")
    (tmp_path / "child.toml").write_text('extends = "parent"\n', encoding="utf-8")
    (tmp_path / "bundled.toml").write_text('extends = "universal-10"\n', encoding="utf-8")
    assert load_scenario(tmp_path / "child.toml").lineage == ("child", "base")
    assert load_scenario(tmp_path / "bundled.toml").lineage[1] == "universal-10"
    (tmp_path / "absolute.toml").write_text(
        f'extends = "{HOSTILE / "outside" / "secret"}"\n', encoding="utf-8"
    )
    with pytest.raises(ScenarioError, match="points outside the scenario's folder") as caught:
        load_scenario(tmp_path / "absolute.toml")
    assert "SECRET" not in str(caught.value)


def test_a_timeline_file_cannot_reach_outside_its_folder(tmp_path):
    (tmp_path / "inner").mkdir()
    timeline = tmp_path / "inner" / "t.toml"
    timeline.write_text(
        f'[[regime]]\nstart = 2025-01-01\nscenario = "{HOSTILE / "outside" / "secret.toml"}"\nsource = "x"\n',
        encoding="utf-8",
    )
    line = error_line(invoke("timeline", timeline, "--year", "2025"))
    assert "points outside the scenario's folder" in line and "SECRET" not in line


def test_warnings_rate_above_one_and_in_baseline_above_the_rate():
    rate = invoke("scenarios", "show", HOSTILE / "rate_ten.toml")
    assert rate.exit_code == 0
    assert rate.stderr == (
        f"Warning: {HOSTILE / 'rate_ten.toml'}:10: rate = 10 means 1000%; if you meant 10% write 0.1, if you "
        "do mean it add `high_rates = true` to the measure.\n"
    )
    negative = invoke("scenarios", "show", HOSTILE / "negative_duty.toml")
    assert negative.exit_code == 0
    assert negative.stderr == (
        f"Warning: {HOSTILE / 'negative_duty.toml'}:9: measure 'flat': in_baseline = 0.25 is above its rate "
        "(0.1), so it lowers the duty by 15.0% of the value (a negative added duty); right only if the "
        "measure cuts a 2024 duty, otherwise lower in_baseline.\n"
    )


def test_run_and_compare_say_the_rate_warning(small):
    out = small["tmp"] / "out"
    result = invoke(*run_args(small, HOSTILE / "rate_ten.toml", out, "--no-charts", "--quiet"))
    assert result.exit_code == 0, result.output
    assert "Warning: " in result.stderr and "rate = 10 means 1000%" in result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("rate = 10 means 1000%" in w for w in summary["warnings"])
    compared = invoke(
        "compare", small["base"], HOSTILE / "rate_ten.toml", "--flows", small["flows"],
        "--baseline", small["zero"], "--out", small["tmp"] / "compare", "--quiet",
    )  # fmt: skip
    assert compared.exit_code == 0, compared.output
    assert "rate = 10 means 1000%" in compared.stderr


# ------------------------------------------------------------------------------------------ options


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("measure.flat.rate=nan:1:3", "'measure.flat.rate=nan:1:3': START and STOP must be finite numbers."),
        ("measure.flat.rate=-5:1:3", "measure.flat.rate = -5 is outside [0, 10]: the value is a rate (a "
         "fraction: 0.25 = 25 %)."),
        ("measure.flat.rate=0:50:3", "measure.flat.rate = 25 is outside [0, 10]: the value is a rate (a "
         "fraction: 0.25 = 25 %)."),
        ("measure.flat.applies_to_share=0:2:3", "measure.flat.applies_to_share = 2 is outside [0, 1]: the "
         "value is a share."),
        ("measure.flat.rate=0:1:100000000", "'measure.flat.rate=0:1:100000000': STEPS must be between 1 and "
         "1,000, not 100,000,000."),
        ("measure.flat.rate=0:0:3", "measure.flat.rate: a value repeats (0, 0, 0…); give distinct values "
         "(START different from STOP, or STEPS = 1)."),
        ("measure.flat.rate", "'measure.flat.rate': write NAME=START:STOP:STEPS, e.g. measure.x.rate=0:0.5:6."),
    ],
)  # fmt: skip
def test_sweep_values_have_limits(small, param, message):
    result = invoke(
        "sweep", small["base"], "--param", param, "--flows", small["flows"], "--out", small["tmp"] / "s"
    )
    assert error_line(result) == f"Error: --param: {message}"
    assert not (small["tmp"] / "s").exists()


def test_a_sweep_grid_has_at_most_a_thousand_points(small):
    result = invoke(
        "sweep", small["base"], "--param", "measure.flat.rate=0:1:100",
        "--param", "measure.flat.applies_to_share=0:1:100", "--flows", small["flows"],
    )  # fmt: skip
    assert error_line(result) == (
        "Error: --param: the sweep has 10,000 points; at most 1,000 are computed: use fewer steps."
    )


def test_timeline_year_zero_is_an_error_not_2025(small):
    result = invoke("timeline", "us-2025", "--year", "0", "--out", small["tmp"] / "t")
    assert error_line(result) == "Error: --year: 0 is not a year to price; give a calendar year such as 2025."


def test_dask_on_a_folder_that_is_not_parquet(small):
    pytest.importorskip("dask.dataframe")
    folder = small["tmp"] / "dataset"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes(small["flows"].read_bytes())
    args = run_args(small, small["base"], small["tmp"] / "out", "--engine", "dask")
    result = invoke(*args[:2], "--flows", folder, *args[4:])
    assert error_line(result) == (
        f"Error: {folder} is not a Parquet dataset: {folder}/part-0.parquet is not a Parquet file (convert it, "
        "or remove it)."
    )


# ------------------------------------------------------------------------------------------ flows


def test_a_header_with_spaces_and_quotes_is_read(small):
    out = small["tmp"] / "out"
    args = run_args(small, small["base"], out, "--no-charts", "--quiet")
    result = invoke(*args[:2], "--flows", HOSTILE / "header_spaces_quote.csv", *args[4:])
    assert result.exit_code == 0, result.output
    partners = pd.read_csv(out / "by_partner.csv", encoding="utf-8-sig").set_index("partner")
    assert partners.loc["CHN", "imports_usd"] == 1000 and partners.loc["DEU", "imports_usd"] == 500


@pytest.mark.parametrize(
    ("name", "note"),
    [
        (
            "overlapping_periods.csv",
            "note: 1 partner-product pair(s) have rows for overlapping periods, and all are added up (e.g. CHN "
            "8703: line 2 (2024), line 3 (2024-01), line 4 (no period)); keep one kind of period — a year or "
            "its months, each row with its period",
        ),
        (
            "decimal_comma_conflict.csv",
            "note: numbers are read with a decimal comma because of '2,5' on line 2, so '1,500' on line 3 is "
            "1.5, not 1500; if commas separate thousands in this file, correct line 2",
        ),
    ],
)
def test_the_reader_notes_rows_that_may_count_otherwise_than_meant(small, name, note):
    checked = invoke("validate", HOSTILE / name)
    assert checked.exit_code == 0 and f"  {note}\n" in checked.stdout
    args = run_args(small, small["base"], small["tmp"] / "out", "--no-charts")
    ran = invoke(*args[:2], "--flows", HOSTILE / name, *args[4:])
    assert ran.exit_code == 0, ran.output
    assert f"  {note}\n" in ran.stderr


@pytest.fixture(scope="module")
def scheduler():
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_dask_reads_a_file_without_periods_and_notes_overlapping_ones(small, scheduler):
    """Dask runs the local reader's chunk function: the same sums and the same note as the local engine."""
    from tariffcalc.engine import dask_engine

    flowset = dask_engine.load_flows([small["flows"]], scheduler=scheduler)
    assert flowset.flows["value_usd"].sum() == 1500
    overlapping = dask_engine.load_flows([HOSTILE / "overlapping_periods.csv"], scheduler=scheduler)
    local = load_flows([HOSTILE / "overlapping_periods.csv"], aggregate=True)
    assert overlapping.files[0].notes == local.files[0].notes
    assert any("overlapping periods" in note for note in overlapping.files[0].notes)


# ------------------------------------------------------------------------------------------ the CLI


def test_the_one_place_maps_os_and_recursion_errors(monkeypatch):
    from tariffcalc.rules import scenario

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", "/mnt/share/x.toml")

    monkeypatch.setattr(scenario, "load_scenario", broken)
    assert error_line(invoke("rates", "base")) == "Error: /mnt/share/x.toml: Input/output error."

    def deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(scenario, "load_scenario", deep)
    assert error_line(invoke("rates", "base")).startswith("Error: An input is nested too deeply to read")
    debug = invoke("--debug", "rates", "base")
    assert isinstance(debug.exception, RecursionError)


# ------------------------------------------------------------------------------------------ output folders


def test_output_errors_name_the_folder_and_what_to_do(small):
    tmp = small["tmp"]
    (tmp / "afile").write_text("x")
    under_file = tmp / "afile" / "out"
    line = error_line(invoke(*run_args(small, small["base"], under_file, "--no-charts")))
    assert line == (
        f"Error: --out: Cannot create the output folder {under_file}: {tmp / 'afile'} is a file, not a folder; "
        "choose another path."
    )
    long = tmp / ("x" * 300)
    line = error_line(invoke(*run_args(small, small["base"], long, "--no-charts")))
    assert line == (
        f"Error: --out: Output folder name {'x' * 40}… is 300 bytes long; file systems allow at most 255: "
        "choose a shorter name."
    )


def test_a_read_only_or_full_disk_leaves_the_previous_folder(small, monkeypatch):
    out = small["tmp"] / "out"
    assert invoke(*run_args(small, small["base"], out, "--no-charts", "--quiet")).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(files, "write_bytes", full)
    line = error_line(invoke(*run_args(small, small["base"], out, "--no-charts", "--quiet")))
    assert line == (
        f"Error: --out: Cannot write the output folder {out} ({out / 'by_partner.csv'}): the disk is full: "
        "free some space, or choose another disk."
    )
    monkeypatch.undo()

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system", str(out.parent))

    monkeypatch.setattr(files.tempfile, "mkdtemp", read_only)
    line = error_line(invoke(*run_args(small, small["base"], out, "--no-charts", "--quiet")))
    assert line == (
        f"Error: --out: Cannot write the output folder {out} ({out.parent}): the file system is read-only: "
        "choose a folder you may write to."
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".out.")) == [
        ".out.tariffcalc-lock"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_parent(small):
    parent = small["tmp"] / "locked"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        line = error_line(invoke(*run_args(small, small["base"], parent / "out", "--no-charts")))
    finally:
        parent.chmod(0o755)
    assert line.startswith(f"Error: --out: Cannot write the output folder {parent / 'out'}")


def test_a_rerun_leaves_nothing_of_the_earlier_run(small):
    out = small["tmp"] / "out"
    first = invoke(*run_args(small, small["base"], out, "--format", "png", "--quiet"))
    assert first.exit_code == 0, first.output
    assert any((out / "charts").glob("*.png"))
    again = invoke(*run_args(small, small["base"], out, "--no-charts", "--quiet"))
    assert again.exit_code == 0, again.output
    assert not (out / "charts").exists()
    listed = json.loads((out / files.MANIFEST).read_text(encoding="utf-8"))["files"]
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted([*listed, files.MANIFEST])
    assert not [p for p in out.parent.iterdir() if "staging" in p.name or "-old-" in p.name]


def _tables(marker: str) -> dict[str, pd.DataFrame]:
    return {"a": pd.DataFrame({"run": [marker]}), "b": pd.DataFrame({"run": [marker]})}


def test_the_bundle_writer_replaces_the_folder_and_keeps_only_forced_foreign_files(tmp_path):
    out = tmp_path / "out"
    bundle.write_bundle(out, _tables("one"), {"command": "test"})
    bundle.write_bundle(out, {"a": pd.DataFrame({"run": ["two"]})}, {"command": "test"})
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "manifest.json"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"did not write \(notes.txt\)"):
        bundle.write_bundle(out, _tables("three"), {"command": "test"})
    bundle.write_bundle(out, _tables("three"), {"command": "test"}, force=True)
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / files.MANIFEST).read_text())["files"] == ["a.csv", "b.csv"]
    legacy = tmp_path / "legacy"  # a folder of an earlier version: a manifest without "files"
    legacy.mkdir()
    (legacy / files.MANIFEST).write_text("{}")
    (legacy / "by_partner.csv").write_text("old")
    (legacy / "thesis.docx").write_text("mine")
    with pytest.raises(OutputError, match=r"did not write \(thesis.docx\)"):
        bundle.write_bundle(legacy, _tables("x"), {"command": "test"})
    (legacy / "thesis.docx").unlink()
    bundle.write_bundle(legacy, _tables("x"), {"command": "test"})
    assert sorted(p.name for p in legacy.iterdir()) == ["a.csv", "b.csv", "manifest.json"]


def test_the_current_folder_is_never_an_output_folder(tmp_path, monkeypatch):
    (tmp_path / "out" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "out" / "sub")
    with pytest.raises(OutputError, match="is the current folder or holds it"):
        bundle.write_bundle(tmp_path / "out", _tables("x"), {"command": "test"}, force=True)


def _hold_lock(out: Path):
    handle = open(out.parent / files._hidden(out.resolve(), "lock"), "a+b")  # noqa: SIM115
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


def test_a_second_writer_waits_for_the_lock_or_refuses(tmp_path, monkeypatch):
    out = tmp_path / "out"
    held = _hold_lock(out)
    monkeypatch.setattr(files, "LOCK_WAIT_SECONDS", 0.3)
    with pytest.raises(OutputError) as refused:
        bundle.write_bundle(out, _tables("x"), {"command": "test"})
    lock = tmp_path / ".out.tariffcalc-lock"
    assert str(refused.value) == (
        f"Another tariffcalc command is writing the output folder {out} (it holds {lock}); wait for it to "
        "finish, or choose another output folder."
    )
    assert not out.exists()
    monkeypatch.setattr(files, "LOCK_WAIT_SECONDS", 10)
    threading.Timer(0.5, held.close).start()  # the other writer finishes
    started = time.perf_counter()
    bundle.write_bundle(out, _tables("x"), {"command": "test"})
    assert 0.4 < time.perf_counter() - started < 10
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "manifest.json"]


def test_two_writers_at_once_leave_one_writers_folder(tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = bundle.write_csv

    def slow(table, path, bom=True):
        time.sleep(0.2)
        real(table, path, bom=bom)

    monkeypatch.setattr(bundle, "write_csv", slow)
    failed: list[BaseException] = []

    def write(name: str) -> None:
        try:
            bundle.write_bundle(out, _tables(name), {"command": name})
        except BaseException as exc:
            failed.append(exc)

    writers = [threading.Thread(target=write, args=(name,)) for name in ("one", "two")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert not failed  # the second waited for the first
    command = json.loads((out / files.MANIFEST).read_text())["command"]
    for name in ("a", "b"):
        assert pd.read_csv(out / f"{name}.csv", encoding="utf-8-sig")["run"].tolist() == [command]


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import pandas as pd
    from tariffcalc.report import bundle
    real = bundle.write_csv
    def write_then_die(table, path, bom=True):
        real(table, path, bom=bom)
        os.kill(os.getpid(), signal.SIGKILL)
    bundle.write_csv = write_then_die
    tables = {"a": pd.DataFrame({"run": ["new"]}), "b": pd.DataFrame({"run": ["new"]})}
    bundle.write_bundle(Path(sys.argv[1]), tables, {"command": "killed"})
    """
)


def test_kill_9_mid_write_leaves_the_previous_folder(tmp_path):
    out = tmp_path / "out"
    bundle.write_bundle(out, _tables("old") | {"c": pd.DataFrame({"x": [1]})}, {"command": "old"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED, str(out)], capture_output=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p for p in tmp_path.iterdir() if "staging" in p.name]  # the half-written folder, beside
    bundle.write_bundle(out, _tables("next"), {"command": "next"})
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "manifest.json"]


def test_a_folder_moved_aside_by_a_killed_swap_comes_back(tmp_path):
    out = tmp_path / "out"
    bundle.write_bundle(out, _tables("old"), {"command": "old"})
    aside = tmp_path / (files._hidden(out, "old") + "-dead")
    out.rename(aside)  # killed between the two renames of the swap
    with pytest.raises(RuntimeError), files.output_folder(out):
        raise RuntimeError("the next command fails before its swap")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "manifest.json"]
    assert not aside.exists()


def test_api_run_refuses_a_busy_folder_with_the_option_named(small, monkeypatch):
    out = small["tmp"] / "out"
    held = _hold_lock(out)
    monkeypatch.setattr(files, "LOCK_WAIT_SECONDS", 0)
    try:
        line = error_line(invoke(*run_args(small, small["base"], out, "--no-charts", "--quiet")))
    finally:
        held.close()
    assert line.startswith(f"Error: --out: Another tariffcalc command is writing the output folder {out}")
    with pytest.raises(OutputError):
        held = _hold_lock(out)
        try:
            api.run(small["base"], [small["flows"]], small["zero"], out=out, charts=False)
        finally:
            held.close()
