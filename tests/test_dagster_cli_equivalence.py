"""`dagster asset materialize --select '*'` with SDZ_RAW_DIR / SDZ_WAREHOUSE builds the same warehouse as `sdz run`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.demo.generate import generate_demo
from pipelines.runtime.settings import PROJECT_ROOT


def tables_of(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ('core', 'mart') order by all"
        ).fetchall()]
        return {name: con.execute(f"select * from {name} order by all").fetchall() for name in names}


def test_dagster_cli_and_sdz_run_build_the_same_warehouse(tmp_path: Path):
    generate_demo(tmp_path / "raw")
    by_sdz = tmp_path / "sdz" / "sdz.duckdb"
    by_dagster = tmp_path / "dagster" / "sdz.duckdb"
    sdz = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--raw", str(tmp_path / "raw"),
                          "--warehouse", str(by_sdz)], capture_output=True, text=True, timeout=300)
    assert sdz.returncode == 0, sdz.stderr
    (tmp_path / "home").mkdir()
    environment = {**os.environ, "SDZ_RAW_DIR": str(tmp_path / "raw"), "SDZ_WAREHOUSE": str(by_dagster),
                   "DAGSTER_HOME": str(tmp_path / "home")}
    dagster = subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "pipelines.definitions", "--select", "*"],
        capture_output=True, text=True, timeout=600, env=environment, cwd=PROJECT_ROOT,
    )
    assert dagster.returncode == 0, dagster.stderr[-3000:]
    assert tables_of(by_dagster) == tables_of(by_sdz)
    assert sorted(p.name for p in (by_dagster.parent / "feedback").rglob("*.xlsx")) == sorted(
        p.name for p in (by_sdz.parent / "feedback").rglob("*.xlsx"))
