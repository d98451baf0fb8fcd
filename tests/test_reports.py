"""The round reports (pipelines/publish/reports/) on the synthetic demo: files, numbers, as-of rule, self-containment.

Two warehouses are built from one generated demo: the full demo (2014 batches 1-2, 2015 batch 1) and
the same raw folder without 2015 - the warehouse as it stood when the 2014 reports were published.
The demo's submission from a zone removed in 2014 is left out of both: the marts count every zone
with values in force, the reports only the zones expected in the round, and these
tests compare the two on the zones they share (tests/test_round_models.py covers the exclusion on
a hand-made warehouse). The browser test renders every page in headless Chromium,
saves screenshots to build/report-screenshots/ and fails on console errors or blank charts.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook
from PIL import Image

from pipelines.demo.generate import generate_demo
from pipelines.index.engine import load_method
from pipelines.publish.reports import cache as report_cache
from pipelines.publish.reports import data as report_data
from pipelines.publish.reports import render as reports_module
from pipelines.publish.reports.method_text import describe_method, node_name
from pipelines.publish.reports.model import GROUP_LABELS, TYPE_LABELS, Column, Paragraph, Report, Section, Table
from pipelines.publish.reports.pdf import Chromium, find_browser
from pipelines.publish.reports.render import render_xlsx, write_reports
from pipelines.runtime.runner import materialize_all
from pipelines.runtime.settings import DEFAULT_METHOD, SdzSettings

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "report-screenshots"
CHROMIUM = Path("/usr/bin/chromium")
KINDS = ("monitoring", "evaluation")
LABEL_TO_TYPE = {label: code for code, label in TYPE_LABELS.items()}
METHOD = load_method(DEFAULT_METHOD)
LABEL_TO_NODE = {node_name(key, METHOD): key for key in [METHOD.root, *METHOD.groups[METHOD.root].children]}


@dataclass
class Built:
    """A warehouse built from a raw folder, and the reports written from it."""

    warehouse: Path
    reports: Path
    written: list[Path]

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).df()


def _build(raw: Path, warehouse: Path, write: bool = True) -> Built:
    """Run the pipeline; write the reports unless `write` is false and the run wrote them (the `reports` asset)."""
    result = materialize_all(SdzSettings(raw_dir=str(raw), warehouse=str(warehouse)))
    assert result.success
    reports = warehouse.parent / "reports"
    if reports.is_dir() and not write:
        # the round reports; the zone cards beside them (reports/<round>/zones/) are tests/test_cards.py's
        reports_only = (p for p in reports.rglob("*") if p.is_file() and "zones" not in p.parts)
        return Built(warehouse, reports, sorted(reports_only))
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "stale.txt").write_text("left by an earlier run")
    return Built(warehouse, reports, write_reports(warehouse, reports, DEFAULT_METHOD))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("reports")
    raw = root / "raw"
    generate_demo(raw)
    manifest = json.loads((raw / "demo_manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["entries"]:
        if entry["expected"] == "zone_not_expected":
            (raw / entry["file"]).unlink()
    published = root / "raw-2014"
    shutil.copytree(raw, published, ignore=lambda folder, names: ["2015"] if Path(folder) == raw else [])
    # Once the `reports` asset runs in materialize_all, the full run's reports are the pipeline's own.
    full = _build(raw, root / "full" / "sdz.duckdb", write=False)
    return {"full": full, "2014": _build(published, root / "2014" / "sdz.duckdb")}


# --------------------------------------------------------------------------------------------
# Reading the reports back
# --------------------------------------------------------------------------------------------


def xlsx_tables(path: Path) -> dict[str, pd.DataFrame]:
    """Each table sheet as a frame with the English headers (row 6); keyed by the sheet's name without its number."""
    workbook = load_workbook(path)
    tables = {}
    for sheet in workbook.worksheets[1:]:
        rows = list(sheet.iter_rows(min_row=6, values_only=True))
        tables[sheet.title.split(" ", 1)[1]] = pd.DataFrame(rows[1:], columns=rows[0])
    return tables


