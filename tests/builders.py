"""Helpers that write test fixtures in the shapes the README documents (raw folder, registry, workbook, CSV).

* `write_registry` writes `raw/reference/zones.csv` (by default six zones of every type and
  region, one left out of the by-type evaluation and one removed before the 2014 round);
* `write_workbook` writes one zone's workbook in the office's template (`schemas/template.yaml`:
  title, 实验区代码 / 实验区名称 in row 3, header in row 5, values from F6), with options for
  every workbook variant the README lists;
* `write_csv` writes a long CSV in a chosen encoding;
* `plausible_values` gives a clean 16 x 5 series that raises no flag.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import openpyxl
import xlwt

from schemas.catalogue import load_catalogue
from schemas.template import YEARS, load_template

CATALOGUE = load_catalogue()
TEMPLATE = load_template()
YEARS_2014 = range(2009, 2014)

KUNSHAN = "320583"  # 江苏省苏州市昆山市, the shared example's workbook
HUALONG = "410902"  # 河南省濮阳市华龙区, the shared example's CSV
CHENGDU = "510100"
FOTANG = "33078A"
DELTA = "370500"  # type_evaluation false, like the two special zones of the seed
CHENGGUAN = "620102"  # removed in 2013: not expected in the 2014 round

DEFAULT_ZONES: list[dict[str, str]] = [
    {"zone_code": KUNSHAN, "zone_name": "江苏省苏州市昆山市", "province_code": "32", "zone_type": "county",
     "type_evaluation": "true", "designated_year": "2009", "removed_year": ""},
    {"zone_code": HUALONG, "zone_name": "河南省濮阳市华龙区", "province_code": "41", "zone_type": "district",
     "type_evaluation": "true", "designated_year": "2009", "removed_year": ""},
    {"zone_code": CHENGDU, "zone_name": "四川省成都市", "province_code": "51", "zone_type": "prefecture",
     "type_evaluation": "true", "designated_year": "2008", "removed_year": ""},
    {"zone_code": FOTANG, "zone_name": "浙江省金华市义乌市佛堂镇", "province_code": "33", "zone_type": "township",
     "type_evaluation": "true", "designated_year": "2010", "removed_year": ""},
    {"zone_code": DELTA, "zone_name": "山东省黄河三角洲", "province_code": "37", "zone_type": "prefecture",
     "type_evaluation": "false", "designated_year": "2009", "removed_year": ""},
    {"zone_code": CHENGGUAN, "zone_name": "甘肃省兰州市城关区", "province_code": "62", "zone_type": "district",
     "type_evaluation": "true", "designated_year": "2009", "removed_year": "2013"},
]
ZONE_NAMES = {zone["zone_code"]: zone["zone_name"] for zone in DEFAULT_ZONES}

CSV_HEADER = ("zone_code", "indicator", "year", "value", "unit", "note")

YEAR_STYLES = ("number", "text", "text_nian")
CODE_STYLES = ("next_cell", "gap", "one_cell", "one_cell_ascii", "number")


def write_registry(raw_dir: Path, zones: Sequence[Mapping[str, str]] = DEFAULT_ZONES) -> Path:
    """Write `raw_dir/reference/zones.csv` (UTF-8); the header is the union of the zones' keys."""
    path = Path(raw_dir) / "reference" / "zones.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    header: list[str] = []
    for zone in zones:
        header += [key for key in zone if key not in header]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(zones)
    return path


def batch_dir(raw_dir: Path, round_year: int = 2014, batch: int = 1) -> Path:
    """`raw_dir/<round>/batch-N/`, created."""
    path = Path(raw_dir) / str(round_year) / f"batch-{batch}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def plausible_values(zone_seed: int = 0, years: Iterable[int] = YEARS_2014) -> dict[int, dict[int, float]]:
    """A clean series for all 16 indicators: inside the catalogue's plausible range, changing by a
    few percent a year (no jump, no unit error), with at most two decimals. Different seeds give
    different levels."""
    years = list(years)
    series = {}
    for indicator in CATALOGUE.indicators.values():
        low, high = indicator.plausible
        position = 0.2 + 0.3 * (((zone_seed + 1) * 7919 + indicator.id * 104729) % 1000) / 1000
        base = low + (high - low) * position
        growth = 1.03 if indicator.direction == "higher" else 0.97
        series[indicator.id] = {year: round(base * growth ** (year - years[0]), 2) for year in years}
    return series


