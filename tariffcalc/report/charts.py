"""Charts of a run: what each one plots is a table first, then a drawing of that table.

Every chart is a :class:`Chart`: its ``data`` (a DataFrame in USD and fractions, the exact numbers drawn,
also written next to the image as ``<name>.csv``) and a ``plot`` function that draws it. The table
functions (:func:`partner_table`, …) are plain pandas, so tests compare them with the CSV tables without
drawing anything. Drawing uses matplotlib's object API (``Figure``/``SubFigure``), never pyplot.

A chart is framed the same way everywhere (:func:`draw`): a bold title that says what and when, a
subtitle, the plot, and a source line at the bottom. The frame is sized in inches, so the same function
draws a stand-alone PNG/PDF and a page of ``report.pdf``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure, FigureBase
from matplotlib.layout_engine import ConstrainedLayoutEngine

from tariffcalc.engine.duties import Result
from tariffcalc.read.flows import FlowSet
from tariffcalc.reference import countries, hs
from tariffcalc.report import groups, style, summary, tables
from tariffcalc.util.files import write_bytes
from tariffcalc.util.progress import Progress

MONEY = ("imports_usd", "baseline_duty_usd", "scenario_duty_usd", "added_duty_usd")
LEVEL_NAMES = {2: "HS chapter", 4: "HS heading", 6: "HS subheading", 8: "HTS8 line", 10: "HTS10 line"}
"""What a product is at each level of digits (singular; add "s" for the plural)."""
CHART_FORMATS = ("png", "pdf")
STATIC_NOTE = "Static estimate: trade held at its observed value."
"""What the source line of a static chart says about the model."""
RESPONSE_NOTE = (
    "After the trade response: CES Armington partial equilibrium (one market per product, SMART defaults); "
    "parameters in summary.json."
)
"""What the source line of a response chart says instead."""
ROW_HEIGHT = 0.27
"""Height of one bar row, inches."""
ROW_HEIGHT_TWO_LINES = 0.36
"""Height of one bar row whose label has two lines, inches."""
LABEL_SIZE = style.BASE_SIZE - 0.5
"""Size of axis tick labels, points."""
VALUE_SIZE = 7.8
"""Size of the values written beside bars, points."""
AXES_EXTRA = 0.75
"""Height of an axis with its tick labels and axis label, inches."""
NAME_WIDTH = 26
"""Longest partner name on an axis, characters."""
PRODUCT_WIDTH = 32
"""Longest line of a product label (code and description) on an axis, characters."""


@dataclasses.dataclass(frozen=True)
class Context:
    """What every chart says about its run (names, dates, level) and the source line at its foot."""

    importer: str
    scenario: str
    """The scenario's name (an id, for the source line); titles use :attr:`scenario_title`."""
    scenario_title: str
    as_of: dt.date
    baseline: str
    """The baseline's name (an id, for the source line); texts use :attr:`baseline_title`."""
    level: int
    source: str
    baseline_title: str = ""

    def title(self, what: str, unit: str = "") -> str:
        """A chart title in words: what it shows (and its unit), then the scenario's title, e.g. "Added US
        duty by partner, $ bn: US reciprocal tariffs of 2 April 2025 (EO 14257) as in force on 9 April 2025"."""
        return f"{what}{', ' + unit if unit else ''}: {self.scenario_title}"

    @property
    def against(self) -> str:
        """The baseline in words, to open a subtitle: "Compared with the baseline, observed 2024 US duties."
        (its title without a closing parenthesis, first letter lower-cased unless it starts an acronym)."""
        return f"Compared with the baseline, {summary.baseline_words(self.baseline_title or self.baseline)}."

    @property
    def day(self) -> str:
        """The run's date in words ("9 April 2025")."""
        return day(self.as_of)


def day(date: dt.date) -> str:
    """A date in words: ``9 April 2025``."""
    return f"{date.day} {date:%B %Y}"


@dataclasses.dataclass(frozen=True)
class Chart:
    """One chart: file stem, frame texts, the table it draws (USD, fractions) and the drawing of the plot."""

    name: str
    title: str
    subtitle: str
    data: pd.DataFrame
    plot: Callable[[FigureBase, float], None]
    """Draws the plot into a (sub)figure of the given width in inches."""
    body_height: float
    """Height of the plot area of a stand-alone chart, inches."""
    source: str | None = None
    """The source line when it differs from the context's (charts of the response model say so)."""


def context(result: Result, flowset: FlowSet) -> Context:
    """The :class:`Context` of a run."""
    scenario = result.scenario
    importer = "US" if scenario.importer == "USA" else scenario.importer
    source = (
        f"Source: {summary.data_source(flowset)}. Scenario file {scenario.name}, evaluated on "
        f"{result.as_of.isoformat()}; baseline file {result.baseline.name}. {STATIC_NOTE} Chart: tariffcalc."
    )
    return Context(
        importer=importer,
        scenario=scenario.name,
        scenario_title=scenario.title,
        as_of=result.as_of,
        baseline=result.baseline.name,
        baseline_title=result.baseline.title,
        level=result.level,
        source=source,
    )


# ------------------------------------------------------------------------------------------- tables


