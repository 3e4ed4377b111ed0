"""ECR error codes moto does not define, as serializable moto ``ServiceException``s."""

from __future__ import annotations

from moto.core.exceptions import ServiceException


class _EcrError(ServiceException):
    def __init__(self, message: str | None = None) -> None:
        if message is None:
            super().__init__()
        else:
            super().__init__(message)


class ImageStorageClassUpdateNotSupportedException(_EcrError):
    code = "ImageStorageClassUpdateNotSupportedException"
    message = "The requested image storage class update is not supported."


class ImageArchivedException(_EcrError):
    code = "ImageArchivedException"
    message = "The specified image is archived and cannot be scanned."


class ImageDigestDoesNotMatchException(_EcrError):
    code = "ImageDigestDoesNotMatchException"


class LifecyclePolicyPreviewInProgressException(_EcrError):
    code = "LifecyclePolicyPreviewInProgressException"
    message = "The previous lifecycle policy preview request has not completed. Wait and try again."


class LifecyclePolicyPreviewNotFoundException(_EcrError):
    code = "LifecyclePolicyPreviewNotFoundException"
    message = "There is no dry run for this repository."


class ExclusionAlreadyExistsException(_EcrError):
    code = "ExclusionAlreadyExistsException"


class ExclusionNotFoundException(_EcrError):
    code = "ExclusionNotFoundException"


class LimitExceededException(_EcrError):
    code = "LimitExceededException"


class InjectedException(_EcrError):
    """Any error code chosen by fault injection (``ThrottlingException``, ``ServerException``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
