"""Reuse of a round's rendered reports while nothing they are made from has changed.

A round's reports are a function of the round's inputs read from the warehouse
(`report_data.RoundInputs`, as of the round's last batch), the method file and the code that
renders them. The cache key is a sha256 of the three: the inputs' digest, the method file's
digest and `code_version()` (the source of the report modules, the template and the schemas they
read, with the versions of the libraries that compute and format the numbers and write the
workbooks). Each entry is a folder `<key>/` holding the round's four files, stored after a fresh
render, so a copy is byte for byte what rendering again would write. A new round therefore
renders only itself; an older round is rendered again only when its as-of data, the method or the
code changed. The zone cards of a round (`pipelines.publish.reports.cards`) are kept the same way, an
entry holding the round's whole `zones/` folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from pipelines.runtime.code_version import code_digest

# The code a report depends on: the report package (modules and templates) with the spreadsheet writing
# it shares with the rest of publish, the index engine it runs on each round's as-of values, and the
# data definitions (labels, catalogue, method files).
REPORT_PACKAGES = ["pipelines.publish", "pipelines.index", "schemas"]
REPORT_LIBRARIES = ["duckdb", "pandas", "xlsxwriter", "Jinja2"]
REPORT_FILES = [f"{kind}.{ext}" for kind in ("monitoring", "evaluation") for ext in ("html", "xlsx")]
# Printed when a browser is available (`pipelines.publish.reports.pdf`): kept when there, never required.
PDF_FILES = [f"{kind}.pdf" for kind in ("monitoring", "evaluation")]


def code_version() -> str:
    """A digest of the report code, the template and schemas, and the libraries that compute,
    format and write the numbers."""
    return code_digest(REPORT_PACKAGES, REPORT_LIBRARIES)


def cache_key(inputs_digest: str, method_digest: str, code: str) -> str:
    """The key of a round's reports: its inputs, the method file and the code, hashed together."""
    return hashlib.sha256(f"{inputs_digest} {method_digest} {code}".encode()).hexdigest()


def restore(cache_dir: Path, key: str, folder: Path) -> bool:
    """Copy the cached reports of `key` into `folder`; False (and nothing copied) when there are none."""
    entry = cache_dir / key
    if not all((entry / name).is_file() for name in REPORT_FILES):
        return False
    folder.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES + [name for name in PDF_FILES if (entry / name).is_file()]:
        shutil.copyfile(entry / name, folder / name)
    return True


def store(cache_dir: Path, key: str, folder: Path, names: Sequence[str] | None = REPORT_FILES) -> None:
    """Keep a copy of the freshly rendered files `names` of `folder` (None: all of it) and of the PDFs printed
    beside them under `key`, written aside and then renamed, so that an entry is always whole; an entry
    already kept gets the PDFs it lacks."""
    entry = cache_dir / key
    pdfs = [name for name in PDF_FILES if (folder / name).is_file()]
    if entry.is_dir():
        for name in pdfs:
            if not (entry / name).is_file():
                shutil.copyfile(folder / name, entry / f".{name}.writing")
                (entry / f".{name}.writing").rename(entry / name)
        return
    writing = cache_dir / f".{key}.writing"
    shutil.rmtree(writing, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    kept = None if names is None else [*names, *pdfs]
    shutil.copytree(folder, writing, copy_function=link_or_copy if names is None else shutil.copy2,
                    ignore=None if kept is None else lambda _folder, found: [name for name in found
                                                                              if name not in kept])
    writing.rename(entry)


def restore_folder(cache_dir: Path, key: str, folder: Path) -> bool:
    """Link the cached folder of `key` (a round's zone cards) to `folder`; False when there is none."""
    entry = cache_dir / key
    if not entry.is_dir():
        return False
    shutil.copytree(entry, folder, copy_function=link_or_copy)
    return True


def link_or_copy(source: str, target: str) -> None:
    """A hard link to `source` (a national round's cards are 200 MB: copying them took over a second), or a copy
    where the two folders are on different file systems. Safe because nothing sdz writes is changed in place:
    a render writes new files into a new folder."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def prune(cache_dir: Path, keep: set[str]) -> None:
    """Remove the entries not used by the last run, so that the cache holds the current rounds only."""
    if cache_dir.is_dir():
        for entry in cache_dir.iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)