def _with_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``baseline_rate``, ``scenario_rate`` and ``added_rate`` (duty ÷ imports, fractions; 0 without imports)."""
    value = table["imports_usd"].where(table["imports_usd"] > 0)
    for name in ("baseline", "scenario", "added"):
        table[f"{name}_rate"] = (table[f"{name}_duty_usd"] / value).fillna(0.0)
    return table


def _top_and_rest(table: pd.DataFrame, keys: list[str], top: int, rest: str, noun: str) -> pd.DataFrame:
    """The ``top`` rows of ``table`` with the largest absolute added duty (never a row without change),
    largest first, and the rest summed in one row.

    ``keys`` are the identifying text columns; the summed row has empty keys except the last, which reads
    ``"All other (n <noun>)"``. Money in USD; rates are recomputed from the sums.
    """
    order = table["added_duty_usd"].abs().sort_values(ascending=False, kind="stable").index
    changed = (table.loc[order, "added_duty_usd"] != 0).to_numpy()
    picked = order[changed][:top]
    chosen = table.loc[picked, [*keys, *MONEY]].sort_values("added_duty_usd", ascending=False, kind="stable")
    others = table.drop(index=picked)
    if len(others):
        row = {key: "" for key in keys} | {rest: f"All other ({len(others)} {noun})"}
        row |= {column: float(others[column].sum()) for column in MONEY}
        chosen = pd.concat([chosen, pd.DataFrame([row])], ignore_index=True)
    return _with_rates(chosen.reset_index(drop=True))


def partner_table(by_partner: pd.DataFrame, top: int) -> pd.DataFrame:
    """Added duty of the ``top`` partners (by absolute added duty) and of all others together (USD, fractions)."""
    return _top_and_rest(by_partner, ["partner", "partner_name"], top, "partner_name", "partners")


def product_table(by_product: pd.DataFrame, top: int, noun: str = "products") -> pd.DataFrame:
    """Added duty of the ``top`` products at the run's level and of all others together (USD, fractions)."""
    return _top_and_rest(by_product, ["hs", "description"], top, "description", noun)


def rates_table(by_partner: pd.DataFrame, top: int) -> pd.DataFrame:
    """Effective rates before and after (fractions) of the ``top`` partners by imports, then all partners."""
    largest = by_partner.sort_values(["imports_usd", "partner"], ascending=[False, True], kind="stable")
    chosen = largest.head(top)[["partner", "partner_name", *MONEY]]
    total = {"partner": "", "partner_name": "All partners"} | {c: float(by_partner[c].sum()) for c in MONEY}
    return _with_rates(pd.concat([chosen, pd.DataFrame([total])], ignore_index=True))


def heatmap_table(by_partner_product: pd.DataFrame, by_partner: pd.DataFrame, top: int) -> pd.DataFrame:
    """Added rate (fraction) of each partner × HS chapter cell among the largest partners and chapters.

    Partners and chapters are the ``top`` largest by imports (at most 15 chapters and 15 partners so the
    cells stay legible). Product rows finer than a chapter are summed into their chapter first. One row
    per cell with imports, in partner order (largest first), then chapter order (largest first).
    """
    n = min(top, 15)
    cells = by_partner_product.assign(hs=by_partner_product["hs"].str[:2])
    cells = cells.groupby(["partner", "hs"], sort=True)[list(MONEY)].sum().reset_index()
    partners = (
        cells.groupby("partner")["imports_usd"].sum().sort_values(ascending=False, kind="stable").index[:n]
    )
    chapters = cells.groupby("hs")["imports_usd"].sum().sort_values(ascending=False, kind="stable").index[:n]
    chosen = cells[cells["partner"].isin(partners) & cells["hs"].isin(chapters)].copy()
    chosen["partner"] = pd.Categorical(chosen["partner"], categories=list(partners))
    chosen["hs"] = pd.Categorical(chosen["hs"], categories=list(chapters))
    chosen = chosen.sort_values(["partner", "hs"]).astype({"partner": str, "hs": str})
    names = dict(zip(by_partner["partner"], by_partner["partner_name"], strict=True))
    chosen.insert(1, "partner_name", chosen["partner"].map(names))
    chosen.insert(3, "description", hs.describe(chosen["hs"]))
    return _with_rates(chosen.reset_index(drop=True))


def measure_table(by_measure: pd.DataFrame, totals: dict[str, float]) -> pd.DataFrame:
    """Steps from the baseline duty to the scenario duty (USD): one row per measure that adds duty.

    ``start_usd``/``end_usd`` are the running total before and after each step. When rates were floored
    at zero the measures do not add up to the total; the difference is one more step.
    """
    steps = by_measure.loc[by_measure["added_duty_usd"] != 0, ["measure", "authority", "added_duty_usd"]]
    residual = totals["added_duty_usd"] - float(steps["added_duty_usd"].sum())
    if abs(residual) > 1e-9 * max(abs(totals["added_duty_usd"]), 1.0):
        floor = {"measure": "floor", "authority": "Rates floored at zero", "added_duty_usd": residual}
        steps = pd.concat([steps, pd.DataFrame([floor])], ignore_index=True)
    first = {"measure": "", "authority": "Baseline duty", "added_duty_usd": 0.0}
    last = {"measure": "", "authority": "Scenario duty", "added_duty_usd": 0.0}
    table = pd.concat([pd.DataFrame([first]), steps, pd.DataFrame([last])], ignore_index=True)
    table["kind"] = ["total", *["step"] * len(steps), "total"]
    ends = totals["baseline_duty_usd"] + table["added_duty_usd"].cumsum()
    table["end_usd"] = ends
    table["start_usd"] = ends - table["added_duty_usd"]
    table.loc[0, ["start_usd", "end_usd"]] = [0.0, totals["baseline_duty_usd"]]
    table.loc[len(table) - 1, ["start_usd", "end_usd"]] = [0.0, totals["scenario_duty_usd"]]
    return table[["measure", "authority", "kind", "added_duty_usd", "start_usd", "end_usd"]]


