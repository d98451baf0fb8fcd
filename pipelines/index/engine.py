"""The composite-index engine: a method (`pipelines.index.method`) evaluated on data.

The same engine computes the warehouse's default evaluation (``schemas/methods/default.yaml``) and any
published index that can be written as a method file (the tests reproduce the UNDP's HDI 2021 and TAI
2001 from their raw data).

Plain functions on pandas / numpy: no Dagster and no DuckDB here, so the engine can be used from
the command line (``sdz index``), from an asset, or from a notebook alike.

Public API
    DataError                       bad data (a ValueError with a one-line message)
    read_index_data(path)           read ``unit,year,indicator,value`` (UTF-8)
    compute_index(data, method, nodes)  long scores ``unit,year,node,score`` (of all nodes, or of those)
    sensitivity(data, method, runs) rank uncertainty under weight and normalisation changes
    match_indicators(data, method)  which method indicators the data lacks, which data indicators it ignores
    index_command(data, method, out, sensitivity_runs)   the ``sdz index`` command (0 / 2)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.index.method import Leaf, Method, MethodError, load_method
from pipelines.publish.spreadsheets import csv_safe

DATA_COLUMNS = ("unit", "year", "indicator", "value")
OUTPUT_COLUMNS = ("unit", "year", "node", "score")
SENSITIVITY_COLUMNS = ("unit", "year", "median_rank", "rank_p05", "rank_p95", "runs")

NORMALISATIONS = ("minmax", "zscore")

# The half-of-the-weight rule compares sums of float weights; without a little slack, weights such
# as [0.1, 0.1, 0.1, 0.1] would fail "exactly half" by one unit in the last place.
_HALF_WEIGHT_SLACK = 1e-9

# Weight factors of the sensitivity runs (each group weight is multiplied by U(low, high)).
PERTURBATION = (0.8, 1.2)


class DataError(ValueError):
    """The data cannot be evaluated (missing columns, non-numeric values, duplicate keys)."""


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    """The data as a dense matrix: one row per (unit, year), one column per leaf of the method."""

    values: np.ndarray  # shape (rows, leaves), NaN = missing
    rows: pd.MultiIndex  # (unit, year), sorted
    leaves: tuple[str, ...]


def _indicator_name(value: Any) -> str:
    # Indicators are matched to the method's keys as strings; a float column (integers with a
    # NaN somewhere) would otherwise read "7.0".
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _panel(data: pd.DataFrame, method: Method) -> _Panel:
    missing = [c for c in DATA_COLUMNS if c not in data.columns]
    if missing:
        raise DataError(f"data: missing column(s) {', '.join(missing)} (expected {','.join(DATA_COLUMNS)})")
    leaves = tuple(method.indicators)
    # Map the few distinct indicator values to leaf positions, not the millions of rows.
    codes, uniques = pd.factorize(data["indicator"])  # a missing indicator gets code -1
    position = {key: i for i, key in enumerate(leaves)}
    lookup = np.array([position.get(_indicator_name(u), -1) for u in uniques] + [-1], dtype=np.int64)
    all_columns = lookup[codes]
    keep = all_columns >= 0
    frame = data.loc[keep, ["unit", "year"]]
    col_codes = all_columns[keep]

    values = data.loc[keep, "value"]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = numeric.isna() & values.notna() & (values.astype(str).str.strip() != "")
        if bad.any():
            i = bad.to_numpy().nonzero()[0][0]
            raise DataError(
                f"data: value {values.iloc[i]!r} is not a number "
                f"(unit {frame['unit'].iloc[i]}, year {frame['year'].iloc[i]}, indicator {leaves[col_codes[i]]})"
            )
        values = numeric
    values = values.to_numpy(dtype=float)
    if np.isinf(values).any():
        i = np.isinf(values).nonzero()[0][0]
        raise DataError(
            f"data: infinite value (unit {frame['unit'].iloc[i]}, year {frame['year'].iloc[i]}, "
            f"indicator {leaves[col_codes[i]]})"
        )

    # Rows are all (unit, year) pairs that carry a value for some leaf of the method; a blank
    # value is "not reported" and simply left out.
    present = ~np.isnan(values)
    frame, values = frame[present], values[present]
    col_codes = col_codes[present]
    blank_key = (frame["unit"].isna() | frame["year"].isna()).to_numpy()
    if blank_key.any():
        i = blank_key.nonzero()[0][0]
        raise DataError(f"data: a value of indicator {leaves[col_codes[i]]} has no unit or no year")

    # Rows are numbered in (unit, year) order, so that the long output comes out sorted by unit,
    # year, node without sorting millions of strings.
    unit_codes, units = pd.factorize(frame["unit"], sort=True)
    year_codes, years = pd.factorize(frame["year"], sort=True)
    pair_codes, pairs = pd.factorize(unit_codes.astype(np.int64) * len(years) + year_codes, sort=True)
    rows = pd.MultiIndex.from_arrays(
        [units.take(pairs // len(years)), years.take(pairs % len(years))], names=["unit", "year"]
    )
    cell = pair_codes.astype(np.int64) * len(leaves) + col_codes
    duplicated = pd.Series(cell).duplicated().to_numpy()
    if duplicated.any():
        i = duplicated.nonzero()[0][0]
        raise DataError(
            f"data: more than one value for unit {frame['unit'].iloc[i]}, year {frame['year'].iloc[i]}, "
            f"indicator {leaves[col_codes[i]]}"
        )
    matrix = np.full((len(rows), len(leaves)), np.nan)
    matrix[pair_codes, col_codes] = values
    return _Panel(values=matrix, rows=rows, leaves=leaves)


def _transform(x: np.ndarray, leaf: Leaf, rows: pd.MultiIndex) -> np.ndarray:
    if leaf.transform == "none":
        return x
    bad = x <= 0  # NaN compares False: missing values stay missing
    if bad.any():
        i = bad.nonzero()[0][0]
        unit, year = rows[i]
        raise MethodError(
            f"indicators.{leaf.key}: transform {leaf.transform} of non-positive value {x[i]:g} "
            f"(unit {unit}, year {year})"
        )
    return np.log(x) if leaf.transform == "ln" else np.log10(x)


def _goalpost(value: float | None, transform: str) -> float | None:
    if value is None or transform == "none":
        return value
    return math.log(value) if transform == "ln" else math.log10(value)


def _normalise(x: np.ndarray, leaf: Leaf, normalisation: str) -> np.ndarray:
    observed = x[~np.isnan(x)]
    missing = np.full_like(x, np.nan)
    if normalisation == "zscore":
        # Sensitivity variant: z-scores over the panel; direction by sign; goalposts and clipping
        # do not apply to z-scores.
        if observed.size == 0:
            return missing
        std = observed.std()
        if not std > 0:
            return missing
        z = (x - observed.mean()) / std
        return -z if leaf.direction == "lower" else z

    low = _goalpost(leaf.min, leaf.transform)
    high = _goalpost(leaf.max, leaf.transform)
    if low is None:
        low = observed.min() if observed.size else np.nan
    if high is None:
        high = observed.max() if observed.size else np.nan
    # No data, or an observed minimum equal to the maximum (or a single goalpost beyond all
    # observations): the indicator cannot discriminate between units and counts as missing.
    if not (np.isfinite(low) and np.isfinite(high) and high > low):
        return missing
    n = (x - low) / (high - low)
    if leaf.direction == "lower":
        n = 1.0 - n
    if leaf.clip:
        n = np.clip(n, 0.0, 1.0)
    return n


def _aggregate(children: np.ndarray, weights: np.ndarray, aggregate: str) -> np.ndarray:
    """Weighted mean of the children present, or NaN where they carry less than half the weight."""
    present = ~np.isnan(children)
    present_weight = present.astype(float) @ weights
    enough = present_weight * 2 >= weights.sum() * (1 - _HALF_WEIGHT_SLACK)
    filled = np.where(present, children, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregate == "arithmetic":
            score = (filled @ weights) / present_weight
        else:
            # exp of the weighted mean of logs; a zero child gives log 0 = -inf and a score of 0,
            # a negative child (possible only with clip: false) gives NaN, i.e. missing.
            used = present & (weights > 0)
            logs = np.where(used, np.log(np.where(used, children, 1.0)) * weights, 0.0)
            score = np.exp(logs.sum(axis=1) / present_weight)
        # A mean lies between its smallest and largest term; clamping removes the last-bit
        # rounding that could otherwise push a score a hair above 1 (or the scale).
        score = np.clip(score, np.fmin.reduce(children, axis=1), np.fmax.reduce(children, axis=1))
    score[~enough] = np.nan
    return score


def _evaluate(panel: _Panel, method: Method, normalisation: str = "minmax") -> dict[str, np.ndarray]:
    """Scores on the unit scale (not yet multiplied by method.scale) of every leaf and reachable group."""
    return _aggregated(_normalised(panel, method, normalisation), method, normalisation)


def _normalised(panel: _Panel, method: Method, normalisation: str) -> dict[str, np.ndarray]:
    """Every leaf's normalised values (over the whole panel), by leaf key."""
    scores: dict[str, np.ndarray] = {}
    for j, key in enumerate(panel.leaves):
        leaf = method.indicators[key]
        scores[key] = _normalise(_transform(panel.values[:, j], leaf, panel.rows), leaf, normalisation)
    return scores


