"""The pandera schema of the zone registry, `raw/reference/zones.csv` (README: "The zone registry").

The registry is read as text so that every failure can be reported with the value as written;
zone_type and type_evaluation are compared case-insensitively (`County`, `TRUE`).
Each check is named after what the steward must fix; `pipelines.ingest.registry` turns failures into
messages naming the row and column.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from schemas.catalogue import load_provinces

REQUIRED_COLUMNS = ["zone_code", "zone_name", "province_code", "zone_type", "type_evaluation"]
OPTIONAL_COLUMNS = ["designated_year", "removed_year"]
ZONE_TYPES = ["county", "district", "prefecture", "township"]


def _is_year_or_blank(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(r"(19|20)\d\d|").fillna(False)


def registry_schema() -> pa.DataFrameSchema:
    """The schema of a registry read with every column as text (blank cells as '')."""
    provinces = list(load_provinces())
    year_check = pa.Check(_is_year_or_blank, name="must be a four-digit year or blank")
    return pa.DataFrameSchema(
        {
            "zone_code": pa.Column(
                str,
                [
                    pa.Check(lambda s: s.str.fullmatch(r"[0-9A-Z]{6}"), name="must be 6 characters of 0-9 and A-Z"),
                    pa.Check(lambda s: ~s.duplicated(keep=False), name="must be unique"),
                ],
            ),
            "zone_name": pa.Column(
                str,
                [
                    pa.Check(lambda s: s.str.strip() != "", name="must not be blank"),
                    pa.Check(lambda s: ~s.duplicated(keep=False), name="must be unique"),
                ],
            ),
            "province_code": pa.Column(
                str, pa.Check(lambda s: s.isin(provinces), name="must be a GB/T 2260 province code (11 … 65)")
            ),
            "zone_type": pa.Column(
                str, pa.Check(lambda s: s.str.lower().isin(ZONE_TYPES), name=f"must be one of {ZONE_TYPES}")
            ),
            "type_evaluation": pa.Column(
                str, pa.Check(lambda s: s.str.lower().isin(["true", "false"]), name="must be true or false")
            ),
            "designated_year": pa.Column(str, year_check, required=False),
            "removed_year": pa.Column(str, year_check, required=False),
        },
        checks=[
            pa.Check(
                lambda df: df["zone_code"].str[:2] == df["province_code"],
                name="zone_code must start with province_code",
            )
        ],
        strict=False,
    )
