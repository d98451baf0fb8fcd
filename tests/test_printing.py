"""Everything sdz writes prints on A4 (README, "Printing"): workbooks printed by a real LibreOffice,
HTML pages by a real Chromium, checked on the PDFs with poppler (pdfinfo, pdftotext).

A workbook must print one page across (every column's header on every page: no column cut off or moved
to a page of its own), with its header rows repeated, in a reasonable number of pages. The tests skip
when LibreOffice, Chromium or poppler is not installed (`.ci/run` installs them).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipelines.publish.feedback import HEADERS, feedback_workbook
from pipelines.publish.reports.model import Column, Paragraph, Report, Section, Table
from pipelines.publish.reports.pdf import NO_BROWSER, find_browser, missing_pdfs_notice, print_pdfs
from pipelines.publish.reports.render import render_html, render_xlsx
from schemas.messages import message

SOFFICE = shutil.which("soffice")
POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext")
needs_office = pytest.mark.skipif(not (SOFFICE and POPPLER), reason="LibreOffice (soffice) or poppler-utils is not "
                                  "installed (CI installs them: apt-get install libreoffice-calc-nogui poppler-utils)")
needs_browser = pytest.mark.skipif(not (find_browser() and POPPLER), reason="no headless Chromium or poppler-utils "
                                   "(CI installs them: apt-get install chromium poppler-utils)")


def _findings(count: int) -> pd.DataFrame:
    """`count` findings of one zone as mart.findings gives them, with long details in both languages."""
    rows = []
    for number in range(count):
        indicator = number % 16 + 1
        rows.append({
            "file_id": 1, "zone_code": "320583", "indicator_id": indicator, "year": 2009 + number % 5,
            "raw_value": f"约{number}万元（估计）", "code": "not_a_number", "kind": "rejected",
            "detail": message("zone_name_differs", name="江苏省昆山市国家可持续发展实验区（示范区）", code="320583",
                              registered="昆山市可持续发展实验区"),
            "source_sheet": "监测数据", "source_cell": f"F{number + 8}", "round": 2014, "batch": 1,
            "path": "2014/batch-1/江苏省昆山市国家可持续发展实验区_2014年监测数据_第一批.xlsx",
            "indicator_name": "规模以上工业企业研发经费支出占营业收入比重"})
    return pd.DataFrame(rows)


def _wide_report(rows: int) -> Report:
    """A report whose one table is as wide as the widest the reports have, with `rows` rows."""
    columns = [Column("zone", "实验区", "zone"), Column("type", "类型", "zone type"),
               Column("indicator", "指标", "indicator"), Column("year", "年份", "year", "year"),
               Column("expected", "应报实验区", "zones expected", "int"),
               Column("coverage", "覆盖率（%）", "coverage (%)", "pct"),
               Column("score", "得分", "score", "score"), Column("growth", "增长", "growth", "growth"),
               Column("note", "说明", "note", "note")]
    frame = pd.DataFrame({
        "zone": [f"{320583 + n} 江苏省昆山市可持续发展实验区" for n in range(rows)],
        "type": ["县域型 county"] * rows,
        "indicator": ["4 累计认定并有效的高新技术企业 high-tech enterprises in force"] * rows,
        "year": [2009 + n % 5 for n in range(rows)], "expected": [157] * rows, "coverage": [92.5] * rows,
        "score": [61.25] * rows, "growth": [1.5] * rows,
        "note": ["按第二批报送更正后的数值计算；the value as corrected in the supplementary batch"] * rows})
    table = Table("detail", "覆盖率明细", "coverage detail", columns, frame, "来源 source: mart.coverage", number=1)
    section = Section("一、覆盖率", "1 Coverage", [Paragraph("段落。" * 40, "A paragraph. " * 30), table])
    return Report("monitoring", 2014, 2, [section])


def _print_workbook(workbook: bytes, folder: Path) -> Path:
    """The workbook printed to PDF by LibreOffice, with a profile of its own (parallel runs do not collide)."""
    source = folder / "book.xlsx"
    source.write_bytes(workbook)
    subprocess.run([SOFFICE, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), str(source)],
                   check=True, capture_output=True, timeout=180)
    return folder / "book.pdf"


def _pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


def _paper(pdf: Path) -> tuple[str, str]:
    """('A4', 'portrait' or 'landscape') from pdfinfo's "Page size: 595.2 x 841.92 pts (A4)"."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    size = next(line for line in info.splitlines() if line.startswith("Page size")).split()
    width, height, paper = float(size[2]), float(size[4]), size[-1].strip("()")
    return paper, "landscape" if width > height else "portrait"


@needs_office
def test_a_feedback_workbook_of_20_findings_prints_on_at_most_3_a4_pages_with_every_column(tmp_path: Path) -> None:
    pdf = _print_workbook(feedback_workbook(_findings(20), "320583 2014 batch-1"), tmp_path)
    pages = _pages(pdf)
    assert 1 <= len(pages) <= 3
    assert _paper(pdf) == ("A4", "landscape")
    for page in pages:  # the header row repeated on every page, every column on the page
        for zh, _ in HEADERS:
            assert zh in page, (zh, page[:400])
    assert "What to correct" in pages[0] and "文件" in pages[0]


@needs_office
def test_a_report_workbook_prints_one_page_across_with_its_headers_on_every_page(tmp_path: Path) -> None:
    report = _wide_report(200)
    pages = _pages(_print_workbook(render_xlsx(report), tmp_path))
    about, table_pages = pages[0], pages[1:]
    assert "A paragraph." in about
    assert 1 <= len(table_pages) <= 12  # 200 rows of wrapped text, one page across
    for page in table_pages:
        for column in report.tables()[0].columns:
            assert column.zh in page and column.en.split(" ")[0] in page, (column.zh, page[:400])


def test_html_pages_ask_for_a4_with_table_headers_repeated_and_rows_kept_whole() -> None:
    page = render_html(_wide_report(3))
    assert "@page { size: A4;" in page
    assert "thead { display: table-header-group; }" in page
    assert "break-inside: avoid" in page


@needs_browser
def test_reports_print_to_a4_pdfs_in_one_browser(tmp_path: Path) -> None:
    pages = []
    for name in ("one", "two"):
        pages.append(tmp_path / f"{name}.html")
        pages[-1].write_text(render_html(_wide_report(60)), encoding="utf-8")
    written = print_pdfs(pages)
    assert written == [tmp_path / "one.pdf", tmp_path / "two.pdf"]
    for pdf in written:
        assert _paper(pdf) == ("A4", "portrait")
        assert "覆盖率明细" in _pages(pdf)[0]


def test_without_a_browser_nothing_is_printed_and_one_line_says_so(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    page = tmp_path / "2014" / "page.html"  # a round's report page, as `sdz run` writes them
    page.parent.mkdir()
    page.write_text("<p>x</p>", encoding="utf-8")
    assert print_pdfs([page]) == []
    assert not page.with_suffix(".pdf").exists()
    assert missing_pdfs_notice(tmp_path) == NO_BROWSER
    page.with_suffix(".pdf").write_bytes(b"%PDF")
    assert missing_pdfs_notice(tmp_path) is None


def test_a_browser_that_fails_prints_nothing_and_raises_nothing(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    assert print_pdfs([page], browser=str(broken)) == []
    assert print_pdfs([page], browser=str(tmp_path / "absent")) == []
    assert not page.with_suffix(".pdf").exists()