class _TableParser(HTMLParser):
    """Body cells of every <table id="table-N"> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[int, list[list[str]]] = {}
        self._table: int | None = None
        self._in_body = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id", "").startswith("table-"):
            self._table = int(attributes["id"].split("-")[1])
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.tables[self._table][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.tables[self._table][-1][-1] += data


def html_tables(path: Path) -> dict[int, list[list[str]]]:
    parser = _TableParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def same_number(shown: str, value: object) -> bool:
    """Does a page show `value` to the digits it prints ('–' for none; text compared as it is)?"""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return shown == "–"
    if isinstance(value, str):
        return shown == value
    text = shown.replace(",", "").replace("+", "")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - float(value)) <= 0.5 * 10 ** -decimals + 1e-9 * abs(float(value))


# --------------------------------------------------------------------------------------------
# Files and numbers
# --------------------------------------------------------------------------------------------


def test_reports_for_every_round(demo: dict[str, Built]) -> None:
    # The pipeline's run prints the pages to PDF when a browser is installed; write_reports alone does not
    # print, but restores the PDFs kept with a cached render.
    extensions = ("html", "xlsx", "pdf") if find_browser() else ("html", "xlsx")
    for name, rounds in (("full", ["2014", "2015"]), ("2014", ["2014"])):
        built = demo[name]
        expected = sorted(built.reports / r / f"{k}.{e}" for r in rounds for k in KINDS for e in extensions)
        assert sorted(built.written) == expected
        on_disk = sorted(p for p in built.reports.rglob("*") if p.is_file() and "zones" not in p.parts)
        assert on_disk == expected  # the stale file is gone


def test_html_and_xlsx_hold_the_same_tables(demo: dict[str, Built]) -> None:
    for path in demo["full"].written:
        if path.suffix != ".xlsx":
            continue
        workbook = load_workbook(path)
        shown = html_tables(path.with_suffix(".html"))
        assert len(shown) == len(workbook.worksheets) - 1
        for sheet in workbook.worksheets[1:]:
            number = int(sheet.title.split(" ")[0])
            values = [list(row) for row in sheet.iter_rows(min_row=7, values_only=True)]
            assert len(shown[number]) == len(values), (path.name, sheet.title)
            for html_row, xlsx_row in zip(shown[number], values, strict=True):
                assert all(same_number(h, x) for h, x in zip(html_row, xlsx_row, strict=True)), (sheet.title, html_row)


def test_zone_structure_matches_the_mart(demo: dict[str, Built]) -> None:
    built = demo["full"]
    mart = built.query("select dimension, category, zones, share_pct from mart.zone_structure")
    labels = {label: code for code, label in GROUP_LABELS.items()}
    for round_year in ("2014", "2015"):
        tables = xlsx_tables(built.reports / round_year / "monitoring.xlsx")
        shown = pd.concat([tables["地域 region"].assign(dimension="region"),
                           tables["类型 type"].assign(dimension="zone_type")])
        shown["category"] = shown["category"].map(labels)
        merged = mart.merge(shown, on=["dimension", "category"], how="outer", validate="1:1")
        assert (merged["zones_x"] == merged["zones_y"]).all()
        assert merged["share_pct"].to_numpy() == pytest.approx(merged["share (%)"].to_numpy())
    page = (built.reports / "2014" / "monitoring.html").read_text(encoding="utf-8")
    assert "共 157 个，分布在全国 30 个省（区、市）" in page
    assert "东部地区 76 个，占 48.4%；中部地区 55 个，占 35.0%；西部地区 26 个，占 16.6%" in page
    assert "县域型 77 个、城区型 51 个、地级市型 23 个、乡镇型 6 个，分别占 49%、32%、15%、4%" in page


@pytest.mark.parametrize("name", ["full", "2014"])
def test_latest_round_matches_the_marts(demo: dict[str, Built], name: str) -> None:
    built = demo[name]
    latest = int(built.query("select max(round) as r from core.submission_files")["r"][0])
    monitoring = xlsx_tables(built.reports / str(latest) / "monitoring.xlsx")
    evaluation = xlsx_tables(built.reports / str(latest) / "evaluation.xlsx")

    coverage = monitoring["覆盖率明细 detail"].rename(
        columns={"zone type": "zone_type", "zones expected": "zones_expected", "zones reported": "zones_reported"})
    coverage["zone_type"] = coverage["zone_type"].map(LABEL_TO_TYPE)
    coverage["indicator_id"] = coverage["indicator"].str.split(" ").str[0].astype(int)
    mart = built.query("select * from mart.coverage where round = ?", [latest])
    merged = mart.merge(coverage, on=["batch", "zone_type", "indicator_id", "year"], how="outer", validate="1:1")
    assert len(merged) == len(mart) > 0
    assert (merged["zones_expected_x"] == merged["zones_expected_y"]).all()
    assert (merged["zones_reported_x"] == merged["zones_reported_y"]).all()

    summary = monitoring["分布明细 distribution"]
    labels = {label: code for code, label in GROUP_LABELS.items()}
    summary["group_name"] = summary["group"].map(labels)
    summary["group_kind"] = summary["group_name"].map(
        lambda g: "all" if g == "all" else "zone_type" if g in TYPE_LABELS else "region")
    summary["indicator_id"] = summary["indicator"].str.split(" ").str[0].astype(int)
    mart = built.query("select * from mart.indicator_summary")
    merged = mart.merge(summary, on=["indicator_id", "year", "group_kind", "group_name"], how="outer", validate="1:1")
    assert len(merged) == len(mart) > 0
    assert (merged["n"] == merged["zones"]).all()
    for stat, column in (("mean_x", "mean_y"), ("median_x", "median_y"), ("q1", "first quartile"),
                         ("q3", "third quartile"), ("min", "minimum"), ("max", "maximum")):
        assert merged[stat].to_numpy() == pytest.approx(merged[column].to_numpy(), rel=1e-9)

    scores = evaluation["各方面得分 scores"]
    scores["zone_type"], scores["node"] = scores["zone type"].map(LABEL_TO_TYPE), scores["aspect"].map(LABEL_TO_NODE)
    mart = built.query("select * from mart.index_by_type")
    merged = mart.merge(scores, on=["zone_type", "year", "node"], how="outer", validate="1:1")
    assert len(merged) == len(mart) > 0
    assert merged["score"].to_numpy() == pytest.approx(merged["score (0-100)"].to_numpy(), rel=1e-9)
    assert (merged["zones"] == merged["zones with a score"]).all()
    assert merged["growth_pct"].to_numpy() == pytest.approx(merged["year-on-year growth (%)"].to_numpy(dtype=float),
                                                            rel=1e-9, nan_ok=True)

    growth = evaluation["增长率明细 growth"]
    growth["zone_type"], growth["node"] = growth["zone type"].map(LABEL_TO_TYPE), growth["aspect"].map(LABEL_TO_NODE)
    mart = built.query("select * from mart.index_growth where round = ?", [latest])
    merged = mart.merge(growth, on=["zone_type", "node"], how="outer", validate="1:1")
    assert len(merged) == len(mart) > 0
    assert merged["cagr_pct"].to_numpy() == pytest.approx(merged["compound annual growth (%)"].to_numpy(), rel=1e-9)

    status = monitoring["报送状态 status"].set_index("batch")
    mart = built.query("select batch, status, count(*) as n from mart.submission_status where round = ? group by all",
                       [latest])
    for row in mart.itertuples():
        assert status.loc[row.batch, f"zones {row.status.replace('_', ' ')}"] == row.n


def test_2014_reports_show_what_was_published(demo: dict[str, Built]) -> None:
    """Rebuilt with 2015 in the warehouse, the 2014 reports are byte for byte those of the 2014-only warehouse.

    Two writes from two warehouses giving identical bytes also shows that the output is deterministic (no
    timestamps, no unordered float sums, fixed SVG ids and workbook times).
    """
    for kind in KINDS:
        for ext in ("html", "xlsx"):
            later = (demo["full"].reports / "2014" / f"{kind}.{ext}").read_bytes()
            assert later == (demo["2014"].reports / "2014" / f"{kind}.{ext}").read_bytes(), f"{kind}.{ext}"
    # ... and the check has teeth: 2015 revised values of 2009-2013, so today's marts differ from the 2014 report.
    full = demo["full"]
    assert len(full.query("select * from mart.revisions where new_round = 2015 and year <= 2013")) > 0
    published = xlsx_tables(full.reports / "2014" / "evaluation.xlsx")["各方面得分 scores"]
    today = full.query("select score from mart.index_by_type where zone_type = 'county' and node = 'index' "
                       "and year = 2013")["score"][0]
    shown = published[(published["zone type"] == TYPE_LABELS["county"]) & (published["year"] == 2013)
                      & (published["aspect"].str.startswith("创新能力指数"))]["score (0-100)"].iloc[0]
    assert shown != pytest.approx(today, rel=1e-6)


def _rendering_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rounds whose reports write_reports renders (rather than copies from its cache), in order."""
    rendered: list[int] = []
    render = reports_module.monitoring_report

    def counting(inputs: report_data.RoundInputs) -> Report:
        rendered.append(inputs.round)
        return render(inputs)

    monkeypatch.setattr(reports_module, "monitoring_report", counting)
    return rendered


