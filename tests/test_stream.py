"""The streaming fast path: same pair totals as the careful reader, and it gives up on any bad row."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tariffcalc.read import stream
from tariffcalc.read.flows import read_flows
from tariffcalc.reference import bundled

HEADER = "partner,hs,period,value_usd\n"


def totals(result: stream.PairTotals) -> dict[tuple[str, str], float]:
    return dict(zip(zip(result.partner, result.code, strict=True), result.value, strict=True))


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sums_pairs_over_periods(tmp_path):
    path = write(
        tmp_path, HEADER + "CHN,0101210010,2024-01,5\nCHN,0101210010,2024-02,7.5\nDEU,8703,2024-01,1\n"
    )
    result = stream.pair_totals(path)
    assert totals(result) == {("CHN", "0101210010"): 12.5, ("DEU", "8703"): 1.0}
    assert result.rows == 3


@pytest.mark.parametrize(
    "body",
    [
        "XXX,0101,2024-01,5\n",  # unknown partner
        "CHN,87A3,2024-01,5\n",  # malformed code
        "CHN,101,2024-01,5\n",  # lost its leading zero: the careful reader repairs it
        "CHN,0101,2024-01,-5\n",  # negative value
        "CHN,0101,2024-01,abc\n",  # not a number
        "CHN,0101,2024-01,\n",  # missing value
        "CHN,0101,24-01,5\n",  # bad period
        "CHN,0101,2024-01,5\nCHN,0101,2024-01,6\n",  # duplicate key
        "CHN,0101,2024-01,inf\n",  # not finite
    ],
)
def test_any_bad_row_sends_the_file_to_the_careful_reader(tmp_path, body):
    path = write(tmp_path, HEADER + "DEU,8703,2024-01,1\n" + body)
    assert stream.pair_totals(path) is None
    _, rejects, report = read_flows(path)
    assert len(rejects) + report.repaired_rows >= 1  # and the careful reader reports or repairs it


def test_duplicates_across_chunks_are_caught(tmp_path, monkeypatch):
    rows = [f"CHN,{code:04d},2024-01,1\n" for code in range(100, 2100)]
    path = write(tmp_path, HEADER + "".join(rows) + "CHN,0100,2024-01,1\n")
    monkeypatch.setattr(stream, "CHUNK_BYTES", 1024)  # many chunks; the repeat is in the last
    assert stream.pair_totals(path) is None
    clean = write(tmp_path, HEADER + "".join(rows), "clean.csv")
    result = stream.pair_totals(clean)
    assert result.rows == 2000 and result.value.sum() == pytest.approx(2000.0)


def test_grows_past_its_initial_capacity(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK_BYTES", 4096)
    codes = [f"{i:06d}" for i in range(10_000, 15_000)]  # 5000 codes > 4096 columns
    path = write(tmp_path, HEADER + "".join(f"JPN,{c},2024,{i}\n" for i, c in enumerate(codes)))
    result = stream.pair_totals(path)
    got = totals(result)
    assert len(got) == 5000 and got[("JPN", "014999")] == 4999.0


def test_subtotal_rows_and_implausible_values_go_to_the_careful_reader(tmp_path):
    subtotal = write(tmp_path, HEADER + "CHN,87,2024,10\nCHN,8703,2024,4\n", "sub.csv")
    assert stream.pair_totals(subtotal) is None
    huge = write(tmp_path, HEADER + "CHN,87,2024,1e300\n", "huge.csv")
    assert stream.pair_totals(huge) is None
    # a chapter row for one partner beside HTS10 rows of another is not a subtotal
    mixed = write(tmp_path, HEADER + "UKR,61,2024,10\nCHN,6109100012,2024,4\n", "mixed.csv")
    assert stream.pair_totals(mixed) is not None


def test_reporter_must_be_the_importer(tmp_path):
    good = write(tmp_path, "reporter,partner,hs,value_usd\nUSA,CHN,0101,5\n", "good.csv")
    bad = write(tmp_path, "reporter,partner,hs,value_usd\nDEU,CHN,0101,5\n", "bad.csv")
    assert totals(stream.pair_totals(good)) == {("CHN", "0101"): 5.0}
    assert stream.pair_totals(bad) is None


def test_agrees_with_the_careful_reader_on_the_bundled_data():
    path = bundled.default_flows_path()
    fast = stream.pair_totals(path)
    accepted, rejects, _ = read_flows(path)
    assert len(rejects) == 0
    careful = accepted.groupby(["partner", "hs"])["value_usd"].sum()
    fast_series = pd.Series(fast.value, index=pd.MultiIndex.from_arrays([fast.partner, fast.code]))
    fast_series = fast_series.sort_index()
    assert list(fast_series.index) == list(careful.sort_index().index)
    assert np.allclose(fast_series.to_numpy(), careful.sort_index().to_numpy(), rtol=1e-12)


def test_parquet_and_csv_give_the_same_totals(tmp_path):
    frame = pd.DataFrame(
        {
            "partner": ["CHN", "VNM", "CHN"],
            "hs": ["0101", "6109100012", "85"],
            "period": ["2024-01", "2024-01", "2024-03"],
            "value_usd": [1.5, 2.0, 4.0],
        }
    )
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    frame.to_csv(tmp_path / "f.csv", index=False)
    assert totals(stream.pair_totals(tmp_path / "f.parquet")) == totals(
        stream.pair_totals(tmp_path / "f.csv")
    )


def test_quoted_fields_are_read_by_the_sequential_reader(tmp_path, monkeypatch):
    """A quoted field may hold a line end, so byte-range chunks are not safe: same totals either way."""
    monkeypatch.setattr(stream, "CHUNK_BYTES", 64)  # many chunks: a cut could land inside a quote
    rows = [("CHN", f"{code:04d}", "2024-01", float(code)) for code in range(100, 400)]
    plain = write(tmp_path, HEADER + "".join(f"{p},{c},{t},{v}\n" for p, c, t, v in rows), "plain.csv")
    quoted = write(
        tmp_path, HEADER + "".join(f'"{p}","{c}","{t}","{v}"\n' for p, c, t, v in rows), "quoted.csv"
    )
    assert totals(stream.pair_totals(quoted)) == totals(stream.pair_totals(plain))
    assert stream.pair_totals(quoted).rows == 300


def test_csv_is_hashed_while_it_is_read(tmp_path, monkeypatch):
    """The manifest's SHA-256 comes from the chunks as they are read: it must be the whole file's."""
    monkeypatch.setattr(stream, "CHUNK_BYTES", 256)
    rows = "".join(f"CHN,{code:04d},2024-01,{code}\r\n" for code in range(100, 400))
    path = write(tmp_path, "\ufeff" + HEADER.replace("\n", "\r\n") + rows)
    assert stream.pair_totals(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def _random_flows(rows: int = 20_000) -> pd.DataFrame:
    """Random canonical flows with unique (partner, hs, period) keys and values to the cent."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "partner": rng.choice(["CHN", "DEU", "MEX", "VNM"], rows),
            "hs": [f"{c:04d}" for c in rng.integers(100, 9000, rows)],
            "period": [f"2024-{m:02d}" for m in rng.integers(1, 13, rows)],
            "value_usd": rng.lognormal(10, 2, rows).round(2),
        }
    ).drop_duplicates(["partner", "hs", "period"])