def write_workbook(
    path: Path,
    *,
    zone_code: str | None = KUNSHAN,
    zone_name: str | None = None,
    years: Iterable[int] = YEARS_2014,
    values: Mapping[int, Mapping[int, object]] | None = None,
    year_style: str = "number",
    two_level_header: bool = False,
    columns: Sequence[str] = TEMPLATE.column_keys,
    drop_level_columns: bool = False,
    rows: Sequence[int] | None = None,
    units: Mapping[int, str] | None = None,
    names: Mapping[int, str] | None = None,
    code_style: str = "next_cell",
    instructions_sheet: bool = False,
    sheet_name: str = TEMPLATE.data_sheet,
) -> Path:
    """Write one zone's workbook in the office's template; `.xlsx`/`.xlsm` with openpyxl, `.xls` with xlwt.

    zone_code / zone_name: None leaves the label out; "" prints the label with its cell left blank.
        zone_name defaults to the registry name of zone_code.
    values: {indicator: {year: number or text}}; default `plausible_values(0)`. A year left out of an
        indicator's dict is an empty cell. Text starting with "=" is written by openpyxl as a formula
        without a cached value (as openpyxl always does).
    year_style: "number" (2009), "text" ("2009") or "text_nian" ("2009年").
    two_level_header: the years stand in the row below the header row, under a merged 年份 cell.
    columns: order of the column groups "seq", "level1", "level2", "name", "unit", "years", "note".
    drop_level_columns: leave out 一级指标 and 二级指标.
    rows: indicator numbers in row order (default 1-16); an unknown number (17) gets a made-up name.
    units / names: per-indicator overrides of the unit and name cells.
    code_style: "next_cell" (the template: label, then the code in the next cell), "gap" (an empty
        cell between label and code), "one_cell" (实验区代码：320583), "one_cell_ascii"
        (实验区代码:320583) or "number" (the code as a numeric cell).
    instructions_sheet: put a 填表说明 sheet (with the word 指标名称 but no years) before the data sheet.
    """
    assert year_style in YEAR_STYLES and code_style in CODE_STYLES
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    years = list(years)
    values = plausible_values(0, years) if values is None else values
    if zone_name is None and zone_code:
        zone_name = ZONE_NAMES.get(zone_code, "")
    column_groups = [c for c in columns if not (drop_level_columns and c in ("level1", "level2"))]
    grid, merges = _template_grid(
        zone_code, zone_name, years, values, year_style, two_level_header, column_groups,
        list(rows) if rows is not None else list(CATALOGUE.indicators), units or {}, names or {}, code_style,
    )
    sheets = []
    if instructions_sheet:
        instructions = [[TEMPLATE.instructions_sheet], [TEMPLATE.label("name"), "请按模板中的指标名称和单位填写"],
                        [TEMPLATE.label("unit"), "见模板"]]
        sheets.append((TEMPLATE.instructions_sheet, instructions, []))
    sheets.append((sheet_name, grid, merges))
    if path.suffix.lower() == ".xls":
        _save_xls(path, sheets)
    else:
        _save_xlsx(path, sheets)
    return path


def _year_label(year: int, style: str) -> object:
    return {"number": year, "text": str(year), "text_nian": f"{year}年"}[style]


