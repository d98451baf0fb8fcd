"""The fingerprint of a run's inputs (pipelines.runtime.raw_changes): what changed since the published warehouse."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.runtime.limits import FileLimits
from pipelines.runtime.raw_changes import is_complete, raw_changes, raw_state, record_complete


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    (raw / "reference").mkdir(parents=True)
    (raw / "reference" / "zones.csv").write_text("zone_code\n110101\n", encoding="utf-8")
    (raw / "2024" / "batch-1").mkdir(parents=True)
    (raw / "2024" / "batch-1" / "a.csv").write_text("one", encoding="utf-8")
    (tmp_path / "method.yaml").write_text("method: 1\n", encoding="utf-8")
    return tmp_path


def state(folder: Path, limits: FileLimits | None = None):
    return raw_state(folder / "raw", folder / "method.yaml", limits or FileLimits())


def test_the_same_inputs_give_the_same_state_whatever_the_file_times(folder: Path):
    before = state(folder)
    os.utime(folder / "raw" / "2024" / "batch-1" / "a.csv", (1, 1))
    assert raw_changes(before, state(folder)).nothing


def test_a_new_file_is_added_and_only_added(folder: Path):
    before = state(folder)
    (folder / "raw" / "2024" / "batch-2").mkdir()
    (folder / "raw" / "2024" / "batch-2" / "b.csv").write_text("two", encoding="utf-8")
    changes = raw_changes(before, state(folder))
    assert (changes.added, changes.changed, changes.removed, changes.only_added) == (["2024/batch-2/b.csv"], [], [],
                                                                                     True)


def test_an_edited_file_of_the_same_size_and_time_is_changed(folder: Path):
    path = folder / "raw" / "2024" / "batch-1" / "a.csv"
    before, times = state(folder), path.stat()
    path.write_text("two", encoding="utf-8")
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    changes = raw_changes(before, state(folder))
    assert (changes.changed, changes.nothing, changes.only_added) == (["2024/batch-1/a.csv"], False, False)


@pytest.mark.parametrize("edit", ["registry", "method", "limits", "remove"])
def test_any_other_change_is_neither_nothing_nor_only_added(folder: Path, edit: str):
    before = state(folder)
    limits = FileLimits()
    if edit == "registry":
        (folder / "raw" / "reference" / "zones.csv").write_text("zone_code\n110102\n", encoding="utf-8")
    elif edit == "method":
        (folder / "method.yaml").write_text("method: 2\n", encoding="utf-8")
    elif edit == "limits":
        limits = FileLimits(max_file_bytes=10)
    else:
        (folder / "raw" / "2024" / "batch-1" / "a.csv").unlink()
    changes = raw_changes(before, state(folder, limits))
    assert not changes.nothing and not changes.only_added


def test_a_completed_run_holds_only_for_the_warehouse_it_published(folder: Path):
    warehouse = folder / "warehouse" / "sdz.duckdb"
    assert not is_complete(warehouse)
    warehouse.parent.mkdir()
    warehouse.write_bytes(b"built")
    assert not is_complete(warehouse)  # published, but the run did not get to the end
    record_complete(warehouse)
    assert is_complete(warehouse)
    replacement = warehouse.with_name("other.duckdb")
    replacement.write_bytes(b"built by another run")
    os.replace(replacement, warehouse)  # a run from the UI published its own build
    assert not is_complete(warehouse)
    assert raw_changes(None, state(folder)).added == ["2024/batch-1/a.csv", "reference/zones.csv"]
