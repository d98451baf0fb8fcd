"""The monitoring report of a round (创新能力监测报告): the zones, the submissions and the values.

Five sections, as of the round's last batch: zone structure by region and type (as the programme
office's 2014 work report presents it); files, values and zone status per batch; coverage by indicator and year;
each indicator's distribution by type and year; the zones with the most open problems.
"""

from __future__ import annotations

import pandas as pd

from pipelines.publish.reports import charts
from pipelines.publish.reports.data import RoundInputs
from pipelines.publish.reports.model import (
    GROUP_LABELS,
    REGION_LABELS,
    REGION_ZH,
    SOURCE,
    STATUS_LABELS,
    TYPE_LABELS,
    TYPE_ZH,
    Chart,
    Column,
    Paragraph,
    Report,
    Section,
    Table,
    indicator_label,
    numbered,
    type_label,
)
from schemas.catalogue import load_catalogue

OPEN_PROBLEM_ROWS = 15


def monitoring_report(inputs: RoundInputs) -> Report:
    """The monitoring report (创新能力监测报告) of a round, as of its last batch."""
    round_year, last_batch = inputs.round, inputs.last_batch
    source = SOURCE.format(round=round_year)
    sections = [
        _structure_section(inputs.structure.copy(), inputs.provinces, round_year),
        _submission_section(inputs.submissions, round_year),
        _coverage_section(inputs.coverage, last_batch, source),
        _distribution_section(inputs.distribution, round_year, source),
        _problems_section(inputs.open_problems.copy(), round_year, last_batch),
    ]
    return Report("monitoring", round_year, last_batch, numbered(sections))


def _structure_section(structure: pd.DataFrame, provinces: int, round_year: int) -> Section:
    order = {c: i for i, c in enumerate([*REGION_LABELS, *TYPE_LABELS])}
    structure = structure.sort_values("category", key=lambda s: s.map(order), ignore_index=True)
    labels = {**REGION_LABELS, **TYPE_LABELS}
    structure["label"] = structure["category"].map(lambda c: labels.get(c, c))
    regions = structure[structure["dimension"] == "region"]
    types = structure[structure["dimension"] == "zone_type"]
    total = int(regions["zones"].sum())
    region_zh = "；".join(f"{REGION_ZH.get(r.category, r.category)} {r.zones} 个，占 {r.share_pct:.1f}%"
                         for r in regions.itertuples())
    type_zh = "、".join(f"{TYPE_ZH.get(t.category, t.category)} {t.zones} 个" for t in types.itertuples())
    shares_zh = "、".join(f"{t.share_pct:.0f}%" for t in types.itertuples())
    text = Paragraph(
        f"{round_year} 年度纳入监测的国家级实验区共 {total} 个，分布在全国 {provinces} 个省（区、市）。"
        f"按地域分布：{region_zh}。"
        f"按行政区划分：{type_zh}，分别占 {shares_zh}。",
        f"In the {round_year} round {total} national zones in {provinces} provinces were expected to report: "
        + ", ".join(f"{r.category} {r.zones} ({r.share_pct:.1f}%)" for r in regions.itertuples()) + "; by type "
        + ", ".join(f"{t.category} {t.zones} ({t.share_pct:.0f}%)" for t in types.itertuples()) + ".",
    )
    structure_source = f"数据来源 Source: sdz warehouse, core.zones (zones expected in round {round_year})"
    columns = [Column("label", "类别", "category"), Column("zones", "实验区数（个）", "zones", "int"),
               Column("share_pct", "占比（%）", "share (%)", "pct")]
    return Section("一、实验区发展规模与结构", "1 Number and structure of the zones", [
        text,
        Chart(charts.structure_chart(structure, labels), "实验区数量与结构", "Zones by region and by type",
              structure_source),
        Table("地域 region", "按地域分布", "Zones by region",
              [columns[0], Column("provinces", "有实验区的省（区、市）数", "provinces with zones", "int"),
               *columns[1:]],
              regions, structure_source),
        Table("类型 type", "按行政区划类型分布", "Zones by administrative type", columns, types, structure_source),
    ])


