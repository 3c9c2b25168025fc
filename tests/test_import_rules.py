"""The package's import structure, read from the code: no cycles, and no import up into alerts/.

The lower layer (``crypto``, ``audit``, ``auth``, ``reference``, ``models``, ``kit`` and the
modules ``db``, ``errors``, ``config``) is what every domain builds on; a module there that
imported from ``alerts/`` would make the layer depend on one of its users, and a cycle anywhere
makes modules impossible to understand (or import) one at a time. Every import counts, including
those inside functions and under ``TYPE_CHECKING``: a late import hides a cycle, it does not
remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import exchange_api

PACKAGE = Path(exchange_api.__file__).resolve().parent
NAME = PACKAGE.name
LOWER = ("crypto", "audit", "auth", "reference", "models", "kit", "db", "errors", "config")


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Each module's imports of other modules of the package (by the longest known name)."""
    edges: dict[str, set[str]] = {module: set() for module in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = module.split(".") if is_package else module.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    edges[module].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), except a package whose
    ``__init__`` re-exports its own children."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    return [
        c
        for c in found
        if not all(m.startswith(min(c, key=len) + ".") or m == min(c, key=len) for m in c)
    ]


@pytest.fixture(scope="module")
def edges() -> dict[str, set[str]]:
    modules = {_module_of(path): path for path in PACKAGE.rglob("*.py")}
    return _imports(modules)


def test_the_graph_is_read_from_the_code(edges: dict[str, set[str]]) -> None:
    """A guard for the guard: the reader sees the imports it must judge."""
    assert f"{NAME}.alerts.service" in edges
    assert f"{NAME}.kit.pagination" in edges[f"{NAME}.alerts.service"]
    assert f"{NAME}.errors" in edges[f"{NAME}.kit.pagination"]


def test_no_import_cycle(edges: dict[str, set[str]]) -> None:
    assert _cycles(edges) == []


def test_the_lower_layer_never_imports_from_alerts(edges: dict[str, set[str]]) -> None:
    lower = tuple(f"{NAME}.{name}" for name in LOWER)
    alerts = f"{NAME}.alerts"
    upward = sorted(
        (module, target)
        for module, targets in edges.items()
        if any(module == low or module.startswith(low + ".") for low in lower)
        for target in targets
        if target == alerts or target.startswith(alerts + ".")
    )
    assert upward == []


def test_the_cycle_detector_finds_a_cycle() -> None:
    """The detector itself, on a made-up graph: a two-module cycle and a package re-export."""
    graph = {
        "p.a": {"p.b"},
        "p.b": {"p.a"},
        "p.pkg": {"p.pkg.child"},
        "p.pkg.child": {"p.pkg"},
        "p.c": set(),
    }
    assert _cycles(graph) == [["p.a", "p.b"]]
