"""The charts of a zone report card as inline SVG, drawn with `pipelines.publish.reports.svg`.

Small and many: a sparkline per indicator (the zone's values over the years the round collects),
a strip per indicator placing the zone's latest value in its type's distribution (interquartile
band, median), and one panel per node with the zone's index or aspect score against its type's
mean. Same numbers, same bytes, as the report charts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from pipelines.publish.reports import svg
from pipelines.publish.reports.charts import TYPE_STYLE, number_format
from pipelines.publish.reports.model import missing

ZONE_COLOUR = "#D55E00"  # the zone itself, in every chart of the card
TYPE_COLOUR = TYPE_STYLE["county"][0]  # its type's distribution and mean
MUTED = "#888888"


def sparkline(chart_id: str, years: tuple[int, int], points: Sequence[tuple[int, float]], label: str) -> str:
    """The zone's values over the round's years (first .. last, ticked at both ends): a line broken where a
    year is missing, the latest value marked; 无数据 when the zone reported none."""
    canvas = svg.Canvas(150, 30, list(_sparkline_frame(years)))
    x = svg.Scale(years[0], years[1], 5, 145)
    low, high = svg.data_range([value for _, value in points])
    pad = (high - low) * 0.1 or 1.0
    y = svg.Scale(low - pad, high + pad, 26, 4)
    if not points:
        canvas.text(75, 15, "无数据 no data", 8, "middle", colour=MUTED)
    run: list[tuple[float, float]] = []
    for k, (year, value) in enumerate(points):  # a gap in the years breaks the line
        if k and year - points[k - 1][0] > 1:
            _run(canvas, run)
            run = []
        run.append((x(year), y(value)))
    _run(canvas, run)
    if points:
        canvas.dot(x(points[-1][0]), y(points[-1][1]), 2.2, ZONE_COLOUR)
    return canvas.svg(chart_id, label)


@functools.lru_cache(maxsize=64)
def _sparkline_frame(years: tuple[int, int]) -> tuple[str, ...]:
    """The base line and the ticks at the first and last year, the same on every sparkline of a round."""
    canvas, x = svg.Canvas(150, 30), svg.Scale(years[0], years[1], 5, 145)
    canvas.line(5, 28, 145, 28, "#cccccc", 0.6)
    for year in years:
        canvas.line(x(year), 26, x(year), 30, "#cccccc", 0.6)
    return tuple(canvas.parts)


def _run(canvas: svg.Canvas, points: list[tuple[float, float]]) -> None:
    """A sparkline's unbroken run of years; a lone year as a dot."""
    if len(points) == 1:
        canvas.dot(*points[0], 1.3, TYPE_COLOUR)
    canvas.polyline(points, TYPE_COLOUR, 1.3)


def position_strip(chart_id: str, value: float | None, q1: float | None, median: float | None, q3: float | None,
                   label: str) -> str:
    """The type's interquartile band with its median, and the zone's value as a dot, on a scale wide enough
    for all four (the band a third of the width when the value lies inside it)."""
    canvas = svg.Canvas(150, 30)
    known = [v for v in (value, q1, median, q3) if not missing(v)]
    if missing(value) or len(known) < 4:
        canvas.line(5, 15, 145, 15, "#cccccc", 0.6)
        canvas.text(75, 15, "无数据 no data", 8, "middle", colour=MUTED)
        return canvas.svg(chart_id, label)
    low, high = min(known), max(known)
    spread = (q3 - q1) or abs(median) * 0.1 or 1.0
    scale = svg.Scale(min(low, q1 - spread), max(high, q3 + spread), 8, 142)
    canvas.line(8, 15, 142, 15, "#bbbbbb", 0.8)
    canvas.rect(scale(q1), 8, scale(q3) - scale(q1), 14, TYPE_COLOUR, 0.25)
    canvas.line(scale(median), 6, scale(median), 24, TYPE_COLOUR, 1.6)
    canvas.dot(scale(value), 15, 3.5, ZONE_COLOUR)
    return canvas.svg(chart_id, label)


def score_panels(chart_id: str, scores: Sequence[dict], nodes: Mapping[str, str], zone_label: str,
                 type_label: str) -> str:
    """One panel per node (index, then the aspects): the zone's score by year against its type's mean (0-100).
    `scores` are records with node, year, score and type_mean."""
    keys = list(nodes)
    across, width, plot_height = 3, 700, 92
    entries = [svg.LegendEntry(zone_label, ZONE_COLOUR, "o"), svg.LegendEntry(type_label, TYPE_COLOUR, "s")]
    top = svg.legend_height(entries, width - 40) + 4
    cell_height = 20 + plot_height + 30
    canvas = svg.Canvas(width, top + cell_height * -(-len(keys) // across))
    years = sorted({row["year"] for row in scores})
    ticks = svg.year_ticks(years)
    for k, node in enumerate(keys):
        rows = [row for row in scores if row["node"] == node]
        yticks = svg.value_ticks(*svg.data_range([value for row in rows for value in (row["score"], row["type_mean"])
                                                  if not missing(value)]), number_format, 4)
        x0, y0 = (k % across) * width / across, top + (k // across) * cell_height + 20
        label_width = max(svg.text_width(label, 8) for _, label in yticks)
        panel = svg.Panel(svg.Scale(years[0] - 0.5, years[-1] + 0.5, x0 + label_width + 12, x0 + width / across - 12),
                          svg.Scale(yticks[0][0], yticks[-1][0], y0 + plot_height, y0))
        svg.axes(canvas, panel, ticks, yticks, title=[nodes[node]], title_size=8.5)
        for column, colour, marker in (("type_mean", TYPE_COLOUR, "s"), ("score", ZONE_COLOUR, "o")):
            points = [(panel.x(row["year"]), panel.y(row[column])) for row in rows if not missing(row[column])]
            canvas.polyline(points, colour, 1.5)
            if points:  # the latest year marked; a lone point would otherwise not show
                canvas.marker(*points[-1], marker, colour, 3.5)
    svg.legend(canvas, entries, 2, width - 40)
    return canvas.svg(chart_id, "实验区指数与各方面得分及同类型均值 Index and aspects against the type mean")
