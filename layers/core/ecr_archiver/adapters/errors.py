"""Translate botocore ``ClientError`` into the package's domain exceptions, in one table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ecr_archiver import errors

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

_BY_CODE: dict[str, type[errors.EcrArchiverError]] = {
    "RepositoryNotFoundException": errors.RepositoryNotFound,
    "ImageNotFoundException": errors.ImageNotFound,
    "ImageStorageClassUpdateNotSupportedException": errors.StorageClassUpdateNotSupported,
    "LifecyclePolicyNotFoundException": errors.LifecyclePolicyNotFound,
    "LifecyclePolicyPreviewInProgressException": errors.PreviewInProgress,
    "LifecyclePolicyPreviewNotFoundException": errors.PreviewNotFound,
    "ExclusionAlreadyExistsException": errors.ExclusionAlreadyExists,
    "ExclusionNotFoundException": errors.ExclusionNotFound,
    "LimitExceededException": errors.LimitExceeded,
    "InvalidParameterException": errors.InvalidParameter,
    "ValidationException": errors.InvalidParameter,
    "ThrottlingException": errors.Throttled,
    "ThrottledException": errors.Throttled,
    "TooManyRequestsException": errors.Throttled,
    "RequestLimitExceeded": errors.Throttled,
}


def translate(exc: ClientError) -> errors.EcrArchiverError:
    """The domain exception for a ``ClientError`` (``AwsServiceError`` when unmapped)."""
    err = exc.response.get("Error", {})
    code = str(err.get("Code", "Unknown"))
    message = str(err.get("Message", "")) or code
    cls = _BY_CODE.get(code, errors.AwsServiceError)
    return cls(message, code=code)


@contextmanager
def aws_errors() -> Iterator[None]:
    """``with aws_errors(): client.call(...)`` re-raises ClientError as a domain error."""
    try:
        yield
    except Exception as exc:
        # botocore is imported here, not at module import (cold start); by the time a call has
        # failed, the SDK is loaded anyway.
        from botocore.exceptions import ClientError

        if isinstance(exc, ClientError):
            raise translate(exc) from exc
        raise
