"""A small kit for drawing the report charts as inline SVG: canvas, linear scales, nice ticks, axes, legends.

The charts are written as SVG directly instead of through matplotlib: a report has a handful of
simple charts (bars, lines, bands, a heat map), and matplotlib spent seconds per report laying out
and measuring text that the reader's browser draws anyway. Text stays text (the browser picks a
CJK font from the page's font list), and the same numbers always give the same bytes: coordinates
are rounded to 0.1 px and nothing depends on the clock or on installed fonts. Text widths are
estimated (CJK glyphs one em, Latin glyphs a little over half an em), generously, to leave room.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

FONT_FAMILY = ("'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', 'SimHei', "
               "'PingFang SC', 'DejaVu Sans', sans-serif")
INK = "#1a1a1a"
AXIS = "#333333"
GRID = "#dddddd"


def text_width(text: str, size: float) -> float:
    """Estimated width of `text` at font size `size` (px): CJK and full-width glyphs 1 em, others 0.6 em."""
    return sum(size * (1.0 if ord(ch) >= 0x2E80 else 0.62) for ch in text)


def _n(value: float) -> str:
    """A coordinate with at most one decimal and no trailing zeros (fixed bytes for fixed numbers)."""
    return f"{value:.1f}".removesuffix(".0")


# A coordinate's ".0" in a path written with one decimal everywhere: dropped in one pass over the path
# rather than number by number (a national round's cards have millions of coordinates).
_TRAILING_ZERO = re.compile(r"\.0(?=[ LZ]|$)")


@dataclass
class Canvas:
    """An SVG picture built element by element, in drawing order."""

    width: float
    height: float
    parts: list[str] = field(default_factory=list)

    def rect(self, x: float, y: float, width: float, height: float, fill: str, opacity: float | None = None) -> None:
        extra = f' fill-opacity="{opacity:g}"' if opacity is not None else ""
        self.parts.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0))}" height="{_n(max(height, 0))}" '
                          f'fill="{fill}"{extra}/>')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = AXIS, width: float = 0.8) -> None:
        self.parts.append(f'<path d="M{_n(x1)} {_n(y1)}L{_n(x2)} {_n(y2)}" stroke="{stroke}" '
                          f'stroke-width="{width:g}" fill="none"/>')

    def polyline(self, points: Sequence[tuple[float, float]], stroke: str, width: float = 1.4) -> None:
        if len(points) > 1:
            self.parts.append(f'<path d="M{_path(points)}" stroke="{stroke}" stroke-width="{width:g}" fill="none" '
                              'stroke-linejoin="round"/>')

    def polygon(self, points: Sequence[tuple[float, float]], fill: str, opacity: float = 1.0) -> None:
        if len(points) > 2:
            self.parts.append(f'<path d="M{_path(points)}Z" fill="{fill}" fill-opacity="{opacity:g}" stroke="none"/>')

    def dot(self, x: float, y: float, radius: float, colour: str) -> None:
        """A filled circle (cheaper to write than a marker, for charts drawing many of them)."""
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{radius:g}" fill="{colour}"/>')

    def marker(self, x: float, y: float, shape: str, colour: str, size: float = 3.5) -> None:
        """A point marker: o circle, s square, ^ triangle, D diamond, anything else a cross."""
        r = size / 2 + 0.5
        shapes = {
            "o": f"M{_n(x - r)} {_n(y)}a{_n(r)} {_n(r)} 0 1 0 {_n(2 * r)} 0a{_n(r)} {_n(r)} 0 1 0 {_n(-2 * r)} 0Z",
            "s": f"M{_n(x - r)} {_n(y - r)}h{_n(2 * r)}v{_n(2 * r)}h{_n(-2 * r)}Z",
            "^": f"M{_n(x)} {_n(y - r * 1.2)}L{_n(x + r * 1.1)} {_n(y + r * 0.8)}L{_n(x - r * 1.1)} {_n(y + r * 0.8)}Z",
            "D": f"M{_n(x)} {_n(y - r * 1.2)}L{_n(x + r)} {_n(y)}L{_n(x)} {_n(y + r * 1.2)}L{_n(x - r)} {_n(y)}Z",
        }
        cross = f"M{_n(x - r)} {_n(y - r)}L{_n(x + r)} {_n(y + r)}M{_n(x - r)} {_n(y + r)}L{_n(x + r)} {_n(y - r)}"
        path = shapes.get(shape)
        self.parts.append(f'<path d="{path}" fill="{colour}"/>' if path else
                          f'<path d="{cross}" stroke="{colour}" stroke-width="1.2" fill="none"/>')

    def text(self, x: float, y: float, text: str, size: float = 9, anchor: str = "start", colour: str = INK,
             bold: bool = False, vertical: bool = False) -> None:
        """Text whose vertical centre is at y (`vertical` turns it to read bottom-up, centred on (x, y))."""
        attrs = f'x="{_n(x)}" y="{_n(y)}" dy="0.35em" font-size="{size:g}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if colour != INK:
            attrs += f' fill="{colour}"'
        if bold:
            attrs += ' font-weight="bold"'
        if vertical:
            attrs += f' transform="rotate(-90 {_n(x)} {_n(y)})"'
        self.parts.append(f"<text {attrs}>{escape(text, quote=False)}</text>")

    def svg(self, chart_id: str, label: str) -> str:
        """The picture as an `<svg>` element that scales to the page width (up to its own width)."""
        head = (f'<svg id="chart-{chart_id}" role="img" class="chart" aria-label="{escape(label)}" '
                f'viewBox="0 0 {_n(self.width)} {_n(self.height)}" style="max-width: {_n(self.width)}px" '
                f'font-family="{FONT_FAMILY}" fill="{INK}">')
        background = f'<rect width="{_n(self.width)}" height="{_n(self.height)}" fill="#ffffff"/>'
        return "\n".join([head, background, *self.parts, "</svg>"])


def _path(points: Sequence[tuple[float, float]]) -> str:
    """The points as path coordinates, `_n` of each, joined by L."""
    return _TRAILING_ZERO.sub("", "L".join([f"{x:.1f} {y:.1f}" for x, y in points]))


@dataclass(frozen=True)
class Scale:
    """A linear map from the data interval [low, high] to the pixel interval [start, end]."""

    low: float
    high: float
    start: float
    end: float

    def __post_init__(self) -> None:
        # the spans once, not at each of the millions of points a national round's cards draw
        object.__setattr__(self, "_spans", (self.high - self.low, self.end - self.start))

    def __call__(self, value: float) -> float:
        data_span, pixel_span = self._spans
        if not data_span:
            return (self.start + self.end) / 2
        return self.start + (value - self.low) / data_span * pixel_span


def nice_ticks(low: float, high: float, count: int = 5, integer: bool = False) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering [low, high], about `count` intervals."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high <= low:
        low, high = (low - 1, high + 1) if low else (0.0, 1.0)
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = 10 * magnitude
    for factor in (1, 2, 2.5, 5, 10):
        candidate = factor * magnitude
        if candidate >= raw and not (integer and candidate != round(candidate)):
            step = candidate
            break
    step = max(step, 1) if integer else step
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def data_range(values: Sequence[float], include_zero: bool = False) -> tuple[float, float]:
    """(min, max) of the finite values, (0, 1) when there are none."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if include_zero:
        finite.append(0.0)
    return (min(finite), max(finite)) if finite else (0.0, 1.0)


