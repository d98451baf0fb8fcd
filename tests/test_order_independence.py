"""The order in which files are listed never changes a result (property-based: shuffled listings)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.inventory import inventory_of, list_submissions
from pipelines.ingest.parse import parse_submissions
from pipelines.ingest.registry import read_registry
from pipelines.load.precedence import resolve_history
from pipelines.validate.rules import validate_cells

REGISTRY = (
    "zone_code,zone_name,province_code,zone_type,type_evaluation\n"
    "320583,江苏省苏州市昆山市,32,county,true\n"
    "410902,河南省濮阳市华龙区,41,district,true\n"
)


def long_csv(rows: list[tuple]) -> str:
    return "zone_code,indicator,year,value\n" + "".join(",".join(map(str, row)) + "\n" for row in rows)


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two rounds, two batches, duplicates, conflicts, revisions and jumps across several files; copies
    of a loaded file (one with a copy marker that sorts first), of a refused one and of an empty one."""
    raw = tmp_path_factory.mktemp("order") / "raw"
    (raw / "reference").mkdir(parents=True)
    (raw / "reference" / "zones.csv").write_text(REGISTRY, encoding="utf-8")
    files = {
        "2014/batch-1/a.csv": [(320583, 1, y, 100 + y - 2009) for y in range(2009, 2014)],
        "2014/batch-1/b.csv": [(320583, 1, 2011, 999), (410902, 2, 2010, 3.5), (410902, 2, 2011, "x")],
        "2014/batch-1/c.csv": [(410902, 2, 2010, 3.5), (410902, 7, 2012, 50000)],
        "2014/batch-1/c_copy.csv": [(410902, 2, 2010, 3.5), (410902, 7, 2012, 50000)],
        "2014/batch-2/d.csv": [(320583, 1, 2012, 500), (410902, 2, 2011, 3.6)],
        "2014/batch-2/sub/e.csv": [(410902, 7, 2013, 5)],
        "2015/batch-1/f.csv": [(320583, 1, 2014, 130), (320583, 1, 2012, 104)],
    }
    for name, rows in files.items():
        path = raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(long_csv(rows), encoding="utf-8")
    copies = {"2014/batch-1/a (1).csv": "2014/batch-1/a.csv", "2014/batch-1/g.xls": "2014/batch-2/sub/e.csv",
              "2015/batch-1/f - 副本.csv": "2015/batch-1/f.csv"}
    for copy, original in copies.items():
        (raw / copy).write_bytes((raw / original).read_bytes())
    for empty in ("2014/batch-1/empty.csv", "2014/batch-2/empty (1).csv"):
        (raw / empty).write_bytes(b"")
    return raw


def build(raw: Path, entries: list) -> dict[str, pd.DataFrame]:
    """Everything a run computes from these entries, as sorted frames."""
    registry = read_registry(raw / "reference" / "zones.csv")
    parsed = parse_submissions(inventory_of(entries, raw), raw, registry)
    validated = validate_cells(parsed.cells, list(registry["zone_code"]))
    with duckdb.connect() as con:
        resolved = resolve_history(con, validated.accepted)
        frames = {"files": parsed.files, "rejected": validated.rejected, "conflicts": resolved.conflicts,
                  "flags": resolved.flags, "history": resolved.history(con), "observations": resolved.observations(con)}
    return {name: frame.sort_values(list(frame.columns)).reset_index(drop=True) for name, frame in frames.items()}


def listing(raw: Path) -> list:
    inventory = list_submissions(raw)
    return [(raw / path, path, round_year, batch)
            for path, round_year, batch in inventory[["path", "round", "batch"]].itertuples(index=False)]


def test_the_fixture_exercises_every_rule(raw: Path):
    built = build(raw, listing(raw))
    statuses = dict(zip(built["files"]["path"], built["files"]["status"], strict=True))
    assert statuses["2014/batch-1/a.csv"] == statuses["2014/batch-2/sub/e.csv"] == "loaded"
    assert statuses["2014/batch-1/a (1).csv"] == statuses["2015/batch-1/f - 副本.csv"] == "duplicate"
    assert statuses["2014/batch-1/g.xls"] == statuses["2014/batch-1/empty.csv"] == "rejected"
    assert set(built["conflicts"]["reason"]) == {"conflicting_duplicate"}
    assert {"revised", "suspicious_jump"} <= set(built["flags"]["flag"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_shuffled_listings_give_identical_results(raw: Path, data: st.DataObject):
    entries = listing(raw)
    reference = build(raw, entries)
    shuffled = data.draw(st.permutations(entries))
    result = build(raw, list(shuffled))
    for name, frame in reference.items():
        pd.testing.assert_frame_equal(result[name], frame, obj=name)


def test_reading_in_parallel_gives_what_reading_in_turn_gives(raw: Path, tmp_path: Path):
    from pipelines.ingest.parse import read_all
    from pipelines.ingest.submission import FileRejected, ZoneLookup

    registry = read_registry(raw / "reference" / "zones.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    files = [(raw / path, file_format) for path, file_format in list_submissions(raw)[["path", "file_format"]]
             .itertuples(index=False) if (raw / path).stat().st_size and file_format == "csv"]
    files.append((tmp_path / "broken.xlsx", "workbook"))
    zones = ZoneLookup.from_registry(registry)
    in_turn = read_all(files, zones, 1 << 20, parallel_from=10_000)
    in_parallel = read_all(files, zones, 1 << 20, parallel_from=1)
    assert isinstance(in_parallel[-1], FileRejected) and in_parallel[-1].reason == in_turn[-1].reason
    for serial, parallel in zip(in_turn[:-1], in_parallel[:-1], strict=True):
        assert parallel.cells.equals(serial.cells)
        assert parallel.zone_code == serial.zone_code
