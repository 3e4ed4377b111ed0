"""Plan one archive run: config → repositories → previews → in-use discovery → one message each.

Nothing here mutates an image. A bad configuration raises ``ConfigInvalid`` before the first ECR
call; a preview another caller is running is recorded and the repository is still enqueued (the
worker restarts the preview with our policy once that one finishes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ecr_archiver.archiving.config import ArchiveConfig, parse_config
from ecr_archiver.archiving.inuse import ImageUseSource, InUseImages, discover_in_use
from ecr_archiver.archiving.models import PlannedRepository, PlanResult, ProtectedSet, S3Pointer, WorkMessage
from ecr_archiver.archiving.protection import is_index, protected_set_for
from ecr_archiver.archiving.report import protected_set_key
from ecr_archiver.errors import (
    LifecyclePolicyInvalid,
    LifecyclePolicyNotFound,
    PreviewInProgress,
    RepositoryNotFound,
)
from ecr_archiver.lifecycle.policy import policy_hash
from ecr_archiver.models import ImageDetail
from ecr_archiver.observability import MetricUnit, logger, metrics

#: SQS accepts 256 KiB (262,144 bytes) per message; keep headroom for attributes and envelope.
MAX_MESSAGE_BYTES = 240 * 1024


class PlanningRegistry(Protocol):
    def list_repositories(self) -> Iterator[str]: ...
    def get_lifecycle_policy_text(self, repository: str) -> str: ...
    def start_preview(self, repository: str, policy_text: str | None) -> str: ...
    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]: ...
    def describe_images_by_tag(self, repository: str, tags: Iterable[str]) -> Iterator[ImageDetail]: ...


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


def _hash_of(text: str) -> str:
    try:
        return policy_hash(text)
    except LifecyclePolicyInvalid:  # a repository policy our stricter validator rejects
        return hashlib.sha256(text.encode()).hexdigest()


def _protects_index(registry: PlanningRegistry, repository: str, protected: ProtectedSet) -> bool:
    digests = [*protected.in_use_digests, *protected.listed_digests]
    tags = [*protected.in_use_tags, *protected.listed_tags]
    details = [
        *(registry.describe_images_by_digest(repository, digests) if digests else ()),
        *(registry.describe_images_by_tag(repository, tags) if tags else ()),
    ]
    return any(is_index(d) for d in details)


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
    result = PlanResult(run_id=run_id, dry_run=dry_run)

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
        if _protects_index(registry, repo, protected):
            protected = protected.model_copy(update={"protects_index": True})
        message = WorkMessage(
            run_id=run_id,
            repository=repo,
            policy_text=policy_text,
            policy_hash=_hash_of(policy_text),
            dry_run=dry_run,
            max_images=config.max_images_per_run,
            tag_patterns=list(config.protect.tag_patterns),
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
            "repositories_planned": len(result.planned),
            "repositories_skipped": result.skipped,
            "in_use_repositories": len(in_use.repositories),
        },
    )
    return result
