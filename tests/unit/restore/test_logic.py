"""restore_image / describe_image_status against a fake registry."""

from __future__ import annotations

import pytest

from ecr_archiver.errors import ImageNotFound, RepositoryNotFound, StorageClassUpdateNotSupported, Throttled
from ecr_archiver.models import ImageStatus
from ecr_archiver.observability import metrics
from ecr_archiver.restore.errors import RepositoryNotAllowed
from ecr_archiver.restore.logic import describe_image_status, restore_image
from ecr_archiver.restore.models import ImageQuery, RepositoryAllowList, RestoreRequest
from tests.unit.restore.support import FakeRegistry

ALL = RepositoryAllowList.parse("*")
SIGNATURE = "application/vnd.dev.cosign.artifact.sig.v1+json"
SBOM = "application/spdx+json"


def request(**fields: object) -> RestoreRequest:
    return RestoreRequest.model_validate({"repository": "team/app", **fields})


def metric(name: str) -> float:
    return sum(metrics.metric_set.get(name, {}).get("Value", []))


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


class TestRestoringAnArchivedImage:
    def test_starts_the_restore_and_reports_activating(self, registry: FakeRegistry) -> None:
        # Given an archived image
        digest = registry.add_image("team/app", ("v1", "stable"), status=ImageStatus.ARCHIVED)
        # When it is restored by tag
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        # Then ECR is asked for STANDARD and the answer describes the activating image
        assert registry.status("team/app", digest) is ImageStatus.ACTIVATING
        assert result.status is ImageStatus.ACTIVATING
        assert (result.repository, result.digest, result.tags) == ("team/app", digest, ["v1", "stable"])

    def test_restores_by_digest_even_when_asked_by_tag(self, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        [(ref, target)] = registry.updates
        assert (ref.digest, ref.tag, target) == (digest, None, "STANDARD")

    def test_restores_archived_referrers_too(self, registry: FakeRegistry) -> None:
        # Given an archived image with an archived signature and SBOM
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        signature = registry.add_referrer("team/app", subject, artifact_type=SIGNATURE)
        sbom = registry.add_referrer("team/app", subject, artifact_type=SBOM)
        # When it is restored
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        # Then both referrers are restored and reported
        assert registry.status("team/app", signature) is ImageStatus.ACTIVATING
        assert registry.status("team/app", sbom) is ImageStatus.ACTIVATING
        assert [(r.digest, r.artifact_type, r.status) for r in result.referrers] == [
            (signature, SIGNATURE, ImageStatus.ACTIVATING),
            (sbom, SBOM, ImageStatus.ACTIVATING),
        ]

    def test_asks_ecr_only_for_archived_referrers(self, registry: FakeRegistry) -> None:
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.add_referrer("team/app", subject, artifact_type=SIGNATURE, status=ImageStatus.ACTIVE)
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert registry.referrer_queries == ["ARCHIVED"]
        assert result.referrers == []
        assert len(registry.updates) == 1

    def test_leaves_referrers_archived_when_include_referrers_is_false(self, registry: FakeRegistry) -> None:
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        signature = registry.add_referrer("team/app", subject, artifact_type=SIGNATURE)
        result = restore_image(request(tag="v1", includeReferrers=False), registry=registry, allowed=ALL)
        assert registry.status("team/app", signature) is ImageStatus.ARCHIVED
        assert result.referrers == []
        assert registry.referrer_queries == []

    def test_reports_a_referrer_that_failed_without_failing_the_request(self, registry: FakeRegistry) -> None:
        # Given a referrer ECR refuses to restore
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        signature = registry.add_referrer("team/app", subject, artifact_type=SIGNATURE)
        registry.fail_update[signature] = Throttled("slow down", code="ThrottlingException")
        # When the image is restored
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        # Then the image restore stands and the referrer carries ECR's error code
        assert result.status is ImageStatus.ACTIVATING
        [referrer] = result.referrers
        assert (referrer.status, referrer.error) == (ImageStatus.ARCHIVED, "ThrottlingException")
        assert metric("RestoreFailures") == 1
        assert metric("ReferrersRestored") == 0

    def test_counts_the_restore_and_its_referrers(self, registry: FakeRegistry) -> None:
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.add_referrer("team/app", subject, artifact_type=SIGNATURE)
        registry.add_referrer("team/app", subject, artifact_type=SBOM)
        restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert (metric("RestoresRequested"), metric("ReferrersRestored")) == (1, 2)
        assert metric("RestoresAlreadyActive") == 0

    def test_counts_the_bytes_it_brings_back_for_the_dashboard(self, registry: FakeRegistry) -> None:
        # Given an archived image of 1234 bytes (the fake's size)
        registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        # When it is restored, Then its size is counted once
        restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert metric("BytesRestored") == 1234
        # And asking again (now ACTIVATING) counts nothing more
        restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert metric("BytesRestored") == 1234


class TestNothingToRestore:
    def test_an_activating_image_is_reported_and_nothing_new_is_started(self, registry: FakeRegistry) -> None:
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ACTIVATING)
        registry.add_referrer("team/app", subject, artifact_type=SIGNATURE)
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert result.status is ImageStatus.ACTIVATING
        assert registry.updates == []
        assert metric("RestoresRequested") == 0

    def test_an_active_image_is_reported_and_nothing_is_done(self, registry: FakeRegistry) -> None:
        registry.add_image("team/app", ("v1",))
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert result.status is ImageStatus.ACTIVE
        assert registry.updates == []
        assert metric("RestoresAlreadyActive") == 1

    def test_an_active_images_archived_referrers_are_reported_not_restored(
        self, registry: FakeRegistry
    ) -> None:
        # Given an active image whose signature is still archived
        subject = registry.add_image("team/app", ("v1",))
        signature = registry.add_referrer("team/app", subject, artifact_type=SIGNATURE)
        # When a restore is requested
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        # Then nothing is mutated, but the archived signature is visible (restorable by digest)
        assert registry.updates == []
        assert [(r.digest, r.status) for r in result.referrers] == [(signature, ImageStatus.ARCHIVED)]

    def test_a_concurrent_restore_is_reported_rather_than_refused(self, registry: FakeRegistry) -> None:
        # Given an archived image that someone else restores between our describe and update
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.fail_update[digest] = StorageClassUpdateNotSupported("already activating")
        registry.status_after_refused_update = ImageStatus.ACTIVATING
        # When it is restored, then the running restore is reported and not counted as ours
        result = restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert result.status is ImageStatus.ACTIVATING
        assert metric("RestoresRequested") == 0
        assert metric("RestoreFailures") == 0


