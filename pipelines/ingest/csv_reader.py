"""Read a long CSV (README: "The long CSV"): `zone_code,indicator,year,value[,unit,note]`, one value a line.

Encodings: UTF-8 with or without BOM, else GB18030 (a superset of GBK), detected by decoding
strictly in that order. One file may hold several zones (bulk or corrected data).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pyarrow_csv

from pipelines.ingest.submission import FileRejected, ParsedFile, arrow_frame
from schemas.catalogue import normalise_text
from schemas.messages import message, message_pair

REQUIRED_HEADER = ["zone_code", "indicator", "year", "value"]
OPTIONAL_HEADER = ["unit", "note"]
ENCODINGS = ("utf-8-sig", "gb18030")


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with; FileRejected when neither fits."""
    if b"\x00" in data:
        raise FileRejected("unreadable_file", message("binary_csv"))
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileRejected("unreadable_file", message("csv_encoding"))


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
LONE_CARRIAGE_RETURN = re.compile(rb"\r(?!\n)")


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
    options = {"dtype": str, "keep_default_na": False, "skipinitialspace": True,
               "skip_blank_lines": False,  # keeps data row i on line i + 2 (unless a quoted field spans lines)
               "quoting": csv.QUOTE_MINIMAL}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # A trailing comma on every line must not turn the first column into an index.
            frame = pd.read_csv(io.StringIO(text), index_col=False, **options).fillna("")
    except pd.errors.EmptyDataError:
        raise FileRejected("bad_header", message("empty_csv")) from None
    except pd.errors.ParserError as error:
        # Nearly always a note with an unquoted comma: say so, with the line, rather than pandas' words.
        wider = _first_wider_record(text)
        detail = message("csv_too_many_fields", **wider) if wider else message(
            "csv_malformed", error=str(error).strip()[:200])
        raise FileRejected("unreadable_file", detail) from None
    if caught:  # rows longer than the header: pandas drops the extra fields, so they must be empty
        wider = _first_wider_record(text)
        if wider:
            raise FileRejected("unreadable_file", message("csv_too_many_fields", **wider))
    return frame


def _first_wider_record(text: str) -> dict[str, object] | None:
    """The line, header width and fields of the first record with filled fields beyond the header's."""
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    header = next(reader, [])
    previous_end = reader.line_num
    for row in reader:
        if any(field.strip() for field in row[len(header):]):
            return {"line": previous_end + 1, "columns": len(header), "fields": ",".join(row)}
        previous_end = reader.line_num
    return None


def read_long_csv(path: Path) -> ParsedFile:
    """Read one long CSV into cells; raises FileRejected for undecodable text or a wrong header."""
    text, _encoding = decode(path.read_bytes())
    if not text.strip():
        raise FileRejected("bad_header", message("empty_csv"))
    frame = _text_table(text)
    header = [normalise_text(str(column)).lower() for column in frame.columns]
    missing = [column for column in REQUIRED_HEADER if column not in header]
    unknown = [column for column in header if column not in REQUIRED_HEADER + OPTIONAL_HEADER]
    if missing or unknown or len(set(header)) != len(header):
        problems = []  # (zh, en) of each
        if missing:
            problems.append(message_pair("csv_header_missing", columns=", ".join(missing)))
        if unknown:
            problems.append(message_pair("csv_header_unknown", columns=", ".join(repr(column) for column in unknown)))
        if len(set(header)) != len(header):
            problems.append(message_pair("csv_header_repeated"))
        raise FileRejected("bad_header", message(
            "csv_header", header=",".join(map(str, frame.columns)), problems_zh="；".join(zh for zh, _ in problems),
            problems="; ".join(en for _, en in problems),
            expected=f"{','.join(REQUIRED_HEADER)}[,{','.join(OPTIONAL_HEADER)}]"))
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


@dataclass
class CsvBatch:
    """Many plain CSVs read at once: the cells of all of them (`file_index`: the position of their
    file in the list read), the zone of each file read (None when it holds several or none), and
    the positions of the files left to `read_long_csv`."""

    cells: pd.DataFrame
    zones: dict[int, str | None]
    one_by_one: list[int]


