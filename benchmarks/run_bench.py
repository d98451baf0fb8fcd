"""`make bench`: sdz at national scale, side by side with the bare engines underneath.

Every time is the wall time of a fresh process, as a user starts it. For 300, 1,000 and 2,850 zones
× 16 indicators × 31 years (round 2040), once as long CSVs and once as workbooks (one file per zone):
- the bare baseline, a minimal script in a fresh process: DuckDB's read_csv of all CSVs (all varchar)
  into a table of a DuckDB file; python-calamine's read of every workbook's data sheet;
- `sdz run` end to end (parse, validate, load, marts, reports) with its peak memory, and each stage's
  share from Dagster's step timings;
- the floor: `sdz run` again with nothing new under raw/ (the published warehouse is current);
- `sdz run` on the same registry with no submission at all, what a run costs before any value;
- a re-run after a supplementary batch touching 5 % of the zones (files read before come from the
  cache, the new files applied as a delta on the published warehouse), timed beside a rebuild of
  the same files without the cache and checked against it table by table, and beside the same
  re-run rebuilding the warehouse (SDZ_INCREMENTAL=off: how re-runs went before deltas);
- the zone report cards: every card of the round written from the finished warehouse with no cache
  (the `zone_cards` step of the run above may have copied them from an earlier run's cache);
- the zones' templates of the next round (`sdz templates`: one workbook per zone, 31 years filled in),
  written from the full run's warehouse;
- the cost curve: time ∝ size^k, k fitted on the three sizes.
And once: the demo's `sdz run` from scratch, and its floor. It prints a table and writes
build/bench/results.json. Data are generated once under build/bench/.
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

from benchmarks.national_data import generate, write_supplementary

ROOT = Path(__file__).resolve().parents[1]
SIZES = (300, 1000, 2850)
STAGES = {  # Dagster step → stage
    "zone_registry": "inventory", "submission_inventory": "inventory", "parsed_submissions": "parse",
    "validated_values": "validate", "core_tables": "load", "index_zone_round": "index", "warehouse": "publish",
    "reports": "reports", "zone_cards": "cards",
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


# The bare baselines: what a user would write without sdz, run as a fresh process.
BARE_CSV = """
import sys, duckdb
with duckdb.connect(sys.argv[2]) as con:
    con.execute(f"create table t as select * from read_csv('{sys.argv[1]}/2040/batch-1/*.csv', header = true, "
                "all_varchar = true)")
"""
BARE_WORKBOOKS = """
import sys
from pathlib import Path
from python_calamine import CalamineWorkbook
for path in sorted(Path(sys.argv[1]).glob("2040/batch-1/*.xlsx")):
    workbook = CalamineWorkbook.from_path(str(path))
    workbook.get_sheet_by_index(0).to_python()
    workbook.close()
"""


def bare(raw: Path, fmt: str, folder: Path) -> float:
    """Seconds of the bare baseline script in a fresh process."""
    target = folder / "bare.duckdb"
    target.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE_CSV if fmt == "csv" else BARE_WORKBOOKS, str(raw), str(target)],
                   check=True, stderr=subprocess.DEVNULL)  # DuckDB draws a progress bar
    seconds = time.perf_counter() - started
    target.unlink(missing_ok=True)
    return seconds


def sdz_run(raw: Path, warehouse: Path, use_cache: bool = True, incremental: bool = True) -> dict:
    """One `sdz run` in a fresh process: wall time, peak memory, stage seconds."""
    environment = {**os.environ, "SDZ_CACHE": "on" if use_cache else "off",
                   "SDZ_INCREMENTAL": "on" if incremental else "off"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--raw", str(raw),
                                "--warehouse", str(warehouse)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               cwd=ROOT, env=environment)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"sdz run failed: {process.stderr.read().decode()[-2000:]}")
    # CPU seconds too: on a shared machine they move less with the load than wall time does.
    return {"seconds": round(seconds, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "stages": stage_seconds(warehouse)}


def stage_seconds(warehouse: Path) -> dict[str, float]:
    """Seconds per stage of the latest run, from the step timings in the warehouse's Dagster instance."""
    with DagsterInstance.from_config(str(warehouse.parent / ".dagster")) as instance:
        run = next(run for run in instance.get_runs(limit=20) if run.job_name == "sdz_run")
        stages: dict[str, float] = {}
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time and step.end_time:
                name = STAGES.get(step.step_key, "models" if step.step_key.startswith("sql_models") else "checks")
                stages[name] = round(stages.get(name, 0.0) + step.end_time - step.start_time, 2)
        return stages


