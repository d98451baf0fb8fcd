"""Per-zone feedback workbooks: what the office sends back before the supplementary batch.

`feedback/<round>/batch-N/<zone_code>.xlsx` beside the warehouse, for each zone with a finding in
that batch - a rejected value, a warning or a file refused whole - and `feedback/<round>/batch-N/_steward.xlsx`
for the findings whose zone cannot be told, read from the published warehouse. Which findings there are
and where each goes is `mart.findings` (SQL): every finding is in exactly one workbook; codes not sent
to zones (`revised`) are not findings, the warehouse and `mart.revisions` keep them. Every cell is
written as a value, never as a formula, whatever its text starts with; the same findings give the same
bytes (`pipelines.publish.spreadsheets`).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.publish.spreadsheets import (
    HEADER_FORMAT,
    WRAPPED_FORMAT,
    cell_text,
    new_workbook,
    print_on_a4,
    row_height,
    set_width,
    write_text,
)
from schemas.catalogue import load_reason_codes

HEADERS = [
    ("文件", "file"),
    ("工作表", "sheet"),
    ("单元格", "cell"),
    ("指标", "indicator"),
    ("年份", "year"),
    ("原始值", "value as written"),
    ("类别", "kind"),
    ("原因", "reason"),
    ("Reason", "reason (English)"),
    ("说明", "detail"),
    ("修改建议", "what to correct"),
    ("What to correct", "what to correct (English)"),
]
# Column widths in characters, in the order of HEADERS: narrow enough that the twelve columns print on
# one A4 page across (landscape, at about three quarters), long texts wrapping within them.
WIDTHS = [22, 10, 7, 16, 6, 12, 10, 16, 18, 32, 20, 22]
HEADER_ROW = 3

# The rows and their routing are mart.findings' (one row per finding, feedback_zone empty for the
# steward's list): this module only renders them.
FINDINGS_SQL = """
select f.*, i.name_zh as indicator_name
from mart.findings as f
left join core.indicators as i using (indicator_id)
order by f.round, f.batch, f.feedback_zone nulls last, f.path, f.indicator_id nulls first, f.year nulls first,
         f.source_cell, f.kind, f.code
"""
STEWARD_LIST = "_steward.xlsx"
KIND_LABELS = {"refused_file": "拒收文件 file refused", "rejected": "拒收 rejected", "warning": "提示 warning"}


def write_feedback(warehouse_path: Path, output_dir: Path) -> list[Path]:
    """Rewrite `output_dir/feedback/` from the warehouse; returns the workbooks written: one per zone with
    findings in a batch, and the batch's steward list (STEWARD_LIST) of the findings no zone can be told for."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        findings = con.execute(FINDINGS_SQL).df()
    feedback_dir = output_dir / "feedback"
    shutil.rmtree(feedback_dir, ignore_errors=True)
    written = []
    findings["workbook"] = findings["feedback_zone"].fillna("")
    for (round_year, batch, zone_code), rows in findings.groupby(["round", "batch", "workbook"], sort=True):
        folder = feedback_dir / str(round_year) / f"batch-{batch}"
        if zone_code:
            path, title = folder / f"{zone_code}.xlsx", f"{zone_code} {round_year} batch-{batch}"
        else:
            path, title = folder / STEWARD_LIST, f"{round_year} batch-{batch}: 无法确定实验区 zone not known, to route"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(feedback_workbook(rows, title))
        written.append(path)
    return written


def feedback_workbook(rows: pd.DataFrame, title: str) -> bytes:
    """One zone's findings of one batch (rows of FINDINGS_SQL) as .xlsx bytes: same findings, same bytes."""
    reasons = load_reason_codes()
    out = io.BytesIO()
    workbook = new_workbook(out)
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({**HEADER_FORMAT, "bold": True})
    sheet = workbook.add_worksheet("反馈 feedback")
    write_text(sheet, 0, 0, f"国家可持续发展实验区创新能力监测数据反馈 / data feedback: {title}", bold)
    write_text(sheet, 1, 0, "请按“修改建议”更正后在补充批次中重新报送。Please correct as advised and resubmit in the "
                            "supplementary batch.")
    wrapped = workbook.add_format(WRAPPED_FORMAT)
    headers = [f"{zh}\n{en}" for zh, en in HEADERS]
    for column, text in enumerate(headers):
        write_text(sheet, HEADER_ROW, column, text, header)
    sheet.set_row(HEADER_ROW, row_height(zip(headers, WIDTHS, strict=True)))
    for row, finding in enumerate(rows.itertuples(index=False), start=HEADER_ROW + 1):
        reason = reasons[finding.code]
        indicator = "" if pd.isna(finding.indicator_id) else (
            f"{int(finding.indicator_id)} {cell_text(finding.indicator_name)}".strip()
        )
        values = [
            finding.path, finding.source_sheet, finding.source_cell, indicator,
            None if pd.isna(finding.year) else int(finding.year),
            finding.raw_value, KIND_LABELS[finding.kind],
            reason.zh, reason.en, finding.detail, reason.action_zh, reason.action_en,
        ]
        for column, value in enumerate(values):
            if isinstance(value, int):
                sheet.write_number(row, column, value, wrapped)
            else:
                write_text(sheet, row, column, value, wrapped)
        sheet.set_row(row, row_height(zip(values, WIDTHS, strict=True)))
    for column, width in enumerate(WIDTHS):
        set_width(sheet, column, width)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    print_on_a4(sheet, landscape=True, header_rows=(HEADER_ROW, HEADER_ROW))
    workbook.close()
    return out.getvalue()
