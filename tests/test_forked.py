"""Tasks run in forked children (pipelines.runtime.forked): every task done once, a failed child's task run
again here, an error raised here."""

import os
from functools import partial
from pathlib import Path

import pytest

from pipelines.runtime.forked import run_forked, run_in_parts


def write_pid(path: Path) -> None:
    path.write_text(str(os.getpid()))


def test_every_task_runs_the_first_here_the_others_in_children(tmp_path: Path) -> None:
    run_forked([partial(write_pid, tmp_path / f"{k}.pid") for k in range(3)])
    pids = [int((tmp_path / f"{k}.pid").read_text()) for k in range(3)]
    assert pids[0] == os.getpid()
    assert os.getpid() not in pids[1:] and len(set(pids)) == 3


def test_a_task_failing_in_its_child_is_run_again_here(tmp_path: Path) -> None:
    parent = os.getpid()

    def only_here() -> None:
        if os.getpid() != parent:
            raise RuntimeError("fails in the child")
        write_pid(tmp_path / "again.pid")

    run_forked([partial(write_pid, tmp_path / "first.pid"), only_here])
    assert int((tmp_path / "again.pid").read_text()) == parent


def test_an_error_is_raised_here_with_its_message(tmp_path: Path) -> None:
    def broken() -> None:
        raise ValueError("a card could not be rendered")

    with pytest.raises(ValueError, match="a card could not be rendered"):
        run_forked([partial(write_pid, tmp_path / "first.pid"), broken])


def test_items_in_parts_each_written_once(tmp_path: Path) -> None:
    def write_each(part: list[int]) -> None:
        for item in part:
            (tmp_path / f"{item}.done").write_text(str(os.getpid()))

    run_in_parts(list(range(7)), write_each, fork_from=2)
    assert sorted(int(p.stem) for p in tmp_path.glob("*.done")) == list(range(7))
    called: list[list[int]] = []
    run_in_parts([], called.append, fork_from=2)  # nothing to do: the work still runs once (an index page, say)
    assert called == [[]]
