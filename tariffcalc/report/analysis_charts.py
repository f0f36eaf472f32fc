"""Charts of ``compare``, ``sweep`` and ``timeline`` (tariffcalc.app.analysis), in the house style of a run.

Each function returns a :class:`~tariffcalc.report.charts.Chart` whose ``data`` is the exact table drawn
(USD, rates as fractions), taken from the command's own CSV tables, so tests compare the two; the charts
are framed and written by :mod:`tariffcalc.report.charts` (PNG at 200 dpi, vector PDF, data as CSV).
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.figure import FigureBase
from matplotlib.patches import Rectangle

from tariffcalc.engine.duties import Result
from tariffcalc.read.flows import FlowSet
from tariffcalc.report import charts, style, summary
from tariffcalc.report.charts import AXES_EXTRA, NAME_WIDTH, Chart, Context

TOP_DIFFERENCES = 10
"""Partners and products shown where the compared scenarios differ most."""
PANEL_GAP = 0.35
"""Vertical space between two stacked panels, inches."""
LINE_HEIGHT = 2.3
"""Height of one panel of a line chart, inches."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def context(
    first: Result, flowset: FlowSet, label: str, model: str | None = None, title: str | None = None
) -> Context:
    """The :class:`Context` of an analysis command; ``label`` names what was analysed (scenario files, a
    timeline) on the source line, ``title`` in the charts' titles (default: ``label``)."""
    note = charts.RESPONSE_NOTE if model not in (None, "static") else charts.STATIC_NOTE
    importer = "US" if first.scenario.importer == "USA" else first.scenario.importer
    return Context(
        importer=importer,
        scenario=label,
        scenario_title=title or label,
        as_of=first.as_of,
        baseline=first.baseline.name,
        baseline_title=first.baseline.title,
        level=first.level,
        source=(
            f"Source: {summary.data_source(flowset)}. {label}; every figure against the baseline file "
            f"{first.baseline.name} on the same flows. {note} Chart: tariffcalc."
        ),
    )


def _baseline_words(ctx: Context) -> str:
    """The baseline in words inside a sentence: "observed 2024 US duties (…)"."""
    return ctx.against.removeprefix("Compared with the baseline, ").removesuffix(".")


def _scenario_label(title: str, width: float = 2.7) -> str:
    """A scenario's title on at most two lines of a bar chart's axis."""
    return "\n".join(style.wrap(title, width, charts.LABEL_SIZE, max_lines=2))


def _stacked(body: FigureBase, heights: list[float]) -> list[FigureBase]:
    """Sub-figures stacked top to bottom with these heights (inches), a gap between them."""
    ratios = [h for height in heights for h in (height, PANEL_GAP)][:-1]
    return list(body.subfigures(len(ratios), 1, height_ratios=ratios))[::2]


def _money_texts(values: np.ndarray, divisor: float) -> list[str]:
    return [charts._amount(v * divisor, divisor) for v in values]


def _pp_texts(values: np.ndarray) -> list[str]:
    return [f"{round(v, 1) + 0.0:+.1f}" for v in values]


# ------------------------------------------------------------------------------------------ compare


