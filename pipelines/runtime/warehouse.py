"""The DuckDB warehouse file: built beside the published one, then swapped in whole.

An analyst's read-only session keeps reading the published file while a run builds the next one;
`publish` replaces it atomically (`os.replace`) only when the build is complete, so a failed or
killed run leaves the previous warehouse intact. A lock file serialises runs on one warehouse.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from schemas.core_tables import TableDefinition

DUCKDB_MEMORY_LIMIT = "320MB"


class WarehouseBusy(Exception):
    """Another run holds the warehouse's lock."""


def quote_literal(text: str) -> str:
    """A SQL string literal; COMMENT ON takes no parameters, so comments are quoted here."""
    return "'" + text.replace("'", "''") + "'"


def create_table(con: duckdb.DuckDBPyConnection, table: TableDefinition) -> None:
    """CREATE the table (schema too) with a comment on the table and on every column."""
    schema = table.name.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    columns = ", ".join(f"{column} {sql_type}" for column, sql_type, _ in table.columns)
    con.execute(f"create or replace table {table.name} ({columns})")
    con.execute(f"comment on table {table.name} is {quote_literal(table.description)}")
    for column, _type, description in table.columns:
        con.execute(f"comment on column {table.name}.{column} is {quote_literal(description)}")


def insert_frame(con: duckdb.DuckDBPyConnection, table: TableDefinition, frame: pd.DataFrame) -> int:
    """Append a frame's columns (by name) to the table; returns the number of rows."""
    names = table.column_names
    for column in names:
        if column not in frame.columns:
            frame = frame.assign(**{column: None})
    con.register("incoming_frame", frame[names])
    try:
        con.execute(f"insert into {table.name} ({', '.join(names)}) select {', '.join(names)} from incoming_frame")
    finally:
        con.unregister("incoming_frame")
    return len(frame)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block as one transaction: committed together (one write to disk instead of one per
    statement), or rolled back whole when the block raises."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def open_build(build_path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a fresh build file (a stale one from a killed run is discarded)."""
    build_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (build_path, build_path.with_name(build_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    # DuckDB would take up to 80 % of the machine's memory for the window functions of precedence;
    # a limit makes it spill to disk instead, keeping a national run within a laptop's memory.
    return duckdb.connect(str(build_path), config={"memory_limit": DUCKDB_MEMORY_LIMIT})


def ensure_build(build_path: Path, warehouse_path: Path) -> Path:
    """The run's build, started as a copy of the published warehouse when the run did not build the
    core tables itself (a model re-materialised on its own from the UI)."""
    if not build_path.exists():
        if not warehouse_path.exists():
            raise FileNotFoundError(f"no warehouse at {warehouse_path} yet: materialise the whole graph first")
        shutil.copyfile(warehouse_path, build_path)
    return build_path


def remove_stale_builds(warehouse_path: Path) -> None:
    """Delete builds left by killed runs (call while holding the run lock)."""
    for stale in warehouse_path.parent.glob(f".{warehouse_path.name}.*.building*"):
        stale.unlink(missing_ok=True)


def publish(build_path: Path, warehouse_path: Path) -> None:
    """Swap the complete build in as the warehouse, atomically."""
    with duckdb.connect(str(build_path)) as con:
        con.execute("checkpoint")
    os.replace(build_path, warehouse_path)


def export_parquet(warehouse_path: Path, folder: Path, schema: str) -> list[Path]:
    """Write every table of a schema as `<folder>/<schema>.<table>.parquet`; returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f"{schema}.*.parquet"):
        stale.unlink()
    written = []
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        tables = [row[0] for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = ? order by table_name", [schema]).fetchall()]
        for table in tables:
            path = folder / f"{schema}.{table}.parquet"
            con.execute(f"copy {schema}.{table} to {quote_literal(str(path))} (format parquet)")
            written.append(path)
    return written


@contextmanager
def run_lock(lock_path: Path) -> Iterator[None]:
    """Hold the warehouse's run lock; raises WarehouseBusy at once when another run holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WarehouseBusy(
                f"another sdz run is writing {lock_path.name.removeprefix('.').removesuffix('.lock')} "
                f"(lock {lock_path}); wait for it to finish and run again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
