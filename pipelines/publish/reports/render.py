"""The two reports of each round for the programme office: monitoring and evaluation.

`write_reports(warehouse_path, reports_dir, method_file)` rewrites `reports_dir` with, for every
round in the warehouse, `<round>/monitoring.html|.xlsx` (创新能力监测报告) and
`<round>/evaluation.html|.xlsx` (创新能力评价报告). A round's reports show the data as they stood
at the end of the round (the per-round models, read by `pipelines.publish.reports.data`), so re-running
later reproduces what was published. Each report (`pipelines.publish.reports.model`) is rendered twice from
the same tables: as a self-contained HTML page (`templates/report.html.j2`: inline CSS and SVG, nothing
fetched) and as a workbook written with XlsxWriter (one sheet per table, Chinese and English headers, every text
cell written as text). Same warehouse and method file, same bytes.
"""

from __future__ import annotations

import io
import math
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from xlsxwriter.worksheet import Worksheet

from pipelines.index.method import load_method
from pipelines.index.zone_scores import method_digest
from pipelines.publish.reports import cache, data
from pipelines.publish.reports.evaluation import evaluation_report
from pipelines.publish.reports.model import Paragraph, Report, Table, missing
from pipelines.publish.reports.monitoring import monitoring_report
from pipelines.publish.reports.pdf import PdfPrinter
from pipelines.publish.spreadsheets import (
    HEADER_FORMAT,
    LINE_HEIGHT,
    WRAPPED_FORMAT,
    new_workbook,
    print_on_a4,
    row_height,
    set_width,
    write_text,
)

# Number formats of the numeric column kinds.
NUMBER_FORMATS = {"int": "#,##0", "year": "0", "pct": "0.0", "score": "0.00", "growth": "+0.00;-0.00;0.00",
                  "value": "#,##0.###"}
# Column widths in characters, by column kind.
WIDTHS = {"text": 30, "note": 60}
DEFAULT_WIDTH = 13
ABOUT_WIDTH = 100
# Widest table (in characters) printed portrait, scaled to the page's width (to about 80 %): long tables
# fit almost twice the rows on a portrait page. Wider ones print landscape, where they shrink less.
PORTRAIT_WIDTH = 130
HEADER_ROWS = (4, 5)


