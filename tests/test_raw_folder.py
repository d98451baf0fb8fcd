"""What a run makes of the raw folder beyond the template: copies, misnamed workbooks, misplaced files.

- A copy of a loaded file is a duplicate; a copy of a refused file is read on its own, so a corrected
  resubmission (the same bytes under a better name) loads, and empty files are each refused.
- A workbook is opened by its content (zip → .xlsx reader, OLE → .xls reader), with a warning.
- Of copies in one batch, the original is loaded rather than its "(1)" or "- 副本" copy.
- Every file not in a `<round>/batch-N/` folder is listed, with where to move it; the run still exits 0.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.ingest import inventory
from pipelines.ingest.inventory import list_submissions
from pipelines.ingest.parse import parse_submissions
from pipelines.ingest.registry import read_registry
from schemas.messages import message
from tests import builders
from tests.test_cli import line_with, sdz

KUNSHAN, HUALONG, CHENGDU = builders.KUNSHAN, builders.HUALONG, builders.CHENGDU


def parsed_files(raw: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """path → (status, reason, detail) of every file a run lists."""
    registry = read_registry(raw / "reference" / "zones.csv")
    files = parse_submissions(list_submissions(raw), raw, registry).files
    return {file.path: (file.status, file.reason, file.detail) for file in files.itertuples(index=False)}


# --- copies of refused files ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def resubmitted(tmp_path_factory, module_run_sdz):
    """The issue's steward: a workbook saved as .xlsx but named .xls in batch 1, renamed to .xlsx and
    sent again in batch 2; a long CSV named .xls in batch 1, sent again as .csv in batch 2; two empty files."""
    raw = tmp_path_factory.mktemp("resubmitted") / "raw"
    builders.write_registry(raw)
    first, second = builders.batch_dir(raw, 2014, 1), builders.batch_dir(raw, 2014, 2)
    builders.write_workbook(second / "昆山市.xlsx", zone_code=KUNSHAN, values=builders.plausible_values(1))
    shutil.copy(second / "昆山市.xlsx", first / "昆山市.xls")
    builders.write_csv(second / "华龙区.csv", builders.long_rows(HUALONG, builders.plausible_values(2)))
    shutil.copy(second / "华龙区.csv", first / "华龙区.xls")
    builders.write_workbook(first / "成都市.xlsx", zone_code=CHENGDU, values=builders.plausible_values(3))
    (first / "empty.xlsx").write_bytes(b"")
    (first / "empty (1).xlsx").write_bytes(b"")
    return module_run_sdz(raw)


def test_a_workbook_named_xls_is_read_by_its_content_with_a_warning(resubmitted) -> None:
    run = resubmitted
    assert run.rows("select status, zone_code, values_accepted from core.submission_files "
                    "where path = '2014/batch-1/昆山市.xls'") == [("loaded", KUNSHAN, 80)]
    warnings = run.rows("select v.flag, v.detail from core.value_flags v join core.submission_files f using (file_id) "
                        "where f.path = '2014/batch-1/昆山市.xls'")
    assert len(warnings) == 1 and warnings[0][0] == "extension_mismatch" and ".xls" in warnings[0][1]
    assert run.scalar("select count(*) from core.observations where zone_code = ?", [KUNSHAN]) == 80
    assert run.scalar("select status from mart.submission_status where zone_code = ? and round = 2014 "
                      "and batch = 1", [KUNSHAN]) != "not_submitted"


def test_the_renamed_copy_repeats_the_loaded_file(resubmitted) -> None:
    assert resubmitted.rows("select status, reason, detail from core.submission_files "
                            "where path = '2014/batch-2/昆山市.xlsx'") == [
        ("duplicate", "duplicate", message("identical_to", path="2014/batch-1/昆山市.xls"))]


def test_a_copy_of_a_refused_file_is_read_on_its_own(resubmitted) -> None:
    run = resubmitted
    rows = dict(run.rows("select path, status from core.submission_files where path like '%华龙区%'"))
    assert rows == {"2014/batch-1/华龙区.xls": "rejected", "2014/batch-2/华龙区.csv": "loaded"}
    assert run.scalar("select count(*) from core.observations where zone_code = ? and batch = 2", [HUALONG]) == 80
    assert run.scalar("select status from mart.submission_status where zone_code = ? and round = 2014 "
                      "and batch = 2", [HUALONG]) == "clean"


def test_empty_files_are_each_refused_not_duplicates(resubmitted) -> None:
    assert resubmitted.rows("select path, status, reason from core.submission_files where path like '%empty%' "
                            "order by path") == [("2014/batch-1/empty (1).xlsx", "rejected", "unreadable_file"),
                                                 ("2014/batch-1/empty.xlsx", "rejected", "unreadable_file")]


# --- which copy is loaded ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["昆山市 (1).xlsx", "昆山市（2）.xlsx", "昆山市 - Copy.xlsx", "昆山市 - Copy (2).xlsx",
                                  "昆山市 - 副本.xlsx", "昆山市_副本.xlsx", "昆山市（副本）.xlsx", "昆山市副本.xlsx",
                                  "昆山市 copy.xlsx", "Copy of 昆山市.xlsx", "复件 昆山市.xlsx"])
def test_copy_markers(name: str) -> None:
    assert inventory.is_copy_name(name)


@pytest.mark.parametrize("name", ["昆山市.xlsx", "canopy.xlsx", "report (2014).xlsx", "昆山市2013.xlsx", "scopy.csv"])
def test_names_that_are_not_copies(name: str) -> None:
    assert not inventory.is_copy_name(name)


@pytest.mark.parametrize("copy", ["kunshan (1).xlsx", "kunshan - Copy.xlsx", "kunshan - 副本.xlsx"])
def test_the_original_is_loaded_rather_than_its_copy(raw_dir: Path, copy: str) -> None:
    folder = builders.batch_dir(raw_dir)
    builders.write_workbook(folder / "kunshan.xlsx", zone_code=KUNSHAN)
    shutil.copy(folder / "kunshan.xlsx", folder / copy)
    assert copy < "kunshan.xlsx"  # code-point order alone would load the copy
    files = parsed_files(raw_dir)
    assert files["2014/batch-1/kunshan.xlsx"] == ("loaded", None, None)
    assert files[f"2014/batch-1/{copy}"] == ("duplicate", "duplicate",
                                             message("identical_to", path="2014/batch-1/kunshan.xlsx"))


def test_an_earlier_batch_wins_over_a_name_without_marker(raw_dir: Path) -> None:
    first, second = builders.batch_dir(raw_dir, 2014, 1), builders.batch_dir(raw_dir, 2014, 2)
    builders.write_workbook(first / "kunshan (1).xlsx", zone_code=KUNSHAN)
    shutil.copy(first / "kunshan (1).xlsx", second / "kunshan.xlsx")
    files = parsed_files(raw_dir)
    assert files["2014/batch-1/kunshan (1).xlsx"][0] == "loaded"
    assert files["2014/batch-2/kunshan.xlsx"][0] == "duplicate"


def test_a_workbook_of_the_other_format_and_a_workbook_named_csv(raw_dir: Path, zone_lookup) -> None:
    from pipelines.ingest.workbook_reader import read_workbook

    folder = builders.batch_dir(raw_dir)
    builders.write_workbook(folder / "made.xls", zone_code=KUNSHAN)
    shutil.move(folder / "made.xls", folder / "ole.xlsx")
    builders.write_workbook(folder / "made.xlsx", zone_code=HUALONG)
    shutil.move(folder / "made.xlsx", folder / "zip.csv")
    listed = list_submissions(raw_dir).set_index("path")
    assert listed.loc["2014/batch-1/zip.csv", "file_format"] == "workbook"
    for name, zone in (("ole.xlsx", KUNSHAN), ("zip.csv", HUALONG)):
        parsed = read_workbook(folder / name, zone_lookup)
        assert parsed.zone_code == zone and len(parsed.cells) == 80
        assert [flag for flag, _ in parsed.warnings] == ["extension_mismatch"]
    files = parsed_files(raw_dir)
    assert {path: status for path, (status, _, _) in files.items()} == {
        "2014/batch-1/ole.xlsx": "loaded", "2014/batch-1/zip.csv": "loaded"}


# --- files outside the batch folders -------------------------------------------------------------

def test_every_file_outside_a_batch_folder_is_listed_with_where_it_belongs(raw_dir: Path) -> None:
    builders.write_csv(builders.batch_dir(raw_dir) / "ok.csv", builders.long_rows(HUALONG, {1: {2010: 5}}))
    placed = {
        "2014/batch1/kunshan.xlsx": "2014/batch-1/kunshan.xlsx",
        "2014/Batch_2/sub/kunshan.xlsx": "2014/batch-2/sub/kunshan.xlsx",
        "2014/第一批/hualong.csv": "2014/batch-1/hualong.csv",
        "2014/第二批/hualong.csv": "2014/batch-2/hualong.csv",
        "2014/补报/hualong.csv": "2014/batch-2/hualong.csv",
        "2014年/batch-1/hualong.csv": "2014/batch-1/hualong.csv",
        "2014/loose.csv": None,
        "2014/others/x.csv": None,
        "misc/x.csv": None,
        "notes.txt": None,
    }
    ignored = ["2014/batch1/~$kunshan.xlsx", "2014/batch1/.DS_Store", "2014/.hidden/x.csv", "reference/old.csv"]
    for path in [*placed, *ignored]:
        (raw_dir / path).parent.mkdir(parents=True, exist_ok=True)
        (raw_dir / path).write_bytes(b"x")
    listed = inventory.unrecognised_files(raw_dir)
    assert list(listed["path"]) == sorted(placed)
    assert dict(zip(listed["path"], listed["suggestion"].astype(object).where(listed["suggestion"].notna(), None),
                    strict=True)) == placed
    assert listed["reason"].str.startswith("not under <round>/batch-N/").all()
    reasons = dict(zip(listed["path"], listed["reason"], strict=True))
    assert "'batch1'" in reasons["2014/batch1/kunshan.xlsx"] and "'2014年'" in reasons["2014年/batch-1/hualong.csv"]


def test_a_run_with_misnamed_batch_folders_lists_them_and_exits_0(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    builders.write_registry(raw)
    builders.write_workbook(raw / "2014" / "batch1" / "kunshan.xlsx", zone_code=KUNSHAN)
    builders.write_csv(raw / "2014" / "第二批" / "hualong.csv", builders.long_rows(HUALONG, {1: {2010: 5}}))
    warehouse = tmp_path / "out" / "sdz.duckdb"
    result = sdz("run", "--raw", raw, "--warehouse", warehouse, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Files not read" in result.stdout
    assert line_with(result.stdout, "2014/batch1/kunshan.xlsx", "'batch1'", "2014/batch-1/kunshan.xlsx"), result.stdout
    assert line_with(result.stdout, "2014/第二批/hualong.csv", "2014/batch-2/hualong.csv"), result.stdout
    with duckdb.connect(str(warehouse), read_only=True) as con:
        listed = con.execute("select path, suggestion from core.unrecognised_files order by path").df()
    pd.testing.assert_frame_equal(listed, pd.DataFrame({
        "path": ["2014/batch1/kunshan.xlsx", "2014/第二批/hualong.csv"],
        "suggestion": ["2014/batch-1/kunshan.xlsx", "2014/batch-2/hualong.csv"]}), check_dtype=False)
