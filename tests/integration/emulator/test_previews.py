"""Behaviour 6: StartLifecyclePolicyPreview / GetLifecyclePolicyPreview."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_emulator import Emulator

from .helpers import all_pages, error_code
from .policies import (
    ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365,
    ARCHIVE_NOT_PULLED_90_DAYS,
    ARCHIVE_PROD_OLDER_THAN_30_DAYS,
    as_text,
    pushed_days,
    rule,
    text,
)

DAY = timedelta(days=1)


def _preview(ecr: Any, repo: str, policy: str | None = None, **get: Any) -> dict[str, Any]:
    kwargs = {"repositoryName": repo}
    if policy is not None:
        kwargs["lifecyclePolicyText"] = policy
    assert ecr.start_lifecycle_policy_preview(**kwargs)["status"] == "IN_PROGRESS"
    return ecr.get_lifecycle_policy_preview(repositoryName=repo, **get)


def _actions(resp: dict[str, Any]) -> dict[str, tuple[str, int, str]]:
    return {
        r["imageDigest"]: (r["action"]["type"], r["appliedRulePriority"], r["storageClass"])
        for r in resp["previewResults"]
    }


def _archive(ecr: Any, repo: str, digest: str) -> None:
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )


# -- AWS's documented example policies ------------------------------------------------------


def test_archive_after_30_days_then_expire_after_365_in_archive(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    now = emulator.clock.now()
    old = emulator.push_image(repo, "old", pushed_at=now - 40 * DAY)
    emulator.push_image(repo, "new", pushed_at=now - 3 * DAY)
    long_archived = emulator.push_image(repo, "ancient", pushed_at=now - 800 * DAY)
    recently_archived = emulator.push_image(repo, "archived-recently", pushed_at=now - 500 * DAY)
    emulator.clock.set(now - 400 * DAY)
    _archive(ecr, repo, long_archived)
    emulator.clock.set(now - 100 * DAY)
    _archive(ecr, repo, recently_archived)
    emulator.clock.set(now)

    resp = _preview(ecr, repo, as_text(ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365))

    assert resp["status"] == "COMPLETE"
    assert _actions(resp) == {old: ("TRANSITION", 1, "STANDARD"), long_archived: ("EXPIRE", 2, "ARCHIVE")}
    transition = next(r for r in resp["previewResults"] if r["imageDigest"] == old)
    assert transition["action"] == {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"}
    assert transition["imageTags"] == ["old"]
    assert transition["imagePushedAt"] == now - 40 * DAY
    assert resp["summary"] == {
        "expiringImageTotalCount": 1,
        "transitioningImageTotalCounts": [{"targetStorageClass": "ARCHIVE", "imageTotalCount": 1}],
    }


def test_archive_images_not_pulled_for_90_days(emulator: Emulator, ecr: Any, repo: str) -> None:
    now = emulator.clock.now()
    never_pulled_old = emulator.push_image(repo, "a", pushed_at=now - 200 * DAY)
    emulator.push_image(repo, "b", pushed_at=now - 200 * DAY, last_pulled_at=now - 10 * DAY)
    pulled_long_ago = emulator.push_image(
        repo, "c", pushed_at=now - 300 * DAY, last_pulled_at=now - 100 * DAY
    )
    emulator.push_image(repo, "d", pushed_at=now - 10 * DAY)
    restored = emulator.push_image(repo, "e", pushed_at=now - 300 * DAY)
    _archive(ecr, repo, restored)
    emulator.settings.restore_delay = timedelta(0)
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": restored}, targetStorageClass="STANDARD"
    )

    resp = _preview(ecr, repo, as_text(ARCHIVE_NOT_PULLED_90_DAYS))

    # The restored image falls back to lastActivatedAt (today), not its push time.
    assert _actions(resp) == {
        never_pulled_old: ("TRANSITION", 1, "STANDARD"),
        pulled_long_ago: ("TRANSITION", 1, "STANDARD"),
    }


def test_archive_prod_tags_older_than_30_days(emulator: Emulator, ecr: Any, repo: str) -> None:
    now = emulator.clock.now()
    prod_old = emulator.push_image(repo, "prod-1", pushed_at=now - 40 * DAY)
    emulator.push_image(repo, "prod-2", pushed_at=now - 10 * DAY)
    emulator.push_image(repo, "dev-1", pushed_at=now - 40 * DAY)
    emulator.push_image(repo, None, pushed_at=now - 40 * DAY)

    resp = _preview(ecr, repo, as_text(ARCHIVE_PROD_OLDER_THAN_30_DAYS))

    assert _actions(resp) == {prod_old: ("TRANSITION", 1, "STANDARD")}
    assert resp["summary"]["transitioningImageTotalCounts"][0]["imageTotalCount"] == 1


# -- evaluation rules through the API ----------------------------------------------------------


def test_image_count_keeps_the_youngest(emulator: Emulator, ecr: Any, repo: str) -> None:
    now = emulator.clock.now()
    digests = [emulator.push_image(repo, f"v{i}", pushed_at=now - (10 - i) * DAY) for i in range(5)]
    policy = text(
        rule(1, {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2}, "expire")
    )

    resp = _preview(ecr, repo, policy)

    assert set(_actions(resp)) == set(digests[:3])
    assert resp["summary"] == {"expiringImageTotalCount": 3}


def test_a_higher_priority_tag_match_protects_an_image(emulator: Emulator, ecr: Any, repo: str) -> None:
    now = emulator.clock.now()
    emulator.push_image(repo, "keep-1", pushed_at=now - 100 * DAY)
    other = emulator.push_image(repo, "other", pushed_at=now - 100 * DAY)
    policy = text(
        rule(
            1,
            {
                "tagStatus": "tagged",
                "tagPrefixList": ["keep"],
                "countType": "imageCountMoreThan",
                "countNumber": 5,
            },
        ),
        rule(2, pushed_days(30)),
    )

    assert _actions(_preview(ecr, repo, policy)) == {other: ("TRANSITION", 2, "STANDARD")}


def test_index_children_follow_their_index(emulator: Emulator, ecr: Any, repo: str) -> None:
    now = emulator.clock.now()
    index, children = emulator.push_index(repo, "multi", pushed_at=now - 100 * DAY)
    emulator.push_image(repo, "keep", pushed_at=now - 100 * DAY)
    policy_untagged_only = text(rule(1, pushed_days(30, "untagged")))

    # The children are untagged and old, but their index is not selected: they stay.
    assert _actions(_preview(ecr, repo, policy_untagged_only)) == {}

    policy_all = text(rule(1, pushed_days(30)))
    selected = _actions(_preview(ecr, repo, policy_all))
    assert {index, *children} <= set(selected)


# -- preview lifecycle --------------------------------------------------------------------------


def test_start_uses_the_repository_policy(emulator: Emulator, ecr: Any, repo: str) -> None:
    old = emulator.push_image(repo, "prod-old", pushed_at=emulator.clock.now() - 60 * DAY)
    ecr.put_lifecycle_policy(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_PROD_OLDER_THAN_30_DAYS)
    )

    resp = _preview(ecr, repo)

    assert resp["lifecyclePolicyText"] == as_text(ARCHIVE_PROD_OLDER_THAN_30_DAYS)
    assert set(_actions(resp)) == {old}


def test_start_without_any_policy(ecr: Any, repo: str) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(repositoryName=repo)
    assert error_code(exc) == "LifecyclePolicyNotFoundException"


def test_start_with_an_invalid_policy(ecr: Any, repo: str) -> None:
    bad = text(
        rule(
            1,
            {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 9},
            "expire",
        )
    )
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(repositoryName=repo, lifecyclePolicyText=bad)
    assert error_code(exc) == "InvalidParameterException"
    assert "sinceImagePulled" in exc.value.response["Error"]["Message"]


def test_start_in_a_missing_repository(ecr: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(
            repositoryName="missing", lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
        )
    assert error_code(exc) == "RepositoryNotFoundException"


def test_get_before_any_preview(ecr: Any, repo: str) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.get_lifecycle_policy_preview(repositoryName=repo)
    assert error_code(exc) == "LifecyclePolicyPreviewNotFoundException"


def test_status_moves_from_in_progress_to_complete_to_expired(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    emulator.settings.preview_in_progress_for = timedelta(seconds=30)
    emulator.settings.preview_expires_after = timedelta(minutes=10)
    emulator.push_image(repo, "a", pushed_at=emulator.clock.now() - 100 * DAY)
    policy = as_text(ARCHIVE_NOT_PULLED_90_DAYS)

    running = _preview(ecr, repo, policy)
    assert running["status"] == "IN_PROGRESS"
    assert running["previewResults"] == []
    assert "summary" not in running
    with pytest.raises(ClientError) as exc:
        ecr.start_lifecycle_policy_preview(repositoryName=repo, lifecyclePolicyText=policy)
    assert error_code(exc) == "LifecyclePolicyPreviewInProgressException"

    emulator.clock.advance(30)
    complete = ecr.get_lifecycle_policy_preview(repositoryName=repo)
    assert complete["status"] == "COMPLETE"
    assert len(complete["previewResults"]) == 1

    emulator.clock.advance(timedelta(minutes=10))
    expired = ecr.get_lifecycle_policy_preview(repositoryName=repo)
    assert expired["status"] == "EXPIRED"
    assert expired["previewResults"] == []
    # A finished preview no longer blocks a new one.
    assert (
        ecr.start_lifecycle_policy_preview(repositoryName=repo, lifecyclePolicyText=policy)["status"]
        == "IN_PROGRESS"
    )


def test_injected_failure(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "a", pushed_at=emulator.clock.now() - 100 * DAY)
    emulator.fail_next_preview(repo)

    assert _preview(ecr, repo, as_text(ARCHIVE_NOT_PULLED_90_DAYS))["status"] == "FAILED"
    assert _preview(ecr, repo, as_text(ARCHIVE_NOT_PULLED_90_DAYS))["status"] == "COMPLETE"


def test_the_waiter_sees_complete(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "a")
    ecr.start_lifecycle_policy_preview(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )
    ecr.get_waiter("lifecycle_policy_preview_complete").wait(
        repositoryName=repo, WaiterConfig={"Delay": 0, "MaxAttempts": 1}
    )


def test_results_are_a_snapshot_taken_at_start(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.settings.preview_in_progress_for = timedelta(minutes=1)
    first = emulator.push_image(repo, "a", pushed_at=emulator.clock.now() - 100 * DAY)
    ecr.start_lifecycle_policy_preview(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )
    emulator.push_image(repo, "b", pushed_at=emulator.clock.now() - 100 * DAY)
    emulator.clock.advance(60)

    assert set(_actions(ecr.get_lifecycle_policy_preview(repositoryName=repo))) == {first}


def test_results_paginate_at_max_results_and_filter_by_tag_status(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    old = emulator.clock.now() - 100 * DAY
    tagged = {emulator.push_image(repo, f"t{i}", pushed_at=old) for i in range(130)}
    untagged = {emulator.push_image(repo, None, pushed_at=old) for _ in range(120)}
    ecr.start_lifecycle_policy_preview(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )

    first = ecr.get_lifecycle_policy_preview(repositoryName=repo)
    everything = all_pages(
        ecr.get_lifecycle_policy_preview, "previewResults", repositoryName=repo, maxResults=7
    )
    paginated = [
        r
        for page in ecr.get_paginator("get_lifecycle_policy_preview").paginate(
            repositoryName=repo, filter={"tagStatus": "UNTAGGED"}, PaginationConfig={"PageSize": 50}
        )
        for r in page["previewResults"]
    ]

    assert len(first["previewResults"]) == 100
    assert first["summary"]["transitioningImageTotalCounts"][0]["imageTotalCount"] == 250
    assert {r["imageDigest"] for r in everything} == tagged | untagged
    assert len(everything) == 250
    assert {r["imageDigest"] for r in paginated} == untagged
    assert len(paginated) == 120
    tagged_only = all_pages(
        ecr.get_lifecycle_policy_preview,
        "previewResults",
        repositoryName=repo,
        filter={"tagStatus": "TAGGED"},
    )
    assert {r["imageDigest"] for r in tagged_only} == tagged


def test_get_by_image_ids(emulator: Emulator, ecr: Any, repo: str) -> None:
    old = emulator.clock.now() - 100 * DAY
    a = emulator.push_image(repo, "a", pushed_at=old)
    emulator.push_image(repo, "b", pushed_at=old)
    ecr.start_lifecycle_policy_preview(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )

    resp = ecr.get_lifecycle_policy_preview(repositoryName=repo, imageIds=[{"imageTag": "a"}])

    assert [r["imageDigest"] for r in resp["previewResults"]] == [a]


def test_get_rejects_pages_above_100(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "a")
    ecr.start_lifecycle_policy_preview(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )
    with pytest.raises(ClientError) as exc:
        ecr.get_lifecycle_policy_preview(repositoryName=repo, maxResults=101)
    assert error_code(exc) == "InvalidParameterException"
