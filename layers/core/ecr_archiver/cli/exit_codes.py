"""The CLI's exit codes, in one place: every command exits with one of these."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means (the package docstring lists them for users)."""

    OK = 0
    #: A bug: an error the CLI has no clear line for (the traceback shows with ``-v``).
    UNEXPECTED = 1
    #: The user answered no at a confirmation prompt; nothing was changed.
    ABORTED = 1
    #: A bad flag, a missing argument or conflicting options (click's own usage errors exit 2 too).
    USAGE = 2
    #: Invalid configuration or input, or a FAIL line in ``doctor``.
    INVALID = 3
    #: AWS refused: not found, not supported, access denied, or unreachable.
    AWS = 4
    #: Some images (or previews) failed while the others succeeded.
    PARTIAL = 5
    #: Gave up waiting (previews, restores).
    TIMEOUT = 6
    #: Restores are running but were not waited for (``ensure-active`` without ``--wait``).
    PENDING = 7
