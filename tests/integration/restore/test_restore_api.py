"""POST /restores and GET /images end to end: handler -> logic -> adapter -> emulated ECR."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ecr_emulator import Emulator
from tests.integration.restore.conftest import Invoke, archive
from tests.unit.restore.support import REQUEST_ID, body_of, get_images, header, post_restores

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")

DIGEST = "sha256:" + "0" * 64


class TestRestoreArchivedImage:
    def test_by_tag_starts_the_restore_and_answers_202(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        # Given an archived image
        digest = emulator.push_image("team/app", ["v1.2.3", "stable"])
        archive(ecr, "team/app", digest)
        emulator.reset_calls()
        # When its restore is requested by tag
        response = invoke(post_restores({"repository": "team/app", "tag": "v1.2.3"}))
        # Then ECR restores it once and the caller is told it is activating
        assert response["statusCode"] == 202
        assert body_of(response) == {
            "repository": "team/app",
            "digest": digest,
            "tags": ["v1.2.3", "stable"],
            "status": "ACTIVATING",
            "referrers": [],
        }
        assert emulator.image_status("team/app", digest) == "ACTIVATING"
        assert emulator.calls["UpdateImageStorageClass"] == 1

    def test_by_digest_starts_the_restore(self, emulator: Emulator, ecr: Any, invoke: Invoke) -> None:
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        response = invoke(post_restores({"repository": "team/app", "digest": digest}))
        assert (response["statusCode"], emulator.image_status("team/app", digest)) == (202, "ACTIVATING")

    def test_archived_referrers_are_restored_with_it(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        # Given an archived image whose signature and SBOM were archived too
        subject = emulator.push_image("team/app", "v1")
        signature = emulator.push_signature("team/app", subject)
        sbom = emulator.push_sbom("team/app", subject)
        for digest in (subject, signature, sbom):
            archive(ecr, "team/app", digest)
        # When the image is restored
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        # Then so are its referrers, and the answer lists them
        assert emulator.image_status("team/app", signature) == "ACTIVATING"
        assert emulator.image_status("team/app", sbom) == "ACTIVATING"
        assert {(r["digest"], r["status"]) for r in body_of(response)["referrers"]} == {
            (signature, "ACTIVATING"),
            (sbom, "ACTIVATING"),
        }

    def test_referrers_are_found_across_pages(self, emulator: Emulator, ecr: Any, invoke: Invoke) -> None:
        # Given more archived referrers than one ListImageReferrers page holds
        subject = emulator.push_image("team/app", "v1")
        referrers = [emulator.push_signature("team/app", subject) for _ in range(55)]
        for digest in (subject, *referrers):
            archive(ecr, "team/app", digest)
        # When the image is restored, then every referrer is
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        assert len(body_of(response)["referrers"]) == 55
        assert {emulator.image_status("team/app", d) for d in referrers} == {"ACTIVATING"}

    def test_include_referrers_false_leaves_them_archived(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        subject = emulator.push_image("team/app", "v1")
        signature = emulator.push_signature("team/app", subject)
        archive(ecr, "team/app", subject)
        archive(ecr, "team/app", signature)
        invoke(post_restores({"repository": "team/app", "tag": "v1", "includeReferrers": False}))
        assert emulator.image_status("team/app", signature) == "ARCHIVED"
        assert emulator.calls["ListImageReferrers"] == 0


class TestNothingToRestore:
    def test_activating_image_answers_202_and_starts_nothing(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        # Given an image whose restore is already running
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        emulator.reset_calls()
        # When the restore is requested again
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        # Then it is reported, and ECR is not asked to change anything
        assert (response["statusCode"], body_of(response)["status"]) == (202, "ACTIVATING")
        assert emulator.calls["UpdateImageStorageClass"] == 0

    def test_active_image_answers_200_and_nothing_is_done(self, emulator: Emulator, invoke: Invoke) -> None:
        emulator.push_image("team/app", "v1")
        emulator.reset_calls()
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["status"]) == (200, "ACTIVE")
        assert emulator.calls["UpdateImageStorageClass"] == 0

    def test_a_finished_restore_answers_200(self, emulator: Emulator, ecr: Any, invoke: Invoke) -> None:
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        emulator.clock.advance(emulator.settings.restore_delay + timedelta(seconds=1))
        assert invoke(post_restores({"repository": "team/app", "tag": "v1"}))["statusCode"] == 200


class TestGetImages:
    def test_reports_an_archived_image_found_by_tag(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        digest = emulator.push_image("team/app", "v1", size_bytes=4096)
        archive(ecr, "team/app", digest)
        response = invoke(get_images({"repository": "team/app", "tag": "v1"}))
        body = body_of(response)
        assert response["statusCode"] == 200
        assert (body["digest"], body["status"], body["tags"]) == (digest, "ARCHIVED", ["v1"])
        assert body["sizeBytes"] > 0
        assert body["pushedAt"]
        assert body["lastArchivedAt"]
        assert body["lastActivatedAt"] is None

    def test_reports_activating_then_active_with_the_activation_time(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        # Given a restore in progress
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        invoke(post_restores({"repository": "team/app", "digest": digest}))
        assert (
            body_of(invoke(get_images({"repository": "team/app", "digest": digest})))["status"]
            == "ACTIVATING"
        )
        # When ECR finishes it
        emulator.clock.advance(emulator.settings.restore_delay + timedelta(seconds=1))
        # Then the image reports ACTIVE with lastActivatedAt
        body = body_of(invoke(get_images({"repository": "team/app", "digest": digest})))
        assert body["status"] == "ACTIVE"
        assert body["lastActivatedAt"]

    def test_unknown_tag_is_404(self, emulator: Emulator, invoke: Invoke) -> None:
        emulator.push_image("team/app", "v1")
        response = invoke(get_images({"repository": "team/app", "tag": "v2"}))
        assert (response["statusCode"], body_of(response)["error"]) == (404, "ImageNotFoundException")

    def test_invalid_digest_is_422_naming_the_field(self, emulator: Emulator, invoke: Invoke) -> None:
        response = invoke(get_images({"repository": "team/app", "digest": "sha256:nothex"}))
        assert response["statusCode"] == 422
        assert [p["field"] for p in body_of(response)["fields"]] == ["query.digest"]
        assert sum(emulator.calls.values()) == 0


class TestErrors:
    def test_unknown_repository_is_404(self, emulator: Emulator, invoke: Invoke) -> None:
        response = invoke(post_restores({"repository": "team/ghost", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["error"]) == (404, "RepositoryNotFoundException")

    def test_unknown_digest_is_404_and_nothing_is_mutated(self, emulator: Emulator, invoke: Invoke) -> None:
        emulator.push_image("team/app", "v1")
        response = invoke(post_restores({"repository": "team/app", "digest": DIGEST}))
        assert response["statusCode"] == 404
        assert emulator.calls["UpdateImageStorageClass"] == 0

    @pytest.mark.parametrize(
        "body",
        [
            {"repository": "team/app"},
            {"repository": "team/app", "tag": "v1", "digest": DIGEST},
            {"repository": "UPPER/case", "tag": "v1"},
            {"repository": "team/app", "tag": "x" * 301},
            {"repository": "team/app", "tag": "v1", "includeReferrers": "false"},
        ],
    )
    def test_invalid_input_is_422_and_never_reaches_ecr(
        self, emulator: Emulator, ecr: Any, invoke: Invoke, body: dict[str, Any]
    ) -> None:
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        emulator.reset_calls()
        response = invoke(post_restores(body))
        assert response["statusCode"] == 422
        assert sum(emulator.calls.values()) == 0

    def test_storage_class_update_not_supported_is_409(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        # Given an archived image ECR refuses to restore
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        emulator.faults.set(
            "UpdateImageStorageClass", error_code="ImageStorageClassUpdateNotSupportedException", count=1
        )
        # When its restore is requested, then the refusal is a 409 and the image stays archived
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["error"]) == (
            409,
            "ImageStorageClassUpdateNotSupportedException",
        )
        assert emulator.image_status("team/app", digest) == "ARCHIVED"

    def test_ecr_throttling_is_429_with_retry_after(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        emulator.faults.set("DescribeImages", error_code="ThrottlingException", count=1)
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        assert response["statusCode"] == 429
        assert header(response, "Retry-After") == "5"
        assert emulator.image_status("team/app", digest) == "ARCHIVED"

    def test_an_ecr_server_error_is_500_with_the_correlation_id(
        self, emulator: Emulator, invoke: Invoke
    ) -> None:
        emulator.push_image("team/app", "v1")
        emulator.faults.set("DescribeImages", error_code="ServerException", count=1)
        response = invoke(get_images({"repository": "team/app", "tag": "v1"}))
        assert response["statusCode"] == 500
        assert body_of(response)["correlationId"] == REQUEST_ID
        assert "Traceback" not in response["body"]


class TestAllowList:
    @pytest.fixture
    def allowed_repositories(self) -> str:
        return "infra/*,team/allowed"

    def test_a_repository_outside_it_is_403_before_any_ecr_call(
        self, emulator: Emulator, ecr: Any, invoke: Invoke
    ) -> None:
        digest = emulator.push_image("team/app", "v1")
        archive(ecr, "team/app", digest)
        emulator.reset_calls()
        response = invoke(post_restores({"repository": "team/app", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["error"]) == (403, "RepositoryNotAllowed")
        assert sum(emulator.calls.values()) == 0
        assert emulator.image_status("team/app", digest) == "ARCHIVED"

    def test_a_repository_inside_it_is_restored(self, emulator: Emulator, ecr: Any, invoke: Invoke) -> None:
        digest = emulator.push_image("infra/base", "v1")
        archive(ecr, "infra/base", digest)
        assert invoke(post_restores({"repository": "infra/base", "tag": "v1"}))["statusCode"] == 202
