"""List the submission files under raw/: which round and batch each belongs to, and which to read.

Only files inside `<round>/batch-N/` folders are submissions. Names starting with `.` or `~$`
(hidden files, Office lock files) are ignored; anything else is listed in `core.submission_files`.
Nothing under raw/ is ever modified.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.runtime.limits import DEFAULT_MAX_FILE_BYTES
from schemas.messages import message

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
CSV_SUFFIXES = {".csv"}
ROUND_PATTERN = re.compile(r"(19|20)\d\d")
BATCH_PATTERN = re.compile(r"batch-(\d+)")

INVENTORY_COLUMNS = ["file_id", "path", "sha256", "round", "batch", "file_format", "size_bytes", "status", "reason",
                     "detail"]


@dataclass(frozen=True)
class BatchFolder:
    """One `<round>/batch-N` folder."""

    round: int
    batch: int
    path: Path

    @property
    def name(self) -> str:
        return f"{self.round}/batch-{self.batch}"


def is_ignored(name: str) -> bool:
    """Hidden files and Office lock files are not submissions."""
    return name.startswith(".") or name.startswith("~$")


def batch_folders(raw_dir: Path) -> list[BatchFolder]:
    """Every `<round>/batch-N` folder under raw_dir, in (round, batch) order."""
    folders = []
    for round_dir in raw_dir.iterdir() if raw_dir.is_dir() else []:
        if not (round_dir.is_dir() and ROUND_PATTERN.fullmatch(round_dir.name)):
            continue
        for batch_dir in round_dir.iterdir():
            match = BATCH_PATTERN.fullmatch(batch_dir.name)
            if batch_dir.is_dir() and match:
                folders.append(BatchFolder(int(round_dir.name), int(match.group(1)), batch_dir))
    return sorted(folders, key=lambda folder: (folder.round, folder.batch))


def file_format(path: Path) -> str | None:
    """`workbook`, `csv`, or None for a type sdz does not read."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in CSV_SUFFIXES:
        return "csv"
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def entry_problem(path: Path, raw_dir: Path, max_file_bytes: int) -> tuple[str, str] | None:
    """Why an entry of a batch folder cannot be read at all, before anything opens it.

    Links are followed only to a regular file inside raw/; anything else that is not a regular
    file (a folder named like a file, a device, a pipe) is refused, and so is a file above the
    size limit.
    """
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(Path(os.path.realpath(raw_dir))):
            return "link_outside_raw", message("link_outside_raw")
    try:
        status = path.stat()
    except OSError as error:
        return "unreadable_file", message("cannot_read", error=error.strerror)
    if not stat.S_ISREG(status.st_mode):
        key = "folder_named_like_a_file" if stat.S_ISDIR(status.st_mode) else "not_a_regular_file"
        return "not_a_file", message(key)
    if status.st_size > max_file_bytes:
        return "file_too_large", message("file_over_limit", size=f"{status.st_size:,}", limit=f"{max_file_bytes:,}")
    return None


def list_submissions(raw_dir: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> pd.DataFrame:
    """Every submission entry under raw_dir's `<round>/batch-N/` folders (see `inventory_of`).

    The walk never follows links into other folders; a folder whose name has a submission
    file's extension is listed (and refused) as well as walked.
    """
    entries = []
    for folder in batch_folders(raw_dir):
        for current, folders, files in os.walk(folder.path, followlinks=False):
            current_path = Path(current)
            folders[:] = sorted(name for name in folders if not is_ignored(name))
            names = [name for name in files if not is_ignored(name)]
            names += [name for name in folders if file_format(Path(name)) or (current_path / name).is_symlink()]
            for name in names:
                path = current_path / name
                entries.append((path, path.relative_to(raw_dir).as_posix(), folder.round, folder.batch))
    return inventory_of(entries, raw_dir, max_file_bytes)


def inventory_of(
    entries: list[tuple[Path, str, int, int]], raw_dir: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> pd.DataFrame:
    """One row per (file, shown name, round, batch), ordered by round, batch and name (code-point order).

    `status` is already final for entries that cannot be read (`rejected`: unsupported type, not a
    file, link out of raw/, too large) and for byte-identical copies (`duplicate`, naming the
    loaded file in `detail`); the others are `pending` until parsed. `file_id` numbers the
    entries in that order, starting at 1.
    """
    rows = sorted(entries, key=lambda entry: (entry[2], entry[3], entry[1]))
    first_by_hash: dict[str, str] = {}
    records = []
    for file_id, (path, name, round_year, batch) in enumerate(rows, start=1):
        fmt = file_format(path)
        digest = size = None
        status, reason, detail = "pending", None, None
        problem = entry_problem(path, raw_dir, max_file_bytes)
        if problem is None:
            digest, size = sha256_of(path), path.stat().st_size
        if problem:
            status, (reason, detail) = "rejected", problem
        elif fmt is None:
            status, reason = "rejected", "unsupported_file_type"
            detail = message("unsupported_extension", extension=path.suffix) if path.suffix else message("no_extension")
        elif digest in first_by_hash:
            status, reason = "duplicate", "duplicate"
            detail = message("identical_to", path=first_by_hash[digest])
        else:
            first_by_hash[digest] = name
        records.append(
            {
                "file_id": file_id,
                "path": name,
                "sha256": digest,
                "round": round_year,
                "batch": batch,
                "file_format": fmt,
                "size_bytes": size,
                "status": status,
                "reason": reason,
                "detail": detail,
            }
        )
    return pd.DataFrame.from_records(records, columns=INVENTORY_COLUMNS)
