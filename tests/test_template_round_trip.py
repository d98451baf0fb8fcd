"""The round trip with the zones (property-based): templates written from the warehouse, filled in as a zone
would (openpyxl, with injected errors), ingested; the supplementary batch's workbooks highlight exactly the
injected errors and the cells still missing; filling those in takes coverage to 100 %."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.publish.templates import templates_folder, write_templates
from schemas.catalogue import FIRST_YEAR, load_catalogue
from schemas.template import load_template
from tests.builders import batch_dir, plausible_values, write_registry, write_workbook

CATALOGUE = load_catalogue()
TEMPLATE = load_template()
PROVINCES = ("11", "32", "41", "51", "62")
ZONE_TYPES = ("county", "district", "prefecture", "township")
FIRST_ROUND, ROUND = 2014, 2015
Cell = tuple[int, int]


@dataclass
class Zone:
    code: str
    name: str
    designated: int
    seed: int
    reported_first_round: dict[Cell, float] = field(default_factory=dict)  # what round 2014 loaded


def zones_strategy() -> st.SearchStrategy[list[Zone]]:
    """Two to four zones, designated before the first round, before the second only, or after both."""
    zone = st.tuples(st.sampled_from(PROVINCES), st.integers(0, 9999), st.sampled_from([2008, 2012, 2014, 2015]),
                     st.integers(0, 10_000))
    return st.lists(zone, min_size=2, max_size=4, unique_by=lambda z: z[:2]).map(
        lambda drawn: [Zone(f"{province}{number:04d}", f"测试实验区{i}", designated, seed)
                       for i, (province, number, designated, seed) in enumerate(drawn)])


def run(raw: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """`sdz run` in-process; a read-only connection to the published warehouse."""
    from pipelines.runtime.runner import run_pipeline
    from pipelines.runtime.settings import SdzSettings

    run_pipeline(SdzSettings(raw_dir=str(raw), warehouse=str(warehouse)))
    return duckdb.connect(str(warehouse), read_only=True)


def value_cells(sheet) -> dict[Cell, object]:
    """(indicator, year) → the cell's (openpyxl) coordinate on a template's data sheet."""
    header = TEMPLATE.header_row
    years = {cell.column: cell.value for cell in sheet[header] if isinstance(cell.value, int)}
    return {(int(sheet.cell(row, 1).value), year): sheet.cell(row, column)
            for row in range(header + 1, header + 1 + len(CATALOGUE.indicators)) for column, year in years.items()}


def bad_value(rng: random.Random, indicator_id: int, truth: float) -> tuple[object, str]:
    """An entry the value rules refuse, and the reason."""
    choices = [("待核实", "not_a_number"), (-truth - 1, "negative_value")]
    limit = CATALOGUE.indicators[indicator_id].upper_limit
    if limit:
        choices.append((limit + 1 + truth, "out_of_range"))
    return rng.choice(choices)


@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(zones=zones_strategy(), gaps=st.integers(0, 6), errors=st.integers(0, 3), fill_gaps=st.booleans())
@example(zones=[Zone("320001", "测试实验区0", 2008, 1), Zone("410002", "测试实验区1", 2014, 2),
                Zone("510003", "测试实验区2", 2015, 3), Zone("620004", "测试实验区3", 2012, 4)],
         gaps=4, errors=3, fill_gaps=False)
def test_templates_round_trip(zones: list[Zone], gaps: int, errors: int, fill_gaps: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        round_trip(Path(folder), zones, gaps, errors, fill_gaps)


def round_trip(folder: Path, zones: list[Zone], gaps: int, errors: int, fill_gaps: bool) -> None:
    raw, warehouse = folder / "raw", folder / "warehouse" / "sdz.duckdb"
    write_registry(raw, [{"zone_code": z.code, "zone_name": z.name, "province_code": z.code[:2],
                          "zone_type": ZONE_TYPES[i % 4], "type_evaluation": "true",
                          "designated_year": str(z.designated), "removed_year": ""} for i, z in enumerate(zones)])
    truth = {z.code: plausible_values(z.seed, range(FIRST_YEAR, ROUND)) for z in zones}
    # Round 2014: the zones expected then send their series with a few gaps.
    for zone in (z for z in zones if z.designated < FIRST_ROUND):
        rng = random.Random(zone.seed)
        sent = {i: {y: truth[zone.code][i][y] for y in range(FIRST_YEAR, FIRST_ROUND)} for i in truth[zone.code]}
        for indicator_id, year in rng.sample(sorted((i, y) for i in sent for y in sent[i]), gaps):
            del sent[indicator_id][year]
        zone.reported_first_round = {(i, y): v for i, row in sent.items() for y, v in row.items()}
        write_workbook(batch_dir(raw, FIRST_ROUND) / f"{zone.code}.xlsx", zone_code=zone.code, zone_name=zone.name,
                       years=range(FIRST_YEAR, FIRST_ROUND), values=sent)
    run(raw, warehouse).close()

    # Round 2015, batch 1: one template per zone expected, the values in force filled in.
    expected = [z for z in zones if z.designated < ROUND]
    written = write_templates(warehouse, ROUND, 1)
    assert sorted(path.name.split("_")[0] for path in written) == sorted(z.code for z in expected)
    filled: dict[tuple[str, int, int], float] = {}
    injected: dict[tuple[str, int, int], str] = {}
    for zone, path in zip(sorted(expected, key=lambda z: z.code), sorted(written), strict=True):
        book = openpyxl.load_workbook(path)
        cells = value_cells(book[TEMPLATE.data_sheet])
        prefilled = {key: cell.value for key, cell in cells.items() if cell.value is not None}
        assert prefilled == zone.reported_first_round
        rng = random.Random(zone.seed + 1)
        to_fill = [key for key in cells if key[1] == ROUND - 1 or (fill_gaps and key not in prefilled)]
        wrong = set(rng.sample(to_fill, min(errors, len(to_fill))))
        for key in to_fill:
            value = truth[zone.code][key[0]][key[1]]
            if key in wrong:
                value, reason = bad_value(rng, key[0], value)
                injected[(zone.code, *key)] = reason
            else:
                filled[(zone.code, *key)] = value
            cells[key].value = value
        filled |= {(zone.code, *key): value for key, value in prefilled.items()}
        book.save(batch_dir(raw, ROUND) / path.name)
    con = run(raw, warehouse)
    in_force = {(z, i, y): v for z, i, y, v in con.execute(
        "select zone_code, indicator_id, year, value from mart.observations_as_of where round = ?", [ROUND]).fetchall()}
    assert in_force == filled
    rejected = {(z, i, y): reason for z, i, y, reason in con.execute(
        "select zone_code, indicator_id, year, reason from core.rejected_values where round = ?", [ROUND]).fetchall()}
    assert rejected == injected
    identities = con.execute("select zone_code, template from core.submission_files where round = ?",
                             [ROUND]).fetchall()
    assert sorted(identities) == sorted((z.code, f"{ROUND}/batch-1/{z.code}/v1") for z in expected)
    con.close()

    # Batch 2: the run wrote a workbook for every zone with an error or a gap, highlighting exactly those.
    every_cell = {(z.code, i, y) for z in expected for i in CATALOGUE.indicators for y in range(FIRST_YEAR, ROUND)}
    missing = every_cell - set(filled) - set(injected)
    supplementary = sorted(templates_folder(warehouse.parent, ROUND, 2).glob("*.xlsx"))
    assert {path.name.split("_")[0] for path in supplementary} == {key[0] for key in missing | set(injected)}
    colours = {kind: "FF" + colour.lstrip("#").upper() for kind, colour in TEMPLATE.written.highlight.items()}
    for path in supplementary:
        book = openpyxl.load_workbook(path)
        code = path.name.split("_")[0]
        cells = value_cells(book[TEMPLATE.data_sheet])
        commented = {(code, *key) for key, cell in cells.items() if cell.comment}
        red = {(code, *key) for key, cell in cells.items() if cell.fill.fgColor.rgb == colours["rejected"]}
        grey = {(code, *key) for key, cell in cells.items() if cell.fill.fgColor.rgb == colours["missing"]}
        assert commented == red == {key for key in injected if key[0] == code}
        assert grey == {key for key in missing if key[0] == code}
        for key in commented:
            assert str(cells[key[1:]].comment.text).count("收到的值") == 1
        for key in red | grey:  # the zone corrects and completes, then returns the same file
            cells[key[1:]].value = truth[code][key[1]][key[2]]
        book.save(batch_dir(raw, ROUND, 2) / path.name)
    con = run(raw, warehouse)
    coverage = con.execute("select min(coverage_pct) from mart.coverage where round = ? and batch = 2",
                           [ROUND]).fetchone()[0]
    assert coverage == 100 or not (missing or injected)
    open_cells = con.execute("select count(*) from mart.findings where round = ? and is_open", [ROUND]).fetchone()[0]
    assert open_cells == 0
    con.close()
