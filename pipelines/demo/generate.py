"""Deterministic generator of synthetic demo submissions: a complete, clearly labelled raw/ folder.

`generate_demo(raw_dir, seed)` writes the zone registry, the 2014 round (batch 1 and the supplementary
batch 2) and the first batch of the 2015 round in the office's workbook template and as long CSVs, with
the typical submission errors injected on purpose. Every injection is recorded in
`demo_manifest.json` with the reason code the pipeline should produce. Zone names and values are
invented; the composition of the registry (157 zones, 30 provinces, 76/55/26 by region, 77/51/23/6 by
type, two special and three removed zones) matches the programme office's 2014 report. The same seed
gives byte-identical files.

The pieces: `pipelines.demo.zones` (the registry and the true series) and `pipelines.demo.files` (one
submission, the errors injected into it, its rendering); this module plans the batches and writes the
folder.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from collections import Counter
from pathlib import Path

from pipelines.demo.files import (
    CSV_HEADER,
    LAYOUT_VARIANTS,
    Context,
    Submission,
    add_entry,
    add_file,
    apply_layout,
    finish_batch,
    inject,
    inject_file_error,
    inner_year,
    new_submission,
    set_cell,
)
from pipelines.demo.zones import FIRST_YEAR, Zone, build_registry, build_series, registry_csv

README_NAME = "SYNTHETIC_DEMO_README.md"
MANIFEST_NAME = "demo_manifest.json"


# --- the batches ---------------------------------------------------------------------------------------------------

ERRORS_2014 = (("yuan_for_wanyuan", 1), ("wanyuan_times_10000", 1), ("percent_as_fraction", 2),
               ("permille_as_percent", 9), ("missing_markers", None), ("thousands_separator_text", 7),
               ("fullwidth_digits_text", 12), ("percent_sign_text", 5), ("row_shift", 8), ("jump_x5", 6),
               ("not_a_number", 4), ("negative_value", 8), ("out_of_range", 16), ("extra_year_column", None),
               ("indicator_name_mismatch", 10), ("unit_mismatch", 1), ("formula_without_value", 8),
               ("zone_name_mismatch", None), ("identified_by_name", None), ("zone_not_identified", None),
               ("no_data_sheet", None), ("unreadable_file", None))
ERRORS_2015 = (("extra_year_column", None), ("missing_markers", None), ("not_a_number", 4),
               ("wanyuan_times_10000", 12), ("negative_value", 13), ("out_of_range", 9), ("fullwidth_digits_text", 7),
               ("wan_yuan_per_capita", 7), ("row_shift", 3), ("zone_name_mismatch", None))
# How a zone answers a batch-1 problem in batch 2; problems not listed need no answer, or get none (negative_value).
FIXES = {"wanyuan_times_10000": "cells", "percent_as_fraction": "full", "missing_markers": "cells", "row_shift": "row",
         "jump_x5": "cells", "not_a_number": "unfixed", "out_of_range": "cells", "indicator_name_mismatch": "row",
         "unit_mismatch": "full", "formula_without_value": "cells", "zone_not_identified": "full",
         "no_data_sheet": "full", "unreadable_file": "full", "bad_header": "full", "conflicting_duplicate": "cells"}
FILE_REASONS = ("zone_not_identified", "no_data_sheet", "unreadable_file", "bad_header")
CSV_ENCODINGS = ("utf-8", "gb18030", "utf-8-sig", "gb18030")


def _wrong_keys(ctx: Context, sub: Submission) -> list[tuple[int, int]]:
    """The (indicator, year) cells of the round whose accepted value is not the true one."""
    truth = ctx.truth[sub.zone.code]
    return sorted(k for k, v in sub.accepted.items() if k[1] < sub.round and (v is None or v != truth[k[0]][k[1]]))


def _csv_submission(ctx: Context, zone: Zone, rnd: int, batch: int, k: int, keys=None) -> Submission:
    """A long CSV; the k-th CSV of a batch gets the k-th encoding (UTF-8, GB18030, UTF-8 with BOM, GB18030)."""
    sub = new_submission(ctx, zone, rnd, batch, "csv", keys)
    sub.encoding = CSV_ENCODINGS[k % len(CSV_ENCODINGS)]
    if sub.encoding != "utf-8":
        add_entry(sub, f"csv_encoding_{sub.encoding}", "loaded")
    return sub


def _csv_variant(ctx: Context, sub: Submission, k: int) -> None:
    """The CSV problems of the 2014 first batch, one per file."""
    year = inner_year(ctx, sub)
    if k == 0:
        inject_file_error(sub, "bad_header")
        ctx.issues[sub.zone.code] = ("bad_header", _wrong_keys(ctx, sub), "csv")
    elif k == 1:
        codes = {z.code for z in ctx.zones}
        typo = sub.zone.code[:4] + sub.zone.code[5] + sub.zone.code[4]
        typo = typo if typo not in codes else f"{sub.zone.province_code}9999"
        unknown = add_entry(sub, "unknown_zone_line", "unknown_zone", 3, year, "12.5")
        unknown["zone_code"] = typo
        sub.extra_lines.append(([typo, "3", str(year), "12.5", "件/万人", ""], unknown))
        wrong = add_entry(sub, "indicator_17_line", "unknown_indicator", 17, year, "88")
        sub.extra_lines.append(([sub.zone.code, "17", str(year), "88", "", ""], wrong))
    elif k == 2:
        set_cell(sub, 6, year, "NA", None, "missing_marker_csv", "missing")
        value = ctx.truth[sub.zone.code][7][year]
        set_cell(sub, 7, year, f"{value:,}", float(value), "thousands_separator_csv", "converted")
    elif k == 3:
        sub.csv_header = CSV_HEADER[:4]
        add_entry(sub, "csv_without_unit_note", "loaded")


def _conflict_pair(ctx: Context, zone: Zone) -> list[Submission]:
    """A workbook and a CSV of one zone in one batch: equal overlapping values and one conflicting value."""
    workbook = new_submission(ctx, zone, 2014, 1)
    keys = {(i, y) for i in (7, 8) for y in workbook.years}
    sheet = new_submission(ctx, zone, 2014, 1, "csv", keys)
    year = inner_year(ctx, workbook)
    true = ctx.truth[zone.code][8][year]
    set_cell(workbook, 8, year, true, None, "conflicting_values", "conflicting_duplicate")
    set_cell(sheet, 8, year, int(round(true * 1.1)) + 1, None, "conflicting_values", "conflicting_duplicate")
    add_entry(sheet, "equal_overlap", "loaded")
    ctx.issues[zone.code] = ("conflicting_duplicate", [(8, year)], "csv")
    return [workbook, sheet]


def plan_2014_batch1(ctx: Context) -> tuple[list[Submission], list[Zone]]:
    """Round 2014, first batch: 145 of 157 zones submit; returns the files and the zones that did not."""
    order = [z for z in ctx.zones if z.removed_year is None]
    ctx.rng.shuffle(order)
    absent, csv_zones, wb_zones = order[:12], order[12:24], order[24:]
    subs = []
    n_err, n_layout = len(ERRORS_2014), 2 * len(LAYOUT_VARIANTS)
    for k, zone in enumerate(wb_zones[:-1]):
        sub = new_submission(ctx, zone, 2014, 1)
        if k < n_err:
            inject(ctx, sub, *ERRORS_2014[k])
            ctx.issues[zone.code] = (ERRORS_2014[k][0], _wrong_keys(ctx, sub), "xlsx")
        elif k < n_err + n_layout:
            apply_layout(ctx, sub, LAYOUT_VARIANTS[(k - n_err) % len(LAYOUT_VARIANTS)])
        elif k == n_err + n_layout:
            sub.copies.append(sub.file_name.replace(".xlsx", "_副本.xlsx"))
        subs.append(sub)
    subs += _conflict_pair(ctx, wb_zones[-1])
    for k, zone in enumerate(csv_zones):
        sub = _csv_submission(ctx, zone, 2014, 1, k)
        _csv_variant(ctx, sub, k)
        subs.append(sub)
    removed = next(z for z in ctx.zones if z.removed_year)
    subs.append(new_submission(ctx, removed, 2014, 1))
    add_entry(subs[-1], "removed_zone_submission", "zone_not_expected")
    finish_batch(ctx, 2014, 1, subs)
    add_file(ctx, "2014/batch-1/说明.docx", b"synthetic demo: a covering note, not a real document\n",
             "document_file", "unsupported_file_type")
    add_file(ctx, "2014/batch-1/~$temp.xlsx", b"\x0bdemo steward" + bytes(149), "office_lock_file", "ignored")
    add_file(ctx, "2014/batch-1/.DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(24), "macos_metadata", "ignored")
    return subs, absent


def _correction(ctx: Context, zone: Zone, kind: str, keys: list[tuple[int, int]], fmt: str) -> Submission | None:
    """The batch-2 answer of a zone to its batch-1 problem (None when the zone does not answer)."""
    mode = FIXES.get(kind)
    if mode is None:
        return None
    if mode == "row":
        keys = [(i, y) for i in sorted({k[0] for k in keys}) for y in range(FIRST_YEAR, 2014)]
    sub = (new_submission(ctx, zone, 2014, 2, fmt) if mode == "full"
           else new_submission(ctx, zone, 2014, 2, fmt, set(keys)))
    sub.tracked = set(keys)
    if kind in FILE_REASONS:
        sub.tracked = set()
        if kind == "unreadable_file":  # saved again as .xlsx, but named .xls: read by its content, with a warning
            sub.file_name = sub.file_name.removesuffix(".xlsx") + ".xls"
            add_entry(sub, "xlsx_named_xls", "extension_mismatch")
        add_entry(sub, "resubmission", "loaded")
    if mode == "unfixed":
        for ind, year in keys:
            set_cell(sub, ind, year, "待核实", None, "unfixed_not_a_number", "not_a_number")
    return sub


def _revise_truth(ctx: Context, zone: Zone, ind: int, year: int) -> None:
    """A genuine revision: the zone's true value changes from now on."""
    old = ctx.truth[zone.code][ind][year]
    new = int(round(old * 1.03)) + 1 if isinstance(old, int) else round(old * 1.03 + 0.01, 2)
    ctx.truth[zone.code][ind][year] = new


