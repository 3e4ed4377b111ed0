"""The import rules of CONTRIBUTING.md, read from the sources with ``ast``.

One direction: handler → capability → adapter. The product never imports the emulator, the
harness or a handler; the emulator never imports the product; boto3 and botocore live in
``ecr_archiver/adapters/``; and the package's modules import one another without cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "ecr_archiver"
EMULATOR = ROOT / "local" / "ecr_emulator"


def sources(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.rglob("*.py")) if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved against ``path``."""
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(path: Path, *, type_checking: bool = True) -> Iterator[tuple[int, str]]:
    """``(line, module)`` for every import in ``path``; ``from m import n`` yields ``m`` and ``m.n``
    (``n`` may be a submodule). Without ``type_checking``, imports under ``if TYPE_CHECKING:``
    are left out."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, path)
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def offenders(paths: Iterator[Path], forbidden: tuple[str, ...]) -> list[str]:
    """``path:line imports module`` for each import of a top-level package in ``forbidden``."""
    found = {
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in paths
        for line, module in imported_modules(path)
        if module.split(".")[0] in forbidden
    }
    return sorted(found)


def test_the_emulator_never_imports_the_product():
    assert offenders(sources(EMULATOR), ("ecr_archiver", "ecr_harness")) == []


def test_the_product_never_imports_the_emulator_or_the_harness():
    assert offenders(sources(PACKAGE), ("ecr_emulator", "ecr_harness")) == []


def test_the_product_never_imports_a_handler():
    assert offenders(sources(PACKAGE), ("functions", "app")) == []


def test_boto3_and_botocore_are_imported_only_by_adapters():
    outside = (path for path in sources(PACKAGE) if path.relative_to(PACKAGE).parts[0] != "adapters")
    assert offenders(outside, ("boto3", "botocore")) == []


def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (``TYPE_CHECKING`` imports left out). A module's
    own parent packages are left out too: Python has imported them before the module runs."""
    modules = {module_name(p): p for p in sources(PACKAGE)}
    return {
        name: {
            m
            for _, m in imported_modules(path, type_checking=False)
            if m in modules and m != name and not name.startswith(f"{m}.")
        }
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """Each strongly connected component of more than one module (Tarjan), as a sorted tuple."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [("a", "b", "c")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_has_no_import_cycles():
    assert cycles(import_graph()) == []
