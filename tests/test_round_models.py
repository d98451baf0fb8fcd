"""The per-round SQL models on a hand-made warehouse: expected zones, values as of each round, open problems.

The core tables are written by the load stage's own functions where it derives them (rounds, expected
zones, reason codes, indicators); the models are materialised from dbt_like_sql/ and their data tests run.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.ingest.registry import expected_in_round
from pipelines.load.core_tables import expected_zones_table, indicators_table, reason_codes_table, rounds_table
from pipelines.models.sql_models import discover_models, materialise, run_test
from pipelines.runtime.settings import SQL_MODELS_DIR
from pipelines.runtime.warehouse import create_table, insert_frame
from schemas.catalogue import FIRST_YEAR, load_reason_codes
from schemas.core_tables import core_table_definitions

MODELS = ["staging.expected_zones", "staging.file_zones", "mart.observations_as_of", "mart.findings",
          "mart.open_problems"]
ZONE_COLUMNS = ["zone_code", "zone_name", "province_code", "region", "zone_type", "type_evaluation",
                "designated_year", "removed_year"]
# A active from 2000, B removed in 2014, C designated in 2014: round 2014 expects A only, 2015 A and C.
ZONES = pd.DataFrame([("110001", "A", "11", "east", "county", True, 2000, None),
                      ("110002", "B", "11", "east", "county", True, 2000, 2014),
                      ("110003", "C", "11", "east", "county", True, 2014, None)], columns=ZONE_COLUMNS)
HISTORY = pd.DataFrame([
    ("110001", 7, 2012, 10.0, 2014, 1, 1, "F6"), ("110001", 7, 2012, 20.0, 2014, 2, 2, "F6"),
    ("110001", 7, 2012, 30.0, 2015, 1, 3, "F6"), ("110001", 7, 2013, 5.0, 2014, 1, 1, "G6"),
    ("110001", 7, 2014, 9.0, 2015, 1, 3, "H6"), ("110002", 7, 2012, 99.0, 2014, 1, 4, "F6"),
    ("110003", 7, 2012, 77.0, 2014, 1, 5, "F6"), ("110001", 8, 2011, 3.0, 2014, 2, 2, "F7"),
], columns=["zone_code", "indicator_id", "year", "value", "round", "batch", "file_id", "source_cell"])
FILES = pd.DataFrame([(1, "2014/batch-1/a.xlsx", 2014, 1), (2, "2014/batch-2/a.xlsx", 2014, 2),
                      (3, "2015/batch-1/a.xlsx", 2015, 1), (4, "2014/batch-1/b.xlsx", 2014, 1),
                      (5, "2014/batch-1/c.xlsx", 2014, 1)], columns=["file_id", "path", "round", "batch"]
                     ).assign(status="loaded")
# Zone A in 2014: indicator 8 / 2011 rejected in batch 1 and supplied in batch 2 (closed); 9 / 2012 rejected in
# batch 2 (open). Warnings: on the batch-1 version of 7 / 2012 (superseded: closed), on the batch-2 version (open),
# `revised` on 7 / 2013 in force (not sent to zones: not counted), and one file-level warning of batch 1 (closed by
# the zone's batch-2 file).
REJECTED = pd.DataFrame([(1, "110001", 8, 2011, "x", "not_a_number", "F7", 2014, 1),
                         (2, "110001", 9, 2012, "-1", "negative_value", "F8", 2014, 2)],
                        columns=["file_id", "zone_code", "indicator_id", "year", "raw_value", "reason", "source_cell",
                                 "round", "batch"])
FLAGS = pd.DataFrame([("110001", 7, 2012, 2014, 1, 1, "suspicious_jump", "F6"),
                      ("110001", 7, 2012, 2014, 2, 2, "suspicious_jump", "F6"),
                      ("110001", 7, 2013, 2014, 1, 1, "revised", "G6"),
                      ("110001", None, None, 2014, 1, 1, "zone_name_mismatch", None)],
                     columns=["zone_code", "indicator_id", "year", "round", "batch", "file_id", "flag", "source_cell"])


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """The hand-made core tables with the models built on them (their data tests must pass)."""
    rounds = rounds_table(FILES)
    frames = {"core.zones": ZONES, "core.indicators": indicators_table(), "core.submission_files": FILES,
              "core.observation_history": HISTORY, "core.rejected_values": REJECTED, "core.value_flags": FLAGS,
              "core.rounds": rounds, "core.expected_zones": expected_zones_table(ZONES, rounds),
              "core.reason_codes": reason_codes_table()}
    con = duckdb.connect(str(tmp_path / "tiny.duckdb"))
    for name, definition in core_table_definitions().items():
        create_table(con, definition)
        if name in frames:
            insert_frame(con, definition, frames[name])
    con.execute("insert into core.observations by name select * exclude (in_force) from core.observation_history "
                "qualify row_number() over (partition by zone_code, indicator_id, year order by round desc, batch desc)"
                " = 1")
    models = discover_models(SQL_MODELS_DIR)
    for table in MODELS:
        materialise(con, models[table])
        assert {test.name: run_test(con, test)[0] for test in models[table].tests} == dict.fromkeys(
            (test.name for test in models[table].tests), 0), table
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_rounds_collect_first_year_to_the_year_before() -> None:
    rounds = rounds_table(FILES)
    assert rounds[["round", "first_year", "last_year", "last_batch", "is_latest"]].values.tolist() == [
        [2014, FIRST_YEAR, 2013, 2, False], [2015, FIRST_YEAR, 2014, 1, True]]


def test_expected_zones_are_the_registry_rule(warehouse: duckdb.DuckDBPyConnection) -> None:
    staged = rows(warehouse, "select round, zone_code from staging.expected_zones order by all")
    rule = sorted((r, code) for r in (2014, 2015) for code in ZONES.loc[expected_in_round(ZONES, r), "zone_code"])
    assert staged == rule == [(2014, "110001"), (2015, "110001"), (2015, "110003")]


def test_as_of_values_follow_precedence(warehouse: duckdb.DuckDBPyConnection) -> None:
    """Latest (round, batch) up to the round's end wins; later rounds, other years and zones not expected in the
    round are left out."""
    as_of = rows(warehouse, "select round, zone_code, indicator_id, year, value, source_round, source_batch "
                            "from mart.observations_as_of order by all")
    assert as_of == [
        (2014, "110001", 7, 2012, 20.0, 2014, 2), (2014, "110001", 7, 2013, 5.0, 2014, 1),
        (2014, "110001", 8, 2011, 3.0, 2014, 2),
        (2015, "110001", 7, 2012, 30.0, 2015, 1), (2015, "110001", 7, 2013, 5.0, 2014, 1),
        (2015, "110001", 7, 2014, 9.0, 2015, 1), (2015, "110001", 8, 2011, 3.0, 2014, 2),
        (2015, "110003", 7, 2012, 77.0, 2014, 1)]


def test_open_problems_at_the_end_of_each_round(warehouse: duckdb.DuckDBPyConnection) -> None:
    problems = rows(warehouse, "select round, zone_code, open_rejected, open_warnings, file_warnings, open_files, "
                               "open_total from mart.open_problems order by all")
    assert problems == [(2014, "110001", 1, 1, 0, 0, 2)]  # nothing of 2015's own submissions is open


def test_revised_is_the_code_not_sent_to_zones(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert rows(warehouse, "select code from core.reason_codes where not sent_to_zone") == [("revised",)]
    assert [code for code, reason in load_reason_codes().items() if not reason.sent_to_zone] == ["revised"]
