"""The shape of a round report: sections of paragraphs, charts and tables, and the labels they print.

A report is built once (`pipelines.publish.reports.monitoring`, `pipelines.publish.reports.evaluation`) and rendered
twice (`pipelines.publish.reports.render`): as an HTML page and as a workbook with one sheet per table, so the two
always hold the same tables. Labels are the office's Chinese followed by the English.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from schemas.catalogue import load_catalogue


def missing(value: object) -> bool:
    """Whether a value read from the warehouse is empty (NULL: None, NaN or pandas' NA), without pandas'
    per-call cost (a national round's cards test millions of values)."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float | np.floating)
                                                                   and value != value)


TYPE_LABELS = {"county": "县域型 county", "district": "城区型 urban district",
               "prefecture": "地级市型 prefecture-level city", "township": "乡镇型 township"}
TYPE_ZH = {"county": "县域型", "district": "城区型", "prefecture": "地级市型", "township": "乡镇型"}
REGION_LABELS = {"east": "东部地区 east", "central": "中部地区 central", "west": "西部地区 west"}
REGION_ZH = {"east": "东部地区", "central": "中部地区", "west": "西部地区"}
STATUS_LABELS = {"clean": "无问题 clean", "with_problems": "有问题 with problems", "rejected": "全部拒收 rejected",
                 "not_submitted": "未报送 not submitted"}
GROUP_LABELS = {"all": "全部 all", **TYPE_LABELS, **REGION_LABELS}
TITLES = {
    "monitoring": ("国家可持续发展实验区创新能力监测报告（{r}年度）",
                   "Innovation-capacity monitoring report of the National Sustainable Development Experimental "
                   "Zones ({r} round)"),
    "evaluation": ("国家可持续发展实验区创新能力评价报告（{r}年度）",
                   "Innovation-capacity evaluation report of the National Sustainable Development Experimental "
                   "Zones ({r} round)"),
}
SOURCE = "数据来源 Source: sdz warehouse, core.observation_history as of round {round}"


@dataclass
class Column:
    """A table column: its key in the rows, Chinese and English header, and kind (how numbers are shown)."""

    key: str
    zh: str
    en: str
    kind: str = "text"  # text | note (long text) | int | year | pct | score | growth | value


@dataclass
class Table:
    """A table of a report: shown in the HTML page and written as one sheet of the workbook."""

    sheet: str  # short sheet name; the workbook prefixes the table number
    title_zh: str
    title_en: str
    columns: list[Column]
    rows: pd.DataFrame
    source: str
    folded: bool = False  # long tables start collapsed in the HTML page
    number: int = 0
    block: str = "table"

    def records(self) -> list[dict]:
        """The rows as dicts holding only the table's columns (a missing column fails here, not in the page)."""
        return self.rows[[c.key for c in self.columns]].to_dict("records")

    def column_values(self) -> list[list]:
        """Each column's values in row order, as Python objects (a missing column fails here)."""
        return [self.rows[c.key].tolist() for c in self.columns]


@dataclass
class Chart:
    """An inline SVG chart with its caption and source line."""

    svg: str
    title_zh: str
    title_en: str
    source: str
    number: int = 0
    block: str = "chart"


@dataclass
class Paragraph:
    """Text in Chinese with its English version."""

    zh: str
    en: str
    block: str = "paragraph"


@dataclass
class Section:
    """A numbered section: its heading in Chinese and English, then its blocks in reading order."""

    heading_zh: str
    heading_en: str
    blocks: list[Paragraph | Chart | Table] = field(default_factory=list)


@dataclass
class Report:
    """One report of one round: `kind` is monitoring or evaluation; the data are as of `last_batch`."""

    kind: str
    round: int
    last_batch: int
    sections: list[Section]

    @property
    def title_zh(self) -> str:
        return TITLES[self.kind][0].format(r=self.round)

    @property
    def title_en(self) -> str:
        return TITLES[self.kind][1].format(r=self.round)

    def tables(self) -> list[Table]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]


def type_order(zone_type: str) -> tuple[int, str]:
    """Sort key putting zone types in the office's order: county, district, prefecture, township."""
    return (list(TYPE_LABELS).index(zone_type) if zone_type in TYPE_LABELS else len(TYPE_LABELS), zone_type)


def type_label(zone_type: str) -> str:
    """'县域型 county' for 'county'; an unknown type as it is."""
    return TYPE_LABELS.get(zone_type, zone_type)


CHINESE_NUMBERS = "零一二三四五六七八九十"
ENGLISH_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def chinese_number(n: int) -> str:
    """一 … 十 for 1 … 10, digits beyond."""
    return CHINESE_NUMBERS[n] if 0 <= n <= 10 else str(n)


def english_number(n: int) -> str:
    """one … ten for 1 … 10, digits beyond."""
    return ENGLISH_NUMBERS[n] if 0 <= n <= 10 else str(n)


def indicator_label(indicator_id: int) -> str:
    """'1 本级科学技术支出': number and Chinese name."""
    return f"{indicator_id} {load_catalogue().indicators[indicator_id].name_zh}"


def numbered(sections: list[Section]) -> list[Section]:
    """Number charts and tables in reading order (图1, 表1 …)."""
    counts = {"chart": 0, "table": 0}
    for block in (b for s in sections for b in s.blocks if not isinstance(b, Paragraph)):
        counts[block.block] += 1
        block.number = counts[block.block]
    return sections
