"""``--engine dask`` on a small local cluster gives the local engine's results (skipped without Dask).

The cluster has 2 workers with threads (``processes=False``): process workers work too (the command line
starts them by default) but add seconds of start-up on a 2-core machine. CSV inputs are cut into 1 MB
blocks so that every input spans several partitions and the partial sums really are combined.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from tariffcalc import compute  # noqa: E402
from tariffcalc.app.cli import cli  # noqa: E402
from tariffcalc.engine import dask_engine  # noqa: E402
from tariffcalc.errors import FlowsError  # noqa: E402
from tariffcalc.read import tables  # noqa: E402
from tariffcalc.read.flows import load_flows  # noqa: E402

from .conftest import REPO  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")  # in Dask

ROWS = 200_000
TEXT = {"partner": "string", "hs": "string", "period": "string"}


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """The benchmark generator's CSV and Parquet files of ROWS rows."""
    spec = importlib.util.spec_from_file_location("generate", REPO / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(ROWS, tmp_path_factory.mktemp("flows"))


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Several Dask partitions and several local chunks per generated file."""
    monkeypatch.setattr(tables, "CHUNK_BYTES", 1 << 20)
    monkeypatch.setattr(dask_engine, "BLOCK_BYTES", 1 << 20)


def assert_same_results(local, dask, how_many_files: int = 1) -> None:
    """Same files (but for how they were read), same pairs, same rejects, same duties at every level."""
    assert len(dask.files) == len(local.files) == how_many_files
    for ours, theirs in zip(dask.files, local.files, strict=True):
        assert ours.how == f"{theirs.how}; {dask_engine.HOW}"
        assert {**vars(ours), "how": ""} == {**vars(theirs), "how": ""}
    key = ["partner", "hs"]
    pd.testing.assert_frame_equal(
        dask.flows.sort_values(key, ignore_index=True), local.flows.sort_values(key, ignore_index=True)
    )
    pd.testing.assert_frame_equal(dask.rejects, local.rejects)
    pd.testing.assert_frame_equal(dask.issues, local.issues)
    if local.flows.empty:
        return
    ours, theirs = compute(dask), compute(local)
    for table in ("by_partner", "by_product", "by_partner_product", "by_measure"):
        pd.testing.assert_frame_equal(getattr(ours, table)(), getattr(theirs, table)(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_a_generated_file_gives_the_local_results(generated, scheduler, kind):
    path = generated[kind == "parquet"]
    local = load_flows([path], aggregate=True)
    assert_same_results(local, dask_engine.load_flows([path], scheduler=scheduler))


def test_a_glob_is_each_file_it_matches(generated, scheduler, tmp_path):
    table = pacsv.read_csv(generated[0], convert_options=pacsv.ConvertOptions(column_types=TEXT))
    half = table.num_rows // 2
    parts = [tmp_path / "part-0.csv", tmp_path / "part-1.csv"]
    pacsv.write_csv(table.slice(0, half), parts[0])
    pacsv.write_csv(table.slice(half), parts[1])
    local = load_flows(parts, aggregate=True)
    assert_same_results(local, dask_engine.load_flows([tmp_path / "part-*.csv"], scheduler=scheduler), 2)


def test_a_hive_partitioned_parquet_dataset_is_one_input(generated, scheduler, tmp_path):
    folder = tmp_path / "dataset"
    pq.write_to_dataset(pq.read_table(generated[1]), folder, partition_cols=["period"])
    flowset = dask_engine.load_flows([folder], scheduler=scheduler)
    local = load_flows([generated[1]], aggregate=True)
    assert len(list(folder.rglob("*.parquet"))) == 12
    assert flowset.files[0].path == str(folder) and flowset.files[0].rows == ROWS
    pd.testing.assert_frame_equal(
        flowset.flows.sort_values(["partner", "hs"], ignore_index=True),
        local.flows.sort_values(["partner", "hs"], ignore_index=True),
    )


@pytest.mark.parametrize("duplicates", ["sum", "reject"])
def test_repeated_keys_in_different_partitions_are_summed_or_rejected_as_locally(
    generated, scheduler, tmp_path, duplicates
):
    text = generated[0].read_text()
    first = text.splitlines()[1]
    dirty = tmp_path / "dirty.csv"
    dirty.write_text(text + first + "\n")  # the first row again, in the last block
    local = load_flows([dirty], aggregate=True, duplicates=duplicates)
    assert local.files[0].repeated_keys == 1
    assert_same_results(local, dask_engine.load_flows([dirty], scheduler=scheduler, duplicates=duplicates))


@pytest.mark.parametrize(
    "rows",
    [
        "XXX,0101210010,2024-01,5\nCAN,0101210010,2024-01,\nCAN,101210010.0,2024-01,3",
        "CAN,01,2024-02,5",  # a subtotal: the second pass runs on the cluster too
        "CAN,101210010,2024-03,5\n\nCAN,0102,1850,1",  # a repaired code, a blank line, a bad period
    ],
)
def test_dirty_files_give_the_local_rejects(scheduler, tmp_path, rows):
    dirty = tmp_path / "dirty.csv"
    dirty.write_text(f"partner,hs,period,value_usd\nCAN,0101210010,2024-02,7\n{rows}\n")
    local = load_flows([dirty], aggregate=True)
    assert len(local.rejects) or local.files[0].repaired_rows
    assert_same_results(local, dask_engine.load_flows([dirty], scheduler=scheduler))


def test_a_gzip_file_is_read_whole_by_one_worker(generated, scheduler, tmp_path):
    packed = tmp_path / "flows.csv.gz"
    packed.write_bytes(gzip.compress(generated[0].read_bytes()))
    assert_same_results(
        load_flows([packed], aggregate=True), dask_engine.load_flows([packed], scheduler=scheduler)
    )


def test_the_same_file_twice_is_refused(generated, scheduler, tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_bytes(generated[0].read_bytes())
    with pytest.raises(FlowsError, match="has the same bytes as"):
        dask_engine.load_flows([generated[0], copy], scheduler=scheduler)


def test_the_command_line_runs_on_the_cluster(generated, scheduler, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            *("run", "--flows", str(generated[1]), "--engine", "dask", "--scheduler", scheduler),
            *("--no-charts", "--format", "png", "--out", str(out), "--quiet"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "by_partner.csv").is_file()


def test_a_folder_or_a_scheduler_needs_the_dask_engine(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--flows", str(tmp_path), "--no-charts"])
    assert result.exit_code == 2 and "needs --engine dask" in result.output
    result = runner.invoke(cli, ["run", "--scheduler", "tcp://127.0.0.1:1", "--no-charts"])
    assert result.exit_code == 2 and "--scheduler needs --engine dask" in result.output
