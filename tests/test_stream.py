"""The one reader (tariffcalc.read.stream): chunks, line numbers, sums, repeated keys, subtotals, memory caps.

Most tests read the same input with tiny chunks (many pieces, cuts everywhere) and with one chunk, and
expect the same totals, the same ledger and the same line numbers: where the file is cut must never show.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tariffcalc.errors import FlowsError
from tariffcalc.read import stream, tables
from tariffcalc.read.flows import read_flows, read_flowset
from tariffcalc.reference import bundled

HEADER = "partner,hs,period,value_usd\n"


def totals(result: stream.PairTotals) -> dict[tuple[str, str], float]:
    return dict(zip(zip(result.partner, result.code, strict=True), result.value, strict=True))


def write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def read(path, **options) -> stream.Reading:
    return stream.read_input(path, stream.Options(**options))


def ledger(reading: stream.Reading) -> list[tuple[int, str, str]]:
    return list(zip(reading.ledger["line"], reading.ledger["_kind"], reading.ledger["reason"], strict=True))


@pytest.fixture
def tiny_chunks(monkeypatch):
    """Chunks of 64 bytes: a few lines each, so every file is cut in many places."""
    monkeypatch.setattr(tables, "CHUNK_BYTES", 64)


def test_sums_pairs_over_periods(tmp_path):
    path = write(
        tmp_path, HEADER + "CHN,0101210010,2024-01,5\nCHN,0101210010,2024-02,7.5\nDEU,8703,2024-01,1\n"
    )
    result = read(path)
    assert totals(result.totals) == {("CHN", "0101210010"): 12.5, ("DEU", "8703"): 1.0}
    assert result.totals.rows == 3 and result.totals.periods == ("2024-01", "2024-02")


BAD_ROWS = {
    "XXX,0101,2024-01,5": "unknown_partner",
    "CHN,87A3,2024-01,5": "malformed_hs",
    "CHN,0101,2024-01,-5": "negative",
    "CHN,0101,2024-01,abc": "not_numeric",
    "CHN,0101,2024-01,": "missing",
    "CHN,0101,24-01,5": "bad_period",
    "CHN,0101,1850,5": "bad_period",
    "CHN,0101,2024-01,inf": "not_numeric",
    "CHN,0101,2024-01,1e300": "too_large",
    "CHN,101210010.0,2024-01,5": "malformed_hs",
    "CHN,847.1,2024-01,5": "malformed_hs",
}


@pytest.mark.parametrize(("row", "kind"), sorted(BAD_ROWS.items()))
def test_a_bad_row_is_rejected_and_the_rest_of_the_file_is_read(tmp_path, monkeypatch, row, kind):
    """One bad row costs its own row, not the file: the rows around it are summed as usual."""
    monkeypatch.setattr(tables, "CHUNK_BYTES", 256)
    good = [f"DEU,{code:04d},2024-01,1\n" for code in range(100, 160)]
    path = write(tmp_path, HEADER + "".join(good[:30]) + row + "\n" + "".join(good[30:]))
    result = read(path)
    assert ledger(result)[0][:2] == (32, kind)  # header line 1, 30 rows, then the bad row
    assert result.totals.rows == 60 and result.totals.value.sum() == 60.0


def test_the_cut_never_shows(tmp_path, monkeypatch):
    """Blank lines, quoted line breaks, CR and CRLF line ends, bad rows: the same ledger and totals with
    chunks of 64 bytes as with one chunk."""
    rows = []
    for i in range(120):
        rows.append(f"CHN,{1000 + i:04d},2024,{i}")
        if i % 17 == 3:
            rows.append("")  # a blank line
        if i % 23 == 5:
            rows.append(f'JPN,{2000 + i},2024,"{i}",x')  # a field too many
        if i % 29 == 7:
            rows.append(f'"KOR","{3000 + i}","2024","1{i}"')  # quoted, no line break
        if i % 31 == 2:
            rows.append(f'VNM,{4000 + i},"20\n24",{i}')  # a bad period with a line break inside quotes
    for ending in ("\n", "\r\n", "\r"):
        path = write(tmp_path, ending.join([HEADER.strip(), *rows]) + ending, f"f{len(ending)}.csv")
        monkeypatch.setattr(tables, "CHUNK_BYTES", 64)
        cut = read(path)
        monkeypatch.setattr(tables, "CHUNK_BYTES", 8 << 20)
        whole = read(path)
        assert ledger(cut) == ledger(whole)
        assert totals(cut.totals) == totals(whole.totals)
        assert cut.sums.blank == whole.sums.blank == 7  # i = 3, 20, 37, 54, 71, 88, 105
        kinds = [k for _, k, _ in ledger(whole)]
        assert kinds.count("bad_row") == 5 and kinds.count("bad_period") == 4
        assert whole.totals.rows == 120 + 4  # four quoted KOR rows


def test_line_numbers_count_every_physical_line(tmp_path, tiny_chunks):
    # lines: 1 header, 2 CHN, 3 blank, 4-5 a quoted line break, 6 DEUX
    path = write(
        tmp_path, 'partner,hs,value_usd,note\nCHN,0101,5,a\n\nCHN,0102,6,"two\nlines"\nDEUX,0103,7,b\n'
    )
    assert [line for line, _, _ in ledger(read(path))] == [6]


def test_repeated_keys_across_chunks_are_summed_and_counted(tmp_path, tiny_chunks):
    rows = [f"CHN,{code:04d},2024-01,1\n" for code in range(100, 300)]
    path = write(
        tmp_path, HEADER + "".join(rows) + "CHN,0100,2024-01,2\nCHN,0100,2024-01,3\nCHN,0101,2024-02,4\n"
    )
    result = read(path)
    assert (result.totals.repeated_keys, result.totals.repeated_rows) == (1, 3)  # 0100 in 2024-01, 3 rows
    assert totals(result.totals)[("CHN", "0100")] == 6.0 and totals(result.totals)[("CHN", "0101")] == 5.0
    assert len(result.ledger) == 0
    rejected = read(path, duplicates="reject")
    assert ledger(rejected) == [
        (202, "duplicate", "duplicate of line 2"),
        (203, "duplicate", "duplicate of line 2"),
    ]
    assert totals(rejected.totals)[("CHN", "0100")] == 1.0 and rejected.passes == 2


def test_a_key_on_hundreds_of_rows_is_counted_exactly(tmp_path):
    """Row counts are kept in bytes per key; a key on 300 rows overflows them and is counted again wider."""
    path = write(tmp_path, HEADER + "CHN,0101,2024,1\n" * 300 + "DEU,0101,2024,1\n")
    result = read(path)
    assert (result.totals.repeated_keys, result.totals.repeated_rows, result.totals.rows) == (1, 300, 301)
    assert totals(result.totals) == {("CHN", "0101"): 300.0, ("DEU", "0101"): 1.0}


def test_subtotals_are_found_across_chunks_with_the_line_of_a_finer_row(tmp_path, tiny_chunks):
    rows = [f"DEU,{code:04d},2024,1\n" for code in range(100, 160)]
    path = write(tmp_path, HEADER + "CHN,87,2024,10\n" + "".join(rows) + "CHN,8703,2024,4\nCHN,87,2023,5\n")
    result = read(path)
    assert ledger(result) == [
        (
            2,
            "aggregate_product",
            "HS 87 is the total of finer codes in this file (e.g. line 63): counted through them, not twice",
        )
    ]
    # 87 in 2023 has no finer row in 2023: it is kept
    assert totals(result.totals)[("CHN", "87")] == 5.0 and totals(result.totals)[("CHN", "8703")] == 4.0
    assert result.sums.rejected_value == 10.0 and result.passes == 2


def test_a_finer_code_seen_only_on_rejected_rows_makes_no_subtotal(tmp_path):
    """0101210010 is a valid code of a rejected row (unknown partner): 0101 is no subtotal (found by
    Hypothesis: the code had an id but no place in the grids)."""
    path = write(tmp_path, HEADER + "CHN,0101,2024,5\nXXX,0101210010,2024,5\n")
    result = read(path)
    assert totals(result.totals) == {("CHN", "0101"): 5.0}
    assert [kind for _, kind, _ in ledger(result)] == ["unknown_partner"]


def test_grows_past_its_initial_capacity(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_BYTES", 4096)
    codes = [f"{i:06d}" for i in range(10_000, 45_000)]  # 35,000 codes > 32,768 columns
    path = write(tmp_path, HEADER + "".join(f"JPN,{c},2024,{i}\n" for i, c in enumerate(codes)))
    got = totals(read(path).totals)
    assert len(got) == 35_000 and got[("JPN", "044999")] == 34_999.0


def test_reporter_must_be_the_importer(tmp_path):
    path = write(tmp_path, "reporter,partner,hs,value_usd\nUSA,CHN,0101,5\nDEU,CHN,0102,5\n,CHN,0103,1\n")
    result = read(path)
    assert totals(result.totals) == {("CHN", "0101"): 5.0, ("CHN", "0103"): 1.0}
    assert ledger(result) == [(3, "other_reporter", "reporter DEU is not the scenario's importer USA")]


def test_pair_totals_agree_with_the_accepted_rows_on_the_bundled_data():
    path = bundled.default_flows_path()
    summed = read(path)
    rows = read(path, rows=True).table
    careful = rows.groupby(["partner", "hs"])["value_usd"].sum()
    fast = pd.Series(
        summed.totals.value, index=pd.MultiIndex.from_arrays([summed.totals.partner, summed.totals.code])
    )
    assert list(fast.index) == list(careful.index)
    assert np.allclose(fast.to_numpy(), careful.to_numpy(), rtol=1e-12)
    assert summed.sums.fast == summed.sums.pieces  # a clean file is read the fast way throughout


def test_parquet_and_csv_give_the_same_totals_and_rejects(tmp_path):
    frame = pd.DataFrame(
        {
            "partner": ["CHN", "VNM", "CHN", "XXX"],
            "hs": ["0101", "6109100012", "85", "0101"],
            "period": ["2024-01", "2024-01", "2024-03", "2024-01"],
            "value_usd": [1.5, 2.0, 4.0, 7.0],
        }
    )
    frame.to_parquet(tmp_path / "f.parquet", index=False)
    frame.to_csv(tmp_path / "f.csv", index=False)
    parquet, csv = read(tmp_path / "f.parquet"), read(tmp_path / "f.csv")
    assert totals(parquet.totals) == totals(csv.totals)
    assert ledger(parquet) == ledger(csv) == [(5, "unknown_partner", ledger(csv)[0][2])]


def test_quoted_line_breaks_are_never_cut(tmp_path, tiny_chunks):
    rows = [("CHN", f"{code:04d}", "2024-01", float(code)) for code in range(100, 400)]
    plain = write(tmp_path, HEADER + "".join(f"{p},{c},{t},{v}\n" for p, c, t, v in rows), "plain.csv")
    quoted = write(
        tmp_path,
        "partner,hs,period,value_usd,note\n"
        + "".join(f'"{p}","{c}","{t}","{v}","a\nb, ""c"""\n' for p, c, t, v in rows),
        "quoted.csv",
    )
    assert totals(read(quoted).totals) == totals(read(plain).totals)
    assert read(quoted).totals.rows == 300 and len(read(quoted).ledger) == 0


