"""Safe file writing: atomic replace, never over an input, only into folders tariffcalc owns.

An interrupted run must never leave half a CSV, and a typo in ``--out`` must never destroy a user's
data, so every file is written to a temporary name in the same folder and renamed into place.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tariffcalc.errors import OutputError

MANIFEST = "manifest.json"


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str, bom: bool = False) -> None:
    """Write UTF-8 text atomically (with a byte-order mark when ``bom``, which Excel needs for UTF-8 CSV)."""
    write_bytes(path, text.encode("utf-8-sig" if bom else "utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write pretty, key-sorted JSON atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def prepare_output_dir(out: Path, inputs: Iterable[Path], force: bool = False) -> Path:
    """Check that ``out`` may receive a run's files and create it.

    Refuses when an input file lies inside ``out`` (its files could be overwritten) and when ``out`` holds
    files but no ``manifest.json`` from an earlier tariffcalc run, unless ``force``.
    """
    out = out.resolve()
    for path in inputs:
        if Path(path).resolve().is_relative_to(out):
            raise OutputError(
                f"Output folder {out} contains the input {path}; choose another output folder so inputs "
                "are never overwritten."
            )
    if out.exists() and not out.is_dir():
        raise OutputError(f"Output folder {out} is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file() and not force:
        raise OutputError(
            f"Output folder {out} already holds files that tariffcalc did not write; "
            "choose an empty or new folder, or force writing into it (--force)."
        )
    out.mkdir(parents=True, exist_ok=True)
    return out
