"""Read a config file's YAML without trusting its shape.

``yaml.safe_load`` builds no objects, but it still accepts three things a config must not
have: an alias bomb ("billion laughs": a few lines whose aliases expand to billions of values,
which every later walk of the tree expands again), nesting deep enough to overflow Python's
stack, and a key given twice (the last one silently wins, so ``models:`` twice drops models).
One pass over the parser's events, which keeps its own stack and never recurses, refuses
those with the line and key path before anything is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from monitor.errors import ConfigError

#: expanded values (scalars, lists, mappings) a file may hold once aliases are followed
MAX_VALUES = 1_000_000
#: nesting of lists and mappings; a real config needs fewer than ten levels
MAX_DEPTH = 64
MERGE_KEY = "<<"
#: libyaml's parser when PyYAML was built with it: the same events and documents, ~10x faster
#: than the pure-Python one, which cost most of a second per CLI call on a 20-model config
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class _Frame:
    """One open list or mapping: where it is, how many values it holds, the keys seen."""

    path: str
    is_mapping: bool
    anchor: str | None
    size: int = 1
    index: int = 0
    expect_key: bool = True
    key: str = ""
    keys: dict[str, int] = field(default_factory=dict)  # key -> line of its first use


def load_yaml(text: str, *, file: str) -> Any:
    """The parsed document of ``text``; a shape problem raises ``ConfigError`` with the line."""
    try:
        loader = LOADER
        try:
            _check(text, file, loader)
        except yaml.YAMLError:
            # libyaml words some errors differently (and has its own nesting limit): a file it
            # refuses goes through the pure-Python parser, so errors read as they always have.
            loader = yaml.SafeLoader
            _check(text, file, loader)
        return yaml.load(text, Loader=loader) or {}  # both loaders are safe loaders
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{file}:{where}: {problem}") from None


def _check(text: str, file: str, loader: type[yaml.SafeLoader]) -> None:
    stack: list[_Frame] = []
    anchors: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.CollectionEndEvent):
            done = stack.pop()
            if done.anchor:
                anchors[done.anchor] = done.size
            if stack:
                stack[-1].size += done.size
                _advance(stack[-1])
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue  # stream and document boundaries
        path = _child_path(stack, event, file, line)
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                where = path[:40] + "..." if len(path) > 40 else path or "(top level)"
                raise ConfigError(f"{file}: line {line}: {where}: nested deeper than {MAX_DEPTH}")
            stack.append(_Frame(path, isinstance(event, yaml.MappingStartEvent), event.anchor))
            total += 1
            continue
        size = anchors.get(event.anchor or "", 1) if isinstance(event, yaml.AliasEvent) else 1
        if isinstance(event, yaml.ScalarEvent) and event.anchor:
            anchors[event.anchor] = 1
        total += size
        if total > MAX_VALUES:
            where = path or "(top level)"
            raise ConfigError(
                f"{file}: line {line}: {where}: aliases expand the file to more than "
                f"{MAX_VALUES:,} values; write the values out instead of nesting aliases"
            )
        if stack:
            stack[-1].size += size
            _advance(stack[-1])


def _child_path(stack: list[_Frame], event: Any, file: str, line: int) -> str:
    """The key path of the node ``event`` starts; records (and checks) mapping keys."""
    if not stack:
        return ""
    parent = stack[-1]
    if not parent.is_mapping:
        return f"{parent.path}[{parent.index}]"
    if not parent.expect_key:
        return _join(parent.path, parent.key)
    parent.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
    path = _join(parent.path, parent.key)
    if isinstance(event, yaml.ScalarEvent) and parent.key != MERGE_KEY:
        if parent.key in parent.keys:
            first = parent.keys[parent.key]
            raise ConfigError(f"{file}: line {line}: {path}: duplicate key (first at line {first})")
        parent.keys[parent.key] = line
    return path


def _advance(frame: _Frame) -> None:
    """A child of ``frame`` is complete: the next one is a key, a value or a list item."""
    if frame.is_mapping:
        frame.expect_key = not frame.expect_key
    else:
        frame.index += 1


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
