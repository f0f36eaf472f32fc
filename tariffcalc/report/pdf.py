"""report.pdf: a multi-page report of one run, built with matplotlib's PdfPages and finished with pypdf.

Sections: a title page (scenario, dates, data, headline figures, linked contents), methods, the charts,
with a response model the response (rates, revenue ladder, prices per household, trade creation and
diversion, welfare, parameters) and its charts, the largest partners, groups and products as tables, data
quality, and the sources of every dataset and measure. The sections flow one after the other: a chart
goes under the text before it when it fits (squeezed by up to a fifth of its plot if that makes it fit),
so no page is left half empty. Every page has a running header (the scenario's title and the section)
and "Page n of N"; A4 or US Letter.

Why PdfPages and not a typesetting library (ReportLab, WeasyPrint, LaTeX): the charts are matplotlib
figures already, and drawing the text pages with the same library gives one font, one style and vector
charts; matplotlib writes byte-identical PDFs once the creation date and tool versions are left out of the
metadata. Fonts are embedded as TrueType subsets (``pdf.fonttype`` 42, :mod:`tariffcalc.report.style`).
PdfPages cannot write an outline or links, so :func:`finish` adds them with pypdf: the document's Title,
Author and Subject, a bookmark for every section, chart and heading, and the contents on the title page
as links; the result is as deterministic as matplotlib's bytes (no dates, no producer, no file id).

Lengths are in inches, font sizes in points; positions on a page are measured from its top-left corner.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from tariffcalc._version import __version__
from tariffcalc.engine.duties import Result
from tariffcalc.reference import countries
from tariffcalc.report import charts, style, summary
from tariffcalc.util.files import write_bytes

PAPERS = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}
"""Page sizes, inches (portrait)."""
SIDE, TOP, BOTTOM = 0.75, 0.85, 0.8
"""Page margins, inches."""
BODY, SMALL, TABLE, H1, H2 = 9.0, 7.4, 7.6, 15.0, 10.5
"""Font sizes, points."""
CHART_GAP = 0.3
"""Space between a chart and what is above it on a page, inches."""
SQUEEZE = 0.8
"""A chart's plot may be drawn down to this share of its height to fit under what is above it."""


@dataclasses.dataclass(frozen=True)
class ReportInputs:
    """What the report shows: the run, its summary figures (summary.json), tables and charts."""

    result: Result
    figures: dict[str, Any]
    by_partner: pd.DataFrame
    by_product: pd.DataFrame
    rejects: pd.DataFrame
    charts: list[charts.Chart]
    context: charts.Context
    top: int = 15


@dataclasses.dataclass(frozen=True)
class Item:
    """One piece of the flow, at most a line, a table row or a chart: its height and how to draw it.

    ``draw(fig, y)`` draws with its top ``y`` inches below the top of the page. ``keep_with_next`` keeps a
    heading on the page of what follows; ``header`` is repeated when a table continues on a new page.
    A chart item has ``chart`` (drawn into its own area of the page) and ``squeezed``, the least height it
    may be given. ``mark`` is a bookmark placed at the item's top, ``level`` its depth in the outline
    (0: a section, 1: a chart or heading inside it). ``space`` is the room above it, dropped at the top of a
    page.
    """

    height: float
    draw: Callable[[Figure, float], None] | None = None
    keep_with_next: bool = False
    header: Item | None = None
    chart: charts.Chart | None = None
    squeezed: float = 0.0
    mark: str = ""
    level: int = 1
    space: float = 0.0
    """Room above the item when it is not the first on its page, inches."""


@dataclasses.dataclass(frozen=True)
class Column:
    """A table column: header text, width in inches, alignment and how many lines a cell may wrap to."""

    header: str
    width: float
    align: str = "left"
    lines: int = 1


@dataclasses.dataclass(frozen=True)
class Placed:
    """An item on a page: its top (inches from the top of the page), the height it was given, its section."""

    item: Item
    top: float
    height: float
    section: str


@dataclasses.dataclass(frozen=True)
class Page:
    """One page: the section its first item belongs to (named in the header) and its placed items."""

    section: str
    placed: tuple[Placed, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(p.item for p in self.placed)

    @property
    def charts(self) -> list[charts.Chart]:
        """The charts on this page, top to bottom."""
        return [p.item.chart for p in self.placed if p.item.chart is not None]


class Layout:
    """Text on a page of one paper size: wrapping, paragraphs, headings and tables as :class:`Item` lists."""

    def __init__(self, paper: str) -> None:
        self.width, self.height = PAPERS[paper]
        self.text_width = self.width - 2 * SIDE
        self.text_height = self.height - TOP - BOTTOM

    def put(self, fig: Figure, x: float, y: float, text: str, **kwargs: Any) -> None:
        """Write ``text`` with its top-left corner ``x`` inches from the left and ``y`` from the top."""
        kwargs.setdefault("va", "top")
        fig.text(x / self.width, 1 - y / self.height, text, **kwargs)

    def heading(self, text: str, size: float = H2, mark: str | None = None) -> list[Item]:
        """A bold heading, kept on the page of the item after it; bookmarked as ``mark`` (default: its text;
        "" for none), at the outline's top level for a section heading (``H1``)."""
        space = 0.2 if size == H2 else 0.0
        lines = style.wrap(text, self.text_width, size, weight="bold")

        def draw(fig: Figure, y: float) -> None:
            self.put(fig, SIDE, y + space, "\n".join(lines), size=size, weight="bold", linespacing=1.25)

        height = space + style.line_height(size, 1.25) * (len(lines) - 1) + style.line_height(size, 1.5)
        level = 0 if size == H1 else 1
        above = 0.3 if size == H1 else 0.0
        mark = text if mark is None else mark
        return [Item(height, draw, keep_with_next=True, mark=mark, level=level, space=above)]

    def chart(self, chart: charts.Chart, ctx: charts.Context) -> Item:
        """A chart as one item of the flow: as tall as it needs (at most a page), or down to :data:`SQUEEZE`
        of its plot when that lets it share a page. Bookmarked by what it shows."""
        frame = charts.frame_height(chart, ctx, self.text_width)
        height = min(chart.body_height + frame, self.text_height)
        squeezed = min(height, frame + SQUEEZE * chart.body_height)
        what = chart.title.split(": ")[0].rsplit(", ", 1)[
            0
        ]  # "Added US duty by partner" (no unit, no scenario)
        return Item(height, chart=chart, squeezed=squeezed, mark=what, space=CHART_GAP)

    def paragraph(
        self, text: str, size: float = BODY, indent: float = 0.0, bullet: bool = False, **kwargs: Any
    ) -> list[Item]:
        """A wrapped paragraph, one :class:`Item` per line (so it can break across pages)."""
        lines = style.wrap(text, self.text_width - indent - 0.1, size)
        step = style.line_height(size, 1.38)
        items = []
        for number, line in enumerate(lines):
            last = number == len(lines) - 1
            marker = bullet and number == 0

            def draw(fig: Figure, y: float, line: str = line, marker: bool = marker) -> None:
                if marker:
                    self.put(fig, SIDE + indent - 0.14, y, "•", size=size, **kwargs)
                self.put(fig, SIDE + indent, y, line, size=size, **kwargs)

            items.append(Item(step + (0.07 if last else 0.0), draw))
        return items

    def bullets(self, texts: list[str], size: float = BODY) -> list[Item]:
        """A bulleted list of wrapped paragraphs."""
        return [item for text in texts for item in self.paragraph(text, size, indent=0.22, bullet=True)]

    def table(self, columns: list[Column], rows: list[list[str]], size: float = TABLE) -> list[Item]:
        """A table whose header repeats on every page it spans; cells are wrapped or cut to fit their column."""
        step = style.line_height(size, 1.3)
        pad = 0.05
        edges = [SIDE + sum(c.width for c in columns[:i]) for i in range(len(columns))]
        total = sum(c.width for c in columns)

        def lines(column: Column, value: str, most: int, weight: str = "normal") -> list[str]:
            return style.wrap(value, column.width - 2 * pad, size, max_lines=most, weight=weight)

        def cells(fig: Figure, y: float, values: list[list[str]], **kwargs: Any) -> None:
            for column, left, text in zip(columns, edges, values, strict=True):
                x = left + column.width - pad if column.align == "right" else left + pad
                self.put(fig, x, y, "\n".join(text), size=size, ha=column.align, linespacing=1.3, **kwargs)

        heading = [lines(c, c.header, 3, "bold") for c in columns]
        header_height = step * max(map(len, heading)) + 0.07

        def draw_header(fig: Figure, y: float) -> None:
            cells(fig, y + header_height - 0.06, heading, weight="bold", va="bottom")
            self.rule(fig, y + header_height - 0.01, total)

        header = Item(header_height, draw_header)
        items = [header]
        for number, row in enumerate(rows):
            wrapped = [lines(c, value, c.lines) for c, value in zip(columns, row, strict=True)]
            height = step * max(map(len, wrapped)) + 0.045

            def draw_row(fig: Figure, y: float, text=wrapped, height=height, shade=number % 2 == 1) -> None:
                if shade:
                    self._band(fig, y, height, total)
                cells(fig, y + 0.045, text)

            items.append(Item(height, draw_row, header=header))
        return [*items, Item(0.12)]

    def rule(self, fig: Figure, y: float, width: float) -> None:
        """A thin horizontal line ``width`` inches long at ``y``."""
        fig.add_artist(
            Rectangle(
                (SIDE / self.width, 1 - y / self.height),
                width / self.width,
                0.008 / self.height,
                transform=fig.transFigure,
                color=style.MUTED,
                linewidth=0,
            )
        )

    def _band(self, fig: Figure, y: float, height: float, width: float) -> None:
        """A light band behind a table row."""
        fig.add_artist(
            Rectangle(
                (SIDE / self.width, 1 - (y + height) / self.height),
                width / self.width,
                height / self.height,
                transform=fig.transFigure,
                color="#F3F3F3",
                linewidth=0,
                zorder=0,
            )
        )

    def paginate(self, section: str, items: list[Item]) -> list[Page]:
        """Split the items of one section into pages (see :meth:`flow`)."""
        return self.flow([(section, items)])

    def flow(self, sections: list[tuple[str, list[Item]]]) -> list[Page]:
        """Lay out the items of every section one after the other on pages.

        Headings stay with what follows; a table continued on a new page repeats its header; a chart goes
        under what is above it when it fits there, if need be squeezed (down to ``squeezed``) to fill the
        rest of the page, else on the next page. Spacers are dropped at the top of a page.
        """
        sequence = [(section, item) for section, items in sections for item in items]
        pages: list[list[Placed]] = [[]]
        used = 0.0
        for index, (section, item) in enumerate(sequence):
            following = sequence[index + 1][1] if index + 1 < len(sequence) else None
            after = 0.0
            if item.keep_with_next and following is not None:
                after = following.space + (
                    following.squeezed if following.chart is not None else following.height
                )
            gap = item.space if pages[-1] else 0.0
            least = item.squeezed if item.chart is not None else item.height
            if pages[-1] and used + gap + least + after > self.text_height:
                pages.append([])
                used, gap = 0.0, 0.0
                if item.header is not None:
                    pages[-1].append(Placed(item.header, TOP, item.header.height, section))
                    used += item.header.height
            if item.draw is None and item.chart is None and not pages[-1]:
                continue
            height = item.height
            if item.chart is not None:
                height = max(min(item.height, self.text_height - used - gap), min(item.squeezed, item.height))
            pages[-1].append(Placed(item, TOP + used + gap, height, section))
            used += gap + height
        return [Page(page[0].section, tuple(page)) for page in pages if page]


# ----------------------------------------------------------------------------------------- formatting


def _bn(usd: float, unit: tuple[float, str]) -> str:
    """An amount in USD in ``unit`` (divisor, label), one decimal, thousands separated."""
    return f"{usd / unit[0]:,.1f}"


def _pct(rate: float) -> str:
    """A rate (fraction) as a percentage with one decimal."""
    return f"{rate * 100:.1f}%"


def _pp(rate: float) -> str:
    """A rate (fraction) as signed percentage points."""
    return f"{rate * 100:+.1f}"


def _usd(usd: float) -> str:
    """An amount in words for prose ($3.25 trillion, $438.6 billion)."""
    return summary.words(usd)


# ----------------------------------------------------------------------------------------- sections


def _methods(layout: Layout, inputs: ReportInputs) -> list[Item]:
    """What static means, the baseline, the scenario and its measures, how measures combine, what is left out."""
    result, figures = inputs.result, inputs.figures
    scenario, baseline = result.scenario, result.baseline
    authorities = {m.id: m.authority for m in scenario.measures}
    measures = [
        f"{m.authority} ({m.id})"
        + (f"; in force from {charts.day(m.effective)}" if m.effective else "")
        + (f"; until {charts.day(m.expires)}" if m.expires else "")
        + (
            f"; not where {'; '.join(authorities.get(other, other) for other in m.preempted_by)} applies"
            if m.preempted_by
            else ""
        )
        + ("" if m.in_force(result.as_of) else " (not in force on the run's date)")
        for m in scenario.measures
    ]
    return [
        *layout.heading("Methods", H1),
        *layout.heading("What the figures are", mark=""),
        *layout.paragraph(summary.STATIC),
        *layout.paragraph(
            "Duty = customs value × ad valorem rate, for every partner × product flow. The effective tariff rate is "
            "duty ÷ imports. The added duty is the scenario's duty minus the baseline's on the same flows, per year "
            "of trade at the observed level. Money is nominal US dollars; rates are shown as percentages and their "
            "changes as percentage points (pp)."
        ),
        *layout.heading("The baseline", mark=""),
        *layout.paragraph(f"{baseline.title} (file {baseline.name}). {standalone(baseline.description)}"),
        *layout.heading(f"The scenario, as in force on {charts.day(result.as_of)}", mark=""),
        *layout.paragraph(f"{scenario.title} (file {scenario.name}). {standalone(scenario.description)}"),
        *layout.paragraph("Its measures, including those inherited from the scenarios it extends:"),
        *layout.bullets(measures, SMALL + 0.6),
        *layout.heading("How measures combine", mark=""),
        *layout.bullets(
            [
                "Measures in force on the run's date add up: a good pays the sum of the rates of every measure "
                "that covers its partner and product.",
                "A measure does not apply where a measure it names in preempted_by applies (goods under Section "
                "232 do not pay the reciprocal duty).",
                "Exclusions beat inclusions; within a measure the longest (most specific) HS prefix decides; a "
                "partner's own rate beats its group's (EU), which beats the measure's general rate.",
                "A partner group (the EU, its members on the run's date) is shown as one partner in the charts "
                "and the group table: its members' imports and duties summed. Every member is also a partner of "
                "its own in the tables.",
                "The part of a rate that the observed 2024 duties already contain (in_baseline) is not added "
                "again, and a measure's applies_to_share is the share of covered value that pays it. A pair's "
                "total rate is floored at zero.",
            ]
        ),
        *layout.heading("Rows at a coarser level than a product list", mark=""),
        *layout.paragraph(figures["rules"]["coarse_rows"]),
        *layout.paragraph(figures["rules"]["observed_fallback"]),
        *layout.heading("What is not included", mark=""),
        *layout.bullets([text[0].upper() + text[1:] + "." for text in summary.NOT_INCLUDED]),
    ]


_POINTERS = re.compile(r"\s*\([^()]*\b(?:docs|README)\b[^()]*\)|\s*See docs/[^.]*\.")
"""A parenthesis or sentence sending the reader to the documentation ("(see docs/scenarios.md, …)")."""


def standalone(text: str) -> str:
    """``text`` on one line without pointers to documentation files, which a reader of the report does not
    have (the methods section says what they would)."""
    return _POINTERS.sub("", " ".join(text.split()))


def _value(value: Any) -> str:
    """A model parameter's value as text (up to four significant digits; thousands separated; billions as bn)."""
    if isinstance(value, float | int) and abs(value) >= 1e9:
        return f"{value / 1e9:,.0f} bn"
    if isinstance(value, float | int) and abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:.4g}" if isinstance(value, float | int) else str(value)


