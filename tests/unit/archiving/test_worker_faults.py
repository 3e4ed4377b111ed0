"""archive_candidates under faults: redelivery, failing reads, expiry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from ecr_archiver import errors
from ecr_archiver.archiving.models import ImageRecord, Outcome, RepositoryStatus
from ecr_archiver.archiving.report import ReportWriter
from ecr_archiver.archiving.worker import archive_candidates
from ecr_archiver.models import ImageDetail
from tests.unit.archiving.fakes import (
    Budget,
    FakeImage,
    FakeRegistry,
    FakeStore,
    NoWaitBucket,
    digest,
    limits,
)
from tests.unit.archiving.test_worker import REPO, Harness, message


class FlakyRegistry(FakeRegistry):
    """DescribeImages fails from its ``fail_from``-th call on; the preview can expire after page one."""

    def __init__(self) -> None:
        super().__init__(REPO)
        self.fail_from: int | None = None
        self.expire_after_first_page = False
        self.described = 0

    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]:
        self.described += 1
        if self.fail_from is not None and self.described >= self.fail_from:
            self.calls["DescribeImages"] += 1
            raise errors.AwsServiceError("We encountered an internal error.", code="ServerException")
        return super().describe_images_by_digest(repository, digests)

    def get_preview_page(self, repository: str, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("next_token") and self.expire_after_first_page and self.preview is not None:
            self.preview.status = "EXPIRED"
        return super().get_preview_page(repository, **kwargs)


@pytest.fixture
def registry() -> FlakyRegistry:
    flaky = FlakyRegistry()
    for n in range(150):  # two preview pages
        flaky.add(FakeImage(digest(n), [f"build-{n}"]))
    return flaky


def run(harness: Harness, delivery_id: str | None = "message-1", **kwargs: Any) -> Any:
    return archive_candidates(
        kwargs.pop("msg", message()),
        registry=harness.registry,
        store=harness.store,
        queue=harness.queue,
        remaining_ms=Budget(),
        limits=limits(listing_reuse_max=0),  # every page reads its own DescribeImages
        bucket=NoWaitBucket(),  # type: ignore[arg-type]
        delivery_id=delivery_id,
    )


def test_a_redelivered_message_returns_the_first_result_and_does_nothing(registry: FlakyRegistry) -> None:
    harness = Harness(registry)
    first = run(harness)
    calls = sum(registry.calls.values())
    second = run(harness)
    assert second == first
    assert sum(registry.calls.values()) == calls
    assert len(harness.store.all_records()) == 150


def test_another_message_of_the_same_repository_is_not_mistaken_for_a_redelivery(
    registry: FlakyRegistry,
) -> None:
    harness = Harness(registry)
    run(harness, delivery_id="message-1")
    run(harness, delivery_id="message-2")
    assert registry.calls["GetLifecyclePolicyPreview"] == 4  # two pages, twice


def test_a_read_failing_after_progress_checkpoints_instead_of_losing_the_page(
    registry: FlakyRegistry,
) -> None:
    # Given DescribeImages failing from the second page on
    registry.fail_from = 2
    harness = Harness(registry)
    # When the worker runs
    result = run(harness)
    # Then the first page's outcomes are written and counted, and a continuation starts at page two
    assert result.status is RepositoryStatus.CONTINUED
    assert result.totals.archived == 100
    assert len(harness.store.all_records()) == 100
    (body,) = harness.queue.bodies()
    assert body["cursor"] == {"phase": "IMAGES", "pageToken": "p100", "offset": 0, "invocation": 2}
    assert body["totals"]["archived"] == 100


def test_a_read_failing_before_any_progress_fails_the_message(registry: FlakyRegistry) -> None:
    registry.fail_from = 1
    harness = Harness(registry)
    with pytest.raises(errors.AwsServiceError, match="internal error"):
        run(harness)
    assert harness.store.all_records() == []
    assert harness.queue.sent == []


def test_a_preview_expiring_between_pages_continues_instead_of_completing(registry: FlakyRegistry) -> None:
    registry.expire_after_first_page = True
    harness = Harness(registry)
    result = run(harness)
    assert result.status is RepositoryStatus.CONTINUED
    (body,) = harness.queue.bodies()
    assert body["cursor"]["pageToken"] == "p100"


def test_a_retried_attempt_does_not_overwrite_the_parts_of_an_earlier_one() -> None:
    store = FakeStore()
    for outcome in (Outcome.ARCHIVED, Outcome.SKIPPED):  # two attempts of the same invocation
        writer = ReportWriter(store, "run-1", REPO, invocation=1)
        writer.add(ImageRecord(digest=digest(1), outcome=outcome))
        writer.flush()
    assert sorted(r["outcome"] for r in store.all_records()) == ["ARCHIVED", "SKIPPED"]
