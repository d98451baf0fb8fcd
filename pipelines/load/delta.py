"""New files applied as a delta on a copy of the published warehouse, instead of rebuilding it.

When the only change under raw/ since the published warehouse was built is new files (the
fingerprint of its inputs it records, `load.build_inputs`), and they come after every file it holds in
reading order (a supplementary batch, a new round, or files appended at the end of the last
batch), the core tables are the published ones plus what the new files bring:

- their values are appended to the history; precedence runs again on the (zone, indicator)
  series they touch only, with the history of those series (values in force, `revised`,
  `suspicious_jump` and `possible_unit_error` all look within one series), and the flags of the
  batches the new files add to are replaced for those series;
- their rejected cells and file-level warnings are appended;
- the small tables (files, rounds, expected zones, registry, catalogue) are written again.

Anything else (a file changed, moved or removed, a new file sorting before a published one, a new
value colliding with a published one in the same batch, another registry, code, method file or
limits) is a full rebuild. The result is the warehouse a full rebuild gives, table by table.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.ingest.parse import ParsedSubmissions
from pipelines.load.build_inputs import recorded_build_inputs
from pipelines.load.core_tables import (
    all_flags,
    counted_files,
    fill_from_staging,
    registry_and_file_tables,
    with_conflicts,
)
from pipelines.load.precedence import resolve_history
from pipelines.runtime.raw_changes import RawState, raw_changes
from pipelines.runtime.warehouse import DUCKDB_MEMORY_LIMIT, create_table, insert_frame, transaction
from pipelines.validate.rules import ACCEPTED_COLUMNS, ValidatedValues
from schemas.core_tables import core_table_definitions

SERIES = "zone_code, indicator_id"
IN_TOUCHED_SERIES = "using delta_series s where t.zone_code = s.zone_code and t.indicator_id = s.indicator_id"

# A new value in the same (round, batch) as a published value or conflicting duplicate of its key would
# decide which of them is read first, or conflict with it: the published tables keep no reading
# order, so such a delta is rebuilt in full.
COLLISIONS_SQL = """
select count(*) from delta_accepted n
where exists (select 1 from core.observation_history h
              where h.zone_code = n.zone_code and h.indicator_id = n.indicator_id and h.year = n.year
                and h.round = n.round and h.batch = n.batch)
   or exists (select 1 from core.rejected_values r
              where r.reason = 'conflicting_duplicate' and r.zone_code = n.zone_code
                and r.indicator_id = n.indicator_id and r.year = n.year and r.round = n.round and r.batch = n.batch)
"""

# The published versions of the touched series, numbered before every new value (negative
# cell_order) in their own reading order as far as it matters: by batch, the version in force of
# a batch first (of equal duplicates, the first read is the one in force).
PUBLISHED_VERSIONS_SQL = """
select t.file_id, t.round, t.batch, t.zone_code, t.indicator_id, t.year, t.value, t.source_sheet, t.source_cell,
       row_number() over (order by t.round, t.batch, t.in_force desc, t.file_id, t.source_cell, t.year)
         - 1 - count(*) over () as cell_order
from core.observation_history t semi join delta_series s
  on s.zone_code = t.zone_code and s.indicator_id = t.indicator_id
