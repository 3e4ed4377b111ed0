"""Command output: JSON or tables, on consoles terminal-wide on a terminal, never wrapped in a pipe.

Rich falls back to 80 columns when the output is not a terminal, which splits repository names
and ARNs mid-word in CI logs and in ``| grep``. Off a terminal these consoles are as wide as the
content needs, whatever ``COLUMNS`` says (CI runners and pytest-xdist set it to 80).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console, ConsoleDimensions

from ecr_archiver.cli.context import CliContext

#: Off a terminal: wide enough that no table of ours wraps (a repository name is at most 256).
UNWRAPPED_WIDTH = 10_000


class CliConsole(Console):
    """A rich ``Console`` that does not wrap when writing to a pipe or a file."""

    @property
    def size(self) -> ConsoleDimensions:
        if self.is_terminal:
            return super().size
        return ConsoleDimensions(UNWRAPPED_WIDTH, super().size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


def stdout_console() -> Console:
    return CliConsole()


def stderr_console() -> Console:
    return CliConsole(stderr=True)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - loop always returns


def emit(ctx: CliContext, payload: Any, render: Callable[[], None]) -> None:
    """JSON on stdout with ``--json``, else the rich rendering."""
    if ctx.output_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        render()
