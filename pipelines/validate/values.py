"""Turn cell contents as written into numbers (README: "Value rules"), vectorised over whole columns.

A value is a number, or text that reads as one after NFKC normalisation (full-width digits,
signs and points), removing white space and thousands separators; a trailing `%` is allowed for
percentage indicators (and `‰` for per-mille ones). Missing markers mean "not reported".
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from schemas.catalogue import load_catalogue, normalise_text

NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
# At most 9 digits: anything longer is no indicator or year, and would not fit an INTEGER column.
INTEGER_PATTERN = re.compile(r"\d{1,9}(?:\.0*)?")
YEAR_PATTERN = r"((?:19|20)\d\d)(?:\.0*)?年?"


def by_unique(values: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`transform` applied once per distinct value, spread back over the column.

    Columns such as indicator, year, unit and zone code hold a few dozen distinct texts in a
    million cells; parsing each text once is what keeps validation fast at national scale."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # One more entry for an empty cell: its code, -1, picks the last one.
    distinct = pd.concat([pd.Series(uniques, dtype=values.dtype), pd.Series([pd.NA], dtype=values.dtype)],
                         ignore_index=True)
    transformed = transform(distinct)
    return pd.Series(transformed.to_numpy()[codes], index=values.index, dtype=transformed.dtype)


def plain_numbers(raw: pd.Series) -> pd.Series:
    """Cells that are plain ASCII numbers ('12.5', '-3', '1e5'), parsed in one vectorised pass; NaN
    elsewhere (the text rules of `parse_numbers` then apply to those few cells only)."""
    # pandas' parser accepts exactly the plain forms the rules allow (surrounding spaces included)
    # and no others, except infinity, which is not a usable number.
    parsed = pd.to_numeric(raw.astype(object), errors="coerce").astype("float64")
    return parsed.where(np.isfinite(parsed))


def normalised_text(raw: pd.Series) -> pd.Series:
    """NFKC-normalised text without white space or thousands separators."""
    text = raw.fillna("").astype("string").str.normalize("NFKC")
    return text.str.replace(r"[\s,]+", "", regex=True).str.replace("\u2212", "-", regex=False)


def normalised_codes(codes: pd.Series) -> pd.Series:
    """Zone codes as compared with the registry: NFKC, no white space, upper case."""
    return codes.map(lambda code: normalise_text(code).upper() if isinstance(code, str) else pd.NA).astype("string")


def missing_mask(raw: pd.Series) -> pd.Series:
    """True where the cell holds a missing marker (empty, —, /, 无, NA, …): "not reported".

    The only test of a missing value. The markers of `catalogue.yaml` are normalised exactly as
    the cells are (NFKC, no white space, upper case), so "Ｎ／Ａ", "n/a" and " — " count too."""
    markers = normalised_text(pd.Series(load_catalogue().missing_markers, dtype="string")).str.upper()
    return normalised_text(raw).str.upper().isin(set(markers)).astype(bool)


def parse_numbers(raw: pd.Series, number: pd.Series, suffix_allowed: pd.Series) -> pd.Series:
    """The number each cell holds (NaN when it is not one).

    `number` carries the cell's numeric value where the workbook stored one; `suffix_allowed`
    holds the unit sign ('%' or '‰') a value may end with, or '' where none is allowed.
    """
    text = normalised_text(raw)
    suffix = suffix_allowed.fillna("").astype("string")
    has_suffix = (suffix != "") & (text.str.len() > 1) & (text.str[-1:] == suffix)
    text = text.where(~has_suffix, text.str[:-1])
    readable = text.str.fullmatch(NUMBER_PATTERN).fillna(False).astype(bool)
    parsed = pd.to_numeric(text.where(readable), errors="coerce").astype("float64")
    with_number = number.notna()
    values = parsed.where(~with_number, number).astype("float64")
    # Digits beyond the float range ("9" × 400) read as infinity: not a usable number.
    return values.where(np.isfinite(values))


def parse_integers(raw: pd.Series) -> pd.Series:
    """Whole numbers of up to 9 digits as written ('7', '7.0', '１７') → Int64; anything else → <NA>."""
    text = normalised_text(raw)
    readable = text.str.fullmatch(INTEGER_PATTERN.pattern).fillna(False).astype(bool)
    return pd.to_numeric(text.where(readable), errors="coerce").astype("Int64")


def parse_years(raw: pd.Series) -> pd.Series:
    """Years as written ('2013', '2013年', 2013.0) → Int64; anything else → <NA>."""
    extracted = normalised_text(raw).str.extract(f"^{YEAR_PATTERN}$", expand=False)
    return pd.to_numeric(extracted, errors="coerce").astype("Int64")


def convert_units(values: pd.Series, factors: pd.Series) -> pd.Series:
    """values × factor in the catalogue unit, as the same decimal number written in that unit.

    Binary floating point makes 2.1185 × 10000 come out as 21184.999999999996; converted values are
    rounded to 15 significant digits so that 2.1185 万元/人 and 21185 元/人 load as the same number.
    """
    product = values * factors
    converted = (factors != 1) & product.notna()
    rounded = [float(f"{value:.15g}") for value in product[converted]]
    return product.where(~converted, pd.Series(rounded, index=product.index[converted], dtype="float64"))
