"""The DuckDB warehouse file: built beside the published one, then swapped in whole.

An analyst's read-only session keeps reading the published file while a run builds the next one;
`publish` replaces it atomically (`os.replace`) only when the build is complete, so a failed or
killed run leaves the previous warehouse intact. A lock file serialises runs on one warehouse.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.core_tables import TableDefinition

DUCKDB_MEMORY_LIMIT = "320MB"
PARQUET_BATCH_ROWS = 131_072


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


def export_parquet(warehouse_path: Path, folder: Path, schemas: Sequence[str]) -> list[Path]:
    """Write every table of the schemas as `<folder>/<schema>.<table>.parquet`; returns the files.

    Each file carries the warehouse's comments, so that it can be read without the warehouse: the
    table's in the file's key-value metadata (`table`, `comment`), each column's in its field's
    metadata (`comment`). Rows are sorted by every column, so the same tables give the same bytes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for schema in schemas:
        for stale in folder.glob(f"{schema}.*.parquet"):
            stale.unlink()
    written = []
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name, comment from duckdb_tables() where list_contains(?, schema_name) "
            "order by schema_name, table_name", [list(schemas)]).fetchall()
        for schema, table, comment in tables:
            path = folder / f"{schema}.{table}.parquet"
            _write_commented_parquet(con, f"{schema}.{table}", comment, path)
            written.append(path)
    return written


def _write_commented_parquet(
    con: duckdb.DuckDBPyConnection, table: str, comment: str | None, path: Path
) -> None:
    schema_name, table_name = table.split(".")
    column_comments = dict(con.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ?",
        [schema_name, table_name]).fetchall())
    # Streamed batch by batch: a core table need not fit in memory as one Arrow table.
    reader = con.sql(f"select * from {table} order by all").to_arrow_reader(PARQUET_BATCH_ROWS)
    schema = pa.schema(
        [field.with_metadata(_comment_metadata(column_comments.get(field.name))) for field in reader.schema],
        metadata={"table": table, **_comment_metadata(comment)},
    )
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))


def _comment_metadata(comment: str | None) -> dict[str, str]:
    return {"comment": comment} if comment else {}


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
