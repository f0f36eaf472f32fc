"""The house style of every chart and report page: one palette, one font, fixed metadata.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies); heat maps
use single-hue ``Blues`` (or ``PuOr`` when values change sign), ordered by lightness. The font is DejaVu
Sans, which ships inside matplotlib, so a chart looks the same (and has the same bytes) on every machine
with the same matplotlib.
Sizes are in points, lengths in inches.

Styling goes through :func:`context` (``matplotlib.rc_context``), which restores the caller's settings
afterwards; figures are built with ``matplotlib.figure.Figure`` and never touch pyplot's global state.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator

import matplotlib as mpl
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from tariffcalc.util.text import shorten

BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
GREY = "#8C8C8C"
LIGHT = "#DDDDDD"
INK = "#222222"
MUTED = "#555555"
PALETTE = (BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, YELLOW, INK)
"""Okabe-Ito colours in the order series use them."""
HEATMAP = "Blues"
"""Sequential single-hue colour map of the heat map (light = low, dark = high); safe for colour-blind readers."""
DIVERGING = "PuOr_r"
"""Diverging colour map (purple = fall, orange = rise) for heat maps where some rates fall."""

FONT = "DejaVu Sans"
BASE_SIZE = 9.0
TITLE_SIZE = 12.5
SUBTITLE_SIZE = 8.5
SOURCE_SIZE = 6.8

DPI = 200
"""Resolution of PNG charts (dots per inch)."""
CHART_WIDTH = 8.0
"""Width of a stand-alone chart, inches (1600 px at 200 dpi)."""

PNG_METADATA = {"Software": None}
"""PNG metadata: drop the matplotlib version so equal charts are equal bytes."""
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}
"""PDF info dictionary: no tool versions and no creation date (``None`` removes a key).

Fonts are embedded as TrueType (Type 42) subsets (``pdf.fonttype`` 42): real fonts that every PDF viewer,
print shop and accessibility tool handles, with searchable, copyable text; matplotlib's default Type 3
fonts are glyph drawings that prepress checks reject and some viewers render poorly."""

_TEXT_TO_PATH = TextToPath()

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": [FONT],
    "font.size": BASE_SIZE,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "axes.linewidth": 0.7,
    "axes.labelsize": BASE_SIZE,
    "axes.titlesize": SUBTITLE_SIZE,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "grid.color": LIGHT,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "xtick.labelsize": BASE_SIZE - 0.5,
    "ytick.labelsize": BASE_SIZE - 0.5,
    "ytick.major.size": 0,
    "legend.frameon": False,
    "legend.fontsize": BASE_SIZE - 0.5,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "text.parse_math": False,
    "pdf.fonttype": 42,
    "path.simplify": True,
}


@contextlib.contextmanager
def context() -> Iterator[None]:
    """Apply the house style while figures are built and saved; the previous settings come back afterwards."""
    with mpl.rc_context(RC):
        yield


def text_width(text: str, size: float, weight: str = "normal") -> float:
    """Width of one line of ``text`` at ``size`` points in the house font, inches (exact glyph metrics)."""
    return sum(_word_width(word, size, weight) for word in text.split(" ")) + text.count(" ") * _space(
        size, weight
    )


@functools.cache
def _word_width(word: str, size: float, weight: str) -> float:
    """Width of one word (no spaces), inches; cached, as reports measure the same words again and again."""
    if not word:
        return 0.0
    font = FontProperties(family=FONT, size=size, weight=weight)
    width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(word, font, ismath=False)
    return width / 72


@functools.cache
def _space(size: float, weight: str) -> float:
    """Width of a space, inches."""
    font = FontProperties(family=FONT, size=size, weight=weight)
    spaced, _, _ = _TEXT_TO_PATH.get_text_width_height_descent("a a", font, ismath=False)
    return spaced / 72 - 2 * _word_width("a", size, weight)


def _words(text: str) -> list[str]:
    """The words of ``text`` split at spaces, tabs and newlines (a no-break space keeps "$\u00a0bn" together)."""
    return [word for word in re.split(r"[ \t\r\n]+", text) if word]


def wrap(
    text: str, width_in: float, size: float, max_lines: int | None = None, weight: str = "normal"
) -> list[str]:
    """Wrap ``text`` into lines that fit ``width_in`` inches at ``size`` points (measured, not estimated).

    After ``max_lines`` lines the rest is cut with "…". A word wider than a line is split.
    """
    lines: list[str] = []
    current = ""
    for word in _words(text):
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, weight) > width_in:
            lines.append(current)
            candidate = word
        while text_width(candidate, size, weight) > width_in and len(candidate) > 1:
            cut = _longest_prefix(candidate, width_in, size, weight)
            lines.append(candidate[:cut])
            candidate = candidate[cut:]
        current = candidate
    lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        lines = [
            *lines[: max_lines - 1],
            fit(" ".join(lines[max_lines - 1 :]), width_in, size, weight, force=True),
        ]
    return lines


def _longest_prefix(word: str, width_in: float, size: float, weight: str) -> int:
    """Length of the longest prefix of ``word`` that fits ``width_in`` inches (at least 1)."""
    cut = len(word)
    while cut > 1 and text_width(word[:cut], size, weight) > width_in:
        cut -= 1
    return cut


def fit(text: str, width_in: float, size: float, weight: str = "normal", force: bool = False) -> str:
    """``text`` as is when it fits ``width_in`` inches, else cut at a word boundary and ended with "…".

    ``force`` adds the "…" even when the text fits (it continues beyond a line limit).
    """
    text = " ".join(_words(text))
    if not force and text_width(text, size, weight) <= width_in:
        return text
    chars = len(text) + 1
    while chars > 2:
        chars -= 1
        short = shorten(text, chars) if chars < len(text) else text.rstrip(" ,;:-(") + "…"
        if text_width(short, size, weight) <= width_in:
            return short
    return "…"


def line_height(size: float, spacing: float = 1.3) -> float:
    """Height of one line of text at ``size`` points, in inches."""
    return size * spacing / 72
