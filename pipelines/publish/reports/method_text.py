"""The evaluation method in words and tables, generated from the method file actually used.

The evaluation report must say how its index was computed; writing that text from the parsed
`Method` (normalisation, reversed directions, weights, aggregation, the half-of-the-weight rule
for gaps, scale) keeps the report true to whatever method file the run used.
"""

from __future__ import annotations

import pandas as pd

from pipelines.index.method import Group, Leaf, Method
from schemas.catalogue import load_catalogue

ROOT_NAME = "创新能力指数 innovation-capacity index"
AGGREGATES = {"arithmetic": ("算术平均", "arithmetic mean"), "geometric": ("几何平均", "geometric mean")}
TRANSFORMS = {"none": ("不变换", "none"), "ln": ("自然对数", "natural log"), "log10": ("常用对数", "log10")}


def node_name(key: str, method: Method) -> str:
    """A node's name as the report prints it: Chinese, then English."""
    catalogue = load_catalogue()
    if key == method.root:
        return ROOT_NAME
    if key in catalogue.aspects:
        aspect = catalogue.aspects[key]
        return f"{aspect['name_zh']} {aspect['name_en']}"
    if key.isdigit() and int(key) in catalogue.indicators:
        return f"{key} {catalogue.indicators[int(key)].name_zh}"
    return key


def _zh(key: str, method: Method) -> str:
    return node_name(key, method).split(" ")[0] if not key.isdigit() else node_name(key, method)


def _en(key: str, method: Method) -> str:
    catalogue = load_catalogue()
    if key.isdigit() and int(key) in catalogue.indicators:
        return f"{key} {catalogue.indicators[int(key)].name_en}"
    return node_name(key, method).split(" ", 1)[-1]


def _used_leaves(method: Method) -> list[Leaf]:
    keys = [c for g in method.evaluation_order() for c in method.groups[g].children if c in method.indicators]
    return [method.indicators[k] for k in sorted(set(keys), key=lambda k: (not k.isdigit(), k.zfill(6)))]


def _weights(group: Group, method: Method, language: str) -> str:
    name = _zh if language == "zh" else _en
    if len(set(group.weights)) == 1:
        return ("、" if language == "zh" else ", ").join(name(c, method) for c in group.children)
    return ("、" if language == "zh" else ", ").join(f"{name(c, method)} ×{w:g}"
                                                   for c, w in zip(group.children, group.weights, strict=True))


def _goalposts(leaf: Leaf, language: str) -> str:
    observed = ("观测值" if language == "zh" else "observed")
    low = observed + ("最小值" if language == "zh" else " minimum") if leaf.min is None else f"{leaf.min:g}"
    high = observed + ("最大值" if language == "zh" else " maximum") if leaf.max is None else f"{leaf.max:g}"
    return f"{low} – {high}"


