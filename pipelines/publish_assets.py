"""Dagster assets of publishing: swap the built warehouse in, then write what stewards read."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from pipelines.feedback import write_feedback
from pipelines.settings import SdzSettings
from pipelines.warehouse import export_parquet, publish


def publish_definitions(warehouse_tables: Sequence[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """The publish stage, downstream of every table built into the warehouse."""

    @dg.asset(group_name="publish", deps=list(warehouse_tables), kinds={"duckdb"})
    def warehouse(settings: SdzSettings) -> dg.MaterializeResult:
        """The published warehouse file: the complete build swapped in atomically, so readers never see a
        half-built warehouse and a failed run (or a failed error-severity check) leaves the previous one."""
        if not settings.build_path.exists():
            raise dg.Failure(description=f"no warehouse build at {settings.build_path}: "
                                         "materialise the core tables first")
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

    @dg.asset(group_name="publish", deps=[warehouse])
    def parquet_exports(settings: SdzSettings) -> dg.MaterializeResult:
        """Every mart table as Parquet (parquet/mart.<table>.parquet beside the warehouse), for tools that do
        not speak DuckDB."""
        written = export_parquet(settings.warehouse_path, settings.output_dir / "parquet", schema="mart")
        return dg.MaterializeResult(metadata={"files": len(written), "folder": str(settings.output_dir / "parquet")})

    return [warehouse, feedback_workbooks, parquet_exports]
