"""Writing text into spreadsheets safely, and workbooks reproducibly, for every workbook and CSV sdz writes.

Text a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`) is stored as text:
- `write_text` writes every text cell of a workbook (XlsxWriter or openpyxl) as a string cell, never
  a formula, with the control characters xlsx cannot hold dropped. Callers: the feedback workbooks
  (`pipelines.publish.feedback`), the report workbooks (`pipelines.publish.reports.render`) and the
  demo's submissions (`pipelines.demo.files`);
- `csv_field` / `csv_safe` give a CSV field such text with a leading apostrophe, the usual mark for
  "this is text" (a CSV has no cell types). Callers: the demo's CSVs (`pipelines.demo.files`,
  `pipelines.demo.zones`) and `sdz index` (`pipelines.index.engine`).

Same content, same bytes: `new_workbook` (XlsxWriter, in memory; feedback and reports) and
`reproducible_bytes` (openpyxl; the demo) fix the document times and zip entry times.
Parquet exports hold typed columns and need neither.

Every workbook prints on A4 (`print_on_a4`, one set of `PRINT_SETTINGS` for XlsxWriter and openpyxl
sheets): fitted to the page's width, header rows repeated on every page, page numbers in the footer.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import xlsxwriter
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet as OpenpyxlSheet
from openpyxl.xml.functions import tostring
from xlsxwriter.worksheet import Worksheet as XlsxWriterSheet

FORMULA_START = ("=", "+", "-", "@")
# A field a spreadsheet reads as a number ("-3", "+1.5e3") is a number, not a formula: left as it is.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

# Document time of the XlsxWriter workbooks, fixed so that the same content gives the same bytes.
DOCUMENT_TIME = datetime(2000, 1, 1)
# Text stays text: no formulas, numbers or links guessed from strings (write_string enforces the
# first, these options the rest). In memory: no temporary files, and zip entries get XlsxWriter's
# fixed 1980 time. Not constant_memory: it needs temporary files (in_memory turns it off).
WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                    "strings_to_urls": False}
# Header cells: Chinese and English on two lines on a light blue fill.
HEADER_FORMAT = {"bg_color": "#DDEBF7", "pattern": 1, "valign": "top", "text_wrap": True}
# Body cells of long text: wrapped within the column, so that nothing is cut off at the page's edge.
WRAPPED_FORMAT = {"valign": "top", "text_wrap": True}
# Points per line of text: Excel's default row (Calibri 11) and what LibreOffice needs for a CJK line.
LINE_HEIGHT = 15
# Width of a full-width (CJK) character in digit widths, the unit of column widths.
WIDE_CHARACTER = 2


def cell_text(value: object) -> str:
    """The text stored for `value`: '' for None or NaN, else its str() without the control characters
    xlsx cannot hold."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def write_text(sheet: XlsxWriterSheet | OpenpyxlSheet, row: int, column: int, value: object,
               style: object = None) -> None:
    """Store `value` as text (a string cell, never a formula) in cell (row, column), 0-based.

    `sheet` is an XlsxWriter or an openpyxl worksheet; `style` is an XlsxWriter Format or an openpyxl
    Font. Empty text writes no cell, except a styled blank in XlsxWriter (a header keeps its fill)."""
    text = cell_text(value)
    if isinstance(sheet, XlsxWriterSheet):
        if text:
            sheet.write_string(row, column, text, style)
        else:
            sheet.write_blank(row, column, None, style)
        return
    if not text:
        return
    cell = sheet.cell(row=row + 1, column=column + 1)
    cell.value = text
    cell.data_type = "s"  # openpyxl would take a string starting with "=" for a formula
    if style is not None:
        cell.font = style


def csv_field(value: object) -> object:
    """`value` as a CSV field: text a spreadsheet would run as a formula gets a leading apostrophe;
    numbers, numbers as text and other text stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text column's fields passed through `csv_field`, ready for to_csv()."""
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column].dtype):  # object (pandas 2) or str (pandas 3)
            safe[column] = safe[column].map(csv_field)
    return safe


