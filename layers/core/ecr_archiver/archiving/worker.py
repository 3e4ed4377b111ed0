"""Archive one repository's preview candidates: guarded, rate-limited, resumable.

The archived set is always a subset of the preview's TRANSITION→ARCHIVE results in STANDARD
storage, minus everything :class:`~ecr_archiver.archiving.protection.Guard` protects.

A repository is handled in two phases. First its live multi-arch indexes (found with
DescribeImages, their manifests read with BatchGetImage in ``exact`` mode, see
:mod:`~ecr_archiver.archiving.indexes`): their preview results are fetched by image id and each
index is archived or kept. Once every archive call of that phase has returned, the preview is
streamed for everything else, and an image an index still references is kept, so ECR never has
to refuse a call. Preview pages are never materialised; each costs one GetLifecyclePolicyPreview
and one DescribeImages (sizes, status, referrer subjects). Archiving runs on a thread pool behind
one token bucket. Before the Lambda time budget runs out the worker stops submitting, drains, and
re-enqueues a continuation holding the phase, the page token and the index within that page, so
every image is handled exactly once across invocations.

:class:`_Run` calls the stages of :mod:`~ecr_archiver.archiving.stages` in order: redelivery,
preview, indexes phase, images phase, outcome.
"""

from __future__ import annotations

from collections.abc import Callable

from ecr_archiver.archiving.indexes import IndexRule
from ecr_archiver.archiving.limiter import CallPacer
from ecr_archiver.archiving.models import Cursor, RepositoryResult, RepositoryStatus, WorkMessage, WorkPhase
from ecr_archiver.archiving.protection import Guard
from ecr_archiver.archiving.ratelimit import TokenBucket
from ecr_archiver.archiving.report import ReportWriter
from ecr_archiver.archiving.stages.archive_pool import ArchivePool
from ecr_archiver.archiving.stages.guard import load_protected_set
from ecr_archiver.archiving.stages.image_phase import ImagePhase, ImagesEnd
from ecr_archiver.archiving.stages.index_phase import IndexPhase, IndexPhaseOutcome
from ecr_archiver.archiving.stages.listing import CandidateDetails
from ecr_archiver.archiving.stages.outcome import RunOutcomes
from ecr_archiver.archiving.stages.pages import PageKind, PageOutcome, PageProcessor
from ecr_archiver.archiving.stages.ports import (
    ContinuationQueue,
    PreviewRegistry,
    ReportBucket,
    TimeBudget,
    WorkerLimits,
)
from ecr_archiver.archiving.stages.preview import PreviewReader
from ecr_archiver.archiving.stages.reads import ReadFailed
from ecr_archiver.archiving.stages.records import Recorder
from ecr_archiver.archiving.stages.redelivery import DeliveryLedger

__all__ = [
    "LISTING_FRESH_SECONDS",
    "ContinuationQueue",
    "PreviewRegistry",
    "ReportBucket",
    "WorkerLimits",
    "archive_candidates",
]

#: A kept repository listing serves as the pages' details for this long after it was read (a
#: tag added meanwhile must still reach the guard).
LISTING_FRESH_SECONDS = 20.0


