"""``--engine dask``: the streaming fast path on Dask DataFrame partitions, on a local or remote cluster.

Each input — a CSV or Parquet file, a glob of them, or a Parquet dataset folder — is read by Dask in
partitions (CSV in blocks of :data:`BLOCK_BYTES`, Parquet by row group). Every
partition is summed on its own by :func:`tariffcalc.read.stream.partial_totals`, with the checks of the local
fast path, and the partial sums are added by key in a Dask groupby. Only the (partner, hs, year) totals
come back to this machine, where duplicates across partitions and subtotal rows are checked and the same
:class:`~tariffcalc.read.flows.FlowSet` as the local fast path's is built, so ``compute`` and every output are
those of the local engine.

There is no careful reader on the cluster: a file that is not clean and canonical is an error that says
to run ``tariffcalc validate`` (or the local engine) on it. Dask is an optional dependency
(``pip install 'tariffcalc[dask]'``), imported only here.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads

from tariffcalc.errors import FlowsError, NotClean, os_reason
from tariffcalc.read import stream
from tariffcalc.read.flows import FlowSet, combine_flowsets, pair_flowset
from tariffcalc.reference import bundled
from tariffcalc.util.hashing import sha256_file as sha256

HOW = "summed by partner and product on Dask partitions"
BLOCK_BYTES = 64 << 20
"""CSV bytes per Dask partition: larger than the local reader's chunks, since each partition is a task."""
_COLUMNS = ("partner", "hs", "period", "reporter", "value_usd")
_CAREFUL = (
    "run `tariffcalc validate` on it, or `tariffcalc run` without --engine dask, which repairs and reports"
)


@dataclasses.dataclass(frozen=True)
class Input:
    """One input as reported in the reconciliation: a file, or a Parquet dataset folder and its files."""

    path: str
    files: tuple[str, ...]
    parquet: bool
    header: tuple[str, ...]

    @property
    def wanted(self) -> list[str]:
        """The columns the computation reads."""
        return [c for c in _COLUMNS if c in self.header]


def inputs(paths: list[str | Path]) -> list[Input]:
    """The inputs named by ``paths`` (files, globs of ``.csv``/``.parquet`` files, Parquet dataset folders).

    A glob stands for each file it matches, in sorted order, as if each were given; :class:`FlowsError`
    for a path that matches nothing, a file that is neither CSV nor Parquet, or no canonical header.
    """
    found = []
    for given in map(str, paths):
        if Path(given).is_dir():
            files = sorted(str(p) for p in Path(given).rglob("*.parquet") if p.is_file())
            if not files:
                raise FlowsError(
                    f"{given} is a folder without .parquet files (a Parquet dataset is expected)."
                )
            try:
                header = pads.dataset(given, format="parquet", partitioning="hive").schema.names
            except (pa.ArrowException, OSError) as exc:
                raise FlowsError(f"{given} is not a Parquet dataset: {_arrow_reason(exc, given)}.") from None
            found.append(Input(given, tuple(files), True, tuple(header)))
            continue
        matches = [given] if Path(given).is_file() else sorted(glob.glob(given, recursive=True))
        if not matches:
            raise FlowsError(f"No flow file matches {given}.")
        for name in matches:
            suffix = Path(name).suffix.lower()
            if suffix not in (".csv", ".parquet"):
                raise FlowsError(f"{name}: --engine dask reads .csv and .parquet files only.")
            try:
                header = stream.read_header(Path(name))
            except (pa.ArrowException, OSError) as exc:
                raise FlowsError(f"{name} cannot be read: {_arrow_reason(exc, name)}.") from None
            found.append(Input(name, (name,), suffix == ".parquet", tuple(header)))
    for item in found:
        if len(set(item.header)) != len(item.header) or not {"partner", "hs", "value_usd"} <= set(
            item.header
        ):
            raise FlowsError(
                f"{item.path} is not in the canonical layout (columns partner, hs, value_usd, once each); "
                f"--engine dask reads canonical files only: {_CAREFUL}."
            )
    return found


