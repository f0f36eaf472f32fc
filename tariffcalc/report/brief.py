"""The partner brief's charts, summary.md and brief.pdf (``tariffcalc brief``; tables in tariffcalc.app.brief).

Everything here draws from two inputs: the brief's ``figures`` (plain data: the partner, the scenario,
totals, rank, margin, caveats and sources) and its ``products`` table (products.csv: USD, rates as
fractions, margins in percentage points). The charts are :class:`~tariffcalc.report.charts.Chart` objects
in the house style of a run, each with the exact table it draws; brief.pdf is made with matplotlib's
PdfPages like report.pdf and, like it, has no dates or tool versions in its metadata, so the same inputs
give the same bytes.

brief.pdf has three pages: (1) the headline figures in words and the main products with their margins;
(2) the products with the largest added duty and the margins against competitors; (3) with a response
model the change in the partner's US sales, with a dated rulebook the partner's rate over time, and the
caveats and sources (a fourth page when there is both a response and a rate history).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure, FigureBase

from tariffcalc._version import __version__
from tariffcalc.report import charts as chart_maker
from tariffcalc.report import style
from tariffcalc.report import summary as run_summary
from tariffcalc.report.charts import AXES_EXTRA, MONEY, Chart, Context
from tariffcalc.report.pdf import BODY, BOTTOM, H1, SIDE, SMALL, TOP, Column, Item, Layout

CHART_GAP = 0.3
"""Vertical space between two charts on one page, inches."""
MAIN_PRODUCTS = 10
"""Products in the table of page 1 (the partner's largest by imports)."""
CHART_TOP = 8
"""Products in each chart by default: two charts of this many rows fit on one page of brief.pdf."""
MIN_ROWS = 5
"""Fewest product rows the charts of brief.pdf keep when they make room (two charts on a page, the notes
beside the last one)."""
LABEL_WIDTH = 40
"""Longest product label on a chart axis, characters."""
RESPONSE_NOTE = (
    "After the trade response: CES Armington partial equilibrium (docs/model.md); "
    "parameters in manifest.json."
)
"""The source line's note on a chart of the response (a brief has no summary.json)."""


# ----------------------------------------------------------------------------------------- words


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st …"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _share(fraction: float) -> str:
    """A share as a percentage, with two decimals below 1 % so that a small partner never reads 0.0 %."""
    return f"{fraction:.2%}" if abs(fraction) < 0.01 else f"{fraction:.1%}"


def _pp(points: float) -> str:
    """Percentage points with a sign ("+5.2 pp"); "n/a" for a missing value."""
    return "n/a" if points != points else f"{round(points, 1) + 0.0:+.1f} pp"


def _words(usd: float) -> str:
    return run_summary.words(usd)


def count(n: int) -> str:
    return run_summary.count(n)


def _product(row: Mapping[str, Any], width: int = 48) -> str:
    return f"{row['hs']} {style.shorten(row['description'] or '', width)}".strip()


def who(figures: Mapping[str, Any], start: bool = False, owner: bool = False) -> str:
    """The partner as a sentence names it: "Ukraine", "the European Union" ("The …" at the ``start`` of a
    sentence), possessive with ``owner`` ("Ukraine's", "the Netherlands'")."""
    text = figures["partner"].get("text") or figures["partner"]["name"]
    if start:
        text = text[0].upper() + text[1:]
    if owner:
        text += "'" if text.endswith("s") else "'s"
    return text


def _none(n: int) -> str:
    return "none" if n == 0 else count(n)


def lead(figures: Mapping[str, Any]) -> str:
    """The headline in words: imports, duty before and after, the effective rate, the rank."""
    s, t, rank = figures["scenario"], figures["totals"], figures["rank"]
    importer = figures["importer"]
    periods = figures.get("periods") or []
    when = f" in {periods[0]}" if len(periods) == 1 else ""
    if t["added_duty_usd"] == 0:
        change = (
            f"the duty on them would not change ({_words(t['baseline_duty_usd'])} a year, an effective tariff rate "
            f"of {_pct(t['baseline_rate'])})"
        )
    else:
        change = (
            f"the duty on them would {'rise' if t['added_duty_usd'] > 0 else 'fall'} by "
            f"{_words(abs(t['added_duty_usd']))} a year, from {_words(t['baseline_duty_usd'])} to "
            f"{_words(t['scenario_duty_usd'])}, taking the effective tariff rate from {_pct(t['baseline_rate'])} "
            f"to {_pct(t['scenario_rate'])} ({_pp(t['added_rate'] * 100)})"
        )
    return (
        f"The {importer} imported {_words(t['imports_usd'])} of goods from {who(figures)}{when} "
        f"({_share(figures['share_of_us_imports'])} of all its imports). Under {s['name']} (as in force on "
        f"{s['as_of']}) {change}. {who(figures, start=True)} ranks "
        f"{ordinal(rank['added_duty'])} of {rank['partners']:,} partners by added duty "
        f"({_share(figures['share_of_added_duty'])} of the {importer} total) and {ordinal(rank['scenario_rate'])} "
        "by effective rate after."
    )


def _verdict(margin: float, even: float) -> str:
    if margin > even:
        return "an advantage"
    if margin < -even:
        return "a handicap"
    return f"about even (within ±{even:g} pp)"


def margin_sentence(figures: Mapping[str, Any]) -> str:
    """The partner's margin against its competitors, weighted over its products, in words."""
    m = figures["margin"]
    if m["covered_imports_usd"] <= 0:
        return f"No other partner sells {who(figures, owner=True)} products to the {figures['importer']} in the data."
    margin, even = m["margin_pp"], m["even_pp"]

    def amount(usd: float) -> str:
        return _words(usd) if usd > 0 else "none"

    return (
        f"Against the other suppliers of the same {figures['level_name']}s, weighted by {who(figures, owner=True)} "
        f"imports, competitors face an added rate of {_pct(m['competitor_added_rate'])} against "
        f"{_pct(figures['totals']['added_rate'])}: a margin of {_pp(margin)}, {_verdict(margin, even)}. Rivals "
        f"are hit harder (by more than {even:g} pp) on {amount(m['advantage_imports_usd'])} of "
        f"{who(figures, owner=True)} exports and less on {amount(m['handicap_imports_usd'])}."
    )


def products_sentence(figures: Mapping[str, Any], products: pd.DataFrame, n: int = 3) -> str:
    """The largest added duties by product, and the largest advantage and handicap among the main products."""
    even = figures["margin"]["even_pp"]
    hit = products[products["added_duty_usd"] > 0].sort_values(
        "added_duty_usd", ascending=False, kind="stable"
    )
    parts = []
    if len(hit):
        shown = "; ".join(
            f"{_product(row, 40)} ({_words(row['added_duty_usd'])}, {_pp(row['added_rate'] * 100)})"
            for _, row in hit.head(n).iterrows()
        )
        parts.append(f"The largest added duties fall on {shown}.")
    main = products.head(MAIN_PRODUCTS).dropna(subset=["margin_pp"])
    ahead = main[main["margin_pp"] > even].sort_values("margin_pp", ascending=False, kind="stable")
    behind = main[main["margin_pp"] < -even].sort_values("margin_pp", kind="stable")
    if len(main):
        text = (
            f"Of its {count(len(main))} largest products, competitors are hit harder in {_none(len(ahead))}"
        )
        if len(ahead):
            row = ahead.iloc[0]
            text += f" (most: {_product(row, 40)}, {_pp(row['margin_pp'])}{_mark(row)})"
        text += f" and less in {_none(len(behind))}"
        if len(behind):
            row = behind.iloc[0]
            text += f" (most: {_product(row, 40)}, {_pp(row['margin_pp'])}{_mark(row)})"
        parts.append(text + ".")
    return " ".join(parts) or f"No product of {who(figures)} pays more duty."


def _mark(row: Mapping[str, Any]) -> str:
    """ "*" after a product whose partner rows are coarser than a measure's product list (see the caveats)."""
    return "*" if row.get("coarse_match", False) else ""


def measures_sentence(figures: Mapping[str, Any]) -> str:
    """Which measures add the partner's duty."""
    measures = [m for m in figures["measures"] if m["added_duty_usd"] > 0][:4]
    if not measures:
        return ""
    shown = "; ".join(f"{m['authority']} ({_words(m['added_duty_usd'])})" for m in measures)
    return f"The added duty comes from: {shown}."


def response_sentence(figures: Mapping[str, Any]) -> str:
    """The change in the partner's US sales after the trade response: diverted and no longer bought."""
    if "response" not in figures:
        return ""
    r = figures["response"]
    change, diverted = r["sales_change_usd"], r["trade_diversion_usd"]
    created = change - diverted
    moves = (
        f"{_words(-diverted)} moves to other suppliers of the same products"
        if diverted < 0
        else f"{_words(diverted)} moves to {who(figures)} from other suppliers of the same products"
    )
    total = f"{_words(abs(created))} is the {'fall' if created < 0 else 'rise'} in all US purchases of them"
    return (
        f"Once trade responds (CES Armington model), US imports from {who(figures)} would "
        f"{'fall' if change < 0 else 'rise'} by {_words(abs(change))} ({r['sales_change']:+.1%}) to "
        f"{_words(r['imports_after_usd'])} a year: {moves} (trade diversion) and {total} (trade creation)."
    )


def history_sentence(figures: Mapping[str, Any]) -> str:
    """The partner's rate over time, in words."""
    if "history" not in figures:
        return ""
    h = figures["history"]
    law = f"under {figures['scenario']['name']} as in force on each date" if h["dated"] else "over time"
    return (
        f"{law[0].upper()}{law[1:]}, {who(figures, owner=True)} effective rate went from {_pct(h['first_rate'])} "
        f"on {h['from']} to {_pct(h['last_rate'])} on {h['to']}, in {count(h['changes'])} "
        f"change{'s' if h['changes'] != 1 else ''}; its highest was {_pct(h['peak_rate'])} from {h['peak_date']}."
    )


def detail_sentence(figures: Mapping[str, Any]) -> str:
    """The level of the products, in words."""
    text = (
        f"{figures['products']:,} products at the {figures['level_name']} level ({figures['level']} digits)"
    )
    if figures["finest_level"] == 2:
        return (
            f"{text}: the data have {who(figures, owner=True)} imports by HS chapter only, so the figures are "
            "chapter averages."
        )
    if figures["level"] < figures["finest_level"]:
        return f"{text}, summed from the {figures['finest_level']}-digit data."
    return f"{text}, the finest the data have for {who(figures)}."


# ----------------------------------------------------------------------------------------- charts


def context(figures: Mapping[str, Any]) -> Context:
    """The chart :class:`Context` of a brief: names, dates, level and the source line."""
    s, b = figures["scenario"], figures["baseline"]
    return Context(
        importer=figures["importer"],
        scenario=s["name"],
        scenario_title=s["title"],
        as_of=dt.date.fromisoformat(s["as_of"]),
        baseline=b["name"],
        baseline_title=b.get("title") or "",
        level=figures["level"],
        source=(
            f"Source: {figures['data_source']}. Scenario {s['name']} on {s['as_of']} against {b['name']}. "
            f"{chart_maker.STATIC_NOTE} Chart: tariffcalc brief."
        ),
    )


def _labels(data: pd.DataFrame) -> list[str]:
    """One-line product labels (code and description, cut at a word), so two charts fit on a page."""
    return [
        style.shorten(f"{code} {text or ''}", LABEL_WIDTH) if code else text
        for code, text in zip(data["hs"], data["description"], strict=True)
    ]


def added_duty_chart(figures: Mapping[str, Any], products: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """The partner's products with the largest added duty, the rest summed, labelled with the added rate."""
    level = figures["level_name"]
    data = chart_maker.product_table(products[["hs", "description", *MONEY]], top, f"{level}s")
    unit = chart_maker.money_unit(data["added_duty_usd"])
    labels = _labels(data)
    shown = int((data["hs"] != "").sum())
    return Chart(
        name="brief_added_duty",
        title=ctx.title(f"Added {ctx.importer} duty on imports from {who(figures)} by {level}", unit[1]),
        subtitle=(
            f"{ctx.against} The {shown} {level}s with the largest change"
            + ("; the rest summed" if shown < len(data) else "")
            + ". Labels: added duty (added rate, points)."
        ),
        data=data,
        plot=lambda body, width: chart_maker._bars(body, width, data, labels, unit),
        body_height=AXES_EXTRA + chart_maker._rows(labels) * len(data),
    )


def margin_table(products: pd.DataFrame, top: int) -> pd.DataFrame:
    """The partner's ``top`` products by imports that other partners also sell: imports (USD), its added
    rate, the competitors' added rate (fractions), the margin (pp) and its share of US imports."""
    known = products.dropna(subset=["competitor_added_rate"]).head(top)
    columns = ["hs", "description", "imports_usd", "added_rate", "competitor_added_rate", "margin_pp"]
    return known[[*columns, "share_of_us_imports", "coarse_match"]].reset_index(drop=True)


def _margins(body: FigureBase, width: float, data: pd.DataFrame, name: str, even: float) -> None:
    """Dumbbells: the partner's and its competitors' added rate for each product, labelled with the margin."""
    labels = _labels(data)
    ax, y = chart_maker._bar_axes(body, labels)
    own = data["added_rate"].to_numpy() * 100
    rivals = data["competitor_added_rate"].to_numpy() * 100
    low, high = np.minimum(own, rivals), np.maximum(own, rivals)
    ax.hlines(y, low, high, color=style.LIGHT, linewidth=3, zorder=1)
    ax.scatter(rivals, y, s=34, color=style.GREY, zorder=2, label="All other suppliers")
    ax.scatter(own, y, s=38, color=style.BLUE, zorder=3, label=name)
    margins = data["margin_pp"].to_numpy()
    colours = [style.GREEN if m > even else style.VERMILLION if m < -even else style.MUTED for m in margins]
    texts = [
        _pp(m) + ("*" if coarse else "") for m, coarse in zip(margins, data["coarse_match"], strict=True)
    ]
    chart_maker._annotate(
        ax, width, labels, low, high, texts, left=np.zeros(len(data), bool), pad=9, color=colours
    )
    start, end = ax.get_xlim()
    ax.set_xlim(start - 0.015 * (end - start), end)
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:.0f}"))
    ax.set_xlabel("Added tariff rate: added duty ÷ imports, percentage points")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, handletextpad=0.3, borderaxespad=0.2)


