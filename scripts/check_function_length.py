"""Fail when a function or method is longer than the limit (default 60 lines).

A function's length runs from its ``def`` line through its last line; decorators do not count.
``--allow NAME`` accepts one known offender by its (qualified or bare) name; an allowance that
matches no offender is stale and fails too, so the list shrinks as the debt is paid.

``python scripts/check_function_length.py [--max 60] [--allow NAME]... [PATH ...]``
(default paths: ``layers/core/ecr_archiver`` and ``functions``).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATHS = ("layers/core/ecr_archiver", "functions")
DEFAULT_MAX = 60

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Function:
    path: Path
    line: int
    qualname: str
    lines: int

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


def _functions(tree: ast.AST, path: Path, prefix: str = "") -> Iterator[Function]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, FunctionNode):
            qualname = f"{prefix}{node.name}"
            end = node.end_lineno or node.lineno
            yield Function(path, node.lineno, qualname, end - node.lineno + 1)
            yield from _functions(node, path, f"{qualname}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, path, f"{prefix}{node.name}.")
        else:
            yield from _functions(node, path, prefix)


def python_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        elif path.suffix == ".py":
            yield path


def functions_in(paths: Sequence[Path]) -> Iterator[Function]:
    for path in python_files(paths):
        yield from _functions(ast.parse(path.read_text(), filename=str(path)), path)


def _allowed(function: Function, allow: set[str]) -> str | None:
    for name in (function.qualname, function.name):
        if name in allow:
            return name
    return None


def check(paths: Sequence[Path], *, limit: int, allow: Sequence[str]) -> list[str]:
    """One line per problem: each offender not allowed, and each stale allowance."""
    allowances = set(allow)
    used: set[str] = set()
    problems: list[str] = []
    for function in functions_in(paths):
        if function.lines <= limit:
            continue
        matched = _allowed(function, allowances)
        if matched is not None:
            used.add(matched)
            continue
        problems.append(f"{function.path}:{function.line} {function.qualname} {function.lines} lines")
    problems += [
        f"stale allowance: --allow {name} (no function by that name is over {limit} lines)"
        for name in sorted(allowances - used)
    ]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="check_function_length.py", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help=f"default: {' '.join(DEFAULT_PATHS)}")
    parser.add_argument("--max", type=int, default=DEFAULT_MAX, help="most lines a function may have")
    parser.add_argument(
        "--allow", action="append", default=[], metavar="NAME", help="a known offender (repeatable)"
    )
    args = parser.parse_args(argv)
    paths = args.paths or [Path(p) for p in DEFAULT_PATHS]
    problems = check(paths, limit=args.max, allow=args.allow)
    for problem in problems:
        print(problem)
    if problems:
        print(f"functions must be at most {args.max} lines (def line through last line)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
