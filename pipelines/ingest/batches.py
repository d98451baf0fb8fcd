"""Submission batches as Dagster partitions: one per `<round>/batch-N` folder under raw/.

The whole warehouse is rebuilt from all batches on every run, so the batches are not computed
one by one; each publish records, per batch partition of `submission_batches`, what arrived,
what was refused and when it was loaded, which the UI shows on the partition's page.
"""

import dagster as dg
import duckdb
import pandas as pd

from pipelines.publish.summary import BATCHES_SQL

BATCHES = dg.DynamicPartitionsDefinition(name="submission_batches")

SUBMISSION_BATCHES = dg.AssetSpec(
    "submission_batches",
    partitions_def=BATCHES,
    group_name="ingest",
    description="The submission batches, one partition per raw/<round>/batch-N folder (added when the folder "
    "appears). Each run records per batch the files received and refused and the values accepted, rejected and "
    "flagged; the partition's history says when each state was loaded.",
)

FILES_SQL = """
select round, batch, path, status, coalesce(reason, '') as reason, values_accepted, values_rejected
from core.submission_files order by file_id
"""

STATUS_SQL = "select round, batch, status, count(*) as zones from mart.submission_status group by all"


def partition_key(round_year: int, batch: int) -> str:
    """The partition of a `<round>/batch-N` folder, e.g. 2014-batch-1."""
    return f"{round_year}-batch-{batch}"


def partition_of_path(path: str) -> str:
    """The partition of a path relative to raw/ such as `2014/batch-2/x.xlsx`."""
    round_part, batch_part = path.split("/")[:2]
    return partition_key(int(round_part), int(batch_part.removeprefix("batch-")))


def batch_materializations(warehouse_path) -> list[dg.AssetMaterialization]:
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
                "files_received": int(len(in_batch)),
                "files_loaded": int(row.files_loaded),
                "files_rejected": int(row.files_rejected),
                "files_duplicate": int(row.files_duplicate),
                "values_accepted": int(row.values_accepted),
                "values_rejected": int(row.values_rejected),
                "values_flagged": int(row.values_flagged),
                "coverage_pct": float(row.coverage_pct) if pd.notna(row.coverage_pct) else 0.0,
                "zones_by_status": dg.MetadataValue.json(
                    {r.status: int(r.zones) for r in zone_status.itertuples(index=False)}),
                "files": dg.MetadataValue.md(
                    in_batch[["path", "status", "reason", "values_accepted", "values_rejected"]].to_markdown(
                        index=False)),
            },
        ))
    return events


def add_batch_partitions(instance: dg.DagsterInstance, keys: list[str]) -> None:
    """Register batch folders as partitions (already known ones are left alone)."""
    known = set(instance.get_dynamic_partitions(BATCHES.name))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(BATCHES.name, new)
