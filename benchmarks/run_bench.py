"""`make bench`: sdz at national scale, side by side with the bare engines underneath.

For 300, 1,000 and 2,850 zones × 16 indicators × 31 years (round 2040), once as long CSVs and
once as workbooks (one file per zone), it measures in one process run:
- the bare baseline: DuckDB's read_csv of all CSVs into one table; python-calamine's read of
  every workbook's data sheet;
- `sdz run` end to end (a fresh process: parse, validate, load, marts, reports) with its peak
  memory, and each stage's share from Dagster's step timings;
- the floor: `sdz run` on the same registry with no submission, what a run costs before any value;
- a re-run after a supplementary batch touching 5 % of the zones (files read before come from the
  cache), timed beside a rebuild of the same files without the cache and checked against it
  table by table;
- the zones' templates of the next round (`sdz templates`: one workbook per zone, 31 years filled in),
  written from the full run's warehouse;
- the cost curve: time ∝ size^k, k fitted on the three sizes.
It prints a table and writes build/bench/results.json. Data are generated once under build/bench/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from dagster import DagsterInstance
from python_calamine import CalamineWorkbook

from benchmarks.national_data import generate, write_supplementary

ROOT = Path(__file__).resolve().parents[1]
SIZES = (300, 1000, 2850)
STAGES = {  # Dagster step → stage
    "zone_registry": "inventory", "submission_inventory": "inventory", "parsed_submissions": "parse",
    "validated_values": "validate", "core_tables": "load", "warehouse": "publish", "reports": "reports",
    "feedback_workbooks": "publish", "templates": "publish", "parquet_exports": "publish",
}


def warm_page_cache(raw: Path) -> None:
    """Read every submission and import sdz once, untimed: the bare engines and `sdz run` are compared
    on files in memory. The machine reclaims pages it has not touched for a while; a cold read of
    2,850 CSVs took 5 s instead of 1 s, which measures the disk rather than the engine."""
    for path in sorted(raw.rglob("*")):
        if path.is_file():
            path.read_bytes()
    subprocess.run([sys.executable, "-c", "import pipelines.runtime.runner"], cwd=ROOT, check=True)


def bare_csv(raw: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute(f"create table t as select * from read_csv('{raw}/2040/batch-1/*.csv', header = true)")
    return time.perf_counter() - started


def bare_workbooks(raw: Path) -> float:
    started = time.perf_counter()
    for path in sorted((raw / "2040" / "batch-1").glob("*.xlsx")):
        workbook = CalamineWorkbook.from_path(str(path))
        workbook.get_sheet_by_index(0).to_python()
        workbook.close()
    return time.perf_counter() - started


def sdz_run(raw: Path, warehouse: Path, use_cache: bool = True) -> dict:
    """One `sdz run` in a fresh process: wall time, peak memory, stage seconds."""
    environment = {**os.environ, "SDZ_CACHE": "on" if use_cache else "off"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--raw", str(raw),
                                "--warehouse", str(warehouse)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               cwd=ROOT, env=environment)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"sdz run failed: {process.stderr.read().decode()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "stages": stage_seconds(warehouse)}


def stage_seconds(warehouse: Path) -> dict[str, float]:
    """Seconds per stage of the latest run, from the step timings in the warehouse's Dagster instance."""
    with DagsterInstance.from_config(str(warehouse.parent / ".dagster")) as instance:
        run = instance.get_runs(limit=1)[0]
        stages: dict[str, float] = {}
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                name = STAGES.get(step.step_key, "models" if "__" in step.step_key else "checks")
                stages[name] = round(stages.get(name, 0.0) + step.end_time - step.start_time, 2)
        return stages


def floor_run(folder: Path, raw: Path) -> float:
    """Seconds of `sdz run` on the same registry with no submission at all: what a run costs before any
    value (interpreter, imports, Dagster's run of every step and its event log, publishing, reports)."""
    empty = folder / "no-submissions"
    shutil.rmtree(empty, ignore_errors=True)
    (empty / "raw" / "reference").mkdir(parents=True)
    shutil.copy(raw / "reference" / "zones.csv", empty / "raw" / "reference" / "zones.csv")
    return sdz_run(empty / "raw", empty / "warehouse" / "sdz.duckdb", use_cache=False)["seconds"]


def differing_tables(one: Path, other: Path) -> list[str]:
    """Tables whose rows differ (as multisets) between two warehouses."""
    with duckdb.connect() as con:
        con.execute(f"attach '{one}' as one (read_only)")
        con.execute(f"attach '{other}' as other (read_only)")
        tables = [name for (name,) in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where database_name = 'one' order by 1"
        ).fetchall()]
        return [table for table in tables if con.execute(
            f"select count(*) from ((from one.{table} except all from other.{table}) "
            f"union all (from other.{table} except all from one.{table}))").fetchone()[0]]


