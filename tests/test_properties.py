"""Property tests of the static engine (tariffcalc.engine.duties.compute) on random flows and random scenarios.

Scenarios are written as TOML to a temporary folder and loaded with ``load_scenario``, so the same parser a
user's file goes through builds them. Rates are drawn in [0, 10] (``high_rates = true`` silences the
"rate above 100 %" warning), partners from a small pool of real ISO3 codes, HS codes of even length 2–10.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariffcalc.engine.duties import compute
from tariffcalc.rules.scenario import Scenario, load_scenario

PARTNERS = ("CHN", "DEU", "FRA", "JPN", "CAN", "MEX", "VNM", "UKR")
TOTAL_KEYS = ("imports_usd", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd")

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# ------------------------------------------------------------------------------------------- strategies

hs_codes = st.integers(1, 5).flatmap(lambda n: st.text("0123456789", min_size=2 * n, max_size=2 * n))
# a few digits only, so that codes share prefixes and product scopes hit something
hs_codes_clustered = st.integers(1, 5).flatmap(lambda n: st.text("018", min_size=2 * n, max_size=2 * n))
# no subnormal values: 5e-324 × 0.5 underflows to 0, which is float arithmetic, not the engine
values = st.one_of(
    st.just(0.0), st.floats(0.0, 1e12, allow_nan=False, allow_infinity=False, allow_subnormal=False)
)
rates = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def flow_tables(draw, min_size: int = 1, max_size: int = 25) -> pd.DataFrame:
    """A canonical flow table; (partner, hs) keys may repeat, each repeat in its own month."""
    n = draw(st.integers(min_size, max_size))
    codes = draw(
        st.one_of(
            st.lists(hs_codes, min_size=1, max_size=8), st.lists(hs_codes_clustered, min_size=1, max_size=8)
        )
    )
    rows = []
    for i in range(n):
        rows.append(
            {
                "partner": draw(st.sampled_from(PARTNERS)),
                "hs": draw(st.sampled_from(codes)),
                "period": f"2024-{i % 12 + 1:02d}" if i < 12 else f"2023-{i % 12 + 1:02d}",
                "value_usd": draw(values),
            }
        )
    return pd.DataFrame(rows, columns=["partner", "hs", "period", "value_usd"])


def _prefixes(codes) -> list[str]:
    return sorted({code[:k] for code in codes for k in range(2, len(code) + 1, 2)})


@st.composite
def measures(draw, codes, index: int = 0, with_in_baseline: bool = False) -> dict:
    """One measure as a plain dict (rendered to TOML by ``toml_measure``)."""
    excluded = draw(st.lists(st.sampled_from(PARTNERS), unique=True, max_size=2))
    own = draw(
        st.dictionaries(
            st.sampled_from([p for p in PARTNERS if p not in excluded] + ["EU"]), rates, max_size=4
        )
    )
    default = draw(st.one_of(st.none(), rates))
    if default is None and not own:
        default = draw(rates)
    measure: dict = {"id": f"m{index}", "rate": default, "rates": own, "exclude_partners": excluded}
    pool = [*_prefixes(codes), "99", "0000"]
    products = draw(
        st.one_of(st.none(), st.lists(st.sampled_from(pool), unique=True, min_size=1, max_size=3))
    )
    exclude = draw(st.lists(st.sampled_from(pool), unique=True, max_size=2))
    measure["products"] = products
    measure["exclude_products"] = [p for p in exclude if not products or p not in products]
    if with_in_baseline:
        measure["in_baseline"] = draw(st.one_of(st.just(0.0), rates))
    return measure


def toml_measure(m: dict) -> str:
    lines = [
        "[[measure]]",
        f'id = "{m["id"]}"',
        'authority = "test"',
        'citation = "test"',
        "high_rates = true",
    ]
    if m.get("rate") is not None:
        lines.append(f"rate = {m['rate']!r}")
    if m.get("rates"):
        lines.append("rates = { " + ", ".join(f"{k} = {v!r}" for k, v in m["rates"].items()) + " }")
    if m.get("exclude_partners"):
        lines.append("exclude_partners = [" + ", ".join(f'"{p}"' for p in m["exclude_partners"]) + "]")
    if m.get("products") is not None:
        lines.append("products = [" + ", ".join(f'"{p}"' for p in m["products"]) + "]")
    if m.get("exclude_products"):
        lines.append("exclude_products = [" + ", ".join(f'"{p}"' for p in m["exclude_products"]) + "]")
    if m.get("in_baseline"):
        lines.append(f"in_baseline = {m['in_baseline']!r}")
    return "\n".join(lines)


def scenario_from(measure_list: list[dict], name: str = "prop", as_of: str = "2025-04-09") -> Scenario:
    text = f'name = "{name}"\nas_of = {as_of}\n\n' + "\n\n".join(toml_measure(m) for m in measure_list) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        return load_scenario(path)


@functools.cache
def zero_baseline() -> Scenario:
    return scenario_from([{"id": "nothing", "rate": 0.0}], name="zero", as_of="2024-12-31")


@st.composite
def cases(draw, with_in_baseline: bool = False):
    """(flows, scenario measures, baseline measures)."""
    table = draw(flow_tables())
    codes = sorted(set(table["hs"]))
    scenario = [draw(measures(codes, i, with_in_baseline)) for i in range(draw(st.integers(1, 2)))]
    baseline = [draw(measures(codes, i, with_in_baseline)) for i in range(draw(st.integers(1, 2)))]
    return table, scenario, baseline


def row_duties(result) -> pd.DataFrame:
    return result.flow_duties()[["scenario_duty_usd", "baseline_duty_usd", "added_duty_usd"]]


def scale_of(table: pd.DataFrame) -> float:
    """An absolute tolerance floor: sums of up to 25 × 1e12 × 10 carry rounding of about 1e-16 × that."""
    return 1e-9 * (float(table["value_usd"].sum()) * 10 * 2 + 1.0)


# ------------------------------------------------------------------------------------------- invariants


@SETTINGS
@given(cases(with_in_baseline=True))
def test_duty_is_never_negative(case):
    table, scenario, baseline = case
    result = compute(table, scenario_from(scenario), scenario_from(baseline, name="base"))
    rows = row_duties(result)
    assert (rows["scenario_duty_usd"] >= 0).all()
    assert (rows["baseline_duty_usd"] >= 0).all()
    zero_base = rows["baseline_duty_usd"] == 0
    assert (rows.loc[zero_base, "added_duty_usd"] >= 0).all()
    # against a baseline without duty, added duty is the scenario duty and so never negative
    against_zero = compute(table, scenario_from(scenario), zero_baseline())
    assert (row_duties(against_zero)["added_duty_usd"] >= 0).all()
    assert (result.scenario_schedule.total_rate >= 0).all()
    assert (result.baseline_schedule.total_rate >= 0).all()


@SETTINGS
@given(cases(), st.sampled_from([2, 4, 6, 8, 10]))
def test_every_table_sums_to_the_totals(case, level):
    table, scenario, baseline = case
    result = compute(table, scenario_from(scenario), scenario_from(baseline, name="base"), level=level)
    totals = result.totals()
    tol = scale_of(table)
    # imports are the plain sum of the input values
    assert totals["imports_usd"] == pytest.approx(float(table["value_usd"].sum()), rel=1e-9, abs=tol)
    tables = {
        "by_partner": result.by_partner(),
        "by_product": result.by_product(),
        "by_partner_product": result.by_partner_product(),
        "flow_duties": result.flow_duties().rename(columns={"value_usd": "imports_usd"}),
    }
    for label, frame in tables.items():
        for key in TOTAL_KEYS:
            assert float(frame[key].sum()) == pytest.approx(totals[key], rel=1e-9, abs=tol), (label, key)
    # each product table has one row per distinct product at the level (codes coarser keep their length)
    expected_products = {code[:level] for code in table["hs"]}
    assert set(tables["by_product"]["hs"]) == expected_products
    assert set(tables["by_partner"]["partner"]) == set(table["partner"])


@SETTINGS
@given(flow_tables(), st.data())
def test_all_zero_rates_give_zero_duty(table, data):
    codes = sorted(set(table["hs"]))
    measure_list = [data.draw(measures(codes, i)) for i in range(data.draw(st.integers(1, 2)))]
    for m in measure_list:  # same scopes, every rate set to 0
        m["rate"] = 0.0 if m["rate"] is not None else None
        m["rates"] = dict.fromkeys(m["rates"], 0.0)
    result = compute(table, scenario_from(measure_list), zero_baseline())
    totals = result.totals()
    # 0 × anything = 0, exactly
    assert totals["scenario_duty_usd"] == 0.0
    assert totals["added_duty_usd"] == 0.0
    assert totals["scenario_rate"] == 0.0
    assert (result.flow_duties()["scenario_duty_usd"] == 0.0).all()
    assert (result.by_partner()["scenario_duty_usd"] == 0.0).all()


@SETTINGS
@given(cases(), st.floats(1e-3, 1e3, allow_nan=False))
def test_duty_is_linear_in_value(case, k):
    table, scenario, baseline = case
    s, b = scenario_from(scenario), scenario_from(baseline, name="base")
    before = compute(table, s, b)
    after = compute(table.assign(value_usd=table["value_usd"] * k), s, b)
    rows_before, rows_after = row_duties(before), row_duties(after)
    for column in ("scenario_duty_usd", "baseline_duty_usd"):
        expected = rows_before[column].to_numpy() * k
        np.testing.assert_allclose(rows_after[column].to_numpy(), expected, rtol=1e-9, atol=1e-290)
    tol = scale_of(table) * k
    for key in TOTAL_KEYS:
        assert after.totals()[key] == pytest.approx(before.totals()[key] * k, rel=1e-9, abs=tol)
    # rates do not depend on the scale
    for key in ("baseline_rate", "scenario_rate"):
        assert after.totals()[key] == pytest.approx(before.totals()[key], rel=1e-9, abs=1e-12)


def _effective_own_rate(measure: dict, partner: str) -> float:
    """The rate a partner pays under a measure before the raise (its own, else EU's, else the default)."""
    if partner in measure["rates"]:
        return measure["rates"][partner]
    if partner in ("DEU", "FRA") and "EU" in measure["rates"]:
        return measure["rates"]["EU"]
    return measure["rate"] if measure["rate"] is not None else 0.0


@SETTINGS
@given(flow_tables(), st.data())
def test_raising_a_rate_never_lowers_a_duty(table, data):
    codes = sorted(set(table["hs"]))
    measure_list = [data.draw(measures(codes, i)) for i in range(data.draw(st.integers(1, 2)))]
    before = compute(table, scenario_from(measure_list), zero_baseline())

    which = data.draw(st.integers(0, len(measure_list) - 1))
    raised = [dict(m, rates=dict(m["rates"])) for m in measure_list]
    target = raised[which]
    choices = [*(p for p in PARTNERS if p not in target["exclude_partners"]), "default", "EU"]
    partner = data.draw(st.sampled_from(choices))
    default = target["rate"] if target["rate"] is not None else 0.0
    if partner == "default":
        target["rate"] = data.draw(st.floats(default, 10.0, allow_nan=False))
    elif partner == "EU":  # the group's rate, for members without their own entry
        start = target["rates"].get("EU", default)
        target["rates"]["EU"] = data.draw(st.floats(start, 10.0, allow_nan=False))
    else:
        start = _effective_own_rate(target, partner)
        target["rates"][partner] = data.draw(st.floats(start, 10.0, allow_nan=False))
    after = compute(table, scenario_from(raised), zero_baseline())

    old = before.flow_duties()["scenario_duty_usd"].to_numpy()
    new = after.flow_duties()["scenario_duty_usd"].to_numpy()
    assert (new >= old).all(), (partner, which, raised)
    assert after.totals()["scenario_duty_usd"] >= before.totals()["scenario_duty_usd"] * (1 - 1e-12)
    if partner != "default":  # other partners' rows do not move at all
        members = ["DEU", "FRA"] if partner == "EU" else [partner]
        others = (~table["partner"].isin(members)).to_numpy()
        np.testing.assert_array_equal(new[others], old[others])


def _aggregates(result) -> dict:
    def keyed(frame: pd.DataFrame, keys: list[str]) -> dict:
        frame = frame.sort_values(keys, ignore_index=True)
        return {tuple(row[k] for k in keys): [row[c] for c in TOTAL_KEYS] for _, row in frame.iterrows()}

    return {
        "totals": [result.totals()[k] for k in TOTAL_KEYS],
        "by_partner": keyed(result.by_partner(), ["partner"]),
        "by_product": keyed(result.by_product(), ["hs"]),
        "by_partner_product": keyed(result.by_partner_product(), ["partner", "hs"]),
    }


def _assert_same_aggregates(a: dict, b: dict, tol: float) -> None:
    assert a["totals"] == pytest.approx(b["totals"], rel=1e-9, abs=tol)
    for name in ("by_partner", "by_product", "by_partner_product"):
        assert a[name].keys() == b[name].keys(), name
        for key in a[name]:
            assert a[name][key] == pytest.approx(b[name][key], rel=1e-9, abs=tol), (name, key)


@SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(case, rnd):
    table, scenario, baseline = case
    s, b = scenario_from(scenario), scenario_from(baseline, name="base")
    order = list(range(len(table)))
    rnd.shuffle(order)
    shuffled = table.iloc[order].reset_index(drop=True)
    _assert_same_aggregates(
        _aggregates(compute(table, s, b)), _aggregates(compute(shuffled, s, b)), scale_of(table)
    )


@SETTINGS
@given(cases(), st.data())
def test_splitting_a_row_across_periods_keeps_the_totals(case, data):
    table, scenario, baseline = case
    s, b = scenario_from(scenario), scenario_from(baseline, name="base")
    i = data.draw(st.integers(0, len(table) - 1))
    share = data.draw(st.floats(0.0, 1.0, allow_nan=False))
    row = table.iloc[i]
    first = row["value_usd"] * share
    second = row["value_usd"] - first  # first + second == value (to rounding)
    split = pd.concat(
        [
            table.drop(index=table.index[i]),
            pd.DataFrame(
                [
                    {"partner": row["partner"], "hs": row["hs"], "period": "2022-01", "value_usd": first},
                    {"partner": row["partner"], "hs": row["hs"], "period": "2022-02", "value_usd": second},
                ]
            ),
        ],
        ignore_index=True,
    )
    assert len(split) == len(table) + 1
    _assert_same_aggregates(
        _aggregates(compute(table, s, b)), _aggregates(compute(split, s, b)), scale_of(table)
    )


# ------------------------------------------------------------------------- hand-checked anchor for the helpers


def test_helpers_build_the_scenario_they_describe():
    """The TOML builder above is itself checked once against duties worked out by hand."""
    scenario = scenario_from(
        [
            {
                "id": "m0",
                "rate": 0.1,
                "rates": {"EU": 0.2, "DEU": 3.0},
                "exclude_partners": ["MEX"],
                "products": ["87"],
                "exclude_products": ["8703"],
            }
        ]
    )
    table = pd.DataFrame(
        {
            "partner": ["DEU", "FRA", "JPN", "MEX", "JPN", "JPN"],
            "hs": ["8708", "87", "870899", "8708", "8703230100", "0101"],
            "period": "2024",
            "value_usd": [10.0, 100.0, 1000.0, 5.0, 7.0, 9.0],
        }
    )
    # rows priced as they are (the split of the chapter row "87" over the import mix has its own tests,
    # tests/test_coarse_split.py)
    duties = compute(table, scenario, zero_baseline(), split_coarse=False).flow_duties()
    duties = duties["scenario_duty_usd"].tolist()
    # DEU own 3.0 × 10 = 30; FRA via EU 0.2 × 100 = 20; JPN default 0.1 × 1000 = 100;
    # MEX excluded → 0; 8703… carved out → 0; chapter 01 not in products → 0
    assert duties == pytest.approx([30.0, 20.0, 100.0, 0.0, 0.0, 0.0], abs=1e-9)


@SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_summed_categorical_flows_give_the_same_tables(case, rnd):
    """The fast reader's shape (one row per pair, sorted, partner and hs as categoricals) and the same
    pairs as text in any order give the tables of the rows themselves, and imports by partner equal a
    plain pandas group-by."""
    table, scenario, baseline = case
    s, b = scenario_from(scenario), scenario_from(baseline, name="base")
    summed = table.groupby(["partner", "hs"], as_index=False)["value_usd"].sum()
    categorical = summed.astype({"partner": "category", "hs": "category"})
    order = list(range(len(summed)))
    rnd.shuffle(order)
    shuffled = summed.iloc[order].reset_index(drop=True)
    rows = _aggregates(compute(table, s, b))
    for other in (categorical, shuffled):
        _assert_same_aggregates(rows, _aggregates(compute(other, s, b)), scale_of(table))
    by_partner = compute(shuffled, s, b).by_partner().set_index("partner")["imports_usd"]
    expected = table.groupby("partner")["value_usd"].sum()
    assert by_partner.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy(), rel=1e-12)