# ------------------------------------------------------------------------------------------- helpers


def money_unit(values: Iterable[float]) -> tuple[float, str]:
    """Divisor and label for amounts in USD: ``(1e9, "$ bn")``, ``(1e6, "$ m")``, ``(1e3, "$ k")`` or ``(1, "$")``.

    The space in a label is a no-break space, so a wrapped title never splits "$ bn"."""
    largest = max((abs(v) for v in values), default=0.0)
    for divisor, label in ((1e9, "$\u00a0bn"), (1e6, "$\u00a0m"), (1e3, "$\u00a0k")):
        if largest >= divisor:
            return divisor, label
    return 1.0, "$"


def _amount(value: float, divisor: float) -> str:
    """An amount in USD shown in the chart's unit (``divisor``), one decimal."""
    return f"{round(value / divisor, 1) + 0.0:,.1f}"


def _pp(rate: float) -> str:
    """A rate (fraction) as signed percentage points."""
    return f"{round(rate * 100, 1) + 0.0:+.1f} pp"


def product_label(code: str, description: str, width: int = PRODUCT_WIDTH) -> str:
    """Code and description on at most two lines of ``width`` characters (``"61 Apparel and clothing…"``)."""
    text = " ".join(f"{code} {description or ''}".split())
    lines = textwrap.wrap(text, width, break_on_hyphens=False)
    if len(lines) > 2:
        lines = [lines[0], style.shorten(" ".join(lines[1:]), width)]
    return "\n".join(lines)


def _rows(labels: list[str]) -> float:
    """Height of one row of a bar chart with these axis labels, inches (taller for two-line labels)."""
    return ROW_HEIGHT_TWO_LINES if any("\n" in label for label in labels) else ROW_HEIGHT


def _bar_axes(body: FigureBase, labels: list[str]):
    """One horizontal-bar axes with ``labels`` top to bottom and a vertical zero line."""
    ax = body.add_subplot()
    y = np.arange(len(labels))
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.4, -0.6)
    ax.axvline(0, color=style.MUTED, linewidth=0.8)
    return ax, y


def _annotate(
    ax,
    width: float,
    labels: list[str],
    lows: np.ndarray,
    highs: np.ndarray,
    texts: list[str],
    left: np.ndarray,
    pad: float = 4,
    color: str | list[str] = style.INK,
    rows: np.ndarray | None = None,
) -> None:
    """Write ``texts`` beside bars spanning ``lows``–``highs`` and set the x range so that all of it fits.

    A text sits ``pad`` points left of its bar's low end where ``left`` is True, else right of its high end.
    ``width`` is the width of the plot area in inches and ``labels`` the y tick labels beside the axes.
    ``rows`` are the y positions of the texts (default 0, 1, 2, …); ``color`` is one colour or one per text.
    """
    rows = np.arange(len(texts)) if rows is None else rows
    colors = [color] * len(texts) if isinstance(color, str) else color
    for row, low, high, text, on_left, ink in zip(rows, lows, highs, texts, left, colors, strict=True):
        ax.annotate(
            text,
            (low if on_left else high, row),
            xytext=(-pad if on_left else pad, 0),
            textcoords="offset points",
            ha="right" if on_left else "left",
            va="center",
            fontsize=VALUE_SIZE,
            color=ink,
        )
    tick = max(style.text_width(line, LABEL_SIZE) for label in labels for line in label.split("\n"))
    axes = max(width - tick - 0.35, 1.0)
    share = min((max(style.text_width(t, VALUE_SIZE) for t in texts) + 0.15) / axes, 0.4)
    start, end = min(0.0, float(np.min(lows))), max(0.0, float(np.max(highs)))
    end = end if end > start else start + 1.0
    low, high = start, end
    for _ in range(5):
        span = high - low
        low = min([start, *(lows[left] - share * span)])
        high = max([end, *(highs[~left] + share * span)])
    ax.set_xlim(low, high)


def _bars(
    body: FigureBase, width: float, table: pd.DataFrame, labels: list[str], unit: tuple[float, str]
) -> None:
    """Horizontal bars of ``added_duty_usd`` labelled with amount and added rate; "all other" in grey."""
    divisor, name = unit
    values = table["added_duty_usd"].to_numpy() / divisor
    ax, y = _bar_axes(body, labels)
    other = np.array([label.startswith("All other") for label in labels])
    ax.barh(y, values, height=0.68, color=np.where(other, style.GREY, style.BLUE))
    texts = [
        f"{_amount(v, divisor)}  ({_pp(r)})"
        for v, r in zip(table["added_duty_usd"], table["added_rate"], strict=True)
    ]
    lows, highs = np.minimum(values, 0), np.maximum(values, 0)
    _annotate(ax, width, labels, lows, highs, texts, left=(highs <= 0) & (lows < 0))
    ax.set_xlabel(f"Added duty, {name} a year")


