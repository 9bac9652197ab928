"""The import contract of the code base, read from the source with ``ast``.

- ``checks`` (the statistics library) imports nothing of ``monitor``.
- No cycles between the units of ``monitor``: its subpackages, and each top-level module
  (``monitor/status.py``, ``monitor/windows.py``, ...) on its own.
- Layers point one way: a unit imports only from its own layer or the layers below::

      cli  api  run  demo          composition: commands, HTTP, the process, the demo
      slack                        notifiers: words and delivery of alert events
      status  report               read models: status, health, history, text, digest
      scans  alerts                the scan pipeline and the alert lifecycle
      sources  config  store       data in, configuration, the state DB
      windows  errors  redact ...  shared basics
      checks                       statistics (a separate package)

Every import counts, wherever it is written (module level, inside a function, under
``TYPE_CHECKING``): a function-local import hides a dependency, it does not remove it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: dict[str, int] = {
    "monitor.cli": 6,
    "monitor.api": 6,
    "monitor.run": 6,
    "monitor.demo": 6,
    "monitor.__main__": 6,
    "monitor.slack": 5,
    "monitor.notifiers": 5,
    "monitor.status": 4,
    "monitor.report": 4,
    "monitor.scans": 3,
    "monitor.alerts": 3,
    "monitor.sources": 2,
    "monitor.config": 2,
    "monitor.store": 2,
    "monitor.datafiles": 2,
    "monitor.views": 1,  # pydantic models of every published JSON shape
    "monitor.dialect": 1,  # SQL that differs between dialects; imports only SQLAlchemy
    "monitor.windows": 1,
    "monitor.errors": 1,
    "monitor.redact": 1,
    "monitor.dburl": 1,
    "monitor": 1,  # monitor/__init__.py: the version
    "checks": 0,
}


def _modules(package: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules("monitor") | _modules("checks")


def _imported(module: str, path: Path) -> set[str]:
    """Every project module ``module`` imports, anywhere in its source."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                keep = len(package) - node.level + (1 if path.name == "__init__.py" else 0)
                base = ".".join(package[:keep] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {n for n in names if n in MODULES}


def unit(module: str) -> str:
    """The subpackage (``monitor.alerts``) or top-level module a module belongs to."""
    parts = module.split(".")
    if parts[0] == "checks":
        return "checks"
    if len(parts) == 1:
        return "monitor"
    return ".".join(parts[:2])


def _edges() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> the module imports that make the edge."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, path in MODULES.items():
        for target in _imported(module, path):
            a, b = unit(module), unit(target)
            if a != b:
                edges[a, b].append(f"{module} -> {target}")
    return edges


EDGES = _edges()


def test_every_unit_has_a_layer() -> None:
    units = {unit(m) for m in MODULES}
    assert sorted(units - LAYERS.keys()) == []


def test_checks_imports_nothing_of_monitor() -> None:
    offending = [how for (a, b), hows in EDGES.items() if a == "checks" for how in hows]
    assert offending == []


@pytest.mark.parametrize(
    ("importer", "imported"), sorted(EDGES), ids=[f"{a}->{b}" for a, b in sorted(EDGES)]
)
def test_imports_point_down_the_layers(importer: str, imported: str) -> None:
    assert LAYERS[importer] >= LAYERS[imported], (
        f"{importer} (layer {LAYERS[importer]}) imports {imported} (layer "
        f"{LAYERS[imported]}): {EDGES[importer, imported]}"
    )


def test_no_cycles_between_units() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in EDGES:
        graph[a].add(b)
    cycles = _cycles(graph)
    described = [
        " -> ".join(cycle) + ": " + "; ".join(EDGES[cycle[0], cycle[1]][:3]) for cycle in cycles
    ]
    assert described == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component that has more than one unit."""
    order: list[str] = []
    seen: set[str] = set()

    def finish(node: str) -> None:
        seen.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in seen:
                finish(nxt)
        order.append(node)

    for node in sorted(list(graph)):
        if node not in seen:
            finish(node)
    reverse: dict[str, set[str]] = defaultdict(set)
    for a, targets in list(graph.items()):
        for b in targets:
            reverse[b].add(a)
    assigned: set[str] = set()
    cycles = []
    for node in reversed(order):
        if node in assigned:
            continue
        component = _reach(node, reverse, assigned)
        if len(component) > 1:
            cycles.append(_cycle_in(sorted(component), graph, set(component)))
    return cycles


def _reach(start: str, graph: dict[str, set[str]], assigned: set[str]) -> list[str]:
    stack, found = [start], []
    assigned.add(start)
    while stack:
        node = stack.pop()
        found.append(node)
        for nxt in graph[node]:
            if nxt not in assigned:
                assigned.add(nxt)
                stack.append(nxt)
    return found


def _cycle_in(component: list[str], graph: dict[str, set[str]], inside: set[str]) -> list[str]:
    """A closed path through the component, starting at its first unit (for the message)."""
    path = [component[0]]
    while True:
        nxt = sorted(graph[path[-1]] & inside)[0]
        if nxt in path:
            return [*path[path.index(nxt) :], nxt]
        path.append(nxt)
