"""Incremental runs (README: Re-runs): new files applied as a delta give the warehouse a full rebuild gives.

The property test adds random batches one after another (a supplementary batch, a new round, files
appended to the last batch, a file sorting before the published ones) with revisions, jumps, unit
errors, conflicting and equal duplicates and rejected values, and after each compares every table
of the warehouse built as a delta on the previous one with a full rebuild, row by row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pipelines.load.build_inputs import BUILD_INPUTS_TABLE, as_read, recorded_build_inputs, write_build_inputs
from pipelines.runtime.raw_changes import FileState, RawState, raw_changes
from tests.builders import DEFAULT_ZONES, batch_dir, long_rows, plausible_values, write_csv, write_registry
from tests.warehouse_builds import build_warehouse, differing_tables

ZONES = [zone["zone_code"] for zone in DEFAULT_ZONES]
FIRST_ROUND = 2014
# Where a step's files go: after every published file (a delta), or before one (a full rebuild).
PLACES = ("next_batch", "next_round", "end_of_last_batch", "before_the_published")
TWISTS = ("none", "times_100", "jump", "conflicting_duplicate", "equal_duplicate", "not_a_number")

submission = st.fixed_dictionaries({
    "zone": st.sampled_from(ZONES),
    "seed": st.integers(0, 2),
    "indicators": st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3, unique=True),
    "twist": st.sampled_from(TWISTS),
})
step = st.fixed_dictionaries({"place": st.sampled_from(PLACES),
                              "files": st.lists(submission, min_size=1, max_size=3)})


def rows_of(round_year: int, spec: dict) -> list[tuple]:
    """A zone's long CSV rows for a round, with the step's twist on its first value."""
    values = plausible_values(spec["seed"], range(2009, round_year))
    rows = long_rows(spec["zone"], {indicator: values[indicator] for indicator in spec["indicators"]})
    zone, indicator, year, value, unit, note = rows[0]
    twisted = {
        "times_100": [(zone, indicator, year, value * 100, unit, note)],
        "jump": [(zone, indicator, year, value * 3, unit, note)],
        "conflicting_duplicate": [rows[0], (zone, indicator, year, value + 1, unit, note)],
        "equal_duplicate": [rows[0], rows[0]],
        "not_a_number": [(zone, indicator, year, "n/a?", unit, note)],
    }.get(spec["twist"], [rows[0]])
    return twisted + rows[1:]


def add_step(raw: Path, number: int, place: str, files: list[dict], last: tuple[int, int] | None) -> tuple[int, int]:
    """Write a step's files where `place` says; returns the last (round, batch) under raw/."""
    if last is None:
        target, name = (FIRST_ROUND, 1), "a"
    elif place == "before_the_published":  # digits sort before letters, a later step's before an earlier one's
        target, name = (FIRST_ROUND, 1), f"0{9 - number}"
    elif place == "next_batch":
        target, name = (last[0], last[1] + 1), f"s{number}"
    elif place == "next_round":
        target, name = (last[0] + 1, 1), f"s{number}"
    else:
        target, name = last, f"z{number}"
    folder = batch_dir(raw, *target)
    for position, spec in enumerate(files):
        write_csv(folder / f"{name}-{position}-{spec['zone']}.csv", rows_of(target[0], spec))
    return max(last or target, target)


# Without shrinking: a failing sequence is short already, and shrinking it rebuilds warehouses for minutes.
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(steps=st.lists(step, min_size=2, max_size=3))
def test_a_delta_gives_the_tables_of_a_full_rebuild(tmp_path_factory, steps: list[dict]):
    folder = tmp_path_factory.mktemp("delta")
    raw = folder / "raw"
    write_registry(raw)
    incremental, rebuilt = folder / "incremental" / "sdz.duckdb", folder / "rebuilt" / "sdz.duckdb"
    last = None
    for number, spec in enumerate(steps):
        last = add_step(raw, number, spec["place"], spec["files"], last)
        built_as = build_warehouse(raw, incremental, incremental=True)
        build_warehouse(raw, rebuilt, incremental=False)
        assert differing_tables(incremental, rebuilt) == {}, (number, spec, built_as)
        if number == 0 or spec["place"] == "before_the_published":
            assert built_as == "full rebuild"
    shutil.rmtree(folder)


