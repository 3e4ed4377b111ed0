"""restore_api handler: API Gateway REST events in, HTTP responses out (fake registry behind it)."""

from __future__ import annotations

from types import ModuleType

import pytest

from ecr_archiver.errors import AwsServiceError, StorageClassUpdateNotSupported, Throttled
from ecr_archiver.models import ImageStatus
from tests.unit.restore.support import (
    REQUEST_ID,
    FakeRegistry,
    LambdaContext,
    body_of,
    emitted_metrics,
    get_images,
    header,
    load_app,
    post_restores,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")

DIGEST = "sha256:" + "cd" * 32


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, registry: FakeRegistry) -> ModuleType:
    monkeypatch.setenv("RESTORE_ALLOWED_REPOSITORIES", "team/*")
    module = load_app()
    monkeypatch.setattr(module, "EcrRegistry", lambda: registry)
    return module


def call(app: ModuleType, event: dict[str, object]) -> dict[str, object]:
    return app.lambda_handler(event, LambdaContext())  # type: ignore[no-any-return]


class TestPostRestores:
    def test_archived_image_answers_202_activating(self, app: ModuleType, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1.2.3",), status=ImageStatus.ARCHIVED)
        response = call(app, post_restores({"repository": "team/app", "tag": "v1.2.3"}))
        assert response["statusCode"] == 202
        assert body_of(response) == {
            "repository": "team/app",
            "digest": digest,
            "tags": ["v1.2.3"],
            "status": "ACTIVATING",
            "referrers": [],
        }

    def test_referrers_are_reported_in_camel_case(self, app: ModuleType, registry: FakeRegistry) -> None:
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        signature = registry.add_referrer(
            "team/app", subject, artifact_type="application/vnd.dev.cosign.artifact.sig.v1+json"
        )
        response = call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert body_of(response)["referrers"] == [
            {
                "digest": signature,
                "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
                "status": "ACTIVATING",
                "error": None,
            }
        ]

    def test_activating_image_answers_202_without_a_new_restore(
        self, app: ModuleType, registry: FakeRegistry
    ) -> None:
        registry.add_image("team/app", ("v1",), status=ImageStatus.ACTIVATING)
        response = call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["status"]) == (202, "ACTIVATING")
        assert registry.updates == []

    def test_active_image_answers_200_and_nothing_is_done(
        self, app: ModuleType, registry: FakeRegistry
    ) -> None:
        registry.add_image("team/app", ("v1",))
        response = call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["status"]) == (200, "ACTIVE")
        assert registry.updates == []

    def test_emits_the_restore_metrics(
        self, app: ModuleType, registry: FakeRegistry, capsys: pytest.CaptureFixture[str]
    ) -> None:
        subject = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.add_referrer("team/app", subject, artifact_type="application/spdx+json")
        call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        emitted = emitted_metrics(capsys.readouterr().out)
        assert (emitted.get("RestoresRequested"), emitted.get("ReferrersRestored")) == (1, 1)

    def test_emits_already_active(
        self, app: ModuleType, registry: FakeRegistry, capsys: pytest.CaptureFixture[str]
    ) -> None:
        registry.add_image("team/app", ("v1",))
        call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert emitted_metrics(capsys.readouterr().out).get("RestoresAlreadyActive") == 1


class TestInvalidInput:
    def test_a_body_that_is_not_json_is_400(self, app: ModuleType, registry: FakeRegistry) -> None:
        response = call(app, post_restores(raw='{"repository": "team/app", '))
        assert response["statusCode"] == 400
        assert body_of(response)["error"] == "MalformedRequest"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"repository": "Team/App", "tag": "v1"}, "body.repository"),
            ({"repository": "team/app", "tag": "v" * 301}, "body.tag"),
            ({"repository": "team/app", "digest": "sha256:abc"}, "body.digest"),
            ({"repository": "team/app", "tag": "v1", "includeReferrers": "yes"}, "body.includeReferrers"),
            ({"repository": "team/app", "tag": "v1", "force": True}, "body.force"),
            ({"tag": "v1"}, "body.repository"),
        ],
    )
    def test_an_invalid_field_is_422_naming_it(
        self, app: ModuleType, registry: FakeRegistry, body: dict[str, object], field: str
    ) -> None:
        response = call(app, post_restores(body))
        assert response["statusCode"] == 422
        assert field in [problem["field"] for problem in body_of(response)["fields"]]
        assert field in body_of(response)["message"]

    def test_tag_and_digest_together_is_422_naming_both(
        self, app: ModuleType, registry: FakeRegistry
    ) -> None:
        response = call(app, post_restores({"repository": "team/app", "tag": "v1", "digest": DIGEST}))
        assert response["statusCode"] == 422
        assert "exactly one of 'tag' or 'digest'" in body_of(response)["fields"][0]["message"]

    def test_a_non_json_content_type_is_415(self, app: ModuleType, registry: FakeRegistry) -> None:
        event = post_restores(raw="repository=team/app", headers={"Content-Type": "text/plain"})
        assert call(app, event)["statusCode"] == 415

    @pytest.mark.parametrize(
        ("content_type", "raw"),
        [
            ("application/x-www-form-urlencoded", "repository=team/app&tag=v1"),
            (
                "multipart/form-data; boundary=XyZ",
                '--XyZ\r\nContent-Disposition: form-data; name="repository"\r\n\r\nteam/app\r\n--XyZ--\r\n',
            ),
        ],
    )
    def test_a_form_body_is_415_and_never_reaches_ecr(
        self, app: ModuleType, registry: FakeRegistry, content_type: str, raw: str
    ) -> None:
        # Given a restore sent as a form (the API takes JSON only)
        registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        event = post_restores(raw=raw, headers={"Content-Type": content_type})
        # When handled, then it is 415 and ECR is never asked to restore
        response = call(app, event)
        assert response["statusCode"] == 415
        assert body_of(response)["error"] == "UnsupportedMediaType"
        assert registry.updates == []

    @pytest.mark.parametrize(
        "content_type",
        ["Application/JSON", "APPLICATION/JSON; charset=UTF-8", "application/json;charset=utf-8"],
    )
    def test_the_json_media_type_matches_case_insensitively(
        self, app: ModuleType, registry: FakeRegistry, content_type: str
    ) -> None:
        registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        event = post_restores({"repository": "team/app", "tag": "v1"}, headers={"Content-Type": content_type})
        assert call(app, event)["statusCode"] == 202

    def test_invalid_input_never_reaches_ecr(self, app: ModuleType, registry: FakeRegistry) -> None:
        registry.fail_describe = AssertionError("ECR must not be called")  # type: ignore[assignment]
        call(app, post_restores({"repository": "team/app"}))
        assert registry.updates == []

    def test_a_query_without_repository_is_422_naming_it(self, app: ModuleType) -> None:
        response = call(app, get_images({"tag": "v1"}))
        assert response["statusCode"] == 422
        assert [p["field"] for p in body_of(response)["fields"]] == ["query.repository"]


