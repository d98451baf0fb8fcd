"""The one entry point: the Dagster definitions that `sdz run` materialises and `dagster dev` shows."""

from __future__ import annotations

import dagster as dg

from pipelines.index import assets as index_assets
from pipelines.ingest import assets as ingest_assets
from pipelines.ingest.batches import SUBMISSION_BATCHES
from pipelines.ingest.sensor import raw_folder_sensor
from pipelines.load import assets as load_assets
from pipelines.models.assets import sql_model_definitions
from pipelines.publish.assets import publish_definitions
from pipelines.publish.reports.assets import report_definitions
from pipelines.runtime.job import WHOLE_RUN
from pipelines.runtime.settings import SQL_MODELS_DIR, SdzSettings
from pipelines.validate import assets as validate_assets


def build_definitions(settings: SdzSettings | None = None) -> dg.Definitions:
    """Definitions with the given settings (default: from SDZ_RAW_DIR / SDZ_WAREHOUSE).

    The UI's runs keep Dagster's file IO manager so a single step can be re-executed; `sdz run`
    executes the module's `defs` in process, where Dagster passes values between steps in memory
    and the run's settings replace these (pipelines.runtime.runner)."""
    python_modules = [ingest_assets, validate_assets, load_assets, index_assets]
    model_assets = sql_model_definitions(SQL_MODELS_DIR)
    build_assets = [*dg.load_assets_from_modules(python_modules), *model_assets]
    # Everything named <schema>.<table> is a table of the warehouse under construction.
    tables = [key for asset in build_assets for key in asset.keys if len(key.path) == 2]
    return dg.Definitions(
        assets=[SUBMISSION_BATCHES, *build_assets, *publish_definitions(tables),
                *report_definitions(dg.AssetKey("warehouse"))],
        asset_checks=dg.load_asset_checks_from_modules(python_modules),
        jobs=[WHOLE_RUN],
        sensors=[raw_folder_sensor],
        resources={"settings": settings or SdzSettings.from_env()},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
