"""Shared fixtures: a raw folder with a registry, and a pipeline run into a throw-away warehouse.

Nothing here changes the process environment or the working directory; every path lives under
pytest's tmp_path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.registry import read_registry
from pipelines.ingest.submission import ZoneLookup
from tests.builders import write_registry


@dataclass
class Run:
    """A completed run: its summary, the published warehouse and a read-only connection to it."""

    summary: object  # pipelines.publish.summary.RunSummary
    warehouse: Path
    con: duckdb.DuckDBPyConnection

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list | None = None):
        return self.con.execute(sql, params or []).fetchone()[0]


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """`tmp_path/raw` holding `reference/zones.csv` with the builders' default zones."""
    raw = tmp_path / "raw"
    write_registry(raw)
    return raw


@pytest.fixture
def zone_lookup(raw_dir: Path) -> ZoneLookup:
    """The readers' view of the default registry."""
    return ZoneLookup.from_registry(read_registry(raw_dir / "reference" / "zones.csv"))


def _runner(base: Path):
    """run(raw_dir, warehouse=None) -> Run; each call without a warehouse gets a folder of its own
    (base/run-N/sdz.duckdb). DuckDB caches an open database per path within a process, so a run
    into a warehouse first closes the connection an earlier run into it handed out."""
    connections: dict[Path, duckdb.DuckDBPyConnection] = {}

    def run(raw: Path, warehouse: Path | None = None) -> Run:
        from pipelines.runtime.runner import run_pipeline  # imported here: collecting tests needs no Dagster
        from pipelines.runtime.settings import SdzSettings

        warehouse = Path(warehouse or base / f"run-{len(connections) + 1}" / "sdz.duckdb").resolve()
        if warehouse in connections:
            connections.pop(warehouse).close()
        summary = run_pipeline(SdzSettings(raw_dir=str(raw), warehouse=str(warehouse)))
        connections[warehouse] = duckdb.connect(str(warehouse), read_only=True)
        return Run(summary, warehouse, connections[warehouse])

    return run, connections


@pytest.fixture
def run_sdz(tmp_path: Path):
    """Run the whole pipeline in-process (as `sdz run` does) into a warehouse under tmp_path."""
    run, connections = _runner(tmp_path)
    yield run
    for con in connections.values():
        con.close()


@pytest.fixture(scope="module")
def module_run_sdz(tmp_path_factory):
    """Like run_sdz, for module-scoped fixtures that share one run among several tests."""
    run, connections = _runner(tmp_path_factory.mktemp("module_run"))
    yield run
    for con in connections.values():
        con.close()
