"""Behaviour 8: pull-time update exclusions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_emulator import Emulator

from .helpers import all_pages, error_code, new_client

ROLE = "arn:aws:iam::123456789012:role/scanner"


@pytest.mark.parametrize(
    "arn",
    [
        ROLE,
        "arn:aws:iam::123456789012:role/path/to/scanner",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws-cn:iam::123456789012:role/scanner",
        "arn:aws-us-gov:iam::123456789012:role/scanner",
    ],
)
def test_register_accepts_iam_roles_and_users_in_any_partition(
    emulator: Emulator, ecr: Any, arn: str
) -> None:
    resp = ecr.register_pull_time_update_exclusion(principalArn=arn)

    assert resp["principalArn"] == arn
    assert resp["createdAt"] == emulator.clock.now()
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == [arn]


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sts::123456789012:assumed-role/scanner/session",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::12345:role/scanner",
        "scanner",
        "arn:aws:iam::123456789012:group/devs",
    ],
)
def test_register_rejects_other_arns(ecr: Any, arn: str) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.register_pull_time_update_exclusion(principalArn=arn)
    assert error_code(exc) == "InvalidParameterException"


def test_duplicate_registration(ecr: Any) -> None:
    ecr.register_pull_time_update_exclusion(principalArn=ROLE)
    with pytest.raises(ClientError) as exc:
        ecr.register_pull_time_update_exclusion(principalArn=ROLE)
    assert error_code(exc) == "ExclusionAlreadyExistsException"


def test_deregister(ecr: Any) -> None:
    ecr.register_pull_time_update_exclusion(principalArn=ROLE)

    assert ecr.deregister_pull_time_update_exclusion(principalArn=ROLE)["principalArn"] == ROLE
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []
    with pytest.raises(ClientError) as exc:
        ecr.deregister_pull_time_update_exclusion(principalArn=ROLE)
    assert error_code(exc) == "ExclusionNotFoundException"


def test_limit_of_100(ecr: Any) -> None:
    for i in range(100):
        ecr.register_pull_time_update_exclusion(principalArn=f"arn:aws:iam::123456789012:role/r{i:03}")
    with pytest.raises(ClientError) as exc:
        ecr.register_pull_time_update_exclusion(principalArn="arn:aws:iam::123456789012:role/one-too-many")
    assert error_code(exc) == "LimitExceededException"

    listed = all_pages(ecr.list_pull_time_update_exclusions, "pullTimeUpdateExclusions", maxResults=30)
    assert len(listed) == len(set(listed)) == 100
    first = ecr.list_pull_time_update_exclusions(maxResults=30)
    assert len(first["pullTimeUpdateExclusions"]) == 30
    assert first["nextToken"]


def test_an_excluded_roles_session_does_not_update_pull_time(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    emulator.principals["AKIASESSION000000001"] = "arn:aws:sts::123456789012:assumed-role/scanner/run-1"
    ecr.register_pull_time_update_exclusion(principalArn="arn:aws:iam::123456789012:role/tools/scanner")
    session = new_client("ecr", aws_access_key_id="AKIASESSION000000001", aws_secret_access_key="x")
    emulator.clock.advance(timedelta(days=1))

    session.batch_get_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])

    (detail,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])["imageDetails"]
    assert "lastRecordedPullTime" not in detail