def _submission_section(submissions: pd.DataFrame, round_year: int) -> Section:
    source = (f"数据来源 Source: sdz warehouse, core.submission_files, core.observation_history, core.rejected_values, "
              f"core.value_flags, mart.submission_status, round {round_year}")
    parts_zh = [f"第{s.batch}批收到文件 {s.files_received} 个（载入 {s.files_loaded}、拒收 {s.files_rejected}、重复 "
                f"{s.files_duplicate}），接收数值 {s.values_accepted:,} 个、拒收 {s.values_rejected} 个、提示 "
                f"{s.values_flagged} 个" for s in submissions.itertuples()]
    parts_en = [f"batch {s.batch}: {s.files_received} files ({s.files_loaded} loaded, {s.files_rejected} rejected, "
                f"{s.files_duplicate} duplicates), {s.values_accepted:,} values accepted, "
                f"{s.values_rejected} rejected, {s.values_flagged} flagged" for s in submissions.itertuples()]
    batch = Column("batch", "批次", "batch", "int")
    files = [batch, Column("files_received", "收到文件", "files received", "int"),
             Column("files_loaded", "载入文件", "files loaded", "int"),
             Column("files_rejected", "拒收文件", "files rejected", "int"),
             Column("files_duplicate", "重复文件", "duplicate files", "int"),
             Column("values_accepted", "接收数值", "values accepted", "int"),
             Column("values_rejected", "拒收数值", "values rejected", "int"),
             Column("values_flagged", "带提示的数值", "values flagged", "int")]
    status = [batch, Column("zones_expected", "应报送实验区", "zones expected", "int"),
              *[Column(f"zones_{key}", label.split(" ")[0], f"zones {label.split(' ', 1)[1]}", "int")
                for key, label in STATUS_LABELS.items()]]
    return Section("二、数据报送情况", "2 Submissions in each batch", [
        Paragraph(f"{round_year} 年度：" + "；".join(parts_zh) + "。",
                  f"{round_year} round: " + "; ".join(parts_en) + "."),
        Chart(charts.status_chart(submissions, STATUS_LABELS), "各批次实验区报送状态",
              "Expected zones by submission status in each batch", source),
        Table("报送文件 files", "各批次报送文件与数值", "Files and values per batch", files, submissions, source),
        Table("报送状态 status", "各批次实验区报送状态（个）", "Expected zones by submission status per batch", status,
              submissions, source),
    ])


def _coverage_section(coverage: pd.DataFrame, last_batch: int, source: str) -> Section:
    totals = coverage.groupby("batch")[["zones_reported", "zones_expected"]].sum()
    overall = (100.0 * totals["zones_reported"] / totals["zones_expected"]).to_dict()
    matrices = {}
    for batch, rows in coverage.groupby("batch", sort=True):
        sums = rows.groupby(["indicator_id", "year"])[["zones_reported", "zones_expected"]].sum()
        matrices[int(batch)] = (100.0 * sums["zones_reported"] / sums["zones_expected"]).unstack("year")
    matrix = matrices[last_batch]
    pivot = matrix.copy()
    pivot.columns = [f"y{year}" for year in pivot.columns]
    pivot = pivot.reset_index()
    pivot.insert(1, "indicator", pivot["indicator_id"].map(indicator_label))
    long = coverage.assign(type_label=coverage["zone_type"].map(type_label),
                           indicator=coverage["indicator_id"].map(indicator_label))
    text = Paragraph(
        "应报送数值的覆盖率（已有有效数值的应报送实验区×指标×年份所占比例）：" + "；".join(
            f"第{b}批后 {v:.1f}%" for b, v in overall.items()) + "。",
        "Coverage of the values owed by the expected zones (zone × indicator × year with a value in force): "
        + "; ".join(f"after batch {b} {v:.1f}%" for b, v in overall.items()) + ".")
    return Section("三、数据覆盖率", "3 Coverage by indicator and year", [
        text,
        Chart(charts.coverage_heatmap(matrices, [indicator_label(i) for i in matrix.index]),
              "各指标各年份数据覆盖率（各批次后，全部类型）",
              "Coverage by indicator and year after each batch, all zone types (%)", source),
        Table("覆盖率 coverage", f"各指标各年份数据覆盖率（%，第{last_batch}批后）",
              f"Coverage by indicator and year after batch {last_batch} (%)",
              [Column("indicator", "指标", "indicator"),
               *[Column(f"y{y}", f"{y}年", str(y), "pct") for y in matrix.columns]], pivot, source),
        Table("覆盖率明细 detail", "各批次、类型、指标、年份的覆盖率",
              "Coverage by batch, zone type, indicator and year",
              [Column("batch", "批次", "batch", "int"), Column("type_label", "类型", "zone type"),
               Column("indicator", "指标", "indicator"), Column("year", "年份", "year", "year"),
               Column("zones_expected", "应报送实验区", "zones expected", "int"),
               Column("zones_reported", "已有数值实验区", "zones reported", "int"),
               Column("coverage_pct", "覆盖率（%）", "coverage (%)", "pct")], long, source, folded=True),
    ])


