"""List the submission files under raw/: which round and batch each belongs to, and which to read.

Only files inside `<round>/batch-N/` folders are submissions. Names starting with `.` or `~$`
(hidden files, Office lock files) are ignored; anything else is listed in `core.submission_files`.
Every other file under raw/ (raw/reference/ aside) is listed by `unrecognised_files`, with the
folder it probably belongs in. Nothing under raw/ is ever modified.

Which of byte-identical files is loaded is settled after reading (`settle_copies`): a copy of a
loaded file is a duplicate, a copy of a refused file is read on its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.runtime.limits import DEFAULT_MAX_FILE_BYTES
from schemas.messages import message, messages

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
CSV_SUFFIXES = {".csv"}
ROUND_PATTERN = re.compile(r"(19|20)\d\d")
BATCH_PATTERN = re.compile(r"batch-(\d+)")
REFERENCE_FOLDER = "reference"
# The first bytes of a workbook say which reader opens it, whatever its name: an .xlsx/.xlsm, .xlsb or
# .ods is a zip archive (`zip_workbook_kind` tells them apart), an .xls an OLE compound file - and so is
# a password-protected .xlsx (`is_encrypted_package`).
WORKBOOK_SIGNATURES = {b"PK\x03\x04": ".xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": ".xls"}
# The part of a zip that says which workbook it is; an OpenDocument file names its type in `mimetype`.
ZIP_WORKBOOK_PARTS = {"xl/workbook.xml": ".xlsx", "xl/workbook.bin": ".xlsb"}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# An encrypted Office document (ECMA-376 "Office Document Cryptography") is an OLE compound file holding
# the encrypted zip in this stream: its directory entry is 128 bytes, starting with the name in UTF-16.
ENCRYPTED_STREAM = "EncryptedPackage\0".encode("utf-16-le")
DIRECTORY_ENTRY = 128
# What Windows, macOS, WeChat and browsers add to the name of a second copy of a file:
# "x (1).xlsx", "x（2）.xlsx", "x - Copy.xlsx", "x - 副本.xlsx", "x_副本.xlsx", "x（副本）.xlsx", "x copy.xlsx",
# "Copy of x.xlsx", "复件 x.xlsx".
COPY_MARKER = re.compile(
    r"(?:\s*[(（]\s*(?:\d{1,2}|副本|复件|copy)\s*[)）]|[\s_-]*(?:副本|复件)|[\s_-]+copy)(?:\s*[(（]?\d{1,2}[)）]?)?$"
    r"|^(?:copy of\s|复件\s*)", re.IGNORECASE)

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
    """`workbook`, `csv`, or None for a type sdz does not read (by the name's extension)."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        return "workbook"
    if suffix in CSV_SUFFIXES:
        return "csv"
    return None


def workbook_signature(head: bytes) -> str | None:
    """`.xlsx` (zip) or `.xls` (OLE) when the first bytes of a file are a workbook's, else None."""
    for signature, kind in WORKBOOK_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


def zip_workbook_kind(path: Path) -> str | None:
    """`.xlsx` (for .xlsm too), `.xlsb` or `.ods` by the parts of a zip workbook; None for another zip or a
    damaged one."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = {info.filename: info for info in archive.infolist()}
            mimetype = names.get("mimetype")
            if mimetype and mimetype.file_size <= len(ODS_MIMETYPE) + 2 and \
                    archive.read(mimetype).strip() == ODS_MIMETYPE:
                return ".ods"
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None
    return next((kind for part, kind in ZIP_WORKBOOK_PARTS.items() if part in names), None)


def is_encrypted_package(path: Path) -> bool:
    """Whether an OLE compound file is a password-protected Office document: a directory entry (at a
    multiple of 128 bytes, as every sector and entry is) named `EncryptedPackage`, its name's length in
    bytes at offset 64."""
    content = path.read_bytes()
    start = content.find(ENCRYPTED_STREAM)
    while start >= 0:
        name_length = int.from_bytes(content[start + 64:start + 66], "little")
        if start % DIRECTORY_ENTRY == 0 and name_length == len(ENCRYPTED_STREAM):
            return True
        start = content.find(ENCRYPTED_STREAM, start + 1)
    return False


def sha256_of(path: Path) -> tuple[str, bytes]:
    """The SHA-256 of a file's bytes and its first bytes (enough for `workbook_signature`)."""
    digest = hashlib.sha256()
    head = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            head = head or chunk[:8]
            digest.update(chunk)
    return digest.hexdigest(), head


def is_copy_name(path: str) -> bool:
    """Whether a file's name carries a copy marker such as ` (1)`, ` - Copy` or `_副本`."""
    return bool(COPY_MARKER.search(Path(path).stem))


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
    file, link out of raw/, too large); the others are `pending` until parsed, byte-identical copies
    too (`settle_copies` decides which of them is loaded). `file_format` is the reader: a file named
    .xlsx, .xlsm, .xlsb, .xls, .ods or .csv whose first bytes are a workbook's is a `workbook`, whatever
    its extension says. `file_id` numbers the entries in that order, starting at 1.
    """
    rows = sorted(entries, key=lambda entry: (entry[2], entry[3], entry[1]))
    records = []
    for file_id, (path, name, round_year, batch) in enumerate(rows, start=1):
        fmt = file_format(path)
        digest = size = None
        status, reason, detail = "pending", None, None
        problem = entry_problem(path, raw_dir, max_file_bytes)
        if problem is None:
            (digest, head), size = sha256_of(path), path.stat().st_size
            fmt = "workbook" if fmt and workbook_signature(head) else fmt
        if problem:
            status, (reason, detail) = "rejected", problem
        elif fmt is None:
            status, reason = "rejected", "unsupported_file_type"
            detail = message("unsupported_extension", extension=path.suffix) if path.suffix else message("no_extension")
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


def preference_order(files: pd.DataFrame) -> pd.Index:
    """The index of `files` in the order in which byte-identical copies are preferred: by round and
    batch, then a name without a copy marker (`is_copy_name`) before one with, then by path
    (code-point order)."""
    ranked = files[["round", "batch", "path"]].assign(is_copy=files["path"].map(is_copy_name))
    return ranked.sort_values(["round", "batch", "is_copy", "path"], kind="stable").index


def settle_copies(files: pd.DataFrame) -> pd.DataFrame:
    """`files` (read ones, status `loaded` or `rejected`) with the copies of a loaded file made `duplicate`.

    Of byte-identical files, the first loaded one in `preference_order` stays loaded; every copy after
    it is a `duplicate` naming it in `detail`. A copy before it was refused on its own reading (say,
    by its name's extension) and stays refused. As each file's reading depends on its bytes, round
    and extension only, the outcome does not depend on the order in which files are listed.
    """
    ordered = files.loc[preference_order(files)]
    position = pd.Series(range(len(ordered)), index=ordered.index, dtype="float64")
    is_loaded = ordered["status"] == "loaded"
    by_content = ordered["sha256"].to_numpy()
    first_loaded = position.where(is_loaded).groupby(by_content).transform("min")
    copies = ordered.index[position > first_loaded]
    loaded_path = ordered["path"].where(is_loaded).groupby(by_content).transform("first")
    settled = files.copy()
    settled.loc[copies, "status"] = settled.loc[copies, "reason"] = "duplicate"
    settled.loc[copies, "detail"] = messages("identical_to", path=loaded_path[copies])
    settled.loc[copies, "zone_code"] = pd.NA
    return settled


UNRECOGNISED_COLUMNS = ["path", "reason", "suggestion"]
CHINESE_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# Folder names that say which batch they hold: batch1, Batch_2, batch 3, 第一批, 第2批次, 首批, 补报, 2.
BATCH_GUESSES = (
    (re.compile(r"batch[\s_-]*0*(\d{1,2})", re.IGNORECASE), lambda match: int(match.group(1))),
    (re.compile(r"第\s*([一二三四五六七八九十]|\d{1,2})\s*批次?"),
     lambda match: CHINESE_NUMERALS.get(match.group(1)) or int(match.group(1))),
    (re.compile(r"首批|初报|第一次"), lambda match: 1),
    (re.compile(r"补报|补充|补交|补正|第二次"), lambda match: 2),
    (re.compile(r"0*(\d)"), lambda match: int(match.group(1))),
)
NOT_A_SUBMISSION = "not under <round>/batch-N/"


def guessed_batch(folder: str) -> int | None:
    """The batch a wrongly named folder probably is (`batch1` → 1, `第二批` → 2, `补报` → 2), else None."""
    for pattern, batch in BATCH_GUESSES:
        match = pattern.fullmatch(folder.strip())
        if match:
            return batch(match)
    return None


def guessed_round(folder: str) -> int | None:
    """The round a folder names: a year in its name (`2014`, `2014年`, `第2014轮`), else None."""
    years = re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", folder)
    return int(years[0]) if len(years) == 1 else None


def unrecognised_files(raw_dir: Path) -> pd.DataFrame:
    """Every file under raw_dir that is not read as a submission: not inside a `<round>/batch-N/` folder,
    and neither under raw/reference/ nor hidden or an Office lock file. `reason` says why
    (`not under <round>/batch-N/` and what is wrong); `suggestion` is the path it would have in the
    batch folder its folders name (`2014/batch1/x.xlsx` → `2014/batch-1/x.xlsx`), empty when they do not
    say. Ordered by path (code-point order)."""
    batches = {folder.path for folder in batch_folders(raw_dir)}
    rows = []
    for current, folders, files in os.walk(raw_dir, followlinks=False) if raw_dir.is_dir() else []:
        current_path = Path(current)
        is_top = current_path == raw_dir
        folders[:] = [name for name in folders if not is_ignored(name) and current_path / name not in batches
                      and not (is_top and name == REFERENCE_FOLDER)]
        for name in files:
            if not is_ignored(name):
                relative = (current_path / name).relative_to(raw_dir)
                rows.append((relative.as_posix(), *why_not_a_submission(relative.parts)))
    rows.sort()
    return pd.DataFrame.from_records(rows, columns=UNRECOGNISED_COLUMNS).astype(
        {"path": "str", "reason": "str", "suggestion": "string"})


def why_not_a_submission(parts: tuple[str, ...]) -> tuple[str, str | None]:
    """The reason a file at `parts` (relative to raw/, outside any batch folder) is not read, and the path
    it would have in the batch folder its folders name, when they name one."""
    if len(parts) == 1:
        return f"{NOT_A_SUBMISSION}: directly in the raw folder", None
    round_folder, rest = parts[0], parts[1:]
    round_year = int(round_folder) if ROUND_PATTERN.fullmatch(round_folder) else guessed_round(round_folder)
    if round_year is None:
        return f"{NOT_A_SUBMISSION}: {round_folder!r} is not a round folder (a year such as 2014)", None
    if len(rest) == 1:
        return f"{NOT_A_SUBMISSION}: in the round folder {round_folder}/, not in one of its batch-N/ folders", None
    batch_folder = rest[0]
    batch = int(BATCH_PATTERN.fullmatch(batch_folder).group(1)) if BATCH_PATTERN.fullmatch(batch_folder) \
        else guessed_batch(batch_folder)
    if round_folder != str(round_year):
        problem = f"{round_folder!r} is not a round folder (a year such as {round_year})"
    else:
        problem = f"{batch_folder!r} is not a batch folder (batch-N)"
    suggestion = "/".join((str(round_year), f"batch-{batch}", *rest[1:])) if batch else None
    return f"{NOT_A_SUBMISSION}: {problem}", suggestion