def _template_grid(zone_code, zone_name, years, values, year_style, two_level_header, column_groups, rows, units,
                   names, code_style):
    """The data sheet as rows of cell values (row 0 = Excel row 1) and merged ranges (r1, c1, r2, c2, 0-based)."""
    layout: list[tuple[str, int | None]] = []  # (group, year) per column
    for group in column_groups:
        layout += [(YEARS, year) for year in years] if group == YEARS else [(group, None)]
    width = max(len(layout), TEMPLATE.name.value_column + 1)
    header_index = TEMPLATE.header_row - 1
    grid: list[list[object]] = [["" for _ in range(width)] for _ in range(header_index)]
    merges = [(0, 0, 0, width - 1)]
    round_year = max(years, default=2013) + 1
    grid[0][0] = TEMPLATE.title.format(round=round_year)

    zone_row, code, name = grid[TEMPLATE.zone_row - 1], TEMPLATE.code, TEMPLATE.name
    if zone_code is not None:
        if code_style == "one_cell":
            zone_row[code.label_column - 1] = f"{code.label}：{zone_code}"
        elif code_style == "one_cell_ascii":
            zone_row[code.label_column - 1] = f"{code.label}:{zone_code}"
        else:
            zone_row[code.label_column - 1] = code.label
            code_cell = int(zone_code) if code_style == "number" and zone_code else zone_code
            zone_row[code.value_column - (0 if code_style == "gap" else 1)] = code_cell
    if zone_name is not None:
        zone_row[name.label_column - 1] = name.label
        zone_row[name.value_column - 1] = zone_name

    header = ["" if group == YEARS else TEMPLATE.label(group) for group, _ in layout]
    year_row = ["" for _ in layout]
    year_cols = [col for col, (group, _) in enumerate(layout) if group == YEARS]
    if two_level_header:
        if year_cols:
            header[year_cols[0]] = TEMPLATE.years_label
            merges.append((header_index, year_cols[0], header_index, year_cols[-1]))
        for col, (group, year) in enumerate(layout):
            if group == YEARS:
                year_row[col] = _year_label(year, year_style)
            else:
                merges.append((header_index, col, header_index + 1, col))
        grid += [header, year_row]
    else:
        for col in year_cols:
            header[col] = _year_label(layout[col][1], year_style)
        grid.append(header)

    for indicator_id in rows:
        indicator = CATALOGUE.indicators.get(indicator_id)
        cells = TEMPLATE.indicator_cells(indicator) if indicator else {
            "seq": indicator_id, "level1": "其他", "level2": "其他", "name": "其他指标", "unit": "", "note": ""}
        cells |= {"name": names.get(indicator_id, cells["name"]), "unit": units.get(indicator_id, cells["unit"])}
        series = values.get(indicator_id, {})
        grid.append([series.get(year, "") if group == YEARS else cells[group] for group, year in layout])
    grid += [[], *TEMPLATE.footer_rows(round_year, 6)]
    return grid, merges


def _save_xlsx(path: Path, sheets) -> None:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, grid, merges in sheets:
        sheet = workbook.create_sheet(name)
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value != "" and value is not None:
                    sheet.cell(row=r, column=c, value=value)
        for r1, c1, r2, c2 in merges:
            sheet.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
    workbook.save(path)


def _save_xls(path: Path, sheets) -> None:
    workbook = xlwt.Workbook(encoding="utf-8")
    for name, grid, merges in sheets:
        sheet = workbook.add_sheet(name)
        merged_away = {(r, c) for r1, c1, r2, c2 in merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                       if (r, c) != (r1, c1)}
        for r1, c1, r2, c2 in merges:
            sheet.write_merge(r1, r2, c1, c2, grid[r1][c1])
        starts = {(r1, c1) for r1, c1, _, _ in merges}
        for r, row in enumerate(grid):
            for c, value in enumerate(row):
                if (r, c) in merged_away or (r, c) in starts or value == "" or value is None:
                    continue
                sheet.write(r, c, value)
    workbook.save(str(path))


def write_csv(
    path: Path,
    rows: Iterable[Sequence[object] | None],
    *,
    encoding: str = "utf-8",
    header: Sequence[str] | None = CSV_HEADER,
) -> Path:
    """Write a long CSV. A row of None is a blank line; header=None writes no header line.

    encoding: "utf-8", "utf-8-sig" (with BOM) or "gb18030"."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    for row in rows:
        if row is None:
            text.write("\n")
        else:
            writer.writerow(["" if value is None else value for value in row])
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def long_rows(zone_code: str, values: Mapping[int, Mapping[int, object]]) -> list[tuple]:
    """CSV rows (zone_code, indicator, year, value, catalogue unit, note) of a values dict."""
    return [
        (zone_code, indicator_id, year, value, _unit_of(indicator_id), "")
        for indicator_id, series in values.items()
        for year, value in series.items()
    ]


def _unit_of(indicator_id: int) -> str:
    indicator = CATALOGUE.indicators.get(indicator_id)
    return indicator.unit if indicator else ""