class _Run:
    """One invocation's work on one repository: the stages, wired and called in order."""

    def __init__(
        self,
        message: WorkMessage,
        *,
        registry: PreviewRegistry,
        store: ReportBucket,
        queue: ContinuationQueue,
        remaining_ms: Callable[[], int],
        limits: WorkerLimits,
        bucket: CallPacer | None,
        delivery_id: str | None = None,
    ) -> None:
        repo = message.repository
        self.dry_run = dry_run = message.dry_run or limits.force_dry_run
        self.message = message
        self.cursor = message.cursor or Cursor()
        self.bucket: CallPacer = bucket or TokenBucket(limits.max_tps)
        report = ReportWriter(
            store, message.run_id, repo, invocation=self.cursor.invocation, chunk_size=limits.report_chunk
        )
        self.recorder = Recorder(message.totals, report)
        self.deliveries = DeliveryLedger(store, message.run_id, repo, delivery_id)
        self.preview = PreviewReader(message, registry, page_size=limits.page_size)
        self.pool = ArchivePool(
            repo,
            registry,
            self.recorder,
            self.bucket,
            concurrency=limits.concurrency,
            dry_run=dry_run,
            submitted=message.totals.acted,
        )
        details = CandidateDetails(
            repo, registry, reuse_max=limits.listing_reuse_max, fresh_seconds=LISTING_FRESH_SECONDS
        )
        self._wire_phases(registry, store, details, TimeBudget(remaining_ms, limits.safety_margin_ms))
        self.outcomes = RunOutcomes(
            message,
            queue=queue,
            report=report,
            recorder=self.recorder,
            deliveries=self.deliveries,
            dry_run=dry_run,
        )

    def _wire_phases(
        self, registry: PreviewRegistry, store: ReportBucket, details: CandidateDetails, budget: TimeBudget
    ) -> None:
        message = self.message
        pages = PageProcessor(
            details=details,
            guard=Guard(load_protected_set(message, store), message.tag_patterns),
            pool=self.pool,
            recorder=self.recorder,
            budget=budget,
            max_images=message.max_images,
        )
        self.indexes = IndexPhase(
            message,
            registry=registry,
            store=store,
            details=details,
            pages=pages,
            pool=self.pool,
            recorder=self.recorder,
            dry_run=self.dry_run,
        )
        self.images = ImagePhase(
            preview=self.preview, details=details, pages=pages, pool=self.pool, budget=budget
        )

    def run(self) -> RepositoryResult:
        earlier = self.deliveries.handled_before()
        if earlier is not None:
            return earlier
        opened = self.preview.open(self.cursor)
        self.cursor = opened.cursor
        if opened.page is None:
            return self.outcomes.finish(RepositoryStatus.PREVIEW_FAILED)
        first = self._indexes_first()
        if first.page.kind is PageKind.STOPPED:
            resume = Cursor(phase=WorkPhase.INDEXES, offset=first.page.resume_at, invocation=self._next())
            return self.outcomes.continue_later(resume)
        if first.page.kind is PageKind.CAPPED:
            return self.outcomes.finish(RepositoryStatus.COMPLETE, capped=True)
        self.recorder.phase = WorkPhase.IMAGES
        indexes = IndexRule(first.index_map, gone=first.index_map.gone)
        return self._conclude(self.images.run(opened.page, indexes, self.cursor))

    def _indexes_first(self) -> IndexPhaseOutcome:
        """The indexes phase, unless an earlier invocation of the run finished it."""
        try:
            with self.pool.running():
                index_map = self.indexes.load_map()
                if index_map.indexes_done:
                    return IndexPhaseOutcome(index_map, PageOutcome.done())
                return self.indexes.run(index_map, self.cursor)
        except ReadFailed as exc:
            raise exc.error from None  # nothing handled yet in this invocation: SQS retries it

    def _conclude(self, end: ImagesEnd) -> RepositoryResult:
        if end.failed is not None:
            progressed = self.recorder.recorded != 0 or self.pool.submitted != self.message.totals.acted
            resume = Cursor(page_token=end.token, offset=end.offset, invocation=self._next())
            return self.outcomes.checkpoint(end.failed, resume, progressed=progressed)
        if end.outcome.kind is PageKind.STOPPED:
            resume = Cursor(page_token=end.token, offset=end.outcome.resume_at, invocation=self._next())
            return self.outcomes.continue_later(resume)
        return self.outcomes.finish(RepositoryStatus.COMPLETE, capped=end.outcome.kind is PageKind.CAPPED)

    def _next(self) -> int:
        return self.cursor.invocation + 1


def archive_candidates(
    message: WorkMessage,
    *,
    registry: PreviewRegistry,
    store: ReportBucket,
    queue: ContinuationQueue,
    remaining_ms: Callable[[], int],
    limits: WorkerLimits,
    bucket: CallPacer | None = None,
    delivery_id: str | None = None,
) -> RepositoryResult:
    """Archive (or, in a dry run, report) one repository's safe preview candidates.

    ``delivery_id`` (the SQS message id) makes a redelivered message a no-op once one delivery
    completed. Raises ``PreviewNotReady`` when the message should be retried later.
    """
    run = _Run(
        message,
        registry=registry,
        store=store,
        queue=queue,
        remaining_ms=remaining_ms,
        limits=limits,
        bucket=bucket,
        delivery_id=delivery_id,
    )
    try:
        return run.run()
    finally:
        run.bucket.release()  # the rest of a leased window goes back to the other workers
