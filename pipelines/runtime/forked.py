"""Both cores for work that only writes files: tasks run in forked copies of this process.

A forked child starts in milliseconds with everything the parent has in memory (modules, the data
read from the warehouse), where a new process would spend seconds importing pandas, Jinja and the
pipeline before it could start, and the data would have to be sent to it. So this is for tasks that
need the parent's memory and return nothing but the files they write (the zone cards of a round,
rendered in parts). A child uses no connection, thread or lock of the parent's: it computes,
writes its files and ends with `os._exit`, skipping the interpreter's teardown, which would run the
parent's clean-ups a second time.

A task whose child fails or cannot start is run again in this process, so its error, if any, is raised
here with its traceback, as if nothing had been forked.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

Item = TypeVar("Item")

LOG = logging.getLogger(__name__)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_forked(tasks: Sequence[Callable[[], object]]) -> None:
    """Run every task, the first in this process and each other in a forked child, at once; returns when all
    are done. Without fork (not Linux) they run one after the other here."""
    children: dict[int, int] = {}  # pid -> the task's index
    for index in range(1, len(tasks)) if hasattr(os, "fork") else ():
        try:
            pid = os.fork()
        except OSError as error:  # no memory or process slot left: this process runs it
            LOG.warning("could not fork (%s): running the task here", error)
            continue
        if pid == 0:  # the child
            status = 1
            try:
                tasks[index]()
                status = 0
            finally:
                os._exit(status)
        children[pid] = index
    forked = set(children.values())
    for index, task in enumerate(tasks):
        if index not in forked:
            task()
    for pid, index in children.items():
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            LOG.warning("a forked task failed (exit status %s): running it here", os.waitstatus_to_exitcode(status))
            tasks[index]()


def run_in_parts(items: Sequence[Item], work: Callable[[Sequence[Item]], object], fork_from: int) -> None:
    """`work` on `items` cut into contiguous parts, one per usable core, run at once by `run_forked`; fewer
    than `fork_from` items (forking would not pay) or one core: `work(items)` here."""
    parts = usable_cores() if len(items) >= fork_from else 1
    size = max(1, -(-len(items) // parts))
    run_forked([partial(work, items[start:start + size]) for start in range(0, len(items), size)] or
               [partial(work, items)])