def _aggregated(leaves: dict[str, np.ndarray], method: Method, normalisation: str) -> dict[str, np.ndarray]:
    """The leaves' scores with every reachable group's added (a new dict; the groups are row by row)."""
    scores = dict(leaves)
    for key in method.evaluation_order():
        group = method.groups[key]
        # The geometric mean is undefined for negative z-scores; z-score variants aggregate
        # arithmetically throughout (as composite-indicator sensitivity analyses usually do).
        aggregate = "arithmetic" if normalisation == "zscore" else group.aggregate
        children = np.column_stack([scores[child] for child in group.children])
        scores[key] = _aggregate(children, np.asarray(group.weights, dtype=float), aggregate)
    return scores


def compute_index(data: pd.DataFrame, method: Method, nodes: Collection[str] | None = None) -> pd.DataFrame:
    """Compute a composite index from long data.

    ``data`` has columns unit, year, indicator, value; ``indicator`` is compared as a string with
    the method's leaf keys and rows of other indicators are ignored; blank values are "not
    reported". Returns columns unit, year, node, score for every leaf of the method (its
    normalised value) and every group reachable from the root, scores multiplied by
    ``method.scale``, sorted by unit, year, node. A (unit, year, node) whose score is missing —
    no value, an indicator without information (observed min = max), or a group whose present
    children carry less than half of its weight — has no row. ``nodes``, when given, keeps only the
    rows of those nodes (the scores are the same; the output is smaller and quicker to build).

    Raises ``MethodError`` for a value the transform cannot take (ln / log10 of a value <= 0,
    naming indicator, unit and year) and ``DataError`` for malformed data.
    """
    panel = _panel(data, method)
    return _long(panel, _evaluate(panel, method), method, nodes)