def write_reports(warehouse_path: Path, reports_dir: Path, method_file: Path, cache_dir: Path | None = None,
                  pdf_browser: str | None = None) -> list[Path]:
    """Rewrite `reports_dir` with the monitoring and evaluation reports (HTML and xlsx) of every round.

    Reads the warehouse through a read-only connection only. The new folder is built beside the
    old one and swapped in when complete. A round whose inputs, method file and report code are
    those of a render kept in `cache_dir` (default `<reports_dir's parent>/.cache/reports`) is
    copied from there instead of rendered again (`pipelines.publish.reports.cache`). With `pdf_browser`
    (a Chromium's path), each page is also printed to PDF beside it, once per cached render
    (`pipelines.publish.reports.pdf`). Returns the files written, in round order.
    """
    method = load_method(Path(method_file))
    digest = method_digest(Path(method_file))
    method_label = f"{Path(method_file).name} (sha256 {digest[:12]})"
    reports_dir = Path(reports_dir)
    cache_dir = Path(cache_dir) if cache_dir else reports_dir.parent / ".cache" / "reports"
    code = cache.code_version()
    staging = reports_dir.with_name(f".{reports_dir.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    rounds: list[tuple[str, Path]] = []  # (cache key, staged folder)
    environment = report_environment()
    # The browser prints a round's pages while the next round is rendered.
    with PdfPrinter(pdf_browser) as printer, duckdb.connect(str(warehouse_path), read_only=True) as con:
        check_method(con, Path(method_file), digest)
        for round_year, last_batch in data.rounds(con):
            folder = staging / str(round_year)
            inputs = data.round_inputs(con, round_year, last_batch)
            key = cache.cache_key(inputs.digest(), digest, code)
            rounds.append((key, folder))
            if not cache.restore(cache_dir, key, folder):
                folder.mkdir(parents=True)
                for report in (monitoring_report(inputs), evaluation_report(inputs, method, method_label)):
                    (folder / f"{report.kind}.html").write_text(render_html(report, environment), encoding="utf-8")
                    (folder / f"{report.kind}.xlsx").write_bytes(render_xlsx(report))
            printer.add([page for page in sorted(folder.glob("*.html")) if not page.with_suffix(".pdf").is_file()])
    for key, folder in rounds:
        cache.store(cache_dir, key, folder)
    written = [reports_dir / folder.name / name for _, folder in rounds
               for name in cache.REPORT_FILES + cache.PDF_FILES if (folder / name).is_file()]
    staging.mkdir(parents=True, exist_ok=True)
    for cards in reports_dir.glob("*/zones"):  # the zone cards (`cards.write_cards`) of the rounds still present stay
        if (staging / cards.parent.name).is_dir():
            cards.rename(staging / cards.parent.name / "zones")
    shutil.rmtree(reports_dir, ignore_errors=True)
    staging.rename(reports_dir)
    cache.prune(cache_dir, {key for key, _ in rounds})
    return written


def check_method(con: duckdb.DuckDBPyConnection, method_file: Path, digest: str) -> None:
    """Refuse to describe one method beside the scores of another."""
    name, file_name, recorded = data.index_method(con)
    if recorded != digest:
        raise ValueError(f"{method_file}: the warehouse's index was computed with another method file ({file_name}, "
                         f"'{name}', sha256 {recorded[:12]}); write the reports with that file, or run the pipeline "
                         "again with this one")


def report_environment() -> Environment:
    """The Jinja environment of the report page (build it once per run: compiling the template takes time)."""
    environment = Environment(loader=PackageLoader("pipelines.publish.reports", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["svg"] = Markup
    environment.filters["css"] = css_class
    environment.filters["body_rows"] = body_rows
    return environment


def render_html(report: Report, environment: Environment | None = None) -> str:
    """The report as one self-contained HTML page."""
    environment = environment or report_environment()
    return environment.get_template("report.html.j2").render(report=report)


def css_class(kind: str) -> str:
    """The class of a table cell: text and notes as they are, every number kind as `num` (right-aligned)."""
    return kind if kind in ("text", "note") else "num"


def body_rows(table: Table) -> Markup:
    """The <tr> rows of a table's body, a line each; built column by column because long tables have
    thousands of cells and a template loop per cell was most of the page's rendering time."""
    columns = [[f'<td class="{css_class(column.kind)}">{escape(format_cell(value, column.kind))}</td>'
                for value in values] for column, values in zip(table.columns, table.column_values(), strict=True)]
    return Markup("".join(f"<tr>{''.join(cells)}</tr>\n" for cells in zip(*columns, strict=True)))


def format_cell(value: object, kind: str) -> str:
    """A table cell as the HTML page shows it (the workbook keeps the full number)."""
    if missing(value):
        return "–"
    if kind in ("text", "note"):
        return str(value)
    number = float(value)
    if kind in ("int", "year"):
        return f"{number:,.0f}" if kind == "int" else f"{number:.0f}"
    if kind == "growth":
        return f"{number:+.2f}"
    if kind in ("pct", "score"):
        return f"{number:.1f}" if kind == "pct" else f"{number:.2f}"
    return significant(number)


def significant(number: float) -> str:
    """About three significant digits without trailing zeros; thousands separated from 1,000 up."""
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    if number == 0:
        return "0"
    decimals = min(4, max(0, 2 - math.floor(math.log10(abs(number)))))
    text = f"{number:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def render_xlsx(report: Report) -> bytes:
    """The report's tables as a workbook: an about sheet, then one sheet per table.

    Every text cell is written as text (never a formula, number or link), with the characters that
    xlsx cannot hold dropped; the same report gives the same bytes.
    """
    lines = [report.title_zh, report.title_en, f"截至 {report.round} 年度第 {report.last_batch} 批 / as of round "
             f"{report.round}, batch {report.last_batch}", ""]
    for section in report.sections:
        lines.append(f"{section.heading_zh} {section.heading_en}")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                lines += [block.zh, block.en]
            elif isinstance(block, Table):
                lines.append(f"  表{block.number} Table {block.number}: sheet '{block.number} {block.sheet}' - "
                             f"{block.title_zh} {block.title_en}")
    out = io.BytesIO()
    workbook = new_workbook(out)
    styles = _Styles(workbook)
    about = workbook.add_worksheet("说明 about")
    set_width(about, 0, ABOUT_WIDTH)
    print_on_a4(about, landscape=False, header_rows=None)
    for row, line in enumerate(lines):
        write_text(about, row, 0, line, styles.bold if row < 2 else styles.wrapped)
        _fit_row(about, row, [(line, ABOUT_WIDTH)])
    for table in report.tables():
        _table_sheet(workbook.add_worksheet(f"{table.number} {table.sheet}"[:31]), table, styles)
    workbook.close()
    return out.getvalue()

class _Styles:
    """The cell formats of one workbook (XlsxWriter formats belong to the workbook that made them)."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.bold = workbook.add_format({"bold": True})
        self.header_bold = workbook.add_format({**HEADER_FORMAT, "bold": True})
        self.header = workbook.add_format(HEADER_FORMAT)
        self.wrapped = workbook.add_format(WRAPPED_FORMAT)
        self.bold_wrapped = workbook.add_format({**WRAPPED_FORMAT, "bold": True})
        self.number = {kind: workbook.add_format({"num_format": code}) for kind, code in NUMBER_FORMATS.items()}


def _table_sheet(sheet: Worksheet, table: Table, styles: _Styles) -> None:
    """Title, English title and source, a blank row, Chinese and English headers (frozen and repeated on
    every printed page), then the rows; text wraps within its column, rows as tall as their text."""
    widths = [WIDTHS.get(spec.kind, DEFAULT_WIDTH) for spec in table.columns]
    for column, width in enumerate(widths):
        set_width(sheet, column, width)
    sheet.freeze_panes(HEADER_ROWS[1] + 1, 0)
    print_on_a4(sheet, landscape=sum(widths) > PORTRAIT_WIDTH, header_rows=HEADER_ROWS)
    # Titles and source span the table, wrapped: text running past its last column would widen the
    # printed area and shrink the whole table to fit it.
    titles = [(f"表{table.number} {table.title_zh}", styles.bold_wrapped),
              (f"Table {table.number} {table.title_en}", styles.wrapped), (table.source, styles.wrapped)]
    for row, (text, style) in enumerate(titles):
        if len(widths) > 1:
            sheet.merge_range(row, 0, row, len(widths) - 1, "", style)
        write_text(sheet, row, 0, text, style)
        _fit_row(sheet, row, [(text, sum(widths))])
    for column, spec in enumerate(table.columns):
        write_text(sheet, 4, column, spec.zh, styles.header_bold)
        write_text(sheet, 5, column, spec.en, styles.header)
    for header_row, language in zip(HEADER_ROWS, ("zh", "en"), strict=True):
        _fit_row(sheet, header_row, [(getattr(spec, language), width) for spec, width in zip(table.columns, widths,
                                                                                               strict=True)])
    texts = []
    for column, (spec, values) in enumerate(zip(table.columns, table.column_values(), strict=True)):
        text = spec.kind in ("text", "note")
        as_number = int if spec.kind in ("int", "year") else float
        style = styles.wrapped if text else styles.number[spec.kind]
        if text:
            texts.append([(value, widths[column]) for value in values])
        for row, value in enumerate(values, start=HEADER_ROWS[1] + 1):
            if text:
                write_text(sheet, row, column, value, style)
            elif pd.notna(value) and math.isfinite(number := as_number(value)):
                sheet.write_number(row, column, number, style)  # to 16 significant digits; Excel keeps 15
    for row, cells in enumerate(zip(*texts, strict=True), start=HEADER_ROWS[1] + 1):
        _fit_row(sheet, row, cells)


def _fit_row(sheet: Worksheet, row: int, cells: list[tuple[object, float]]) -> None:
    """Make a row as tall as its wrapped text, leaving rows of one line at the default height."""
    height = row_height(cells)
    if height > LINE_HEIGHT:
        sheet.set_row(row, height)
