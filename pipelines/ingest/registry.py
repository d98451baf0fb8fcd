"""Read and check the zone registry; an invalid registry stops the run before anything is written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from schemas.catalogue import load_provinces
from schemas.registry import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, registry_schema


class RegistryError(Exception):
    """The registry cannot be used; the message names each offending row and column."""


def read_registry(path: Path) -> pd.DataFrame:
    """Read `zones.csv`, check it against the schema and return one typed row per zone.

    Columns: the README's (zone_code, zone_name, province_code, region, zone_type,
    type_evaluation), designated_year and removed_year (nullable integers), then any extra
    columns as written. Raises RegistryError with every problem found.
    """
    if not path.is_file():
        raise RegistryError(f"{path}: the zone registry is missing (expected raw/reference/zones.csv)")
    try:
        text_frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise RegistryError(f"{path}: cannot be read as a UTF-8 CSV ({error})") from error
    text_frame.columns = [str(column).strip() for column in text_frame.columns]
    missing = [column for column in REQUIRED_COLUMNS if column not in text_frame.columns]
    if missing:
        raise RegistryError(f"{path}: header lacks the column(s) {', '.join(missing)}")
    text_frame = text_frame.apply(lambda column: column.str.strip())
    for column in OPTIONAL_COLUMNS:
        if column not in text_frame.columns:
            text_frame[column] = ""
    try:
        registry_schema().validate(text_frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        raise RegistryError(_describe_failures(path, text_frame, errors.failure_cases)) from None
    return _typed(text_frame)


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
        # Line 1 is the header, so data row i (0-based) is on line i + 2.
        lines.append(f"  row {int(case.index) + 2}, column {column}: {value!r} {case.check}")
    return "\n".join(lines)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    provinces = load_provinces()
    typed = frame.copy()
    typed["region"] = typed["province_code"].map(lambda code: provinces[code]["region"])
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