def _response(layout: Layout, inputs: ReportInputs) -> list[Item]:
    """The trade and price response: rates, the revenue ladder, prices per household with the range,
    trade creation and diversion, welfare and the parameters."""
    response, ctx = inputs.figures["response"], inputs.context
    rates, trade, welfare, prices = (response[k] for k in ("effective_rates", "trade", "welfare", "prices"))
    ladder = charts.ladder_table(response["revenue_ladder"])
    unit = charts.money_unit(ladder["revenue_usd"])
    pp = "{:+.1f} pp".format
    estimates = [("Central", "central"), ("Low", "low"), ("High", "high")]
    return [
        *layout.heading("After trade responds", H1),
        *layout.paragraph(
            "The static figures hold trade at its observed value. This run also solves the "
            f"{standalone(response['description'])}, in {response['markets']:,} product markets: buyers move to "
            "goods and partners whose prices rise less, and buy less in all. The figures are annual, at 2024 trade "
            "values, with the tariffs fully in force. The charts after this section show the added rate by partner "
            "and the revenue ladder."
        ),
        *layout.heading("Effective tariff rate"),
        *layout.paragraph(
            f"Before substitution (static): {_pct(rates['static_scenario_rate'])}, "
            f"{pp(rates['static_added_rate'] * 100)} on the baseline's {_pct(rates['baseline_rate'])}. After the "
            f"response (duty after ÷ imports after): {_pct(rates['post_substitution_scenario_rate'])}, "
            f"{pp(rates['post_substitution_added_rate'] * 100)}."
        ),
        *layout.heading(f"Revenue ladder, {unit[1]} a year"),
        *layout.table(
            [
                Column("Step", 2.3, lines=2),
                Column(f"Revenue, {unit[1]}", 0.9, "right"),
                Column("Change", 0.75, "right"),
                Column("How", layout.text_width - 3.95, lines=2),
            ],
            [
                [row["label"], _bn(row["revenue_usd"], unit), _bn(row["change_usd"], unit), row["note"]]
                for _, row in ladder.iterrows()
            ],
        ),
        *layout.heading("Consumer prices and households"),
        *layout.table(
            [
                Column("Estimate", 1.0),
                Column("Import prices", 1.05, "right"),
                Column("Pass-through", 1.0, "right"),
                Column("Price level", 1.0, "right"),
                Column("Consumer cost, $", 1.45, "right"),
                Column("Per household, $ a year", layout.text_width - 5.5, "right"),
            ],
            [
                [
                    label,
                    f"{prices[key]['import_price_change']:+.2%}",
                    f"{prices[key]['pass_through']:.0%}",
                    f"{prices[key]['price_level_change']:+.2%}",
                    f"{prices[key]['consumer_cost_usd']:,.0f}",
                    f"{prices[key]['cost_per_household_usd']:,.0f}",
                ]
                for label, key in estimates
            ],
        ),
        *layout.paragraph(prices["note"], SMALL + 0.6),
        *layout.heading("Trade creation and diversion"),
        *layout.paragraph(
            f"Imports change from {_usd(trade['imports_usd'])} to {_usd(trade['imports_after_usd'])} "
            f"({trade['trade_creation_share']:+.1%}). This change is the trade creation (negative when imports "
            "fall), shared among partners by their share of each market. Trade diversion moves "
            f"{_usd(trade['trade_diversion_gross_usd'])} of purchases between partners within the same products "
            "(gross: half the sum of the absolute shifts; "
            "it nets to zero). by_partner.csv has both for every partner."
        ),
        *layout.heading(f"Welfare of {ctx.importer} buyers and the Treasury, $ a year"),
        *layout.table(
            [Column("Change", layout.text_width - 1.6), Column("USD a year", 1.6, "right")],
            [
                ["Consumer surplus", f"{welfare['consumer_surplus_change_usd']:,.0f}"],
                ["Tariff revenue", f"{welfare['revenue_change_usd']:,.0f}"],
                ["Foreign producer surplus", f"{welfare['producer_surplus_change_usd']:,.0f}"],
                ["Deadweight loss", f"{welfare['deadweight_loss_usd']:,.0f}"],
                [
                    "Importer's net welfare (consumers + revenue)",
                    f"{welfare['importer_net_welfare_usd']:,.0f}",
                ],
            ],
        ),
        *layout.heading("Parameters"),
        *layout.table(
            [
                Column("Parameter", 2.1),
                Column("Value", 1.05, "right"),
                Column("Unit", 1.25),
                Column("Source", layout.text_width - 4.4, lines=4),
            ],
            [[p["name"], _value(p["value"]), p["unit"], p["source"]] for p in response["parameters"]],
            size=SMALL,
        ),
    ]


