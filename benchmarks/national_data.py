"""Clean, valid submissions at national scale for the benchmark: N zones × 16 indicators × 31 years.

Round 2040 collects 2009-2039 (31 years). Each zone submits one long CSV and, separately, one
workbook in the office's template (`schemas/template.yaml`); both carry the same values. Workbooks
are written as minimal .xlsx parts by hand (inline strings, numbers): thousands of them in seconds,
byte-deterministic.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from pipelines.ingest.workbook_reader import column_letters
from schemas.catalogue import load_catalogue, load_provinces
from schemas.template import YEARS as YEAR_GROUP
from schemas.template import load_template

ROUND = 2040
YEARS = list(range(2009, ROUND))
TYPES = ["county", "district", "prefecture", "township"]

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def zone_codes(count: int) -> list[tuple[str, str]]:
    """(zone_code, province_code) for `count` zones spread over the provinces."""
    provinces = sorted(load_provinces())
    return [(f"{provinces[i % len(provinces)]}{i // len(provinces) + 1:04d}", provinces[i % len(provinces)])
            for i in range(count)]


def panel(count: int, seed: int = 2040) -> np.ndarray:
    """Values [zone, indicator, year] within each indicator's plausible range, trending smoothly."""
    rng = np.random.default_rng(seed)
    catalogue = load_catalogue()
    low = np.array([max(i.plausible[0], 0.01) for i in catalogue.indicators.values()])
    high = np.array([i.plausible[1] for i in catalogue.indicators.values()])
    start = low + (high - low) * rng.uniform(0.1, 0.5, size=(count, len(low)))
    growth = rng.uniform(-0.01, 0.03, size=(count, len(low)))
    years = np.arange(len(YEARS))
    values = start[:, :, None] * (1 + growth[:, :, None]) ** years[None, None, :]
    return np.round(np.minimum(values, high[None, :, None]), 2)


def write_registry(raw: Path, zones: list[tuple[str, str]]) -> None:
    lines = ["zone_code,zone_name,province_code,zone_type,type_evaluation,designated_year"]
    provinces = load_provinces()
    for index, (code, province) in enumerate(zones):
        lines.append(f"{code},{provinces[province]['name_zh']}基准{index + 1}区,{province},"
                     f"{TYPES[index % len(TYPES)]},true,2000")
    (raw / "reference").mkdir(parents=True, exist_ok=True)
    (raw / "reference" / "zones.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(path: Path, code: str, values: np.ndarray) -> None:
    units = [i.unit for i in load_catalogue().indicators.values()]
    rows = ["zone_code,indicator,year,value,unit"]
    for indicator in range(values.shape[0]):
        for column, year in enumerate(YEARS):
            rows.append(f"{code},{indicator + 1},{year},{values[indicator, column]:g},{units[indicator]}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _cell(ref: str, value: object) -> str:
    if isinstance(value, str):
        text = value.replace("&", "&amp;").replace("<", "&lt;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    return f'<c r="{ref}"><v>{value:g}</v></c>'


def template_rows(code: str, name: str, values: np.ndarray) -> list[list]:
    """One zone's data sheet in the office's template, as rows of cells ('' for an empty cell)."""
    template, catalogue = load_template(), load_catalogue()
    columns = [column for key in template.column_keys for column in (YEARS if key == YEAR_GROUP else [key])]
    rows: list[list] = [[] for _ in range(template.header_row - 1)]
    rows[0] = [template.title.format(round=ROUND) + "（基准测试）"]
    zone = [""] * max(template.code.value_column, template.name.value_column)
    for labelled, value in ((template.code, code), (template.name, name)):
        zone[labelled.label_column - 1], zone[labelled.value_column - 1] = labelled.label, value
    rows[template.zone_row - 1] = zone
    rows.append([column if isinstance(column, int) else template.label(column) for column in columns])
    for indicator_id, indicator in catalogue.indicators.items():
        cells = template.indicator_cells(indicator)
        series = values[indicator_id - 1].tolist()
        rows.append([series[column - YEARS[0]] if isinstance(column, int) else cells[column] for column in columns])
    return [*rows, [], *template.footer_rows(ROUND, 6)]


def write_workbook(path: Path, code: str, name: str, values: np.ndarray) -> None:
    xml_rows = []
    for row_number, row in enumerate(template_rows(code, name, values), start=1):
        cells = "".join(_cell(f"{column_letters(c)}{row_number}", v) for c, v in enumerate(row) if v != "")
        xml_rows.append(f'<row r="{row_number}">{cells}</row>')
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + "".join(xml_rows) + "</sheetData></worksheet>")
    workbook = WORKBOOK.format(sheet=load_template().data_sheet)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                           ("xl/worksheets/sheet1.xml", sheet)):
            info = zipfile.ZipInfo(part, date_time=(2040, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)


def generate(root: Path, zones: int, fmt: str) -> Path:
    """A raw folder at `root` with `zones` zones submitting `fmt` ('csv' or 'workbook') in 2040/batch-1."""
    raw = root / "raw"
    if (raw / ".complete").exists():
        return raw
    batch = raw / str(ROUND) / "batch-1"
    batch.mkdir(parents=True, exist_ok=True)
    codes = zone_codes(zones)
    write_registry(raw, codes)
    values = panel(zones)
    for index, (code, _province) in enumerate(codes):
        if fmt == "csv":
            write_csv(batch / f"{code}.csv", code, values[index])
        else:
            write_workbook(batch / f"{code}.xlsx", code, "", values[index])
    (raw / ".complete").write_text("")
    return raw


def write_supplementary(raw: Path, share: float, fmt: str) -> list[str]:
    """A batch-2 that resubmits `share` of the zones with revised values; returns their codes."""
    codes = [line.split(",")[0] for line in (raw / "reference" / "zones.csv").read_text().splitlines()[1:]]
    chosen = codes[:: max(1, round(1 / share))]
    values = panel(len(codes), seed=2041)
    batch = raw / str(ROUND) / "batch-2"
    batch.mkdir(parents=True, exist_ok=True)
    for code in chosen:
        index = codes.index(code)
        if fmt == "csv":
            write_csv(batch / f"{code}.csv", code, values[index])
        else:
            write_workbook(batch / f"{code}.xlsx", code, "", values[index])
    return chosen