def _frame_lines(chart: Chart, ctx: Context, width: float) -> tuple[list[str], list[str], list[str]]:
    """Wrapped title, subtitle and source lines for a frame ``width`` inches wide."""
    return (
        style.wrap(chart.title, width - 0.1, style.TITLE_SIZE, max_lines=3, weight="bold"),
        style.wrap(chart.subtitle, width - 0.1, style.SUBTITLE_SIZE, max_lines=3),
        style.wrap(chart.source or ctx.source, width - 0.1, style.SOURCE_SIZE, max_lines=3),
    )


def _head(title: list[str], subtitle: list[str]) -> float:
    """Height of the title and subtitle lines, inches."""
    return (
        len(title) * style.line_height(style.TITLE_SIZE, 1.25)
        + len(subtitle) * style.line_height(style.SUBTITLE_SIZE)
        + 0.14
    )


def _foot(source: list[str]) -> float:
    """Height of the source lines, inches."""
    return len(source) * style.line_height(style.SOURCE_SIZE) + 0.12


def frame_height(chart: Chart, ctx: Context, width: float) -> float:
    """Height of the title, subtitle and source of ``chart`` framed ``width`` inches wide, inches."""
    title, subtitle, source = _frame_lines(chart, ctx, width)
    return _head(title, subtitle) + _foot(source)


def draw(chart: Chart, fig: FigureBase, ctx: Context, width: float, height: float) -> None:
    """Draw ``chart`` framed (title, subtitle, plot, source) into ``fig``, which is ``width`` × ``height`` inches."""
    title, subtitle, source = _frame_lines(chart, ctx, width)
    head, foot = _head(title, subtitle), _foot(source)
    top, body, bottom = fig.subfigures(3, 1, height_ratios=[head, max(height - head - foot, 1.0), foot])
    muted = {"ha": "left", "color": style.MUTED, "linespacing": 1.3}
    top.text(
        0.0,
        1.0,
        "\n".join(title),
        va="top",
        ha="left",
        size=style.TITLE_SIZE,
        weight="bold",
        linespacing=1.25,
    )
    top.text(0.0, 0.04, "\n".join(subtitle), va="bottom", size=style.SUBTITLE_SIZE, **muted)
    bottom.text(0.0, 0.0, "\n".join(source), va="bottom", size=style.SOURCE_SIZE, **muted)
    chart.plot(body, width)


def render(chart: Chart, ctx: Context) -> Figure:
    """A stand-alone figure of ``chart``, :data:`style.CHART_WIDTH` inches wide (call inside :func:`style.context`)."""
    margin = 0.15
    width = style.CHART_WIDTH
    inner = width - 2 * margin
    height = chart.body_height + frame_height(chart, ctx, inner) + 2 * margin
    fig = Figure(figsize=(width, height), layout=layout(width, height, margin, margin, margin))
    draw(chart, fig, ctx, inner, height - 2 * margin)
    return settle(fig)


PLACES = 7
"""Decimals of a figure fraction that laid-out positions keep (1e-7 of a page is far below a printer dot)."""


def settle(fig: Figure) -> Figure:
    """Lay ``fig`` out once and keep the result: every sub-figure's and axes' position rounded to
    :data:`PLACES` decimals, the layout engine then off.

    Constrained layout solves for positions with floating-point noise in the last digits, which varies from
    one process to the next; a PDF writes positions to ten decimals, so without this the same report would
    not always be the same bytes. Rounding after one layout makes the saved positions identical every time
    (and the PNG and PDF of a chart share one layout)."""
    fig.draw_without_rendering()

    def subfigures(parent: FigureBase) -> Iterable[FigureBase]:
        for sub in parent.subfigs:
            yield sub
            yield from subfigures(sub)

    for sub in subfigures(fig):
        sub.bbox_relative.set_points(np.round(sub.bbox_relative.get_points(), PLACES))
    for ax in fig.get_axes():
        ax.set_position(np.round(ax.get_position(original=True).bounds, PLACES), which="both")
    fig.set_layout_engine("none")
    return fig


def layout(width: float, height: float, side: float, top: float, bottom: float) -> ConstrainedLayoutEngine:
    """Constrained layout of a ``width`` × ``height`` inch figure inside margins given in inches."""
    rect = (side / width, bottom / height, 1 - 2 * side / width, 1 - (top + bottom) / height)
    return ConstrainedLayoutEngine(rect=rect, w_pad=0.02, h_pad=0.02)


# ------------------------------------------------------------------------------------------- charts


def _selection(data: pd.DataFrame, key: str, top: int, noun: str) -> str:
    """Which rows a top-N chart shows, in words ("The 15 partners with the largest change; the rest summed")."""
    shown = int((data[key] != "").sum())
    rest = "; the rest summed" if shown < len(data) else ""
    if shown == 0:
        return f"No {noun[:-1]} has a change in duty"
    if shown < top:
        return f"All {shown} {noun} whose duty changes{rest}"
    return f"The {shown} {noun} with the largest change{rest}"


def _groups_note(data: pd.DataFrame) -> str:
    """What a chart says when partner groups (the EU) are drawn as one partner, or "" when none is."""
    if "partner" not in data:
        return ""
    names = data.loc[data["partner"].isin(countries.group_names()), "partner_name"].drop_duplicates()
    if names.empty:
        return ""
    return (
        f" {', '.join(names)}: the group's member states as one partner (each is in by_partner.csv, "
        "the sums in by_group.csv)."
    )


