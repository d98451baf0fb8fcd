"""Writing spreadsheets safely and reproducibly, for every workbook the project writes
(feedback, reports, the demo).

- Text is stored as text: openpyxl would store a string starting with `=` as a formula, and a
  spreadsheet would run it; control characters that xlsx cannot hold are dropped.
- A workbook can be saved byte for byte the same from the same content: fixed document times
  and zip entry times.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.xml.functions import tostring


def write_text(cell, value: object):
    """Store `value` in `cell` as a string, never as a formula; returns the cell."""
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    cell.data_type = "s"
    return cell


def _fixed_zip(payload: bytes, replace: dict[str, bytes], when: datetime) -> bytes:
    """Rewrite a zip with fixed entry times (same order), replacing some entries."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(payload)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, replace.get(info.filename, source.read(info.filename)))
    return out.getvalue()


def reproducible_bytes(workbook: Workbook, creator: str, when: datetime) -> bytes:
    """The workbook as .xlsx bytes that depend on its content only (not on the clock)."""
    workbook.properties.creator = creator
    workbook.properties.created = when
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.properties.modified = when  # save() stamps the clock; write the fixed time back
    return _fixed_zip(buffer.getvalue(), {"docProps/core.xml": tostring(workbook.properties.to_tree())}, when)