def _distribution_section(summary: pd.DataFrame, round_year: int, source: str) -> Section:
    catalogue = load_catalogue().indicators
    panels = {i: (ind.name_zh, ind.name_en, ind.unit) for i, ind in catalogue.items()}
    by_type = summary[summary["group_kind"] == "zone_type"]
    latest_year = int(summary["year"].max()) if not summary.empty else round_year - 1
    latest = summary[(summary["year"] == latest_year) & (summary["group_kind"] != "region")]
    wide = latest.pivot_table(index="indicator_id", columns="group_name", values="median").reset_index()
    wide.insert(1, "indicator", wide["indicator_id"].map(indicator_label))
    wide.insert(2, "unit", wide["indicator_id"].map(lambda i: catalogue[i].unit))
    groups = [g for g in ["all", *TYPE_LABELS] if g in wide.columns]
    long = summary.assign(indicator=summary["indicator_id"].map(indicator_label),
                          unit=summary["indicator_id"].map(lambda i: catalogue[i].unit),
                          group=summary["group_name"].map(lambda g: GROUP_LABELS.get(g, g)))
    stats = [Column("n", "实验区数", "zones", "int"), Column("mean", "平均值", "mean", "value"),
             Column("median", "中位数", "median", "value"), Column("q1", "下四分位数", "first quartile", "value"),
             Column("q3", "上四分位数", "third quartile", "value"), Column("min", "最小值", "minimum", "value"),
             Column("max", "最大值", "maximum", "value")]
    return Section("四、监测指标分布", "4 Distribution of each indicator by zone type and year", [
        Paragraph("各指标按实验区类型和年份的中位数与四分位距；数值为目录单位（万元、%、‰ 等）。",
                  "Median and interquartile range of each indicator by zone type and year, in the catalogue unit."),
        Chart(charts.distribution_chart(by_type, panels, TYPE_LABELS), "各指标按类型和年份的分布",
              "Distribution of each indicator by zone type and year (median and interquartile range)", source),
        Table("中位数 medians", f"{latest_year}年各指标中位数", f"Median of each indicator in {latest_year}",
              [Column("indicator", "指标", "indicator"), Column("unit", "单位", "unit"),
               *[Column(g, GROUP_LABELS[g].split(" ")[0], GROUP_LABELS[g].split(" ", 1)[1], "value") for g in groups]],
              wide, source),
        Table("分布明细 distribution", "各指标分布明细（全部、按类型、按地域）",
              "Distribution of each indicator per year: all zones, by type, by region",
              [Column("indicator", "指标", "indicator"), Column("unit", "单位", "unit"),
               Column("year", "年份", "year", "year"), Column("group", "分组", "group"), *stats], long, source,
              folded=True),
    ])


def _problems_section(problems: pd.DataFrame, round_year: int, last_batch: int) -> Section:
    problems["type_label"] = problems["zone_type"].map(type_label)
    source = f"数据来源 Source: sdz warehouse, mart.open_problems (mart.findings: is_open), round {round_year}"
    rejected, warnings, file_warnings, files = (
        int(problems[c].sum()) for c in ("open_rejected", "open_warnings", "file_warnings", "open_files"))
    # What is open is mart.findings' rule (its description): the report only counts.
    text = Paragraph(
        f"第{last_batch}批后仍未解决的问题：{len(problems)} 个实验区共有 {rejected} 个拒收数值、"
        f"{warnings} 个带提示的数值（不含“已修订”）、{file_warnings} 个文件级提示和 {files} 个整体拒收的文件"
        "仍待处理（是否待处理见 mart.findings 的 is_open 规则）。"
        f"下表列出问题最多的实验区（至多 {OPEN_PROBLEM_ROWS} 个）。",
        f"Open after batch {last_batch}: {len(problems)} zones with {rejected} rejected values, {warnings} values "
        f"with a warning (revisions aside), {file_warnings} file-level warnings and {files} files refused whole "
        f"(open as the is_open rule of mart.findings says). The table lists the zones with the most (up to "
        f"{OPEN_PROBLEM_ROWS}).")
    return Section("五、待解决问题最多的实验区", "5 Zones with the most open problems", [
        text,
        Table("待解决问题 problems", "待解决问题最多的实验区", "Zones with the most open problems",
              [Column("zone_code", "实验区代码", "zone code"), Column("zone_name", "实验区名称", "zone name"),
               Column("type_label", "类型", "zone type"),
               Column("open_rejected", "未解决的拒收数值", "open rejected values", "int"),
               Column("open_warnings", "带提示的现行数值", "values in force with a warning", "int"),
               Column("file_warnings", "文件级提示", "file-level warnings", "int"),
               Column("open_files", "整体拒收的文件", "files refused whole", "int"),
               Column("open_total", "合计", "total", "int")],
              problems.head(OPEN_PROBLEM_ROWS), source),
    ])

