"""Dagster's instance for a warehouse: run history beside the warehouse, never in the repository.

`sdz run` records its runs there and `sdz ui` starts `dagster dev` on it, so the UI shows every
run, whichever way it was started. One run at a time: the queue lets a second wait.
"""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from pipelines.runtime.settings import SdzSettings

DAGSTER_YAML = """\
# Written by sdz: the Dagster instance of the warehouse beside this folder (run history, event log).
run_queue:
  max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def ensure_dagster_home(settings: SdzSettings) -> Path:
    """Create the instance folder and its dagster.yaml when missing; returns the folder."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return home


def sdz_instance(settings: SdzSettings) -> DagsterInstance:
    """The persistent instance of this warehouse, storing events through kept connections
    (pipelines.runtime.event_log); `dagster dev` reads the same files with Dagster's default storage."""
    home = ensure_dagster_home(settings)
    events = {"module": "pipelines.runtime.event_log", "class": "KeptConnectionEventLogStorage",
              "config": {"base_dir": str(home / "history" / "runs")}}
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides={"event_log_storage": events}))
