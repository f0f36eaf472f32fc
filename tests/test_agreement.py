"""Hypothesis: messy files read on every path give the same answer.

A generated file has bad cells of every kind (unknown and aggregate partners, float-looking and malformed
codes, bad periods, negative, suppressed, missing, non-numeric and implausible amounts), repeated keys and
subtotal codes, blank lines, rows with a field too many, any line end (LF, CRLF, CR), quoting or none,
UTF-8 (with or without BOM), Windows-1252 or UTF-16, gzip or not. ``validate``, ``run`` (pairs), the table
of accepted rows, the Parquet route (the same cells as a Parquet file) and ``--engine dask`` must accept
the same rows with the same totals and reject the same lines; pieces of any size must not change that.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffcalc.app.validate import validate
from tariffcalc.read import tables
from tariffcalc.read.flows import load_flows

HAS_DASK = importlib.util.find_spec("distributed") is not None
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PARTNERS = ["CHN", "DEU", "jpn", " MEX ", "VNM", "XXX", "Germany", "W00", "World", ""]
CODES = [
    *("0101", "0101210010", "8703", "870323", "87", "6109100012", "101210010", "8703.23.01", "20110"),
    *("101210010.0", "90111.0", "847.1", "8.7.0.3", "12345", "7", "TOTAL", "87A3", ""),
]
PERIODS = ["2024", "2024-01", "Jan 2024", "202401", "", "1850", "2024-13", "24"]
VALUES = [
    "5",
    "1234.5",
    "1,234.5",
    "0",
    "1e3",
    "17",
    "-5",
    "(D)",
    "",
    "abc",
    "inf",
    "1e300",
    "(1,234.5)",
    " 8 ",
]
NOTES = ["", "x", "Côte", "a,b", 'say "hi"', "two\nlines", "=1+1", "a;b"]


@st.composite
def messy(draw) -> dict:
    """A messy canonical table: header, rows (cells), and how to write it."""
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PARTNERS),
                st.sampled_from(CODES),
                st.sampled_from(PERIODS),
                st.sampled_from(VALUES),
                st.sampled_from(NOTES),
            ),
            max_size=25,
        )
    )
    rows = [list(r) for r in rows if any(cell.strip() for cell in r)]  # an all-empty row is a blank line
    return {
        "rows": rows,
        "blank": draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows))),
        "extra": draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows))),
        "delimiter": draw(st.sampled_from([",", ";", "\t"])),
        "ending": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])),
        "gzip": draw(st.booleans()),
        "chunk": draw(st.sampled_from([48, 200, 8 << 20])),
    }


def render(table: dict) -> tuple[bytes, list[int | None]]:
    """The file's bytes and, per row, its line (None when the row cannot be read as the header's fields).

    Without quoting, cells lose the characters that would need it (and ``table["rows"]`` is changed to
    match): what a stray quote or delimiter does to a file is the fuzz tests' business, not this one's.
    """
    header = ["partner", "hs", "period", "value_usd", "note"]
    d, ending = table["delimiter"], table["ending"]
    out, lines, line = [], [], 1
    out.append(d.join(header) + ending)
    if table["quoting"] == csv.QUOTE_NONE:
        table["rows"] = [
            [c.translate(str.maketrans({d: " ", '"': " ", "\n": " "})) for c in r] for r in table["rows"]
        ]
    for row, blank, extra in zip(table["rows"], table["blank"], table["extra"], strict=True):
        cells = [*row, "extra"] if extra else row
        if table["quoting"] == csv.QUOTE_NONE:
            text = d.join(cells)
            broken = extra
        else:
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=d, quoting=table["quoting"], lineterminator="\n").writerow(cells)
            text = buffer.getvalue()[:-1]  # (a line break inside a cell makes the writer quote it)
            broken = extra
        if ending != "\n":
            text = text.replace("\n", ending)  # a line break inside a cell ends like the file's lines
        line += 1
        lines.append(None if broken else line)
        line += text.count(ending) if ending != "\r\n" else text.count("\r\n")
        out.append(text + ending)
        if blank:
            out.append(ending)
            line += 1
    data = "".join(out).encode(table["encoding"])
    return (gzip.compress(data) if table["gzip"] else data), lines


def summed(flowset) -> dict:
    frame = flowset.flows.astype({"partner": str, "hs": str})
    return frame.groupby(["partner", "hs"])["value_usd"].sum().round(6).to_dict()


def rejected(flowset) -> list:
    return list(zip(flowset.issues["line"], flowset.issues["kind"], strict=True))


def read_everywhere(table: dict, folder: Path, monkeypatch) -> tuple[dict, list]:
    data, lines = render(table)
    path = folder / ("flows.csv.gz" if table["gzip"] else "flows.csv")
    path.write_bytes(data)
    monkeypatch.setattr(tables, "CHUNK_BYTES", table["chunk"])
    try:
        run = load_flows([path], aggregate=True)
    except Exception as exc:  # no usable row: every path must say so
        assert "No flows to compute" in str(exc), exc
        return {}, []
    totals, lines_rejected = summed(run), rejected(run)
    monkeypatch.setattr(tables, "CHUNK_BYTES", 8 << 20)
    rows = load_flows([path])
    assert summed(rows) == totals
    assert rejected(rows) == lines_rejected
    report = validate([path])
    assert [(p["kind"], p["rows"]) for p in report["problems"]] == [
        (p["kind"], p["rows"]) for p in run.problems(0)
    ]
    assert round(report["totals"]["accepted_value_usd"], 4) == round(sum(totals.values()), 4)

    # the Parquet route: the rows that split into the header's fields, their cells as text
    kept = [(row, line) for row, line in zip(table["rows"], lines, strict=True) if line is not None]
    frame = pd.DataFrame([row for row, _ in kept], columns=["partner", "hs", "period", "value_usd", "note"])
    parquet = folder / "flows.parquet"
    frame.astype(str).to_parquet(parquet, index=False)
    if kept and table["delimiter"] != ";":  # semicolon files write amounts with a decimal comma (1,5)
        from_parquet = load_flows([parquet], aggregate=True)
        csv_line = {2 + i: line for i, (_, line) in enumerate(kept)}
        assert summed(from_parquet) == totals
        assert [(csv_line[line], kind) for line, kind in rejected(from_parquet)] == [
            r for r in lines_rejected if r[1] != "bad_row"
        ]
    return totals, lines_rejected


@SETTINGS
@given(messy())
def test_validate_run_rows_and_parquet_agree(tmp_path, monkeypatch, table):
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        read_everywhere(table, Path(folder), monkeypatch)


@pytest.fixture(scope="module")
def scheduler():
    if not HAS_DASK:
        pytest.skip("Dask is not installed")
    import distributed

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as c:
        yield c.scheduler_address


@settings(SETTINGS, max_examples=6)
@given(messy())
def test_dask_agrees_with_the_local_engine(tmp_path, monkeypatch, scheduler, table):
    from tariffcalc.engine import dask_engine

    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        totals, lines = read_everywhere(table, Path(folder), monkeypatch)
        if not totals:
            return
        monkeypatch.setattr(dask_engine, "BLOCK_BYTES", table["chunk"])
        path = next(Path(folder).glob("flows.csv*"))
        dask = dask_engine.load_flows([path], scheduler=scheduler)
        assert summed(dask) == totals
        assert rejected(dask) == lines
