"""Read every pending submission file: the cells to validate, and each file's outcome.

A file that cannot be used at all (unreadable, no data sheet, zone not identified, bad CSV
header) is rejected whole with its reason; any other problem is judged cell by cell later.

What reading a file gives depends on its bytes, its round and its extension only (`reading_key`):
files sharing a key are read once. Byte-identical copies are each read for what they are, then
`settle_copies` keeps the preferred loaded one and makes the copies after it `duplicate`.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.ingest.csv_reader import read_long_csv, read_long_csvs
from pipelines.ingest.inventory import preference_order, settle_copies
from pipelines.ingest.registry import expected_in_round
from pipelines.ingest.submission import FileRejected, ParsedFile, ZoneLookup, arrow_frame
from pipelines.ingest.workbook_reader import DEFAULT_MAX_INFLATED, read_workbook_table
from pipelines.runtime.forked import usable_cores
from pipelines.validate.values import by_unique, normalised_codes
from schemas.messages import message
from schemas.observations import CELL_COLUMNS, cells_arrow_schema

WARNING_COLUMNS = ["file_id", "round", "batch", "zone_code", "flag", "detail"]
# What reading a file decides about it (the value cache keeps them per reading key).
OUTCOME_COLUMNS = ["status", "reason", "detail", "zone_code", "template"]


@dataclass
class ParsedSubmissions:
    """All files with their final status, the cells of the loaded ones, and file-level warnings."""

    files: pd.DataFrame
    cells: pd.DataFrame
    file_warnings: pd.DataFrame

    @property
    def cell_count(self) -> int:
        """Cells of every loaded file, missing ones included."""
        return len(self.cells)


def read_submission(path: Path, file_format: str, zones: ZoneLookup, max_inflated_bytes: int) -> ParsedFile:
    """Read one file by its format, the cells as an Arrow table; raises FileRejected when the file
    cannot be used."""
    if file_format == "csv":
        parsed = read_long_csv(path)
        untyped = {name: dtype for name, dtype in CELL_COLUMNS.items() if parsed.cells[name].dtype != dtype}
        cells = parsed.cells.astype(untyped) if untyped else parsed.cells
        parsed.cells = pa.Table.from_pandas(cells[list(CELL_COLUMNS)], schema=cells_arrow_schema(),
                                            preserve_index=False)
        return parsed
    return read_workbook_table(path, zones, max_inflated_bytes)


# Below this many files the cost of starting worker processes (each imports pandas and the readers) and of
# sending every file's cells back outweighs reading in parallel: a template workbook reads in about 2 ms, and
# on 2 cores one process read 1,000 of them in 1.8 s against 2.8-3.6 s for two workers (2,850: 5.1-5.4 s
# against 3.8-6.6 s).
PARALLEL_FROM_FILES = 2000


def read_outcome(path: Path, file_format: str, zones: ZoneLookup, max_inflated_bytes: int) -> ParsedFile | FileRejected:
    """Read one file; a refusal is returned, not raised, so that it can travel back from a worker."""
    try:
        # Arrow cells travel back from a worker as a few buffers instead of one Python string per
        # cell (half a gigabyte at national scale).
        return read_submission(path, file_format, zones, max_inflated_bytes)
    except FileRejected as rejection:
        return rejection
    except Exception as error:  # a reader bug must not stop the batch; record it on the file
        return FileRejected("unreadable_file",
                            message("unexpected_read_error", error=f"{type(error).__name__}: {str(error)[:200]}"))


def read_all(
    files: list[tuple[Path, str]], zones: ZoneLookup, max_inflated_bytes: int, parallel_from: int = PARALLEL_FROM_FILES
) -> list[ParsedFile | FileRejected]:
    """Outcomes of (path, file format) in order; many files are read by one process per core."""
    workers = min(usable_cores(), 8)
    if len(files) < parallel_from or workers < 2:
        return [read_outcome(path, file_format, zones, max_inflated_bytes) for path, file_format in files]
    # The registry travels once per chunk of files (with the function), not once per file.
    read = partial(read_outcome, zones=zones, max_inflated_bytes=max_inflated_bytes)
    paths, formats = zip(*files, strict=True)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return list(pool.map(read, paths, formats, chunksize=max(1, len(files) // (workers * 8))))


def reading_key(sha256: str, round_year: int, path: str) -> str:
    """What reading a file gives depends on: its bytes, its round (the years it collects) and its
    extension (the reader, and whether it matches the content)."""
    return f"{sha256}|{round_year}|{Path(path).suffix.lower()}"


def reading_keys(files: pd.DataFrame) -> pd.Series:
    """The reading key of each of `files`, by file_id."""
    return pd.Series([reading_key(digest, round_year, path) for digest, round_year, path in zip(
        files["sha256"], files["round"], files["path"], strict=True)], index=files["file_id"].to_numpy(), dtype=object)


def parse_submissions(
    inventory: pd.DataFrame, raw_dir: Path, registry: pd.DataFrame, max_inflated_bytes: int = DEFAULT_MAX_INFLATED,
    known: pd.DataFrame | None = None,
) -> ParsedSubmissions:
    """Read the inventory's pending files; every other file keeps its status. Copies of a loaded file
    become `duplicate` (`settle_copies`); the cells and warnings are those of the loaded files.

    `known` gives outcomes already known (OUTCOME_COLUMNS, indexed by reading key, as the value cache
    holds them): files with such a key are not read, and their cells and warnings are not returned."""
    pending = inventory[inventory["status"] == "pending"]
    keys = reading_keys(pending)
    unknown = pending[~keys.isin(known.index if known is not None else []).to_numpy()]
    # Files sharing a key read the same: the preferred one is read, which is the one settle_copies keeps.
    ordered = unknown.loc[preference_order(unknown)]
    readers = ordered[~keys.loc[ordered["file_id"]].duplicated().to_numpy()]
    read = read_files(inventory.drop(index=pending.index.difference(readers.index)), raw_dir, registry,
                      max_inflated_bytes)
    outcomes = read.files.loc[readers.index, OUTCOME_COLUMNS].set_axis(keys.loc[readers["file_id"]])
    if known is not None:
        # (missing text as None, as the reading gives it, not as the NaN of a Parquet column)
        known = known[OUTCOME_COLUMNS].astype(object)
        outcomes = pd.concat([outcomes, known.where(known.notna(), None).astype(outcomes.dtypes.to_dict())])
    files = inventory.assign(zone_code=pd.Series(pd.NA, index=inventory.index, dtype="string"),
                             template=pd.Series(pd.NA, index=inventory.index, dtype="string"))
    files.loc[pending.index, OUTCOME_COLUMNS] = outcomes.loc[keys].set_axis(pending.index)
    files.loc[pending.index, OUTCOME_COLUMNS] = settle_copies(files.loc[pending.index])[OUTCOME_COLUMNS]
    loaded = files.loc[files["status"] == "loaded", "file_id"]
    cells = read.cells[read.cells["file_id"].isin(loaded)]
    if len(cells) < len(read.cells):
        cells = cells.assign(cell_order=np.arange(len(cells), dtype="int64")).reset_index(drop=True)
    warnings = read.file_warnings[read.file_warnings["file_id"].isin(loaded)].reset_index(drop=True)
    return ParsedSubmissions(files.astype({"zone_code": "string", "template": "string"}), cells, warnings)


def read_files(
    inventory: pd.DataFrame, raw_dir: Path, registry: pd.DataFrame, max_inflated_bytes: int
) -> ParsedSubmissions:
    """Read each of the inventory's pending files on its own: copies are not settled."""
    zones = ZoneLookup.from_registry(registry)
    files = inventory.copy()
    files["zone_code"] = pd.Series(pd.NA, index=files.index, dtype="string")
    files["template"] = pd.Series(pd.NA, index=files.index, dtype="string")
    pending = files[files["status"] == "pending"]
    outcomes, plain_cells = read_pending(pending, raw_dir, zones, max_inflated_bytes)
    status, reason, detail, zone_code, template = [], [], [], [], []
    cell_tables, sources, warnings = [], [], []
    for file, outcome in zip(pending.itertuples(index=False), outcomes, strict=True):
        if isinstance(outcome, ReadTogether):
            status.append("loaded"), reason.append(None), detail.append(None), zone_code.append(outcome.zone_code)
            template.append(pd.NA)
            continue
        if isinstance(outcome, FileRejected):
            status.append("rejected"), reason.append(outcome.reason), detail.append(outcome.detail)
            zone_code.append(pd.NA), template.append(pd.NA)
            continue
        status.append("loaded"), reason.append(None), detail.append(None), zone_code.append(outcome.zone_code)
        template.append(outcome.template.text if outcome.template else pd.NA)
        if outcome.template and outcome.template.round != file.round:
            outcome.warnings.append(("template_other_round", message(
                "template_round_differs", template_round=outcome.template.round, template=outcome.template.text,
                round=file.round)))
        cell_tables.append(outcome.cells)
        sources.append((file.file_id, file.round, file.batch))
        warnings += [
            {"file_id": file.file_id, "round": file.round, "batch": file.batch,
             "zone_code": outcome.zone_code, "flag": flag, "detail": text}
            for flag, text in outcome.warnings
        ]
    files.loc[pending.index, "status"] = status
    files.loc[pending.index, "reason"] = reason
    files.loc[pending.index, "detail"] = detail
    files.loc[pending.index, "zone_code"] = pd.array(zone_code, dtype="string")
    files.loc[pending.index, "template"] = pd.array(template, dtype="string")
    cells = _concat_cells(cell_tables, sources, plain_cells)
    warnings += _not_expected_warnings(files, cells, registry)
    file_warnings = pd.DataFrame.from_records(warnings, columns=WARNING_COLUMNS)
    # Text columns typed too: with no warning read they would stay `object`, not pandas 3's `str`.
    return ParsedSubmissions(files, cells, file_warnings.astype(
        {"file_id": "int64", "round": "int64", "batch": "int64", "zone_code": "string",
         "flag": "str", "detail": "str"}))