def partner_chart(by_partner: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """Added duty by partner: the ``top`` partners and "all other", labelled with the added rate."""
    data = partner_table(by_partner, top)
    unit = money_unit(data["added_duty_usd"])
    labels = [style.shorten(name, NAME_WIDTH) for name in data["partner_name"]]
    return Chart(
        name="added_duty_by_partner",
        title=ctx.title(f"Added {ctx.importer} duty by partner", unit[1]),
        subtitle=(
            f"{ctx.against} {_selection(data, 'partner', top, 'partners')}.{_groups_note(data)} Labels: added "
            "duty a year (added effective rate: added duty ÷ the partner's imports)."
        ),
        data=data,
        plot=lambda body, width: _bars(body, width, data, labels, unit),
        body_height=AXES_EXTRA + _rows(labels) * len(data),
    )


def product_chart(by_product: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """Added duty by product at the run's HS level: the ``top`` products and "all other"."""
    level = LEVEL_NAMES[ctx.level]
    data = product_table(by_product, top, f"{level}s")
    unit = money_unit(data["added_duty_usd"])
    labels = [
        product_label(code, text) if code else text
        for code, text in zip(data["hs"], data["description"], strict=True)
    ]
    return Chart(
        name="added_duty_by_product",
        title=ctx.title(f"Added {ctx.importer} duty by {level}", unit[1]),
        subtitle=(
            f"{ctx.against} {_selection(data, 'hs', top, level + 's')}. Labels: added duty a year (added "
            "effective rate). Full descriptions in by_product.csv."
        ),
        data=data,
        plot=lambda body, width: _bars(body, width, data, labels, unit),
        body_height=AXES_EXTRA + _rows(labels) * len(data),
    )


def _dumbbell(body: FigureBase, width: float, data: pd.DataFrame, ctx: Context) -> None:
    """Baseline and scenario effective rate (percent) of each partner, joined by a line."""
    labels = [style.shorten(name, NAME_WIDTH) for name in data["partner_name"]]
    ax, y = _bar_axes(body, labels)
    before = data["baseline_rate"].to_numpy() * 100
    after = data["scenario_rate"].to_numpy() * 100
    low, high = np.minimum(before, after), np.maximum(before, after)
    ax.hlines(y, low, high, color=style.LIGHT, linewidth=3, zorder=1)
    ax.scatter(
        before,
        y,
        s=34,
        color=style.SKY,
        edgecolor=style.BLUE,
        linewidth=0.6,
        zorder=2,
        label="Baseline",
    )
    ax.scatter(
        after,
        y,
        s=38,
        color=style.VERMILLION,
        zorder=3,
        label=f"Scenario, {ctx.day}",
    )
    texts = [f"{a:.1f}%" for a in after]
    _annotate(ax, width, labels, low, high, texts, left=after < before, pad=7, color=style.VERMILLION)
    start, end = ax.get_xlim()
    ax.set_xlim(start - 0.015 * (end - start), end)  # whole dots at 0 %
    ax.spines["left"].set_visible(False)  # the zero line is the axis
    ax.axhline(len(data) - 1.5, color=style.LIGHT, linewidth=0.8)
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_xlabel("Effective tariff rate: duty ÷ imports, %")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, handletextpad=0.3, borderaxespad=0.2)


def rates_chart(by_partner: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """Effective tariff rate before and after for the ``top`` partners by imports (dumbbell chart)."""
    data = rates_table(by_partner, top)
    return Chart(
        name="effective_rate_by_partner",
        title=ctx.title(f"Effective {ctx.importer} tariff rate before and after", "%"),
        subtitle=(
            f"{ctx.against} The {len(data) - 1} largest partners by imports, and all partners.{_groups_note(data)} "
            "Labels: the rate under the scenario; the gap between the dots is the added rate."
        ),
        data=data,
        plot=lambda body, width: _dumbbell(body, width, data, ctx),
        body_height=AXES_EXTRA + 0.3 + ROW_HEIGHT * len(data),
    )


def _heat_norm(values: np.ndarray) -> tuple[Normalize, str]:
    """Colour scale of the heat map: sequential from 0, or diverging around 0 when some rates fall."""
    low, high = float(np.nanmin(values, initial=0.0)), float(np.nanmax(values, initial=0.0))
    if low < 0:
        return TwoSlopeNorm(vcenter=0.0, vmin=low, vmax=max(high, -low * 1e-3)), style.DIVERGING
    return Normalize(vmin=0.0, vmax=max(high, 1.0)), style.HEATMAP


def _heatmap(body: FigureBase, width: float, data: pd.DataFrame) -> None:
    """Partner (columns) × chapter (rows) cells coloured and labelled by the added rate in points."""
    partners = list(dict.fromkeys(data["partner"]))
    chapters = list(
        data.groupby("hs", sort=False)["imports_usd"].sum().sort_values(ascending=False, kind="stable").index
    )
    grid = data.pivot(index="hs", columns="partner", values="added_rate").reindex(
        index=chapters, columns=partners
    )
    values = grid.to_numpy(dtype=float) * 100
    norm, cmap_name = _heat_norm(values)
    cmap = mpl.colormaps[cmap_name].with_extremes(bad="white")
    ax = body.add_subplot()
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(values), cmap=cmap, norm=norm, edgecolors="white", linewidth=0.8
    )
    centre = 0.5 if cmap_name == style.DIVERGING else 0.0
    for (row, col), value in np.ndenumerate(values):
        if np.isfinite(value):
            dark = abs(float(norm(value)) - centre) > (0.3 if centre else 0.55)
            ax.text(
                col + 0.5,
                row + 0.5,
                f"{round(value):d}",
                ha="center",
                va="center",
                fontsize=6.8,
                color="white" if dark else style.INK,
            )
    names = dict(zip(data["partner"], data["partner_name"], strict=False))
    texts = dict(zip(data["hs"], data["description"], strict=False))
    ax.set_xticks(
        np.arange(len(partners)) + 0.5,
        [style.shorten(names[p], 20) for p in partners],
        rotation=50,
        ha="right",
        rotation_mode="anchor",
    )
    ax.set_yticks(np.arange(len(chapters)) + 0.5, [product_label(c, texts[c], 34) for c in chapters])
    ax.set_ylim(len(chapters), 0)
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    bar = body.colorbar(mesh, ax=ax, shrink=0.5, aspect=22, pad=0.02)
    bar.set_label("Added rate, percentage points")
    bar.outline.set_visible(False)


def heatmap_chart(
    by_partner_product: pd.DataFrame, by_partner: pd.DataFrame, ctx: Context, top: int
) -> Chart:
    """Heat map of the added rate of the largest partners × the largest HS chapters."""
    data = heatmap_table(by_partner_product, by_partner, top)
    rows, cols = data["hs"].nunique(), data["partner"].nunique()
    return Chart(
        name="added_rate_partner_chapter",
        title=ctx.title(f"Added {ctx.importer} tariff rate by partner and HS chapter", "pp"),
        subtitle=(
            f"{ctx.against} The {cols} largest partners and {rows} largest HS chapters by imports.{_groups_note(data)} "
            "Each cell: added duty ÷ imports of that partner in that chapter, percentage points. Blank: no imports."
        ),
        data=data,
        plot=lambda body, width: _heatmap(body, width, data),
        body_height=1.3 + ROW_HEIGHT_TWO_LINES * rows,
    )


def _waterfall(body: FigureBase, width: float, data: pd.DataFrame, unit: tuple[float, str]) -> None:
    """Horizontal waterfall from the baseline duty through each measure to the scenario duty."""
    divisor, name = unit
    labels = ["\n".join(style.wrap(text, 2.6, LABEL_SIZE, max_lines=2)) for text in data["authority"]]
    ax, y = _bar_axes(body, labels)
    start = data["start_usd"].to_numpy() / divisor
    end = data["end_usd"].to_numpy() / divisor
    total = (data["kind"] == "total").to_numpy()
    colours = np.where(total, style.BLUE, np.where(end >= start, style.VERMILLION, style.GREEN))
    ax.barh(y, end - start, left=start, height=0.62, color=colours)
    for row in range(len(data) - 1):
        ax.plot([end[row], end[row]], [row + 0.31, row + 0.69], color=style.MUTED, linewidth=0.7)
    texts = [
        _amount(v, divisor) if kind == "total" else ("+" if v >= 0 else "−") + _amount(abs(v), divisor)
        for v, kind in zip(
            np.where(total, data["end_usd"], data["added_duty_usd"]), data["kind"], strict=True
        )
    ]
    lows, highs = np.minimum(start, end), np.maximum(start, end)
    _annotate(ax, width, labels, lows, highs, texts, left=(highs <= 0) & (lows < 0))
    ax.set_xlabel(f"Duty, {name} a year")


def _sentence(text: str) -> str:
    """``text`` ended with a full stop, unless it ends with "…" already."""
    return text if text.endswith(("…", ".")) else text + "."


def measure_chart(by_measure: pd.DataFrame, totals: dict[str, float], ctx: Context) -> Chart:
    """Waterfall: the baseline duty, what each measure adds, the scenario duty."""
    data = measure_table(by_measure, totals)
    unit = money_unit(data[["start_usd", "end_usd"]].to_numpy().ravel())
    idle = by_measure.loc[by_measure["added_duty_usd"] == 0, "authority"].tolist()
    left_out = (
        " Left out, adding nothing: " + _sentence("; ".join(style.shorten(a, 40) for a in idle))
        if 0 < len(idle) <= 3
        else f" {len(idle)} measures adding nothing are left out (by_measure.csv)."
        if idle
        else ""
    )
    return Chart(
        name="added_duty_by_measure",
        title=ctx.title(f"Where the added {ctx.importer} duty comes from", unit[1]),
        subtitle=(
            f"{ctx.against} From the baseline duty to the scenario's, measure by measure, after exemptions and "
            f"pre-emption: a measure pre-empted by another adds duty only where that one does not apply.{left_out}"
        ),
        data=data,
        plot=lambda body, width: _waterfall(body, width, data, unit),
        body_height=AXES_EXTRA + 0.4 * len(data),
    )


# ------------------------------------------------------------------------------------------- response

RESPONSE_MONEY = (*MONEY, "imports_after_usd", "duty_after_usd", "revenue_change_usd")
"""Amounts (USD) of the response chart's table."""


def response_table(by_partner: pd.DataFrame, top: int) -> pd.DataFrame:
    """Added effective rate (fractions) of the ``top`` partners by absolute static added duty, static and
    after the trade response, then all partners together.

    ``by_partner`` is the response's by-partner table (:meth:`Response.by_partner`). ``added_rate`` is the
    static added duty ÷ imports; ``added_rate_after`` the duty after the response ÷ the imports after it,
    less the baseline rate (the post-substitution added rate); ``revenue_change_usd`` is the duty after the
    response less the baseline duty (USD). Partners without a change are never picked.
    """
    order = by_partner["added_duty_usd"].abs().sort_values(ascending=False, kind="stable").index
    picked = [i for i in order if by_partner.at[i, "added_duty_usd"] != 0][:top]
    after = ["scenario_rate_after", "added_rate_after"]
    chosen = by_partner.loc[picked, ["partner", "partner_name", *RESPONSE_MONEY, *after]]
    total = {"partner": "", "partner_name": "All partners"}
    total |= {column: float(by_partner[column].sum()) for column in RESPONSE_MONEY}
    imports, imports_after = total["imports_usd"], total["imports_after_usd"]
    total["scenario_rate_after"] = total["duty_after_usd"] / imports_after if imports_after > 0 else 0.0
    baseline = total["baseline_duty_usd"] / imports if imports > 0 else 0.0
    total["added_rate_after"] = total["scenario_rate_after"] - baseline
    table = pd.concat([chosen, pd.DataFrame([total])], ignore_index=True)
    return _with_rates(table)[["partner", "partner_name", *RESPONSE_MONEY, "added_rate", *after]]


def ladder_table(ladder: list[dict]) -> pd.DataFrame:
    """The revenue ladder (``Response.summary()["revenue_ladder"]``) as a table: ``revenue_usd`` of each
    step and ``change_usd``, its change from the step before (USD a year; 0 for the first step)."""
    table = pd.DataFrame(ladder, columns=["step", "label", "revenue_usd", "note"])
    table["change_usd"] = table["revenue_usd"].diff().fillna(0.0)
    return table[["step", "label", "revenue_usd", "change_usd", "note"]]


def _grouped(
    ax,
    width: float,
    labels: list[str],
    series: list[tuple[str, np.ndarray, list[str], str]],
) -> None:
    """One bar per series in every row, top to bottom in series order, each labelled with its text.

    ``series`` holds (legend name, values in the axis unit, texts, colour). A legend sits above the axes
    when there is more than one series.
    """
    rows = np.arange(len(labels))
    height = 0.8 / len(series)
    spots, lows, highs, texts = [], [], [], []
    for index, (name, values, text, colour) in enumerate(series):
        values = np.round(values, 9) + 0.0  # -1e-17 is drawn as 0; last-bit noise of sums never moves a pixel
        at = rows - 0.4 + height * (index + 0.5)
        ax.barh(at, values, height=height * 0.92, color=colour, label=name)
        spots.append(at)
        lows.append(np.minimum(values, 0))
        highs.append(np.maximum(values, 0))
        texts += text
    low, high = np.concatenate(lows), np.concatenate(highs)
    _annotate(ax, width, labels, low, high, texts, left=(high <= 0) & (low < 0), rows=np.concatenate(spots))
    if len(series) > 1:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(series), borderaxespad=0.2)


