"""What a module of the library imports, read from its source (shared by the import-graph tests)."""

from __future__ import annotations

import ast
from pathlib import Path

import spirit_infra

PACKAGE = Path(spirit_infra.__file__).parent


def imports(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Absolute names of every module ``path`` (under ``root``) imports, at module level or inside a
    function, relative imports resolved; ``from m import x`` gives both ``m`` and ``m.x``."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = list(package[:len(package) - node.level + 1]) if node.level else []
            mod = ".".join([*base, *(node.module.split(".") if node.module else [])])
            out |= {mod} | {f"{mod}.{a.name}" for a in node.names}
    return out


def module_graph(root: Path = PACKAGE.parent, package: str = "spirit_infra") -> dict[str, set[str]]:
    """module -> the library modules it imports (a package's own parents left out: importing a submodule
    always runs them)."""
    mods = {}
    for p in (root / package).rglob("*.py"):
        parts = p.relative_to(root).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    graph = {}
    for name, p in mods.items():
        deps = set()
        for imp in imports(p, root):
            while imp and imp not in mods:
                imp = imp.rpartition(".")[0]
            if imp and imp != name and not name.startswith(imp + "."):
                deps.add(imp)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph``: its strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)