def _long(
    panel: _Panel, scores: dict[str, np.ndarray], method: Method, wanted: Collection[str] | None = None
) -> pd.DataFrame:
    nodes = sorted(node for node in [*panel.leaves, *method.evaluation_order()] if wanted is None or node in wanted)
    if len(panel.rows) == 0 or not nodes:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "score" else float) for c in OUTPUT_COLUMNS})
    matrix = np.column_stack([scores[node] for node in nodes]) * method.scale
    flat = matrix.ravel()  # row-major: unit-year by unit-year, nodes in sorted order
    keep = ~np.isnan(flat)
    row_of = np.repeat(np.arange(len(panel.rows)), len(nodes))[keep]
    out = pd.DataFrame(
        {
            "unit": panel.rows.get_level_values("unit").to_numpy()[row_of],
            "year": panel.rows.get_level_values("year").to_numpy()[row_of],
            "node": np.tile(np.asarray(nodes, dtype=object), len(panel.rows))[keep],
            "score": flat[keep],
        }
    )
    return out


def _perturbed(method: Method, rng: np.random.Generator) -> Method:
    low, high = PERTURBATION
    groups = {
        key: replace(group, weights=tuple(np.asarray(group.weights) * rng.uniform(low, high, len(group.weights))))
        for key, group in method.groups.items()
    }
    return replace(method, groups=groups)


