"""Plan one archive run: config → manifest-read mode → repositories → previews → in-use discovery →
one message each.

Nothing here mutates an image. A bad configuration raises ``ConfigInvalid`` before the first ECR
call; a preview another caller is running is recorded and the repository is still enqueued (the
worker restarts the preview with our policy once that one finishes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.metrics import single_metric

from ecr_archiver.archiving.config import ArchiveConfig, RepositorySelection, parse_config
from ecr_archiver.archiving.inuse import ImageUseSource, InUseImages, discover_in_use
from ecr_archiver.archiving.models import (
    ManifestReads,
    PlannedRepository,
    PlanResult,
    PreviewStart,
    ProtectedSet,
    RepositorySkipReason,
    S3Pointer,
    WorkMessage,
)
from ecr_archiver.archiving.protection import protected_set_for
from ecr_archiver.archiving.report import protected_set_key
from ecr_archiver.errors import (
    EcrArchiverError,
    LifecyclePolicyInvalid,
    LifecyclePolicyNotFound,
    PreviewInProgress,
    RepositoryNotFound,
)
from ecr_archiver.lifecycle.policy import policy_hash
from ecr_archiver.models import ImageRef
from ecr_archiver.observability import NAMESPACE, SERVICE, MetricUnit, logger, metrics

#: SQS accepts 256 KiB (262,144 bytes) per message; keep headroom for attributes and envelope.
MAX_MESSAGE_BYTES = 240 * 1024
#: SendMessageBatch takes at most 10 messages.
SEND_BATCH_SIZE = 10


class PlanningRegistry(Protocol):
    def list_repositories(self) -> Iterator[str]: ...
    def get_lifecycle_policy_text(self, repository: str) -> str: ...
    def start_preview(self, repository: str, policy_text: str | None) -> str: ...
    def list_pull_time_exclusions(self) -> list[str]: ...


class WorkSender(Protocol):
    def send_many(self, bodies: Sequence[str], *, delay_seconds: int = 0) -> None: ...


class ProtectedSetStore(Protocol):
    bucket: str

    def put_json(self, key: str, document: Any) -> None: ...


@dataclass(frozen=True)
class PlanOptions:
    force_dry_run: bool = True
    delay_seconds: int = 120
    max_message_bytes: int = MAX_MESSAGE_BYTES
    #: The archive worker's IAM role: exact manifest reads need it in the exclusion list.
    worker_role_arn: str | None = None


def _hash_of(text: str) -> str:
    try:
        return policy_hash(text)
    except LifecyclePolicyInvalid:  # a repository policy our stricter validator rejects
        return hashlib.sha256(text.encode()).hexdigest()


def manifest_reads_mode(registry: PlanningRegistry, worker_role_arn: str | None) -> tuple[ManifestReads, str]:
    """``exact`` only when the worker's role is in the pull-time update exclusion list.

    Anything else (no role given, the role missing from the list, the list unreadable) gives
    ``conservative``, with the reason an operator needs to fix it.
    """
    if not worker_role_arn:
        return ManifestReads.CONSERVATIVE, "the worker's role ARN is not configured (WORKER_ROLE_ARN)"
    try:
        exclusions = registry.list_pull_time_exclusions()
    except EcrArchiverError as exc:
        return ManifestReads.CONSERVATIVE, f"the pull-time update exclusion list is unreadable ({exc.code})"
    if worker_role_arn in exclusions:
        return ManifestReads.EXACT, f"{worker_role_arn} is in the pull-time update exclusion list"
    full = " (the list is full: 100 entries)" if len(set(exclusions)) >= 100 else ""
    return (
        ManifestReads.CONSERVATIVE,
        f"{worker_role_arn} is not in the pull-time update exclusion list{full}; "
        "enable the exclusion sync, which registers the stack's own roles",
    )


def _report_mode(mode: ManifestReads, reason: str) -> None:
    # Its own EMF blob, written now: 1 for exact, 0 for conservative (alarm on Minimum < 1).
    value = 1 if mode is ManifestReads.EXACT else 0
    with single_metric(
        name="ManifestReadsExact", unit=MetricUnit.Count, value=value, namespace=NAMESPACE
    ) as m:
        m.add_dimension(name="service", value=SERVICE)
    logger.info(f"manifest reads: {mode}", extra={"manifest_reads": str(mode), "reason": reason})


@dataclass(frozen=True)
class _RunPlan:
    """What every repository's message of one run shares."""

    run_id: str
    config: ArchiveConfig
    dry_run: bool
    mode: ManifestReads
    in_use: InUseImages
    listed: list[ImageRef]


