"""Dagster asset of the round reports: monitoring and evaluation, HTML and xlsx, read from the published warehouse."""


from pathlib import Path

import dagster as dg

from pipelines.publish.reports.cards import write_cards
from pipelines.publish.reports.pdf import NO_BROWSER, find_browser
from pipelines.publish.reports.render import write_reports
from pipelines.runtime.settings import SdzSettings


def report_definitions(warehouse_key: dg.AssetKey) -> list[dg.AssetsDefinition]:
    """The `reports` and `zone_cards` assets, downstream of the published warehouse (`warehouse_key`)."""

    @dg.asset(group_name="publish", deps=[warehouse_key], kinds={"html", "excel"})
    def reports(context: dg.AssetExecutionContext, settings: SdzSettings) -> dg.MaterializeResult:
        """The programme office's reports of every round (reports/<round>/ beside the warehouse): the monitoring
        report (创新能力监测报告) and the evaluation report (创新能力评价报告), each as a self-contained HTML page
        with charts and as an xlsx workbook with the same tables, showing the data as they stood after the round's
        last batch; printed to PDF on A4 when a headless Chromium is installed."""
        folder = settings.output_dir / "reports"
        browser = find_browser()
        if browser is None:
            context.log.warning(NO_BROWSER)
        written = write_reports(settings.warehouse_path, folder, Path(settings.method_file), pdf_browser=browser)
        rounds = sorted({path.parent.name for path in written})
        return dg.MaterializeResult(metadata={
            "files": len(written),
            "pdf": sum(path.suffix == ".pdf" for path in written) if browser else NO_BROWSER,
            "rounds": ", ".join(rounds),
            "folder": dg.MetadataValue.path(str(folder)),
        })

    @dg.asset(group_name="publish", deps=[warehouse_key, reports], kinds={"html"})
    def zone_cards(settings: SdzSettings) -> dg.MaterializeResult:
        """A report card for every zone each round expects (reports/<round>/zones/<zone_code>.html, with an
        index.html): the zone's indicators against its type, its index and aspects against the type mean, its
        rank with the 90 % interval of the sensitivity analysis, and its data quality, as of the round's end."""
        folder = settings.output_dir / "reports"
        written = write_cards(settings.warehouse_path, folder, Path(settings.method_file))
        return dg.MaterializeResult(metadata={
            "cards": sum(path.name != "index.html" for path in written),
            "rounds": ", ".join(sorted({path.parent.parent.name for path in written})),
            "folder": dg.MetadataValue.path(str(folder)),
        })

    return [reports, zone_cards]
