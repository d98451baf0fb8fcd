"""Charts of the round reports as inline SVG, drawn with `pipelines.publish.reports.svg`.

Each function takes the tables of `pipelines.publish.reports.data` and returns an `<svg>` element ready to
be placed in an HTML page: text kept as text, so the reader's browser renders the Chinese with its
own fonts (the page's font list names the usual CJK families); no XML prolog, DOCTYPE, metadata or
namespace URLs; ids per chart so that several charts share a page; no dates, so the same tables
always give the same bytes. The charts draw only aggregates (counts, coverage per indicator and
year, quartiles per type and year, type means), so their size does not grow with the zones.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import pandas as pd

from pipelines.publish.reports.svg import (
    Canvas,
    LegendEntry,
    Panel,
    Scale,
    axes,
    data_range,
    legend,
    legend_height,
    nice_ticks,
    text_width,
    value_ticks,
    year_ticks,
)

# Okabe-Ito colours and one marker per zone type, the same in every chart.
TYPE_STYLE = {
    "county": ("#0072B2", "o"),
    "district": ("#E69F00", "s"),
    "prefecture": ("#009E73", "^"),
    "township": ("#CC79A7", "D"),
}
STATUS_COLOURS = {"clean": "#009E73", "with_problems": "#E69F00", "rejected": "#D55E00", "not_submitted": "#BBBBBB"}
# The light two thirds of ColorBrewer's YlGnBu, so that black cell labels stay readable.
COVERAGE_COLOURS = ["#ffffd9", "#ecf7b1", "#c2e7b4", "#78cbbc", "#3bb0c3", "#1e86bb"]
BAR_BLUE = "#56B4E9"


def _style(zone_type: str) -> tuple[str, str]:
    return TYPE_STYLE.get(zone_type, ("#555555", "x"))


def number_format(value: float, _position: int | None = None) -> str:
    """Axis numbers with thousands separators and no needless decimals."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def _finite(value: object) -> bool:
    return value is not None and not pd.isna(value) and math.isfinite(float(value))


def _year_scale(years: Sequence[int], start: float, end: float) -> Scale:
    low, high = (min(years), max(years)) if len(years) else (0, 1)
    pad = max(0.5, 0.04 * (high - low))
    return Scale(low - pad, high + pad, start, end)


