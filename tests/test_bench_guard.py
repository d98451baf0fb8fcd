"""A small version of `make bench` as a regression guard on ratios, not absolute times.

Reading and validating 300 zones' CSVs (148,800 values) is compared with DuckDB's bare read_csv of
the same files on the same machine in the same process. When this was row-by-row Python the ratio
was about 50; vectorised it is about 10. The bound catches a return to row loops without failing
on a slow or busy machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from benchmarks.national_data import generate
from pipelines.inventory import list_submissions
from pipelines.parse import parse_submissions
from pipelines.registry import read_registry
from pipelines.validation import validate_cells

MAX_RATIO = 30


def test_reading_and_validating_stays_close_to_a_bare_duckdb_load(tmp_path: Path):
    raw = generate(tmp_path, 300, "csv")
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_csv('{raw}/2040/batch-1/*.csv', header = true)")
        bare_rows = con.execute("select count(*) from t").fetchone()[0]
    bare = time.perf_counter() - started

    started = time.perf_counter()
    registry = read_registry(raw / "reference" / "zones.csv")
    parsed = parse_submissions(list_submissions(raw), raw, registry)
    validated = validate_cells(parsed.cells, list(registry["zone_code"]))
    ours = time.perf_counter() - started

    assert len(validated.accepted) == bare_rows == 300 * 16 * 31
    assert len(validated.rejected) == 0
    ratio = ours / bare
    assert ratio < MAX_RATIO, f"parse + validate took {ours:.2f} s, {ratio:.1f}× the bare load ({bare:.2f} s)"
