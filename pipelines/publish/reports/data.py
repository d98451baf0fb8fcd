"""The numbers of the round reports: one round's rows of the warehouse's per-round models.

A round's report shows the data as they stood at the end of the round. The SQL models hold those
numbers for every round (`mart.observations_as_of` and what is computed on it: the distribution,
the open problems, the index scores and their aggregates; `mart.coverage` and `mart.batch_summary`
per batch), so re-running later reproduces what was published. This module only reads them, a
round at a time; each rule is written once, in its model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import duckdb
import numpy as np
import pandas as pd

ROUNDS_SQL = "select round, last_batch from core.rounds order by round"
WINDOW_SQL = "select first_year, last_year from core.rounds where round = $r"

# One round's rows of each model, in the order the reports show them.
READS = {
    "structure": """select dimension, category, zones, provinces, share_pct from mart.zone_structure_round
                    where round = $r order by dimension, zones desc, category""",
    "submissions": """select batch, files_received, files_loaded, files_rejected, files_duplicate, values_accepted,
                             values_rejected, values_flagged, zones_expected, zones_not_submitted, zones_rejected,
                             zones_with_problems, zones_clean
                      from mart.batch_summary where round = $r order by batch""",
    "coverage": """select batch, zone_type, indicator_id, year, zones_expected, zones_reported, coverage_pct
                   from mart.coverage where round = $r order by batch, zone_type, indicator_id, year""",
    "distribution": """select indicator_id, year, group_kind, group_name, n, mean, median, q1, q3, min, max
                       from mart.indicator_summary_round where round = $r
                       order by indicator_id, year, group_kind, group_name""",
    "open_problems": """select zone_code, zone_name, zone_type, open_rejected, open_warnings, file_warnings, open_files,
                               open_total
                        from mart.open_problems where round = $r order by open_total desc, zone_code""",
    "zones": """select zone_code, zone_name, zone_type, region, type_evaluation from staging.expected_zones
                where round = $r order by zone_code""",
    "scores": """select zone_code, year, node, score from mart.index_zone_round where round = $r
                 order by zone_code, year, node""",
    "by_type": """select zone_type, year, node, score, zones, growth_pct from mart.index_by_type_round
                  where round = $r order by zone_type, node, year""",
    "growth": """select zone_type, node, first_year, last_year, first_score, last_score, cagr_pct, mean_yoy_growth_pct
                 from mart.index_growth where round = $r order by zone_type, node""",
}

INDEX_METHOD_SQL = "select method_name, file_name, sha256 from mart.index_method"


def rounds(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """(round, last batch) of every round with a file under raw/, oldest first."""
    return [(int(r), int(b)) for r, b in con.execute(ROUNDS_SQL).fetchall()]


def index_method(con: duckdb.DuckDBPyConnection) -> tuple[str, str, str]:
    """(method name, file name, sha256) of the method file the warehouse's index tables were computed with."""
    return con.execute(INDEX_METHOD_SQL).fetchone()


@dataclass
class RoundInputs:
    """Everything the two reports of a round read from the warehouse, as it stood at the end of the round."""

    round: int
    last_batch: int
    years: tuple[int, int]  # first and last year the round collects
    structure: pd.DataFrame
    submissions: pd.DataFrame
    coverage: pd.DataFrame
    distribution: pd.DataFrame
    open_problems: pd.DataFrame
    zones: pd.DataFrame
    scores: pd.DataFrame
    by_type: pd.DataFrame
    growth: pd.DataFrame

    @property
    def provinces(self) -> int:
        """Provinces with a zone expected in the round (each province lies in one region)."""
        return int(self.structure.loc[self.structure["dimension"] == "region", "provinces"].sum())

    def digest(self) -> str:
        """sha256 over every input (`inputs_digest`)."""
        return inputs_digest(self)


def inputs_digest(inputs: object) -> str:
    """sha256 over every field of a dataclass of inputs: frames by column names and types, row count and the
    sum of the rows' hashes, other values by their repr.

    Summing pandas' fixed-key row hashes makes the digest independent of row order."""
    digest = hashlib.sha256()
    for item in fields(inputs):
        value = getattr(inputs, item.name)
        digest.update(item.name.encode())
        if isinstance(value, pd.DataFrame):
            rows = pd.util.hash_pandas_object(value, index=False).to_numpy(dtype=np.uint64)
            digest.update(repr([(str(c), str(t)) for c, t in value.dtypes.items()]).encode())
            digest.update(f"{len(rows)} {int(rows.sum(dtype=np.uint64))}".encode())  # sum wraps around 2**64
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def round_inputs(con: duckdb.DuckDBPyConnection, round_year: int, last_batch: int) -> RoundInputs:
    """Read the inputs of a round's reports: the round's rows of each model."""
    first_year, last_year = con.execute(WINDOW_SQL, {"r": round_year}).fetchone()
    frames = {name: con.execute(sql, {"r": round_year}).df() for name, sql in READS.items()}
    return RoundInputs(round=round_year, last_batch=last_batch, years=(int(first_year), int(last_year)), **frames)


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
