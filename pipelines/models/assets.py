"""One Dagster asset per SQL model of `dbt_like_sql/`, with its data tests as asset checks.

Upstream edges come from the tables each model's SQL reads; adding a `.sql` file adds an asset
and nothing else needs registering. Models build inside the warehouse under construction, so a
failing error-severity test stops the models downstream and the publish step.
"""


from pathlib import Path

import dagster as dg
import duckdb

from pipelines.models.sql_models import SqlModel, discover_models, materialise, run_test
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import ensure_build


def table_key(table: str) -> dg.AssetKey:
    """`mart.coverage` → AssetKey(["mart", "coverage"])."""
    return dg.AssetKey(table.split("."))


def _model_asset(model: SqlModel) -> dg.AssetsDefinition:
    key = table_key(model.table)

    @dg.asset(
        key=key,
        group_name="models",
        deps=[table_key(table) for table in sorted(model.referenced_tables)],
        description=model.description,
        kinds={"duckdb", "sql"},
        metadata={
            "sql_file": str(model.path),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, description=text) for name, text in model.columns.items()]
            ),
        },
        # The data tests run in the model's own step, right after it is built: an error-severity
        # failure fails the step, so nothing downstream runs and nothing is published.
        check_specs=[
            dg.AssetCheckSpec(test.name, asset=key, blocking=test.severity == "error",
                              description=f"{test.severity}: no row of `{test.sql}`")
            for test in model.tests
        ],
    )
    def _asset(context: dg.AssetExecutionContext, settings: SdzSettings):
        build = ensure_build(settings.build_path(context.run.run_id), settings.warehouse_path)
        with duckdb.connect(str(build)) as con:
            rows = materialise(con, model)
            results = [(test, *run_test(con, test)) for test in model.tests]
        yield dg.MaterializeResult(metadata={"dagster/row_count": rows})
        for test, failing, sample in results:
            yield dg.AssetCheckResult(
                check_name=test.name,
                passed=failing == 0,
                severity=dg.AssetCheckSeverity.ERROR if test.severity == "error" else dg.AssetCheckSeverity.WARN,
                metadata={"failing_rows": failing, "sample": dg.MetadataValue.text(repr(sample))},
            )

    return _asset


def sql_model_definitions(models_dir: Path) -> list[dg.AssetsDefinition]:
    """One asset (with its data tests as checks) for every model under models_dir."""
    return [_model_asset(model) for model in discover_models(models_dir).values()]
