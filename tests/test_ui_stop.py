"""`sdz ui` stops on Ctrl-C or SIGTERM within 10 s and leaves no process behind: not `dagster dev`, nor
its webserver, daemon or code servers (which at times ignore SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.builders import write_registry
from tests.test_dagster_ui import free_port, wait_for_ui

SDZ = Path(sys.executable).with_name("sdz")
STOP_WITHIN_SECONDS = 10


def process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, state) of every process, read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
            except OSError:
                continue
            state, parent, group = text[text.rindex(")") + 2:].split()[:3]
            table[int(entry)] = (int(parent), int(group), state)
    return table


def descendants(root: int) -> set[int]:
    table = process_table()
    found, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        children = {pid for pid, (ppid, _, _) in table.items() if ppid == parent}
        found |= children
        frontier.extend(children)
    return found


def still_running(pids: set[int], groups: set[int]) -> set[int]:
    """Those of `pids`, and any member of `groups`, that are alive (zombies do not count)."""
    return {pid for pid, (_, group, state) in process_table().items()
            if state != "Z" and (pid in pids or group in groups)}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_sdz_ui_stops_within_10_s_and_leaves_no_process(tmp_path: Path, stop: signal.Signals) -> None:
    write_registry(tmp_path / "raw")
    port = free_port()
    log = tmp_path / "ui.log"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SDZ_")}
    # Its own session, as a shell's job: the signal goes to the process group of `sdz ui`, as Ctrl-C in
    # a terminal or `kill -TERM -<pgid>` does.
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(SDZ), "ui", "--raw", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "wh" / "sdz.duckdb"),
             "--port", str(port)], stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=tmp_path,
            start_new_session=True)
    started: set[int] = set()
    try:
        wait_for_ui(port, process)
        started = descendants(process.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
                            for pid in started | {process.pid})
        assert "dagster dev" in commands and "dagster_webserver" in commands and "dagster._daemon" in commands
        groups = {process.pid} | {process_table()[pid][1] for pid in started}

        os.killpg(process.pid, stop)
        signalled = time.monotonic()
        assert process.wait(timeout=STOP_WITHIN_SECONDS) == 0, log.read_text()
        left = still_running(started, groups)
        while left and time.monotonic() - signalled < STOP_WITHIN_SECONDS:
            time.sleep(0.1)
            left = still_running(started, groups)
        assert not left, f"still running {time.monotonic() - signalled:.1f} s after {stop.name}: {left}"
        assert "sdz ui: stopped" in log.read_text()
    finally:
        for pid in still_running(started | {process.pid}, set()):
            os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)


# A dagster dev that ignores SIGTERM and SIGINT, with a child that does too and left for a session of its own.
STUBBORN = """
import signal, subprocess, sys, time
for number in (signal.SIGTERM, signal.SIGINT):
    signal.signal(number, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                  "print('child ready', flush=True); time.sleep(600)"], start_new_session=True)
time.sleep(600)
"""
SUPERVISOR = """
import os, sys
from pipelines.runtime.dagster_ui import supervise
sys.exit(supervise([sys.executable, "-c", sys.argv[1]], dict(os.environ)))
"""


def test_what_ignores_the_signal_is_killed_after_the_grace_period() -> None:
    process = subprocess.Popen([sys.executable, "-c", SUPERVISOR, STUBBORN], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    started: set[int] = set()
    try:
        assert process.stdout.readline() == "child ready\n"
        started = descendants(process.pid)
        assert len(started) == 2
        os.kill(process.pid, signal.SIGTERM)
        signalled = time.monotonic()
        assert process.wait(timeout=STOP_WITHIN_SECONDS) == 0
        assert time.monotonic() - signalled > 7  # the grace period was given
        assert not still_running(started, set())
        assert "killed" in process.stdout.read()
    finally:
        for pid in still_running(started | {process.pid}, set()):
            os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)
