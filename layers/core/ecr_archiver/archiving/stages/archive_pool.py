"""The archive pool: UpdateImageStorageClass calls on a thread pool, paced by one rate limiter.

This is the only place the product asks ECR to archive an image.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager

from ecr_archiver.archiving.limiter import CallPacer
from ecr_archiver.archiving.models import ImageRecord, Outcome, SkipReason
from ecr_archiver.archiving.stages.guard import Candidate
from ecr_archiver.archiving.stages.ports import PreviewRegistry
from ecr_archiver.archiving.stages.records import Recorder
from ecr_archiver.errors import EcrArchiverError, ImageNotFound
from ecr_archiver.models import ImageRef, ImageStatus
from ecr_archiver.observability import logger


class ArchivePool:
    """At most ``concurrency`` archive calls in flight, each recorded as it returns.

    In a dry run nothing is called: each candidate is recorded as WOULD_ARCHIVE at once.
    """

    def __init__(
        self,
        repository: str,
        registry: PreviewRegistry,
        recorder: Recorder,
        bucket: CallPacer,
        *,
        concurrency: int,
        dry_run: bool,
        submitted: int,
    ) -> None:
        self._repo = repository
        self._registry = registry
        self._recorder = recorder
        self._bucket = bucket
        self._concurrency = concurrency
        self._dry_run = dry_run
        #: Candidates handed to the pool, this run's earlier invocations included.
        self.submitted = submitted
        self._in_flight = threading.Semaphore(concurrency)
        self._futures: list[Future[ImageRecord]] = []
        self._executor: ThreadPoolExecutor | None = None

    @contextmanager
    def running(self) -> Iterator[None]:
        """A thread pool for the block; on leaving it, every call submitted has returned (and,
        when the block ended normally, been recorded: see :meth:`drain`)."""
        self._executor = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="archive")
        try:
            yield
            self.drain()
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None

    def reserve(self, calls: int, *, max_images: int) -> None:
        """Tell the rate limiter how many calls a page is about to make (within the cap)."""
        if not self._dry_run:
            self._bucket.reserve(min(calls, max(0, max_images - self.submitted)))

    def submit(self, candidate: Candidate) -> None:
        self.submitted += 1
        if self._dry_run:
            self._recorder.record(candidate.record(Outcome.WOULD_ARCHIVE))
            return
        executor = self._executor
        if executor is None:
            raise RuntimeError("ArchivePool.submit outside running()")
        self._in_flight.acquire()
        self._bucket.acquire()
        self._futures.append(executor.submit(self._call_and_record, candidate))

    def drain(self) -> None:
        """Wait until every archive call submitted so far has returned and been recorded.

        A record that could not be written (the report store failed) is raised here, so the
        invocation fails and is redelivered rather than reporting less than it did.
        """
        futures, self._futures = self._futures, []
        wait(futures)
        for future in futures:
            future.result()

    def _call_and_record(self, candidate: Candidate) -> ImageRecord:
        # Recorded on the archive thread before the future completes, so that drain() returning
        # means every record is counted (the indexes phase reads ``gone`` right after it).
        try:
            record = self._archive(candidate)
            self._recorder.record(record)
            return record
        finally:
            self._in_flight.release()

    def _archive(self, candidate: Candidate) -> ImageRecord:
        ref = ImageRef(repository=self._repo, digest=candidate.digest)
        try:
            status = self._registry.update_storage_class(ref, "ARCHIVE")
        except ImageNotFound:
            return candidate.record(Outcome.SKIPPED, SkipReason.IMAGE_NOT_FOUND)
        except EcrArchiverError as exc:
            # A refusal (ImageStorageClassUpdateNotSupportedException) included: every image the
            # guard lets through should be archivable, so a refusal means the registry changed
            # under the run or disagrees with it, and is worth an operator's look.
            return candidate.record(Outcome.FAILED, exc.code)
        except Exception as exc:  # keep the accounting whole; the record says what broke
            logger.exception("archive call crashed", extra={"repository": self._repo, "digest": ref.digest})
            return candidate.record(Outcome.FAILED, type(exc).__name__)
        if status is ImageStatus.ARCHIVED:
            return candidate.record(Outcome.ARCHIVED)
        return candidate.record(Outcome.FAILED, f"UnexpectedStatus:{status}")
