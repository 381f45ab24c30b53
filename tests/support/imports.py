"""The package's own import graph, read from its source (imports inside functions included).

`module_imports()` maps each module of `oairun_jupyter` to the package modules it imports, with
the line of each import and whether it sits inside a function; `cycles()` finds the circles.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "oairun_jupyter"


@dataclass(frozen=True)
class Import:
    """One import of a package module by another."""

    source: str
    target: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {_module_name(path): path for path in sorted((SRC / PACKAGE).rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, name: str | None) -> str:
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    if level:
        base = base[:len(base) - (level - 1)]
    return ".".join(base + (name.split(".") if name else [])) if level else (name or "")


class _Visitor(ast.NodeVisitor):
    def __init__(self, importer: str, is_package: bool, known: set[str]) -> None:
        self.importer, self.is_package, self.known = importer, is_package, known
        self.found: list[Import] = []
        self.depth = 0

    def _add(self, target: str, node: ast.AST) -> None:
        # `from .a import b` is an import of module a.b when that is a module, else of a
        if target in self.known:
            self.found.append(Import(self.importer, target, node.lineno, self.depth > 0))

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(self.importer, self.is_package, node.level, node.module)
        for alias in node.names:
            child = f"{base}.{alias.name}"
            self._add(child if child in self.known else base, node)


def module_imports() -> list[Import]:
    """Every import of a package module by a package module."""
    known = modules()
    found: list[Import] = []
    for name, path in known.items():
        visitor = _Visitor(name, path.name == "__init__.py", set(known))
        visitor.visit(ast.parse(path.read_text(), str(path)))
        found += visitor.found
    return found


def cycles(imports: list[Import]) -> list[list[str]]:
    """The strongly connected groups of more than one module (or a module importing itself)."""
    graph: dict[str, set[str]] = {}
    for item in imports:
        graph.setdefault(item.source, set()).add(item.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups
