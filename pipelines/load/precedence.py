"""Precedence across batches and rounds, conflicting duplicates and warning flags (README: "Rules behind the codes").

Runs inside the warehouse being built. Input: the validated values with their source and reading
order. History and values in force stay in DuckDB (a million rows need not travel through pandas);
conflicting duplicates (to add to the rejections) and flags come back as frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from schemas.catalogue import load_catalogue
from schemas.messages import message_sql, number_sql

KEY = "zone_code, indicator_id, year"
FLAG_COLUMNS = ["zone_code", "indicator_id", "year", "round", "batch", "file_id", "flag", "detail", "source_cell"]

# Precedence only matters for keys read more than once (in any batch or round): a first batch
# reads every key once, and a supplementary batch repeats a few percent of them. Grouping,
# windows and sorts run on the rows of those keys; every other row is its key's only version,
# in force, and passes through with a cheap anti join against the (small) repeated keys.
REPEATED_KEY = "k.zone_code = h.zone_code and k.indicator_id = h.indicator_id and k.year = h.year"
REPEATED_SQL = f"""
create or replace temp table staging_repeated_keys as
select {KEY} from staging_accepted group by all having count(*) > 1;
create or replace temp table staging_repeated as
select h.* from staging_accepted h semi join staging_repeated_keys k on {REPEATED_KEY}
"""

# Within one (round, batch), the same key with different values: all of them are rejected.
# Conflicting values are listed in ascending order, as written (79.295, not 79.29500000000001).
CONFLICT_KEYS_SQL = f"""
create or replace temp table staging_conflict_keys as
select round, batch, {KEY},
       array_to_string(list_transform(list_sort(list_distinct(list(value))), lambda v: {number_sql("v")}), ', ')
           as all_values
from staging_repeated
group by round, batch, {KEY}
having min(value) <> max(value)
"""

CONFLICTS_SQL = f"""
select a.file_id, a.round, a.batch, a.zone_code, a.indicator_id, a.year, {number_sql("a.value")} as raw_value,
       'conflicting_duplicate' as reason,
       {message_sql("conflicting_duplicate", values="k.all_values", code="a.zone_code", indicator="a.indicator_id",
                    year="a.year")} as detail,
       a.source_sheet, a.source_cell, a.cell_order
from staging_repeated a
join staging_conflict_keys k
  on k.round = a.round and k.batch = a.batch and k.zone_code = a.zone_code and k.indicator_id = a.indicator_id
 and k.year = a.year
order by a.cell_order
"""

NOT_CONFLICTING = """
anti join staging_conflict_keys c
  on c.round = h.round and c.batch = h.batch and c.zone_code = h.zone_code and c.indicator_id = h.indicator_id
 and c.year = h.year
