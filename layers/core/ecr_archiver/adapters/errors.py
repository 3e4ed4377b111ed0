"""Translate botocore ``ClientError`` into the package's domain exceptions, in one table, and
describe the SDK's own failures (credentials, profile, connection) in one line for the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
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


class SdkFailureKind(StrEnum):
    """Why an SDK call never got an answer from AWS (or got a refusal that was not translated)."""

    CONFIGURATION = "configuration"  # unknown profile, no region, a malformed config file
    CREDENTIALS = "credentials"  # no credentials, or expired ones
    CONNECTION = "connection"  # endpoint unreachable, timed out
    REFUSED = "refused"  # AWS answered with an error code


@dataclass(frozen=True)
class SdkFailure:
    kind: SdkFailureKind
    message: str


_CONNECTION_HINT = "check the network, --region and --endpoint-url (is the emulator running?)"


def describe_sdk_failure(exc: BaseException) -> SdkFailure | None:
    """One line (with its fix) for a botocore exception; ``None`` when ``exc`` is not one."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.ClientError):
        translated = translate(exc)
        return SdkFailure(SdkFailureKind.REFUSED, f"{translated.code}: {translated.message}")
    if isinstance(exc, bx.ProfileNotFound | bx.ConfigNotFound | bx.ConfigParseError):
        return SdkFailure(SdkFailureKind.CONFIGURATION, f"{exc} (see `aws configure list-profiles`)")
    if isinstance(exc, bx.NoRegionError):
        return SdkFailure(SdkFailureKind.CONFIGURATION, "no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError | bx.CredentialRetrievalError):
        return SdkFailure(
            SdkFailureKind.CREDENTIALS,
            f"{exc}: configure credentials (`aws configure`, `aws sso login`, or AWS_PROFILE)",
        )
    if isinstance(exc, bx.TokenRetrievalError | bx.SSOError):
        return SdkFailure(SdkFailureKind.CREDENTIALS, f"{exc}: run `aws sso login`")
    if isinstance(exc, bx.EndpointConnectionError | bx.ConnectTimeoutError | bx.ReadTimeoutError):
        return SdkFailure(SdkFailureKind.CONNECTION, f"{exc}: {_CONNECTION_HINT}")
    if isinstance(exc, bx.BotoCoreError):
        return SdkFailure(SdkFailureKind.CONNECTION, f"{type(exc).__name__}: {exc}")
    return None
