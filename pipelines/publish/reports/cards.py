"""Zone report cards: one page pair per zone a round expects, sent back to the zone with what it submitted.

`write_cards(warehouse_path, reports_dir, method_file)` writes, for every round, `<round>/zones/<zone_code>.html`
and `<round>/zones/index.html` under `reports_dir`, as of the end of the round like the round's reports:
the zone's identity; each indicator's latest value, sparkline and place in its type's distribution; the
index and the five aspects against the type mean; the rank within the type with its 90 % interval from
the sensitivity analysis (or why the zone has none); and its data quality batch by batch. The numbers
are the card marts' (`pipelines.publish.reports.card_data`); the page is `templates/card.html.j2`, one
Jinja environment for all cards. A round whose inputs, method file and code are those of a render kept
in the cache (`pipelines.publish.reports.cache`) is copied from there. `write_zone_cards` writes chosen
cards of one round (the `sdz cards` command).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
from jinja2 import Environment
from markupsafe import Markup, escape

from pipelines.index.method import Method, load_method
from pipelines.index.zone_scores import SENSITIVITY_RUNS, method_digest
from pipelines.publish.reports import cache, card_charts, data
from pipelines.publish.reports.card_data import ByZone, CardInputs, card_inputs
from pipelines.publish.reports.method_text import node_name
from pipelines.publish.reports.model import REGION_LABELS, STATUS_LABELS, missing, type_label
from pipelines.publish.reports.render import check_method, report_environment, significant
from pipelines.runtime.forked import run_in_parts

POSITIONS = {"below_q1": "低于四分位距 below the IQR", "within_iqr": "四分位距内 within the IQR",
             "above_q3": "高于四分位距 above the IQR"}
NOT_RANKED = {
    "not_type_evaluated": ("本区为特殊实验区，不参加按类型的评价（登记表 type_evaluation 为 false），故无指数与排名。",
                           "A special zone, left out of the evaluation by zone type (type_evaluation false in the "
                           "zone registry): no index and no rank."),
    "no_index_score": ("本区本轮最后一年报送的指标不足以计算指数，故无排名。",
                       "Too few indicators reported for an index score in the round's last year: no rank."),
}
KINDS = {"rejected": "拒收 rejected", "warning": "警告 warning", "refused_file": "文件拒收 file refused"}
LISTED = 12  # open findings and revisions listed on a card; the rest are counted


def number(key: str, text: str) -> Markup:
    """A number as the card prints it, tagged with what it is (the tests read every one back against SQL)."""
    return Markup(f'<span class="n" data-key="{key}">{escape(text)}</span>')


def _value(value: object) -> str:
    return "–" if missing(value) else significant(float(value))


def _score(value: object) -> str:
    return "–" if missing(value) else f"{float(value):.1f}"


def _text(value: object) -> str:
    return "–" if missing(value) else str(value)


def _integer(value: object) -> str:
    return "–" if missing(value) else f"{int(value):,}"


def _year(value: object) -> str:
    return "–" if missing(value) else str(int(value))


@dataclass
class ZoneCard:
    """What one card shows, formatted; built by `zone_card`, rendered by `templates/card.html.j2`."""

    round: int
    last_batch: int
    years: tuple[int, int]
    identity: dict
    indicators: list[dict]
    score_chart: Markup | None
    scores: list[dict]
    rank: dict
    not_ranked: tuple[str, str] | None
    quality: list[dict]
    open_counts: dict
    open_findings: list[dict]
    more_findings: int
    revisions: list[dict]
    more_revisions: int


def zone_card(inputs: CardInputs, zone: dict, parts: dict[str, ByZone], nodes: dict[str, str]) -> ZoneCard:
    """The card of one zone from the round's inputs by zone (`parts`: frame name -> rows by zone)."""
    code = zone["zone_code"]

    def rows(name: str) -> list[dict]:
        return parts[name].get(code)

    identity = {
        "code": number("zone_code", code), "name": _text(zone["zone_name"]), "province": _text(zone["province_name"]),
        "region": REGION_LABELS.get(zone["region"], zone["region"]), "type": type_label(zone["zone_type"]),
        "designated": number("designated_year", _year(zone["designated_year"])),
        "evaluated": "是 yes" if zone["type_evaluation"] else "否 no (特殊实验区 special zone)",
    }
    rank_row = rows("rank")[0]
    reason = rank_row["not_ranked_reason"]
    scores, quality = rows("scores"), rows("quality")
    findings, revisions = rows("open_findings"), rows("revisions")
    return ZoneCard(
        round=inputs.round, last_batch=inputs.last_batch, years=inputs.years, identity=identity,
        indicators=_indicator_rows(inputs, code, rows("indicators"), parts["values"].arrays_of(code)),
        score_chart=Markup(card_charts.score_panels(
            f"{code}-scores", scores, nodes, f"本区 {zone['zone_name']}",
            f"{type_label(zone['zone_type'])} 均值 mean")) if scores else None,
        scores=_score_rows(scores, nodes),
        rank=_rank(rank_row, zone["zone_type"]),
        not_ranked=NOT_RANKED.get(reason) if isinstance(reason, str) else None,
        quality=[_quality_row(row) for row in quality],
        open_counts=_open_counts(quality),
        open_findings=[_finding_row(i, row) for i, row in enumerate(findings[:LISTED])],
        more_findings=max(len(findings) - LISTED, 0),
        revisions=[_revision_row(i, row) for i, row in enumerate(revisions[:LISTED])],
        more_revisions=max(len(revisions) - LISTED, 0),
    )


