"""Template invariants of the pull-time exclusion sync."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import EventPattern

from tests.template.conftest import ROOT, resources_of_type

EXCLUSION_ACTIONS = {
    "ecr:ListPullTimeUpdateExclusions",
    "ecr:RegisterPullTimeUpdateExclusion",
    "ecr:DeregisterPullTimeUpdateExclusion",
}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"}


@pytest.fixture(scope="module")
def function(resources: dict[str, Any]) -> dict[str, Any]:
    fns = {
        n: r
        for n, r in resources_of_type(resources, "AWS::Serverless::Function").items()
        if r["Properties"]["CodeUri"] == "functions/sync_exclusions"
    }
    assert list(fns) == ["SyncExclusionsFunction"]
    return fns["SyncExclusionsFunction"]["Properties"]


@pytest.fixture(scope="module")
def statements(function: dict[str, Any], resources: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Role"]["Fn::GetAtt"][0]
    policies = resources[role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> set[str]:
    value = statement["Action"]
    return {value} if isinstance(value, str) else set(value)


def resolve(node: Any, template: dict[str, Any]) -> Any:
    """Substitute parameter defaults and pseudo parameters (enough for this rule's pattern)."""
    params = {name: p.get("Default") for name, p in template["Parameters"].items()}
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return params.get(node["Ref"], PSEUDO.get(node["Ref"]))
        if set(node) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: str({**params, **PSEUDO}[m.group(1)]), node["Fn::Sub"])
        return {k: resolve(v, template) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, template) for v in node]
    return node


def change_event(name: str, *, operation: str = "Update", arn_name: str | None = None) -> dict[str, Any]:
    event = json.loads((ROOT / "events" / "sync_exclusions_parameter_change.json").read_text())
    event["detail"].update(operation=operation, name=name)
    event["resources"] = [f"arn:aws:ssm:us-east-1:123456789012:parameter/{(arn_name or name).lstrip('/')}"]
    return event


class TestFunction:
    def test_reserved_concurrency_is_one_so_syncs_never_race(self, function: dict[str, Any]) -> None:
        assert function["ReservedConcurrentExecutions"] == 1

    def test_settings_come_from_the_template_parameters(self, function: dict[str, Any]) -> None:
        env = function["Environment"]["Variables"]

        assert env["EXCLUSIONS_PARAMETER_PATH"] == {"Ref": "ExclusionsParameterPath"}
        assert env["EXTRA_EXCLUDED_PRINCIPALS"] == {"Fn::Join": [",", {"Ref": "ExtraExcludedPrincipals"}]}
        assert env["ALLOW_EMPTY_SYNC"] == {"Ref": "AllowEmptyExclusionSync"}
        assert env["DRY_RUN"] == {"Ref": "ExclusionSyncDryRun"}

    def test_safety_parameters_default_to_the_safe_side(self, template: dict[str, Any]) -> None:
        params = template["Parameters"]

        assert params["AllowEmptyExclusionSync"]["Default"] == "false"
        assert params["ExclusionSyncDryRun"]["Default"] == "true"
        assert params["ExtraExcludedPrincipals"]["Type"] == "CommaDelimitedList"

    def test_has_its_own_log_group_with_retention(
        self, function: dict[str, Any], resources: dict[str, Any]
    ) -> None:
        group = resources[function["LoggingConfig"]["LogGroup"]["Ref"]]

        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}

    def test_failed_async_invocations_go_to_a_dead_letter_queue(self, function: dict[str, Any]) -> None:
        assert function["DeadLetterQueue"]["Type"] == "SQS"
        assert function["EventInvokeConfig"]["MaximumRetryAttempts"] == 2


class TestRole:
    def test_parameters_are_readable_by_path_only_under_the_exclusions_path(
        self, statements: list[dict[str, Any]]
    ) -> None:
        ssm = [s for s in statements if any(a.startswith("ssm:") for a in actions(s))]

        assert [actions(s) for s in ssm] == [{"ssm:GetParametersByPath"}]
        assert ssm[0]["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
            ":parameter${ExclusionsParameterPath}*"
        }

    def test_the_parameter_arn_resolves_to_the_path_and_below(
        self, statements: list[dict[str, Any]], template: dict[str, Any]
    ) -> None:
        # ExclusionsParameterPath starts with "/": "parameter${Path}" must not become "parameter//...".
        (ssm,) = [s for s in statements if actions(s) == {"ssm:GetParametersByPath"}]

        assert resolve(ssm["Resource"], template) == (
            "arn:aws:ssm:us-east-1:123456789012:parameter/ecr-archiver/pull-time-exclusions/*"
        )

    def test_resource_star_is_granted_only_for_the_exclusion_actions_and_xray(
        self, statements: list[dict[str, Any]]
    ) -> None:
        star = [s for s in statements if s["Resource"] == "*"]

        assert set().union(*(actions(s) for s in star)) == EXCLUSION_ACTIONS | XRAY_ACTIONS

    def test_no_other_ecr_action_and_no_kms(self, statements: list[dict[str, Any]]) -> None:
        granted = set().union(*(actions(s) for s in statements))

        assert {a for a in granted if a.startswith("ecr:")} == EXCLUSION_ACTIONS
        assert not any(a.startswith("kms:") for a in granted)
        assert all(s["Effect"] == "Allow" and "*" not in actions(s) for s in statements)


