"""Dagster assets of the validate stage: the value rules applied to every cell read."""

import dagster as dg
import pandas as pd

from pipelines.ingest.assets import schema_check
from pipelines.runtime.memory import release_unused_memory
from pipelines.validate.rules import ValidatedValues
from pipelines.validate.value_cache import ParsedWithCache, validate_with_cache
from schemas.observations import observation_schema, rejection_schema


@dg.asset(group_name="validate")
def validated_values(zone_registry: pd.DataFrame, parsed_submissions: ParsedWithCache) -> dg.Output[ValidatedValues]:
    """Accepted values (catalogue unit) and rejected cells with reason codes, by the pandera value rules
    (the cells read in this run; the values of the files from the cache were validated when first read,
    and what this run read is added to the cache)."""
    validated = validate_with_cache(parsed_submissions, list(zone_registry["zone_code"]))
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
    return schema_check(observation_schema(), validated_values.accepted, "accepted values")


@dg.asset_check(asset=validated_values, blocking=True)
def rejected_values_match_schema(validated_values: ValidatedValues) -> dg.AssetCheckResult:
    """Every rejected cell names a known reason and its source cell."""
    return schema_check(rejection_schema(), validated_values.rejected, "rejected values")


