"""Dagster assets of publishing: swap the built warehouse in, then write what stewards read."""

from __future__ import annotations

import dagster as dg

from pipelines.feedback import write_feedback
from pipelines.settings import SdzSettings
from pipelines.warehouse import publish
from schemas.core_tables import core_table_definitions

CORE_KEYS = [dg.AssetKey(name.split(".")) for name in core_table_definitions()]


@dg.asset(group_name="publish", deps=CORE_KEYS, kinds={"duckdb"})
def warehouse(settings: SdzSettings) -> dg.MaterializeResult:
    """The published warehouse file: the complete build swapped in atomically, so readers never see
    a half-built warehouse and a failed run leaves the previous one in place."""
    if not settings.build_path.exists():
        raise dg.Failure(description=f"no warehouse build at {settings.build_path}: materialise the core tables first")
    publish(settings.build_path, settings.warehouse_path)
    return dg.MaterializeResult(metadata={"path": str(settings.warehouse_path),
                                          "size_bytes": settings.warehouse_path.stat().st_size})


@dg.asset(group_name="publish", deps=[warehouse])
def feedback_workbooks(settings: SdzSettings) -> dg.MaterializeResult:
    """Per-zone feedback workbooks (feedback/<round>/batch-N/<zone_code>.xlsx beside the warehouse) listing
    every rejected value and warning with its cell, reason and what to correct."""
    written = write_feedback(settings.warehouse_path, settings.output_dir)
    return dg.MaterializeResult(metadata={"workbooks": len(written),
                                          "folder": str(settings.output_dir / "feedback")})