def _tables(layout: Layout, inputs: ReportInputs) -> list[Item]:
    """The largest partners and products by added duty, and the partner groups (the EU), as tables."""
    totals = inputs.figures["totals"]
    partners = inputs.by_partner.head(inputs.top)
    products = inputs.by_product.head(inputs.top)
    grouped = [g for g in inputs.figures.get("groups", []) if g["imports_usd"] > 0]
    amounts = [*partners["imports_usd"], *products["imports_usd"], *(g["imports_usd"] for g in grouped)]
    unit = charts.money_unit(amounts)
    added = totals["added_duty_usd"]

    def numbers(row: pd.Series) -> list[str]:
        return [
            _bn(row["imports_usd"], unit),
            _pct(row["baseline_rate"]),
            _pct(row["scenario_rate"]),
            _pp(row["added_rate"]),
            _bn(row["added_duty_usd"], unit),
            f"{row['added_duty_usd'] / added:.0%}" if added else "",
        ]

    number_columns = [
        Column(f"Imports, {unit[1]}", 0.95, "right"),
        Column("Rate before", 0.62, "right"),
        Column("Rate after", 0.62, "right"),
        Column("Added, pp", 0.68, "right"),
        Column(f"Added, {unit[1]}", 0.95, "right"),
        Column("Share of added", 0.62, "right"),
    ]
    spare = layout.text_width - sum(c.width for c in number_columns)
    level = charts.LEVEL_NAMES[inputs.context.level]
    return [
        *layout.heading("Largest partners and products", H1),
        *layout.paragraph(
            "Ranked by added duty. Before and after: effective tariff rate under the baseline and under the "
            f"scenario; share: of the total added duty ({_usd(added)}). Every row is in by_partner.csv, "
            "by_group.csv and by_product.csv (and report.xlsx).",
            SMALL + 0.6,
        ),
        *layout.heading(f"The {summary.count(len(partners))} partners with the largest added duty"),
        *layout.table(
            [Column("Partner", spare - 0.5), Column("ISO3", 0.5), *number_columns],
            [[row["partner_name"], row["partner"], *numbers(row)] for _, row in partners.iterrows()],
        ),
        *(
            [
                *layout.heading("Partner groups as one partner (members summed)"),
                *layout.table(
                    [Column("Group", spare - 0.5), Column("Code", 0.5), *number_columns],
                    [
                        [f"{g['group_name']} ({g['members']})", g["group"], *numbers(pd.Series(g))]
                        for g in grouped
                    ],
                ),
            ]
            if grouped
            else []
        ),
        *layout.heading(
            f"The {summary.count(len(products))} products ({level}s) with the largest added duty"
        ),
        *layout.table(
            [Column("HS", 0.45), Column("Description", spare - 0.45, lines=2), *number_columns],
            [[row["hs"], row["description"], *numbers(row)] for _, row in products.iterrows()],
        ),
    ]


