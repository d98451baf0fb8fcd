"""Batches, rounds, duplicates and flags end to end (README: "Rules behind the codes"): small raw folders run
through the whole pipeline into real DuckDB files.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.runtime.runner import RunFailed
from pipelines.validate.values import missing_mask
from schemas.core_tables import core_table_definitions
from tests.builders import (
    CHENGDU,
    CHENGGUAN,
    DEFAULT_ZONES,
    DELTA,
    FOTANG,
    HUALONG,
    KUNSHAN,
    batch_dir,
    long_rows,
    plausible_values,
    write_csv,
    write_registry,
    write_workbook,
)

SHEET = "监测数据"
CORE_TABLES = list(core_table_definitions())


def history_of(run, zone: str, indicator: int, year: int) -> list[tuple]:
    return run.rows(
        """select h.round, h.batch, s.path, h.source_sheet, h.source_cell, h.value, h.in_force
        from core.observation_history h join core.submission_files s using (file_id)
        where h.zone_code = ? and h.indicator_id = ? and h.year = ? order by h.round, h.batch, s.path""",
        [zone, indicator, year])


def in_force(run, zone: str, indicator: int, year: int) -> list[tuple]:
    return run.rows(
        """select o.value, o.round, o.batch, s.path, o.source_sheet, o.source_cell
        from core.observations o join core.submission_files s using (file_id)
        where o.zone_code = ? and o.indicator_id = ? and o.year = ?""", [zone, indicator, year])


def value_flags(run, zone: str, flag: str | None = None) -> set[tuple]:
    """(zone, indicator, year, round, batch, flag) of a zone's value flags (file-level ones excluded)."""
    rows = run.rows("""select zone_code, indicator_id, year, round, batch, flag from core.value_flags
                       where zone_code = ? and indicator_id is not null and (? is null or flag = ?)""",
                    [zone, flag, flag])
    return set(rows)


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under folder: relative path -> (sha256, mtime_ns)."""
    return {
        path.relative_to(folder).as_posix(): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*")) if path.is_file()
    }


def non_missing(values: dict[int, dict[int, object]]) -> int:
    """How many of these cells hold something other than a missing marker."""
    cells = pd.Series([str(value) for series in values.values() for value in series.values()], dtype="string")
    return int((~missing_mask(cells)).sum())


# --- batches and rounds: three scenarios on three zones, one run ----------------------------
#   KUNSHAN / HUALONG: precedence across batches and rounds
#   CHENGDU: duplicates within a batch
#   FOTANG: warning flags

P = plausible_values(1)


def _write_precedence(raw: Path) -> None:
    write_workbook(batch_dir(raw, 2014, 1) / "kunshan.xlsx", values=P)
    hualong = plausible_values(2)
    hualong[1] = {2009: 15802, 2010: 16500, 2011: 17300, 2012: 18100, 2013: 19000}
    hualong[7] = {2009: 62300, 2010: 65000, 2011: 68000, 2012: 71000, 2013: 74000}
    write_csv(batch_dir(raw, 2014, 1) / "hualong.csv", long_rows(HUALONG, hualong))
    write_workbook(batch_dir(raw, 2014, 2) / "kunshan.xlsx", values={
        1: {2010: 120000, 2011: ""},  # a revision, and a blank cell
        2: {2009: P[2][2009]},  # resubmitted unchanged
        3: {2009: "—"},  # a missing marker does not erase either
    })
    write_csv(batch_dir(raw, 2014, 2) / "hualong.csv", [
        (HUALONG, 1, 2009, "158020000", "元", "same value in 元"),
        (HUALONG, 7, 2009, "6.23", "万元/人", "same value in 万元/人"),
    ])
    write_workbook(batch_dir(raw, 2015, 1) / "kunshan.xlsx", years=range(2009, 2015),
                   values={1: {2010: 125000, 2014: 130000}})


def _write_conflicts(raw: Path) -> None:
    values = plausible_values(1)
    del values[4][2009]
    write_workbook(batch_dir(raw, 2014, 1) / "chengdu.xlsx", zone_code=CHENGDU, values=values)
    write_csv(batch_dir(raw, 2014, 1) / "chengdu_fix.csv", [
        (CHENGDU, 1, 2009, str(values[1][2009]), "万元", "equal to the workbook"),  # line 2
        (CHENGDU, 1, 2010, "99999", "万元", "differs from the workbook"),  # line 3
        (CHENGDU, 4, 2009, "100", "家", ""),  # line 4
        (CHENGDU, 4, 2009, "100", "家", ""),  # line 5
        (CHENGDU, 4, 2009, "101", "家", ""),  # line 6
    ])
    for name, value in (("a.csv", "3.1"), ("b.csv", "3.2")):  # 2/2009 conflicts, 2/2010 is equal
        rows = [(CHENGDU, 2, 2009, value, "%", ""), (CHENGDU, 2, 2010, "3.3", "%", "")]
        write_csv(batch_dir(raw, 2014, 2) / name, rows)


def _write_flags(raw: Path) -> None:
    values = plausible_values(0)
    values[5] = {2009: 10, 2010: 11, 2011: 12, 2012: 13, 2013: 14}
    values[8] = {2009: 100, 2010: 300, 2011: 901, 2012: 300, 2013: 100}  # x3 exactly, >x3, <÷3, ÷3 exactly
    values[12] = {2009: 20000, 2010: 21000, 2011: 210000000, 2012: 23000, 2013: 24000}  # x10000 in 2011
    values[13] = {2009: 9000, 2010: 9500, 2011: 10000, 2012: 10500, 2013: 11000}
    values[14] = {2009: 0.55, 2010: 56, 2011: 57, 2012: 58, 2013: 59}  # a fraction instead of % in 2009
    write_workbook(batch_dir(raw, 2014, 1) / "fotang.xlsx", zone_code=FOTANG, values=values)
    write_workbook(batch_dir(raw, 2014, 2) / "fotang.xlsx", zone_code=FOTANG, values={
        5: {2009: 30, 2010: 33},  # both years revised: 33 is judged against 30, not against 10
        8: {2011: 310},
        12: {2011: 22000},
        13: {2012: 35000},  # x3.5 against 2011's 10000 in force from batch 1
    })


@pytest.fixture(scope="module")
def batches(tmp_path_factory, module_run_sdz):
    raw = tmp_path_factory.mktemp("batches") / "raw"
    write_registry(raw)
    _write_precedence(raw)
    _write_conflicts(raw)
    _write_flags(raw)
    return module_run_sdz(raw)


def test_later_batch_and_round_override(batches) -> None:
    assert in_force(batches, KUNSHAN, 1, 2010) == [(125000.0, 2015, 1, "2015/batch-1/kunshan.xlsx", SHEET, "G6")]
    assert in_force(batches, KUNSHAN, 1, 2014) == [(130000.0, 2015, 1, "2015/batch-1/kunshan.xlsx", SHEET, "K6")]


def test_history_keeps_every_version_with_its_source(batches) -> None:
    assert history_of(batches, KUNSHAN, 1, 2010) == [
        (2014, 1, "2014/batch-1/kunshan.xlsx", SHEET, "G6", P[1][2010], False),
        (2014, 2, "2014/batch-2/kunshan.xlsx", SHEET, "G6", 120000.0, False),
        (2015, 1, "2015/batch-1/kunshan.xlsx", SHEET, "G6", 125000.0, True),
    ]


@pytest.mark.parametrize(("indicator", "year"), [(1, 2011), (3, 2009)], ids=["blank cell", "missing marker"])
def test_later_blank_does_not_erase(batches, indicator: int, year: int) -> None:
    assert in_force(batches, KUNSHAN, indicator, year) == [
        (P[indicator][year], 2014, 1, "2014/batch-1/kunshan.xlsx", SHEET, f"{'FGHIJ'[year - 2009]}{5 + indicator}")]


def test_unchanged_resubmission_is_in_force_but_not_revised(batches) -> None:
    assert in_force(batches, KUNSHAN, 2, 2009) == [(P[2][2009], 2014, 2, "2014/batch-2/kunshan.xlsx", SHEET, "F7")]
    assert len(history_of(batches, KUNSHAN, 2, 2009)) == 2


def test_revised_only_where_the_value_changed(batches) -> None:
    # The 元 and 万元/人 resubmissions of HUALONG are the same values in other units.
    assert value_flags(batches, KUNSHAN, "revised") == {
        (KUNSHAN, 1, 2010, 2014, 2, "revised"),
        (KUNSHAN, 1, 2010, 2015, 1, "revised"),
    }
    assert value_flags(batches, HUALONG) == set()
    assert in_force(batches, HUALONG, 1, 2009)[0][:3] == (15802.0, 2014, 2)
    assert in_force(batches, HUALONG, 7, 2009)[0][:3] == (62300.0, 2014, 2)


def test_observations_hold_one_row_per_key(batches) -> None:
    total, keys = batches.rows("""select count(*), count(distinct (zone_code, indicator_id, year))
                                  from core.observations""")[0]
    assert total == keys
    assert batches.scalar("select count(*) from core.observations where zone_code in (?, ?)",
                          [KUNSHAN, HUALONG]) == 16 * 5 + 1 + 16 * 5
    assert batches.scalar("select count(*) from core.observation_history where in_force") == total


def test_conflicting_values_are_all_rejected(batches) -> None:
    rows = batches.rows("""select s.path, r.source_cell, r.indicator_id, r.year, r.raw_value
        from core.rejected_values r join core.submission_files s using (file_id)
        where r.reason = 'conflicting_duplicate'""")
    assert sorted((path, cell) for path, cell, *_ in rows) == sorted([
        ("2014/batch-1/chengdu.xlsx", "G6"),
        ("2014/batch-1/chengdu_fix.csv", "line 3"),
        ("2014/batch-1/chengdu_fix.csv", "line 4"),
        ("2014/batch-1/chengdu_fix.csv", "line 5"),
        ("2014/batch-1/chengdu_fix.csv", "line 6"),
        ("2014/batch-2/a.csv", "line 2"),
        ("2014/batch-2/b.csv", "line 2"),
    ])
    assert batches.scalar("select count(*) from core.rejected_values where reason <> 'conflicting_duplicate'") == 0


def test_conflict_leaves_no_value_or_the_earlier_one(batches) -> None:
    assert in_force(batches, CHENGDU, 1, 2010) == []
    assert in_force(batches, CHENGDU, 4, 2009) == []
    # batch 2 conflicts on 2/2009: the batch-1 value stays in force, and nothing is revised
    assert in_force(batches, CHENGDU, 2, 2009) == [(P[2][2009], 2014, 1, "2014/batch-1/chengdu.xlsx", SHEET, "F7")]
    assert (CHENGDU, 2, 2009, 2014, 2, "revised") not in value_flags(batches, CHENGDU)


def test_equal_duplicates_count_once(batches) -> None:
    assert [row[:3] for row in in_force(batches, CHENGDU, 1, 2009)] == [(P[1][2009], 2014, 1)]
    assert [row[:3] for row in in_force(batches, CHENGDU, 2, 2010)] == [(3.3, 2014, 2)]
    assert value_flags(batches, CHENGDU) == {(CHENGDU, 2, 2010, 2014, 2, "revised")}
    revised = batches.scalar("select count(*) from core.value_flags where zone_code = ? and flag = 'revised'",
                             [CHENGDU])
    assert revised == 1


def test_flags_of_each_batch(batches) -> None:
    assert value_flags(batches, FOTANG) == {
        (FOTANG, 8, 2011, 2014, 1, "suspicious_jump"),
        (FOTANG, 8, 2012, 2014, 1, "suspicious_jump"),  # the year after the outlier
        (FOTANG, 12, 2011, 2014, 1, "suspicious_jump"),
        (FOTANG, 12, 2011, 2014, 1, "possible_unit_error"),
        (FOTANG, 12, 2012, 2014, 1, "suspicious_jump"),
        (FOTANG, 14, 2009, 2014, 1, "possible_unit_error"),
        (FOTANG, 14, 2010, 2014, 1, "suspicious_jump"),
        (FOTANG, 5, 2009, 2014, 2, "revised"),
        (FOTANG, 5, 2010, 2014, 2, "revised"),
        (FOTANG, 8, 2011, 2014, 2, "revised"),
        (FOTANG, 12, 2011, 2014, 2, "revised"),
        (FOTANG, 13, 2012, 2014, 2, "revised"),
        (FOTANG, 13, 2012, 2014, 2, "suspicious_jump"),
    }


def test_flags_point_at_the_flagged_version(batches) -> None:
    rows = batches.rows("""select f.source_cell, s.path from core.value_flags f join core.submission_files s
                           using (file_id) where f.zone_code = ? and indicator_id = 12 and year = 2011
                           order by f.batch, f.flag""", [FOTANG])
    assert rows == [("H17", "2014/batch-1/fotang.xlsx")] * 2 + [("H17", "2014/batch-2/fotang.xlsx")]


def test_superseded_outlier_is_corrected_in_force(batches) -> None:
    assert [row[:3] for row in in_force(batches, FOTANG, 12, 2011)] == [(22000.0, 2014, 2)]


# --- files: duplicates, unsupported, ignored, rejected whole; file-level warnings ------------

MESSY = plausible_values(0)
MESSY[2].update({2010: "abc", 2011: -1, 2012: "—", 2013: "N/A"})
MESSY[4].update({2009: "1,000", 2010: "＝"})
MESSY[9][2011] = 1500
MESSY[16] = {2009: "/", 2010: ""}
MESSY_CSV = [
    (KUNSHAN, 1, 2009, str(MESSY[1][2009]), "万元", ""),  # equal duplicate of the workbook
    (KUNSHAN, 1, 2010, "1", "万元", ""),  # conflicting duplicate
    ("999999", 1, 2010, "5", "万元", ""),
    (KUNSHAN, 17, 2010, "5", "", ""),
    (KUNSHAN, 1, 2020, "5", "万元", ""),
    (KUNSHAN, 3, 2011, "—", "", ""),
    (DELTA, 1, 2011, "100", "美元", ""),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory, module_run_sdz):
    raw = tmp_path_factory.mktemp("files") / "raw"
    write_registry(raw)
    b1, b2 = batch_dir(raw, 2014, 1), batch_dir(raw, 2014, 2)
    kunshan = write_workbook(b1 / "kunshan.xlsx", values=MESSY, names={6: "授权专利数"})
    (b1 / "kunshan（副本）.xlsx").write_bytes(kunshan.read_bytes())
    (b2 / "kunshan.xlsx").write_bytes(kunshan.read_bytes())  # resubmitted unchanged in batch 2
    write_csv(b1 / "kunshan_bulk.csv", MESSY_CSV, encoding="gb18030")
    write_workbook(b1 / "chengguan.xlsx", zone_code=CHENGGUAN, values=plausible_values(5))
    write_workbook(b1 / "chengdu.xlsx", zone_code=CHENGDU, zone_name="四川省成都市高新区", values=plausible_values(6))
    write_workbook(b1 / "no_code.xlsx", zone_code="", zone_name="")
    write_workbook(b1 / "no_years.xlsx", years=[])
    (b1 / "broken.xlsx").write_bytes(kunshan.read_bytes()[:1000])
    write_csv(b1 / "bad_header.csv", [(HUALONG, 1, 2009, 5)], header=("zone", "indicator", "year", "value"))
    (b1 / "说明.docx").write_bytes(b"PK\x03\x04 not really")
    (b1 / "README").write_text("notes", encoding="utf-8")
    (b1 / "~$kunshan.xlsx").write_bytes(b"lock")
    (b1 / ".DS_Store").write_bytes(b"\x00\x00")
    (b1 / ".hidden").mkdir()
    write_workbook(b1 / ".hidden" / "hualong.xlsx", zone_code=HUALONG)
    write_workbook(raw / "2014" / "not_in_a_batch.xlsx", zone_code=HUALONG)
    before = snapshot(raw)
    run = module_run_sdz(raw)
    return run, raw, before


def test_raw_folder_is_untouched(files) -> None:
    _, raw, before = files
    assert snapshot(raw) == before


def test_submission_files(files) -> None:
    run, _, _ = files
    rows = run.rows("select path, round, batch, status, reason, zone_code from core.submission_files order by file_id")
    assert rows == [
        ("2014/batch-1/README", 2014, 1, "rejected", "unsupported_file_type", None),
        ("2014/batch-1/bad_header.csv", 2014, 1, "rejected", "bad_header", None),
        ("2014/batch-1/broken.xlsx", 2014, 1, "rejected", "unreadable_file", None),
        ("2014/batch-1/chengdu.xlsx", 2014, 1, "loaded", None, CHENGDU),
        ("2014/batch-1/chengguan.xlsx", 2014, 1, "loaded", None, CHENGGUAN),
        ("2014/batch-1/kunshan.xlsx", 2014, 1, "loaded", None, KUNSHAN),
        ("2014/batch-1/kunshan_bulk.csv", 2014, 1, "loaded", None, None),
        ("2014/batch-1/kunshan（副本）.xlsx", 2014, 1, "duplicate", "duplicate", None),
        ("2014/batch-1/no_code.xlsx", 2014, 1, "rejected", "zone_not_identified", None),
        ("2014/batch-1/no_years.xlsx", 2014, 1, "rejected", "no_data_sheet", None),
        ("2014/batch-1/说明.docx", 2014, 1, "rejected", "unsupported_file_type", None),
        ("2014/batch-2/kunshan.xlsx", 2014, 2, "duplicate", "duplicate", None),
    ]
    assert [row[0] for row in run.rows("select file_id from core.submission_files order by file_id")] == list(
        range(1, 13))


def test_duplicates_name_the_loaded_file(files) -> None:
    run, _, _ = files
    details = run.rows("select detail from core.submission_files where status = 'duplicate'")
    assert len(details) == 2
    for (detail,) in details:
        assert "2014/batch-1/kunshan.xlsx" in detail


def test_file_level_warnings(files) -> None:
    run, _, _ = files
    rows = run.rows("""select f.zone_code, f.indicator_id, f.year, f.round, f.batch, s.path, f.flag
        from core.value_flags f join core.submission_files s using (file_id)
        where f.flag in ('zone_not_expected', 'zone_name_mismatch') order by s.path""")
    assert rows == [
        (CHENGDU, None, None, 2014, 1, "2014/batch-1/chengdu.xlsx", "zone_name_mismatch"),
        (CHENGGUAN, None, None, 2014, 1, "2014/batch-1/chengguan.xlsx", "zone_not_expected"),
    ]
    # warned, but loaded
    assert run.scalar("select count(*) from core.observations where zone_code = ?", [CHENGGUAN]) == 80
    assert run.scalar("select count(*) from core.observations where zone_code = ?", [CHENGDU]) == 80


def test_nothing_lost(files) -> None:
    """Every non-missing cell read from a file not rejected whole is in exactly one of
    observation_history and rejected_values."""
    run, _, _ = files
    landed = dict(run.rows("""select s.path, count(v.file_id) from core.submission_files s
        left join (select file_id from core.observation_history
                   union all select file_id from core.rejected_values) v using (file_id)
        group by s.path"""))
    expected = {path: 0 for path in landed}
    expected.update({
        "2014/batch-1/kunshan.xlsx": non_missing(MESSY),
        "2014/batch-1/kunshan_bulk.csv": len(MESSY_CSV) - 1,
        "2014/batch-1/chengguan.xlsx": 80,
        "2014/batch-1/chengdu.xlsx": 80,
    })
    assert landed == expected
    reported = dict(run.rows("select path, values_accepted + values_rejected from core.submission_files"))
    assert reported == expected


def test_rerun_gives_identical_core_tables(files, run_sdz) -> None:
    first, raw, _ = files
    before = {table: first.rows(f"select * from {table} order by all") for table in CORE_TABLES}
    second = run_sdz(raw)
    assert second.warehouse != first.warehouse
    for table in CORE_TABLES:
        assert second.rows(f"select * from {table} order by all") == before[table], table


def test_every_core_table_and_column_has_a_comment(files) -> None:
    run, _, _ = files
    tables = dict(run.rows("select schema_name || '.' || table_name, comment from duckdb_tables() "
                           "where schema_name = 'core'"))
    assert set(tables) == set(CORE_TABLES)
    assert all(comment and comment.strip() for comment in tables.values()), tables
    uncommented = run.rows("""select table_name, column_name from duckdb_columns()
                              where schema_name = 'core' and (comment is null or trim(comment) = '')""")
    assert uncommented == []
    assert run.scalar("select count(*) from duckdb_columns() where schema_name = 'core'") == sum(
        len(table.columns) for table in core_table_definitions().values())


# --- a run that cannot start -----------------------------------------------------------------

def test_broken_registry_stops_the_run_and_leaves_the_warehouse(files, tmp_path: Path, run_sdz) -> None:
    first, _, _ = files
    output = tmp_path / "out"  # an existing warehouse with its feedback, as a complete run left it
    shutil.copytree(first.warehouse.parent, output)
    assert list((output / "feedback").rglob("*.xlsx"))
    before = snapshot(output)

    raw = tmp_path / "raw"
    zones = [dict(zone) for zone in DEFAULT_ZONES]
    zones[1]["zone_code"] = "41090"  # data row 2 is line 3 of the file
    write_registry(raw, zones)
    write_workbook(batch_dir(raw) / "kunshan.xlsx", values={1: {2009: "abc", 2010: 5}})
    with pytest.raises(RunFailed) as failed:
        run_sdz(raw, output / first.warehouse.name)
    assert failed.value.exit_code == 2
    assert "line 3" in str(failed.value) and "zone_code" in str(failed.value)
    assert snapshot(output) == before


def test_broken_registry_writes_nothing_new(tmp_path: Path, run_sdz) -> None:
    raw = tmp_path / "raw"
    zones = [dict(zone) for zone in DEFAULT_ZONES]
    zones[3]["zone_type"] = "city"
    write_registry(raw, zones)
    write_workbook(batch_dir(raw) / "kunshan.xlsx", values={1: {2009: "abc"}})
    with pytest.raises(RunFailed) as failed:
        run_sdz(raw, tmp_path / "out" / "sdz.duckdb")
    assert failed.value.exit_code == 2
    assert "line 5" in str(failed.value) and "zone_type" in str(failed.value)
    assert not (tmp_path / "out" / "sdz.duckdb").exists()
    assert not (tmp_path / "out" / "feedback").exists()

