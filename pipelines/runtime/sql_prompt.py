"""`sdz sql`: SQL on the warehouse for analysts, read-only, with nothing else to install.

The warehouse is opened with DuckDB's read-only mode, so a write statement is refused by DuckDB itself;
a run publishing meanwhile swaps in a new file and leaves this session reading the previous one.
Results print as a table (at most `TABLE_ROWS` rows) or as CSV (every row, streamed).
"""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

import duckdb
from rich.console import Console
from rich.table import Table

# A terminal table of more rows is unreadable and slow to draw; CSV output has no limit.
TABLE_ROWS = 1000
FETCH_ROWS = 10_000
QUIT_COMMANDS = (".quit", ".exit")


class SqlError(Exception):
    """A statement or the warehouse could not be used; the message is one line."""


def one_line(error: Exception) -> str:
    """DuckDB's message without the echoed query and caret lines, on one line."""
    lines = []
    for line in str(error).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file."""
    if not path.is_file():
        raise SqlError(f"{path}: no warehouse there (run `sdz run` first, or pass --warehouse / set SDZ_WAREHOUSE)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise SqlError(f"{path}: cannot open the warehouse read-only: {one_line(error)}") from None


class ResultPrinter:
    """Prints each statement's result as a rich table or as CSV."""

    def __init__(self, console: Console, as_csv: bool, out: TextIO | None = None) -> None:
        self.console = console
        self.as_csv = as_csv
        self.out = out or sys.stdout

    def print(self, result: duckdb.DuckDBPyConnection) -> None:
        columns = [column[0] for column in result.description]
        if self.as_csv:
            writer = csv.writer(self.out, lineterminator="\n")
            writer.writerow(columns)
            for batch in batches(result):
                writer.writerows(batch)
            self.out.flush()
            return
        rows = result.fetchmany(TABLE_ROWS + 1)
        table = Table(*columns, show_lines=False)
        for row in rows[:TABLE_ROWS]:
            table.add_row(*("[dim]NULL[/]" if value is None else str(value) for value in row))
        self.console.print(table)
        more = len(rows) > TABLE_ROWS
        self.console.print(f"{TABLE_ROWS:,}+ rows, the first {TABLE_ROWS:,} shown (add a LIMIT, or use --csv)"
                           if more else f"{len(rows):,} row{'' if len(rows) == 1 else 's'}")


def batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[tuple]]:
    while batch := result.fetchmany(FETCH_ROWS):
        yield batch


def run_sql(con: duckdb.DuckDBPyConnection, text: str, printer: ResultPrinter) -> None:
    """Run every statement of `text` in order, printing each result; stops at the first error."""
    try:
        for statement in con.extract_statements(text):
            result = con.execute(statement)
            if result.description is not None:
                printer.print(result)
    except duckdb.Error as error:
        raise SqlError(one_line(error)) from None


def prompt(con: duckdb.DuckDBPyConnection, printer: ResultPrinter, errors: Console,
           read_line: Callable[[str], str] = input) -> None:
    """Read statements (ended by `;`) until end of input or `.quit`; an error is printed, not fatal."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input(), where available)
    printer.console.print("Read-only SQL on the warehouse. End a statement with ';'; .quit or Ctrl-D to leave. "
                          "Tables: select * from duckdb_tables();")
    pending: list[str] = []
    while True:
        try:
            line = read_line("sdz> " if not pending else "...> ")
        except EOFError:
            break
        except KeyboardInterrupt:  # Ctrl-C drops the statement being typed, as in a shell
            pending = []
            printer.console.print()
            continue
        if not pending and line.strip() in QUIT_COMMANDS:
            return
        pending.append(line)
        if line.rstrip().endswith(";"):
            run_reporting_errors(con, "\n".join(pending), printer, errors)
            pending = []
    if "".join(pending).strip():  # a last statement without its ';'
        run_reporting_errors(con, "\n".join(pending), printer, errors)


def run_reporting_errors(con: duckdb.DuckDBPyConnection, text: str, printer: ResultPrinter, errors: Console) -> None:
    """Run `text`, printing an error as one line instead of raising it."""
    try:
        run_sql(con, text, printer)
    except SqlError as error:
        errors.print(f"[bold red]error:[/] {error}", soft_wrap=True)
    except KeyboardInterrupt:
        errors.print("interrupted")
