"""Run the whole asset graph in-process, as `sdz run` does, under the warehouse's run lock.

When nothing changed since the published warehouse (pipelines.runtime.raw_changes: the same files under
raw/, registry, method file, limits and code), the run rebuilds nothing: it records a small Dagster run
(`sdz_unchanged`) in the warehouse's instance, so the UI still shows every `sdz run`, and prints the
published warehouse's summary. Dagster and the pipeline's modules are imported only when a run needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.publish.summary import RunSummary, read_summary
from pipelines.runtime.limits import FileLimits
from pipelines.runtime.raw_changes import RawState, is_complete, raw_changes, raw_state, record_complete
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import WarehouseBusy, remove_stale_builds, run_lock

if TYPE_CHECKING:
    import dagster as dg


class RunFailed(Exception):
    """The run could not start (exit status 2) or did not complete (exit status 1)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RunOutcome:
    """What a run did (`rebuilt` the warehouse, or found it `unchanged`) and the published warehouse's summary."""

    summary: RunSummary
    kind: str


def check_can_run(settings: SdzSettings) -> None:
    """Fail before anything is written: missing raw folder, invalid registry or method file, unwritable warehouse."""
    from pipelines.index.method import MethodError
    from pipelines.index.zone_scores import load_evaluation_method
    from pipelines.ingest.registry import RegistryError, read_registry

    if not settings.raw_path.is_dir():
        raise RunFailed(f"raw folder {settings.raw_path} does not exist", 2)
    try:
        read_registry(settings.registry_path)
    except RegistryError as error:
        raise RunFailed(str(error), 2) from None
    try:
        load_evaluation_method(settings.method_file)
    except MethodError as error:  # names the file and the problem
        raise RunFailed(str(error), 2) from None
    folder = settings.warehouse_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".{settings.warehouse_path.name}.write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise RunFailed(f"cannot write the warehouse folder {folder}: {error.strerror}", 2) from None


def current_state(settings: SdzSettings) -> RawState:
    """The fingerprint of what a run with these settings reads."""
    return raw_state(settings.raw_path, settings.method_path,
                     FileLimits(settings.max_file_bytes, settings.max_inflated_bytes))


def run_pipeline(settings: SdzSettings) -> RunSummary:
    """Materialise every asset with these settings (or find nothing changed); returns the published summary."""
    return run_with_outcome(settings).summary


def run_with_outcome(settings: SdzSettings) -> RunOutcome:
    """`sdz run`: rebuild and publish the warehouse, or record that nothing changed since it was published.

    SDZ_CACHE=off (settings.use_cache false) and `--full` / SDZ_INCREMENTAL=off (settings.incremental false)
    always rebuild. Without a published warehouse to compare with,
    the checks of `check_can_run` come first, so that a run that cannot start writes nothing."""
    may_be_unchanged = settings.use_cache and settings.incremental and is_complete(settings.warehouse_path)
    if not may_be_unchanged:
        check_can_run(settings)
    try:
        with run_lock(settings.lock_path):
            # (a rebuild needs no fingerprint here: its load step takes the one the warehouse records)
            if may_be_unchanged:
                state = current_state(settings)
                if raw_changes(published_state(settings.warehouse_path), state).nothing:
                    record_unchanged_run(settings, state)
                    return RunOutcome(_published_summary(settings), "unchanged")
                check_can_run(settings)
            remove_stale_builds(settings.warehouse_path)
            result = materialize_all(settings)
            if result.success:
                record_complete(settings.warehouse_path)
    except WarehouseBusy as busy:
        raise RunFailed(str(busy), 2) from None
    if not result.success:
        raise RunFailed(_failure_message(result), 1)
    return RunOutcome(_published_summary(settings), "rebuilt")


def published_state(warehouse_path: Path) -> RawState | None:
    """The fingerprint of the inputs the published warehouse was built from, when the run that published it
    completed (`raw_changes.is_complete`); else None."""
    import duckdb

    from pipelines.load.build_inputs import recorded_build_inputs

    if not is_complete(warehouse_path):
        return None
    try:
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            return recorded_build_inputs(con)
    except duckdb.Error:  # unreadable, or held by a writer: compare with nothing, so rebuild
        return None


def _published_summary(settings: SdzSettings) -> RunSummary:
    summary = read_summary(settings.warehouse_path)
    summary.feedback_workbooks = sum(1 for _ in (settings.output_dir / "feedback").rglob("*.xlsx"))
    return summary


def materialize_all(settings: SdzSettings) -> dg.ExecuteInProcessResult:
    """Every asset and check of the definitions, in one in-process run."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.runtime.instance import sdz_instance
    from pipelines.runtime.job import WHOLE_RUN

    # The definitions were built once, when their module was imported; this run's settings replace theirs,
    # and values pass between steps in memory (Dagster's default would pickle each step's output to disk).
    job = defs.resolve_job_def(WHOLE_RUN.name)
    resources = {"settings": settings, "io_manager": dg.mem_io_manager}
    # The terminal shows the summary; Dagster's event log stays in the run history.
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    with sdz_instance(settings) as instance:
        return job.execute_in_process(run_config=quiet, instance=instance, raise_on_error=False,
                                      tags={"sdz/started_by": "sdz run"}, resources=resources)


def record_unchanged_run(settings: SdzSettings, state: RawState) -> None:
    """Record in the warehouse's instance a run that found the published warehouse current."""
    from pipelines.runtime.instance import sdz_instance
    from pipelines.runtime.job import UNCHANGED_RUN, unchanged_run_config

    with sdz_instance(settings) as instance:
        UNCHANGED_RUN.execute_in_process(
            run_config=unchanged_run_config(settings.warehouse_path, state.inputs, len(state.files)),
            instance=instance, tags={"sdz/started_by": "sdz run"})


def _failure_message(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:  # the user's exception, not Dagster's wrapper
                error = error.cause
            messages.append(f"step {event.step_key}: {error.message.strip() if error else 'failed'}")
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            messages.append(f"check {check.asset_key.to_user_string()}:{check.check_name} failed: "
                            f"{check.description or ''}")
    return "the run did not complete; the previous warehouse is unchanged.\n" + "\n".join(messages)
