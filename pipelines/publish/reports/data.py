"""The numbers of the round reports, read from the warehouse as they stood at the end of a round.

A round's report shows the data *as of* that round: for every (zone, indicator, year) the value from
the latest (round, batch) up to the round's last batch (contract 2, precedence), for the years
2009 … R−1 and the zones expected in round R (contract 3). Everything is read through SQL from
`core.observation_history` and the other core tables, so re-running later reproduces what was
published; for the latest round the numbers equal the mart tables built from `core.observations`.

Every function takes an open (read-only) DuckDB connection and returns a pandas DataFrame. Means are
ordered aggregates (`avg(x order by x)`): a parallel sum adds in a varying order, and a last-bit
difference can change a printed digit between two runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

import duckdb
import numpy as np
import pandas as pd

from pipelines.index.engine import compute_index
from pipelines.index.method import Method
from schemas.observations import FIRST_YEAR

# The zones expected in round $r: designated before the round and not removed by it (contract 3).
EXPECTED_CTE = """
expected as (
    select z.zone_code, z.zone_name, z.province_code, z.region, z.zone_type, z.type_evaluation
    from core.zones as z
    where coalesce(z.designated_year, 0) < $r and (z.removed_year is null or z.removed_year > $r)
)"""

# The value in force after batch $b of round $r for each key of an expected zone, years 2009 .. $r-1.
AS_OF_CTE = EXPECTED_CTE + """,
as_of as (
    select h.zone_code, h.indicator_id, h.year, h.value, h.round, h.batch
    from core.observation_history as h
    semi join expected using (zone_code)
    where (h.round < $r or (h.round = $r and h.batch <= $b)) and h.year between $first and $r - 1
    qualify row_number() over (
        partition by h.zone_code, h.indicator_id, h.year order by h.round desc, h.batch desc, h.file_id, h.source_cell
    ) = 1
)"""

ROUNDS_SQL = "select round, max(batch) as last_batch from core.submission_files group by round order by round"

STRUCTURE_SQL = "with " + EXPECTED_CTE + """
select 'region' as dimension, region as category, count(*) as zones, count(distinct province_code) as provinces
from expected group by region
union all
select 'zone_type', zone_type, count(*), count(distinct province_code) from expected group by zone_type
"""

SUBMISSIONS_SQL = """
with batches as (select distinct batch from core.submission_files where round = $r),
files as (
    select batch, count(*) as files_received,
           count(*) filter (where status = 'loaded') as files_loaded,
           count(*) filter (where status = 'rejected') as files_rejected,
           count(*) filter (where status = 'duplicate') as files_duplicate
    from core.submission_files where round = $r group by batch
),
accepted as (select batch, count(*) as values_accepted from core.observation_history where round = $r group by batch),
rejected as (select batch, count(*) as values_rejected from core.rejected_values where round = $r group by batch),
flagged as (
    select batch, count(distinct (file_id, zone_code, indicator_id, year)) as values_flagged
    from core.value_flags where round = $r and indicator_id is not null group by batch
),
status as (
    select batch,
           count(*) as zones_expected,
           count(*) filter (where status = 'not_submitted') as zones_not_submitted,
           count(*) filter (where status = 'rejected') as zones_rejected,
           count(*) filter (where status = 'with_problems') as zones_with_problems,
           count(*) filter (where status = 'clean') as zones_clean
    from mart.submission_status where round = $r group by batch
)
select b.batch,
       coalesce(files_received, 0) as files_received, coalesce(files_loaded, 0) as files_loaded,
       coalesce(files_rejected, 0) as files_rejected, coalesce(files_duplicate, 0) as files_duplicate,
       coalesce(values_accepted, 0) as values_accepted, coalesce(values_rejected, 0) as values_rejected,
       coalesce(values_flagged, 0) as values_flagged,
       coalesce(zones_expected, 0) as zones_expected, coalesce(zones_not_submitted, 0) as zones_not_submitted,
       coalesce(zones_rejected, 0) as zones_rejected, coalesce(zones_with_problems, 0) as zones_with_problems,
       coalesce(zones_clean, 0) as zones_clean