def _arrow_reason(exc: BaseException, path: str) -> str:
    """Why pyarrow could not read ``path``, in words: a file that is not Parquet is named."""
    text = str(exc)
    if "magic bytes" in text or "Could not open Parquet" in text:
        culprit = re.search(r"'([^']+\.parquet)'", text)
        return f"{culprit.group(1) if culprit else path} is not a Parquet file (convert it, or remove it)"
    if isinstance(exc, OSError) and exc.errno:
        return os_reason(exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _partials(frame: pd.DataFrame, importer: str, source: int, label: str) -> pd.DataFrame:
    """:func:`tariffcalc.read.stream.partial_totals` of one partition, tagged with its input's number."""
    try:
        sums = stream.partial_totals(pa.Table.from_pandas(frame, preserve_index=False), importer)
    except NotClean as exc:
        raise NotClean(f"{label}: {exc}") from None
    return pd.DataFrame({"source": np.full(len(sums["key"]), source, dtype=np.int64), **sums})


def _frame(item: Input):
    """The input as a Dask DataFrame of its wanted columns (text columns as text, never parsed)."""
    import dask.dataframe as dd

    if item.parquet:
        return dd.read_parquet(item.path if len(item.files) > 1 else item.files[0], columns=item.wanted)
    text = {c: "str" for c in item.wanted if c != "value_usd"}
    return dd.read_csv(
        item.path,
        usecols=item.wanted,
        dtype={**text, "value_usd": "float64"},
        na_filter=False,
        encoding="utf-8-sig",
        blocksize=BLOCK_BYTES,
    )


def _digest(item: Input, hashes: Mapping[str, str]) -> str:
    """SHA-256 of a file; of a dataset, SHA-256 of its lines ``<file sha256>  <path in the folder>``."""
    if len(item.files) == 1 and item.files[0] == item.path:
        return hashes[item.path]
    lines = "".join(f"{hashes[f]}  {Path(f).relative_to(item.path).as_posix()}\n" for f in item.files)
    return hashlib.sha256(lines.encode()).hexdigest()


def _client(scheduler: str | None):
    """A client of the cluster at ``scheduler``, or of a new local cluster (one worker process per core)."""
    from distributed import Client, LocalCluster

    try:
        if scheduler:
            return Client(scheduler, timeout="30s")
        return Client(LocalCluster(dashboard_address=None))
    except OSError as exc:
        raise FlowsError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _pair_totals(item: Input, sums: pd.DataFrame) -> stream.PairTotals:
    """The summed (key, value, rows, periods) rows of one input as pair totals, checking what spans partitions."""
    partner, code, year = stream.decode_keys(sums["key"].to_numpy())
    mask = sums["periods"].to_numpy()
    duplicated = np.bitwise_count(mask) != sums["rows"].to_numpy()
    if duplicated.any():
        first = int(np.argmax(duplicated))
        raise FlowsError(
            f"{item.path} has duplicate (partner, hs, period) rows (e.g. {partner[first]} {code[first]}); "
            f"--engine dask reads clean files only: {_CAREFUL}."
        )
    keys = pd.DataFrame({"partner": partner, "hs": code, "undated": year == stream.NO_PERIOD})
    by_pair = keys.groupby(["partner", "hs"], sort=False)["undated"]
    overlapping = ((mask & 1) != 0) & ((mask & ~1) != 0)  # a year and months of it
    overlapping |= (by_pair.transform("any") & ~by_pair.transform("all")).to_numpy()  # undated and dated
    if overlapping.any():
        first = int(np.argmax(overlapping))
        raise FlowsError(
            f"{item.path} has rows for overlapping periods of one partner and product (e.g. {partner[first]} "
            f"{code[first]}: a year and its months, or rows with and without a period), which would all be "
            f"added up; --engine dask reads clean files only: {_CAREFUL}."
        )
    pairs = (
        pd.DataFrame({"partner": partner, "hs": code, "value": sums["value_usd"], "rows": sums["rows"]})
        .groupby(["partner", "hs"], sort=True)
        .sum()
        .reset_index()
    )
    partner_ids, partners = pd.factorize(pairs["partner"], sort=True)
    code_ids, codes = pd.factorize(pairs["hs"], sort=True)
    present = np.zeros((len(partners), len(codes)), dtype=bool)
    present[partner_ids, code_ids] = True
    if stream.has_subtotals(present, list(codes)):
        raise FlowsError(
            f"{item.path} has subtotal rows beside finer rows of the same partner; --engine dask reads clean "
            f"files only: {_CAREFUL}."
        )
    code_rows = np.bincount(code_ids, weights=pairs["rows"].to_numpy(), minlength=len(codes))
    return stream.PairTotals(
        partners=np.asarray(partners, dtype=object),
        codes=np.asarray(codes, dtype=object),
        partner_index=partner_ids,
        code_index=code_ids,
        value=pairs["value"].to_numpy(dtype=float),
        code_rows=code_rows.astype(np.int64),
        rows=int(pairs["rows"].sum()),
        columns=item.header,
    )


def load_flows(
    paths: list[str | Path] | str | Path | None = None,
    importer: str = "USA",
    scheduler: str | None = None,
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    strict: bool = False,
) -> FlowSet:
    """Clean canonical flows summed by (partner, hs) on a Dask cluster, as ``flows.load_flows(aggregate=True)``.

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a local
    cluster is started for this call and closed after. Every path must be readable at the same place by
    every worker (shared storage). :class:`FlowsError` for an input that is not clean and canonical (no
    row is ever rejected here, so ``strict`` changes nothing) and for reading options other than the
    canonical layout in US dollars.
    """
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401  (the client and the local cluster, in _client)
    except ImportError:
        raise FlowsError("--engine dask needs Dask: pip install 'tariffcalc[dask]'.") from None
    if source not in ("auto", "canonical") or column_map or units != "usd":
        raise FlowsError(
            "--engine dask reads canonical files in US dollars only (no --source, --map or --units)."
        )
    if paths is None or (isinstance(paths, list | tuple) and not paths):
        paths = [bundled.default_flows_path()]
    items = inputs([paths] if isinstance(paths, str | Path) else list(paths))
    client = _client(scheduler)
    try:
        meta = pd.DataFrame(
            {
                c: pd.Series(dtype="float64" if c == "value_usd" else "int64")
                for c in ("source", *stream.PARTIAL_COLUMNS)
            }
        )
        parts = [
            _frame(item).map_partitions(_partials, importer, number, item.path, meta=meta)
            for number, item in enumerate(items)
        ]
        files = sorted({f for item in items for f in item.files})
        hashes = client.map(sha256, [Path(f) for f in files])
        totals = client.compute(dd.concat(parts).groupby(["source", "key"]).sum())
        summed, digests = client.gather([totals, hashes])
    except ValueError as exc:  # NotClean from a partition, or a value that Dask could not parse
        reason = str(exc).splitlines()[-1].removeprefix("Original Message: ")
        if not isinstance(exc, NotClean):  # raised by Dask's reader, which does not name the file
            reason = f"{items[0].path if len(items) == 1 else f'one of {len(items)} inputs'}: {reason}"
        raise FlowsError(
            f"Not a clean canonical input: {reason}; --engine dask reads clean files only: {_CAREFUL}."
        ) from None
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None and not scheduler:
            cluster.close()
    summed = summed.reset_index().sort_values(["source", "key"])
    by_file = dict(zip(files, digests, strict=True))
    flowsets = []
    for number, item in enumerate(items):
        sums = summed[summed["source"] == number]
        if sums.empty:
            raise FlowsError(f"No flows to compute: {item.path} has a header but no data rows.")
        totals = _pair_totals(item, sums)
        flowsets.append(pair_flowset(totals, item.path, _digest(item, by_file), item.parquet, HOW))
    return combine_flowsets(flowsets, strict)
