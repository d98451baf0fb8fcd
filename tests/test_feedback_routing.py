"""Every finding reaches the one who must fix it: feedback workbooks, the steward's list, the chase list
and the open problems, all read from mart.findings.

* the file-name matcher of staging.file_zones on a hand-made warehouse;
* end to end on generated submissions: values rejected as unknown_zone go to the zone that sent the
  file, files refused whole go to the zone their name gives or to the steward's list, a zone whose
  only finding is `revised` is clean and gets no workbook, a year the round does not collect is
  never an open problem, and every finding is in exactly one workbook (`findings_in_workbooks`,
  also run on the demo by tests/test_demo_pipeline.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipelines.models.sql_models import discover_models, materialise, run_test
from pipelines.runtime.settings import SQL_MODELS_DIR
from pipelines.runtime.warehouse import create_table, insert_frame
from schemas.catalogue import load_reason_codes
from schemas.core_tables import core_table_definitions
from tests import builders
from tests.builders import CHENGDU, DELTA, FOTANG, HUALONG, KUNSHAN

REASONS = load_reason_codes()
FIRST_ROW = 4  # the findings start on the fifth row of a feedback workbook (title, note, blank, header)
STEWARD_LIST = "_steward.xlsx"  # as the README names it
KIND_LABELS = {"refused_file": "拒收文件 file refused", "rejected": "拒收 rejected", "warning": "提示 warning"}


# --- reading feedback back ----------------------------------------------------------------------

def findings_in_workbooks(feedback_dir: Path) -> Counter:
    """Every row of every feedback workbook as (round, batch, workbook, path, sheet, cell, kind label, reason)."""
    found: Counter = Counter()
    for workbook in sorted(feedback_dir.rglob("*.xlsx")):
        round_year, batch = int(workbook.parts[-3]), int(workbook.parts[-2].removeprefix("batch-"))
        rows = CalamineWorkbook.from_path(str(workbook)).get_sheet_by_index(0).to_python()
        for row in rows[FIRST_ROW:]:
            found[(round_year, batch, workbook.stem, row[0], row[1] or "", row[2] or "", row[6], row[7])] += 1
    return found


WAREHOUSE_FINDINGS_SQL = """
select r.round, r.batch, s.path, coalesce(r.source_sheet, '') as sheet, r.source_cell as cell, 'rejected' as kind,
       r.reason as code
from core.rejected_values r join core.submission_files s using (file_id)
union all
select f.round, f.batch, s.path, coalesce(h.source_sheet, ''), coalesce(f.source_cell, ''), 'warning', f.flag
from core.value_flags f join core.submission_files s using (file_id)
left join core.observation_history h
  on h.file_id = f.file_id and h.source_cell = f.source_cell and h.zone_code = f.zone_code
 and h.indicator_id = f.indicator_id and h.year = f.year
