"""The zone report cards (pipelines/publish/reports/cards.py) on the synthetic demo.

One warehouse is built from the generated demo by the whole pipeline (which writes the cards with the
`zone_cards` asset). For three zones - the type-evaluated zone with the most open findings, the one
with the most revisions, and a special zone - every number on their cards of both rounds is read
back (each is a `span.n` naming what it is) and compared with SQL on the warehouse, computed here
from the models the cards read or the tables under them; no digit may appear outside those spans
except in labels marked `.fixed`. The browser test renders cards in headless Chromium.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipelines.demo.generate import generate_demo
from pipelines.index.engine import sensitivity
from pipelines.index.method import load_method
from pipelines.publish.reports import cards as cards_module
from pipelines.publish.reports.cards import LISTED, write_cards
from pipelines.publish.reports.render import write_reports
from pipelines.runtime.runner import materialize_all
from pipelines.runtime.settings import DEFAULT_METHOD, SdzSettings
from tests.test_cli import sdz
from tests.test_printing import POPPLER
from tests.test_printing import _pages as pdf_pages
from tests.test_printing import _paper as pdf_paper
from tests.test_reports import CHROMIUM, Chromium, open_page, same_number

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cards")
    generate_demo(root / "raw")
    path = root / "warehouse" / "sdz.duckdb"
    assert materialize_all(SdzSettings(raw_dir=str(root / "raw"), warehouse=str(path))).success
    return path


def query(warehouse: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).df()


@pytest.fixture(scope="module")
def chosen(warehouse: Path) -> dict[str, str]:
    """Three zones of the demo: the most open findings (type-evaluated), the most revisions, a special zone."""
    open_most = query(warehouse, """
        select zone_code from mart.open_problems join staging.expected_zones using (round, zone_code)
        where type_evaluation order by open_total desc, round desc, zone_code limit 1""").iat[0, 0]
    revised_most = query(warehouse, """
        select zone_code from mart.revisions join core.zones using (zone_code) where type_evaluation
        group by zone_code order by count(*) desc, zone_code limit 1""").iat[0, 0]
    special = query(warehouse, "select min(zone_code) from core.zones where not type_evaluation").iat[0, 0]
    return {"open": open_most, "revised": revised_most, "special": special}


# --------------------------------------------------------------------------------------------
# Reading a card back
# --------------------------------------------------------------------------------------------


class _CardParser(HTMLParser):
    """The text of every span.n by its data-key, and the page's other text outside svg, .fixed and <head>."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: dict[str, list[str]] = {}
        self.other_text: list[str] = []
        self._stack: list[tuple[str, str | None, bool]] = []  # tag, number key, hides text

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        key = attributes.get("data-key") if "n" in classes else None
        hides = tag in ("svg", "head", "style", "title") or "fixed" in classes
        if key is not None:
            self.numbers.setdefault(key, []).append("")
        self._stack.append((tag, key, hides))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        keys = [key for _, key, _ in self._stack if key is not None]
        if keys:
            self.numbers[keys[-1]][-1] += data
        elif not any(hides for *_, hides in self._stack):
            self.other_text.append(data)


