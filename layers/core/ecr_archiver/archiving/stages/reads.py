"""A read of the preview or of DescribeImages that failed, told apart from every other error."""

from __future__ import annotations

from collections.abc import Callable

from ecr_archiver.errors import EcrArchiverError


class ReadFailed(Exception):
    """A preview or DescribeImages read failed after the SDK's retries, before its page was handled."""

    def __init__(self, error: EcrArchiverError) -> None:
        super().__init__(error.message)
        self.error = error


def read[T](call: Callable[[], T]) -> T:
    """``call()``, its :class:`EcrArchiverError` raised as :class:`ReadFailed`."""
    try:
        return call()
    except EcrArchiverError as exc:
        raise ReadFailed(exc) from exc