def _quality(layout: Layout, inputs: ReportInputs) -> list[Item]:
    """Reconciliation of every input file, rejected rows by reason, coarse-level matches, fallbacks, warnings."""
    figures = inputs.figures
    rec, diag = figures["reconciliation"], figures["diagnostics"]
    items = [
        *layout.heading("Data quality", H1),
        *layout.paragraph(
            f"Input {_usd(rec['input_value_usd'])} of imports; accepted {_usd(rec['accepted_value_usd'])}; rejected "
            f"{rec['rejected_rows']:,} rows worth {_usd(rec['rejected_value_usd'])}. Input value = accepted + "
            "rejected for every file (to the dollar, below). Every rejected row is in rejects.csv with its file, "
            "line and reason."
        ),
        *layout.table(
            [
                Column("File", layout.text_width - 3.9, lines=3),
                Column("Rows", 0.8, "right"),
                Column("Rejected rows", 0.8, "right"),
                Column("Input value, $", 1.25, "right"),
                Column("Rejected value, $", 1.05, "right"),
            ],
            [
                [
                    _file_name(f["path"]),
                    f"{f['rows']:,}",
                    f"{f['rejected_rows']:,}",
                    f"{f['input_value_usd']:,.0f}",
                    f"{f['rejected_value_usd']:,.0f}",
                ]
                for f in rec["files"]
            ],
        ),
    ]
    if len(inputs.rejects):
        reasons = (
            inputs.rejects.groupby("reason")["value_usd_parsed"]
            .agg(["size", "sum"])
            .sort_values(["size", "sum"], ascending=False, kind="stable")
        )
        items += layout.heading("Rejected rows by reason (the twelve most frequent)")
        unit, amount = _amounts(reasons["sum"].head(12))
        items += layout.table(
            [
                Column("Reason", layout.text_width - 2.2, lines=2),
                Column("Rows", 0.9, "right"),
                Column(f"Value, {unit}", 1.3, "right"),
            ],
            [
                [str(reason), f"{row['size']:,}", amount(row["sum"])]
                for reason, row in reasons.head(12).iterrows()
            ],
        )
    split = diag.get("coarse_split_value_usd", 0.0)
    items += layout.heading("Rows coarser than HTS10, split over the import mix")
    if split:
        partners = diag["coarse_split_value_by_partner_usd"]
        items += layout.paragraph(
            f"{_usd(split)} of imports ({diag['coarse_split_rows']:,} rows from {len(partners):,} partners) is "
            f"reported only at a level coarser than HTS10 (HS chapters, for the smaller partners of the bundled "
            f"data). Each such row was split over the HTS10 codes under it in proportion to "
            f"{diag['coarse_split_mix']}; it pays the average of its codes' rates weighted by their shares, so "
            "goods exempt at HTS8 or HTS10 are exempt by their share of the mix, and its observed 2024 duty is "
            "its own. The partners with the most value split:"
        )
        shown = list(partners.items())[:10]
        unit, amount = _amounts([value for _, value in shown])
        items += layout.table(
            [Column("Partner", layout.text_width - 1.6), Column(f"Value split, {unit}", 1.6, "right")],
            [[f"{countries.partner_name(partner)} ({partner})", amount(value)] for partner, value in shown],
        )
    elif diag.get("coarse_split", True):
        items += layout.paragraph("None: every row is at HTS10, or the mix has no codes under it.")
    else:
        items += layout.paragraph(
            "Not done in this run (--no-split-coarse): rows coarser than HTS10 were priced as they are."
        )
    by_measure = diag["coarse_match_value_by_measure_usd"]
    items += layout.heading("Rows at a coarser level than a measure's product list")
    items += layout.paragraph(
        f"{_usd(diag['coarse_match_value_usd'])} of imports. {figures['rules']['coarse_rows']}"
        + ("" if by_measure else " No measure is concerned.")
    )
    if by_measure:
        unit, amount = _amounts(by_measure.values())
        items += layout.table(
            [Column("Measure", layout.text_width - 1.6), Column(f"Value, {unit}", 1.6, "right")],
            [[name, amount(value)] for name, value in sorted(by_measure.items())],
        )
    tiers = diag["observed_rate_value_by_tier_usd"]
    if tiers:
        total = sum(tiers.values()) or 1.0
        items += layout.heading("Where the observed baseline rates come from")
        items += layout.paragraph(figures["rules"]["observed_fallback"] + " Tier exact: the cell itself.")
        unit, amount = _amounts(tiers.values())
        items += layout.table(
            [
                Column("Tier", layout.text_width - 2.6),
                Column(f"Value, {unit}", 1.6, "right"),
                Column("Share", 1.0, "right"),
            ],
            [[tier, amount(value), f"{value / total:.1%}"] for tier, value in sorted(tiers.items())],
        )
    items += layout.heading("Other checks")
    items += layout.bullets(
        [
            f"Imports at codes coarser than the product level of the tables ({figures['product_level']} digits), "
            f"kept at their own length: {_usd(diag['value_coarser_than_level_usd'])}.",
            f"Imports whose total rate was floored at zero: {_usd(diag['floored_value_usd'])}.",
        ]
    )
    items += layout.heading("Warnings")
    items += layout.bullets(figures["warnings"]) if figures["warnings"] else layout.paragraph("None.")
    return items


