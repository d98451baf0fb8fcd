"""What a warehouse was built from, recorded in it: the fingerprint of the run's inputs
(`runtime.raw_changes.RawState`: every file under raw/ with its size and SHA-256, and a digest of the code,
the method file and the file limits) as the table `meta.build_inputs`.

The load step writes it into every warehouse it builds, whichever way the run was started (`sdz run`, the
UI, the sensor), so it is published with the tables it describes; the next run's load step compares it
with raw/ to apply new files as a delta (`load.delta`).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.ingest.inventory import BATCH_PATTERN, ROUND_PATTERN, is_ignored
from pipelines.runtime.raw_changes import FileState, RawState
from pipelines.runtime.warehouse import quote_literal

BUILD_INPUTS_TABLE = "meta.build_inputs"
COMMENT = ("What this warehouse was built from: every file under raw/ with its size and SHA-256, and (path empty) "
           "the digest of the code, the method file and the file limits; the next run compares it with raw/ to apply "
           "new files as a delta or rebuild in full.")


def write_build_inputs(con: duckdb.DuckDBPyConnection, state: RawState) -> None:
    """Record `state` in the warehouse being built (replacing the one it was copied with)."""
    rows = pd.DataFrame(
        [("", None, state.inputs)] + [(path, file.size, file.sha256) for path, file in sorted(state.files.items())],
        columns=["path", "size_bytes", "sha256"]).astype({"size_bytes": "Int64"})
    con.execute("create schema if not exists meta")
    con.execute(f"create or replace table {BUILD_INPUTS_TABLE} (path varchar, size_bytes bigint, sha256 varchar)")
    con.execute(f"comment on table {BUILD_INPUTS_TABLE} is {quote_literal(COMMENT)}")
    con.register("build_input_rows", rows)
    try:
        con.execute(f"insert into {BUILD_INPUTS_TABLE} select path, size_bytes, sha256 from build_input_rows")
    finally:
        con.unregister("build_input_rows")


def as_read(inputs: RawState, files: pd.DataFrame) -> RawState:
    """`inputs` (taken when the load step starts) with every submission the run did not read as it is now
    marked as unread: added, or changed, under `<round>/batch-N/` after the parse step read the folder. The
    next run then sees it as changed and rebuilds, instead of taking it for already loaded."""
    read = dict(zip(files["path"], files["sha256"], strict=True))
    unread = FileState(-1, "not read by the run that built this warehouse")

    def is_unread(path: str, state: FileState) -> bool:
        parts = path.split("/")
        in_batch_folder = len(parts) > 2 and ROUND_PATTERN.fullmatch(parts[0]) and BATCH_PATTERN.fullmatch(parts[1])
        if not in_batch_folder or any(is_ignored(part) for part in parts):
            return False
        return path not in read or (isinstance(read[path], str) and read[path] != state.sha256)

    return RawState(inputs.inputs, {path: unread if is_unread(path, state) else state
                                    for path, state in inputs.files.items()})


def recorded_build_inputs(con: duckdb.DuckDBPyConnection) -> RawState | None:
    """The inputs a warehouse was built from; None when it records none (built by an earlier release)."""
    schema, table = BUILD_INPUTS_TABLE.split(".")
    if not con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                       [schema, table]).fetchall()[0][0]:
        return None
    rows = con.execute(f"select path, size_bytes, sha256 from {BUILD_INPUTS_TABLE}").fetchall()
    inputs = [sha256 for path, _size, sha256 in rows if path == ""]
    files = {path: FileState(size, sha256) for path, size, sha256 in rows if path != ""}
    return RawState(inputs[0], files) if len(inputs) == 1 else None
