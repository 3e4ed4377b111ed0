"""Click command group, global options and the one place errors become exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from ecr_archiver import errors
from ecr_archiver.adapters.errors import SdkFailureKind, describe_sdk_failure
from ecr_archiver.cli.context import CliContext

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_AWS = 4
EXIT_PARTIAL = 5
EXIT_TIMEOUT = 6
EXIT_PENDING = 7


class CliFailure(click.ClickException):
    """A user-facing failure: one line on stderr, a meaningful exit code, no traceback."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str, exit_code: int = EXIT_INVALID) -> NoReturn:
    raise CliFailure(message, exit_code)


def _exit_code_for(exc: errors.EcrArchiverError) -> int:
    if isinstance(exc, errors.ConfigInvalid | errors.SettingsInvalid | errors.InvalidParameter):
        return EXIT_INVALID
    return EXIT_AWS


_EXIT_BY_SDK_FAILURE = {
    SdkFailureKind.CONFIGURATION: EXIT_INVALID,
    SdkFailureKind.CREDENTIALS: EXIT_AWS,
    SdkFailureKind.CONNECTION: EXIT_AWS,
    SdkFailureKind.REFUSED: EXIT_AWS,
}


def failure_for(exc: Exception) -> CliFailure | None:
    """The one-line failure for an error a user can fix; ``None`` for a genuine bug."""
    if isinstance(exc, errors.EcrArchiverError):
        return CliFailure(f"{exc.code}: {exc.message}", _exit_code_for(exc))
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "input"
        value = first.get("input")
        shown = f" {value!r}" if isinstance(value, str | int) else ""
        return CliFailure(f"invalid {where}{shown}: {first['msg']}", EXIT_INVALID)
    if isinstance(exc, ValueError):
        return CliFailure(str(exc), EXIT_INVALID)
    sdk = describe_sdk_failure(exc)
    if sdk is not None:
        return CliFailure(sdk.message, _EXIT_BY_SDK_FAILURE[sdk.kind])
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return CliFailure(f"{where}{exc.strerror or exc}", EXIT_INVALID)
    return None


def user_errors[F: Callable[..., Any]](func: F) -> F:
    """Map domain, validation, SDK and OS errors to one clear line and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as exc:
            failure = failure_for(exc)
            if failure is None:
                raise
            raise failure from None

    return wrapper  # type: ignore[return-value]


def emit(ctx: CliContext, payload: Any, render: Callable[[], None]) -> None:
    """JSON on stdout with ``--json``, else the rich rendering."""
    if ctx.output_json:
        click.echo(json.dumps(payload, indent=2, default=str))
    else:
        render()


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
            _route_logs_to_stderr(True)

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
    _route_logs_to_stderr(verbose)
    # A caller embedding the CLI (the demo, tests) may hand in a context, e.g. with a wait clock.
    base = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
    base.region = region or base.region
    base.profile = profile or base.profile
    base.endpoint_url = endpoint_url or base.endpoint_url
    base.output_json = output_json or base.output_json
    base.verbose = verbose or base.verbose
    ctx.obj = base


def _route_logs_to_stderr(verbose: bool) -> None:
    """The logic logs JSON lines for CloudWatch; on a terminal they go to stderr, quiet by default."""
    import logging

    from ecr_archiver.observability import logger

    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


def main(argv: list[str] | None = None) -> None:
    from ecr_archiver.cli import commands  # noqa: F401 - registers the commands on ``cli``

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
        sys.exit(EXIT_UNEXPECTED)
