"""The indicator catalogue, units and reason codes, read from the YAML files beside this module.

Every stage reads its definitions from here: validation, the warehouse's `core.indicators`,
feedback workbooks, the run summary, the README tables and the demo generator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import yaml

WHITE_SPACE = re.compile(r"\s+")

DEFINITIONS = resources.files("schemas")


@dataclass(frozen=True)
class Indicator:
    """One of the 16 indicators of the monitoring system."""

    id: int
    name_zh: str
    name_en: str
    unit: str
    unit_kind: str
    level1_zh: str
    level1_en: str
    level2_zh: str
    level2_en: str
    aspect: str
    direction: str
    plausible: tuple[float, float]
    unit_aliases: dict[str, float] = field(default_factory=dict)

    @property
    def upper_limit(self) -> float | None:
        """The largest admissible value: 100 for percentages, 1000 for per-mille values."""
        return {"percent": 100.0, "permille": 1000.0}.get(self.unit_kind)


@dataclass(frozen=True)
class ReasonCode:
    """Why a file or value was refused or flagged, in Chinese and English."""

    code: str
    level: str
    zh: str
    en: str
    action_zh: str
    action_en: str
    sent_to_zone: bool = True  # false: kept in the warehouse, never sent back to the zone


@dataclass(frozen=True)
class Catalogue:
    """The catalogue as one object: first year collected, indicators by id, unit rules, missing markers, flags."""

    first_year: int
    indicators: dict[int, Indicator]
    aspects: dict[str, dict[str, str]]
    unit_conversions: tuple[tuple[str, str, float], ...]
    unit_synonyms: dict[str, str]
    missing_markers: tuple[str, ...]  # as written; `pipelines.validate.values.missing_mask` is the test
    jump_factor: float
    unit_error_factors: tuple[float, ...]
    unit_error_tolerance: float

    def conversion_factor(self, indicator_id: int, written_unit: str) -> float | None:
        """Factor turning a value written in `written_unit` into the catalogue unit, or None.

        An empty unit means the catalogue unit. Conversions apply to a whole unit (元 → 万元) or
        to the numerator of a compound unit (元/人 → 万元/人).
        """
        indicator = self.indicators[indicator_id]
        unit = normalise_unit(written_unit)
        target = normalise_unit(indicator.unit)
        unit = self.unit_synonyms.get(unit, unit)
        if unit in ("", target):
            return 1.0
        aliases = {normalise_unit(alias): factor for alias, factor in indicator.unit_aliases.items()}
        if unit in aliases:
            return aliases[unit]
        unit_num, _, unit_den = unit.partition("/")
        target_num, _, target_den = target.partition("/")
        if unit_den != target_den:
            return None
        for source, destination, factor in self.unit_conversions:
            if unit_num == source and target_num == destination:
                return factor
        return None


# Read for every label, name and unit cell of every workbook: the same few hundred texts again and again.
@lru_cache(maxsize=8192)
def normalise_text(text: str) -> str:
    """NFKC-normalise (full-width to half-width) and remove all white space."""
    return WHITE_SPACE.sub("", unicodedata.normalize("NFKC", text))


def normalise_unit(unit: str) -> str:
    """A unit as compared: normalised text without surrounding brackets."""
    unit = normalise_text(unit or "")
    return unit.strip("()[]")


def normalise_indicator_name(name: str) -> str:
    """An indicator name as compared: normalised text without a trailing unit in brackets."""
    name = normalise_text(name or "")
    return re.sub(r"\([^()]*\)$", "", name)


def _read_yaml(name: str) -> dict:
    return yaml.safe_load(DEFINITIONS.joinpath(name).read_text(encoding="utf-8"))


@cache
def load_catalogue() -> Catalogue:
    """Read `catalogue.yaml` once per process."""
    raw = _read_yaml("catalogue.yaml")
    indicators = {
        entry["id"]: Indicator(
            **{**entry, "plausible": tuple(entry["plausible"]), "unit_aliases": entry.get("unit_aliases", {})}
        )
        for entry in raw["indicators"]
    }
    return Catalogue(
        first_year=int(raw["first_year"]),
        indicators=indicators,
        aspects=raw["aspects"],
        unit_conversions=tuple(
            (normalise_unit(c["from"]), normalise_unit(c["to"]), float(c["factor"])) for c in raw["unit_conversions"]
        ),
        unit_synonyms={normalise_unit(k): normalise_unit(v) for k, v in raw["unit_synonyms"].items()},
        missing_markers=tuple(raw["missing_markers"]),
        jump_factor=float(raw["flags"]["suspicious_jump_factor"]),
        unit_error_factors=tuple(float(f) for f in raw["flags"]["unit_error_factors"]),
        unit_error_tolerance=float(raw["flags"]["unit_error_tolerance"]),
    )


# The first year the monitoring collects (round R collects FIRST_YEAR .. R-1).
FIRST_YEAR: int = load_catalogue().first_year


@cache
def load_provinces() -> dict[str, dict[str, str]]:
    """Read `provinces.yaml` once per process: GB/T 2260 code → name_zh, name_en, region."""
    return _read_yaml("provinces.yaml")


@cache
def load_reason_codes() -> dict[str, ReasonCode]:
    """Read `reason_codes.yaml` once per process: code → ReasonCode, in the file's order."""
    return {code: ReasonCode(code=code, **entry) for code, entry in _read_yaml("reason_codes.yaml").items()}


def reason_codes_sent_to_zones() -> list[str]:
    """The codes of the findings feedback sends back to zones, in catalogue order."""
    return [code for code, reason in load_reason_codes().items() if reason.sent_to_zone]


def reason_codes_of_level(*levels: str) -> list[str]:
    """The reason codes of the given levels (file, value, flag, file_flag), in catalogue order."""
    return [code for code, reason in load_reason_codes().items() if reason.level in levels]