def _adds_nothing(table: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Rows whose figures in ``columns`` are all zero (a compared scenario that is the baseline itself)."""
    values = table[columns].to_numpy(dtype=float)
    scale = max(float(np.nanmax(np.abs(values), initial=0.0)), 1.0)
    return pd.Series((np.abs(np.nan_to_num(values)) <= 1e-9 * scale).all(axis=1), index=table.index)


def compare_headline_table(totals: pd.DataFrame, titles: dict[str, str] | None = None) -> pd.DataFrame:
    """The headline figures of each compared scenario (compare_totals.csv): added duty (USD) and added rate
    (fraction), and after the trade response when the model ran, with each scenario's ``title``.

    A scenario that adds nothing against the baseline (the baseline itself) is left out: a row of zero
    bars says nothing (compare_totals.csv keeps it)."""
    after = [c for c in ("revenue_after_response_usd", "post_substitution_added_rate") if c in totals]
    data = totals[["scenario", "as_of", "imports_usd", "added_duty_usd", "added_rate", *after]].copy()
    data.insert(1, "title", data["scenario"].map(titles or {}).fillna(data["scenario"]))
    return data[~_adds_nothing(data, ["added_duty_usd", "added_rate", *after])].reset_index(drop=True)


def _dropped(totals: pd.DataFrame, data: pd.DataFrame, titles: dict[str, str] | None = None) -> str:
    """The subtitle's note on compared scenarios left out of a chart because they add nothing."""
    gone = [
        (titles or {}).get(name, name) for name in totals["scenario"] if name not in set(data["scenario"])
    ]
    if not gone:
        return ""
    return (
        f" Not drawn, adding nothing against the baseline: {'; '.join(style.shorten(g, 60) for g in gone)}."
    )


def _headline(body: FigureBase, width: float, data: pd.DataFrame, unit: tuple[float, str]) -> None:
    labels = [_scenario_label(title) for title in data["title"]]
    divisor, name = unit
    response = "post_substitution_added_rate" in data
    height = AXES_EXTRA + charts._rows(labels) * len(data) * (2 if response else 1)
    top, bottom = _stacked(body, [height, height])
    for panel, (static, after, scale, texts, xlabel) in zip(
        (top, bottom),
        (
            (
                "added_duty_usd",
                "revenue_after_response_usd",
                divisor,
                _money_texts,
                f"Added duty, {name} a year",
            ),
            ("added_rate", "post_substitution_added_rate", 0.01, None, "Added effective tariff rate, pp"),
        ),
        strict=True,
    ):
        ax, _ = charts._bar_axes(panel, labels)
        series = []
        for column, legend, colour in (
            (static, "Static: trade unchanged", style.BLUE),
            (after, "After the trade response", style.ORANGE),
        ):
            if column in data:
                values = data[column].to_numpy() / scale
                text = texts(values, divisor) if texts else _pp_texts(values)
                series.append((legend, values, text, colour))
        charts._grouped(ax, width, labels, series)
        ax.set_xlabel(xlabel)


def compare_headline_chart(totals: pd.DataFrame, ctx: Context, titles: dict[str, str] | None = None) -> Chart:
    """Added duty and added effective rate of each scenario side by side (two panels of bars); scenarios
    are named by their ``titles``."""
    data = compare_headline_table(totals, titles)
    columns = [c for c in ("added_duty_usd", "revenue_after_response_usd") if c in data]
    unit = charts.money_unit(data[columns].to_numpy().ravel())
    response = "post_substitution_added_rate" in data
    rows = len(data) * (2 if response else 1)
    row = charts._rows([_scenario_label(title) for title in data["title"]])
    return Chart(
        name="compare_headline",
        title=f"Added {ctx.importer} duty and tariff rate by scenario, {unit[1]} and pp",
        subtitle=(
            f"{len(data)} scenarios on the same flows, each compared with the baseline, {_baseline_words(ctx)}. "
            "Top: added duty a year; bottom: added effective rate (added duty ÷ imports)."
            + _dropped(totals, data, titles)
            + (
                " Orange: after the trade response (revenue change; post-substitution rate)."
                if response
                else ""
            )
        ),
        data=data,
        plot=lambda body, width: _headline(body, width, data, unit),
        source=ctx.source.replace(charts.STATIC_NOTE, charts.RESPONSE_NOTE) if response else None,
        body_height=2 * (AXES_EXTRA + row * rows + (0.3 if response else 0.0)) + PANEL_GAP,
    )


def compare_difference_table(
    table: pd.DataFrame, keys: list[str], names: list[str], top: int
) -> pd.DataFrame:
    """The ``top`` rows of a compare table (already sorted by the largest difference) with each scenario's
    added duty (USD) and added rate (fraction)."""
    columns = [f"{n}.{figure}" for n in names for figure in ("added_duty_usd", "added_rate")]
    return table.head(top)[[*keys, "imports_usd", *columns]].reset_index(drop=True)


def _differences(
    body: FigureBase,
    width: float,
    data: pd.DataFrame,
    labels: list[str],
    names: list[str],
    legends: list[str],
    unit,
) -> None:
    divisor, name = unit
    ax, _ = charts._bar_axes(body, labels)
    series = []
    for index, (scenario, legend) in enumerate(zip(names, legends, strict=True)):
        values = data[f"{scenario}.added_duty_usd"].to_numpy() / divisor
        series.append(
            (legend, values, _money_texts(values, divisor), style.PALETTE[index % len(style.PALETTE)])
        )
    charts._grouped(ax, width, labels, series)
    ax.set_xlabel(f"Added duty, {name} a year")
    if len(series) > 1:  # long scenario titles: one legend entry a line
        ax.get_legend().remove()
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=1, borderaxespad=0.2)


