"""The terminal summary of a run, read from the published warehouse.

Per batch (mart.batch_summary): files loaded / rejected / duplicate, values accepted / rejected / flagged, and
coverage (values in force after the batch over what the expected zones owe); then rejections by reason and flags by
kind, with their Chinese and English names; the files not loaded; and the files under raw/ not read as submissions
(core.unrecognised_files), with where to move them. Such files do not fail the run: they are listed, and the run
goes on with the files that are in batch folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from pipelines.publish.reports.pdf import missing_pdfs_notice
from schemas.catalogue import load_reason_codes

BATCHES_SQL = """
select round, batch, files_loaded, files_rejected, files_duplicate, values_accepted, values_rejected, values_flagged,
       round(coverage_pct, 1) as coverage_pct
from mart.batch_summary
order by round, batch
"""

REASONS_SQL = """
select 'file' as level, reason as code, count(*) as n from core.submission_files where reason is not null group by all
union all select 'value', reason, count(*) from core.rejected_values group by all
union all select 'flag', flag, count(*) from core.value_flags group by all
order by level, n desc, code
"""

REFUSED_FILES_SQL = """
select path, status, reason, detail from core.submission_files where status <> 'loaded' order by file_id
"""

UNRECOGNISED_FILES_SQL = """
select path, reason, suggestion from core.unrecognised_files order by path
"""


@dataclass
class RunSummary:
    """What a steward reads after a run."""

    batches: pd.DataFrame
    reasons: pd.DataFrame
    refused_files: pd.DataFrame
    unrecognised_files: pd.DataFrame
    feedback_workbooks: int = 0
    pdf_notice: str | None = None  # why the reports have no PDFs, when they have none


def read_summary(warehouse_path: Path) -> RunSummary:
    """The summary of the published warehouse."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        return RunSummary(con.execute(BATCHES_SQL).df(), con.execute(REASONS_SQL).df(),
                          con.execute(REFUSED_FILES_SQL).df(), con.execute(UNRECOGNISED_FILES_SQL).df(),
                          pdf_notice=missing_pdfs_notice(warehouse_path.parent / "reports"))


def print_summary(summary: RunSummary, console: Console) -> None:
    """Print the summary tables: batches, findings by reason, files not loaded, files not read."""
    batches = Table(title="Batches 批次", title_justify="left")
    headers = ["round", "batch", "files\nloaded", "files\nrejected", "files\ndupl.", "values\naccepted",
               "values\nrejected", "values\nflagged", "coverage\n%"]
    for header in headers:
        batches.add_column(header, justify="left" if header in ("round", "batch") else "right")
    for row in summary.batches.itertuples(index=False):
        batches.add_row(*[("" if pd.isna(v) else str(v)) for v in row])
    console.print(batches)
    reasons = load_reason_codes()
    table = Table(title="Findings by reason 问题分类", title_justify="left")
    for header in ("level", "code", "count", "原因", "reason"):
        table.add_column(header, justify="right" if header == "count" else "left")
    for row in summary.reasons.itertuples(index=False):
        reason = reasons.get(row.code)
        table.add_row(row.level, row.code, str(row.n), reason.zh if reason else "", reason.en if reason else "")
    console.print(table)
    if len(summary.refused_files):
        files = Table(title="Files not loaded 未载入的文件", title_justify="left")
        for header in ("file", "status", "reason", "detail"):
            files.add_column(header, overflow="fold")
        for row in summary.refused_files.itertuples(index=False):
            files.add_row(row.path, row.status, row.reason, "" if pd.isna(row.detail) else row.detail)
        console.print(files)
    if len(summary.unrecognised_files):
        unread = Table(title="Files not read 未读取的文件: not in a <round>/batch-N/ folder", title_justify="left")
        for header in ("file", "reason", "move it to"):
            unread.add_column(header, overflow="fold")
        for row in summary.unrecognised_files.itertuples(index=False):
            unread.add_row(row.path, row.reason, "" if pd.isna(row.suggestion) else row.suggestion)
        console.print(unread)
    if summary.feedback_workbooks:
        console.print(f"Feedback workbooks written: {summary.feedback_workbooks}")
    if summary.pdf_notice:
        console.print(summary.pdf_notice)
