"""The restore API contract: what a request may contain, and the allow-list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ecr_archiver.errors import SettingsInvalid
from ecr_archiver.restore.models import ImageQuery, RepositoryAllowList, RestoreRequest
from ecr_archiver.restore.settings import RestoreApiSettings
from ecr_archiver.settings import load_settings

DIGEST = "sha256:" + "ab" * 32


def _error_locs(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[int | str, ...]]:
    return [err["loc"] for err in exc.value.errors()]


class TestRestoreRequest:
    def test_accepts_a_tag(self) -> None:
        request = RestoreRequest.model_validate({"repository": "team/app", "tag": "v1.2.3"})
        assert request.image_ref().image_id() == {"imageTag": "v1.2.3"}

    def test_accepts_a_digest(self) -> None:
        request = RestoreRequest.model_validate({"repository": "team/app", "digest": DIGEST})
        assert request.image_ref().image_id() == {"imageDigest": DIGEST}

    def test_includes_referrers_by_default(self) -> None:
        assert (
            RestoreRequest.model_validate({"repository": "team/app", "tag": "v1"}).include_referrers is True
        )

    def test_reads_include_referrers_in_camel_case(self) -> None:
        request = RestoreRequest.model_validate(
            {"repository": "team/app", "tag": "v1", "includeReferrers": False}
        )
        assert request.include_referrers is False

    @pytest.mark.parametrize(
        "body", [{"repository": "team/app"}, {"repository": "team/app", "tag": "v1", "digest": DIGEST}]
    )
    def test_requires_exactly_one_of_tag_or_digest(self, body: dict[str, str]) -> None:
        with pytest.raises(ValidationError, match="exactly one of 'tag' or 'digest'"):
            RestoreRequest.model_validate(body)

    def test_accepts_a_300_character_tag(self) -> None:
        assert RestoreRequest.model_validate({"repository": "team/app", "tag": "v" * 300}).tag == "v" * 300

    def test_rejects_a_301_character_tag(self) -> None:
        with pytest.raises(ValidationError) as exc:
            RestoreRequest.model_validate({"repository": "team/app", "tag": "v" * 301})
        assert ("tag",) in _error_locs(exc)

    @pytest.mark.parametrize("repository", ["Team/App", "team//app", "-team", "a", "team/app/", "team app"])
    def test_rejects_names_outside_ecrs_repository_pattern(self, repository: str) -> None:
        with pytest.raises(ValidationError) as exc:
            RestoreRequest.model_validate({"repository": repository, "tag": "v1"})
        assert ("repository",) in _error_locs(exc)

    @pytest.mark.parametrize("digest", ["sha256:abc", "sha512:" + "ab" * 32, "sha256:" + "AB" * 32])
    def test_rejects_malformed_digests(self, digest: str) -> None:
        with pytest.raises(ValidationError) as exc:
            RestoreRequest.model_validate({"repository": "team/app", "digest": digest})
        assert ("digest",) in _error_locs(exc)

    def test_rejects_a_non_boolean_include_referrers(self) -> None:
        with pytest.raises(ValidationError) as exc:
            RestoreRequest.model_validate({"repository": "team/app", "tag": "v1", "includeReferrers": "yes"})
        assert ("includeReferrers",) in _error_locs(exc)

    def test_rejects_unknown_fields_such_as_a_misspelt_option(self) -> None:
        with pytest.raises(ValidationError) as exc:
            RestoreRequest.model_validate({"repository": "team/app", "tag": "v1", "includeReferers": False})
        assert ("includeReferers",) in _error_locs(exc)


class TestImageQuery:
    def test_requires_exactly_one_of_tag_or_digest(self) -> None:
        with pytest.raises(ValidationError, match="exactly one"):
            ImageQuery.model_validate({"repository": "team/app"})


class TestRepositoryAllowList:
    def test_star_permits_every_repository_including_nested_ones(self) -> None:
        allowed = RepositoryAllowList.parse("*")
        assert allowed.permits("app")
        assert allowed.permits("team/sub/app")

    def test_permits_only_matching_repositories(self) -> None:
        allowed = RepositoryAllowList.parse("team/*, infra/base")
        assert allowed.permits("team/app")
        assert allowed.permits("infra/base")
        assert not allowed.permits("infra/other")
        assert not allowed.permits("teams/app")

    def test_rejects_an_empty_list(self) -> None:
        with pytest.raises(ValidationError):
            RepositoryAllowList.parse(" , ")

    def test_rejects_patterns_that_cannot_name_a_repository(self) -> None:
        with pytest.raises(ValidationError, match="not repository glob patterns"):
            RepositoryAllowList.parse("Team/*")


class TestRestoreApiSettings:
    def test_defaults_to_every_repository(self) -> None:
        settings = load_settings(RestoreApiSettings, {})
        assert settings.allowed_repositories.patterns == ("*",)
        assert settings.retry_after_seconds == 5

    def test_reads_the_comma_separated_allow_list(self) -> None:
        settings = load_settings(RestoreApiSettings, {"RESTORE_ALLOWED_REPOSITORIES": "team/*,infra/base"})
        assert settings.allowed_repositories.patterns == ("team/*", "infra/base")

    def test_fails_with_the_variable_name_when_the_allow_list_is_empty(self) -> None:
        with pytest.raises(SettingsInvalid, match="RESTORE_ALLOWED_REPOSITORIES"):
            load_settings(RestoreApiSettings, {"RESTORE_ALLOWED_REPOSITORIES": ""})