def sensitivity(data: pd.DataFrame, method: Method, runs: int, seed: int = 0,
                groups: Mapping[Any, str] | None = None, years: Collection[Any] | None = None) -> pd.DataFrame:
    """Rank uncertainty of the root score under changes of weights and normalisation.

    Run 0 is the method as written; runs 1 … runs-1 multiply every group weight by an
    independent uniform factor in [0.8, 1.2], and the odd-numbered runs also replace min-max
    normalisation by z-scores over the panel (z = (x - mean) / std, population std, sign flipped
    for direction lower, no goalposts and no clipping; geometric groups aggregate arithmetically
    there, since z-scores can be negative). So half of the runs (alternating) use z-scores, and
    ``runs=1`` gives the ranks of the unperturbed index.

    In every run units are ranked per year by the root score (rank 1 = best, ties share the best
    rank); with ``groups`` (unit -> group, e.g. the zone type) per group and year, normalised still
    over the whole panel, so that run 0 ranks the index's own scores. Returns unit, year, median_rank,
    rank_p05, rank_p95 (linear-interpolated percentiles) and runs (the number of runs in which the unit
    had a root score that year); unit-years without a root score in any run are left out. With
    ``years``, only those years are ranked (and returned); normalisation is still over the whole
    panel, so their ranks are the same as without. Deterministic for a given seed.
    """
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or runs < 1:
        raise ValueError(f"runs must be a positive integer, got {runs!r}")
    panel = _panel(data, method)
    rng = np.random.default_rng(seed)
    ranked = np.ones(len(panel.rows), dtype=bool)
    if years is not None:
        ranked = panel.rows.get_level_values("year").isin(list(years))
    rows = panel.rows[ranked]
    by = [rows.get_level_values("year")]
    if groups is not None:
        by.append(rows.get_level_values("unit").map(lambda unit: groups.get(unit, "")))
    ranked_together = pd.MultiIndex.from_arrays(by).factorize()[0]
    # Weights change the aggregation only: each normalisation's leaves are computed once, for the rows ranked.
    leaves = {normalisation: {key: values[ranked] for key, values in _normalised(panel, method, normalisation).items()}
              for normalisation in (["minmax", "zscore"] if runs > 1 else ["minmax"])}
    ranks = np.full((len(rows), runs), np.nan)
    for run in range(runs):
        variant = method if run == 0 else _perturbed(method, rng)
        normalisation = "zscore" if run % 2 == 1 else "minmax"
        root = _aggregated(leaves[normalisation], variant, normalisation)[method.root]
        ranks[:, run] = pd.Series(root).groupby(ranked_together).rank(ascending=False, method="min").to_numpy()

    counted = (~np.isnan(ranks)).sum(axis=1)
    keep = counted > 0
    ranks, counted = ranks[keep], counted[keep]
    return pd.DataFrame(
        {
            "unit": rows.get_level_values("unit").to_numpy()[keep],
            "year": rows.get_level_values("year").to_numpy()[keep],
            "median_rank": _row_percentile(ranks, counted, 50),
            "rank_p05": _row_percentile(ranks, counted, 5),
            "rank_p95": _row_percentile(ranks, counted, 95),
            "runs": counted.astype(int),
        },
        columns=list(SENSITIVITY_COLUMNS),
    )


