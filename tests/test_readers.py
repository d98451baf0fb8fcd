"""The workbook and CSV readers on every variant the README lists.

Readers locate the zone and the value cells and keep each cell's raw content and address; they
refuse a whole file only when it cannot be used (unreadable_file, no_data_sheet,
zone_not_identified, bad_header).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from pipelines.ingest.csv_reader import read_long_csv
from pipelines.ingest.submission import FileRejected, ParsedFile, ZoneLookup
from pipelines.ingest.workbook_reader import read_workbook
from schemas.catalogue import load_reason_codes
from tests.builders import (
    CHENGDU,
    CSV_HEADER,
    FOTANG,
    HUALONG,
    KUNSHAN,
    ZONE_NAMES,
    long_rows,
    plausible_values,
    write_csv,
    write_workbook,
)

VALUES = plausible_values(3)


def cell_values(parsed: ParsedFile) -> list[tuple[str, str, str]]:
    """(indicator, year, raw value) of every cell, sorted: what the file says, wherever it says it."""
    return sorted(parsed.cells[["indicator_raw", "year_raw", "raw_value"]].itertuples(index=False, name=None))


def cell(parsed: ParsedFile, indicator: int, year: int) -> pd.Series:
    cells = parsed.cells
    found = cells[(cells["indicator_raw"] == str(indicator)) & (cells["year_raw"] == str(year))]
    assert len(found) == 1, f"indicator {indicator} year {year}: {len(found)} cells"
    return found.iloc[0]


def rejection(call) -> FileRejected:
    with pytest.raises(FileRejected) as raised:
        call()
    return raised.value


@pytest.fixture
def baseline(tmp_path: Path, zone_lookup: ZoneLookup) -> list[tuple[str, str, str]]:
    parsed = read_workbook(write_workbook(tmp_path / "baseline.xlsx", values=VALUES), zone_lookup)
    return cell_values(parsed)


# --- the template and its variants -----------------------------------------------------------

def test_template_cells_and_addresses(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    values = {1: {2009: 15802, 2013: 27638}, 2: {2009: 3.18}, 16: {2013: "79.89"}}
    parsed = read_workbook(write_workbook(tmp_path / "k.xlsx", values=values), zone_lookup)
    assert parsed.zone_code == KUNSHAN
    assert parsed.warnings == []
    # Like the office's example: header in row 5, first value (indicator 1, 2009) at F6.
    first = cell(parsed, 1, 2009)
    assert (first["source_sheet"], first["source_cell"], first["raw_value"], first["number"], first["unit"]) == (
        "监测数据", "F6", "15802", 15802.0, "万元")
    assert cell(parsed, 1, 2013)["source_cell"] == "J6"
    assert cell(parsed, 2, 2009)["source_cell"] == "F7"
    last = cell(parsed, 16, 2013)
    assert (last["source_cell"], last["raw_value"], pd.isna(last["number"])) == ("J21", "79.89", True)
    # Empty cells and the signature rows under the table give no cells.
    assert len(parsed.cells) == 4


def test_every_value_cell_is_read(tmp_path: Path, baseline) -> None:
    assert len(baseline) == 16 * 5
    assert {indicator for indicator, _, _ in baseline} == {str(i) for i in range(1, 17)}
    assert {year for _, year, _ in baseline} == {str(y) for y in range(2009, 2014)}


VARIANTS = {
    "years as text": {"year_style": "text"},
    "years as 2009年": {"year_style": "text_nian"},
    "two-level header": {"two_level_header": True},
    "two-level header, 2009年": {"two_level_header": True, "year_style": "text_nian"},
    "two-level header, text": {"two_level_header": True, "year_style": "text"},
    "columns reordered": {"columns": ("name", "unit", "note", "years", "level2", "level1", "seq")},
    "no 一级/二级 columns": {"drop_level_columns": True},
    "rows reordered": {"rows": [16, 3, 1, 2, 15, 14, 4, 5, 6, 13, 12, 7, 8, 11, 10, 9]},
    "instructions sheet first": {"instructions_sheet": True},
    "code 实验区代码：…": {"code_style": "one_cell"},
    "code 实验区代码:…": {"code_style": "one_cell_ascii"},
    "code after an empty cell": {"code_style": "gap"},
    "code as a number": {"code_style": "number"},
    "no 实验区名称": {"zone_name": None},
}


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_header_variants_read_the_same_values(tmp_path: Path, zone_lookup: ZoneLookup, baseline, variant) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "v.xlsx", values=VALUES, **variant), zone_lookup)
    assert parsed.zone_code == KUNSHAN
    assert parsed.warnings == []
    assert cell_values(parsed) == baseline
    assert parsed.cells["row_reason"].isna().all()


@pytest.mark.parametrize(("variant", "indicator", "year", "address"), [
    ({}, 9, 2011, "H14"),
    ({"two_level_header": True}, 1, 2009, "F7"),
    ({"columns": ("name", "unit", "years", "seq")}, 1, 2009, "C6"),
    ({"drop_level_columns": True}, 1, 2010, "E6"),
    ({"rows": list(range(16, 0, -1))}, 16, 2009, "F6"),
    ({"rows": list(range(16, 0, -1))}, 1, 2013, "J21"),
])
def test_source_cells_follow_the_layout(tmp_path: Path, zone_lookup: ZoneLookup, variant, indicator, year,
                                        address) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "v.xlsx", values=VALUES, **variant), zone_lookup)
    assert cell(parsed, indicator, year)["source_cell"] == address
    assert cell(parsed, indicator, year)["number"] == VALUES[indicator][year]


def test_data_sheet_need_not_be_first(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "v.xlsx", instructions_sheet=True, sheet_name="数据"),
                           zone_lookup)
    assert set(parsed.cells["source_sheet"]) == {"数据"}
    assert cell(parsed, 1, 2009)["source_cell"] == "F6"


@pytest.mark.parametrize("suffix", [".xls", ".xlsm"])
def test_other_workbook_formats_read_like_xlsx(tmp_path: Path, zone_lookup: ZoneLookup, suffix: str) -> None:
    values = {**VALUES, 5: {2009: "1,234", 2010: "—", 2011: "abc"}}
    xlsx = read_workbook(write_workbook(tmp_path / "a.xlsx", values=values, two_level_header=True), zone_lookup)
    other = read_workbook(write_workbook(tmp_path / f"a{suffix}", values=values, two_level_header=True), zone_lookup)
    assert other.zone_code == KUNSHAN
    pd.testing.assert_frame_equal(other.cells, xlsx.cells)


def test_unit_in_brackets_in_the_name_matches(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    names = {1: "本级科学技术支出（万元）", 3: "万人专利授权数(件/万人)", 7: " 人均 ＧＤＰ "}
    parsed = read_workbook(write_workbook(tmp_path / "n.xlsx", values=VALUES, names=names), zone_lookup)
    assert parsed.cells["row_reason"].isna().all()


def test_wrong_name_marks_every_cell_of_its_row(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    values = {**VALUES, 4: {2009: 100, 2010: "—", 2011: "abc", 2013: 130}}
    parsed = read_workbook(write_workbook(tmp_path / "n.xlsx", values=values, names={4: "高新技术企业数"}),
                           zone_lookup)
    row = parsed.cells[parsed.cells["indicator_raw"] == "4"]
    assert sorted(row["source_cell"]) == ["F9", "G9", "H9", "J9"]  # the empty 2012 cell gives none
    assert set(row["row_reason"]) == {"indicator_name_mismatch"}
    assert parsed.cells.loc[parsed.cells["indicator_raw"] != "4", "row_reason"].isna().all()


def test_rows_without_sequence_number_are_ignored(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    path = write_workbook(tmp_path / "r.xlsx", values={**VALUES, 17: {2009: 5}}, rows=[1, 2, 17])
    parsed = read_workbook(path, zone_lookup)
    # 17 is read (validation rejects it as unknown_indicator); 填报人 / 填报日期 rows are not.
    assert sorted(set(parsed.cells["indicator_raw"])) == ["1", "17", "2"]


# --- identifying the zone --------------------------------------------------------------------

def test_name_only_identifies_the_zone(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "z.xlsx", zone_code=None, zone_name=ZONE_NAMES[HUALONG]),
                           zone_lookup)
    assert parsed.zone_code == HUALONG
    assert parsed.warnings == []


def test_blank_code_cell_falls_back_to_the_name(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    # The template prints 实验区代码 | (blank) | | 实验区名称 | 河南省濮阳市华龙区: no code, so the name decides.
    parsed = read_workbook(write_workbook(tmp_path / "z.xlsx", zone_code="", zone_name=ZONE_NAMES[HUALONG]),
                           zone_lookup)
    assert parsed.zone_code == HUALONG


def test_code_decides_and_a_different_name_warns(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "z.xlsx", zone_code=CHENGDU, zone_name=ZONE_NAMES[HUALONG]),
                           zone_lookup)
    assert parsed.zone_code == CHENGDU
    assert [flag for flag, _ in parsed.warnings] == ["zone_name_mismatch"]
    assert ZONE_NAMES[HUALONG] in parsed.warnings[0][1]


def test_name_differing_only_in_spacing_or_width_does_not_warn(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    path = write_workbook(tmp_path / "z.xlsx", zone_code=FOTANG, zone_name=" 浙江省金华市 义乌市佛堂镇")
    parsed = read_workbook(path, zone_lookup)
    assert (parsed.zone_code, parsed.warnings) == (FOTANG, [])


def test_code_in_lower_case_is_recognised(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    parsed = read_workbook(write_workbook(tmp_path / "z.xlsx", zone_code=FOTANG.lower(), zone_name=ZONE_NAMES[FOTANG]),
                           zone_lookup)
    assert parsed.zone_code == FOTANG


@pytest.mark.parametrize("identification", [
    {"zone_code": None, "zone_name": None},
    {"zone_code": "", "zone_name": ""},
    {"zone_code": None, "zone_name": "江苏省某某市"},
    {"zone_code": "999999", "zone_name": ZONE_NAMES[KUNSHAN]},
], ids=["no labels", "blank labels", "unknown name", "unknown code"])
def test_zone_not_identified(tmp_path: Path, zone_lookup: ZoneLookup, identification) -> None:
    path = write_workbook(tmp_path / "z.xlsx", **identification)
    assert rejection(lambda: read_workbook(path, zone_lookup)).reason == "zone_not_identified"


# --- files that cannot be used ---------------------------------------------------------------

def test_no_data_sheet(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    # A header with 指标名称 but no year column is not a data sheet.
    path = write_workbook(tmp_path / "y.xlsx", years=[])
    assert rejection(lambda: read_workbook(path, zone_lookup)).reason == "no_data_sheet"


def _corrupt_sheet(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as damaged:
        for item in original.infolist():
            data = original.read(item)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", item.filename):
                data = data[: len(data) // 2]
            damaged.writestr(item, data)
    return target


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["truncated", "corrupt sheet", "zip of text", "text", "empty", "bad xls"])
def test_unreadable_workbooks(tmp_path: Path, zone_lookup: ZoneLookup, damage: str) -> None:
    good = write_workbook(tmp_path / "good.xlsx")
    suffix = ".xls" if damage == "bad xls" else ".xlsx"
    path = tmp_path / f"damaged{suffix}"
    if damage == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    elif damage == "corrupt sheet":
        _corrupt_sheet(good, path)
    elif damage == "zip of text":
        path.write_bytes(_zip_of_text())
    elif damage == "text":
        path.write_text("zone_code,indicator,year,value\n", encoding="utf-8")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert rejection(lambda: read_workbook(path, zone_lookup)).reason == "unreadable_file"


# --- formula cells ---------------------------------------------------------------------------

def _rewrite_sheet_xml(path: Path, change) -> None:
    """Apply change(text) -> text to the data sheet's XML, in place."""
    with zipfile.ZipFile(path) as archive:
        items = [(item, archive.read(item)) for item in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for item, data in items:
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            archive.writestr(item, data)


def test_formula_written_by_openpyxl_is_formula_without_value(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    path = write_workbook(tmp_path / "f.xlsx", values={1: {2009: "=1+2", 2010: 5}})
    parsed = read_workbook(path, zone_lookup)
    formula = cell(parsed, 1, 2009)
    assert (formula["source_cell"], formula["raw_value"], formula["row_reason"]) == (
        "F6", "=1+2", "formula_without_value")


def test_formula_without_value_element(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    path = write_workbook(tmp_path / "f.xlsx", values={1: {2009: "=SUM(G6:H6)", 2010: 5}})
    _rewrite_sheet_xml(path, lambda xml: re.sub(r"<v\s*/>|<v></v>", "", xml))
    parsed = read_workbook(path, zone_lookup)
    formula = cell(parsed, 1, 2009)
    assert (formula["source_cell"], formula["raw_value"], formula["row_reason"]) == (
        "F6", "=SUM(G6:H6)", "formula_without_value")
    assert pd.isna(cell(parsed, 1, 2010)["row_reason"])


def test_formula_with_cached_value_counts_with_it(tmp_path: Path, zone_lookup: ZoneLookup) -> None:
    path = write_workbook(tmp_path / "f.xlsx", values={1: {2009: "=1+2"}})
    _rewrite_sheet_xml(path, lambda xml: re.sub(r"<v\s*/>|<v></v>", "<v>3</v>", xml))
    formula = cell(read_workbook(path, zone_lookup), 1, 2009)
    assert (formula["number"], formula["raw_value"]) == (3.0, "3")
    assert pd.isna(formula["row_reason"])


# --- long CSV --------------------------------------------------------------------------------

CSV_ROWS = [
    (HUALONG, 1, 2009, "38822", "万元", ""),
    (HUALONG, 7, 2010, "8.8241", "万元/人", "按万元填报"),
    (HUALONG, 9, 2011, "4.11", "‰", ""),
    (HUALONG, 15, 2012, "1.26", "吨标煤/万元", "单位GDP能耗"),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    parsed = read_long_csv(write_csv(tmp_path / "a.csv", CSV_ROWS, encoding=encoding))
    assert parsed.zone_code == HUALONG
    got = parsed.cells[["zone_code", "indicator_raw", "year_raw", "raw_value", "unit", "source_cell"]]
    assert [tuple(row) for row in got.itertuples(index=False)] == [
        (HUALONG, "1", "2009", "38822", "万元", "line 2"),
        (HUALONG, "7", "2010", "8.8241", "万元/人", "line 3"),
        (HUALONG, "9", "2011", "4.11", "‰", "line 4"),
        (HUALONG, "15", "2012", "1.26", "吨标煤/万元", "line 5"),
    ]
    assert parsed.cells["source_sheet"].isna().all()


def test_csv_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    rows = [CSV_ROWS[0], None, None, CSV_ROWS[1], (HUALONG, 2, 2009, "", "%", ""), CSV_ROWS[2], None]
    parsed = read_long_csv(write_csv(tmp_path / "a.csv", rows))
    assert list(parsed.cells["source_cell"]) == ["line 2", "line 5", "line 7"]


def test_csv_line_numbers_after_a_note_on_two_lines(tmp_path: Path) -> None:
    rows = [(HUALONG, 1, 2009, "38822", "万元", "第一行\n第二行"), (HUALONG, 1, 2010, "x", "万元", "")]
    path = write_csv(tmp_path / "a.csv", rows)
    assert path.read_text(encoding="utf-8").splitlines()[3].startswith(f"{HUALONG},1,2010,x")
    assert list(read_long_csv(path).cells["source_cell"]) == ["line 2", "line 4"]


def test_csv_with_trailing_commas_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(f"zone_code,indicator,year,value\n{HUALONG},1,2009,38822,\n{HUALONG},1,2010,44645,\n",
                    encoding="utf-8")
    try:
        parsed = read_long_csv(path)
    except FileRejected:
        return  # refusing the whole file is an acceptable answer too; dropping the values is not
    assert list(parsed.cells[["zone_code", "indicator_raw", "year_raw", "raw_value"]].itertuples(
        index=False, name=None)) == [(HUALONG, "1", "2009", "38822"), (HUALONG, "1", "2010", "44645")]


@pytest.mark.parametrize("header", [
    ("zone_code", "indicator", "year", "value"),
    ("zone_code", "indicator", "year", "value", "unit"),
    ("zone_code", "indicator", "year", "value", "note"),
])
def test_csv_optional_columns(tmp_path: Path, header) -> None:
    columns = [CSV_HEADER.index(column) for column in header]
    rows = [[row[i] for i in columns] for row in CSV_ROWS]
    parsed = read_long_csv(write_csv(tmp_path / "a.csv", rows, header=header))
    assert list(parsed.cells["raw_value"]) == ["38822", "8.8241", "4.11", "1.26"]
    expected_units = ["万元", "万元/人", "‰", "吨标煤/万元"] if "unit" in header else [""] * 4
    assert list(parsed.cells["unit"]) == expected_units


@pytest.mark.parametrize("header", [
    ("zone_code", "indicator", "year"),
    ("zone_code", "indicator_id", "year", "value"),
    ("zone_code", "indicator", "year", "value", "unit", "note", "source"),
    ("zone_code", "indicator", "year", "value", "value"),
    ("实验区代码", "指标", "年份", "数值"),
])
def test_csv_bad_header(tmp_path: Path, header) -> None:
    path = write_csv(tmp_path / "a.csv", [(HUALONG, 1, 2009, 5, "万元", "", "")[: len(header)]], header=header)
    assert rejection(lambda: read_long_csv(path)).reason == "bad_header"


def test_csv_without_header_line_is_bad_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", CSV_ROWS, header=None)
    assert rejection(lambda: read_long_csv(path)).reason == "bad_header"


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
    bytes(range(128, 256)) * 8,
], ids=["with NUL bytes", "neither UTF-8 nor GB18030"])
def test_csv_binary_garbage(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    assert rejection(lambda: read_long_csv(path)).reason == "unreadable_file"


def test_multi_zone_csv(tmp_path: Path) -> None:
    rows = long_rows(HUALONG, {1: {2009: 1, 2010: 2}}) + long_rows(KUNSHAN, {1: {2009: 3}})
    parsed = read_long_csv(write_csv(tmp_path / "a.csv", rows))
    assert parsed.zone_code is None
    assert list(parsed.cells["zone_code"]) == [HUALONG, HUALONG, KUNSHAN]
    assert list(parsed.cells["source_cell"]) == ["line 2", "line 3", "line 4"]


def test_csv_keeps_unknown_zone_and_indicator_as_written(tmp_path: Path) -> None:
    parsed = read_long_csv(write_csv(tmp_path / "a.csv", [("999999", 17, 2020, "5", "", "")]))
    assert list(parsed.cells[["zone_code", "indicator_raw", "year_raw", "raw_value"]].iloc[0]) == [
        "999999", "17", "2020", "5"]


def test_fields_beyond_the_header_are_refused_not_dropped(tmp_path: Path) -> None:
    # A blank line sends the file to pandas, which would drop the fifth field of every row.
    path = tmp_path / "extra.csv"
    path.write_text("zone_code,indicator,year,value\n410902,1,2012,5,99\n410902,2,2012,7,98\n\n", encoding="utf-8")
    with pytest.raises(FileRejected) as refused:
        read_long_csv(path)
    assert refused.value.reason == "unreadable_file"
    assert "line 2" in refused.value.detail and "410902,1,2012,5,99" in refused.value.detail



def test_unquoted_comma_in_a_note_is_answered_with_quote_the_note(tmp_path: Path) -> None:
    # The advice matches the cause: the clerk is told to quote the note, not to save the CSV as .xlsx.
    path = tmp_path / "note.csv"
    path.write_text("zone_code,indicator,year,value,unit,note\n410902,1,2012,5,万元,\n"
                    "410902,2,2012,7,%,估算值,待核实\n", encoding="utf-8")
    refused = rejection(lambda: read_long_csv(path))
    assert refused.reason == "unreadable_file"
    chinese, _, english = refused.detail.partition(" / ")
    assert "第 3 行" in chinese and "把备注用英文双引号括起来" in chinese
    assert "line 3" in english and "quote the note" in english and "估算值,待核实" in english
    assert ".xlsx" not in refused.detail
    reason = load_reason_codes()["unreadable_file"]
    assert ".xlsx" not in reason.action_zh + reason.action_en  # the generic advice does not contradict it
