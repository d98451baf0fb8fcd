"""The raw-folder sensor: new batch folders become partitions; added or changed files launch a run."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.ingest.sensor import raw_folder_sensor
from pipelines.runtime.settings import SdzSettings


def evaluate(instance: dg.DagsterInstance, settings: SdzSettings, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings})
    return raw_folder_sensor(context)


def test_sensor_launches_a_run_naming_the_batch_and_files(tmp_path: Path):
    raw = tmp_path / "raw"
    (raw / "2014" / "batch-1").mkdir(parents=True)
    (raw / "2014" / "batch-1" / "a.xlsx").write_bytes(b"first")
    (raw / "2014" / "batch-1" / "~$a.xlsx").write_bytes(b"lock file")
    settings = SdzSettings(raw_dir=str(raw), warehouse=str(tmp_path / "wh" / "sdz.duckdb"))
    with dg.DagsterInstance.ephemeral() as instance:
        first = evaluate(instance, settings, None)
        assert len(first.run_requests) == 1
        assert first.run_requests[0].tags["sdz/batches"] == "2014-batch-1"
        assert first.run_requests[0].tags["sdz/files"] == "1 changed: 2014/batch-1/a.xlsx"
        assert first.dynamic_partitions_requests[0].partition_keys == ["2014-batch-1"]
        instance.add_dynamic_partitions("submission_batches", ["2014-batch-1"])

        unchanged = evaluate(instance, settings, first.cursor)
        assert unchanged.run_requests == [] and unchanged.dynamic_partitions_requests == []

        (raw / "2014" / "batch-2").mkdir()
        (raw / "2014" / "batch-2" / "b.csv").write_text("zone_code,indicator,year,value\n")
        added = evaluate(instance, settings, unchanged.cursor)
        assert [r.tags["sdz/batches"] for r in added.run_requests] == ["2014-batch-2"]
        assert added.run_requests[0].tags["sdz/files"] == "1 changed: 2014/batch-2/b.csv"
        assert added.dynamic_partitions_requests[0].partition_keys == ["2014-batch-2"]
        assert added.run_requests[0].run_key != first.run_requests[0].run_key


def test_sensor_is_off_until_a_steward_turns_it_on():
    assert raw_folder_sensor.default_status == dg.DefaultSensorStatus.STOPPED
