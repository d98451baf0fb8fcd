"""One zone's template as an .xlsx workbook (XlsxWriter): the office's layout of `schemas/template.yaml`,
with the values in force filled in, data validation from the value rules, the structure locked, print
set-up, the template's identity on a very hidden sheet and, in a supplementary batch, the cells to correct
highlighted with a comment each. What goes in the cells is `pipelines.publish.templates`' to decide.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipelines.publish.spreadsheets import (
    HEADER_FORMAT,
    display_width,
    new_workbook,
    print_on_a4,
    set_width,
    write_text,
)
from schemas.catalogue import FIRST_YEAR, Indicator, load_catalogue
from schemas.messages import message, message_pair, number_text
from schemas.template import YEARS, Template, TemplateIdentity, load_template

Cell = tuple[int, int]  # (indicator id, year)
BORDER = {"border": 1, "border_color": "#A6A6A6"}
INSTRUCTIONS_WIDTH = 70  # characters: the instructions' one column, a portrait A4 page wide
LINE_HEIGHT = 15  # points per line of wrapped text


@dataclass(frozen=True)
class CellMark:
    """A cell of a supplementary-batch template to correct: the kind of its most severe finding
    (mart.findings: rejected or warning) and the comment telling what was received and why."""

    kind: str
    comment: str


@dataclass
class ZoneTemplate:
    """Everything one zone's template shows."""

    round: int
    batch: int
    zone_code: str
    zone_name: str
    values: dict[Cell, float]  # the values in force
    marks: dict[Cell, CellMark] = field(default_factory=dict)  # supplementary batch: cells to correct
    missing: set[Cell] = field(default_factory=set)  # supplementary batch: cells still not reported
    file_findings: int = 0  # supplementary batch: open findings that name no cell of the template

    @property
    def years(self) -> range:
        """The years the round collects."""
        return range(FIRST_YEAR, self.round)

    @property
    def identity(self) -> TemplateIdentity:
        """The identity the workbook carries."""
        return TemplateIdentity(self.round, self.batch, self.zone_code, load_template().written.version)


@dataclass(frozen=True)
class Columns:
    """0-based column of each key of the template, with one column per year."""

    index: dict[str | int, int]

    @classmethod
    def of(cls, template: Template, years: range) -> Columns:
        keys = [key for column in template.columns for key in (years if column.key == YEARS else [column.key])]
        return cls({key: position for position, key in enumerate(keys)})

    @property
    def width(self) -> int:
        return len(self.index)


def template_workbook(zone: ZoneTemplate) -> bytes:
    """The zone's template as .xlsx bytes: the same content gives the same bytes."""
    template = load_template()
    out = io.BytesIO()
    workbook = new_workbook(out)
    formats = Formats(workbook, template)
    write_instructions(workbook.add_worksheet(template.instructions_sheet), zone, formats)
    data_sheet = workbook.add_worksheet(template.data_sheet)
    write_data_sheet(data_sheet, zone, template, formats)
    data_sheet.activate()
    write_identity(workbook.add_worksheet(template.written.identity_sheet), zone.identity)
    workbook.close()
    return out.getvalue()


class Formats:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, workbook: Workbook, template: Template) -> None:
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.label = workbook.add_format({"bold": True})
        self.summary = workbook.add_format({"bold": True, "font_color": "#C00000", "text_wrap": True,
                                            "valign": "top"})
        self.header = workbook.add_format({**HEADER_FORMAT, **BORDER, "bold": True, "align": "center"})
        self.structure = workbook.add_format({**BORDER, "valign": "top", "text_wrap": True})
        self.value = workbook.add_format({**BORDER, "locked": False})
        self.note = workbook.add_format({**BORDER, "locked": False, "text_wrap": True})
        self.unlocked = workbook.add_format({"locked": False})
        self.wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.highlight = {kind: workbook.add_format({**BORDER, "locked": False, "bg_color": colour, "pattern": 1})
                          for kind, colour in template.written.highlight.items()}


def write_instructions(sheet: Worksheet, zone: ZoneTemplate, formats: Formats) -> None:
    """The instructions: Chinese, then English, one paragraph a row."""
    written = load_template().written
    fields = {"round": zone.round, "first_year": FIRST_YEAR, "last_year": zone.round - 1,
              "markers": "、".join(marker for marker in load_catalogue().missing_markers if marker)}
    lines = [*written.instructions_zh, "", *written.instructions_en]
    for row, line in enumerate(lines):
        text = line.format(**fields)
        if row in (0, len(written.instructions_zh) + 1):
            write_text(sheet, row, 0, text, formats.title)
            continue
        write_text(sheet, row, 0, text, formats.wrapped)
        # Rows keep the height they are given (no application measures wrapped text when it opens a file).
        sheet.set_row(row, LINE_HEIGHT * math.ceil(max(display_width(text), 1) / INSTRUCTIONS_WIDTH))
    set_width(sheet, 0, INSTRUCTIONS_WIDTH)
    print_on_a4(sheet, landscape=False, header_rows=None)


