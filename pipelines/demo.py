"""Deterministic generator of synthetic demo submissions: a complete, clearly labelled raw/ folder.

`generate_demo(raw_dir, seed)` writes the zone registry, the 2014 round (batch 1 and the supplementary
batch 2) and the first batch of the 2015 round in the office's workbook template and as long CSVs, with
the typical submission errors of domain.md injected on purpose. Every injection is recorded in
`demo_manifest.json` with the reason code the pipeline should produce. Zone names and values are
invented; the composition of the registry (157 zones, 30 provinces, 76/55/26 by region, 77/51/23/6 by
type, two special and three removed zones) matches the programme office's 2014 report. The same seed
gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from pipelines.spreadsheets import reproducible_bytes
from schemas.catalogue import load_catalogue

README_NAME = "SYNTHETIC_DEMO_README.md"
MANIFEST_NAME = "demo_manifest.json"
FIXED_TIME = datetime(2014, 6, 30, 9, 0, 0)
FIRST_YEAR = 2009
SHEET = "监测数据"
TITLE = "国家可持续发展实验区创新能力监测数据表（{round}年度）【合成演示数据 synthetic demo】"
CSV_HEADER = ("zone_code", "indicator", "year", "value", "unit", "note")
REGISTRY_HEADER = ("zone_code", "zone_name", "province_code", "zone_type", "type_evaluation", "designated_year",
                   "removed_year")

# GB/T 2260 code: (province, seat used in invented names ("" for municipalities), active zones)
PROVINCES = {
    11: ("北京市", "", 3), 12: ("天津市", "", 3), 13: ("河北省", "石家庄", 6), 14: ("山西省", "太原", 5),
    15: ("内蒙古自治区", "呼和浩特", 2), 21: ("辽宁省", "沈阳", 6), 22: ("吉林省", "长春", 5),
    23: ("黑龙江省", "哈尔滨", 6), 31: ("上海市", "", 5), 32: ("江苏省", "苏州", 12), 33: ("浙江省", "杭州", 8),
    34: ("安徽省", "合肥", 7), 35: ("福建省", "福州", 5), 36: ("江西省", "南昌", 6), 37: ("山东省", "潍坊", 14),
    41: ("河南省", "郑州", 9), 42: ("湖北省", "武汉", 9), 43: ("湖南省", "长沙", 8), 44: ("广东省", "广州", 10),
    45: ("广西壮族自治区", "南宁", 3), 46: ("海南省", "海口", 4), 50: ("重庆市", "", 3), 51: ("四川省", "成都", 4),
    52: ("贵州省", "贵阳", 2), 53: ("云南省", "昆明", 3), 61: ("陕西省", "西安", 3), 62: ("甘肃省", "兰州", 2),
    63: ("青海省", "西宁", 1), 64: ("宁夏回族自治区", "银川", 1), 65: ("新疆维吾尔自治区", "乌鲁木齐", 2),
}
EAST = {11, 12, 13, 21, 31, 32, 33, 35, 37, 44, 46}
CENTRAL = {14, 22, 23, 34, 36, 41, 42, 43}
MUNICIPALITIES = {11, 12, 31, 50}
TYPE_COUNTS = {"county": 77, "district": 51, "prefecture": 23, "township": 6}
TYPE_SUFFIX = {"county": "县", "district": "区", "prefecture": "市", "township": "镇"}
SPECIAL_ZONES = (("山东省黄河三角洲", 37, "prefecture"), ("山东省潍坊市高新技术产业开发区", 37, "district"))
REMOVED_ZONES = (("天津市大港区", 12, "district"), ("广东省顺德市容桂镇", 44, "township"),
                 ("重庆市万州区龙宝移民开发区", 50, "district"))

# Generative model per indicator: scale of the plausible range, position in it, weight of the zone's
# development and size, growth kind (relative or absolute per year) and growth range.
MODELS = {
    1: ("log", 0.35, 0.12, 0.15, "rel", (0.08, 0.22)), 2: ("lin", 0.30, 0.10, 0.0, "abs", (0.02, 0.15)),
    3: ("log", 0.45, 0.15, 0.0, "rel", (0.06, 0.18)), 4: ("log", 0.50, 0.12, 0.15, "rel", (0.05, 0.15)),
    5: ("lin", 0.35, 0.12, 0.0, "abs", (0.3, 1.5)), 6: ("log", 0.45, 0.15, 0.12, "rel", (0.10, 0.30)),
    7: ("log", 0.35, 0.12, 0.03, "rel", (0.08, 0.15)), 8: ("log", 0.45, 0.05, 0.15, "rel", (0.03, 0.12)),
    9: ("lin", 0.40, -0.12, 0.0, "rel", (-0.08, -0.03)), 10: ("lin", 0.50, -0.12, 0.0, "abs", (-0.08, 0.04)),
    11: ("log", 0.70, -0.12, 0.0, "rel", (-0.12, -0.05)), 12: ("lin", 0.15, 0.15, 0.0, "rel", (0.09, 0.13)),
    13: ("lin", 0.15, 0.12, 0.0, "rel", (0.10, 0.15)), 14: ("lin", 0.45, 0.15, 0.0, "abs", (0.4, 1.5)),
    15: ("log", 0.50, -0.12, 0.0, "rel", (-0.06, -0.03)), 16: ("lin", 0.70, 0.05, 0.0, "abs", (-0.8, 1.0)),
}
REGION_DEVELOPMENT = {"east": 0.6, "central": 0.0, "west": -0.6}
TYPE_SIZE = {"prefecture": 1.0, "district": 0.0, "county": -0.2, "township": -1.2}
URBAN_OFFSET = {"district": 0.25, "prefecture": 0.05, "county": -0.1, "township": -0.15}
INSTRUCTIONS = ("填表说明（合成演示数据 synthetic demo）", "1. 请按序号逐项填写各年度数据，金额单位为万元。",
                "2. 未获得的数据请填“—”。", "3. 请勿修改序号、单位和表头。")
CN_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class Zone:
    """One row of the registry."""

    code: str
    name: str
    province_code: int
    zone_type: str
    type_evaluation: bool
    designated_year: int
    removed_year: int | None = None

    @property
    def region(self) -> str:
        """east, central or west, from the province code."""
        return "east" if self.province_code in EAST else "central" if self.province_code in CENTRAL else "west"


@dataclass
class Formula:
    """A formula `=<cell of ref_year>*factor`, written by openpyxl without a cached value."""

    ref_year: int
    factor: float


@dataclass
class Layout:
    """How a workbook is laid out: the office's template and the variants zones make of it."""

    year_style: str = "number"  # number | text ("2009") | nian ("2009年")
    columns: tuple[str, ...] = ("seq", "level1", "level2", "name", "unit", "years", "note")
    row_order: tuple[int, ...] | None = None
    unit_in_name: bool = False
    two_level_header: bool = False
    code_in_one_cell: bool = False
    instructions_first: bool = False
    name_header: str = "指标名称"
    show_code: bool = True
    shown_name: str | None = None  # None: the registry name; "": no name