def compare_difference_chart(
    table: pd.DataFrame,
    view: str,
    names: list[str],
    ctx: Context,
    top: int = TOP_DIFFERENCES,
    titles: dict[str, str] | None = None,
) -> Chart:
    """Added duty of each scenario for the partners (``view="by_partner"``) or products (``"by_product"``)
    where the scenarios differ most (grouped bars, one colour per scenario, named by its title). A scenario
    whose added duty is zero in every row drawn (the baseline itself) is left out."""
    everyone = list(names)
    names = [
        n for n in names if not _adds_nothing(table.head(top), [f"{n}.added_duty_usd"]).all()
    ] or everyone
    legends = [style.shorten((titles or {}).get(n, n), 90) for n in names]
    partner = view == "by_partner"
    keys = ["partner", "partner_name"] if partner else ["hs", "description"]
    data = compare_difference_table(table, keys, names, top)
    if partner:
        labels = [style.shorten(text, NAME_WIDTH) for text in data["partner_name"]]
        noun = "partners"
    else:
        labels = [charts.product_label(c, d) for c, d in zip(data["hs"], data["description"], strict=True)]
        noun = f"{charts.LEVEL_NAMES[ctx.level]}s"
    columns = [f"{n}.added_duty_usd" for n in names]
    unit = charts.money_unit(data[columns].to_numpy().ravel())
    row = max(charts._rows(labels), 0.16 * len(names) + 0.1)
    first = (titles or {}).get(everyone[0], everyone[0])
    return Chart(
        name=f"compare_differ_{view}",
        title=f"Where the scenarios differ most: added {ctx.importer} duty by {noun[:-1]}, {unit[1]}",
        subtitle=(
            (
                f"The {len(data)} {noun} with the largest difference in added duty from "
                f"{style.shorten(first, 80)}, largest first"
                if everyone[0] in names
                else f"The {len(data)} {noun} where a scenario adds the most duty, largest first (the first "
                "scenario adds nothing and is not drawn)"
            )
            + f"; each bar: a scenario's added duty a year against the baseline, {_baseline_words(ctx)}. "
            f"Every row: compare_{view}.csv."
        ),
        data=data,
        plot=lambda body, width: _differences(body, width, data, labels, names, legends, unit),
        body_height=AXES_EXTRA + 0.3 + 0.18 * len(names) + row * len(data),
    )


# ------------------------------------------------------------------------------------------ sweep


