"""Tests of the composite-index engine (pipelines/index/engine.py) and its method files (index_method.py).

The reference tests reproduce published indices (UNDP HDI 2021, TAI 2001) from their raw data and
a method file alone; the default method is checked against an independent plain-Python
recomputation of the README's default method on a hand-made panel.
"""

from __future__ import annotations

import copy
import math
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.index.engine import DataError, compute_index, index_command, read_index_data, sensitivity
from pipelines.index.method import Method, MethodError, load_method

ROOT = Path(__file__).resolve().parents[1]
METHODS = ROOT / "schemas" / "methods"
REFERENCE = Path(__file__).resolve().parent / "data" / "reference_indices"

HDI_LEAVES = ["life_expectancy", "expected_schooling", "mean_schooling", "gni_per_capita_2017ppp"]
TAI_LEAVES = [
    "patents",
    "royalties",
    "internet",
    "exports",
    "telephones_log10",
    "electricity_log10",
    "schooling",
    "university",
]


def _long(frame: pd.DataFrame, unit: str, leaves: list[str], year: int) -> pd.DataFrame:
    """Reshape a wide reference table (one row per country) to the engine's long input."""
    long = frame.melt(id_vars=[unit], value_vars=leaves, var_name="indicator", value_name="value")
    return long.rename(columns={unit: "unit"}).assign(year=year)[["unit", "year", "indicator", "value"]]


def _node(scores: pd.DataFrame, node: str) -> pd.Series:
    return scores[scores["node"] == node].set_index("unit")["score"]


