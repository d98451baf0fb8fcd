"""What a warehouse was built from, and what changed under raw/ since: the input fingerprint.

A fingerprint names every input a run's result depends on: each submission entry under
`raw/<round>/batch-N/` with the SHA-256 of its bytes, the registry's bytes, the code (every module,
schema, SQL model and the versions of the libraries that compute), the method file and the file
limits. A run records it in the warehouse it builds (`meta.build_inputs`), so that the next run can
tell whether the only change is new files (`added_files`), which it may apply as a delta.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.runtime.code_version import code_digest

FINGERPRINT_TABLE = "meta.build_inputs"
# Everything that computes or writes a value of the warehouse: a change anywhere rebuilds in full.
CODE_PACKAGES = ("pipelines", "schemas", "dbt_like_sql")
CODE_LIBRARIES = ("duckdb", "pandas", "pyarrow", "numpy", "pandera", "python-calamine", "xlrd", "xlsxwriter",
                  "Jinja2")
FILE = "file"  # the kind of a submission entry's row; the other kinds are one row each


@dataclass(frozen=True)
class InputFingerprint:
    """The inputs of one build. `files`: path (relative to raw/) → digest of the entry."""

    files: dict[str, str]
    registry: str
    code: str
    method: str
    limits: str

    def rows(self) -> list[tuple[str, str, str]]:
        """(kind, name, digest) rows, as stored in `meta.build_inputs`."""
        settings = [("registry", "", self.registry), ("code", "", self.code), ("method", "", self.method),
                    ("limits", "", self.limits)]
        return settings + [(FILE, path, digest) for path, digest in sorted(self.files.items())]

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str, str]]) -> InputFingerprint:
        single = {kind: digest for kind, _name, digest in rows if kind != FILE}
        return cls(files={name: digest for kind, name, digest in rows if kind == FILE}, **single)

    def settings_match(self, other: InputFingerprint) -> bool:
        """Same registry, code, method and limits."""
        return (self.registry, self.code, self.method, self.limits) == \
            (other.registry, other.code, other.method, other.limits)


def entry_digest(sha256: str | None, reason: str | None) -> str:
    """An inventory entry's digest: its bytes' SHA-256, or why it was refused before reading."""
    return sha256 if isinstance(sha256, str) else f"refused:{reason}"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def current_fingerprint(inventory: pd.DataFrame, registry_path: Path, method_file: Path,
                        max_file_bytes: int, max_inflated_bytes: int) -> InputFingerprint:
    """The fingerprint of a run's inputs; `inventory`: path, sha256 and reason of every submission entry
    (`inventory.list_submissions`, or the parsed files, which carry the same columns)."""
    files = {path: entry_digest(sha256, reason)
             for path, sha256, reason in zip(inventory["path"], inventory["sha256"], inventory["reason"], strict=True)}
    return InputFingerprint(files=files, registry=file_sha256(registry_path),
                            code=code_digest(CODE_PACKAGES, CODE_LIBRARIES), method=file_sha256(method_file),
                            limits=f"max_file_bytes={max_file_bytes} max_inflated_bytes={max_inflated_bytes}")


def recorded_fingerprint(con: duckdb.DuckDBPyConnection) -> InputFingerprint | None:
    """The fingerprint a warehouse was built from; None when it records none (built by an older release)."""
    schema, table = FINGERPRINT_TABLE.split(".")
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                         [schema, table]).fetchone()[0]
    if not exists:
        return None
    return InputFingerprint.from_rows(con.execute(f"select kind, name, digest from {FINGERPRINT_TABLE}").fetchall())


def read_recorded_fingerprint(warehouse_path: Path) -> InputFingerprint | None:
    """`recorded_fingerprint` of a published warehouse file (None when there is none yet)."""
    if not warehouse_path.exists():
        return None
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return recorded_fingerprint(con)


def write_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: InputFingerprint) -> None:
    """Record the fingerprint in the warehouse being built (replacing the one it was copied with)."""
    con.execute("create schema if not exists meta")
    con.execute(f"create or replace table {FINGERPRINT_TABLE} (kind varchar, name varchar, digest varchar)")
    con.execute(f"comment on table {FINGERPRINT_TABLE} is 'What this warehouse was built from: every submission "
                "entry with its SHA-256, the registry, the code, the method file and the file limits; the next run "
                "compares it with raw/ to apply new files as a delta or rebuild in full.'")
    rows = pd.DataFrame(fingerprint.rows(), columns=["kind", "name", "digest"])
    con.register("fingerprint_rows", rows)
    try:
        con.execute(f"insert into {FINGERPRINT_TABLE} select kind, name, digest from fingerprint_rows")
    finally:
        con.unregister("fingerprint_rows")


def added_files(before: InputFingerprint | None, now: InputFingerprint) -> list[str] | None:
    """The paths added since `before` when that is the only change (same settings, no entry changed or
    removed); None when anything else changed or nothing was recorded."""
    if before is None or not before.settings_match(now):
        return None
    if any(now.files.get(path) != digest for path, digest in before.files.items()):
        return None
    return sorted(set(now.files) - set(before.files))
