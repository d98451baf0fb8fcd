"""Method files of the composite index (README: "The composite index"): parsed and validated into a tree.

A *method* describes a composite index as a tree: leaves are indicators (normalised to [0, 1] by
goalposts, optionally after a log transform), groups are weighted arithmetic or geometric means of
their children, and the root group is the index. `pipelines.index.engine` evaluates it.

Public API
    MethodError                     a bad method file (a ValueError with a one-line message)
    Leaf, Group, Method             the parsed, validated method (frozen dataclasses)
    load_method(source)             parse and validate a YAML file or an already-parsed mapping
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DIRECTIONS = ("higher", "lower")
TRANSFORMS = ("none", "ln", "log10")
AGGREGATES = ("arithmetic", "geometric")

_METHOD_KEYS = ("name", "scale", "root", "indicators", "groups")
_LEAF_KEYS = ("direction", "transform", "min", "max", "clip")
_GROUP_KEYS = ("children", "weights", "aggregate")


class MethodError(ValueError):
    """A method file (or a value it cannot handle) is invalid; the message names the entry."""


@dataclass(frozen=True)
class Leaf:
    """An indicator of a method: how its values become a normalised score."""

    key: str
    direction: str
    transform: str = "none"
    min: float | None = None
    max: float | None = None
    clip: bool = True


@dataclass(frozen=True)
class Group:
    """A node that aggregates its children (leaves or groups) with non-negative weights."""

    key: str
    children: tuple[str, ...]
    weights: tuple[float, ...]
    aggregate: str = "arithmetic"


@dataclass(frozen=True)
class Method:
    """A validated method file: leaves, groups, the root group and the output scale."""

    name: str
    scale: float
    root: str
    indicators: dict[str, Leaf]
    groups: dict[str, Group]

    def evaluation_order(self) -> tuple[str, ...]:
        """Groups reachable from the root, every group after all of its child groups."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(key: str) -> None:
            seen.add(key)
            for child in self.groups[key].children:
                if child in self.groups and child not in seen:
                    visit(child)
            order.append(key)

        visit(self.root)
        return tuple(order)


