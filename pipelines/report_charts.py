"""Charts of the round reports as inline SVG: matplotlib figures with text kept as text.

Each function takes the tables of `pipelines.report_data` and returns an `<svg>` element ready to
be placed in an HTML page: `svg.fonttype = 'none'` keeps labels as text, so the reader's browser
renders the Chinese with its own fonts (the CSS font list names the usual CJK families); no XML
prolog, DOCTYPE, metadata or namespace URLs; ids salted per chart so that several charts share a
page without clashing; no dates, so the same tables always give the same bytes.

Figures are built with `matplotlib.figure.Figure` (no pyplot, no global backend, nothing to close).
"""

from __future__ import annotations

import io
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

FONT_FAMILIES = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
                 "DejaVu Sans"]
RC = {
    "svg.fonttype": "none",
    "font.family": ["sans-serif"],
    "font.sans-serif": FONT_FAMILIES,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
}
# Okabe-Ito colours and one marker per zone type, the same in every chart.
TYPE_STYLE = {
    "county": ("#0072B2", "o"),
    "district": ("#E69F00", "s"),
    "prefecture": ("#009E73", "^"),
    "township": ("#CC79A7", "D"),
}
STATUS_COLOURS = {"clean": "#009E73", "with_problems": "#E69F00", "rejected": "#D55E00", "not_submitted": "#BBBBBB"}


def _style(zone_type: str) -> tuple[str, str]:
    return TYPE_STYLE.get(zone_type, ("#555555", "x"))


def to_svg(figure: Figure, chart_id: str) -> str:
    """The figure as an inline `<svg>` element (responsive width, deterministic ids and bytes)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": f"sdz-{chart_id}"}), warnings.catch_warnings():
        # Without a CJK font installed matplotlib measures Chinese with a fallback and warns per glyph;
        # the browser draws the text with its own fonts anyway.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r' xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                 lambda m: f'<svg id="chart-{chart_id}" role="img" class="chart" '
                           f'style="max-width: {float(m.group(1)):g}pt"',
                 svg, count=1)
    return svg.strip()


def legend(figure: Figure, title: str | None = None) -> None:
    """One legend above all panels, from the labelled artists of the panels; "no data" when there are none."""
    entries: dict[str, object] = {}
    for ax in figure.axes:
        for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(name, handle)
    if entries:
        figure.legend(list(entries.values()), list(entries), loc="outside upper center", ncols=min(len(entries), 4),
                      frameon=False, title=title)
    else:
        figure.suptitle("无数据 no data", color="#888888")


def new_figure(width: float, height: float) -> Figure:
    """A white figure of the given size in inches, laid out by the constrained layout engine."""
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained", facecolor="white")


def number_format(value: float, _position: int | None = None) -> str:
    """Axis numbers with thousands separators and no needless decimals."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def structure_chart(structure: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Zones by region and by type: two horizontal bar panels with counts and shares."""
    with matplotlib.rc_context(RC):
        figure = new_figure(7.5, 2.6)
        axes = figure.subplots(1, 2)
        for ax, (dimension, title) in zip(axes, [("region", "按地域 by region"), ("zone_type", "按类型 by type")],
                                          strict=True):
            rows = structure[structure["dimension"] == dimension].iloc[::-1]
            names = [labels.get(c, c) for c in rows["category"]]
            colours = [_style(c)[0] if dimension == "zone_type" else "#56B4E9" for c in rows["category"]]
            bars = ax.barh(names, rows["zones"], color=colours)
            ax.bar_label(bars, labels=[f"{z} ({s:.1f}%)" for z, s in zip(rows["zones"], rows["share_pct"],
                                                                            strict=True)], padding=3, fontsize=8)
            ax.set_title(title)
            ax.set_xlabel("实验区数 zones (个)")
            ax.set_xlim(0, max(rows["zones"].max() * 1.35, 1))
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return to_svg(figure, "structure")


