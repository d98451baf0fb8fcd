"""A small version of `make bench` as a regression guard on ratios, not absolute times.

Reading and validating 300 zones' submissions (148,800 values) is compared with the bare engine on
the same files, on the same machine, in the same process:
- CSVs against DuckDB's read_csv. When this was row-by-row Python the ratio was about 50;
  vectorised it was about 10, and with the CSVs read together in one Arrow pass it is 2.5-4.
- Workbooks against python-calamine's read of every data sheet: about 11 (measured 2026-11-29),
  0.7 s of which is starting the reading processes.
The bounds catch a return to row loops without failing on a slow or busy machine.

And `sdz run` in fresh processes, as a user starts it, against a full run of the same folder:
- the floor, a run with nothing new under raw/: about 0.2-0.3 of a full run of 300 zones (2 s against
  7-10 s, measured 2026-12-02); before it recorded a small run instead of rebuilding, about 0.7-1.
- the load step after a supplementary batch touching 5 % of the zones, as a delta on the published
  warehouse against a full load of the same files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from python_calamine import CalamineWorkbook

from benchmarks.national_data import generate
from pipelines.ingest.inventory import list_submissions
from pipelines.ingest.parse import parse_submissions
from pipelines.ingest.registry import read_registry
from pipelines.validate.rules import validate_cells

MAX_RATIO = 30
MAX_WORKBOOK_RATIO = 25
MAX_FLOOR_SHARE = 0.6


def test_reading_and_validating_stays_close_to_a_bare_duckdb_load(tmp_path: Path):
    raw = generate(tmp_path, 300, "csv")
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_csv('{raw}/2040/batch-1/*.csv', header = true)")
        bare_rows = con.execute("select count(*) from t").fetchone()[0]
    bare = time.perf_counter() - started

    ours, validated = _parse_and_validate(raw)

    assert len(validated.accepted) == bare_rows == 300 * 16 * 31
    assert len(validated.rejected) == 0
    ratio = ours / bare
    assert ratio < MAX_RATIO, f"parse + validate took {ours:.2f} s, {ratio:.1f}× the bare load ({bare:.2f} s)"


def test_reading_and_validating_workbooks_stays_close_to_a_bare_calamine_read(tmp_path: Path):
    raw = generate(tmp_path, 300, "workbook")
    started = time.perf_counter()
    bare_rows = 0
    for path in sorted((raw / "2040" / "batch-1").glob("*.xlsx")):
        workbook = CalamineWorkbook.from_path(str(path))
        bare_rows += len(workbook.get_sheet_by_index(0).to_python())
        workbook.close()
    bare = time.perf_counter() - started

    ours, validated = _parse_and_validate(raw)

    assert bare_rows > 300 * 16 and len(validated.accepted) == 300 * 16 * 31
    assert len(validated.rejected) == 0
    ratio = ours / bare
    assert ratio < MAX_WORKBOOK_RATIO, \
        f"parse + validate took {ours:.2f} s, {ratio:.1f}× the bare calamine read ({bare:.2f} s)"


def _parse_and_validate(raw: Path):
    started = time.perf_counter()
    registry = read_registry(raw / "reference" / "zones.csv")
    parsed = parse_submissions(list_submissions(raw), raw, registry)
    validated = validate_cells(parsed.cells, list(registry["zone_code"]))
    return time.perf_counter() - started, validated


def timed_sdz_run(raw: Path, warehouse: Path) -> float:
    """Wall seconds of `sdz run` in a fresh process."""
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("sdz")), "run", "--raw", str(raw), "--warehouse",
                    str(warehouse)], check=True, capture_output=True, timeout=600,
                   env={key: value for key, value in os.environ.items() if not key.startswith("SDZ_")})
    return time.perf_counter() - started


def test_a_run_with_nothing_new_costs_a_fraction_of_a_full_run(tmp_path: Path):
    from dagster import DagsterInstance

    raw, warehouse = generate(tmp_path, 300, "csv"), tmp_path / "warehouse" / "sdz.duckdb"
    full = timed_sdz_run(raw, warehouse)
    floor = timed_sdz_run(raw, warehouse)
    with DagsterInstance.from_config(str(warehouse.parent / ".dagster")) as instance:
        assert [run.job_name for run in instance.get_runs(limit=2)] == ["sdz_unchanged", "sdz_run"]
    assert floor / full < MAX_FLOOR_SHARE, f"nothing new took {floor:.2f} s, {floor / full:.2f} of a full run"


# At 300 zones a delta's fixed part (copying the warehouse, about 20 DuckDB statements) weighs: 0.35-0.65
# measured on a busy 2-core machine, against 1.0 for a delta doing a full load's work.
MAX_DELTA_SHARE = 0.75


def test_a_supplementary_batch_applied_as_a_delta_costs_a_fraction_of_a_full_load(tmp_path: Path):
    """Loading after a batch resubmitting 5 % of 300 zones: as a delta on the published warehouse against
    building the core tables from every file (at 2,850 zones: 1.9 s against 11.5 s, 2026-12-02)."""
    from benchmarks.national_data import write_supplementary
    from tests.warehouse_builds import load, load_inputs, time_loads

    raw = generate(tmp_path, 300, "csv")
    published = tmp_path / "sdz.duckdb"
    load(load_inputs(raw), published, published, incremental=False)  # the core tables are all a delta reads
    write_supplementary(raw, 0.05, "csv")
    full, delta = time_loads(load_inputs(raw), published)
    assert delta < MAX_DELTA_SHARE * full, f"the delta took {delta:.2f} s, the full load {full:.2f} s"
