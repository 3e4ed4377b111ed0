"""Lifecycle policy builders, and AWS's documented example policies (verbatim)."""

from __future__ import annotations

import json
from typing import Any

ARCHIVE_AFTER_30_DAYS_EXPIRE_AFTER_365 = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images older than 30 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        },
        {
            "rulePriority": 2,
            "description": "Expire images archived for more than 365 days",
            "selection": {
                "tagStatus": "any",
                "storageClass": "archive",
                "countType": "sinceImageTransitioned",
                "countUnit": "days",
                "countNumber": 365,
            },
            "action": {"type": "expire"},
        },
    ]
}

ARCHIVE_NOT_PULLED_90_DAYS = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled in 90 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
}

ARCHIVE_PROD_OLDER_THAN_30_DAYS = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive production images older than 30 days",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["prod*"],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 30,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
}


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
