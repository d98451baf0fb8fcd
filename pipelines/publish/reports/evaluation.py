"""The evaluation report of a round (创新能力评价报告): the innovation-capacity index by zone type.

The index is the one the warehouse computed with the method file (mart.index_zone_round: the
composite-index engine on the values in force at the end of the round of the type-evaluated zones
expected in it, years first_year .. round-1); type means and growth are the round's rows of
mart.index_by_type_round and mart.index_growth. Five sections: zones evaluated and the method in
words; the index by type; the five aspects; growth rates; top and bottom zones of each type.
"""

from __future__ import annotations

import pandas as pd

from pipelines.index.method import Method
from pipelines.publish.reports import charts, data
from pipelines.publish.reports.data import RoundInputs
from pipelines.publish.reports.method_text import describe_method, method_table, node_name
from pipelines.publish.reports.model import (
    SOURCE,
    TYPE_LABELS,
    TYPE_ZH,
    Chart,
    Column,
    Paragraph,
    Report,
    Section,
    Table,
    chinese_number,
    english_number,
    numbered,
    type_label,
    type_order,
)


def evaluation_report(inputs: RoundInputs, method: Method, method_label: str) -> Report:
    """The evaluation report (创新能力评价报告) of a round: the index the warehouse computed with `method` on the
    round's as-of values (mart.index_zone_round), its type means and growth."""
    round_year, last_batch, zones, scores = inputs.round, inputs.last_batch, inputs.zones, inputs.scores
    means, growth = inputs.by_type, inputs.growth
    aspects = [c for c in method.groups[method.root].children if c in method.groups]
    nodes = {key: node_name(key, method) for key in [method.root, *aspects]}
    source = f"{SOURCE.format(round=round_year)}; method {method_label}"
    window = "–".join(map(str, inputs.years))
    means, growth = _labelled(means, nodes), _labelled(growth, nodes)
    sections = [
        _method_section(zones, scores, method, method_label, inputs.years, nodes),
        _index_section(means, method.root, nodes, source),
        _aspects_section(means, aspects, nodes, source),
        _growth_section(growth, nodes, window, source),
        _ranking_section(scores, zones, method.root, nodes, source),
    ]
    return Report("evaluation", round_year, last_batch, numbered(sections))


def _labelled(frame: pd.DataFrame, nodes: dict[str, str]) -> pd.DataFrame:
    """Type and node labels added; rows in the office's type order, then index before aspects, then year."""
    order = {node: i for i, node in enumerate(nodes)}
    frame = frame.assign(type_label=frame["zone_type"].map(type_label),
                         node_label=frame["node"].map(lambda node: nodes.get(node, node)),
                         type_rank=frame["zone_type"].map(type_order),
                         node_rank=frame["node"].map(lambda node: order.get(node, len(order))))
    by = ["type_rank", "node_rank", *(["year"] if "year" in frame else [])]
    return frame.sort_values(by).drop(columns=["type_rank", "node_rank"]).reset_index(drop=True)