"""
HISTORY_SQL = f"""
create or replace temp table staging_history as
select h.* from staging_accepted h {NOT_CONFLICTING}
"""

# Accepted versions: one per key and batch (equal duplicates count once: the first read wins);
# `repeated` tells the keys with more than one. batch_seq numbers the batches present in (round,
# batch) order; series_id numbers the (zone, indicator) series. Both come from small numbered
# tables joined in: a window over the whole history would sort a million rows on one thread.
# (The join and the `qualify` sit at different query levels: DuckDB 2.0.1 returns a wrong column
# for `join ... using (...)` combined with `qualify`.)
VERSIONS_SQL = f"""
create or replace temp table staging_versions as
with only_reads as (
    select h.*, false as repeated from staging_history h anti join staging_repeated_keys k on {REPEATED_KEY}
),
first_reads as (
    select h.*, true as repeated from staging_repeated h {NOT_CONFLICTING}
    qualify cell_order = min(cell_order) over (partition by {KEY}, round, batch)
),
batches as (
    select round, batch, row_number() over (order by round, batch) as batch_seq
    from (select distinct round, batch from staging_history)
),
series as (
    select zone_code, indicator_id, row_number() over (order by zone_code, indicator_id) as series_id
    from (select distinct zone_code, indicator_id from staging_history)
)
select v.*, b.batch_seq, s.series_id
from (select * from only_reads union all select * from first_reads) v
join batches b on b.round = v.round and b.batch = v.batch
join series s on s.zone_code = v.zone_code and s.indicator_id = v.indicator_id
"""

# The values in force, and the history with the version in force marked, as tables (a row of a
# key read once is its key's value in force).
RESULT_TABLES_SQL = f"""
create or replace temp table staging_in_force as
select * from staging_versions where not repeated
union all
select * from (
    select * from staging_versions where repeated
    qualify batch_seq = max(batch_seq) over (partition by {KEY})
);
create or replace temp table staging_history_marked as
select h.*, (k.zone_code is null or f.cell_order is not null) as in_force
from staging_history h
left join staging_repeated_keys k on {REPEATED_KEY}
left join (select cell_order from staging_in_force where repeated) f on f.cell_order = h.cell_order;
"""

# Flags of the versions a batch introduced, judged against the values in force right after it.
# Both flags compare values within one (zone, indicator) series, so the state is needed only for
# the series the batch touched: a supplementary batch touches a few percent of them.
TOUCHED_SQL = """
create or replace temp table staging_touched as
select distinct series_id from staging_versions where batch_seq = $batch_seq
"""
TOUCHED = "series_id in (select series_id from staging_touched)"
STATE_SQL = f"""
create or replace temp table staging_state as
select * from staging_versions where batch_seq <= $batch_seq and not repeated and {TOUCHED}
union all
select * from (
    select * from staging_versions where batch_seq <= $batch_seq and repeated and {TOUCHED}
    qualify batch_seq = max(batch_seq) over (partition by {KEY})
)
"""
# After the last batch the state is the values in force.
LAST_STATE_SQL = f"""
create or replace temp table staging_state as
select * from staging_in_force where {TOUCHED}
"""

REVISED_AND_JUMPS_SQL = f"""
with prior as (  -- a key with an earlier version is a repeated key
    select * from staging_versions where batch_seq < $batch_seq and repeated and {TOUCHED}
    qualify batch_seq = max(batch_seq) over (partition by {KEY})
),
introduced as (select * from staging_versions where batch_seq = $batch_seq),
revised as (
    select n.*, 'revised' as flag,
           {message_sql("revised", before=number_sql("p.value"), before_round="p.round", before_batch="p.batch",
                        after=number_sql("n.value"))} as detail
    from introduced n join prior p using (zone_code, indicator_id, year)
    where p.value <> n.value
),
jumps as (
    select n.*, 'suspicious_jump' as flag,
           {message_sql("suspicious_jump", previous_year="n.year - 1", previous=number_sql("s.value"), year="n.year",
                        value=number_sql("n.value"), ratio=number_sql("round(n.value / s.value, 2)"))} as detail
    from introduced n join {{state}} s
      on s.zone_code = n.zone_code and s.indicator_id = n.indicator_id and s.year = n.year - 1
    where s.value > 0 and n.value > 0
      and (n.value > $jump * s.value or n.value * $jump < s.value)
)
select zone_code, indicator_id, year, round, batch, file_id, flag, detail, source_cell from revised
union all select zone_code, indicator_id, year, round, batch, file_id, flag, detail, source_cell from jumps
"""

UNIT_ERRORS_SQL = f"""
select v.zone_code, v.indicator_id, v.year, v.round, v.batch, v.file_id, 'possible_unit_error' as flag,
       {message_sql("possible_unit_error", value=number_sql("v.value"), median=number_sql("m.median_other"),
                    ratio=number_sql("round(v.value / m.median_other, 4)"))} as detail,
       v.source_cell
