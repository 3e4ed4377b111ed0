"""Decide, image by image, whether a workload's failed pull warrants a restore, and start it.

For each requested image, in this order (the first that applies wins):

1. AutoRestore is off: skip (``Disabled``). No AWS call.
2. The reference could not be parsed: skip (``MalformedImage``).
3. Another registry, account or region, ECR Public, Docker Hub...: skip (``ForeignImage``).
4. The repository is outside AutoRestoreRepositories: skip (``NotAllowed``). No AWS call.
5. DescribeImages (imageStatus ANY): unknown repository, deleted image, or a reference ECR
   rejects: skip. ``ACTIVE`` or ``ACTIVATING``: skip, nothing to do.
6. ``ARCHIVED``: once per image per dedupe window (``Duplicate`` otherwise), take one restore from
   the hour's cap (``Capped`` otherwise), then ``restore_described``: the restore capability's own
   logic, which restores the image by digest and its archived referrers. A notice follows.

Every skip is logged with its reason and counted in ``AutoRestoreSkipped`` (dimension ``Reason``);
nothing is changed in ECR. Anything else (throttling or a 5xx after the SDK's retries, access
denied) propagates: Lambda retries the event, then sends it to the dead-letter queue. Images
already restored by the failed attempt are ACTIVATING by then, so a retry restores nothing twice.
The function only ever asks ECR for ``STANDARD``; it never archives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools.metrics import single_metric

from ecr_archiver import errors
from ecr_archiver.models import ImageDetail, ImageStatus
from ecr_archiver.observability import NAMESPACE, SERVICE, MetricUnit, logger, metrics, tracer
from ecr_archiver.restore.auto import notices
from ecr_archiver.restore.auto.guards import CapReached, DuplicateRestore, RestoreBudget, RestoreOnce
from ecr_archiver.restore.auto.models import (
    Action,
    AutoRestoreReport,
    Decision,
    RequestedImage,
    RestoreAttempt,
    RestoreKey,
    SkipReason,
    Workload,
    WorkloadDemand,
)
from ecr_archiver.restore.auto.settings import EXPECTED_WAIT_MINUTES
from ecr_archiver.restore.logic import ImageRegistry, restore_described
from ecr_archiver.restore.models import RepositoryAllowList
from ecr_archiver.restore.references import LocalRegistry

#: ECR refusals that say something about the input, not about ECR's health: skipped, not retried.
_SKIPPED_ERRORS: tuple[tuple[type[errors.EcrArchiverError], SkipReason], ...] = (
    (errors.RepositoryNotFound, SkipReason.REPOSITORY_NOT_FOUND),
    (errors.ImageNotFound, SkipReason.IMAGE_NOT_FOUND),
    (errors.InvalidParameter, SkipReason.MALFORMED_IMAGE),
    (errors.StorageClassUpdateNotSupported, SkipReason.NOT_RESTORABLE),
)


class NoticePublisher(Protocol):
    """``ecr_archiver.adapters.sns.NoticeTopic`` in production."""

    def publish(self, subject: str, message: dict[str, Any], *, event: str) -> str: ...


@dataclass(frozen=True)
class AutoRestorePolicy:
    enabled: bool
    allowed: RepositoryAllowList
    registry: LocalRegistry


@dataclass(frozen=True)
class AutoRestoreServices:
    policy: AutoRestorePolicy
    registry: ImageRegistry
    once: RestoreOnce
    budget: RestoreBudget
    notices: NoticePublisher
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@tracer.capture_method(capture_response=False)
def auto_restore(demand: WorkloadDemand, services: AutoRestoreServices) -> AutoRestoreReport:
    """Decide (and act) for every image ``demand`` names; notify for each restore started."""
    decisions: list[Decision] = []
    for item in demand.images:
        decision = _decide(item, services)
        _record(decision, demand.workload)
        if decision.action is Action.RESTORE_STARTED:
            _notify(decision, demand.workload, services)
        decisions.append(decision)
    report = AutoRestoreReport(workload=demand.workload, decisions=tuple(decisions))
    logger.info(
        "auto-restore done",
        extra={
            "workload": demand.workload.model_dump(mode="json", by_alias=True, exclude_none=True),
            "started": report.started,
        },
    )
    return report


def refuse_event(problem: str) -> AutoRestoreReport:
    """A malformed or partial event: logged, counted, and answered without any AWS call."""
    decision = _skip("<event>", SkipReason.MALFORMED_EVENT, problem)
    _record(decision, None)
    return AutoRestoreReport(workload=None, decisions=(decision,))


def _skip(image: str, reason: SkipReason, detail: str, found: ImageDetail | None = None) -> Decision:
    return Decision(
        image=image,
        action=Action.SKIPPED,
        reason=reason,
        detail=detail,
        repository=found.repository if found else None,
        digest=found.digest if found else None,
        status=found.status if found else None,
    )


def _decide(item: RequestedImage, services: AutoRestoreServices) -> Decision:
    policy = services.policy
    if not policy.enabled:
        return _skip(item.written, SkipReason.DISABLED, "automatic restore is off (AutoRestore=false)")
    if item.image is None:
        return _skip(item.written, SkipReason.MALFORMED_IMAGE, item.problem or "unreadable image reference")
    foreign = policy.registry.foreign_reason(item.image)
    if foreign:
        return _skip(item.written, SkipReason.FOREIGN_IMAGE, foreign)
    ref = item.image.image_ref()
    if not policy.allowed.permits(ref.repository):
        return _skip(
            item.written, SkipReason.NOT_ALLOWED, f"{ref.repository} is outside AutoRestoreRepositories"
        )
    try:
        image = services.registry.describe_image(ref)
    except errors.EcrArchiverError as exc:
        return _skip_for_error(item.written, exc)
    if image.status is ImageStatus.ACTIVE:
        return _skip(
            item.written, SkipReason.ALREADY_ACTIVE, "the image is ACTIVE: nothing to restore", image
        )
    if image.status is ImageStatus.ACTIVATING:
        return _skip(item.written, SkipReason.ACTIVATING, "a restore is already running", image)
    return _restore_once(item.written, image, services)


def _skip_for_error(written: str, exc: errors.EcrArchiverError, found: ImageDetail | None = None) -> Decision:
    for cls, reason in _SKIPPED_ERRORS:
        if isinstance(exc, cls):
            return _skip(written, reason, f"{exc.code}: {exc.message}", found)
    raise exc


def _restore_once(written: str, image: ImageDetail, services: AutoRestoreServices) -> Decision:
    key = RestoreKey(
        registry_id=services.policy.registry.registry_id, repository=image.repository, digest=image.digest
    )

    def work(attempt_id: str) -> RestoreAttempt:
        if not services.budget.take(services.now()):
            raise CapReached
        outcome = restore_described(image, registry=services.registry, include_referrers=True)
        restored = [
            r for r in outcome.response.referrers if r.error is None and r.status is ImageStatus.ACTIVATING
        ]
        return RestoreAttempt(
            attempt_id=attempt_id,
            started=outcome.started,
            status=outcome.response.status,
            referrers_restored=len(restored) if outcome.started else 0,
        )

    try:
        attempt = services.once(key, work)
    except DuplicateRestore as exc:
        return _skip(written, SkipReason.DUPLICATE, str(exc), image)
    except CapReached:
        return _skip(
            written, SkipReason.CAPPED, "AutoRestoreMaxPerHour restores already started this hour", image
        )
    except errors.EcrArchiverError as exc:
        return _skip_for_error(written, exc, image)
    if not attempt.started:
        return _skip(written, SkipReason.ACTIVATING, "a restore started elsewhere moments ago", image)
    return Decision(
        image=written,
        action=Action.RESTORE_STARTED,
        detail="restore started (image and archived referrers)",
        repository=image.repository,
        digest=image.digest,
        status=attempt.status,
        referrers_restored=attempt.referrers_restored,
    )


def _record(decision: Decision, workload: Workload | None) -> None:
    extra = {
        "decision": decision.model_dump(mode="json", by_alias=True, exclude_none=True),
        "workload": workload.model_dump(mode="json", by_alias=True, exclude_none=True) if workload else None,
    }
    if decision.action is Action.RESTORE_STARTED:
        metrics.add_metric(name="AutoRestoreStarted", unit=MetricUnit.Count, value=1)
        logger.info("auto-restore started", extra=extra)
        return
    reason = decision.reason or SkipReason.MALFORMED_EVENT
    if reason is SkipReason.CAPPED:
        metrics.add_metric(name="AutoRestoreCapped", unit=MetricUnit.Count, value=1)
    with single_metric(
        name="AutoRestoreSkipped", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name="Reason", value=reason.value)
    noisy = reason in (SkipReason.CAPPED, SkipReason.NOT_RESTORABLE)
    (logger.warning if noisy else logger.info)(f"auto-restore skipped: {reason.value}", extra=extra)


def _notify(decision: Decision, workload: Workload, services: AutoRestoreServices) -> None:
    """Publish the notice. A failure is logged and counted, never raised: the restore has started,
    and a retried event would find the image ACTIVATING and publish nothing."""
    subject, message = notices.restore_started(
        decision, workload, registry=services.policy.registry, expected_wait_minutes=EXPECTED_WAIT_MINUTES
    )
    try:
        services.notices.publish(subject, message, event=notices.EVENT)
    except errors.EcrArchiverError as exc:
        metrics.add_metric(name="AutoRestoreNoticeFailures", unit=MetricUnit.Count, value=1)
        logger.warning(
            "auto-restore notice not published", extra={"error": exc.code, "image": decision.image}
        )
