"""Domain exceptions.

Adapters translate botocore ``ClientError`` codes into these; logic raises them; exactly one
place per entry point (HTTP resolver, batch processor, CLI) maps them to a response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic import ValidationError


class EcrArchiverError(Exception):
    """Base of every error this package raises on purpose."""

    code = "EcrArchiverError"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class SettingsInvalid(EcrArchiverError):
    """A function's environment does not satisfy its settings model."""

    code = "SettingsInvalid"


class ConfigInvalid(EcrArchiverError):
    """A user-supplied configuration (SSM value, file, policy) is invalid."""

    code = "ConfigInvalid"


class LifecyclePolicyInvalid(ConfigInvalid):
    """A lifecycle policy ECR would reject."""

    code = "LifecyclePolicyInvalid"


class RepositoryNotFound(EcrArchiverError):
    code = "RepositoryNotFoundException"


class ImageNotFound(EcrArchiverError):
    code = "ImageNotFoundException"


class StorageClassUpdateNotSupported(EcrArchiverError):
    """ECR refused the storage-class change (already archived, activating, index child, ...)."""

    code = "ImageStorageClassUpdateNotSupportedException"


class LifecyclePolicyNotFound(EcrArchiverError):
    code = "LifecyclePolicyNotFoundException"


class PreviewInProgress(EcrArchiverError):
    code = "LifecyclePolicyPreviewInProgressException"


class PreviewNotFound(EcrArchiverError):
    code = "LifecyclePolicyPreviewNotFoundException"


class ExclusionAlreadyExists(EcrArchiverError):
    code = "ExclusionAlreadyExistsException"


class ExclusionNotFound(EcrArchiverError):
    code = "ExclusionNotFoundException"


class LimitExceeded(EcrArchiverError):
    code = "LimitExceededException"


class InvalidParameter(EcrArchiverError):
    code = "InvalidParameterException"


class Throttled(EcrArchiverError):
    """Throttling that survived botocore's own retries."""

    code = "ThrottlingException"


class AwsServiceError(EcrArchiverError):
    """Any other AWS error: server faults after retries, access denied, validation."""


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as a reader of a document writes it: ``repositories[0].include``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def dotted_path(loc: Sequence[int | str], default: str = "") -> str:
    """A pydantic error location joined with dots (``detail.containers.0.image``); ``default`` if empty."""
    return ".".join(str(part) for part in loc) or default


def validation_problems(exc: ValidationError) -> str:
    """Every problem of ``exc`` on one line: ``a.b: msg; c[0]: msg``."""
    return "; ".join(f"{field_path(err['loc'])}: {err['msg']}" for err in exc.errors())
