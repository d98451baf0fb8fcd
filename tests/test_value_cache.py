"""The cache of what files gave: files read in an earlier run are not read again, and nothing changes.

Property: whichever files an earlier run read (any subset, any number of earlier runs), a run with
the cache gives exactly what reading every file gives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.inventory import list_submissions
from pipelines.ingest.parse import parse_submissions
from pipelines.ingest.registry import read_registry
from pipelines.load.precedence import resolve_history
from pipelines.validate.value_cache import CacheChanged, ValueCache, parse_with_cache, validate_with_cache
from tests.builders import (
    CHENGDU,
    HUALONG,
    KUNSHAN,
    batch_dir,
    long_rows,
    plausible_values,
    write_csv,
    write_registry,
    write_workbook,
)

LIMIT = 1 << 26


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two rounds and batches: workbooks and CSVs, gaps, bad values, warnings, refused files,
    conflicts, revisions, a byte-identical copy, a copy of a refused file that loads under its new
    name, two empty files and an .xlsx named .xls."""
    raw = tmp_path_factory.mktemp("cache") / "raw"
    write_registry(raw)
    first, second, next_round = batch_dir(raw, 2014, 1), batch_dir(raw, 2014, 2), batch_dir(raw, 2015, 1)
    values = plausible_values(1)
    values[3][2010], values[4][2011], values[5][2012] = "—", "abc", -5
    write_workbook(first / "kunshan.xlsx", values=values, zone_name="昆山市（旧名）")
    conflicting_and_too_late = long_rows(HUALONG, {1: {2012: 1, 2030: 5}})
    write_csv(first / "hualong.csv", long_rows(HUALONG, plausible_values(2)) + conflicting_and_too_late)
    write_csv(first / "broken.csv", [(1, 2)], header=("what", "ever"))
    (first / "copy.csv").write_bytes((first / "hualong.csv").read_bytes())
    write_csv(second / "kunshan-fix.csv", [(KUNSHAN, 4, 2011, 12.5, "%", ""), (KUNSHAN, 2, 2012, 99, "", "")])
    (first / "kunshan-fix.xls").write_bytes((second / "kunshan-fix.csv").read_bytes())
    (first / "empty.xlsx").write_bytes(b"")
    (first / "empty (1).xlsx").write_bytes(b"")
    write_workbook(first / "chengdu.xlsx", zone_code=CHENGDU, values=plausible_values(4))
    (first / "chengdu.xlsx").rename(first / "chengdu.xls")
    write_csv(next_round / "hualong-2015.csv", long_rows(HUALONG, plausible_values(3, range(2010, 2015))))
    return raw


def run(raw: Path, paths: set[str] | None, cache: ValueCache | None) -> dict[str, pd.DataFrame]:
    """What a run over the files `paths` (all when None) computes, as sorted frames."""
    registry = read_registry(raw / "reference" / "zones.csv")
    inventory = list_submissions(raw)
    if paths is not None:
        inventory = inventory[inventory["path"].isin(paths)].reset_index(drop=True)
    parsed = parse_with_cache(inventory, raw, registry, LIMIT, cache)
    validated = validate_with_cache(parsed, list(registry["zone_code"]))
    with duckdb.connect() as con:
        resolved = resolve_history(con, validated.accepted)
        frames = {"files": parsed.files, "warnings": parsed.file_warnings,
                  "accepted": validated.accepted, "rejected": validated.rejected, "conflicts": resolved.conflicts,
                  "flags": resolved.flags, "history": resolved.history(con),
                  "counts": pd.DataFrame({"cells": [parsed.cell_count], "missing": [validated.missing_cells],
                                          "read_now": [len(parsed.cells)]})}
    return {name: frame.sort_values(list(frame.columns)).reset_index(drop=True) for name, frame in frames.items()}