def _response_bars(body: FigureBase, width: float, data: pd.DataFrame) -> None:
    """Static and post-substitution added rate (percentage points) of each partner, paired bars."""
    labels = [style.shorten(name, NAME_WIDTH) for name in data["partner_name"]]
    ax, _ = _bar_axes(body, labels)
    series = []
    for column, name, colour in (
        ("added_rate", "Static: trade unchanged", style.BLUE),
        ("added_rate_after", "After the trade response", style.ORANGE),
    ):
        values = data[column].to_numpy() * 100
        series.append((name, values, [f"{round(v, 1) + 0.0:+.1f}" for v in values], colour))
    _grouped(ax, width, labels, series)
    ax.axhline(len(data) - 1.5, color=style.LIGHT, linewidth=0.8)
    ax.set_xlabel("Added effective tariff rate: added duty ÷ imports, percentage points")


def response_chart(by_partner: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """Added effective rate by partner, static vs after the trade response (paired bars)."""
    data = response_table(by_partner, top)
    shown = len(data) - 1
    return Chart(
        name="added_rate_response_by_partner",
        title=ctx.title(
            f"Added {ctx.importer} tariff rate by partner, static and after the trade response", "pp"
        ),
        subtitle=(
            f"{ctx.against} The {shown} partners with the largest static added duty, and all partners. "
            "After the response, imports shift to goods and partners with lower rates, so the duty paid per "
            "dollar of imports falls: duty after ÷ imports after, less the baseline rate."
        ),
        data=data,
        plot=lambda body, width: _response_bars(body, width, data),
        body_height=AXES_EXTRA + 0.3 + 0.42 * len(data),
        source=ctx.source.replace(STATIC_NOTE, RESPONSE_NOTE),
    )


def _ladder(body: FigureBase, width: float, data: pd.DataFrame, unit: tuple[float, str]) -> None:
    """Horizontal bars of the revenue at each step of the ladder, joined by dotted steps."""
    divisor, name = unit
    labels = ["\n".join(style.wrap(text, 2.6, LABEL_SIZE, max_lines=2)) for text in data["label"]]
    ax, y = _bar_axes(body, labels)
    values = np.round(data["revenue_usd"].to_numpy() / divisor, 9)  # no last-bit noise of the model's sums
    colours = [style.BLUE] + [style.ORANGE] * (len(data) - 1)
    ax.barh(y, values, height=0.62, color=colours)
    for row in range(len(data) - 1):
        ax.plot([values[row]] * 2, [row + 0.31, row + 0.69], color=style.MUTED, linewidth=0.7, linestyle=":")
    texts = [
        _amount(v, divisor) + ("" if row == 0 else f"  ({'+' if c >= 0 else '−'}{_amount(abs(c), divisor)})")
        for row, (v, c) in enumerate(zip(data["revenue_usd"], data["change_usd"], strict=True))
    ]
    lows, highs = np.minimum(values, 0), np.maximum(values, 0)
    _annotate(ax, width, labels, lows, highs, texts, left=(highs <= 0) & (lows < 0))
    ax.set_xlabel(f"Change in federal revenue, {name} a year")


def ladder_chart(ladder: list[dict], ctx: Context) -> Chart:
    """The revenue ladder as a step chart: static added duty, after the response, compliance, offsets."""
    data = ladder_table(ladder)
    unit = money_unit(data["revenue_usd"])
    return Chart(
        name="revenue_ladder",
        title=ctx.title(
            f"Added {ctx.importer} revenue, from the static duty to the net budget effect", unit[1]
        ),
        subtitle=(
            f"{ctx.against} Each step from the one above: the added duty on unchanged trade; the change in "
            "duties once imports respond; less noncompliance and evasion; less the income and payroll tax offset. "
            "Labels: revenue (change from the step above)."
        ),
        data=data,
        plot=lambda body, width: _ladder(body, width, data, unit),
        body_height=AXES_EXTRA + 0.44 * len(data),
        source=ctx.source.replace(STATIC_NOTE, RESPONSE_NOTE),
    )


RESPONSE_CHART_NAMES = ("added_rate_response_by_partner", "revenue_ladder")
"""Charts drawn only when a response model ran (``run --model armington``), after :data:`CHART_NAMES`."""


def build_response(by_partner: pd.DataFrame, response: dict, ctx: Context, top: int = 15) -> list[Chart]:
    """The charts of a response (in the order of :data:`RESPONSE_CHART_NAMES`) from the response's
    by-partner table and its summary (``Response.summary()``); partner groups (the EU) as one partner."""
    folded = _by_added(groups.fold(by_partner, ctx.as_of))
    return [response_chart(folded, ctx, top), ladder_chart(response["revenue_ladder"], ctx)]


CHART_NAMES = (
    "added_duty_by_partner",
    "added_duty_by_product",
    "effective_rate_by_partner",
    "added_rate_partner_chapter",
    "added_duty_by_measure",
)


def build(
    by_partner: pd.DataFrame,
    by_product: pd.DataFrame,
    by_partner_product: pd.DataFrame,
    by_measure: pd.DataFrame,
    totals: dict[str, float],
    ctx: Context,
    top: int = 15,
) -> list[Chart]:
    """Every chart of a run, in the order of :data:`CHART_NAMES`, from the run's tables (USD, fractions).

    The partner charts draw each partner group (the EU, :mod:`tariffcalc.report.groups`) as one partner,
    its members summed on the run's date, as a scenario's group rate treats it.
    """
    partners = _by_added(groups.fold(by_partner, ctx.as_of))
    cells = groups.fold(by_partner_product, ctx.as_of, keys=("hs",))
    return [
        partner_chart(partners, ctx, top),
        product_chart(by_product, ctx, top),
        rates_chart(partners, ctx, top),
        heatmap_chart(cells, partners, ctx, top),
        measure_chart(by_measure, totals, ctx),
    ]


def _by_added(table: pd.DataFrame) -> pd.DataFrame:
    """Largest added duty first (the order of by_partner.csv), ties by partner code."""
    return table.sort_values(
        ["added_duty_usd", "partner"], ascending=[False, True], kind="stable", ignore_index=True
    )


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """``fig`` as PNG (:data:`style.DPI`) or PDF bytes, without dates or tool versions in the metadata."""
    buffer = io.BytesIO()
    metadata = style.PNG_METADATA if fmt == "png" else style.PDF_METADATA
    fig.savefig(buffer, format=fmt, dpi=style.DPI, metadata=metadata)
    return buffer.getvalue()


def write(
    charts: list[Chart],
    ctx: Context,
    folder: Path,
    formats: Iterable[str] = CHART_FORMATS,
    bom: bool = True,
    progress: Progress | None = None,
) -> list[Path]:
    """Write each chart as ``folder/<name>.png``/``.pdf`` (per ``formats``) and its data as ``<name>.csv``."""
    progress = progress or Progress()
    chosen = [fmt for fmt in CHART_FORMATS if fmt in set(formats)]
    written = []
    with style.context():
        for chart in charts:
            progress.step(f"chart {chart.name}")
            tables.write_csv(chart.data, folder / f"{chart.name}.csv", bom=bom)
            written.append(folder / f"{chart.name}.csv")
            if chosen:
                fig = render(chart, ctx)
                for fmt in chosen:
                    write_bytes(folder / f"{chart.name}.{fmt}", figure_bytes(fig, fmt))
                    written.append(folder / f"{chart.name}.{fmt}")
    return written
