"""The evaluation's zone scores: the composite-index engine over each round's values.

For every round of `core.rounds`, reads the values in force at the end of the round
(`mart.observations_as_of`) of the type-evaluated zones the round expects, applies the method file
(by default `schemas/methods/default.yaml`, README: "The composite index") and writes `mart.index_zone_round`: one score
per round, zone, year and node (`index` and the five aspects) on 0-100. Min-max goalposts come from
the round's own pooled panel, so a round's scores are those its evaluation report published; the
SQL models take the latest round's as `mart.index_zone_year` and aggregate them by type.
`mart.index_method` records the method file the scores were computed with. `mart.index_rank_round`
holds each zone's rank within its type by the index in the round's last year and the 90 % interval of that
rank under the engine's sensitivity analysis (weights and normalisation varied, `engine.sensitivity`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.index.engine import compute_index, sensitivity
from pipelines.index.method import Method, MethodError, load_method
from pipelines.runtime.warehouse import create_table, insert_frame, transaction
from schemas.catalogue import load_catalogue
from schemas.core_tables import TableDefinition

SCORE_COLUMNS = ["zone_code", "year", "node", "score"]
RANK_COLUMNS = ["zone_code", "year", "rank", "median_rank", "rank_p05", "rank_p95", "runs"]
# Runs of the sensitivity analysis behind the rank intervals (run 0 is the method as written), and its seed:
# fixed, so the same values always give the same intervals.
SENSITIVITY_RUNS = 100
SENSITIVITY_SEED = 0

# The type-evaluated zones round $round expects, numbered in zone-code order.
EVALUATED_ZONES_SQL = """
select zone_code, zone_type, row_number() over (order by zone_code) - 1 as zone_number
from staging.expected_zones
where round = $round and type_evaluation
"""

# Zone numbers rather than codes, integer indicator ids and no ORDER BY: the engine orders its panel
# itself and matches indicators as strings whatever their type, and 1.4 M numbers travel from DuckDB
# to pandas far more cheaply than 1.4 M Python strings.
EVALUATION_INPUT_SQL = f"""
select z.zone_number, a.year, a.indicator_id as indicator, a.value
from mart.observations_as_of a
join ({EVALUATED_ZONES_SQL}) z using (zone_code)
where a.round = $round
"""

INDEX_ZONE_ROUND = TableDefinition(
    name="mart.index_zone_round",
    description="Innovation-capacity index and its five aspects per round, type-evaluated zone and year (0-100), by "
    "the method file on the values in force at the end of the round (mart.observations_as_of): min-max over the "
    "round's pooled panel, equal weights, half-of-the-weight rule for gaps (default method).",
    columns=(
        ("round", "INTEGER", "Round whose values are evaluated (core.rounds)"),
        ("zone_code", "VARCHAR", "Zone code (type-evaluated zones the round expects)"),
        ("year", "INTEGER", "Year (first_year .. round-1)"),
        ("node", "VARCHAR", "index, or an aspect: st_input, st_output, economy, society, environment"),
        ("score", "DOUBLE", "Score on 0-100; absent when too few indicators were reported"),
    ),
    primary_key=("round", "zone_code", "year", "node"),
)

INDEX_RANK_ROUND = TableDefinition(
    name="mart.index_rank_round",
    description="Rank of each type-evaluated zone within its type by the index in the round's last year, with the 90 % "
    f"interval of that rank under the sensitivity analysis ({SENSITIVITY_RUNS} runs: the method as written, then "
    "every group weight x U(0.8, 1.2), every other run with z-scores instead of min-max; seed "
    f"{SENSITIVITY_SEED}) on the values in force at the end of the round. Rank 1 is the best; ties share the best.",
    columns=(
        ("round", "INTEGER", "Round whose values are evaluated (core.rounds)"),
        ("zone_code", "VARCHAR", "Zone code (type-evaluated zones the round expects)"),
        ("year", "INTEGER", "The round's last year (round-1), the year ranked"),
        ("rank", "DOUBLE", "Rank within the zone type by the index as the method writes it; absent without a score"),
        ("median_rank", "DOUBLE", "Median rank over the sensitivity runs"),
        ("rank_p05", "DOUBLE", "5th percentile of the rank over the runs (the interval's best end)"),
        ("rank_p95", "DOUBLE", "95th percentile of the rank over the runs (the interval's worst end)"),
        ("runs", "INTEGER", "Runs in which the zone had an index score that year"),
    ),
    primary_key=("round", "zone_code", "year"),
)

INDEX_METHOD = TableDefinition(
    name="mart.index_method",
    description="The method file the index tables were computed with (one row); the reports check that they "
    "describe this method.",
    columns=(
        ("method_name", "VARCHAR", "The method's name (its `name:`)"),
        ("file_name", "VARCHAR", "The method file's name"),
        ("sha256", "VARCHAR", "SHA-256 of the method file's bytes"),
    ),
    primary_key=("sha256",),
)


def load_evaluation_method(method_file: str) -> Method:
    """The evaluation's method file, read and validated; its indicators must be the catalogue's, else it
    would score no zone at all. Raises MethodError naming the file and the problem."""
    method = load_method(method_file)
    known = {str(indicator_id) for indicator_id in load_catalogue().indicators}
    unknown = [key for key in method.indicators if key not in known]
    if unknown:
        raise MethodError(f"{method_file}: indicators {', '.join(unknown)} are not in the indicator catalogue "
                          f"(ids {min(known, key=int)} to {max(known, key=int)}, schemas/catalogue.yaml); the "
                          "evaluation's method file scores the catalogue's indicators")
    return method


def method_digest(method_file: Path) -> str:
    """SHA-256 of a method file's bytes: what `mart.index_method` records and the reports compare."""
    return hashlib.sha256(Path(method_file).read_bytes()).hexdigest()


