"""Read trade-flow files into the canonical flow table, rejecting bad rows into a ledger.

Canonical columns (DESIGN.md): ``partner`` (ISO3 of origin), ``hs`` (2–10 digits as text), ``period``
(``YYYY`` or ``YYYY-MM``, optional), ``value_usd`` (customs value, USD, ≥ 0) and optional ``reporter``
(importer, ISO3). Other columns travel along unchanged.

Nothing is lost: every row either lands in the flow table or in the rejects ledger with the file, the
line and the reason, and each file's input value equals its accepted plus rejected value.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from tariffcalc import countries, hs
from tariffcalc.errors import FlowsError, suggest

REQUIRED = ("partner", "hs", "value_usd")
REJECT_COLUMNS = ("source_file", "line", "reason", "value_usd_parsed")
_PERIOD = r"^\d{4}(-(0[1-9]|1[0-2]))?$"


@dataclasses.dataclass(frozen=True)
class FileReport:
    """Reconciliation of one input file: input value = accepted value + rejected value (USD)."""

    path: str
    sha256: str
    rows: int
    accepted_rows: int
    rejected_rows: int
    input_value_usd: float
    accepted_value_usd: float
    rejected_value_usd: float


@dataclasses.dataclass
class FlowSet:
    """Accepted flows (canonical table), the rejects ledger, and one reconciliation report per file."""

    flows: pd.DataFrame
    rejects: pd.DataFrame
    files: list[FileReport]

    @property
    def rejected_value_usd(self) -> float:
        return float(sum(f.rejected_value_usd for f in self.files))

    @property
    def input_value_usd(self) -> float:
        return float(sum(f.input_value_usd for f in self.files))


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file (recorded in manifest.json so a run can be traced to its exact inputs)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_parquet_text(path: Path, numeric: tuple[str, ...] = ("value_usd",)) -> pd.DataFrame:
    """Read a Parquet file with every column except ``numeric`` as text.

    Dictionary-encoded and integer columns are cast to strings in Arrow, which is far cheaper than
    converting pandas Categoricals afterwards; codes such as ``0101`` keep their leading zeros.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for index, field in enumerate(table.schema):
        if field.name not in numeric and field.type != pa.string():
            table = table.set_column(index, field.name, table.column(index).cast(pa.string()))
    return table.to_pandas()


def _read_raw(path: Path) -> pd.DataFrame:
    """Every column as text (so codes keep leading zeros and bad cells survive to the rejects ledger)."""
    if not path.is_file():
        raise FlowsError(f"Flow file {path} does not exist.")
    if path.suffix.lower() == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise FlowsError(f"{path}: cannot read as Parquet ({exc}).") from None
        return frame.astype({c: str for c in frame.columns if c != "value_usd"})
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise FlowsError(
            f"{path}: the file is empty; expected a header row with {', '.join(REQUIRED)}."
        ) from None
    except pd.errors.ParserError as exc:
        raise FlowsError(f"{path}: not a well-formed CSV file ({exc}).") from None
    except UnicodeDecodeError as exc:
        raise FlowsError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV.") from None


def _check_columns(frame: pd.DataFrame, path: Path) -> None:
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        hints = "".join(suggest(m, frame.columns) for m in missing)
        raise FlowsError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}. "
            f"The canonical columns are partner (ISO3), hs, period, value_usd.{hints}"
        )


def _partner_reasons(partner: pd.Series) -> pd.Series:
    """Empty string for known ISO3 codes, else a reason with a suggestion (computed once per distinct code)."""
    known = countries.partner_names()
    reasons = {}
    for code in pd.unique(partner):
        if code in known:
            reasons[code] = ""
            continue
        try:
            hint = f" (did you mean {countries.to_iso3(code)!r}?)"
        except Exception:
            hint = suggest(code, known).replace(" Did you mean", " (did you mean").replace("?", "?)")
        reasons[code] = f"unknown partner {code!r}: use an ISO3 code{hint}"
    return partner.map(reasons)


