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

from ecr_archiver.archiving.config import ArchiveConfig, parse_config
from ecr_archiver.archiving.inuse import ImageUseSource, InUseImages, discover_in_use
from ecr_archiver.archiving.models import (
    ManifestReads,
    PlannedRepository,
    PlanResult,
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
from ecr_archiver.observability import NAMESPACE, SERVICE, MetricUnit, logger, metrics

#: SQS accepts 256 KiB (262,144 bytes) per message; keep headroom for attributes and envelope.
MAX_MESSAGE_BYTES = 240 * 1024


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

    in_use = discover_in_use(in_use_sources(config)) if selected else InUseImages()
    listed = config.protect.image_refs()

    pending: list[str] = []
    for repo, entry in selected:
        try:
            policy_text = entry.policy_text() or registry.get_lifecycle_policy_text(repo)
        except LifecyclePolicyNotFound:
            result.skipped[repo] = "NO_LIFECYCLE_POLICY"
            continue
        except RepositoryNotFound:
            result.skipped[repo] = "REPOSITORY_NOT_FOUND"
            continue
        try:
            registry.start_preview(repo, policy_text)
            preview = "STARTED"
        except PreviewInProgress:
            preview = "IN_PROGRESS_ELSEWHERE"
            logger.info(
                "a preview is already running; the worker will restart ours", extra={"repository": repo}
            )
        except RepositoryNotFound:
            result.skipped[repo] = "REPOSITORY_NOT_FOUND"
            continue

        protected = protected_set_for(repo, in_use.for_repository(repo), listed)
        message = WorkMessage(
            run_id=run_id,
            repository=repo,
            policy_text=policy_text,
            policy_hash=_hash_of(policy_text),
            dry_run=dry_run,
            max_images=config.max_images_per_run,
            tag_patterns=list(config.protect.tag_patterns),
            manifest_reads=mode,
            protected=protected,
        )
        body = message.to_json()
        in_s3 = len(body.encode()) > options.max_message_bytes
        if in_s3:
            key = protected_set_key(run_id, repo)
            store.put_json(key, protected.model_dump(mode="json", by_alias=True))
            message = message.model_copy(
                update={"protected": None, "protected_ref": S3Pointer(bucket=store.bucket, key=key)}
            )
            body = message.to_json()
        pending.append(body)
        result.planned.append(PlannedRepository(repository=repo, preview=preview, protected_in_s3=in_s3))
        if len(pending) == 10:
            queue.send_many(pending, delay_seconds=options.delay_seconds)
            pending = []
    if pending:
        queue.send_many(pending, delay_seconds=options.delay_seconds)

    metrics.add_metric(name="RepositoriesPlanned", unit=MetricUnit.Count, value=len(result.planned))
    logger.info(
        "run planned",
        extra={
            "run_id": run_id,
            "dry_run": dry_run,
            "manifest_reads": str(mode),
            "repositories_planned": len(result.planned),
            "repositories_skipped": result.skipped,
            "in_use_repositories": len(in_use.repositories),
        },
    )
    return result