def read_card(path: Path) -> _CardParser:
    parser = _CardParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def expected_numbers(warehouse: Path, round_year: int, zone: str) -> dict[str, object]:
    """Every number the card of `zone` in `round_year` must show, from SQL on the warehouse."""
    one = {"r": round_year, "z": zone}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def rows(sql: str) -> list[dict]:
            return con.execute(sql, one).df().to_dict("records")

        expected: dict[str, object] = {}
        first, last, last_batch = con.execute("select first_year, last_year, last_batch from core.rounds "
                                              "where round = $r", {"r": round_year}).fetchone()
        expected.update(round=round_year, last_batch=last_batch, first_year=first, last_year=last, zone_code=zone)
        expected["designated_year"] = con.execute("select designated_year from core.zones where zone_code = $z",
                                                  {"z": zone}).fetchone()[0]
        # indicators: straight from the values in force at the end of the round and the zone's type
        for row in rows("""
            with zone_values as (
                select indicator_id, year, value from mart.observations_as_of where round = $r and zone_code = $z
            ),
            latest as (
                select indicator_id, max(year) as year, count(*) as years from zone_values group by indicator_id
            ),
            type_values as (
                select a.indicator_id, a.year, a.value from mart.observations_as_of as a
                join staging.expected_zones as e using (round, zone_code)
                where a.round = $r and e.zone_type = (
                    select zone_type from staging.expected_zones where round = $r and zone_code = $z)
            )
            select i.indicator_id, l.year as latest_year, v.value as latest_value, coalesce(l.years, 0) as years,
                (select quantile_cont(t.value, 0.5) from type_values t
                 where t.indicator_id = i.indicator_id and t.year = l.year) as median,
                (select quantile_cont(t.value, 0.25) from type_values t
                 where t.indicator_id = i.indicator_id and t.year = l.year) as q1,
                (select quantile_cont(t.value, 0.75) from type_values t
                 where t.indicator_id = i.indicator_id and t.year = l.year) as q3
            from core.indicators as i
            left join latest as l using (indicator_id)
            left join zone_values as v on v.indicator_id = i.indicator_id and v.year = l.year"""):
            key = f"ind-{row['indicator_id']}"
            expected.update({f"{key}-latest_value": row["latest_value"], f"{key}-latest_year": row["latest_year"],
                             f"{key}-years_reported": row["years"], f"{key}-years_expected": last - first + 1,
                             f"{key}-type_median": row["median"], f"{key}-type_q1": row["q1"],
                             f"{key}-type_q3": row["q3"]})
        for row in rows("""
            select s.node, s.year, s.score, t.score as mean from mart.index_zone_round as s
            join staging.expected_zones as e using (round, zone_code)
            join mart.index_by_type_round as t
                on t.round = s.round and t.zone_type = e.zone_type and t.year = s.year and t.node = s.node
            where s.round = $r and s.zone_code = $z
              and s.year = (select max(year) from mart.index_zone_round where round = $r and zone_code = $z)"""):
            expected.update({f"score-{row['node']}-year": row["year"], f"score-{row['node']}-score": row["score"],
                             f"score-{row['node']}-type_mean": row["mean"]})
        for row in rows("""
            with ranked as (
                select r.*, e.zone_type from mart.index_rank_round as r
                join staging.expected_zones as e using (round, zone_code)
                where r.round = $r and r.rank is not null and e.type_evaluation
            )
            select r.*, (select count(*) from ranked as o where o.zone_type = r.zone_type and o.year = r.year) as n
            from ranked as r where zone_code = $z order by year desc limit 1"""):
            expected.update({"rank-year": row["year"], "rank-rank": row["rank"], "rank-zones_ranked": row["n"],
                             "rank-rank_p05": row["rank_p05"], "rank-rank_p95": row["rank_p95"],
                             "rank-median_rank": row["median_rank"], "rank-runs": row["runs"]})
        quality = rows("select * from mart.zone_card_quality where round = $r and zone_code = $z order by batch")
        for row in quality:
            key = f"batch-{row['batch']}"
            cells = con.execute("""
                select count(distinct (indicator_id, year)) from core.observation_history
                where zone_code = $z and (round < $r or (round = $r and batch <= $b))
                  and year between $first and $last""",
                {**one, "b": row["batch"], "first": first, "last": last}).fetchone()[0]
            status = con.execute("select values_accepted, values_rejected, findings from mart.submission_status "
                                 "where round = $r and zone_code = $z and batch = $b", {**one, "b": row["batch"]}
                                 ).fetchone()
            revised = con.execute("select count(*) from mart.revisions where zone_code = $z and new_round = $r "
                                  "and new_batch = $b", {**one, "b": row["batch"]}).fetchone()[0]
            expected.update({f"{key}-batch": row["batch"], f"{key}-values_accepted": status[0],
                             f"{key}-values_rejected": status[1], f"{key}-findings": status[2],
                             f"{key}-cells_reported": cells, f"{key}-cells_expected": 16 * (last - first + 1),
                             f"{key}-coverage_pct": 100 * cells / (16 * (last - first + 1)),
                             f"{key}-values_revised": revised})
        if quality:
            counts = con.execute("""
                select count(*) filter (where kind = 'rejected'),
                    count(distinct (indicator_id, year)) filter (where kind = 'warning' and indicator_id is not null),
                    count(*) filter (where kind = 'refused_file' or (kind = 'warning' and indicator_id is null))
                from mart.findings where round = $r and feedback_zone = $z and is_open""", one).fetchone()
            expected.update({"open-open_total": sum(counts), "open-open_rejected": counts[0],
                             "open-open_warnings": counts[1], "open-open_file_findings": counts[2]})
        findings = rows("""select batch, indicator_id, year, source_cell, detail from mart.findings
                           where round = $r and feedback_zone = $z and is_open
                           order by batch, indicator_id nulls first, year, source_cell, code""")
        for i, row in enumerate(findings[:LISTED]):
            expected.update({f"finding-{i}-batch": row["batch"], f"finding-{i}-indicator_id": row["indicator_id"],
                             f"finding-{i}-year": row["year"], f"finding-{i}-source_cell": row["source_cell"] or "–",
                             f"finding-{i}-detail": row["detail"]})
        revisions = rows("""select new_batch, indicator_id, year, old_value, new_value, relative_change_pct
                            from mart.revisions where new_round = $r and zone_code = $z
                            order by new_batch, indicator_id, year""")
        for i, row in enumerate(revisions[:LISTED]):
            expected.update({f"revision-{i}-{name}": value for name, value in row.items()})
        if len(findings) > LISTED:
            expected["more_findings"] = len(findings) - LISTED
        if len(revisions) > LISTED:
            expected["more_revisions"] = len(revisions) - LISTED
    return expected


