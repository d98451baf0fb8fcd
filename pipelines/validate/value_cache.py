"""What reading and validating each file gave, kept so that an unchanged file is not read again.

After a supplementary batch most files of a round are the ones the last run read already. An
entry holds one file's outcome (loaded or rejected whole, its zone, its file-level warnings, how
many cells it had and how many were missing) and its accepted and rejected values, numbered by
their position in the file. A run places them at the file's place in its own reading order, so the
warehouse is the same as if every file had been read again.

A run opens the cache once, when it parses (`parse_with_cache`): only the files the cache does not
hold are read, and the others take their outcome and warnings from it, so the file table is the one
a full read gives. The opened cache and its bookkeeping (`ParsedWithCache`) travel with the parse
output to `validate_with_cache`, which validates the cells read, adds the cached files' values and
stores what the files read gave.

An entry is keyed by what the result depends on besides the code (`parse.reading_key`): the file's SHA-256, its round
(the years a round collects) and its suffix (which reader). Everything else it depends on names
the folder the entries live in, `<warehouse folder>/.cache/values/<version>/`: the source of
the stages that read and validate (`pipelines/ingest/`, `pipelines/validate/`)
and `schemas/`, the versions of the libraries that read files, the registry (zone
identification, unknown zones) and the archive limit. A new version starts an empty folder and the
old ones are deleted.

Each run that read new files adds a segment: three Parquet files written under temporary names and
renamed, the outcomes last, so a killed run leaves no half segment behind. When segments pile up
they are merged into one that keeps only the entries the last run used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.ingest.parse import OUTCOME_COLUMNS, ParsedSubmissions, parse_submissions, reading_keys
from pipelines.ingest.submission import arrow_frame
from pipelines.runtime.code_version import code_digest
from pipelines.validate.rules import ValidatedValues, validate_cells

_TEXT, _INTEGER = pa.string(), pa.int64()
SCHEMAS = {
    "accepted": pa.schema([("key", _TEXT), ("position", _INTEGER), ("zone_code", _TEXT), ("indicator_id", _INTEGER),
                           ("year", _INTEGER), ("value", pa.float64()), ("source_sheet", _TEXT),
                           ("source_cell", _TEXT)]),
    "rejected": pa.schema([("key", _TEXT), ("position", _INTEGER), ("zone_code", _TEXT), ("indicator_id", _INTEGER),
                           ("year", _INTEGER), ("raw_value", _TEXT), ("reason", _TEXT), ("detail", _TEXT),
                           ("source_sheet", _TEXT), ("source_cell", _TEXT)]),
    # warnings: the file-level warnings as a JSON list of [flag, detail]
    "outcomes": pa.schema([("key", _TEXT), ("status", _TEXT), ("reason", _TEXT), ("detail", _TEXT),
                           ("zone_code", _TEXT), ("template", _TEXT), ("cells", _INTEGER), ("missing_cells", _INTEGER),
                           ("warnings", _TEXT)]),
}
PARTS = tuple(SCHEMAS)  # the order they are renamed in: the outcomes commit a segment
# More segments than this are merged into one at the end of a run.
MAX_SEGMENTS = 8
# What reading and validating a file runs: the readers, the value rules and the data definitions.
READING_PACKAGES = ("pipelines.ingest", "pipelines.validate", "schemas")
READING_LIBRARIES = ("python-calamine", "pandas", "pyarrow", "pandera", "numpy", "xlrd")


def code_version() -> str:
    """A digest of everything in the code that can change what a file reads as."""
    return code_digest(READING_PACKAGES, READING_LIBRARIES)


def registry_digest(registry: pd.DataFrame) -> str:
    """A digest of the registry as the readers and the value rules see it."""
    text = registry.to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class CachedFiles:
    """Entries of some files: one outcome row per file, and their values by position in the file
    (Arrow tables: a million values are placed without going through pandas)."""

    outcomes: pd.DataFrame
    accepted: pa.Table
    rejected: pa.Table

    @classmethod
    def empty(cls) -> CachedFiles:
        return cls(SCHEMAS["outcomes"].empty_table().to_pandas(), SCHEMAS["accepted"].empty_table(),
                   SCHEMAS["rejected"].empty_table())


class ValueCache:
    """The cache folder of one version (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls, root: Path, registry: pd.DataFrame, max_inflated_bytes: int) -> ValueCache:
        """The folder of the current version under `root`; folders of other versions are deleted."""
        version = hashlib.sha256(
            f"{code_version()}|{registry_digest(registry)}|{max_inflated_bytes}".encode()).hexdigest()[:20]
        folder = root / version
        if root.is_dir():
            for other in root.iterdir():
                if other.name != version:
                    shutil.rmtree(other, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    def segments(self) -> list[str]:
        """Complete segments, oldest first."""
        return sorted(path.name.removesuffix(".outcomes.parquet") for path in self.folder.glob("*.outcomes.parquet"))

    def lookup(self, keys: list[str], with_values: bool = True) -> CachedFiles:
        """The entries of these keys that the cache holds (a key stored twice: the newest); without
        their values when `with_values` is False."""
        wanted = pa.array(sorted(set(keys)), type=pa.string())
        parts: dict[str, list[pa.Table]] = {part: [] for part in PARTS}
        seen: set[str] = set()
        for segment in reversed(self.segments()):
            every_outcome = self._read(segment, "outcomes")
            outcomes = every_outcome.filter(pc.is_in(every_outcome.column("key"), value_set=wanted))
            fresh = pa.array(sorted(set(outcomes.column("key").to_pylist()) - seen), type=pa.string())
            if not len(fresh):
                continue
            seen.update(fresh.to_pylist())
            parts["outcomes"].append(outcomes.filter(pc.is_in(outcomes.column("key"), value_set=fresh)))
            # A segment wanted whole (the usual re-run) is read without filtering a million keys.
            whole = len(fresh) == every_outcome.num_rows
            for part in ("accepted", "rejected") if with_values else ():
                parts[part].append(self._read(segment, part, None if whole else fresh))
        if not seen:
            return CachedFiles.empty()
        tables = {part: pa.concat_tables(tables) if tables else SCHEMAS[part].empty_table()
                  for part, tables in parts.items()}
        return CachedFiles(tables["outcomes"].to_pandas(), tables["accepted"], tables["rejected"])

    def store(self, entries: CachedFiles, used_keys: set[str]) -> None:
        """Add a segment with these entries; merge the segments when there are too many, keeping `used_keys`."""
        if len(entries.outcomes):
            self._write(entries)
        segments = self.segments()
        if len(segments) > MAX_SEGMENTS:
            merged = self.lookup(sorted(used_keys))
            self._write(merged)
            for segment in segments:
                for part in PARTS:
                    (self.folder / f"{segment}.{part}.parquet").unlink(missing_ok=True)

    def _read(self, segment: str, part: str, keys: pa.Array | None = None) -> pa.Table:
        """The rows of these keys in a segment's part (every row when `keys` is None)."""
        table = pq.read_table(self.folder / f"{segment}.{part}.parquet")
        return table if keys is None else table.filter(pc.is_in(table.column("key"), value_set=keys))

    def _write(self, entries: CachedFiles) -> None:
        # Names sort in writing order, so that a key stored twice is found in the newer segment.
        segment = f"{pd.Timestamp.now('UTC').strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        parts = {"outcomes": entries.outcomes, "accepted": entries.accepted, "rejected": entries.rejected}
        for part, schema in SCHEMAS.items():
            final = self.folder / f"{segment}.{part}.parquet"
            partial = final.with_name(f".{final.name}.writing")
            table = parts[part]
            table = table.select(schema.names).cast(schema) if isinstance(table, pa.Table) else \
                pa.Table.from_pandas(table[schema.names], schema=schema, preserve_index=False)
            pq.write_table(table, partial)
            os.replace(partial, final)


@dataclass
class ParsedWithCache(ParsedSubmissions):
    """`ParsedSubmissions` of a run with the cache: `files` and `file_warnings` are what reading every
    file gives, `cells` those of the files read in this run, numbered where a full read puts them.
    Being a `ParsedSubmissions`, it is what the load stage and the schema checks take, unaware of the cache.

    The rest is the cache's own bookkeeping, which travels from the parse step to the validate step
    so that the cache is opened once per run. The values of the files from the cache are not in it:
    the validate step reads them, so that they are not held twice (here and in the validated values)
    until the end of the run."""

    cache: ValueCache | None
    keys: pd.Series  # the cache key of each pending file, by file_id
    offsets: pd.Series  # where each file's cells start in reading order, by file_id
    # The files that came from the cache: file_id, round, batch, key, cells, missing_cells, cell_offset.
    from_cache: pd.DataFrame

    @property
    def cell_count(self) -> int:
        """Cells of every loaded file, missing ones included, those of the files from the cache too."""
        return len(self.cells) + int(self.from_cache["cells"].sum())


def parse_with_cache(
    inventory: pd.DataFrame, raw_dir: Path, registry: pd.DataFrame, max_inflated_bytes: int, cache: ValueCache | None
) -> ParsedWithCache:
    """`parse_submissions`, reading only the pending files the cache does not hold (by reading key).

    The files from the cache get their outcome and warnings from it (their values, validated when
    they were read, are added by `validate_with_cache`); copies are settled over all files alike, and
    every cell is numbered where a full read would have put it."""
    keys = reading_keys(inventory[inventory["status"] == "pending"])
    hits = cache.lookup(list(keys), with_values=False) if cache else CachedFiles.empty()
    known = hits.outcomes.set_index("key")
    parsed = parse_submissions(inventory, raw_dir, registry, max_inflated_bytes, known=known[OUTCOME_COLUMNS])
    files = parsed.files
    cached = files["file_id"].isin(keys.index[keys.isin(known.index)]) & (files["status"] != "duplicate")
    cached_files = files.loc[cached, ["file_id", "round", "batch"]]
    cached_files["key"] = keys.loc[cached_files["file_id"]].to_numpy()
    outcomes = known.loc[cached_files["key"]].set_axis(cached_files.index)
    warnings = with_cached_warnings(parsed.file_warnings, cached_files, outcomes)
    # Every loaded file's cells start where the cells of the loaded files before it end.
    cell_counts = pd.Series(0, index=files["file_id"].to_numpy())
    cell_counts.update(parsed.cells.groupby("file_id").size())
    cell_counts.loc[cached_files["file_id"].to_numpy()] = outcomes["cells"].to_numpy()
    offsets = cell_counts.cumsum() - cell_counts
    cells = parsed.cells
    if len(cells):
        first = cells.groupby("file_id")["cell_order"].transform("min")
        cells["cell_order"] = (offsets.loc[cells["file_id"]].to_numpy() + cells["cell_order"] - first).astype("int64")
    cached_files = cached_files.assign(cells=outcomes["cells"], missing_cells=outcomes["missing_cells"],
                                       cell_offset=offsets.loc[cached_files["file_id"]].to_numpy())
    return ParsedWithCache(files, cells, warnings, cache=cache, keys=keys, offsets=offsets, from_cache=cached_files)


def with_cached_warnings(read: pd.DataFrame, cached_files: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """The file-level warnings of the files read (`read`) and of those from the cache (`cached_files`,
    with their entries `outcomes` on the same index), as reading every file gives them."""
    warnings = [
        {"file_id": file_id, "round": round_year, "batch": batch, "zone_code": zone_code, "flag": flag, "detail": text}
        for file_id, round_year, batch, zone_code, listed in zip(
            cached_files["file_id"], cached_files["round"], cached_files["batch"], outcomes["zone_code"],
            outcomes["warnings"], strict=True)
        for flag, text in json.loads(listed)
    ]
    if not warnings:
        return read
    return pd.concat([read, pd.DataFrame(warnings).astype(read.dtypes.to_dict())], ignore_index=True)


def placed(values: pa.Table, files: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Cached values with the file_id, round, batch and cell_order of their file in this run (`files`:
    key, file_id, round, batch, cell_offset), columns in `order`."""
    row = pc.index_in(values.column("key"), value_set=pa.array(files["key"], type=pa.string()))
    columns = {name: values.column(name) for name in values.column_names if name not in ("key", "position")}
    for name in ("file_id", "round", "batch"):
        columns[name] = pc.take(pa.array(files[name].to_numpy(dtype="int64")), row)
    columns["cell_order"] = pc.add(pc.take(pa.array(files["cell_offset"].to_numpy(dtype="int64")), row),
                                   values.column("position"))
    return arrow_frame(pa.table(columns).select(order))


class CacheChanged(Exception):
    """The cache lost entries between the parse and the validate step (another run, or a re-executed step)."""


def validate_with_cache(parsed: ParsedWithCache, known_zones: list[str]) -> ValidatedValues:
    """Validate the cells read in this run, keep what each of their files gave in the cache, and add
    the values of the files that came from it."""
    read_now = validate_cells(parsed.cells, known_zones)
    from_cache = ValidatedValues.empty()
    cached = parsed.from_cache
    if parsed.cache is not None and len(cached):
        hits = parsed.cache.lookup(list(cached["key"]))
        if not cached["key"].isin(hits.outcomes["key"]).all():
            raise CacheChanged(f"the value cache {parsed.cache.folder} no longer holds files that "
                               "parsed_submissions took from it; materialise parsed_submissions again")
        from_cache = ValidatedValues(placed(hits.accepted, cached, list(read_now.accepted.columns)),
                                     placed(hits.rejected, cached, list(read_now.rejected.columns)),
                                     int(cached["missing_cells"].sum()))
        del hits  # the Arrow copy, before the frames are joined
    if parsed.cache is not None:
        parsed.cache.store(entries_of(parsed, read_now), used_keys=set(parsed.keys))
    return read_now.plus(from_cache)


def entries_of(parsed: ParsedWithCache, validated: ValidatedValues) -> CachedFiles:
    """Cache entries of the files read in this run (loaded or rejected whole)."""
    read = parsed.files[parsed.files["file_id"].isin(parsed.keys.index)
                        & ~parsed.files["file_id"].isin(parsed.from_cache["file_id"])
                        & parsed.files["status"].isin(["loaded", "rejected"])]
    keys, offsets = parsed.keys, parsed.offsets
    # Files sharing a key (copies refused alike) give one entry.
    read = read[~keys.loc[read["file_id"]].duplicated().to_numpy()]
    cells = parsed.cells.groupby("file_id").size()

    def positioned(values: pd.DataFrame) -> pd.DataFrame:
        file_id = values["file_id"]
        return values.assign(key=keys.loc[file_id].to_numpy(),
                             position=values["cell_order"].to_numpy() - offsets.loc[file_id].to_numpy())

    accepted, rejected = positioned(validated.accepted), positioned(validated.rejected)
    counted = pd.DataFrame({"cells": cells}).reindex(read["file_id"], fill_value=0)
    landed = [values.groupby("file_id").size().reindex(counted.index, fill_value=0) for values in (accepted, rejected)]
    counted["missing_cells"] = counted["cells"] - landed[0] - landed[1]
    listed: dict[int, list[list[str]]] = {}
    for file_id, flag, detail in parsed.file_warnings[["file_id", "flag", "detail"]].itertuples(index=False):
        listed.setdefault(file_id, []).append([flag, detail])
    outcomes = pd.DataFrame({
        "key": keys.loc[read["file_id"]].to_numpy(), "status": read["status"].to_numpy(),
        "reason": read["reason"].to_numpy(), "detail": read["detail"].to_numpy(),
        "zone_code": read["zone_code"].astype(object).to_numpy(),
        "template": read["template"].astype(object).to_numpy(),
        "cells": counted["cells"].to_numpy(), "missing_cells": counted["missing_cells"].to_numpy(),
        "warnings": [json.dumps(listed.get(file_id, []), ensure_ascii=False) for file_id in read["file_id"]],
    })
    return CachedFiles(outcomes, accepted, rejected)
