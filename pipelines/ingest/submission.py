"""What reading one submission file yields, whatever its format: the cells to validate.

Readers never decide whether a value is acceptable (that is `validation`'s job); they locate the
zone and the value cells, keep each cell's raw content and address, and refuse a file only when
it cannot be read at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from schemas.catalogue import normalise_text
from schemas.messages import number_text
from schemas.template import TemplateIdentity


class FileRejected(Exception):
    """The whole file is refused; `reason` is a file-level reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail

    def __reduce__(self):  # travels back from a reading process intact
        return (FileRejected, (self.reason, self.detail))


@dataclass
class ZoneLookup:
    """The registry as the readers need it: names by code and codes by normalised name."""

    names_by_code: dict[str, str]
    codes_by_name: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.codes_by_name = {normalise_text(name): code for code, name in self.names_by_code.items()}

    @classmethod
    def from_registry(cls, registry: pd.DataFrame) -> ZoneLookup:
        return cls(dict(zip(registry["zone_code"], registry["zone_name"], strict=True)))


@dataclass
class ParsedFile:
    """What one readable file holds: its zone (if one), file-level warnings and the cells."""

    zone_code: str | None
    cells: pd.DataFrame | pa.Table  # a frame from the readers; an Arrow table from `parse.read_outcome`
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (flag, detail)
    template: TemplateIdentity | None = None  # the identity of a template sdz wrote, when the workbook carries one


def arrow_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a frame whose text stays Arrow-backed (a million cells of Python strings
    would cost several times the memory and a copy)."""
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def format_number(number: float) -> str:
    """A number as a spreadsheet shows it: 15802.0 → '15802', 3.18 → '3.18', 79.29500000000001 → '79.295'."""
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return number_text(number)


def normalise_zone_code(value: object) -> str:
    """A zone code as written (text or a number such as 320583.0) → '320583'."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return normalise_text(str(value)).upper()
