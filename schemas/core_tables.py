"""The core tables as declared in `core_tables.yaml`, and the pandera schema each must satisfy."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandera.pandas as pa
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


def core_table_schema(table: TableDefinition) -> pa.DataFrameSchema:
    """Every declared column present; key and not-null columns filled; the primary key unique."""
    required = set(table.primary_key) | set(table.not_null)
    columns = {column: pa.Column(nullable=column not in required) for column in table.column_names}
    return pa.DataFrameSchema(columns, unique=list(table.primary_key) or None, strict=False)
