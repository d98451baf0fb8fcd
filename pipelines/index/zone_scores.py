"""The evaluation's zone scores: the composite-index engine over the values in force.

Reads `core.observations` of the type-evaluated zones the latest round expects, applies the method file (by default
`schemas/methods/default.yaml`, contract 5) and writes `mart.index_zone_year`: one score per
zone, year and node (`index` and the five aspects) on 0-100.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.index.engine import compute_index
from pipelines.index.method import Method, MethodError, load_method
from pipelines.runtime.warehouse import create_table, insert_frame, transaction
from schemas.catalogue import load_catalogue
from schemas.core_tables import TableDefinition

# The type-evaluated zones the latest round expects, numbered in zone-code order.
EVALUATED_ZONES_SQL = """
select zone_code, row_number() over (order by zone_code) - 1 as zone_number
from staging.expected_zones
where is_latest_round and type_evaluation
"""

# Zone numbers rather than codes, integer indicator ids and no ORDER BY: the engine orders its panel
# itself and matches indicators as strings whatever their type, and 1.4 M numbers travel from DuckDB
# to pandas far more cheaply than 1.4 M Python strings.
EVALUATION_INPUT_SQL = f"""
select z.zone_number, o.year, o.indicator_id as indicator, o.value
from core.observations o
join ({EVALUATED_ZONES_SQL}) z using (zone_code)
"""

INDEX_ZONE_YEAR = TableDefinition(
    name="mart.index_zone_year",
    description="Innovation-capacity index and its five aspects per type-evaluated zone and year (0-100), by the "
    "default method file: min-max over the pooled panel, equal weights, half-of-the-weight rule for gaps.",
    columns=(
        ("zone_code", "VARCHAR", "Zone code (type-evaluated zones the latest round expects)"),
        ("year", "INTEGER", "Year"),
        ("node", "VARCHAR", "index, or an aspect: st_input, st_output, economy, society, environment"),
        ("score", "DOUBLE", "Score on 0-100; absent when too few indicators were reported"),
    ),
    primary_key=("zone_code", "year", "node"),
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


def zone_scores(con: duckdb.DuckDBPyConnection, method: Method) -> pd.DataFrame:
    """Scores of the method's root and groups for every type-evaluated zone and year."""
    data = evaluation_input(con)
    if data.empty:
        return pd.DataFrame(columns=["zone_code", "year", "node", "score"])
    # The root and the groups only: the leaves' normalised values are not stored.
    scores = compute_index(data, method, nodes=method.evaluation_order())
    return scores.rename(columns={"unit": "zone_code"})[["zone_code", "year", "node", "score"]]


def evaluation_input(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The engine's long data (unit, year, indicator, value) of the evaluated zones.

    `unit` is categorical, the zone codes its categories: the engine factorises it without hashing
    a string per value, and still names the zone code in its error messages."""
    zones = [code for code, _number in con.execute(EVALUATED_ZONES_SQL + " order by zone_number").fetchall()]
    data = con.execute(EVALUATION_INPUT_SQL).df()
    unit = pd.Categorical.from_codes(data.pop("zone_number").to_numpy(), categories=pd.Index(zones, dtype=object))
    data.insert(0, "unit", unit)
    return data


def write_index_zone_year(con: duckdb.DuckDBPyConnection, method: Method) -> int:
    """(Re)create mart.index_zone_year in the warehouse being built; returns its row count."""
    scores = zone_scores(con, method)  # sorted by zone_code, year, node, as compute_index returns them
    with transaction(con):
        create_table(con, INDEX_ZONE_YEAR)
        return insert_frame(con, INDEX_ZONE_YEAR, scores)
