"""Domain exceptions of tariffcalc.

Library code raises these; the command line turns each into one line on stderr (``Error: …``) and exit
code 2, in one place (``tariffcalc.app.cli._Group``). Every message says *what* is wrong, *where* (file,
line, key) and, when we can tell, *how to fix it*, so a user never needs the traceback. An error about
one argument of a library call names it in ``parameter`` (``"out"``, ``"year"``); the command line then
names the option (``--out``) in front of the message.
"""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable


class TariffcalcError(Exception):
    """Base class of every error that tariffcalc reports to a user.

    ``parameter`` is the name of the library argument at fault, if one is (the CLI shows its option).
    """

    def __init__(self, message: str = "", *, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class ScenarioError(TariffcalcError):
    """A scenario file (or a scenario name) is malformed, unknown or inconsistent."""


class FlowsError(TariffcalcError):
    """A trade-flow file cannot be read at all (as opposed to single bad rows, which are rejected)."""


class UnknownCodeError(TariffcalcError):
    """A partner or product code that tariffcalc does not know."""


class OutputError(TariffcalcError):
    """An output cannot be written safely (it would overwrite an input, or the folder is not ours)."""


class InvalidArgument(TariffcalcError, ValueError):
    """A library call got an argument outside its accepted values (the message lists them); the CLI's
    option parsing stops such values before they reach the library."""


class ModelError(TariffcalcError):
    """A response-model input or parameter is invalid (the message names it and the accepted values)."""


_OS_REASONS = {
    errno.EACCES: "permission denied: check its permissions",
    errno.EPERM: "operation not permitted: check its permissions",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full: free some space, or choose another disk",
    errno.EDQUOT: "the disk quota is exceeded: free some space, or choose another disk",
    errno.ENAMETOOLONG: "the name is too long for the file system: choose a shorter one",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENOENT: "it does not exist: check the path",
    errno.ELOOP: "too many symbolic links: check the path",
    errno.EEXIST: "it already exists",
    errno.EBUSY: "it is in use by another program",
    errno.EXDEV: "it lies on another file system",
}
_WRITING = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EBUSY)


def os_reason(exc: OSError, writing: bool = False) -> str:
    """What an operating-system error means for a user and what to do, in words (no errno numbers);
    ``writing``: the error came while writing, so choosing another place is a way out."""
    reason = _OS_REASONS.get(exc.errno or -1)
    if reason is None:
        return (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    if writing and exc.errno in _WRITING:
        reason += (", or" if ":" in reason else ":") + " choose a folder you may write to"
    return reason


def one_line(message: str) -> str:
    """``message`` on one line: line ends (and the spaces around them) become single spaces."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def suggest(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return a ``did you mean …?`` hint for ``word`` among ``candidates`` (empty when nothing is close)."""
    pool = list(candidates)
    close = difflib.get_close_matches(word, pool, n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[c] for c in difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)]
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
