"""Dagster asset of the evaluation: zone scores by the composite-index engine."""


import dagster as dg
import duckdb

from pipelines.index.method import MethodError
from pipelines.index.zone_scores import INDEX_ZONE_YEAR, load_evaluation_method, write_index_zone_year
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import ensure_build


@dg.asset(
    key=dg.AssetKey(["mart", "index_zone_year"]),
    group_name="index",
    deps=[dg.AssetKey(["core", "observations"]), dg.AssetKey(["staging", "expected_zones"])],
    kinds={"duckdb", "python"},
    metadata={"dagster/column_schema": dg.TableSchema(
        columns=[dg.TableColumn(name, sql_type, text) for name, sql_type, text in INDEX_ZONE_YEAR.columns])},
)
def index_zone_year(context: dg.AssetExecutionContext, settings: SdzSettings) -> dg.MaterializeResult:
    """Innovation-capacity index and its five aspects per type-evaluated zone and year (0-100), computed by the
    composite-index engine from the method file (default: schemas/methods/default.yaml)."""
    try:
        method = load_evaluation_method(settings.method_file)
    except MethodError as error:
        raise dg.Failure(description=f"{settings.method_file}: {error}") from None
    build = ensure_build(settings.build_path(context.run.run_id), settings.warehouse_path)
    with duckdb.connect(str(build)) as con:
        rows = write_index_zone_year(con, method)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "method": settings.method_file})
