"""Issue 12: every path reads flows with the same validators. Each case of the issue's "Why" list is here.

The paths: ``tariffcalc run`` (the local engine, flows summed by pair), ``tariffcalc validate``, the table of
accepted rows (``load_flows()``), the same rows as a Parquet file, a DataFrame, and ``--engine dask``
(skipped without Dask). Each must accept the same rows with the same totals and reject the same lines.
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import tariffcalc
from tariffcalc.app.cli import cli
from tariffcalc.app.validate import validate
from tariffcalc.errors import FlowsError
from tariffcalc.read.flows import load_flows, read_flowset

from .conftest import CHINA

HEADER = "partner,hs,period,value_usd\n"
HAS_DASK = importlib.util.find_spec("distributed") is not None


@pytest.fixture(scope="module")
def scheduler():
    if not HAS_DASK:
        yield None
        return
    import distributed

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def summed(flowset) -> dict:
    frame = flowset.flows.astype({"partner": str, "hs": str})
    return frame.groupby(["partner", "hs"])["value_usd"].sum().to_dict()


def rejected(flowset) -> list:
    return list(
        zip(flowset.issues["source_file"], flowset.issues["line"], flowset.issues["kind"], strict=True)
    )


def assert_paths_agree(paths: list[Path], scheduler) -> tuple[dict, list]:
    """Read ``paths`` on every path; all must agree. Returns (accepted value by pair, rejected lines)."""
    run = load_flows(paths, aggregate=True)
    totals, lines = summed(run), rejected(run)
    rows = load_flows(paths)
    assert (summed(rows), rejected(rows)) == (pytest.approx(totals), lines)
    report = validate(paths)
    assert not report["errors"], report["errors"]
    kinds = sorted((p["kind"], p["rows"]) for p in report["problems"])
    assert kinds == sorted((k, [r[2] for r in lines].count(k)) for k in {r[2] for r in lines})
    assert report["totals"]["accepted_value_usd"] == pytest.approx(sum(totals.values()))
    if scheduler:
        from tariffcalc.engine import dask_engine

        dask = dask_engine.load_flows(paths, scheduler=scheduler)
        assert (summed(dask), rejected(dask)) == (pytest.approx(totals), lines)
    return totals, lines


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode())
    return path


# ------------------------------------------------------------------------------ float-looking HS codes


FLOATS = (
    HEADER
    + "ARG,101210010.0,2024,100\nBRA,90111.0,2024,200\nCHN,847.1,2024,5\nDEU,8.7.0.3,2024,7\nFRA,0101,2024,1\n"
)


def test_float_looking_codes_are_rejected_on_every_path(tmp_path, scheduler):
    path = write(tmp_path, "floats.csv", FLOATS)
    totals, lines = assert_paths_agree([path], scheduler)
    assert totals == {("FRA", "0101"): 1.0}
    assert lines == [(str(path), line, "malformed_hs") for line in (2, 3, 4, 5)]
    parquet = tmp_path / "floats.parquet"
    pd.read_csv(path, dtype=str).to_parquet(parquet, index=False)  # the same cells, as text
    from_parquet = load_flows([parquet], aggregate=True)
    assert from_parquet.issues["line"].tolist() == [2, 3, 4, 5]
    assert set(from_parquet.issues["kind"]) == {"malformed_hs"}


def test_float_looking_codes_fail_a_strict_run(tmp_path):
    path = write(tmp_path, "floats.csv", FLOATS)
    result = CliRunner().invoke(cli, ["run", "--flows", str(path), "--strict", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --strict: 4 row(s) rejected ($312.00 of $313.00): {path}:2:hs: ")
    assert "malformed HS code 101210010.0" in result.stderr and "a number with decimals" in result.stderr


# --------------------------------------------------------------------------------- CR-only line ends


def test_cr_only_line_ends_are_read_alone_and_beside_another_file(tmp_path, scheduler):
    mac = write(tmp_path, "mac.csv", HEADER.replace("\n", "\r") + "CHN,0101,2024,5\rDEU,8703,2024,7\r")
    other = write(tmp_path, "other.csv", HEADER + "JPN,0101,2024,3\n")
    alone, _ = assert_paths_agree([mac], scheduler)
    assert alone == {("CHN", "0101"): 5.0, ("DEU", "8703"): 7.0}
    both, _ = assert_paths_agree([mac, other], scheduler)
    assert both == {("CHN", "0101"): 5.0, ("DEU", "8703"): 7.0, ("JPN", "0101"): 3.0}
    bad = write(tmp_path, "macbad.csv", HEADER.replace("\n", "\r") + "CHN,0101,2024,5\r\rXXX,8703,2024,7\r")
    _, lines = assert_paths_agree([bad], scheduler)
    assert lines == [(str(bad), 4, "unknown_partner")]  # the blank line counts


# -------------------------------------------------------------------------------------------- periods


def test_period_1850_is_rejected_by_run_as_by_validate(tmp_path, scheduler):
    path = write(tmp_path, "old.csv", HEADER + "CHN,0101,1850,5\nDEU,8703,2024,7\n")
    totals, lines = assert_paths_agree([path], scheduler)
    assert totals == {("DEU", "8703"): 7.0} and lines == [(str(path), 2, "bad_period")]
    result = CliRunner().invoke(cli, ["run", "--flows", str(path), "--strict", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "period must be YYYY or YYYY-MM: 1850" in result.stderr


# ------------------------------------------------------------------------------------------ DataFrames


def test_compute_reads_a_dataframe_through_the_same_validators(tmp_path, write_scenario, zero_baseline):
    china = write_scenario(CHINA, name="china")
    frame = pd.DataFrame(
        {
            "partner": ["chn", "CHN ", "XXX", "DEU", "FRA"],
            "hs": [8703, 101210010, 8703, 8703, 8471],  # integers: read as digits, 101210010 repaired
            "value_usd": [100.0, 50.0, 10.0, -5.0, 20.0],
        }
    )
    with pytest.warns(
        UserWarning, match=r"2 of 5 row\(s\) of the DataFrame rejected \(\$5\.00 of \$175\.00\)"
    ):
        result = tariffcalc.compute(frame, china, zero_baseline)
    by_partner = result.by_partner().set_index("partner")
    assert by_partner.loc["CHN", "imports_usd"] == 150.0  # "chn" and "CHN " are China: 50 %, not 10 %
    assert by_partner.loc["CHN", "scenario_rate"] == pytest.approx(0.50)
    assert set(by_partner.index) == {"CHN", "FRA"}
    issues = result.flowset.issues
    assert list(zip(issues["line"], issues["kind"], strict=True)) == [(4, "unknown_partner"), (5, "negative")]
    assert result.flowset.files[0].repaired_rows == 1
    assert sorted(result.flowset.flows["hs"]) == ["0101210010", "8471", "8703"]


def test_a_dataframe_gets_the_rejects_and_reports_of_the_same_rows_in_a_file(tmp_path):
    frame = pd.DataFrame(
        {
            "partner": ["chn", "CHN ", "XXX", "W00", "DEU"],
            "hs": ["0101", "87", "8703", "8703", "12345"],
            "period": ["2024", "2024", "2024", "1850", "2024"],
            "value_usd": ["5", "(D)", "-3", "1", "2"],
        }
    )
    path = tmp_path / "same.csv"
    frame.to_csv(path, index=False)
    from_frame, from_file = load_flows(frame, aggregate=True), load_flows([path], aggregate=True)
    columns = ["line", "column", "kind", "reason", "value_usd", "cell"]
    pd.testing.assert_frame_equal(from_frame.issues[columns], from_file.issues[columns])
    assert from_frame.flows.astype(str).to_dict("list") == from_file.flows.astype(str).to_dict("list")
    ours, theirs = from_frame.files[0], from_file.files[0]
    assert (ours.rows, ours.accepted_rows, ours.input_value_usd) == (
        theirs.rows,
        theirs.accepted_rows,
        theirs.input_value_usd,
    )
    assert from_frame.files[0].path == "DataFrame"


def test_a_dataframe_of_pairs_is_validated_without_complaint():
    """The flows of a FlowSet (categoricals) go back through compute() unchanged."""
    flowset = load_flows(aggregate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = tariffcalc.compute(flowset.flows)
    assert again.totals()["imports_usd"] == pytest.approx(flowset.flows["value_usd"].sum(), rel=1e-12)


# ------------------------------------------------------------------------------------------ duplicates


def test_rows_sharing_a_key_are_summed_and_counted_in_run_and_validate(tmp_path):
    path = write(
        tmp_path,
        "districts.csv",
        "partner,hs,period,value_usd,district\n"
        "CHN,0101,2024,5,Seattle\nCHN,0101,2024,7,Los Angeles\nCHN,0101,2024,1,Miami\nDEU,0101,2024,2,Miami\n",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["run", "--flows", str(path), "--out", str(out), "--no-charts", "--format", "png"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["imports_usd"] == 15.0  # 5 + 7 + 1 + 2: nothing dropped
    assert (summary["reconciliation"]["repeated_keys"], summary["reconciliation"]["repeated_rows"]) == (1, 3)
    assert "1 key(s) on more than one row, summed" in result.stderr
    text = CliRunner().invoke(cli, ["validate", str(path)]).stdout
    assert "1 key (partner, hs, period) on more than one row (3 rows): summed" in text
    rejected = CliRunner().invoke(cli, ["validate", str(path), "--duplicates", "reject", "--json"])
    report = json.loads(rejected.stdout)
    assert [(p["kind"], p["rows"]) for p in report["problems"]] == [("duplicate", 2)]
    assert report["problems"][0]["examples"][0]["reason"] == "duplicate of line 2"
    assert report["totals"]["accepted_value_usd"] == 7.0  # 5 + 2


@pytest.mark.parametrize("how", ["same path", "same bytes"])
def test_the_same_file_given_twice_is_refused(tmp_path, how):
    path = write(tmp_path, "a.csv", HEADER + "CHN,0101,2024,5\n")
    again = path if how == "same path" else write(tmp_path, "b.csv", path.read_text())
    with pytest.raises(FlowsError, match="given twice" if how == "same path" else "has the same bytes as"):
        load_flows([path, again])
    result = CliRunner().invoke(
        cli, ["run", "--flows", str(path), "--flows", str(again), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "give each flow file once" in result.stderr
    checked = CliRunner().invoke(cli, ["validate", str(path), str(again)])
    assert checked.exit_code == 2 and "give each flow file once" in checked.stdout
    different = write(tmp_path, "c.csv", HEADER + "CHN,0101,2024,6\n")  # same size, other bytes: fine
    assert load_flows([path, different]).input_value_usd == 11.0


# ------------------------------------------------------------------------------------ one chunk's doubt


def test_a_bad_row_costs_its_own_chunk_only(tmp_path, monkeypatch):
    """Pieces before the first bad row are read the fast way; the totals are those of a careful reading."""
    from tariffcalc.read import stream, tables

    monkeypatch.setattr(tables, "CHUNK_BYTES", 1024)
    rows = "".join(f"CHN,{code:04d},2024,1\n" for code in range(1000, 1400))
    path = write(tmp_path, "late.csv", HEADER + rows + "CHN,0101,2024,-5\n")
    reading = stream.read_input(path, stream.Options())
    assert 0 < reading.sums.fast < reading.sums.pieces
    assert reading.totals.rows == 400 and reading.ledger["_kind"].tolist() == ["negative"]
    careful = read_flowset(path)
    assert careful.flows["value_usd"].sum() == reading.totals.value.sum() == 400.0


def test_lookup_values_are_taken_safely_while_other_threads_add_values():
    """Chunks read in parallel share one lookup: taking values while another thread adds new ones must
    neither fail ("Content of sequences changed") nor return a wrong value (CI saw the failure once).
    With this load, building the array from the bare list fails about once in 500 takes."""
    import threading
    import time

    import numpy as np
    import pyarrow as pa

    from tariffcalc.read import cells

    lookup = cells.Lookup(lambda text: (text.upper(), "", ""))
    ids, _, _ = lookup.map(pa.array(["a", "b", "c"]))
    stop = threading.Event()

    def add():
        for n in range(150):
            if stop.is_set():
                return
            lookup.map(pa.array([f"x{n}_{i}" for i in range(2000)]))

    adder = threading.Thread(target=add)
    adder.start()
    try:
        end = time.monotonic() + 2
        while time.monotonic() < end and adder.is_alive():
            assert lookup.take(ids).tolist() == ["A", "B", "C"]
    finally:
        stop.set()
        adder.join()
    assert lookup.take(np.zeros(0, dtype=np.intp)).tolist() == []
