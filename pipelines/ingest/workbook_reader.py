"""Read a workbook in the office's template (README: "The workbook template") with python-calamine.

The data sheet is the first sheet with a header row holding `指标名称` and at least one year
(in that row, or in the row just below it for a two-level header). The zone is named above the
header by `实验区代码` and `实验区名称`. Each indicator row (序号 1–16) gives one cell per year column.
The labels are the template's (`schemas/template.yaml`); their positions are not required.
A template sdz wrote carries its identity on a hidden sheet (round, batch, zone, version): it is
returned with the cells, and a workbook whose identity names another zone than its data sheet is
refused (`template_zone_mismatch`: which zone the values are for cannot be told).
A workbook is opened by its content, not its name: an .xlsx saved under an .xls name (or the
reverse) is read, with an `extension_mismatch` warning. .xlsx/.xlsm, .xlsb, .xls and .ods (LibreOffice,
WPS) are read alike; a password-protected workbook is refused as `password_protected`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum

from pipelines.ingest.inventory import is_encrypted_package, workbook_signature, zip_workbook_kind
from pipelines.ingest.submission import (
    FileRejected,
    ParsedFile,
    ZoneLookup,
    arrow_frame,
    format_number,
    normalise_zone_code,
)
from pipelines.runtime.limits import DEFAULT_MAX_INFLATED_BYTES as DEFAULT_MAX_INFLATED
from schemas.catalogue import load_catalogue, normalise_indicator_name, normalise_text
from schemas.messages import message
from schemas.observations import cells_arrow_schema
from schemas.template import TemplateIdentity, load_template

YEAR_TEXT = re.compile(r"((?:19|20)\d\d)(?:\.0+)?年?(?:度)?")
# The reader (calamine's, by extension) of each workbook name; .xlsm is read as .xlsx.
READER_OF_SUFFIX = {".xlsx": ".xlsx", ".xlsm": ".xlsx", ".xlsb": ".xlsb", ".xls": ".xls", ".ods": ".ods"}
ZIP_KINDS = (".xlsx", ".xlsb", ".ods")


@dataclass
class DataSheetLayout:
    """Where the parts of the template are on the data sheet (0-based row and column numbers)."""

    sheet: str
    header_row: int
    first_data_row: int
    seq_col: int
    name_col: int
    unit_col: int | None
    year_cols: dict[int, str]  # column → year as written


def column_letters(col: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    col += 1
    while col:
        col, remainder = divmod(col - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_text(value: object) -> str:
    """A cell's content as normalised text ('' for empty)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value)
    return normalise_text(str(value))


def year_of(value: object) -> str | None:
    """The year a header cell names (2009, '2009', '2009年'), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() and 1900 <= value <= 2100 else None
    match = YEAR_TEXT.fullmatch(cell_text(value))
    return match.group(1) if match else None


def find_layout(sheet_name: str, rows: list[list]) -> DataSheetLayout | None:
    """The template's layout on one sheet, or None when the sheet is not a data sheet."""
    template = load_template()
    seq_label, name_label, unit_label = (template.label(key) for key in ("seq", "name", "unit"))
    for row_index, row in enumerate(rows):
        texts = [cell_text(value) for value in row]
        if name_label not in texts:
            continue
        year_row = row_index
        years = {col: year for col, value in enumerate(row) if (year := year_of(value))}
        if not years and row_index + 1 < len(rows):
            year_row = row_index + 1
            years = {col: year for col, value in enumerate(rows[year_row]) if (year := year_of(value))}
        if not years:
            continue
        seq_col = texts.index(seq_label) if seq_label in texts else None
        if seq_col is None:
            continue
        return DataSheetLayout(
            sheet=sheet_name,
            header_row=row_index,
            first_data_row=year_row + 1,
            seq_col=seq_col,
            name_col=texts.index(name_label),
            unit_col=texts.index(unit_label) if unit_label in texts else None,
            year_cols=years,
        )
    return None


def labelled_value(rows: list[list], label: str, above_row: int) -> str | None:
    """The text after a label such as 实验区代码: in the same cell after a colon, or the next
    non-empty cell to its right."""
    template = load_template()
    zone_labels = (template.code.label, template.name.label)
    for row in rows[:above_row]:
        for col, value in enumerate(row):
            text = cell_text(value)
            if not text.startswith(label):
                continue
            rest = text[len(label):].lstrip(":")
            if rest:
                return rest
            for neighbour in row[col + 1:]:
                if isinstance(neighbour, float):
                    return normalise_zone_code(neighbour)
                neighbour_text = cell_text(neighbour).lstrip(":")
                if neighbour_text.startswith(zone_labels) or neighbour_text.endswith(":"):
                    return None  # the next label: this one was left blank
                if neighbour_text:
                    return neighbour_text
            return None
    return None


