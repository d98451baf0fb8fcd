"""The templates sdz writes for the zones: layout, data validation, protection, print set-up and identity as
a spreadsheet application sees them (openpyxl), the reader's handling of the identity, and a re-save by a
real spreadsheet application (LibreOffice headless) ingesting like the original."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest

from pipelines.ingest.submission import FileRejected
from pipelines.ingest.workbook_reader import read_workbook
from pipelines.publish.templates import write_templates
from schemas.catalogue import FIRST_YEAR, load_catalogue
from schemas.template import load_template
from tests.builders import HUALONG, KUNSHAN, batch_dir, plausible_values, write_workbook

CATALOGUE = load_catalogue()
TEMPLATE = load_template()
SOFFICE = shutil.which("soffice")
READ_COLUMNS = ["zone_code", "indicator_raw", "year_raw", "raw_value", "number", "source_cell"]


@pytest.fixture(scope="module")
def first_round(module_run_sdz, tmp_path_factory):
    """Round 2014, batch 1: Kunshan complete, Hualong with a rejected cell (indicator 3, 2011) and a gap
    (indicator 5, 2012); the published warehouse and the raw folder."""
    raw = tmp_path_factory.mktemp("templates") / "raw"
    from tests.builders import write_registry

    write_registry(raw)
    write_workbook(batch_dir(raw) / "kunshan.xlsx", zone_code=KUNSHAN)
    hualong = plausible_values(1)
    hualong[3][2011] = "待核实"
    del hualong[5][2012]
    write_workbook(batch_dir(raw) / "hualong.xlsx", zone_code=HUALONG, values=hualong)
    return module_run_sdz(raw), raw


@pytest.fixture(scope="module")
def next_round(first_round, tmp_path_factory) -> dict[str, Path]:
    """The 2015 batch-1 templates, by zone code."""
    run, _raw = first_round
    folder = tmp_path_factory.mktemp("next_round")
    return {path.name.split("_")[0]: path for path in write_templates(run.warehouse, 2015, 1, out=folder)}


def test_one_template_per_zone_expected_with_the_values_in_force(first_round, next_round, zone_lookup) -> None:
    run, _raw = first_round
    expected = {code for (code,) in run.rows("select zone_code from core.zones where coalesce(designated_year, 0) < "
                                             "2015 and coalesce(removed_year, 9999) > 2015")}
    assert set(next_round) == expected
    read = read_workbook(next_round[HUALONG], zone_lookup)
    values = {(int(c.indicator_raw), int(c.year_raw)): c.number for c in read.cells.itertuples()}
    in_force = {(i, y): v for i, y, v in run.rows(
        "select indicator_id, year, value from core.observations where zone_code = ?", [HUALONG])}
    assert values == in_force and (3, 2011) not in values and (5, 2012) not in values
    assert read.template is not None and read.template.text == f"2015/batch-1/{HUALONG}/v1"


def test_layout_validation_protection_and_print_set_up(next_round) -> None:
    book = openpyxl.load_workbook(next_round[KUNSHAN])
    assert book.sheetnames == [TEMPLATE.instructions_sheet, TEMPLATE.data_sheet, TEMPLATE.written.identity_sheet]
    assert book[TEMPLATE.written.identity_sheet].sheet_state == "veryHidden"
    assert "没有设置密码" in "".join(str(c.value) for c in book[TEMPLATE.instructions_sheet]["A"])
    sheet = book[TEMPLATE.data_sheet]
    header = [cell.value for cell in sheet[TEMPLATE.header_row]]
    years = list(range(FIRST_YEAR, 2015))
    assert header == ["序号", "一级指标", "二级指标", "指标名称", "单位", *years, "备注"]
    code, name = TEMPLATE.code, TEMPLATE.name
    assert sheet.cell(TEMPLATE.zone_row, code.label_column).value == code.label
    assert sheet.cell(TEMPLATE.zone_row, code.value_column).value == KUNSHAN
    assert sheet.cell(TEMPLATE.zone_row, name.label_column).value == name.label
    first = TEMPLATE.first_data_row()
    assert [sheet.cell(first + k, 1).value for k in range(16)] == list(CATALOGUE.indicators)
    assert sheet.protection.sheet and not sheet.protection.password
    assert sheet.cell(first, 1).protection.locked and sheet.cell(first, 4).protection.locked
    assert not sheet.cell(first, 6).protection.locked and not sheet.cell(first, 6 + len(years)).protection.locked
    assert sheet.freeze_panes == f"F{TEMPLATE.header_row + 1}"
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == f"$1:${TEMPLATE.header_row}"
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert len(validations) == 16
    for offset, indicator in enumerate(CATALOGUE.indicators.values()):
        rule = validations[f"F{first + offset}:K{first + offset}"]
        assert rule.errorStyle == "warning" and rule.type == "custom"
        assert indicator.name_zh in rule.prompt and indicator.unit in rule.prompt
        assert ("<=" in rule.formula1) == (indicator.upper_limit is not None)
        assert '="—"' in rule.formula1 and ">=0" in rule.formula1


def test_another_zones_template_is_refused(next_round, zone_lookup, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(next_round[KUNSHAN])
    book[TEMPLATE.data_sheet].cell(TEMPLATE.zone_row, TEMPLATE.code.value_column).value = HUALONG
    book.save(tmp_path / "changed.xlsx")
    with pytest.raises(FileRejected) as refused:
        read_workbook(tmp_path / "changed.xlsx", zone_lookup)
    assert refused.value.reason == "template_zone_mismatch" and KUNSHAN in refused.value.detail


def test_last_rounds_template_gets_a_warning_and_is_recorded(next_round, run_sdz, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    from tests.builders import write_registry

    write_registry(raw)
    shutil.copy(next_round[KUNSHAN], batch_dir(raw, 2016) / "kunshan.xlsx")
    for _from_cache in (False, True):  # the second run takes the file's outcome from the value cache
        run = run_sdz(raw, tmp_path / "warehouse" / "sdz.duckdb")
        assert run.rows("select template from core.submission_files") == [(f"2015/batch-1/{KUNSHAN}/v1",)]
        assert run.rows("select flag from core.value_flags") == [("template_other_round",)]
        assert run.scalar("select count(*) from core.observations") == 16 * 5


def test_supplementary_batch_marks_the_rejected_cell_and_the_gap(first_round, tmp_path: Path) -> None:
    run, _raw = first_round
    written = {path.name.split("_")[0]: path for path in write_templates(run.warehouse, 2014, 2, out=tmp_path)}
    # Kunshan has nothing to do; the zones that sent nothing have everything to complete
    assert sorted(written) == sorted({code for (code,) in run.rows(
        "select zone_code from core.expected_zones where round = 2014")} - {KUNSHAN})
    sheet = openpyxl.load_workbook(written[HUALONG])[TEMPLATE.data_sheet]
    first = TEMPLATE.first_data_row()
    rejected, gap = sheet.cell(first + 2, 6 + 2011 - FIRST_YEAR), sheet.cell(first + 4, 6 + 2012 - FIRST_YEAR)
    assert "待核实" in rejected.comment.text and "not a number" in rejected.comment.text
    assert gap.comment is None and gap.value is None
    colours = TEMPLATE.written.highlight
    assert rejected.fill.fgColor.rgb == "FF" + colours["rejected"][1:]
    assert gap.fill.fgColor.rgb == "FF" + colours["missing"][1:]
    assert "需更正 1 个单元格" in sheet["A2"].value and "尚未报送 1 个单元格" in sheet["A2"].value


def resave(path: Path, target: str, folder: Path) -> Path:
    """`path` opened and saved again by LibreOffice headless as `target` (xlsx or ods), with a profile of its own."""
    with tempfile.TemporaryDirectory(prefix="sdz-soffice-") as profile:
        filters = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods"}
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        filters[target], "--outdir", str(folder), str(path)], check=True, capture_output=True,
                       timeout=120)
    return folder / f"{path.stem}.{target}"


needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed (CI installs it: "
                                   "apt-get install libreoffice-calc-nogui)")



@needs_soffice
@pytest.mark.parametrize("target", ["xlsx", "ods"])
def test_a_libreoffice_resave_reads_like_the_original(next_round, zone_lookup, target: str, tmp_path: Path) -> None:
    original = next_round[HUALONG]
    saved = resave(original, target, tmp_path)
    before, after = read_workbook(original, zone_lookup), read_workbook(saved, zone_lookup)
    assert after.cells[READ_COLUMNS].equals(before.cells[READ_COLUMNS])
    assert after.template == before.template and after.warnings == before.warnings == []


@needs_soffice
def test_validation_and_protection_survive_a_libreoffice_resave(next_round, tmp_path: Path) -> None:
    original = openpyxl.load_workbook(next_round[HUALONG])[TEMPLATE.data_sheet]
    saved = openpyxl.load_workbook(resave(next_round[HUALONG], "xlsx", tmp_path))
    sheet = saved[TEMPLATE.data_sheet]
    assert sheet.protection.sheet
    first = TEMPLATE.first_data_row()
    assert sheet.cell(first, 1).protection.locked and not sheet.cell(first, 6).protection.locked

    def rules(data_sheet) -> set[tuple]:
        return {(str(v.sqref), v.formula1, v.errorStyle, v.prompt) for v in data_sheet.data_validations.dataValidation}

    assert rules(sheet) == rules(original)
    assert saved[TEMPLATE.written.identity_sheet].sheet_state != "visible"


@needs_soffice
@pytest.mark.parametrize("target", ["xlsx", "ods"])
def test_a_libreoffice_resave_ingests_like_the_original(first_round, next_round, run_sdz, target: str,
                                                        tmp_path: Path) -> None:
    _run, first_raw = first_round
    loaded = {}
    for version, path in (("original", next_round[HUALONG]), (target, resave(next_round[HUALONG], target, tmp_path))):
        raw = tmp_path / version / "raw"
        shutil.copytree(first_raw, raw)
        shutil.copy(path, batch_dir(raw, 2015) / f"hualong.{path.suffix.lstrip('.')}")
        run = run_sdz(raw)
        loaded[version] = (run.rows("select zone_code, indicator_id, year, value, round from core.observations "
                                    "order by all"),
                           run.rows("select zone_code, status, template from core.submission_files where round = 2015"))
    assert loaded[target] == loaded["original"]