class TestRefusals:
    def test_a_repository_outside_the_allow_list_is_refused_before_any_ecr_call(
        self, registry: FakeRegistry
    ) -> None:
        registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        with pytest.raises(RepositoryNotAllowed, match="team/app"):
            restore_image(request(tag="v1"), registry=registry, allowed=RepositoryAllowList.parse("infra/*"))
        assert registry.updates == []
        assert registry.status("team/app", next(iter(registry.images["team/app"]))) is ImageStatus.ARCHIVED

    def test_an_unknown_repository_is_not_found(self, registry: FakeRegistry) -> None:
        with pytest.raises(RepositoryNotFound):
            restore_image(request(tag="v1"), registry=registry, allowed=ALL)

    def test_an_unknown_tag_is_not_found(self, registry: FakeRegistry) -> None:
        registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        with pytest.raises(ImageNotFound):
            restore_image(request(tag="v2"), registry=registry, allowed=ALL)
        assert registry.updates == []

    def test_an_image_ecr_cannot_restore_is_refused_and_counted(self, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.fail_update[digest] = StorageClassUpdateNotSupported("not supported")
        with pytest.raises(StorageClassUpdateNotSupported):
            restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert metric("RestoreFailures") == 1

    def test_throttling_of_the_restore_itself_propagates_and_is_counted(self, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.fail_update[digest] = Throttled("slow down")
        with pytest.raises(Throttled):
            restore_image(request(tag="v1"), registry=registry, allowed=ALL)
        assert metric("RestoreFailures") == 1


class TestDescribeImageStatus:
    def test_reports_an_archived_image_by_tag(self, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        status = describe_image_status(
            ImageQuery(repository="team/app", tag="v1"), registry=registry, allowed=ALL
        )
        assert (status.digest, status.status, status.size_bytes, status.tags) == (
            digest,
            ImageStatus.ARCHIVED,
            1234,
            ["v1"],
        )

    def test_refuses_a_repository_outside_the_allow_list(self, registry: FakeRegistry) -> None:
        registry.fail_describe = AssertionError("ECR must not be called")  # type: ignore[assignment]
        with pytest.raises(RepositoryNotAllowed):
            describe_image_status(
                ImageQuery(repository="team/app", tag="v1"),
                registry=registry,
                allowed=RepositoryAllowList.parse("infra/*"),
            )
