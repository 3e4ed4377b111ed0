"""archive_candidates: the guarded, rate-limited, resumable worker, against in-memory fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_archiver import errors
from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.models import Cursor, ProtectedSet, RepositoryStatus, WorkMessage
from ecr_archiver.archiving.worker import archive_candidates
from ecr_archiver.models import ImageStatus
from tests.unit.archiving.fakes import (
    OTHER_POLICY_TEXT,
    POLICY_TEXT,
    Budget,
    FakeImage,
    FakePreview,
    FakeQueue,
    FakeRegistry,
    FakeStore,
    NoWaitBucket,
    digest,
    limits,
    work_message,
)

REPO = "team-a/api"


def message(**overrides: Any) -> WorkMessage:
    return work_message(REPO, **{"tag_patterns": ["latest", "prod-*"], **overrides})


class Harness:
    def __init__(self, registry: FakeRegistry) -> None:
        self.registry = registry
        self.store = FakeStore()
        self.queue = FakeQueue()

    def run(self, msg: WorkMessage, *, budget: Budget | None = None, **limit_overrides: Any):  # type: ignore[no-untyped-def]
        return archive_candidates(
            msg,
            registry=self.registry,
            store=self.store,
            queue=self.queue,
            remaining_ms=budget or Budget(),
            limits=limits(**limit_overrides),
            bucket=NoWaitBucket(),  # type: ignore[arg-type]
        )

    def outcome_of(self, d: str) -> tuple[str, str | None]:
        (record,) = [r for r in self.store.all_records() if r["digest"] == d]
        return record["outcome"], record.get("reason")


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry(REPO)


@pytest.fixture
def harness(registry: FakeRegistry) -> Harness:
    return Harness(registry)


# -- what gets archived ----------------------------------------------------------------------
def test_a_dry_run_makes_no_mutating_call_and_reports_would_archive(registry, harness):
    # Given two unprotected candidates
    registry.add(FakeImage(digest(1), ["v1"]))
    registry.add(FakeImage(digest(2)))
    # When a dry run handles the repository
    result = harness.run(message(dry_run=True))
    # Then nothing is archived, and both are reported as WOULD_ARCHIVE
    assert registry.calls["UpdateImageStorageClass"] == 0
    assert registry.calls["StartLifecyclePolicyPreview"] == 0
    assert result.totals.would_archive == 2
    assert harness.outcome_of(digest(1)) == ("WOULD_ARCHIVE", None)


def test_the_functions_dry_run_setting_wins_over_a_message_asking_for_real(registry, harness):
    registry.add(FakeImage(digest(1), ["v1"]))
    result = harness.run(message(dry_run=False), force_dry_run=True)
    assert registry.calls["UpdateImageStorageClass"] == 0
    assert result.dry_run is True


def test_unprotected_candidates_are_archived(registry, harness):
    registry.add(FakeImage(digest(1), ["v1"], size=10))
    registry.add(FakeImage(digest(2), size=32))
    result = harness.run(message())
    assert sorted(registry.archived) == [digest(1), digest(2)]
    assert result.totals.archived == 2
    assert result.totals.bytes_archived == 42
    assert result.status is RepositoryStatus.COMPLETE


def test_a_tag_matching_a_protected_pattern_is_never_archived(registry, harness):
    registry.add(FakeImage(digest(1), ["prod-2024"]))
    registry.add(FakeImage(digest(2), ["dev-1"]))
    harness.run(message())
    assert registry.archived == [digest(2)]
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "PROTECTED_TAG")


def test_a_protected_tag_added_after_the_preview_still_protects_the_image(registry, harness):
    # Given an image the preview saw as "feature-x", re-tagged "prod-7" since
    registry.add(FakeImage(digest(1), ["feature-x", "prod-7"], preview_tags=["feature-x"]))
    # When the worker runs
    harness.run(message())
    # Then the current tag protects it, and the report shows the current tags
    assert registry.archived == []
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "PROTECTED_TAG")
    (record,) = harness.store.all_records()
    assert record["tags"] == ["feature-x", "prod-7"]


def test_an_image_in_use_only_by_digest_is_never_archived(registry, harness):
    # Given an ECS task that references an untagged image by digest only
    registry.add(FakeImage(digest(1)))
    registry.add(FakeImage(digest(2)))
    protected = ProtectedSet(in_use_digests=[digest(1)])
    # When the worker runs
    harness.run(message(protected=protected))
    # Then that digest is skipped as in use
    assert registry.archived == [digest(2)]
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "IN_USE_DIGEST")


def test_an_image_whose_tag_is_in_use_is_never_archived(registry, harness):
    registry.add(FakeImage(digest(1), ["v7"]))
    harness.run(message(protected=ProtectedSet(in_use_tags=["v7"])))
    assert registry.archived == []
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "IN_USE_TAG")


def test_an_explicitly_listed_image_is_never_archived(registry, harness):
    registry.add(FakeImage(digest(1), ["1.2.3"]))
    registry.add(FakeImage(digest(2)))
    harness.run(message(protected=ProtectedSet(listed_tags=["1.2.3"], listed_digests=[digest(2)])))
    assert registry.archived == []
    assert harness.outcome_of(digest(2)) == ("SKIPPED", "PROTECTED_IMAGE")


def test_a_referrer_artifact_follows_its_subject_and_is_not_archived(registry, harness):
    registry.add(FakeImage(digest(1), ["v1"]))
    registry.add(FakeImage(digest(2), subject=digest(1)))
    harness.run(message())
    assert registry.archived == [digest(1)]
    assert harness.outcome_of(digest(2)) == ("SKIPPED", "REFERRER_ARTIFACT")


def test_results_not_in_standard_storage_are_not_archived(registry, harness):
    registry.add(FakeImage(digest(1), status=ImageStatus.ARCHIVED))
    harness.run(message())
    assert registry.calls["UpdateImageStorageClass"] == 0
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "NOT_STANDARD")


def test_nothing_beyond_max_images_per_run_is_archived(registry, harness):
    for n in range(10):
        registry.add(FakeImage(digest(n)))
    result = harness.run(message(max_images=3))
    assert len(registry.archived) == 3
    assert result.capped is True


# -- images that change between the preview and the archive call -----------------------------
def test_an_image_deleted_before_it_is_described_is_skipped_not_failed(registry, harness):
    registry.add(FakeImage(digest(1)))
    registry.preview = FakePreview()
    page = registry.get_preview_page(REPO)
    del registry.images[digest(1)]
    registry.get_preview_page = lambda *a, **k: page  # type: ignore[method-assign]
    result = harness.run(message())
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "IMAGE_NOT_FOUND")
    assert result.totals.failed == 0
    assert registry.calls["UpdateImageStorageClass"] == 0


def test_an_image_deleted_between_describe_and_archive_is_skipped_not_failed(registry, harness):
    registry.add(FakeImage(digest(1)))
    registry.deleted_after_describe = {digest(1)}
    result = harness.run(message(), listing_reuse_max=0)  # the page's own DescribeImages
    assert harness.outcome_of(digest(1)) == ("SKIPPED", "IMAGE_NOT_FOUND")
    assert result.totals.failed == 0


def test_an_image_archived_between_describe_and_archive_is_a_failure_with_ecrs_reason(registry, harness):
    registry.add(FakeImage(digest(1)))
    original = registry.describe_images_by_digest

    def describe_then_archive(repo, digests):  # type: ignore[no-untyped-def]
        yield from original(repo, digests)
        registry.images[digest(1)].status = ImageStatus.ARCHIVED

    registry.describe_images_by_digest = describe_then_archive  # type: ignore[method-assign]
    result = harness.run(message(), listing_reuse_max=0)  # the page's own DescribeImages
    assert harness.outcome_of(digest(1)) == ("FAILED", "ImageStorageClassUpdateNotSupportedException")
    assert result.totals.failed == 1


def test_an_archive_call_that_fails_is_reported_with_its_error_code(registry, harness):
    registry.add(FakeImage(digest(1)))

    def throttled(ref, target):  # type: ignore[no-untyped-def]
        raise errors.Throttled("slow down", code="ThrottlingException")

    registry.update_storage_class = throttled  # type: ignore[method-assign]
    result = harness.run(message())
    assert harness.outcome_of(digest(1)) == ("FAILED", "ThrottlingException")
    assert result.totals.failed == 1


# -- preview states --------------------------------------------------------------------------
def test_a_preview_started_by_someone_else_with_another_policy_is_restarted(registry, harness):
    # Given a complete preview of a different policy
    registry.add(FakeImage(digest(1)))
    registry.preview = FakePreview(status="COMPLETE", policy_text=OTHER_POLICY_TEXT)
    # When the worker reads it, Then it restarts ours and asks to be retried
    with pytest.raises(PreviewNotReady):
        harness.run(message())
    assert registry.calls["StartLifecyclePolicyPreview"] == 1
    assert registry.preview.policy_text == POLICY_TEXT
    assert registry.archived == []


def test_a_preview_still_in_progress_is_retried_later_without_a_restart(registry, harness):
    registry.add(FakeImage(digest(1)))
    registry.preview = FakePreview(status="IN_PROGRESS")
    with pytest.raises(PreviewNotReady):
        harness.run(message())
    assert registry.calls["StartLifecyclePolicyPreview"] == 0
    assert registry.archived == []


@pytest.mark.parametrize("state", ["EXPIRED", "missing"])
def test_an_expired_or_missing_preview_is_restarted_and_retried(registry, harness, state):
    registry.preview = None if state == "missing" else FakePreview(status="EXPIRED")
    with pytest.raises(PreviewNotReady):
        harness.run(message())
    assert registry.calls["StartLifecyclePolicyPreview"] == 1


def test_a_restart_refused_because_another_preview_runs_is_still_retried(registry, harness):
    registry.preview = FakePreview(status="EXPIRED")
    registry.start_raises = errors.PreviewInProgress("busy")
    with pytest.raises(PreviewNotReady):
        harness.run(message())


def test_a_failed_preview_is_reported_and_the_repository_stops_for_this_run(registry, harness):
    registry.add(FakeImage(digest(1)))
    registry.preview = FakePreview(status="FAILED")
    result = harness.run(message())
    assert result.status is RepositoryStatus.PREVIEW_FAILED
    assert registry.archived == []
    assert harness.store.get_json(result.report_key)["status"] == "PREVIEW_FAILED"


# -- time budget and continuation ------------------------------------------------------------
def test_a_continuation_across_two_invocations_archives_every_candidate_exactly_once(registry, harness):
    # Given 250 candidates over three preview pages
    for n in range(250):
        registry.add(FakeImage(digest(n)))
    # When the first invocation runs out of budget part-way through the second page
    first = harness.run(message(), budget=Budget(remaining_ms=1000 + 140 * 10, per_call_ms=10))
    assert first.status is RepositoryStatus.CONTINUED
    assert 100 < len(registry.archived) < 250
    (continuation, _delay) = harness.queue.sent[-1]
    # And the continuation runs with plenty of time
    second = harness.run(WorkMessage.model_validate_json(continuation))
    # Then every candidate was archived once, and the totals add up across invocations
    assert sorted(registry.archived) == sorted(digest(n) for n in range(250))
    assert len(registry.archived) == 250
    assert second.status is RepositoryStatus.COMPLETE
    assert second.totals.archived == 250
    assert len(harness.store.all_records()) == 250


def test_a_dry_run_continuation_reports_every_candidate_exactly_once(registry, harness):
    for n in range(150):
        registry.add(FakeImage(digest(n)))
    harness.run(message(dry_run=True), budget=Budget(remaining_ms=1000 + 60 * 10, per_call_ms=10))
    harness.run(WorkMessage.model_validate_json(harness.queue.sent[-1][0]))
    digests = [r["digest"] for r in harness.store.all_records()]
    assert sorted(digests) == sorted(digest(n) for n in range(150))


def test_with_no_budget_left_the_message_is_handed_on_untouched(registry, harness):
    registry.add(FakeImage(digest(1)))
    result = harness.run(message(), budget=Budget(remaining_ms=500))
    assert result.status is RepositoryStatus.CONTINUED
    assert registry.archived == []
    cursor = WorkMessage.model_validate_json(harness.queue.sent[-1][0]).cursor
    assert cursor is not None
    assert (cursor.page_token, cursor.offset, cursor.invocation) == (None, 0, 2)


def test_a_continuation_whose_preview_was_restarted_reads_the_new_preview_from_the_start(registry, harness):
    # Given a continuation cursor from a preview that has since been replaced (its token is invalid)
    registry.add(FakeImage(digest(1)))
    registry.add(FakeImage(digest(2), status=ImageStatus.ARCHIVED))  # archived by the first invocation
    original = registry.get_preview_page

    def reject_old_tokens(repo, *, next_token=None, page_size=100):  # type: ignore[no-untyped-def]
        if next_token == "stale":
            raise errors.InvalidParameter("invalid or expired token")
        return original(repo, next_token=next_token, page_size=page_size)

    registry.get_preview_page = reject_old_tokens  # type: ignore[method-assign]
    msg = message(cursor=Cursor(page_token="stale", offset=3, invocation=2))
    # When it runs, Then it starts over and archives only what is still STANDARD
    result = harness.run(msg)
    assert registry.archived == [digest(1)]
    assert result.status is RepositoryStatus.COMPLETE


def test_a_continuation_that_again_makes_no_progress_fails_instead_of_looping(registry, harness):
    registry.add(FakeImage(digest(1)))
    harness.run(message(), budget=Budget(remaining_ms=500))
    continuation = WorkMessage.model_validate_json(harness.queue.sent[-1][0])
    with pytest.raises(errors.EcrArchiverError, match="no progress"):
        harness.run(continuation, budget=Budget(remaining_ms=500))
    assert len(harness.queue.sent) == 1


# -- report and cost -------------------------------------------------------------------------
def test_the_report_lists_every_image_with_outcome_reason_tags_size_and_rule(registry, harness):
    registry.add(FakeImage(digest(1), ["latest"], size=7))
    registry.add(FakeImage(digest(2), ["v2"], size=9))
    result = harness.run(message())
    report = harness.store.get_json(result.report_key)
    assert report["totals"]["archived"] == 1
    assert report["totals"]["protected"] == {"PROTECTED_TAG": 1}
    records = {r["digest"]: r for r in harness.store.all_records()}
    assert records[digest(1)] | {"pushedAt": None} == {
        "digest": digest(1),
        "tags": ["latest"],
        "outcome": "SKIPPED",
        "reason": "PROTECTED_TAG",
        "sizeBytes": 7,
        "rulePriority": 1,
        "pushedAt": None,
    }
    assert records[digest(2)]["outcome"] == "ARCHIVED"


def test_report_records_are_flushed_in_chunks_not_held_until_the_end(registry, harness):
    for n in range(25):
        registry.add(FakeImage(digest(n)))
    harness.run(message(dry_run=True), report_chunk=10)
    parts = [k for k in harness.store.objects if k.endswith(".jsonl")]
    assert len(parts) == 3


def test_ecr_calls_per_archived_image_stay_within_two_percent_overhead(registry, harness):
    # One preview page and one DescribeImages per 100 results, plus one DescribeImages page per
    # 1000 images to find the repository's indexes (none here, so no manifest is read).
    for n in range(1000):
        registry.add(FakeImage(digest(n)))
    harness.run(message())
    calls = sum(registry.calls.values())
    assert len(registry.archived) == 1000
    assert registry.calls["BatchGetImage"] == 0
    assert calls / 1000 <= 1.021


def test_protected_images_are_counted_in_a_metric_by_reason(registry, harness, capsys):
    registry.add(FakeImage(digest(1), ["latest"]))
    registry.add(FakeImage(digest(2), ["prod-1"]))
    registry.add(FakeImage(digest(3), subject=digest(9)))
    harness.run(message())
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    protected = {b["Reason"]: b["ImagesProtected"] for b in blobs if "ImagesProtected" in b}
    assert protected == {"PROTECTED_TAG": [2.0], "REFERRER_ARTIFACT": [1.0]}


@pytest.mark.parametrize(("reuse_max", "page_reads"), [(1000, 0), (5, 1)])
def test_a_small_repositorys_listing_serves_as_its_pages_details(registry, harness, reuse_max, page_reads):
    for n in range(10):
        registry.add(FakeImage(digest(n), [f"build-{n}"]))
    original, reads = registry.describe_images_by_digest, []

    def counted(repo, digests):  # type: ignore[no-untyped-def]
        reads.append(list(digests))
        return original(repo, reads[-1])

    registry.describe_images_by_digest = counted  # type: ignore[method-assign]
    result = harness.run(message(), listing_reuse_max=reuse_max)
    assert len(reads) == page_reads
    assert result.totals.archived == 10
