"""Dagster assets of publishing: swap the built warehouse in, then write what stewards read."""


from collections.abc import Sequence

import dagster as dg

from pipelines.publish.batch_records import batch_materializations
from pipelines.publish.feedback import write_feedback
from pipelines.publish.templates import write_supplementary_templates
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import export_parquet, publish


def publish_definitions(warehouse_tables: Sequence[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """The publish stage, downstream of every table built into the warehouse."""

    @dg.asset(group_name="publish", deps=list(warehouse_tables), kinds={"duckdb"})
    def warehouse(context: dg.AssetExecutionContext, settings: SdzSettings) -> dg.MaterializeResult:
        """The published warehouse file: the complete build swapped in atomically, so readers never see a
        half-built warehouse and a failed run (or a failed error-severity check) leaves the previous one."""
        build = settings.build_path(context.run.run_id)
        if not build.exists():
            raise dg.Failure(description=f"this run built no warehouse ({build}): materialise the core tables "
                                         "or a model in the same run")
        publish(build, settings.warehouse_path)
        for event in batch_materializations(settings.warehouse_path):
            context.log_event(event)
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
    def templates(settings: SdzSettings) -> dg.MaterializeResult:
        """Supplementary-batch workbooks (templates/<round>/batch-2/ beside the warehouse) for the latest round
        while batch 1 is its latest batch: each zone's template with the values in force, the cells to correct
        highlighted and commented, the cells still missing marked. Next-round templates: `sdz templates`."""
        written = write_supplementary_templates(settings.warehouse_path, settings.output_dir)
        return dg.MaterializeResult(metadata={"workbooks": len(written),
                                              "folder": str(settings.output_dir / "templates")})

    @dg.asset(group_name="publish", deps=[warehouse])
    def parquet_exports(settings: SdzSettings) -> dg.MaterializeResult:
        """Every core and mart table as Parquet (parquet/<schema>.<table>.parquet beside the warehouse), with the
        table's and columns' comments, for tools that do not speak DuckDB."""
        written = export_parquet(settings.warehouse_path, settings.output_dir / "parquet", schemas=["core", "mart"])
        return dg.MaterializeResult(metadata={"files": len(written), "folder": str(settings.output_dir / "parquet")})

    return [warehouse, feedback_workbooks, templates, parquet_exports]
