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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Protocol

from aws_lambda_powertools.metrics import single_metric

from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.indexes import IndexMap, IndexRule, build_index_map, live_indexes
from ecr_archiver.archiving.limiter import CallPacer
from ecr_archiver.archiving.models import (
    PROTECTION_REASONS,
    Cursor,
    ImageRecord,
    ManifestReads,
    Outcome,
    ProtectedSet,
    RepositoryResult,
    RepositoryStatus,
    SkipReason,
    Totals,
    WorkMessage,
    WorkPhase,
)
from ecr_archiver.archiving.protection import Guard
from ecr_archiver.archiving.ratelimit import TokenBucket
from ecr_archiver.archiving.report import ReportWriter, delivery_key, index_map_key
from ecr_archiver.errors import (
    EcrArchiverError,
    ImageNotFound,
    InvalidParameter,
    LifecyclePolicyInvalid,
    PreviewInProgress,
    PreviewNotFound,
)
from ecr_archiver.lifecycle.policy import policy_hash
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus
from ecr_archiver.observability import NAMESPACE, SERVICE, MetricUnit, logger, metrics


class PreviewRegistry(Protocol):
    def get_preview_page(
        self, repository: str, *, next_token: str | None = None, page_size: int = 100
    ) -> dict[str, Any]: ...
    def start_preview(self, repository: str, policy_text: str | None) -> str: ...
    def get_preview_results(self, repository: str, digests: Iterable[str]) -> Iterator[dict[str, Any]]: ...
    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]: ...
    def describe_images(
        self, repository: str, *, status: str = ..., page_size: int = ...
    ) -> Iterator[ImageDetail]: ...
    def batch_get_manifests(self, repository: str, digests: Iterable[str]) -> dict[str, str]: ...
    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus: ...


class ContinuationQueue(Protocol):
    def send(self, body: str, *, delay_seconds: int = 0) -> None: ...


class ReportBucket(Protocol):
    def put_text(self, key: str, text: str, *, content_type: str = ...) -> None: ...
    def put_json(self, key: str, document: Any) -> None: ...
    def get_json(self, key: str) -> Any: ...
    def list_keys(self, prefix: str) -> Any: ...


#: A kept repository listing serves as the pages' details for this long after it was read (a
#: tag added meanwhile must still reach the guard).
LISTING_FRESH_SECONDS = 20.0


@dataclass(frozen=True)
class WorkerLimits:
    max_tps: float = 20.0
    concurrency: int = 8
    safety_margin_ms: int = 60_000
    page_size: int = 100
    report_chunk: int = 5000
    force_dry_run: bool = True
    #: A repository listing of at most this many images is kept to serve as the pages' details.
    listing_reuse_max: int = 1000


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


