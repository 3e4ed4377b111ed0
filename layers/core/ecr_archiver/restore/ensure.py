"""Make sure images are ACTIVE before a deploy: restore the archived ones, and optionally wait.

This is what ``ecr-archiver ensure-active`` runs in a deploy pipeline. It works in two phases so
that a deploy that cannot succeed changes nothing:

1. *Describe* every image of this registry (read-only). If any cannot be found (unknown
   repository, deleted image, a reference ECR rejects), the run is refused and nothing is restored.
2. *Restore* every ARCHIVED image with its archived referrers, through the restore capability's
   own ``restore_described``; ACTIVE and ACTIVATING images are left alone.

Images of other registries (ECR Public, Docker Hub, another account or region) are reported and
ignored. :func:`wait_until_active` then polls the images that are not ACTIVE yet, with an
exponential backoff, on an injected clock (wall time against AWS, the emulator's clock locally).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import Field

from ecr_archiver import errors
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus
from ecr_archiver.restore.logic import ImageRegistry, restore_described
from ecr_archiver.restore.models import ReferrerStatus, _Wire
from ecr_archiver.restore.references import LocalRegistry, parse_image_uri

#: Describe errors that mean "this image cannot be made active", as opposed to an unhealthy ECR.
REFUSALS = (errors.RepositoryNotFound, errors.ImageNotFound, errors.InvalidParameter)


class EnsureTarget(_Wire):
    """One image to ensure: this registry's (``ref``) or another's (``foreign``, with the reason)."""

    requested: str
    source: str = Field(description="Where the reference came from: 'argument' or the task definition.")
    ref: ImageRef | None = None
    foreign: str | None = None


class EnsuredImage(_Wire):
    requested: str
    source: str
    repository: str
    digest: str | None = None
    tags: tuple[str, ...] = ()
    status: ImageStatus | None = None
    restore_started: bool = False
    referrers: tuple[ReferrerStatus, ...] = ()
    error: str | None = Field(default=None, description="Why the image cannot be made active.")


class EnsureReport(_Wire):
    images: tuple[EnsuredImage, ...] = ()
    foreign: tuple[EnsureTarget, ...] = ()

    @property
    def refused(self) -> list[EnsuredImage]:
        return [i for i in self.images if i.error]

    @property
    def pending(self) -> list[EnsuredImage]:
        return [i for i in self.images if not i.error and i.status is not ImageStatus.ACTIVE]


class Clock(Protocol):
    """Seconds-valued time and sleep (``ecr_archiver.cli.context.WaitClock``)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


# -- references -----------------------------------------------------------------------------------
def _has_registry_host(text: str) -> bool:
    first, sep, _ = text.strip().partition("/")
    return bool(sep) and ("." in first or ":" in first or first == "localhost")


def target_for_reference(text: str, local: LocalRegistry, *, source: str = "argument") -> EnsureTarget:
    """``REPO:TAG``/``REPO@DIGEST`` (this registry) or a full image URI; ``ValueError`` if unreadable."""
    if not _has_registry_host(text):
        return EnsureTarget(requested=text, source=source, ref=ImageRef.parse(text))
    image = parse_image_uri(text)
    reason = local.foreign_reason(image)
    if reason:
        return EnsureTarget(requested=text, source=source, foreign=reason)
    return EnsureTarget(requested=text, source=source, ref=image.image_ref())


def targets_for_task_definition(
    task_definition: str, containers: Sequence[tuple[str, str]], local: LocalRegistry
) -> list[EnsureTarget]:
    """Every container image of a task definition; images ECS could not pull from us are foreign."""
    out: list[EnsureTarget] = []
    for name, image in containers:
        source = f"{task_definition} (container {name})"
        try:
            image_uri = parse_image_uri(image)
        except ValueError as exc:
            out.append(
                EnsureTarget(requested=image, source=source, foreign=f"unreadable image reference: {exc}")
            )
            continue
        reason = local.foreign_reason(image_uri)
        out.append(
            EnsureTarget(requested=image, source=source, foreign=reason)
            if reason
            else EnsureTarget(requested=image, source=source, ref=image_uri.image_ref())
        )
    return out