def _indicator_rows(inputs: CardInputs, code: str, indicators: list[dict], values: dict[str, np.ndarray]) -> list[dict]:
    names = inputs.names
    series: dict[int, list[tuple[int, float]]] = {}
    # ordered by indicator and year
    for indicator, year, value in zip(values["indicator_id"].tolist(), values["year"].tolist(),
                                      values["value"].tolist(), strict=True):
        series.setdefault(indicator, []).append((int(year), float(value)))
    out = []
    for row in indicators:
        i = int(row["indicator_id"])
        key, label = f"ind-{i}", f"{i} {names[i]['name_zh']}"
        higher = row["direction"] == "higher"
        out.append({
            "id": i, "name_zh": names[i]["name_zh"], "name_en": names[i]["name_en"], "unit": row["unit"],
            "better": "越高越好 higher is better" if higher else "越低越好 lower is better",
            "arrow": "↑" if higher else "↓",
            "value": number(f"{key}-latest_value", _value(row["latest_value"])),
            "year": number(f"{key}-latest_year", _year(row["latest_year"])),
            "reported": number(f"{key}-years_reported", _integer(row["years_reported"])),
            "expected": number(f"{key}-years_expected", _integer(row["years_expected"])),
            "median": number(f"{key}-type_median", _value(row["type_median"])),
            "iqr": number(f"{key}-type_q1", _value(row["type_q1"])) + "–"
            + number(f"{key}-type_q3", _value(row["type_q3"])),
            "position": POSITIONS.get(row["position"], "–"),
            "sparkline": Markup(card_charts.sparkline(f"{code}-spark-{i}", inputs.years, series.get(i, []),
                                                      f"{label} {inputs.years[0]}–{inputs.years[1]}")),
            "strip": Markup(card_charts.position_strip(
                f"{code}-strip-{i}", row["latest_value"], row["type_q1"], row["type_median"], row["type_q3"],
                f"{label}: 同类型分布中的位置 position in the type's distribution")),
        })
    return out


def _score_rows(scores: list[dict], nodes: dict[str, str]) -> list[dict]:
    """The latest year's score and type mean of each node."""
    if not scores:
        return []
    year = max(row["year"] for row in scores)
    latest = {row["node"]: row for row in scores if row["year"] == year}
    return [{"name": name, "year": number(f"score-{node}-year", _year(year)),
             "score": number(f"score-{node}-score", _score(latest.get(node, {}).get("score"))),
             "mean": number(f"score-{node}-type_mean", _score(latest.get(node, {}).get("type_mean")))}
            for node, name in nodes.items()]


def _rank(row: dict, zone_type: str) -> dict:
    if missing(row["rank"]):
        return {}
    return {"year": number("rank-year", _year(row["year"])), "rank": number("rank-rank", _integer(row["rank"])),
            "of": number("rank-zones_ranked", _integer(row["zones_ranked"])), "type": type_label(zone_type),
            "p05": number("rank-rank_p05", _score(row["rank_p05"])),
            "p95": number("rank-rank_p95", _score(row["rank_p95"])),
            "median": number("rank-median_rank", _score(row["median_rank"])),
            "runs": number("rank-runs", _integer(row["runs"])), "of_runs": SENSITIVITY_RUNS}


