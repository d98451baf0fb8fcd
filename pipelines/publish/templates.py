"""Templates for the zones, written from the published warehouse (`sdz templates`, the `templates` asset).

One workbook per zone expected in a round (the registry's rule, `expected_in_round`), in
`templates/<round>/batch-N/` beside the warehouse:
- batch 1: the values in force at the end of the previous round (mart.observations_as_of) filled in;
- batch 2 (supplementary): the values in force in the round so far, and every cell of the template that
  an open finding of the round names (mart.findings) highlighted with a comment, the cells still not
  reported highlighted as missing; only for the zones with something to correct or complete.
Which values are in force and which findings are open is the SQL models'; this module maps them to cells
of the template (indicator × year), never to the cells of the zone's own file.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.ingest.registry import expected_in_round
from pipelines.publish.feedback import KIND_LABELS
from pipelines.publish.template_workbook import Cell, CellMark, ZoneTemplate, template_workbook
from pipelines.runtime.forked import run_in_parts
from schemas.catalogue import FIRST_YEAR, load_catalogue, load_reason_codes
from schemas.messages import message, number_text

SUPPLEMENTARY = 2
UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f]')  # not allowed in a Windows file name
# From this many workbooks on they are written in parts, one per usable core, by forked processes
# (`runtime.forked`; about 10 ms of CPU a workbook, most of it XlsxWriter's handling of the data validation).
FORK_FROM_WORKBOOKS = 100
# Which kinds of finding are worse: a cell with several is highlighted as the first of them.
SEVERITY = ("rejected", "warning")


class TemplatesError(Exception):
    """The templates asked for cannot be written (no such round in the warehouse, a zone not expected)."""


def templates_folder(output_dir: Path, round_year: int, batch: int) -> Path:
    """`templates/<round>/batch-N/` under `output_dir` (the warehouse's folder)."""
    return output_dir / "templates" / str(round_year) / f"batch-{batch}"


def file_name(zone: ZoneTemplate) -> str:
    """The workbook's file name: zone code and name, round and batch."""
    name = UNSAFE_IN_FILE_NAMES.sub("_", zone.zone_name)
    return f"{zone.zone_code}_{name}_{zone.round}_batch-{zone.batch}.xlsx"


def write_templates(warehouse_path: Path, round_year: int, batch: int = 1, zone_codes: list[str] | None = None,
                    out: Path | None = None) -> list[Path]:
    """Write the templates of `round_year` and `batch` (into `out`, by default `templates_folder` beside the
    warehouse); returns the workbooks written. Batch 2 writes only the zones with something to do."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        zones = zone_templates(con, round_year, batch, zone_codes)
    folder = out or templates_folder(warehouse_path.parent, round_year, batch)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / file_name(zone) for zone in zones]
    run_in_parts(list(zip(zones, paths, strict=True)), write_workbooks, FORK_FROM_WORKBOOKS)
    return paths


def write_workbooks(zones_and_paths: Sequence[tuple[ZoneTemplate, Path]]) -> None:
    """Each zone's template into its path."""
    for zone, path in zones_and_paths:
        path.write_bytes(template_workbook(zone))


def write_supplementary_templates(warehouse_path: Path, output_dir: Path) -> list[Path]:
    """The `templates` asset: the latest round's batch-2 workbooks while batch 1 is its latest batch
    (the folder rewritten, so a zone with nothing left to do keeps no stale workbook); nothing once the
    supplementary batch has arrived."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        latest = con.execute("select round, last_batch from core.rounds where is_latest").fetchone()
    if latest is None or latest[1] != 1:
        return []
    folder = templates_folder(output_dir, latest[0], SUPPLEMENTARY)
    shutil.rmtree(folder, ignore_errors=True)
    return write_templates(warehouse_path, latest[0], SUPPLEMENTARY, out=folder)


def zone_templates(con: duckdb.DuckDBPyConnection, round_year: int, batch: int,
                   zone_codes: list[str] | None = None) -> list[ZoneTemplate]:
    """What each zone's template of the round and batch shows, in zone code order."""
    zones = expected_zones(con, round_year, zone_codes)
    rounds = [number for (number,) in con.execute("select round from core.rounds order by round").fetchall()]
    if batch == 1:
        earlier = [number for number in rounds if number < round_year]
        values = values_in_force(con, earlier[-1]) if earlier else {}
        return [ZoneTemplate(round_year, batch, code, name, values.get(code, {})) for code, name in zones]
    if round_year not in rounds:
        raise TemplatesError(f"round {round_year} has no batch in the warehouse: a supplementary batch follows the "
                             f"first (rounds in the warehouse: {', '.join(map(str, rounds)) or 'none'})")
    values = values_in_force(con, round_year)
    marks, file_findings = open_findings(con, round_year)
    cells = {(indicator, year) for indicator in load_catalogue().indicators for year in range(FIRST_YEAR, round_year)}
    templates = []
    for code, name in zones:
        zone_values, zone_marks = values.get(code, {}), marks.get(code, {})
        missing = cells - set(zone_values) - set(zone_marks)
        zone = ZoneTemplate(round_year, batch, code, name, zone_values, zone_marks, missing,
                            file_findings.get(code, 0))
        if zone.marks or zone.missing or zone.file_findings:
            templates.append(zone)
    return templates


def expected_zones(con: duckdb.DuckDBPyConnection, round_year: int,
                   zone_codes: list[str] | None) -> list[tuple[str, str]]:
    """(code, name) of the zones the registry expects in the round, or of `zone_codes` among them."""
    registry = con.execute("select zone_code, zone_name, designated_year, removed_year from core.zones "
                           "order by zone_code").df()
    expected = registry[expected_in_round(registry, round_year)]
    if zone_codes:
        wanted = [code.strip().upper() for code in zone_codes]
        unknown = sorted(set(wanted) - set(expected["zone_code"]))
        if unknown:
            raise TemplatesError(f"not expected in round {round_year} by the registry: {', '.join(unknown)}")
        expected = expected[expected["zone_code"].isin(wanted)]
    return list(zip(expected["zone_code"], expected["zone_name"], strict=True))


def values_in_force(con: duckdb.DuckDBPyConnection, round_year: int) -> dict[str, dict[Cell, float]]:
    """zone → (indicator, year) → the value in force at the end of the round (mart.observations_as_of)."""
    rows = con.execute("select zone_code, indicator_id, year, value from mart.observations_as_of where round = ?",
                       [round_year]).fetchall()
    values: dict[str, dict[Cell, float]] = {}
    for zone_code, indicator_id, year, value in rows:
        values.setdefault(zone_code, {})[(indicator_id, year)] = value
    return values


FINDINGS_SQL = """
select f.kind, f.code, f.zone_code, f.feedback_zone, f.indicator_id, f.year, f.raw_value, f.detail,
    f.indicator_id is not null and f.year between r.first_year and r.last_year and i.indicator_id is not null
        and f.kind <> 'refused_file' as names_a_cell
from mart.findings as f
inner join core.rounds as r using (round)
left join core.indicators as i using (indicator_id)
where f.round = ? and f.is_open
order by f.batch, f.path, f.source_cell, f.code
"""


def open_findings(con: duckdb.DuckDBPyConnection, round_year: int) -> tuple[dict[str, dict[Cell, CellMark]],
                                                                           dict[str, int]]:
    """The round's open findings (mart.findings): zone → cell → its mark, for those naming a cell of the
    template, and zone → how many name none (a file refused whole, a file-level warning)."""
    findings = con.execute(FINDINGS_SQL, [round_year]).df()
    on_cells = findings[findings["names_a_cell"].fillna(False).astype(bool)]
    others = findings.drop(on_cells.index).dropna(subset=["feedback_zone"])
    marks: dict[str, dict[Cell, CellMark]] = {}
    for (zone_code, indicator_id, year), group in on_cells.groupby(["zone_code", "indicator_id", "year"], sort=True):
        ranked = group.sort_values("kind", key=lambda kinds: kinds.map(SEVERITY.index), kind="stable")
        comment = "\n\n".join(finding_comment(finding) for finding in ranked.itertuples(index=False))
        marks.setdefault(zone_code, {})[(int(indicator_id), int(year))] = CellMark(ranked["kind"].iloc[0], comment)
    return marks, others.groupby("feedback_zone").size().to_dict()


def finding_comment(finding: pd.Series) -> str:
    """A cell comment for one finding: its kind and reason, the value received, the detail, what to correct."""
    reason = load_reason_codes()[finding.code]
    raw = "" if pd.isna(finding.raw_value) else finding.raw_value
    if finding.kind == "warning" and raw:  # the value loaded, as a spreadsheet shows it (not 240990000.0)
        raw = number_text(float(raw))
    lines = [f"【{KIND_LABELS[finding.kind]}】{reason.zh} / {reason.en}", message("template_received", raw=raw)]
    if not pd.isna(finding.detail) and finding.detail:
        lines.append(f"说明 detail：{finding.detail}")
    lines.append(f"修改建议 what to correct：{reason.action_zh} / {reason.action_en}")
    return "\n".join(lines)
