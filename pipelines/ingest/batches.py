"""Submission batches as Dagster partitions: one per `<round>/batch-N` folder under raw/.

The whole warehouse is rebuilt from all batches on every run, so the batches are not computed
one by one; each publish records, per batch partition of `submission_batches`, what arrived,
what was refused and when it was loaded (`pipelines.publish.batch_records`), which the UI shows
on the partition's page.
"""

import dagster as dg

BATCHES = dg.DynamicPartitionsDefinition(name="submission_batches")

SUBMISSION_BATCHES = dg.AssetSpec(
    "submission_batches",
    partitions_def=BATCHES,
    group_name="ingest",
    description="The submission batches, one partition per raw/<round>/batch-N folder (added when the folder "
    "appears). Each run records per batch the files received and refused and the values accepted, rejected and "
    "flagged; the partition's history says when each state was loaded.",
)


def partition_key(round_year: int, batch: int) -> str:
    """The partition of a `<round>/batch-N` folder, e.g. 2014-batch-1."""
    return f"{round_year}-batch-{batch}"


def partition_of_path(path: str) -> str:
    """The partition of a path relative to raw/ such as `2014/batch-2/x.xlsx`."""
    round_part, batch_part = path.split("/")[:2]
    return partition_key(int(round_part), int(batch_part.removeprefix("batch-")))


def add_batch_partitions(instance: dg.DagsterInstance, keys: list[str]) -> None:
    """Register batch folders as partitions (already known ones are left alone)."""
    known = set(instance.get_dynamic_partitions(BATCHES.name))
    new = [key for key in keys if key not in known]
    if new:
        instance.add_dynamic_partitions(BATCHES.name, new)