def plan_2014_batch2(ctx: Context, batch1: list[Submission], absent: list[Zone]) -> None:
    """Round 2014, supplementary batch: late submissions, corrections, a few genuine revisions."""
    subs = [new_submission(ctx, zone, 2014, 2) for zone in absent[:8]]
    subs.append(_csv_submission(ctx, absent[8], 2014, 2, 1))
    for zone in ctx.zones:
        if zone.code in ctx.issues:
            answer = _correction(ctx, zone, *ctx.issues[zone.code])
            subs += [answer] if answer else []
    clean = [s.zone for s in batch1 if s.fmt == "xlsx" and not s.entries and not s.copies]
    for k, zone in enumerate(clean[-4:]):
        ind, year = ctx.rng.choice((3, 5, 8, 13)), ctx.rng.choice((2011, 2012, 2013))
        _revise_truth(ctx, zone, ind, year)
        sub = new_submission(ctx, zone, 2014, 2, keys={(ind, year)} if k < 2 else None)
        sub.revision_kind, sub.tracked = "genuine_revision", {(ind, year)}
        subs.append(sub)
    finish_batch(ctx, 2014, 2, subs)
    add_file(ctx, "2014/batch-2/补报说明.pdf", b"%PDF-1.4\n% synthetic demo placeholder, not a real document\n%%EOF\n",
             "document_file", "unsupported_file_type")