class TestRefusals:
    def test_repository_outside_the_allow_list_is_403(self, app: ModuleType, registry: FakeRegistry) -> None:
        registry.add_image("infra/base", ("v1",), status=ImageStatus.ARCHIVED)
        response = call(app, post_restores({"repository": "infra/base", "tag": "v1"}))
        assert response["statusCode"] == 403
        assert body_of(response)["error"] == "RepositoryNotAllowed"
        assert registry.updates == []

    def test_unknown_repository_is_404(self, app: ModuleType) -> None:
        response = call(app, post_restores({"repository": "team/ghost", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["error"]) == (404, "RepositoryNotFoundException")

    def test_unknown_image_is_404(self, app: ModuleType, registry: FakeRegistry) -> None:
        registry.add_image("team/app", ("v1",))
        response = call(app, post_restores({"repository": "team/app", "digest": DIGEST}))
        assert (response["statusCode"], body_of(response)["error"]) == (404, "ImageNotFoundException")

    def test_storage_class_update_not_supported_is_409(self, app: ModuleType, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.fail_update[digest] = StorageClassUpdateNotSupported("cannot restore an index child")
        response = call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert response["statusCode"] == 409
        assert body_of(response)["error"] == "ImageStorageClassUpdateNotSupportedException"

    def test_throttling_is_429_with_retry_after(self, app: ModuleType, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        registry.fail_update[digest] = Throttled("Rate exceeded", code="ThrottlingException")
        response = call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert response["statusCode"] == 429
        assert header(response, "Retry-After") == "5"


class TestUnexpectedErrors:
    def test_an_unexpected_error_is_500_with_the_correlation_id(
        self, app: ModuleType, registry: FakeRegistry
    ) -> None:
        registry.fail_describe = RuntimeError("boom at /var/task/secret.py")  # type: ignore[assignment]
        response = call(app, post_restores({"repository": "team/app", "tag": "v1"}))
        assert response["statusCode"] == 500
        assert body_of(response)["correlationId"] == REQUEST_ID

    def test_a_500_body_has_no_stack_trace_or_internal_detail(
        self, app: ModuleType, registry: FakeRegistry
    ) -> None:
        registry.fail_describe = RuntimeError("boom at /var/task/secret.py")  # type: ignore[assignment]
        text = str(call(app, post_restores({"repository": "team/app", "tag": "v1"}))["body"])
        assert "Traceback" not in text
        assert "secret.py" not in text
        assert "boom" not in text

    def test_an_unmapped_aws_error_is_500(self, app: ModuleType, registry: FakeRegistry) -> None:
        registry.fail_describe = AwsServiceError("not authorized", code="AccessDeniedException")
        response = call(app, get_images({"repository": "team/app", "tag": "v1"}))
        assert (response["statusCode"], body_of(response)["error"]) == (500, "InternalError")


class TestGetImages:
    def test_reports_an_archived_image(self, app: ModuleType, registry: FakeRegistry) -> None:
        digest = registry.add_image("team/app", ("v1",), status=ImageStatus.ARCHIVED)
        response = call(app, get_images({"repository": "team/app", "tag": "v1"}))
        assert response["statusCode"] == 200
        assert body_of(response) == {
            "repository": "team/app",
            "digest": digest,
            "tags": ["v1"],
            "status": "ARCHIVED",
            "sizeBytes": 1234,
            "pushedAt": None,
            "lastArchivedAt": None,
            "lastActivatedAt": None,
        }

    def test_unknown_image_is_404(self, app: ModuleType, registry: FakeRegistry) -> None:
        registry.add_image("team/app", ("v1",))
        assert call(app, get_images({"repository": "team/app", "tag": "v9"}))["statusCode"] == 404

    def test_repository_outside_the_allow_list_is_403(self, app: ModuleType) -> None:
        assert call(app, get_images({"repository": "infra/base", "tag": "v1"}))["statusCode"] == 403


def test_an_unknown_route_is_a_json_404(app: ModuleType) -> None:
    event = get_images(None)
    event["path"] = event["resource"] = "/nope"
    response = call(app, event)
    assert (response["statusCode"], body_of(response)["error"]) == (404, "NotFound")


def test_invalid_settings_fail_the_import_with_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecr_archiver.errors import SettingsInvalid

    monkeypatch.setenv("RESTORE_ALLOWED_REPOSITORIES", "Team/*")
    with pytest.raises(SettingsInvalid, match="RESTORE_ALLOWED_REPOSITORIES"):
        load_app()
