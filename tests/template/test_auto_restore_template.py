"""The auto_restore function's rules, permissions and wiring in template.yaml."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.template.eventpattern import matches

EVENTS = Path(__file__).resolve().parents[2] / "events"
RULES = ("AutoRestoreEcsTaskRule", "AutoRestoreLambdaDeployRule", "AutoRestorePullRule")
SAMPLES = {
    "AutoRestoreEcsTaskRule": "auto_restore_ecs_task_stopped.json",
    "AutoRestoreLambdaDeployRule": "auto_restore_lambda_update_failed.json",
    "AutoRestorePullRule": "auto_restore_ecr_batch_get_image.json",
}
REPOSITORY_ARN = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


def actions_of(stmt: dict[str, Any]) -> list[str]:
    value = stmt["Action"]
    return [value] if isinstance(value, str) else list(value)


def pattern(resources: dict[str, Any], rule: str) -> dict[str, Any]:
    return resources[rule]["Properties"]["EventPattern"]  # type: ignore[no-any-return]


class TestTheMatcher:
    """The matcher itself, so a rule test cannot pass because the matcher accepts everything."""

    def test_literal_prefix_exists_and_or(self) -> None:
        rule = {"a": ["x"], "b": [{"prefix": "Cre"}], "$or": [{"c": [{"exists": True}]}, {"d": ["y"]}]}
        assert matches(rule, {"a": "x", "b": "Create", "c": 1})
        assert matches(rule, {"a": "x", "b": "Create", "d": "y"})
        assert not matches(rule, {"a": "x", "b": "Create"})
        assert not matches(rule, {"a": "z", "b": "Create", "c": 1})
        assert not matches(rule, {"a": "x", "b": "Update", "c": 1})

    def test_arrays_in_the_event_match_on_any_element(self) -> None:
        rule = {"items": {"reason": [{"prefix": "Cannot"}]}}
        assert matches(rule, {"items": [{"reason": "fine"}, {"reason": "CannotPull"}]})
        assert not matches(rule, {"items": [{"reason": "fine"}]})


class TestEachRuleMatchesItsSampleAndNothingElse:
    @pytest.mark.parametrize("rule", RULES)
    def test_the_rule_matches_its_sample_event(self, resources: dict[str, Any], rule: str) -> None:
        assert matches(pattern(resources, rule), sample(SAMPLES[rule]))

    @pytest.mark.parametrize("rule", RULES)
    def test_the_rule_matches_no_other_sample(self, resources: dict[str, Any], rule: str) -> None:
        for other, name in SAMPLES.items():
            if other != rule:
                assert not matches(pattern(resources, rule), sample(name)), name

    def test_a_task_that_stopped_normally_does_not_invoke(self, resources: dict[str, Any]) -> None:
        event = sample(SAMPLES["AutoRestoreEcsTaskRule"])
        event["detail"]["stopCode"] = "EssentialContainerExited"
        for container in event["detail"]["containers"]:
            container["reason"] = "Essential container in task exited"
        assert not matches(pattern(resources, "AutoRestoreEcsTaskRule"), event)

    def test_a_running_task_does_not_invoke(self, resources: dict[str, Any]) -> None:
        event = sample(SAMPLES["AutoRestoreEcsTaskRule"])
        event["detail"]["lastStatus"] = "RUNNING"
        assert not matches(pattern(resources, "AutoRestoreEcsTaskRule"), event)

    def test_a_pull_error_under_another_stop_code_still_invokes(self, resources: dict[str, Any]) -> None:
        event = sample(SAMPLES["AutoRestoreEcsTaskRule"])
        event["detail"]["stopCode"] = "EssentialContainerExited"
        assert matches(pattern(resources, "AutoRestoreEcsTaskRule"), event)

    def test_a_successful_lambda_update_does_not_invoke(self, resources: dict[str, Any]) -> None:
        event = sample(SAMPLES["AutoRestoreLambdaDeployRule"])
        del event["detail"]["errorCode"]
        event["detail"].pop("errorMessage", None)
        assert not matches(pattern(resources, "AutoRestoreLambdaDeployRule"), event)

    def test_a_failed_zip_deployment_does_not_invoke(self, resources: dict[str, Any]) -> None:
        event = sample(SAMPLES["AutoRestoreLambdaDeployRule"])
        del event["detail"]["requestParameters"]["imageUri"]
        assert not matches(pattern(resources, "AutoRestoreLambdaDeployRule"), event)

    def test_a_failed_create_function_with_an_image_invokes(self, resources: dict[str, Any]) -> None:
        event = sample(SAMPLES["AutoRestoreLambdaDeployRule"])
        uri = event["detail"]["requestParameters"].pop("imageUri")
        event["detail"]["eventName"] = "CreateFunction20150331"
        event["detail"]["requestParameters"]["code"] = {"imageUri": uri}
        assert matches(pattern(resources, "AutoRestoreLambdaDeployRule"), event)


class TestOptInPullRule:
    def test_the_pull_rule_exists_only_when_opted_in(self, resources: dict[str, Any]) -> None:
        assert resources["AutoRestorePullRule"]["Condition"] == "AutoRestoreOnPull"
        assert resources["AutoRestorePullPermission"]["Condition"] == "AutoRestoreOnPull"

    def test_read_only_management_events_need_the_cloudtrail_state(self, resources: dict[str, Any]) -> None:
        state = resources["AutoRestorePullRule"]["Properties"]["State"]
        assert state == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

    def test_pull_events_default_off_and_auto_restore_default_on(self, template: dict[str, Any]) -> None:
        assert template["Parameters"]["AutoRestorePullEvents"]["Default"] == "false"
        assert template["Parameters"]["AutoRestore"]["Default"] == "true"
        assert template["Parameters"]["AutoRestoreRepositories"]["Default"] == "*"


class TestLeastPrivilege:
    def statements(self, resources: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            stmt
            for policy in resources["AutoRestoreRole"]["Properties"]["Policies"]
            for stmt in policy["PolicyDocument"]["Statement"]
        ]

    def test_ecr_actions_are_describe_restore_and_list_referrers_on_repository_arns(
        self, resources: dict[str, Any]
    ) -> None:
        ecr = [s for s in self.statements(resources) if any(a.startswith("ecr:") for a in actions_of(s))]
        # ListImageReferrers has no IAM action of its own: ECR authorises it with ecr:BatchGetImage.
        assert {a for s in ecr for a in actions_of(s)} == {
            "ecr:DescribeImages",
            "ecr:UpdateImageStorageClass",
            "ecr:BatchGetImage",
        }
        assert all(s["Resource"] == {"Fn::Sub": REPOSITORY_ARN} for s in ecr)

    def test_it_publishes_only_to_the_restore_notice_topic(self, resources: dict[str, Any]) -> None:
        sns = [s for s in self.statements(resources) if any(a.startswith("sns:") for a in actions_of(s))]
        assert [(s["Action"], s["Resource"]) for s in sns] == [("sns:Publish", {"Ref": "RestoreNoticeTopic"})]

    def test_it_touches_only_its_own_state_items(self, resources: dict[str, Any]) -> None:
        stmts = self.statements(resources)
        [ddb] = [s for s in stmts if any(a.startswith("dynamodb:") for a in actions_of(s))]
        assert ddb["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}
        assert ddb["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [
            "auto-restore#*",
            "auto-restore-cap#*",
        ]
        assert not {"dynamodb:Scan", "dynamodb:Query"} & set(actions_of(ddb))

    def test_every_action_is_accounted_for(self, resources: dict[str, Any]) -> None:
        actions = {a for s in self.statements(resources) for a in actions_of(s)}
        assert actions == {
            "ecr:DescribeImages",
            "ecr:UpdateImageStorageClass",
            "ecr:BatchGetImage",
            "sns:Publish",
            "kms:GenerateDataKey",
            "kms:Decrypt",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "sqs:SendMessage",
        }


class TestWiring:
    def test_every_rule_targets_the_function_with_a_dead_letter_queue(
        self, resources: dict[str, Any]
    ) -> None:
        for rule in RULES:
            [target] = resources[rule]["Properties"]["Targets"]
            assert target["Arn"] == {"Fn::GetAtt": ["AutoRestoreFunction", "Arn"]}
            assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["AutoRestoreDeadLetterQueue", "Arn"]}

    def test_failed_invocations_go_to_the_dead_letter_queue(self, resources: dict[str, Any]) -> None:
        config = resources["AutoRestoreFunction"]["Properties"]["EventInvokeConfig"]
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": ["AutoRestoreDeadLetterQueue", "Arn"]
        }

    def test_the_function_gets_the_parameters(self, resources: dict[str, Any]) -> None:
        env = resources["AutoRestoreFunction"]["Properties"]["Environment"]["Variables"]
        assert env["AUTO_RESTORE_ENABLED"] == {"Ref": "AutoRestore"}
        assert env["AUTO_RESTORE_MAX_PER_HOUR"] == {"Ref": "AutoRestoreMaxPerHour"}
        assert env["AUTO_RESTORE_REPOSITORIES"] == {"Fn::Join": [",", {"Ref": "AutoRestoreRepositories"}]}
        assert env["RESTORE_NOTICE_TOPIC_ARN"] == {"Ref": "RestoreNoticeTopic"}
        assert env["STATE_TABLE_NAME"] == {"Ref": "StateTable"}

    @pytest.mark.parametrize(
        "alarm", ["AutoRestoreFunctionErrorsAlarm", "AutoRestoreDeadLetterAlarm", "AutoRestoreCappedAlarm"]
    )
    def test_the_alarms_exist(self, resources: dict[str, Any], alarm: str) -> None:
        assert resources[alarm]["Type"] == "AWS::CloudWatch::Alarm"