def plan_2015_batch1(ctx: Context) -> None:
    """Round 2015, first batch (years 2009-2014): 150 zones, a few revisions of 2012-2013, a handful of errors."""
    order = [z for z in ctx.zones if z.removed_year is None]
    ctx.rng.shuffle(order)
    csv_zones, wb_zones = order[7:17], order[17:]
    subs = []
    for k, zone in enumerate(wb_zones):
        if k < 5:
            _revise_truth(ctx, zone, ctx.rng.choice((1, 6, 7, 12, 14)), ctx.rng.choice((2012, 2013)))
        sub = new_submission(ctx, zone, 2015, 1)
        if k < 5:
            sub.revision_kind = "genuine_revision"
        elif k < 5 + len(ERRORS_2015):
            inject(ctx, sub, *ERRORS_2015[k - 5])
        elif k < 5 + len(ERRORS_2015) + len(LAYOUT_VARIANTS):
            apply_layout(ctx, sub, LAYOUT_VARIANTS[k - 5 - len(ERRORS_2015)])
        subs.append(sub)
    for k, zone in enumerate(csv_zones):
        subs.append(_csv_submission(ctx, zone, 2015, 1, k))
    late = subs[-1]
    value = ctx.truth[late.zone.code][7][2014]
    entry = add_entry(late, "year_2015_line", "year_out_of_range", 7, 2015, value)
    late.extra_lines.append(([late.zone.code, "7", "2015", str(value), "元/人", "预计"], entry))
    finish_batch(ctx, 2015, 1, subs)


# --- the folder ----------------------------------------------------------------------------------------------------

