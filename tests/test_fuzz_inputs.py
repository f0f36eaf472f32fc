"""Hypothesis: random tables with garbage cells, in every layout, encoding and delimiter, and random bytes.

Reading either succeeds, with every file reconciled (rows = accepted + rejected, input value = accepted +
rejected value) and only clean rows accepted, or fails with a TariffcalcError (one line for the user);
never another exception. A run on what was accepted computes duties on exactly the accepted value.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tariffcalc.app.api import compute
from tariffcalc.errors import TariffcalcError
from tariffcalc.read.flows import read_flowset
from tariffcalc.reference import countries
from tariffcalc.rules.scenario import load_scenario

from .conftest import flat_scenario

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCENARIO = flat_scenario(0.10, "Flat 10 %")

garbage = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", " ", "(D)", "..", "n/a", "nan", "inf", "-inf", "1e400", '"', '""', "\n", "\r\n", ",", ";"]
    ),
    st.sampled_from(
        ["=SUM(A1)", "+1", "@x", "\t", "\x00", "\ufeff", "é", "Côte d'Ivoire", "Korea, South", "Total"]
    ),
)
numbers = st.one_of(
    st.integers(-10, 10**12).map(str),
    st.floats(-1e12, 1e12, allow_nan=False).map(repr),
    st.integers(0, 10**9).map(lambda n: f"{n:,}"),
    st.integers(0, 10**6).map(lambda n: f"({n:,})"),
    st.decimals(0, 10**6, places=2).map(lambda d: f"{d:,}".replace(",", " ")),
)
partners = st.one_of(st.sampled_from(["CHN", "DEU", "usa", " jpn ", "XXX", "Germany", "W00", ""]), garbage)
codes = st.one_of(
    st.text("0123456789", min_size=1, max_size=11),
    st.sampled_from(["0101210010", "101210010", "8703.23.01", "8471.0", "87", "TOTAL", "-"]),
    garbage,
)
periods = st.one_of(st.sampled_from(["2024", "2024-01", "202401", "Jan 2024", "2024-13", "24", ""]), garbage)


@functools.cache
def scenario():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flat.toml"
        path.write_text(SCENARIO)
        return load_scenario(path)


@st.composite
def tables(draw) -> tuple[str, list[list[str]]]:
    """(layout, rows including the header) of a canonical, DataWeb or Comtrade table with garbage cells."""
    layout = draw(st.sampled_from(["canonical", "dataweb", "comtrade"]))
    n = draw(st.integers(0, 12))
    rows = []
    if layout == "canonical":
        extra = draw(st.sampled_from([[], ["note"], ["reporter"]]))
        header = ["partner", "hs", "period", "value_usd", *extra]
        for _ in range(n):
            row = [draw(partners), draw(codes), draw(periods), draw(st.one_of(numbers, garbage))]
            rows.append(row + [draw(garbage) for _ in header[4:]])
    elif layout == "dataweb":
        years = draw(
            st.lists(
                st.sampled_from(["2022", "2023", "2024", "Jan 2024"]), min_size=1, max_size=3, unique=True
            )
        )
        header = ["Data Type", "HTS Number", "Country", *years]
        kinds = st.sampled_from(["Customs Value", "Calculated Duties", "First Unit of Quantity"])
        for _ in range(n):
            rows.append(
                [
                    draw(kinds),
                    draw(codes),
                    draw(partners),
                    *(draw(st.one_of(numbers, garbage)) for _ in years),
                ]
            )
        rows.append(["Customs Value", "01", "Mexico", *("1" for _ in years)])
    else:
        header = [
            "reporterISO",
            "flowCode",
            "partnerCode",
            "partnerISO",
            "cmdCode",
            "period",
            "motCode",
            "primaryValue",
        ]
        for _ in range(n):
            rows.append(
                [
                    draw(st.sampled_from(["USA", "CAN", ""])),
                    draw(st.sampled_from(["M", "X", "RM", ""])),
                    draw(st.sampled_from(["0", "156", "490", "899", ""])),
                    draw(partners),
                    draw(codes),
                    draw(periods),
                    draw(st.sampled_from(["0", "2100", ""])),
                    draw(st.one_of(numbers, garbage)),
                ]
            )
    return layout, [header, *rows]


def encode(rows: list[list[str]], delimiter: str, encoding: str, quoting: bool) -> bytes:
    if quoting:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
        text = buffer.getvalue()
    else:  # no quoting at all: cells holding the delimiter or a newline break their row
        text = "".join(delimiter.join(row) + "\n" for row in rows)
    return text.encode(encoding, errors="replace")


def check(path: Path) -> None:
    """Read ``path``: either a clean, reconciled result or a TariffcalcError."""
    try:
        flowset = read_flowset(path)
    except TariffcalcError as exc:
        assert str(exc) and "\n" not in str(exc)  # one line for the user
        event(f"error: {type(exc).__name__}")
        return
    report = flowset.files[0]
    assert report.rows == report.accepted_rows + report.rejected_rows
    assert report.accepted_rows == len(flowset.flows)
    assert report.rejected_rows == len(flowset.rejects) == len(flowset.issues)
    assert math.isfinite(report.input_value_usd)
    assert report.input_value_usd == pytest.approx(
        report.accepted_value_usd + report.rejected_value_usd, rel=1e-9, abs=1e-6
    )
    flows = flowset.flows
    assert flows["value_usd"].ge(0).all() and flows["value_usd"].map(math.isfinite).all()
    assert flows["hs"].str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{8}|\d{10}").all()
    assert flows["partner"].isin(list(countries.partner_names())).all()
    assert flows["period"].str.fullmatch(r"(\d{4}(-(0[1-9]|1[0-2]))?)?").all()
    event(
        f"read, {'some' if len(flows) else 'no'} rows accepted, {'some' if len(flowset.issues) else 'no'} rejected"
    )
    if len(flows):
        result = compute(flowset, scenario(), scenario())
        assert result.totals()["imports_usd"] == pytest.approx(report.accepted_value_usd, rel=1e-9, abs=1e-6)


@SETTINGS
@given(
    tables(),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.booleans(),
)
def test_random_tables_with_garbage_cells(tmp_path, table, delimiter, encoding, quoting):
    _, rows = table
    path = tmp_path / "fuzz.csv"
    path.write_bytes(encode(rows, delimiter, encoding, quoting))
    check(path)


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(tmp_path, data):
    path = tmp_path / "bytes.csv"
    path.write_bytes(data)
    check(path)


@SETTINGS
@given(tables(), st.integers(0, 400))
def test_truncated_files(tmp_path, table, cut):
    """A download cut short anywhere: the last line loses fields or closes no quote."""
    _, rows = table
    data = encode(rows, ",", "utf-8", True)
    path = tmp_path / "cut.csv"
    path.write_bytes(data[: max(cut, 1)])
    check(path)
