"""Precedence (README: "Rules behind the codes") against a plain-Python statement of its rules, on generated values.

`resolve_history` takes shortcuts for speed (only keys read more than once go through grouping
and windows); this test states the rules row by row, without shortcuts, and compares:
- within one (round, batch), a key given different values: every one of its rows is rejected;
- equal duplicates count once: the first read is the batch's version;
- the version of the latest (round, batch) is in force;
- `revised`: a version that differs from the one in force before its batch;
- `suspicious_jump`: a version more than the jump factor away from the previous year's value in
  force after its batch.
"""

from __future__ import annotations

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.load.precedence import resolve_history
from schemas.catalogue import load_catalogue

BATCHES = [(2014, 1), (2014, 2), (2015, 1), (2015, 2)]

cells = st.lists(
    st.tuples(
        st.sampled_from(BATCHES),
        st.sampled_from(["Z1", "Z2"]),
        st.sampled_from([1, 2]),
        st.sampled_from([2010, 2011, 2012]),
        st.sampled_from([0.0, 1.0, 2.0, 10.0, 100.0]),
    ),
    max_size=60,
)


def accepted_frame(rows: list[tuple]) -> pd.DataFrame:
    """Accepted values in reading order (cell_order), one file per (batch, zone)."""
    files = {}
    records = []
    for order, ((round_year, batch), zone, indicator, year, value) in enumerate(rows):
        file_id = files.setdefault((round_year, batch, zone), len(files) + 1)
        records.append({"file_id": file_id, "round": round_year, "batch": batch, "zone_code": zone,
                        "indicator_id": indicator, "year": year, "value": value, "source_sheet": "s",
                        "source_cell": f"A{order + 1}", "cell_order": order})
    frame = pd.DataFrame(records, columns=["file_id", "round", "batch", "zone_code", "indicator_id", "year", "value",
                                           "source_sheet", "source_cell", "cell_order"])
    return frame.astype({"file_id": "int64", "round": "int64", "batch": "int64", "zone_code": "string",
                         "indicator_id": "int64", "year": "int64", "value": "float64", "source_sheet": "string",
                         "source_cell": "string", "cell_order": "int64"})


def expected(frame: pd.DataFrame, jump: float) -> dict[str, set]:
    """The rules, row by row."""
    rows = frame.to_dict("records")
    by_batch_key: dict[tuple, list[dict]] = {}
    for row in rows:
        by_batch_key.setdefault((row["round"], row["batch"], row["zone_code"], row["indicator_id"], row["year"]),
                                []).append(row)
    conflicting = {row["cell_order"] for group in by_batch_key.values() if len({r["value"] for r in group}) > 1
                   for row in group}
    versions = {}  # (round, batch, key) -> the batch's version
    for (round_year, batch, *key), group in by_batch_key.items():
        if not conflicting & {r["cell_order"] for r in group}:
            versions[(round_year, batch, *key)] = min(group, key=lambda r: r["cell_order"])

    def in_force_after(order: tuple | None) -> dict[tuple, dict]:
        """key -> the version in force after batch `order` (all batches when None)."""
        state: dict[tuple, dict] = {}
        for (round_year, batch, *key), version in sorted(versions.items(), key=lambda item: item[0][:2]):
            if order is None or (round_year, batch) <= order:
                state[tuple(key)] = version
        return state

    final = in_force_after(None)
    flags = set()
    for (round_year, batch, zone, indicator, year), version in versions.items():
        earlier = {(r, b) for r, b, *_ in versions if (r, b) < (round_year, batch)}
        prior = in_force_after(max(earlier)).get((zone, indicator, year)) if earlier else None
        if prior is not None and prior["value"] != version["value"]:
            flags.add((version["cell_order"], "revised"))
        before = in_force_after((round_year, batch)).get((zone, indicator, year - 1))
        if before is not None and before["value"] > 0 and version["value"] > 0 and (
                version["value"] > jump * before["value"] or version["value"] * jump < before["value"]):
            flags.add((version["cell_order"], "suspicious_jump"))
    return {
        "conflicts": conflicting,
        "history": {(row["cell_order"], row["cell_order"] in {v["cell_order"] for v in final.values()})
                    for row in rows if row["cell_order"] not in conflicting},
        "observations": {(*key, v["value"], v["cell_order"]) for key, v in final.items()},
        "flags": flags,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=cells)
def test_precedence_follows_the_rules(rows: list[tuple]) -> None:
    frame = accepted_frame(rows)
    catalogue = load_catalogue()
    with duckdb.connect() as con:
        resolved = resolve_history(con, frame)
        history = resolved.history(con)
        observations = resolved.observations(con)
    cell_of = dict(zip(frame["source_cell"], frame["cell_order"], strict=True))
    flags = resolved.flags[resolved.flags["flag"].isin(["revised", "suspicious_jump"])]
    actual = {
        "conflicts": set(resolved.conflicts["cell_order"]),
        "history": set(zip(history["cell_order"], history["in_force"], strict=True)),
        "observations": set(zip(observations["zone_code"], observations["indicator_id"], observations["year"],
                                observations["value"], observations["cell_order"], strict=True)),
        "flags": {(cell_of[cell], flag) for cell, flag in zip(flags["source_cell"], flags["flag"], strict=True)},
    }
    assert actual == expected(frame, catalogue.jump_factor)


# --- the flag rule as the README states it, case by case -----------------------------------------

def jump_flags(rows: list[tuple]) -> set[tuple[int, int, int]]:
    """(round, batch, year) of every suspicious_jump on indicator 1 of zone Z1, for the given cells."""
    with duckdb.connect() as con:
        flags = resolve_history(con, accepted_frame(rows)).flags
    jumps = flags[flags["flag"] == "suspicious_jump"]
    return set(zip(jumps["round"], jumps["batch"], jumps["year"], strict=True))


def series(batch: tuple[int, int], values: dict[int, float]) -> list[tuple]:
    return [(batch, "Z1", 1, year, value) for year, value in values.items()]


def test_the_year_after_an_outlier_judged_with_it_is_flagged_too() -> None:
    assert jump_flags(series((2014, 1), {2010: 1.0, 2011: 10.0, 2012: 1.0})) == {(2014, 1, 2011), (2014, 1, 2012)}


def test_a_flag_keeps_its_verdict_when_a_later_batch_corrects_the_neighbour() -> None:
    rows = series((2014, 1), {2010: 1.0, 2011: 10.0, 2012: 1.0}) + series((2014, 2), {2011: 1.0})
    assert jump_flags(rows) == {(2014, 1, 2011), (2014, 1, 2012)}


def test_an_outlier_of_a_later_batch_flags_itself_not_the_year_after_it() -> None:
    rows = series((2014, 1), {2010: 1.0, 2011: 1.0, 2012: 1.0}) + series((2014, 2), {2011: 10.0})
    assert jump_flags(rows) == {(2014, 2, 2011)}


def test_a_year_judged_after_its_outlier_arrived_is_flagged() -> None:
    rows = series((2014, 1), {2010: 1.0, 2011: 10.0}) + series((2014, 2), {2012: 1.0})
    assert jump_flags(rows) == {(2014, 1, 2011), (2014, 2, 2012)}
