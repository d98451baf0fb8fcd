"""Build a warehouse file from a raw folder with the stages' plain functions (no Dagster): the core
tables (in full, or as a delta on an earlier warehouse), the index and every SQL model.

Much faster than a run through the Dagster job, for tests that build many warehouses; the job's
own path is covered by the end-to-end tests."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.index.assets import READS as INDEX_READS
from pipelines.index.assets import WRITES as INDEX_WRITES
from pipelines.index.zone_scores import load_evaluation_method, write_index_zone_round
from pipelines.ingest.inventory import list_submissions, unrecognised_files
from pipelines.ingest.parse import ParsedSubmissions, parse_submissions
from pipelines.ingest.registry import read_registry
from pipelines.load.build_inputs import write_build_inputs
from pipelines.load.core_tables import load_core_tables
from pipelines.load.delta import load_as_delta
from pipelines.models.sql_models import discover_models, materialise
from pipelines.runtime.limits import FileLimits
from pipelines.runtime.raw_changes import RawState, raw_state
from pipelines.runtime.settings import DEFAULT_METHOD, SQL_MODELS_DIR
from pipelines.runtime.warehouse import open_build
from pipelines.validate.rules import ValidatedValues, validate_cells

INDEX_TABLES = {table.name for table in INDEX_WRITES}


@dataclass
class LoadInputs:
    """What the load stage takes, read from a raw folder (every file read, no cache)."""

    registry: pd.DataFrame
    parsed: ParsedSubmissions
    validated: ValidatedValues
    fingerprint: RawState
    unrecognised: pd.DataFrame


def load_inputs(raw: Path) -> LoadInputs:
    registry_path = raw / "reference" / "zones.csv"
    registry = read_registry(registry_path)
    parsed = parse_submissions(list_submissions(raw), raw, registry)
    validated = validate_cells(parsed.cells, list(registry["zone_code"]))
    fingerprint = raw_state(raw, DEFAULT_METHOD, FileLimits())
    return LoadInputs(registry, parsed, validated, fingerprint, unrecognised_files(raw))


def load(inputs: LoadInputs, build: Path, published: Path, incremental: bool) -> str:
    """The core tables and the fingerprint into `build` (a delta on `published` when `incremental` and
    possible); returns "delta" or "full rebuild"."""
    counts = load_as_delta(build, published, inputs.fingerprint, inputs.registry, inputs.parsed, inputs.validated,
                           inputs.unrecognised) if incremental else None
    with open_build(build) if counts is None else duckdb.connect(str(build)) as con:
        if counts is None:
            load_core_tables(con, inputs.registry, inputs.parsed, inputs.validated, inputs.unrecognised)
        write_build_inputs(con, inputs.fingerprint)
    return "delta" if counts is not None else "full rebuild"


def build_warehouse(raw: Path, warehouse: Path, incremental: bool) -> str:
    """Build `warehouse` from `raw` (as a delta on the existing `warehouse` when `incremental` and possible);
    returns "delta" or "full rebuild"."""
    build = warehouse.with_name(f".{warehouse.name}.test.building")
    built_as = load(load_inputs(raw), build, warehouse, incremental)
    with duckdb.connect(str(build)) as con:
        build_models(con)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(build, warehouse)
    return built_as


def time_loads(inputs: LoadInputs, published: Path) -> tuple[float, float]:
    """Seconds of loading `inputs` in full and as a delta on `published` (each into a build of its own)."""
    seconds = []
    for incremental in (False, True):
        started = time.perf_counter()
        built_as = load(inputs, published.with_name(f".{incremental}.building"), published, incremental)
        seconds.append(time.perf_counter() - started)
        assert built_as == ("delta" if incremental else "full rebuild")
    return seconds[0], seconds[1]


def build_models(con: duckdb.DuckDBPyConnection) -> None:
    """The index and every SQL model, each after the tables it reads."""
    models = discover_models(SQL_MODELS_DIR)
    built = {f"core.{name}" for (name,) in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'core'").fetchall()}
    pending = dict(models)
    while pending or not built >= INDEX_TABLES:
        if not built >= INDEX_TABLES and set(INDEX_READS) <= built:
            write_index_zone_round(con, load_evaluation_method(str(DEFAULT_METHOD)), DEFAULT_METHOD)
            built |= INDEX_TABLES
            continue
        ready = [table for table, model in pending.items() if model.referenced_tables <= built]
        assert ready, f"models waiting on tables never built: {sorted(pending)}"
        for table in ready:
            materialise(con, pending.pop(table))
            built.add(table)


def differing_tables(one: Path, other: Path) -> dict[str, int]:
    """Tables (every schema) whose rows differ as multisets, with the number of differing rows."""
    with duckdb.connect() as con:
        con.execute(f"attach '{one}' as one (read_only)")
        con.execute(f"attach '{other}' as other (read_only)")
        names = {database: {row[0] for row in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = ?",
            [database]).fetchall()} for database in ("one", "other")}
        differing = {table: -1 for table in names["one"] ^ names["other"]}
        for table in sorted(names["one"] & names["other"]):
            count = con.execute(f"select count(*) from ((from one.{table} except all from other.{table}) "
                                f"union all (from other.{table} except all from one.{table}))").fetchone()[0]
            if count:
                differing[table] = count
        return differing