# --------------------------------------------------------------------------------------------
# Files and numbers
# --------------------------------------------------------------------------------------------


def test_a_card_for_every_expected_zone_and_an_index(warehouse: Path) -> None:
    expected = query(warehouse, "select round, zone_code from staging.expected_zones order by all")
    for round_year, zones in expected.groupby("round"):
        folder = warehouse.parent / "reports" / str(round_year) / "zones"
        assert sorted(p.stem for p in folder.glob("*.html") if p.stem != "index") == list(zones["zone_code"])
        index = (folder / "index.html").read_text(encoding="utf-8")
        assert sorted(re.findall(r'href="(\d+)\.html"', index)[::2]) == list(zones["zone_code"])


@pytest.mark.parametrize("which", ["open", "revised", "special"])
@pytest.mark.parametrize("round_year", [2014, 2015])
def test_every_number_on_the_card_is_the_warehouse(warehouse: Path, chosen: dict[str, str], which: str,
                                                   round_year: int) -> None:
    zone = chosen[which]
    card = read_card(warehouse.parent / "reports" / str(round_year) / "zones" / f"{zone}.html")
    expected = expected_numbers(warehouse, round_year, zone)
    assert set(card.numbers) == set(expected)
    wrong = {key: (shown, expected[key]) for key, texts in card.numbers.items() for shown in texts
             if not same_number(shown, expected[key])}
    assert wrong == {}
    stray = [text for text in card.other_text if re.search(r"\d", text)]
    assert stray == [], "digits on the card outside its numbers"


def test_the_chosen_zones_show_what_they_are_chosen_for(warehouse: Path, chosen: dict[str, str]) -> None:
    """The comparison above covers findings, revisions and a rank: the zones really have them."""
    numbers = {which: expected_numbers(warehouse, 2014, zone) | expected_numbers(warehouse, 2015, zone)
               for which, zone in chosen.items()}
    assert any(key.startswith("finding-") for key in numbers["open"])
    assert any(key.startswith("revision-") for key in numbers["revised"])
    assert "rank-rank" in numbers["open"] and "rank-rank" not in numbers["special"]


