"""Unit tests of reading cell text as numbers (pipelines/validate/values.py) and of unit conversion.

What these tests pin down beyond the README's words:
* scientific notation reads as a number ("1e5" -> 100000, as a spreadsheet would read it);
* "inf", "nan", "Infinity" are neither numbers nor missing markers (they are rejected as not_a_number);
* a trailing "%" is accepted only where the caller allows the indicator's own sign ("%" for
  percentage indicators, "‰" for per-mille ones);
* a converted value equals the float the same quantity typed in the catalogue unit gives
  (15802 元 -> the float of "1.5802"), so an equal resubmission in another unit is not a revision.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.validate.values import convert_units, missing_mask, parse_integers, parse_numbers, parse_years
from schemas.catalogue import load_catalogue, normalise_indicator_name, normalise_unit

CATALOGUE = load_catalogue()
FULL_WIDTH = {**{str(d): chr(0xFF10 + d) for d in range(10)}, ".": "．", ",": "，", "-": "－", "+": "＋", "e": "ｅ"}


def numbers(texts, suffix: str = "", cell_numbers=None) -> list[float]:
    """parse_numbers on text cells (no stored number unless given), as a list."""
    raw = pd.Series(texts, dtype="string")
    stored = pd.Series(cell_numbers if cell_numbers is not None else [np.nan] * len(raw), dtype="float64")
    return parse_numbers(raw, stored, pd.Series([suffix] * len(raw), dtype="string")).tolist()


def number(text: str, suffix: str = "") -> float:
    return numbers([text], suffix)[0]


def convert(value: float, factor: float) -> float:
    return float(convert_units(pd.Series([value], dtype="float64"), pd.Series([factor], dtype="float64")).iloc[0])


# --- unit conversion -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("indicator_id", "written", "factor"),
    [
        (1, "万元", 1.0),
        (1, "", 1.0),  # no unit written: the catalogue unit
        (1, "元", 0.0001),
        (1, "亿元", 10000.0),
        (1, "（元）", 0.0001),  # unit in full-width brackets
        (1, "(元)", 0.0001),
        (1, " 万 元 ", 1.0),
        (7, "元/人", 1.0),
        (7, "万元/人", 10000.0),
        (7, "万元／人", 10000.0),  # full-width slash
        (12, "万元/人", 10000.0),
        (2, "‰", 0.1),
        (2, "％", 1.0),
        (9, "%", 10.0),
        (9, "‰", 1.0),
        (15, "吨标准煤/万元", 1.0),  # synonym
        (15, "tce/万元", 1.0),
        (15, "吨标煤/元", None),  # different denominator: no exact conversion
        (3, "件/万人口", 1.0),
        (4, "个", 1.0),
        (6, "项", 1.0),
        (11, "人/亿元", 1.0),  # the catalogue's alias of the template's "%"
        (1, "美元", None),
        (1, "千元", None),
        (7, "元", None),  # 元 is not 元/人
        (7, "美元/人", None),
        (2, "个", None),
        (4, "万家", None),
    ],
)
def test_conversion_factor(indicator_id: int, written: str, factor: float | None) -> None:
    assert CATALOGUE.conversion_factor(indicator_id, written) == factor


def test_yuan_to_wan_yuan_is_exact() -> None:
    # The template's indicator 1 is in 万元; a zone writing 15802 元 means 1.5802 万元, exactly.
    assert convert(15802.0, CATALOGUE.conversion_factor(1, "元")) == float("1.5802")


@given(st.integers(min_value=0, max_value=10**13))
def test_whole_yuan_to_wan_yuan_equals_the_typed_value(yuan: int) -> None:
    assert convert(float(yuan), 0.0001) == float(Decimal(yuan).scaleb(-4))


@pytest.mark.parametrize(
    ("indicator_id", "written_value", "written_unit", "typed_in_catalogue_unit"),
    [
        (7, "2.1185", "万元/人", "21185"),
        (9, "3.82", "‰", "3.82"),
        (2, "25.2", "‰", "2.52"),
        (7, "6.23", "万元/人", "62300"),
        (9, "0.382", "%", "3.82"),
        (10, "38.2", "‰", "3.82"),
        (2, "35.7", "‰", "3.57"),
        (1, "1234.56", "元", "0.123456"),
    ],
)
def test_converted_decimal_equals_the_value_typed_in_the_catalogue_unit(
    indicator_id: int, written_value: str, written_unit: str, typed_in_catalogue_unit: str
) -> None:
    factor = CATALOGUE.conversion_factor(indicator_id, written_unit)
    assert convert(float(written_value), factor) == float(typed_in_catalogue_unit)


def test_unit_and_name_normalisation() -> None:
    assert normalise_unit("［万元］") == "万元"
    assert normalise_unit(" 元 / 人 ") == "元/人"
    assert normalise_indicator_name("本级科学技术支出（万元）") == normalise_indicator_name("本级科学技术支出")
    assert normalise_indicator_name("人 均 ＧＤＰ") == normalise_indicator_name("人均GDP")
    assert normalise_indicator_name("人均GDP增速") != normalise_indicator_name("人均GDP")


# --- missing markers -------------------------------------------------------------------------

MISSING = ["", " ", "\u3000", "-", "--", "—", "——", "/", "无", "NA", "N/A",
           # spelled differently: full-width, lower case, padded
           "－", "－－", "／", "ＮＡ", "Ｎ／Ａ", "n/a", "na", " — ", " 无 "]
NOT_MISSING = ["0", "0.0", "nan", "NaN", "null", "inf", "无数据", "N", "-1", "—5"]


@pytest.mark.parametrize("text", MISSING)
def test_missing_markers(text: str) -> None:
    assert missing_mask(pd.Series([text], dtype="string")).tolist() == [True]


@pytest.mark.parametrize("text", NOT_MISSING)
def test_not_missing(text: str) -> None:
    assert missing_mask(pd.Series([text], dtype="string")).tolist() == [False]


def test_every_catalogue_marker_as_written_is_missing() -> None:
    markers = pd.Series(CATALOGUE.missing_markers, dtype="string")
    assert len(markers) >= 9 and missing_mask(markers).all()


def test_missing_mask_treats_null_cells_as_missing() -> None:
    assert missing_mask(pd.Series([None, "5"], dtype="string")).tolist() == [True, False]


# --- numbers written as text -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15802", 15802.0),
        ("1,234.5", 1234.5),
        ("12,345,678", 12345678.0),
        ("１２３４．５", 1234.5),
        ("１，２３４", 1234.0),
        ("－３", -3.0),
        ("\u22123", -3.0),  # the minus sign U+2212
        ("+3", 3.0),
        ("＋3.5", 3.5),
        (" 12 ", 12.0),
        ("\u300012\u3000", 12.0),
        ("1 234", 1234.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e5", 100000.0),
        ("1E-2", 0.01),
    ],
)
def test_numbers_written_as_text(text: str, expected: float) -> None:
    assert number(text) == expected


@pytest.mark.parametrize("text", ["abc", "inf", "nan", "Infinity", "-inf", "1e999", "0x10", "1_000", "3.5.1",
                                  "12元", "约100", "%", "1/2", "=1+2", "@SUM(A1)", "3%%"])
def test_text_that_is_not_a_number(text: str) -> None:
    assert math.isnan(number(text, "%"))


@pytest.mark.parametrize(("text", "suffix", "expected"), [
    ("3.5%", "%", 3.5),
    ("3.5％", "%", 3.5),
    ("3.5 %", "%", 3.5),
    ("3.5‰", "‰", 3.5),
])
def test_trailing_sign_of_the_indicators_unit(text: str, suffix: str, expected: float) -> None:
    assert number(text, suffix) == expected


@pytest.mark.parametrize(("text", "suffix"), [("3.5%", ""), ("3.5%", "‰"), ("3.5‰", "%"), ("3.5‰", "")])
def test_trailing_sign_is_refused_elsewhere(text: str, suffix: str) -> None:
    assert math.isnan(number(text, suffix))


def test_a_stored_cell_number_wins_over_its_text() -> None:
    assert numbers(["15802", "x"], cell_numbers=[15802.0, 7.5]) == [15802.0, 7.5]


# --- property-based --------------------------------------------------------------------------

# Numbers as a spreadsheet holds them: at most 15 significant digits and a few decimals. (pandas'
# fast parser is not correctly rounded for 16-17 significant digits or extreme exponents; no
# submission has those.)
typed_numbers = st.builds(
    lambda mantissa, decimals, sign: sign * float(Decimal(mantissa).scaleb(-decimals)),
    st.integers(min_value=0, max_value=10**15 - 1), st.integers(min_value=0, max_value=8), st.sampled_from([1, -1]),
)
spaces = st.sampled_from(["", " ", "  ", "\t", "\u3000", "\xa0"])


@given(value=typed_numbers, widths=st.lists(st.booleans(), min_size=64, max_size=64), before=spaces, after=spaces)
@settings(max_examples=300)
def test_formatted_float_reads_back(value: float, widths: list[bool], before: str, after: str) -> None:
    text = format(value, ",")  # shortest repr with thousands separators: '1,234,567.891', '1e+20'
    text = "".join(FULL_WIDTH.get(char, char) if wide else char for char, wide in zip(text, widths, strict=False))
    assert number(before + text + after) == value


@given(st.text(max_size=40))
@settings(max_examples=150)
def test_any_text_gives_a_finite_number_or_nan(text: str) -> None:
    for suffix in ("", "%", "‰"):
        parsed = number(text, suffix)
        assert isinstance(parsed, float)
        assert math.isnan(parsed) or math.isfinite(parsed)
    missing_mask(pd.Series([text], dtype="string"))
    parse_integers(pd.Series([text], dtype="string"))
    parse_years(pd.Series([text], dtype="string"))


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["{}", "{}.0", " {} ", "wide"]))
def test_parse_integers_round_trip(value: int, form: str) -> None:
    """Up to 9 digits a whole number reads back; longer ones are no indicator or year and read as <NA>."""
    text = str(value).translate(str.maketrans(FULL_WIDTH)) if form == "wide" else form.format(value)
    parsed = parse_integers(pd.Series([text], dtype="string")).tolist()
    assert parsed == ([value] if value < 10**9 else [pd.NA])


@pytest.mark.parametrize("text", ["9" * 19, "9" * 25])
def test_parse_integers_never_invents_a_different_number(text: str) -> None:
    # 9999999999999999999 does not fit Int64: it must read as <NA>, not as -8446744073709551617.
    parsed = parse_integers(pd.Series([text], dtype="string")).tolist()
    assert len(parsed) == 1 and parsed[0] is pd.NA, parsed


def test_parse_integers_refuses_fractions_and_signs() -> None:
    parsed = parse_integers(pd.Series(["7.5", "-1", "abc", "", None], dtype="string")).tolist()
    assert all(value is pd.NA for value in parsed)


@given(st.integers(min_value=1900, max_value=2099), st.sampled_from(["{}", "{}年", "{}.0", " {} ", "wide"]))
def test_parse_years_round_trip(year: int, form: str) -> None:
    text = str(year).translate(str.maketrans(FULL_WIDTH)) if form == "wide" else form.format(year)
    assert parse_years(pd.Series([text], dtype="string")).tolist() == [year]


@pytest.mark.parametrize("text", ["13", "1899", "2100", "20130", "abc", "2013-01-01", ""])
def test_parse_years_refuses_non_years(text: str) -> None:
    parsed = parse_years(pd.Series([text], dtype="string")).tolist()
    assert len(parsed) == 1 and parsed[0] is pd.NA, parsed
