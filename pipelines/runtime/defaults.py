"""Where sdz looks by default, without Dagster: the commands that never run the asset graph (`sdz validate`
and `sdz sql`) read their defaults here, and pipelines.runtime.settings builds a run's settings from them."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

DEFAULT_RAW_DIR = "raw"
DEFAULT_WAREHOUSE = "warehouse/sdz.duckdb"
# The project's own definitions (SQL models, method files) are package data: found the same way in a
# clone, an editable install and a plain `pip install .`, wherever the command is started from.
SQL_MODELS_DIR = Path(str(files("dbt_like_sql")))
DEFAULT_METHOD = Path(str(files("schemas") / "methods" / "default.yaml"))
# The folder holding pipelines/, schemas/ and dbt_like_sql/ (in a clone: the repository root).
PROJECT_ROOT = Path(str(files("pipelines"))).parent


def raw_dir_from_env(raw_dir: str | os.PathLike | None = None) -> str:
    """The raw folder given, else `SDZ_RAW_DIR`, else `raw`."""
    return str(raw_dir or os.environ.get("SDZ_RAW_DIR") or DEFAULT_RAW_DIR)


def warehouse_from_env(warehouse: str | os.PathLike | None = None) -> str:
    """The warehouse file given, else `SDZ_WAREHOUSE`, else `warehouse/sdz.duckdb`."""
    return str(warehouse or os.environ.get("SDZ_WAREHOUSE") or DEFAULT_WAREHOUSE)


def registry_path(raw_dir: str | os.PathLike) -> Path:
    """The zone registry of a raw folder."""
    return Path(raw_dir).resolve() / "reference" / "zones.csv"