def _amounts(values) -> tuple[str, Callable[[float], str]]:
    """A table column's unit for amounts in USD ("$ bn", "$ m", ...) suited to the largest of ``values``,
    and the formatter of one amount in it (one decimal)."""
    divisor, label = charts.money_unit(values)
    decimals = 1 if divisor > 1 else 0
    return label.replace("\u00a0", " "), lambda usd: f"{usd / divisor:,.{decimals}f}"


def _file_name(path: str) -> str:
    """How an input file is named in the report: the bundled file by its name, others by their path."""
    return f"bundled: {Path(path).name}" if summary.is_bundled(path) else path


def _sources(layout: Layout, inputs: ReportInputs) -> list[Item]:
    """Every source: trade data files, documents, each measure's citation and lists, reference data."""
    figures = inputs.figures
    found = figures["sources"]
    files = [
        f"{_file_name(f['path'])}: {summary.BUNDLED_DATA if summary.is_bundled(f['path']) else 'user file'}; "
        f"{f['rows']:,} rows; SHA-256 {f['sha256']}"
        for f in figures["reconciliation"]["files"]
    ]
    items = [
        *layout.heading("Sources", H1),
        *layout.paragraph(
            "Each bundled file's source, year, units and caveats are documented in the data README shipped with "
            "tariffcalc (tariffcalc/data/README.md). This run's inputs with their "
            f"SHA-256, parameters, versions and time: manifest.json. Report made by tariffcalc {__version__}.",
            SMALL + 0.6,
        ),
        *layout.heading("Trade data"),
        *layout.bullets(files, SMALL + 0.6),
        *layout.heading("Documents named by the scenario and the baseline"),
        *layout.bullets(found["documents"], SMALL + 0.6),
        *layout.heading("Measures and their legal citations"),
    ]
    for measure in found["measures"]:
        text = (
            f"{measure['measure']} ({measure['from_scenario']}): {measure['authority']}. "
            f"Citation: {measure['citation']}."
        )
        if measure["product_lists"]:
            text += " Product lists: " + "; ".join(measure["product_lists"]) + "."
        items += layout.bullets([text], SMALL + 0.6)
    items += layout.heading("Reference data bundled with tariffcalc")
    items += layout.bullets(found["reference_data"], SMALL + 0.6)
    if found["repositories"]:
        items += layout.heading("Public repositories the bundled data were built from")
        items += layout.bullets(
            [f"{r['key']}: {r['repository']}, commit {r['commit']}" for r in found["repositories"]], SMALL
        )
    return items


# ----------------------------------------------------------------------------------------- pages