def describe_method(method: Method, first_year: int, last_year: int) -> tuple[list[str], list[str]]:
    """Four paragraphs, in Chinese and in English: normalisation, aggregation, missing data, scale."""
    leaves = _used_leaves(method)
    pooled = all(leaf.min is None and leaf.max is None for leaf in leaves)
    zh = [f"方法“{method.name}”共用 {len(leaves)} 项指标。" + (
        f"各指标采用极差（min–max）标准化，以参评实验区 {first_year}–{last_year} 年全部数据（合并面板）"
        "的最小值和最大值为下限和上限，"
        "标准化值 = (x − 最小值) / (最大值 − 最小值)。" if pooled else
        "各指标采用极差（min–max）标准化，上下限见表1（未给定的取参评实验区全部年份数据的观测最小值或最大值）。")]
    en = [f"Method '{method.name}' uses {len(leaves)} indicators. " + (
        f"Each is min-max normalised over the pooled panel of the evaluated zones and all years {first_year}-"
        f"{last_year}: (x - minimum) / (maximum - minimum)." if pooled else
        "Each is min-max normalised between the goalposts of Table 1 (the observed minimum or maximum over the pooled "
        "panel where the method file gives none).")]
    transformed = [leaf for leaf in leaves if leaf.transform != "none"]
    if transformed:
        zh[0] += "标准化前取对数：" + "、".join(f"{_zh(leaf.key, method)}（{TRANSFORMS[leaf.transform][0]}）"
                                         for leaf in transformed) + "。"
        en[0] += " Log-transformed before normalising: " + ", ".join(
            f"{_en(leaf.key, method)} ({TRANSFORMS[leaf.transform][1]})" for leaf in transformed) + "."
    reversed_ = [leaf for leaf in leaves if leaf.direction == "lower"]
    if reversed_:
        zh[0] += ("逆向指标（数值越低越好）的标准化值取 1 − x："
                  + "、".join(_zh(leaf.key, method) for leaf in reversed_) + "。")
        en[0] += (" Lower is better, so the normalised value is reversed (1 - x), for "
                  + ", ".join(_en(leaf.key, method) for leaf in reversed_) + ".")
    unclipped = [leaf for leaf in leaves if not leaf.clip]
    zh[0] += "超出上下限的标准化值截断到 0–1" + (
        "（" + "、".join(_zh(leaf.key, method) for leaf in unclipped) + "除外）" if unclipped else "") + "。"
    en[0] += " Normalised values outside the goalposts are clipped to 0-1" + (
        " (except " + ", ".join(_en(leaf.key, method) for leaf in unclipped) + ")" if unclipped else "") + "."
    parts_zh, parts_en = [], []
    for key in method.evaluation_order():
        group = method.groups[key]
        equal = len(set(group.weights)) == 1
        aggregate_zh, aggregate_en = AGGREGATES[group.aggregate]
        weighting = "等权" if equal else "加权"
        parts_zh.append(f"{_zh(key, method)}为{_weights(group, method, 'zh')}的{weighting}{aggregate_zh}")
        parts_en.append(f"{_en(key, method)} is the {'equally weighted' if equal else 'weighted'} {aggregate_en} of "
                        f"{_weights(group, method, 'en')}")
    zh.append("汇总：" + "；".join(parts_zh) + "。")
    en.append("Aggregation: " + "; ".join(parts_en) + ".")
    zh.append("缺失数据：某组已有得分的组成部分的权重之和不少于该组总权重的一半时，按已有部分重新归一权重计算；否则该组得分缺失。"
              "最小值等于最大值的指标不含信息，视为缺失。")
    en.append("Missing data: a group is computed from the children present when they carry at least half of its "
              "weight (weights renormalised), otherwise it is missing. An indicator whose minimum equals its maximum "
              "carries no information and counts as missing.")
    range_zh, range_en = ("", "") if unclipped else (f"，取值范围 0–{method.scale:g}", f" (range 0-{method.scale:g})")
    zh.append(f"最终得分乘以 {method.scale:g}{range_zh}；类型得分为该类型有得分实验区的平均值，"
              "年增长率 = 100 × (本年得分 / 上年得分 − 1)。")
    en.append(f"Scores are multiplied by {method.scale:g}{range_en}; a type's score is the mean over its zones with a "
              "score; year-on-year growth = 100 × (score / previous year's score - 1).")
    return zh, en


def method_table(method: Method) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tables: each indicator's normalisation, and each group's children, weights and aggregation."""
    leaves = pd.DataFrame([{
        "indicator": f"{_zh(leaf.key, method)} / {_en(leaf.key, method).removeprefix(leaf.key + ' ')}",
        "direction": "正向 higher is better" if leaf.direction == "higher" else "逆向 lower is better (1 − x)",
        "transform": " ".join(TRANSFORMS[leaf.transform]),
        "goalposts": f"{_goalposts(leaf, 'zh')} / {_goalposts(leaf, 'en')}",
        "clip": "是 yes" if leaf.clip else "否 no",
    } for leaf in _used_leaves(method)], columns=["indicator", "direction", "transform", "goalposts", "clip"])
    groups = pd.DataFrame([{
        "group": node_name(key, method),
        "children": f"{_weights(method.groups[key], method, 'zh')} / {_weights(method.groups[key], method, 'en')}",
        "aggregate": " ".join(AGGREGATES[method.groups[key].aggregate])
        + ("（等权 equal weights）" if len(set(method.groups[key].weights)) == 1 else ""),
    } for key in method.evaluation_order()], columns=["group", "children", "aggregate"])
    return leaves, groups
