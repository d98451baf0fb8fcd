"""The one settings object of a run: where raw submissions are read and where the warehouse goes.

`SDZ_RAW_DIR`, `SDZ_WAREHOUSE` and `SDZ_METHOD` set the defaults, for `sdz` and for `dagster dev` alike;
every other path (feedback, reports, the build file, the lock, Dagster's run history) is derived here.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource

from pipelines.runtime.defaults import (  # noqa: F401 - re-exported: the settings' defaults
    DEFAULT_METHOD,
    DEFAULT_RAW_DIR,
    DEFAULT_WAREHOUSE,
    PROJECT_ROOT,
    SQL_MODELS_DIR,
    raw_dir_from_env,
    registry_path,
    warehouse_from_env,
)
from pipelines.runtime.limits import FileLimits


def _switch(variable: str) -> bool:
    """An on/off environment variable, on unless set to off, 0, no or false."""
    return os.environ.get(variable, "on").strip().lower() not in ("off", "0", "no", "false")


class SdzSettings(ConfigurableResource):
    """Where a run reads submissions and writes the warehouse, plus the limits of file guards."""

    raw_dir: str = DEFAULT_RAW_DIR
    warehouse: str = DEFAULT_WAREHOUSE
    max_file_bytes: int = FileLimits.max_file_bytes
    max_inflated_bytes: int = FileLimits.max_inflated_bytes
    method_file: str = str(DEFAULT_METHOD)
    # Reuse what unchanged files gave in earlier runs (pipelines.validate.value_cache); SDZ_CACHE=off reads everything.
    use_cache: bool = True
    # Apply new files as a delta on the published warehouse (pipelines.load.delta); SDZ_INCREMENTAL=off rebuilds.
    incremental: bool = True

    @classmethod
    def from_env(
        cls, raw_dir: str | os.PathLike | None = None, warehouse: str | os.PathLike | None = None,
        method_file: str | os.PathLike | None = None, incremental: bool | None = None,
    ) -> SdzSettings:
        """Settings from explicit arguments, else `SDZ_RAW_DIR` / `SDZ_WAREHOUSE` / `SDZ_METHOD` /
        `SDZ_INCREMENTAL`, else the defaults."""
        limits = FileLimits.from_env()
        method = method_file or os.environ.get("SDZ_METHOD")
        return cls(
            raw_dir=raw_dir_from_env(raw_dir),
            warehouse=warehouse_from_env(warehouse),
            # Absolute, so that the code servers of `dagster dev` read the same file whatever their directory.
            method_file=str(Path(method).resolve()) if method else str(DEFAULT_METHOD),
            max_file_bytes=limits.max_file_bytes,
            max_inflated_bytes=limits.max_inflated_bytes,
            use_cache=_switch("SDZ_CACHE"),
            incremental=_switch("SDZ_INCREMENTAL") if incremental is None else incremental,
        )

    @property
    def raw_path(self) -> Path:
        return Path(self.raw_dir).resolve()

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse).resolve()

    def build_path(self, run_id: str) -> Path:
        """The warehouse a run builds, beside the published one; its publish step swaps it in.

        One file per run: two runs (say, one from the UI and one from a sensor) never write into
        the same build, and whichever publishes last leaves a complete warehouse."""
        path = self.warehouse_path
        return path.with_name(f".{path.name}.{run_id[:8]}.building")

    @property
    def dagster_home(self) -> Path:
        """Dagster's instance (run history, event log) inside the warehouse folder."""
        return self.warehouse_path.parent / ".dagster"

    @property
    def cache_dir(self) -> Path:
        """What reading and validating each file gave (pipelines.validate.value_cache), beside the warehouse."""
        return self.warehouse_path.parent / ".cache" / "values"

    @property
    def lock_path(self) -> Path:
        path = self.warehouse_path
        return path.with_name(f".{path.name}.lock")

    @property
    def output_dir(self) -> Path:
        """The folder beside the warehouse file that holds feedback/ and reports/."""
        return self.warehouse_path.parent

    @property
    def registry_path(self) -> Path:
        return registry_path(self.raw_dir)

    @property
    def method_path(self) -> Path:
        return Path(self.method_file)
