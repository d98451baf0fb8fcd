"""Dagster assets of the ingest stage: the registry, the files under raw/ and the cells read from them.

Bodies are thin: each calls the plain function of its stage (tested without Dagster). Checks sit next
to the asset they guard and carry their counts as metadata.
"""

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from pipelines.ingest.batches import add_batch_partitions, partition_key
from pipelines.ingest.inventory import batch_folders, list_submissions
from pipelines.ingest.registry import RegistryError, read_registry
from pipelines.runtime.memory import release_unused_memory
from pipelines.runtime.settings import SdzSettings
from pipelines.validate.value_cache import ParsedWithCache, ValueCache, parse_with_cache
from schemas.observations import parsed_cells_schema


def schema_check(schema: pa.DataFrameSchema, frame: pd.DataFrame, what: str) -> dg.AssetCheckResult:
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


@dg.asset(group_name="ingest", kinds={"csv"})
def zone_registry(settings: SdzSettings) -> pd.DataFrame:
    """The zone registry, raw/reference/zones.csv, checked against its schema (README: The zone registry).

    An invalid registry stops the run before anything is written."""
    try:
        registry = read_registry(settings.registry_path)
    except RegistryError as error:
        raise dg.Failure(description=str(error)) from None
    return registry


@dg.asset(group_name="ingest")
def submission_inventory(context: dg.AssetExecutionContext, settings: SdzSettings) -> dg.Output[pd.DataFrame]:
    """Every file under raw/<round>/batch-N/ with its hash; unsupported types, links out of raw/ and oversized
    files are settled here (byte-identical copies when they are read). New batch folders become partitions."""
    add_batch_partitions(context.instance, [partition_key(f.round, f.batch) for f in batch_folders(settings.raw_path)])
    inventory = list_submissions(settings.raw_path, settings.max_file_bytes)
    return dg.Output(
        inventory,
        metadata={"files": len(inventory), "by_status": dg.MetadataValue.json(
            inventory["status"].value_counts().to_dict())},
    )


@dg.asset(group_name="ingest")
def parsed_submissions(
    settings: SdzSettings, zone_registry: pd.DataFrame, submission_inventory: pd.DataFrame
) -> dg.Output[ParsedWithCache]:
    """Value cells read from every workbook and CSV, with each file's outcome (loaded, rejected whole, or
    duplicate: a copy of a loaded file).

    A file whose bytes an earlier run read already (same round, same code and registry) is not read
    again: its outcome and validated values come from the cache beside the warehouse. The cache is
    opened and looked up here only; what it gave travels with this output to `validated_values`."""
    cache = ValueCache.open(settings.cache_dir, zone_registry, settings.max_inflated_bytes) \
        if settings.use_cache else None
    parsed = parse_with_cache(submission_inventory, settings.raw_path, zone_registry, settings.max_inflated_bytes,
                              cache)
    release_unused_memory()
    rejected_files = parsed.files[parsed.files["status"] == "rejected"]
    return dg.Output(
        parsed,
        metadata={
            "cells": parsed.cell_count,
            "cells_read": len(parsed.cells),
            "files_from_cache": len(parsed.from_cache),
            "files_loaded": int((parsed.files["status"] == "loaded").sum()),
            "files_rejected": len(rejected_files),
            "rejected_files": dg.MetadataValue.md(
                rejected_files[["path", "reason", "detail"]].head(20).to_markdown(index=False)
                if len(rejected_files) else "none"
            ),
        },
    )


@dg.asset_check(asset=parsed_submissions, blocking=True)
def parsed_cells_match_schema(parsed_submissions: ParsedWithCache) -> dg.AssetCheckResult:
    """The readers' cells have the expected columns and types."""
    return schema_check(parsed_cells_schema(), parsed_submissions.cells, "parsed cells")


