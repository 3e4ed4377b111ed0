"""The emulator and the product never import each other (a parser shared between them would let
a bug in it pass every test)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    paths = sorted((ROOT / package).rglob("*.py"))
    assert paths, f"no sources under {package}"
    return paths


@pytest.mark.parametrize("path", sources("local/ecr_emulator"), ids=lambda p: p.name)
def test_no_emulator_module_imports_the_product(path: Path) -> None:
    offending = {m for m in imported_modules(path) if m == "ecr_archiver" or m.startswith("ecr_archiver.")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


@pytest.mark.parametrize("path", sources("layers/core/ecr_archiver"), ids=lambda p: p.name)
def test_no_product_module_imports_the_emulator(path: Path) -> None:
    offending = {m for m in imported_modules(path) if m == "ecr_emulator" or m.startswith("ecr_emulator.")}
    assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"
