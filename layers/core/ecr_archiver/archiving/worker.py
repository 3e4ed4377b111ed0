"""Archive one repository's preview candidates: guarded, rate-limited, resumable.

The archived set is always a subset of the preview's TRANSITION→ARCHIVE results in STANDARD
storage, minus everything :class:`~ecr_archiver.archiving.protection.Guard` protects. Preview
pages are streamed (never materialised); each page costs one GetLifecyclePolicyPreview and one
DescribeImages (sizes, status, referrer subjects). Archiving runs on a thread pool behind one
token bucket. Before the Lambda time budget runs out the worker stops submitting, drains, and
re-enqueues a continuation holding the page token and the index within that page, so every image
is handled exactly once across invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Protocol

from aws_lambda_powertools.metrics import single_metric

from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.models import (
    PROTECTION_REASONS,
    Cursor,
    ImageRecord,
    Outcome,
    ProtectedSet,
    RepositoryResult,
    RepositoryStatus,
    SkipReason,
    Totals,
    WorkMessage,
)
from ecr_archiver.archiving.protection import Guard, is_index
from ecr_archiver.archiving.ratelimit import TokenBucket
from ecr_archiver.archiving.report import ReportWriter, delivery_key
from ecr_archiver.errors import (
    EcrArchiverError,
    ImageNotFound,
    InvalidParameter,
    LifecyclePolicyInvalid,
    PreviewInProgress,
    PreviewNotFound,
    StorageClassUpdateNotSupported,
)
from ecr_archiver.lifecycle.policy import policy_hash
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus
from ecr_archiver.observability import NAMESPACE, SERVICE, MetricUnit, logger, metrics


class PreviewRegistry(Protocol):
    def get_preview_page(
        self, repository: str, *, next_token: str | None = None, page_size: int = 100
    ) -> dict[str, Any]: ...
    def start_preview(self, repository: str, policy_text: str | None) -> str: ...
    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]: ...
    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus: ...


class ContinuationQueue(Protocol):
    def send(self, body: str, *, delay_seconds: int = 0) -> None: ...


class ReportBucket(Protocol):
    def put_text(self, key: str, text: str, *, content_type: str = ...) -> None: ...
    def put_json(self, key: str, document: Any) -> None: ...
    def get_json(self, key: str) -> Any: ...
    def list_keys(self, prefix: str) -> Any: ...


@dataclass(frozen=True)
class WorkerLimits:
    max_tps: float = 20.0
    concurrency: int = 8
    safety_margin_ms: int = 60_000
    page_size: int = 100
    report_chunk: int = 5000
    force_dry_run: bool = True


@dataclass
class _Tally:
    """Mutable running :class:`Totals` (thread-safe through the caller's lock)."""

    archived: int = 0
    would_archive: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_archived: int = 0
    bytes_would_archive: int = 0
    protected: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, totals: Totals) -> _Tally:
        return cls(**totals.model_dump())

    def count(self, record: ImageRecord) -> None:
        size = record.size_bytes or 0
        if record.outcome is Outcome.ARCHIVED:
            self.archived += 1
            self.bytes_archived += size
        elif record.outcome is Outcome.WOULD_ARCHIVE:
            self.would_archive += 1
            self.bytes_would_archive += size
        elif record.outcome is Outcome.FAILED:
            self.failed += 1
        else:
            self.skipped += 1
            if record.reason in PROTECTION_REASONS:
                self.protected[str(record.reason)] = self.protected.get(str(record.reason), 0) + 1

    def totals(self) -> Totals:
        # Same field names as Totals (which forbids extras), so a field added to one but not the
        # other fails loudly instead of being dropped.
        return Totals(**asdict(self))


def _is_candidate_action(result: dict[str, Any]) -> bool:
    action = result.get("action") or {}
    return action.get("type") == "TRANSITION" and action.get("targetStorageClass") == "ARCHIVE"