from batches as b
left join files using (batch) left join accepted using (batch) left join rejected using (batch)
left join flagged using (batch) left join status using (batch)
order by b.batch
"""

# Coverage only asks whether a key has a value in force after batch k, not which one: a key is covered
# from the first batch whose data hold it (0 for a key already reported in an earlier round), so all
# batches are counted in one pass instead of one precedence query per batch.
COVERAGE_SQL = "with " + EXPECTED_CTE + """,
covered_since as (
    select h.zone_code, h.indicator_id, h.year, min(case when h.round < $r then 0 else h.batch end) as since_batch
    from core.observation_history as h
    semi join expected using (zone_code)
    where h.round <= $r and h.year between $first and $r - 1
    group by h.zone_code, h.indicator_id, h.year
),
batches as (select distinct batch from core.submission_files where round = $r),
cells as (
    select e.zone_code, e.zone_type, i.indicator_id, unnest(range($first, $r)) as year
    from expected as e cross join core.indicators as i
)
select b.batch, c.zone_type, c.indicator_id, c.year,
       count(*) as zones_expected, count(*) filter (where s.since_batch <= b.batch) as zones_reported,
       100.0 * count(*) filter (where s.since_batch <= b.batch) / count(*) as coverage_pct
from batches as b
cross join cells as c
left join covered_since as s using (zone_code, indicator_id, year)
group by b.batch, c.zone_type, c.indicator_id, c.year
order by b.batch, c.zone_type, c.indicator_id, c.year
"""

# The queries below read the temp tables `expected` and `as_of` of a round snapshot (`round_snapshot`).
DISTRIBUTION_SQL = """
with grouped as (
    select a.indicator_id, a.year, 'all' as group_kind, 'all' as group_name, a.value
    from as_of as a
    union all
    select a.indicator_id, a.year, 'zone_type', e.zone_type, a.value
    from as_of as a join expected as e using (zone_code)
    union all
    select a.indicator_id, a.year, 'region', e.region, a.value
    from as_of as a join expected as e using (zone_code)
),
quartiles as (
    -- one sort per group for the three quartiles (the median is the interpolated 0.5 quantile)
    select indicator_id, year, group_kind, group_name, count(*) as n, avg(value order by value) as mean,
           quantile_cont(value, [0.5, 0.25, 0.75]) as q, min(value) as min, max(value) as max
    from grouped
    group by indicator_id, year, group_kind, group_name
)
select indicator_id, year, group_kind, group_name, n, mean, q[1] as median, q[2] as q1, q[3] as q3, min, max
from quartiles
order by indicator_id, year, group_kind, group_name
"""

# Problems of the round's own submissions still open after its last batch: rejected values not
# superseded by an accepted value of a later batch, and warnings on value versions still in force.
OPEN_PROBLEMS_SQL = """
with open_rejections as (
    select r.zone_code, count(*) as open_rejected
    from core.rejected_values as r
    where r.round = $r and not exists (
        select 1 from core.observation_history as h
        where h.zone_code = r.zone_code and h.indicator_id = r.indicator_id and h.year = r.year
          and h.round = $r and h.batch > r.batch and h.batch <= $b
    )
    group by r.zone_code
),
open_warnings as (
    select f.zone_code, count(distinct (f.indicator_id, f.year)) as open_warnings
    from core.value_flags as f
    join as_of as a
      on a.zone_code = f.zone_code and a.indicator_id = f.indicator_id and a.year = f.year
     and a.round = f.round and a.batch = f.batch
    where f.round = $r and f.flag <> 'revised'
    group by f.zone_code
),
file_warnings as (
    select zone_code, count(*) as file_warnings
    from core.value_flags where round = $r and indicator_id is null group by zone_code
)
select e.zone_code, e.zone_name, e.zone_type, coalesce(open_rejected, 0) as open_rejected,
       coalesce(open_warnings, 0) as open_warnings, coalesce(file_warnings, 0) as file_warnings,
       coalesce(open_rejected, 0) + coalesce(open_warnings, 0) + coalesce(file_warnings, 0) as open_total
from expected as e
left join open_rejections using (zone_code) left join open_warnings using (zone_code)
left join file_warnings using (zone_code)
where open_total > 0
order by open_total desc, e.zone_code
"""

# Unordered, indicator as its number: the engine matches indicators by their text and orders its
# output itself, and converting a million strings was most of the query's time.
EVALUATION_INPUT_SQL = """
select a.zone_code as unit, a.year, a.indicator_id as indicator, a.value
from as_of as a join expected as e using (zone_code)
where e.type_evaluation
"""

# The same aggregation as dbt_like_sql/mart/index_by_type.sql, over the registered zone_scores.
BY_TYPE_SQL = """
with by_type as (
    select e.zone_type, s.year, s.node, avg(s.score order by s.score) as score, count(*) as zones
    from zone_scores as s join expected_zones as e using (zone_code)
    where s.score is not null
    group by e.zone_type, s.year, s.node
)
select c.zone_type, c.year, c.node, c.score, c.zones,
       case when p.score > 0 then 100 * (c.score / p.score - 1) end as growth_pct