README = """# SYNTHETIC DEMO DATA — 合成演示数据

Everything in this folder was generated by `pipelines/demo/generate.py` (seed {seed}). It is **not** real
monitoring data: the zone names (…演示一县) and every value are invented; only the composition of the
registry (157 zones in 30 provinces, 76/55/26 by region, 77/51/23/6 by type, two special zones, three
removed zones) follows the programme office's 2014 report.

- `reference/zones.csv` — the registry; `2014/batch-1`, `2014/batch-2`, `2015/batch-1` — submissions.
- Typical submission errors are injected on purpose. `demo_manifest.json` lists each one with its
  file, zone, indicator, year, sheet and cell (`line N` for CSVs, the header being line 1) and the
  reason code the pipeline should produce (`converted`, `missing`, `loaded`, `ignored` where nothing is
  rejected).
- Regenerate with `python -m pipelines.demo.generate DIR`. The generator only writes into an empty folder or a
  folder holding this README, which it clears first: never put real submissions here.
"""


def prepare_directory(raw_dir: Path) -> None:
    """Refuse a folder with files unless it is an earlier demo folder; clear that one."""
    if raw_dir.exists() and not raw_dir.is_dir():
        raise ValueError(f"{raw_dir} is not a directory")
    if raw_dir.is_dir() and any(raw_dir.iterdir()):
        if not (raw_dir / README_NAME).is_file():
            raise ValueError(f"{raw_dir} already holds files and no {README_NAME}: refusing to write demo data there")
        for child in sorted(raw_dir.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    raw_dir.mkdir(parents=True, exist_ok=True)


def _count(items) -> dict[str, int]:
    return dict(sorted(Counter(items).items()))


def summarise(ctx: Context, seed: int) -> dict:
    """Counts of zones, files per batch and injected errors by kind and by expected reason."""
    active = [z for z in ctx.zones if z.removed_year is None]
    batches: dict[str, Counter] = {}
    for path in ctx.files:
        if path.startswith("reference/"):
            continue
        folder, name = path.rsplit("/", 1)
        suffix = name.rsplit(".", 1)[-1]
        kind = "ignored" if name.startswith((".", "~$")) else {"xlsx": "workbooks", "csv": "csv"}.get(suffix, "other")
        batches.setdefault(folder, Counter())[kind] += 1
    return {
        "seed": seed,
        "zones": {"active": len(active), "removed": len(ctx.zones) - len(active),
                  "provinces": len({z.province_code for z in active}),
                  "by_region": dict(sorted(Counter(z.region for z in active).items())),
                  "by_type": dict(sorted(Counter(z.zone_type for z in active).items())),
                  "type_evaluation_false": sum(not z.type_evaluation for z in active)},
        "batches": {folder: {**dict(sorted(counts.items())), "files": sum(counts.values()),
                             "zones_submitting": len(ctx.submitters[folder])} for folder, counts in batches.items()},
        "injected": _count(e["kind"] for e in ctx.entries if not e["kind"].startswith("layout_")),
        "layout_variants": _count(e["kind"] for e in ctx.entries if e["kind"].startswith("layout_")),
        "expected": _count(e["expected"] for e in ctx.entries),
        "manifest_entries": len(ctx.entries),
    }


def generate_demo(raw_dir: Path, seed: int = 2014) -> dict:
    """Write a complete synthetic raw folder into `raw_dir` and return a summary of what was written.

    Raises ValueError when `raw_dir` holds files but no SYNTHETIC_DEMO_README.md.
    """
    raw_dir = Path(raw_dir)
    prepare_directory(raw_dir)
    (raw_dir / README_NAME).write_text(README.format(seed=seed), encoding="utf-8")
    rng = random.Random(seed)
    zones = build_registry(rng)
    ctx = Context(rng, zones, build_series(zones, rng))
    ctx.files["reference/zones.csv"] = registry_csv(zones)
    batch1, absent = plan_2014_batch1(ctx)
    plan_2014_batch2(ctx, batch1, absent)
    plan_2015_batch1(ctx)
    for rel, data in ctx.files.items():
        path = raw_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    manifest = {"synthetic": True, "generator": "pipelines.demo.generate", "seed": seed, "entries": ctx.entries}
    (raw_dir / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return summarise(ctx, seed)


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.demo.generate OUT_DIR [--seed N]`: write the demo raw folder and print its summary."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.demo.generate", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (empty, or an earlier demo folder)")
    parser.add_argument("--seed", type=int, default=2014)
    args = parser.parse_args(argv)
    try:
        summary = generate_demo(args.out_dir, seed=args.seed)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