def cards_write(warehouse: Path) -> dict:
    """Seconds to write every zone card of the warehouse's rounds from scratch (a cache of their own, empty)."""
    from pipelines.publish.reports.cards import write_cards
    from pipelines.runtime.settings import DEFAULT_METHOD

    out = warehouse.parent / "cards-bench"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    written = write_cards(warehouse, out / "reports", DEFAULT_METHOD, cache_dir=out / "cache")
    seconds = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return {"cards": sum(path.name != "index.html" for path in written), "cards_seconds": round(seconds, 2)}


def empty_run(folder: Path, raw: Path) -> float:
    """Seconds of `sdz run` on the same registry with no submission at all: what a run costs before any
    value (interpreter, imports, Dagster's run of every step and its event log, publishing, reports)."""
    empty = folder / "no-submissions"
    shutil.rmtree(empty, ignore_errors=True)
    (empty / "raw" / "reference").mkdir(parents=True)
    shutil.copy(raw / "reference" / "zones.csv", empty / "raw" / "reference" / "zones.csv")
    return sdz_run(empty / "raw", empty / "warehouse" / "sdz.duckdb", use_cache=False)["seconds"]


def demo_runs(folder: Path) -> dict:
    """The demo's `sdz run` from scratch (157 zones, three batches), then again with nothing new (its floor)."""
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pipelines.cli", "demo", str(folder / "raw")], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    warm_page_cache(folder / "raw")
    scratch = sdz_run(folder / "raw", folder / "warehouse" / "sdz.duckdb")
    floor = sdz_run(folder / "raw", folder / "warehouse" / "sdz.duckdb")
    return {"scratch_seconds": scratch["seconds"], "scratch_cpu_seconds": scratch["cpu_seconds"],
            "scratch_peak_rss_mb": scratch["peak_rss_mb"], "floor_seconds": floor["seconds"],
            "floor_cpu_seconds": floor["cpu_seconds"], "stages": scratch["stages"], "load_average": os.getloadavg()[0]}


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
                                 "platform": platform.platform()},
                     "load_average_before": os.getloadavg()[0], "runs": []}
    results["demo"] = demo_runs(ROOT / "build" / "bench" / "demo")
    print(json.dumps({"demo": results["demo"]}), flush=True)
    for fmt in ("csv", "workbook"):
        for zones in sizes:
            folder = ROOT / "build" / "bench" / f"{fmt}-{zones}"
            raw = generate(folder, zones, fmt)
            shutil.rmtree(raw / "2040" / "batch-2", ignore_errors=True)
            shutil.rmtree(folder / "warehouse", ignore_errors=True)
            warm_page_cache(raw)
            bare_seconds = bare(raw, fmt, folder)
            empty = empty_run(folder, raw)
            full = sdz_run(raw, folder / "warehouse" / "sdz.duckdb")
            floor = sdz_run(raw, folder / "warehouse" / "sdz.duckdb")
            cards = cards_write(folder / "warehouse" / "sdz.duckdb")
            templates = templates_seconds(folder / "warehouse" / "sdz.duckdb")
            write_supplementary(raw, 0.05, fmt)
            # The same re-run as before incremental runs (files from the cache, the warehouse rebuilt), on a
            # copy of the warehouse folder with its caches, so that the delta below finds its reports uncached too.
            shutil.rmtree(folder / "no-delta", ignore_errors=True)
            shutil.copytree(folder / "warehouse", folder / "no-delta")
            rerun_rebuilding = sdz_run(raw, folder / "no-delta" / "sdz.duckdb", incremental=False)
            rerun = sdz_run(raw, folder / "warehouse" / "sdz.duckdb")
            shutil.rmtree(folder / "rebuild", ignore_errors=True)
            rebuild = sdz_run(raw, folder / "rebuild" / "sdz.duckdb", use_cache=False)
            differing = differing_tables(folder / "warehouse" / "sdz.duckdb", folder / "rebuild" / "sdz.duckdb")
            shutil.rmtree(raw / "2040" / "batch-2")
            row = {"format": fmt, "zones": zones, "values": zones * 16 * 31, "bare_seconds": round(bare_seconds, 2),
                   "sdz_seconds": full["seconds"], "ratio": round(full["seconds"] / bare_seconds, 1),
                   "sdz_cpu_seconds": full["cpu_seconds"], "floor_seconds": floor["seconds"],
                   "floor_cpu_seconds": floor["cpu_seconds"], "empty_seconds": empty,
                   "peak_rss_mb": full["peak_rss_mb"], "stages": full["stages"], **cards,
                   "rerun_5pct_seconds": rerun["seconds"], "rerun_stages": rerun["stages"],
                   "rerun_share": round(rerun["seconds"] / full["seconds"], 2),
                   "rerun_peak_rss_mb": rerun["peak_rss_mb"],
                   "rerun_cpu_seconds": rerun["cpu_seconds"],
                   "rerun_rebuilding_cpu_seconds": rerun_rebuilding["cpu_seconds"],
                   "rerun_rebuilding_seconds": rerun_rebuilding["seconds"],
                   "rerun_rebuilding_share": round(rerun_rebuilding["seconds"] / full["seconds"], 2),
                   "rerun_rebuilding_stages": rerun_rebuilding["stages"],
                   "rebuild_seconds": rebuild["seconds"], "templates_next_round_seconds": templates,
                   "rerun_tables_differing_from_rebuild": differing,
                   "load_average": os.getloadavg()[0]}
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
    demo = results.get("demo")
    if demo:
        print(f"\ndemo: sdz run from scratch {demo['scratch_seconds']} s (peak {demo['scratch_peak_rss_mb']} MB), "
              f"floor (nothing new) {demo['floor_seconds']} s")
    print(f"\n{'format':9}{'zones':>7}{'values':>11}{'bare s':>8}{'floor s':>9}{'empty s':>9}{'sdz s':>8}"
          f"{'ratio':>7}{'peak MB':>9}{'rerun 5%':>10}{'share':>7}{'no delta':>9}{'=rebuild':>9}{'load':>6}"
          f"{'cards s':>9}{'tpl s':>7}"
          "  stages (s)")
    for r in results["runs"]:
        stages = ", ".join(f"{k} {v}" for k, v in sorted(r["stages"].items(), key=lambda kv: -kv[1]))
        print(f"{r['format']:9}{r['zones']:>7}{r['values']:>11,}{r['bare_seconds']:>8}{r['floor_seconds']:>9}"
              f"{r['empty_seconds']:>9}{r['sdz_seconds']:>8}{r['ratio']:>7}{r['peak_rss_mb']:>9}"
              f"{r['rerun_5pct_seconds']:>10}{r['rerun_share']:>7}{r['rerun_rebuilding_share']:>9}"
              f"{'yes' if not r.get('rerun_tables_differing_from_rebuild') else 'NO':>9}{r['load_average']:>6.1f}"
              f"{r.get('cards_seconds', ''):>9}{r.get('templates_next_round_seconds', ''):>7}"
              f"  {stages}")
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