"""

# Files whose outcome a full read would give differently than the published table says (a new
# copy preferred to a published file, say): a full rebuild.
CHANGED_FILES_SQL = """
select count(*) from (
    select file_id, path, status, reason, detail, zone_code from core.submission_files
    except
    select file_id, path, status, reason, detail, zone_code from delta_old_files
)
"""


def load_as_delta(build_path: Path, warehouse_path: Path, inputs: RawState, registry: pd.DataFrame,
                  parsed: ParsedSubmissions, validated: ValidatedValues,
                  unrecognised: pd.DataFrame) -> dict[str, int] | None:
    """The core tables of the run in `build_path`, a copy of the published warehouse with the new files applied
    (`inputs`: the fingerprint of this run's inputs); returns each table's row count, or None (and no build)
    when the change is not a delta of new files."""
    if not warehouse_path.exists():
        return None
    with duckdb.connect(str(warehouse_path), read_only=True) as published:
        recorded = recorded_build_inputs(published)
    changes = raw_changes(recorded, inputs)
    if recorded is None or not (changes.only_added or changes.nothing):
        return None
    added = changes.added
    for stale in (build_path, build_path.with_name(build_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(warehouse_path, build_path)
    con = duckdb.connect(str(build_path), config={"memory_limit": DUCKDB_MEMORY_LIMIT})
    try:
        with transaction(con):
            counts = apply_new_files(con, registry, parsed, validated, unrecognised, set(added))
    finally:
        con.close()
    if counts is None:
        build_path.unlink(missing_ok=True)
    return counts


def apply_new_files(con: duckdb.DuckDBPyConnection, registry: pd.DataFrame, parsed: ParsedSubmissions,
                    validated: ValidatedValues, unrecognised: pd.DataFrame, added: set[str]) -> dict[str, int] | None:
    """Apply the files at the paths `added` to the core tables in `con`; returns each table's row count, or
    None when they cannot be applied as a delta (checked before anything is written)."""
    files = parsed.files
    is_new = files["path"].isin(added)
    new_ids = set(files.loc[is_new, "file_id"])
    if not _appendable(con, files, is_new):
        return None
    accepted = validated.accepted[validated.accepted["file_id"].isin(new_ids)]
    conflicts, value_flags = pd.DataFrame(columns=validated.rejected.columns), pd.DataFrame()
    if len(accepted):
        con.register("delta_accepted", accepted)
        collisions = con.execute(COLLISIONS_SQL).fetchall()[0][0]
        con.execute(f"create or replace temp table delta_series as select distinct {SERIES} from delta_accepted")
        con.unregister("delta_accepted")
        if collisions:
            return None
        conflicts, value_flags = _resolve_touched_series(con, accepted)
    definitions = core_table_definitions()
    insert_frame(con, definitions["core.rejected_values"],
                 with_conflicts(validated.rejected[validated.rejected["file_id"].isin(new_ids)], conflicts))
    insert_frame(con, definitions["core.value_flags"],
                 all_flags(parsed.file_warnings[parsed.file_warnings["file_id"].isin(new_ids)], value_flags))
    files = counted_files(files, _rows_per_file(con, "core.observation_history"),
                          _rows_per_file(con, "core.rejected_values"))
    for name, frame in registry_and_file_tables(registry, files, unrecognised).items():
        create_table(con, definitions[name])
        insert_frame(con, definitions[name], frame)
    return {name: con.execute(f"select count(*) from {name}").fetchall()[0][0] for name in definitions}


def _appendable(con: duckdb.DuckDBPyConnection, files: pd.DataFrame, is_new: pd.Series) -> bool:
    """Whether the new files come after every published one (file numbers unchanged) and the published
    files read as they did."""
    last_id, published = con.execute(
        "select coalesce(max(file_id), 0), count(*) from core.submission_files").fetchall()[0]
    if published != (~is_new).sum() or (is_new.any() and files.loc[is_new, "file_id"].min() <= last_id):
        return False
    con.register("delta_old_files", files.loc[~is_new])
    try:
        return con.execute(CHANGED_FILES_SQL).fetchall()[0][0] == 0
    finally:
        con.unregister("delta_old_files")


def _resolve_touched_series(con: duckdb.DuckDBPyConnection, accepted: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                                           pd.DataFrame]:
    """Precedence again on the series in `delta_series`: their history and values in force replaced, their flags
    from the first batch the new values are in removed; returns the new conflicting duplicates and flags."""
    published = con.execute(PUBLISHED_VERSIONS_SQL).df()
    versions = pd.concat([published, accepted[ACCEPTED_COLUMNS]], ignore_index=True) if len(published) else accepted
    first_round, first_batch = min(zip(accepted["round"], accepted["batch"], strict=True))
    resolved = resolve_history(con, versions, flag_from=(first_round, first_batch))
    for name in ("core.observation_history", "core.observations"):
        con.execute(f"delete from {name} t {IN_TOUCHED_SERIES}")
        fill_from_staging(con, name)
    con.execute(f"delete from core.value_flags t {IN_TOUCHED_SERIES} "
                "and (t.round > $round or t.round = $round and t.batch >= $batch)",
                {"round": first_round, "batch": first_batch})
    return resolved.conflicts, resolved.flags


def _rows_per_file(con: duckdb.DuckDBPyConnection, table: str) -> pd.Series:
    counted = con.execute(f"select file_id, count(*) as rows from {table} group by all").df()
    return counted.set_index("file_id")["rows"]