def _quality_row(row: dict) -> dict:
    key = f"batch-{row['batch']}"
    shown = {"accepted": "values_accepted", "rejected": "values_rejected", "findings": "findings",
             "reported": "cells_reported", "expected": "cells_expected", "revised": "values_revised"}
    return {"batch": number(f"{key}-batch", _year(row["batch"])),
            "status": STATUS_LABELS.get(row["status"], row["status"]),
            "coverage": number(f"{key}-coverage_pct", _score(row["coverage_pct"])),
            **{name: number(f"{key}-{column}", _integer(row[column])) for name, column in shown.items()}}


def _open_counts(quality: list[dict]) -> dict:
    """The findings open at the end of the round (the same on every batch's row)."""
    if not quality:
        return {}
    return {name: number(f"open-{name}", _integer(quality[-1][name]))
            for name in ("open_total", "open_rejected", "open_warnings", "open_file_findings")}


def _finding_row(i: int, row: dict) -> dict:
    key = f"finding-{i}"
    return {"batch": number(f"{key}-batch", _year(row["batch"])), "kind": KINDS.get(row["kind"], row["kind"]),
            "code": row["code"], "indicator": number(f"{key}-indicator_id", _year(row["indicator_id"])),
            "year": number(f"{key}-year", _year(row["year"])),
            "cell": number(f"{key}-source_cell", _text(row["source_cell"])),
            "detail": number(f"{key}-detail", _text(row["detail"]))}


def _revision_row(i: int, row: dict) -> dict:
    key = f"revision-{i}"
    change = row["relative_change_pct"]
    return {"batch": number(f"{key}-new_batch", _year(row["new_batch"])),
            "indicator": number(f"{key}-indicator_id", _year(row["indicator_id"])),
            "year": number(f"{key}-year", _year(row["year"])),
            "old": number(f"{key}-old_value", _value(row["old_value"])),
            "new": number(f"{key}-new_value", _value(row["new_value"])),
            "change": number(f"{key}-relative_change_pct", "–" if missing(change) else f"{change:+.1f}")}


def _nodes(method: Method) -> dict[str, str]:
    """The index and its aspects in the method's order, with the names the reports print."""
    return {key: node_name(key, method) for key in [method.root, *method.groups[method.root].children]
            if key == method.root or key in method.groups}


FRAMES = ("indicators", "values", "scores", "rank", "quality", "open_findings", "revisions")
# From this many cards a round, its cards are rendered in parts, one per usable core (runtime.forked): a
# card takes about 5 ms, forking the process that holds a national round's inputs a few ms.
FORK_FROM_CARDS = 100


def render_round(inputs: CardInputs, method: Method, environment: Environment,
                 with_index: bool = True) -> Iterator[tuple[str, str]]:
    """Every card of the round's inputs, then (`with_index`) the index page, as (file name, HTML), one at a
    time: a round's cards together are hundreds of megabytes of text at national scale."""
    parts = {name: inputs.by_zone(name) for name in FRAMES}
    zones = inputs.zones.to_dict("records")
    yield from render_cards(inputs, zones, parts, _nodes(method), environment)
    if with_index:
        yield "index.html", render_index(inputs, zones, parts, environment)


def render_cards(inputs: CardInputs, zones: list[dict], parts: dict[str, ByZone], nodes: dict[str, str],
                 environment: Environment) -> Iterator[tuple[str, str]]:
    """The cards of `zones` (records of `inputs.zones`), as (file name, HTML), one at a time."""
    card_template = environment.get_template("card.html.j2")
    for zone in zones:
        yield f"{zone['zone_code']}.html", card_template.render(card=zone_card(inputs, zone, parts, nodes))


def render_index(inputs: CardInputs, zones: list[dict], parts: dict[str, ByZone], environment: Environment) -> str:
    """The round's index page of the cards of `zones`."""
    return environment.get_template("cards_index.html.j2").render(
        round=inputs.round, last_batch=inputs.last_batch, zones=[_index_row(zone, parts) for zone in zones])