def _panel(rows: list[tuple[str, int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "year", "indicator", "value"])


# ------------------------------------------------------------------------------------------
# Published indices
# ------------------------------------------------------------------------------------------


def test_hdi_2021_reproduces_all_191_published_values() -> None:
    hdi = pd.read_csv(REFERENCE / "hdi_2021.csv")
    assert len(hdi) == 191
    scores = compute_index(_long(hdi, "iso3", HDI_LEAVES, 2021), load_method(METHODS / "hdi_2021.yaml"))
    computed = _node(scores, "hdi").reindex(hdi["iso3"]).round(3).to_numpy()
    published = hdi["hdi_published"].to_numpy()
    mismatches = hdi.loc[computed != published, "iso3"].tolist()
    assert mismatches == []
    # The caps (clip) matter: Hong Kong's life expectancy is above the 85-year goalpost.
    assert _node(scores, "life_expectancy")["HKG"] == 1.0


def test_tai_2001_reproduces_published_values() -> None:
    tai = pd.read_csv(REFERENCE / "tai_2001.csv")
    scores = compute_index(_long(tai, "country", TAI_LEAVES, 2001), load_method(METHODS / "tai_2001.yaml"))
    computed = _node(scores, "tai").reindex(tai["country"])
    published = tai.set_index("country")

    # The 3-decimal values (inputs are printed rounded: residuals up to about 0.001).
    assert computed["Finland"] == pytest.approx(0.744, abs=0.001)
    assert computed["United States"] == pytest.approx(0.733, abs=0.001)

    # The top 23 at 2 decimals. The largest residual is Israel (0.515 against 0.51, a known
    # residual of the handbook's rounded inputs); it still lies within 0.006.
    two_dp = published["tai_published_2dp"].dropna()
    assert len(two_dp) == 23
    differences = (computed[two_dp.index] - two_dp).abs()
    assert differences.max() < 0.006, differences.sort_values().tail(3).to_dict()
    assert differences.idxmax() == "Israel"


# ------------------------------------------------------------------------------------------
# The default method against an independent recomputation of the README's default method
# ------------------------------------------------------------------------------------------


def _catalogue() -> list[dict]:
    return yaml.safe_load((ROOT / "schemas" / "catalogue.yaml").read_text(encoding="utf-8"))["indicators"]


def test_default_method_follows_the_catalogue() -> None:
    method = load_method(METHODS / "default.yaml")
    assert method.scale == 100 and method.root == "index"
    assert sorted(method.indicators, key=int) == [str(i) for i in range(1, 17)]
    for entry in _catalogue():
        leaf = method.indicators[str(entry["id"])]
        assert (leaf.direction, leaf.transform, leaf.min, leaf.max, leaf.clip) == (
            entry["direction"],
            "none",
            None,
            None,
            True,
        )
        assert str(entry["id"]) in method.groups[entry["aspect"]].children
    assert {k for k, v in method.indicators.items() if v.direction == "lower"} == {"9", "10", "11", "15"}
    aspects = ["st_input", "st_output", "economy", "society", "environment"]
    assert method.groups["index"].children == tuple(aspects)
    for key in [*aspects, "index"]:
        group = method.groups[key]
        assert group.aggregate == "arithmetic"
        assert len(set(group.weights)) == 1


def _hand_made_panel() -> dict[tuple[str, int, int], float]:
    """4 zones x 2 years x 16 indicators with a constant indicator and deliberate gaps."""
    rng = random.Random(20140)
    values = {
        (zone, year, ind): round(rng.uniform(1, 100), 2)
        for zone in ("Z1", "Z2", "Z3", "Z4")
        for year in (2012, 2013)
        for ind in range(1, 17)
    }
    for key in values:
        if key[2] == 2:
            values[key] = 3.5  # constant: no information, so st_input rests on indicator 1 alone
    for ind in (9, 10, 11, 12):  # society keeps 2 of 6 children: less than half, missing
        del values[("Z4", 2013, ind)]
    del values[("Z3", 2012, 15)]  # environment keeps 1 of 2: exactly half, computed
    for ind in (3, 4, 5, 6, 7, 8, 15, 16):  # only 2 of 5 aspects left: the index is missing
        del values[("Z2", 2013, ind)]
    return values


def _recompute_default(values: dict[tuple[str, int, int], float]) -> dict[tuple[str, int, str], float]:
    """Contract section 5 in plain Python, reading directions and aspects from the catalogue."""
    catalogue = _catalogue()
    normalised: dict[tuple[str, int, int], float] = {}
    for entry in catalogue:
        ind = entry["id"]
        observed = [v for (_, _, i), v in values.items() if i == ind]
        low, high = min(observed), max(observed)
        if low == high:
            continue  # no information: missing
        for (zone, year, i), v in values.items():
            if i == ind:
                n = (v - low) / (high - low)
                normalised[(zone, year, ind)] = 1 - n if entry["direction"] == "lower" else n

    expected: dict[tuple[str, int, str], float] = {}
    for zone, year in {(z, y) for (z, y, _) in values}:
        for (z, y, i), n in normalised.items():
            if (z, y) == (zone, year):
                expected[(zone, year, str(i))] = 100 * n
        aspect_scores = []
        for aspect in ("st_input", "st_output", "economy", "society", "environment"):
            members = [e["id"] for e in catalogue if e["aspect"] == aspect]
            present = [normalised[(zone, year, i)] for i in members if (zone, year, i) in normalised]
            if 2 * len(present) >= len(members):
                score = sum(present) / len(present)
                expected[(zone, year, aspect)] = 100 * score
                aspect_scores.append(score)
        if 2 * len(aspect_scores) >= 5:
            expected[(zone, year, "index")] = 100 * sum(aspect_scores) / len(aspect_scores)
    return expected


def test_default_method_matches_independent_recomputation() -> None:
    values = _hand_made_panel()
    data = _panel([(z, y, str(i), v) for (z, y, i), v in values.items()])
    scores = compute_index(data, load_method(METHODS / "default.yaml"))
    got = {(r.unit, r.year, r.node): r.score for r in scores.itertuples()}
    expected = _recompute_default(values)

    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key
    # The cases the panel was built for.
    assert not any(node == "2" for (_, _, node) in got)
    assert ("Z4", 2013, "society") not in got and ("Z4", 2013, "index") in got
    assert got[("Z3", 2012, "environment")] == pytest.approx(got[("Z3", 2012, "16")])
    assert ("Z2", 2013, "index") not in got and ("Z2", 2013, "st_input") in got
    # Sorted by unit, year, node.
    assert scores[["unit", "year", "node"]].equals(
        scores.sort_values(["unit", "year", "node"])[["unit", "year", "node"]].reset_index(drop=True)
    )


def test_indicator_matched_as_string_and_other_indicators_ignored() -> None:
    method = load_method(METHODS / "default.yaml")
    values = _hand_made_panel()
    as_text = _panel([(z, y, str(i), v) for (z, y, i), v in values.items()])
    as_int = _panel([(z, y, i, v) for (z, y, i), v in values.items()] + [("Z1", 2012, 17, 5.0)])
    pd.testing.assert_frame_equal(compute_index(as_text, method), compute_index(as_int, method))


def test_nodes_keep_only_those_rows_with_the_same_scores() -> None:
    method = load_method(METHODS / "default.yaml")
    data = _panel([(z, y, str(i), v) for (z, y, i), v in _hand_made_panel().items()])
    every = compute_index(data, method)
    groups = compute_index(data, method, nodes=method.evaluation_order())
    expected = every[every["node"].isin(method.evaluation_order())].reset_index(drop=True)
    pd.testing.assert_frame_equal(groups, expected)
    # A categorical unit (how the warehouse passes zone codes) gives the same frame.
    categorical = data.assign(unit=data["unit"].astype("category"))
    pd.testing.assert_frame_equal(compute_index(categorical, method, nodes=method.evaluation_order()), expected)
    assert compute_index(data, method, nodes=[]).empty


# ------------------------------------------------------------------------------------------
# Method validation
# ------------------------------------------------------------------------------------------

BASE: dict = {
    "name": "test",
    "scale": 1,
    "root": "index",
    "indicators": {"7": {"direction": "higher"}, "8": {"direction": "lower"}},
    "groups": {"economy": {"children": ["7", "8"]}, "index": {"children": ["economy"]}},
}


def _with(**changes: object) -> dict:
    """BASE with dotted paths set, e.g. _with(**{"indicators.7.min": 5})."""
    method = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = method
        for part in parents:
            target = target[part]
        target[last] = value
    return method


def test_base_method_is_valid() -> None:
    method = load_method(BASE)
    assert isinstance(method, Method)
    assert method.scale == 1.0
    assert method.indicators["7"].clip is True and method.indicators["7"].transform == "none"
    assert method.groups["economy"].weights == (1.0, 1.0)
    assert method.groups["economy"].aggregate == "arithmetic"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"groups.economy.children": ["7", 17]}, "groups.economy.children: unknown child '17'"),
        (
            {"groups.index.children": ["economy", "a"], "groups.a": {"children": ["index"]}},
            "groups.index: cycle index -> a -> index",
        ),
        ({"groups.economy.children": ["7", "economy"]}, "groups.economy: cycle economy -> economy"),
        (  # a cycle among groups the root does not reach is an error too
            {"groups.a": {"children": ["b"]}, "groups.b": {"children": ["7", "a"]}},
            "groups.a: cycle a -> b -> a",
        ),
        ({"groups.x": {"children": ["7", "8"], "weights": [1, -1]}}, "groups.x.weights: negative weight -1"),
        ({"groups.economy.weights": [1, 1, 1]}, "groups.economy.weights: 3 weights for 2 children"),
        ({"groups.economy.weights": [0, 0]}, "groups.economy.weights: the weights sum to 0"),
        ({"groups.economy.aggregate": "median"}, "groups.economy.aggregate: must be 'arithmetic' or 'geometric'"),
        ({"groups.economy.weight": [1, 2]}, "groups.economy: unknown key 'weight'"),
        ({"indicators.7.min": 5, "indicators.7.max": 3}, "indicators.7: min 5 >= max 3"),
        (
            {"indicators.7": {"direction": "higher", "transform": "ln", "min": 0, "max": 10}},
            "indicators.7: transform ln of non-positive goalpost 0",
        ),
        (
            {"indicators.7": {"direction": "higher", "transform": "log10", "max": -2}},
            "indicators.7: transform log10 of non-positive goalpost -2",
        ),
        ({"indicators.7.dirction": "higher"}, "indicators.7: unknown key 'dirction'"),
        ({"indicators.7.direction": "up"}, "indicators.7.direction: must be 'higher' or 'lower', got 'up'"),
        ({"indicators.7": {"transform": "none"}}, "indicators.7.direction: missing"),
        ({"indicators.7.transform": "sqrt"}, "indicators.7.transform: must be 'none' or 'ln' or 'log10'"),
        ({"indicators.7.clip": "yes"}, "indicators.7.clip: must be true or false"),
        ({"indicators.7.min": True}, "indicators.7.min: expected a finite number"),
        ({"weights": [1]}, "method: unknown key 'weights'"),
        ({"root": "total"}, "root: unknown group 'total'"),
        ({"root": "7"}, "root: '7' is an indicator"),
        ({"scale": 0}, "scale: must be positive"),
        ({"groups.7": {"children": ["8"]}}, "groups.7: name already used by an indicator"),
        ({"groups.economy.children": []}, "groups.economy.children: expected a non-empty list"),
        ({"groups.economy.children": ["7", "7"]}, "groups.economy.children: duplicate child '7'"),
    ],
)
def test_invalid_methods_name_the_entry(changes: dict, message: str) -> None:
    with pytest.raises(MethodError, match=re.escape(message)):
        load_method(_with(**changes))