@dataclass
class ReadTogether:
    """A plain CSV read with the others (`read_long_csvs`): its cells are in the batch's frame."""

    zone_code: str | None


def read_pending(
    pending: pd.DataFrame, raw_dir: Path, zones: ZoneLookup, max_inflated_bytes: int
) -> tuple[list[ParsedFile | FileRejected | ReadTogether], pd.DataFrame]:
    """Each pending file's outcome, in order, and the cells of the plain CSVs read together
    (with their file_id, round and batch); the other files are read one by one."""
    is_csv = (pending["file_format"] == "csv").to_numpy()
    csvs = pending[is_csv]
    together = read_long_csvs([raw_dir / path for path in csvs["path"]])
    one_by_one = sorted(set(np.flatnonzero(~is_csv)) | set(np.flatnonzero(is_csv)[together.one_by_one]))
    outcomes: list = [None] * len(pending)
    for position, outcome in zip(one_by_one, read_all([
        (raw_dir / pending["path"].iloc[position], pending["file_format"].iloc[position]) for position in one_by_one
    ], zones, max_inflated_bytes), strict=True):
        outcomes[position] = outcome
    csv_positions = np.flatnonzero(is_csv)
    for index, zone_code in together.zones.items():
        outcomes[csv_positions[index]] = ReadTogether(zone_code)
    plain_cells = together.cells
    for name in ("file_id", "round", "batch"):
        plain_cells[name] = csvs[name].to_numpy(dtype="int64")[plain_cells["file_index"].to_numpy()]
    return outcomes, plain_cells.drop(columns="file_index")