from by_type as c
left join by_type as p on p.zone_type = c.zone_type and p.node = c.node and p.year = c.year - 1
order by c.zone_type, c.node, c.year
"""

# The same aggregation as dbt_like_sql/mart/index_growth.sql for one round's window.
GROWTH_SQL = """
select zone_type, node, min(year) as first_year, max(year) as last_year,
       arg_min(score, year) as first_score, arg_max(score, year) as last_score,
       case when max(year) > min(year) and arg_min(score, year) > 0
            then 100 * (pow(arg_max(score, year) / arg_min(score, year), 1.0 / (max(year) - min(year))) - 1)
       end as cagr_pct,
       avg(growth_pct order by year) filter (where year > $first) as mean_yoy_growth_pct
from by_type
group by zone_type, node
order by zone_type, node
"""


def _params(sql: str, round_year: int, batch: int | None = None) -> dict:
    """The named parameters a query uses (DuckDB refuses unused ones)."""
    values = {"r": round_year, "b": batch, "first": FIRST_YEAR}
    return {name: value for name, value in values.items() if f"${name}" in sql}


@contextmanager
def round_snapshot(con: duckdb.DuckDBPyConnection, round_year: int, last_batch: int
                   ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor holding the round's expected zones and the values in force after `last_batch` as temp tables
    `expected` and `as_of`, computed once for all the round's queries (the precedence window over the
    whole history is the costly part). A read-only connection may create temp tables."""
    cursor = con.cursor()
    try:
        cursor.execute("create temp table expected as with " + EXPECTED_CTE + " select * from expected",
                       {"r": round_year})
        cursor.execute("create temp table as_of as with " + AS_OF_CTE + " select * from as_of",
                       {"r": round_year, "b": last_batch, "first": FIRST_YEAR})
        yield cursor
    finally:
        cursor.close()


def query(con: duckdb.DuckDBPyConnection, sql: str, round_year: int, batch: int | None = None) -> pd.DataFrame:
    """Run one of this module's queries for a round (and batch)."""
    return con.execute(sql, _params(sql, round_year, batch)).df()


def rounds(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """(round, last batch) of every round with a file under raw/, oldest first."""
    return [(int(r), int(b)) for r, b in con.execute(ROUNDS_SQL).fetchall()]


def batches(con: duckdb.DuckDBPyConnection, round_year: int) -> list[int]:
    """The batches of a round, in order."""
    rows = con.execute("select distinct batch from core.submission_files where round = ? order by batch",
                       [round_year]).fetchall()
    return [int(b) for (b,) in rows]


def expected_zones(con: duckdb.DuckDBPyConnection, round_year: int) -> pd.DataFrame:
    """The zones expected in the round with their name, province, region, type and evaluation flag."""
    return query(con, "with " + EXPECTED_CTE + " select * from expected order by zone_code", round_year)


def zone_structure(con: duckdb.DuckDBPyConnection, round_year: int) -> pd.DataFrame:
    """Zones (and provinces with zones) by region and by type, with unrounded shares, as the seed states them."""
    frame = query(con, STRUCTURE_SQL, round_year)
    frame["share_pct"] = 100.0 * frame["zones"] / frame.groupby("dimension")["zones"].transform("sum")
    return frame


def province_count(con: duckdb.DuckDBPyConnection, round_year: int) -> int:
    """Provinces with at least one zone expected in the round."""
    sql = "with " + EXPECTED_CTE + " select count(distinct province_code) from expected"
    return int(con.execute(sql, {"r": round_year}).fetchone()[0])


def submissions(con: duckdb.DuckDBPyConnection, round_year: int) -> pd.DataFrame:
    """Per batch of the round: files, values and zone status counts (mart.submission_status)."""
    return query(con, SUBMISSIONS_SQL, round_year)


def coverage(con: duckdb.DuckDBPyConnection, round_year: int) -> pd.DataFrame:
    """Coverage per batch, zone type, indicator and year - the expected zones with a value in force after the batch."""
    return query(con, COVERAGE_SQL, round_year)


def distribution(con: duckdb.DuckDBPyConnection, round_year: int, last_batch: int) -> pd.DataFrame:
    """Each indicator's distribution per year over all zones, each zone type and each region, as of the round.

    `con` is a `round_snapshot` cursor, as for `open_problems` and `zone_scores`."""
    return query(con, DISTRIBUTION_SQL, round_year, last_batch)


def open_problems(con: duckdb.DuckDBPyConnection, round_year: int, last_batch: int) -> pd.DataFrame:
    """Expected zones with problems of the round still open after its last batch, most problems first."""
    return query(con, OPEN_PROBLEMS_SQL, round_year, last_batch)


def evaluation_input(con: duckdb.DuckDBPyConnection, round_year: int, last_batch: int) -> pd.DataFrame:
    """The as-of values of the type-evaluated expected zones as the index engine reads them (unit, year, indicator,
    value); `con` is a `round_snapshot` cursor."""
    return query(con, EVALUATION_INPUT_SQL, round_year, last_batch)


@dataclass
class RoundInputs:
    """Everything the two reports of a round read from the warehouse, as it stood after the round's last batch."""

    round: int
    last_batch: int
    structure: pd.DataFrame
    provinces: int
    submissions: pd.DataFrame
    coverage: pd.DataFrame
    distribution: pd.DataFrame
    open_problems: pd.DataFrame
    zones: pd.DataFrame
    evaluation_input: pd.DataFrame

    def digest(self) -> str:
        """sha256 over every input: column names and types, row count and the sum of the rows' hashes.

        Summing pandas' fixed-key row hashes makes the digest independent of row order: the evaluation
        input is read unordered (the engine orders it), and the other tables are ordered by their query."""
        digest = hashlib.sha256()
        for item in fields(self):
            value = getattr(self, item.name)
            digest.update(item.name.encode())
            if isinstance(value, pd.DataFrame):
                rows = pd.util.hash_pandas_object(value, index=False).to_numpy(dtype=np.uint64)
                digest.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
                digest.update(f"{len(rows)} {int(rows.sum(dtype=np.uint64))}".encode())  # sum wraps around 2**64
            else:
                digest.update(repr(value).encode())
        return digest.hexdigest()


def round_inputs(con: duckdb.DuckDBPyConnection, round_year: int, last_batch: int) -> RoundInputs:
    """Read the inputs of a round's reports, as of its last batch."""
    with round_snapshot(con, round_year, last_batch) as snapshot:
        return RoundInputs(
            round=round_year, last_batch=last_batch,
            structure=zone_structure(snapshot, round_year), provinces=province_count(snapshot, round_year),
            submissions=submissions(snapshot, round_year), coverage=coverage(snapshot, round_year),
            distribution=distribution(snapshot, round_year, last_batch),
            open_problems=open_problems(snapshot, round_year, last_batch),
            zones=expected_zones(snapshot, round_year),
            evaluation_input=evaluation_input(snapshot, round_year, last_batch))


def zone_scores(data: pd.DataFrame, method: Method) -> pd.DataFrame:
    """The method's group scores of the type-evaluated expected zones, by the engine on their as-of values
    (`evaluation_input`)."""
    columns = ["zone_code", "year", "node", "score"]
    if data.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object) for c in columns})
    scores = compute_index(data, method)
    scores = scores[scores["node"].isin(list(method.groups))].rename(columns={"unit": "zone_code"})
    return scores[columns].sort_values(columns[:3], ignore_index=True)