def test_unreachable_groups_are_validated_but_not_output() -> None:
    method = load_method(_with(**{"groups.spare": {"children": ["8"]}}))
    data = _panel([("A", 2020, "7", 1.0), ("B", 2020, "7", 2.0), ("A", 2020, "8", 1.0), ("B", 2020, "8", 3.0)])
    assert set(compute_index(data, method)["node"]) == {"7", "8", "economy", "index"}


def test_method_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(_with(**{"groups.economy.children": ["7", "17"]})), encoding="utf-8")
    with pytest.raises(MethodError, match=re.escape(f"{path}: groups.economy.children: unknown child '17'")):
        load_method(str(path))
    path.write_text('name: t\nroot: g\nindicators:\n  "7": {direction: higher}\n  "7": {direction: lower}\n')
    with pytest.raises(MethodError, match="duplicate key '7'"):
        load_method(path)
    path.write_text("name: [unclosed\n")
    with pytest.raises(MethodError, match="not valid YAML"):
        load_method(path)
    with pytest.raises(MethodError, match="cannot read method file"):
        load_method(tmp_path / "missing.yaml")


def test_ln_of_non_positive_data_value_names_indicator_unit_and_year() -> None:
    method = load_method(
        {
            "name": "t",
            "root": "g",
            "indicators": {"gdp": {"direction": "higher", "transform": "ln"}},
            "groups": {"g": {"children": ["gdp"]}},
        }
    )
    data = _panel([("A", 2020, "gdp", 10.0), ("B", 2021, "gdp", 0.0)])
    message = "indicators.gdp: transform ln of non-positive value 0 (unit B, year 2021)"
    with pytest.raises(MethodError, match=re.escape(message)):
        compute_index(data, method)


