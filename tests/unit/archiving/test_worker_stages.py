"""The worker's stages on their own: typed page outcomes, the preview reader, the pool, the outcome."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ecr_archiver.archiving.indexes import IndexMap, IndexRule
from ecr_archiver.archiving.models import (
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
from ecr_archiver.archiving.report import ReportWriter
from ecr_archiver.archiving.stages.archive_pool import ArchivePool
from ecr_archiver.archiving.stages.guard import Candidate, decide
from ecr_archiver.archiving.stages.listing import CandidateDetails
from ecr_archiver.archiving.stages.outcome import RunOutcomes
from ecr_archiver.archiving.stages.pages import PageKind, PageOutcome, PageProcessor
from ecr_archiver.archiving.stages.ports import TimeBudget
from ecr_archiver.archiving.stages.preview import PreviewReader
from ecr_archiver.archiving.stages.records import Recorder
from ecr_archiver.archiving.stages.redelivery import DeliveryLedger
from ecr_archiver.errors import AwsServiceError, EcrArchiverError, InvalidParameter
from ecr_archiver.models import ImageStatus
from tests.unit.archiving.fakes import (
    Budget,
    FakeImage,
    FakeQueue,
    FakeRegistry,
    FakeStore,
    NoWaitBucket,
    digest,
    work_message,
)

REPO = "team-a/api"
NO_INDEXES = IndexRule(IndexMap(mode=ManifestReads.CONSERVATIVE), gone=())


def message(**overrides: Any) -> WorkMessage:
    return work_message(REPO, **overrides)


class Stages:
    """A page processor wired to fakes, as the worker wires it."""

    def __init__(
        self, registry: FakeRegistry, *, budget: Budget, max_images: int = 5000, dry_run: bool = False
    ):
        self.registry = registry
        self.store = FakeStore()
        self.bucket = NoWaitBucket()
        self.recorder = Recorder(Totals(), ReportWriter(self.store, "run-1", REPO, invocation=1))
        self.pool = ArchivePool(
            REPO, registry, self.recorder, self.bucket, concurrency=2, dry_run=dry_run, submitted=0
        )
        self.pages = PageProcessor(
            details=CandidateDetails(REPO, registry, reuse_max=0, fresh_seconds=0.0),
            guard=Guard(ProtectedSet(), ["prod-*"]),
            pool=self.pool,
            recorder=self.recorder,
            budget=TimeBudget(budget, 1000),
            max_images=max_images,
        )

    def process_first_page(self, offset: int = 0) -> PageOutcome:
        results = self.registry.get_preview_page(REPO)["previewResults"]
        with self.pool.running():
            return self.pages.process(results, offset, NO_INDEXES)


def registry_with(n: int, *, tags: dict[int, list[str]] | None = None) -> FakeRegistry:
    registry = FakeRegistry(REPO)
    for i in range(n):
        registry.add(FakeImage(digest(i), tags=(tags or {}).get(i, [f"v{i}"])))
    return registry


# -- pages -----------------------------------------------------------------------------------
def test_a_page_handled_to_its_end_is_done() -> None:
    # Given three unprotected candidates and time to spare
    stages = Stages(registry_with(3), budget=Budget())
    # When the page is processed
    outcome = stages.process_first_page()
    # Then it is DONE, and every candidate was archived
    assert outcome == PageOutcome(PageKind.DONE)
    assert sorted(stages.registry.archived) == [digest(i) for i in range(3)]


def test_a_page_stops_at_the_cap() -> None:
    # Given a cap of two images and three candidates
    stages = Stages(registry_with(3), budget=Budget(), max_images=2)
    # When the page is processed
    outcome = stages.process_first_page()
    # Then it is CAPPED after two archive calls, and only two calls were leased
    assert outcome.kind is PageKind.CAPPED
    assert stages.registry.calls["UpdateImageStorageClass"] == 2
    assert stages.bucket.reserved == [2]


def test_a_page_out_of_time_mid_way_names_the_result_to_resume_at() -> None:
    # Given a clock that runs out after two submissions (it is read on entry and before each one)
    stages = Stages(registry_with(3), budget=Budget(remaining_ms=3500, per_call_ms=1000))
    # When the page is processed
    outcome = stages.process_first_page()
    # Then it STOPPED at the third result, and only the first two were archived
    assert outcome == PageOutcome.stopped_at(2)
    assert sorted(stages.registry.archived) == [digest(0), digest(1)]


def test_a_page_with_no_time_left_resumes_at_its_offset_and_reads_nothing() -> None:
    # Given no time left at all
    stages = Stages(registry_with(3), budget=Budget(remaining_ms=0))
    before = stages.registry.calls["DescribeImages"]
    # When the page is processed from its second result
    outcome = stages.process_first_page(offset=1)
    # Then the continuation resumes at that same result, and neither DescribeImages nor an archive call ran
    assert outcome == PageOutcome.stopped_at(1)
    assert stages.registry.calls["DescribeImages"] == before
    assert stages.registry.calls["UpdateImageStorageClass"] == 0


def test_a_dry_run_page_records_would_archive_and_calls_nothing() -> None:
    # Given a dry run
    stages = Stages(registry_with(2), budget=Budget(), dry_run=True)
    # When the page is processed
    outcome = stages.process_first_page()
    # Then each candidate is WOULD_ARCHIVE, no archive call was made and nothing was leased
    assert outcome.kind is PageKind.DONE
    assert stages.recorder.totals().would_archive == 2
    assert stages.registry.calls["UpdateImageStorageClass"] == 0
    assert stages.bucket.reserved == []


# -- guard -----------------------------------------------------------------------------------
def test_the_guard_lets_an_unprotected_standard_candidate_through_as_a_candidate() -> None:
    registry = registry_with(2, tags={1: ["prod-1"]})
    results = registry.get_preview_page(REPO)["previewResults"]
    details = CandidateDetails(REPO, registry, reuse_max=0, fresh_seconds=0.0).of(results)
    guard = Guard(ProtectedSet(), ["prod-*"])
    # When each result is decided in the images phase
    free, tagged = (decide(guard, r, details, NO_INDEXES, phase=WorkPhase.IMAGES) for r in results)
    # Then the unprotected one is a Candidate, the protected one a SKIPPED record saying why
    assert isinstance(free, Candidate)
    assert free.digest == digest(0)
    assert isinstance(tagged, ImageRecord)
    assert (tagged.outcome, tagged.reason) == (Outcome.SKIPPED, SkipReason.PROTECTED_TAG)


def test_the_guard_ignores_results_that_are_not_transitions_to_archive() -> None:
    result = {"imageDigest": digest(1), "action": {"type": "EXPIRE"}, "storageClass": "STANDARD"}
    decision = decide(Guard(ProtectedSet(), []), result, {}, NO_INDEXES, phase=WorkPhase.IMAGES)
    assert decision is None


# -- archive pool ----------------------------------------------------------------------------
def test_the_pool_refuses_a_submission_outside_running() -> None:
    stages = Stages(registry_with(1), budget=Budget())
    with pytest.raises(RuntimeError):
        stages.pool.submit(Candidate({"digest": digest(0), "tags": []}))
    assert stages.registry.calls["UpdateImageStorageClass"] == 0


def test_the_pool_records_an_image_deleted_since_the_preview_as_image_not_found() -> None:
    stages = Stages(FakeRegistry(REPO), budget=Budget())
    with stages.pool.running():
        stages.pool.submit(Candidate({"digest": digest(7), "tags": []}))
    stages.recorder.report.flush()
    (record,) = stages.store.all_records()
    assert (record["outcome"], record["reason"]) == ("SKIPPED", "IMAGE_NOT_FOUND")


class SlowRecorder(Recorder):
    """Records slowly, as a report chunk written to S3 would: drain() must still wait for it."""

    def record(self, record: ImageRecord) -> None:
        time.sleep(0.05)
        super().record(record)


def test_drain_returns_only_once_every_returned_call_is_recorded() -> None:
    stages = Stages(registry_with(4), budget=Budget())
    recorder = SlowRecorder(Totals(), ReportWriter(stages.store, "run-1", REPO, invocation=1))
    pool = ArchivePool(
        REPO, stages.registry, recorder, stages.bucket, concurrency=4, dry_run=False, submitted=0
    )
    with pool.running():
        for i in range(4):
            pool.submit(Candidate({"digest": digest(i), "tags": []}))
        pool.drain()
        # the indexes phase reads what was archived right after drain(), inside the block
        assert recorder.recorded == 4
        assert recorder.tally.totals().archived == 4


class FailingRecorder(Recorder):
    def record(self, record: ImageRecord) -> None:
        raise AwsServiceError("report store unavailable")


def test_a_record_that_cannot_be_written_fails_the_drain_instead_of_vanishing() -> None:
    stages = Stages(registry_with(1), budget=Budget())
    recorder = FailingRecorder(Totals(), ReportWriter(stages.store, "run-1", REPO, invocation=1))
    pool = ArchivePool(
        REPO, stages.registry, recorder, stages.bucket, concurrency=2, dry_run=False, submitted=0
    )
    with pytest.raises(AwsServiceError), pool.running():
        pool.submit(Candidate({"digest": digest(0), "tags": []}))


# -- preview ---------------------------------------------------------------------------------
class ExpiredTokenRegistry(FakeRegistry):
    def get_preview_page(
        self, repository: str, *, next_token: str | None = None, page_size: int = 100
    ) -> dict[str, Any]:
        if next_token is not None:
            self.calls["GetLifecyclePolicyPreview"] += 1
            raise InvalidParameter("Invalid NextToken")
        return super().get_preview_page(repository, next_token=None, page_size=page_size)


def test_an_expired_page_token_opens_the_preview_from_the_top_keeping_the_invocation() -> None:
    # Given a continuation whose page token the (restarted) preview no longer knows
    registry = ExpiredTokenRegistry(REPO)
    registry.add(FakeImage(digest(1)))
    cursor = Cursor(page_token="p100", offset=7, invocation=3)
    # When the preview is opened at that cursor
    opened = PreviewReader(message(), registry, page_size=100).open(cursor)
    # Then the first page is read, and the cursor starts over within the same invocation
    assert opened.page is not None
    assert [r["imageDigest"] for r in opened.page["previewResults"]] == [digest(1)]
    assert opened.cursor == Cursor(invocation=3)
    assert registry.calls["GetLifecyclePolicyPreview"] == 2


def test_a_failed_preview_opens_as_no_page() -> None:
    registry = FakeRegistry(REPO)
    registry.preview.status = "FAILED"  # type: ignore[union-attr]
    opened = PreviewReader(message(), registry, page_size=100).open(Cursor())
    assert opened.page is None
    assert registry.calls["StartLifecyclePolicyPreview"] == 0


# -- redelivery and outcome ------------------------------------------------------------------
def test_a_remembered_delivery_is_answered_from_its_stored_result() -> None:
    store = FakeStore()
    ledger = DeliveryLedger(store, "run-1", REPO, "message-1")
    assert ledger.handled_before() is None
    result = RepositoryResult(
        run_id="run-1", repository=REPO, status=RepositoryStatus.COMPLETE, dry_run=False, totals=Totals()
    )
    ledger.remember(result)
    assert ledger.handled_before() == result
    assert DeliveryLedger(store, "run-1", REPO, "message-2").handled_before() is None


def test_without_a_delivery_id_nothing_is_stored() -> None:
    store = FakeStore()
    ledger = DeliveryLedger(store, "run-1", REPO, None)
    ledger.remember(
        RepositoryResult(
            run_id="run-1", repository=REPO, status=RepositoryStatus.COMPLETE, dry_run=False, totals=Totals()
        )
    )
    assert ledger.handled_before() is None
    assert store.objects == {}


def outcomes_for(msg: WorkMessage, queue: FakeQueue) -> RunOutcomes:
    store = FakeStore()
    report = ReportWriter(store, msg.run_id, REPO, invocation=1)
    return RunOutcomes(
        msg,
        queue=queue,
        report=report,
        recorder=Recorder(msg.totals, report),
        deliveries=DeliveryLedger(store, msg.run_id, REPO, None),
        dry_run=False,
    )


def test_a_continuation_at_the_cursor_it_started_from_fails_instead_of_looping() -> None:
    # Given a message that already continued from page p100, result 4
    cursor = Cursor(page_token="p100", offset=4, invocation=2)
    queue = FakeQueue()
    outcomes = outcomes_for(message(cursor=cursor), queue)
    # When it would continue from that very place again
    with pytest.raises(EcrArchiverError) as raised:
        outcomes.continue_later(cursor.model_copy(update={"invocation": 3}))
    # Then it fails as NoProgress, and no follow-up message is sent
    assert raised.value.code == "NoProgress"
    assert queue.sent == []


def test_a_continuation_sends_the_message_again_with_its_cursor() -> None:
    queue = FakeQueue()
    outcomes = outcomes_for(message(), queue)
    result = outcomes.continue_later(Cursor(page_token="p100", offset=4, invocation=2))
    assert result.status is RepositoryStatus.CONTINUED
    (body,) = queue.bodies()
    assert body["cursor"] == {"phase": "IMAGES", "pageToken": "p100", "offset": 4, "invocation": 2}


def test_a_checkpoint_without_progress_raises_the_read_error_for_sqs_to_retry() -> None:
    queue = FakeQueue()
    error = EcrArchiverError("DescribeImages failed", code="ServerException")
    with pytest.raises(EcrArchiverError) as raised:
        outcomes_for(message(), queue).checkpoint(error, Cursor(invocation=2), progressed=False)
    assert raised.value is error
    assert queue.sent == []


def test_an_archived_status_other_than_archived_is_a_failure() -> None:
    class Activating(FakeRegistry):
        def update_storage_class(self, ref: Any, target: str) -> ImageStatus:
            return ImageStatus.ACTIVATING

    stages = Stages(Activating(REPO), budget=Budget())
    with stages.pool.running():
        stages.pool.submit(Candidate({"digest": digest(1), "tags": []}))
    assert stages.recorder.totals().failed == 1
