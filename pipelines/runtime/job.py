"""The jobs: everything `sdz run` does (which the UI and the sensor launch too), and the small run that
`sdz run` records instead when nothing changed since the published warehouse."""

from pathlib import Path

import dagster as dg

WHOLE_RUN = dg.define_asset_job(
    "sdz_run", selection=dg.AssetSelection.all(), description="Everything `sdz run` does: ingest all batches, "
    "rebuild the warehouse and its models, publish, write feedback and exports."
)


@dg.op(config_schema={"warehouse": str, "inputs": str, "files": int})
def warehouse_is_current(context: dg.OpExecutionContext) -> None:
    """Observe the published warehouse: built from exactly the files, registry, method and code of this run."""
    config = context.op_config
    context.log_event(dg.AssetObservation(
        asset_key="warehouse", description="nothing changed under raw/ since it was published: not rebuilt",
        metadata={"path": config["warehouse"], "inputs_sha256": config["inputs"], "files_under_raw": config["files"]}))


@dg.job(name="sdz_unchanged", description="`sdz run` when nothing changed under raw/ (nor the method file or the "
        "code) since the warehouse was published: the warehouse is observed, not rebuilt.")
def UNCHANGED_RUN() -> None:  # noqa: N802 - a job, named like WHOLE_RUN
    warehouse_is_current()


def unchanged_run_config(warehouse_path: Path, inputs: str, files: int) -> dict:
    """The run config of UNCHANGED_RUN for a warehouse and the fingerprint of its inputs."""
    quiet = {"console": {"config": {"log_level": "CRITICAL"}}}
    return {"ops": {"warehouse_is_current": {"config": {"warehouse": str(warehouse_path), "inputs": inputs,
                                                        "files": files}}},
            "loggers": quiet}
