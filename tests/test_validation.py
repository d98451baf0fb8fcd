"""The value rules (README: "Value rules"), end to end: one run over a workbook and a multi-zone CSV that
between them hold every value-level reason code, checked in the warehouse's tables.
"""

from __future__ import annotations

import re

import pytest

from pipelines.ingest.registry import read_registry
from pipelines.validate.check_files import validate_files
from schemas.messages import load_messages
from tests.builders import HUALONG, KUNSHAN, batch_dir, plausible_values, write_csv, write_registry, write_workbook

SHEET = "监测数据"
WORKBOOK = "2014/batch-1/kunshan.xlsx"
CSV = "2014/batch-1/bulk.csv"


def _workbook_values() -> dict[int, dict[int, object]]:
    values = plausible_values(0)
    values[1] = {year: round(value * 10000) for year, value in values[1].items()}  # written in 元
    values[2].update({2010: -1, 2011: 101, 2012: "3.5%", 2013: "—"})
    values[3][2009] = "abc"
    values[4][2012] = "abc"  # row named wrongly: every non-missing cell rejected
    values[6][2009] = "=1+2"  # a formula with no cached value
    values[7][2009] = 6.23  # written in 万元/人
    values[8][2014] = 9000  # a year the 2014 round does not collect
    values[9].update({2010: 1001, 2011: 1000})
    values[12][2013] = "—"  # in the row with a wrong unit: still just missing
    values[14].update({2009: 100, 2010: "100.5"})
    values[16] = {2009: "", 2010: "-", 2011: "N/A", 2012: "／", 2013: "无"}
    return values


CSV_LINES = [
    ("999999", 1, 2010, "5", "万元", ""),  # line 2
    (HUALONG, 17, 2010, "5", "", ""),  # line 3
    (HUALONG, 1, 2008, "5", "万元", ""),  # line 4
    (HUALONG, 1, 2010, "=1+2", "万元", ""),  # line 5
    (HUALONG, 2, 2011, "150%", "%", ""),  # line 6
    (HUALONG, 1, 2011, "5", "美元", ""),  # line 7
    (HUALONG, 9, 2011, "0.382", "%", "in % instead of ‰"),  # line 8
    (HUALONG, 1, 2012, "--", "万元", ""),  # line 9
    (HUALONG, "abc", 2012, "5", "", ""),  # line 10
    (HUALONG, 1, "abc", "5", "万元", ""),  # line 11
    (HUALONG, 1, 2009, "-5", "万元", ""),  # line 12
    (HUALONG, 3, 2013, "１２．５", "件/万人", ""),  # line 13
]

# (file, cell, zone, indicator, year, raw value, reason)
EXPECTED_REJECTIONS = [
    (WORKBOOK, "G7", KUNSHAN, 2, 2010, "-1", "negative_value"),
    (WORKBOOK, "H7", KUNSHAN, 2, 2011, "101", "out_of_range"),
    (WORKBOOK, "F8", KUNSHAN, 3, 2009, "abc", "not_a_number"),
    *[(WORKBOOK, f"{col}9", KUNSHAN, 4, year, raw, "indicator_name_mismatch")
      for col, year, raw in [("F", 2009, None), ("G", 2010, None), ("H", 2011, None), ("I", 2012, "abc"),
                             ("J", 2013, None)]],
    (WORKBOOK, "F11", KUNSHAN, 6, 2009, "=1+2", "formula_without_value"),
    (WORKBOOK, "K13", KUNSHAN, 8, 2014, "9000", "year_out_of_range"),
    (WORKBOOK, "G14", KUNSHAN, 9, 2010, "1001", "out_of_range"),
    (WORKBOOK, "G19", KUNSHAN, 14, 2010, "100.5", "out_of_range"),
    *[(WORKBOOK, f"{col}17", KUNSHAN, 12, year, None, "unit_mismatch")
      for col, year in zip("FGHI", range(2009, 2013), strict=True)],
    (CSV, "line 2", "999999", 1, 2010, "5", "unknown_zone"),
    (CSV, "line 3", HUALONG, 17, 2010, "5", "unknown_indicator"),
    (CSV, "line 4", HUALONG, 1, 2008, "5", "year_out_of_range"),
    (CSV, "line 5", HUALONG, 1, 2010, "=1+2", "not_a_number"),
    (CSV, "line 6", HUALONG, 2, 2011, "150%", "out_of_range"),
    (CSV, "line 7", HUALONG, 1, 2011, "5", "unit_mismatch"),
    (CSV, "line 10", HUALONG, None, 2012, "5", "unknown_indicator"),
    (CSV, "line 11", HUALONG, 1, None, "5", "year_out_of_range"),
    (CSV, "line 12", HUALONG, 1, 2009, "-5", "negative_value"),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory, module_run_sdz):
    raw = tmp_path_factory.mktemp("validation") / "raw"
    write_registry(raw)
    write_workbook(
        batch_dir(raw) / "kunshan.xlsx", years=range(2009, 2015), values=_workbook_values(),
        units={1: "元", 7: "万元/人", 12: "美元/人"}, names={4: "高新技术企业数"},
    )
    write_csv(batch_dir(raw) / "bulk.csv", CSV_LINES)
    return module_run_sdz(raw)