def templates_seconds(warehouse: Path) -> float:
    """Seconds to write every zone's first-batch template of the round after the warehouse's (round 2041)."""
    from pipelines.publish.templates import write_templates

    out = warehouse.parent / "templates-bench"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    write_templates(warehouse, 2041, 1, out=out)
    return round(time.perf_counter() - started, 2)


def fitted_exponent(sizes: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(time) on log(size)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)


def bench(sizes: tuple[int, ...], out: Path) -> dict:
    results: dict = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()}, "runs": []}
    for fmt in ("csv", "workbook"):
        for zones in sizes:
            folder = ROOT / "build" / "bench" / f"{fmt}-{zones}"
            raw = generate(folder, zones, fmt)
            shutil.rmtree(raw / "2040" / "batch-2", ignore_errors=True)
            shutil.rmtree(folder / "warehouse", ignore_errors=True)
            warm_page_cache(raw)
            bare = bare_csv(raw) if fmt == "csv" else bare_workbooks(raw)
            floor = floor_run(folder, raw)
            full = sdz_run(raw, folder / "warehouse" / "sdz.duckdb")
            templates = templates_seconds(folder / "warehouse" / "sdz.duckdb")
            write_supplementary(raw, 0.05, fmt)
            rerun = sdz_run(raw, folder / "warehouse" / "sdz.duckdb")
            shutil.rmtree(folder / "rebuild", ignore_errors=True)
            rebuild = sdz_run(raw, folder / "rebuild" / "sdz.duckdb", use_cache=False)
            differing = differing_tables(folder / "warehouse" / "sdz.duckdb", folder / "rebuild" / "sdz.duckdb")
            shutil.rmtree(raw / "2040" / "batch-2")
            row = {"format": fmt, "zones": zones, "values": zones * 16 * 31, "bare_seconds": round(bare, 2),
                   "sdz_seconds": full["seconds"], "ratio": round(full["seconds"] / bare, 1),
                   "floor_seconds": floor, "floor_ratio": round(floor / bare, 1),
                   "peak_rss_mb": full["peak_rss_mb"], "stages": full["stages"],
                   "rerun_5pct_seconds": rerun["seconds"], "rerun_stages": rerun["stages"],
                   "rerun_share": round(rerun["seconds"] / full["seconds"], 2),
                   "rerun_peak_rss_mb": rerun["peak_rss_mb"],
                   "rebuild_seconds": rebuild["seconds"], "templates_next_round_seconds": templates,
                   "rerun_tables_differing_from_rebuild": differing}
            results["runs"].append(row)
            print(json.dumps(row), flush=True)
        runs = [r for r in results["runs"] if r["format"] == fmt]
        if len(runs) > 1:
            results[f"exponent_{fmt}"] = round(fitted_exponent([r["zones"] for r in runs],
                                                                [r["sdz_seconds"] for r in runs]), 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def print_table(results: dict) -> None:
    print(f"\n{'format':9}{'zones':>7}{'values':>11}{'bare s':>9}{'floor s':>9}{'sdz s':>8}{'ratio':>7}{'peak MB':>9}"
          f"{'rerun 5%':>10}{'share':>7}{'=rebuild':>9}{'tpl s':>7}  stages (s)")
    for r in results["runs"]:
        stages = ", ".join(f"{k} {v}" for k, v in sorted(r["stages"].items(), key=lambda kv: -kv[1]))
        print(f"{r['format']:9}{r['zones']:>7}{r['values']:>11,}{r['bare_seconds']:>9}{r['floor_seconds']:>9}"
              f"{r['sdz_seconds']:>8}"
              f"{r['ratio']:>7}{r['peak_rss_mb']:>9}{r['rerun_5pct_seconds']:>10}{r['rerun_share']:>7}"
              f"{'yes' if not r.get('rerun_tables_differing_from_rebuild') else 'NO':>9}"
              f"{r['templates_next_round_seconds']:>7}  {stages}")
    for fmt in ("csv", "workbook"):
        if f"exponent_{fmt}" in results:
            print(f"time ∝ size^k, {fmt}: k = {results[f'exponent_{fmt}']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench" / "results.json")
    arguments = parser.parse_args()
    print_table(bench(tuple(arguments.sizes), arguments.out))


if __name__ == "__main__":
    main()
