"""A minimal, fast writer of .xlsx workbooks of plain tables, for the round reports.

openpyxl builds a Python object per cell and serialises it through an XML tree; a report's workbook
has some 60,000 cells and took seconds. This writer emits the SpreadsheetML directly, with only
what the reports use: text (always as inline strings, so text starting with `=` can never become a
formula; characters that xlsx cannot hold are dropped, as `pipelines.spreadsheets.write_text`
does), numbers with a number format, a bold font, a header fill, wrapped top-aligned headers,
column widths and frozen header rows. The same sheets give the same bytes: fixed document and zip
entry times.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

# Cell styles: index into <cellXfs> of STYLES_XML.
PLAIN, BOLD, HEADER_BOLD, HEADER = 0, 1, 2, 3
# Number formats the reports use, each with its own cell style (4, 5, ...).
NUMBER_FORMATS = {"int": "#,##0", "year": "0", "pct": "0.0", "score": "0.00", "growth": "+0.00;-0.00;0.00",
                  "value": "#,##0.###"}
NUMBER_STYLE = {kind: 4 + i for i, kind in enumerate(NUMBER_FORMATS)}

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass
class Sheet:
    """A worksheet: rows of cells (None, str, int or float) with a style per cell, column widths, frozen rows."""

    name: str
    rows: list[list[tuple[object, int]]] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)  # 1-based column -> width in characters
    frozen_rows: int = 0

    def append(self, cells: list[tuple[object, int]]) -> None:
        """Add a row: (value, style) per column; None leaves the cell empty."""
        self.rows.append(cells)


def _cell(ref: str, value: object, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, str):
        text = escape(ILLEGAL_CHARACTERS_RE.sub("", value))
        return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    number = float(value)
    if not math.isfinite(number):
        return ""
    shown = str(int(value)) if isinstance(value, int) else repr(number)
    return f'<c r="{ref}"{s}><v>{shown}</v></c>'


def _sheet_xml(sheet: Sheet, selected: bool) -> str:
    letters = [get_column_letter(c) for c in range(1, max((len(r) for r in sheet.rows), default=1) + 1)]
    parts = [HEAD, f"<worksheet {NS} {NS_R}>"]
    parts.append(f'<dimension ref="A1:{letters[-1]}{max(len(sheet.rows), 1)}"/>')
    view = '<sheetView tabSelected="1" workbookViewId="0">' if selected else '<sheetView workbookViewId="0">'
    if sheet.frozen_rows:
        top_left = f"A{sheet.frozen_rows + 1}"
        view += (f'<pane ySplit="{sheet.frozen_rows}" topLeftCell="{top_left}" activePane="bottomLeft" '
                 f'state="frozen"/><selection pane="bottomLeft" activeCell="{top_left}" sqref="{top_left}"/>')
    parts.append(f"<sheetViews>{view}</sheetView></sheetViews>")
    parts.append('<sheetFormatPr defaultRowHeight="15"/>')
    if sheet.widths:
        parts.append("<cols>" + "".join(f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>'
                                        for c, w in sorted(sheet.widths.items())) + "</cols>")
    parts.append("<sheetData>")
    for number, row in enumerate(sheet.rows, start=1):
        cells = "".join(_cell(f"{letters[i]}{number}", value, style) for i, (value, style) in enumerate(row))
        parts.append(f'<row r="{number}">{cells}</row>' if cells else "")
    parts.append('</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
                 "</worksheet>")
    return "".join(parts)


STYLES_XML = HEAD + f"<styleSheet {NS}>" + (
    f'<numFmts count="{len(NUMBER_FORMATS)}">'
    + "".join(f'<numFmt numFmtId="{164 + i}" formatCode={quoteattr(code)}/>'
              for i, code in enumerate(NUMBER_FORMATS.values()))
    + "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b val="1"/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="00DDEBF7"/><bgColor rgb="00DDEBF7"/></patternFill></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="{4 + len(NUMBER_FORMATS)}">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    + "".join(f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              for i in range(len(NUMBER_FORMATS)))
    + "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>")


def workbook_bytes(sheets: list[Sheet], creator: str, when: datetime) -> bytes:
    """The sheets as an .xlsx file whose bytes depend on the sheets, `creator` and `when` only."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    files = {
        "[Content_Types].xml": HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  for i in range(1, len(sheets) + 1))
        + '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
        "_rels/.rels": HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'extended-properties" Target="docProps/app.xml"/></Relationships>',
        "docProps/app.xml": HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>sdz</Application></Properties>',
        "docProps/core.xml": HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
        'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:creator>{escape(creator)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>',
        "xl/workbook.xml": HEAD + f"<workbook {NS} {NS_R}><bookViews><workbookView activeTab=\"0\"/></bookViews>"
        "<sheets>" + "".join(f'<sheet name={quoteattr(s.name)} sheetId="{i}" r:id="rId{i}"/>'
                             for i, s in enumerate(sheets, start=1)) + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": HEAD
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": STYLES_XML,
    }
    for i, sheet in enumerate(sheets, start=1):
        files[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(sheet, selected=i == 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            entry = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return out.getvalue()