def identify_zone(rows: list[list], layout: DataSheetLayout, zones: ZoneLookup) -> tuple[str, list[tuple[str, str]]]:
    """The zone code of the workbook and any zone_name_mismatch warning; the code decides."""
    template = load_template()
    code = labelled_value(rows, template.code.label, layout.header_row)
    name = labelled_value(rows, template.name.label, layout.header_row)
    if code:
        code = normalise_zone_code(code)
        if code not in zones.names_by_code:
            raise FileRejected("zone_not_identified", message("zone_code_unknown", code=code))
        registered = zones.names_by_code[code]
        if name and normalise_text(name) != normalise_text(registered):
            differs = message("zone_name_differs", name=name, code=code, registered=registered)
            return code, [("zone_name_mismatch", differs)]
        return code, []
    if name and normalise_text(name) in zones.codes_by_name:
        return zones.codes_by_name[normalise_text(name)], []
    if name:
        raise FileRejected("zone_not_identified", message("zone_name_unknown", name=name))
    raise FileRejected("zone_not_identified", message("zone_blank"))


def formulas_without_value(path: Path, sheet_index: int, kind: str) -> dict[str, str]:
    """A1 reference → formula text, for formula cells of an .xlsx/.xlsm sheet (`kind` .xlsx) with no
    cached value.

    calamine reads cached values only, so such a cell looks empty; the sheet's XML tells them apart.
    """
    if kind != ".xlsx":
        return {}
    with zipfile.ZipFile(path) as archive:
        sheet_xml = _sheet_part(archive, sheet_index)
        if sheet_xml is None:
            return {}
        data = archive.read(sheet_xml)
    if b"<f" not in data and b":f" not in data:
        return {}
    found = {}
    text = data.decode("utf-8", errors="replace")
    for match in re.finditer(r"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", text, flags=re.S):
        attributes, body = match.groups()
        ref = re.search(r'\br="([A-Z]+\d+)"', attributes)
        formula = re.search(r"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", body, flags=re.S)
        # openpyxl writes an empty <v/> for a formula it never computed
        if ref and formula and not re.search(r"<(?:\w+:)?v\b[^>]*>[^<]+<", body):
            found[ref.group(1)] = "=" + (formula.group(1) or "")
    return found