from staging_unit_errors m join staging_versions v on v.cell_order = m.cell_order
"""


@dataclass
class Resolution:
    """What precedence decided. History and values in force stay in DuckDB temp tables
    (`staging_history_marked`, `staging_in_force`) of the connection; the small parts are frames."""

    conflicts: pd.DataFrame
    flags: pd.DataFrame

    def history(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """Every accepted version with `in_force`, as a frame (for small inputs and tests)."""
        return con.execute(f"select * from staging_history_marked order by {KEY}, round, batch, cell_order").df()

    def observations(self, con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        """The values in force, as a frame (for small inputs and tests)."""
        return con.execute(
            f"select * exclude (batch_seq, series_id, repeated) from staging_in_force order by {KEY}").df()


def medians_of_others(series_id: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each value, the median of the other values of its series (NaN when it is alone).

    Rows must be sorted by (series_id, value). Leaving out the value at sorted position p, the
    i-th remaining value is the group's i-th value when i < p and its (i+1)-th otherwise, so the
    median of the others is read off the sorted group without building it."""
    count = len(value)
    if not count:
        return np.array([], dtype="float64")
    starts_at = np.flatnonzero(np.r_[True, series_id[1:] != series_id[:-1]])
    sizes = np.diff(np.r_[starts_at, count])
    start = np.repeat(starts_at, sizes)
    position = np.arange(count) - start
    others = np.repeat(sizes, sizes) - 1

    def other(i: np.ndarray) -> np.ndarray:
        index = start + i + (i >= position)
        return value[np.clip(index, 0, count - 1)]

    middle = other(np.maximum((others - 1) // 2, 0))  # an odd count of others: the middle one
    left, right = other(np.maximum(others // 2 - 1, 0)), other(others // 2)  # an even count: these two
    median = np.where(others % 2 == 1, middle, (left + right) / 2)
    return np.where(others > 0, median, np.nan)


def _unit_error_rows(con: duckdb.DuckDBPyConnection, batch_seq: int, state: str) -> pd.DataFrame:
    """cell_order and median of the other years for the batch's versions about ×100 or ×10,000 off."""
    catalogue = load_catalogue()
    state = con.execute(
        f"select series_id, value, cell_order, batch_seq from {state} order by series_id, value"
    ).fetchnumpy()
    median = medians_of_others(state["series_id"], state["value"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(state["value"] / median, median / state["value"])
    tolerance = catalogue.unit_error_tolerance
    near_factor = np.zeros(len(ratio), dtype=bool)
    for factor in catalogue.unit_error_factors:
        near_factor |= (ratio >= factor / tolerance) & (ratio <= factor * tolerance)
    flagged = near_factor & (state["batch_seq"] == batch_seq) & (state["value"] > 0) & (median > 0)
    return pd.DataFrame({"cell_order": state["cell_order"][flagged], "median_other": median[flagged]})


def resolve_history(con: duckdb.DuckDBPyConnection, accepted: pd.DataFrame,
                    flag_from: tuple[int, int] | None = None) -> Resolution:
    """Split accepted cells into history and conflicting duplicates; mark the values in force and flag
    each batch's new versions (only those of the batches from (round, batch) `flag_from` on, when given:
    a delta recomputes the flags of the batches it adds to)."""
    catalogue = load_catalogue()
    con.register("staging_accepted_frame", accepted)
    con.execute("create or replace temp table staging_accepted as select * from staging_accepted_frame")
    con.unregister("staging_accepted_frame")
    con.execute(REPEATED_SQL)
    con.execute(CONFLICT_KEYS_SQL)
    conflicts = con.execute(CONFLICTS_SQL).df()
    con.execute(HISTORY_SQL)
    con.execute(VERSIONS_SQL)
    con.execute(RESULT_TABLES_SQL)
    flag_frames = []
    batches = con.execute("select distinct batch_seq, round, batch from staging_versions order by 1").fetchall()
    batch_seqs = [seq for seq, *_ in batches]
    flagged = [seq for seq, *batch in batches if flag_from is None or tuple(batch) >= flag_from]
    every_series = con.execute("select count(distinct series_id) from staging_versions").fetchone()[0]
    for seq in flagged:
        con.execute(TOUCHED_SQL, {"batch_seq": seq})
        touched = con.execute("select count(*) from staging_touched").fetchone()[0]
        state = "staging_state"
        if seq != batch_seqs[-1]:
            con.execute(STATE_SQL, {"batch_seq": seq})
        elif touched < every_series:
            con.execute(LAST_STATE_SQL)
        else:
            state = "staging_in_force"  # every series: no need to copy it
        flag_frames.append(con.execute(REVISED_AND_JUMPS_SQL.format(state=state),
                                       {"batch_seq": seq, "jump": catalogue.jump_factor}).df())
        con.register("staging_unit_errors", _unit_error_rows(con, seq, state))
        flag_frames.append(con.execute(UNIT_ERRORS_SQL).df())
        con.unregister("staging_unit_errors")
    flags = [frame for frame in flag_frames if len(frame)]
    return Resolution(conflicts, pd.concat(flags, ignore_index=True) if flags else pd.DataFrame(columns=FLAG_COLUMNS))