# ------------------------------------------------------------------------------------------
# Normalisation and aggregation rules
# ------------------------------------------------------------------------------------------


def _unit_leaves(*keys: str, **leaf: object) -> dict:
    return {key: {"direction": "higher", "min": 0, "max": 1, **leaf} for key in keys}


def test_transforms_goalposts_direction_and_clip() -> None:
    method = load_method(
        {
            "name": "t",
            "scale": 10,
            "root": "g",
            "indicators": {
                "ln": {"direction": "higher", "transform": "ln", "min": 1, "max": math.e**2},
                "log": {"direction": "lower", "transform": "log10", "min": 1, "max": 1000},
                "free": {"direction": "higher", "min": 0, "max": 10, "clip": False},
            },
            "groups": {"g": {"children": ["ln", "log", "free"]}},
        }
    )
    data = _panel([("A", 1, "ln", math.e), ("A", 1, "log", 10.0), ("A", 1, "free", 15.0), ("B", 1, "ln", 100.0)])
    got = {(r.unit, r.node): r.score for r in compute_index(data, method).itertuples()}
    assert got[("A", "ln")] == pytest.approx(5.0)  # ln e = 1 of 0..2
    assert got[("A", "log")] == pytest.approx(10 * (1 - 1 / 3))  # reversed
    assert got[("A", "free")] == pytest.approx(15.0)  # not clipped
    assert got[("B", "ln")] == 10.0  # clipped at the goalpost
    assert ("B", "g") not in got  # 1 of 3 children present


def test_observed_bounds_over_whole_panel_and_constant_indicator_is_missing() -> None:
    method = load_method(
        {
            "name": "t",
            "root": "g",
            "indicators": {"x": {"direction": "lower"}, "c": {"direction": "higher"}},
            "groups": {"g": {"children": ["x", "c"]}},
        }
    )
    data = _panel([("A", 1, "x", 2.0), ("B", 1, "x", 4.0), ("A", 2, "x", 6.0), ("A", 1, "c", 3.0), ("B", 2, "c", 3.0)])
    scores = compute_index(data, method)
    got = {(r.unit, r.year, r.node): r.score for r in scores.itertuples()}
    assert got == pytest.approx(
        {
            ("A", 1, "x"): 1.0,
            ("B", 1, "x"): 0.5,
            ("A", 2, "x"): 0.0,
            ("A", 1, "g"): 1.0,
            ("B", 1, "g"): 0.5,
            ("A", 2, "g"): 0.0,
        }
    )
    assert "c" not in set(scores["node"])


