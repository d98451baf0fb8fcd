"""One Dagster asset per SQL model of `dbt_like_sql/`, with its data tests as asset checks.

Upstream edges come from the tables each model's SQL reads; adding a `.sql` file adds an asset
and nothing else needs registering. Models build inside the warehouse under construction, so a
failing error-severity test stops the models downstream and the publish step.
"""


from pathlib import Path

import dagster as dg
import duckdb

from pipelines.settings import SdzSettings
from pipelines.sql_models import DataTest, SqlModel, discover_models, materialise, run_test
from pipelines.warehouse import ensure_build


def table_key(table: str) -> dg.AssetKey:
    """`mart.coverage` → AssetKey(["mart", "coverage"])."""
    return dg.AssetKey(table.split("."))


def _model_asset(model: SqlModel) -> dg.AssetsDefinition:
    @dg.asset(
        key=table_key(model.table),
        group_name=model.schema,
        deps=[table_key(table) for table in sorted(model.referenced_tables)],
        description=model.description,
        kinds={"duckdb", "sql"},
        metadata={
            "sql_file": str(model.path),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, description=text) for name, text in model.columns.items()]
            ),
        },
    )
    def _asset(context: dg.AssetExecutionContext, settings: SdzSettings) -> dg.MaterializeResult:
        build = ensure_build(settings.build_path(context.run.run_id), settings.warehouse_path)
        with duckdb.connect(str(build)) as con:
            rows = materialise(con, model)
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _asset


def _test_check(model: SqlModel, test: DataTest) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=table_key(model.table),
        name=test.name,
        blocking=test.severity == "error",
        description=f"{test.severity}: no row of `{test.sql}`",
    )
    def _check(context: dg.AssetCheckExecutionContext, settings: SdzSettings) -> dg.AssetCheckResult:
        build = ensure_build(settings.build_path(context.run.run_id), settings.warehouse_path)
        with duckdb.connect(str(build), read_only=True) as con:
            failing, sample = run_test(con, test)
        return dg.AssetCheckResult(
            passed=failing == 0,
            severity=dg.AssetCheckSeverity.ERROR if test.severity == "error" else dg.AssetCheckSeverity.WARN,
            metadata={"failing_rows": failing, "sample": dg.MetadataValue.text(repr(sample))},
        )

    return _check


def sql_model_definitions(models_dir: Path) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """Assets and checks for every model under models_dir."""
    models = discover_models(models_dir)
    assets = [_model_asset(model) for model in models.values()]
    checks = [_test_check(model, test) for model in models.values() for test in model.tests]
    return assets, checks
