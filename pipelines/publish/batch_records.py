"""What each batch became, recorded on its `submission_batches` partition after a publish.

The whole warehouse is rebuilt from all batches on every run, so the batches are not computed one
by one; each publish records, per batch partition, what arrived, what was refused and the zones'
status (`mart.batch_summary`, `mart.submission_status`), which the UI shows on the partition's page
with the time each state was loaded.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from pipelines.ingest.batches import SUBMISSION_BATCHES, partition_key

# coverage rounded as the run summary prints it
BATCHES_SQL = "select * replace (round(coverage_pct, 1) as coverage_pct) from mart.batch_summary order by round, batch"

FILES_SQL = """
select round, batch, path, status, coalesce(reason, '') as reason, values_accepted, values_rejected
from core.submission_files order by file_id
"""

STATUS_SQL = "select round, batch, status, count(*) as zones from mart.submission_status group by all"

COUNTS = ["files_received", "files_loaded", "files_rejected", "files_duplicate", "values_accepted", "values_rejected",
          "values_flagged"]


def batch_materializations(warehouse_path: Path) -> list[dg.AssetMaterialization]:
    """One materialisation of `submission_batches` per batch, with that batch's outcome as metadata."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        batches = con.execute(BATCHES_SQL).df()
        files = con.execute(FILES_SQL).df()
        statuses = con.execute(STATUS_SQL).df()
    events = []
    for row in batches.itertuples(index=False):
        in_batch = files[(files["round"] == row.round) & (files["batch"] == row.batch)]
        zone_status = statuses[(statuses["round"] == row.round) & (statuses["batch"] == row.batch)]
        events.append(dg.AssetMaterialization(
            asset_key=SUBMISSION_BATCHES.key,
            partition=partition_key(int(row.round), int(row.batch)),
            metadata={
                **{count: int(getattr(row, count)) for count in COUNTS},
                "coverage_pct": float(row.coverage_pct) if pd.notna(row.coverage_pct) else 0.0,
                "zones_by_status": dg.MetadataValue.json(
                    {r.status: int(r.zones) for r in zone_status.itertuples(index=False)}),
                "files": dg.MetadataValue.md(
                    in_batch[["path", "status", "reason", "values_accepted", "values_rejected"]].to_markdown(
                        index=False)),
            },
        ))
    return events
