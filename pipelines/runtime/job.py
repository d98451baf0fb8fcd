"""The one job: everything `sdz run` does, which the UI and the sensor launch too."""

import dagster as dg

WHOLE_RUN = dg.define_asset_job(
    "sdz_run", selection=dg.AssetSelection.all(), description="Everything `sdz run` does: ingest all batches, "
    "rebuild the warehouse and its models, publish, write feedback and exports."
)
