"""The dbt-like SQL models: discovery, parsed dependencies, documentation and data tests."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.models.assets import sql_model_definitions, table_key
from pipelines.models.sql_models import ModelError, discover_models, materialise, read_model, run_test
from pipelines.runtime.settings import SQL_MODELS_DIR, SdzSettings

HEADER = """-- description: {description}
-- columns:
{columns}
-- tests:
{tests}
"""


def write_model(root: Path, table: str, sql: str, columns: dict[str, str], tests: str = "--   []") -> Path:
    schema, name = table.split(".")
    path = root / schema / f"{name}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    column_lines = "\n".join(f"--   {column}: {text}" for column, text in columns.items())
    path.write_text(HEADER.format(description=f"Model {table}", columns=column_lines, tests=tests) + sql,
                    encoding="utf-8")
    return path


@pytest.fixture
def seeded_build(tmp_path: Path) -> SdzSettings:
    """Settings whose published warehouse holds a small core.zones table (a run copies it into its build)."""
    settings = SdzSettings(raw_dir=str(tmp_path / "raw"), warehouse=str(tmp_path / "wh" / "sdz.duckdb"))
    settings.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema core")
        con.execute("create table core.zones as select * from (values ('320583', 'county'), ('410902', 'district'))"
                    " t(zone_code, zone_type)")
    return settings


def test_repository_models_are_documented_and_parse():
    models = discover_models(SQL_MODELS_DIR)
    assert {"mart.coverage", "mart.zone_structure", "mart.submission_status", "mart.index_by_type",
            "mart.revisions", "mart.observations_wide", "mart.indicator_summary"} <= set(models)
    for model in models.values():
        assert model.description and model.columns and model.tests, model.table
        assert all(table.split(".")[0] in ("core", "staging", "mart") for table in model.referenced_tables), model.table
    assert models["mart.coverage"].referenced_tables == {
        "core.submission_files", "staging.expected_zones", "core.indicators", "core.observation_history",
        "core.rounds"}
    assert models["mart.index_by_type"].referenced_tables == {"mart.index_by_type_round", "core.rounds"}
    # a CTE named like the table it reads does not hide the table
    assert "staging.expected_zones" in models["mart.submission_status"].referenced_tables


def test_dependencies_come_from_the_sql_not_from_a_list(tmp_path: Path):
    write_model(tmp_path, "staging.zone_types", "with t as (select zone_type from core.zones) select * from t",
                {"zone_type": "type"})
    write_model(tmp_path, "mart.type_counts",
                "select zone_type, count(*) as n from staging.zone_types group by all",
                {"zone_type": "type", "n": "zones"})
    assets = sql_model_definitions(tmp_path)
    graph = dg.Definitions(assets=assets, resources={"settings": SdzSettings()}).resolve_asset_graph()
    assert graph.get(table_key("mart.type_counts")).parent_keys == {table_key("staging.zone_types")}
    # CTE names are not tables
    assert graph.get(table_key("staging.zone_types")).parent_keys == {table_key("core.zones")}
    assert graph.get(table_key("mart.type_counts")).group_name == "models"


def test_materialise_writes_comments_and_rejects_undocumented_columns(seeded_build: SdzSettings, tmp_path: Path):
    models_dir = tmp_path / "models"
    documented = read_model(write_model(models_dir, "mart.zone_list", "select zone_code from core.zones",
                                        {"zone_code": "The zone's code"}), "mart")
    undocumented = read_model(write_model(models_dir, "mart.bad", "select zone_code, zone_type from core.zones",
                                          {"zone_code": "code"}), "mart")
    with duckdb.connect(str(seeded_build.warehouse_path)) as con:
        assert materialise(con, documented) == 2
        comment = con.execute("select comment from duckdb_columns() where table_name = 'zone_list'").fetchone()[0]
        assert comment == "The zone's code"
        with pytest.raises(ModelError, match="undocumented: \\['zone_type'\\]"):
            materialise(con, undocumented)
        # the failed model's table is rolled back with its comments
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'bad'").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("-- just words\nselect 1", "needs `description:` and `columns:`"),
        ("-- description: x\n-- columns: {a: b}\n-- tests:\n--   - frobnicate: [a]\nselect 1 as a", "unknown test"),
        ("-- description: x\n-- columns: {a: b}\n-- tests:\n--   - {not_null: [a], severity: fatal}\nselect 1 as a",
         "severity must be error or warn"),
        ("-- description: [unclosed\nselect 1", "not valid YAML"),
    ],
)
def test_bad_model_files_name_the_file(tmp_path: Path, header: str, message: str):
    path = tmp_path / "mart" / "broken.sql"
    path.parent.mkdir()
    path.write_text(header, encoding="utf-8")
    with pytest.raises(ModelError, match=message) as error:
        read_model(path, "mart")
    assert "broken.sql" in str(error.value)


def test_generic_tests_find_failing_rows(seeded_build: SdzSettings, tmp_path: Path):
    model = read_model(write_model(
        tmp_path / "models", "mart.dupes",
        "select * from (values ('a', 1), ('a', 2), (null, 3)) t(k, n)",
        {"k": "key", "n": "number"},
        "--   - unique: [k]\n--   - not_null: [k]\n--   - accepted_values: {column: n, values: [1, 2]}\n"
        "--   - relationships: {column: k, to: core.zones, field: zone_code}",
    ), "mart")
    with duckdb.connect(str(seeded_build.warehouse_path)) as con:
        materialise(con, model)
        failing = {test.name: run_test(con, test)[0] for test in model.tests}
    assert failing == {"unique": 1, "not_null": 1, "accepted_values_n": 1, "relationships_k_core_zones": 2}


def _materialise_models(models_dir: Path, settings: SdzSettings) -> dg.ExecuteInProcessResult:
    assets = sql_model_definitions(models_dir)
    upstream = dg.AssetSpec(table_key("core.zones"))
    definitions = dg.Definitions(assets=[upstream, *assets], resources={"settings": settings})
    job = definitions.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


@pytest.mark.parametrize("severity", ["error", "warn"])
def test_failing_error_test_stops_downstream_models_and_warning_does_not(
    seeded_build: SdzSettings, tmp_path: Path, severity: str
):
    models_dir = tmp_path / "models"
    write_model(models_dir, "mart.first", "select zone_code from core.zones", {"zone_code": "code"},
                f"--   - name: always_fails\n--     sql: select * from mart.first\n--     severity: {severity}")
    write_model(models_dir, "mart.second", "select count(*) as n from mart.first", {"n": "zones"})
    result = _materialise_models(models_dir, seeded_build)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["always_fails"].passed is False
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert table_key("mart.first") in materialised
    assert (table_key("mart.second") in materialised) is (severity == "warn")