def test_special_zone_card_says_why_it_has_no_index_or_rank(warehouse: Path, chosen: dict[str, str]) -> None:
    html = (warehouse.parent / "reports" / "2015" / "zones" / f"{chosen['special']}.html").read_text(encoding="utf-8")
    assert "特殊实验区" in html and "type_evaluation false" in html
    assert 'data-key="rank-rank"' not in html and 'data-key="score-index-score"' not in html
    assert "-scores" not in html  # no score chart
    assert html.count("-spark-") == 16  # its indicators are still shown against its type


def test_rank_is_the_index_rank_within_the_type(warehouse: Path) -> None:
    """Run 0 of the sensitivity analysis ranks the index's own scores: rank() within type in the round's last year."""
    by_sql = query(warehouse, """
        select s.round, s.zone_code, s.year,
            rank() over (partition by s.round, e.zone_type order by s.score desc) as rank
        from mart.index_zone_round as s
        join staging.expected_zones as e using (round, zone_code)
        join core.rounds as r on r.round = s.round and r.last_year = s.year
        where s.node = 'index' and s.score is not null
        order by all""")
    stored = query(warehouse, "select round, zone_code, year, rank from mart.index_rank_round where rank is not null "
                              "order by all")
    assert len(stored) > 100
    pd.testing.assert_frame_equal(stored, by_sql, check_dtype=False)


def test_card_mart_tests_pass_and_can_fail(warehouse: Path, tmp_path: Path) -> None:
    from pipelines.models.sql_models import discover_models, run_test

    models = {name: model for name, model in discover_models(ROOT / "dbt_like_sql").items()
              if name.startswith("mart.zone_card_")}
    assert len(models) == 4
    copy = tmp_path / "sdz.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(copy)) as con:
        assert {(name, test.name): run_test(con, test)[0] for name, model in models.items()
                for test in model.tests} == {(name, test.name): 0 for name, model in models.items()
                                             for test in model.tests}
        con.execute("update mart.zone_card_quality set cells_reported = cells_reported + 1 "
                    "where zone_code = (select min(zone_code) from mart.zone_card_quality)")
        failing = {test.name: run_test(con, test)[0] for test in models["mart.zone_card_quality"].tests}
    assert failing["consistent_with_coverage"] > 0


def test_sensitivity_ranks_within_groups_and_chosen_years() -> None:
    method = load_method(DEFAULT_METHOD)
    rng = np.random.default_rng(1)
    data = pd.DataFrame([(f"u{u}", year, str(i), float(rng.uniform(1, 100))) for u in range(8)
                         for year in (2010, 2011) for i in method.indicators],
                        columns=["unit", "year", "indicator", "value"])
    groups = {f"u{u}": "a" if u < 3 else "b" for u in range(8)}
    pooled = sensitivity(data, method, 1)
    within = sensitivity(data, method, 20, groups=groups)
    assert within.loc[within["unit"].isin(["u0", "u1", "u2"]), "rank_p95"].max() <= 3
    assert within["rank_p95"].max() <= 5 < pooled["median_rank"].max()
    one_year = sensitivity(data, method, 20, groups=groups, years=[2011])  # normalised over both years still
    pd.testing.assert_frame_equal(one_year.reset_index(drop=True),
                                  within[within["year"] == 2011].reset_index(drop=True))


# --------------------------------------------------------------------------------------------
# Writing: cache, the reports asset, the command
# --------------------------------------------------------------------------------------------