def by_type(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame, zones: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                                                 pd.DataFrame]:
    """Type means with year-on-year growth, and growth over the window, as index_by_type / index_growth do."""
    cursor = con.cursor()  # registrations stay on this cursor, not on the caller's connection
    try:
        cursor.register("zone_scores", scores)
        cursor.register("expected_zones", zones[["zone_code", "zone_type"]])
        means = cursor.execute(BY_TYPE_SQL).df()
        cursor.register("by_type", means)
        growth = cursor.execute(GROWTH_SQL, {"first": FIRST_YEAR}).df()
    finally:
        cursor.close()
    return means, growth


def ranking(scores: pd.DataFrame, zones: pd.DataFrame, root: str, per_type: int = 5) -> pd.DataFrame:
    """Top and bottom zones of each type by the root score of the latest year with scores.

    Returns zone_type, year, rank (1 = best), of (zones ranked), position ('top' / 'bottom'),
    zone_code, zone_name and one column per node. With fewer than 2 × per_type zones a type
    shows its upper half as top and the rest as bottom.
    """
    columns = ["zone_type", "year", "rank", "of", "position", "zone_code", "zone_name"]
    if scores.empty or root not in set(scores["node"]):  # too few indicators reported for any index score
        return pd.DataFrame(columns=columns)
    wide = scores.pivot_table(index=["zone_code", "year"], columns="node", values="score").reset_index()
    wide = wide.merge(zones[["zone_code", "zone_name", "zone_type"]], on="zone_code")
    wide = wide[wide[root].notna()]
    parts = []
    for _zone_type, rows in wide.groupby("zone_type", sort=True):
        latest = rows[rows["year"] == rows["year"].max()].sort_values([root, "zone_code"], ascending=[False, True])
        latest = latest.assign(rank=range(1, len(latest) + 1), of=len(latest))
        shown = min(per_type, (len(latest) + 1) // 2)
        top = latest.head(shown).assign(position="top")
        bottom = latest.iloc[max(shown, len(latest) - per_type):].assign(position="bottom")
        parts += [top, bottom]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    return frame[columns + [c for c in frame.columns if c not in columns]]
