"""Assemble the core tables from the registry, the parsed files and the validated values.

Writes them into the warehouse being built and returns their row counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict

import duckdb
import pandas as pd

from pipelines.ingest.inventory import UNRECOGNISED_COLUMNS
from pipelines.ingest.parse import ParsedSubmissions
from pipelines.ingest.registry import expected_in_round
from pipelines.load.precedence import resolve_history
from pipelines.runtime.warehouse import create_table, insert_frame
from pipelines.validate.rules import ValidatedValues
from schemas.catalogue import FIRST_YEAR, load_catalogue, load_provinces, load_reason_codes
from schemas.core_tables import core_table_definitions
from schemas.registry import OPTIONAL_COLUMNS, REQUIRED_COLUMNS


def zones_table(registry: pd.DataFrame) -> pd.DataFrame:
    """core.zones: the registry with province names and extra columns as JSON."""
    provinces = load_provinces()
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS + ["region"])
    extra = [column for column in registry.columns if column not in known]
    zones = registry.copy()
    zones["province_name"] = zones["province_code"].map(lambda code: provinces[code]["name_zh"])
    zones["extra_columns"] = (
        [json.dumps(row, ensure_ascii=False, sort_keys=True) for row in registry[extra].to_dict("records")]
        if extra else None
    )
    return zones


def indicators_table() -> pd.DataFrame:
    """core.indicators from the catalogue."""
    return pd.DataFrame(
        [
            {"indicator_id": i.id, "name_zh": i.name_zh, "name_en": i.name_en, "unit": i.unit, "level1": i.level1_zh,
             "level2": i.level2_zh, "aspect": i.aspect, "direction": i.direction, "level1_en": i.level1_en,
             "level2_en": i.level2_en}
            for i in load_catalogue().indicators.values()
        ]
    )


def reason_codes_table() -> pd.DataFrame:
    """core.reason_codes from schemas/reason_codes.yaml."""
    return pd.DataFrame([asdict(reason) for reason in load_reason_codes().values()])


def rounds_table(files: pd.DataFrame) -> pd.DataFrame:
    """core.rounds: each round with a file, the years it collects (FIRST_YEAR .. round-1) and its last batch."""
    rounds = files.groupby("round", as_index=False)["batch"].max().rename(columns={"batch": "last_batch"})
    rounds["round"] = rounds["round"].astype(int)
    rounds["first_year"] = FIRST_YEAR
    rounds["last_year"] = rounds["round"] - 1
    rounds["is_latest"] = rounds["round"] == rounds["round"].max()
    return rounds


def expected_zones_table(registry: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """core.expected_zones: the zones each round of core.rounds expects, by the registry's rule."""
    frames = [pd.DataFrame({"round": round_year,
                            "zone_code": registry.loc[expected_in_round(registry, round_year), "zone_code"]})
              for round_year in rounds["round"].tolist()]
    expected = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["round", "zone_code"])
    return expected.sort_values(["round", "zone_code"], ignore_index=True)


# Core tables that are filled from the temp tables precedence left in DuckDB, in reading order.
FROM_DUCKDB = {
    "core.observation_history": "staging_history_marked order by zone_code, indicator_id, year, round, batch, "
                                "cell_order",
    "core.observations": "staging_in_force order by zone_code, indicator_id, year",
}


def load_core_tables(
    con: duckdb.DuckDBPyConnection, registry: pd.DataFrame, parsed: ParsedSubmissions, validated: ValidatedValues,
    unrecognised: pd.DataFrame | None = None,
) -> dict[str, int]:
    """Resolve precedence, create every core table in `con` and fill it; returns each table's row count.

    `unrecognised`: the files under raw/ not read as submissions (`inventory.unrecognised_files`)."""
    resolved = resolve_history(con, validated.accepted)
    rejected = with_conflicts(validated.rejected, resolved.conflicts)
    accepted_per_file = dict(con.execute("select file_id, count(*) from staging_history group by all").fetchall())
    files = counted_files(parsed.files, accepted_per_file, rejected.groupby("file_id").size())
    frames = {
        **registry_and_file_tables(registry, files, unrecognised),
        "core.rejected_values": rejected,
        "core.value_flags": all_flags(parsed.file_warnings, resolved.flags),
    }
    counts = {}
    for name, definition in core_table_definitions().items():
        create_table(con, definition)
        if name in FROM_DUCKDB:
            counts[name] = fill_from_staging(con, name)
        else:
            counts[name] = insert_frame(con, definition, frames[name])
    return counts


def fill_from_staging(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """Append to a table of FROM_DUCKDB the rows precedence left in its temp table; returns the table's row count."""
    columns = ", ".join(core_table_definitions()[name].column_names)
    con.execute(f"insert into {name} ({columns}) select {columns} from {FROM_DUCKDB[name]}")
    return con.execute(f"select count(*) from {name}").fetchone()[0]


def with_conflicts(rejected: pd.DataFrame, conflicts: pd.DataFrame) -> pd.DataFrame:
    """The rejected cells plus the conflicting duplicates precedence found, in reading order."""
    if len(conflicts):
        conflicts = conflicts[list(rejected.columns)]
        rejected = pd.concat([rejected, conflicts.astype(rejected.dtypes.to_dict())], ignore_index=True) \
            if len(rejected) else conflicts
    return rejected.sort_values("cell_order", kind="stable", ignore_index=True)


def all_flags(file_warnings: pd.DataFrame, value_flags: pd.DataFrame) -> pd.DataFrame:
    """core.value_flags rows: the file-level warnings (indicator and year empty) and the value flags."""
    file_flags = file_warnings.assign(indicator_id=None, year=None, source_cell=None)
    flags = pd.concat([file_flags, value_flags], ignore_index=True) if len(file_flags) and len(value_flags) \
        else (value_flags if len(value_flags) else file_flags)
    return flags.sort_values(["round", "batch", "file_id", "zone_code", "indicator_id", "year", "flag"],
                             kind="stable", ignore_index=True, na_position="first")


def counted_files(files: pd.DataFrame, accepted_per_file: Mapping[int, int] | pd.Series,
                  rejected_per_file: Mapping[int, int] | pd.Series) -> pd.DataFrame:
    """core.submission_files: the files with how many of their values were accepted and rejected."""
    files = files.copy()
    files["values_accepted"] = files["file_id"].map(accepted_per_file).fillna(0)
    files["values_rejected"] = files["file_id"].map(rejected_per_file).fillna(0)
    return files


def registry_and_file_tables(registry: pd.DataFrame, files: pd.DataFrame,
                             unrecognised: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The core tables made from the registry, the catalogue and the list of files (`files`: as counted by
    `counted_files`), not from the values."""
    rounds = rounds_table(files)
    return {
        "core.zones": zones_table(registry),
        "core.indicators": indicators_table(),
        "core.submission_files": files,
        "core.unrecognised_files": unrecognised if unrecognised is not None else
        pd.DataFrame(columns=UNRECOGNISED_COLUMNS),
        "core.rounds": rounds,
        "core.expected_zones": expected_zones_table(registry, rounds),
        "core.reason_codes": reason_codes_table(),
    }
