"""``--engine dask``: the one reader's chunk function mapped over a Dask cluster, local or remote.

Each input — a file, a glob of files, or a Parquet dataset folder — is planned and cut into pieces here
exactly as the local engine does (:mod:`tariffcalc.read.stream`): byte ranges of a CSV file at record
boundaries (:data:`BLOCK_BYTES` each, larger than the local chunks since each piece is a task), Parquet
row groups. Every piece is read on a worker by the same :func:`~tariffcalc.read.stream.read_chunk`, with
the same validators, and comes back as a :class:`~tariffcalc.read.stream.Part`: accepted rows as ids and
values, rejected rows as ledger rows. The parts are added here in file order into the same
:class:`~tariffcalc.read.stream.Sums`, so the totals, the ledger and the file reports are those of the
local engine — dirty files, repairs, rejects and all. A gzip or UTF-16 file cannot be cut without reading
it from the start: it is read whole by one worker.

Every path must be readable at the same place by every worker (shared storage) and by this machine,
which looks at each input's head. Dask is an optional dependency (``pip install 'tariffcalc[dask]'``),
imported only here.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tariffcalc.errors import FlowsError
from tariffcalc.read import stream, tables
from tariffcalc.read.flows import FlowSet, combine_flowsets, flowset_of, refuse_repeats
from tariffcalc.reference import bundled
from tariffcalc.util.hashing import sha256_file as sha256

HOW = "summed by partner and product on Dask workers"
BLOCK_BYTES = 64 << 20
"""CSV bytes per piece: larger than the local reader's chunks, since each piece is a task."""


def inputs(paths: list[str | Path]) -> list[Path]:
    """The inputs named by ``paths``: files, Parquet dataset folders, and globs (each file a glob matches,
    in sorted order, as if each were given); :class:`FlowsError` for a path that matches nothing."""
    found = []
    for given in map(str, paths):
        if Path(given).is_dir() or Path(given).is_file():
            found.append(Path(given))
            continue
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            raise FlowsError(f"No flow file matches {given}.")
        found += [Path(m) for m in matches]
    return found


def _client(scheduler: str | None):
    """A client of the cluster at ``scheduler``, or of a new local cluster (one worker process per core)."""
    from distributed import Client, LocalCluster

    try:
        if scheduler:
            return Client(scheduler, timeout="30s")
        return Client(LocalCluster(dashboard_address=None))
    except OSError as exc:
        raise FlowsError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}") from None


@dataclasses.dataclass
class _Job:
    """What every piece of one pass needs: the plan, the values the reading has given ids so far, and what
    a second pass rejects (sent to the workers once)."""

    plan: stream.Plan
    values: tuple
    held: stream.Held | None


def _read_remote(piece, job: _Job) -> stream.Part:
    """On a worker: one piece read by the local chunk function, with lookups seeded with this reading's
    values so that ids agree (the part carries its values for any the reading has not seen yet)."""
    lookups = stream.Lookups(job.plan).seed(job.values)
    part = stream.read_chunk(job.plan, lookups, piece, stream.Mode(job.plan.fast), job.held)
    part.values = lookups.values()
    return part


def _specs(plan: stream.Plan):
    """The pieces of a planned input as tasks: byte ranges (the worker reads them) or row groups."""
    if plan.partition:
        return list(stream.dataset_pieces(plan, batches=False))
    if plan.parquet:
        return list(stream.parquet_pieces(Path(plan.path), batches=False))
    return [
        stream.CsvPiece(
            chunk.number, None, chunk.quoted, chunk.codec, None, plan.path, chunk.start, chunk.end
        )
        for chunk in tables.csv_chunks(plan.head, size=BLOCK_BYTES)
    ]


def _remap(lookups: stream.Lookups, values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays turning a worker's ids into this reading's ids."""
    return tuple(
        np.array([lookup.intern(v) for v in known], dtype=np.intp)
        for lookup, known in zip((lookups.partner, lookups.code, lookups.period), values, strict=True)
    )


def _engine(client):
    """A pass of :func:`tariffcalc.read.stream.read_input` run on ``client``'s cluster."""

    def run(plan: stream.Plan, lookups: stream.Lookups, held, digest, progress, wide: bool) -> stream.Sums:
        sums = stream.Sums(plan.head.header_line if plan.head is not None else 1, wide)
        specs = _specs(plan)
        job = client.scatter(_Job(plan, lookups.values(), held), broadcast=True, hash=False)
        futures = client.map(_read_remote, specs, [job] * len(specs), pure=False)
        for future in futures:  # in file order; each result is released once added
            part = future.result()
            future.release()
            sums.add(part, _remap(lookups, part.values))
        return sums

    return run


def _digest(path: Path, hashes: Mapping[str, str]) -> str:
    """SHA-256 of a file; of a dataset, SHA-256 of its lines ``<file sha256>  <path in the folder>``."""
    if path.is_file():
        return hashes[str(path)]
    files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    lines = "".join(f"{hashes[str(f)]}  {f.relative_to(path).as_posix()}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()


def load_flows(
    paths: list[str | Path] | str | Path | None = None,
    importer: str = "USA",
    scheduler: str | None = None,
    source: str = "auto",
    column_map: Mapping[str, str] | None = None,
    units: str = "usd",
    strict: bool = False,
    duplicates: str = "sum",
) -> FlowSet:
    """Flows summed by (partner, hs) on a Dask cluster: the same :class:`FlowSet` as
    ``flows.load_flows(aggregate=True)`` gives, rejects and all.

    ``scheduler`` is the address of a running scheduler (``tcp://host:8786``); without it a local
    cluster is started for this call and closed after. Every path must be readable at the same place by
    every worker (shared storage).
    """
    try:
        import distributed  # noqa: F401  (the client and the local cluster, in _client)
    except ImportError:
        raise FlowsError("--engine dask needs Dask: pip install 'tariffcalc[dask]'.") from None
    if paths is None or (isinstance(paths, list | tuple) and not paths):
        paths = [bundled.default_flows_path()]
    items = inputs([paths] if isinstance(paths, str | Path) else list(paths))
    refuse_repeats(items)
    options = stream.Options(importer, source, column_map, units, duplicates, rows=False)
    plans = [stream.plan(item, options) for item in items]
    client = _client(scheduler)
    try:
        files = sorted(
            {str(f) for item in items for f in ([item] if item.is_file() else item.rglob("*.parquet"))}
        )
        hashes = dict(zip(files, client.gather(client.map(sha256, [Path(f) for f in files])), strict=True))
        flowsets = []
        for item, plan in zip(items, plans, strict=True):
            if plan.head is not None and plan.head.streamed:  # gzip, UTF-16: one worker reads it all
                reading = client.submit(stream.read_input, item, options, planned=plan, pure=False).result()
            else:
                reading = stream.read_input(item, options, engine=_engine(client), planned=plan)
            reading = dataclasses.replace(reading, sha256=_digest(item, hashes))
            flowsets.append(flowset_of(reading, HOW))
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None and not scheduler:
            cluster.close()
    return combine_flowsets(flowsets, strict)