def test_the_build_inputs_read_back_as_written(tmp_path: Path):
    written = RawState("digest", {"2014/batch-1/a.csv": FileState(10, "1"), "reference/zones.csv": FileState(5, "2")})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert recorded_build_inputs(con) is None
        write_build_inputs(con, written)
        assert recorded_build_inputs(con) == written
        assert con.execute(f"select count(*) from {BUILD_INPUTS_TABLE} where path <> ''").fetchall() == [(2,)]


def test_a_submission_the_run_did_not_read_is_recorded_as_unread():
    now = RawState("digest", {"2014/batch-1/a.csv": FileState(1, "a"), "2014/batch-1/b.csv": FileState(1, "b"),
                              "2014/batch-1/c.csv": FileState(1, "c"), "reference/zones.csv": FileState(1, "r"),
                              "2014/batch-1/~$lock.xlsx": FileState(1, "l")})
    read = pd.DataFrame({"path": ["2014/batch-1/a.csv", "2014/batch-1/b.csv"], "sha256": ["a", "b before"]})
    recorded = as_read(now, read)
    assert {path for path, state in recorded.files.items() if state.size == -1} == \
        {"2014/batch-1/b.csv", "2014/batch-1/c.csv"}
    assert raw_changes(recorded, now).changed == ["2014/batch-1/b.csv", "2014/batch-1/c.csv"]


@pytest.fixture
def two_batches(tmp_path: Path) -> tuple[Path, Path]:
    """A raw folder with batch 1 of 2014, and a supplementary batch 2 kept aside."""
    raw = tmp_path / "raw"
    write_registry(raw)
    for seed, zone in enumerate(ZONES[:4]):
        write_csv(batch_dir(raw) / f"{zone}.csv", long_rows(zone, plausible_values(seed)))
    aside = tmp_path / "batch-2"
    aside.mkdir()
    write_csv(aside / f"{ZONES[0]}.csv", long_rows(ZONES[0], {1: {2012: 1.0, 2013: 100.0}}))
    return raw, aside


def built_as(warehouse: Path) -> str:
    """How the core tables of the warehouse's latest run were built (the load step's metadata)."""
    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(str(warehouse.parent / ".dagster")) as instance:
        event = instance.get_latest_materialization_event(AssetKey(["core", "observation_history"]))
        return event.asset_materialization.metadata["built_as"].value


def test_sdz_run_applies_a_supplementary_batch_as_a_delta_unless_told_not_to(two_batches, run_sdz, monkeypatch,
                                                                               tmp_path: Path):
    raw, aside = two_batches
    warehouse = tmp_path / "incremental" / "sdz.duckdb"
    run_sdz(raw, warehouse)
    assert built_as(warehouse) == "full rebuild"
    shutil.move(aside, raw / "2014" / "batch-2")
    run_sdz(raw, warehouse)
    assert built_as(warehouse) == "delta"
    monkeypatch.setenv("SDZ_INCREMENTAL", "off")
    from pipelines.runtime.runner import run_pipeline
    from pipelines.runtime.settings import SdzSettings

    run_pipeline(SdzSettings.from_env(raw, warehouse))
    assert built_as(warehouse) == "full rebuild"


def test_a_changed_file_rebuilds_in_full(two_batches, run_sdz, tmp_path: Path):
    raw, aside = two_batches
    warehouse = tmp_path / "incremental" / "sdz.duckdb"
    run_sdz(raw, warehouse)
    first = raw / "2014" / "batch-1" / f"{ZONES[1]}.csv"
    first.write_text(first.read_text().replace("\n", "\r\n"))
    shutil.move(aside, raw / "2014" / "batch-2")
    run_sdz(raw, warehouse)
    assert built_as(warehouse) == "full rebuild"
