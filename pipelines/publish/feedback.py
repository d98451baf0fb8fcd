"""Per-zone feedback workbooks: what the office sends back before the supplementary batch.

`feedback/<round>/batch-N/<zone_code>.xlsx` beside the warehouse, for each zone with a rejected
value or a warning in that batch, read from the published warehouse. Codes not sent to zones
(`sent_to_zone: false` in schemas/reason_codes.yaml, `core.reason_codes`: `revised`, the correction
the office asked for) are left out; the warehouse and `mart.revisions` keep every one. Every cell is written as a
value, never as a formula, whatever its text starts with; the same findings give the same bytes
(`pipelines.publish.spreadsheets`).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.publish.spreadsheets import HEADER_FORMAT, cell_text, new_workbook, set_width, write_text
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
# Column widths in characters, in the order of HEADERS.
WIDTHS = [38, 12, 9, 30, 7, 14, 12, 26, 30, 46, 30, 36]

FINDINGS_SQL = """
with findings as (
    select r.file_id, r.zone_code, r.indicator_id, r.year, r.raw_value, r.reason as code, 'rejected' as kind,
           r.detail, r.source_sheet, r.source_cell, r.round, r.batch
    from core.rejected_values r
    union all
    select f.file_id, f.zone_code, f.indicator_id, f.year, cast(h.value as varchar), f.flag, 'warning',
           f.detail, h.source_sheet, f.source_cell, f.round, f.batch
    from core.value_flags f
    left join core.observation_history h
      on h.file_id = f.file_id and h.source_cell = f.source_cell
     and h.zone_code = f.zone_code and h.indicator_id = f.indicator_id and h.year = f.year
)
select findings.*, s.path, i.name_zh as indicator_name
from findings
join core.submission_files s using (file_id)
left join core.indicators i using (indicator_id)
where findings.zone_code in (select zone_code from core.zones)
  -- what the zone is not asked to act on (a revision is the correction the office asked for) stays out
  and findings.code in (select code from core.reason_codes where sent_to_zone)
order by findings.round, findings.batch, findings.zone_code, s.path, findings.indicator_id nulls first,
         findings.year nulls first, findings.source_cell, kind, code
"""


def write_feedback(warehouse_path: Path, output_dir: Path) -> list[Path]:
    """Rewrite `output_dir/feedback/` from the warehouse; returns the workbooks written."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        findings = con.execute(FINDINGS_SQL).df()
    feedback_dir = output_dir / "feedback"
    shutil.rmtree(feedback_dir, ignore_errors=True)
    written = []
    for (round_year, batch, zone_code), rows in findings.groupby(["round", "batch", "zone_code"], sort=True):
        path = feedback_dir / str(round_year) / f"batch-{batch}" / f"{zone_code}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(feedback_workbook(rows, f"{zone_code} {round_year} batch-{batch}"))
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
    for column, (zh, en) in enumerate(HEADERS):
        write_text(sheet, 3, column, f"{zh}\n{en}", header)
    for row, finding in enumerate(rows.itertuples(index=False), start=4):
        reason = reasons[finding.code]
        indicator = "" if pd.isna(finding.indicator_id) else (
            f"{int(finding.indicator_id)} {cell_text(finding.indicator_name)}".strip()
        )
        values = [
            finding.path, finding.source_sheet, finding.source_cell, indicator,
            None if pd.isna(finding.year) else int(finding.year),
            finding.raw_value, "拒收 rejected" if finding.kind == "rejected" else "提示 warning",
            reason.zh, reason.en, finding.detail, reason.action_zh, reason.action_en,
        ]
        for column, value in enumerate(values):
            if isinstance(value, int):
                sheet.write_number(row, column, value)
            else:
                write_text(sheet, row, column, value)
    for column, width in enumerate(WIDTHS):
        set_width(sheet, column, width)
    sheet.freeze_panes(4, 0)
    workbook.close()
    return out.getvalue()
