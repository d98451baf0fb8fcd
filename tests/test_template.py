"""The office's template, declared once in schemas/template.yaml: what it holds, that the README
describes it, and that what the writers lay out from it is what the workbook reader reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from python_calamine import CalamineWorkbook

from benchmarks.national_data import ROUND, panel, template_rows
from benchmarks.national_data import write_workbook as write_benchmark_workbook
from pipelines.ingest.submission import ZoneLookup
from pipelines.ingest.workbook_reader import read_workbook
from schemas.catalogue import load_catalogue
from schemas.template import YEARS, load_template
from tests.builders import KUNSHAN, write_workbook

TEMPLATE = load_template()
README = Path(__file__).resolve().parents[1] / "README.md"


def test_columns_in_the_template_order() -> None:
    assert TEMPLATE.column_keys == ("seq", "level1", "level2", "name", "unit", YEARS, "note")
    assert [column.key for column in TEMPLATE.columns if column.required] == ["seq", "name"]
    assert TEMPLATE.label("seq") == "序号" and TEMPLATE.label("name") == "指标名称"
    assert TEMPLATE.code.label == "实验区代码" and TEMPLATE.name.label == "实验区名称"
    assert TEMPLATE.zone_row < TEMPLATE.header_row < TEMPLATE.first_data_row() < TEMPLATE.first_data_row(True)


def test_the_readme_describes_the_template() -> None:
    section = README.read_text(encoding="utf-8").split("### The workbook template", 1)[1].split("###", 1)[0]
    text = " ".join(section.split())
    labels = [TEMPLATE.label(key) if key != YEARS else "2009 … 2013" for key in TEMPLATE.column_keys]
    assert " | ".join(labels) in text
    assert f"`{TEMPLATE.code.label}` and `{TEMPLATE.name.label}` above the header" in text
    assert re.search(rf"{len(load_catalogue().indicators)} indicator rows", text)


def test_indicator_rows_come_from_the_catalogue() -> None:
    indicator = load_catalogue().indicators[7]
    assert TEMPLATE.indicator_cells(indicator) == {"seq": 7, "level1": indicator.level1_zh,
                                                   "level2": indicator.level2_zh, "name": "人均GDP",
                                                   "unit": "元/人", "note": ""}


def test_a_fixture_in_the_template_puts_values_where_the_template_says(tmp_path: Path,
                                                                      zone_lookup: ZoneLookup) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "k.xlsx", values={1: {2009: 5}}), zone_lookup)
    year_column = "ABCDEFGHIJ"[TEMPLATE.column_keys.index(YEARS)]
    assert parsed.zone_code == KUNSHAN
    assert list(parsed.cells["source_sheet"]) == [TEMPLATE.data_sheet]
    assert list(parsed.cells["source_cell"]) == [f"{year_column}{TEMPLATE.first_data_row()}"]


def test_the_benchmark_workbook_is_the_template(tmp_path: Path) -> None:
    values = panel(1)[0]
    rows = template_rows("110001", "", values)
    header = rows[TEMPLATE.header_row - 1]
    assert header[:5] == [TEMPLATE.label(key) for key in TEMPLATE.column_keys[:5]]
    assert header[5] == 2009 and header[-2] == ROUND - 1 and header[-1] == TEMPLATE.label("note")
    first = rows[TEMPLATE.first_data_row() - 1]
    assert first[0] == 1 and np.isclose(first[5], values[0, 0])
    write_benchmark_workbook(tmp_path / "b.xlsx", "110001", "", values)
    assert CalamineWorkbook.from_path(str(tmp_path / "b.xlsx")).sheet_names == [TEMPLATE.data_sheet]
