"""dbt-like SQL models: each `dbt_like_sql/<schema>/<name>.sql` is one table, `<schema>.<name>`.

A model is a plain SELECT that also runs as-is in the DuckDB CLI against the warehouse. Its
dependencies are the tables its SQL reads (parsed with sqlglot), never listed by hand. Its header
comment is YAML behind `--`: a `description`, the `columns` (each becomes a column comment; every
column must be documented) and data `tests`:

    -- description: What one row is and how it is computed.
    -- columns:
    --   zone_code: Zone code
    -- tests:
    --   - unique: [zone_code]
    --   - not_null: [zone_code]
    --   - accepted_values: {column: status, values: [clean, rejected]}
    --   - relationships: {column: zone_code, to: core.zones, field: zone_code}
    --   - name: share_adds_up            # a custom test: SQL returning the failing rows
    --     sql: select ... having abs(sum(share_pct) - 100) > 1e-9
    --     severity: warn                 # error (default) blocks downstream models; warn does not
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import sqlglot
import yaml
from sqlglot import exp

from pipelines.runtime.warehouse import quote_literal, transaction

HEADER_LINE = re.compile(r"^--\s?(.*)$")


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class DataTest:
    """One data test: a name, a severity and the SQL that returns the failing rows."""

    name: str
    sql: str
    severity: str = "error"


@dataclass
class SqlModel:
    """One SQL file: its table name, SELECT, documentation and tests."""

    path: Path
    schema: str
    name: str
    sql: str
    description: str
    columns: dict[str, str]
    tests: list[DataTest] = field(default_factory=list)

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @cached_property
    def referenced_tables(self) -> set[str]:
        """Every schema-qualified table the SELECT reads. A CTE is never schema-qualified, so a CTE
        named like a table (`expected_zones` reading `staging.expected_zones`) does not hide it."""
        try:
            tree = sqlglot.parse_one(self.sql, read="duckdb")
        except sqlglot.errors.ParseError as error:
            raise ModelError(f"{self.path}: SQL does not parse ({str(error).splitlines()[0]})") from None
        tables = {f"{table.db}.{table.name}" for table in tree.find_all(exp.Table) if table.db}
        tables.discard(self.table)
        return tables


def read_model(path: Path, schema: str) -> SqlModel:
    """Parse one model file: header YAML, SELECT body, tests."""
    text = path.read_text(encoding="utf-8")
    header_lines, body_start = [], 0
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = HEADER_LINE.match(line)
        if not match:
            body_start = number
            break
        header_lines.append(match.group(1))
    else:
        body_start = len(lines)
    try:
        header = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as error:
        raise ModelError(f"{path}: the header comment is not valid YAML ({error})") from None
    if not isinstance(header, dict) or "description" not in header or "columns" not in header:
        raise ModelError(f"{path}: the header comment needs `description:` and `columns:`")
    sql = "\n".join(lines[body_start:]).strip().rstrip(";")
    model = SqlModel(path, schema, path.stem, sql, str(header["description"]).strip(),
                     {str(k): str(v) for k, v in (header["columns"] or {}).items()})
    model.tests = [_data_test(model, spec) for spec in header.get("tests") or []]
    names = [test.name for test in model.tests]
    if len(set(names)) != len(names):
        raise ModelError(f"{path}: two tests share a name ({names}); give custom tests distinct names")
    return model


def discover_models(root: Path) -> dict[str, SqlModel]:
    """Every `<schema>/<name>.sql` under root, by table name, in a stable order."""
    models = {}
    for path in sorted(root.glob("*/*.sql")):
        model = read_model(path, path.parent.name)
        models[model.table] = model
    return models


def _data_test(model: SqlModel, spec: dict) -> DataTest:
    """Turn one `tests:` entry into the SQL that returns failing rows."""
    if not isinstance(spec, dict) or not spec:
        raise ModelError(f"{model.path}: a test must be a mapping, got {spec!r}")
    severity = spec.get("severity", "error")
    if severity not in ("error", "warn"):
        raise ModelError(f"{model.path}: severity must be error or warn, got {severity!r}")
    table = model.table
    if "unique" in spec:
        columns = ", ".join(spec["unique"])
        return DataTest("unique",
                        f"select {columns}, count(*) as n from {table} group by all having count(*) > 1", severity)
    if "not_null" in spec:
        condition = " or ".join(f"{column} is null" for column in spec["not_null"])
        return DataTest("not_null", f"select * from {table} where {condition}", severity)
    if "accepted_values" in spec:
        column, values = spec["accepted_values"]["column"], spec["accepted_values"]["values"]
        listed = ", ".join(quote_literal(str(value)) for value in values)
        return DataTest(f"accepted_values_{column}",
                        f"select * from {table} where {column} is not null and cast({column} as varchar) "
                        f"not in ({listed})", severity)
    if "relationships" in spec:
        relation = spec["relationships"]
        column, target, target_field = relation["column"], relation["to"], relation["field"]
        return DataTest(f"relationships_{column}_{target.replace('.', '_')}",
                        f"select * from {table} where {column} is not null and {column} not in "
                        f"(select {target_field} from {target})", severity)
    if "sql" in spec and "name" in spec:
        return DataTest(str(spec["name"]), str(spec["sql"]).strip().rstrip(";"), severity)
    raise ModelError(f"{model.path}: unknown test {spec!r} (unique, not_null, accepted_values, relationships, "
                     "or name + sql)")


def materialise(con: duckdb.DuckDBPyConnection, model: SqlModel) -> int:
    """CREATE OR REPLACE the model's table with comments; returns its row count.

    Raises ModelError when a column of the result is not documented in the header (or the
    header documents a column the result lacks); the table is then left as it was."""
    # One transaction: the table and its comments are committed together (a wide table's column
    # comments would otherwise be one commit each).
    with transaction(con):
        con.execute(f"create schema if not exists {model.schema}")
        con.execute(f"create or replace table {model.table} as {model.sql}")
        actual = [row[0] for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            [model.schema, model.name]).fetchall()]
        if set(actual) != set(model.columns):
            undocumented = [c for c in actual if c not in model.columns]
            missing = [c for c in model.columns if c not in actual]
            raise ModelError(f"{model.path}: columns and header disagree (undocumented: {undocumented}, "
                             f"documented but absent: {missing})")
        con.execute(f"comment on table {model.table} is {quote_literal(model.description)}")
        for column, description in model.columns.items():
            con.execute(f"comment on column {model.table}.{column} is {quote_literal(description)}")
        return con.execute(f"select count(*) from {model.table}").fetchone()[0]


def run_test(con: duckdb.DuckDBPyConnection, test: DataTest) -> tuple[int, list[tuple]]:
    """The number of failing rows and a sample of them."""
    count = con.execute(f"select count(*) from ({test.sql})").fetchone()[0]
    sample = con.execute(f"select * from ({test.sql}) limit 5").fetchall() if count else []
    return count, sample
