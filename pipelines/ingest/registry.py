"""Read and check the zone registry; an invalid registry stops the run before anything is written."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from pipelines.ingest.csv_reader import decode, first_lines
from pipelines.ingest.submission import FileRejected
from schemas.catalogue import load_provinces
from schemas.registry import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, registry_schema


class RegistryError(Exception):
    """The registry cannot be used; the message names each offending row and column."""


def read_registry(path: Path) -> pd.DataFrame:
    """Read `zones.csv`, check it against the schema and return one typed row per zone.

    The text is decoded as submitted CSVs are (UTF-8 with or without BOM, else GB18030/GBK);
    rows with every cell blank (`,,,,,`) are ignored. Columns: the README's (zone_code,
    zone_name, province_code, region, zone_type, type_evaluation), designated_year and
    removed_year (nullable integers), then any extra columns as written. Raises RegistryError
    with every problem found, each by its line in the file.
    """
    if not path.is_file():
        raise RegistryError(
            f"{path}: the zone registry is missing. `sdz run` reads <raw>/reference/zones.csv; "
            "`sdz validate` reads the registry of the raw folder the files sit in, else "
            "$SDZ_RAW_DIR/reference/zones.csv, or the file given with --registry.")
    text_frame = _text_rows(path)
    missing = [column for column in REQUIRED_COLUMNS if column not in text_frame.columns]
    if missing:
        raise RegistryError(f"{path}: header lacks the column(s) {', '.join(missing)}")
    for column in OPTIONAL_COLUMNS:
        if column not in text_frame.columns:
            text_frame[column] = ""
    try:
        registry_schema().validate(text_frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        raise RegistryError(_describe_failures(path, text_frame, errors.failure_cases)) from None
    return _typed(text_frame)


def _text_rows(path: Path) -> pd.DataFrame:
    """The registry's non-blank rows as stripped text, indexed by their line in the file (header: line 1)."""
    try:
        text, _encoding = decode(path.read_bytes())
    except FileRejected as error:
        raise RegistryError(f"{path}: cannot be read as a CSV ({error.detail})") from None
    try:
        # Blank lines are kept as rows so that every record can be given its line in the file.
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise RegistryError(f"{path}: cannot be read as a CSV ({str(error).strip()})") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    frame = frame.fillna("").apply(lambda column: column.str.strip())
    frame.index = pd.Index(first_lines(text, len(frame)), name="line")
    return frame[(frame != "").any(axis=1)]


def _describe_failures(path: Path, frame: pd.DataFrame, failure_cases: pd.DataFrame) -> str:
    lines = [f"{path}: the zone registry is invalid; nothing was written. Fix these and run again:"]
    cases = failure_cases.dropna(subset=["index"]).sort_values(["index", "column"], kind="stable")
    seen: set[tuple[int, str]] = set()
    for case in cases.itertuples():
        # A check across columns reports every column of the row; name the one to correct.
        column = "province_code" if case.schema_context == "DataFrameSchema" else case.column
        key = (int(case.index), str(case.check))
        if key in seen:
            continue
        seen.add(key)
        value = frame.at[case.index, column]
        lines.append(f"  line {int(case.index)}, column {column}: {value!r} {case.check}")
    return "\n".join(lines)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    provinces = load_provinces()
    typed = frame.copy()
    typed["region"] = typed["province_code"].map(lambda code: provinces[code]["region"])
    typed["zone_type"] = typed["zone_type"].str.lower()
    typed["type_evaluation"] = typed["type_evaluation"].str.lower() == "true"
    for column in OPTIONAL_COLUMNS:
        typed[column] = pd.to_numeric(typed[column].replace("", None)).astype("Int64")
    leading = ["zone_code", "zone_name", "province_code", "region", "zone_type", "type_evaluation", *OPTIONAL_COLUMNS]
    extra = [column for column in typed.columns if column not in leading]
    return typed[leading + extra].sort_values("zone_code", ignore_index=True)


def expected_in_round(registry: pd.DataFrame, round_year: int) -> pd.Series:
    """Which zones are expected to submit in a round: designated before it and not removed by it."""
    designated = registry["designated_year"].fillna(0) < round_year
    removed = registry["removed_year"].notna() & (registry["removed_year"].fillna(0) <= round_year)
    return (designated & ~removed).astype(bool)