@dataclass
class Submission:
    """One file of one zone: the cells as written and what the pipeline should accept from them."""

    zone: Zone
    round: int
    batch: int
    fmt: str
    file_name: str
    years: list[int]
    cells: dict[int, dict[int, Any]]
    accepted: dict[tuple[int, int], float | None]
    units: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    layout: Layout = field(default_factory=Layout)
    entries: list[dict] = field(default_factory=list)
    file_reason: str | None = None
    encoding: str = "utf-8"
    csv_header: tuple[str, ...] = CSV_HEADER
    extra_lines: list[tuple[list[str], dict]] = field(default_factory=list)
    tracked: set[tuple[int, int]] = field(default_factory=set)
    revision_kind: str = "correction"
    copies: list[str] = field(default_factory=list)
    truncate: bool = False

    @property
    def path(self) -> str:
        """Path relative to raw_dir."""
        return f"{self.round}/batch-{self.batch}/{self.file_name}"


@dataclass
class Context:
    """State of one generation: randomness, registry, true series, values in force, files, manifest."""

    rng: random.Random
    zones: list[Zone]
    truth: dict[str, dict[int, dict[int, float]]]
    in_force: dict[tuple[str, int, int], float] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    entries: list[dict] = field(default_factory=list)
    issues: dict[str, tuple[str, list[tuple[int, int]], str]] = field(default_factory=dict)
    submitters: dict[str, set[str]] = field(default_factory=dict)


# --- registry ------------------------------------------------------------------------------------------------------

def cn_number(n: int) -> str:
    """Chinese numeral for 1 … 99."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def _invented_name(province: int, number: int, zone_type: str) -> str:
    """Province + invented place, e.g. 江苏省苏州市演示一县; prefecture-level zones as 江苏省演示三市."""
    province_name, seat, _ = PROVINCES[province]
    place = f"演示{cn_number(number)}{TYPE_SUFFIX[zone_type]}"
    return province_name + place if zone_type == "prefecture" or not seat else f"{province_name}{seat}市{place}"


def _generic_types(rng: random.Random, provinces: list[int]) -> list[str]:
    """Zone types for the ordinary zones: districts in the municipalities, the rest shuffled."""
    pool = Counter(TYPE_COUNTS)
    for _, _, zone_type in SPECIAL_ZONES:
        pool[zone_type] -= 1
    pool["district"] -= sum(p in MUNICIPALITIES for p in provinces)
    rest = [zone_type for zone_type in TYPE_COUNTS for _ in range(pool[zone_type])]
    rng.shuffle(rest)
    remaining = iter(rest)
    return ["district" if p in MUNICIPALITIES else next(remaining) for p in provinces]


def build_registry(rng: random.Random) -> list[Zone]:
    """The 157 active zones plus the three removed ones, sorted by code."""
    generic = [p for p, (_, _, count) in PROVINCES.items()
               for _ in range(count - sum(s[1] == p for s in SPECIAL_ZONES))]
    specs = []  # (province, name, type, type_evaluation, removed_year)
    counters: Counter[int] = Counter()
    for province, zone_type in zip(generic, _generic_types(rng, generic), strict=True):
        counters[province] += 1
        specs.append((province, _invented_name(province, counters[province], zone_type), zone_type, True, None))
    specs += [(p, name, zone_type, False, None) for name, p, zone_type in SPECIAL_ZONES]
    specs += [(p, name, zone_type, True, 2014) for name, p, zone_type in REMOVED_ZONES]
    numbers = {p: sorted(rng.sample(range(101, 9000), sum(s[0] == p for s in specs))) for p in PROVINCES}
    zones = []
    for province, name, zone_type, evaluated, removed in sorted(specs, key=lambda s: s[0]):
        code = f"{province}{numbers[province].pop(0):04d}"
        designated = rng.randint(1986, 2005 if removed else 2013)
        zones.append(Zone(code, name, province, zone_type, evaluated, designated, removed))
    return sorted(zones, key=lambda z: z.code)


def registry_csv(zones: list[Zone]) -> bytes:
    """`reference/zones.csv` as UTF-8 bytes."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REGISTRY_HEADER)
    for z in zones:
        writer.writerow([z.code, z.name, f"{z.province_code}", z.zone_type, str(z.type_evaluation).lower(),
                         z.designated_year, z.removed_year or ""])
    return buf.getvalue().encode("utf-8")


# --- true series ---------------------------------------------------------------------------------------------------

