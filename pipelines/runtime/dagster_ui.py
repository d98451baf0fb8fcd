"""`sdz ui`: `dagster dev` on a warehouse, supervised so that Ctrl-C or SIGTERM leaves no process behind.

`dagster dev` starts a webserver, a daemon and code servers, and at times ignores SIGTERM. So it runs
in a process group of its own: a signal to `sdz ui` is passed on to that group, and whatever is still
running after `GRACE_SECONDS` is killed (Dagster's own tests do the same: terminate, wait, kill).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from pipelines.runtime.instance import ensure_dagster_home
from pipelines.runtime.settings import SdzSettings

# Short enough that the whole stop, kill included, takes well under 10 s.
GRACE_SECONDS = 8.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# The code location keeps the name a plain `dagster dev` gives it from pyproject.toml, so runs
# recorded either way belong to the same location in the run history.
WORKSPACE_YAML = """\
# Written by sdz ui: the code location of the sdz pipeline.
load_from:
  - python_module:
      module_name: pipelines.definitions
      location_name: sdz
"""


def dagster_dev(settings: SdzSettings, port: int) -> tuple[list[str], dict[str, str]]:
    """The `dagster dev` command and environment for these settings, run history in the warehouse folder."""
    home = ensure_dagster_home(settings)
    workspace = home / "workspace.yaml"
    workspace.write_text(WORKSPACE_YAML, encoding="utf-8")
    environment = {**os.environ, "DAGSTER_HOME": str(home), "SDZ_RAW_DIR": str(settings.raw_path),
                   "SDZ_WAREHOUSE": str(settings.warehouse_path), "SDZ_METHOD": settings.method_file}
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]
    return command, environment


def supervise(command: list[str], environment: dict[str, str], say: Callable[[str], object] = print) -> int:
    """Run `command` in a new process group until it exits or this process is asked to stop.

    Returns the command's exit status when it ends by itself, 0 when it was stopped on request
    (every process of the group is gone either way)."""
    received: list[int] = []
    previous = {number: signal.signal(number, lambda number, _frame: received.append(number))
                for number in STOP_SIGNALS}
    try:
        child = subprocess.Popen(command, env=environment, process_group=0)
        while child.poll() is None and not received:
            time.sleep(0.1)
        if not received:
            end_group(child, signal.SIGTERM, received)  # the daemon or a code server may outlive dagster dev
            return child.returncode
        name = signal.Signals(received[0]).name
        say(f"sdz ui: {name} received, stopping dagster dev ...")
        killed = end_group(child, received[0], received)
        say(f"sdz ui: stopped; {killed} process(es) still running after {GRACE_SECONDS:g} s were killed." if killed
            else "sdz ui: stopped.")
        return 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def end_group(child: subprocess.Popen, number: int, received: list[int]) -> int:
    """Send `number` to the child's process group, wait up to GRACE_SECONDS (less if another stop
    signal arrives), then SIGKILL what is left. Returns how many processes had to be killed."""
    group = child.pid
    # Children that moved to a group of their own are ended too: remember them while they are findable.
    members = set(group_members(group)) | set(descendants(child.pid))
    if not members:
        child.wait()
        return 0
    signal_all(group, members, number)
    signals_so_far = len(received)
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and len(received) == signals_so_far:
        child.poll()  # reaps dagster dev, which would otherwise stay a zombie in the group
        if not living(members | set(group_members(group))):
            return 0
        time.sleep(0.1)
    left = living(members | set(group_members(group)))
    signal_all(group, left, signal.SIGKILL)
    child.wait()
    return len(left)


def signal_all(group: int, pids: Iterable[int], number: int) -> None:
    """Send `number` to the process group and to each of `pids` (some may have left it)."""
    for send, target in [(os.killpg, group), *((os.kill, pid) for pid in pids)]:
        with contextlib.suppress(ProcessLookupError):
            send(target, number)


def processes() -> dict[int, tuple[int, int, str]]:
    """Every process by pid: (parent pid, process group, state), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            # The command name (field 2) is in parentheses and may hold spaces.
            state, parent, group = stat[stat.rindex(")") + 2:].split()[:3]
            found[int(entry.name)] = (int(parent), int(group), state)
    return found


def group_members(group: int) -> list[int]:
    """The living processes of a process group (zombies excluded)."""
    return [pid for pid, (_, pgid, state) in processes().items() if pgid == group and state != "Z"]


def descendants(root: int) -> list[int]:
    """The living children, grandchildren ... of `root`."""
    table = processes()
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _, state) in table.items() if ppid == parent and state != "Z"]
        found.extend(children)
        frontier.extend(children)
    return found


def living(pids: Iterable[int]) -> set[int]:
    """Those of `pids` still running (not ended, not a zombie)."""
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][2] != "Z"}