def margin_chart(figures: Mapping[str, Any], products: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """The partner's added rate against its competitors' for its main products, with the margin."""
    name, level = figures["partner"]["name"], figures["level_name"]
    even = figures["margin"]["even_pp"]
    data = margin_table(products, top)
    starred = " *: coarser than a product list (see the caveats)." if data["coarse_match"].any() else ""
    return Chart(
        name="brief_margins",
        title=ctx.title(
            f"{who(figures, start=True)} against its competitors, added {ctx.importer} tariff rate by {level}",
            "pp",
        ),
        subtitle=(
            f"{ctx.against} {who(figures, start=True, owner=True)} {len(data)} largest {level}s by imports "
            "that others also sell. Grey: all other suppliers, weighted by their imports. Labels: the margin, "
            f"their rate less {who(figures, owner=True)} (green: rivals hit harder).{starred}"
        ),
        data=data,
        plot=lambda body, width: _margins(body, width, data, name, even),
        body_height=AXES_EXTRA + 0.3 + chart_maker._rows(_labels(data)) * max(len(data), 1),
    )


def sales_table(products: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` products by the absolute change in the partner's US sales after the trade response."""
    order = products["sales_change_usd"].abs().sort_values(ascending=False, kind="stable").index
    columns = ["hs", "description", "imports_usd", "imports_after_usd", "sales_change_usd", "sales_change"]
    return products.loc[order[:top], [*columns, "added_rate", "margin_pp"]].reset_index(drop=True)


def _sales(body: FigureBase, width: float, data: pd.DataFrame, unit: tuple[float, str]) -> None:
    divisor, name = unit
    labels = _labels(data)
    values = np.round(data["sales_change_usd"].to_numpy() / divisor, 9) + 0.0
    ax, y = chart_maker._bar_axes(body, labels)
    ax.barh(y, values, height=0.68, color=np.where(values < 0, style.VERMILLION, style.GREEN))
    texts = [
        f"{chart_maker._amount(v, divisor)}  ({c * 100:+.1f}%)"
        for v, c in zip(data["sales_change_usd"], data["sales_change"].fillna(0.0), strict=True)
    ]
    lows, highs = np.minimum(values, 0), np.maximum(values, 0)
    chart_maker._annotate(ax, width, labels, lows, highs, texts, left=(highs <= 0) & (lows < 0))
    ax.set_xlabel(f"Change in US imports from the partner, {name} a year")


def sales_chart(figures: Mapping[str, Any], products: pd.DataFrame, ctx: Context, top: int) -> Chart:
    """The change in the partner's US sales by product after the Armington response."""
    level = figures["level_name"]
    data = sales_table(products, top)
    unit = chart_maker.money_unit(data["sales_change_usd"])
    return Chart(
        name="brief_sales_change",
        title=(
            f"Change in {ctx.importer} imports from {who(figures)} after the trade response, by {level}, {unit[1]}"
        ),
        subtitle=(
            f"{ctx.scenario_title}. The {len(data)} {level}s with the largest change: buyers switch to suppliers "
            "whose prices rise less, and buy less. Labels: change (%)."
        ),
        data=data,
        plot=lambda body, width: _sales(body, width, data, unit),
        body_height=AXES_EXTRA + chart_maker._rows(_labels(data)) * len(data),
        source=ctx.source.replace(chart_maker.STATIC_NOTE, RESPONSE_NOTE),
    )


def _history(body: FigureBase, width: float, data: pd.DataFrame) -> None:
    ax = body.add_subplot()
    dates = [dt.date.fromisoformat(d) for d in data["date"]]
    rates = data["scenario_rate"].to_numpy() * 100
    ax.step(dates, rates, where="post", color=style.VERMILLION, linewidth=1.6)
    ax.plot(dates, rates, "o", color=style.VERMILLION, markersize=3.5)
    ax.set_ylim(0, max(float(rates.max()) * 1.15, 1.0))
    ax.grid(True, axis="y")
    ax.grid(False, axis="x")
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
    locator = mpl.dates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mpl.dates.ConciseDateFormatter(locator))
    ax.annotate(
        f"{rates[-1]:.1f}%",
        (dates[-1], rates[-1]),
        xytext=(0, 5),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=chart_maker.VALUE_SIZE,
        color=style.VERMILLION,
    )
    ax.set_ylabel("Effective tariff rate, %")


def history_chart(figures: Mapping[str, Any], history: pd.DataFrame, ctx: Context) -> Chart:
    """The partner's average (effective) tariff rate over time, a step at each dated change."""
    law = (
        f"{ctx.scenario} as in force on each date" if figures.get("history", {}).get("dated") else "each date"
    )
    return Chart(
        name="brief_rate_history",
        title=f"Effective {ctx.importer} tariff rate on imports from {who(figures)} over time, %",
        subtitle=(
            f"{ctx.scenario_title}. Duty ÷ imports on {who(figures, owner=True)} trade under {law}, from "
            f"{history['date'].iloc[0]} to {history['date'].iloc[-1]}; each rate holds until the next change."
        ),
        data=history.copy(),
        plot=lambda body, width: _history(body, width, history),
        body_height=2.2,
    )


def main_charts(figures: Mapping[str, Any], products: pd.DataFrame, top: int = CHART_TOP) -> list[Chart]:
    """The charts of every brief: the largest added duties and, when others sell its products, the margins."""
    ctx = context(figures)
    made = [added_duty_chart(figures, products, ctx, top)]
    if products["competitor_added_rate"].notna().any():
        made.append(margin_chart(figures, products, ctx, top))
    return made


def extra_charts(
    figures: Mapping[str, Any],
    products: pd.DataFrame,
    history: pd.DataFrame | None = None,
    top: int = CHART_TOP,
) -> list[Chart]:
    """The charts of some briefs: the change in US sales (a response model ran), the rate over time."""
    ctx = context(figures)
    made = []
    if "sales_change_usd" in products:
        made.append(sales_chart(figures, products, ctx, top))
    if history is not None:
        made.append(history_chart(figures, history, ctx))
    return made


def charts(
    figures: Mapping[str, Any],
    products: pd.DataFrame,
    history: pd.DataFrame | None = None,
    top: int = CHART_TOP,
) -> list[Chart]:
    """Every chart of a brief (:func:`main_charts`, then :func:`extra_charts`), as written beside brief.pdf."""
    return main_charts(figures, products, top) + extra_charts(figures, products, history, top)


# ----------------------------------------------------------------------------------------- summary.md


def _money(usd: float) -> str:
    return run_summary._money(usd)


def to_markdown(figures: Mapping[str, Any], products: pd.DataFrame, top: int = MAIN_PRODUCTS) -> str:
    """summary.md: the headline in words, a small table, the main products with their margins, caveats, sources."""
    p, s, b, t = figures["partner"], figures["scenario"], figures["baseline"], figures["totals"]
    model = "Static estimate" + (
        " with the Armington trade response" if figures["model"] == "armington" else ""
    )
    lines = [
        f"# {p['name']} under {s['name']}: the {figures['importer']} tariffs against its competitors",
        "",
        f"*Partner brief of **{p['name']}** ({p['code']}"
        + (f": {len(p['members'])} members summed" if p["group"] else "")
        + f") under **{s['name']}** ({s['title']}), as in force on {s['as_of']}, against **{b['name']}**. "
        f"{model}. "
        f"Data: {figures['data_source']}. {detail_sentence(figures)}*",
        "",
        lead(figures),
        "",
        *run_summary._table(
            ["", "Baseline", "Scenario", "Change"],
            [
                [
                    "Duty",
                    _money(t["baseline_duty_usd"]),
                    _money(t["scenario_duty_usd"]),
                    _money(t["added_duty_usd"]),
                ],
                [
                    "Effective tariff rate",
                    _pct(t["baseline_rate"]),
                    _pct(t["scenario_rate"]),
                    _pp(t["added_rate"] * 100),
                ],
                ["Imports", _money(t["imports_usd"]), _money(t["imports_usd"]), "held constant"],
            ],
        ),
    ]
    for sentence in (
        margin_sentence(figures),
        products_sentence(figures, products),
        measures_sentence(figures),
        response_sentence(figures),
        history_sentence(figures),
    ):
        if sentence:
            lines += ["", sentence]
    main = products.head(top)
    lines += [
        "",
        f"## {who(figures, start=True, owner=True)} {len(main)} largest {figures['level_name']}s and its margins",
        "",
    ]
    lines += run_summary._table(
        [
            "Product",
            "Imports",
            "Rate before",
            "Rate after",
            "Competitors' added",
            "Margin",
            "Share of US imports",
        ],
        [
            [
                f"HS {_product(row, 50)}",
                _money(row["imports_usd"]),
                _pct(row["baseline_rate"]),
                _pct(row["scenario_rate"]),
                _pp(row["competitor_added_rate"] * 100),
                _pp(row["margin_pp"]) + _mark(row),
                _share(row["share_of_us_imports"]),
            ]
            for _, row in main.iterrows()
        ],
    )
    lines += [
        "",
        "Competitors' added: the added rate of all other suppliers of the product, weighted by their imports. "
        "Margin: that rate less the partner's, in percentage points (+: an advantage). *: the partner's rows are "
        "coarser than a measure's product list (see the caveats). Every product is in products.csv.",
        "",
        "## Caveats",
        "",
        *[f"- {text}" for text in figures["caveats"]],
        "",
        "## Sources",
        "",
        *[f"- {text}" for text in figures["sources"]],
    ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------- brief.pdf


def _cards(layout: Layout, figures: Mapping[str, Any]) -> Item:
    """Six headline figures in two rows of three."""
    t, rank, m = figures["totals"], figures["rank"], figures["margin"]
    cards = [
        (f"{figures['importer']} imports from {figures['partner']['code']}", _words(t["imports_usd"])),
        ("Added duty a year", _words(t["added_duty_usd"])),
        ("Effective tariff rate", f"{_pct(t['baseline_rate'])} → {_pct(t['scenario_rate'])}"),
        ("Rank by added duty", f"{ordinal(rank['added_duty'])} of {rank['partners']:,}"),
        (
            "Competitors' added rate",
            "n/a" if m["covered_imports_usd"] <= 0 else _pct(m["competitor_added_rate"]),
        ),
        ("Margin against them", _pp(m["margin_pp"])),
    ]
    column = layout.text_width / 3
    margin, even = m["margin_pp"], m["even_pp"]
    margin_colour = style.GREEN if margin > even else style.VERMILLION if margin < -even else style.INK

    def draw(fig: Figure, y: float) -> None:
        for index, (label, value) in enumerate(cards):
            x, top = SIDE + (index % 3) * column, y + (index // 3) * 0.72
            if index % 3 == 0:
                layout.rule(fig, top, layout.text_width)
            layout.put(fig, x, top + 0.09, label, size=SMALL + 0.6, color=style.MUTED)
            colour = style.BLUE if index == 1 else margin_colour if index == 5 else style.INK
            layout.put(fig, x, top + 0.27, value, size=13, weight="bold", color=colour)

    return Item(1.55, draw)


def _front(layout: Layout, figures: Mapping[str, Any], products: pd.DataFrame) -> list[Item]:
    """Page 1: title, what was computed, headline cards, the figures in words, the main products."""
    p, s, b = figures["partner"], figures["scenario"], figures["baseline"]
    main = products.head(MAIN_PRODUCTS)
    unit = chart_maker.money_unit(main["imports_usd"])
    about = (
        f"{s['title']} ({s['name']}), evaluated on {s['as_of']}, against {b['name']}. Data: "
        f"{figures['data_source']}. {detail_sentence(figures)}"
    )
    items = [
        *layout.heading(f"{p['name']}: the {figures['importer']} tariffs against its competitors", H1),
        *layout.paragraph(about, BODY, color=style.MUTED),
        Item(0.1),
        _cards(layout, figures),
    ]
    for text in (
        lead(figures),
        margin_sentence(figures),
        products_sentence(figures, products),
        response_sentence(figures),
        history_sentence(figures),
    ):
        if text:
            items += layout.paragraph(text, BODY)
    columns = [
        Column("HS", 0.8),
        Column("Description", layout.text_width - 0.8 - 5 * 0.72 - 0.8, lines=2),
        Column(f"Imports, {unit[1]}", 0.8, "right"),
        Column("Rate before", 0.72, "right"),
        Column("Rate after", 0.72, "right"),
        Column("Rivals' added", 0.72, "right"),
        Column("Margin, pp", 0.72, "right"),
        Column("Share of US imports", 0.72, "right"),
    ]
    rows = [
        [
            row["hs"],
            row["description"] or "",
            f"{row['imports_usd'] / unit[0]:,.1f}",
            _pct(row["baseline_rate"]),
            _pct(row["scenario_rate"]),
            _pp(row["competitor_added_rate"] * 100).removesuffix(" pp"),
            _pp(row["margin_pp"]).removesuffix(" pp") + _mark(row),
            _share(row["share_of_us_imports"]),
        ]
        for _, row in main.iterrows()
    ]
    items += layout.heading(
        f"{who(figures, start=True, owner=True)} {len(main)} largest {figures['level_name']}s by imports"
    )
    items += layout.table(columns, rows)
    items += layout.paragraph(
        "Rivals' added: the added rate (pp) of all other suppliers of the product, weighted by their imports. "
        f"Margin: rivals' added rate less {who(figures, owner=True)}; + is an advantage."
        + (
            " *: rows coarser than a measure's product list (see the caveats)."
            if main["coarse_match"].any()
            else ""
        )
        + f" All {figures['products']:,} products: products.csv.",
        SMALL,
        color=style.MUTED,
    )
    return items


def _notes(layout: Layout, figures: Mapping[str, Any]) -> list[Item]:
    """Caveats and sources, in small type."""
    return [
        *layout.heading("Caveats"),
        *layout.bullets(list(figures["caveats"]), SMALL),
        *layout.heading("Sources"),
        *layout.bullets(list(figures["sources"]), SMALL),
        *layout.paragraph(
            f"Made by tariffcalc {__version__} (tariffcalc brief). The inputs with their SHA-256 and the parameters "
            "are in manifest.json.",
            SMALL,
            color=style.MUTED,
        ),
    ]


def _chart_height(chart: Chart, ctx: Context, layout: Layout) -> float:
    return chart.body_height + chart_maker.frame_height(chart, ctx, layout.text_width)


def _page(layout: Layout, page_charts: list[Chart], ctx: Context, items: list[Item]) -> Figure:
    """A page with ``page_charts`` stacked at the top of the text area and then ``items``."""
    heights = [_chart_height(c, ctx, layout) for c in page_charts]
    space = sum(heights) + CHART_GAP * max(len(heights) - 1, 0)
    if page_charts:
        bottom = layout.height - TOP - space
        fig = Figure(
            figsize=(layout.width, layout.height),
            layout=chart_maker.layout(layout.width, layout.height, SIDE, TOP, bottom),
        )
        ratios = [h for height in heights for h in (height, CHART_GAP)][:-1]
        parts = list(fig.subfigures(len(ratios), 1, height_ratios=ratios))[::2] if len(ratios) > 1 else [fig]
        for part, chart, height in zip(parts, page_charts, heights, strict=True):
            chart_maker.draw(chart, part, ctx, layout.text_width, height)
    else:
        fig = Figure(figsize=(layout.width, layout.height))
    y = TOP + space + (0.25 if page_charts else 0.0)
    for item in items:
        if item.draw is not None:
            item.draw(fig, y)
        y += item.height
    return fig


def _height(page_charts: list[Chart], ctx: Context, layout: Layout) -> float:
    """Height of charts stacked on a page with the space before the text below them, inches."""
    heights = [_chart_height(c, ctx, layout) for c in page_charts]
    return sum(heights) + CHART_GAP * max(len(heights) - 1, 0) + (0.25 if heights else 0.0)


def _fit(charts_: list[Chart], ctx: Context, layout: Layout) -> list[list[Chart]]:
    """Charts grouped into pages, as many on a page as fit the text area."""
    room = layout.text_height
    pages: list[list[Chart]] = []
    used = room + 1
    for chart in charts_:
        height = _chart_height(chart, ctx, layout)
        if pages and used + CHART_GAP + height <= room:
            pages[-1].append(chart)
            used += CHART_GAP + height
        else:
            pages.append([chart])
            used = height
    return pages


def pdf_bytes(
    figures: Mapping[str, Any],
    products: pd.DataFrame,
    history: pd.DataFrame | None = None,
    paper: str = "a4",
    top: int = CHART_TOP,
) -> bytes:
    """The bytes of brief.pdf: headline page, chart pages, and caveats and sources after the last chart.

    No dates or tool versions in the metadata, so the same inputs give the same bytes.
    """
    layout = Layout(paper)
    ctx = context(figures)
    with style.context():
        notes = _notes(layout, figures)
        notes_height = sum(item.height for item in notes)
        front = layout.paginate("Summary", _front(layout, figures, products))
        pages: list[tuple[list[Chart], list[Item], str]] = [
            ([], list(page.items), "Summary") for page in front
        ]
        main, rows = main_charts(figures, products, top), top
        while len(main) > 1 and rows > MIN_ROWS and _height(main, ctx, layout) - 0.25 > layout.text_height:
            rows -= 1  # fewer rows, so that both charts share a page (US Letter is shorter than A4)
            main = main_charts(figures, products, rows)
        pages += [(group, [], "Charts") for group in _fit(main, ctx, layout)]
        extra = extra_charts(figures, products, history, top)
        rows = top
        while extra and rows > MIN_ROWS and _height(extra, ctx, layout) + notes_height > layout.text_height:
            rows -= 1  # fewer rows in the last page's charts, so that the notes fit beside them
            extra = extra_charts(figures, products, history, rows)
        pages += [(group, [], "Charts") for group in _fit(extra, ctx, layout)]
        last = pages[-1][0]
        if last and _height(last, ctx, layout) + notes_height <= layout.text_height:
            pages[-1] = (last, notes, "Charts and notes")
        else:
            pages += [([], list(page.items), "Notes") for page in layout.paginate("Notes", notes)]
        buffer = io.BytesIO()
        total = len(pages)
        with PdfPages(buffer, metadata=style.PDF_METADATA) as pdf:
            for number, (group, items, section) in enumerate(pages, start=1):
                fig = _page(layout, group, ctx, items)
                title = style.shorten(ctx.scenario_title, 72)
                head = f"tariffcalc partner brief · {figures['partner']['name']} · {title}"
                layout.put(fig, SIDE, TOP - 0.45, head, size=SMALL, color=style.MUTED)
                layout.put(
                    fig, layout.width - SIDE, TOP - 0.45, section, size=SMALL, color=style.MUTED, ha="right"
                )
                layout.put(
                    fig,
                    layout.width / 2,
                    layout.height - BOTTOM + 0.35,
                    f"Page {number} of {total}",
                    size=SMALL,
                    ha="center",
                )
                pdf.savefig(fig)
    return buffer.getvalue()