def _row_percentile(values: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """Per-row percentile ignoring NaN, linear interpolation (as numpy's default), vectorised.

    np.nanpercentile along an axis loops in Python over the rows; sorting once (NaN last) and
    interpolating between order statistics gives the same numbers for every row at once.
    """
    if len(values) == 0:
        return np.empty(0)
    ordered = np.sort(values, axis=1)
    position = (counts - 1) * (q / 100.0)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, counts - 1)
    low = np.take_along_axis(ordered, below[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ordered, above[:, None], axis=1)[:, 0]
    return low + (high - low) * (position - below)


# --------------------------------------------------------------------------------------------
# The `sdz index` command
# --------------------------------------------------------------------------------------------

# Names listed in one message at most; a data set may carry hundreds of indicators.
_NAMES_SHOWN = 20


@dataclass(frozen=True)
class IndicatorMatch:
    """How the data's indicator names meet the method's keys (compared exactly, as strings)."""

    absent: tuple[str, ...]  # method indicators no row of the data names
    unused: tuple[str, ...]  # data indicators the method does not use
    data_names: tuple[str, ...]  # every indicator the data names, sorted

    def close_matches(self) -> dict[str, str]:
        """Absent method key → the data name equal to it but for case and surrounding space."""
        by_folded = {name.casefold(): name for name in self.data_names}
        return {key: by_folded[key.casefold()] for key in self.absent if key.casefold() in by_folded}

    def absent_message(self) -> str:
        """One line naming the indicators on both sides and any near miss."""
        message = (f"data: the method's indicator(s) {_names(self.absent)} are not in the data, whose indicators are "
                   f"{_names(self.data_names)}; names must match the method's keys exactly")
        close = self.close_matches()
        if close:
            message += " (did you mean " + ", ".join(f"{found!r} for {key!r}" for key, found in close.items()) + "?)"
        return message

    def unused_message(self) -> str:
        return f"data indicator(s) {_names(self.unused)} are not in the method and were ignored"


def _names(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown if len(names) <= _NAMES_SHOWN else f"{shown} … ({len(names)} in all)"


def match_indicators(data: pd.DataFrame, method: Method) -> IndicatorMatch:
    """Compare the data's indicator names with the method's keys (as `compute_index` does)."""
    names = sorted({_indicator_name(name) for name in data["indicator"].dropna().unique()})
    keys = set(method.indicators)
    return IndicatorMatch(
        absent=tuple(key for key in method.indicators if key not in names),
        unused=tuple(name for name in names if name not in keys),
        data_names=tuple(names),
    )


def incomplete_units_note(panel: _Panel, root_score: np.ndarray, root: str) -> str | None:
    """What the half-of-the-weight rule did: how many unit-years lacked some indicator, how many of
    them were scored from the indicators present and how many were left without a root score."""
    incomplete = np.isnan(panel.values).any(axis=1)
    if not incomplete.any():
        return None
    unscored = int((incomplete & np.isnan(root_score)).sum())
    units = panel.rows.get_level_values("unit")[incomplete].nunique()
    return (f"{int(incomplete.sum())} of {len(panel.rows)} unit-years ({units} unit(s)) lack some indicator: "
            f"{int(incomplete.sum()) - unscored} scored from the indicators present (each group from the children "
            f"carrying at least half of its weight), {unscored} without a {root} score")



def read_index_data(path: Path) -> pd.DataFrame:
    """Read a long CSV ``unit,year,indicator,value`` (UTF-8, BOM allowed; extra columns ignored).

    Units and indicators stay text (zone codes keep leading zeros), years become integers and
    values floats; a blank value is "not reported". Raises ``DataError`` naming file and line.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV ({str(exc).strip().splitlines()[0]})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in DATA_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (expected header {','.join(DATA_COLUMNS)})")
    frame = raw[list(DATA_COLUMNS)].apply(lambda s: s.str.strip())

    year = pd.to_numeric(frame["year"], errors="coerce")
    bad_year = year.isna() | (year != np.floor(year))
    if bad_year.any():
        i = bad_year.to_numpy().nonzero()[0][0]
        raise DataError(f"{path}: line {i + 2}: year {frame['year'].iloc[i]!r} is not a whole number")
    blank = frame["value"] == ""
    value = pd.to_numeric(frame["value"].mask(blank), errors="coerce")
    bad_value = value.isna() & ~blank
    if bad_value.any():
        i = bad_value.to_numpy().nonzero()[0][0]
        raise DataError(f"{path}: line {i + 2}: value {frame['value'].iloc[i]!r} is not a number")
    return pd.DataFrame(
        {"unit": frame["unit"], "year": year.astype(int), "indicator": frame["indicator"], "value": value}
    )


def index_command(data: Path, method: Path, out: Path, sensitivity_runs: int = 0) -> int:
    """Compute an index from a long CSV and a method file; write ``unit,year,node,score`` to ``out``.

    With ``sensitivity_runs > 0`` also writes ``<out stem>_sensitivity.csv`` beside ``out``.
    Returns 0 on success; on a bad method file, bad data (a method indicator the data does not
    name, among others) or an unwritable output prints one line to stderr (no traceback) and
    returns 2. Data indicators the method does not use are reported on stderr; how many unit-years
    lacked some indicator (the half-of-the-weight rule) on stdout.
    """
    out = Path(out)
    try:
        if sensitivity_runs < 0:
            raise ValueError(f"--sensitivity-runs must be 0 or more, got {sensitivity_runs}")
        parsed = load_method(Path(method))
        frame = read_index_data(Path(data))
        match = match_indicators(frame, parsed)
        if match.absent:
            raise DataError(match.absent_message())
        panel = _panel(frame, parsed)
        evaluated = _evaluate(panel, parsed)
        scores = _long(panel, evaluated, parsed)
        sens = sensitivity(frame, parsed, sensitivity_runs) if sensitivity_runs > 0 else None
        out.parent.mkdir(parents=True, exist_ok=True)
        csv_safe(scores).to_csv(out, index=False, encoding="utf-8")
        if sens is not None:
            csv_safe(sens).to_csv(out.with_name(f"{out.stem}_sensitivity.csv"), index=False, encoding="utf-8")
    except ValueError as exc:  # MethodError, DataError and a bad run count
        print(f"sdz index: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sdz index: error: {exc.filename or out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if match.unused:
        print(f"sdz index: warning: {match.unused_message()}", file=sys.stderr)
    note = incomplete_units_note(panel, evaluated[parsed.root], parsed.root)
    scored = int((~np.isnan(evaluated[parsed.root])).sum())
    print(f"{out}: {len(panel.rows)} unit-years, {scored} with a {parsed.root} score" + (f"; {note}" if note else ""))
    return 0