@pytest.fixture(scope="module")
def rejected(run) -> dict[tuple[str, str], tuple]:
    rows = run.rows(
        """select s.path, r.source_cell, r.zone_code, r.indicator_id, r.year, r.raw_value, r.reason, r.source_sheet
        from core.rejected_values r join core.submission_files s using (file_id)"""
    )
    return {(path, cell): rest for path, cell, *rest in rows}


def test_files_are_loaded(run) -> None:
    assert run.rows("select path, status, zone_code from core.submission_files order by path") == [
        (CSV, "loaded", None), (WORKBOOK, "loaded", KUNSHAN)]


def test_exactly_the_expected_cells_are_rejected(rejected) -> None:
    assert sorted(rejected) == sorted((path, cell) for path, cell, *_ in EXPECTED_REJECTIONS)


@pytest.mark.parametrize("expected", EXPECTED_REJECTIONS, ids=lambda e: f"{e[6]}@{e[0].split('/')[-1]}:{e[1]}")
def test_rejection(rejected, expected) -> None:
    path, cell, zone, indicator, year, raw, reason = expected
    got_zone, got_indicator, got_year, got_raw, got_reason, got_sheet = rejected[(path, cell)]
    assert got_reason == reason
    assert (got_zone, got_indicator, got_year) == (zone, indicator, year)
    if raw is not None:
        assert got_raw == raw
    assert got_sheet == (SHEET if path == WORKBOOK else None)


def test_every_value_level_reason_code_occurs(rejected) -> None:
    reasons = {reason for *_, reason, _sheet in rejected.values()}
    assert reasons == {"not_a_number", "negative_value", "out_of_range", "year_out_of_range", "unknown_zone",
                       "unknown_indicator", "unit_mismatch", "indicator_name_mismatch", "formula_without_value"}


def test_rejected_rows_carry_the_cell_as_written(run) -> None:
    values = plausible_values(0)
    rows = dict(run.rows("""select source_cell, raw_value from core.rejected_values
                            where reason = 'unit_mismatch' and source_cell like '%17'"""))
    # numbers as the spreadsheet shows them: 25203.3, not 25203.300000000003 or 2.52033e+04
    assert rows == {f"{col}17": repr(values[12][year]) for col, year in zip("FGHI", range(2009, 2013), strict=True)}


def test_missing_markers_land_in_neither_table(run) -> None:
    missing = ["J7", "J17", "F21", "G21", "H21", "I21", "J21", "line 9"]
    for table in ("core.observation_history", "core.rejected_values"):
        found = run.rows(f"select source_cell from {table} where source_cell in ({', '.join('?' * len(missing))})",
                         missing)
        assert found == [], table


@pytest.mark.parametrize(("zone", "indicator", "year", "cell", "value"), [
    (KUNSHAN, 1, 2009, "F6", plausible_values(0)[1][2009]),  # 元 → 万元
    (KUNSHAN, 2, 2012, "I7", 3.5),  # "3.5%" for a % indicator
    (KUNSHAN, 7, 2009, "F12", 62300.0),  # 6.23 万元/人 → 元/人
    (KUNSHAN, 9, 2011, "H14", 1000.0),  # the ‰ limit itself
    (KUNSHAN, 14, 2009, "F19", 100.0),  # the % limit itself
    (HUALONG, 9, 2011, "line 8", 3.82),  # 0.382 % → ‰
    (HUALONG, 3, 2013, "line 13", 12.5),  # full-width digits
])
def test_accepted_values_in_the_catalogue_unit(run, zone, indicator, year, cell, value) -> None:
    rows = run.rows("select value, source_cell from core.observations where zone_code = ? and indicator_id = ? "
                    "and year = ?", [zone, indicator, year])
    assert rows == [(value, cell)]


def test_accepted_and_rejected_add_up(run) -> None:
    # Workbook: 16 rows x 5 years, plus the 2014 cell, minus 7 missing markers / empty cells.
    # CSV: 12 lines minus the "--" line.
    counts = dict(run.rows("""select s.path, count(*) from (
            select file_id from core.observation_history union all select file_id from core.rejected_values
        ) v join core.submission_files s using (file_id) group by s.path"""))
    assert counts == {WORKBOOK: 16 * 5 + 1 - 7, CSV: 11}