def test_weighted_geometric_aggregation() -> None:
    method = load_method(
        {
            "name": "t",
            "root": "g",
            "indicators": _unit_leaves("a", "b"),
            "groups": {"g": {"children": ["a", "b"], "weights": [1, 3], "aggregate": "geometric"}},
        }
    )
    data = _panel([("A", 1, "a", 0.25), ("A", 1, "b", 0.64), ("B", 1, "a", 0.0), ("B", 1, "b", 0.9)])
    got = _node(compute_index(data, method), "g")
    assert got["A"] == pytest.approx(0.25**0.25 * 0.64**0.75)
    assert got["B"] == 0.0


def test_half_of_the_weight_rule() -> None:
    method = load_method(
        {
            "name": "t",
            "root": "g",
            "indicators": _unit_leaves("a", "b", "c"),
            "groups": {"g": {"children": ["a", "b", "c"], "weights": [2, 1, 1]}},
        }
    )
    data = _panel(
        [
            ("exactly_half_a", 1, "a", 0.2),
            ("exactly_half_bc", 1, "b", 0.4),
            ("exactly_half_bc", 1, "c", 0.6),
            ("quarter", 1, "b", 0.4),
            ("three_quarters", 1, "a", 0.2),
            ("three_quarters", 1, "c", 0.6),
            ("all", 1, "a", 0.2),
            ("all", 1, "b", 0.4),
            ("all", 1, "c", 0.6),
        ]
    )
    got = _node(compute_index(data, method), "g")
    assert got["exactly_half_a"] == pytest.approx(0.2)
    assert got["exactly_half_bc"] == pytest.approx(0.5)
    assert got["three_quarters"] == pytest.approx((2 * 0.2 + 0.6) / 3)  # renormalised weights
    assert got["all"] == pytest.approx((2 * 0.2 + 0.4 + 0.6) / 4)
    assert "quarter" not in got.index


def test_half_of_the_weight_rule_geometric() -> None:
    method = load_method(
        {
            "name": "t",
            "root": "g",
            "indicators": _unit_leaves("a", "b", "c", "d"),
            "groups": {"g": {"children": ["a", "b", "c", "d"], "aggregate": "geometric"}},
        }
    )
    data = _panel([("half", 1, "a", 0.25), ("half", 1, "b", 0.64), ("less", 1, "c", 0.5)])
    got = _node(compute_index(data, method), "g")
    assert got["half"] == pytest.approx(0.4)
    assert "less" not in got.index


def test_bad_data_raises_data_error() -> None:
    method = load_method(BASE)
    with pytest.raises(DataError, match="missing column"):
        compute_index(pd.DataFrame({"unit": ["A"], "year": [1], "value": [1.0]}), method)
    with pytest.raises(DataError, match="more than one value for unit A, year 1, indicator 7"):
        compute_index(_panel([("A", 1, "7", 1.0), ("A", 1, "7", 2.0)]), method)
    with pytest.raises(DataError, match="'abc' is not a number"):
        compute_index(_panel([("A", 1, "7", "abc")]), method)


def test_empty_data_gives_empty_result() -> None:
    scores = compute_index(_panel([("A", 1, "99", 1.0)]), load_method(BASE))
    assert list(scores.columns) == ["unit", "year", "node", "score"] and scores.empty


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------

PROPERTY_METHOD = load_method(
    {
        "name": "property",
        "scale": 10,
        "root": "top",
        "indicators": {
            "a": {"direction": "higher"},
            "b": {"direction": "lower"},
            "c": {"direction": "higher", "min": -50, "max": 50},  # goalposts inside the data range
            "d": {"direction": "lower", "transform": "ln", "min": 1, "max": 100},
        },
        "groups": {
            "arith": {"children": ["a", "b", "c"], "weights": [0.3, 0.1, 0.6]},
            "geo": {"children": ["c", "d", "a"], "weights": [2, 1, 0.5], "aggregate": "geometric"},
            "top": {"children": ["arith", "geo"], "weights": [1, 2], "aggregate": "geometric"},
        },
    }
)

_value = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
_positive = st.one_of(st.none(), st.floats(min_value=1e-6, max_value=1e6, allow_nan=False))


