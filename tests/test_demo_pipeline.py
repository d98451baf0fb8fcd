"""End to end on the synthetic demo: generate it, run the whole asset graph into a real DuckDB file,
and compare the warehouse with what the generator's manifest says each injected case must become."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.definitions import build_definitions
from pipelines.demo.generate import generate_demo
from pipelines.models.sql_models import discover_models
from pipelines.runtime.runner import materialize_all
from pipelines.runtime.settings import SQL_MODELS_DIR, SdzSettings
from tests.test_feedback_routing import assert_every_finding_once, workbook_of

FILE_REASONS = {"unsupported_file_type", "zone_not_identified", "no_data_sheet", "unreadable_file", "duplicate",
                "bad_header"}
FILE_FLAGS = {"zone_name_mismatch", "zone_not_expected", "extension_mismatch"}
VALUE_FLAGS = {"revised", "suspicious_jump", "possible_unit_error"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo")
    generate_demo(root / "raw")
    settings = SdzSettings(raw_dir=str(root / "raw"), warehouse=str(root / "warehouse" / "sdz.duckdb"))
    result = materialize_all(settings)
    assert result.success
    return settings, result


@pytest.fixture(scope="module")
def warehouse(demo_run):
    settings, _result = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        yield con


def _outcome(con: duckdb.DuckDBPyConnection, entry: dict) -> bool:
    """Does the warehouse show what the manifest expects for one injected case?"""
    expected = entry["expected"]
    file = con.execute("select file_id, status, reason from core.submission_files where path = ?",
                       [entry["file"]]).fetchone()
    if expected == "ignored":
        return file is None
    if expected in FILE_REASONS:
        return file is not None and file[2] == expected
    file_id = file[0]
    if entry.get("cell") is None and expected == "loaded":  # a whole file, e.g. identified by name
        return file[1] == "loaded"
    if expected in FILE_FLAGS:
        return con.execute("select count(*) from core.value_flags where file_id = ? and flag = ? and indicator_id "
                           "is null", [file_id, expected]).fetchone()[0] == 1
    accepted = con.execute("select value from core.observation_history where file_id = ? and source_cell = ?",
                           [file_id, entry["cell"]]).fetchall()
    rejected = con.execute("select reason from core.rejected_values where file_id = ? and source_cell = ?",
                           [file_id, entry["cell"]]).fetchall()
    if expected == "missing":
        return not accepted and not rejected
    if expected in ("loaded", "converted"):
        return len(accepted) == 1 and not rejected and (
            entry.get("expected_value") is None or accepted[0][0] == pytest.approx(entry["expected_value"], rel=1e-12))
    if expected in VALUE_FLAGS:
        return len(accepted) == 1 and con.execute(
            "select count(*) from core.value_flags where file_id = ? and source_cell = ? and flag = ?",
            [file_id, entry["cell"], expected]).fetchone()[0] == 1
    return not accepted and rejected == [(expected,)]


def test_every_injected_case_ends_where_the_manifest_says(demo_run, warehouse):
    settings, _ = demo_run
    manifest = json.loads((settings.raw_path / "demo_manifest.json").read_text(encoding="utf-8"))["entries"]
    wrong = [entry for entry in manifest if not _outcome(warehouse, entry)]
    assert len(manifest) > 200
    assert wrong == []


def test_every_check_passed(demo_run):
    settings, result = demo_run
    evaluations = result.get_asset_check_evaluations()
    defined = build_definitions(settings).resolve_asset_graph().asset_check_keys
    assert {(e.asset_key, e.check_name) for e in evaluations} == {(k.asset_key, k.name) for k in defined}
    assert [e.check_name for e in evaluations if not e.passed] == []
    nothing_lost = next(e for e in evaluations if e.check_name == "nothing_lost")
    assert nothing_lost.metadata["non_missing_cells_read"].value == nothing_lost.metadata[
        "history_plus_rejected"].value > 25_000


def test_zone_structure_reproduces_the_seed(warehouse):
    shares = {(d, c): (n, s) for d, c, n, s in warehouse.execute("select * from mart.zone_structure").fetchall()}
    assert {c: (n, round(s, 1)) for (d, c), (n, s) in shares.items() if d == "region"} == {
        "east": (76, 48.4), "central": (55, 35.0), "west": (26, 16.6)}
    assert {c: (n, round(s)) for (d, c), (n, s) in shares.items() if d == "zone_type"} == {
        "county": (77, 49), "district": (51, 32), "prefecture": (23, 15), "township": (6, 4)}


def test_batch_two_fills_gaps_and_keeps_history(warehouse):
    coverage = dict(warehouse.execute(
        "select batch, sum(zones_reported) / sum(zones_expected) from mart.coverage where round = 2014 group by all"
    ).fetchall())
    assert coverage[2] > coverage[1]
    superseded = warehouse.execute(
        "select count(*) from core.observation_history where round = 2014 and batch = 1 and not in_force"
    ).fetchone()[0]
    assert superseded > 0
    in_force = warehouse.execute("select count(*) from core.observation_history where in_force").fetchone()[0]
    assert in_force == warehouse.execute("select count(*) from core.observations").fetchone()[0]


def test_every_table_and_column_is_documented(warehouse):
    tables = warehouse.execute(
        "select schema_name, table_name, comment from duckdb_tables() where schema_name in ('core', 'mart')"
    ).fetchall()
    assert len(tables) >= 16
    assert [t for t in tables if not t[2]] == []
    undocumented = warehouse.execute(
        "select table_name, column_name from duckdb_columns() where schema_name in ('core', 'mart') and "
        "(comment is null or comment = '')").fetchall()
    assert undocumented == []


def test_sql_files_run_as_is_against_the_warehouse(warehouse):
    for model in discover_models(SQL_MODELS_DIR).values():
        as_written = warehouse.execute(model.path.read_text(encoding="utf-8")).fetchall()
        stored = warehouse.execute(f"select * from {model.table}").fetchall()
        assert sorted(map(repr, as_written)) == sorted(map(repr, stored)), model.table


def test_every_finding_is_in_exactly_one_feedback_workbook(demo_run, warehouse):
    """For every round and batch, every rejected value, every warning other than `revised` and every file
    refused whole is in exactly one workbook: the zone's, or the steward's list when no zone can be told."""
    settings, _ = demo_run
    rows = assert_every_finding_once(settings.output_dir / "feedback", warehouse)
    # zone 138395's CSV line 82 carries the mistyped code 138359: it is in 138395's workbook
    line_82 = [key[2] for key in rows if key[3] == "2014/batch-1/河北省石家庄市演示六县_2014年第一批.csv"
               and key[5] == "line 82"]
    assert line_82 == ["138395"]
    # a file refused whole reaches the zone its name gives, or the steward
    assert workbook_of(rows, "2014/batch-1/福建省演示一市_2014年第一批.xlsx") == {"350872"}
    assert workbook_of(rows, "2014/batch-1/实验区监测数据_2014年第一批.xlsx") == {"_steward"}
    # a zone has a workbook exactly when the chase list says it has something to fix
    status = dict(((r, b, z), s) for r, b, z, s in warehouse.execute(
        "select round, batch, zone_code, status from mart.submission_status").fetchall())
    workbooks = {key[:3] for key in rows}
    assert {key for key, value in status.items() if value == "with_problems"} == {
        key for key in workbooks if status.get(key) not in (None, "rejected")}


def test_parquet_exports_hold_every_core_and_mart_table(demo_run, warehouse):
    settings, _ = demo_run
    tables = [f"{s}.{t}" for s, t in warehouse.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('core', 'mart')").fetchall()]
    assert {f"{table}.parquet" for table in tables} == {p.name for p in (settings.output_dir / "parquet").iterdir()}
    for table in tables:
        path = settings.output_dir / "parquet" / f"{table}.parquet"
        in_file = warehouse.execute(f"select * from read_parquet('{path}') order by all").fetchall()
        assert in_file == warehouse.execute(f"select * from {table} order by all").fetchall(), table


def test_parquet_exports_resolve_revisions_to_files_alone(demo_run):
    """An analyst with the Parquet files only finds the file of every revision and what each column means."""
    settings, _ = demo_run
    folder = settings.output_dir / "parquet"
    with duckdb.connect() as con:  # no warehouse: the files alone
        revisions, resolved = con.execute(
            f"select count(*), count(files.path) from read_parquet('{folder / 'mart.revisions.parquet'}') revisions "
            f"left join read_parquet('{folder / 'core.submission_files.parquet'}') files "
            "on files.file_id = revisions.new_file_id").fetchone()
    assert revisions > 0 and resolved == revisions
    revisions_schema = pq.read_schema(folder / "mart.revisions.parquet")
    files_schema = pq.read_schema(folder / "core.submission_files.parquet")
    assert revisions_schema.metadata[b"table"] == b"mart.revisions"
    assert b"core.submission_files" in revisions_schema.field("new_file_id").metadata[b"comment"]
    assert b"raw/" in files_schema.metadata[b"comment"]


def test_parquet_exports_carry_every_comment_of_the_warehouse(demo_run, warehouse):
    settings, _ = demo_run
    for schema_name, table_name, comment in warehouse.execute(
            "select schema_name, table_name, comment from duckdb_tables() where schema_name in ('core', 'mart')"
    ).fetchall():
        schema = pq.read_schema(settings.output_dir / "parquet" / f"{schema_name}.{table_name}.parquet")
        assert comment and schema.metadata[b"comment"].decode() == comment, table_name
        columns = warehouse.execute("select column_name, comment from duckdb_columns() where schema_name = ? and "
                                    "table_name = ? order by column_index", [schema_name, table_name]).fetchall()
        assert [(field.name, field.metadata[b"comment"].decode()) for field in schema] == columns, table_name


def test_a_second_run_gives_identical_tables_and_exports(demo_run, tmp_path: Path, warehouse):
    settings, _ = demo_run
    again = SdzSettings(raw_dir=settings.raw_dir, warehouse=str(tmp_path / "sdz.duckdb"))
    assert materialize_all(again).success
    tables = [f"{s}.{t}" for s, t in warehouse.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('core', 'mart')").fetchall()]
    with duckdb.connect(str(again.warehouse_path), read_only=True) as second:
        for table in tables:
            first_rows = warehouse.execute(f"select * from {table} order by all").fetchall()
            second_rows = second.execute(f"select * from {table} order by all").fetchall()
            assert first_rows == second_rows, table
    for exported in (settings.output_dir / "parquet").iterdir():  # the exports too, to the byte
        assert exported.read_bytes() == (again.output_dir / "parquet" / exported.name).read_bytes(), exported.name


def test_supplementary_templates_comment_every_open_finding_on_a_value(demo_run, warehouse):
    """The demo's batch-2 workbooks (latest round, batch 1 only) comment exactly the cells that open findings
    on values name, each in its zone's workbook at the template's cell of its indicator and year."""
    import openpyxl

    from schemas.template import load_template

    settings, _result = demo_run
    template = load_template()
    round_year, first_year = warehouse.execute("select round, first_year from core.rounds where is_latest").fetchone()
    expected = set(warehouse.execute(
        "select zone_code, indicator_id, year from mart.findings where round = ? and is_open "
        "and kind in ('rejected', 'warning') and indicator_id between 1 and 16 and year between ? and ?",
        [round_year, first_year, round_year - 1]).fetchall())
    commented = set()
    for path in (settings.output_dir / "templates" / str(round_year) / "batch-2").glob("*.xlsx"):
        sheet = openpyxl.load_workbook(path)[template.data_sheet]
        years = {cell.column: cell.value for cell in sheet[template.header_row] if isinstance(cell.value, int)}
        for row in sheet.iter_rows(min_row=template.first_data_row(), max_row=template.first_data_row() + 15):
            commented |= {(path.name.split("_")[0], row[0].value, years[cell.column]) for cell in row if cell.comment}
    assert expected and commented == expected
