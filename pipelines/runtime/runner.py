"""Run the whole asset graph in-process, as `sdz run` does, under the warehouse's run lock."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.index.method import MethodError
from pipelines.index.zone_scores import load_evaluation_method
from pipelines.ingest.registry import RegistryError, read_registry
from pipelines.publish.summary import RunSummary, read_summary
from pipelines.runtime.instance import sdz_instance
from pipelines.runtime.job import WHOLE_RUN
from pipelines.runtime.settings import SdzSettings
from pipelines.runtime.warehouse import WarehouseBusy, remove_stale_builds, run_lock


class RunFailed(Exception):
    """The run could not start (exit status 2) or did not complete (exit status 1)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def check_can_run(settings: SdzSettings) -> None:
    """Fail before anything is written: missing raw folder, invalid registry or method file, unwritable warehouse."""
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


def run_pipeline(settings: SdzSettings) -> RunSummary:
    """Materialise every asset with these settings; returns the summary of the published warehouse."""
    check_can_run(settings)
    try:
        with run_lock(settings.lock_path):
            remove_stale_builds(settings.warehouse_path)
            result = materialize_all(settings)
    except WarehouseBusy as busy:
        raise RunFailed(str(busy), 2) from None
    if not result.success:
        raise RunFailed(_failure_message(result), 1)
    summary = read_summary(settings.warehouse_path)
    summary.feedback_workbooks = sum(1 for _ in (settings.output_dir / "feedback").rglob("*.xlsx"))
    return summary


def materialize_all(settings: SdzSettings) -> dg.ExecuteInProcessResult:
    """Every asset and check of the definitions, in one in-process run."""
    definitions = build_definitions(settings, in_memory=True)
    job = definitions.resolve_job_def(WHOLE_RUN.name)
    # The terminal shows the summary; Dagster's event log stays in the run history.
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    with sdz_instance(settings) as instance:
        return job.execute_in_process(run_config=quiet, instance=instance, raise_on_error=False,
                                      tags={"sdz/started_by": "sdz run"})


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
