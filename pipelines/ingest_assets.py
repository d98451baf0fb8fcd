"""Dagster assets of ingestion: raw inventory → parse → validate → load core tables.

Bodies are thin: each calls the plain function of its stage (tested without Dagster). Checks
sit next to the asset they guard and carry their counts as metadata.
"""


import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipelines.batches import add_batch_partitions, partition_key
from pipelines.inventory import batch_folders, list_submissions
from pipelines.load import load_core_tables
from pipelines.memory import release_unused_memory
from pipelines.parse import ParsedSubmissions
from pipelines.registry import RegistryError, read_registry
from pipelines.settings import SdzSettings
from pipelines.validation import ValidatedValues
from pipelines.value_cache import ValueCache, parse_with_cache, validate_with_cache
from pipelines.warehouse import open_build
from schemas.core_tables import core_table_definitions, violations_sql
from schemas.observations import observation_schema, parsed_cells_schema, rejection_schema

CORE_TABLES = core_table_definitions()


def _table_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(name.split("."))


def _value_cache(settings: SdzSettings, registry: pd.DataFrame) -> ValueCache | None:
    return ValueCache.open(settings.cache_dir, registry, settings.max_inflated_bytes) if settings.use_cache else None


def _schema_check(schema: pa.DataFrameSchema, frame: pd.DataFrame, what: str) -> dg.AssetCheckResult:
    """Run a pandera schema lazily and report the failures as metadata (count and a sample)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        return dg.AssetCheckResult(
            passed=False,
            metadata={"rows": len(frame), "failures": len(cases),
                      "sample": dg.MetadataValue.md(cases.head(10).to_markdown(index=False))},
            description=f"{what}: {len(cases)} schema failures",
        )
    return dg.AssetCheckResult(passed=True, metadata={"rows": len(frame), "failures": 0})


@dg.asset(group_name="raw", kinds={"csv"})
def zone_registry(settings: SdzSettings) -> pd.DataFrame:
    """The zone registry, raw/reference/zones.csv, checked against its schema (contract 3).

    An invalid registry stops the run before anything is written."""
    try:
        registry = read_registry(settings.registry_path)
    except RegistryError as error:
        raise dg.Failure(description=str(error)) from None
    return registry


@dg.asset(group_name="raw")
def submission_inventory(context: dg.AssetExecutionContext, settings: SdzSettings) -> dg.Output[pd.DataFrame]:
    """Every file under raw/<round>/batch-N/ with its hash; unsupported types, links out of raw/, oversized
    files and byte-identical copies are settled here. New batch folders become partitions."""
    add_batch_partitions(context.instance, [partition_key(f.round, f.batch) for f in batch_folders(settings.raw_path)])
    inventory = list_submissions(settings.raw_path, settings.max_file_bytes)
    return dg.Output(
        inventory,
        metadata={"files": len(inventory), "by_status": dg.MetadataValue.json(
            inventory["status"].value_counts().to_dict())},
    )


@dg.asset(group_name="parse")
def parsed_submissions(
    settings: SdzSettings, zone_registry: pd.DataFrame, submission_inventory: pd.DataFrame
) -> dg.Output[ParsedSubmissions]:
    """Value cells read from every workbook and CSV, with each file's outcome (loaded or rejected whole).

    A file whose bytes an earlier run read already (same round, same code and registry) is not read
    again: its outcome and validated values come from the cache beside the warehouse."""
    parsed = parse_with_cache(submission_inventory, settings.raw_path, zone_registry, settings.max_inflated_bytes,
                              _value_cache(settings, zone_registry))
    release_unused_memory()
    rejected_files = parsed.files[parsed.files["status"] == "rejected"]
    return dg.Output(
        parsed,
        metadata={
            "cells": parsed.cell_count,
            "cells_read": len(parsed.cells),
            "files_from_cache": int(parsed.files["from_cache"].sum()),
            "files_loaded": int((parsed.files["status"] == "loaded").sum()),
            "files_rejected": len(rejected_files),
            "rejected_files": dg.MetadataValue.md(
                rejected_files[["path", "reason", "detail"]].head(20).to_markdown(index=False)
                if len(rejected_files) else "none"
            ),
        },
    )


@dg.asset_check(asset=parsed_submissions, blocking=True)
def parsed_cells_match_schema(parsed_submissions: ParsedSubmissions) -> dg.AssetCheckResult:
    """The readers' cells have the expected columns and types."""
    return _schema_check(parsed_cells_schema(), parsed_submissions.cells, "parsed cells")


@dg.asset(group_name="validate")
def validated_values(
    settings: SdzSettings, zone_registry: pd.DataFrame, parsed_submissions: ParsedSubmissions
) -> dg.Output[ValidatedValues]:
    """Accepted values (catalogue unit) and rejected cells with reason codes, by the pandera value rules
    (the cells read in this run; the values of the files from the cache were validated when first read)."""
    validated = validate_with_cache(parsed_submissions, list(zone_registry["zone_code"]),
                                    _value_cache(settings, zone_registry))
    release_unused_memory()
    by_reason = validated.rejected["reason"].value_counts().to_dict()
    return dg.Output(
        validated,
        metadata={
            "accepted": len(validated.accepted),
            "rejected": len(validated.rejected),
            "missing_cells": validated.missing_cells,
            "rejected_by_reason": dg.MetadataValue.json({str(k): int(v) for k, v in by_reason.items()}),
            "rejected_preview": dg.MetadataValue.md(
                validated.rejected[["file_id", "zone_code", "indicator_id", "year", "raw_value", "reason",
                                    "source_cell"]].head(20).to_markdown(index=False)
                if len(validated.rejected) else "none"
            ),
        },
    )


@dg.asset_check(asset=validated_values, blocking=True)
def accepted_values_match_schema(validated_values: ValidatedValues) -> dg.AssetCheckResult:
    """Every accepted value is typed, complete and within the value rules."""
    return _schema_check(observation_schema(), validated_values.accepted, "accepted values")


@dg.asset_check(asset=validated_values, blocking=True)
def rejected_values_match_schema(validated_values: ValidatedValues) -> dg.AssetCheckResult:
    """Every rejected cell names a known reason and its source cell."""
    return _schema_check(rejection_schema(), validated_values.rejected, "rejected values")


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
    """The core tables of contract 5, written into the warehouse being built (not yet published)."""
    with open_build(settings.build_path(context.run.run_id)) as con:
        counts = load_core_tables(con, zone_registry, parsed_submissions, validated_values)
        violations = {name: con.execute(violations_sql(CORE_TABLES[name])).fetchone() for name in counts}
    release_unused_memory()
    for name, rows in counts.items():
        yield dg.MaterializeResult(asset_key=_table_key(name), metadata={"dagster/row_count": rows})
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
