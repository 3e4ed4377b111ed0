"""Restore an archived image (and its archived referrers), or report an image's storage status.

A restore is asynchronous: UpdateImageStorageClass to STANDARD returns ``ACTIVATING`` and ECR
finishes within about 20 minutes. So ``restore_image`` starts the restore and reports; it never
waits. It is idempotent: an image already ``ACTIVATING`` or ``ACTIVE`` is reported, not touched.
The allow-list is checked before any ECR call, so a refused request never reaches ECR.

``restore_described`` is the same decision for an image the caller has already described (the
automatic restore and ``ensure-active`` describe first to decide whether to restore at all); it
also says whether this call started the restore, as opposed to finding one already running.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ecr_archiver.errors import EcrArchiverError, StorageClassUpdateNotSupported
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus
from ecr_archiver.observability import MetricUnit, logger, metrics, tracer
from ecr_archiver.restore.errors import RepositoryNotAllowed
from ecr_archiver.restore.models import (
    ImageQuery,
    ImageStatusResponse,
    ReferrerStatus,
    RepositoryAllowList,
    RestoreRequest,
    RestoreResponse,
)

STANDARD = "STANDARD"


class ImageRegistry(Protocol):
    """The ECR operations a restore needs (``ecr_archiver.adapters.ecr.EcrRegistry`` in production)."""

    def describe_image(self, ref: ImageRef) -> ImageDetail: ...

    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus: ...

    def list_referrers(
        self,
        repository: str,
        subject_digest: str,
        *,
        status: str = ...,
        artifact_types: list[str] | None = ...,
    ) -> Iterator[dict[str, Any]]: ...


def _check_allowed(repository: str, allowed: RepositoryAllowList) -> None:
    if not allowed.permits(repository):
        raise RepositoryNotAllowed(f"repository {repository!r} is not in the restore allow-list")


@tracer.capture_method(capture_response=False)
def describe_image_status(
    query: ImageQuery, *, registry: ImageRegistry, allowed: RepositoryAllowList
) -> ImageStatusResponse:
    """Status of one image by tag or digest, whether ACTIVE, ARCHIVED or ACTIVATING."""
    _check_allowed(query.repository, allowed)
    return ImageStatusResponse.from_detail(registry.describe_image(query.image_ref()))


@dataclass(frozen=True)
class RestoreOutcome:
    """What ``restore_described`` did: the answer, and whether this call started the image's restore."""

    response: RestoreResponse
    started: bool


@tracer.capture_method(capture_response=False)
def restore_image(
    request: RestoreRequest, *, registry: ImageRegistry, allowed: RepositoryAllowList
) -> RestoreResponse:
    """Start restoring an ARCHIVED image; report ACTIVATING or ACTIVE images without touching them."""
    _check_allowed(request.repository, allowed)
    image = registry.describe_image(request.image_ref())  # imageStatus ANY: tags of archived images resolve
    return restore_described(image, registry=registry, include_referrers=request.include_referrers).response


def restore_described(
    image: ImageDetail, *, registry: ImageRegistry, include_referrers: bool
) -> RestoreOutcome:
    """``restore_image`` after the describe: restore ``image`` if ARCHIVED (with its archived
    referrers), else report it. The caller has checked its allow-list."""
    where = {"repository": image.repository, "image_digest": image.digest}

    if image.status is ImageStatus.ARCHIVED:
        status, started = _start_restore(image, registry)
        if started:
            metrics.add_metric(name="RestoresRequested", unit=MetricUnit.Count, value=1)
            metrics.add_metric(name="BytesRestored", unit=MetricUnit.Bytes, value=image.size_bytes)
            logger.info("restore started", extra={**where, "tags": list(image.tags), "status": status.value})
            referrers = _restore_archived_referrers(image, registry) if include_referrers else []
            return RestoreOutcome(_response(image, status, referrers), started=True)
        image = image.model_copy(update={"status": status})

    if image.status is ImageStatus.ACTIVE:
        metrics.add_metric(name="RestoresAlreadyActive", unit=MetricUnit.Count, value=1)
    logger.info("nothing to restore", extra={**where, "status": image.status.value})
    # Nothing is started for an ACTIVE or ACTIVATING image. Its referrers are reported (read-only)
    # so a caller can see any that are still ARCHIVED and restore them by digest.
    referrers = _list_referrers(image, registry, status="ANY") if include_referrers else []
    return RestoreOutcome(_response(image, image.status, referrers), started=False)


def _start_restore(image: ImageDetail, registry: ImageRegistry) -> tuple[ImageStatus, bool]:
    """UpdateImageStorageClass STANDARD by digest (a tag could move between describe and update).

    Returns the image's status and whether this call started the restore.
    """
    ref = ImageRef(repository=image.repository, digest=image.digest)
    try:
        return registry.update_storage_class(ref, STANDARD), True
    except StorageClassUpdateNotSupported:
        # A concurrent restore (another caller, a re-push) won the race: report it rather than 409.
        current = _current_status(ref, registry)
        if current in (ImageStatus.ACTIVATING, ImageStatus.ACTIVE):
            return current, False
        metrics.add_metric(name="RestoreFailures", unit=MetricUnit.Count, value=1)
        raise
    except EcrArchiverError:
        metrics.add_metric(name="RestoreFailures", unit=MetricUnit.Count, value=1)
        raise


def _current_status(ref: ImageRef, registry: ImageRegistry) -> ImageStatus | None:
    try:
        return registry.describe_image(ref).status
    except EcrArchiverError:
        return None


def _restore_archived_referrers(image: ImageDetail, registry: ImageRegistry) -> list[ReferrerStatus]:
    """Restore every ARCHIVED referrer so signatures and SBOMs verify again once the image is back.

    A referrer that fails is reported with ECR's error code and counted in ``RestoreFailures``;
    it does not fail the request, because the image's own restore has already started and a
    retry would find it ACTIVATING and start nothing.
    """
    restored: list[ReferrerStatus] = []
    for referrer in _list_referrers(image, registry, status=ImageStatus.ARCHIVED.value):
        ref = ImageRef(repository=image.repository, digest=referrer.digest)
        try:
            status = registry.update_storage_class(ref, STANDARD)
        except EcrArchiverError as exc:
            metrics.add_metric(name="RestoreFailures", unit=MetricUnit.Count, value=1)
            logger.warning("referrer restore failed", extra={"referrer": referrer.digest, "error": exc.code})
            restored.append(referrer.model_copy(update={"error": exc.code}))
            continue
        metrics.add_metric(name="ReferrersRestored", unit=MetricUnit.Count, value=1)
        restored.append(referrer.model_copy(update={"status": status}))
    return restored


def _list_referrers(image: ImageDetail, registry: ImageRegistry, *, status: str) -> list[ReferrerStatus]:
    return [
        ReferrerStatus.from_api(item)
        for item in registry.list_referrers(image.repository, image.digest, status=status)
    ]


def _response(image: ImageDetail, status: ImageStatus, referrers: list[ReferrerStatus]) -> RestoreResponse:
    return RestoreResponse(
        repository=image.repository,
        digest=image.digest,
        tags=list(image.tags),
        status=status,
        referrers=referrers,
    )
