"""Behaviour 5: PutLifecyclePolicy accepts the archive-era grammar and rejects what AWS rejects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.ecr.exceptions import InvalidParameterException

from ecr_emulator import Emulator

from .helpers import error_code
from .policies import (
    ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365,
    ARCHIVE_NOT_PULLED_90_DAYS,
    ARCHIVE_PROD_OLDER_THAN_30_DAYS,
    as_text,
    pushed_days,
    rule,
    text,
)


@pytest.mark.parametrize(
    "policy",
    [ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365, ARCHIVE_NOT_PULLED_90_DAYS, ARCHIVE_PROD_OLDER_THAN_30_DAYS],
    ids=["archive-then-expire", "not-pulled", "prod-tags"],
)
def test_aws_example_policies_are_accepted(ecr: Any, repo: str, policy: dict[str, Any]) -> None:
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=as_text(policy))

    stored = ecr.get_lifecycle_policy(repositoryName=repo)["lifecyclePolicyText"]

    assert json.loads(stored) == policy


def test_image_count_transition_is_accepted(ecr: Any, repo: str) -> None:
    policy = text(
        rule(
            1,
            {
                "tagStatus": "tagged",
                "tagPrefixList": ["release-"],
                "countType": "imageCountMoreThan",
                "countNumber": 10,
            },
        ),
        rule(2, {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5}, "expire"),
    )
    ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=policy)
    assert ecr.get_lifecycle_policy(repositoryName=repo)["lifecyclePolicyText"] == policy


PULLED = {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30}
TRANSITIONED = {
    "tagStatus": "any",
    "countType": "sinceImageTransitioned",
    "countUnit": "days",
    "countNumber": 365,
}

INVALID = {
    "sinceImagePulled-with-expire": (text(rule(1, PULLED, "expire")), "sinceImagePulled"),
    "sinceImageTransitioned-without-archive": (
        text(rule(1, TRANSITIONED, "expire")),
        "sinceImageTransitioned",
    ),
    "countUnit-with-imageCountMoreThan": (
        text(
            rule(
                1,
                {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countUnit": "days",
                    "countNumber": 3,
                },
            )
        ),
        "countUnit",
    ),
    "prefix-and-pattern": (
        text(rule(1, pushed_days(30, "tagged", tagPrefixList=["a"], tagPatternList=["b*"]))),
        "tagPatternList",
    ),
    "duplicate-priorities": (
        text(rule(1, pushed_days(30, "tagged", tagPrefixList=["a"])), rule(1, pushed_days(9))),
        "priorit",
    ),
    "two-untagged-rules": (
        text(rule(1, pushed_days(30, "untagged")), rule(2, pushed_days(60, "untagged"), "expire")),
        "ntagged",
    ),
    "any-not-last": (
        text(rule(1, pushed_days(30)), rule(2, pushed_days(9, "tagged", tagPrefixList=["a"]))),
        "any",
    ),
    "more-than-50-rules": (
        text(*[rule(i, pushed_days(30, "tagged", tagPrefixList=[f"p{i}-"])) for i in range(1, 52)]),
        "50",
    ),
    "too-long": (
        text(
            *[rule(i, pushed_days(30, "tagged", tagPrefixList=[f"p{i}-" + "x" * 600])) for i in range(1, 50)]
        ),
        "30",
    ),
}


@pytest.mark.parametrize(("policy", "keyword"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_policies_are_rejected_naming_the_problem(
    ecr: Any, repo: str, policy: str, keyword: str
) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText=policy)

    assert error_code(exc) == "InvalidParameterException"
    assert keyword in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        ecr.get_lifecycle_policy(repositoryName=repo)
    assert error_code(missing) == "LifecyclePolicyNotFoundException"


def test_archive_rules_per_storage_class_may_both_be_any(ecr: Any, repo: str) -> None:
    # AWS's own example: an "any" rule for standard and another for archive.
    ecr.put_lifecycle_policy(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365)
    )
    assert ecr.get_lifecycle_policy(repositoryName=repo)["repositoryName"] == repo


def test_policy_shorter_than_100_characters_is_rejected_client_side(ecr: Any, repo: str) -> None:
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        ecr.put_lifecycle_policy(repositoryName=repo, lifecyclePolicyText='{"rules":[]}')


def test_policy_shorter_than_100_characters_is_rejected_by_the_backend(emulator: Emulator, repo: str) -> None:
    # botocore stops this client-side; raw HTTP callers reach the backend check (see test_server).
    with pytest.raises(InvalidParameterException) as exc:
        emulator.backend.put_lifecycle_policy(None, repo, '{"rules":[]}')
    assert "100" in exc.value.message
