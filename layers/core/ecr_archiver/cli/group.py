"""The ``ecr-archiver`` click group and its global options; command modules register on it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from ecr_archiver.cli.context import CliContext

#: The global options: (attribute on CliContext, option declarations, help).
_GLOBAL_OPTIONS: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    ("region", ("--region",), "AWS region (default: your profile's).", False),
    ("profile", ("--profile",), "Named AWS profile.", False),
    (
        "endpoint_url",
        ("--endpoint-url",),
        "Custom endpoint, e.g. the emulator at http://127.0.0.1:4566 (env AWS_ENDPOINT_URL).",
        False,
    ),
    ("output_json", ("--json",), "Print machine-readable JSON.", True),
    ("verbose", ("-v", "--verbose"), "Show the structured logs (on stderr).", True),
)


def _apply_global(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """Callback of a global option given after the command: it overrides the value before it."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if not value:
            return
        base = ctx.find_object(CliContext)
        if base is None:  # pragma: no cover - the group always installs one
            return
        setattr(base, attribute, value)
        if attribute == "verbose":
            route_logs_to_stderr(True)

    return callback


class GlobalOptionsGroup(click.Group):
    """A group whose global options are accepted before or after the command name.

    ``ecr-archiver plan --region eu-west-1`` and ``ecr-archiver --region eu-west-1 plan`` mean the
    same: each command gets a copy of the global options that writes into the shared context.
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        for attribute, decls, help_text, is_flag in _GLOBAL_OPTIONS:
            cmd.params.append(
                click.Option(
                    decls,
                    is_flag=is_flag,
                    default=None if not is_flag else False,
                    expose_value=False,
                    help=f"{help_text} (global option)",
                    callback=_apply_global(attribute),
                )
            )
        super().add_command(cmd, name)


@click.group(
    cls=GlobalOptionsGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--region", envvar="AWS_REGION", help="AWS region (default: your profile's).")
@click.option("--profile", envvar="AWS_PROFILE", help="Named AWS profile.")
@click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL",
    help="Custom endpoint, e.g. the emulator at http://127.0.0.1:4566 (env AWS_ENDPOINT_URL).",
)
@click.option("--json", "output_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Show the structured logs (on stderr).")
@click.version_option(package_name="ecr-archiver")
@click.pass_context
def cli(
    ctx: click.Context,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    output_json: bool,
    verbose: bool,
) -> None:
    """Archive unused ECR images safely, restore them on demand, sync pull-time exclusions.

    Global options may come before or after the command.
    """
    route_logs_to_stderr(verbose)
    # A caller embedding the CLI (the demo, tests) may hand in a context, e.g. with a wait clock.
    base = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
    base.region = region or base.region
    base.profile = profile or base.profile
    base.endpoint_url = endpoint_url or base.endpoint_url
    base.output_json = output_json or base.output_json
    base.verbose = verbose or base.verbose
    ctx.obj = base


def route_logs_to_stderr(verbose: bool) -> None:
    """The logic logs JSON lines for CloudWatch; on a terminal they go to stderr, quiet by default."""
    import logging

    from ecr_archiver.observability import logger

    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