@pytest.fixture(scope="module")
def pattern(function: dict[str, Any], template: dict[str, Any]) -> EventPattern:
    """The change rule's pattern with defaults substituted, evaluated by moto's EventBridge matcher."""
    raw = resolve(function["Events"]["ParameterChange"]["Properties"]["Pattern"], template)
    return EventPattern(json.dumps(raw), raw)


@pytest.fixture(scope="module")
def alarms(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in resources_of_type(resources, "AWS::CloudWatch::Alarm").values()]


class TestTriggers:
    def test_the_sample_change_event_under_the_path_matches(self, pattern: EventPattern) -> None:
        event = json.loads((ROOT / "events" / "sync_exclusions_parameter_change.json").read_text())

        assert pattern.matches_event(event)

    @pytest.mark.parametrize("operation", ["Create", "Update", "Delete"])
    def test_create_update_and_delete_match(self, pattern: EventPattern, operation: str) -> None:
        assert pattern.matches_event(
            change_event("/ecr-archiver/pull-time-exclusions/team", operation=operation)
        )

    def test_a_name_without_leading_slash_matches_through_its_arn(self, pattern: EventPattern) -> None:
        assert pattern.matches_event(change_event("ecr-archiver/pull-time-exclusions/team"))

    def test_a_label_operation_does_not_match(self, pattern: EventPattern) -> None:
        event = change_event("/ecr-archiver/pull-time-exclusions/team", operation="LabelParameterVersion")

        assert not pattern.matches_event(event)

    @pytest.mark.parametrize(
        "name",
        [
            "/ecr-archiver/config",
            "/ecr-archiver/pull-time-exclusions-old/team",
            "/other/pull-time-exclusions/x",
        ],
    )
    def test_parameters_outside_the_path_do_not_match(self, pattern: EventPattern, name: str) -> None:
        assert not pattern.matches_event(change_event(name))

    def test_both_rules_retry_then_dead_letter(self, function: dict[str, Any]) -> None:
        for name in ("ParameterChange", "DriftRepair"):
            props = function["Events"][name]["Properties"]
            assert props["DeadLetterConfig"]["Arn"] == {
                "Fn::GetAtt": ["SyncExclusionsDeadLetterQueue", "Arn"]
            }
            assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1

    def test_a_schedule_repairs_drift_hourly_by_default(
        self, function: dict[str, Any], template: dict[str, Any]
    ) -> None:
        schedule = function["Events"]["DriftRepair"]

        assert schedule["Type"] == "Schedule"
        assert schedule["Properties"]["Schedule"] == {"Ref": "ExclusionSyncSchedule"}
        assert template["Parameters"]["ExclusionSyncSchedule"]["Default"] == "rate(1 hour)"

    def test_the_dead_letter_queue_accepts_only_these_rules(self, resources: dict[str, Any]) -> None:
        policy = resources["SyncExclusionsDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]
        allow = [s for s in policy["Statement"] if s["Effect"] == "Allow"]

        assert [s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in allow] == [
            [
                {"Fn::GetAtt": ["SyncExclusionsFunctionParameterChange", "Arn"]},
                {"Fn::GetAtt": ["SyncExclusionsFunctionDriftRepair", "Arn"]},
            ]
        ]


class TestAlarms:
    def test_function_errors_alarm_the_topic(self, alarms: list[dict[str, Any]]) -> None:
        errors = [
            a
            for a in alarms
            if a["MetricName"] == "Errors"
            and a["Dimensions"][0]["Value"] == {"Ref": "SyncExclusionsFunction"}
        ]

        assert len(errors) == 1
        assert errors[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]

    @pytest.mark.parametrize("metric", ["ExclusionSyncRefused", "ExclusionChangesFailed"])
    def test_sync_metrics_alarm_the_topic(
        self, alarms: list[dict[str, Any]], template: dict[str, Any], metric: str
    ) -> None:
        env = template["Globals"]["Function"]["Environment"]["Variables"]
        (alarm,) = [a for a in alarms if a["MetricName"] == metric]

        assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
        assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_sample_events_exist() -> None:
    for name in ("sync_exclusions_parameter_change.json", "sync_exclusions_schedule.json"):
        assert json.loads(Path(ROOT / "events" / name).read_text())["version"] == "0"
