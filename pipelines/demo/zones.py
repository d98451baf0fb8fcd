"""The demo's zones and their true series: the registry and the values a correct submission holds.

Zone names and values are invented; the composition of the registry (157 zones, 30 provinces, 76/55/26
by region, 77/51/23/6 by type, two special and three removed zones) matches the programme office's 2014
report. Part of the demo generator (`pipelines.demo.generate`).
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass

from pipelines.publish.spreadsheets import csv_field
from schemas.catalogue import FIRST_YEAR, load_catalogue

REGISTRY_HEADER = ("zone_code", "zone_name", "province_code", "zone_type", "type_evaluation", "designated_year",
                   "removed_year")

# GB/T 2260 code: (province, seat used in invented names ("" for municipalities), active zones)
PROVINCES = {
    11: ("北京市", "", 3), 12: ("天津市", "", 3), 13: ("河北省", "石家庄", 6), 14: ("山西省", "太原", 5),
    15: ("内蒙古自治区", "呼和浩特", 2), 21: ("辽宁省", "沈阳", 6), 22: ("吉林省", "长春", 5),
    23: ("黑龙江省", "哈尔滨", 6), 31: ("上海市", "", 5), 32: ("江苏省", "苏州", 12), 33: ("浙江省", "杭州", 8),
    34: ("安徽省", "合肥", 7), 35: ("福建省", "福州", 5), 36: ("江西省", "南昌", 6), 37: ("山东省", "潍坊", 14),
    41: ("河南省", "郑州", 9), 42: ("湖北省", "武汉", 9), 43: ("湖南省", "长沙", 8), 44: ("广东省", "广州", 10),
    45: ("广西壮族自治区", "南宁", 3), 46: ("海南省", "海口", 4), 50: ("重庆市", "", 3), 51: ("四川省", "成都", 4),
    52: ("贵州省", "贵阳", 2), 53: ("云南省", "昆明", 3), 61: ("陕西省", "西安", 3), 62: ("甘肃省", "兰州", 2),
    63: ("青海省", "西宁", 1), 64: ("宁夏回族自治区", "银川", 1), 65: ("新疆维吾尔自治区", "乌鲁木齐", 2),
}
EAST = {11, 12, 13, 21, 31, 32, 33, 35, 37, 44, 46}
CENTRAL = {14, 22, 23, 34, 36, 41, 42, 43}
MUNICIPALITIES = {11, 12, 31, 50}
TYPE_COUNTS = {"county": 77, "district": 51, "prefecture": 23, "township": 6}
TYPE_SUFFIX = {"county": "县", "district": "区", "prefecture": "市", "township": "镇"}
SPECIAL_ZONES = (("山东省黄河三角洲", 37, "prefecture"), ("山东省潍坊市高新技术产业开发区", 37, "district"))
REMOVED_ZONES = (("天津市大港区", 12, "district"), ("广东省顺德市容桂镇", 44, "township"),
                 ("重庆市万州区龙宝移民开发区", 50, "district"))

# Generative model per indicator: scale of the plausible range, position in it, weight of the zone's
# development and size, growth kind (relative or absolute per year) and growth range.
MODELS = {
    1: ("log", 0.35, 0.12, 0.15, "rel", (0.08, 0.22)), 2: ("lin", 0.30, 0.10, 0.0, "abs", (0.02, 0.15)),
    3: ("log", 0.45, 0.15, 0.0, "rel", (0.06, 0.18)), 4: ("log", 0.50, 0.12, 0.15, "rel", (0.05, 0.15)),
    5: ("lin", 0.35, 0.12, 0.0, "abs", (0.3, 1.5)), 6: ("log", 0.45, 0.15, 0.12, "rel", (0.10, 0.30)),
    7: ("log", 0.35, 0.12, 0.03, "rel", (0.08, 0.15)), 8: ("log", 0.45, 0.05, 0.15, "rel", (0.03, 0.12)),
    9: ("lin", 0.40, -0.12, 0.0, "rel", (-0.08, -0.03)), 10: ("lin", 0.50, -0.12, 0.0, "abs", (-0.08, 0.04)),
    11: ("log", 0.70, -0.12, 0.0, "rel", (-0.12, -0.05)), 12: ("lin", 0.15, 0.15, 0.0, "rel", (0.09, 0.13)),
    13: ("lin", 0.15, 0.12, 0.0, "rel", (0.10, 0.15)), 14: ("lin", 0.45, 0.15, 0.0, "abs", (0.4, 1.5)),
    15: ("log", 0.50, -0.12, 0.0, "rel", (-0.06, -0.03)), 16: ("lin", 0.70, 0.05, 0.0, "abs", (-0.8, 1.0)),
}
REGION_DEVELOPMENT = {"east": 0.6, "central": 0.0, "west": -0.6}
TYPE_SIZE = {"prefecture": 1.0, "district": 0.0, "county": -0.2, "township": -1.2}
URBAN_OFFSET = {"district": 0.25, "prefecture": 0.05, "county": -0.1, "township": -0.15}
CN_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class Zone:
    """One row of the registry."""

    code: str
    name: str
    province_code: int
    zone_type: str
    type_evaluation: bool
    designated_year: int
    removed_year: int | None = None

    @property
    def region(self) -> str:
        """east, central or west, from the province code."""
        return "east" if self.province_code in EAST else "central" if self.province_code in CENTRAL else "west"


# --- registry ------------------------------------------------------------------------------------------------------

def cn_number(n: int) -> str:
    """Chinese numeral for 1 … 99."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def _invented_name(province: int, number: int, zone_type: str) -> str:
    """Province + invented place, e.g. 江苏省苏州市演示一县; prefecture-level zones as 江苏省演示三市."""
    province_name, seat, _ = PROVINCES[province]
    place = f"演示{cn_number(number)}{TYPE_SUFFIX[zone_type]}"
    return province_name + place if zone_type == "prefecture" or not seat else f"{province_name}{seat}市{place}"


