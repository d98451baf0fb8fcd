"""The two reports of each round for the programme office: monitoring and evaluation.

`write_reports(warehouse_path, reports_dir, method_file)` rewrites `reports_dir` with, for every
round in the warehouse, `<round>/monitoring.html|.xlsx` (创新能力监测报告) and
`<round>/evaluation.html|.xlsx` (创新能力评价报告). A round's reports show the data as they stood
after the round's last batch (`pipelines.report_data`), so re-running later reproduces what was
published. Each report (`pipelines.report_model`) is rendered twice from the same tables: as a
self-contained HTML page (`templates/report.html.j2`: inline CSS and SVG, nothing fetched) and as a
workbook (one sheet per table, Chinese and English headers, every text cell written as text).
Same warehouse and method file, same bytes.
"""

from __future__ import annotations

import hashlib
import math
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from pipelines import report_cache as cache
from pipelines import report_data as data
from pipelines import xlsx_writer as xlsx
from pipelines.index_engine import load_method
from pipelines.report_evaluation import evaluation_report
from pipelines.report_model import Paragraph, Report, Table
from pipelines.report_monitoring import monitoring_report
from pipelines.xlsx_writer import Sheet

# Document times of the workbooks, fixed so that the same tables give the same bytes.
FIXED_TIME = datetime(2000, 1, 1)


def write_reports(warehouse_path: Path, reports_dir: Path, method_file: Path,
                  cache_dir: Path | None = None) -> list[Path]:
    """Rewrite `reports_dir` with the monitoring and evaluation reports (HTML and xlsx) of every round.

    Reads the warehouse through a read-only connection only. The new folder is built beside the
    old one and swapped in when complete. A round whose inputs, method file and report code are
    those of a render kept in `cache_dir` (default `<reports_dir's parent>/.cache/reports`) is
    copied from there instead of rendered again (`pipelines.report_cache`). Returns the files
    written, in round order.
    """
    method = load_method(Path(method_file))
    digest = hashlib.sha256(Path(method_file).read_bytes()).hexdigest()
    method_label = f"{Path(method_file).name} (sha256 {digest[:12]})"
    reports_dir = Path(reports_dir)
    cache_dir = Path(cache_dir) if cache_dir else reports_dir.parent / ".cache" / "reports"
    code = cache.code_version()
    staging = reports_dir.with_name(f".{reports_dir.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)
    written: list[Path] = []
    used: set[str] = set()
    environment = report_environment()
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        for round_year, last_batch in data.rounds(con):
            folder = staging / str(round_year)
            inputs = data.round_inputs(con, round_year, last_batch)
            key = cache.cache_key(inputs.digest(), digest, code)
            used.add(key)
            if not cache.restore(cache_dir, key, folder):
                folder.mkdir(parents=True)
                for report in (monitoring_report(inputs), evaluation_report(con, inputs, method, method_label)):
                    (folder / f"{report.kind}.html").write_text(render_html(report, environment), encoding="utf-8")
                    (folder / f"{report.kind}.xlsx").write_bytes(render_xlsx(report))
                cache.store(cache_dir, key, folder)
            written += [reports_dir / str(round_year) / name for name in cache.REPORT_FILES]
    staging.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(reports_dir, ignore_errors=True)
    staging.rename(reports_dir)
    cache.prune(cache_dir, used)
    return written


def report_environment() -> Environment:
    """The Jinja environment of the report page (build it once per run: compiling the template takes time)."""
    environment = Environment(loader=PackageLoader("pipelines", "templates"), autoescape=True,
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
    if value is None or (not isinstance(value, str) and pd.isna(value)):
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
    """The report's tables as a workbook: an about sheet, then one sheet per table."""
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
    about = Sheet("说明 about", widths={1: 120})
    for row, line in enumerate(lines, start=1):
        about.append([(line, xlsx.BOLD if row <= 2 else xlsx.PLAIN)])
    sheets = [about, *(_table_sheet(table) for table in report.tables())]
    return xlsx.workbook_bytes(sheets, "sdz", FIXED_TIME)


def _table_sheet(table: Table) -> Sheet:
    sheet = Sheet(f"{table.number} {table.sheet}"[:31], frozen_rows=6,
                  widths={col: {"text": 30, "note": 60}.get(c.kind, 13) for col, c in enumerate(table.columns, 1)})
    sheet.append([(f"表{table.number} {table.title_zh}", xlsx.BOLD)])
    sheet.append([(f"Table {table.number} {table.title_en}", xlsx.PLAIN)])
    sheet.append([(table.source, xlsx.PLAIN)])
    sheet.append([])
    sheet.append([(column.zh, xlsx.HEADER_BOLD) for column in table.columns])
    sheet.append([(column.en, xlsx.HEADER) for column in table.columns])
    columns = []
    for column, values in zip(table.columns, table.column_values(), strict=True):
        if column.kind in ("text", "note"):
            cells = [(None if _missing(v) else str(v), xlsx.PLAIN) for v in values]
        else:
            as_number = int if column.kind in ("int", "year") else float
            style = xlsx.NUMBER_STYLE[column.kind]
            cells = [(None, xlsx.PLAIN) if _missing(v) else (as_number(v), style) for v in values]
        columns.append(cells)
    for row in zip(*columns, strict=True):
        sheet.append(list(row))
    return sheet


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))