def _indicator_series(indicator_id: int, dev: float, size: float, offset: float,
                      rng: random.Random) -> dict[int, float]:
    """2009 … 2014 values of one indicator for one zone, rounded like the template."""
    indicator = load_catalogue().indicators[indicator_id]
    scale, p0, w_dev, w_size, growth, (g_lo, g_hi) = MODELS[indicator_id]
    lo, hi = indicator.plausible
    position = p0 + w_dev * dev + w_size * size + offset + rng.gauss(0, 0.05)
    floor = 0.15 if scale == "log" else 0.05
    if position < floor:  # spread the zones below the floor instead of piling them on it
        position = floor + rng.uniform(0, 0.1)
    elif position > 0.8:
        position = 0.8 - rng.uniform(0, 0.1)
    if scale == "log":
        lo = lo or 1.0  # a log scale needs a positive lower end
        value = lo * (hi / lo) ** position
    else:
        value = lo + (hi - lo) * position
    rate = rng.uniform(g_lo, g_hi)
    series = {}
    for year in range(FIRST_YEAR, 2015):
        if indicator.upper_limit == 100.0:
            value = min(value, 99.5)
        series[year] = int(round(value)) if hi >= 1000 else round(value, 2)
        step = rate + rng.gauss(0, 0.01 if growth == "rel" else 0.2 * (g_hi - g_lo))
        step = min(max(step, g_lo), g_hi)  # GDP per capita grows 8-15 % a year, energy intensity falls 3-6 %, ...
        value = value * (1 + step) if growth == "rel" else max(value + step, 0.1)
    return series


def build_series(zones: list[Zone], rng: random.Random) -> dict[str, dict[int, dict[int, float]]]:
    """The true series of every zone: a latent development level and size drive all 16 indicators."""
    truth = {}
    for zone in zones:
        dev = rng.gauss(REGION_DEVELOPMENT[zone.region], 0.8) + (0.3 if zone.zone_type == "district" else 0.0)
        size = rng.gauss(TYPE_SIZE[zone.zone_type], 0.6)
        truth[zone.code] = {
            i: _indicator_series(i, dev, size, URBAN_OFFSET[zone.zone_type] if i == 14 else 0.0, rng)
            for i in sorted(load_catalogue().indicators)
        }
    return truth


# --- submissions and injected errors -------------------------------------------------------------------------------

def new_submission(ctx: Context, zone: Zone, rnd: int, batch: int, fmt: str = "xlsx",
                   keys: set[tuple[int, int]] | None = None) -> Submission:
    """A correct file of `zone` for round `rnd`; with `keys`, only those cells are filled (a partial resubmission)."""
    years = list(range(FIRST_YEAR, rnd))
    cells = {i: {y: ctx.truth[zone.code][i][y] if keys is None or (i, y) in keys else None for y in years}
             for i in sorted(load_catalogue().indicators)}
    accepted = {(i, y): float(v) if v is not None else None for i, row in cells.items() for y, v in row.items()}
    name = f"{zone.name}_{rnd}年第{cn_number(batch)}批.{fmt}"
    return Submission(zone, rnd, batch, fmt, name, years, cells, accepted)


def add_entry(sub: Submission, kind: str, expected: str, ind: int | None = None, year: int | None = None,
              raw: Any = None, value: float | None = None) -> dict:
    """Record one expectation about `sub` in the manifest (file, sheet and cell are filled when rendered)."""
    entry = {"round": sub.round, "batch": sub.batch, "file": sub.path, "zone_code": sub.zone.code, "indicator": ind,
             "year": year, "sheet": None, "cell": None, "kind": kind, "expected": expected,
             "raw_value": None if raw is None else str(raw), "expected_value": value}
    sub.entries.append(entry)
    return entry


def set_cell(sub: Submission, ind: int, year: int, written: Any, accepted: float | None, kind: str,
             expected: str) -> None:
    """Write `written` into a cell, say what the pipeline accepts from it and record the expectation."""
    sub.cells[ind][year] = written
    sub.accepted[(ind, year)] = accepted
    add_entry(sub, kind, expected, ind, year, "" if written is None else written, accepted)


def _inner_year(ctx: Context, sub: Submission) -> int:
    """A year with a previous and a next year in the file, so both jump flags exist."""
    return ctx.rng.choice(sub.years[1:-1])


def _outlier(ctx: Context, sub: Submission, ind: int, year: int, factor: float, flags: tuple[str, ...],
             kind: str) -> None:
    """A value loaded with flags; the year after an outlier is flagged as a jump too."""
    sub.revision_kind = kind
    value = round(ctx.truth[sub.zone.code][ind][year] * factor, 4)
    value = int(value) if float(value).is_integer() else value
    set_cell(sub, ind, year, value, float(value), kind, flags[0])
    for flag in flags[1:]:
        add_entry(sub, kind, flag, ind, year, value, float(value))
    if year + 1 in sub.years:
        add_entry(sub, kind, "suspicious_jump", ind, year + 1, sub.cells[ind][year + 1], sub.accepted[(ind, year + 1)])


# kind → (unit written instead of the catalogue unit, how the true value is written): loaded after conversion
CONVERSIONS = {
    "yuan_for_wanyuan": ("元", lambda v: v * 10000),
    "wan_yuan_per_capita": ("万元/人", lambda v: round(v / 10000, 4)),
    "permille_as_percent": ("%", lambda v: round(v / 10, 4)),
    "thousands_separator_text": (None, lambda v: f"{v:,}"),
    "fullwidth_digits_text": (None, lambda v: str(v).translate(str.maketrans("0123456789.", "０１２３４５６７８９．"))),
    "percent_sign_text": (None, lambda v: f"{v}%"),
}
# kind → (factor applied to one value, flags expected on it): loaded with flags
OUTLIERS = {"wanyuan_times_10000": (10000, ("possible_unit_error", "suspicious_jump")),
            "percent_as_fraction": (0.01, ("possible_unit_error", "suspicious_jump")),
            "jump_x5": (5, ("suspicious_jump",))}
