"""What changed under raw/ since the published warehouse: the fingerprint of a run's inputs.

A run's result depends on the files under raw/ (the registry among them), the method file, the file
limits and the code. `raw_state` takes their fingerprint; the load step records it in the warehouse it
builds (`meta.build_inputs`, `pipelines.load.build_inputs`), its one store. `raw_changes` compares two
states: nothing changed (`sdz run` then records a run without rebuilding), only new files (what an
incremental run may apply as a delta), or anything else.

A warehouse is published before its reports and cards are written, so the fingerprint it holds does
not say that the run which published it went on to the end. `record_complete` says so, beside the
warehouse, for the very file the run left (its inode, size and modification time): a run started from the
UI that publishes another warehouse, or a run that failed after publishing, leaves no such record for
what it published, and the next `sdz run` rebuilds.

Files are compared by size and sha256, not by modification time: a copy restored with new times is
the same file, and an edited file that kept its size and time is not. Hashing every file costs less
than a tenth of a second at national scale (2,850 files).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib.metadata import requires
from pathlib import Path

from pipelines.runtime.code_version import code_digest
from pipelines.runtime.limits import FileLimits

# Everything whose code or version changes what a run writes: our packages and the libraries they use.
CODE_PACKAGES = ("pipelines", "schemas", "dbt_like_sql")
COMPLETION_VERSION = 1


def installed_libraries() -> list[str]:
    """The project's direct dependencies, as declared in its package metadata (no list to keep up to date)."""
    names = []
    for requirement in requires("sdz") or []:
        if "extra ==" in requirement:
            continue
        names.append(requirement.split(";")[0].split("=")[0].split("<")[0].split(">")[0].strip())
    return sorted(names)


@dataclass(frozen=True)
class FileState:
    """One file under raw/: its size and the sha256 of its bytes."""

    size: int
    sha256: str


@dataclass(frozen=True)
class RawState:
    """The fingerprint of a run's inputs.

    `inputs` digests what is not a submission file (code, library versions, method file, file limits);
    `files` maps each file under raw/ (path relative to raw/, with `/`) to its state."""

    inputs: str
    files: dict[str, FileState]


@dataclass(frozen=True)
class RawChanges:
    """How the current inputs differ from the published warehouse's."""

    inputs_changed: bool
    added: list[str]
    changed: list[str]
    removed: list[str]

    @property
    def nothing(self) -> bool:
        """The published warehouse is what a run would build again."""
        return not (self.inputs_changed or self.added or self.changed or self.removed)

    @property
    def only_added(self) -> bool:
        """New files and no other change: what a delta on the published warehouse can apply."""
        return bool(self.added) and not (self.inputs_changed or self.changed or self.removed)


def file_state(path: Path) -> FileState:
    with path.open("rb") as handle:
        return FileState(os.fstat(handle.fileno()).st_size, hashlib.file_digest(handle, "sha256").hexdigest())


def raw_state(raw_path: Path, method_file: Path, limits: FileLimits) -> RawState:
    """The fingerprint of everything a run on raw_path would read."""
    inputs = hashlib.sha256()
    inputs.update(code_digest(CODE_PACKAGES, installed_libraries()).encode())
    inputs.update(file_state(method_file).sha256.encode() if method_file.is_file() else b"no method file")
    inputs.update(f"{limits.max_file_bytes}/{limits.max_inflated_bytes}".encode())
    return RawState(inputs.hexdigest(), files_under(raw_path))


def files_under(raw_path: Path) -> dict[str, FileState]:
    """Every file under raw_path by relative path, following links to folders (a round folder may be one)
    but never into a folder twice; a link to nothing is listed as unreadable."""
    files, seen = {}, set()
    for current, folders, names in os.walk(raw_path, followlinks=True):
        status = os.stat(current)
        if (status.st_dev, status.st_ino) in seen:
            folders.clear()
            continue
        seen.add((status.st_dev, status.st_ino))
        folders.sort()
        for name in sorted(names):
            path = Path(current, name)
            try:
                state = file_state(path)
            except OSError:
                state = FileState(-1, "unreadable")
            files[path.relative_to(raw_path).as_posix()] = state
    return files


def raw_changes(published: RawState | None, current: RawState) -> RawChanges:
    """What changed from the published state (None: no usable published warehouse, so everything is new)."""
    if published is None:
        return RawChanges(True, sorted(current.files), [], [])
    before, now = published.files, current.files
    return RawChanges(
        inputs_changed=published.inputs != current.inputs,
        added=sorted(set(now) - set(before)),
        changed=sorted(path for path in set(now) & set(before) if now[path] != before[path]),
        removed=sorted(set(before) - set(now)),
    )


def _warehouse_identity(warehouse_path: Path) -> list[int]:
    status = warehouse_path.stat()
    return [status.st_ino, status.st_size, status.st_mtime_ns]


def completion_path(warehouse_path: Path) -> Path:
    """Where `record_complete` writes: beside the warehouse, hidden."""
    return warehouse_path.with_name(f".{warehouse_path.name}.complete.json")


def record_complete(warehouse_path: Path) -> None:
    """Record that the run which published the warehouse file now at `warehouse_path` completed."""
    target = completion_path(warehouse_path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps({"version": COMPLETION_VERSION, "warehouse": _warehouse_identity(warehouse_path)}),
                       encoding="utf-8")
    os.replace(partial, target)


def is_complete(warehouse_path: Path) -> bool:
    """Whether the warehouse file at `warehouse_path` is the one a completed run published."""
    try:
        record = json.loads(completion_path(warehouse_path).read_text(encoding="utf-8"))
        return record.get("version") == COMPLETION_VERSION and record["warehouse"] == _warehouse_identity(
            warehouse_path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
