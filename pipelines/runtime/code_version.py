"""A digest of code: what cached results are keyed by, so that a new release never reuses old ones.

Each cache names the packages its stage reads (the value cache: ingest, validate and schemas; the
report cache: the reports and the index engine), so that editing one stage keeps the other's cache,
and a module added to a package changes the digest without any list to keep up to date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

CODE_SUFFIXES = (".py", ".yaml", ".j2", ".sql")


def code_digest(packages: Iterable[str], libraries: Iterable[str]) -> str:
    """sha256 of every .py, .yaml, .j2 and .sql file of the `packages` (dotted names, sub-packages
    included; by package name, relative path and bytes) and of the installed versions of `libraries`."""
    digest = hashlib.sha256()
    for package in packages:
        folder = Path(str(files(package)))
        for file in sorted(p for p in folder.rglob("*") if p.suffix in CODE_SUFFIXES and p.is_file()):
            name = f"{package}/{file.relative_to(folder).as_posix()}"
            digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    for library in libraries:
        try:
            digest.update(f"{library}=={version(library)}\0".encode())
        except Exception:  # not installed: it computes nothing
            digest.update(f"{library} absent\0".encode())
    return digest.hexdigest()