def _title(
    fig: Figure, layout: Layout, inputs: ReportInputs, contents: list[tuple[str, int]]
) -> list[tuple[float, float, int]]:
    """The title page: scenario, dates and data, headline figures, the lead paragraph, contents. Returns
    where each contents line is (top and bottom, inches) and the index of the page it links to."""
    figures, ctx = inputs.figures, inputs.context
    t = figures["totals"]
    put = layout.put
    y = TOP
    put(fig, SIDE, y, "tariffcalc report: what a tariff schedule costs", size=BODY, color=style.MUTED)
    y += 0.35
    for line in style.wrap(ctx.scenario_title, layout.text_width, 20, max_lines=3, weight="bold"):
        put(fig, SIDE, y, line, size=20, weight="bold")
        y += style.line_height(20, 1.25)
    y += 0.15
    about = [
        f"Evaluated on {ctx.day}. {ctx.against} (Scenario file {ctx.scenario}; baseline file {ctx.baseline}.)",
        f"Data: {figures['data']['source']}; period {', '.join(figures['data']['periods']) or 'not given'}.",
        f"Static estimate; products at the {charts.LEVEL_NAMES[ctx.level]} level."
        + (" With the trade and price response (section Response)." if "response" in figures else ""),
    ]
    for text in about:
        for line in style.wrap(text, layout.text_width, BODY + 1):
            put(fig, SIDE, y, line, size=BODY + 1, color=style.MUTED)
            y += style.line_height(BODY + 1, 1.4)
    y += 0.3
    cards = [
        ("Imports", _usd(t["imports_usd"])),
        ("Baseline duty", _usd(t["baseline_duty_usd"])),
        ("Scenario duty", _usd(t["scenario_duty_usd"])),
        ("Added duty a year", _usd(t["added_duty_usd"])),
        ("Effective tariff rate", f"{_pct(t['baseline_rate'])} → {_pct(t['scenario_rate'])}"),
        ("Change of the rate", f"{t['added_rate'] * 100:+.1f} pp"),
    ]
    column = layout.text_width / 3
    for index, (label, value) in enumerate(cards):
        x, top = SIDE + (index % 3) * column, y + (index // 3) * 0.85
        if index % 3 == 0:
            layout.rule(fig, top, layout.text_width)
        put(fig, x, top + 0.1, label, size=SMALL + 0.6, color=style.MUTED)
        put(fig, x, top + 0.3, value, size=14, weight="bold", color=style.BLUE if index == 3 else style.INK)
    y += 1.85
    sentences = [
        summary.lead(figures),
        summary.partners_sentence(figures),
        summary.groups_sentence(figures),
        summary.measures_sentence(figures),
    ]
    for text in filter(None, sentences):
        for line in style.wrap(text, layout.text_width, BODY + 1):
            put(fig, SIDE, y, line, size=BODY + 1)
            y += style.line_height(BODY + 1, 1.45)
        y += 0.1
    y += 0.25
    put(fig, SIDE, y, "Contents", size=H2, weight="bold")
    y += 0.3
    links = []
    step = style.line_height(BODY, 1.6)
    for section, number in contents:
        put(fig, SIDE, y, section, size=BODY, color=style.BLUE)
        put(fig, SIDE + layout.text_width, y, str(number), size=BODY, ha="right", color=style.BLUE)
        links.append((y - 0.03, y + step - 0.03, number - 1))
        y += step
    put(
        fig,
        SIDE,
        layout.height - BOTTOM - 0.3,
        f"Made by tariffcalc {__version__}. The inputs with their SHA-256, the parameters and the time of the run "
        "are in manifest.json.",
        size=SMALL,
        color=style.MUTED,
    )
    return links


def _decorate(
    fig: Figure, layout: Layout, inputs: ReportInputs, section: str, number: int, total: int
) -> None:
    """Running header (run and section) and the page number."""
    ctx = inputs.context
    y = TOP - 0.45
    room = layout.text_width - style.text_width(section, SMALL) - 0.4
    layout.put(fig, SIDE, y, style.fit(ctx.scenario_title, room, SMALL), size=SMALL, color=style.MUTED)
    layout.put(fig, layout.width - SIDE, y, section, size=SMALL, color=style.MUTED, ha="right")
    _page_number(fig, layout, number, total)


def _page_number(fig: Figure, layout: Layout, number: int, total: int) -> None:
    """ "Page n of N" centred below the text area."""
    layout.put(
        fig,
        layout.width / 2,
        layout.height - BOTTOM + 0.35,
        f"Page {number} of {total}",
        size=SMALL,
        ha="center",
    )


def _page_figure(layout: Layout, page: Page, ctx: charts.Context) -> Figure:
    """A page: its text items drawn where they were placed, its charts each in its own area of the page
    (a column of sub-figures over the text area, laid out by matplotlib's constrained layout)."""
    placed = [p for p in page.placed if p.item.chart is not None]
    if not placed:
        fig = Figure(figsize=(layout.width, layout.height))
    else:
        # the layout covers the charts' span only, so a page with one chart is laid out exactly like a
        # stand-alone chart of that size (constrained layout gives the same bytes every time)
        top, bottom = placed[0].top, placed[-1].top + placed[-1].height
        fig = Figure(
            figsize=(layout.width, layout.height),
            layout=charts.layout(layout.width, layout.height, SIDE, top, layout.height - bottom),
        )
        if len(placed) == 1:
            areas, slots = [fig], [0]
        else:
            heights, slots, y = [], [], top
            for p in placed:
                if p.top > y:
                    heights.append(p.top - y)
                slots.append(len(heights))
                heights.append(p.height)
                y = p.top + p.height
            areas = fig.subfigures(len(heights), 1, height_ratios=heights)
        for p, slot in zip(placed, slots, strict=True):
            charts.draw(p.item.chart, areas[slot], ctx, layout.text_width, p.height)
        charts.settle(fig)
    for p in page.placed:
        if p.item.draw is not None:
            p.item.draw(fig, p.top)
    return fig


def _sections(layout: Layout, inputs: ReportInputs) -> list[tuple[str, list[Item]]]:
    """The sections of the report after the title page, in order, as (name, items)."""
    ctx = inputs.context
    static = [chart for chart in inputs.charts if chart.name not in charts.RESPONSE_CHART_NAMES]
    sections = [
        ("Methods", _methods(layout, inputs)),
        ("Charts", [*layout.heading("Charts", H1), *(layout.chart(chart, ctx) for chart in static)]),
    ]
    if "response" in inputs.figures:
        after = [layout.chart(chart, ctx) for chart in inputs.charts if chart not in static]
        sections.append(("Response", [*_response(layout, inputs), *after]))
    sections += [
        ("Tables", _tables(layout, inputs)),
        ("Data quality", _quality(layout, inputs)),
        ("Sources", _sources(layout, inputs)),
    ]
    return sections


def pages(inputs: ReportInputs, paper: str = "a4") -> list[Page]:
    """Every page of the report after the title page, in order."""
    layout = Layout(paper)
    return layout.flow(_sections(layout, inputs))


@dataclasses.dataclass(frozen=True)
class Mark:
    """A bookmark: its text, outline depth (0 = section), page index (0 = title page) and top, inches."""

    title: str
    level: int
    page: int
    top: float


def _marks(body: list[Page]) -> list[Mark]:
    """The outline of the report: each section where it starts, and its charts and headings."""
    marks = [Mark("Contents", 0, 0, TOP)]
    seen: set[str] = set()
    for number, page in enumerate(body, start=1):
        for p in page.placed:
            if p.section not in seen:
                seen.add(p.section)
                marks.append(Mark(p.section, 0, number, p.top))
                if p.item.level == 0:
                    continue
            if p.item.mark:
                marks.append(Mark(p.item.mark, p.item.level, number, p.top))
    return marks


def report_bytes(inputs: ReportInputs, paper: str = "a4") -> bytes:
    """The bytes of report.pdf (call inside :func:`style.context`); no dates or versions in the metadata."""
    layout = Layout(paper)
    body = pages(inputs, paper)
    total = len(body) + 1
    contents: dict[str, int] = {}
    for number, page in enumerate(body, start=2):
        for p in page.placed:
            contents.setdefault(p.section, number)
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata=style.PDF_METADATA) as pdf:
        title = Figure(figsize=(layout.width, layout.height))
        links = _title(title, layout, inputs, list(contents.items()))
        _page_number(title, layout, 1, total)
        pdf.savefig(title)
        for number, page in enumerate(body, start=2):
            fig = _page_figure(layout, page, inputs.context)
            _decorate(fig, layout, inputs, page.section, number, total)
            pdf.savefig(fig)
    return finish(buffer.getvalue(), layout, _metadata(inputs), _marks(body), links)


