"""The pipeline as a steward sees it in the Dagster UI: `sdz ui` (dagster dev) on a free local port,
queried and driven through its GraphQL endpoint, as the web page does."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.demo.generate import generate_demo

ASSETS_QUERY = """
{ assetNodes { assetKey { path } groupName description isPartitioned
               assetChecksOrError { ... on AssetChecks { checks { name blocking } } } } }
"""
LAUNCH = """
mutation($location: String!) {
  launchRun(executionParams: {
      selector: {repositoryLocationName: $location, repositoryName: "__repository__", jobName: "sdz_run"},
      runConfigData: {}}) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
PARTITIONS = """
{ assetNodeOrError(assetKey: {path: ["submission_batches"]}) {
    ... on AssetNode { partitionKeys
      assetMaterializations(limit: 20) { partition metadataEntries { label } } } } }
"""
LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body["errors"]
    return body["data"]


def wait_for_ui(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    """Return once the UI on `port` answers; fail when `process` ends or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"dagster dev did not answer within {seconds:g} s") from None
            time.sleep(1)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ui")
    generate_demo(root / "raw")
    port = free_port()
    # `sdz ui` ends dagster dev and every process it started on SIGTERM (tests/test_ui_stop.py).
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ui", "--raw", str(root / "raw"), "--warehouse",
         str(root / "warehouse" / "sdz.duckdb"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_ui(port, process)
        yield port, root
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_ui_shows_the_whole_graph_grouped_by_stage(ui):
    port, _ = ui
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(port, ASSETS_QUERY)["assetNodes"]}
    groups = {n["groupName"] for n in nodes.values()}
    assert {"ingest", "validate", "load", "models", "index", "publish"} <= groups
    for key in ("zone_registry", "submission_inventory", "parsed_submissions", "validated_values",
                "core/observations", "mart/coverage", "mart/index_zone_year", "warehouse", "feedback_workbooks"):
        assert key in nodes, key
        assert nodes[key]["description"], key
    assert nodes["submission_batches"]["isPartitioned"]
    checks = {c["name"]: c["blocking"] for n in nodes.values() for c in n["assetChecksOrError"].get("checks", [])}
    assert checks["nothing_lost"] and checks["matches_schema"] and checks["shares_add_up_to_100"]


def test_a_run_launched_from_the_ui_succeeds_and_fills_the_batch_partitions(ui):
    port, root = ui
    location = graphql(port, LOCATIONS)["workspaceOrError"]["locationEntries"][0]["name"]
    launched = graphql(port, LAUNCH, {"location": location})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 300
    status = None
    while time.monotonic() < deadline:
        status = graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(2)
    assert status == "SUCCESS"
    assert (root / "warehouse" / "sdz.duckdb").exists()
    assert (root / "warehouse" / ".dagster" / "dagster.yaml").exists()  # run history beside the warehouse
    node = graphql(port, PARTITIONS)["assetNodeOrError"]
    assert node["partitionKeys"] == ["2014-batch-1", "2014-batch-2", "2015-batch-1"]
    recorded = {m["partition"] for m in node["assetMaterializations"]}
    assert recorded == set(node["partitionKeys"])
    labels = {e["label"] for m in node["assetMaterializations"] for e in m["metadataEntries"]}
    assert {"files_received", "files_rejected", "values_rejected", "files"} <= labels


def test_the_ui_uses_the_warehouse_folder_for_run_history_not_the_repository(ui):
    _, root = ui
    assert (root / "warehouse" / ".dagster").is_dir()
    assert not (Path(__file__).resolve().parents[1] / ".dagster").exists()