def sweep_table(table: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """sweep.csv (tidy) as one row per point: the parameters, then one column per figure."""
    wide = table.pivot(index=params, columns="figure", values="value").sort_index().reset_index()
    wide.columns.name = None
    figures = [
        c
        for c in (
            "added_duty_usd",
            "revenue_after_response_usd",
            "added_rate",
            "post_substitution_added_rate",
        )
        if c in wide
    ]
    return wide[[*params, *figures]]


MODEL_PARAMETER_WORDS = {
    "import_demand_elasticity": ("Import demand elasticity (absolute value)", 1.0),
    "substitution_elasticity": ("Elasticity of substitution between partners", 1.0),
    "export_supply_elasticity": ("Export supply elasticity", 1.0),
    "pass_through": ("Pass-through of import prices to consumer prices, %", 100.0),
    "pass_through_low": ("Pass-through at the low end of the price range, %", 100.0),
    "substitution_elasticity_high": ("Substitution elasticity at the low end of the price range", 1.0),
    "import_share_of_consumption": ("Import content of personal consumption, %", 100.0),
    "compliance_haircut": ("Revenue lost to noncompliance, %", 100.0),
    "income_payroll_offset": ("Income and payroll tax offset, % of revenue", 100.0),
    "pce_usd": ("Personal consumption expenditures, $ bn a year", 1e-9),
    "households": ("US households, millions", 1e-6),
}
"""Axis label (in words, with its unit) and the factor from the value to the axis of each model parameter."""


def parameter_words(name: str, scenario=None) -> tuple[str, float]:
    """How a sweep parameter is named on an axis, in words with its unit, and the factor from its value to
    the axis (rates and shares are drawn in percent). ``scenario`` names a measure by its authority."""
    if name in MODEL_PARAMETER_WORDS:
        return MODEL_PARAMETER_WORDS[name]
    parts = name.split(".")
    if parts[0] != "measure" or len(parts) < 3:
        return name, 1.0
    what = parts[1]
    if scenario is not None:
        try:
            what = scenario.measure(parts[1]).authority
        except Exception:  # an unknown measure id is reported by the sweep itself
            what = parts[1]
    what = style.shorten(what, 60)
    field = parts[2]
    if field == "rates" and len(parts) == 4:
        from tariffcalc.reference.countries import group_title, partner_name

        who = group_title(parts[3]) if parts[3] in ("EU",) else partner_name(parts[3])
        return f"Rate on {who}: {what}, %", 100.0
    words = {
        "rate": f"Rate: {what}, %",
        "applies_to_share": f"Share of covered imports that pays it: {what}, %",
        "in_baseline": f"Part already in the baseline: {what}, pp",
    }
    return words.get(field, name), 100.0


def _from_zero(ax) -> None:
    """Extend a y axis to include zero, so lines are read against it, with a little room above the top."""
    low, high = ax.dataLim.intervaly
    low, high = min(float(low), 0.0), max(float(high), 0.0)
    span = (high - low) or 1.0
    ax.set_ylim(low - (0.06 * span if low < 0 else 0.0), high + (0.06 * span if high > 0 else 0.0))


def _tick(value: float, _=None) -> str:
    """A y tick: whole numbers without decimals (0, 100, 200), others with one (2.5)."""
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def _mark(ax, value: float | None) -> None:
    """A dashed vertical line at the scenario's own value of the swept parameter."""
    if value is not None:
        ax.axvline(value, color=style.MUTED, linewidth=0.9, linestyle="--", zorder=1)


def _lines(
    body: FigureBase, data: pd.DataFrame, param: str, default: float | None, unit, words: tuple[str, float]
) -> None:
    divisor, name = unit
    label, factor = words
    x = data[param].to_numpy() * factor
    default = default * factor if default is not None else None
    axes = body.subplots(2, 1, sharex=True)
    specs = (
        (
            (
                ("added_duty_usd", "Static: trade unchanged"),
                ("revenue_after_response_usd", "After the response"),
            ),
            divisor,
            f"Added duty, {name} a year",
            _tick,
        ),
        (
            (
                ("added_rate", "Static: trade unchanged"),
                ("post_substitution_added_rate", "After the response"),
            ),
            0.01,
            "Added effective rate, pp",
            _tick,
        ),
    )
    for ax, (series, scale, ylabel, formatter) in zip(axes, specs, strict=True):
        ax.grid(True, axis="both")
        for (column, legend), colour in zip(series, (style.BLUE, style.ORANGE), strict=True):
            if column in data:
                ax.plot(
                    x, data[column].to_numpy() / scale, color=colour, marker="o", markersize=3.5, label=legend
                )
        _mark(ax, default)
        _from_zero(ax)
        ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(formatter))
        ax.set_ylabel(ylabel)
    axes[1].set_xlabel(label)
    if default is not None:
        axes[0].annotate(
            f"scenario: {default:.4g}",
            (default, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            va="top",
            fontsize=charts.VALUE_SIZE,
            color=style.MUTED,
        )
    if "post_substitution_added_rate" in data:
        axes[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, borderaxespad=0.2)


def _grid(
    body: FigureBase,
    data: pd.DataFrame,
    params: list[str],
    defaults: list[float | None],
    unit,
    words: list[tuple[str, float]],
) -> None:
    divisor, name = unit
    first, second = params
    xs, ys = np.unique(data[first].to_numpy()), np.unique(data[second].to_numpy())
    grid = data.pivot(index=second, columns=first, values="added_duty_usd").reindex(index=ys, columns=xs)
    values = grid.to_numpy(dtype=float) / divisor
    norm = Normalize(vmin=min(0.0, float(np.nanmin(values))), vmax=max(float(np.nanmax(values)), 1e-9))
    ax = body.add_subplot()
    mesh = ax.pcolormesh(values, cmap=style.HEATMAP, norm=norm, edgecolors="white", linewidth=0.8)
    for (row, col), value in np.ndenumerate(values):
        ax.text(
            col + 0.5,
            row + 0.5,
            charts._amount(value * divisor, divisor),
            ha="center",
            va="center",
            fontsize=6.8 if len(xs) > 8 else charts.VALUE_SIZE,
            color="white" if float(norm(value)) > 0.55 else style.INK,
        )
    (xlabel, xfactor), (ylabel, yfactor) = words
    ax.set_xticks(np.arange(len(xs)) + 0.5, [f"{v * xfactor:.4g}" for v in xs])
    ax.set_yticks(np.arange(len(ys)) + 0.5, [f"{v * yfactor:.4g}" for v in ys])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("\n".join(style.wrap(ylabel, 3.0, style.BASE_SIZE, max_lines=2)))
    ax.tick_params(length=0)
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    hits = [
        np.flatnonzero(np.isclose(axis, value)) if value is not None else np.array([], dtype=int)
        for axis, value in zip((xs, ys), defaults, strict=True)
    ]
    if all(len(hit) for hit in hits):
        ax.add_patch(
            Rectangle((hits[0][0], hits[1][0]), 1, 1, fill=False, edgecolor=style.VERMILLION, linewidth=2.0)
        )
    bar = body.colorbar(mesh, ax=ax, shrink=0.7, aspect=22, pad=0.02)
    bar.set_label(f"Added duty, {name} a year")
    bar.outline.set_visible(False)


def _lower(label: str) -> str:
    """An axis label inside a sentence: first letter lower-cased unless it starts an acronym."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _default_words(words: list[tuple[str, float]], defaults: list[float | None]) -> str:
    pairs = list(zip(words, defaults, strict=True))
    known = [f"{_lower(w[0]).rsplit(', ', 1)[0]} = {v * w[1]:.4g}" for w, v in pairs if v is not None]
    unknown = [_lower(w[0]) for w, v in pairs if v is None]
    text = f"The scenario's own value: {'; '.join(known)}." if known else ""
    if unknown:
        text += f" The {', '.join(unknown)} has no single value in the scenario (it is set by HS chapter)."
    return text.strip()


def sweep_chart(
    table: pd.DataFrame,
    params: list[str],
    defaults: list[float | None],
    ctx: Context,
    scenario=None,
) -> Chart:
    """A line chart of the headline figures over one parameter, or a heat map of the added duty over two,
    with the scenario's own value marked (dashed line; outlined cell). Parameters are named in words with
    their units (:func:`parameter_words`; ``scenario`` names a swept measure by its authority) and the y
    axes start at zero."""
    data = sweep_table(table, params)
    money = [c for c in ("added_duty_usd", "revenue_after_response_usd") if c in data]
    unit = charts.money_unit(data[money].to_numpy().ravel())
    words = [parameter_words(p, scenario) for p in params]
    marked = _default_words(words, defaults)
    if len(params) == 1:
        label, factor = words[0]
        first, last = data[params[0]].iloc[0] * factor, data[params[0]].iloc[-1] * factor
        return Chart(
            name="sweep_headline",
            title=ctx.title(
                f"Added {ctx.importer} duty and tariff rate by {_lower(label).rsplit(', ', 1)[0]}",
                f"{unit[1]} and pp",
            ),
            subtitle=(
                f"{ctx.against} {len(data)} points from {first:.4g} to {last:.4g}. {marked}"
                + (" Dashed line: the scenario's value." if defaults[0] is not None else "")
            ),
            data=data,
            plot=lambda body, width: _lines(body, data, params[0], defaults[0], unit, words[0]),
            body_height=2 * LINE_HEIGHT
            + PANEL_GAP
            + (0.3 if "post_substitution_added_rate" in data else 0.0),
        )
    rows = data[params[1]].nunique()
    return Chart(
        name="sweep_grid",
        title=ctx.title(f"Added {ctx.importer} duty by two parameters", unit[1]),
        subtitle=(
            f"{ctx.against} Each cell: the added duty a year with the two parameters set to its column and row. "
            f"{marked}" + (" Outlined: the scenario's values." if None not in defaults else "")
        ),
        data=data,
        plot=lambda body, width: _grid(body, data, params, defaults, unit, words),
        body_height=AXES_EXTRA + max(0.32 * rows, 1.5, 3.2),
    )


# ------------------------------------------------------------------------------------------ timeline


def timeline_table(series: pd.DataFrame) -> pd.DataFrame:
    """The figures of timeline.csv that the chart draws: month, imports and added duty (USD), rates."""
    return series[
        ["month", "imports_usd", "added_duty_usd", "baseline_rate", "scenario_rate", "added_rate"]
    ].copy()


def _timeline(body: FigureBase, width: float, data: pd.DataFrame, unit: tuple[float, str]) -> None:
    divisor, name = unit
    x = np.arange(len(data))
    labels = [MONTHS[int(m[5:7]) - 1] for m in data["month"]]
    ax, low = body.subplots(2, 1, sharex=True)
    values = data["added_duty_usd"].to_numpy() / divisor
    ax.bar(x, values, width=0.7, color=style.BLUE)
    for spot, value in zip(x, values, strict=True):
        if value:
            ax.annotate(
                f"{value:,.1f}",
                (spot, value),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=charts.VALUE_SIZE - 0.6,
            )
    ax.set_ylim(min(0.0, float(values.min()) * 1.15), max(float(values.max()) * 1.15, 1e-9))
    ax.set_xticks(x, labels)
    ax.grid(True, axis="y")
    ax.grid(False, axis="x")
    ax.set_ylabel(f"Added duty, {name}")
    ax = low
    ax.plot(
        x,
        data["scenario_rate"] * 100,
        color=style.VERMILLION,
        marker="o",
        markersize=3.5,
        label="Effective rate",
    )
    ax.plot(
        x,
        data["baseline_rate"] * 100,
        color=style.MUTED,
        linestyle="--",
        linewidth=1.0,
        label="Baseline rate",
    )
    ax.set_ylim(0, max(float(data["scenario_rate"].max()) * 100 * 1.15, 1.0))
    ax.set_xticks(x, labels)
    ax.grid(True, axis="y")
    ax.grid(False, axis="x")
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_ylabel("Effective tariff rate, %")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, borderaxespad=0.2)


def timeline_chart(series: pd.DataFrame, title: str, year: int, regimes: int, ctx: Context) -> Chart:
    """Monthly added duty (bars) and effective tariff rate (line) of a timeline's year."""
    data = timeline_table(series)
    unit = charts.money_unit(data["added_duty_usd"])
    return Chart(
        name="timeline_monthly",
        title=ctx.title(
            f"Added {ctx.importer} duty and effective tariff rate by month, {year}", f"{unit[1]} and %"
        ),
        subtitle=(
            f"{regimes} dated regimes, each applied to the days it was in force, against the baseline, "
            f"{_baseline_words(ctx)}. "
            + (
                "Flows are monthly (each month its own). "
                if (series.get("flows") == "monthly").all()
                else "Flows are annual (a twelfth a month). "
            )
            + "Top: added duty a month; bottom: duty ÷ imports."
        ),
        data=data,
        plot=lambda body, width: _timeline(body, width, data, unit),
        body_height=2 * LINE_HEIGHT + PANEL_GAP,
    )


DATED_LABELS = 8
"""How many of the largest rate changes a dated timeline chart names; the others are thin marks."""


def dated_timeline_table(regimes: pd.DataFrame) -> pd.DataFrame:
    """The figures the dated timeline chart draws: each stretch's dates, what changed, and its rates."""
    return regimes[["start", "end", "days", "changes", "baseline_rate", "scenario_rate", "added_rate"]].copy()


def dated_timeline_chart(regimes: pd.DataFrame, title: str, ctx: Context) -> Chart:
    """The effective tariff rate day by day under a dated rulebook, each rule change marked."""
    data = dated_timeline_table(regimes)
    changed = int((data["changes"] != "").sum())
    first, last = data["start"].iloc[0], data["end"].iloc[-1]
    return Chart(
        name="timeline_dated",
        title=ctx.title(f"{ctx.importer} effective tariff rate day by day, {first} to {last}", "%"),
        subtitle=(
            "The rate of the law in force each day on the same annual flows, against the baseline, "
            f"{_baseline_words(ctx)} (dashed). Each thin mark is one of {changed} dates on which a measure, a product "
            f"list or a stacking order changed; the {DATED_LABELS} largest moves are named."
        ),
        data=data,
        plot=lambda body, width: _dated(body, width, data),
        body_height=LINE_HEIGHT + 1.4,
    )


def _short(changes: str) -> str:
    """A change's label: its first item, shortened."""
    first = changes.split("; ")[0]
    more = changes.count("; ")
    label = first if len(first) <= 34 else first[:33] + "…"
    return label + (f" (+{more})" if more else "")


def _dated(body: FigureBase, width: float, data: pd.DataFrame) -> None:
    import datetime as dt

    starts = [dt.date.fromisoformat(d) for d in data["start"]]
    end = dt.date.fromisoformat(data["end"].iloc[-1])
    xs = [*starts, end]
    rate = data["scenario_rate"].to_numpy() * 100
    base = data["baseline_rate"].to_numpy() * 100
    ax = body.subplots()
    ax.step(
        xs, [*rate, rate[-1]], where="post", color=style.VERMILLION, linewidth=1.6, label="Effective rate"
    )
    ax.step(
        xs,
        [*base, base[-1]],
        where="post",
        color=style.MUTED,
        linestyle="--",
        linewidth=1.0,
        label="Baseline",
    )
    top = max(float(rate.max()) * 1.25, 1.0)
    ax.set_ylim(0, top)
    jumps = np.abs(np.diff(rate, prepend=rate[0]))
    marked = [i for i in range(len(data)) if data["changes"].iloc[i]]
    named = sorted(sorted(marked, key=lambda i: -jumps[i])[:DATED_LABELS])
    for i in marked:
        ax.axvline(starts[i], color=style.LIGHT if i not in named else style.GREY, linewidth=0.6, zorder=0)
    for rank, i in enumerate(named):
        ax.annotate(
            f"{starts[i].isoformat()}: {_short(data['changes'].iloc[i])}",
            (starts[i], top * (0.97 - 0.065 * (rank % 6))),
            fontsize=charts.VALUE_SIZE - 1.2,
            color=style.INK,
            ha="left",
            va="top",
            xytext=(2, 0),
            textcoords="offset points",
        )
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.set_ylabel("Effective tariff rate, %")
    ax.grid(True, axis="y")
    ax.grid(False, axis="x")
    ax.legend(loc="lower right", frameon=False)
