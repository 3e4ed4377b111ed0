"""The one place errors become a line on stderr and an exit code."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from ecr_archiver import errors
from ecr_archiver.adapters.errors import SdkFailureKind, describe_sdk_failure
from ecr_archiver.cli.exit_codes import ExitCode


class CliFailure(click.ClickException):
    """A user-facing failure: one line on stderr, a meaningful exit code, no traceback."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = int(exit_code)

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str, exit_code: ExitCode = ExitCode.INVALID) -> NoReturn:
    raise CliFailure(message, exit_code)


def _exit_code_for(exc: errors.EcrArchiverError) -> ExitCode:
    if isinstance(exc, errors.ConfigInvalid | errors.SettingsInvalid | errors.InvalidParameter):
        return ExitCode.INVALID
    return ExitCode.AWS


_EXIT_BY_SDK_FAILURE = {
    SdkFailureKind.CONFIGURATION: ExitCode.INVALID,
    SdkFailureKind.CREDENTIALS: ExitCode.AWS,
    SdkFailureKind.CONNECTION: ExitCode.AWS,
    SdkFailureKind.REFUSED: ExitCode.AWS,
}


def failure_for(exc: Exception) -> CliFailure | None:
    """The one-line failure for an error a user can fix; ``None`` for a genuine bug."""
    if isinstance(exc, errors.EcrArchiverError):
        return CliFailure(f"{exc.code}: {exc.message}", _exit_code_for(exc))
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = errors.dotted_path(first["loc"], "input")
        value = first.get("input")
        shown = f" {value!r}" if isinstance(value, str | int) else ""
        return CliFailure(f"invalid {where}{shown}: {first['msg']}", ExitCode.INVALID)
    if isinstance(exc, ValueError):
        return CliFailure(str(exc), ExitCode.INVALID)
    sdk = describe_sdk_failure(exc)
    if sdk is not None:
        return CliFailure(sdk.message, _EXIT_BY_SDK_FAILURE[sdk.kind])
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return CliFailure(f"{where}{exc.strerror or exc}", ExitCode.INVALID)
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


def exit_with(code: ExitCode) -> NoReturn:
    """End the command with ``code`` after its output and messages are written."""
    raise SystemExit(int(code))
