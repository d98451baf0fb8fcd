"""The demo's files: one zone's submission as written, the errors injected into it, and its rendering
as a workbook in the office's template or as a long CSV. Part of the demo generator (`pipelines.demo.generate`).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.demo.zones import FIRST_YEAR, PROVINCES, Zone, cn_number
from pipelines.publish.spreadsheets import csv_field, reproducible_bytes, write_text
from schemas.catalogue import load_catalogue
from schemas.template import YEARS, load_template

FIXED_TIME = datetime(2014, 6, 30, 9, 0, 0)
DEMO_MARK = "【合成演示数据 synthetic demo】"  # after the template's title
CSV_HEADER = ("zone_code", "indicator", "year", "value", "unit", "note")
INSTRUCTIONS = ("填表说明（合成演示数据 synthetic demo）", "1. 请按序号逐项填写各年度数据，金额单位为万元。",
                "2. 未获得的数据请填“—”。", "3. 请勿修改序号、单位和表头。")


@dataclass
class Formula:
    """A formula `=<cell of ref_year>*factor`, written by openpyxl without a cached value."""

    ref_year: int
    factor: float


@dataclass
class Layout:
    """How a workbook is laid out: the office's template and the variants zones make of it."""

    year_style: str = "number"  # number | text ("2009") | nian ("2009年")
    columns: tuple[str, ...] = field(default_factory=lambda: load_template().column_keys)
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


def inner_year(ctx: Context, sub: Submission) -> int:
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
    """Apply one typical submission error (README: "Value rules") to indicator `ind` (if it needs one)."""
    year = inner_year(ctx, sub)
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
        inject_file_error(sub, kind)


def inject_file_error(sub: Submission, kind: str) -> None:
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
    """One of the header variants the reader accepts; recorded as loaded without problems."""
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
    """The office's template (`schemas/template.yaml`) filled from `sub`: bytes, data sheet name and cell
    of each (indicator, year)."""
    catalogue, lay, template = load_catalogue(), sub.layout, load_template()
    wb = Workbook()
    ws = wb.active
    if lay.instructions_first:
        ws.title = template.instructions_sheet
        for row, line in enumerate(INSTRUCTIONS, 1):
            _write(ws, row, 1, line)
        ws = wb.create_sheet(template.data_sheet)
    else:
        ws.title = template.data_sheet
    columns = [c for key in lay.columns for c in (sub.years if key == YEARS else [key])]
    col = {key: i for i, key in enumerate(columns, 1)}
    _write(ws, 1, 1, template.title.format(round=sub.round) + DEMO_MARK, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    zone_row, code, name = template.zone_row, template.code, template.name
    if lay.show_code:
        if lay.code_in_one_cell:
            _write(ws, zone_row, code.label_column, f"{code.label}：{sub.zone.code}")
        else:
            _write(ws, zone_row, code.label_column, code.label)
            _write(ws, zone_row, code.value_column, sub.zone.code)
    shown = sub.zone.name if lay.shown_name is None else lay.shown_name
    if shown:
        _write(ws, zone_row, name.label_column, name.label)
        _write(ws, zone_row, name.value_column, shown)
    labels = {column.key: column.label for column in template.columns} | {"name": lay.name_header}
    header = template.header_row
    for key, c in col.items():
        text = labels.get(key) if isinstance(key, str) else _year_label(key, lay.year_style)
        if lay.two_level_header and isinstance(key, int):
            _write(ws, header + 1, c, text, bold=True)
            text = template.years_label if key == sub.years[0] else None
        if text is not None:
            _write(ws, header, c, text, bold=True)
    if lay.two_level_header:
        ws.merge_cells(start_row=header, start_column=col[sub.years[0]], end_row=header, end_column=col[sub.years[-1]])
    first = template.first_data_row(lay.two_level_header)
    order = lay.row_order or tuple(sorted(sub.cells))
    rows = {ind: first + k for k, ind in enumerate(order)}
    coords = {(i, y): f"{get_column_letter(col[y])}{rows[i]}" for i in order for y in sub.years}
    for ind in order:
        info = catalogue.indicators[ind]
        unit = sub.units.get(ind, info.unit)
        fixed = template.indicator_cells(info) | {"unit": unit}
        fixed["name"] = sub.names.get(ind, info.name_zh) + (f"（{unit}）" if lay.unit_in_name else "")
        for key, value in fixed.items():
            if key in col:
                _write(ws, rows[ind], col[key], value)
        for year in sub.years:
            value = sub.cells[ind][year]
            if isinstance(value, Formula):  # on purpose: openpyxl stores "=…" as a formula without a cached value
                ws.cell(rows[ind], col[year], _cell_text(value, ind, coords))
            else:
                _write(ws, rows[ind], col[year], value)
    month = 6 if sub.batch == 1 else 9
    for row, cells in enumerate(template.footer_rows(sub.round, month), start=first + len(order) + 1):
        for column, text in enumerate(cells, start=1):
            _write(ws, row, column, text)
    for column in template.columns:
        if column.width and column.key in col:
            ws.column_dimensions[get_column_letter(col[column.key])].width = column.width
    return workbook_bytes(wb), template.data_sheet, coords


def _write(ws: Worksheet, row: int, column: int, value: Any, bold: bool = False) -> None:
    """A cell (1-based): a number as a number, anything else as text; nothing for None or ''."""
    if isinstance(value, (int, float)):
        cell = ws.cell(row, column, value)
        if bold:
            cell.font = Font(bold=True)
    else:
        write_text(ws, row - 1, column - 1, value, Font(bold=True) if bold else None)


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
    writer.writerow([csv_field(name) for name in sub.csv_header])
    width, line, coords = len(sub.csv_header), 1, {}
    for ind in sorted(sub.cells):
        for year in sub.years:
            value = sub.cells[ind][year]
            if value is None:
                continue
            note = "初步统计" if year == sub.years[-1] else ""
            unit = sub.units.get(ind, catalogue.indicators[ind].unit)
            writer.writerow([csv_field(field) for field in [sub.zone.code, ind, year, value, unit, note][:width]])
            line += 1
            coords[(ind, year)] = f"line {line}"
    for row, entry in sub.extra_lines:
        writer.writerow([csv_field(field) for field in row[:width]])
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