def _generic_types(rng: random.Random, provinces: list[int]) -> list[str]:
    """Zone types for the ordinary zones: districts in the municipalities, the rest shuffled."""
    pool = Counter(TYPE_COUNTS)
    for _, _, zone_type in SPECIAL_ZONES:
        pool[zone_type] -= 1
    pool["district"] -= sum(p in MUNICIPALITIES for p in provinces)
    rest = [zone_type for zone_type in TYPE_COUNTS for _ in range(pool[zone_type])]
    rng.shuffle(rest)
    remaining = iter(rest)
    return ["district" if p in MUNICIPALITIES else next(remaining) for p in provinces]


def build_registry(rng: random.Random) -> list[Zone]:
    """The 157 active zones plus the three removed ones, sorted by code."""
    generic = [p for p, (_, _, count) in PROVINCES.items()
               for _ in range(count - sum(s[1] == p for s in SPECIAL_ZONES))]
    specs = []  # (province, name, type, type_evaluation, removed_year)
    counters: Counter[int] = Counter()
    for province, zone_type in zip(generic, _generic_types(rng, generic), strict=True):
        counters[province] += 1
        specs.append((province, _invented_name(province, counters[province], zone_type), zone_type, True, None))
    specs += [(p, name, zone_type, False, None) for name, p, zone_type in SPECIAL_ZONES]
    specs += [(p, name, zone_type, True, 2014) for name, p, zone_type in REMOVED_ZONES]
    numbers = {p: sorted(rng.sample(range(101, 9000), sum(s[0] == p for s in specs))) for p in PROVINCES}
    zones = []
    for province, name, zone_type, evaluated, removed in sorted(specs, key=lambda s: s[0]):
        code = f"{province}{numbers[province].pop(0):04d}"
        designated = rng.randint(1986, 2005 if removed else 2013)
        zones.append(Zone(code, name, province, zone_type, evaluated, designated, removed))
    return sorted(zones, key=lambda z: z.code)


def registry_csv(zones: list[Zone]) -> bytes:
    """`reference/zones.csv` as UTF-8 bytes."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(REGISTRY_HEADER)
    for z in zones:
        writer.writerow([csv_field(field) for field in (z.code, z.name, f"{z.province_code}", z.zone_type,
                                                        str(z.type_evaluation).lower(), z.designated_year,
                                                        z.removed_year or "")])
    return buf.getvalue().encode("utf-8")


# --- true series ---------------------------------------------------------------------------------------------------

def _indicator_series(indicator_id: int, dev: float, size: float, offset: float,
                      rng: random.Random) -> dict[int, float]:
    """2009 … 2014 values of one indicator for one zone, rounded like the template."""
    indicator = load_catalogue().indicators[indicator_id]
    scale, p0, w_dev, w_size, growth, (g_lo, g_hi) = MODELS[indicator_id]
    lo, hi = indicator.plausible
    position = p0 + w_dev * dev + w_size * size + offset + rng.gauss(0, 0.05)
    floor = 0.15 if scale == "log" else 0.05
    if position < floor:  # spread the zones below the floor instead of piling them on it
        position = floor + rng.uniform(0, 0.1)
    elif position > 0.8:
        position = 0.8 - rng.uniform(0, 0.1)
    if scale == "log":
        lo = lo or 1.0  # a log scale needs a positive lower end
        value = lo * (hi / lo) ** position
    else:
        value = lo + (hi - lo) * position
    rate = rng.uniform(g_lo, g_hi)
    series = {}
    for year in range(FIRST_YEAR, 2015):
        if indicator.upper_limit == 100.0:
            value = min(value, 99.5)
        series[year] = int(round(value)) if hi >= 1000 else round(value, 2)
        step = rate + rng.gauss(0, 0.01 if growth == "rel" else 0.2 * (g_hi - g_lo))
        step = min(max(step, g_lo), g_hi)  # GDP per capita grows 8-15 % a year, energy intensity falls 3-6 %, ...
        value = value * (1 + step) if growth == "rel" else max(value + step, 0.1)
    return series


def build_series(zones: list[Zone], rng: random.Random) -> dict[str, dict[int, dict[int, float]]]:
    """The true series of every zone: a latent development level and size drive all 16 indicators."""
    truth = {}
    for zone in zones:
        dev = rng.gauss(REGION_DEVELOPMENT[zone.region], 0.8) + (0.3 if zone.zone_type == "district" else 0.0)
        size = rng.gauss(TYPE_SIZE[zone.zone_type], 0.6)
        truth[zone.code] = {
            i: _indicator_series(i, dev, size, URBAN_OFFSET[zone.zone_type] if i == 14 else 0.0, rng)
            for i in sorted(load_catalogue().indicators)
        }
    return truth
