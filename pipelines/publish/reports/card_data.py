"""The numbers of the zone report cards: one round's rows of the card marts, for all its zones at once.

A card shows a zone as it stood at the end of a round, like the round's reports. Every number
comes from a SQL model (`mart.zone_card_indicators`, `mart.zone_card_scores`, `mart.zone_card_rank`,
`mart.zone_card_quality`, with the values of `mart.observations_as_of`, the open rows of
`mart.findings` and the round's `mart.revisions`); this module only reads them - a query per
model and round, never per zone - and splits the rows by zone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipelines.publish.reports.data import inputs_digest

# One round's rows of each model; `$zones` is the list of zones wanted (empty: all the round expects).
ZONE_FILTER = "(len($zones) = 0 or list_contains($zones, zone_code))"
READS = {
    "zones": f"""select e.zone_code, e.zone_name, z.province_name, e.region, e.zone_type, e.type_evaluation,
                        z.designated_year
                 from staging.expected_zones as e inner join core.zones as z using (zone_code)
                 where e.round = $r and {ZONE_FILTER.replace('zone_code', 'e.zone_code')} order by e.zone_code""",
    "indicators": f"""select zone_code, indicator_id, unit, direction, years_expected, years_reported, latest_year,
                             latest_value, type_zones, type_median, type_q1, type_q3, position
                      from mart.zone_card_indicators where round = $r and {ZONE_FILTER}
                      order by zone_code, indicator_id""",
    "values": f"""select zone_code, indicator_id, year, value from mart.observations_as_of
                  where round = $r and {ZONE_FILTER} order by zone_code, indicator_id, year""",
    "scores": f"""select zone_code, year, node, score, type_mean from mart.zone_card_scores
                  where round = $r and {ZONE_FILTER} order by zone_code, node, year""",
    "rank": f"""select zone_code, year, rank, zones_ranked, median_rank, rank_p05, rank_p95, runs, not_ranked_reason
                from mart.zone_card_rank where round = $r and {ZONE_FILTER} order by zone_code""",
    "quality": f"""select zone_code, batch, status, values_accepted, values_rejected, findings, cells_expected,
                          cells_reported, coverage_pct, values_revised, open_total, open_rejected, open_warnings,
                          open_file_findings
                   from mart.zone_card_quality where round = $r and {ZONE_FILTER} order by zone_code, batch""",
    "open_findings": f"""select feedback_zone as zone_code, batch, kind, code, indicator_id, year, raw_value,
                                source_cell, detail
                         from mart.findings
                         where round = $r and is_open and feedback_zone is not null
                           and {ZONE_FILTER.replace('zone_code', 'feedback_zone')}
                         order by feedback_zone, batch, indicator_id nulls first, year, source_cell, code""",
    "revisions": f"""select zone_code, indicator_id, year, old_value, new_value, new_batch, relative_change_pct
                     from mart.revisions where new_round = $r and {ZONE_FILTER}
                     order by zone_code, new_batch, indicator_id, year""",
}
INDICATORS_SQL = "select indicator_id, name_zh, name_en, unit from core.indicators order by indicator_id"


@dataclass
class CardInputs:
    """Everything the cards of a round read from the warehouse, for the zones asked for."""

    round: int
    last_batch: int
    years: tuple[int, int]  # first and last year the round collects
    catalogue: pd.DataFrame  # indicator_id, name_zh, name_en, unit
    zones: pd.DataFrame
    indicators: pd.DataFrame
    values: pd.DataFrame
    scores: pd.DataFrame
    rank: pd.DataFrame
    quality: pd.DataFrame
    open_findings: pd.DataFrame
    revisions: pd.DataFrame

    @functools.cached_property
    def names(self) -> dict[int, dict]:
        """The catalogue's rows by indicator id."""
        return {row["indicator_id"]: row for row in self.catalogue.to_dict("records")}

    def digest(self) -> str:
        """sha256 over every input, independent of row order (`data.inputs_digest`)."""
        return inputs_digest(self)

    def by_zone(self, frame_name: str) -> ByZone:
        """A frame's rows by zone code."""
        return ByZone(getattr(self, frame_name))


class ByZone:
    """The rows of a frame ordered by zone code, handed out a zone at a time as records (dicts).

    Records are built only for the zone asked for: a round's values at national scale are more than a
    million rows, which as dicts all at once would take far more memory than the cards need."""

    def __init__(self, frame: pd.DataFrame) -> None:
        # the records leave out the zone code (the caller knows it): a Python string per row is what a
        # million rows would cost most
        self.columns = [column for column in frame.columns if column != "zone_code"]
        self.arrays = [frame[column].to_numpy() for column in self.columns]
        codes, zones = pd.factorize(frame["zone_code"])
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else []
        ends = [*starts[1:], len(codes)] if len(codes) else []
        self.spans = {zones[codes[start]]: (int(start), int(end)) for start, end in zip(starts, ends, strict=True)}

    def get(self, zone_code: str) -> list[dict]:
        """The zone's rows in the frame's order (none: an empty list)."""
        return [dict(zip(self.columns, row, strict=True))
                for row in zip(*self.arrays_of(zone_code).values(), strict=True)]

    def arrays_of(self, zone_code: str) -> dict[str, np.ndarray]:
        """The zone's rows as one array per column (views, no record built: for the long frames)."""
        start, end = self.spans.get(zone_code, (0, 0))
        return {column: array[start:end] for column, array in zip(self.columns, self.arrays, strict=True)}


def card_inputs(con: duckdb.DuckDBPyConnection, round_year: int, zones: list[str] | None = None) -> CardInputs:
    """Read the inputs of a round's cards: the round's rows of each model, for `zones` (default: all expected)."""
    first_year, last_year, last_batch = con.execute(
        "select first_year, last_year, last_batch from core.rounds where round = $r", {"r": round_year}).fetchone()
    parameters = {"r": round_year, "zones": list(zones or [])}
    frames = {name: con.execute(sql, parameters).df() for name, sql in READS.items()}
    return CardInputs(round=round_year, last_batch=int(last_batch), years=(int(first_year), int(last_year)),
                      catalogue=con.execute(INDICATORS_SQL).df(), **frames)