def _concat_cells(
    cell_tables: list[pa.Table], sources: list[tuple[int, int, int]], plain_cells: pd.DataFrame
) -> pd.DataFrame:
    """The cells of the files read one by one (Arrow tables, each with its (file_id, round, batch)
    from `sources`) and of those read together (which carry theirs), in reading order."""
    columns = ["file_id", "round", "batch", *CELL_COLUMNS]
    parts = [plain_cells[columns].astype(CELL_COLUMNS)] if len(plain_cells) else []
    if cell_tables:
        one_by_one = arrow_frame(pa.concat_tables(cell_tables))
        # One column per source field, repeated over each file's cells (assigning per file costs a
        # millisecond a file, seconds at national scale).
        lengths = [table.num_rows for table in cell_tables]
        for position, name in enumerate(("file_id", "round", "batch")):
            one_by_one[name] = np.repeat(np.array([source[position] for source in sources], dtype="int64"), lengths)
        parts.append(one_by_one[columns])
    if not parts:
        empty = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in CELL_COLUMNS.items()})
        return empty.assign(file_id=pd.Series(dtype="int64"), round=pd.Series(dtype="int64"),
                            batch=pd.Series(dtype="int64"), cell_order=pd.Series(dtype="int64"))[
            [*columns, "cell_order"]]
    cells = parts[0] if len(parts) == 1 else \
        pd.concat(parts, ignore_index=True).sort_values("file_id", kind="stable", ignore_index=True)
    # Reading order (file, then position in the file) decides which of equal duplicates is kept.
    return cells.assign(cell_order=np.arange(len(cells), dtype="int64"))


def _not_expected_warnings(files: pd.DataFrame, cells: pd.DataFrame, registry: pd.DataFrame) -> list[dict]:
    """zone_not_expected for each loaded file and zone the registry does not expect in that round."""
    # (round and batch follow from the file: the distinct pairs of file and zone are all there is)
    file_and_zone = pd.MultiIndex.from_arrays([cells["file_id"], cells["zone_code"]]).unique()
    pairs = files.set_index("file_id").loc[file_and_zone.get_level_values(0), ["round", "batch"]].reset_index()
    pairs["zone_code"] = file_and_zone.get_level_values(1)
    pairs = pairs.assign(zone_code=by_unique(pairs["zone_code"], normalised_codes))
    pairs = pairs[pairs["zone_code"].isin(registry["zone_code"])]
    warnings = []
    for round_year, group in pairs.groupby("round"):
        expected = set(registry.loc[expected_in_round(registry, int(round_year)), "zone_code"])
        for pair in group[~group["zone_code"].isin(expected)].itertuples(index=False):
            warnings.append(
                {"file_id": pair.file_id, "round": pair.round, "batch": pair.batch, "zone_code": pair.zone_code,
                 "flag": "zone_not_expected",
                 "detail": message("zone_not_expected", code=pair.zone_code, round=round_year)}
            )
    return warnings
