"""The SQL models of `dbt_like_sql/` as one Dagster multi-asset: an asset per model, a check per data test.

Upstream edges come from the tables each model's SQL reads; adding a `.sql` file adds an asset and
nothing else needs registering. As in dagster-dbt, every model and test runs in one step (one
connection, a few events per model instead of a step's dozen), yet the UI shows each model and each
test, and can materialise any subset (`can_subset`). Models build inside the warehouse under
construction; a failing error-severity test fails the step after the models that do not depend on its
table are built, so nothing downstream of it is built and nothing is published.
"""

from graphlib import TopologicalSorter
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.models.sql_models import SqlModel, discover_models, materialise, run_test
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import ensure_build

SEVERITIES = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}


def table_key(table: str) -> dg.AssetKey:
    """`mart.coverage` → AssetKey(["mart", "coverage"])."""
    return dg.AssetKey(table.split("."))


def _model_spec(model: SqlModel) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=table_key(model.table),
        group_name="models",
        deps=[table_key(table) for table in sorted(model.referenced_tables)],
        description=model.description,
        kinds={"duckdb", "sql"},
        skippable=True,  # not built when a table it reads failed an error-severity test
        metadata={
            "sql_file": str(model.path),
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(name, description=text) for name, text in model.columns.items()]
            ),
        },
    )


def _check_specs(model: SqlModel) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(test.name, asset=table_key(model.table), blocking=test.severity == "error",
                              description=f"{test.severity}: no row of `{test.sql}`")
            for test in model.tests]


def build_order(models: dict[str, SqlModel]) -> list[SqlModel]:
    """The models, each after the models whose tables it reads."""
    graph = {table: model.referenced_tables & models.keys() for table, model in models.items()}
    return [models[table] for table in TopologicalSorter(graph).static_order()]


def sql_model_definitions(models_dir: Path) -> list[dg.AssetsDefinition]:
    """One multi-asset holding every model under models_dir (an asset each, its data tests as checks)."""
    models = discover_models(models_dir)

    @dg.multi_asset(
        name="sql_models",
        specs=[_model_spec(model) for model in models.values()],
        check_specs=[spec for model in models.values() for spec in _check_specs(model)],
        can_subset=True,
    )
    def sql_models(context: dg.AssetExecutionContext, settings: SdzSettings):
        selected, checks = context.selected_asset_keys, context.selected_asset_check_keys
        build = ensure_build(settings.build_path(context.run.run_id), settings.warehouse_path)
        blocked: set[str] = set()  # tables that failed an error-severity test, and the models reading them
        with duckdb.connect(str(build)) as con:
            for model in build_order(models):
                key = table_key(model.table)
                if key not in selected:
                    continue
                if model.referenced_tables & blocked:
                    blocked.add(model.table)
                    continue
                yield dg.MaterializeResult(asset_key=key, metadata={"dagster/row_count": materialise(con, model)})
                for test in model.tests:
                    if dg.AssetCheckKey(key, test.name) not in checks:
                        continue
                    failing, sample = run_test(con, test)
                    if failing and test.severity == "error":
                        blocked.add(model.table)
                    yield dg.AssetCheckResult(
                        asset_key=key, check_name=test.name, passed=failing == 0,
                        severity=SEVERITIES[test.severity],
                        metadata={"failing_rows": failing, "sample": dg.MetadataValue.text(repr(sample))},
                    )

    return [sql_models]
