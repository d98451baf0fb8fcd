"""pandera schemas of the cells read from submissions and of the typed observations.

`candidate_schema` holds the value rules (README: "Value rules"). Each check is named after the reason
code it rejects with, so `pipelines.validate.rules` can turn pandera's failure cases straight into
`core.rejected_values` rows. `observation_schema` guards the accepted values (an asset check).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow

from schemas.catalogue import FIRST_YEAR, load_catalogue

# One row per value cell read (workbooks) or per line (CSVs); empty cells are not listed.
# Arrow-backed text: a million cells cost a fraction of the memory of Python strings.
TEXT = "string[pyarrow]"
CELL_COLUMNS = {
    "zone_code": TEXT,
    "indicator_raw": TEXT,  # as written: 序号 in workbooks, `indicator` in CSVs
    "year_raw": TEXT,  # as written in the year header / `year` column
    "raw_value": TEXT,  # the cell's text, or its number formatted without trailing zeros
    "number": "float64",  # the cell's number when it holds one, else NaN
    "unit": TEXT,  # the unit as written ('' when none)
    "source_sheet": TEXT,
    "source_cell": TEXT,  # A1 reference, or `line N` for CSVs
    "row_reason": TEXT,  # a reason decided while reading (e.g. indicator_name_mismatch)
    "row_detail": TEXT,
}



def cells_arrow_schema() -> pa_arrow.Schema:
    """CELL_COLUMNS as an Arrow schema: how cells travel back from the reading processes."""
    return pa_arrow.schema([(name, pa_arrow.float64() if dtype == "float64" else pa_arrow.string())
                            for name, dtype in CELL_COLUMNS.items()])


# A value missing where the schema needs one fails pandera's `not_nullable`; these say why.
NULL_REASONS = {
    "zone_code": "unknown_zone",
    "indicator_id": "unknown_indicator",
    "year": "year_out_of_range",
    "unit_factor": "unit_mismatch",
    "value": "not_a_number",
}
# When a cell fails several rules, the first in this order is its reason.
REASON_PRIORITY = [
    "indicator_name_mismatch",
    "formula_without_value",
    "unknown_zone",
    "unknown_indicator",
    "year_out_of_range",
    "unit_mismatch",
    "not_a_number",
    "negative_value",
    "out_of_range",
]


def parsed_cells_schema() -> pa.DataFrameSchema:
    """The shape every reader produces (checked as an asset check on the parsed cells)."""
    columns = {name: pa.Column(dtype, nullable=True) for name, dtype in CELL_COLUMNS.items()}
    columns["source_cell"] = pa.Column(TEXT, nullable=False)
    columns["file_id"] = pa.Column("int64", nullable=False)
    return pa.DataFrameSchema(columns, strict=False)


def _within_round(frame: pd.DataFrame) -> pd.Series:
    year = frame["year"]
    inside = (year >= FIRST_YEAR) & (year <= frame["round"] - 1)
    return inside.fillna(True).astype(bool)  # a missing year fails not_nullable instead


def _within_upper_limit(frame: pd.DataFrame) -> pd.Series:
    no_limit = frame["upper_limit"].isna() | frame["value"].isna()
    return (no_limit | (frame["value"] <= frame["upper_limit"])).astype(bool)


def candidate_schema(known_zones: list[str]) -> pa.DataFrameSchema:
    """The value rules, applied to non-missing cells with their parsed number and unit factor."""
    indicator_ids = list(load_catalogue().indicators)
    return pa.DataFrameSchema(
        {
            "zone_code": pa.Column("string", pa.Check(lambda s: s.isin(known_zones), name="unknown_zone")),
            "indicator_id": pa.Column("Int64", pa.Check(lambda s: s.isin(indicator_ids), name="unknown_indicator")),
            "year": pa.Column("Int64"),
            "round": pa.Column("int64"),
            "unit_factor": pa.Column("float64"),
            "value": pa.Column("float64", pa.Check(lambda s: s >= 0, name="negative_value")),
            "upper_limit": pa.Column("float64", nullable=True),
        },
        checks=[
            pa.Check(_within_round, name="year_out_of_range"),
            pa.Check(_within_upper_limit, name="out_of_range"),
        ],
        strict=False,
    )


def observation_schema() -> pa.DataFrameSchema:
    """An accepted value version: typed, complete, in the catalogue unit, within the rules."""
    indicator_ids = list(load_catalogue().indicators)
    return pa.DataFrameSchema(
        {
            "zone_code": pa.Column(None, pa.Check.str_matches(r"^[0-9A-Z]{6}$")),  # any text dtype
            "indicator_id": pa.Column("int64", pa.Check.isin(indicator_ids)),
            "year": pa.Column("int64", pa.Check.ge(FIRST_YEAR)),
            "value": pa.Column("float64", pa.Check.ge(0)),
            "round": pa.Column("int64"),
            "batch": pa.Column("int64", pa.Check.ge(1)),
            "file_id": pa.Column("int64"),
            "source_cell": pa.Column(None),
        },
        checks=[pa.Check(lambda df: df["year"] < df["round"], name="year before the round")],
        strict=False,
    )


def rejection_schema() -> pa.DataFrameSchema:
    """A rejected value: a known reason and the cell it came from."""
    return pa.DataFrameSchema(
        {
            "file_id": pa.Column("int64"),
            "reason": pa.Column(None, pa.Check.isin(REASON_PRIORITY + ["conflicting_duplicate"])),
            "source_cell": pa.Column(None),
            "raw_value": pa.Column(None, nullable=True),
        },
        strict=False,
    )
