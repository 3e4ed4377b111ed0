"""Lifecycle policy builders, and AWS's documented example policies (verbatim)."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.lifecycle import aws_examples

# AWS's documented example policies, verbatim: one copy, shared with the validator's unit tests.
ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365: dict[str, Any] = json.loads(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)
ARCHIVE_NOT_PULLED_90_DAYS: dict[str, Any] = json.loads(aws_examples.ARCHIVE_NOT_PULLED_90_DAYS)
ARCHIVE_PROD_OLDER_THAN_30_DAYS: dict[str, Any] = json.loads(aws_examples.ARCHIVE_PROD_OLDER_THAN_30_DAYS)


def rule(
    priority: int, selection: dict[str, Any], action: str = "transition", **extra: Any
) -> dict[str, Any]:
    act: dict[str, Any] = {"type": action}
    if action == "transition":
        act["targetStorageClass"] = "archive"
    return {
        "rulePriority": priority,
        "description": f"rule {priority}",
        "selection": selection,
        "action": act,
        **extra,
    }


def pushed_days(days: int, tag_status: str = "any", **selection: Any) -> dict[str, Any]:
    return {
        "tagStatus": tag_status,
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": days,
        **selection,
    }


def text(*rules: dict[str, Any]) -> str:
    """A policy document; padded with descriptions so it meets the 100-character minimum."""
    return json.dumps({"rules": list(rules)})


def as_text(policy: dict[str, Any]) -> str:
    return json.dumps(policy)