def _metadata(inputs: ReportInputs) -> dict[str, str]:
    """The document's Title, Author, Subject and Keywords (the PDF info dictionary)."""
    ctx, figures = inputs.context, inputs.figures
    data = figures.get("data", {}).get("source", "trade flows")
    return {
        "/Title": ctx.scenario_title,
        "/Author": "tariffcalc",
        "/Subject": (
            f"Duties by partner and product under {ctx.scenario_title}, compared with the baseline, "
            f"{figures['baseline']['title']}: a static estimate on {data}."
        ),
        "/Keywords": f"tariffs; effective tariff rate; {ctx.scenario}; {ctx.baseline}",
    }


def finish(
    data: bytes,
    layout: Layout,
    metadata: dict[str, str],
    marks: list[Mark],
    links: list[tuple[float, float, int]],
) -> bytes:
    """matplotlib's PDF with what PdfPages cannot write, added by pypdf: the info dictionary (``metadata``,
    and no producer), the outline (``marks``, nested by level, each opening its page at its top) and the
    contents of the title page as links (``links``: top and bottom of each line, inches, and its page index).
    Deterministic: the same input gives the same bytes (pypdf adds no date and, here, no file id)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Link
    from pypdf.generic import Fit, NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.metadata = None
    writer.add_metadata(metadata)
    info = writer._info.get_object() if writer._info is not None else {}
    for key in ("/Producer", "/Creator", "/CreationDate", "/ModDate"):
        info.pop(NameObject(key), None)

    def fit(top: float) -> Fit:
        return Fit.xyz(left=0, top=round((layout.height - top + 0.2) * 72, 2), zoom=0)

    parents: dict[int, Any] = {}
    for mark in marks:
        parent = parents.get(mark.level - 1) if mark.level > 0 else None
        node = writer.add_outline_item(
            title=mark.title, page_number=mark.page, parent=parent, fit=fit(mark.top), is_open=mark.level == 0
        )
        parents[mark.level] = node
    for top, bottom, page in links:
        rect = (
            SIDE * 72,
            round((layout.height - bottom) * 72, 2),
            (layout.width - SIDE) * 72,
            round((layout.height - top) * 72, 2),
        )
        writer.add_annotation(
            page_number=0, annotation=Link(rect=rect, target_page_index=page, border=[0, 0, 0])
        )
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write(path: Path, inputs: ReportInputs, paper: str = "a4") -> None:
    """Write report.pdf to ``path`` atomically, in the house style."""
    with style.context():
        data = report_bytes(inputs, paper)
    write_bytes(path, data)
