"""An archive run on a laptop: the Lambdas' planner and worker in-process, with no queue or bucket.

``plan_archive_run`` starts the previews and discovers in-use images exactly as the scheduled run
does; its work messages land in a list instead of SQS. Each message then goes to
``archive_candidates``, which raises ``PreviewNotReady`` until the preview completes: we poll on
the context's clock (wall time against AWS, the emulator clock against the emulator). Reports go
to memory and become one JSON document, so ``restore --from-report`` can roll a run back.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.memory import MemoryQueue, MemoryStore
from ecr_archiver.archiving.config import ArchiveConfig
from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.inuse import ImageUseSource
from ecr_archiver.archiving.models import (
    ImageRecord,
    Outcome,
    PlanResult,
    RepositoryResult,
    RepositoryStatus,
    WorkMessage,
)
from ecr_archiver.archiving.planner import PlanOptions, plan_archive_run
from ecr_archiver.archiving.report import read_image_records
from ecr_archiver.archiving.worker import WorkerLimits, archive_candidates
from ecr_archiver.cli.context import WaitClock
from ecr_archiver.errors import EcrArchiverError
from ecr_archiver.observability import metrics

#: No Lambda timeout on a laptop: the worker never needs to hand over to a continuation.
_NO_DEADLINE_MS = 10**12


class PreviewTimeout(EcrArchiverError):
    code = "PreviewTimeout"


@dataclass
class RepositoryRun:
    """One repository's outcome: the worker's result, its image records, and how many images it has."""

    result: RepositoryResult
    records: list[ImageRecord]
    images: int

    @property
    def repository(self) -> str:
        return self.result.repository

    @property
    def to_archive(self) -> list[ImageRecord]:
        return [r for r in self.records if r.outcome in (Outcome.WOULD_ARCHIVE, Outcome.ARCHIVED)]


@dataclass
class LocalRun:
    run_id: str
    dry_run: bool
    plan: PlanResult
    messages: list[WorkMessage]
    repositories: list[RepositoryRun] = field(default_factory=list)

    @property
    def candidates(self) -> int:
        return sum(len(r.to_archive) for r in self.repositories)

    @property
    def bytes_to_archive(self) -> int:
        return sum(rec.size_bytes or 0 for r in self.repositories for rec in r.to_archive)

    @property
    def failed(self) -> int:
        return sum(r.result.totals.failed for r in self.repositories)

    @property
    def previews_failed(self) -> list[str]:
        return [r.repository for r in self.repositories if r.result.status is RepositoryStatus.PREVIEW_FAILED]

    def summary(self) -> dict[str, Any]:
        """The report without the per-image lines."""
        return {
            "runId": self.run_id,
            "dryRun": self.dry_run,
            "manifestReads": str(self.plan.manifest_reads),
            "manifestReadsReason": self.plan.manifest_reads_reason,
            "generatedAt": datetime.now(UTC).isoformat(),
            "repositories": [
                {
                    **r.result.model_dump(mode="json", by_alias=True, exclude={"report_key", "run_id"}),
                    "images": r.images,
                    "candidates": len(r.records),
                }
                for r in self.repositories
            ],
            "skipped": dict(self.plan.skipped),
        }

    def report(self) -> dict[str, Any]:
        """Summary plus one line per image; ``restore --from-report`` reads ``images``."""
        return {
            **self.summary(),
            "images": [
                {"repository": r.repository, **rec.model_dump(mode="json", by_alias=True, exclude_none=True)}
                for r in self.repositories
                for rec in r.records
            ],
        }


@contextlib.contextmanager
def quiet_metrics(verbose: bool) -> Iterator[None]:
    """The logic emits EMF metrics with ``print`` (meant for CloudWatch): keep them off our stdout."""
    sink = sys.stderr if verbose else io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        metrics.clear_metrics()


def plan_locally(
    config_text: str,
    *,
    run_id: str,
    registry: EcrRegistry,
    in_use_sources: Callable[[ArchiveConfig], Iterable[ImageUseSource]],
    reader_arn: str | None = None,
) -> tuple[PlanResult, list[WorkMessage]]:
    """Validate the config, start previews, discover in-use images: the planner, minus SQS.

    ``reader_arn`` is the principal that will read index manifests (the CLI's own credentials):
    manifest reads are exact only when it is in the pull-time update exclusion list."""
    queue, store = MemoryQueue(), MemoryStore()
    plan = plan_archive_run(
        config_text,
        run_id=run_id,
        registry=registry,
        in_use_sources=in_use_sources,
        queue=queue,
        store=store,
        # Planned as a dry run; the worker pass decides (``work_locally(dry_run=...)``). Protected
        # sets too large for a message stay inline: nothing here has a size limit.
        options=PlanOptions(
            force_dry_run=True, delay_seconds=0, max_message_bytes=sys.maxsize, worker_role_arn=reader_arn
        ),
    )
    return plan, [WorkMessage.model_validate_json(body) for body in queue.bodies]


def work_locally(
    messages: Iterable[WorkMessage],
    *,
    dry_run: bool,
    registry: EcrRegistry,
    clock: WaitClock,
    limits: WorkerLimits,
    preview_timeout: float,
    poll_interval: float,
    on_repository: Callable[[RepositoryRun], None] = lambda _: None,
    on_wait: Callable[[str], None] = lambda _: None,
) -> list[RepositoryRun]:
    """Run the worker on each repository's message, waiting for previews by polling."""
    store = MemoryStore()
    out: list[RepositoryRun] = []
    for original in messages:
        message = original.model_copy(update={"dry_run": dry_run})
        result = _work_one(message, registry, store, clock, limits, preview_timeout, poll_interval, on_wait)
        run = RepositoryRun(
            result=result,
            records=read_image_records(store, message.run_id, message.repository),
            images=sum(1 for _ in registry.describe_images(message.repository, status="ANY")),
        )
        out.append(run)
        on_repository(run)
    return out


def _work_one(
    message: WorkMessage,
    registry: EcrRegistry,
    store: MemoryStore,
    clock: WaitClock,
    limits: WorkerLimits,
    preview_timeout: float,
    poll_interval: float,
    on_wait: Callable[[str], None],
) -> RepositoryResult:
    deadline = clock.now() + preview_timeout
    continuations = MemoryQueue()
    while True:
        try:
            result = archive_candidates(
                message,
                registry=registry,
                store=store,
                queue=continuations,
                remaining_ms=lambda: _NO_DEADLINE_MS,
                limits=limits,
            )
        except PreviewNotReady as exc:
            if clock.now() >= deadline:
                raise PreviewTimeout(
                    f"{message.repository}: lifecycle preview not complete after {preview_timeout:.0f}s "
                    f"({exc.message})"
                ) from None
            on_wait(message.repository)
            clock.sleep(poll_interval)
            continue
        if result.status is not RepositoryStatus.CONTINUED:
            return result
        message = WorkMessage.model_validate_json(continuations.bodies.pop(0))
