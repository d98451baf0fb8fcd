"""The one entry point: the Dagster definitions that `sdz run` materialises and `dagster dev` shows."""

from __future__ import annotations

import dagster as dg

from pipelines import ingest_assets, publish_assets
from pipelines.settings import SdzSettings


def build_definitions(settings: SdzSettings | None = None) -> dg.Definitions:
    """Definitions with the given settings (default: from SDZ_RAW_DIR / SDZ_WAREHOUSE)."""
    modules = [ingest_assets, publish_assets]
    return dg.Definitions(
        assets=dg.load_assets_from_modules(modules),
        asset_checks=dg.load_asset_checks_from_modules(modules),
        resources={"settings": settings or SdzSettings.from_env()},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
