"""The office's workbook template as declared in `template.yaml`: sheet names, where the zone and the
header sit, the columns in order with their labels, the indicator rows and the footer.

Writers (the demo, the test fixtures, the benchmark) lay a workbook out from it; the workbook reader
takes the labels it looks for from it. Rows and columns are 1-based, as a spreadsheet shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from schemas.catalogue import Indicator

YEARS = "years"  # the column key standing for one column per year


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the template, or with key `years` the group of year columns."""

    key: str  # seq | level1 | level2 | name | unit | years | note
    label: str  # the header text; '' for the years (each headed by its year)
    required: bool = False
    width: float | None = None  # in characters


@dataclass(frozen=True)
class LabelledCell:
    """A label above the header and the cell its value goes in."""

    label: str
    label_column: int
    value_column: int


@dataclass(frozen=True)
class WrittenTemplate:
    """What only the template sdz writes for the zones carries (template.yaml, `written`)."""

    version: int
    identity_sheet: str
    widths: dict[str, float]  # by column key, for the columns the layout leaves unset
    instructions_zh: tuple[str, ...]  # with {round}, {first_year}, {last_year}, {markers}
    instructions_en: tuple[str, ...]
    highlight: dict[str, str]  # fill colour by kind of finding (rejected, warning) and `missing`


@dataclass(frozen=True)
class Template:
    """The template's layout (see template.yaml)."""

    data_sheet: str
    instructions_sheet: str
    title: str  # with {round}
    zone_row: int
    code: LabelledCell
    name: LabelledCell
    header_row: int
    years_label: str
    columns: tuple[TemplateColumn, ...]
    footer: tuple[tuple[str, ...], ...]  # with {round} and {month}
    written: WrittenTemplate

    @property
    def column_keys(self) -> tuple[str, ...]:
        """The column keys in the template's order."""
        return tuple(column.key for column in self.columns)

    def column(self, key: str) -> TemplateColumn:
        """The column of `key`."""
        return next(column for column in self.columns if column.key == key)

    def label(self, key: str) -> str:
        """The header label of the column `key` (序号, 指标名称, …)."""
        return self.column(key).label

    def first_data_row(self, two_level_header: bool = False) -> int:
        """The row of the first indicator: below the header, or below the years of a two-level header."""
        return self.header_row + (2 if two_level_header else 1)

    @staticmethod
    def indicator_cells(indicator: Indicator) -> dict[str, object]:
        """The fixed cells of an indicator's row by column key (the year columns aside)."""
        return {"seq": indicator.id, "level1": indicator.level1_zh, "level2": indicator.level2_zh,
                "name": indicator.name_zh, "unit": indicator.unit, "note": ""}

    def width(self, key: str) -> float:
        """The width in characters of the column `key` in the written template."""
        return self.column(key).width or self.written.widths[key]

    def footer_rows(self, round_year: int, month: int | str) -> list[list[str]]:
        """The rows below the indicators (after one empty row), cells from column 1."""
        return [[text.format(round=round_year, month=month) for text in row] for row in self.footer]


IDENTITY_KEYS = ("round", "batch", "zone_code", "version")


@dataclass(frozen=True)
class TemplateIdentity:
    """Which template a workbook was written as: the round, batch and zone it was written for and the
    layout's version. Stored on the written template's identity sheet as label/value rows."""

    round: int
    batch: int
    zone_code: str
    version: int

    def rows(self) -> list[tuple[str, str]]:
        """The identity sheet's label/value rows, values as text."""
        return [(key, str(getattr(self, key))) for key in IDENTITY_KEYS]

    @classmethod
    def from_rows(cls, rows: list[list]) -> TemplateIdentity | None:
        """The identity from an identity sheet's rows (as a reader gives them), or None when incomplete."""
        found = {}
        for row in rows:
            if len(row) >= 2 and str(row[0]).strip() in IDENTITY_KEYS:
                value = row[1]
                found[str(row[0]).strip()] = str(int(value)) if isinstance(value, float) else str(value).strip()
        try:
            return cls(int(found["round"]), int(found["batch"]), found["zone_code"], int(found["version"]))
        except (KeyError, ValueError):
            return None

    @property
    def text(self) -> str:
        """As recorded in the warehouse: `<round>/batch-<N>/<zone_code>/v<version>`."""
        return f"{self.round}/batch-{self.batch}/{self.zone_code}/v{self.version}"


@cache
def load_template() -> Template:
    """Read `template.yaml` once per process."""
    raw = yaml.safe_load(resources.files("schemas").joinpath("template.yaml").read_text(encoding="utf-8"))
    return Template(
        data_sheet=raw["data_sheet"],
        instructions_sheet=raw["instructions_sheet"],
        title=raw["title"],
        zone_row=raw["zone"]["row"],
        code=LabelledCell(**raw["zone"]["code"]),
        name=LabelledCell(**raw["zone"]["name"]),
        header_row=raw["header_row"],
        years_label=raw["years_label"],
        columns=tuple(TemplateColumn(key=c["key"], label=c.get("label", ""), required=c.get("required", False),
                                     width=c.get("width")) for c in raw["columns"]),
        footer=tuple(tuple(row) for row in raw["footer"]),
        written=WrittenTemplate(
            version=raw["written"]["version"],
            identity_sheet=raw["written"]["identity_sheet"],
            widths=raw["written"]["widths"],
            instructions_zh=tuple(raw["written"]["instructions_zh"]),
            instructions_en=tuple(raw["written"]["instructions_en"]),
            highlight=raw["written"]["highlight"],
        ),
    )
