"""Dagster assets of the load stage: the core tables written into the warehouse being built."""

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from pipelines.ingest.inventory import unrecognised_files
from pipelines.ingest.parse import ParsedSubmissions
from pipelines.load.build_inputs import as_read, write_build_inputs
from pipelines.load.core_tables import load_core_tables
from pipelines.load.delta import load_as_delta
from pipelines.runtime.limits import FileLimits
from pipelines.runtime.memory import release_unused_memory
from pipelines.runtime.raw_changes import raw_state
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import open_build
from pipelines.validate.rules import ValidatedValues
from schemas.core_tables import core_table_definitions, violations_sql

CORE_TABLES = core_table_definitions()


def _table_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(name.split("."))


@dg.multi_asset(
    group_name="load",
    specs=[
        dg.AssetSpec(
            _table_key(name),
            description=table.description,
            deps=["zone_registry", "parsed_submissions", "validated_values"],
            kinds={"duckdb"},
            metadata={"dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(column, sql_type, description) for column, sql_type, description in
                         table.columns])},
        )
        for name, table in CORE_TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec("nothing_lost", asset=_table_key("core.observation_history"), blocking=True,
                          description="Every non-missing cell of a loaded file is in exactly one of "
                                      "observation_history and rejected_values."),
        *[
            dg.AssetCheckSpec("matches_schema", asset=_table_key(name), blocking=True,
                              description="Declared columns present, keys unique, required columns filled.")
            for name in CORE_TABLES
        ],
    ],
)
def core_tables(
    context: dg.AssetExecutionContext,
    settings: SdzSettings,
    zone_registry: pd.DataFrame,
    parsed_submissions: ParsedSubmissions,
    validated_values: ValidatedValues,
):
    """The core tables (schemas/core_tables.yaml), written into the warehouse being built (not yet published):
    a copy of the published warehouse with the new files applied when they are the only change under raw/
    (README: Re-runs), else built from every file."""
    build = settings.build_path(context.run.run_id)
    inputs = as_read(raw_state(settings.raw_path, Path(settings.method_file),
                               FileLimits(settings.max_file_bytes, settings.max_inflated_bytes)),
                     parsed_submissions.files)
    unrecognised = unrecognised_files(settings.raw_path)
    counts = load_as_delta(build, settings.warehouse_path, inputs, zone_registry, parsed_submissions,
                           validated_values, unrecognised) if settings.incremental else None
    built_as = "delta" if counts is not None else "full rebuild"
    with open_build(build) if counts is None else duckdb.connect(str(build)) as con:
        if counts is None:
            counts = load_core_tables(con, zone_registry, parsed_submissions, validated_values, unrecognised)
        write_build_inputs(con, inputs)
        violations = {name: con.execute(violations_sql(CORE_TABLES[name])).fetchone() for name in counts}
    release_unused_memory()
    context.log.info(f"core tables built as a {built_as}")
    for name, rows in counts.items():
        yield dg.MaterializeResult(asset_key=_table_key(name), metadata={"dagster/row_count": rows,
                                                                          "built_as": built_as})
    for name, (empty_required, repeated_keys) in violations.items():
        yield dg.AssetCheckResult(
            asset_key=_table_key(name), check_name="matches_schema", passed=empty_required == repeated_keys == 0,
            metadata={"rows": counts[name], "rows_with_required_column_empty": empty_required,
                      "repeated_primary_keys": repeated_keys},
        )
    read = parsed_submissions.cell_count - validated_values.missing_cells
    landed = counts["core.observation_history"] + counts["core.rejected_values"]
    yield dg.AssetCheckResult(
        asset_key=_table_key("core.observation_history"), check_name="nothing_lost", passed=read == landed,
        metadata={"non_missing_cells_read": read, "history_plus_rejected": landed},
    )
