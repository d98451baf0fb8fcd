"""`sdz`: the command line of stewards and analysts (contract section 1).

    sdz run [--raw DIR] [--warehouse FILE]    ingest, rebuild, publish (the Dagster asset graph)
    sdz validate FILE...                      check files without touching any warehouse
    sdz index --data CSV --method YAML --out CSV [--sensitivity N]
    sdz demo DIR                              write the synthetic demo submissions

Exit status: 0 done; 1 `validate` found values that would be rejected (or a run's checks failed);
2 cannot run (bad arguments, invalid registry, unwritable or busy warehouse).
"""

from __future__ import annotations

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


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@app.command()
def run(
    raw: Annotated[Path | None, typer.Option(help="raw folder (default: $SDZ_RAW_DIR or raw/)")] = None,
    warehouse: Annotated[Path | None, typer.Option(help="warehouse file (default: $SDZ_WAREHOUSE or "
                                                   "warehouse/sdz.duckdb)")] = None,
) -> None:
    """Ingest every submission under the raw folder, rebuild the warehouse and publish it."""
    from pipelines.publish.summary import print_summary
    from pipelines.runtime.runner import RunFailed, run_pipeline
    from pipelines.runtime.settings import SdzSettings

    settings = SdzSettings.from_env(raw, warehouse)
    started = time.perf_counter()
    try:
        summary = run_pipeline(settings)
    except RunFailed as failure:
        raise fail(str(failure), failure.exit_code) from None
    print_summary(summary, console)
    console.print(f"Warehouse: {settings.warehouse_path}  ({time.perf_counter() - started:.1f} s)")


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="submission files (.xlsx, .xlsm, .xls, .csv)")],
    registry: Annotated[Path | None, typer.Option(help="zone registry (default: <raw>/reference/zones.csv)")] = None,
    round_year: Annotated[int | None, typer.Option("--round", help="round the files belong to (default: from "
                                                   "the <round>/batch-N folder or a year in the file name)")] = None,
) -> None:
    """Check files against the template and the value rules; touches no warehouse."""
    from pipelines.ingest.registry import RegistryError, read_registry
    from pipelines.runtime.settings import SdzSettings
    from pipelines.validate.check_files import print_report, validate_files

    registry_path = registry or registry_beside(files) or SdzSettings.from_env().registry_path
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
    method: Annotated[Path, typer.Option(help="method file (YAML, contract section 7)")],
    out: Annotated[Path, typer.Option(help="output CSV: unit,year,node,score")],
    sensitivity: Annotated[int, typer.Option(help="runs of the weight / normalisation sensitivity analysis")] = 0,
) -> None:
    """Compute a composite index from long data with a method file."""
    from pipelines.index.engine import index_command

    raise typer.Exit(index_command(data, method, out, sensitivity))


@app.command()
def ui(
    raw: Annotated[Path | None, typer.Option(help="raw folder (default: $SDZ_RAW_DIR or raw/)")] = None,
    warehouse: Annotated[Path | None, typer.Option(help="warehouse file (default: $SDZ_WAREHOUSE or "
                                                   "warehouse/sdz.duckdb)")] = None,
    port: Annotated[int, typer.Option(help="port of the web UI on 127.0.0.1")] = 3000,
) -> None:
    """Start the Dagster UI (`dagster dev`) on this raw folder and warehouse, with run history kept in
    the warehouse folder (.dagster/)."""
    import os

    from pipelines.runtime.instance import ensure_dagster_home
    from pipelines.runtime.settings import PROJECT_ROOT, SdzSettings

    settings = SdzSettings.from_env(raw, warehouse)
    environment = {**os.environ, "DAGSTER_HOME": str(ensure_dagster_home(settings)),
                   "SDZ_RAW_DIR": str(settings.raw_path), "SDZ_WAREHOUSE": str(settings.warehouse_path)}
    # From the repository root, `dagster dev` finds `pipelines.definitions` (code location "sdz") in
    # pyproject.toml, exactly as a plain `dagster dev` does.
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)]
    console.print(f"Dagster UI on http://127.0.0.1:{port} (run history in {environment['DAGSTER_HOME']})")
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, command, environment)


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
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