# -- ensure ---------------------------------------------------------------------------------------
def _entry(target: EnsureTarget, detail: ImageDetail) -> EnsuredImage:
    return EnsuredImage(
        requested=target.requested,
        source=target.source,
        repository=detail.repository,
        digest=detail.digest,
        tags=detail.tags,
        status=detail.status,
    )


def _describe_all(
    targets: Sequence[EnsureTarget], registry: ImageRegistry
) -> tuple[list[tuple[EnsureTarget, ImageDetail]], list[EnsuredImage]]:
    found: list[tuple[EnsureTarget, ImageDetail]] = []
    refused: list[EnsuredImage] = []
    for target in targets:
        if target.ref is None:
            continue
        try:
            found.append((target, registry.describe_image(target.ref)))
        except REFUSALS as exc:
            refused.append(
                EnsuredImage(
                    requested=target.requested,
                    source=target.source,
                    repository=target.ref.repository,
                    error=f"{exc.code}: {exc.message}",
                )
            )
    return found, refused


def ensure_active(targets: Sequence[EnsureTarget], *, registry: ImageRegistry) -> EnsureReport:
    """Describe every image, then (if none is refused) restore the ARCHIVED ones with their referrers."""
    foreign = tuple(t for t in targets if t.ref is None)
    found, refused = _describe_all(targets, registry)
    if refused:
        return EnsureReport(images=(*(_entry(t, d) for t, d in found), *refused), foreign=foreign)
    images: list[EnsuredImage] = []
    restored: dict[str, EnsuredImage] = {}
    for target, detail in found:
        if detail.digest in restored:  # two references to one image: restore it once
            images.append(restored[detail.digest].model_copy(update={"requested": target.requested}))
            continue
        entry = _restore(target, detail, registry)
        restored[detail.digest] = entry
        images.append(entry)
    return EnsureReport(images=tuple(images), foreign=foreign)


def _restore(target: EnsureTarget, detail: ImageDetail, registry: ImageRegistry) -> EnsuredImage:
    entry = _entry(target, detail)
    if detail.status is not ImageStatus.ARCHIVED:
        return entry
    try:
        outcome = restore_described(detail, registry=registry, include_referrers=True)
    except errors.StorageClassUpdateNotSupported as exc:
        return entry.model_copy(update={"error": f"{exc.code}: {exc.message}"})
    return entry.model_copy(
        update={
            "status": outcome.response.status,
            "restore_started": outcome.started,
            "referrers": tuple(outcome.response.referrers),
        }
    )


# -- wait -----------------------------------------------------------------------------------------
def wait_until_active(
    report: EnsureReport,
    *,
    registry: ImageRegistry,
    clock: Clock,
    timeout: float,
    first_interval: float = 5.0,
    max_interval: float = 60.0,
) -> EnsureReport:
    """Poll the images not ACTIVE yet until they are or ``timeout`` seconds pass; the intervals
    double from ``first_interval`` up to ``max_interval``. The caller reads ``pending`` on the result."""
    deadline = clock.now() + timeout
    interval = first_interval
    while report.pending and clock.now() < deadline:
        clock.sleep(max(0.0, min(interval, deadline - clock.now())))
        interval = min(interval * 2, max_interval)
        report = report.model_copy(update={"images": tuple(_poll(i, registry) for i in report.images)})
    return report


def _poll(image: EnsuredImage, registry: ImageRegistry) -> EnsuredImage:
    if image.error or image.status is ImageStatus.ACTIVE or image.digest is None:
        return image
    try:
        detail = registry.describe_image(ImageRef(repository=image.repository, digest=image.digest))
    except REFUSALS as exc:
        return image.model_copy(update={"error": f"{exc.code}: {exc.message}"})
    return image.model_copy(update={"status": detail.status})
