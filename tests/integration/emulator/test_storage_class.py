"""Behaviour 2: UpdateImageStorageClass."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from ecr_emulator import Emulator

from .helpers import error_code


def _update(ecr: Any, repo: str, image_id: dict[str, str], target: str) -> dict[str, Any]:
    return ecr.update_image_storage_class(repositoryName=repo, imageId=image_id, targetStorageClass=target)


@pytest.mark.parametrize("by", ["tag", "digest"])
def test_archive_takes_effect_at_once(emulator: Emulator, ecr: Any, repo: str, by: str) -> None:
    digest = emulator.push_image(repo, "v1")
    image_id = {"imageTag": "v1"} if by == "tag" else {"imageDigest": digest}

    resp = _update(ecr, repo, image_id, "ARCHIVE")

    assert resp["imageStatus"] == "ARCHIVED"
    assert resp["repositoryName"] == repo
    assert resp["registryId"] == emulator.account_id
    assert resp["imageId"]["imageDigest"] == digest
    assert emulator.image_status(repo, digest) == "ARCHIVED"


def test_restore_goes_through_activating_for_the_restore_delay(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    emulator.settings.restore_delay = timedelta(minutes=7)
    digest = emulator.push_image(repo, "v1")
    _update(ecr, repo, {"imageTag": "v1"}, "ARCHIVE")

    resp = _update(ecr, repo, {"imageTag": "v1"}, "STANDARD")

    assert resp["imageStatus"] == "ACTIVATING"
    emulator.clock.advance(timedelta(minutes=6, seconds=59))
    assert emulator.image_status(repo, digest) == "ACTIVATING"
    emulator.clock.advance(1)
    assert emulator.image_status(repo, digest) == "ACTIVE"


@pytest.mark.parametrize(
    ("setup", "target"),
    [
        (["ARCHIVE"], "ARCHIVE"),  # already archived
        (["ARCHIVE", "STANDARD"], "ARCHIVE"),  # activating
        ([], "STANDARD"),  # restoring an active image
        (["ARCHIVE", "STANDARD"], "STANDARD"),  # restore while activating
    ],
)
def test_unsupported_transitions(
    emulator: Emulator, ecr: Any, repo: str, setup: list[str], target: str
) -> None:
    emulator.push_image(repo, "v1")
    for step in setup:
        _update(ecr, repo, {"imageTag": "v1"}, step)
    with pytest.raises(ClientError) as exc:
        _update(ecr, repo, {"imageTag": "v1"}, target)
    assert error_code(exc) == "ImageStorageClassUpdateNotSupportedException"


def test_a_child_of_an_active_index_cannot_be_archived(emulator: Emulator, ecr: Any, repo: str) -> None:
    index, children = emulator.push_index(repo, "multi")

    with pytest.raises(ClientError) as exc:
        _update(ecr, repo, {"imageDigest": children[0]}, "ARCHIVE")

    assert error_code(exc) == "ImageStorageClassUpdateNotSupportedException"
    _update(ecr, repo, {"imageDigest": index}, "ARCHIVE")
    assert _update(ecr, repo, {"imageDigest": children[0]}, "ARCHIVE")["imageStatus"] == "ARCHIVED"


def test_image_not_found(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    with pytest.raises(ClientError) as exc:
        _update(ecr, repo, {"imageTag": "v2"}, "ARCHIVE")
    assert error_code(exc) == "ImageNotFoundException"
    with pytest.raises(ClientError) as exc:
        _update(ecr, repo, {"imageDigest": "sha256:" + "a" * 64}, "ARCHIVE")
    assert error_code(exc) == "ImageNotFoundException"


def test_tag_and_digest_of_different_images_is_not_found(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    other = emulator.push_image(repo, "v2")
    with pytest.raises(ClientError) as exc:
        _update(ecr, repo, {"imageTag": "v1", "imageDigest": other}, "ARCHIVE")
    assert error_code(exc) == "ImageNotFoundException"


def test_repository_not_found(ecr: Any) -> None:
    with pytest.raises(ClientError) as exc:
        _update(ecr, "missing", {"imageTag": "v1"}, "ARCHIVE")
    assert error_code(exc) == "RepositoryNotFoundException"


@pytest.mark.parametrize("image_id", [{}, {"imageDigest": "not-a-digest"}, {"imageDigest": "sha256:XYZ"}])
def test_bad_image_ids_are_invalid_parameters(
    emulator: Emulator, ecr: Any, repo: str, image_id: dict[str, str]
) -> None:
    emulator.push_image(repo, "v1")
    with pytest.raises(ClientError) as exc:
        _update(ecr, repo, image_id, "ARCHIVE")
    assert error_code(exc) == "InvalidParameterException"


def test_botocore_rejects_an_unknown_storage_class_client_side(ecr: Any, repo: str) -> None:
    with pytest.raises(ParamValidationError):
        ecr.update_image_storage_class(repositoryName=repo, imageId={"imageTag": "v1"})