def read_flows(path: str | Path, importer: str = "USA") -> tuple[pd.DataFrame, pd.DataFrame, FileReport]:
    """Read one canonical CSV or Parquet file: (accepted flows, rejected rows, reconciliation report)."""
    path = Path(path)
    raw = _read_raw(path)
    _check_columns(raw, path)
    frame = raw.copy()
    frame["partner"] = frame["partner"].astype(str).str.strip().str.upper()
    frame["hs"] = frame["hs"].astype(str).str.replace(hs.SEPARATORS, "", regex=True)
    raw_value = frame["value_usd"]
    if pd.api.types.is_numeric_dtype(raw_value):
        value = raw_value.astype(float)
        blank = value.isna()
    else:
        text = raw_value.astype(str).str.strip()
        blank = text == ""
        value = pd.to_numeric(text, errors="coerce").astype(float)
    value[~np.isfinite(value)] = np.nan

    reason = pd.Series("", index=frame.index, dtype=object)

    def flag(mask: pd.Series, text: str | Callable[[pd.Series], pd.Series]) -> None:
        """Give rows in ``mask`` that have no reason yet this one (text built only for those rows)."""
        fresh = mask & (reason == "")
        if fresh.any():
            reason[fresh] = text(fresh) if callable(text) else text

    flag(blank, "missing value_usd")
    flag(
        value.isna(),
        lambda rows: "value_usd is not a number: " + raw_value[rows].astype(str).str.slice(0, 40),
    )
    flag(value < 0, "negative value_usd")
    partner_reason = _partner_reasons(frame["partner"])
    flag(partner_reason != "", lambda rows: partner_reason[rows])
    flag(
        ~frame["hs"].str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{8}|\d{10}"),
        lambda rows: (
            "malformed HS code " + frame["hs"][rows].str.slice(0, 20) + " (need 2, 4, 6, 8 or 10 digits)"
        ),
    )
    if "period" in frame.columns:
        frame["period"] = frame["period"].astype(str).str.strip()
        flag(~frame["period"].str.match(_PERIOD), "period must be YYYY or YYYY-MM")
    else:
        frame["period"] = ""
    if "reporter" in frame.columns:
        reporter = frame["reporter"].astype(str).str.strip().str.upper()
        flag(
            reporter != importer,
            lambda rows: "reporter " + reporter[rows] + f" is not the scenario's importer {importer}",
        )
    key = ["partner", "hs", "period"]
    duplicate = frame.duplicated(key, keep="first")
    if duplicate.any():
        first_line = (frame.index.to_series() + 2).groupby([frame[k] for k in key]).transform("min")
        flag(duplicate, lambda rows: "duplicate of line " + first_line[rows].astype(str))

    bad = reason != ""
    frame["value_usd"] = value
    accepted = frame.loc[~bad].reset_index(drop=True)
    rejects = raw.loc[bad].astype(str).copy()
    rejects.insert(0, "source_file", str(path))
    rejects.insert(1, "line", (raw.index[bad] + 2).astype(int))
    rejects.insert(2, "reason", reason[bad].to_numpy())
    rejects.insert(3, "value_usd_parsed", value[bad].fillna(0.0).to_numpy())
    rejects = rejects.reset_index(drop=True)

    report = FileReport(
        path=str(path),
        sha256=sha256(path),
        rows=len(frame),
        accepted_rows=len(accepted),
        rejected_rows=int(bad.sum()),
        input_value_usd=float(value.fillna(0.0).sum()),
        accepted_value_usd=float(accepted["value_usd"].sum()),
        rejected_value_usd=float(value[bad].fillna(0.0).sum()),
    )
    return accepted, rejects, report


def load_flows(paths: list[str | Path] | str | Path | None = None, importer: str = "USA") -> FlowSet:
    """Read one or more flow files (default: the bundled 2024 US imports) into one :class:`FlowSet`."""
    from tariffcalc import bundled

    if paths is None or (isinstance(paths, list) and not paths):
        paths = [bundled.default_flows_path()]
    if isinstance(paths, str | Path):
        paths = [paths]
    parts, rejects, reports = [], [], []
    for path in paths:
        accepted, rejected, report = read_flows(path, importer)
        parts.append(accepted)
        rejects.append(rejected)
        reports.append(report)
    flows = pd.concat(parts, ignore_index=True)
    ledger = pd.concat(rejects, ignore_index=True) if any(len(r) for r in rejects) else rejects[0]
    return FlowSet(flows=flows, rejects=ledger, files=reports)
