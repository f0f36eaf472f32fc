"""Deterministic synthetic trade flows of realistic shape, at any size, as CSV and Parquet.

The shape of a Census HTS10 × partner × month extract: the 18,650 real 2024 HTS10 codes of the bundled
data (leading zeros and all), every partner of the bundled country table with Zipf-skewed shares,
12 monthly periods and lognormal values. The same (rows, seed) always gives byte-identical files.

    python benchmarks/generate.py --rows 1000000 --out benchmarks/data [--variant dirty|duplicates]

Rows are written in blocks of at most 1M, so memory stays flat whatever the size. (partner, hs, period)
keys are unique (no duplicate rows), as in a real extract; up to about 51M rows fit the key space.

Two variants of the CSV file test the reader on what real extracts hold (issue 12):

``dirty``
    the same rows, but one row in 1,000 (0.1 %, spread evenly) has a value cell that must be rejected:
    a negative amount, text, a blank cell or a suppressed value ``(D)``, in turn;
``duplicates``
    30 % of the rows repeat the (partner, hs, period) key of another row nearby (rows 0-2 of every ten
    take the keys of rows 3-5), as when an extract splits a key over districts or ports: they are summed.
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


VARIANTS = ("clean", "dirty", "duplicates")
BAD_VALUES = ("-1234", "about 2 million", "", "(D)")
"""The dirty variant's bad value cells, in turn: negative, text, blank, suppressed."""
DIRTY_EVERY = 1000


def block(
    rng: np.random.Generator, start: int, size: int, partners, weights, codes, variant: str = "clean"
) -> pa.Table:
    """Rows ``start``…``start+size``: distinct (partner, code, month) keys, lognormal values (USD).

    Keys walk a fixed pseudo-random permutation of the key space (i → a·i + b mod N with a coprime to N),
    so no key repeats; a partner's values are scaled by its Zipf weight, so value shares are skewed as in
    real data (a few partners hold most of the value).
    """
    space = len(partners) * len(codes) * 12
    a = 2_654_435_761 % space
    while np.gcd(a, space) != 1:
        a += 1
    row = np.arange(start, start + size, dtype=np.int64)
    if variant == "duplicates":  # rows 0-2 of every ten take the keys of rows 3-5
        row = np.where(row % 10 < 3, row + 3, row)
    index = (a * row + 97) % space
    month, rest = index % 12, index // 12
    code, partner = rest % len(codes), rest // len(codes)
    scale = weights[partner] * len(partners)
    value = np.round(rng.lognormal(mean=11.0, sigma=2.0, size=size) * scale, 0) + 1.0
    months = np.array([f"2024-{m:02d}" for m in range(1, 13)])
    table = pa.table(
        {
            "partner": pa.array(partners[partner].astype(str)),
            "hs": pa.array(codes[code].astype(str)),
            "period": pa.array(months[month]),
            "value_usd": pa.array(value),
        },
        schema=SCHEMA,
    )
    if variant != "dirty":
        return table
    text = np.array(table.column("value_usd").cast(pa.string()).to_pylist(), dtype=object)
    bad = np.flatnonzero((np.arange(start, start + size) % DIRTY_EVERY) == DIRTY_EVERY // 2)
    text[bad] = np.array(BAD_VALUES, dtype=object)[((start + bad) // DIRTY_EVERY) % len(BAD_VALUES)]
    return table.set_column(3, "value_usd", pa.array(text, pa.string()))


def generate(rows: int, out: Path, seed: int = 2024, variant: str = "clean") -> tuple[Path, Path | None]:
    """Write ``flows_<rows>.csv`` and ``flows_<rows>.parquet`` into ``out`` (skipped if present); the
    variants write ``flows_<rows>_<variant>.csv`` only (and return None for the Parquet file)."""
    out.mkdir(parents=True, exist_ok=True)
    suffix = "" if variant == "clean" else f"_{variant}"
    csv_path, parquet_path = out / f"flows_{rows}{suffix}.csv", out / f"flows_{rows}.parquet"
    if csv_path.exists() and (variant != "clean" or parquet_path.exists()):
        return csv_path, parquet_path if variant == "clean" else None
    partners, weights, codes = universe()
    if rows > len(partners) * len(codes) * 12:
        raise SystemExit(f"at most {len(partners) * len(codes) * 12:,} distinct rows in this key space")
    rng = np.random.default_rng(seed)
    plain = pacsv.WriteOptions(quoting_style="none")  # as most exports look: no quotes around codes
    schema = SCHEMA if variant != "dirty" else SCHEMA.set(3, pa.field("value_usd", pa.string()))
    with pacsv.CSVWriter(csv_path, schema, write_options=plain) as csv_writer:
        parquet = pq.ParquetWriter(parquet_path, SCHEMA, compression="zstd") if variant == "clean" else None
        try:
            for start in range(0, rows, BLOCK):
                table = block(rng, start, min(BLOCK, rows - start), partners, weights, codes, variant)
                csv_writer.write_table(table)
                if parquet is not None:
                    parquet.write_table(table)
        finally:
            if parquet is not None:
                parquet.close()
    return csv_path, parquet_path if variant == "clean" else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--variant", choices=VARIANTS, default="clean")
    args = parser.parse_args()
    for path in generate(args.rows, args.out, args.seed, args.variant):
        if path is not None:
            print(f"{path} ({path.stat().st_size / 1e6:,.1f} MB)")


if __name__ == "__main__":
    main()
