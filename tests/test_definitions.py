"""The Dagster definitions `dagster dev` shows and `sdz run` materialises."""

from __future__ import annotations

import tomllib
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_definitions, defs
from pipelines.runtime.job import WHOLE_RUN
from pipelines.runtime.settings import SdzSettings
from schemas.core_tables import core_table_definitions

ROOT = Path(__file__).resolve().parents[1]
CORE_KEYS = {dg.AssetKey(name.split(".")) for name in core_table_definitions()}
CONTRACT_MARTS = {dg.AssetKey(["mart", name]) for name in
                  ("zone_structure", "coverage", "submission_status", "index_zone_year", "index_by_type")}


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


@pytest.fixture(scope="module")
def specs():
    return defs.resolve_all_asset_specs()


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)


def test_pyproject_points_dagster_at_the_definitions() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["dagster"]["module_name"] == "pipelines.definitions"


def test_every_asset_has_a_group_and_a_description(specs) -> None:
    undocumented = [spec.key.to_user_string() for spec in specs if not (spec.description or "").strip()]
    ungrouped = [spec.key.to_user_string() for spec in specs if spec.group_name in (None, "default")]
    assert (undocumented, ungrouped) == ([], [])


def test_the_tree_shows_the_graph(specs) -> None:
    # Every asset group is a stage package under pipelines/, and the package of an asset's code is its group.
    packages = {path.parent.name for path in (ROOT / "pipelines").glob("*/__init__.py")}
    assert {spec.group_name for spec in specs} <= packages
    assert {spec.group_name for spec in specs} == {"ingest", "validate", "load", "models", "index", "publish"}
    loose = sorted(path.name for path in (ROOT / "pipelines").glob("*.py"))
    assert loose == ["__init__.py", "cli.py", "definitions.py"]


def test_the_graph_holds_the_contract_tables_and_publishing(specs) -> None:
    keys = {spec.key for spec in specs}
    missing = (CORE_KEYS | CONTRACT_MARTS | {dg.AssetKey("warehouse"), dg.AssetKey("feedback_workbooks")}) - keys
    assert missing == set()
    assert dg.AssetKey(["core", "observations"]) in keys


def test_the_warehouse_is_published_after_every_table(graph) -> None:
    # Analysts never see a half-finished run: the swap waits for every table of the build.
    ancestors = graph.get_ancestor_asset_keys(dg.AssetKey("warehouse"))
    assert ancestors >= CORE_KEYS | CONTRACT_MARTS
    assert dg.AssetKey("warehouse") in graph.get_ancestor_asset_keys(dg.AssetKey("feedback_workbooks"))


def test_checks_guard_the_core_tables(graph) -> None:
    checks = {(key.asset_key, key.name) for key in graph.asset_check_keys}
    assert (dg.AssetKey(["core", "observation_history"]), "nothing_lost") in checks
    assert {key for key in CORE_KEYS if (key, "matches_schema") not in checks} == set()
    assert {asset_key for asset_key, _ in checks} <= {spec.key for spec in defs.resolve_all_asset_specs()}


def test_sdz_run_materialises_the_whole_graph(graph) -> None:
    job = defs.resolve_job_def(WHOLE_RUN.name)  # the job `sdz run` executes
    assert set(job.asset_layer.executable_asset_keys) >= set(graph.executable_asset_keys)
    assert set(job.asset_layer.executable_asset_keys) >= CORE_KEYS | CONTRACT_MARTS


def test_environment_sets_the_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SDZ_RAW_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("SDZ_WAREHOUSE", str(tmp_path / "wh" / "x.duckdb"))
    settings = build_definitions().resources["settings"]
    assert isinstance(settings, SdzSettings)
    assert settings.raw_path == tmp_path / "elsewhere"
    assert settings.warehouse_path == tmp_path / "wh" / "x.duckdb"