@pytest.mark.parametrize("row_group_size", [1000, 20_000])
def test_parquet_row_groups_are_summed_in_file_order(tmp_path, monkeypatch, row_group_size):
    """Many row groups read by several threads, or one row group too large to be one chunk (read in
    batches): the totals equal a pandas group-by."""
    monkeypatch.setattr(stream, "PARQUET_BATCH_ROWS", 3000)
    frame = _random_flows()
    frame.to_parquet(tmp_path / "f.parquet", index=False, row_group_size=row_group_size)
    result = stream.pair_totals(tmp_path / "f.parquet")
    expected = frame.groupby(["partner", "hs"])["value_usd"].sum()
    assert result.rows == len(frame)
    assert list(zip(result.partner, result.code, strict=True)) == list(expected.index)  # sorted pairs
    assert np.allclose(result.value, expected.to_numpy(), rtol=1e-12)


class Recorder(stream.Progress):
    """Collects the progress details the reader reports."""

    def __init__(self):
        self.details: list[str] = []

    def detail(self, text: str) -> None:
        self.details.append(text)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_reports_rows_and_megabytes_read_per_chunk(tmp_path, monkeypatch, suffix):
    monkeypatch.setattr(stream, "CHUNK_BYTES", 1024)
    rows = [("CHN", f"{code:04d}", "2024", 1.0) for code in range(100, 600)]
    frame = pd.DataFrame(rows, columns=["partner", "hs", "period", "value_usd"])
    path = tmp_path / f"f{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    recorder = Recorder()
    assert stream.pair_totals(path, progress=recorder).rows == 500
    assert recorder.details, "no progress reported"
    assert recorder.details[-1].startswith(f"reading f{suffix}: 0.0M rows")  # 500 rows
    assert "MB" in recorder.details[-1] and "rows/s" in recorder.details[-1]
