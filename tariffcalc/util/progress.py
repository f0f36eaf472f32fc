"""Progress of a run's long steps (reading flows, computing, drawing charts, writing reports).

The library reports steps to a :class:`Progress`; the default one is silent. The command line passes
:func:`for_terminal`, which draws a ``click`` progress bar on **stderr** only when stderr is a terminal
and ``--quiet`` is not set, so pipes, logs and captured output never see it (``click.progressbar``
itself would write to stdout and print its label even off a terminal).
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

import click


class Progress:
    """Silent progress: the library default. ``start(total)``, then ``step(label)`` per step, then ``finish()``."""

    def start(self, total: int) -> None:
        """Announce ``total`` steps."""

    def step(self, label: str) -> None:
        """A new step named ``label`` begins (the previous one is done)."""

    def detail(self, text: str) -> None:
        """Within the current step: how far it has got (e.g. rows and MB read)."""

    def finish(self) -> None:
        """All steps are done (also called when a run fails)."""


class TerminalProgress(Progress):
    """A ``click`` progress bar on ``stream`` that names the current step."""

    def __init__(self, stream: TextIO, label: str = "tariffcalc run") -> None:
        self._stream = stream
        self._label = label
        self._stack = contextlib.ExitStack()
        self._bar = None
        self._begun = False

    def start(self, total: int) -> None:
        """Draw an empty bar of ``total`` steps."""
        bar = click.progressbar(
            length=total,
            label=self._label,
            file=self._stream,
            show_eta=False,
            show_percent=False,
            show_pos=True,
            width=24,
            item_show_func=lambda item: item or "",
        )
        self._bar = self._stack.enter_context(bar)

    def step(self, label: str) -> None:
        """Count the previous step as done and show ``label``."""
        if self._bar is None:
            return
        if self._begun:
            self._bar.update(1, current_item=label)
        else:  # update(0) would not redraw: show the first step's name directly
            self._bar.current_item = label
            self._bar.render_progress()
        self._begun = True

    def detail(self, text: str) -> None:
        """Show ``text`` as the current item without counting a step."""
        if self._bar is not None:
            self._bar.current_item = text
            self._bar.render_progress()

    def finish(self) -> None:
        """Fill the bar and end its line."""
        if self._bar is not None and self._begun:
            self._bar.update(1, current_item="done")
        self._stack.close()
        self._bar = None


def for_terminal(quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """A bar on ``stream`` (default stderr) when it is a terminal and not ``quiet``; otherwise silence."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not stream.isatty():
        return Progress()
    return TerminalProgress(stream)
