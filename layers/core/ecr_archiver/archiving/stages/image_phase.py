"""The images phase: stream the preview from the cursor (or its start) for everything but the indexes.

Preview pages are never materialised; each costs one GetLifecyclePolicyPreview and one
DescribeImages. While one page's archive calls run, the next page and its DescribeImages are
read on a second thread, so the worker never stops calling ECR to wait for its own reads.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ecr_archiver.archiving.indexes import IndexRule
from ecr_archiver.archiving.models import Cursor, WorkPhase
from ecr_archiver.archiving.stages.archive_pool import ArchivePool
from ecr_archiver.archiving.stages.listing import CandidateDetails
from ecr_archiver.archiving.stages.pages import PageKind, PageOutcome, PageProcessor
from ecr_archiver.archiving.stages.ports import TimeBudget
from ecr_archiver.archiving.stages.preview import PreviewReader
from ecr_archiver.archiving.stages.reads import ReadFailed
from ecr_archiver.errors import EcrArchiverError
from ecr_archiver.models import ImageDetail

type _Page = tuple[dict[str, Any], dict[str, ImageDetail]]


@dataclass
class _Position:
    """The token that fetched the page being handled, and where in it the phase started."""

    token: str | None
    offset: int


@dataclass(frozen=True)
class ImagesEnd:
    """Where the phase stopped: on page ``token`` at ``offset`` (unless ``outcome`` says later).

    ``failed``: a read that failed mid-repository; ``outcome`` then means nothing.
    """

    outcome: PageOutcome
    token: str | None
    offset: int
    failed: EcrArchiverError | None = None


class ImagePhase:
    """Streams the preview through the page processor, one page read ahead."""

    def __init__(
        self,
        *,
        preview: PreviewReader,
        details: CandidateDetails,
        pages: PageProcessor,
        pool: ArchivePool,
        budget: TimeBudget,
    ) -> None:
        self._preview = preview
        self._details = details
        self._pages = pages
        self._pool = pool
        self._budget = budget

    def run(self, page: dict[str, Any], indexes: IndexRule, cursor: Cursor) -> ImagesEnd:
        """Handle ``page`` (the cursor's) and every page after it, until done, capped or out of time."""
        if cursor.phase is WorkPhase.IMAGES:
            at = _Position(cursor.page_token, cursor.offset)
        else:
            at = _Position(None, 0)
        reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        try:
            with self._pool.running():
                outcome = self._stream(page, indexes, at, reader)
        except ReadFailed as exc:
            return ImagesEnd(PageOutcome.done(), at.token, at.offset, failed=exc.error)
        finally:
            reader.shutdown(wait=True, cancel_futures=True)
        return ImagesEnd(outcome, at.token, at.offset)

    def _stream(
        self, page: dict[str, Any], indexes: IndexRule, at: _Position, reader: ThreadPoolExecutor
    ) -> PageOutcome:
        details: dict[str, ImageDetail] | None = None
        while True:
            results = list(page.get("previewResults") or [])
            if details is None:  # the cursor's page: read here, before the next one
                details = self._details.of(results[at.offset :])
            next_token = page.get("nextToken")
            ahead: Future[_Page] | None = reader.submit(self._read_page, next_token) if next_token else None
            outcome = self._pages.process(results, at.offset, indexes, details)
            if outcome.kind is not PageKind.DONE or ahead is None:
                return outcome
            at.token, at.offset = next_token, 0
            if self._budget.out_of_time():
                return PageOutcome.stopped_at(0)
            page, details = ahead.result()
            if page.get("status") != "COMPLETE":
                # The preview expired (or was replaced) between two pages: its remaining
                # results are gone, not finished. The continuation restarts the preview.
                return PageOutcome.stopped_at(0)

    def _read_page(self, token: str) -> _Page:
        """The preview page at ``token`` and its candidates' details (read ahead, on its own thread)."""
        page = self._preview.page_at(token)
        if page.get("status") != "COMPLETE":
            return page, {}
        return page, self._details.of(page.get("previewResults") or [])
