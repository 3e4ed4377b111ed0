"""parse_trigger: the events that start a sync, including the samples in events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ecr_archiver.exclusions.events import parse_trigger

EVENTS = Path(__file__).resolve().parents[3] / "events"


def sample(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def test_a_parameter_store_change_names_the_parameter_and_operation() -> None:
    trigger = parse_trigger(sample("sync_exclusions_parameter_change.json"))

    assert trigger.kind == "parameter-change"
    assert trigger.parameter_name == "/ecr-archiver/pull-time-exclusions/security-scanners"
    assert trigger.operation == "Update"
    assert trigger.event_id == "6a7e4feb-b491-4cf7-a9f1-bf3703497718"


def test_the_aws_documented_example_event_parses_verbatim() -> None:
    # From the EventBridge / Systems Manager event examples (non-hierarchical name "foo").
    event = {
        "version": "0",
        "id": "6a7e4feb-b491-4cf7-a9f1-bf3703497718",
        "detail-type": "Parameter Store Change",
        "source": "aws.ssm",
        "account": "123456789012",
        "time": "2017-05-22T16:43:48Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ssm:us-east-1:123456789012:parameter/foo"],
        "detail": {"operation": "Create", "name": "foo", "type": "String", "description": "Sample Parameter"},
    }

    assert parse_trigger(event).parameter_name == "foo"


def test_a_delete_without_description_parses() -> None:
    event = sample("sync_exclusions_parameter_change.json")
    event["detail"] = {
        "operation": "Delete",
        "name": "/ecr-archiver/pull-time-exclusions/x",
        "type": "String",
    }

    assert parse_trigger(event).operation == "Delete"


def test_the_schedule_event_is_a_schedule_trigger() -> None:
    trigger = parse_trigger(sample("sync_exclusions_schedule.json"))

    assert trigger.kind == "schedule"
    assert trigger.parameter_name is None


def test_an_empty_manual_invoke_is_a_manual_trigger() -> None:
    assert parse_trigger({}).kind == "manual"


@pytest.mark.parametrize(
    "event",
    [
        {"dryRun": True},
        {**sample("sync_exclusions_schedule.json"), "source": "aws.ecr"},
        {**sample("sync_exclusions_parameter_change.json"), "detail": {}},
    ],
    ids=["unknown-manual-payload", "foreign-source", "change-without-detail"],
)
def test_any_other_event_is_rejected(event: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_trigger(event)
