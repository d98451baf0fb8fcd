"""Read a long CSV (contract 4b): `zone_code,indicator,year,value[,unit,note]`, one value a line.

Encodings: UTF-8 with or without BOM, else GB18030 (a superset of GBK), detected by decoding
strictly in that order. One file may hold several zones (bulk or corrected data).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
from pyarrow import csv as pyarrow_csv

from pipelines.submission import FileRejected, ParsedFile
from schemas.catalogue import normalise_text

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


BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def _text_table(text: str) -> pd.DataFrame:
    """The CSV as a frame of text cells, one row per record.

    Files without quotes or blank lines (nearly all) go through Arrow's CSV reader; the others,
    and any that Arrow refuses, through pandas, which keeps blank lines as rows so that record i
    stays on line i + 2."""
    if '"' not in text and not BLANK_LINE.search(text):
        header = text.split("\n", 1)[0].rstrip("\r").split(",")
        if len(set(header)) == len(header):
            try:
                table = pyarrow_csv.read_csv(
                    io.BytesIO(text.encode("utf-8")),
                    convert_options=pyarrow_csv.ConvertOptions(
                        column_types={name: pa.string() for name in header}, strings_can_be_null=False),
                )
                return table.to_pandas()
            except pa.ArrowInvalid:
                pass
    return _pandas_table(text)


def _pandas_table(text: str) -> pd.DataFrame:
    try:
        return pd.read_csv(
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


def read_long_csv(path: Path) -> ParsedFile:
    """Read one long CSV into cells; raises FileRejected for undecodable text or a wrong header."""
    text, _encoding = decode(path.read_bytes())
    if not text.strip():
        raise FileRejected("bad_header", "the file is empty")
    frame = _text_table(text)
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
    # Texts are normalised later, once per distinct value (validation); cells keep them as written.
    cells = pd.DataFrame(
        {
            "zone_code": frame["zone_code"],
            "indicator_raw": frame["indicator"],
            "year_raw": frame["year"],
            "raw_value": frame["value"],
            "number": float("nan"),
            "unit": frame["unit"],
            "source_sheet": None,
            "source_cell": [f"line {number}" for number in first_lines(text, len(frame))],
            "row_reason": None,
            "row_detail": None,
        }
    )
    cells = cells[cells["raw_value"].str.strip() != ""].reset_index(drop=True)
    zones = {normalise_text(code).upper() for code in cells["zone_code"].unique()}
    return ParsedFile(zones.pop() if len(zones) == 1 else None, cells)