def assert_same(result: dict[str, pd.DataFrame], reference: dict[str, pd.DataFrame]) -> None:
    for name, frame in reference.items():
        if name == "counts":
            frame, result_frame = frame.drop(columns="read_now"), result[name].drop(columns="read_now")
        else:
            result_frame = result[name]
        pd.testing.assert_frame_equal(result_frame, frame, obj=name)


def test_the_fixture_exercises_every_outcome(raw: Path):
    built = run(raw, None, None)
    assert set(built["files"]["status"]) == {"loaded", "rejected", "duplicate"}
    assert {"zone_name_mismatch", "extension_mismatch"} <= set(built["warnings"]["flag"])
    statuses = dict(zip(built["files"]["path"], built["files"]["status"], strict=True))
    assert statuses["2014/batch-1/kunshan-fix.xls"] == statuses["2014/batch-1/empty (1).xlsx"] == "rejected"
    assert statuses["2014/batch-2/kunshan-fix.csv"] == statuses["2014/batch-1/chengdu.xls"] == "loaded"
    assert {"not_a_number", "negative_value", "year_out_of_range"} <= set(built["rejected"]["reason"])
    assert len(built["conflicts"]) and built["counts"]["missing"][0] > 0
    assert "revised" in set(built["flags"]["flag"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_files_from_the_cache_give_what_reading_gives(raw: Path, tmp_path_factory: pytest.TempPathFactory,
                                                      data: st.DataObject):
    registry = read_registry(raw / "reference" / "zones.csv")
    paths = sorted(list_submissions(raw)["path"])
    cache = ValueCache.open(tmp_path_factory.mktemp("values"), registry, LIMIT)
    for _earlier_run in range(data.draw(st.integers(0, 3))):
        run(raw, set(data.draw(st.lists(st.sampled_from(paths), unique=True))), cache)
    assert_same(run(raw, None, cache), run(raw, None, None))


def test_an_unchanged_file_is_not_read_again(raw: Path, tmp_path: Path):
    registry = read_registry(raw / "reference" / "zones.csv")
    cache = ValueCache.open(tmp_path, registry, LIMIT)
    first = run(raw, None, cache)
    again = run(raw, None, cache)
    assert first["counts"]["read_now"][0] == first["counts"]["cells"][0] > 0
    assert again["counts"]["read_now"][0] == 0
    assert_same(again, first)


def test_the_parse_output_of_a_cached_run_is_what_a_full_read_gives(raw: Path, tmp_path: Path):
    registry = read_registry(raw / "reference" / "zones.csv")
    inventory = list_submissions(raw)
    full = parse_submissions(inventory, raw, registry, LIMIT)
    cache = ValueCache.open(tmp_path, registry, LIMIT)
    run(raw, None, cache)
    parsed = parse_with_cache(inventory, raw, registry, LIMIT, cache)
    assert len(parsed.from_cache) == (full.files["status"] != "duplicate").sum() and not len(parsed.cells)
    assert set(parsed.files["status"]) == {"loaded", "rejected", "duplicate"}
    pd.testing.assert_frame_equal(parsed.files, full.files, check_index_type=True)
    columns = list(full.file_warnings.columns)
    pd.testing.assert_frame_equal(parsed.file_warnings.sort_values(columns, ignore_index=True),
                                  full.file_warnings.sort_values(columns, ignore_index=True))
    assert parsed.cell_count == full.cell_count


def test_entries_lost_between_parsing_and_validating_stop_the_run(raw: Path, tmp_path: Path):
    registry = read_registry(raw / "reference" / "zones.csv")
    cache = ValueCache.open(tmp_path, registry, LIMIT)
    run(raw, None, cache)
    parsed = parse_with_cache(list_submissions(raw), raw, registry, LIMIT, cache)
    shutil.rmtree(cache.folder)  # say, deleted by hand or by a run of another code version meanwhile
    with pytest.raises(CacheChanged, match="materialise parsed_submissions again"):
        validate_with_cache(parsed, list(registry["zone_code"]))


def test_another_registry_or_code_version_starts_afresh(raw: Path, tmp_path: Path, monkeypatch):
    registry = read_registry(raw / "reference" / "zones.csv")
    cache = ValueCache.open(tmp_path, registry, LIMIT)
    run(raw, None, cache)
    renamed = registry.assign(zone_name=registry["zone_name"].where(registry["zone_code"] != KUNSHAN, "昆山市（旧名）"))
    assert ValueCache.open(tmp_path, renamed, LIMIT).folder != cache.folder
    assert not cache.folder.exists()  # the other version's entries are deleted
    monkeypatch.setattr("pipelines.validate.value_cache.code_version", lambda: "a new release")
    assert ValueCache.open(tmp_path, registry, LIMIT).folder != ValueCache.open(tmp_path, renamed, LIMIT).folder


def test_a_half_written_segment_is_ignored(raw: Path, tmp_path: Path):
    registry = read_registry(raw / "reference" / "zones.csv")
    cache = ValueCache.open(tmp_path, registry, LIMIT)
    run(raw, None, cache)
    for outcomes in cache.folder.glob("*.outcomes.parquet"):
        outcomes.rename(outcomes.with_name(f".{outcomes.name}.writing"))  # killed before its last rename
    assert run(raw, None, cache)["counts"]["read_now"][0] > 0


def test_many_segments_are_merged_into_the_entries_in_use(raw: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("pipelines.validate.value_cache.MAX_SEGMENTS", 2)
    registry = read_registry(raw / "reference" / "zones.csv")
    cache = ValueCache.open(tmp_path, registry, LIMIT)
    for path in sorted(list_submissions(raw)["path"]):  # one segment per run
        run(raw, {path}, cache)
        assert len(cache.segments()) <= 2
    everything = run(raw, None, cache)
    assert_same(everything, run(raw, None, None))
    assert len(cache.segments()) <= 2
    assert run(raw, None, cache)["counts"]["read_now"][0] == 0


def test_a_run_after_a_supplementary_batch_publishes_what_a_full_rebuild_publishes(raw: Path, tmp_path: Path):
    from pipelines.runtime.runner import run_pipeline  # imported here: collecting tests needs no Dagster
    from pipelines.runtime.settings import SdzSettings

    growing = tmp_path / "raw"
    shutil.copytree(raw, growing)
    later = {folder: tmp_path / "later" / folder.replace("/", "-") for folder in ("2014/batch-2", "2015")}
    for folder, aside in later.items():
        shutil.move(growing / folder, aside)
    incremental = SdzSettings(raw_dir=str(growing), warehouse=str(tmp_path / "incremental" / "sdz.duckdb"))
    run_pipeline(incremental)
    for folder, aside in later.items():
        shutil.move(aside, growing / folder)
    run_pipeline(incremental)
    assert any(incremental.cache_dir.rglob("*.outcomes.parquet"))
    rebuilt = SdzSettings(raw_dir=str(growing), warehouse=str(tmp_path / "rebuilt" / "sdz.duckdb"), use_cache=False)
    run_pipeline(rebuilt)
    assert not rebuilt.cache_dir.exists()
    with duckdb.connect() as con:
        con.execute(f"attach '{incremental.warehouse_path}' as incremental (read_only)")
        con.execute(f"attach '{rebuilt.warehouse_path}' as rebuilt (read_only)")
        tables = con.execute("select schema_name || '.' || table_name from duckdb_tables() "
                             "where database_name = 'rebuilt' order by 1").fetchall()
        assert len(tables) > 10
        for (table,) in tables:
            one, other = f"incremental.{table}", f"rebuilt.{table}"
            differences = con.execute(f"select count(*) from ((from {one} except all from {other})"
                                      f" union all (from {other} except all from {one}))")
            assert differences.fetchone()[0] == 0, table
