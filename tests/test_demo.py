"""The synthetic demo generator: composition of the registry, the injected errors, determinism, safety."""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from pipelines.demo.generate import MANIFEST_NAME, README_NAME, generate_demo
from pipelines.demo.zones import build_registry, build_series
from schemas.catalogue import load_catalogue, load_reason_codes

# The East / Central / West regions, by GB/T 2260 province code (kept here, independent of the generator).
EAST = {11, 12, 13, 21, 31, 32, 33, 35, 37, 44, 46}
CENTRAL = {14, 22, 23, 34, 36, 41, 42, 43}
WEST = {15, 45, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65}
ROUND_FOLDERS = ("2014/batch-1", "2014/batch-2", "2015/batch-1")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    raw = tmp_path_factory.mktemp("demo") / "raw"
    return raw, generate_demo(raw)


@pytest.fixture(scope="module")
def registry(demo) -> list[dict]:
    with (demo[0] / "reference" / "zones.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def manifest(demo) -> list[dict]:
    return json.loads((demo[0] / MANIFEST_NAME).read_text(encoding="utf-8"))["entries"]


def _region(province: int) -> str:
    return "east" if province in EAST else "central" if province in CENTRAL else "west"


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_composition_matches_the_seed(registry):
    active = [r for r in registry if not r["removed_year"]]
    assert len(active) == 157
    provinces = {int(r["province_code"]) for r in active}
    assert len(provinces) == 30 and 54 not in provinces and provinces >= EAST | CENTRAL
    assert Counter(_region(int(r["province_code"])) for r in active) == {"east": 76, "central": 55, "west": 26}
    assert Counter(r["zone_type"] for r in active) == {"county": 77, "district": 51, "prefecture": 23, "township": 6}
    special = sorted(r["zone_name"] for r in active if r["type_evaluation"] == "false")
    assert special == ["山东省潍坊市高新技术产业开发区", "山东省黄河三角洲"]
    assert all(r["province_code"] == "37" for r in active if r["type_evaluation"] == "false")
    removed = {r["zone_name"]: r for r in registry if r["removed_year"]}
    assert set(removed) == {"天津市大港区", "广东省顺德市容桂镇", "重庆市万州区龙宝移民开发区"}
    assert all(r["removed_year"] == "2014" for r in removed.values())
    assert removed["广东省顺德市容桂镇"]["zone_type"] == "township"


def test_registry_follows_the_documented_format(registry, demo):
    header = (demo[0] / "reference" / "zones.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "zone_code,zone_name,province_code,zone_type,type_evaluation,designated_year,removed_year"
    for row in registry:
        assert re.fullmatch(r"[0-9A-Z]{6}", row["zone_code"]) and row["zone_code"][:2] == row["province_code"]
        assert int(row["province_code"]) in EAST | CENTRAL | WEST
        assert row["zone_type"] in {"county", "district", "prefecture", "township"}
        assert row["type_evaluation"] in {"true", "false"}
        assert 1986 <= int(row["designated_year"]) <= 2013
    assert len({r["zone_code"] for r in registry}) == len(registry)
    assert len({r["zone_name"] for r in registry}) == len(registry)
    assert sum("演示" in r["zone_name"] for r in registry) == 155  # invented names, except the five named zones


def test_series_are_plausible_and_smooth():
    rng = random.Random(2014)
    zones = build_registry(rng)
    truth = build_series(zones, rng)
    catalogue = load_catalogue()
    for series in truth.values():
        assert set(series) == set(catalogue.indicators)
        for ind, row in series.items():
            lo, hi = catalogue.indicators[ind].plausible
            assert sorted(row) == list(range(2009, 2015))
            assert all(lo / 2 <= v <= hi * 1.3 for v in row.values()), (ind, row)
            assert all(1 / 3 < row[y + 1] / row[y] < 3 for y in range(2009, 2014)), (ind, row)
        years = range(2009, 2014)
        assert all(0.075 <= series[7][y + 1] / series[7][y] - 1 <= 0.155 for y in years), series[7]
        assert all(series[i][y + 1] <= series[i][y] for i in (9, 11, 15) for y in years)
        assert all(series[4][y + 1] >= series[4][y] for y in years)  # a cumulative count


# Hostile entries (links, zip bombs, oversized files) would make the demo unsafe to hand around;
# tests/test_hostile_files.py covers them.
HOSTILE_ONLY = {"file_too_large", "inflated_too_large", "not_a_file", "link_outside_raw"}
# The demo writes no encrypted workbook (openpyxl cannot): tests/test_workbook_types.py covers it.
# The demo's zones fill in their own workbooks, not templates sdz wrote (which carry an identity);
# tests/test_templates.py returns templates of another zone and another round.
NOT_IN_DEMO = HOSTILE_ONLY | {"password_protected", "template_zone_mismatch", "template_other_round"}


def test_every_injectable_reason_code_is_in_the_manifest(manifest):
    expected = {e["expected"] for e in manifest}
    assert set(load_reason_codes()) - NOT_IN_DEMO <= expected
    assert {"converted", "missing", "loaded", "ignored"} <= expected


def test_manifest_points_at_existing_files_and_cells(manifest, demo):
    raw = demo[0]
    for entry in manifest:
        assert (raw / entry["file"]).is_file(), entry
        assert entry["file"].startswith(tuple(f + "/" for f in ROUND_FOLDERS))
        if entry["indicator"] is not None and entry["file"].endswith(".xlsx"):
            assert re.fullmatch(r"[A-Z]+[0-9]+", entry["cell"]) and entry["sheet"] == "监测数据", entry
        if entry["file"].endswith(".csv") and entry["indicator"] is not None:
            assert re.fullmatch(r"line [0-9]+", entry["cell"]), entry


def test_layout_and_counts(demo):
    raw, summary = demo
    assert (raw / README_NAME).read_text(encoding="utf-8").startswith("# SYNTHETIC DEMO DATA")
    for folder in ROUND_FOLDERS:
        names = [p.name for p in (raw / folder).iterdir()]
        counts = summary["batches"][folder]
        assert counts["files"] == len(names)
        assert counts["workbooks"] == sum(n.endswith(".xlsx") and not n.startswith("~$") for n in names)
        assert counts["csv"] == sum(n.endswith(".csv") for n in names)
    first = summary["batches"]["2014/batch-1"]
    assert 140 <= first["zones_submitting"] <= 150 and 10 <= first["csv"] <= 14
    assert 140 <= summary["batches"]["2015/batch-1"]["zones_submitting"] <= 157
    assert {".DS_Store", "~$temp.xlsx", "说明.docx"} <= {p.name for p in (raw / "2014/batch-1").iterdir()}


def test_csv_encodings_vary(demo):
    raw = demo[0]
    utf8, bom, gb = 0, 0, 0
    for path in sorted((raw / "2014/batch-1").glob("*.csv")):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
            bom += text.startswith("\ufeff")
            utf8 += not text.startswith("\ufeff")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
            gb += 1
        header = text.lstrip("\ufeff").split("\r\n")[0]
        assert header in {"zone_code,indicator,year,value,unit,note", "zone_code,indicator,year,value",
                          "代码,指标,年份,数值,单位,备注"}
    assert utf8 >= 3 and bom >= 2 and gb >= 5


def test_every_workbook_opens_with_its_16_indicator_rows(demo, manifest):
    raw = demo[0]
    unreadable = {e["file"] for e in manifest if e["expected"] == "unreadable_file"}
    assert len(unreadable) == 1
    for folder in ROUND_FOLDERS:
        for path in sorted((raw / folder).glob("*.xlsx")):
            rel = path.relative_to(raw).as_posix()
            if path.name.startswith("~$") or rel in unreadable:
                continue
            workbook = CalamineWorkbook.from_path(str(path))
            rows = workbook.get_sheet_by_name("监测数据").to_python()
            assert "合成演示数据" in rows[0][0]
            header = next(i for i, row in enumerate(rows) if "序号" in row)
            seq = rows[header].index("序号")
            numbers = sorted(int(r[seq]) for r in rows[header + 1:] if isinstance(r[seq], float))
            assert numbers == list(range(1, 17)), rel


def test_same_seed_gives_identical_bytes_and_rewrites_a_demo_folder(demo, tmp_path):
    raw, summary = demo
    again = tmp_path / "again"
    assert generate_demo(again) == summary
    (again / "stray.txt").write_text("left from an earlier run")
    generate_demo(again)
    assert _hashes(again) == _hashes(raw)


def test_refuses_a_folder_that_is_not_a_demo_folder(tmp_path):
    real = tmp_path / "raw"
    (real / "2014" / "batch-1").mkdir(parents=True)
    precious = real / "2014" / "batch-1" / "江苏省苏州市昆山市_2014年第一批.xlsx"
    precious.write_bytes(b"a steward's file")
    with pytest.raises(ValueError, match=README_NAME):
        generate_demo(real)
    assert precious.read_bytes() == b"a steward's file"
    assert sorted(p.name for p in real.iterdir()) == ["2014"]
