"""Dagster asset of the evaluation: each round's zone scores by the composite-index engine."""

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.index.method import MethodError
from pipelines.index.zone_scores import (
    INDEX_METHOD,
    INDEX_RANK_ROUND,
    INDEX_ZONE_ROUND,
    load_evaluation_method,
    write_index_zone_round,
)
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import ensure_build
from schemas.core_tables import TableDefinition

READS = ["mart.observations_as_of", "staging.expected_zones", "core.rounds"]
WRITES = (INDEX_ZONE_ROUND, INDEX_RANK_ROUND, INDEX_METHOD)


def _spec(table: TableDefinition) -> dg.AssetSpec:
    return dg.AssetSpec(
        dg.AssetKey(table.name.split(".")),
        description=table.description,
        deps=[dg.AssetKey(name.split(".")) for name in READS],
        kinds={"duckdb", "python"},
        metadata={"dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, sql_type, text) for name, sql_type, text in table.columns])},
    )


@dg.multi_asset(group_name="index", specs=[_spec(table) for table in WRITES])
def index_zone_round(context: dg.AssetExecutionContext, settings: SdzSettings):
    """Innovation-capacity index and its five aspects per round, type-evaluated zone and year (0-100), computed by
    the composite-index engine from the method file (default: schemas/methods/default.yaml) on the values in force
    at the end of each round; each zone's rank within its type with its sensitivity interval; and the method file
    they were computed with."""
    try:
        method = load_evaluation_method(settings.method_file)
    except MethodError as error:
        raise dg.Failure(description=f"{settings.method_file}: {error}") from None
    build = ensure_build(settings.build_path(context.run.run_id), settings.warehouse_path)
    with duckdb.connect(str(build)) as con:
        rows = write_index_zone_round(con, method, Path(settings.method_file))
    yield dg.MaterializeResult(asset_key=dg.AssetKey(INDEX_ZONE_ROUND.name.split(".")),
                               metadata={"dagster/row_count": rows, "method": settings.method_file})
    yield dg.MaterializeResult(asset_key=dg.AssetKey(INDEX_RANK_ROUND.name.split(".")),
                               metadata={"method": settings.method_file})
    yield dg.MaterializeResult(asset_key=dg.AssetKey(INDEX_METHOD.name.split(".")),
                               metadata={"dagster/row_count": 1, "method": settings.method_file})