@st.composite
def _panels(draw: st.DrawFn) -> pd.DataFrame:
    units = draw(st.integers(1, 5))
    years = draw(st.integers(1, 3))
    rows = []
    for u in range(units):
        for y in range(years):
            for key in ("a", "b", "c", "d"):
                value = draw(_positive if key == "d" else _value)
                if value is not None:
                    rows.append((f"U{u}", 2000 + y, key, value))
    return _panel(rows) if rows else _panel([("U0", 2000, "a", 1.0)])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_panels(), seed=st.integers(0, 2**32 - 1))
def test_scores_lie_in_scale_and_do_not_depend_on_row_order(data: pd.DataFrame, seed: int) -> None:
    scores = compute_index(data, PROPERTY_METHOD)
    assert scores["score"].between(0, PROPERTY_METHOD.scale).all()
    assert not scores.duplicated(["unit", "year", "node"]).any()

    shuffled = data.sample(frac=1, random_state=np.random.RandomState(seed % 2**32)).reset_index(drop=True)
    pd.testing.assert_frame_equal(compute_index(shuffled, PROPERTY_METHOD), scores)

    # Renaming units so that their order flips does not change any unit's scores either.
    renamed = data.assign(unit=data["unit"].map(lambda u: f"V{9 - int(u[1:])}"))
    flipped = compute_index(renamed, PROPERTY_METHOD)
    flipped["unit"] = flipped["unit"].map(lambda u: f"U{9 - int(u[1:])}")
    flipped = flipped.sort_values(["unit", "year", "node"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(flipped, scores)


# ------------------------------------------------------------------------------------------
# Sensitivity
# ------------------------------------------------------------------------------------------


def _sensitivity_panel() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = [
        (f"Z{u:02d}", year, str(ind), float(rng.lognormal()))
        for u in range(12)
        for year in (2012, 2013)
        for ind in range(1, 17)
    ]
    return _panel(rows)


def test_sensitivity_columns_bounds_and_determinism() -> None:
    data = _sensitivity_panel()
    method = load_method(METHODS / "default.yaml")
    result = sensitivity(data, method, runs=8, seed=3)
    assert list(result.columns) == ["unit", "year", "median_rank", "rank_p05", "rank_p95", "runs"]
    assert len(result) == 24 and (result["runs"] == 8).all()
    assert (result["rank_p05"] <= result["median_rank"]).all()
    assert (result["median_rank"] <= result["rank_p95"]).all()
    assert result[["rank_p05", "rank_p95"]].stack().between(1, 12).all()
    pd.testing.assert_frame_equal(result, sensitivity(data, method, runs=8, seed=3))
    assert not result.equals(sensitivity(data, method, runs=8, seed=4))


def test_sensitivity_with_one_run_ranks_the_unperturbed_index() -> None:
    data = _sensitivity_panel()
    method = load_method(METHODS / "default.yaml")
    result = sensitivity(data, method, runs=1).set_index(["unit", "year"])
    index = compute_index(data, method).query("node == 'index'").set_index(["unit", "year"])["score"]
    expected = index.groupby(level="year").rank(ascending=False, method="min")
    pd.testing.assert_series_equal(result["median_rank"], expected.reindex(result.index), check_names=False)
    assert (result["rank_p05"] == result["median_rank"]).all() and (result["runs"] == 1).all()


def test_sensitivity_percentiles_interpolate_between_runs() -> None:
    # Two runs: the method as written and one perturbed z-score variant. The median is then the
    # mean of the two ranks, and numpy's linear percentiles lie 5 % / 95 % of the way between them.
    data = _sensitivity_panel()
    method = load_method(METHODS / "default.yaml")
    result = sensitivity(data, method, runs=2, seed=11).set_index(["unit", "year"])
    index = compute_index(data, method).query("node == 'index'").set_index(["unit", "year"])["score"]
    first = index.groupby(level="year").rank(ascending=False, method="min").reindex(result.index)
    second = 2 * result["median_rank"] - first
    low, high = np.minimum(first, second), np.maximum(first, second)
    assert second.between(1, 12).all()
    assert np.allclose(result["rank_p05"], low + 0.05 * (high - low))
    assert np.allclose(result["rank_p95"], low + 0.95 * (high - low))
    assert (high > low).any()  # the variant does move some ranks


def test_sensitivity_alternates_z_scores_without_goalposts_or_clipping() -> None:
    # Both values lie beyond the goalposts: min-max (clipped) ties them, while z-scores (odd runs)
    # tell them apart, lower being better. A single child makes the weight factors irrelevant.
    method = load_method(
        {
            "name": "t",
            "root": "g",
            "indicators": {"a": {"direction": "lower", "min": 0, "max": 1}},
            "groups": {"g": {"children": ["a"]}},
        }
    )
    data = _panel([("P", 1, "a", 5.0), ("Q", 1, "a", 10.0)])
    one = sensitivity(data, method, runs=1).set_index("unit")
    assert one["median_rank"].to_dict() == {"P": 1.0, "Q": 1.0}
    four = sensitivity(data, method, runs=4).set_index("unit")  # Q's ranks: 1, 2, 1, 2
    assert four["median_rank"].to_dict() == {"P": 1.0, "Q": 1.5}
    assert four.loc["Q", ["rank_p05", "rank_p95"]].tolist() == [1.0, 2.0]


def test_sensitivity_of_a_geometric_index_keeps_every_unit() -> None:
    # z-scores can be negative, where a geometric mean is undefined: z-score runs aggregate
    # arithmetically, so every country keeps a rank in every run.
    hdi = pd.read_csv(REFERENCE / "hdi_2021.csv")
    result = sensitivity(_long(hdi, "iso3", HDI_LEAVES, 2021), load_method(METHODS / "hdi_2021.yaml"), runs=4)
    assert len(result) == 191 and (result["runs"] == 4).all()
    assert result["median_rank"].between(1, 191).all()


def test_sensitivity_rejects_non_positive_runs() -> None:
    with pytest.raises(ValueError, match="runs must be a positive integer"):
        sensitivity(_sensitivity_panel(), load_method(METHODS / "default.yaml"), runs=0)


# ------------------------------------------------------------------------------------------
# The `sdz index` command
# ------------------------------------------------------------------------------------------


def _write_long(path: Path, data: pd.DataFrame) -> None:
    data.to_csv(path, index=False, encoding="utf-8")


def test_index_command_writes_sorted_scores_and_sensitivity(tmp_path: Path) -> None:
    data = _sensitivity_panel()
    data["unit"] = data["unit"].str.replace("Z", "0")  # codes with leading zeros stay text
    source = tmp_path / "data.csv"
    _write_long(source, data)
    out = tmp_path / "out" / "scores.csv"

    assert index_command(source, METHODS / "default.yaml", out, sensitivity_runs=4) == 0
    written = pd.read_csv(out, dtype={"unit": str, "node": str})
    assert list(written.columns) == ["unit", "year", "node", "score"]
    assert written["unit"].iloc[0] == "000"
    assert written[["unit", "year", "node"]].equals(
        written.sort_values(["unit", "year", "node"])[["unit", "year", "node"]].reset_index(drop=True)
    )
    expected = compute_index(read_index_data(source), load_method(METHODS / "default.yaml"))
    assert np.allclose(written["score"], expected["score"], rtol=1e-12)

    sens = pd.read_csv(tmp_path / "out" / "scores_sensitivity.csv", dtype={"unit": str})
    assert list(sens.columns) == ["unit", "year", "median_rank", "rank_p05", "rank_p95", "runs"]
    assert len(sens) == 24


def test_index_command_reports_a_cyclic_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "data.csv"
    _write_long(source, _sensitivity_panel())
    method = tmp_path / "cyclic.yaml"
    method.write_text(
        yaml.safe_dump(_with(**{"groups.index.children": ["economy", "a"], "groups.a": {"children": ["index"]}})),
        encoding="utf-8",
    )
    out = tmp_path / "scores.csv"
    assert index_command(source, method, out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "groups.index: cycle index -> a -> index" in err and str(method) in err
    assert not out.exists()


def test_index_command_reports_bad_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "data.csv"
    source.write_text("unit,year,indicator,value\nA,2012,7,1.5\nA,2013,7,one\n", encoding="utf-8")
    assert index_command(source, METHODS / "default.yaml", tmp_path / "scores.csv") == 2
    err = capsys.readouterr().err
    assert "line 3: value 'one' is not a number" in err and err.count("\n") == 1

    source.write_text("zone,year,indicator,value\nA,2012,7,1.5\n", encoding="utf-8")
    assert index_command(source, METHODS / "default.yaml", tmp_path / "scores.csv") == 2
    assert "missing column(s) unit" in capsys.readouterr().err


def test_read_long_csv_keeps_codes_and_blank_values(tmp_path: Path) -> None:
    source = tmp_path / "data.csv"
    source.write_text("\ufeffunit,year,indicator,value,note\n0101,2012,07,,x\n0101,2013,7,2,\n", encoding="utf-8")
    frame = read_index_data(source)
    assert frame["unit"].tolist() == ["0101", "0101"]
    assert frame["year"].tolist() == [2012, 2013]
    assert math.isnan(frame["value"].iloc[0]) and frame["value"].iloc[1] == 2.0


def test_index_output_csv_writes_formula_like_unit_names_as_text(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("unit,year,indicator,value\n=HYPERLINK(x),2020,a,1\n+b,2020,a,2\n-3,2020,a,3\n", encoding="utf-8")
    method = tmp_path / "method.yaml"
    method.write_text("name: t\nroot: idx\nindicators:\n  a: {direction: higher}\ngroups:\n  idx: {children: [a]}\n",
                      encoding="utf-8")
    out = tmp_path / "out.csv"
    assert index_command(data, method, out) == 0
    units = [line.split(",")[0] for line in out.read_text(encoding="utf-8").splitlines()[1:]]
    assert "'=HYPERLINK(x)" in units and "'+b" in units
    assert "-3" in units  # a number stays a number
    assert not any(unit.startswith(("=", "+", "@")) for unit in units)


def _hdi_csv(path: Path, rename: dict[str, str] | None = None, blank: list[tuple[str, str]] = ()) -> Path:
    """The HDI reference data as the long CSV of `sdz index`, with indicators renamed and values blanked."""
    long = _long(pd.read_csv(REFERENCE / "hdi_2021.csv"), "iso3", HDI_LEAVES, 2021)
    long["indicator"] = long["indicator"].replace(rename or {})
    for unit, indicator in blank:
        long.loc[(long["unit"] == unit) & (long["indicator"] == indicator), "value"] = np.nan
    _write_long(path, long)
    return path


def test_index_command_fails_on_a_method_indicator_the_data_lacks(tmp_path: Path, capsys) -> None:
    # Data keyed Life_Expectancy against the method's life_expectancy once gave Afghanistan 0.4107
    # (the HDI of education and income alone) with status 0 and no word.
    data = _hdi_csv(tmp_path / "hdi.csv", rename={"life_expectancy": "Life_Expectancy"})
    out = tmp_path / "scores.csv"
    assert index_command(data, METHODS / "hdi_2021.yaml", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "life_expectancy" in err and "Life_Expectancy, expected_schooling" in err
    assert "did you mean 'Life_Expectancy' for 'life_expectancy'" in err
    assert not out.exists()


def test_index_command_reports_data_indicators_the_method_ignores(tmp_path: Path, capsys) -> None:
    data = tmp_path / "hdi.csv"
    _hdi_csv(data)
    data.write_text(data.read_text(encoding="utf-8") + "AFG,2021,population,40.1\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    assert index_command(data, METHODS / "hdi_2021.yaml", out) == 0
    captured = capsys.readouterr()
    assert "warning: data indicator(s) population are not in the method" in captured.err
    assert "191 unit-years, 191 with a hdi score" in captured.out and "lack some indicator" not in captured.out
    scores = pd.read_csv(out)
    assert scores.query("unit == 'AFG' and node == 'hdi'")["score"].round(3).tolist() == [0.478]


def test_index_command_says_how_many_units_the_half_weight_rule_touched(tmp_path: Path, capsys) -> None:
    # Afghanistan without mean schooling keeps its education index from expected schooling (half of the
    # group's weight); Angola with income alone has no HDI (a third of the weight).
    data = _hdi_csv(tmp_path / "hdi.csv", blank=[("AFG", "mean_schooling"), ("AGO", "life_expectancy"),
                                                 ("AGO", "expected_schooling"), ("AGO", "mean_schooling")])
    out = tmp_path / "scores.csv"
    assert index_command(data, METHODS / "hdi_2021.yaml", out) == 0
    printed = capsys.readouterr().out
    assert "191 unit-years, 190 with a hdi score" in printed
    assert "2 of 191 unit-years (2 unit(s)) lack some indicator: 1 scored from the indicators present" in printed
    assert "1 without a hdi score" in printed
    hdi = pd.read_csv(out).query("node == 'hdi'").set_index("unit")["score"]
    assert "AGO" not in hdi.index and "AFG" in hdi.index