def write_round(folder: Path, inputs: CardInputs, method: Method, environment: Environment) -> None:
    """Every card of the round's inputs and the index page into `folder`; the cards in as many parts as there
    are usable cores, rendered at once (a part per forked process, `runtime.forked`)."""
    parts = {name: inputs.by_zone(name) for name in FRAMES}
    zones, nodes = inputs.zones.to_dict("records"), _nodes(method)
    run_in_parts(zones, lambda part: _write_pages(folder, render_cards(inputs, part, parts, nodes, environment)),
                 FORK_FROM_CARDS)
    _write_pages(folder, [("index.html", render_index(inputs, zones, parts, environment))])


def _index_row(zone: dict, parts: dict[str, ByZone]) -> dict:
    code = zone["zone_code"]
    rank = parts["rank"].get(code)[0]
    quality = parts["quality"].get(code)
    return {"code": code, "name": zone["zone_name"], "province": zone["province_name"],
            "type": type_label(zone["zone_type"]),
            "rank": "–" if missing(rank["rank"]) else f"{int(rank['rank'])} / {int(rank['zones_ranked'])}",
            "coverage": _score(quality[-1]["coverage_pct"]) if quality else "–",
            "open": _integer(quality[-1]["open_total"]) if quality else "–"}


def card_environment() -> Environment:
    """The Jinja environment of the cards (the reports' one: the same filters and escaping)."""
    return report_environment()


def write_cards(warehouse_path: Path, reports_dir: Path, method_file: Path,
                cache_dir: Path | None = None) -> list[Path]:
    """Write `<round>/zones/` under `reports_dir` for every round: a card per expected zone and the index page.

    Each round's folder is built beside the old one and swapped in; a round whose inputs, method file and
    code are those of a render in `cache_dir` (default `<reports_dir's parent>/.cache/cards`) is copied from
    there. Reads the warehouse read-only. Returns the files written."""
    method, digest = load_method(Path(method_file)), method_digest(Path(method_file))
    reports_dir = Path(reports_dir)
    cache_dir = Path(cache_dir) if cache_dir else reports_dir.parent / ".cache" / "cards"
    code, environment = cache.code_version(), card_environment()
    written: list[Path] = []
    used: set[str] = set()
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        check_method(con, Path(method_file), digest)
        rounds = [round_year for round_year, _last_batch in data.rounds(con)]
    for round_year in rounds:
        # A connection per round, closed before the cards are rendered in forked processes: a child then
        # shares no open database (nor its threads) with its parent.
        with duckdb.connect(str(warehouse_path), read_only=True) as con:
            inputs = card_inputs(con, round_year)
        key = cache.cache_key(inputs.digest(), digest, code)
        used.add(key)
        folder = reports_dir / str(round_year) / "zones"
        staging = folder.with_name(".zones.writing")
        shutil.rmtree(staging, ignore_errors=True)
        if not cache.restore_folder(cache_dir, key, staging):
            write_round(staging, inputs, method, environment)
            cache.store(cache_dir, key, staging, names=None)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        written += sorted(folder.iterdir())
    cache.prune(cache_dir, used)
    return written


def write_zone_cards(warehouse_path: Path, round_year: int, zones: list[str], out: Path,
                     method_file: Path) -> list[Path]:
    """Write the cards of `zones` (all the round expects when empty, then with the index page) of one round
    into `out`; no cache. Raises ValueError for a round the warehouse lacks or a zone the round does not
    expect."""
    method, digest = load_method(Path(method_file)), method_digest(Path(method_file))
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        check_method(con, Path(method_file), digest)
        rounds = [r for r, _ in data.rounds(con)]
        if round_year not in rounds:
            raise ValueError(f"round {round_year} is not in {warehouse_path} (rounds: "
                             f"{', '.join(map(str, rounds)) or 'none'})")
        inputs = card_inputs(con, round_year, zones)
    unknown = sorted(set(zones) - set(inputs.zones["zone_code"]))
    if unknown:
        raise ValueError(f"zone(s) {', '.join(unknown)} not expected in round {round_year}: no card (zone codes as "
                         "in the registry, e.g. 111216)")
    return _write_pages(Path(out), render_round(inputs, method, card_environment(), with_index=not zones))


def _write_pages(folder: Path, pages: Iterable[tuple[str, str]]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)  # (a forked part may come first: exist_ok)
    written = []
    for name, html in pages:
        written.append(folder / name)
        written[-1].write_text(html, encoding="utf-8")
    return sorted(written)