def write_data_sheet(sheet: Worksheet, zone: ZoneTemplate, template: Template, formats: Formats) -> None:
    """The data sheet of the template (`schemas/template.yaml`)."""
    catalogue = load_catalogue()
    columns = Columns.of(template, zone.years)
    sheet.merge_range(0, 0, 0, columns.width - 1, template.title.format(round=zone.round), formats.title)
    if zone.batch > 1:
        sheet.merge_range(1, 0, 1, columns.width - 1, summary_text(zone), formats.summary)
        sheet.set_row(1, 36)
    zone_row = template.zone_row - 1
    for labelled, value in ((template.code, zone.zone_code), (template.name, zone.zone_name)):
        write_text(sheet, zone_row, labelled.label_column - 1, labelled.label, formats.label)
        write_text(sheet, zone_row, labelled.value_column - 1, value)
    header_row = template.header_row - 1
    for key, column in columns.index.items():
        if isinstance(key, int):
            sheet.write_number(header_row, column, key, formats.header)
        else:
            write_text(sheet, header_row, column, template.label(key), formats.header)
    first_row = template.first_data_row() - 1
    for row, indicator in enumerate(catalogue.indicators.values(), start=first_row):
        for key, text in template.indicator_cells(indicator).items():
            if key == "seq":
                sheet.write_number(row, columns.index[key], text, formats.structure)
            else:
                write_text(sheet, row, columns.index[key], text, formats.note if key == "note" else formats.structure)
        for year in zone.years:
            write_value(sheet, row, columns.index[year], zone, (indicator.id, year), formats)
        add_validation(sheet, row, columns.index[zone.years[0]], columns.index[zone.years[-1]], indicator)
    last_row = first_row + len(catalogue.indicators) - 1
    for row, cells in enumerate(template.footer_rows(zone.round, "  "), start=last_row + 2):
        sheet.set_row(row, None, formats.unlocked)  # the signature and date are for the zone to fill in
        for column, text in enumerate(cells):
            write_text(sheet, row, column, text, formats.label if text else formats.unlocked)
    for key, column in columns.index.items():
        set_width(sheet, column, template.width(YEARS if isinstance(key, int) else key))
    sheet.freeze_panes(header_row + 1, columns.index[zone.years[0]])
    sheet.protect("", {"format_columns": True, "format_rows": True})
    print_on_a4(sheet, landscape=True, header_rows=(0, header_row))


def write_value(sheet: Worksheet, row: int, column: int, zone: ZoneTemplate, cell: Cell, formats: Formats) -> None:
    """A value cell: the value in force (or empty), unlocked; highlighted with a comment when marked."""
    mark = zone.marks.get(cell)
    style = formats.highlight[mark.kind] if mark else \
        formats.highlight["missing"] if cell in zone.missing else formats.value
    value = zone.values.get(cell)
    if value is None:
        sheet.write_blank(row, column, None, style)
    else:
        sheet.write_number(row, column, value, style)
    if mark:
        sheet.write_comment(row, column, mark.comment, {"author": "sdz", "x_scale": 3, "y_scale": 2.5})


def add_validation(sheet: Worksheet, row: int, first_column: int, last_column: int, indicator: Indicator) -> None:
    """Data validation of an indicator's value cells: what the value rules accept, else a warning."""
    limit = indicator.upper_limit
    top_left = xl_rowcol_to_cell(row, first_column)
    accepted = [f"ISNUMBER({top_left})", f"{top_left}>=0"] + ([f"{top_left}<={number_text(limit)}"] if limit else [])
    markers = [f'{top_left}="{marker}"' for marker in load_catalogue().missing_markers if marker]
    limit_zh, limit_en = message_pair("template_input_limit", limit=limit) if limit else ("", "")
    input_zh, input_en = message_pair("template_input", limit=limit_zh)[0], message_pair("template_input",
                                                                                         limit=limit_en)[1]
    invalid_zh, invalid_en = message_pair("template_invalid", limit=limit_zh)[0], message_pair("template_invalid",
                                                                                               limit=limit_en)[1]
    sheet.data_validation(row, first_column, row, last_column, {
        "validate": "custom",
        "value": f"=OR(AND({','.join(accepted)}),{','.join(markers)})",
        "ignore_blank": True,
        "input_title": f"{indicator.id} {indicator.name_zh}"[:32],
        "input_message": f"{indicator.name_zh}（{indicator.unit}）：{input_zh}\n"
                         f"{indicator.name_en} ({indicator.unit}): {input_en}"[:255],
        "error_type": "warning",
        "error_title": "数值不符合规则 invalid value",
        "error_message": f"{invalid_zh}\n{invalid_en}"[:255],
    })


def write_identity(sheet: Worksheet, identity: TemplateIdentity) -> None:
    """The identity sheet: very hidden (Excel shows it in no menu) and protected."""
    for row, (key, value) in enumerate(identity.rows()):
        write_text(sheet, row, 0, key)
        write_text(sheet, row, 1, value)
    sheet.very_hidden()
    sheet.protect()


def summary_text(zone: ZoneTemplate) -> str:
    """The supplementary batch's summary above the header: cells to correct, cells missing, findings on files."""
    return message("template_summary", to_correct=len(zone.marks), missing=len(zone.missing),
                   file_findings=zone.file_findings)