class _ReadFailed(Exception):
    """A preview or DescribeImages read failed after the SDK's retries, before its page was handled."""

    def __init__(self, error: EcrArchiverError) -> None:
        super().__init__(error.message)
        self.error = error


def _same_policy(returned: str | None, message: WorkMessage) -> bool:
    if not returned:
        return False
    try:
        return policy_hash(returned) == message.policy_hash
    except LifecyclePolicyInvalid:
        return returned == message.policy_text


class _Run:
    """One invocation's work on one repository."""

    def __init__(
        self,
        message: WorkMessage,
        *,
        registry: PreviewRegistry,
        store: ReportBucket,
        queue: ContinuationQueue,
        remaining_ms: Callable[[], int],
        limits: WorkerLimits,
        bucket: TokenBucket | None,
        delivery_id: str | None = None,
    ) -> None:
        self.message = message
        self.delivery_id = delivery_id
        self.repo = message.repository
        self.registry = registry
        self.store = store
        self.queue = queue
        self.remaining_ms = remaining_ms
        self.limits = limits
        self.dry_run = message.dry_run or limits.force_dry_run
        self.cursor = message.cursor or Cursor()
        self.start_totals = message.totals
        self.tally = _Tally.of(message.totals)
        self.submitted = message.totals.acted
        self.lock = threading.Lock()
        self.bucket = bucket or TokenBucket(limits.max_tps)
        self.in_flight = threading.Semaphore(limits.concurrency)
        # Untagged manifests ECR refused because a manifest list still references them: the list
        # is usually a later candidate of this same run (children are pushed before their index),
        # so they are tried once more after everything else, before being reported.
        self.deferred: list[dict[str, Any]] = []
        self.report = ReportWriter(
            store,
            message.run_id,
            self.repo,
            invocation=self.cursor.invocation,
            chunk_size=limits.report_chunk,
        )
        self.guard = Guard(self._protected_set(), message.tag_patterns)

    def _protected_set(self) -> ProtectedSet:
        if self.message.protected is not None:
            return self.message.protected
        if self.message.protected_ref is not None:
            return ProtectedSet.model_validate(self.store.get_json(self.message.protected_ref.key))
        return ProtectedSet()

    # -- at-least-once delivery ---------------------------------------------------------
    def handled_before(self) -> RepositoryResult | None:
        """The result of an earlier delivery of this very SQS message, if one completed.

        A redelivery (a lost delete, an expired visibility timeout) must not redo the work: the
        retry would report our own archives as ALREADY_ARCHIVED and rewrite report.json.
        """
        if self.delivery_id is None:
            return None
        key = delivery_key(self.message.run_id, self.repo, self.delivery_id)
        if next(iter(self.store.list_keys(key)), None) is None:
            return None
        logger.info("duplicate delivery; already handled", extra={"repository": self.repo, "key": key})
        return RepositoryResult.model_validate(self.store.get_json(key))

    def remember(self, result: RepositoryResult) -> None:
        if self.delivery_id is not None:
            key = delivery_key(self.message.run_id, self.repo, self.delivery_id)
            self.store.put_json(key, result.model_dump(mode="json", by_alias=True))

    def read[T](self, call: Callable[[], T]) -> T:
        try:
            return call()
        except EcrArchiverError as exc:
            raise _ReadFailed(exc) from exc

    # -- preview ------------------------------------------------------------------------
    def out_of_time(self) -> bool:
        return self.remaining_ms() <= self.limits.safety_margin_ms

    def _restart(self, why: str) -> PreviewNotReady:
        try:
            self.registry.start_preview(self.repo, self.message.policy_text)
            action = "restarted"
        except PreviewInProgress:
            action = "another preview is still running"
        metrics.add_metric(name="PreviewsNotReady", unit=MetricUnit.Count, value=1)
        logger.info("preview not ready", extra={"repository": self.repo, "why": why, "action": action})
        return PreviewNotReady(f"{self.repo}: {why}; {action}")

    def first_page(self) -> dict[str, Any] | None:
        """The page the cursor points at, or ``None`` if the preview FAILED; raises ``PreviewNotReady``."""
        try:
            page = self.registry.get_preview_page(
                self.repo, next_token=self.cursor.page_token, page_size=self.limits.page_size
            )
        except PreviewNotFound:
            raise self._restart("no preview") from None
        except InvalidParameter:
            if self.cursor.page_token is None:
                raise
            # The preview was restarted since the cursor was written, so its token is gone. Start
            # the new preview from the top: images archived meanwhile are no longer STANDARD
            # candidates (or are skipped as ALREADY_ARCHIVED), so none is archived twice.
            logger.warning("continuation token no longer valid; reading the preview from the start")
            self.cursor = Cursor(invocation=self.cursor.invocation)
            return self.first_page()
        status = page.get("status")
        if status == "IN_PROGRESS":
            metrics.add_metric(name="PreviewsNotReady", unit=MetricUnit.Count, value=1)
            raise PreviewNotReady(f"{self.repo}: preview IN_PROGRESS")
        if status == "EXPIRED":
            raise self._restart("preview EXPIRED")
        if not _same_policy(page.get("lifecyclePolicyText"), self.message):
            raise self._restart("the preview was started with another policy")
        if status == "FAILED":
            return None
        if status != "COMPLETE":
            raise self._restart(f"unexpected preview status {status!r}")
        return page

    # -- per image ----------------------------------------------------------------------
    def record(self, record: ImageRecord) -> None:
        with self.lock:
            self.tally.count(record)
        self.report.add(record)

    def _archive(self, base: dict[str, Any], *, may_defer: bool = False) -> ImageRecord | None:
        """Archive one image; ``None`` when it was deferred (recorded later by ``settle_deferred``)."""
        ref = ImageRef(repository=self.repo, digest=base["digest"])
        try:
            status = self.registry.update_storage_class(ref, "ARCHIVE")
        except ImageNotFound:
            return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.IMAGE_NOT_FOUND)
        except StorageClassUpdateNotSupported:
            if may_defer:
                with self.lock:
                    self.deferred.append(base)
                return None
            return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.UPDATE_NOT_SUPPORTED)
        except EcrArchiverError as exc:
            return ImageRecord(**base, outcome=Outcome.FAILED, reason=exc.code)
        except Exception as exc:  # keep the accounting whole; the record says what broke
            logger.exception("archive call crashed", extra={"repository": self.repo, "digest": ref.digest})
            return ImageRecord(**base, outcome=Outcome.FAILED, reason=type(exc).__name__)
        if status is ImageStatus.ARCHIVED:
            return ImageRecord(**base, outcome=Outcome.ARCHIVED)
        return ImageRecord(**base, outcome=Outcome.FAILED, reason=f"UnexpectedStatus:{status}")

    def _submit(self, pool: ThreadPoolExecutor, base: dict[str, Any], *, may_defer: bool = False) -> None:
        self.submitted += 1
        if self.dry_run:
            self.record(ImageRecord(**base, outcome=Outcome.WOULD_ARCHIVE))
            return
        self.in_flight.acquire()
        self.bucket.acquire()
        future = pool.submit(self._archive, base, may_defer=may_defer)
        future.add_done_callback(self._done)

    def _done(self, future: Future[ImageRecord | None]) -> None:
        try:
            record = future.result()
            if record is not None:
                self.record(record)
        finally:
            self.in_flight.release()

    def settle_deferred(self, *, retry: bool) -> None:
        """Try deferred index children once more (their list was archived meanwhile), or report them.

        Without ``retry`` (the invocation stops early) they are reported UPDATE_NOT_SUPPORTED now,
        so every image is still recorded exactly once; the next run selects them again.
        """
        deferred, self.deferred = self.deferred, []
        for base in deferred:
            record = None
            if retry and not self.out_of_time():
                self.bucket.acquire()
                record = self._archive(base)
            self.record(
                record or ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.UPDATE_NOT_SUPPORTED)
            )

    def process_page(self, pool: ThreadPoolExecutor, results: list[dict[str, Any]], offset: int) -> str | int:
        """Handle ``results[offset:]``; returns ``"done"``, ``"capped"`` or the index to resume at."""
        if self.out_of_time():
            return offset
        todo = list(enumerate(results))[offset:]
        wanted = [
            r["imageDigest"]
            for _, r in todo
            if _is_candidate_action(r) and r.get("storageClass") == "STANDARD"
        ]
        details = (
            {
                d.digest: d
                for d in self.read(lambda: list(self.registry.describe_images_by_digest(self.repo, wanted)))
            }
            if wanted
            else {}
        )
        for index, result in todo:
            if not _is_candidate_action(result):
                continue  # EXPIRE results are not ours to act on
            digest = result["imageDigest"]
            detail = details.get(digest)
            # The preview is a snapshot: a tag added since (a deploy re-tagging an image as
            # ``prod-*``, say) is only in DescribeImages' answer. Guard on both.
            tags = sorted(set(result.get("imageTags") or ()) | set(detail.tags if detail else ()))
            base: dict[str, Any] = {
                "digest": digest,
                "tags": tags,
                "size_bytes": detail.size_bytes if detail else None,
                "rule_priority": result.get("appliedRulePriority"),
                "pushed_at": result.get("imagePushedAt"),
            }
            if result.get("storageClass") != "STANDARD":
                self.record(ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.NOT_STANDARD))
                continue
            reason = self.guard.check(digest, tags, detail)
            if reason is not None:
                self.record(ImageRecord(**base, outcome=Outcome.SKIPPED, reason=reason))
                continue
            if self.submitted >= self.message.max_images:
                return "capped"
            if self.out_of_time():
                return index
            self._submit(pool, base, may_defer=not tags and detail is not None and not is_index(detail))
        return "done"

    # -- the whole invocation -----------------------------------------------------------
    def run(self) -> RepositoryResult:
        earlier = self.handled_before()
        if earlier is not None:
            return earlier
        page = self.first_page()
        if page is None:
            return self.finish(RepositoryStatus.PREVIEW_FAILED)
        token, offset = self.cursor.page_token, self.cursor.offset
        outcome: str | int = "done"
        failed: EcrArchiverError | None = None
        pool = ThreadPoolExecutor(max_workers=self.limits.concurrency, thread_name_prefix="archive")
        try:
            while True:
                outcome = self.process_page(pool, list(page.get("previewResults") or []), offset)
                if outcome != "done":
                    break
                next_token = page.get("nextToken")
                if not next_token:
                    break
                token, offset = next_token, 0
                if self.out_of_time():
                    outcome = 0
                    break
                page = self.read(
                    partial(
                        self.registry.get_preview_page,
                        self.repo,
                        next_token=token,
                        page_size=self.limits.page_size,
                    )
                )
                if page.get("status") != "COMPLETE":
                    # The preview expired (or was replaced) between two pages: its remaining
                    # results are gone, not finished. The continuation restarts the preview.
                    outcome = 0
                    break
        except _ReadFailed as exc:
            failed = exc.error
        finally:
            pool.shutdown(wait=True)
        self.settle_deferred(retry=failed is None and outcome in ("done", "capped"))
        if failed is not None:
            return self.checkpoint(
                failed, Cursor(page_token=token, offset=offset, invocation=self.cursor.invocation + 1)
            )
        if isinstance(outcome, int):
            return self.continue_later(
                Cursor(page_token=token, offset=outcome, invocation=self.cursor.invocation + 1)
            )
        return self.finish(RepositoryStatus.COMPLETE, capped=outcome == "capped")

    def checkpoint(self, error: EcrArchiverError, cursor: Cursor) -> RepositoryResult:
        """After a read failed mid-repository, keep what was done and carry on from ``cursor``.

        Retrying the message instead would start over and report this invocation's archives as
        ALREADY_ARCHIVED, losing them from the report and the metrics.
        """
        if (cursor.page_token, cursor.offset) == (self.cursor.page_token, self.cursor.offset):
            raise error  # nothing handled yet: SQS retries the message as it is
        logger.warning(
            "checkpointed after an error",
            extra={"repository": self.repo, "error": error.code, "reason": error.message},
        )
        return self.continue_later(cursor)

    def continue_later(self, cursor: Cursor) -> RepositoryResult:
        previous = self.message.cursor
        if previous is not None and (previous.page_token, previous.offset) == (
            cursor.page_token,
            cursor.offset,
        ):
            # A continuation that again made no progress would loop forever: fail it instead, so
            # retries and then the dead-letter queue (and its alarm) surface the misconfiguration.
            raise EcrArchiverError(
                f"{self.repo}: no progress within the time budget; raise the function timeout or "
                "lower TIME_BUDGET_MARGIN_SECONDS",
                code="NoProgress",
            )
        self.report.flush()
        totals = self.tally.totals()
        follow_up = self.message.model_copy(update={"cursor": cursor, "totals": totals})
        self.queue.send(follow_up.to_json())
        result = RepositoryResult(
            run_id=self.message.run_id,
            repository=self.repo,
            status=RepositoryStatus.CONTINUED,
            dry_run=self.dry_run,
            totals=totals,
        )
        self.emit(result, cursor=cursor.model_dump(by_alias=True))
        self.remember(result)
        return result

    def finish(self, status: RepositoryStatus, *, capped: bool = False) -> RepositoryResult:
        result = RepositoryResult(
            run_id=self.message.run_id,
            repository=self.repo,
            status=status,
            dry_run=self.dry_run,
            totals=self.tally.totals(),
            capped=capped,
        )
        key = self.report.finish(result, policy_hash=self.message.policy_hash)
        result = result.model_copy(update={"report_key": key})
        if status is RepositoryStatus.PREVIEW_FAILED:
            metrics.add_metric(name="PreviewsFailed", unit=MetricUnit.Count, value=1)
        self.emit(result)
        self.remember(result)
        return result

    def emit(self, result: RepositoryResult, **extra: Any) -> None:
        """This invocation's metrics (deltas) and the repository's structured summary line."""
        now, before = result.totals, self.start_totals
        for name, value, unit in (
            ("ImagesArchived", now.archived - before.archived, MetricUnit.Count),
            ("BytesArchived", now.bytes_archived - before.bytes_archived, MetricUnit.Bytes),
            ("ImagesWouldArchive", now.would_archive - before.would_archive, MetricUnit.Count),
            ("ArchiveFailures", now.failed - before.failed, MetricUnit.Count),
        ):
            metrics.add_metric(name=name, unit=unit, value=value)
        for reason, count in now.protected.items():
            delta = count - before.protected.get(reason, 0)
            if delta:
                # A separate EMF blob: Powertools dimensions apply to every metric in a blob.
                with single_metric(
                    name="ImagesProtected", unit=MetricUnit.Count, value=delta, namespace=NAMESPACE
                ) as metric:
                    metric.add_dimension(name="service", value=SERVICE)
                    metric.add_dimension(name="Reason", value=reason)
        logger.info(
            "repository summary",
            extra={"summary": result.model_dump(mode="json", by_alias=True), **extra},
        )


def archive_candidates(
    message: WorkMessage,
    *,
    registry: PreviewRegistry,
    store: ReportBucket,
    queue: ContinuationQueue,
    remaining_ms: Callable[[], int],
    limits: WorkerLimits,
    bucket: TokenBucket | None = None,
    delivery_id: str | None = None,
) -> RepositoryResult:
    """Archive (or, in a dry run, report) one repository's safe preview candidates.

    ``delivery_id`` (the SQS message id) makes a redelivered message a no-op once one delivery
    completed. Raises ``PreviewNotReady`` when the message should be retried later.
    """
    return _Run(
        message,
        registry=registry,
        store=store,
        queue=queue,
        remaining_ms=remaining_ms,
        limits=limits,
        bucket=bucket,
        delivery_id=delivery_id,
    ).run()