def _method_section(zones: pd.DataFrame, scores: pd.DataFrame, method: Method, method_label: str,
                    years: tuple[int, int], nodes: dict[str, str]) -> Section:
    evaluated = zones[zones["type_evaluation"]]
    excluded = zones[~zones["type_evaluation"]]["zone_name"].tolist()
    counts = evaluated.groupby("zone_type").size()
    scored = scores[scores["node"] == method.root]["zone_code"].nunique()
    counts_zh = "、".join(f"{TYPE_ZH.get(t, t)} {n} 个" for t, n in counts.items())
    counts_en = ", ".join(f"{t} {n}" for t, n in counts.items())
    aspects = [name.split(" ", 1) for key, name in nodes.items() if key != method.root]
    aspects_zh = "、".join(zh for zh, *_ in aspects)
    first_year, last_year = years
    zh, en = describe_method(method, first_year, last_year)
    blocks: list[Paragraph | Chart | Table] = [Paragraph(
        f"按行政区划类型分组评价{('，除' + '、'.join(excluded) + '之外') if excluded else ''}，共 {len(evaluated)} "
        f"个实验区（{counts_zh}），其中 {scored} 个有指数得分；评价期 {first_year}–{last_year} 年，"
        f"分析{aspects_zh}{chinese_number(len(aspects))}个方面。",
        f"Zones are evaluated by administrative type{(', except ' + ', '.join(excluded)) if excluded else ''}: "
        f"{len(evaluated)} zones ({counts_en}), {scored} of them with an index score, over {first_year}–"
        f"{last_year}, on {english_number(len(aspects))} aspects.")]
    blocks += [Paragraph(z, e) for z, e in zip(zh, en, strict=True)]
    blocks.append(Paragraph(f"评价方法文件：{method_label}。", f"Method file: {method_label}."))
    leaves, groups = method_table(method)
    blocks.append(Table("指标方法 indicators", "指标的标准化", "How each indicator is normalised",
                        [Column("indicator", "指标", "indicator", "note"), Column("direction", "方向", "direction"),
                         Column("transform", "变换", "transform"), Column("goalposts", "上下限", "goalposts", "note"),
                         Column("clip", "截断", "clipped to [0, 1]")], leaves,
                        f"数据来源 Source: method file {method_label}"))
    blocks.append(Table("汇总方法 groups", "各组的汇总方式与权重", "How each group aggregates its children",
                        [Column("group", "组", "group"),
                         Column("children", "组成与权重", "children and weights", "note"),
                         Column("aggregate", "汇总方式", "aggregation")], groups,
                        f"数据来源 Source: method file {method_label}"))
    return Section("一、评价对象与方法", "1 Zones evaluated and method", blocks)


