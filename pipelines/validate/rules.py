"""Apply the value rules to the cells read from all submissions: accepted values and rejections.

Every non-missing cell ends in exactly one of the two frames (the accounting identity of the
README). Rules are the pandera `candidate_schema`; its failure cases become rejections with the
reason code the failing check is named after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipelines.validate.values import (
    by_unique,
    convert_units,
    missing_mask,
    normalised_codes,
    parse_integers,
    parse_numbers,
    parse_years,
    plain_numbers,
)
from schemas.catalogue import FIRST_YEAR, load_catalogue
from schemas.messages import messages
from schemas.observations import CELL_COLUMNS, NULL_REASONS, REASON_PRIORITY, TEXT, candidate_schema

ACCEPTED_COLUMNS = ["file_id", "round", "batch", "zone_code", "indicator_id", "year", "value", "source_sheet",
                    "source_cell", "cell_order"]
REJECTED_COLUMNS = ["file_id", "round", "batch", "zone_code", "indicator_id", "year", "raw_value", "reason", "detail",
                    "source_sheet", "source_cell", "cell_order"]


@dataclass
class ValidatedValues:
    """The outcome of validation: accepted values (catalogue unit) and rejected cells."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    missing_cells: int

    @classmethod
    def empty(cls) -> ValidatedValues:
        return cls(pd.DataFrame(columns=ACCEPTED_COLUMNS), pd.DataFrame(columns=REJECTED_COLUMNS), 0)

    def plus(self, other: ValidatedValues) -> ValidatedValues:
        """Both outcomes in one, with this one's column types. Rows are not re-sorted (a million
        rows would be copied once more): every consumer orders by `cell_order` where order matters."""
        def merged(mine: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
            if not len(theirs):
                return mine
            if list(theirs.columns) != list(mine.columns):
                theirs = theirs[list(mine.columns)]
            differing = {column: dtype for column, dtype in mine.dtypes.items() if theirs[column].dtype != dtype}
            theirs = theirs.astype(differing) if differing else theirs
            return pd.concat([mine, theirs], ignore_index=True) if len(mine) else theirs
        return ValidatedValues(merged(self.accepted, other.accepted), merged(self.rejected, other.rejected),
                               self.missing_cells + other.missing_cells)


def validate_cells(cells: pd.DataFrame, known_zones: list[str]) -> ValidatedValues:
    """Validate cells (the readers' columns plus file_id, round, batch, cell_order)."""
    catalogue = load_catalogue()
    if not isinstance(cells.index, pd.RangeIndex) or cells.index.start != 0 or cells.index.step != 1:
        cells = cells.reset_index(drop=True)
    # Most cells are numbers already (workbooks) or plain numbers as text (CSVs): the text rules
    # below run only on the rest. A formula without a value carries its formula text, so it is
    # never taken for a gap.
    number = cells["number"].copy()
    without_number = number.isna()
    if without_number.any():
        number[without_number] = plain_numbers(cells["raw_value"][without_number])
    textual = number.isna()
    is_missing = textual & by_unique(cells["raw_value"].where(textual), missing_mask)
    if is_missing.any():  # a million-row copy when nothing is missing is not needed
        cells, number, textual = (part[~is_missing].reset_index(drop=True) for part in (cells, number, textual))

    indicator_id = by_unique(cells["indicator_raw"], parse_integers)
    known_indicator = indicator_id.isin(list(catalogue.indicators)).fillna(False).astype(bool)
    upper = by_unique(indicator_id, lambda ids: ids.map(_upper_limit_of).astype("float64"))
    factor = _unit_factors(indicator_id, cells["unit"], known_indicator)
    if textual.any():
        suffix = indicator_id[textual].map(_unit_sign_of).astype("string")
        number[textual] = parse_numbers(cells["raw_value"][textual], number[textual], suffix)
    candidates = pd.DataFrame(
        {
            "zone_code": by_unique(cells["zone_code"], normalised_codes),
            "indicator_id": indicator_id,
            "year": by_unique(cells["year_raw"], parse_years),
            "round": cells["round"].astype("int64"),
            "unit_factor": factor,
            "value": convert_units(number, factor.fillna(1.0)),
            "upper_limit": upper,
        }
    )
    reasons = _reasons(candidates, cells, known_zones)
    accepted_mask = reasons.isna()
    base = pd.DataFrame(
        {
            "file_id": cells["file_id"].astype("int64"),
            "round": cells["round"].astype("int64"),
            "batch": cells["batch"].astype("int64"),
            "zone_code": candidates["zone_code"],
            "indicator_id": candidates["indicator_id"],
            "year": candidates["year"],
            "source_sheet": cells["source_sheet"],
            "source_cell": cells["source_cell"],
            "cell_order": cells["cell_order"].astype("int64"),
        }
    )
    accepted = base[accepted_mask].assign(value=candidates["value"][accepted_mask])
    # Text stays Arrow-backed, as in the values from the cache: joining the two then copies no strings.
    accepted = accepted.astype({"indicator_id": "int64", "year": "int64", "zone_code": TEXT})[ACCEPTED_COLUMNS]
    rejected_rows = ~accepted_mask
    rejected = base[rejected_rows].assign(
        raw_value=_shortened(cells["raw_value"][rejected_rows]),
        reason=reasons[rejected_rows],
        detail=_details(candidates[rejected_rows], cells[rejected_rows], reasons[rejected_rows]),
    ).astype({"zone_code": TEXT, "reason": TEXT, "detail": TEXT})[REJECTED_COLUMNS]
    return ValidatedValues(accepted.reset_index(drop=True), rejected.reset_index(drop=True), int(is_missing.sum()))


RAW_VALUE_LIMIT = 500


def _shortened(raw: pd.Series) -> pd.Series:
    """Raw values as stored for rejections: a cell of megabytes keeps its first 500 characters."""
    too_long = raw.str.len() > RAW_VALUE_LIMIT
    marked = raw.str.slice(0, RAW_VALUE_LIMIT) + "… (" + raw.str.len().astype("string") + " characters)"
    return raw.where(~too_long.fillna(False), marked)


def _upper_limit_of(indicator_id: object) -> float:
    indicator = load_catalogue().indicators.get(indicator_id)
    return indicator.upper_limit if indicator and indicator.upper_limit else np.nan


def _unit_sign_of(indicator_id: object) -> str:
    indicator = load_catalogue().indicators.get(indicator_id)
    return {"percent": "%", "permille": "‰"}.get(indicator.unit_kind, "") if indicator else ""


def _unit_factors(indicator_id: pd.Series, unit: pd.Series, known: pd.Series) -> pd.Series:
    """The conversion factor of each cell's unit, NaN where there is none (or the indicator is unknown)."""
    catalogue = load_catalogue()
    # A few dozen distinct (indicator, unit) pairs in a million cells: each pair is looked up once.
    # A pair is coded as indicator × width + unit code (factorising the two columns as a MultiIndex took 14× as long).
    ids = indicator_id.where(known, 0).astype("int64").to_numpy()
    unit_codes, units = pd.factorize(unit.fillna(""))
    width = len(units) + 1
    pair_codes, pairs = pd.factorize(ids * width + unit_codes)
    factors = np.array([catalogue.conversion_factor(int(i), units[u]) if i else 1.0
                        for i, u in (divmod(pair, width) for pair in pairs)], dtype="float64")
    return pd.Series(factors[pair_codes], index=indicator_id.index)


def _reasons(candidates: pd.DataFrame, cells: pd.DataFrame, known_zones: list[str]) -> pd.Series:
    """Each cell's reason code, or <NA> when it is accepted."""
    failures = []
    try:
        candidate_schema(known_zones).validate(candidates, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases.dropna(subset=["index"])
        reason = cases["check"].astype(str)
        is_null = reason == "not_nullable"
        reason = reason.where(~is_null, cases["column"].map(NULL_REASONS))
        failures.append(pd.DataFrame({"index": cases["index"].astype("int64"), "reason": reason}))
    preset = cells["row_reason"].dropna()
    failures.append(pd.DataFrame({"index": preset.index.astype("int64"), "reason": preset.astype(str)}))
    found = pd.concat(failures, ignore_index=True)
    found = found[found["reason"].isin(REASON_PRIORITY)]
    found["rank"] = found["reason"].map({code: rank for rank, code in enumerate(REASON_PRIORITY)})
    first = found.sort_values(["index", "rank"]).drop_duplicates("index")
    reasons = pd.Series(pd.NA, index=candidates.index, dtype="string")
    reasons.loc[first["index"].to_numpy()] = first["reason"].to_numpy()
    return reasons


def _details(candidates: pd.DataFrame, cells: pd.DataFrame, reasons: pd.Series) -> pd.Series:
    """A sentence per rejected cell saying what is wrong with it."""
    catalogue = load_catalogue()
    if reasons.empty:
        return pd.Series(dtype="string")
    cells = cells.astype({column: object for column in CELL_COLUMNS if CELL_COLUMNS[column] != "float64"})
    unit_expected = candidates["indicator_id"].map(
        lambda i: catalogue.indicators[i].unit if i in catalogue.indicators else ""
    )
    blank = "(blank)"
    text = {
        "unknown_zone": messages("unknown_zone", code=cells["zone_code"].fillna(blank)),
        "unknown_indicator": messages("unknown_indicator", indicator=cells["indicator_raw"].fillna(blank)),
        "year_out_of_range": messages("year_out_of_range", year=cells["year_raw"].fillna(blank), first=FIRST_YEAR,
                                      last=candidates["round"] - 1, round=candidates["round"]),
        "unit_mismatch": messages("unit_mismatch", unit=cells["unit"].fillna(""), expected=unit_expected),
        "not_a_number": messages("not_a_number", raw=cells["raw_value"].fillna("")),
        "negative_value": messages("negative_value", value=candidates["value"]),
        "out_of_range": messages("out_of_range", value=candidates["value"], limit=candidates["upper_limit"],
                                 unit=unit_expected),
    }
    detail = pd.Series(np.nan, index=reasons.index, dtype="object")
    for reason, sentence in text.items():
        detail = detail.where((reasons != reason).fillna(True), sentence)
    detail = detail.where(cells["row_detail"].isna(), cells["row_detail"])
    return detail.astype("string")