# kind → how one value is written (from the true value and the indicator's upper limit): rejected
CELL_ERRORS = {"not_a_number": lambda v, limit: "待核实", "negative_value": lambda v, limit: -v,
               "out_of_range": lambda v, limit: round(v + limit, 2)}


def inject(ctx: Context, sub: Submission, kind: str, ind: int | None) -> None:
    """Apply one typical submission error of domain.md / the contract to indicator `ind` (if it needs one)."""
    year = _inner_year(ctx, sub)
    truth = ctx.truth[sub.zone.code]
    if kind in CONVERSIONS:
        unit, write = CONVERSIONS[kind]
        sub.units.update({ind: unit} if unit else {})
        for y in sub.years:
            set_cell(sub, ind, y, write(truth[ind][y]), float(truth[ind][y]), kind, "converted")
    elif kind in OUTLIERS:
        _outlier(ctx, sub, ind, year, *OUTLIERS[kind], kind)
    elif kind in CELL_ERRORS:
        limit = load_catalogue().indicators[ind].upper_limit
        set_cell(sub, ind, year, CELL_ERRORS[kind](truth[ind][year], limit), None, kind, kind)
    elif kind == "formula_without_value":
        set_cell(sub, ind, year, Formula(year - 1, 1.08), None, kind, kind)
    elif kind in ("indicator_name_mismatch", "unit_mismatch"):  # the whole row is rejected
        if kind == "unit_mismatch":
            sub.units[ind] = "吨"
        else:
            sub.names[ind] = "城镇登记失业人数"
        for y in sub.years:
            set_cell(sub, ind, y, truth[ind][y], None, kind, kind)
    elif kind == "missing_markers":
        keys = ctx.rng.sample(sorted(sub.accepted), 5)
        for (i, y), marker in zip(keys, [None, "—", "/", "无", "NA"], strict=True):
            set_cell(sub, i, y, marker, None, kind, "missing")
    elif kind == "row_shift":
        set_cell(sub, ind, sub.years[0], None, None, kind, "missing")
        for y in sub.years[1:]:  # each value one year late: loaded, or revised against the values in force
            sub.cells[ind][y] = truth[ind][y - 1]
            sub.accepted[(ind, y)] = float(truth[ind][y - 1])
            sub.tracked.add((ind, y))
        sub.revision_kind = kind
    elif kind == "extra_year_column":
        sub.years.append(sub.round)
        for i in sub.cells:
            set_cell(sub, i, sub.round, truth[i].get(sub.round, truth[i][sub.round - 1]), None, kind,
                     "year_out_of_range")
            sub.accepted.pop((i, sub.round))
    elif kind == "zone_name_mismatch":
        sub.layout.shown_name = sub.zone.name[len(PROVINCES[sub.zone.province_code][0]):] + "可持续发展实验区"
        add_entry(sub, kind, kind, raw=sub.layout.shown_name)
    elif kind == "identified_by_name":
        sub.layout.show_code = False
        add_entry(sub, kind, "loaded")
    else:
        _inject_file_error(sub, kind)


def _inject_file_error(sub: Submission, kind: str) -> None:
    """Errors that reject the whole file."""
    if kind == "zone_not_identified":
        sub.layout.show_code, sub.layout.shown_name = False, ""
        sub.file_name = f"实验区监测数据_{sub.round}年第{cn_number(sub.batch)}批.xlsx"
    elif kind == "no_data_sheet":
        sub.layout.name_header = "指标"
    elif kind == "unreadable_file":
        sub.truncate = True
    elif kind == "bad_header":
        sub.csv_header = ("代码", "指标", "年份", "数值", "单位", "备注")
    else:
        raise ValueError(f"unknown injection {kind}")
    sub.file_reason = kind
    sub.accepted = dict.fromkeys(sub.accepted)
    add_entry(sub, kind, kind)


LAYOUT_VARIANTS = ("year_text", "year_nian", "columns_reordered", "no_level_columns", "rows_shuffled",
                   "unit_in_name", "two_level_header", "code_in_one_cell", "instructions_first")


def apply_layout(ctx: Context, sub: Submission, variant: str) -> None:
    """One of the header variants the contract accepts; recorded as loaded without problems."""
    lay = sub.layout
    if variant in ("year_text", "year_nian"):
        lay.year_style = variant[5:]
    elif variant == "columns_reordered":
        lay.columns = ("seq", "name", "unit", "level1", "level2", "note", "years")
    elif variant == "no_level_columns":
        lay.columns = ("seq", "name", "unit", "years", "note")
    elif variant == "rows_shuffled":
        order = sorted(sub.cells)
        ctx.rng.shuffle(order)
        lay.row_order = tuple(order)
    else:
        setattr(lay, variant, True)
    add_entry(sub, f"layout_{variant}", "loaded")


# --- rendering -----------------------------------------------------------------------------------------------------

def workbook_bytes(wb: Workbook) -> bytes:
    """Save a workbook with fixed document properties and zip times: same input, same bytes."""
    return reproducible_bytes(wb, "sdz synthetic demo", FIXED_TIME)


def _year_label(year: int, style: str) -> Any:
    return {"number": year, "text": str(year), "nian": f"{year}年"}[style]