def _by_type_and_year(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """One row per zone type (in the office's order), one column y<year> per year with a value."""
    wide = frame.pivot_table(index="zone_type", columns="year", values=value)
    wide = wide.reindex(sorted(wide.index, key=type_order))
    wide.columns = [f"y{year}" for year in wide.columns]
    wide.insert(0, "type_label", [type_label(t) for t in wide.index])
    return wide.reset_index(drop=True)


def _year_columns(frame: pd.DataFrame, kind: str) -> list[Column]:
    return [Column(c, f"{c[1:]}年", c[1:], kind) for c in frame.columns if c.startswith("y")]


def _index_section(means: pd.DataFrame, root: str, nodes: dict[str, str], source: str) -> Section:
    index = means[means["node"] == root]
    score, growth = _by_type_and_year(index, "score"), _by_type_and_year(index, "growth_pct")
    label = Column("type_label", "类型", "zone type")
    return Section("二、各类型实验区创新能力指数", "2 Innovation-capacity index by zone type", [
        Chart(charts.type_lines_chart(index, {root: nodes[root]}, TYPE_LABELS, "index"),
              "各类型实验区创新能力指数",
              "Innovation-capacity index by zone type and year (mean over the type's zones)", source),
        Table("指数 index", "各类型实验区创新能力指数（0–100）", "Index by zone type and year (0-100)",
              [label, *_year_columns(score, "score")], score, source),
        Table("指数增长 index growth", "创新能力指数年增长率（%）", "Year-on-year growth of the index (%)",
              [label, *_year_columns(growth, "growth")], growth, source),
    ])


def _aspects_section(means: pd.DataFrame, aspects: list[str], nodes: dict[str, str], source: str) -> Section:
    count = len(aspects)
    heading = f"三、创新能力的{chinese_number(count)}个方面", f"3 The {english_number(count)} aspects by zone type"
    return Section(*heading, [
        Chart(charts.type_lines_chart(means[means["node"].isin(aspects)], {a: nodes[a] for a in aspects},
                                      TYPE_LABELS, "aspects", share_y=True),
              f"各类型实验区{chinese_number(count)}个方面得分",
              "Aspect scores by zone type and year (mean over the type's zones)", source),
        Table("各方面得分 scores", "指数与各方面得分（按类型和年份）", "Index and aspect scores by zone type and year",
              [Column("type_label", "类型", "zone type"), Column("node_label", "方面", "aspect"),
               Column("year", "年份", "year", "year"), Column("score", "得分", "score (0-100)", "score"),
               Column("zones", "实验区数", "zones with a score", "int"),
               Column("growth_pct", "年增长率（%）", "year-on-year growth (%)", "growth")], means, source,
              folded=True),
    ])


def _growth_section(growth: pd.DataFrame, nodes: dict[str, str], window: str, source: str) -> Section:
    wide = growth.pivot_table(index="node", columns="zone_type", values="cagr_pct")
    wide = wide.reindex([n for n in nodes if n in wide.index])
    types = sorted(wide.columns, key=type_order)
    wide = wide[types].reset_index()
    wide.insert(0, "node_label", wide["node"].map(nodes))
    return Section("四、各方面增长率", "4 Growth rates of each aspect by zone type", [
        Paragraph(f"年均增长率为评价期（{window}）内首末两个有得分年份之间的复合年增长率；平均年增长率为各年同比增长率的平均值。",
                  f"Compound annual growth between the first and last year with a score in the window {window}; "
                  "mean year-on-year growth is the mean of the annual growth rates."),
        Chart(charts.growth_chart(growth, nodes, TYPE_LABELS, window), "各类型实验区指数与各方面年均增长率",
              f"Compound annual growth of the index and each aspect by zone type, {window} (%)", source),
        Table("年均增长率 CAGR", f"年均增长率（%，{window}）", f"Compound annual growth (%), {window}",
              [Column("node_label", "方面", "aspect"),
               *[Column(t, TYPE_ZH.get(t, t), TYPE_LABELS.get(t, t).split(" ", 1)[-1], "growth") for t in types]],
              wide, source),
        Table("增长率明细 growth", "指数与各方面增长率明细", "Growth of the index and each aspect by zone type",
              [Column("type_label", "类型", "zone type"), Column("node_label", "方面", "aspect"),
               Column("first_year", "起始年", "first year", "year"), Column("last_year", "终止年", "last year", "year"),
               Column("first_score", "起始得分", "first score", "score"),
               Column("last_score", "终止得分", "last score", "score"),
               Column("cagr_pct", "年均增长率（%）", "compound annual growth (%)", "growth"),
               Column("mean_yoy_growth_pct", "平均年增长率（%）", "mean year-on-year growth (%)", "growth")],
              growth, source, folded=True),
    ])


def _ranking_section(scores: pd.DataFrame, zones: pd.DataFrame, root: str, nodes: dict[str, str],
                     source: str) -> Section:
    ranked = data.ranking(scores, zones, root)
    for node in nodes:
        if node not in ranked.columns:
            ranked[node] = float("nan")
    year = int(ranked["year"].max()) if not ranked.empty else None
    columns = [Column("rank", "名次", "rank", "int"), Column("zone_code", "实验区代码", "zone code"),
               Column("zone_name", "实验区名称", "zone name"),
               *[Column(n, nodes[n].split(" ")[0], nodes[n].split(" ", 1)[-1], "score") for n in nodes]]
    blocks: list[Paragraph | Chart | Table] = [Paragraph(
        f"按 {year} 年创新能力指数排序，列出各类型前五位和后五位（不足十个实验区的类型前后各列一半）。",
        f"Ranked by the {year} index: the five highest and five lowest zones of each type (the upper and lower half "
        "where a type has fewer than ten zones).") if year else Paragraph("本轮没有实验区得到指数得分。",
                                                                           "No zone has an index score in this round.")]
    for zone_type in sorted(ranked["zone_type"].unique(), key=type_order):
        rows = ranked[ranked["zone_type"] == zone_type]
        label = type_label(zone_type)
        zh, en = label.split(" ", 1) if " " in label else (label, label)
        blocks.append(Table(f"排名 {zone_type}", f"{zh}实验区排名（{year}年，共 {rows['of'].iloc[0]} 个有得分）",
                            f"Ranking of the {en} zones ({year}, {rows['of'].iloc[0]} with a score)", columns, rows,
                            source))
    return Section("五、各类型实验区排名", "5 Top and bottom zones of each type", blocks)