def new_workbook(out: io.BytesIO) -> xlsxwriter.Workbook:
    """An XlsxWriter workbook writing into `out` whose bytes depend on its content only."""
    workbook = xlsxwriter.Workbook(out, WORKBOOK_OPTIONS)
    workbook.set_properties({"author": "sdz", "created": DOCUMENT_TIME})
    return workbook


def set_width(sheet: XlsxWriterSheet, column: int, characters: float) -> None:
    """Column width in characters, stored exactly."""
    # set_column() adds Excel's cell padding (13 -> 13.71); pixels of 7 per Calibri-11 digit store
    # exactly `characters`.
    sheet.set_column_pixels(column, column, characters * 7)


@dataclass(frozen=True)
class PrintSettings:
    """How a sheet prints: paper, margins in inches, and the footer (`&P` page, `&N` pages)."""

    paper: int = 9  # A4 in the paper codes of Excel, XlsxWriter and openpyxl
    left: float = 0.4
    right: float = 0.4
    top: float = 0.5
    bottom: float = 0.6
    footer: str = "&C&P / &N"


PRINT_SETTINGS = PrintSettings()


def print_on_a4(sheet: XlsxWriterSheet | OpenpyxlSheet, *, landscape: bool,
                header_rows: tuple[int, int] | None) -> None:
    """Print set-up of a sheet (XlsxWriter or openpyxl): A4, portrait or `landscape`, fitted to one page
    wide and as many pages tall as it takes, with rows `header_rows` (first, last; 0-based, inclusive)
    repeated at the top of every page."""
    settings = PRINT_SETTINGS
    if isinstance(sheet, XlsxWriterSheet):
        sheet.set_paper(settings.paper)
        if landscape:
            sheet.set_landscape()
        sheet.fit_to_pages(1, 0)
        sheet.set_margins(settings.left, settings.right, settings.top, settings.bottom)
        sheet.set_footer(settings.footer)
        if header_rows:
            sheet.repeat_rows(*header_rows)
        return
    sheet.page_setup.paperSize = settings.paper
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.page_margins = PageMargins(left=settings.left, right=settings.right, top=settings.top,
                                     bottom=settings.bottom)
    sheet.oddFooter.center.text = settings.footer.removeprefix("&C")
    if header_rows:
        sheet.print_title_rows = f"{header_rows[0] + 1}:{header_rows[1] + 1}"


def display_width(text: str) -> int:
    """How many character widths `text` takes in a column: WIDE_CHARACTER for a Chinese (wide) character,
    one for others."""
    return sum(WIDE_CHARACTER if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def text_lines(text: str, width: float) -> int:
    """How many lines `text` takes when wrapped in a column `width` characters wide (one character of each
    line is kept for the padding and word breaks)."""
    usable = max(width - 1, 1)
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in text.split("\n"))


def row_height(cells: Iterable[tuple[object, float]]) -> float:
    """The height in points that shows every (value, column width) of a row wrapped in full.

    Set explicitly: neither Excel nor LibreOffice grows a row for wrapped text on its own when it opens a
    file, so a two-line header would overlap the row below it when printed."""
    return LINE_HEIGHT * max((text_lines(cell_text(value), width) for value, width in cells), default=1)


def _fixed_zip(payload: bytes, replace: dict[str, bytes], when: datetime) -> bytes:
    """Rewrite a zip with fixed entry times (same order), replacing some entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(payload)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, replace.get(info.filename, source.read(info.filename)))
    return out.getvalue()


def reproducible_bytes(workbook: Workbook, creator: str, when: datetime) -> bytes:
    """An openpyxl workbook as .xlsx bytes that depend on its content only (not on the clock)."""
    workbook.properties.creator = creator
    workbook.properties.created = when
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.properties.modified = when  # save() stamps the clock; write the fixed time back
    return _fixed_zip(buffer.getvalue(), {"docProps/core.xml": tostring(workbook.properties.to_tree())}, when)
