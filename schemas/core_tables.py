"""The core tables as declared in `core_tables.yaml`, and the pandera schema each must satisfy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class TableDefinition:
    """A warehouse table: name, description, (column, SQL type, description) triples and keys."""

    name: str
    description: str
    columns: tuple[tuple[str, str, str], ...]
    primary_key: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [column for column, _type, _description in self.columns]


@cache
def core_table_definitions() -> dict[str, TableDefinition]:
    """The core tables in declaration order."""
    declared = yaml.safe_load(resources.files("schemas").joinpath("core_tables.yaml").read_text(encoding="utf-8"))
    return {
        name: TableDefinition(
            name=name,
            description=table["description"],
            columns=tuple((column, spec[0], spec[1]) for column, spec in table["columns"].items()),
            primary_key=tuple(table.get("primary_key", [])),
            not_null=tuple(table.get("not_null", [])),
        )
        for name, table in declared.items()
    }


def violations_sql(table: TableDefinition) -> str:
    """SQL counting the rows that break the declaration: a required column empty, or a primary key
    repeated. Run inside DuckDB, so a million-row table is checked without leaving it."""
    required = [*table.primary_key, *(c for c in table.not_null if c not in table.primary_key)]
    empty = " or ".join(f"{column} is null" for column in required) or "false"
    key = ", ".join(table.primary_key)
    repeated = (f"(select count(*) from (select {key} from {table.name} group by all having count(*) > 1))"
                if key else "0")
    return f"select (select count(*) from {table.name} where {empty}) as empty_required, {repeated} as repeated_keys"
