"""Deterministic synthetic trade flows of realistic shape, at any size, as CSV and Parquet.

The shape of a Census HTS10 × partner × month extract: the 18,650 real 2024 HTS10 codes of the bundled
data (leading zeros and all), every partner of the bundled country table with Zipf-skewed shares,
12 monthly periods and lognormal values. The same (rows, seed) always gives byte-identical files.

    python benchmarks/generate.py --rows 1000000 --out benchmarks/data

Rows are written in blocks of at most 1M, so memory stays flat whatever the size. (partner, hs, period)
keys are unique (no duplicate rows), as in a real extract; up to about 51M rows fit the key space.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tariffcalc.reference import bundled

BLOCK = 1_000_000
SCHEMA = pa.schema(
    [("partner", pa.string()), ("hs", pa.string()), ("period", pa.string()), ("value_usd", pa.float64())]
)


def universe() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partners (ISO3, most important first), their Zipf weights, and the real HTS10 codes."""
    flows = bundled.default_flows()
    by_partner = flows.groupby("partner")["value_usd"].sum().sort_values(ascending=False)
    countries = bundled.read_table("countries.csv")
    rest = sorted(set(countries["iso3"]) - set(by_partner.index) - {"USA"})
    partners = np.array([*by_partner.index, *rest], dtype=object)
    weights = 1.0 / np.arange(1, len(partners) + 1) ** 1.1
    codes = np.array(sorted(set(flows.loc[flows["hs"].str.len() == 10, "hs"])), dtype=object)
    return partners, weights / weights.sum(), codes


def block(rng: np.random.Generator, start: int, size: int, partners, weights, codes) -> pa.Table:
    """Rows ``start``…``start+size``: distinct (partner, code, month) keys, lognormal values (USD).

    Keys walk a fixed pseudo-random permutation of the key space (i → a·i + b mod N with a coprime to N),
    so no key repeats; a partner's values are scaled by its Zipf weight, so value shares are skewed as in
    real data (a few partners hold most of the value).
    """
    space = len(partners) * len(codes) * 12
    a = 2_654_435_761 % space
    while np.gcd(a, space) != 1:
        a += 1
    index = (a * np.arange(start, start + size, dtype=np.int64) + 97) % space
    month, rest = index % 12, index // 12
    code, partner = rest % len(codes), rest // len(codes)
    scale = weights[partner] * len(partners)
    value = np.round(rng.lognormal(mean=11.0, sigma=2.0, size=size) * scale, 0) + 1.0
    months = np.array([f"2024-{m:02d}" for m in range(1, 13)])
    return pa.table(
        {
            "partner": pa.array(partners[partner].astype(str)),
            "hs": pa.array(codes[code].astype(str)),
            "period": pa.array(months[month]),
            "value_usd": pa.array(value),
        },
        schema=SCHEMA,
    )


def generate(rows: int, out: Path, seed: int = 2024) -> tuple[Path, Path]:
    """Write ``flows_<rows>.csv`` and ``flows_<rows>.parquet`` into ``out`` (skipped if present)."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = out / f"flows_{rows}.csv", out / f"flows_{rows}.parquet"
    if csv_path.exists() and parquet_path.exists():
        return csv_path, parquet_path
    partners, weights, codes = universe()
    if rows > len(partners) * len(codes) * 12:
        raise SystemExit(f"at most {len(partners) * len(codes) * 12:,} distinct rows in this key space")
    rng = np.random.default_rng(seed)
    plain = pacsv.WriteOptions(quoting_style="none")  # as most exports look: no quotes around codes
    with (
        pacsv.CSVWriter(csv_path, SCHEMA, write_options=plain) as csv_writer,
        pq.ParquetWriter(parquet_path, SCHEMA, compression="zstd") as pq_writer,
    ):
        for start in range(0, rows, BLOCK):
            table = block(rng, start, min(BLOCK, rows - start), partners, weights, codes)
            csv_writer.write_table(table)
            pq_writer.write_table(table)
    return csv_path, parquet_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    for path in generate(args.rows, args.out, args.seed):
        print(f"{path} ({path.stat().st_size / 1e6:,.1f} MB)")


if __name__ == "__main__":
    main()