@dataclass(frozen=True)
class Panel:
    """A plot area on the canvas (pixels) with its data scales."""

    x: Scale
    y: Scale

    @property
    def left(self) -> float:
        return min(self.x.start, self.x.end)

    @property
    def right(self) -> float:
        return max(self.x.start, self.x.end)

    @property
    def top(self) -> float:
        return min(self.y.start, self.y.end)

    @property
    def bottom(self) -> float:
        return max(self.y.start, self.y.end)


def axes(canvas: Canvas, panel: Panel, xticks: Sequence[tuple[float, str]], yticks: Sequence[tuple[float, str]],
         grid: str = "y", xlabel: str | None = None, ylabel: str | None = None,
         title: Sequence[str] = (), title_size: float = 9) -> None:
    """Grid lines, the left and bottom axis lines, tick marks and labels, axis labels and a title above, left."""
    canvas.parts.extend(_axes(panel, tuple(xticks), tuple(yticks), grid, xlabel, ylabel, tuple(title), title_size))


# The same axes come back again and again (a national round's cards draw 17,000 score panels, most of them on
# a few sets of ticks): drawn once, then reused.
@functools.lru_cache(maxsize=4096)
def _axes(panel: Panel, xticks: tuple[tuple[float, str], ...], yticks: tuple[tuple[float, str], ...], grid: str,
          xlabel: str | None, ylabel: str | None, title: tuple[str, ...], title_size: float) -> tuple[str, ...]:
    canvas = Canvas(0, 0)
    for value, _ in yticks if grid in ("y", "both") else ():
        canvas.line(panel.left, panel.y(value), panel.right, panel.y(value), GRID, 0.6)
    for value, _ in xticks if grid in ("x", "both") else ():
        canvas.line(panel.x(value), panel.top, panel.x(value), panel.bottom, GRID, 0.6)
    canvas.line(panel.left, panel.bottom, panel.right, panel.bottom)
    canvas.line(panel.left, panel.top, panel.left, panel.bottom)
    for value, label in xticks:
        canvas.line(panel.x(value), panel.bottom, panel.x(value), panel.bottom + 3.5)
        canvas.text(panel.x(value), panel.bottom + 11, label, 8, "middle")
    for value, label in yticks:
        canvas.line(panel.left - 3.5, panel.y(value), panel.left, panel.y(value))
        canvas.text(panel.left - 5, panel.y(value), label, 8, "end")
    if xlabel:
        canvas.text((panel.left + panel.right) / 2, panel.bottom + 25, xlabel, 8.5, "middle")
    if ylabel:
        widest = max((text_width(label, 8) for _, label in yticks), default=0)
        canvas.text(panel.left - widest - 14, (panel.top + panel.bottom) / 2, ylabel, 8.5, "middle", vertical=True)
    for i, line in enumerate(title):
        canvas.text(panel.left, panel.top - 8 - (len(title) - 1 - i) * (title_size + 3), line, title_size)
    return tuple(canvas.parts)


