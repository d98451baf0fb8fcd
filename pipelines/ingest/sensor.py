"""A sensor that watches raw/ and launches the whole run when files are added or changed.

Off by default (turn it on in the UI: Automation → raw_folder_sensor). Each batch folder becomes a
partition of `submission_batches` as soon as it appears. The run's tags name the batches and
files that changed.
"""

import hashlib
import json

import dagster as dg

from pipelines.ingest.batches import BATCHES, partition_key, partition_of_path
from pipelines.ingest.inventory import batch_folders, is_ignored
from pipelines.runtime.job import WHOLE_RUN
from pipelines.runtime.settings import SdzSettings


def file_fingerprints(settings: SdzSettings) -> dict[str, str]:
    """Path (relative to raw/) → size and modification time, for every file of every batch folder."""
    fingerprints = {}
    raw = settings.raw_path
    for folder in batch_folders(raw):
        for path in sorted(folder.path.rglob("*")):
            relative = path.relative_to(raw)
            if any(is_ignored(part) for part in relative.parts) or path.is_dir():
                continue
            try:
                status = path.lstat()
            except OSError:
                continue
            fingerprints[relative.as_posix()] = f"{status.st_size}:{status.st_mtime_ns}"
    return fingerprints


@dg.sensor(job=WHOLE_RUN, default_status=dg.DefaultSensorStatus.STOPPED, minimum_interval_seconds=15)
def raw_folder_sensor(context: dg.SensorEvaluationContext, settings: SdzSettings) -> dg.SensorResult:
    """Launch the whole run when a file under raw/<round>/batch-N/ is added, changed or removed."""
    current = file_fingerprints(settings)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(path for path in set(current) | set(previous) if current.get(path) != previous.get(path))
    batches = sorted({partition_key(f.round, f.batch) for f in batch_folders(settings.raw_path)})
    known = set(context.instance.get_dynamic_partitions(BATCHES.name))
    new_batches = [key for key in batches if key not in known]
    requests = []
    if changed:
        changed_batches = sorted({partition_of_path(path) for path in changed})
        state = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(
            run_key=state,
            tags={"sdz/batches": ", ".join(changed_batches)[:200],
                  "sdz/files": (f"{len(changed)} changed: " + ", ".join(changed))[:200]},
        ))
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(current, sort_keys=True),
        dynamic_partitions_requests=[BATCHES.build_add_request(new_batches)] if new_batches else [],
    )
