"""Domain exceptions of tariffcalc.

Library code raises these; the command line turns each into one line on stderr (``Error: …``) and exit
code 1. Every message says *what* is wrong, *where* (file, line, key) and, when we can tell, *how to fix
it*, so a user never needs the traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TariffcalcError(Exception):
    """Base class of every error that tariffcalc reports to a user."""


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


class NotClean(ValueError):
    """Internal signal of the streaming reader: a chunk needs the careful reader (the message says the
    first thing found wrong). Never reaches a user."""


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