def test_files_are_hashed_while_they_are_read(tmp_path, tiny_chunks):
    """The manifest's SHA-256 comes from the chunks as they are read: it must be the whole file's."""
    rows = "".join(f"CHN,{code:04d},2024-01,{code}\r\n" for code in range(100, 400))
    path = write(tmp_path, "\ufeff" + HEADER.replace("\n", "\r\n") + rows)
    assert read(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    packed = tmp_path / "f.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    result = read(packed)
    assert result.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()
    assert totals(result.totals) == totals(read(path).totals)


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
    """Many row groups read by several threads, or one row group too large to be one piece (read in
    batches): the totals equal a pandas group-by."""
    monkeypatch.setattr(stream, "PARQUET_BATCH_ROWS", 3000)
    frame = _random_flows()
    frame.to_parquet(tmp_path / "f.parquet", index=False, row_group_size=row_group_size)
    result = read(tmp_path / "f.parquet").totals
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
    monkeypatch.setattr(tables, "CHUNK_BYTES", 1024)
    rows = [("CHN", f"{code:04d}", "2024", 1.0) for code in range(100, 600)]
    frame = pd.DataFrame(rows, columns=["partner", "hs", "period", "value_usd"])
    path = tmp_path / f"f{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    recorder = Recorder()
    assert stream.read_input(path, stream.Options(), recorder).totals.rows == 500
    assert recorder.details, "no progress reported"
    assert recorder.details[-1].startswith(f"reading f{suffix}: 0.0M rows")  # 500 rows
    assert "MB" in recorder.details[-1] and "rows/s" in recorder.details[-1]


# --------------------------------------------------------------------------------------- memory ceilings


def test_a_gzip_file_that_expands_too_much_is_refused(tmp_path, monkeypatch):
    """A few hundred bytes of gzip that would expand to gigabytes of blank lines: read until the cap
    (at least GZIP_FLOOR, 100 × the file's size), then refused with a message saying why."""
    monkeypatch.setattr(tables, "GZIP_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(HEADER.encode() + b"\n" * (8 << 20)))
    with pytest.raises(FlowsError) as info:
        read(bomb)
    assert str(info.value).startswith(f"{bomb}: decompresses to more than 1 MiB (100 times its ")
    assert "refused as a likely decompression bomb" in str(info.value)
    small = tmp_path / "small.csv.gz"  # blank lines within the cap are read, counted and skipped
    small.write_bytes(gzip.compress(HEADER.encode() + b"CHN,0101,2024,5\n" + b"\n" * 100_000))
    result = read(small)
    assert result.sums.blank == 100_000 and totals(result.totals) == {("CHN", "0101"): 5.0}


def test_a_record_longer_than_the_cap_is_refused_and_a_long_cell_below_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(tables, "MAX_RECORD", 1 << 20)
    long_cell = write(tmp_path, "partner,hs,value_usd,note\nCHN,0101,5," + "y" * 500_000 + "\nXXX,0102,7,z\n")
    result = read(long_cell)
    assert totals(result.totals) == {("CHN", "0101"): 5.0} and [r[0] for r in ledger(result)] == [3]
    unclosed = write(tmp_path, 'partner,hs,value_usd,note\nCHN,0101,5,"' + "y\n" * 600_000 + "\n", "open.csv")
    with pytest.raises(FlowsError) as info:
        read(unclosed)
    assert str(info.value) == (
        f'{unclosed}: a record is longer than 1 MiB; is an unclosed quote (") swallowing the rest of the file?'
    )


def test_reading_a_dataframe_and_the_same_rows_from_a_file_agree(tmp_path):
    frame = pd.DataFrame(
        {"partner": ["chn", "CHN ", "XXX"], "hs": [101210010, 8703, 8703], "value_usd": [5.0, -1.0, 2.0]}
    )
    from_frame = read_flowset(frame)
    frame.to_csv(tmp_path / "f.csv", index=False)
    from_file, _, _ = read_flows(tmp_path / "f.csv")
    assert from_frame.flows["hs"].tolist() == from_file["hs"].tolist() == ["0101210010"]
    assert from_frame.issues["kind"].tolist() == ["negative", "unknown_partner"]
    assert from_frame.issues["line"].tolist() == [3, 4]  # row position + 2, as in the CSV file
    assert from_frame.files[0].repaired_rows == 1
