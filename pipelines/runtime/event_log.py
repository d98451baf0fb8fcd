"""Dagster's SQLite event log, keeping its connections for the life of the instance.

Dagster's SqliteEventLogStorage creates an engine and opens the database file for every event it
stores (a run of the whole graph stores about 450), and syncs each commit to disk. This subclass
opens each database (the run's and the cross-run index) once and keeps it, and syncs at checkpoints.
The files, tables and layout are Dagster's own, so `dagster dev` reads the history with its default
storage: only `sdz run`'s instance uses this class (pipelines.runtime.instance).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool


def _sync_at_checkpoints(connection: sqlite3.Connection) -> None:
    """In WAL mode (Dagster's), sync to disk at checkpoints instead of at every commit (`synchronous=NORMAL`):
    a crash of the machine may lose the last events of the run history, never corrupt it, and the
    warehouse is not written here. The ~1,200 commits of a demo run spent 2.95 s syncing; 0.13 s after."""
    if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        connection.execute("PRAGMA synchronous=NORMAL")


class KeptConnectionEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one kept connection per database file."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: dict[str, db.engine.Engine] = {}  # before Dagster's __init__, which may create the index
        self._tables_present: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> KeptConnectionEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> db.engine.Engine:
        engine = self._engines.get(shard)
        if engine is None:
            # One connection, used under the storage's lock whichever thread stores an event.
            engine = db.create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                                      connect_args={"check_same_thread": False, "timeout": 15})
            if shard not in self._initialized_dbs:
                self._initdb(engine)  # creates the tables and turns WAL on
                self._initialized_dbs.add(shard)
            with engine.connect() as connection:  # the one connection StaticPool keeps
                _sync_at_checkpoints(connection.connection.dbapi_connection)
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def has_table(self, table_name: str) -> bool:
        """Dagster's check, once per table: it opens an engine on the index for every call, and asks before
        storing each asset event's tags (about 250 calls in a demo run). A table once there stays."""
        if table_name not in self._tables_present:
            if not super().has_table(table_name):
                return False
            self._tables_present.add(table_name)
        return True

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()
