"""Hostile and broken files: each is refused with a clear reason, the rest of the batch still loads.

The corpus is generated here (zip bombs and megabyte lines would be too large to commit).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from pipelines.runtime.runner import run_pipeline
from pipelines.runtime.settings import SdzSettings

REGISTRY = (
    "zone_code,zone_name,province_code,zone_type,type_evaluation,designated_year\n"
    "320583,江苏省苏州市昆山市,32,county,true,2009\n"
    "410902,河南省濮阳市华龙区,41,district,true,2009\n"
)
GOOD_CSV = "zone_code,indicator,year,value,unit\n" + "".join(
    f"410902,{indicator},{year},{indicator * 10 + year - 2000},\n"
    for indicator in (1, 3, 4)
    for year in range(2009, 2014)
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)


def template_workbook(path: Path, zone_code: str = "320583") -> None:
    """A minimal workbook in the office's template with one indicator row."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "监测数据"
    sheet.append(["实验区代码", zone_code])
    sheet.append(["序号", "指标名称", "单位", 2009, 2010])
    sheet.append([1, "本级科学技术支出", "万元", 100, 120])
    workbook.save(path)


def zip_bomb(path: Path, inflated_mb: int) -> None:
    """A valid-looking .xlsx whose sheet inflates to `inflated_mb` megabytes of spaces."""
    template_workbook(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive, archive.open(
        "xl/worksheets/padding.xml", "w"
    ) as padding:
        block = b" " * (1 << 20)
        for _ in range(inflated_mb):
            padding.write(block)


def entity_bomb(path: Path) -> None:
    """A workbook whose sheet XML declares exponentially expanding entities."""
    template_workbook(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace('<?xml version="1.0" encoding="utf-8"?>', "").replace(
        "<c r=\"D3\" t=\"n\"><v>100</v></c>", "<c r=\"D3\" t=\"inlineStr\"><is><t>&lol9;</t></is></c>")
    parts["xl/worksheets/sheet1.xml"] = (BILLION_LAUGHS + sheet).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def build_hostile_raw(root: Path) -> Path:
    raw = root / "raw"
    batch = raw / "2014" / "batch-1"
    batch.mkdir(parents=True)
    (raw / "reference").mkdir()
    (raw / "reference" / "zones.csv").write_text(REGISTRY, encoding="utf-8")
    template_workbook(batch / "good_workbook.xlsx")
    (batch / "good_long.csv").write_text(GOOD_CSV, encoding="utf-8")
    (batch / "empty.xlsx").write_bytes(b"")
    template_workbook(batch / "truncated.xlsx")
    data = (batch / "truncated.xlsx").read_bytes()
    (batch / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(batch / "renamed_zip.xlsx", "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    zip_bomb(batch / "zip_bomb.xlsx", inflated_mb=80)
    entity_bomb(batch / "entity_bomb.xlsx")
    (batch / "garbage.csv").write_bytes(bytes(range(256)) * 64)
    (batch / "long_line.csv").write_text(
        "zone_code,indicator,year,value\n410902,2,2009," + "9" * (4 << 20) + "\n410902,2,2010,3.5\n", encoding="utf-8")
    (batch / "mixed_endings.csv").write_bytes(
        b"zone_code,indicator,year,value\r\n410902,5,2009,30\n410902,5,2010,31\r\n410902,5,2011,32\n")
    (batch / "gbk.csv").write_bytes("zone_code,indicator,year,value,unit\n410902,7,2009,20000,元/人\n"
                                     .encode("gb18030"))
    (batch / "latin1_garbage.csv").write_bytes("zone_code,indicator,year,value\n410902,8,2009,é\xff\n"
                                               .encode("latin-1") + b"\x81\x30\xff\xfe")
    (batch / "folder.xlsx").mkdir()
    os.symlink("/etc/passwd", batch / "outside_link.csv")
    os.symlink("../../reference/zones.csv", batch / "inside_link.csv")
    (batch / "'; drop table core.observations; --.csv").write_text(
        "zone_code,indicator,year,value,note\n410902,9,2009,3.1,\"'); drop table x; --\"\n", encoding="utf-8")
    return raw


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    raw = build_hostile_raw(root)
    settings = SdzSettings(raw_dir=str(raw), warehouse=str(root / "warehouse" / "sdz.duckdb"),
                           max_inflated_bytes=64 * 1024 * 1024)
    run_pipeline(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        files = {path: (status, reason, detail) for path, status, reason, detail in con.execute(
            "select path, status, reason, detail from core.submission_files").fetchall()}
        yield settings, con, files


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.xlsx", "unreadable_file"),
        ("truncated.xlsx", "unreadable_file"),
        ("renamed_zip.xlsx", "unreadable_file"),
        ("zip_bomb.xlsx", "inflated_too_large"),
        ("entity_bomb.xlsx", "unreadable_file"),
        ("garbage.csv", "unreadable_file"),
        ("latin1_garbage.csv", "unreadable_file"),
        ("folder.xlsx", "not_a_file"),
        ("outside_link.csv", "link_outside_raw"),
    ],
)
def test_hostile_file_is_refused_with_its_reason(hostile_run, name: str, reason: str):
    _, _, files = hostile_run
    status, found_reason, detail = files[f"2014/batch-1/{name}"]
    assert (status, found_reason) == ("rejected", reason)
    assert detail


def test_the_rest_of_the_batch_still_loads(hostile_run):
    _, con, files = hostile_run
    for name in ("good_workbook.xlsx", "good_long.csv", "mixed_endings.csv", "gbk.csv", "long_line.csv",
                 "'; drop table core.observations; --.csv"):
        assert files[f"2014/batch-1/{name}"][0] == "loaded", name
    values = dict(con.execute("select source_cell, value from core.observations where indicator_id = 5").fetchall())
    assert values == {"line 2": 30.0, "line 3": 31.0, "line 4": 32.0}  # mixed \r\n and \n line endings
    assert con.execute("select value from core.observations where indicator_id = 7").fetchone() == (20000.0,)


def test_a_link_inside_raw_is_read_and_one_outside_never(hostile_run):
    _, _, files = hostile_run
    status, reason, _ = files["2014/batch-1/inside_link.csv"]
    assert (status, reason) == ("rejected", "bad_header")  # it was opened: the registry is not a long CSV
    assert files["2014/batch-1/outside_link.csv"][1] == "link_outside_raw"


def test_a_megabyte_cell_is_rejected_and_stored_shortened(hostile_run):
    _, con, _ = hostile_run
    raw_value, reason = con.execute(
        "select raw_value, reason from core.rejected_values where source_cell = 'line 2' and indicator_id = 2"
    ).fetchone()
    assert reason == "not_a_number"
    assert len(raw_value) < 600 and raw_value.endswith(f"({(4 << 20)} characters)")


def test_names_and_notes_with_sql_are_data(hostile_run):
    _, con, files = hostile_run
    assert con.execute("select count(*) from core.observations").fetchone()[0] > 0
    name = "2014/batch-1/'; drop table core.observations; --.csv"
    assert files[name][0] == "loaded"
    assert con.execute("select count(*) from core.submission_files where path = ?", [name]).fetchone()[0] == 1


def test_file_size_limit_is_checked_before_reading(tmp_path: Path):
    raw = build_minimal(tmp_path)
    (raw / "2014" / "batch-1" / "big.csv").write_text("zone_code,indicator,year,value\n" + "x" * 5000)
    settings = SdzSettings(raw_dir=str(raw), warehouse=str(tmp_path / "wh.duckdb"), max_file_bytes=4096)
    run_pipeline(settings)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select status, reason, sha256 from core.submission_files where path like '%big.csv'"
                           ).fetchone() == ("rejected", "file_too_large", None)


def build_minimal(root: Path) -> Path:
    raw = root / "raw"
    (raw / "2014" / "batch-1").mkdir(parents=True)
    (raw / "reference").mkdir()
    (raw / "reference" / "zones.csv").write_text(REGISTRY, encoding="utf-8")
    (raw / "2014" / "batch-1" / "good.csv").write_text(GOOD_CSV, encoding="utf-8")
    return raw


def test_a_run_over_the_hostile_corpus_stays_within_2_gb(tmp_path: Path):
    raw = build_hostile_raw(tmp_path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--raw", str(raw), "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )
    assert completed.returncode == 0, completed.stderr
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert max(peak_kib, before) < 2 * 1024 * 1024
