"""Safe file writing: atomic replace, never over an input, only into folders tariffcalc owns.

An interrupted run must never leave half a CSV, and a typo in ``--out`` must never destroy a user's
data, so every file is written to a temporary name in the same folder and renamed into place.

A command's output *folder* is written whole or not at all (:func:`output_folder`): its files go into a
hidden staging folder beside it, which replaces the folder only when every file is written, so the
folder always holds exactly one run's files — a rerun with fewer outputs leaves none of the earlier
ones behind, and a run killed half-way leaves the previous folder as it was. Two runs into one folder
take turns through a lock file beside it (``fcntl.flock``; on systems without ``fcntl``, such as
Windows, there is no lock and the last run to finish wins).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tariffcalc.errors import OutputError, os_reason

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows)
    fcntl = None  # type: ignore[assignment]

MANIFEST = "manifest.json"
LOCK_WAIT_SECONDS = 10.0
"""How long a run waits for another run writing the same output folder before it gives up."""
_OUTPUT_SUFFIXES = (".csv", ".json", ".md", ".pdf", ".png", ".xlsx")
"""What tariffcalc writes at the top of a folder: in a folder whose manifest predates its ``files`` list,
other entries (and folders other than ``charts``) are taken for the user's own."""


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:  # name the file being written, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
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


def _cannot(out: Path, exc: OSError, doing: str = "write", staging: Path | None = None) -> OutputError:
    """An OS error met while writing ``out`` as one sentence naming the folder (and the file, if another;
    a file of the staging folder is named as the file it will be in ``out``)."""
    name = str(exc.filename or "")
    if staging is not None and name.startswith(str(staging)):
        name = str(out) + name[len(str(staging)) :]
    where = f" ({name})" if name and Path(name) != out else ""
    return OutputError(
        f"Cannot {doing} the output folder {out}{where}: {os_reason(exc, writing=True)}.", parameter="out"
    )


