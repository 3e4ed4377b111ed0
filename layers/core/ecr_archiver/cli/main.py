"""The ``ecr-archiver`` entry point: runs the command group, and turns a bug into one line too."""

from __future__ import annotations

import sys

import click

from ecr_archiver.cli.commands import cli
from ecr_archiver.cli.exit_codes import ExitCode

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="ecr-archiver", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        # A bug, not a user error: still one line, with the traceback only when asked for.
        if "-v" in (argv or sys.argv) or "--verbose" in (argv or sys.argv):
            raise
        click.echo(f"error: unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)", err=True)
        sys.exit(int(ExitCode.UNEXPECTED))
