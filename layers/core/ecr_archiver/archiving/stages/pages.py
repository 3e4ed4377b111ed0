"""One preview page (or the indexes' results): guard every result, then archive the allowed ones."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ecr_archiver.archiving.indexes import IndexRule
from ecr_archiver.archiving.models import ImageRecord
from ecr_archiver.archiving.protection import Guard
from ecr_archiver.archiving.stages.archive_pool import ArchivePool
from ecr_archiver.archiving.stages.guard import Candidate, decide
from ecr_archiver.archiving.stages.listing import CandidateDetails
from ecr_archiver.archiving.stages.ports import TimeBudget
from ecr_archiver.archiving.stages.records import Recorder
from ecr_archiver.models import ImageDetail


class PageKind(StrEnum):
    #: Every result was handled.
    DONE = "done"
    #: The run reached ``maxImages``: nothing more is archived.
    CAPPED = "capped"
    #: Out of time: a continuation resumes at ``resume_at``.
    STOPPED = "stopped"


@dataclass(frozen=True)
class PageOutcome:
    """How handling a page ended; ``resume_at`` is the result a continuation starts from."""

    kind: PageKind
    resume_at: int = 0

    @classmethod
    def done(cls) -> PageOutcome:
        return cls(PageKind.DONE)

    @classmethod
    def capped(cls) -> PageOutcome:
        return cls(PageKind.CAPPED)

    @classmethod
    def stopped_at(cls, position: int) -> PageOutcome:
        return cls(PageKind.STOPPED, resume_at=position)


class PageProcessor:
    """Decides a page's results and hands the allowed ones to the archive pool, in preview order."""

    def __init__(
        self,
        *,
        details: CandidateDetails,
        guard: Guard,
        pool: ArchivePool,
        recorder: Recorder,
        budget: TimeBudget,
        max_images: int,
    ) -> None:
        self._details = details
        self._guard = guard
        self._pool = pool
        self._recorder = recorder
        self._budget = budget
        self._max_images = max_images

    def process(
        self,
        results: list[dict[str, Any]],
        offset: int,
        indexes: IndexRule,
        details: dict[str, ImageDetail] | None = None,
    ) -> PageOutcome:
        """Handle ``results[offset:]`` (``details``: their DescribeImages, read here when absent).

        Every result is decided before the first call, so the rate limiter can lease exactly the
        calls this page makes; records are still written in preview order, so a continuation at
        the returned position neither repeats nor skips one.
        """
        if self._budget.out_of_time():
            return PageOutcome.stopped_at(offset)
        todo = list(enumerate(results))[offset:]
        if details is None:
            details = self._details.of(r for _, r in todo)
        phase = self._recorder.phase
        decided = [(position, decide(self._guard, r, details, indexes, phase=phase)) for position, r in todo]
        calls = sum(1 for _, decision in decided if isinstance(decision, Candidate))
        self._pool.reserve(calls, max_images=self._max_images)
        for position, decision in decided:
            if decision is None:
                continue
            if isinstance(decision, ImageRecord):
                self._recorder.record(decision)
                continue
            if self._pool.submitted >= self._max_images:
                return PageOutcome.capped()
            if self._budget.out_of_time():
                return PageOutcome.stopped_at(position)
            self._pool.submit(decision)
        return PageOutcome.done()
