"""Domain exceptions.

Adapters translate botocore ``ClientError`` codes into these; logic raises them; exactly one
place per entry point (HTTP resolver, batch processor, CLI) maps them to a response.
"""

from __future__ import annotations


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