# --------------------------------------------------------------------------------------------
# Loading and validating method files
# --------------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (plain YAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: let the normal constructor report it
            continue
        if duplicate:
            raise MethodError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_method(source: Path | str | Mapping[str, Any]) -> Method:
    """Parse and validate a method (README: "The composite index").

    ``source`` is a YAML file (a ``Path`` or a path string) or an already-parsed mapping. Every
    leaf and group is validated, also those not reachable from the root. Raises ``MethodError``
    whose one-line message names the offending entry, e.g. ``groups.economy.children: unknown
    child '17'``; for a file the message starts with its path.
    """
    if isinstance(source, Mapping):
        return _parse_method(source)
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MethodError(f"{path}: cannot read method file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise MethodError(f"{path}: method file is not UTF-8 text") from exc
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
        return _parse_method(raw)
    except MethodError as exc:
        raise MethodError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MethodError(f"{path}: {where}not valid YAML ({problem})") from exc


def _check_keys(where: str, spec: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in spec:
        if key not in allowed:
            raise MethodError(f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})")


def _node_key(where: str, key: Any) -> str:
    # YAML reads an unquoted 7 as an integer; indicator ids are compared as strings.
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise MethodError(f"{where}: name {key!r} must be a string or an integer")
    text = str(key)
    if not text.strip():
        raise MethodError(f"{where}: empty name")
    return text


def _number(where: str, value: Any) -> float:
    # bool is an int subclass; `min: yes` is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MethodError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _choice(where: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        options = " or ".join(repr(a) for a in allowed)
        raise MethodError(f"{where}: must be {options}, got {value!r}")
    return value


def _parse_method(raw: Any) -> Method:
    if not isinstance(raw, Mapping):
        raise MethodError("method: expected a mapping with name, scale, root, indicators and groups")
    _check_keys("method", raw, _METHOD_KEYS)
    for required in ("name", "root", "indicators", "groups"):
        if required not in raw:
            raise MethodError(f"method: missing key {required!r}")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise MethodError(f"name: expected a non-empty string, got {name!r}")
    scale = _number("scale", raw.get("scale", 1))
    if scale <= 0:
        raise MethodError(f"scale: must be positive, got {raw.get('scale')!r}")

    indicators_raw = raw["indicators"]
    if not isinstance(indicators_raw, Mapping) or not indicators_raw:
        raise MethodError("indicators: expected a non-empty mapping of indicator name to settings")
    leaves: dict[str, Leaf] = {}
    for raw_key, spec in indicators_raw.items():
        key = _node_key("indicators", raw_key)
        if key in leaves:
            raise MethodError(f"indicators: duplicate indicator {key!r}")
        leaves[key] = _parse_leaf(key, spec)

    groups_raw = raw["groups"]
    if not isinstance(groups_raw, Mapping) or not groups_raw:
        raise MethodError("groups: expected a non-empty mapping of group name to settings")
    groups: dict[str, Group] = {}
    for raw_key, spec in groups_raw.items():
        key = _node_key("groups", raw_key)
        if key in groups:
            raise MethodError(f"groups: duplicate group {key!r}")
        if key in leaves:
            # One name, two nodes: the output's `node` column could not tell them apart.
            raise MethodError(f"groups.{key}: name already used by an indicator")
        groups[key] = _parse_group(key, spec)

    for group in groups.values():
        for child in group.children:
            if child not in leaves and child not in groups:
                raise MethodError(f"groups.{group.key}.children: unknown child {child!r}")

    root = raw["root"]
    if isinstance(root, bool) or not isinstance(root, int | str):
        raise MethodError(f"root: expected a group name, got {root!r}")
    root = str(root)
    if root not in groups:
        if root in leaves:
            raise MethodError(f"root: {root!r} is an indicator; the root must be a group")
        raise MethodError(f"root: unknown group {root!r}")

    _check_cycles(groups, root)
    return Method(name=name, scale=scale, root=root, indicators=leaves, groups=groups)


def _parse_leaf(key: str, spec: Any) -> Leaf:
    where = f"indicators.{key}"
    if not isinstance(spec, Mapping):
        raise MethodError(f"{where}: expected a mapping with direction (and transform, min, max, clip)")
    _check_keys(where, spec, _LEAF_KEYS)
    if "direction" not in spec:
        raise MethodError(f"{where}.direction: missing ('higher' or 'lower')")
    direction = _choice(f"{where}.direction", spec["direction"], DIRECTIONS)
    transform = _choice(f"{where}.transform", spec.get("transform", "none"), TRANSFORMS)
    low = None if spec.get("min") is None else _number(f"{where}.min", spec["min"])
    high = None if spec.get("max") is None else _number(f"{where}.max", spec["max"])
    clip = spec.get("clip", True)
    if not isinstance(clip, bool):
        raise MethodError(f"{where}.clip: must be true or false, got {clip!r}")
    if transform != "none":
        for bound, raw_bound in ((low, spec.get("min")), (high, spec.get("max"))):
            if bound is not None and bound <= 0:
                raise MethodError(f"{where}: transform {transform} of non-positive goalpost {raw_bound!r}")
    if low is not None and high is not None and low >= high:
        raise MethodError(f"{where}: min {spec['min']!r} >= max {spec['max']!r}")
    return Leaf(key=key, direction=direction, transform=transform, min=low, max=high, clip=clip)


def _parse_group(key: str, spec: Any) -> Group:
    where = f"groups.{key}"
    if not isinstance(spec, Mapping):
        raise MethodError(f"{where}: expected a mapping with children (and weights, aggregate)")
    _check_keys(where, spec, _GROUP_KEYS)
    children_raw = spec.get("children")
    if not isinstance(children_raw, list) or not children_raw:
        raise MethodError(f"{where}.children: expected a non-empty list, got {children_raw!r}")
    children = tuple(_node_key(f"{where}.children", child) for child in children_raw)
    for i, child in enumerate(children):
        if child in children[:i]:
            raise MethodError(f"{where}.children: duplicate child {child!r}")

    weights_raw = spec.get("weights")
    if weights_raw is None:
        weights = tuple(1.0 for _ in children)
    else:
        if not isinstance(weights_raw, list):
            raise MethodError(f"{where}.weights: expected a list, got {weights_raw!r}")
        if len(weights_raw) != len(children):
            raise MethodError(f"{where}.weights: {len(weights_raw)} weights for {len(children)} children")
        weights = tuple(_number(f"{where}.weights", w) for w in weights_raw)
        for w, raw_w in zip(weights, weights_raw, strict=True):
            if w < 0:
                raise MethodError(f"{where}.weights: negative weight {raw_w!r}")
        if sum(weights) <= 0:
            raise MethodError(f"{where}.weights: the weights sum to 0; at least one must be positive")
    aggregate = _choice(f"{where}.aggregate", spec.get("aggregate", "arithmetic"), AGGREGATES)
    return Group(key=key, children=children, weights=weights, aggregate=aggregate)


def _check_cycles(groups: dict[str, Group], root: str) -> None:
    # Depth-first search from the root first, so a cycle through the root is reported from it;
    # then from every other group, since unreachable groups are validated too.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(key: str) -> None:
        state[key] = 1
        path.append(key)
        for child in groups[key].children:
            if child not in groups:
                continue
            if state.get(child) == 1:
                cycle = [*path[path.index(child) :], child]
                raise MethodError(f"groups.{child}: cycle {' -> '.join(cycle)}")
            if child not in state:
                visit(child)
        path.pop()
        state[key] = 2

    for start in (root, *groups):
        if start not in state:
            visit(start)