def _record_base(result: dict[str, Any], detail: ImageDetail | None) -> dict[str, Any]:
    """The report fields of one preview result.

    The preview is a snapshot: a tag added since (a deploy re-tagging an image as ``prod-*``,
    say) is only in DescribeImages' answer, so the tags are the union of both, and the guard
    checks them all.
    """
    return {
        "digest": result["imageDigest"],
        "tags": sorted(set(result.get("imageTags") or ()) | set(detail.tags if detail else ())),
        "size_bytes": detail.size_bytes if detail else None,
        "rule_priority": result.get("appliedRulePriority"),
        "pushed_at": result.get("imagePushedAt"),
    }


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
        bucket: CallPacer | None,
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
        self.bucket: CallPacer = bucket or TokenBucket(limits.max_tps)
        self.in_flight = threading.Semaphore(limits.concurrency)
        self.futures: list[Future[ImageRecord]] = []
        self.phase = WorkPhase.INDEXES
        #: Indexes this run archived (or would): they no longer keep their children ACTIVE.
        self.gone: set[str] = set()
        self.recorded = 0
        #: The repository's DescribeImages listing of this invocation, when small (see details()).
        self.listing: dict[str, ImageDetail] | None = None
        self.listed_at = 0.0
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
            self.recorded += 1
            if self.phase is WorkPhase.INDEXES and record.outcome in (
                Outcome.ARCHIVED,
                Outcome.WOULD_ARCHIVE,
            ):
                self.gone.add(record.digest)
        self.report.add(record)

    def _archive(self, base: dict[str, Any]) -> ImageRecord:
        ref = ImageRef(repository=self.repo, digest=base["digest"])
        try:
            status = self.registry.update_storage_class(ref, "ARCHIVE")
        except ImageNotFound:
            return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.IMAGE_NOT_FOUND)
        except EcrArchiverError as exc:
            # A refusal (ImageStorageClassUpdateNotSupportedException) included: every image the
            # guard lets through should be archivable, so a refusal means the registry changed
            # under the run or disagrees with it, and is worth an operator's look.
            return ImageRecord(**base, outcome=Outcome.FAILED, reason=exc.code)
        except Exception as exc:  # keep the accounting whole; the record says what broke
            logger.exception("archive call crashed", extra={"repository": self.repo, "digest": ref.digest})
            return ImageRecord(**base, outcome=Outcome.FAILED, reason=type(exc).__name__)
        if status is ImageStatus.ARCHIVED:
            return ImageRecord(**base, outcome=Outcome.ARCHIVED)
        return ImageRecord(**base, outcome=Outcome.FAILED, reason=f"UnexpectedStatus:{status}")

    def _submit(self, pool: ThreadPoolExecutor, base: dict[str, Any]) -> None:
        self.submitted += 1
        if self.dry_run:
            self.record(ImageRecord(**base, outcome=Outcome.WOULD_ARCHIVE))
            return
        self.in_flight.acquire()
        self.bucket.acquire()
        future = pool.submit(self._archive, base)
        future.add_done_callback(self._done)
        self.futures.append(future)

    def _done(self, future: Future[ImageRecord]) -> None:
        try:
            self.record(future.result())
        finally:
            self.in_flight.release()

    def drain(self) -> None:
        """Wait until every archive call submitted so far has returned (and been recorded)."""
        futures, self.futures = self.futures, []
        wait(futures)

    # -- indexes first ------------------------------------------------------------------
    def index_map(self) -> IndexMap:
        """This run's map of the repository's live indexes: stored on first use, then reused."""
        key = index_map_key(self.message.run_id, self.repo, dry_run=self.dry_run)
        if next(iter(self.store.list_keys(key)), None) is not None:
            return IndexMap.model_validate(self.store.get_json(key))
        mode = self.message.manifest_reads
        listing = self.registry.describe_images
        indexes = self.read(lambda: live_indexes(self._keep_listing(listing(self.repo, status="ANY"))))
        manifests: dict[str, str] = {}
        if mode is ManifestReads.EXACT and indexes:
            manifests = self.read(lambda: self.registry.batch_get_manifests(self.repo, sorted(indexes)))
            metrics.add_metric(name="IndexManifestsRead", unit=MetricUnit.Count, value=len(manifests))
        index_map = build_index_map(indexes, manifests, mode)
        self.save(index_map)
        unread = sum(1 for e in index_map.indexes.values() if e.children is None)
        logger.info(
            "index map built",
            extra={
                "repository": self.repo,
                "manifest_reads": mode,
                "indexes": len(indexes),
                "unread": unread,
            },
        )
        return index_map

    def save(self, index_map: IndexMap) -> None:
        key = index_map_key(self.message.run_id, self.repo, dry_run=self.dry_run)
        self.store.put_json(key, index_map.model_dump(mode="json", by_alias=True))

    def index_phase(self, pool: ThreadPoolExecutor, index_map: IndexMap) -> tuple[IndexMap, str | int]:
        """Handle every index's preview result; returns the updated map and the phase outcome."""
        offset = self.cursor.offset if self.cursor.phase is WorkPhase.INDEXES else 0
        self.gone = set(index_map.gone)
        outcome: str | int = "done"
        if index_map.indexes:
            results = self.read(
                lambda: list(self.registry.get_preview_results(self.repo, index_map.digests()))
            )
            results.sort(key=lambda r: str(r["imageDigest"]))
            outcome = self.process_results(pool, results, offset, IndexRule(index_map, gone=()))
            self.drain()
        index_map = index_map.model_copy(
            update={"gone": sorted(self.gone), "indexes_done": outcome in ("done", "capped")}
        )
        self.save(index_map)
        return index_map, outcome

    def _keep_listing(self, details: Iterator[ImageDetail]) -> Iterator[ImageDetail]:
        """Pass the repository's listing through, keeping it when it is small enough to reuse."""
        kept: dict[str, ImageDetail] = {}
        for detail in details:
            if len(kept) >= self.limits.listing_reuse_max:
                yield detail
                yield from details  # too large to keep: stream the rest
                return
            kept[detail.digest] = detail
            yield detail
        self.listing, self.listed_at = kept, time.monotonic()

    def details(self, results: Iterable[dict[str, Any]]) -> dict[str, ImageDetail]:
        """DescribeImages for the STANDARD archive candidates among ``results`` (one call per 100).

        A small repository's listing, read moments ago to find its indexes, holds the same
        DescribeImages answers: while it is fresh it serves instead of a second read.
        """
        wanted = [
            r["imageDigest"]
            for r in results
            if _is_candidate_action(r) and r.get("storageClass") == "STANDARD"
        ]
        if not wanted:
            return {}
        listing = self.listing
        fresh = listing is not None and time.monotonic() - self.listed_at < LISTING_FRESH_SECONDS
        if listing is not None and fresh and all(digest in listing for digest in wanted):
            return {digest: listing[digest] for digest in wanted}
        found = self.read(lambda: list(self.registry.describe_images_by_digest(self.repo, wanted)))
        return {d.digest: d for d in found}

    def decide(
        self, result: dict[str, Any], details: dict[str, ImageDetail], indexes: IndexRule
    ) -> ImageRecord | dict[str, Any] | None:
        """``None``: not ours to act on; a record: skipped, and why; a dict: archive it."""
        digest = result["imageDigest"]
        if not _is_candidate_action(result):
            return None  # EXPIRE results are not ours to act on
        if self.phase is WorkPhase.IMAGES and indexes.is_index(digest):
            return None  # handled in the indexes phase
        base = _record_base(result, details.get(digest))
        if result.get("storageClass") != "STANDARD":
            return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.NOT_STANDARD)
        skip = self.guard.check(digest, base["tags"], details.get(digest), indexes)
        if skip is not None:
            reason, index = skip
            return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=reason, index=index)
        return base

    def process_results(
        self,
        pool: ThreadPoolExecutor,
        results: list[dict[str, Any]],
        offset: int,
        indexes: IndexRule,
        details: dict[str, ImageDetail] | None = None,
    ) -> str | int:
        """Handle ``results[offset:]``; returns ``"done"``, ``"capped"`` or the index to resume at.

        Every result is decided before the first call, so the rate limiter can lease exactly the
        calls this page makes; records are still written in preview order, so a continuation at
        the returned index neither repeats nor skips one.
        """
        if self.out_of_time():
            return offset
        todo = list(enumerate(results))[offset:]
        if details is None:
            details = self.details(r for _, r in todo)
        decided = [(position, self.decide(result, details, indexes)) for position, result in todo]
        calls = sum(1 for _, decision in decided if isinstance(decision, dict))
        if not self.dry_run:
            self.bucket.reserve(min(calls, max(0, self.message.max_images - self.submitted)))
        for position, decision in decided:
            if decision is None:
                continue
            if isinstance(decision, ImageRecord):
                self.record(decision)
                continue
            if self.submitted >= self.message.max_images:
                return "capped"
            if self.out_of_time():
                return position
            self._submit(pool, decision)
        return "done"

    def read_page(self, token: str) -> tuple[dict[str, Any], dict[str, ImageDetail]]:
        """The preview page at ``token`` and its candidates' details (read ahead, on its own thread)."""
        page = self.read(
            partial(
                self.registry.get_preview_page, self.repo, next_token=token, page_size=self.limits.page_size
            )
        )
        if page.get("status") != "COMPLETE":
            return page, {}
        return page, self.details(page.get("previewResults") or [])

    # -- the whole invocation -----------------------------------------------------------
    def run(self) -> RepositoryResult:
        earlier = self.handled_before()
        if earlier is not None:
            return earlier
        page = self.first_page()
        if page is None:
            return self.finish(RepositoryStatus.PREVIEW_FAILED)
        pool = ThreadPoolExecutor(max_workers=self.limits.concurrency, thread_name_prefix="archive")
        try:
            index_map = self.index_map()
            if not index_map.indexes_done:
                index_map, outcome = self.index_phase(pool, index_map)
                if isinstance(outcome, int):
                    next_invocation = self.cursor.invocation + 1
                    return self.continue_later(
                        Cursor(phase=WorkPhase.INDEXES, offset=outcome, invocation=next_invocation)
                    )
                if outcome == "capped":
                    return self.finish(RepositoryStatus.COMPLETE, capped=True)
        except _ReadFailed as exc:
            raise exc.error from None  # nothing handled yet in this invocation: SQS retries it
        finally:
            pool.shutdown(wait=True)
        self.phase = WorkPhase.IMAGES
        return self.image_phase(page, IndexRule(index_map, gone=index_map.gone))

    def image_phase(self, page: dict[str, Any], indexes: IndexRule) -> RepositoryResult:
        """Stream the preview from the cursor (or its start) for everything but the indexes.

        While one page's archive calls run, the next page and its DescribeImages are read on a
        second thread, so the worker never stops calling ECR to wait for its own reads.
        """
        if self.cursor.phase is WorkPhase.IMAGES:
            token, offset = self.cursor.page_token, self.cursor.offset
        else:
            token, offset = None, 0
        outcome: str | int = "done"
        failed: EcrArchiverError | None = None
        details: dict[str, ImageDetail] | None = None
        pool = ThreadPoolExecutor(max_workers=self.limits.concurrency, thread_name_prefix="archive")
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        try:
            while True:
                results = list(page.get("previewResults") or [])
                if details is None:  # the cursor's page: read here, before the next one
                    details = self.details(results[offset:])
                next_token = page.get("nextToken")
                ahead = reader.submit(self.read_page, next_token) if next_token else None
                outcome = self.process_results(pool, results, offset, indexes, details)
                if outcome != "done" or ahead is None:
                    break
                token, offset = next_token, 0
                if self.out_of_time():
                    outcome = 0
                    break
                page, details = ahead.result()
                if page.get("status") != "COMPLETE":
                    # The preview expired (or was replaced) between two pages: its remaining
                    # results are gone, not finished. The continuation restarts the preview.
                    outcome = 0
                    break
        except _ReadFailed as exc:
            failed = exc.error
        finally:
            pool.shutdown(wait=True)
            reader.shutdown(wait=True, cancel_futures=True)
        next_invocation = self.cursor.invocation + 1
        if failed is not None:
            return self.checkpoint(
                failed, Cursor(page_token=token, offset=offset, invocation=next_invocation)
            )
        if isinstance(outcome, int):
            return self.continue_later(Cursor(page_token=token, offset=outcome, invocation=next_invocation))
        return self.finish(RepositoryStatus.COMPLETE, capped=outcome == "capped")

    def checkpoint(self, error: EcrArchiverError, cursor: Cursor) -> RepositoryResult:
        """After a read failed mid-repository, keep what was done and carry on from ``cursor``.

        Retrying the message instead would start over and report this invocation's archives as
        ALREADY_ARCHIVED, losing them from the report and the metrics.
        """
        if self.recorded == 0 and self.submitted == self.message.totals.acted:
            raise error  # nothing handled yet: SQS retries the message as it is
        logger.warning(
            "checkpointed after an error",
            extra={"repository": self.repo, "error": error.code, "reason": error.message},
        )
        return self.continue_later(cursor)

    def continue_later(self, cursor: Cursor) -> RepositoryResult:
        previous = self.message.cursor
        if previous is not None and (previous.phase, previous.page_token, previous.offset) == (
            cursor.phase,
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
            manifest_reads=self.message.manifest_reads,
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
            manifest_reads=self.message.manifest_reads,
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
