"""Precedence across batches and rounds, conflicting duplicates and warning flags (contract 2, 4c).

Runs as SQL inside the warehouse being built. Input: the `staging_accepted` table (validated
values with their source and reading order). Output tables: observation_history, observations,
conflicting duplicates (to add to the rejections) and value flags.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.catalogue import load_catalogue

KEY = "zone_code, indicator_id, year"
FLAG_COLUMNS = ["zone_code", "indicator_id", "year", "round", "batch", "file_id", "flag", "detail", "source_cell"]

# Within one (round, batch), the same key with different values: all of them are rejected.
CONFLICTS_SQL = f"""
with keyed as (
    select *, count(distinct value) over (partition by round, batch, {KEY}) as distinct_values,
           string_agg(distinct cast(value as varchar), ' / ') over (partition by round, batch, {KEY}) as all_values
    from staging_accepted
)
select file_id, round, batch, zone_code, indicator_id, year, cast(value as varchar) as raw_value,
       'conflicting_duplicate' as reason,
       'this batch gives ' || all_values || ' for ' || zone_code || ' indicator ' || indicator_id
           || ' year ' || year as detail,
       source_sheet, source_cell, cell_order
from keyed
where distinct_values > 1
"""

# Accepted versions: one per key and batch (equal duplicates count once: the first read wins).
# batch_seq numbers the batches present in (round, batch) order. (No join here: DuckDB 2.0.1 returns
# a wrong column for `join ... using (...)` combined with `qualify`.)
VERSIONS_SQL = f"""
create or replace temp table staging_versions as
select *, dense_rank() over (order by round, batch) as batch_seq
from staging_history
qualify row_number() over (partition by {KEY}, round, batch order by cell_order) = 1
"""

IN_FORCE_SQL = f"""
select * from staging_versions
qualify row_number() over (partition by {KEY} order by batch_seq desc) = 1
"""

# Flags of the versions a batch introduced, judged against the values in force right after it.
FLAGS_SQL = f"""
with state as (
    select * from staging_versions where batch_seq <= $batch_seq
    qualify row_number() over (partition by {KEY} order by batch_seq desc) = 1
),
prior as (
    select * from staging_versions where batch_seq < $batch_seq
    qualify row_number() over (partition by {KEY} order by batch_seq desc) = 1
),
introduced as (select * from staging_versions where batch_seq = $batch_seq),
revised as (
    select n.*, 'revised' as flag,
           'was ' || p.value || ' from round ' || p.round || ' batch ' || p.batch || ', now ' || n.value as detail
    from introduced n join prior p using (zone_code, indicator_id, year)
    where p.value <> n.value
),
jumps as (
    select n.*, 'suspicious_jump' as flag,
           (n.year - 1) || ': ' || s.value || ' -> ' || n.year || ': ' || n.value
               || ' (x' || round(n.value / s.value, 2) || ')' as detail
    from introduced n join state s
      on s.zone_code = n.zone_code and s.indicator_id = n.indicator_id and s.year = n.year - 1
    where s.value > 0 and n.value > 0
      and (n.value > $jump * s.value or n.value * $jump < s.value)
),
others as (
    select n.file_id, n.zone_code, n.indicator_id, n.year, median(o.value) as median_other
    from introduced n join state o
      on o.zone_code = n.zone_code and o.indicator_id = n.indicator_id and o.year <> n.year
    group by all
),
unit_errors as (
    select n.*, 'possible_unit_error' as flag,
           n.value || ' is x' || round(n.value / m.median_other, 4) || ' the median ' || m.median_other
               || ' of the other years' as detail
    from introduced n join others m using (file_id, zone_code, indicator_id, year)
    where m.median_other > 0 and n.value > 0
      and list_bool_or([
          greatest(n.value / m.median_other, m.median_other / n.value) between f / $tolerance and f * $tolerance
          for f in $factors])
)
select zone_code, indicator_id, year, round, batch, file_id, flag, detail, source_cell from revised
union all select zone_code, indicator_id, year, round, batch, file_id, flag, detail, source_cell from jumps
union all select zone_code, indicator_id, year, round, batch, file_id, flag, detail, source_cell from unit_errors
"""


def resolve_history(con: duckdb.DuckDBPyConnection, accepted: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Split accepted cells into history and conflicting duplicates; compute values in force and flags.

    Returns frames: history (with in_force), observations, conflicts (rejection rows), flags.
    """
    catalogue = load_catalogue()
    con.register("staging_accepted_frame", accepted)
    con.execute("create or replace temp table staging_accepted as select * from staging_accepted_frame")
    con.unregister("staging_accepted_frame")
    conflicts = con.execute(CONFLICTS_SQL + " order by cell_order").df()
    con.execute(
        f"""create or replace temp table staging_history as
        select a.* from staging_accepted a
        anti join ({CONFLICTS_SQL}) c using (cell_order)"""
    )
    con.execute(VERSIONS_SQL)
    observations = con.execute(IN_FORCE_SQL + f" order by {KEY}").df()
    history = con.execute(
        f"""select h.*, (f.cell_order is not null) as in_force
        from staging_history h left join ({IN_FORCE_SQL}) f on f.cell_order = h.cell_order
        order by {KEY}, h.round, h.batch, h.cell_order"""
    ).df()
    batch_seqs = con.execute("select distinct batch_seq from staging_versions order by 1").fetchall()
    flag_frames = [
        con.execute(
            FLAGS_SQL,
            {
                "batch_seq": seq,
                "jump": catalogue.jump_factor,
                "tolerance": catalogue.unit_error_tolerance,
                "factors": list(catalogue.unit_error_factors),
            },
        ).df()
        for (seq,) in batch_seqs
    ]
    flags = pd.concat(flag_frames, ignore_index=True) if flag_frames else pd.DataFrame(columns=FLAG_COLUMNS)
    return {"history": history, "observations": observations, "conflicts": conflicts, "flags": flags}
