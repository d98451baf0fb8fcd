"""Read a long CSV (contract 4b): `zone_code,indicator,year,value[,unit,note]`, one value a line.

Encodings: UTF-8 with or without BOM, else GB18030 (a superset of GBK), detected by decoding
strictly in that order. One file may hold several zones (bulk or corrected data).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from pipelines.submission import FileRejected, ParsedFile
from schemas.catalogue import normalise_text
from schemas.observations import CELL_COLUMNS

REQUIRED_HEADER = ["zone_code", "indicator", "year", "value"]
OPTIONAL_HEADER = ["unit", "note"]
ENCODINGS = ("utf-8-sig", "gb18030")


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with; FileRejected when neither fits."""
    if b"\x00" in data:
        raise FileRejected("unreadable_file", "binary content (NUL bytes): not a text CSV")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileRejected("unreadable_file", "the text is neither UTF-8 nor GB18030/GBK")


def first_lines(text: str, records: int) -> list[int]:
    """The physical line each data record starts on (the header is line 1).

    Without quoted fields every record is one line; a quoted note may span several, so the csv
    module counts them."""
    if '"' not in text:
        return list(range(2, records + 2))
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    starts, previous_end = [], reader.line_num
    for _row in reader:
        starts.append(previous_end + 1)
        previous_end = reader.line_num
    return starts[:records]


def read_long_csv(path: Path) -> ParsedFile:
    """Read one long CSV into cells; raises FileRejected for undecodable text or a wrong header."""
    text, _encoding = decode(path.read_bytes())
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # keeps data row i on line i + 2 (unless a quoted field spans lines)
            quoting=csv.QUOTE_MINIMAL,
            index_col=False,  # a trailing comma on every line must not turn the first column into an index
        ).fillna("")
    except pd.errors.EmptyDataError:
        raise FileRejected("bad_header", "the file is empty") from None
    except pd.errors.ParserError as error:
        raise FileRejected("unreadable_file", f"not a well-formed CSV ({str(error).strip()[:200]})") from None
    header = [normalise_text(str(column)).lower() for column in frame.columns]
    missing = [column for column in REQUIRED_HEADER if column not in header]
    unknown = [column for column in header if column not in REQUIRED_HEADER + OPTIONAL_HEADER]
    if missing or unknown or len(set(header)) != len(header):
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(repr(column) for column in unknown)}")
        if len(set(header)) != len(header):
            problems.append("repeated columns")
        raise FileRejected(
            "bad_header", f"header {','.join(map(str, frame.columns))!r}: {'; '.join(problems)}; "
            f"expected {','.join(REQUIRED_HEADER)}[,{','.join(OPTIONAL_HEADER)}]"
        )
    frame.columns = header
    if "unit" not in frame.columns:
        frame["unit"] = ""
    # Line 1 is the header; pandas keeps line order, so data row i is on line i + 2.
    cells = pd.DataFrame(
        {
            "zone_code": frame["zone_code"].map(normalise_text).str.upper(),
            "indicator_raw": frame["indicator"].str.strip(),
            "year_raw": frame["year"].str.strip(),
            "raw_value": frame["value"],
            "number": float("nan"),
            "unit": frame["unit"].map(normalise_text),
            "source_sheet": None,
            "source_cell": [f"line {number}" for number in first_lines(text, len(frame))],
            "row_reason": None,
            "row_detail": None,
        }
    ).astype(CELL_COLUMNS)
    cells = cells[cells["raw_value"].str.strip() != ""].reset_index(drop=True)
    zones = cells["zone_code"].unique()
    return ParsedFile(zones[0] if len(zones) == 1 else None, cells)
