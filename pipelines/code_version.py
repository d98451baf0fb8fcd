"""A digest of code: what cached results are keyed by, so that a new release never reuses old ones."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from importlib.metadata import version

from pipelines.settings import PROJECT_ROOT


def code_digest(paths: Iterable[str], libraries: Iterable[str]) -> str:
    """sha256 of the files under `paths` (relative to the project; a folder: every .py, .yaml, .j2
    and .sql file below it, by relative path and bytes) and of the installed versions of `libraries`."""
    digest = hashlib.sha256()
    for name in paths:
        path = PROJECT_ROOT / name
        files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".yaml", ".j2", ".sql") and p.is_file()) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    for library in libraries:
        try:
            digest.update(f"{library}=={version(library)}\0".encode())
        except Exception:  # not installed: it computes nothing
            digest.update(f"{library} absent\0".encode())
    return digest.hexdigest()
