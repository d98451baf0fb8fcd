"""`sdz`: the command line of stewards and analysts (the README's command table).

    sdz run [--raw DIR] [--warehouse FILE] [--method YAML] [--full]   ingest, rebuild, publish (the Dagster asset graph)
    sdz validate FILE...                      check files without touching any warehouse
    sdz sql [QUERY] [--warehouse FILE] [--csv]   read-only SQL on the warehouse
    sdz ui [--raw DIR] [--warehouse FILE] [--method YAML] [--port N]   the Dagster UI (`dagster dev`)
    sdz index --data CSV --method YAML --out CSV [--sensitivity N]
    sdz cards --round R [--zone CODE ...] [--warehouse FILE] [--out DIR] [--method YAML]   zone report cards
    sdz templates [--round R] [--batch 1|2] [--zone CODE ...] [--out DIR] [--warehouse FILE]
                                              the zones' workbooks, written from the warehouse
    sdz demo DIR                              write the synthetic demo submissions
    sdz --version

Exit status: 0 done; 1 `validate` found values that would be rejected (or a run's checks failed);
2 cannot run (bad arguments, invalid registry or method file, unwritable or busy warehouse, bad SQL).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(add_completion=False, no_args_is_help=True, help="sdz: monitoring data pipeline and warehouse.")
# Wide enough for the summary tables when the output goes to a file or a CI log.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 120)


# Help texts only: the defaults themselves are pipelines.runtime.defaults' (Dagster is imported only by the
# commands that run or show the asset graph: `sdz run` and `sdz ui`).
RawOption = Annotated[Path | None, typer.Option(help="raw folder (default: $SDZ_RAW_DIR or raw/)")]
WarehouseOption = Annotated[Path | None, typer.Option(help="warehouse file (default: $SDZ_WAREHOUSE or "
                                                      "warehouse/sdz.duckdb)")]
MethodOption = Annotated[Path | None, typer.Option(
    "--method", help="method file of the evaluation (default: $SDZ_METHOD or schemas/methods/default.yaml; "
    "README: The composite index)")]


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def show_version(wanted: bool) -> None:
    if wanted:
        from importlib.metadata import version

        console.print(f"sdz {version('sdz')}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[bool, typer.Option("--version", callback=show_version, is_eager=True,
                                          help="print the installed version and exit")] = False,
) -> None:
    """sdz: monitoring data pipeline and warehouse."""


@app.command()
def run(raw: RawOption = None, warehouse: WarehouseOption = None, method: MethodOption = None,
        full: Annotated[bool, typer.Option("--full", help="rebuild the warehouse from every file even when the only "
                                           "change is new files (as SDZ_INCREMENTAL=off)")] = False) -> None:
    """Ingest every submission under the raw folder, rebuild the warehouse (or apply new files to it) and publish it."""
    from pipelines.publish.summary import print_summary
    from pipelines.runtime.runner import RunFailed, run_with_outcome
    from pipelines.runtime.settings import SdzSettings

    settings = SdzSettings.from_env(raw, warehouse, method, incremental=False if full else None)
    started = time.perf_counter()
    try:
        outcome = run_with_outcome(settings)
    except RunFailed as failure:
        raise fail(str(failure), failure.exit_code) from None
    print_summary(outcome.summary, console)
    if outcome.kind == "unchanged":
        console.print("Nothing changed under raw/ (nor the method file or the code) since this warehouse was "
                      "published: not rebuilt. 未发现新的或修改的文件，未重建。")
    console.print(f"Warehouse: {settings.warehouse_path}  ({time.perf_counter() - started:.1f} s)")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="submission files (.xlsx, .xlsm, .xls, .xlsb, .ods, .csv)")],
    registry: Annotated[Path | None, typer.Option(help="zone registry (default: <raw>/reference/zones.csv)")] = None,
    round_year: Annotated[int | None, typer.Option("--round", help="round the files belong to (default: from "
                                                   "the <round>/batch-N folder or a year in the file name)")] = None,
) -> None:
    """Check files against the template and the value rules; touches no warehouse."""
    from pipelines.ingest.registry import RegistryError, read_registry
    from pipelines.runtime.defaults import raw_dir_from_env
    from pipelines.runtime.defaults import registry_path as default_registry
    from pipelines.validate.check_files import print_report, validate_files

    registry_path = registry or registry_beside(files) or default_registry(raw_dir_from_env())
    try:
        zones = read_registry(registry_path)
    except RegistryError as error:
        raise fail(str(error)) from None
    rounds = {}
    for file in files:
        if not file.is_file():
            raise fail(f"{file}: no such file")
        found = round_year or round_of(file)
        if found is None:
            raise fail(f"{file}: cannot tell the round (no <round>/batch-N folder or year in the name); pass --round")
        rounds[file] = found
    report = validate_files(rounds, zones)
    print_report(report, console)
    raise typer.Exit(1 if report.rejected_anything else 0)


def registry_beside(files: list[Path]) -> Path | None:
    """The registry of the raw folder the first file sits in (<raw>/<round>/batch-N/file), if any."""
    for file in files:
        parts = file.resolve().parts
        for position in range(len(parts) - 2):
            if re.fullmatch(r"(19|20)\d\d", parts[position]) and re.fullmatch(r"batch-\d+", parts[position + 1]):
                candidate = Path(*parts[:position]) / "reference" / "zones.csv"
                if candidate.is_file():
                    return candidate
    return None


def round_of(path: Path) -> int | None:
    """The round of a file: its <round>/batch-N folder, else a year in its name."""
    parts = path.resolve().parts
    for folder, child in zip(parts, parts[1:], strict=False):
        if re.fullmatch(r"(19|20)\d\d", folder) and re.fullmatch(r"batch-\d+", child):
            return int(folder)
    match = re.search(r"(?<!\d)(20\d\d)(?!\d)", path.name)
    return int(match.group(1)) if match else None


@app.command()
def index(
    data: Annotated[Path, typer.Option(help="long CSV: unit,year,indicator,value")],
    method: Annotated[Path, typer.Option(help="method file (YAML; README: The composite index)")],
    out: Annotated[Path, typer.Option(help="output CSV: unit,year,node,score")],
    sensitivity: Annotated[int, typer.Option(help="runs of the weight / normalisation sensitivity analysis")] = 0,
) -> None:
    """Compute a composite index from long data with a method file."""
    from pipelines.index.engine import index_command

    raise typer.Exit(index_command(data, method, out, sensitivity))


@app.command()
def ui(raw: RawOption = None, warehouse: WarehouseOption = None, method: MethodOption = None,
       port: Annotated[int, typer.Option(help="port of the web UI on 127.0.0.1")] = 3000) -> None:
    """Start the Dagster UI (`dagster dev`); run history in the warehouse folder, Ctrl-C stops all of it."""
    from pipelines.index.method import MethodError
    from pipelines.index.zone_scores import load_evaluation_method
    from pipelines.runtime.dagster_ui import dagster_dev, supervise
    from pipelines.runtime.settings import SdzSettings

    settings = SdzSettings.from_env(raw, warehouse, method)
    try:
        load_evaluation_method(settings.method_file)
    except MethodError as error:
        raise fail(str(error)) from None
    command, environment = dagster_dev(settings, port)
    console.print(f"Dagster UI on http://127.0.0.1:{port} (run history in {environment['DAGSTER_HOME']})")
    raise typer.Exit(supervise(command, environment, console.print))


@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="SQL to run (default: read from stdin, or a prompt on a "
                                                "terminal)")] = None,
    warehouse: WarehouseOption = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV instead of a table")] = False,
) -> None:
    """Query the warehouse read-only: the QUERY given, the statements on stdin, or an interactive prompt."""
    from pipelines.runtime.defaults import warehouse_from_env
    from pipelines.runtime.sql_prompt import ResultPrinter, SqlError, open_warehouse, prompt, run_sql

    printer = ResultPrinter(console, as_csv)
    try:
        with open_warehouse(Path(warehouse_from_env(warehouse)).resolve()) as con:
            if query is not None:
                run_sql(con, query, printer)
            elif sys.stdin.isatty():
                prompt(con, printer, errors)
            else:
                run_sql(con, sys.stdin.read(), printer)
    except SqlError as error:
        raise fail(str(error)) from None


@app.command()
def cards(
    round_year: Annotated[int, typer.Option("--round", help="round whose cards to write (as of its last batch)")],
    zone: Annotated[list[str] | None, typer.Option(help="zone code; repeat for several (default: every zone the "
                                                   "round expects, with the index page)")] = None,
    warehouse: WarehouseOption = None,
    out: Annotated[Path | None, typer.Option(help="folder to write into (default: reports/<round>/zones/ "
                                             "beside the warehouse)")] = None,
    method: MethodOption = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="also print each page to PDF beside it (needs a headless "
                                                    "Chromium; without one, a line says so)")] = False,
) -> None:
    """Write zone report cards of one round from an existing warehouse (read-only)."""
    from pipelines.publish.reports.cards import write_zone_cards
    from pipelines.publish.reports.pdf import NO_BROWSER, find_browser, print_pdfs
    from pipelines.runtime.settings import SdzSettings

    settings = SdzSettings.from_env(warehouse=warehouse, method_file=method)
    if not settings.warehouse_path.is_file():
        raise fail(f"{settings.warehouse_path}: no warehouse; run `sdz run` first or pass --warehouse")
    folder = out or settings.output_dir / "reports" / str(round_year) / "zones"
    try:
        written = write_zone_cards(settings.warehouse_path, round_year, list(zone or []), folder,
                                   Path(settings.method_file))
    except ValueError as error:
        raise fail(str(error)) from None
    console.print(f"{len(written)} file(s) written to {folder}")
    if pdf:
        pages = [path for path in written if path.suffix == ".html"]
        printed = print_pdfs(pages) if find_browser() else []
        console.print(f"{len(printed)} PDF(s) written" if printed or not pages else NO_BROWSER)


@app.command()
def templates(
    round_year: Annotated[int | None, typer.Option("--round", help="round (default: batch 1 the round after the "
                                                   "latest in the warehouse, batch 2 the latest)")] = None,
    batch: Annotated[int, typer.Option(min=1, max=2, help="1: the round's template; 2: the supplementary "
                                       "batch's, for the zones with something to correct or complete")] = 1,
    zone: Annotated[list[str] | None, typer.Option(help="only this zone (repeatable)")] = None,
    out: Annotated[Path | None, typer.Option(help="folder (default: templates/<round>/batch-N/ beside the "
                                             "warehouse)")] = None,
    warehouse: WarehouseOption = None,
) -> None:
    """Write each expected zone's workbook for a round from the warehouse (README: Templates for the zones)."""
    import duckdb

    from pipelines.publish.templates import TemplatesError, write_templates
    from pipelines.runtime.settings import SdzSettings

    settings = SdzSettings.from_env(warehouse=warehouse)
    if not settings.warehouse_path.is_file():
        raise fail(f"no warehouse at {settings.warehouse_path}: run `sdz run` first")
    started = time.perf_counter()
    try:
        if round_year is None:
            with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
                latest = con.execute("select max(round) from core.rounds").fetchone()[0]
            if latest is None:
                raise TemplatesError("the warehouse has no round yet: give --round")
            round_year = latest + 1 if batch == 1 else latest
        written = write_templates(settings.warehouse_path, round_year, batch, zone, out)
    except TemplatesError as error:
        raise fail(str(error)) from None
    folder = written[0].parent if written else out or "(none)"
    console.print(f"{len(written)} templates of round {round_year} batch {batch} written to {folder} "
                  f"({time.perf_counter() - started:.1f} s)")


@app.command()
def demo(directory: Annotated[Path, typer.Argument(help="folder to write the synthetic raw folder into")]) -> None:
    """Write the deterministic synthetic demo submissions (clearly labelled, never real data)."""
    from pipelines.demo.generate import generate_demo

    try:
        summary = generate_demo(directory)
    except ValueError as error:
        raise fail(str(error)) from None
    console.print(f"Synthetic demo written to {directory}: {summary}")


def main() -> None:
    """Console-script entry point. The process ends without the interpreter's teardown: every file is written
    and closed when a command returns, and freeing the modules of Dagster, pandas and DuckDB one by one took
    0.8-1 s of each `sdz run`."""
    try:
        app()
        status = 0
    except SystemExit as done:  # how typer ends every command
        status = done.code if isinstance(done.code, int) else (done.code is not None)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


if __name__ == "__main__":
    main()