def read_long_csvs(paths: list[Path]) -> CsvBatch:
    """What `read_long_csv` gives for each file, for the plain ones (UTF-8, no quotes or blank
    lines, a valid header: nearly all) read in one pass: a national batch of thousands of files
    would otherwise spend most of its time building a small frame per file.

    Files that are not plain are listed in `one_by_one` (indexes into `paths`); their cells and
    refusals come from `read_long_csv`."""
    # Plain files with the same header line are parsed as one text: a parse per file costs more
    # than the parse itself at thousands of small files.
    by_header: dict[tuple[str, ...], list[tuple[int, bytes]]] = {}
    one_by_one = []
    for index, path in enumerate(paths):
        parts = _plain_parts(path.read_bytes())
        if parts is None:
            one_by_one.append(index)
        else:
            by_header.setdefault(parts[0], []).append((index, parts[1]))
    tables, indexes, lengths = [], [], []
    for header, files in by_header.items():
        table = _plain_table(header, [body for _, body in files])
        if table is not None:  # one text
            tables.append(table)
            indexes += [index for index, _ in files]
            lengths += [body.count(b"\n") for _, body in files]
            continue
        for index, body in files:  # a file of the group does not parse: find it, read the others
            table = _plain_table(header, [body])
            if table is None:
                one_by_one.append(index)
            else:
                tables.append(table)
                indexes.append(index)
                lengths.append(table.num_rows)
    one_by_one.sort()
    every = pa.concat_tables(tables) if tables else pa.table(
        {name: pa.array([], pa.string()) for name in PLAIN_COLUMNS})
    lengths = np.array(lengths, dtype="int64")
    file_index = np.repeat(np.array(indexes, dtype="int64"), lengths)
    if len(by_header) > 1:  # back to the order of `paths`
        rows_in_order = np.argsort(file_index, kind="stable")
        every, file_index = every.take(pa.array(rows_in_order)), file_index[rows_in_order]
        lengths = lengths[np.argsort(indexes)]
    # Line 1 is the header and plain files have one record a line: record i is on line i + 2.
    line = np.arange(len(file_index), dtype="int64") - np.repeat(np.cumsum(lengths) - lengths, lengths) + 2
    # Blank values are dropped; Arrow trims what `str.strip()` trims (\x1c-\x1f and \u3000 included).
    kept_rows = pc.not_equal(pc.utf8_trim_whitespace(every.column("value")), "")
    plain, kept = every.filter(kept_rows), kept_rows.to_numpy(zero_copy_only=False)
    rows, no_text = plain.num_rows, pa.nulls(plain.num_rows, pa.string())
    cells = pa.table({
        "zone_code": plain.column("zone_code"), "indicator_raw": plain.column("indicator"),
        "year_raw": plain.column("year"), "raw_value": plain.column("value"),
        "number": pa.nulls(rows, pa.float64()), "unit": plain.column("unit"), "source_sheet": no_text,
        "source_cell": pc.binary_join_element_wise("line ", pc.cast(pa.array(line[kept]), pa.string()), ""),
        "row_reason": no_text, "row_detail": no_text, "file_index": pa.array(file_index[kept]),
    })
    pairs = cells.group_by(["file_index", "zone_code"], use_threads=False).aggregate([])
    codes: dict[int, set[str]] = {index: set() for index in indexes}
    for index, code in zip(pairs.column("file_index").to_pylist(), pairs.column("zone_code").to_pylist(),
                           strict=True):
        codes[index].add(normalise_text(code).upper())
    zones = {index: found.pop() if len(found) == 1 else None for index, found in codes.items()}
    return CsvBatch(arrow_frame(cells), zones, one_by_one)


PLAIN_COLUMNS = ["zone_code", "indicator", "year", "value", "unit"]


def _plain_parts(data: bytes) -> tuple[tuple[str, ...], bytes] | None:
    """A plain CSV's header (as written) and its records (UTF-8, ending with a line break), or None
    when the file needs `read_long_csv`: not UTF-8, quotes, blank lines or a lone carriage return,
    empty, a header it would refuse."""
    if b"\x00" in data or b'"' in data or LONE_CARRIAGE_RETURN.search(data):
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not text.strip() or BLANK_LINE.search(text):
        return None
    first_line, _, records = text.partition("\n")
    header = first_line.rstrip("\r").split(",")
    names = [normalise_text(column).lower() for column in header]
    if (len(set(header)) != len(header) or len(set(names)) != len(names)
            or not set(REQUIRED_HEADER) <= set(names) or not set(names) <= set(REQUIRED_HEADER + OPTIONAL_HEADER)):
        return None
    body = records.encode("utf-8")
    return tuple(header), body if not body or body.endswith(b"\n") else body + b"\n"


def _plain_table(header: tuple[str, ...], bodies: list[bytes]) -> pa.Table | None:
    """The records of plain CSVs with this header as one table of PLAIN_COLUMNS (unit blank when
    absent), or None when they do not parse (a record with too many or too few fields)."""
    names = [normalise_text(column).lower() for column in header]
    text = b"".join(bodies)
    try:
        table = pyarrow_csv.read_csv(
            io.BytesIO(text),
            read_options=pyarrow_csv.ReadOptions(column_names=list(header), use_threads=False),
            convert_options=pyarrow_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False),
        ) if text else pa.table({name: pa.array([], pa.string()) for name in header})
    except pa.ArrowInvalid:
        return None
    if table.num_rows != text.count(b"\n"):  # each record on one line, or the line numbers would be off
        return None
    table = table.rename_columns(names)
    if "unit" not in names:
        table = table.append_column("unit", pa.array([""] * table.num_rows, pa.string()))
    return table.select(PLAIN_COLUMNS)
