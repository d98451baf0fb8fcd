"""The `sdz` console script as stewards and analysts use it: exit statuses, what it prints, the
feedback workbooks a run leaves beside the warehouse, other method files, and `sdz sql`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import pty
import subprocess
import sys
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml
from rich.console import Console

from pipelines.publish.feedback import write_feedback
from pipelines.runtime.sql_prompt import ResultPrinter, open_warehouse, prompt
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
DEFAULT_METHOD = Path(str(files("schemas") / "methods" / "default.yaml"))
REASONS = load_reason_codes()


def sdz(*args: object, cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    """Run the console script with a wide terminal and no SDZ_* variables from the caller but `env`'s."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SDZ_")}
    environment.update({"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb", **(env or {})})
    return subprocess.run([str(SDZ), *map(str, args)], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=300, input=stdin)


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
    assert result.stderr == ""  # no library warning reaches the steward (pandas once warned of an empty concat)


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


def test_validate_shows_a_file_level_warning_alone(raw: Path) -> None:
    # A file whose only warning names no cell (here the zone's name differs from the registry's) once crashed
    # `sdz validate`: such warnings have no indicator or year column.
    path = write_workbook(batch_dir(raw) / "kunshan.xlsx", zone_name="别的实验区")
    result = sdz("validate", path.relative_to(raw.parent), cwd=raw.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert line_with(result.stdout, "kunshan.xlsx", "zone_name_mismatch"), result.stdout


def test_validate_lists_the_lines_of_a_csv_with_a_mistyped_zone_code(raw: Path) -> None:
    # A CSV holding two zone codes once crashed `sdz validate` ("boolean value of NA is ambiguous").
    rows = long_rows(HUALONG, plausible_values(1))
    rows[3] = ("41O902", *rows[3][1:])
    path = write_csv(batch_dir(raw) / "hualong.csv", rows)
    result = sdz("validate", path.relative_to(raw.parent), cwd=raw.parent)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert line_with(result.stdout, "hualong.csv", "(several)", "79 values accepted, 1 rejected"), result.stdout
    assert [(row["cell"], row["reason"]) for row in problem_rows(result.stdout)] == [("line 5", "unknown_zone")]


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
    assert "line 4" in message and "province_code" in message
    assert not warehouse.exists()


def test_a_run_with_nothing_new_rebuilds_nothing_and_a_new_file_rebuilds(raw: Path) -> None:
    write_workbook(batch_dir(raw) / "kunshan.xlsx", values=plausible_values(0))
    warehouse = raw.parent / "out" / "sdz.duckdb"
    runs = []
    for _ in range(2):
        runs.append(sdz("run", "--raw", raw, "--warehouse", warehouse, cwd=raw.parent))
        assert runs[-1].returncode == 0, runs[-1].stdout + runs[-1].stderr
    assert "not rebuilt" not in runs[0].stdout and "not rebuilt" in runs[1].stdout
    assert line_with(runs[1].stdout, "Feedback workbooks written") == line_with(runs[0].stdout,
                                                                                  "Feedback workbooks written")
    write_workbook(batch_dir(raw) / "hualong.xlsx", zone_code=HUALONG, values=plausible_values(1))
    third = sdz("run", "--raw", raw, "--warehouse", warehouse, cwd=raw.parent)
    assert third.returncode == 0 and "not rebuilt" not in third.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from core.submission_files").fetchone()[0] == 2


# --- sdz --version -----------------------------------------------------------------------------

def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    result = sdz("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sdz {version('sdz')}"


# --- sdz validate: the run's size guards -------------------------------------------------------

@pytest.mark.parametrize(("variable", "reason"), [
    ("SDZ_MAX_FILE_BYTES", "file_too_large"),
    ("SDZ_MAX_INFLATED_BYTES", "inflated_too_large"),
])
def test_validate_applies_the_size_limits_of_a_run(raw: Path, variable: str, reason: str) -> None:
    path = write_workbook(batch_dir(raw) / "kunshan.xlsx", values=plausible_values(0))
    assert sdz("validate", path, cwd=raw.parent).returncode == 0
    limited = sdz("validate", path, cwd=raw.parent, env={variable: "2000"})
    assert limited.returncode == 1, limited.stdout + limited.stderr
    assert line_with(limited.stdout, "kunshan.xlsx", "file rejected", reason, variable), limited.stdout


# --- another method file: --method and SDZ_METHOD ----------------------------------------------

def weighted_method(folder: Path) -> Path:
    """The default method with science & technology input weighted 4 in the index instead of 1."""
    method = yaml.safe_load(DEFAULT_METHOD.read_text(encoding="utf-8"))
    assert method["groups"]["index"]["children"][0] == "st_input"
    method["name"] = "st_input_weighted"
    method["groups"]["index"]["weights"] = [4, 1, 1, 1, 1]
    path = folder / "st_input_weighted.yaml"
    path.write_text(yaml.safe_dump(method, allow_unicode=True), encoding="utf-8")
    return path


def index_scores(warehouse: Path) -> dict[tuple[str, int, str], float | None]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select zone_code, year, node, score from mart.index_zone_year").fetchall()
    return {(zone, year, node): score for zone, year, node, score in rows}


def test_a_run_with_another_method_scores_and_reports_by_it(run, tmp_path: Path) -> None:
    _, default_warehouse = run
    method = weighted_method(tmp_path)
    warehouse = tmp_path / "out" / "sdz.duckdb"
    result = sdz("run", "--raw", default_warehouse.parent.parent / "raw", "--warehouse", warehouse,
                 "--method", method, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    default, weighted = index_scores(default_warehouse), index_scores(warehouse)
    assert default.keys() == weighted.keys() and default
    aspects = ("st_input", "st_output", "economy", "society", "environment")
    for (zone, year, node), score in weighted.items():
        if node in aspects:
            assert score == default[zone, year, node]
    complete = [(zone, year) for zone, year, node in weighted if node == "index"
                and all(weighted[zone, year, aspect] is not None for aspect in aspects)]
    assert complete
    for zone, year in complete:
        expected = (4 * weighted[zone, year, "st_input"] + sum(weighted[zone, year, a] for a in aspects[1:])) / 8
        assert weighted[zone, year, "index"] == pytest.approx(expected)
    assert any(weighted[key] != pytest.approx(default[key]) for key in weighted if key[2] == "index")
    report = (warehouse.parent / "reports" / "2014" / "evaluation.html").read_text(encoding="utf-8")
    digest = hashlib.sha256(method.read_bytes()).hexdigest()[:12]
    assert f"st_input_weighted.yaml (sha256 {digest})" in report
    assert "default.yaml" not in report


INVALID_METHOD = "name: broken\nscale: 100\nroot: index\nindicators: {\"1\": {direction: up}}\ngroups: {}\n"


@pytest.mark.parametrize("how", ["option", "environment"])
@pytest.mark.parametrize(("content", "problem"), [
    (None, "cannot read method file"),
    (INVALID_METHOD, "indicators.1.direction: must be"),
    ((DEFAULT_METHOD.parent / "hdi_2021.yaml").read_text(encoding="utf-8"),
     "indicators life_expectancy, expected_schooling, mean_schooling, gni_per_capita_2017ppp are not in the "
     "indicator catalogue"),
], ids=["missing", "invalid", "not-the-catalogue"])
def test_a_run_with_a_bad_method_file_writes_nothing(raw: Path, how: str, content: str | None, problem: str) -> None:
    method = raw.parent / "method.yaml"
    if content is not None:
        method.write_text(content, encoding="utf-8")
    write_workbook(batch_dir(raw) / "kunshan.xlsx")
    warehouse = raw.parent / "out" / "sdz.duckdb"
    arguments = ["--method", method] if how == "option" else []
    result = sdz("run", "--raw", raw, "--warehouse", warehouse, *arguments, cwd=raw.parent,
                 env={"SDZ_METHOD": str(method)} if how == "environment" else None)
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert str(method) in message and problem in message, message
    assert "Traceback" not in result.stderr
    assert not warehouse.parent.exists()


def test_the_ui_refuses_a_bad_method_file_before_starting(tmp_path: Path) -> None:
    result = sdz("ui", "--raw", tmp_path / "raw", "--warehouse", tmp_path / "out" / "sdz.duckdb", cwd=tmp_path,
                 env={"SDZ_METHOD": str(tmp_path / "absent.yaml")})
    assert result.returncode == 2
    assert "absent.yaml" in result.stderr and "cannot read method file" in result.stderr


def test_sdz_method_sets_the_method_of_the_definitions_dagster_dev_loads(monkeypatch, tmp_path: Path) -> None:
    from pipelines.definitions import build_definitions
    from pipelines.runtime.settings import SdzSettings

    monkeypatch.delenv("SDZ_METHOD", raising=False)
    assert SdzSettings.from_env().method_file == str(DEFAULT_METHOD)
    monkeypatch.setenv("SDZ_METHOD", str(tmp_path / "from_env.yaml"))
    assert build_definitions().resources["settings"].method_file == str(tmp_path / "from_env.yaml")
    assert SdzSettings.from_env(method_file=tmp_path / "given.yaml").method_file == str(tmp_path / "given.yaml")


# --- sdz sql -----------------------------------------------------------------------------------

def warehouse_rows(warehouse: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


PER_ZONE = "select zone_code, count(*) as n, sum(value) as total from core.observations group by all order by all"


def test_sql_prints_a_table(run) -> None:
    _, warehouse = run
    result = sdz("sql", PER_ZONE, "--warehouse", warehouse, cwd=warehouse.parent)
    assert result.returncode == 0, result.stderr
    assert line_with(result.stdout, "zone_code", "n", "total")
    expected = warehouse_rows(warehouse, PER_ZONE)
    for zone, count, total in expected:
        assert line_with(result.stdout, zone, f" {count} ", str(total)), result.stdout
    assert f"{len(expected)} rows" in result.stdout


def test_sql_prints_csv(run) -> None:
    _, warehouse = run
    result = sdz("sql", "--csv", PER_ZONE, "--warehouse", warehouse, cwd=warehouse.parent)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["zone_code", "n", "total"]
    assert rows[1:] == [[zone, str(count), str(total)] for zone, count, total in warehouse_rows(warehouse, PER_ZONE)]


def test_sql_reads_statements_from_stdin_and_sdz_warehouse(run, tmp_path: Path) -> None:
    _, warehouse = run
    result = sdz("sql", "--csv", cwd=tmp_path, env={"SDZ_WAREHOUSE": str(warehouse)},
                 stdin="select 41 + 1 as answer;\nselect 'a;b' as text, null as nothing;\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "answer\n42\ntext,nothing\na;b,\n"


@pytest.mark.parametrize(("query", "problem"), [
    ("drop table core.observations", "read-only mode"),
    ("insert into core.indicators select * from core.indicators", "read-only mode"),
    ("selec 1", "syntax error"),
    ("select * from core.nowhere", "nowhere does not exist"),
])
def test_sql_errors_are_one_line_and_change_nothing(run, query: str, problem: str) -> None:
    _, warehouse = run
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    result = sdz("sql", query, "--warehouse", warehouse, cwd=warehouse.parent)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and problem in result.stderr, result.stderr
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before


def test_sql_without_a_warehouse(tmp_path: Path) -> None:
    result = sdz("sql", "select 1", "--warehouse", tmp_path / "absent.duckdb", cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "absent.duckdb" in result.stderr, result.stderr
    assert not (tmp_path / "absent.duckdb").exists()


def test_sql_prompt_on_a_terminal(run) -> None:
    """On a terminal, statements are read until `.quit`; an error is reported and the prompt goes on."""
    _, warehouse = run
    leader, follower = pty.openpty()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SDZ_")}
    process = subprocess.Popen([str(SDZ), "sql", "--csv", "--warehouse", str(warehouse)], stdin=follower,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    os.close(follower)
    os.write(leader, b"selec 1;\nselect 6 *\n 7 as answer;\n.quit\nselect 'after quit';\n")
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(leader)
    assert process.returncode == 0, stderr
    assert "syntax error" in stderr
    assert "answer\n42\n" in stdout
    assert "after quit" not in stdout


def test_the_prompt_runs_a_last_statement_without_semicolon(run) -> None:
    _, warehouse = run
    lines = iter(["select 1 as one;", "select 2", "as two"])

    def read_line(_prompt: str) -> str:
        line = next(lines, None)
        if line is None:
            raise EOFError
        return line

    out, errors = io.StringIO(), io.StringIO()
    with open_warehouse(warehouse) as con:
        prompt(con, ResultPrinter(Console(file=out), as_csv=True, out=out), Console(file=errors), read_line)
    assert out.getvalue().endswith("one\n1\ntwo\n2\n")
    assert errors.getvalue() == ""


# --- what each command imports ---------------------------------------------------------------

def imported_modules(*args: object, cwd: Path) -> set[str]:
    """The modules `sdz <args>` imports, from `python -X importtime` (a fresh process, as a user starts it)."""
    result = subprocess.run([sys.executable, "-X", "importtime", str(SDZ), *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    return {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_commands_that_never_run_the_asset_graph_do_not_import_dagster(raw: Path, tmp_path: Path) -> None:
    workbook = write_workbook(batch_dir(raw) / "kunshan.xlsx", values=plausible_values(0))
    data = tmp_path / "long.csv"
    data.write_text("unit,year,indicator,value\n", encoding="utf-8")
    commands = {"validate": ["validate", workbook],
                "index": ["index", "--data", data, "--method", DEFAULT_METHOD, "--out", tmp_path / "out.csv"],
                "version": ["--version"]}
    for name, args in commands.items():
        modules = imported_modules(*args, cwd=raw.parent)
        assert "pipelines.cli" in modules, name
        assert not {module for module in modules if module.split(".")[0] == "dagster"}, name
    assert {"pipelines.validate.check_files", "pandera"} <= imported_modules(*commands["validate"], cwd=raw.parent)
    assert "pipelines.index.engine" in imported_modules(*commands["index"], cwd=raw.parent)
