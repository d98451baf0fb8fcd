"""Checks a warehouse built by an installed (non-editable) sdz against the repository it was built from.

Usage: python check_install.py REPO WAREHOUSE_FOLDER, run with the venv's interpreter from outside REPO.
Every core table declared in schemas/core_tables.yaml, every SQL model under dbt_like_sql/ and the
index mart must exist with rows, and every round must have its HTML and xlsx reports: a data file
left out of the package makes one of them missing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import yaml

INDEX_MART = "mart.index_zone_year"  # written by the index engine from schemas/methods/default.yaml
REPORTS = ("monitoring", "evaluation")


def expected_tables(repo: Path) -> list[str]:
    """Core tables, SQL models and the index mart, as listed in the repository (not the install)."""
    core = yaml.safe_load((repo / "schemas" / "core_tables.yaml").read_text(encoding="utf-8"))
    models = [f"{path.parent.name}.{path.stem}" for path in sorted((repo / "dbt_like_sql").glob("*/*.sql"))]
    return [*core, *models, INDEX_MART]


def problems(repo: Path, warehouse: Path) -> list[str]:
    """What is missing from the warehouse folder; empty when the install is complete."""
    import pipelines

    found: list[str] = []
    if Path(pipelines.__file__).resolve().is_relative_to(repo.resolve()):
        found.append(f"pipelines imported from the repository ({pipelines.__file__}), not from the install")
    with duckdb.connect(str(warehouse / "sdz.duckdb"), read_only=True) as con:
        present = {f"{schema}.{table}" for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
        for table in expected_tables(repo):
            if table not in present:
                found.append(f"table {table} missing")
            elif not con.execute(f"select count(*) from {table}").fetchone()[0]:
                found.append(f"table {table} empty")
        rounds = [row[0] for row in con.execute("select distinct round from core.submission_files").fetchall()]
    for round_number in sorted(rounds):
        for report in REPORTS:
            for suffix in (".html", ".xlsx"):
                path = warehouse / "reports" / str(round_number) / f"{report}{suffix}"
                if not path.is_file() or not path.stat().st_size:
                    found.append(f"report {path} missing")
    return found


def main() -> int:
    repo, warehouse = Path(sys.argv[1]), Path(sys.argv[2])
    found = problems(repo, warehouse)
    for problem in found:
        print(f"install-check: {problem}", file=sys.stderr)
    if found:
        return 1
    print(f"install-check: {len(expected_tables(repo))} tables and the reports built by the installed package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
