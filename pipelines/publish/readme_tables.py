"""Generate the README's reference sections from the data definitions, so they never drift.

    python -m pipelines.publish.readme_tables            rewrite the generated sections of README.md in place
    python -m pipelines.publish.readme_tables --check    exit 1 when README.md is out of date (a test runs this)

Each section sits between `<!-- generated:NAME -->` and `<!-- end:NAME -->` markers.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from pipelines.index.zone_scores import INDEX_METHOD, INDEX_RANK_ROUND, INDEX_ZONE_ROUND
from pipelines.models.sql_models import discover_models
from pipelines.runtime.settings import PROJECT_ROOT, SQL_MODELS_DIR
from schemas.catalogue import load_catalogue, load_reason_codes
from schemas.core_tables import core_table_definitions

LEVEL_TITLES = {
    "file": "file refused whole (`core.submission_files.reason`)",
    "value": "value refused (`core.rejected_values.reason`)",
    "flag": "value loaded with a warning (`core.value_flags.flag`)",
    "file_flag": "file-level warning (`core.value_flags`, indicator and year empty)",
}


def reason_codes_table() -> str:
    lines = ["| code | level | 原因 | reason | what to correct |", "|---|---|---|---|---|"]
    for reason in load_reason_codes().values():
        lines.append(f"| `{reason.code}` | {LEVEL_TITLES[reason.level]} | {reason.zh} | {reason.en} | "
                     f"{reason.action_en} |")
    return "\n".join(lines)


def indicators_table() -> str:
    catalogue = load_catalogue()
    lines = ["| 序号 | 指标名称 | indicator | unit | aspect | better when |", "|---|---|---|---|---|---|"]
    for indicator in catalogue.indicators.values():
        lines.append(f"| {indicator.id} | {indicator.name_zh} | {indicator.name_en} | {indicator.unit} | "
                     f"{indicator.aspect} | {indicator.direction} |")
    return "\n".join(lines)


def tables_reference() -> str:
    lines = ["| table | one row per / what it holds |", "|---|---|"]
    for table in [*core_table_definitions().values(), INDEX_ZONE_ROUND, INDEX_RANK_ROUND, INDEX_METHOD]:
        lines.append(f"| `{table.name}` | {table.description} |")
    for model in discover_models(SQL_MODELS_DIR).values():
        lines.append(f"| `{model.table}` | {' '.join(model.description.split())} |")
    return "\n".join(lines)


SECTIONS: dict[str, Callable[[], str]] = {
    "reason-codes": reason_codes_table,
    "indicators": indicators_table,
    "tables": tables_reference,
}


def render(readme: str) -> str:
    """The README with every generated section rewritten."""
    for name, build in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- end:{name} -->)", re.S)
        text = build()
        readme = pattern.sub(lambda match, text=text: f"{match.group(1)}{text}\n{match.group(2)}", readme)
    return readme


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    readme_path = PROJECT_ROOT / "README.md"
    current = readme_path.read_text(encoding="utf-8")
    updated = render(current)
    if "--check" in argv:
        if updated != current:
            print("README.md is out of date: run `python -m pipelines.publish.readme_tables`", file=sys.stderr)
            return 1
        return 0
    Path(readme_path).write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