@dataclass(frozen=True)
class LegendEntry:
    """A legend item: a swatch (bar colour) or a line with a marker."""

    label: str
    colour: str
    marker: str | None = None


def legend_height(entries: Sequence[LegendEntry], width: float, title: str | None = None) -> float:
    """The height `legend` will use for these entries across `width` pixels."""
    return 0.0 if not entries else 18.0 * (len(_legend_rows(entries, width)) + (1 if title else 0)) + 6


def _legend_rows(entries: Sequence[LegendEntry], width: float) -> list[list[LegendEntry]]:
    per_row = min(len(entries), 4)
    while per_row > 1 and per_row * max(_entry_width(e) for e in entries) > width:
        per_row -= 1
    return [list(entries[i:i + per_row]) for i in range(0, len(entries), per_row)]


def _entry_width(entry: LegendEntry) -> float:
    return 30 + text_width(entry.label, 8.5) + 16


def legend(canvas: Canvas, entries: Sequence[LegendEntry], top: float, width: float,
           title: str | None = None) -> None:
    """Entries in up to four columns, centred across the top of the canvas; "no data" when there are none."""
    if not entries:
        canvas.text(canvas.width / 2, top + 10, "无数据 no data", 9, "middle", colour="#888888")
        return
    y = top + 9
    if title:
        canvas.text(canvas.width / 2, y, title, 8.5, "middle")
        y += 18
    for row in _legend_rows(entries, width):
        column = max(_entry_width(e) for e in entries)
        x = (canvas.width - column * len(row)) / 2
        for entry in row:
            if entry.marker:
                canvas.line(x, y, x + 22, y, entry.colour, 1.6)
                canvas.marker(x + 11, y, entry.marker, entry.colour)
            else:
                canvas.rect(x + 4, y - 5, 14, 10, entry.colour)
            canvas.text(x + 28, y, entry.label, 8.5)
            x += column
        y += 18


def year_ticks(years: Sequence[int]) -> list[tuple[float, str]]:
    """Integer year ticks over the years shown, about six of them."""
    if not len(years):
        return []
    low, high = min(years), max(years)
    return [(t, f"{t:.0f}") for t in nice_ticks(low, high, 6, integer=True) if low <= t <= high] or [(low, str(low))]


def value_ticks(low: float, high: float, formatter: Callable[[float], str], count: int = 5) -> list[tuple[float, str]]:
    """Nice ticks covering [low, high], labelled by `formatter`."""
    return [(t, formatter(t)) for t in nice_ticks(low, high, count)]