def _sheet_part(archive: zipfile.ZipFile, sheet_index: int) -> str | None:
    workbook = archive.read("xl/workbook.xml").decode("utf-8", errors="replace")
    relations = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", errors="replace")
    sheet_ids = re.findall(r"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    if sheet_index >= len(sheet_ids):
        return None
    for relation in re.finditer(r"<Relationship\b[^>]*>", relations):
        tag = relation.group(0)
        if f'Id="{sheet_ids[sheet_index]}"' in tag:
            target = re.search(r'Target="([^"]+)"', tag).group(1)
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def workbook_kind(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """Which reader opens the workbook - `.xlsx` (for .xlsx and .xlsm), `.xlsb`, `.xls` or `.ods` - and the
    warning when its content says otherwise than its name. The content decides when it is a workbook's
    zip or OLE file; anything else is left to the reader its name picks (which will refuse it). A
    password-protected workbook is refused."""
    with path.open("rb") as handle:
        content = workbook_signature(handle.read(8))
    if content == ".xls" and is_encrypted_package(path):
        raise FileRejected("password_protected", message("password_protected"))
    if content == ".xlsx":
        content = zip_workbook_kind(path) or ".xlsx"
    suffix = path.suffix.lower()
    named = READER_OF_SUFFIX.get(suffix, suffix)
    if content is None or content == named:
        return named, []
    return content, [("extension_mismatch", message("extension_mismatch", suffix=suffix, content=content))]


def check_archive(path: Path, max_inflated_bytes: int, kind: str) -> None:
    """Refuse a zip workbook (`kind` .xlsx, .xlsb or .ods) whose content would inflate beyond the limit
    (a zip bomb) before reading it."""
    if path.stat().st_size == 0:
        raise FileRejected("unreadable_file", message("empty_file"))
    if kind not in ZIP_KINDS:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FileRejected("unreadable_file", message("not_an_xlsx_archive", error=_short(error))) from None
    if inflated > max_inflated_bytes:
        raise FileRejected("inflated_too_large", message("inflates_over_limit", size=f"{inflated:,}",
                                                         limit=f"{max_inflated_bytes:,}"))


def read_workbook(path: Path, zones: ZoneLookup, max_inflated_bytes: int = DEFAULT_MAX_INFLATED) -> ParsedFile:
    """Read one workbook; raises FileRejected when it cannot be used at all."""
    parsed = read_workbook_table(path, zones, max_inflated_bytes)
    return ParsedFile(parsed.zone_code, arrow_frame(parsed.cells), parsed.warnings, parsed.template)


def read_workbook_table(path: Path, zones: ZoneLookup, max_inflated_bytes: int = DEFAULT_MAX_INFLATED) -> ParsedFile:
    """`read_workbook` with the cells as an Arrow table (`cells_arrow_schema`): a reading process
    sends it back as a few buffers, and the batch's tables become one frame once, not one per file."""
    kind, warnings = workbook_kind(path)
    check_archive(path, max_inflated_bytes, kind)
    try:
        workbook = open_workbook(path, kind)
    except PasswordError:  # an .xls encrypted with a password
        raise FileRejected("password_protected", message("password_protected")) from None
    except Exception as error:  # calamine raises several types for damaged files
        raise FileRejected("unreadable_file", message("not_a_workbook", error=_short(error))) from None
    try:
        for sheet_index, metadata in enumerate(workbook.sheets_metadata):
            if metadata.typ != SheetTypeEnum.WorkSheet:
                continue
            rows = workbook.get_sheet_by_index(sheet_index).to_python(skip_empty_area=False)
            layout = find_layout(metadata.name, rows)
            if layout is None:
                continue
            zone_code, zone_warnings = identify_zone(rows, layout, zones)
            identity = template_identity(workbook)
            if identity is not None and identity.zone_code != zone_code:
                raise FileRejected("template_zone_mismatch", message(
                    "template_zone_differs", template_zone=identity.zone_code, template=identity.text, code=zone_code))
            formulas = formulas_without_value(path, sheet_index, kind)
            return ParsedFile(zone_code, _value_cells(rows, layout, zone_code, formulas), warnings + zone_warnings,
                              identity)
    except FileRejected:
        raise
    except Exception as error:
        raise FileRejected("unreadable_file", message("workbook_unreadable", error=_short(error))) from None
    finally:
        workbook.close()
    raise FileRejected("no_data_sheet", message("no_data_sheet"))


def template_identity(workbook: CalamineWorkbook) -> TemplateIdentity | None:
    """The identity of the template sdz wrote, from its identity sheet (kept hidden by a re-save in
    Excel or LibreOffice), or None when the workbook has none."""
    sheet = load_template().written.identity_sheet
    if sheet not in workbook.sheet_names:
        return None
    return TemplateIdentity.from_rows(workbook.get_sheet_by_name(sheet).to_python())


def open_workbook(path: Path, kind: str) -> CalamineWorkbook:
    """The workbook opened by the reader of `kind`: calamine picks its reader by the name's extension, so
    a file named otherwise is handed over as bytes (it then tells the format by content)."""
    if kind == READER_OF_SUFFIX.get(path.suffix.lower()):
        return CalamineWorkbook.from_path(str(path))
    with path.open("rb") as handle:
        return CalamineWorkbook.from_filelike(handle)


def _value_cells(rows: list[list], layout: DataSheetLayout, zone_code: str, formulas: dict[str, str]) -> pa.Table:
    catalogue = load_catalogue()
    expected_names = {i: normalise_indicator_name(ind.name_zh) for i, ind in catalogue.indicators.items()}
    year_columns = [(col, year, column_letters(col)) for col, year in layout.year_cols.items()]
    # Column lists rather than a dict per cell: a national batch has hundreds of thousands of cells.
    indicator_raw, year_raw, raw_value, number, source_cell = [], [], [], [], []
    unit_of_cell, reason_of_cell, detail_of_cell = [], [], []
    for row_index in range(layout.first_data_row, len(rows)):
        row = rows[row_index]
        width = len(row)
        seq = _sequence_number(row[layout.seq_col] if layout.seq_col < width else None)
        if seq is None:
            continue  # signatures, notes: rows without 序号 are not indicator rows
        name = cell_text(row[layout.name_col]) if layout.name_col < width else ""
        unit = cell_text(row[layout.unit_col]) if layout.unit_col is not None and layout.unit_col < width else ""
        row_reason = row_detail = None
        seq_number = int(seq) if seq.isdigit() else None
        if seq_number in expected_names and normalise_indicator_name(name) != expected_names[seq_number]:
            row_reason = "indicator_name_mismatch"
            expected = catalogue.indicators[seq_number].name_zh
            row_detail = message("indicator_name_mismatch", number=seq, expected=expected, name=name)
        row_number = str(row_index + 1)
        for col, year, letters in year_columns:
            value = row[col] if col < width else ""
            ref = letters + row_number
            reason, detail = row_reason, row_detail
            if formulas and ref in formulas:
                value = formulas[ref]
                reason = reason or "formula_without_value"
                detail = detail or message("formula_without_value", formula=value)
            elif value is None or value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                raw_value.append(format_number(float(value)))
                number.append(float(value))
            else:
                raw_value.append(str(value))
                number.append(float("nan"))
            indicator_raw.append(seq)
            year_raw.append(year)
            source_cell.append(ref)
            reason_of_cell.append(reason)
            detail_of_cell.append(detail)
        unit_of_cell += [unit] * (len(source_cell) - len(unit_of_cell))
    count = len(source_cell)
    columns = {"zone_code": [zone_code] * count, "indicator_raw": indicator_raw, "year_raw": year_raw,
               "raw_value": raw_value, "number": number, "unit": unit_of_cell, "source_sheet": [layout.sheet] * count,
               "source_cell": source_cell, "row_reason": reason_of_cell, "row_detail": detail_of_cell}
    return pa.table(columns, schema=cells_arrow_schema())


def _sequence_number(value: object) -> str | None:
    """序号 as text ('7'), or None when the row has none (not an indicator row)."""
    text = cell_text(value)
    if not text:
        return None
    text = text.rstrip(".、")
    return text if re.fullmatch(r"\d{1,3}", text) else None


def _short(error: Exception) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return message[:200]