def plan_archive_run(
    config_text: str,
    *,
    run_id: str,
    registry: PlanningRegistry,
    in_use_sources: Callable[[ArchiveConfig], Iterable[ImageUseSource]],
    queue: WorkSender,
    store: ProtectedSetStore,
    options: PlanOptions,
) -> PlanResult:
    """Validate the config, start previews, find in-use images once, enqueue one message per repository."""
    config = parse_config(config_text)  # ConfigInvalid: nothing has been called yet
    dry_run = config.dry_run or options.force_dry_run
    mode, why = manifest_reads_mode(registry, options.worker_role_arn)
    _report_mode(mode, why)
    result = PlanResult(run_id=run_id, dry_run=dry_run, manifest_reads=mode, manifest_reads_reason=why)

    selected = [
        (repo, entry) for repo in registry.list_repositories() if (entry := config.selection_for(repo))
    ]
    if not selected:
        logger.info("no repository selected", extra={"run_id": run_id})
        metrics.add_metric(name="RepositoriesPlanned", unit=MetricUnit.Count, value=0)
        return result

    plan = _RunPlan(
        run_id=run_id,
        config=config,
        dry_run=dry_run,
        mode=mode,
        in_use=discover_in_use(in_use_sources(config)),
        listed=config.protect.image_refs(),
    )
    pending: list[str] = []
    for repo, entry in selected:
        body = _plan_repository(
            plan, repo, entry, registry=registry, store=store, options=options, result=result
        )
        if body is None:
            continue
        pending.append(body)
        if len(pending) == SEND_BATCH_SIZE:
            queue.send_many(pending, delay_seconds=options.delay_seconds)
            pending = []
    if pending:
        queue.send_many(pending, delay_seconds=options.delay_seconds)
    _report_planned(plan, result)
    return result


def _plan_repository(
    plan: _RunPlan,
    repo: str,
    entry: RepositorySelection,
    *,
    registry: PlanningRegistry,
    store: ProtectedSetStore,
    options: PlanOptions,
    result: PlanResult,
) -> str | None:
    """Start the repository's preview and return its message body, recording it in ``result``.

    ``None`` when the repository cannot be planned; ``result.skipped`` then says why.
    """
    started = _start_preview(repo, entry, registry=registry, result=result)
    if started is None:
        return None
    policy_text, preview = started
    protected = protected_set_for(repo, plan.in_use.for_repository(repo), plan.listed)
    message = WorkMessage(
        run_id=plan.run_id,
        repository=repo,
        policy_text=policy_text,
        policy_hash=_hash_of(policy_text),
        dry_run=plan.dry_run,
        max_images=plan.config.max_images_per_run,
        tag_patterns=list(plan.config.protect.tag_patterns),
        manifest_reads=plan.mode,
        protected=protected,
    )
    body, in_s3 = _message_body(message, protected, store=store, max_bytes=options.max_message_bytes)
    result.planned.append(PlannedRepository(repository=repo, preview=preview, protected_in_s3=in_s3))
    return body


def _start_preview(
    repo: str, entry: RepositorySelection, *, registry: PlanningRegistry, result: PlanResult
) -> tuple[str, PreviewStart] | None:
    """The policy text previewed for ``repo`` and how its preview started.

    ``None`` (the reason recorded in ``result.skipped``) when the repository has no policy to
    preview or no longer exists.
    """
    try:
        policy_text = entry.policy_text() or registry.get_lifecycle_policy_text(repo)
    except LifecyclePolicyNotFound:
        result.skipped[repo] = RepositorySkipReason.NO_LIFECYCLE_POLICY
        return None
    except RepositoryNotFound:
        result.skipped[repo] = RepositorySkipReason.REPOSITORY_NOT_FOUND
        return None
    try:
        registry.start_preview(repo, policy_text)
    except PreviewInProgress:
        logger.info("a preview is already running; the worker will restart ours", extra={"repository": repo})
        return policy_text, PreviewStart.IN_PROGRESS_ELSEWHERE
    except RepositoryNotFound:
        result.skipped[repo] = RepositorySkipReason.REPOSITORY_NOT_FOUND
        return None
    return policy_text, PreviewStart.STARTED


def _message_body(
    message: WorkMessage, protected: ProtectedSet, *, store: ProtectedSetStore, max_bytes: int
) -> tuple[str, bool]:
    """The message as sent, and whether its protected set went to S3 to keep it under ``max_bytes``."""
    body = message.to_json()
    if len(body.encode()) <= max_bytes:
        return body, False
    key = protected_set_key(message.run_id, message.repository)
    store.put_json(key, protected.model_dump(mode="json", by_alias=True))
    pointer = S3Pointer(bucket=store.bucket, key=key)
    return message.model_copy(update={"protected": None, "protected_ref": pointer}).to_json(), True


def _report_planned(plan: _RunPlan, result: PlanResult) -> None:
    metrics.add_metric(name="RepositoriesPlanned", unit=MetricUnit.Count, value=len(result.planned))
    logger.info(
        "run planned",
        extra={
            "run_id": plan.run_id,
            "dry_run": plan.dry_run,
            "manifest_reads": str(plan.mode),
            "repositories_planned": len(result.planned),
            "repositories_skipped": result.skipped,
            "in_use_repositories": len(plan.in_use.repositories),
        },
    )
