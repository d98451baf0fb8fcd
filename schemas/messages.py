"""The detail texts of findings, in Chinese with English, from `messages.yaml` beside this module.

One template per kind of detail, written "zh / en" with its fields filled in: for one finding
(`message`), for a column of findings without a Python call per row (`messages`), and as a DuckDB
expression for the findings computed in SQL (`message_sql`). Numbers print as a spreadsheet shows
them, to 15 significant digits: 79.295 and 32000, not 79.29500000000001 and 32000.0.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Formatter

import pandas as pd
import yaml

SEPARATOR = " / "
SIGNIFICANT_DIGITS = 15  # what a spreadsheet shows of a double


@cache
def load_messages() -> dict[str, tuple[str, str]]:
    """Read `messages.yaml` once per process: key → (zh, en) template."""
    raw = yaml.safe_load(resources.files("schemas").joinpath("messages.yaml").read_text(encoding="utf-8"))
    return {key: (entry["zh"], entry["en"]) for key, entry in raw.items()}


def number_text(number: float) -> str:
    """A number as written: 15 significant digits, no trailing '.0' (32000.0 → '32000')."""
    return format(number, f".{SIGNIFICANT_DIGITS}g")


def message(key: str, **fields: object) -> str:
    """The detail `key` with its fields filled in (floats as `number_text`), "zh / en"."""
    return SEPARATOR.join(message_pair(key, **fields))


def message_pair(key: str, **fields: object) -> tuple[str, str]:
    """The Chinese and the English of the detail `key`, apart (to build a longer detail of them)."""
    texts = {name: number_text(value) if isinstance(value, float) else value for name, value in fields.items()}
    zh, en = load_messages()[key]
    return zh.format(**texts), en.format(**texts)


def messages(key: str, **fields: pd.Series | object) -> pd.Series | str:
    """`message` for every row of aligned Series (scalars repeat), by concatenating columns: a
    million rejected cells cost no Python call each. A row with a missing field gets <NA>."""
    texts = {name: _text_column(value) for name, value in fields.items()}
    zh, en = load_messages()[key]
    return _filled(zh, texts) + SEPARATOR + _filled(en, texts)


def message_sql(key: str, **expressions: str) -> str:
    """The detail `key` as a DuckDB text expression, each field an SQL expression of text (numbers
    through `number_sql`)."""
    zh, en = load_messages()[key]
    parts = [*_sql_parts(zh, expressions), _sql_literal(SEPARATOR), *_sql_parts(en, expressions)]
    return " || ".join(parts)


def number_sql(expression: str) -> str:
    """An SQL number as text the way `number_text` writes it."""
    return f"printf('%.{SIGNIFICANT_DIGITS}g', {expression})"


def _text_column(value: pd.Series | object) -> pd.Series | object:
    if isinstance(value, pd.Series):
        if pd.api.types.is_float_dtype(value):
            distinct = value.dropna().unique()
            return value.map(dict(zip(distinct, map(number_text, distinct), strict=True))).astype("string")
        return value.astype("string")
    return number_text(value) if isinstance(value, float) else str(value)


def _filled(template: str, texts: dict[str, pd.Series | object]) -> pd.Series | str:
    result: pd.Series | str = ""
    for literal, name, _spec, _conversion in Formatter().parse(template):
        result = result + literal
        if name is not None:
            result = result + texts[name]
    return result


def _sql_parts(template: str, expressions: dict[str, str]) -> list[str]:
    parts = []
    for literal, name, _spec, _conversion in Formatter().parse(template):
        if literal:
            parts.append(_sql_literal(literal))
        if name is not None:
            parts.append(f"({expressions[name]})")
    return parts


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
