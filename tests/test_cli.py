"""The `sdz` console script as stewards use it (contract 1, 6): exit statuses, what it prints,
and the feedback workbooks a run leaves beside the warehouse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from pipelines.publish.feedback import write_feedback
from schemas.catalogue import load_reason_codes
from tests.builders import (
    CHENGGUAN,
    DEFAULT_ZONES,
    HUALONG,
    KUNSHAN,
    batch_dir,
    long_rows,
    plausible_values,
    write_csv,
    write_registry,
    write_workbook,
)

SDZ = Path(sys.executable).with_name("sdz")
REASONS = load_reason_codes()


def sdz(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """Run the console script with a wide terminal and no SDZ_* variables from the caller."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SDZ_")}
    env.update({"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"})
    return subprocess.run([str(SDZ), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def line_with(output: str, *parts: str) -> str | None:
    """The first output line holding every part, or None."""
    return next((line for line in output.splitlines() if all(part in line for part in parts)), None)


def problem_rows(output: str) -> list[dict[str, str]]:
    """The rows of the printed problem table, header -> text, with cells folded over several lines
    joined again (a row starts where the `cell` column is filled)."""
    header, rows = None, []
    for line in output.splitlines():
        if line.startswith("┃") and header is None:
            header = [part.strip() for part in line.strip("┃").split("┃")]
        elif line.startswith("│") and header:
            parts = [part.strip() for part in line.strip("│").split("│")]
            if parts[header.index("cell")] or not rows:
                rows.append({name: "" for name in header})
            for name, part in zip(header, parts, strict=True):
                rows[-1][name] += part
        elif line.startswith("└") and header:
            break
    return rows


# --- sdz validate ----------------------------------------------------------------------------

@pytest.fixture
def raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write_registry(raw)
    return raw


def test_validate_clean_file(raw: Path) -> None:
    path = write_workbook(batch_dir(raw) / "kunshan.xlsx", values=plausible_values(0))
    result = sdz("validate", path, cwd=raw.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert line_with(result.stdout, "kunshan.xlsx", KUNSHAN, "80")


def test_validate_reports_every_problem(raw: Path) -> None:
    values = plausible_values(0)
    values[3][2009] = "abc"
    values[2][2010] = -1
    workbook = write_workbook(batch_dir(raw) / "kunshan.xlsx", values=values)
    csv = write_csv(batch_dir(raw) / "hualong.csv", long_rows(HUALONG, {1: {2009: 100, 2010: "1,0,0x"}}))
    result = sdz("validate", workbook.relative_to(raw.parent), csv.relative_to(raw.parent), cwd=raw.parent)
    assert result.returncode == 1, result.stdout + result.stderr
    problems = {(row["file"], row["sheet"], row["cell"], row["raw value"], row["reason"])
                for row in problem_rows(result.stdout)}
    assert problems == {
        ("raw/2014/batch-1/kunshan.xlsx", "监测数据", "F8", "abc", "not_a_number"),
        ("raw/2014/batch-1/kunshan.xlsx", "监测数据", "G7", "-1", "negative_value"),
        ("raw/2014/batch-1/hualong.csv", "", "line 3", "1,0,0x", "not_a_number"),
    }, result.stdout


def test_validate_file_rejected_whole(raw: Path) -> None:
    path = write_workbook(batch_dir(raw) / "nobody.xlsx", zone_code="", zone_name="")
    result = sdz("validate", path, cwd=raw.parent)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert line_with(result.stdout, "nobody.xlsx", "zone_not_identified"), result.stdout


def test_validate_missing_file(raw: Path) -> None:
    result = sdz("validate", batch_dir(raw) / "absent.xlsx", cwd=raw.parent)
    assert result.returncode == 2
    assert "absent.xlsx" in result.stderr


# --- sdz run ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One `sdz run` over a batch with problems in two zones, one clean zone and one not expected."""
    base = tmp_path_factory.mktemp("cli_run")
    raw = base / "raw"
    write_registry(raw)
    values = plausible_values(0)
    values[3][2009] = "abc"
    write_workbook(batch_dir(raw) / "kunshan.xlsx", values=values)
    write_csv(batch_dir(raw) / "hualong.csv", long_rows(HUALONG, plausible_values(1)))
    write_csv(batch_dir(raw) / "fixes.csv", [
        (KUNSHAN, 1, 2010, "=1+2", "万元", ""),  # line 2
        (KUNSHAN, 1, 2011, "@SUM(A1)", "万元", ""),  # line 3
        (KUNSHAN, 2, 2011, "+5%x", "%", ""),  # line 4
    ])
    write_csv(batch_dir(raw) / "chengguan.csv", long_rows(CHENGGUAN, {1: {2009: 100}}))
    warehouse = base / "out" / "sdz.duckdb"
    result = sdz("run", "--raw", raw, "--warehouse", warehouse, cwd=base)
    return result, warehouse


def test_run_with_rejections_succeeds(run) -> None:
    result, warehouse = run
    assert result.returncode == 0, result.stdout + result.stderr
    assert warehouse.is_file()


def test_run_prints_the_summary(run) -> None:
    result, _ = run
    # round, batch, files loaded / rejected / duplicate, values accepted / rejected / flagged
    assert line_with(result.stdout, "2014", "1", " 4 ", " 0 ", " 160 ", " 4 "), result.stdout
    assert line_with(result.stdout, "not_a_number", " 4 ", REASONS["not_a_number"].zh), result.stdout
    assert line_with(result.stdout, "zone_not_expected", "1"), result.stdout


def feedback_rows(path: Path) -> list[list]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return [list(row) for row in sheet.iter_rows()]


def test_feedback_only_for_zones_with_findings(run) -> None:
    _, warehouse = run
    folder = warehouse.parent / "feedback" / "2014" / "batch-1"
    assert sorted(path.name for path in folder.iterdir()) == sorted([f"{CHENGGUAN}.xlsx", f"{KUNSHAN}.xlsx"])


@pytest.mark.parametrize(("file", "sheet", "cell", "raw_value", "reason"), [
    ("kunshan.xlsx", "监测数据", "F8", "abc", "not_a_number"),
    ("fixes.csv", None, "line 2", "=1+2", "not_a_number"),
    ("fixes.csv", None, "line 3", "@SUM(A1)", "not_a_number"),
    ("fixes.csv", None, "line 4", "+5%x", "not_a_number"),
])
def test_feedback_lists_each_problem(run, file, sheet, cell, raw_value, reason) -> None:
    _, warehouse = run
    rows = feedback_rows(warehouse.parent / "feedback" / "2014" / "batch-1" / f"{KUNSHAN}.xlsx")
    matching = [row for row in rows if any(c.value == raw_value for c in row) and any(c.value == cell for c in row)]
    assert len(matching) == 1, [[c.value for c in row] for row in rows]
    texts = [str(c.value) for c in matching[0] if c.value is not None]
    assert any(file in text for text in texts)
    if sheet:
        assert sheet in texts
    assert REASONS[reason].zh in texts and REASONS[reason].en in texts
    assert REASONS[reason].action_zh in texts and REASONS[reason].action_en in texts
    # text that a spreadsheet would evaluate stays text
    raw_cell = next(c for c in matching[0] if c.value == raw_value)
    assert raw_cell.data_type == "s"


def test_feedback_is_byte_reproducible(run, tmp_path: Path) -> None:
    """Writing the feedback again from the same warehouse, later, gives the run's files byte for byte."""
    _, warehouse = run
    written = write_feedback(warehouse, tmp_path)
    assert len(written) == 2
    for path in written:
        relative = path.relative_to(tmp_path)
        assert path.read_bytes() == (warehouse.parent / relative).read_bytes(), relative


def test_feedback_for_a_warning(run) -> None:
    _, warehouse = run
    rows = feedback_rows(warehouse.parent / "feedback" / "2014" / "batch-1" / f"{CHENGGUAN}.xlsx")
    texts = {str(c.value) for row in rows for c in row if c.value is not None}
    assert REASONS["zone_not_expected"].zh in texts and REASONS["zone_not_expected"].en in texts


def test_run_without_raw_folder(tmp_path: Path) -> None:
    result = sdz("run", "--raw", tmp_path / "nowhere", "--warehouse", tmp_path / "out" / "sdz.duckdb", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere" in result.stderr
    assert not (tmp_path / "out" / "sdz.duckdb").exists()


def test_run_with_invalid_registry(raw: Path) -> None:
    zones = [dict(zone) for zone in DEFAULT_ZONES]
    zones[2]["province_code"] = "99"  # data row 3: line 4
    write_registry(raw, zones)
    write_workbook(batch_dir(raw) / "kunshan.xlsx")
    warehouse = raw.parent / "out" / "sdz.duckdb"
    result = sdz("run", "--raw", raw, "--warehouse", warehouse, cwd=raw.parent)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "row 4" in message and "province_code" in message
    assert not warehouse.exists()