def zone_scores(data: pd.DataFrame, method: Method) -> pd.DataFrame:
    """Scores of the method's root and groups for every zone and year of a round's `evaluation_input`."""
    if data.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    # The root and the groups only: the leaves' normalised values are not stored.
    scores = compute_index(data, method, nodes=method.evaluation_order())
    return scores.rename(columns={"unit": "zone_code"})[SCORE_COLUMNS]


def zone_ranks(data: pd.DataFrame, zone_types: dict[str, str], method: Method, year: int) -> pd.DataFrame:
    """Rank within the zone type (`zone_types`: zone code -> type) by the index in `year`, and the rank's
    sensitivity interval, of every zone of a round's `evaluation_input` (normalised over all its years)."""
    if data.empty:
        return pd.DataFrame(columns=RANK_COLUMNS)
    # one run is the method as written: its median rank is the index's own rank
    as_written = sensitivity(data, method, 1, groups=zone_types, years=[year])[["unit", "year", "median_rank"]]
    varied = sensitivity(data, method, SENSITIVITY_RUNS, SENSITIVITY_SEED, groups=zone_types, years=[year])
    ranks = varied.merge(as_written.rename(columns={"median_rank": "rank"}), on=["unit", "year"], how="left")
    return ranks.rename(columns={"unit": "zone_code"})[RANK_COLUMNS]


def evaluation_input(con: duckdb.DuckDBPyConnection, round_year: int) -> pd.DataFrame:
    """The engine's long data (unit, year, indicator, value) of the zones evaluated in a round.

    `unit` is categorical, the zone codes its categories: the engine factorises it without hashing
    a string per value, and still names the zone code in its error messages."""
    parameters = {"round": round_year}
    zones = [code for code, _type, _number in
             con.execute(EVALUATED_ZONES_SQL + " order by zone_number", parameters).fetchall()]
    data = con.execute(EVALUATION_INPUT_SQL, parameters).df()
    unit = pd.Categorical.from_codes(data.pop("zone_number").to_numpy(), categories=pd.Index(zones, dtype=object))
    data.insert(0, "unit", unit)
    return data


def write_index_zone_round(con: duckdb.DuckDBPyConnection, method: Method, method_file: Path) -> int:
    """(Re)create mart.index_zone_round, mart.index_rank_round and mart.index_method in the warehouse being
    built; returns the scores' row count."""
    rounds = con.execute("select round, last_year from core.rounds order by round").fetchall()
    # sorted by zone_code, year, node within a round, as compute_index returns them
    scored, ranked = [], []
    for round_year, last_year in rounds:
        data = evaluation_input(con, round_year)
        zone_types = dict(con.execute(f"select zone_code, zone_type from ({EVALUATED_ZONES_SQL})",
                                      {"round": round_year}).fetchall())
        scored.append(zone_scores(data, method).assign(round=round_year))
        ranked.append(zone_ranks(data, zone_types, method, last_year).assign(round=round_year))
    recorded = pd.DataFrame({"method_name": [method.name], "file_name": [Path(method_file).name],
                             "sha256": [method_digest(method_file)]})
    with transaction(con):
        create_table(con, INDEX_ZONE_ROUND)
        rows = sum(insert_frame(con, INDEX_ZONE_ROUND, scores) for scores in scored)
        create_table(con, INDEX_RANK_ROUND)
        for ranks in ranked:
            insert_frame(con, INDEX_RANK_ROUND, ranks)
        create_table(con, INDEX_METHOD)
        insert_frame(con, INDEX_METHOD, recorded)
    return rows