def _check_target(out: Path, inputs: Iterable[Path]) -> Path:
    """``out`` made absolute, after the checks that need no lock: not over an input, not the working
    folder, a name the file system takes, and not under a file. The parent folders are created."""
    try:
        out = Path(out).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python < 3.13)
        raise OutputError(f"Cannot use {out} as the output folder: {exc}.", parameter="out") from None
    for path in inputs:
        if Path(path).resolve().is_relative_to(out):
            raise OutputError(
                f"Output folder {out} contains the input {path}; choose another output folder so inputs "
                "are never overwritten.",
                parameter="out",
            )
    try:
        here: Path | None = Path.cwd().resolve()
    except OSError:  # the working folder was removed
        here = None
    if here is not None and here.is_relative_to(out):
        raise OutputError(
            f"Output folder {out} is the current folder or holds it; choose a new folder inside it.",
            parameter="out",
        )
    if len(out.name.encode("utf-8", "surrogateescape")) > 255:
        raise OutputError(
            f"Output folder name {out.name[:40]}… is {len(out.name.encode('utf-8', 'surrogateescape'))} bytes "
            "long; file systems allow at most 255: choose a shorter name.",
            parameter="out",
        )
    blocking = next((p for p in reversed(out.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise OutputError(
            f"Cannot create the output folder {out}: {blocking} is a file, not a folder; choose another path.",
            parameter="out",
        )
    if out.exists() and not out.is_dir():
        raise OutputError(f"Output folder {out} is a file, not a folder.", parameter="out")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot(out, exc, "create") from None
    return out


def _foreign(folder: Path) -> list[str]:
    """Entries at the top of ``folder`` that tariffcalc did not write: all of them without a manifest;
    those the manifest's ``files`` does not list; with an older manifest (no ``files``), every entry but
    ``charts`` and the kinds of file tariffcalc writes."""
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except FileNotFoundError:
        return []
    if MANIFEST not in entries:
        return entries
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    if isinstance(listed, list):
        ours = {Path(str(f)).parts[0] for f in listed if str(f)} | {MANIFEST}
        return [e for e in entries if e not in ours]
    return [
        e
        for e in entries
        if not (e == "charts" and (folder / e).is_dir())
        and not ((folder / e).is_file() and e.endswith(_OUTPUT_SUFFIXES))
    ]


def _refuse_foreign(out: Path, foreign: list[str]) -> None:
    shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
    raise OutputError(
        f"Output folder {out} already holds files that tariffcalc did not write ({shown}); "
        "choose an empty or new folder, or force writing into it (--force), which keeps them.",
        parameter="out",
    )


def prepare_output_dir(out: Path, inputs: Iterable[Path], force: bool = False) -> Path:
    """Check that ``out`` may receive a run's files and create it.

    Refuses when an input file lies inside ``out`` (its files could be overwritten) and when ``out`` holds
    files that no earlier tariffcalc run wrote, unless ``force``. (Commands write their folders through
    :func:`output_folder`, which also replaces the folder as a whole.)
    """
    out = _check_target(out, inputs)
    foreign = _foreign(out) if out.is_dir() else []
    if foreign and not force:
        _refuse_foreign(out, foreign)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise _cannot(out, exc, "create") from None
    return out


def _hidden(out: Path, kind: str) -> str:
    """The name of a hidden sibling of ``out`` (its lock, staging or previous folder)."""
    name = out.name if len(out.name.encode("utf-8", "surrogateescape")) <= 120 else None
    if name is None:
        name = hashlib.sha256(out.name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f".{name}.tariffcalc-{kind}"


@contextlib.contextmanager
def _locked(out: Path, wait: float) -> Iterator[None]:
    """Hold the lock of ``out`` (an exclusive ``flock`` on a file beside it), waiting up to ``wait`` s."""
    if fcntl is None:  # pragma: no cover (Windows)
        yield
        return
    lock_path = out.parent / _hidden(out, "lock")
    try:
        handle = open(lock_path, "a+b")  # noqa: SIM115 (held open while the lock is)
    except OSError as exc:
        raise _cannot(out, exc) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"Another tariffcalc command is writing the output folder {out} (it holds {lock_path}); "
                        "wait for it to finish, or choose another output folder.",
                        parameter="out",
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        handle.close()  # releases the lock; the lock file stays (removing it would race with a waiting run)


def _move_back(old: Path, out: Path) -> None:
    """Move the user's own entries of ``old`` (a replaced folder) into ``out`` where ``out`` has no such name."""
    for name in _foreign(old):
        if not (out / name).exists():
            os.rename(old / name, out / name)


def _recover(out: Path) -> None:
    """Clean up after commands killed while writing ``out`` (called with the lock held): a half-written
    staging folder is removed; a previous folder that was moved aside but not yet replaced comes back;
    the user's own files of a replaced folder are moved into the new one."""
    parent = out.parent
    for staging in parent.glob(_glob(out, "staging")):
        shutil.rmtree(staging, ignore_errors=True)
    for old in sorted(parent.glob(_glob(out, "old")), key=lambda p: p.stat().st_mtime, reverse=True):
        if not out.exists():
            os.rename(old, out)
            continue
        _move_back(old, out)
        shutil.rmtree(old, ignore_errors=True)


def _glob(out: Path, kind: str) -> str:
    name = _hidden(out, kind)
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name) + "-*"


@dataclasses.dataclass(frozen=True)
class Staging:
    """Where a command writes its output folder: ``path`` (the staging folder, written into) becomes
    ``folder`` (the output folder) when the command is done."""

    path: Path
    folder: Path


@contextlib.contextmanager
def output_folder(
    out: Path, inputs: Iterable[Path] = (), force: bool = False, wait: float | None = None
) -> Iterator[Staging]:
    """Write a command's output folder ``out`` whole: yields a :class:`Staging` whose ``path`` the command
    fills (manifest last, with :func:`write_manifest`); when the block ends without an exception, that
    folder replaces ``out``. On an exception (or a kill) ``out`` is left as it was.

    Refuses (:class:`OutputError`) when an input lies inside ``out``; when ``out`` holds files that no
    tariffcalc run wrote, unless ``force`` (they are then kept beside the new files); and when another
    command still writes ``out`` after ``wait`` seconds (default :data:`LOCK_WAIT_SECONDS`). Operating
    system errors (a read-only or full disk, a name too long) become an :class:`OutputError` naming ``out``.
    """
    out = _check_target(out, inputs)
    with _locked(out, LOCK_WAIT_SECONDS if wait is None else wait):
        try:
            _recover(out)
        except OSError as exc:
            raise _cannot(out, exc) from None
        if out.exists() and not out.is_dir():
            raise OutputError(f"Output folder {out} is a file, not a folder.", parameter="out")
        foreign = _foreign(out) if out.is_dir() else []
        if foreign and not force:
            _refuse_foreign(out, foreign)
        try:
            staging = Path(tempfile.mkdtemp(prefix=_hidden(out, "staging") + "-", dir=out.parent))
            os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes 0700; an output folder is an ordinary one
        except OSError as exc:
            raise _cannot(out, exc) from None
        try:
            yield Staging(staging, out)
            _swap(staging, out)
        except OSError as exc:
            raise _cannot(out, exc, staging=staging) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, out: Path) -> None:
    """Put ``staging`` in the place of ``out``; the user's own files of the old ``out`` move across."""
    if not out.exists():
        os.rename(staging, out)
        return
    old = out.parent / f"{_hidden(out, 'old')}-{secrets.token_hex(4)}"
    os.rename(out, old)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(old, out)
        raise
    _move_back(old, out)
    shutil.rmtree(old, ignore_errors=True)


def write_manifest(folder: Path, data: Any) -> None:
    """Write ``manifest.json`` into ``folder`` with ``files``: every file already in it (paths relative
    to the folder, sorted), so the folder says which files are the run's."""
    listed = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    write_json(folder / MANIFEST, {**dict(data), "files": [f for f in listed if f != MANIFEST]})