def _same_files(left: Path, right: Path, round_year: str) -> bool:
    return all((left / round_year / name).read_bytes() == (right / round_year / name).read_bytes()
               for name in report_cache.REPORT_FILES)


def test_unchanged_round_is_reused(demo: dict[str, Built], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When 2015 arrives, the 2014 reports are copied from the cache and only 2015 is rendered, and the copies
    are the bytes of a fresh render."""
    rendered = _rendering_counted(monkeypatch)
    reports = tmp_path / "out" / "reports"
    write_reports(demo["2014"].warehouse, reports, DEFAULT_METHOD)
    assert rendered == [2014]
    write_reports(demo["full"].warehouse, reports, DEFAULT_METHOD)
    assert rendered == [2014, 2015]
    assert (tmp_path / "out" / ".cache" / "reports").is_dir()
    for round_year in ("2014", "2015"):
        assert _same_files(reports, demo["full"].reports, round_year), round_year
    write_reports(demo["full"].warehouse, reports, DEFAULT_METHOD)
    assert rendered == [2014, 2015]  # nothing changed: nothing rendered


def test_changed_round_is_rendered_again(demo: dict[str, Built], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A number of 2014 changed in the warehouse's models: the 2014 reports are rendered again, as a fresh render
    would."""
    warehouse = tmp_path / "wh" / "sdz.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(demo["2014"].warehouse, warehouse)
    reports = tmp_path / "out" / "reports"
    rendered = _rendering_counted(monkeypatch)
    write_reports(warehouse, reports, DEFAULT_METHOD)
    before = (reports / "2014" / "monitoring.xlsx").read_bytes()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update mart.indicator_summary_round set mean = mean * 3 where round = 2014")
    write_reports(warehouse, reports, DEFAULT_METHOD)
    assert rendered == [2014, 2014]
    assert (reports / "2014" / "monitoring.xlsx").read_bytes() != before
    fresh = tmp_path / "fresh" / "reports"
    write_reports(warehouse, fresh, DEFAULT_METHOD)
    assert _same_files(reports, fresh, "2014")


def test_reports_refuse_another_method_file(demo: dict[str, Built], tmp_path: Path) -> None:
    """The scores in the warehouse were computed with the default method: describing another one beside them fails."""
    other = tmp_path / "other.yaml"
    other.write_text(DEFAULT_METHOD.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    with pytest.raises(ValueError, match="computed with another method file"):
        write_reports(demo["2014"].warehouse, tmp_path / "reports", other)


def test_method_in_words_follows_the_method_file() -> None:
    method = load_method({
        "name": "custom", "scale": 10, "root": "index",
        "indicators": {"7": {"direction": "higher", "transform": "ln", "min": 100, "max": 75000},
                       "8": {"direction": "higher"}, "9": {"direction": "lower", "clip": False}},
        "groups": {"economy": {"children": ["7", "8"], "weights": [2, 1], "aggregate": "geometric"},
                   "index": {"children": ["economy", "9"]}}})
    zh, en = describe_method(method, 2009, 2013)
    text = "\n".join(zh + en)
    for phrase in ("方法“custom”共用 3 项指标", "7 人均GDP（自然对数）", "逆向指标", "9 新生儿死亡率除外",
                   "经济发展为7 人均GDP ×2、8 新登记注册企业数 ×1的加权几何平均", "权重之和不少于该组总权重的一半",
                   "最终得分乘以 10", "weighted geometric mean", "at least half of its weight"):
        assert phrase in text, phrase
    default = "\n".join(describe_method(METHOD, 2009, 2013)[0])
    assert "9 新生儿死亡率、10 城镇登记失业率、11 亿元GDP生产安全事故死亡率、15 单位GDP能耗" in default
    assert "取值范围 0–100" in default and "等权算术平均" in default


# --------------------------------------------------------------------------------------------
# Self-contained, deterministic, safe
# --------------------------------------------------------------------------------------------


def test_html_fetches_nothing(demo: dict[str, Built]) -> None:
    for path in demo["full"].written:
        if path.suffix == ".html":
            page = path.read_text(encoding="utf-8")
            for forbidden in ("http://", "https://", "<script", "<link", "src=", "@import", "//cdn"):
                assert forbidden not in page, (path, forbidden)
            assert re.findall(r"url\(\s*['\"]?(?!#)", page) == [], path  # url(#clip) refers inside the page
            assert "数据来源 Source: sdz warehouse, core.observation_history as of round" in page
            assert page.count("<svg") == page.count("</svg>") >= 3


def test_formula_like_text_is_written_as_text(demo: dict[str, Built]) -> None:
    texts = ["=1+1", "+A1", "-2", "@SUM(A1:A2)", "=HYPERLINK(\"x\")"]
    rows = pd.DataFrame({"name": texts, "n": range(len(texts))})
    table = Table("公式 formulas", "公式", "formulas", [Column("name", "名称", "name"), Column("n", "数", "n", "int")],
                  rows, "source", number=1)
    report = Report("monitoring", 2014, 2, [Section("一", "1", [Paragraph("=zh", "-en"), table])])
    workbook = load_workbook(io.BytesIO(render_xlsx(report)))
    cells = {cell.value: cell.data_type for row in workbook["1 公式 formulas"].iter_rows() for cell in row}
    for text in texts:
        assert cells[text] == "s"
    assert workbook["说明 about"]["A6"].value == "=zh" and workbook["说明 about"]["A6"].data_type == "s"
    for path in demo["full"].written:
        if path.suffix == ".xlsx":
            cells = (cell for sheet in load_workbook(path) for row in sheet.iter_rows() for cell in row)
            assert [cell.coordinate for cell in cells if cell.data_type == "f"] == [], path


# --------------------------------------------------------------------------------------------
# In a browser
# --------------------------------------------------------------------------------------------


CHARTS_JS = """JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {id: svg.id, x: box.x + scrollX, y: box.y + scrollY, width: box.width, height: box.height,
          texts: svg.querySelectorAll('text').length, shapes: svg.querySelectorAll('path, use, rect').length};
}))"""
PROBLEM_EVENTS = ("Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")
WIDTH = 1200


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it: apt-get install "
                                                  "chromium fonts-wqy-microhei)")
def test_pages_render_in_a_browser(demo: dict[str, Built]) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(p for p in demo["full"].written if p.suffix == ".html")
    with tempfile.TemporaryDirectory(prefix="sdz-chromium-") as profile:
        browser = Chromium(str(CHROMIUM), Path(profile))
        try:
            for page in pages:
                _check_page(browser, page)
        finally:
            browser.close()


def open_page(browser: Chromium, page: Path, width: int, charts_js: str = "") -> tuple[list[dict], bytes, list]:
    """Load `page` in a new tab `width` px wide: the charts `charts_js` finds, a full-page screenshot (PNG, also
    saved to `SCREENSHOTS`) and the console errors and exceptions of the page."""
    target, session = browser.open(page)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)
    browser.load(page, session)
    charts = json.loads(browser.evaluate(charts_js or CHARTS_JS, session))
    height = browser.evaluate("document.documentElement.scrollHeight", session)
    shot = browser.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}, session)
    png = base64.b64decode(shot["data"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{page.parent.name}-{page.stem}.png").write_bytes(png)
    problems = [e for e in browser.events if e.get("sessionId") == session and e.get("method") in PROBLEM_EVENTS]
    browser.send("Target.closeTarget", {"targetId": target})
    return charts, png, problems


def _check_page(browser: Chromium, page: Path) -> None:
    charts, png, problems = open_page(browser, page, WIDTH)
    assert problems == [], f"{page}: {problems}"
    assert len(charts) >= 3, page
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for chart in charts:
        assert chart["width"] > 200 and chart["height"] > 100, (page, chart)
        assert chart["texts"] > 5 and chart["shapes"] > 5, (page, chart)
        region = image.crop((int(chart["x"]), int(chart["y"]), int(chart["x"] + chart["width"]),
                             int(chart["y"] + chart["height"])))
        colours = region.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 20, f"{page}: chart {chart['id']} is (nearly) one colour"