def test_unchanged_rounds_are_copied_not_rendered(warehouse: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[int] = []
    original = cards_module.write_round
    monkeypatch.setattr(cards_module, "write_round",
                        lambda folder, inputs, *args: rendered.append(inputs.round) or original(folder, inputs, *args))
    reports = tmp_path / "reports"
    first = write_cards(warehouse, reports, DEFAULT_METHOD)
    first_bytes = {p: p.read_bytes() for p in first}
    assert sorted(rendered) == [2014, 2015]
    again = write_cards(warehouse, reports, DEFAULT_METHOD)
    assert sorted(rendered) == [2014, 2015] and again == first
    assert {p: p.read_bytes() for p in again} == first_bytes
    write_reports(warehouse, reports, DEFAULT_METHOD)  # rewriting the round reports keeps the cards
    assert all(p.is_file() for p in first)


def test_sdz_cards_writes_one_zone(warehouse: Path, chosen: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "one"
    done = sdz("cards", "--round", 2015, "--zone", chosen["open"], "--warehouse", warehouse, "--out", out,
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in out.iterdir()] == [f"{chosen['open']}.html"]
    published = warehouse.parent / "reports" / "2015" / "zones" / f"{chosen['open']}.html"
    assert (out / published.name).read_bytes() == published.read_bytes()
    unknown = sdz("cards", "--round", 2015, "--zone", "999999", "--warehouse", warehouse, "--out", out, cwd=tmp_path)
    assert unknown.returncode == 2 and "999999" in unknown.stderr
    missing = sdz("cards", "--round", 2009, "--warehouse", warehouse, cwd=tmp_path)
    assert missing.returncode == 2 and "round 2009" in missing.stderr


# --------------------------------------------------------------------------------------------
# In a browser
# --------------------------------------------------------------------------------------------

CHARTS_JS = """JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {id: svg.id, x: box.x + scrollX, y: box.y + scrollY, width: box.width, height: box.height,
          shapes: svg.querySelectorAll('path, rect, circle').length};
}))"""
WIDTH = 800


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it: apt-get install "
                                                  "chromium fonts-wqy-microhei)")
def test_cards_render_in_a_browser(warehouse: Path, chosen: dict[str, str]) -> None:
    folder = warehouse.parent / "reports" / "2015" / "zones"
    pages = [folder / f"{zone}.html" for zone in chosen.values()] + [folder / "index.html"]
    with tempfile.TemporaryDirectory(prefix="sdz-chromium-") as profile:
        browser = Chromium(str(CHROMIUM), Path(profile))
        try:
            for page in pages:
                _check_card(browser, page, special=page.stem == chosen["special"])
        finally:
            browser.close()


def _check_card(browser: Chromium, page: Path, special: bool) -> None:
    charts, png, problems = open_page(browser, page, WIDTH, CHARTS_JS)
    assert problems == [], f"{page}: {problems}"
    if page.stem == "index":
        assert charts == []
        return
    assert len(charts) == 32 + (0 if special else 1), page  # a sparkline and a strip per indicator, the scores
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for chart in charts:
        assert chart["width"] >= 60 and chart["height"] >= 12 and chart["shapes"] > 2, (page, chart)
        region = image.crop((math.floor(chart["x"]), math.floor(chart["y"]), math.ceil(chart["x"] + chart["width"]),
                             math.ceil(chart["y"] + chart["height"])))
        colours = region.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 3, f"{page}: chart {chart['id']} is (nearly) one colour"


@pytest.mark.skipif(not (CHROMIUM.exists() and POPPLER),
                    reason="needs /usr/bin/chromium and poppler-utils (CI installs both)")
def test_sdz_cards_pdf_prints_a_card_on_two_a4_pages_at_most(warehouse: Path, chosen: dict[str, str],
                                                             tmp_path: Path) -> None:
    out = tmp_path / "printed"
    done = sdz("cards", "--round", 2015, "--zone", chosen["open"], "--zone", chosen["special"], "--warehouse",
               warehouse, "--out", out, "--pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 PDF(s) written" in done.stdout
    for zone in (chosen["open"], chosen["special"]):
        pages = pdf_pages(out / f"{zone}.pdf")
        assert 1 <= len(pages) <= 2, zone
        assert zone in pages[0]
        assert pdf_paper(out / f"{zone}.pdf") == ("A4", "portrait")