def test_missing_marker_in_a_row_with_a_wrong_name_is_not_rejected(tmp_path) -> None:
    raw = tmp_path / "raw"
    registry = read_registry(write_registry(raw))
    path = write_workbook(tmp_path / "kunshan_2014.xlsx", values={1: {2009: 100}, 4: {2009: 100, 2010: "—", 2011: "/"}},
                          names={4: "高新技术企业数"})
    problems = validate_files({path: 2014}, registry).problems
    assert list(problems["source_cell"]) == ["F9"]


def test_huge_indicator_number_is_rejected_not_fatal(tmp_path, run_sdz) -> None:
    raw = tmp_path / "raw"
    write_registry(raw)
    write_csv(batch_dir(raw) / "shifted.csv", [
        (HUALONG, "3185016800", 2010, "5", "", "columns shifted by one"),  # line 2
        (HUALONG, 1, 2010, "5", "万元", ""),  # line 3
    ])
    run = run_sdz(raw)
    assert run.rows("select source_cell, raw_value, reason from core.rejected_values") == [
        ("line 2", "5", "unknown_indicator")]
    assert run.scalar("select count(*) from core.observations") == 1


# --- what the clerk reads (the detail, 说明) ---------------------------------------------------

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_every_detail_is_in_chinese_with_english(run) -> None:
    details = run.rows("select reason, detail from core.rejected_values")
    assert details
    for reason, detail in details:
        chinese, separator, english = detail.partition(" / ")
        assert separator and english and CHINESE.search(chinese), (reason, detail)


@pytest.mark.parametrize("path, cell, detail", [
    (CSV, "line 12", "数值 -5 小于零 / value -5 is below zero"),
    (WORKBOOK, "H7", "数值 101 超过 100 % / value 101 is above 100 %"),
    (WORKBOOK, "F8", "“abc”无法识别为数值 / 'abc' does not read as a number"),
    (CSV, "line 2", "实验区代码 999999 不在名录中 / zone code 999999 is not in the registry"),
    (CSV, "line 7", "计量单位“美元”无法精确换算为“万元” / unit 美元 has no exact conversion to 万元"),
])
def test_detail_reads_in_chinese_with_english(run, path, cell, detail) -> None:
    assert run.scalar("""select r.detail from core.rejected_values r join core.submission_files using (file_id)
                         where path = ? and source_cell = ?""", [path, cell]) == detail


def test_numbers_print_as_written(tmp_path) -> None:
    # 100.30000000000001 is how a binary float writes 100.3; 32000.0 is how DuckDB writes 32000.
    raw = tmp_path / "raw"
    registry = read_registry(write_registry(raw))
    values = plausible_values(0)
    values[2][2010] = 0.1 + 0.2 + 100
    values[1] = {2009: 10000, 2010: 32000, 2011: 33000, 2012: 34000, 2013: 35000}
    workbook = write_workbook(batch_dir(raw) / "kunshan.xlsx", values=values)
    first = write_csv(batch_dir(raw) / "a.csv", [(HUALONG, 1, 2010, "1608", "万元", "")])
    second = write_csv(batch_dir(raw) / "b.csv", [(HUALONG, 1, 2010, "1461", "万元", "")])
    report = validate_files({workbook: 2014, first: 2014, second: 2014}, registry)
    problems = {cell: (raw_value, detail) for cell, raw_value, detail
                in report.problems[["source_cell", "raw_value", "detail"]].itertuples(index=False)}
    assert problems["G7"] == ("100.3", "数值 100.3 超过 100 % / value 100.3 is above 100 %")
    conflicts = report.problems[report.problems["reason"] == "conflicting_duplicate"]
    assert sorted(conflicts["raw_value"]) == ["1461", "1608"]
    assert set(conflicts["detail"]) == {"本批次中 410902 指标 1 2010 年有不同数值：1461, 1608 / "
                                        "this batch gives 1461, 1608 for 410902 indicator 1 year 2010"}
    jumps = report.warnings[report.warnings["flag"] == "suspicious_jump"]
    assert list(jumps["detail"]) == ["2009 年：10000 → 2010 年：32000（×3.2） / 2009: 10000 -> 2010: 32000 (x3.2)"]


def test_every_message_names_the_same_fields_in_chinese_and_english() -> None:
    def fields(template: str) -> set[str]:
        return set(re.findall(r"{(\w+)}", template))
    for key, (chinese, english) in load_messages().items():
        assert CHINESE.search(chinese), key
        assert fields(chinese) - {"problems_zh"} == fields(english) - {"problems"}, key
