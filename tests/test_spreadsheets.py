"""Text sdz writes into spreadsheets stays text (README, "What happens to bad input"), and the
feedback workbooks are byte-reproducible: every writer of pipelines/publish/spreadsheets.py."""

from __future__ import annotations

import csv
import io
import random
import time

import openpyxl
import pandas as pd
import pytest

from pipelines.demo.files import Context, new_submission, render_csv, render_workbook
from pipelines.demo.zones import build_registry, build_series
from pipelines.publish.feedback import feedback_workbook
from pipelines.publish.spreadsheets import (
    LINE_HEIGHT,
    csv_field,
    csv_safe,
    new_workbook,
    print_on_a4,
    row_height,
    text_lines,
    write_text,
)

RISKY = ["=1+1", "+A1", "-A1", "@SUM(A1:A2)", '=HYPERLINK("x")']


def _xlsxwriter_cells(texts: list[str]) -> dict[str, str]:
    out = io.BytesIO()
    workbook = new_workbook(out)
    sheet = workbook.add_worksheet("t")
    for row, text in enumerate(texts):
        write_text(sheet, row, 0, text)
    workbook.close()
    loaded = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    return {cell.value: cell.data_type for (cell,) in loaded["t"].iter_rows()}


@pytest.mark.parametrize("text", RISKY)
def test_xlsxwriter_text_is_a_string_cell(text: str) -> None:
    assert _xlsxwriter_cells([text]) == {text: "s"}


@pytest.mark.parametrize("text", RISKY)
def test_openpyxl_text_is_a_string_cell(text: str) -> None:
    workbook = openpyxl.Workbook()
    write_text(workbook.active, 0, 0, text)
    buffer = io.BytesIO()
    workbook.save(buffer)
    cell = openpyxl.load_workbook(buffer).active["A1"]
    assert (cell.value, cell.data_type) == (text, "s")


def test_control_characters_are_dropped_and_empty_text_writes_no_cell() -> None:
    assert _xlsxwriter_cells(["a\x00b\x1fc", ""]) == {"abc": "s"}
    workbook = openpyxl.Workbook()
    write_text(workbook.active, 0, 0, None)
    write_text(workbook.active, 1, 0, float("nan"))
    assert workbook.active.max_row == 1 and workbook.active["A1"].value is None


@pytest.mark.parametrize(("value", "field"), [
    ("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-A1", "'-A1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("-3", "-3"), ("+1.5e3", "+1.5e3"), ("无", "无"), (-3, -3), (2.5, 2.5), ("", ""),
])
def test_csv_field(value: object, field: object) -> None:
    assert csv_field(value) == field


def test_csv_safe_quotes_text_columns_only() -> None:
    frame = pd.DataFrame({"unit": ["=1+1", "a", "-3"], "score": [-1.0, 2.0, 3.0]})
    assert csv_safe(frame).to_dict("list") == {"unit": ["'=1+1", "a", "-3"], "score": [-1.0, 2.0, 3.0]}


# --- feedback -------------------------------------------------------------------------------------

FINDINGS = pd.DataFrame([
    {"file_id": 1, "zone_code": "320583", "indicator_id": 1, "year": 2010, "raw_value": "=1+1", "code": "not_a_number",
     "kind": "rejected", "detail": "@detail", "source_sheet": None, "source_cell": "line 2", "round": 2014,
     "batch": 1, "path": "2014/batch-1/=x.csv", "indicator_name": "本级科学技术支出"},
    {"file_id": 1, "zone_code": "320583", "indicator_id": None, "year": None, "raw_value": None,
     "code": "zone_name_mismatch", "kind": "warning", "detail": "-name", "source_sheet": "监测数据",
     "source_cell": "E3", "round": 2014, "batch": 1, "path": "2014/batch-1/a.xlsx", "indicator_name": None},
])


def test_feedback_stores_formula_text_as_text() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(feedback_workbook(FINDINGS, "320583 2014 batch-1"))).active
    cells = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row if cell.value is not None}
    for text in ("=1+1", "@detail", "-name", "2014/batch-1/=x.csv"):
        assert cells[text] == "s"
    assert [cell.data_type for row in sheet.iter_rows() for cell in row].count("f") == 0
    assert sheet["E5"].value == 2010 and sheet["D5"].value == "1 本级科学技术支出"


def test_feedback_workbook_is_byte_reproducible() -> None:
    first = feedback_workbook(FINDINGS, "320583 2014 batch-1")
    time.sleep(1.1)  # a document time taken from the clock would differ now
    assert feedback_workbook(FINDINGS, "320583 2014 batch-1") == first
    assert feedback_workbook(FINDINGS.iloc[:1], "320583 2014 batch-1") != first


# --- the demo's files -----------------------------------------------------------------------------

def _submission_with_text(fmt: str):
    rng = random.Random(1)
    zones = build_registry(rng)
    ctx = Context(rng, zones, build_series(zones, rng))
    sub = new_submission(ctx, zones[0], 2014, 1, fmt)
    sub.cells[1][2009] = "=1+1"
    return sub


def test_demo_workbook_stores_formula_text_as_text() -> None:
    data, sheet_name, coords = render_workbook(_submission_with_text("xlsx"))
    cell = openpyxl.load_workbook(io.BytesIO(data))[sheet_name][coords[(1, 2009)]]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_demo_csv_marks_formula_text() -> None:
    data, coords = render_csv(_submission_with_text("csv"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    line = int(coords[(1, 2009)].removeprefix("line "))
    assert rows[line - 1][3] == "'=1+1"



def _printed_setup(sheet: openpyxl.worksheet.worksheet.Worksheet) -> tuple:
    setup = sheet.page_setup
    return (int(setup.paperSize), setup.orientation, setup.fitToWidth in (None, 1), int(setup.fitToHeight),
            sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.print_title_rows, sheet.oddFooter.center.text)


@pytest.mark.parametrize("landscape", [True, False])
def test_print_on_a4_gives_xlsxwriter_and_openpyxl_sheets_the_same_set_up(landscape: bool) -> None:
    out = io.BytesIO()
    workbook = new_workbook(out)
    print_on_a4(workbook.add_worksheet("t"), landscape=landscape, header_rows=(0, 3))
    workbook.close()
    by_openpyxl = openpyxl.Workbook()
    print_on_a4(by_openpyxl.active, landscape=landscape, header_rows=(0, 3))
    saved = io.BytesIO()
    by_openpyxl.save(saved)
    expected = (9, "landscape" if landscape else "portrait", True, 0, True, "$1:$4", "&P / &N")
    assert _printed_setup(openpyxl.load_workbook(io.BytesIO(out.getvalue()))["t"]) == expected
    assert _printed_setup(openpyxl.load_workbook(saved).active) == expected


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("", 10, 1), ("short", 10, 1), ("a" * 9, 10, 1), ("a" * 10, 10, 2), ("文件\nfile", 10, 2),
    ("实验区代码不在名录中", 10, 3), ("x\n\ny", 30, 3)])
def test_text_lines_counts_wrapped_lines_with_chinese_characters_twice_as_wide(text: str, width: float,
                                                                               lines: int) -> None:
    assert text_lines(text, width) == lines


def test_row_height_fits_the_tallest_cell_and_ignores_empty_ones() -> None:
    assert row_height([("文件\nfile", 10), (None, 5), (2014, 6)]) == 2 * LINE_HEIGHT
    assert row_height([]) == LINE_HEIGHT
