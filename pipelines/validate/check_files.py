"""`sdz validate`: the checks of a run on a few files, with no warehouse touched.

Applies the same readers, value rules and within-batch duplicate rule as `sdz run` (the files
are treated as one batch) and lists every problem with file, sheet, cell, raw value and reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from pipelines.ingest.inventory import inventory_of
from pipelines.ingest.parse import read_files
from pipelines.load.precedence import resolve_history
from pipelines.runtime.limits import FileLimits
from pipelines.validate.rules import validate_cells
from schemas.catalogue import load_reason_codes, reason_codes_sent_to_zones


@dataclass
class ValidationReport:
    """Per file: status and counts; per problem: where, what and why."""

    files: pd.DataFrame
    problems: pd.DataFrame
    warnings: pd.DataFrame

    @property
    def rejected_anything(self) -> bool:
        return bool(len(self.problems)) or bool((self.files["status"] != "loaded").any())


def validate_files(
    rounds: dict[Path, int], registry: pd.DataFrame, limits: FileLimits | None = None
) -> ValidationReport:
    """Check each file (with the round it belongs to) against the template, the value rules and a run's
    size guards (`limits`, default FileLimits.from_env(): SDZ_MAX_FILE_BYTES, SDZ_MAX_INFLATED_BYTES)."""
    limits = limits or FileLimits.from_env()
    # The steward names these files, so links are followed wherever they point.
    entries = [(path.resolve(), str(path), round_year, 1) for path, round_year in rounds.items()]
    inventory = inventory_of(entries, Path("/"), limits.max_file_bytes)
    # Several files may share content here; a steward checking them wants each one checked, so
    # copies are not settled as a run settles them.
    parsed = read_files(inventory, Path.cwd(), registry, limits.max_inflated_bytes)
    validated = validate_cells(parsed.cells, list(registry["zone_code"]))
    with duckdb.connect() as con:
        resolved = resolve_history(con, validated.accepted)
        accepted_per_file = resolved.history(con).groupby("file_id").size()
    found = [frame for frame in (validated.rejected, resolved.conflicts) if len(frame)]
    problems = (pd.concat(found, ignore_index=True) if found else validated.rejected).sort_values("cell_order")
    problems = problems.merge(parsed.files[["file_id", "path"]], on="file_id")
    flags = resolved.flags
    sent = flags[flags["flag"].isin(reason_codes_sent_to_zones())]
    # Only the non-empty parts are joined: an empty part would decide the columns' dtypes (pandas 2 warned of it).
    found_warnings = [frame for frame in (parsed.file_warnings, sent) if len(frame)]
    warnings = pd.concat(found_warnings, ignore_index=True) if found_warnings else parsed.file_warnings
    warnings = warnings.merge(parsed.files[["file_id", "path"]], on="file_id")
    files = parsed.files.assign(
        values_accepted=parsed.files["file_id"].map(accepted_per_file).fillna(0),
        values_rejected=parsed.files["file_id"].map(problems.groupby("file_id").size()).fillna(0),
    )
    return ValidationReport(files, problems.reset_index(drop=True), warnings.reset_index(drop=True))


def print_report(report: ValidationReport, console: Console) -> None:
    """Print every file's outcome, then every problem and warning."""
    reasons = load_reason_codes()
    for file in report.files.itertuples(index=False):
        if file.status == "loaded":
            zone = "(several)" if pd.isna(file.zone_code) else file.zone_code
            console.print(f"{file.path}: zone {zone}, {int(file.values_accepted)} values "
                          f"accepted, {int(file.values_rejected)} rejected", soft_wrap=True)
        else:
            reason = reasons[file.reason]
            console.print(f"[bold red]{file.path}: file rejected[/] — {file.reason} ({reason.zh}; {reason.en}): "
                          f"{file.detail}. {reason.action_en}", soft_wrap=True)
    if len(report.problems):
        table = Table(title="Values that would be rejected", title_justify="left", show_lines=False)
        for header in ("file", "sheet", "cell", "indicator", "year", "raw value", "reason", "detail"):
            table.add_column(header, overflow="fold")
        for problem in report.problems.itertuples(index=False):
            table.add_row(problem.path, _text(problem.source_sheet), problem.source_cell, _text(problem.indicator_id),
                          _text(problem.year), _text(problem.raw_value), problem.reason, _text(problem.detail))
        console.print(table)
    if len(report.warnings):
        table = Table(title="Warnings (values load, but check them)", title_justify="left")
        for header in ("file", "cell", "indicator", "year", "flag", "detail"):
            table.add_column(header, overflow="fold")
        # File-level warnings alone (a zone name that differs, another round's template) name no cell,
        # indicator or year: those columns are then absent and shown empty.
        shown = report.warnings.reindex(columns=["path", "source_cell", "indicator_id", "year", "flag", "detail"])
        for path, cell, indicator, year, flag, detail in shown.itertuples(index=False):
            table.add_row(path, _text(cell), _text(indicator), _text(year), flag, _text(detail))
        console.print(table)
    rejected = len(report.problems) + int((report.files["status"] != "loaded").sum())
    console.print("OK: nothing would be rejected." if not rejected else f"{rejected} problem(s) would be rejected.")


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
