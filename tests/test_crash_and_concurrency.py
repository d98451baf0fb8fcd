"""A killed run leaves the last complete warehouse readable; readers and a second run never corrupt it.

These start real `sdz run` processes on the synthetic demo and kill them with SIGKILL.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.demo.generate import generate_demo

COUNT_SQL = """
select (select count(*) from core.observations), (select count(*) from core.observation_history),
       (select count(*) from core.rejected_values), (select count(*) from mart.coverage)
"""


def start_run(raw: Path, warehouse: Path, rebuild: bool = False) -> subprocess.Popen:
    """`sdz run` in its own process group, so a kill reaches every process it started. `rebuild` makes it
    rebuild even when nothing changed since the published warehouse (an earlier test may have published 2015)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--raw", str(raw), "--warehouse", str(warehouse)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env={**os.environ, "SDZ_CACHE": "off"} if rebuild else None,
    )


def wait_until_locked(lock_path: Path, timeout: float = 60) -> None:
    """Return once another process holds the warehouse's run lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock_path.exists():
            with lock_path.open("a") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(handle, fcntl.LOCK_UN)
                except BlockingIOError:
                    return
        time.sleep(0.05)
    raise AssertionError("the run never took its lock")


def counts(warehouse: Path) -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(COUNT_SQL).fetchone()


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    """The demo's 2014 round published once; 2015 is added afterwards so a new run changes the tables."""
    root = tmp_path_factory.mktemp("crash")
    generate_demo(root / "demo")
    raw = root / "raw"
    raw.mkdir()
    (raw / "reference").symlink_to(root / "demo" / "reference")
    (raw / "2014").symlink_to(root / "demo" / "2014")
    warehouse = root / "warehouse" / "sdz.duckdb"
    first = start_run(raw, warehouse)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    (raw / "2015").symlink_to(root / "demo" / "2015")
    return raw, warehouse, counts(warehouse)


@pytest.mark.parametrize("delay", [0.5, 2.0, 4.0])
def test_a_killed_run_leaves_the_previous_warehouse(published, delay: float):
    raw, warehouse, before = published
    run = start_run(raw, warehouse)
    time.sleep(delay)
    if run.poll() is None:
        os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    after = counts(warehouse)
    if run.returncode == 0:  # the machine was fast enough to finish first: the new warehouse is complete
        assert after[0] > before[0]
    else:
        assert after == before


def test_the_next_run_completes_after_a_kill(published):
    raw, warehouse, before = published
    run = start_run(raw, warehouse)
    time.sleep(1.0)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=60)
    again = start_run(raw, warehouse)
    assert again.wait(timeout=300) == 0, again.stderr.read()
    assert counts(warehouse)[0] > before[0]  # 2015 is in now
    assert list(warehouse.parent.glob(f".{warehouse.name}.*.building*")) == []  # the killed run's build is gone


def test_a_reader_keeps_working_while_a_run_writes_and_a_second_run_refuses(published):
    raw, warehouse, _ = published
    reader = duckdb.connect(str(warehouse), read_only=True)
    seen_before = reader.execute(COUNT_SQL).fetchone()
    first = start_run(raw, warehouse, rebuild=True)
    wait_until_locked(warehouse.with_name(f".{warehouse.name}.lock"))
    second = start_run(raw, warehouse)
    second_code = second.wait(timeout=120)
    queries_during_run = 0
    while first.poll() is None:
        assert reader.execute(COUNT_SQL).fetchone() == seen_before
        queries_during_run += 1
        time.sleep(0.2)
    assert first.returncode == 0, first.stderr.read()
    assert queries_during_run > 0
    assert second_code == 2
    assert "another sdz run" in " ".join(second.stderr.read().split())
    # The open session still reads its snapshot; a new session sees the new warehouse.
    assert reader.execute(COUNT_SQL).fetchone() == seen_before
    reader.close()
    counts(warehouse)
