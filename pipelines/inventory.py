"""List the submission files under raw/: which round and batch each belongs to, and which to read.

Only files inside `<round>/batch-N/` folders are submissions. Names starting with `.` or `~$`
(hidden files, Office lock files) are ignored; anything else is listed in `core.submission_files`.
Nothing under raw/ is ever modified.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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


def list_submissions(raw_dir: Path) -> pd.DataFrame:
    """Every submission file under raw_dir's `<round>/batch-N/` folders (see `inventory_of`)."""
    entries = []
    for folder in batch_folders(raw_dir):
        for path in folder.path.rglob("*"):
            relative = path.relative_to(raw_dir)
            if any(is_ignored(part) for part in relative.parts) or not path.is_file():
                continue
            entries.append((path, relative.as_posix(), folder.round, folder.batch))
    return inventory_of(entries)


def inventory_of(entries: list[tuple[Path, str, int, int]]) -> pd.DataFrame:
    """One row per (file, shown name, round, batch), ordered by round, batch and name (code-point order).

    `status` is already final for unsupported types (`rejected`) and byte-identical copies
    (`duplicate`, naming the loaded file in `detail`); the others are `pending` until parsed.
    `file_id` numbers the files in that order, starting at 1.
    """
    rows = [{"absolute": path, "path": name, "round": round_year, "batch": batch}
            for path, name, round_year, batch in entries]
    rows.sort(key=lambda row: (row["round"], row["batch"], row["path"]))
    first_by_hash: dict[str, str] = {}
    records = []
    for file_id, row in enumerate(rows, start=1):
        path: Path = row["absolute"]
        fmt = file_format(path)
        digest = sha256_of(path)
        status, reason, detail = "pending", None, None
        if fmt is None:
            status, reason = "rejected", "unsupported_file_type"
            detail = f"{path.suffix or 'no extension'}: only .xlsx, .xlsm, .xls and .csv are read"
        elif digest in first_by_hash:
            status, reason = "duplicate", "duplicate"
            detail = f"byte-identical to {first_by_hash[digest]}"
        else:
            first_by_hash[digest] = row["path"]
        records.append(
            {
                "file_id": file_id,
                "path": row["path"],
                "sha256": digest,
                "round": row["round"],
                "batch": row["batch"],
                "file_format": fmt,
                "size_bytes": path.stat().st_size,
                "status": status,
                "reason": reason,
                "detail": detail,
            }
        )
    return pd.DataFrame.from_records(records, columns=INVENTORY_COLUMNS)