where f.flag <> 'revised'
union all
select round, batch, path, '', '', 'refused_file', reason from core.submission_files where status = 'rejected'
"""


def findings_in_warehouse(con: duckdb.DuckDBPyConnection) -> Counter:
    """Every rejected value, warning other than `revised` and file refused whole, keyed like
    `findings_in_workbooks` without the workbook - read from the core tables, not from mart.findings."""
    rows = con.execute(WAREHOUSE_FINDINGS_SQL).fetchall()
    return Counter((round_year, batch, path, sheet, cell, KIND_LABELS[kind], REASONS[code].zh)
                   for round_year, batch, path, sheet, cell, kind, code in rows)


def assert_every_finding_once(feedback_dir: Path, con: duckdb.DuckDBPyConnection) -> Counter:
    """Each finding of the warehouse is in exactly one workbook (a zone's or the steward's list); returns
    the workbook rows."""
    in_workbooks = findings_in_workbooks(feedback_dir)
    without_workbook = Counter()
    for (round_year, batch, _workbook, *rest), count in in_workbooks.items():
        without_workbook[(round_year, batch, *rest)] += count
    expected = findings_in_warehouse(con)
    assert without_workbook == expected, (expected - without_workbook, without_workbook - expected)
    return in_workbooks


def workbook_of(in_workbooks: Counter, path: str) -> set[str]:
    return {key[2] for key in in_workbooks if key[3] == path}


# --- the file-name matcher ----------------------------------------------------------------------

ZONES = pd.DataFrame({
    "zone_code": ["320583", "510100", "510107", "33078A", "410902"],
    "zone_name": ["江苏省苏州市昆山市", "四川省成都市", "四川省成都市武侯区", "浙江省金华市义乌市佛堂镇",
                  "河南省濮阳市华龙区"],
})


@pytest.mark.parametrize(("name", "zone"), [
    ("320583_2014年第一批.xlsx", "320583"),             # a code standing alone
    ("33078a 监测数据.xls", "33078A"),                  # in any case
    ("江苏省苏州市昆山市_2014年第一批.xlsx", "320583"),  # the registered name
    ("四川省成都市武侯区2014.xlsx", "510107"),           # the longest name it contains
    ("四川省成都市2014.xlsx", "510100"),
    ("510100_四川省成都市武侯区.xlsx", "510100"),        # a code outranks a name
    ("1320583.xlsx", None),                             # not standing alone
    ("320583与410902.xlsx", None),                      # two codes: no one zone
    ("实验区监测数据_2014年第一批.xlsx", None),
    ("昆山市.xlsx", None),                              # not the registered name
])
def test_file_name_tells_the_zone(tmp_path: Path, name: str, zone: str | None) -> None:
    con = duckdb.connect(str(tmp_path / "tiny.duckdb"))
    definitions = core_table_definitions()
    for table in ("core.zones", "core.submission_files", "core.observation_history", "core.rejected_values"):
        create_table(con, definitions[table])
    insert_frame(con, definitions["core.zones"], ZONES)
    insert_frame(con, definitions["core.submission_files"], pd.DataFrame(
        [(1, f"2014/batch-1/{name}", 2014, 1, "rejected", "unreadable_file")],
        columns=["file_id", "path", "round", "batch", "status", "reason"]))
    model = discover_models(SQL_MODELS_DIR)["staging.file_zones"]
    materialise(con, model)
    assert {test.name: run_test(con, test)[0] for test in model.tests} == dict.fromkeys(
        (test.name for test in model.tests), 0)
    assert con.execute("select zone_code, told_by from staging.file_zones").fetchall() == [
        (zone, "file_name" if zone else None)]
    con.close()


# --- end to end -----------------------------------------------------------------------------------

MISTYPED = "410903"  # one digit off HUALONG's code, not in the registry


@pytest.fixture(scope="module")
def routed(module_run_sdz, tmp_path_factory):
    """2014 batch 1: HUALONG's CSV with three lines under a mistyped code; KUNSHAN's workbook with a
    2014 column (not collected by round 2014) and a text value; an unreadable workbook named after
    CHENGDU, another named by FOTANG's code, a note no one can be told for; DELTA clean.
    Batch 2: KUNSHAN corrected, CHENGDU readable, DELTA revising one value."""
    raw = tmp_path_factory.mktemp("routing") / "raw"
    builders.write_registry(raw)
    first, second = builders.batch_dir(raw, 2014, 1), builders.batch_dir(raw, 2014, 2)
    rows = builders.long_rows(HUALONG, builders.plausible_values(1))
    rows = [(MISTYPED, *row[1:]) if position in (3, 20, 41) else row for position, row in enumerate(rows)]
    builders.write_csv(first / "hualong.csv", rows)
    kunshan = builders.plausible_values(0, range(2009, 2015))
    kunshan[5][2012] = "待核实"
    builders.write_workbook(first / "kunshan.xlsx", zone_code=KUNSHAN, years=range(2009, 2015), values=kunshan)
    (first / "四川省成都市_2014年第一批.xlsx").write_bytes(b"not a workbook")
    (first / f"{FOTANG.lower()}-data.xlsx").write_bytes(b"not a workbook either")
    (first / "说明.docx").write_bytes(b"a cover note")
    delta = builders.plausible_values(4)
    builders.write_workbook(first / "delta.xlsx", zone_code=DELTA, values=delta)
    builders.write_workbook(second / "kunshan.xlsx", zone_code=KUNSHAN)
    builders.write_workbook(second / "chengdu.xlsx", zone_code=CHENGDU, values=builders.plausible_values(2))
    delta[3][2011] = round(delta[3][2011] * 1.02, 2)
    builders.write_workbook(second / "delta.xlsx", zone_code=DELTA, values=delta)
    run = module_run_sdz(raw)
    return run, run.warehouse.parent / "feedback"


def test_every_finding_is_in_exactly_one_workbook(routed) -> None:
    run, feedback = routed
    assert_every_finding_once(feedback, run.con)


def test_unknown_zone_lines_go_to_the_zone_that_sent_the_file(routed) -> None:
    run, feedback = routed
    assert run.rows("select count(*) from core.rejected_values where reason = 'unknown_zone'") == [(3,)]
    rows = findings_in_workbooks(feedback)
    unknown = {key for key in rows if key[7] == REASONS["unknown_zone"].zh}
    assert {key[2] for key in unknown} == {HUALONG} and len(unknown) == 3
    assert run.rows("select zone_code, told_by from staging.file_zones where path like '%hualong.csv'") == [
        (HUALONG, "values")]


def test_files_refused_whole_go_to_their_zone_or_the_steward(routed) -> None:
    run, feedback = routed
    rows = findings_in_workbooks(feedback)
    assert workbook_of(rows, "2014/batch-1/四川省成都市_2014年第一批.xlsx") == {CHENGDU}
    assert workbook_of(rows, f"2014/batch-1/{FOTANG.lower()}-data.xlsx") == {FOTANG}
    assert workbook_of(rows, "2014/batch-1/说明.docx") == {STEWARD_LIST.removesuffix(".xlsx")}
    assert (feedback / "2014" / "batch-1" / STEWARD_LIST).exists()
    refused = [key for key in rows if key[2] == CHENGDU]
    assert [key[6:] for key in refused] == [(KIND_LABELS["refused_file"], REASONS["unreadable_file"].zh)]


def test_the_chase_list_agrees_with_the_feedback(routed) -> None:
    """A zone is with_problems exactly when it has a workbook; revised alone asks nothing of DELTA;
    a zone whose only file was refused has sent something (rejected), not nothing."""
    run, feedback = routed
    assert run.rows("select count(*) from core.value_flags where zone_code = ? and flag = 'revised'", [DELTA]) == [
        (1,)]
    status = dict(((b, z), s) for b, z, s in run.rows(
        "select batch, zone_code, status from mart.submission_status where round = 2014"))
    assert status[(2, DELTA)] == "clean"
    assert status[(1, CHENGDU)] == "rejected" and status[(1, FOTANG)] == "rejected"
    assert status[(1, HUALONG)] == "with_problems"
    workbooks = {(int(p.parts[-2].removeprefix("batch-")), p.stem) for p in (feedback / "2014").rglob("*.xlsx")}
    assert (2, DELTA) not in workbooks
    with_problems = {key for key, value in status.items() if value == "with_problems"}
    assert with_problems == {key for key in workbooks if key in status and status[key] != "rejected"}


def test_a_year_the_round_does_not_collect_is_never_open(routed) -> None:
    """KUNSHAN's 2014 column is in its batch-1 feedback, but once batch 2 corrected the text value
    nothing of KUNSHAN is open; FOTANG's refused file stays open (it sent nothing since), CHENGDU's is
    closed by its batch-2 workbook."""
    run, feedback = routed
    rows = findings_in_workbooks(feedback)
    assert sum(count for key, count in rows.items()
               if key[2] == KUNSHAN and key[7] == REASONS["year_out_of_range"].zh) == 16
    problems = {zone: total for zone, total in run.rows(
        "select zone_code, open_total from mart.open_problems where round = 2014")}
    assert KUNSHAN not in problems and CHENGDU not in problems
    assert run.rows("select count(*) from mart.findings where code = 'year_out_of_range' and is_open") == [(0,)]
    problems = {zone: (files, total) for zone, files, total in run.rows(
        "select zone_code, open_files, open_total from mart.open_problems where round = 2014")}
    assert problems[FOTANG] == (1, 1)
    assert problems[HUALONG][1] == 3