def status_chart(submissions: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Expected zones by submission status in each batch, as stacked horizontal bars."""
    with matplotlib.rc_context(RC):
        figure = new_figure(7.5, 0.9 + 0.45 * len(submissions))
        ax = figure.subplots()
        names = [f"第{b}批 batch {b}" for b in submissions["batch"]][::-1]
        left = np.zeros(len(submissions))
        for status, colour in STATUS_COLOURS.items():
            counts = submissions[f"zones_{status}"].to_numpy()[::-1]
            bars = ax.barh(names, counts, left=left, color=colour, label=labels.get(status, status))
            ax.bar_label(bars, labels=[str(c) if c else "" for c in counts], label_type="center", fontsize=8)
            left += counts
        ax.set_xlabel("应报送实验区数 expected zones (个)")
        ax.set_xlim(0, max(left.max(), 1))
        ax.grid(axis="y", visible=False)
        legend(figure)
    return to_svg(figure, "status")


def coverage_heatmap(matrices: Mapping[int, pd.DataFrame], row_labels: Sequence[str]) -> str:
    """Coverage (%) as heat maps, one per batch: indicators down, years across, each cell annotated."""
    with matplotlib.rc_context(RC):
        first = next(iter(matrices.values()))
        figure = new_figure(5.2 + 2.6 * len(matrices), 1.0 + 0.28 * len(first))
        axes = figure.subplots(1, len(matrices), squeeze=False, sharey=True).ravel()
        colours = ListedColormap(matplotlib.colormaps["YlGnBu"](np.linspace(0.0, 0.65, 256)))
        for ax, (batch, matrix) in zip(axes, matrices.items(), strict=True):
            values = matrix.to_numpy(dtype=float)
            image = ax.imshow(values, cmap=colours, vmin=0, vmax=100, aspect="auto")
            ax.set_xticks(range(matrix.shape[1]), [str(y) for y in matrix.columns])
            ax.set_yticks(range(matrix.shape[0]), row_labels)
            ax.set_xlabel("年份 year")
            ax.set_title(f"第{batch}批后 after batch {batch}")
            ax.grid(False)
            for (i, j), value in np.ndenumerate(values):
                if not np.isnan(value):
                    ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7.5)
        figure.colorbar(image, ax=list(axes), label="覆盖率 coverage (%)", shrink=0.8)
    return to_svg(figure, "coverage")


def distribution_chart(summary: pd.DataFrame, indicators: Mapping[int, tuple[str, str, str]],
                       labels: Mapping[str, str]) -> str:
    """Small multiples, one per indicator: the median by type and year with the interquartile range shaded.

    `summary` holds indicator_id, year, group_name (the zone type), median, q1, q3; `indicators`
    maps an indicator id to its Chinese name, English name and unit.
    """
    ids = list(indicators)
    columns = 4
    rows_needed = -(-len(ids) // columns)
    with matplotlib.rc_context(RC):
        figure = new_figure(10, 2.35 * rows_needed + 0.4)
        axes = np.atleast_1d(figure.subplots(rows_needed, columns, squeeze=False)).ravel()
        for ax, indicator_id in zip(axes, ids, strict=False):
            name_zh, name_en, unit = indicators[indicator_id]
            name = f"{indicator_id} {name_zh}"  # Chinese has no spaces to wrap at: cut every 17 characters
            title = "\n".join([*(name[i:i + 17] for i in range(0, len(name), 17)), *textwrap.wrap(name_en, 38)])
            for zone_type, rows in summary[summary["indicator_id"] == indicator_id].groupby("group_name", sort=True):
                colour, marker = _style(zone_type)
                rows = rows.sort_values("year")
                ax.fill_between(rows["year"], rows["q1"], rows["q3"], color=colour, alpha=0.12, linewidth=0)
                ax.plot(rows["year"], rows["median"], color=colour, marker=marker, markersize=3.5, linewidth=1.4,
                        label=labels.get(zone_type, zone_type))
            ax.set_title(title, loc="left", fontsize=8)
            ax.set_ylabel(unit)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_formatter(FuncFormatter(number_format))
            ax.tick_params(axis="x", labelrotation=0)
        for ax in axes[len(ids):]:
            ax.set_visible(False)
        legend(figure, "中位数（线）与四分位距（阴影） median (line) and interquartile range (band); 横轴：年份 year")
    return to_svg(figure, "distribution")


def type_lines_chart(scores: pd.DataFrame, nodes: Mapping[str, str], labels: Mapping[str, str], chart_id: str,
                     columns: int = 3, share_y: bool = False) -> str:
    """One panel per node (index or aspect): the type means by year, a line per zone type (scores 0-100)."""
    keys = list(nodes)
    panels_across = min(columns, len(keys))
    rows_needed = -(-len(keys) // panels_across)
    width = 7.5 if len(keys) == 1 else 10
    with matplotlib.rc_context(RC):
        figure = new_figure(width, (3.4 if len(keys) == 1 else 2.6) * rows_needed + 0.4)
        axes = figure.subplots(rows_needed, panels_across, squeeze=False, sharey=share_y).ravel()
        for ax, node in zip(axes, keys, strict=False):
            for zone_type, rows in scores[scores["node"] == node].groupby("zone_type", sort=True):
                colour, marker = _style(zone_type)
                rows = rows.sort_values("year")
                ax.plot(rows["year"], rows["score"], color=colour, marker=marker, markersize=4, linewidth=1.6,
                        label=labels.get(zone_type, zone_type))
            ax.set_title(nodes[node], loc="left")
            ax.set_ylabel("得分 score (0–100)")
            ax.set_xlabel("年份 year")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_tick_params(labelleft=True)
        for ax in axes[len(keys):]:
            ax.set_visible(False)
        legend(figure)
    return to_svg(figure, chart_id)


def growth_chart(growth: pd.DataFrame, nodes: Mapping[str, str], labels: Mapping[str, str], window: str) -> str:
    """Compound annual growth of the index and each aspect per zone type, as grouped bars."""
    keys = list(nodes)
    types = sorted(growth["zone_type"].unique())
    with matplotlib.rc_context(RC):
        figure = new_figure(10, 3.6)
        ax = figure.subplots()
        width = 0.8 / max(len(types), 1)
        for k, zone_type in enumerate(types):
            rows = growth[growth["zone_type"] == zone_type].set_index("node").reindex(keys)
            x = np.arange(len(keys)) + (k - (len(types) - 1) / 2) * width
            bars = ax.bar(x, rows["cagr_pct"].to_numpy(dtype=float), width, color=_style(zone_type)[0],
                          label=labels.get(zone_type, zone_type))
            ax.bar_label(bars, fmt="%.1f", fontsize=6.5, padding=1)
        ax.set_xticks(range(len(keys)), [nodes[k].replace(" ", "\n", 1) for k in keys])
        ax.axhline(0, color="#333333", linewidth=0.8)
        ax.set_ylabel(f"年均增长率 compound annual growth (%), {window}")
        ax.grid(axis="x", visible=False)
        legend(figure)
    return to_svg(figure, "growth")