def structure_chart(structure: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Zones by region and by type: two horizontal bar panels with counts and shares."""
    dimensions = [("region", "按地域 by region"), ("zone_type", "按类型 by type")]
    rows_needed = max([int((structure["dimension"] == d).sum()) for d, _ in dimensions] + [1])
    canvas = Canvas(760, 30 + 24 * rows_needed + 44)
    for k, (dimension, title) in enumerate(dimensions):
        rows = structure[structure["dimension"] == dimension]
        names = [labels.get(c, c) for c in rows["category"]]
        label_width = max([text_width(n, 8) for n in names] + [20]) + 10
        left, right = 380 * k + label_width, 380 * (k + 1) - 20
        high = max(float(rows["zones"].max()) * 1.35 if len(rows) else 0, 1)
        panel = Panel(Scale(0, high, left, right), Scale(0, rows_needed, 30, 30 + 24 * rows_needed))
        ticks = [(t, f"{t:.0f}") for t in nice_ticks(0, high, 4, integer=True) if t <= high]
        axes(canvas, panel, ticks, [], grid="x", xlabel="实验区数 zones (个)", title=[title])
        for i, (category, name, zones, share) in enumerate(zip(rows["category"], names, rows["zones"],
                                                              rows["share_pct"], strict=True)):
            y = panel.y(i + 0.5)
            colour = _style(category)[0] if dimension == "zone_type" else BAR_BLUE
            canvas.rect(panel.x(0), y - 8, panel.x(zones) - panel.x(0), 16, colour)
            canvas.text(left - 5, y, name, 8, "end")
            canvas.text(panel.x(zones) + 3, y, f"{zones} ({share:.1f}%)", 8)
    return canvas.svg("structure", "实验区数量与结构 Zones by region and by type")


def status_chart(submissions: pd.DataFrame, labels: Mapping[str, str]) -> str:
    """Expected zones by submission status in each batch, as stacked horizontal bars."""
    entries = [LegendEntry(labels.get(s, s), c) for s, c in STATUS_COLOURS.items()]
    top = legend_height(entries, 720) + 6
    canvas = Canvas(760, top + 28 * max(len(submissions), 1) + 56)  # a bar per batch, room for the axis
    names = [f"第{b}批 batch {b}" for b in submissions["batch"]]
    left = max([text_width(n, 8) for n in names] + [20]) + 14
    totals = sum(submissions[f"zones_{s}"].to_numpy() for s in STATUS_COLOURS) if len(submissions) else [0]
    high = max(float(max(totals)), 1)
    batches = max(len(submissions), 1)
    panel = Panel(Scale(0, high, left, 740), Scale(0, batches, top, top + 28 * batches))
    ticks = [(t, f"{t:.0f}") for t in nice_ticks(0, high, 5, integer=True) if t <= high]
    axes(canvas, panel, ticks, [], grid="x", xlabel="应报送实验区数 expected zones (个)")
    for i, (name, row) in enumerate(zip(names, submissions.itertuples(), strict=True)):
        y, start = panel.y(i + 0.5), 0
        canvas.text(left - 5, y, name, 8, "end")
        for status, colour in STATUS_COLOURS.items():
            count = int(getattr(row, f"zones_{status}"))
            canvas.rect(panel.x(start), y - 9, panel.x(start + count) - panel.x(start), 18, colour)
            if count:
                canvas.text(panel.x(start + count / 2), y, str(count), 8, "middle")
            start += count
    legend(canvas, entries, 4, 720)
    return canvas.svg("status", "各批次实验区报送状态 Expected zones by submission status in each batch")


def coverage_colour(pct: float) -> str:
    """The heat-map colour of a coverage percentage (0 … 100), interpolated between COVERAGE_COLOURS."""
    position = min(max(pct, 0.0), 100.0) / 100 * (len(COVERAGE_COLOURS) - 1)
    i = min(int(position), len(COVERAGE_COLOURS) - 2)
    low, high = COVERAGE_COLOURS[i], COVERAGE_COLOURS[i + 1]
    mix = position - i
    channels = [round(int(low[k:k + 2], 16) * (1 - mix) + int(high[k:k + 2], 16) * mix) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in channels)


def coverage_heatmap(matrices: Mapping[int, pd.DataFrame], row_labels: Sequence[str]) -> str:
    """Coverage (%) as heat maps, one per batch: indicators down, years across, each cell annotated."""
    first = next(iter(matrices.values()))
    years = list(first.columns)
    label_width = max([text_width(label, 8) for label in row_labels] + [20]) + 10
    cells_across = max(len(years) * len(matrices), 1)
    cell = max(14.0, min(30.0, 820 / cells_across))
    size = min(7.5, cell / 4.0)
    gap, row_height, top = 18, 18, 30
    width = label_width + cells_across * cell + gap * (len(matrices) - 1) + 90
    canvas = Canvas(width, top + row_height * len(first) + 44)
    bottom = top + row_height * len(first)
    every = max(1, math.ceil(26 / cell))  # one year label every `every` columns so that labels do not overlap
    for i, label in enumerate(row_labels):
        canvas.text(label_width - 5, top + row_height * (i + 0.5), label, 8, "end")
    x0 = label_width
    for batch, matrix in matrices.items():
        for (i, _indicator), row in zip(enumerate(matrix.index), matrix.to_numpy(dtype=float), strict=True):
            for j, value in enumerate(row):
                x, y = x0 + j * cell, top + i * row_height
                if math.isnan(value):
                    canvas.rect(x, y, cell, row_height, "#f2f2f2")
                    continue
                canvas.rect(x, y, cell, row_height, coverage_colour(value))
                canvas.text(x + cell / 2, y + row_height / 2, f"{value:.1f}", size, "middle")
        for j, year in enumerate(matrix.columns):
            if j % every == 0:
                canvas.line(x0 + (j + 0.5) * cell, bottom, x0 + (j + 0.5) * cell, bottom + 3)
                canvas.text(x0 + (j + 0.5) * cell, bottom + 10, str(year), 8, "middle")
        canvas.text(x0 + len(years) * cell / 2, bottom + 26, "年份 year", 8.5, "middle")
        canvas.text(x0, top - 10, f"第{batch}批后 after batch {batch}", 9)
        x0 += len(years) * cell + gap
    bar = Scale(0, 100, bottom, top)
    x = x0 - gap + 16
    for step in range(20):
        canvas.rect(x, bar(5 * step + 5), 12, bar(5 * step) - bar(5 * step + 5) + 0.3, coverage_colour(5 * step + 2.5))
    for value in range(0, 101, 20):
        canvas.line(x + 12, bar(value), x + 15, bar(value))
        canvas.text(x + 17, bar(value), str(value), 8)
    canvas.text(x + 48, (top + bottom) / 2, "覆盖率 coverage (%)", 8.5, "middle", vertical=True)
    return canvas.svg("coverage", "各指标各年份数据覆盖率 Coverage by indicator and year")


def _panel_title(indicator_id: int, name_zh: str, name_en: str) -> list[str]:
    name = f"{indicator_id} {name_zh}"  # Chinese has no spaces to wrap at: cut every 17 characters
    return [*(name[i:i + 17] for i in range(0, len(name), 17)), *textwrap.wrap(name_en, 38)]


def distribution_chart(summary: pd.DataFrame, indicators: Mapping[int, tuple[str, str, str]],
                       labels: Mapping[str, str]) -> str:
    """Small multiples, one per indicator: the median by type and year with the interquartile range shaded.

    `summary` holds indicator_id, year, group_name (the zone type), median, q1, q3; `indicators`
    maps an indicator id to its Chinese name, English name and unit.
    """
    ids = list(indicators)
    columns, width, plot_height = 4, 1000, 112
    titles = {i: _panel_title(i, *indicators[i][:2]) for i in ids}
    title_height = 11 * max([len(t) for t in titles.values()] + [1]) + 10
    cell_height = title_height + plot_height + 24
    by_indicator = {i: rows for i, rows in summary.groupby("indicator_id", sort=False)}
    types = sorted(summary["group_name"].unique()) if len(summary) else []
    entries = [LegendEntry(labels.get(t, t), *_style(t)) for t in types]
    legend_title = "中位数（线）与四分位距（阴影） median (line) and interquartile range (band); 横轴：年份 year"
    top = legend_height(entries, width - 40, legend_title) + 8
    canvas = Canvas(width, top + cell_height * -(-len(ids) // columns) + 4)
    all_years = sorted(summary["year"].unique()) if len(summary) else []
    for k, indicator_id in enumerate(ids):
        rows = by_indicator.get(indicator_id, summary.iloc[0:0])
        low, high = data_range([*rows["q1"], *rows["median"], *rows["q3"]])
        yticks = value_ticks(low, high, number_format, 4)
        label_width = max(text_width(label, 8) for _, label in yticks)
        x0, y0 = (k % columns) * width / columns, top + (k // columns) * cell_height + title_height
        panel = Panel(_year_scale(all_years, x0 + label_width + 30, x0 + width / columns - 14),
                      Scale(yticks[0][0], yticks[-1][0], y0 + plot_height, y0))
        axes(canvas, panel, year_ticks(all_years), yticks, ylabel=indicators[indicator_id][2],
             title=titles[indicator_id], title_size=8)
        for zone_type, series in rows.groupby("group_name", sort=True):
            colour, marker = _style(zone_type)
            series = series.sort_values("year")
            band = series[series["q1"].map(_finite) & series["q3"].map(_finite)]
            canvas.polygon([(panel.x(y), panel.y(v)) for y, v in zip(band["year"], band["q1"], strict=True)]
                           + [(panel.x(y), panel.y(v)) for y, v in zip(band["year"][::-1], band["q3"][::-1],
                                                                        strict=True)], colour, 0.12)
            points = [(panel.x(y), panel.y(v)) for y, v in zip(series["year"], series["median"], strict=True)
                      if _finite(v)]
            canvas.polyline(points, colour)
            for x, y in points:
                canvas.marker(x, y, marker, colour)
    legend(canvas, entries, 4, width - 40, legend_title)
    return canvas.svg("distribution", "各指标按类型和年份的分布 Distribution of each indicator by zone type and year")


def type_lines_chart(scores: pd.DataFrame, nodes: Mapping[str, str], labels: Mapping[str, str], chart_id: str,
                     columns: int = 3, share_y: bool = False) -> str:
    """One panel per node (index or aspect): the type means by year, a line per zone type (scores 0-100)."""
    keys = list(nodes)
    across = max(min(columns, len(keys)), 1)
    rows_needed = -(-len(keys) // across)
    width = 760 if len(keys) == 1 else 1000
    plot_height = 210 if len(keys) == 1 else 140
    types = sorted(scores["zone_type"].unique()) if len(scores) else []
    entries = [LegendEntry(labels.get(t, t), *_style(t)) for t in types]
    top = legend_height(entries, width - 40) + 8
    cell_height = 24 + plot_height + 44
    canvas = Canvas(width, top + cell_height * rows_needed)
    years = sorted(scores["year"].unique()) if len(scores) else []
    shared = data_range(scores["score"]) if share_y else None
    for k, node in enumerate(keys):
        rows = scores[scores["node"] == node]
        yticks = value_ticks(*(shared or data_range(rows["score"])), number_format, 5)
        x0, y0 = (k % across) * width / across, top + (k // across) * cell_height + 24
        label_width = max(text_width(label, 8) for _, label in yticks)
        panel = Panel(_year_scale(years, x0 + label_width + 30, x0 + width / across - 16),
                      Scale(yticks[0][0], yticks[-1][0], y0 + plot_height, y0))
        axes(canvas, panel, year_ticks(years), yticks, xlabel="年份 year", ylabel="得分 score (0–100)",
             title=[nodes[node]])
        for zone_type, series in rows.groupby("zone_type", sort=True):
            colour, marker = _style(zone_type)
            series = series.sort_values("year")
            points = [(panel.x(y), panel.y(v)) for y, v in zip(series["year"], series["score"], strict=True)
                      if _finite(v)]
            canvas.polyline(points, colour, 1.6)
            for x, y in points:
                canvas.marker(x, y, marker, colour, 4)
    legend(canvas, entries, 4, width - 40)
    return canvas.svg(chart_id, "各类型实验区得分 Scores by zone type and year")


def growth_chart(growth: pd.DataFrame, nodes: Mapping[str, str], labels: Mapping[str, str], window: str) -> str:
    """Compound annual growth of the index and each aspect per zone type, as grouped bars."""
    keys = list(nodes)
    types = sorted(growth["zone_type"].unique())
    entries = [LegendEntry(labels.get(t, t), _style(t)[0]) for t in types]
    top = legend_height(entries, 960) + 16
    canvas = Canvas(1000, top + 260 + 44)
    low, high = data_range(growth["cagr_pct"], include_zero=True)
    yticks = value_ticks(low, high, number_format, 5)
    panel = Panel(Scale(-0.5, len(keys) - 0.5, 70, 990), Scale(yticks[0][0], yticks[-1][0], top + 260, top))
    axes(canvas, panel, [], yticks, ylabel=f"年均增长率 compound annual growth (%), {window}")
    canvas.line(panel.left, panel.y(0), panel.right, panel.y(0), "#333333", 0.8)
    slot = 0.8 / max(len(types), 1)
    for k, zone_type in enumerate(types):
        values = growth[growth["zone_type"] == zone_type].set_index("node")["cagr_pct"].reindex(keys)
        for i, value in enumerate(values):
            if not _finite(value):
                continue
            centre = i + (k - (len(types) - 1) / 2) * slot
            left, right = panel.x(centre - slot / 2), panel.x(centre + slot / 2)
            top_y, bottom_y = sorted((panel.y(value), panel.y(0)))
            canvas.rect(left, top_y, right - left, bottom_y - top_y, _style(zone_type)[0])
            canvas.text((left + right) / 2, top_y - 5 if value >= 0 else bottom_y + 5, f"{value:.1f}", 6.5, "middle")
    for i, key in enumerate(keys):
        for j, line in enumerate(nodes[key].split(" ", 1)):
            canvas.text(panel.x(i), panel.bottom + 11 + 11 * j, line, 8, "middle")
    legend(canvas, entries, 4, 960)
    return canvas.svg("growth", "各类型实验区指数与各方面年均增长率 Compound annual growth by zone type")