def render_workbook(sub: Submission) -> tuple[bytes, str, dict[tuple[int, int], str]]:
    """The office's template filled from `sub`: bytes, data sheet name and cell of each (indicator, year)."""
    catalogue, lay = load_catalogue(), sub.layout
    wb = Workbook()
    ws = wb.active
    if lay.instructions_first:
        ws.title = "填表说明"
        for row, line in enumerate(INSTRUCTIONS, 1):
            ws.cell(row, 1, line)
        ws = wb.create_sheet(SHEET)
    else:
        ws.title = SHEET
    columns = [c for key in lay.columns for c in (sub.years if key == "years" else [key])]
    col = {key: i for i, key in enumerate(columns, 1)}
    ws.cell(1, 1, TITLE.format(round=sub.round)).font = Font(bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    if lay.show_code:
        ws.cell(3, 1, f"实验区代码：{sub.zone.code}" if lay.code_in_one_cell else "实验区代码")
        if not lay.code_in_one_cell:
            ws.cell(3, 2, sub.zone.code)
    shown = sub.zone.name if lay.shown_name is None else lay.shown_name
    if shown:
        ws.cell(3, 4, "实验区名称")
        ws.cell(3, 5, shown)
    labels = {"seq": "序号", "level1": "一级指标", "level2": "二级指标", "name": lay.name_header, "unit": "单位",
              "note": "备注"}
    for key, c in col.items():
        text = labels.get(key) if isinstance(key, str) else _year_label(key, lay.year_style)
        if lay.two_level_header and isinstance(key, int):
            ws.cell(6, c, text).font = Font(bold=True)
            text = "年份" if key == sub.years[0] else None
        if text is not None:
            ws.cell(5, c, text).font = Font(bold=True)
    if lay.two_level_header:
        ws.merge_cells(start_row=5, start_column=col[sub.years[0]], end_row=5, end_column=col[sub.years[-1]])
    first = 7 if lay.two_level_header else 6
    order = lay.row_order or tuple(sorted(sub.cells))
    rows = {ind: first + k for k, ind in enumerate(order)}
    coords = {(i, y): f"{get_column_letter(col[y])}{rows[i]}" for i in order for y in sub.years}
    for ind in order:
        info = catalogue.indicators[ind]
        unit = sub.units.get(ind, info.unit)
        name = sub.names.get(ind, info.name_zh) + (f"（{unit}）" if lay.unit_in_name else "")
        fixed = {"seq": ind, "level1": info.level1_zh, "level2": info.level2_zh, "name": name, "unit": unit}
        for key, value in fixed.items():
            if key in col:
                ws.cell(rows[ind], col[key], value)
        for year in sub.years:
            value = sub.cells[ind][year]
            if isinstance(value, Formula):
                value = _cell_text(value, ind, coords)
            if value is not None:
                ws.cell(rows[ind], col[year], value)
    footer = first + len(order) + 1
    ws.cell(footer, 1, "填报人：")
    ws.cell(footer, 5, "联系电话：")
    ws.cell(footer + 1, 1, f"填报日期：{sub.round}年{6 if sub.batch == 1 else 9}月")
    ws.column_dimensions[get_column_letter(col["name"])].width = 36
    return workbook_bytes(wb), SHEET, coords


def _cell_text(value: Any, ind: int, coords: dict[tuple[int, int], str]) -> str:
    """A cell as the manifest shows it: formulas with their reference, blanks as ''."""
    if isinstance(value, Formula):
        return f"={coords[(ind, value.ref_year)]}*{value.factor}"
    return "" if value is None else str(value)


def render_csv(sub: Submission) -> tuple[bytes, dict[tuple[int, int], str]]:
    """A long CSV of `sub` in its encoding; blank cells give no line. Line numbers count the header as line 1."""
    catalogue = load_catalogue()
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(sub.csv_header)
    width, line, coords = len(sub.csv_header), 1, {}
    for ind in sorted(sub.cells):
        for year in sub.years:
            value = sub.cells[ind][year]
            if value is None:
                continue
            note = "初步统计" if year == sub.years[-1] else ""
            unit = sub.units.get(ind, catalogue.indicators[ind].unit)
            writer.writerow([sub.zone.code, ind, year, value, unit, note][:width])
            line += 1
            coords[(ind, year)] = f"line {line}"
    for row, entry in sub.extra_lines:
        writer.writerow(row[:width])
        line += 1
        entry["cell"] = f"line {line}"
    return buf.getvalue().encode(sub.encoding), coords


def track_revisions(ctx: Context, subs: list[Submission]) -> None:
    """Apply precedence to the accepted values of one batch; record `revised` where a value in force changes."""
    candidates: dict[tuple[str, int, int], list[tuple[float, Submission]]] = {}
    for sub in subs:
        if sub.file_reason is None:
            for (ind, year), value in sorted(sub.accepted.items()):
                if value is not None:
                    candidates.setdefault((sub.zone.code, ind, year), []).append((value, sub))
    for key in sorted(candidates):
        values = candidates[key]
        if len({round(v, 6) for v, _ in values}) > 1:
            continue  # conflicting_duplicate: recorded where injected, the earlier value stays in force
        value, sub = values[0]
        old = ctx.in_force.get(key)
        if old is not None and abs(old - value) > 1e-9 * max(abs(old), 1.0):
            entry = add_entry(sub, sub.revision_kind, "revised", key[1], key[2], sub.cells[key[1]][key[2]], value)
            entry["previous_value"] = old
        elif key[1:] in sub.tracked:
            add_entry(sub, sub.revision_kind, "loaded", key[1], key[2], sub.cells[key[1]][key[2]], value)
        ctx.in_force[key] = value


def finish_batch(ctx: Context, rnd: int, batch: int, subs: list[Submission]) -> None:
    """Track precedence, render every file, and move the entries with their cells into the manifest."""
    track_revisions(ctx, subs)
    ctx.submitters[f"{rnd}/batch-{batch}"] = {sub.zone.code for sub in subs}
    for sub in subs:
        if sub.fmt == "csv":
            data, coords = render_csv(sub)
            sheet = None
        else:
            data, sheet, coords = render_workbook(sub)
        ctx.files[sub.path] = data[: len(data) // 2] if sub.truncate else data
        for entry in sub.entries:
            key = (entry["indicator"], entry["year"])
            if key in coords and entry["cell"] is None:
                entry["sheet"], entry["cell"] = sheet, coords[key]
                entry["raw_value"] = _cell_text(sub.cells[key[0]][key[1]], key[0], coords)
        ctx.entries.extend(sub.entries)
        for copy in sub.copies:
            add_file(ctx, f"{rnd}/batch-{batch}/{copy}", data, "byte_identical_copy", "duplicate", sub.zone.code)


def add_file(ctx: Context, path: str, data: bytes, kind: str, expected: str, zone_code: str | None = None) -> None:
    """A file outside the template (copies, documents, lock files) with its manifest entry."""
    ctx.files[path] = data
    rnd, batch, _ = path.split("/", 2)
    ctx.entries.append({"round": int(rnd), "batch": int(batch[-1]), "file": path, "zone_code": zone_code,
                        "indicator": None, "year": None, "sheet": None, "cell": None, "kind": kind,
                        "expected": expected, "raw_value": None, "expected_value": None})


# --- the batches ---------------------------------------------------------------------------------------------------

ERRORS_2014 = (("yuan_for_wanyuan", 1), ("wanyuan_times_10000", 1), ("percent_as_fraction", 2),
               ("permille_as_percent", 9), ("missing_markers", None), ("thousands_separator_text", 7),
               ("fullwidth_digits_text", 12), ("percent_sign_text", 5), ("row_shift", 8), ("jump_x5", 6),
               ("not_a_number", 4), ("negative_value", 8), ("out_of_range", 16), ("extra_year_column", None),
               ("indicator_name_mismatch", 10), ("unit_mismatch", 1), ("formula_without_value", 8),
               ("zone_name_mismatch", None), ("identified_by_name", None), ("zone_not_identified", None),
               ("no_data_sheet", None), ("unreadable_file", None))
ERRORS_2015 = (("extra_year_column", None), ("missing_markers", None), ("not_a_number", 4),
               ("wanyuan_times_10000", 12), ("negative_value", 13), ("out_of_range", 9), ("fullwidth_digits_text", 7),
               ("wan_yuan_per_capita", 7), ("row_shift", 3), ("zone_name_mismatch", None))
# How a zone answers a batch-1 problem in batch 2; problems not listed need no answer, or get none (negative_value).
FIXES = {"wanyuan_times_10000": "cells", "percent_as_fraction": "full", "missing_markers": "cells", "row_shift": "row",
         "jump_x5": "cells", "not_a_number": "unfixed", "out_of_range": "cells", "indicator_name_mismatch": "row",
         "unit_mismatch": "full", "formula_without_value": "cells", "zone_not_identified": "full",
         "no_data_sheet": "full", "unreadable_file": "full", "bad_header": "full", "conflicting_duplicate": "cells"}
FILE_REASONS = ("zone_not_identified", "no_data_sheet", "unreadable_file", "bad_header")
CSV_ENCODINGS = ("utf-8", "gb18030", "utf-8-sig", "gb18030")


def _wrong_keys(ctx: Context, sub: Submission) -> list[tuple[int, int]]:
    """The (indicator, year) cells of the round whose accepted value is not the true one."""
    truth = ctx.truth[sub.zone.code]
    return sorted(k for k, v in sub.accepted.items() if k[1] < sub.round and (v is None or v != truth[k[0]][k[1]]))


def _csv_submission(ctx: Context, zone: Zone, rnd: int, batch: int, k: int, keys=None) -> Submission:
    """A long CSV; the k-th CSV of a batch gets the k-th encoding (UTF-8, GB18030, UTF-8 with BOM, GB18030)."""
    sub = new_submission(ctx, zone, rnd, batch, "csv", keys)
    sub.encoding = CSV_ENCODINGS[k % len(CSV_ENCODINGS)]
    if sub.encoding != "utf-8":
        add_entry(sub, f"csv_encoding_{sub.encoding}", "loaded")
    return sub


def _csv_variant(ctx: Context, sub: Submission, k: int) -> None:
    """The CSV problems of the 2014 first batch, one per file."""
    year = _inner_year(ctx, sub)
    if k == 0:
        _inject_file_error(sub, "bad_header")
        ctx.issues[sub.zone.code] = ("bad_header", _wrong_keys(ctx, sub), "csv")
    elif k == 1:
        codes = {z.code for z in ctx.zones}
        typo = sub.zone.code[:4] + sub.zone.code[5] + sub.zone.code[4]
        typo = typo if typo not in codes else f"{sub.zone.province_code}9999"
        unknown = add_entry(sub, "unknown_zone_line", "unknown_zone", 3, year, "12.5")
        unknown["zone_code"] = typo
        sub.extra_lines.append(([typo, "3", str(year), "12.5", "件/万人", ""], unknown))
        wrong = add_entry(sub, "indicator_17_line", "unknown_indicator", 17, year, "88")
        sub.extra_lines.append(([sub.zone.code, "17", str(year), "88", "", ""], wrong))
    elif k == 2:
        set_cell(sub, 6, year, "NA", None, "missing_marker_csv", "missing")
        value = ctx.truth[sub.zone.code][7][year]
        set_cell(sub, 7, year, f"{value:,}", float(value), "thousands_separator_csv", "converted")
    elif k == 3:
        sub.csv_header = CSV_HEADER[:4]
        add_entry(sub, "csv_without_unit_note", "loaded")


def _conflict_pair(ctx: Context, zone: Zone) -> list[Submission]:
    """A workbook and a CSV of one zone in one batch: equal overlapping values and one conflicting value."""
    workbook = new_submission(ctx, zone, 2014, 1)
    keys = {(i, y) for i in (7, 8) for y in workbook.years}
    sheet = new_submission(ctx, zone, 2014, 1, "csv", keys)
    year = _inner_year(ctx, workbook)
    true = ctx.truth[zone.code][8][year]
    set_cell(workbook, 8, year, true, None, "conflicting_values", "conflicting_duplicate")
    set_cell(sheet, 8, year, int(round(true * 1.1)) + 1, None, "conflicting_values", "conflicting_duplicate")
    add_entry(sheet, "equal_overlap", "loaded")
    ctx.issues[zone.code] = ("conflicting_duplicate", [(8, year)], "csv")
    return [workbook, sheet]


def plan_2014_batch1(ctx: Context) -> tuple[list[Submission], list[Zone]]:
    """Round 2014, first batch: 145 of 157 zones submit; returns the files and the zones that did not."""
    order = [z for z in ctx.zones if z.removed_year is None]
    ctx.rng.shuffle(order)
    absent, csv_zones, wb_zones = order[:12], order[12:24], order[24:]
    subs = []
    n_err, n_layout = len(ERRORS_2014), 2 * len(LAYOUT_VARIANTS)
    for k, zone in enumerate(wb_zones[:-1]):
        sub = new_submission(ctx, zone, 2014, 1)
        if k < n_err:
            inject(ctx, sub, *ERRORS_2014[k])
            ctx.issues[zone.code] = (ERRORS_2014[k][0], _wrong_keys(ctx, sub), "xlsx")
        elif k < n_err + n_layout:
            apply_layout(ctx, sub, LAYOUT_VARIANTS[(k - n_err) % len(LAYOUT_VARIANTS)])
        elif k == n_err + n_layout:
            sub.copies.append(sub.file_name.replace(".xlsx", "_副本.xlsx"))
        subs.append(sub)
    subs += _conflict_pair(ctx, wb_zones[-1])
    for k, zone in enumerate(csv_zones):
        sub = _csv_submission(ctx, zone, 2014, 1, k)
        _csv_variant(ctx, sub, k)
        subs.append(sub)
    removed = next(z for z in ctx.zones if z.removed_year)
    subs.append(new_submission(ctx, removed, 2014, 1))
    add_entry(subs[-1], "removed_zone_submission", "zone_not_expected")
    finish_batch(ctx, 2014, 1, subs)
    add_file(ctx, "2014/batch-1/说明.docx", b"synthetic demo: a covering note, not a real document\n",
             "document_file", "unsupported_file_type")
    add_file(ctx, "2014/batch-1/~$temp.xlsx", b"\x0bdemo steward" + bytes(149), "office_lock_file", "ignored")
    add_file(ctx, "2014/batch-1/.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(24), "macos_metadata", "ignored")
    return subs, absent


def _correction(ctx: Context, zone: Zone, kind: str, keys: list[tuple[int, int]], fmt: str) -> Submission | None:
    """The batch-2 answer of a zone to its batch-1 problem (None when the zone does not answer)."""
    mode = FIXES.get(kind)
    if mode is None:
        return None
    if mode == "row":
        keys = [(i, y) for i in sorted({k[0] for k in keys}) for y in range(FIRST_YEAR, 2014)]
    sub = (new_submission(ctx, zone, 2014, 2, fmt) if mode == "full"
           else new_submission(ctx, zone, 2014, 2, fmt, set(keys)))
    sub.tracked = set(keys)
    if kind in FILE_REASONS:
        sub.tracked = set()
        add_entry(sub, "resubmission", "loaded")
    if mode == "unfixed":
        for ind, year in keys:
            set_cell(sub, ind, year, "待核实", None, "unfixed_not_a_number", "not_a_number")
    return sub


def _revise_truth(ctx: Context, zone: Zone, ind: int, year: int) -> None:
    """A genuine revision: the zone's true value changes from now on."""
    old = ctx.truth[zone.code][ind][year]
    new = int(round(old * 1.03)) + 1 if isinstance(old, int) else round(old * 1.03 + 0.01, 2)
    ctx.truth[zone.code][ind][year] = new


def plan_2014_batch2(ctx: Context, batch1: list[Submission], absent: list[Zone]) -> None:
    """Round 2014, supplementary batch: late submissions, corrections, a few genuine revisions."""
    subs = [new_submission(ctx, zone, 2014, 2) for zone in absent[:8]]
    subs.append(_csv_submission(ctx, absent[8], 2014, 2, 1))
    for zone in ctx.zones:
        if zone.code in ctx.issues:
            answer = _correction(ctx, zone, *ctx.issues[zone.code])
            subs += [answer] if answer else []
    clean = [s.zone for s in batch1 if s.fmt == "xlsx" and not s.entries and not s.copies]
    for k, zone in enumerate(clean[-4:]):
        ind, year = ctx.rng.choice((3, 5, 8, 13)), ctx.rng.choice((2011, 2012, 2013))
        _revise_truth(ctx, zone, ind, year)
        sub = new_submission(ctx, zone, 2014, 2, keys={(ind, year)} if k < 2 else None)
        sub.revision_kind, sub.tracked = "genuine_revision", {(ind, year)}
        subs.append(sub)
    finish_batch(ctx, 2014, 2, subs)
    add_file(ctx, "2014/batch-2/补报说明.pdf", b"%PDF-1.4\n% synthetic demo placeholder, not a real document\n%%EOF\n",
             "document_file", "unsupported_file_type")


def plan_2015_batch1(ctx: Context) -> None:
    """Round 2015, first batch (years 2009-2014): 150 zones, a few revisions of 2012-2013, a handful of errors."""
    order = [z for z in ctx.zones if z.removed_year is None]
    ctx.rng.shuffle(order)
    csv_zones, wb_zones = order[7:17], order[17:]
    subs = []
    for k, zone in enumerate(wb_zones):
        if k < 5:
            _revise_truth(ctx, zone, ctx.rng.choice((1, 6, 7, 12, 14)), ctx.rng.choice((2012, 2013)))
        sub = new_submission(ctx, zone, 2015, 1)
        if k < 5:
            sub.revision_kind = "genuine_revision"
        elif k < 5 + len(ERRORS_2015):
            inject(ctx, sub, *ERRORS_2015[k - 5])
        elif k < 5 + len(ERRORS_2015) + len(LAYOUT_VARIANTS):
            apply_layout(ctx, sub, LAYOUT_VARIANTS[k - 5 - len(ERRORS_2015)])
        subs.append(sub)
    for k, zone in enumerate(csv_zones):
        subs.append(_csv_submission(ctx, zone, 2015, 1, k))
    late = subs[-1]
    value = ctx.truth[late.zone.code][7][2014]
    entry = add_entry(late, "year_2015_line", "year_out_of_range", 7, 2015, value)
    late.extra_lines.append(([late.zone.code, "7", "2015", str(value), "元/人", "预计"], entry))
    finish_batch(ctx, 2015, 1, subs)


# --- the folder ----------------------------------------------------------------------------------------------------

README = """# SYNTHETIC DEMO DATA — 合成演示数据

Everything in this folder was generated by `pipelines/demo.py` (seed {seed}). It is **not** real
monitoring data: the zone names (…演示一县) and every value are invented; only the composition of the
registry (157 zones in 30 provinces, 76/55/26 by region, 77/51/23/6 by type, two special zones, three
removed zones) follows the programme office's 2014 report.

- `reference/zones.csv` — the registry; `2014/batch-1`, `2014/batch-2`, `2015/batch-1` — submissions.
- Typical submission errors are injected on purpose. `demo_manifest.json` lists each one with its
  file, zone, indicator, year, sheet and cell (`line N` for CSVs, the header being line 1) and the
  reason code the pipeline should produce (`converted`, `missing`, `loaded`, `ignored` where nothing is
  rejected).
- Regenerate with `python -m pipelines.demo DIR`. The generator only writes into an empty folder or a
  folder holding this README, which it clears first: never put real submissions here.
"""


def prepare_directory(raw_dir: Path) -> None:
    """Refuse a folder with files unless it is an earlier demo folder; clear that one."""
    if raw_dir.exists() and not raw_dir.is_dir():
        raise ValueError(f"{raw_dir} is not a directory")
    if raw_dir.is_dir() and any(raw_dir.iterdir()):
        if not (raw_dir / README_NAME).is_file():
            raise ValueError(f"{raw_dir} already holds files and no {README_NAME}: refusing to write demo data there")
        for child in sorted(raw_dir.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    raw_dir.mkdir(parents=True, exist_ok=True)


def _count(items) -> dict[str, int]:
    return dict(sorted(Counter(items).items()))


def summarise(ctx: Context, seed: int) -> dict:
    """Counts of zones, files per batch and injected errors by kind and by expected reason."""
    active = [z for z in ctx.zones if z.removed_year is None]
    batches: dict[str, Counter] = {}
    for path in ctx.files:
        if path.startswith("reference/"):
            continue
        folder, name = path.rsplit("/", 1)
        suffix = name.rsplit(".", 1)[-1]
        kind = "ignored" if name.startswith((".", "~$")) else {"xlsx": "workbooks", "csv": "csv"}.get(suffix, "other")
        batches.setdefault(folder, Counter())[kind] += 1
    return {
        "seed": seed,
        "zones": {"active": len(active), "removed": len(ctx.zones) - len(active),
                  "provinces": len({z.province_code for z in active}),
                  "by_region": dict(sorted(Counter(z.region for z in active).items())),
                  "by_type": dict(sorted(Counter(z.zone_type for z in active).items())),
                  "type_evaluation_false": sum(not z.type_evaluation for z in active)},
        "batches": {folder: {**dict(sorted(counts.items())), "files": sum(counts.values()),
                             "zones_submitting": len(ctx.submitters[folder])} for folder, counts in batches.items()},
        "injected": _count(e["kind"] for e in ctx.entries if not e["kind"].startswith("layout_")),
        "layout_variants": _count(e["kind"] for e in ctx.entries if e["kind"].startswith("layout_")),
        "expected": _count(e["expected"] for e in ctx.entries),
        "manifest_entries": len(ctx.entries),
    }


def generate_demo(raw_dir: Path, seed: int = 2014) -> dict:
    """Write a complete synthetic raw folder into `raw_dir` and return a summary of what was written.

    Raises ValueError when `raw_dir` holds files but no SYNTHETIC_DEMO_README.md.
    """
    raw_dir = Path(raw_dir)
    prepare_directory(raw_dir)
    (raw_dir / README_NAME).write_text(README.format(seed=seed), encoding="utf-8")
    rng = random.Random(seed)
    zones = build_registry(rng)
    ctx = Context(rng, zones, build_series(zones, rng))
    ctx.files["reference/zones.csv"] = registry_csv(zones)
    batch1, absent = plan_2014_batch1(ctx)
    plan_2014_batch2(ctx, batch1, absent)
    plan_2015_batch1(ctx)
    for rel, data in ctx.files.items():
        path = raw_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    manifest = {"synthetic": True, "generator": "pipelines.demo", "seed": seed, "entries": ctx.entries}
    (raw_dir / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return summarise(ctx, seed)


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.demo OUT_DIR [--seed N]`: write the demo raw folder and print its summary."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (empty, or an earlier demo folder)")
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args(argv)
    try:
        summary = generate_demo(args.out_dir, seed=args.seed)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
