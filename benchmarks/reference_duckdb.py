"""The benchmark's static computation in DuckDB SQL: an independent second implementation.

Prices every flow of a file under the EO 14257 duties of 9 April 2025 (benchmarks/bench-liberation-day.toml,
a zero baseline) and writes the three aggregates tariffcalc writes: by partner, by HS chapter and by
partner × chapter (value and duty, USD). The rates are built here from the bundled source tables (Annex I,
EU membership, the exemption lists), not from tariffcalc's engine, so agreement is a real check.

    python benchmarks/reference_duckdb.py FLOWS.csv|FLOWS.parquet --out DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from tariffcalc.reference import bundled

ON = dt.date(2025, 4, 9)
NOT_SUBJECT = ("CAN", "MEX", "RUS", "BLR", "CUB", "PRK")
EXEMPT_LISTS = (
    "eo14257_annex2.csv",
    "s232_steel_articles.csv",
    "s232_steel_derivatives.csv",
    "s232_aluminum_articles.csv",
    "s232_aluminum_derivatives.csv",
    "s232_autos.csv",
)


def partner_rates() -> pd.DataFrame:
    """Reciprocal rate by partner on 9 April 2025: Annex I, the EU's 27 at 20 %, 0 for the non-subject."""
    annex = bundled.read_table("eo14257_annex1.csv")
    rates = {p: float(r) for p, r in zip(annex["partner"], annex["rate"], strict=True) if p != "EU"}
    groups = bundled.read_table("groups.csv")
    eu = groups[
        (groups["group"] == "EU")
        & (groups["start"] <= ON.isoformat())
        & ((groups["end"] == "") | (groups["end"] >= ON.isoformat()))
    ]["partner"]
    eu_rate = float(annex.set_index("partner").loc["EU", "rate"])
    rates |= dict.fromkeys(eu, eu_rate) | {"HKG": rates["CHN"], "MAC": rates["CHN"]}
    rates |= dict.fromkeys(NOT_SUBJECT, 0.0)
    return pd.DataFrame({"partner": list(rates), "rate": list(rates.values())})


def exempt_prefixes() -> pd.DataFrame:
    """Every exempt HS prefix in force on 9 April 2025, with its length."""
    prefixes = set()
    for name in EXEMPT_LISTS:
        table = bundled.read_table(f"lists/{name}")
        prefixes |= {
            p for p, d in zip(table["hs"], table["effective"], strict=True) if not d or d <= ON.isoformat()
        }
    return pd.DataFrame({"prefix": sorted(prefixes), "len": [len(p) for p in sorted(prefixes)]})


SQL = """
WITH flows AS (SELECT partner, hs, value_usd FROM {source}),
codes AS (SELECT DISTINCT hs FROM flows),
exempt_codes AS (
    SELECT DISTINCT c.hs FROM codes c JOIN exempt e ON length(c.hs) >= e.len AND left(c.hs, e.len) = e.prefix
),
priced AS (
    SELECT f.partner, left(f.hs, 2) AS chapter, f.value_usd,
           f.value_usd * CASE WHEN x.hs IS NULL THEN coalesce(r.rate, 0.10) ELSE 0.0 END AS duty_usd
    FROM flows f LEFT JOIN rates r USING (partner) LEFT JOIN exempt_codes x USING (hs)
)
SELECT partner, chapter, sum(value_usd) AS imports_usd, sum(duty_usd) AS duty_usd
FROM priced GROUP BY GROUPING SETS ((partner), (chapter), (partner, chapter))
"""


def aggregates(path: Path, threads: int | None = None) -> dict[str, pd.DataFrame]:
    """The three aggregates of ``path`` (CSV with codes read as text, or Parquet), computed by DuckDB."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    con.register("rates", partner_rates())
    con.register("exempt", exempt_prefixes())
    if path.suffix == ".parquet":
        source = f"read_parquet('{path}')"
    else:
        columns = "{'partner': 'VARCHAR', 'hs': 'VARCHAR', 'period': 'VARCHAR', 'value_usd': 'DOUBLE'}"
        source = f"read_csv('{path}', header = true, columns = {columns})"
    result = con.execute(SQL.format(source=source)).df()
    return {
        "by_partner": result[result["chapter"].isna() & result["partner"].notna()].drop(columns="chapter"),
        "by_product": result[result["partner"].isna() & result["chapter"].notna()]
        .drop(columns="partner")
        .rename(columns={"chapter": "hs"}),
        "by_partner_product": result[result["partner"].notna() & result["chapter"].notna()].rename(
            columns={"chapter": "hs"}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("flows", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, table in aggregates(args.flows, args.threads).items():
        table.to_csv(args.out / f"{name}.csv", index=False)


if __name__ == "__main__":
    main()
