"""Template invariants of the on-demand restore API."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.template.conftest import resources_of_type
from tests.template.test_template import sam_transform

REPOSITORY_ARN = {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}


def restore_api(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["RestoreApi"]["Properties"]


def restore_function(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["RestoreApiFunction"]["Properties"]


def auth_violations(template: dict[str, Any]) -> list[str]:
    """Every way a restore route could be reachable without SigV4."""
    out: list[str] = []
    api = template["Resources"]["RestoreApi"]["Properties"]
    if api.get("Auth", {}).get("DefaultAuthorizer") != "AWS_IAM":
        out.append("RestoreApi: DefaultAuthorizer must be AWS_IAM")
    if "Cors" in api:
        out.append("RestoreApi: Cors adds OPTIONS methods without authorisation")
    for name, fn in resources_of_type(template["Resources"], "AWS::Serverless::Function").items():
        for event_name, event in fn["Properties"].get("Events", {}).items():
            props = event.get("Properties", {})
            if event["Type"] == "Api" and props.get("RestApiId") == {"Ref": "RestoreApi"}:
                authorizer = props.get("Auth", {}).get("Authorizer", "AWS_IAM")
                if authorizer != "AWS_IAM":
                    out.append(f"{name}.{event_name}: route authorizer {authorizer}")
    cfn = sam_transform(template)
    body = cfn["Resources"]["RestoreApi"]["Properties"]["Body"]
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            if operation.get("security") != [{"AWS_IAM": []}]:
                out.append(f"{method.upper()} {path}: not AWS_IAM ({operation.get('security')})")
    return out


class TestAuthorisation:
    def test_every_route_requires_sigv4(self, template: dict[str, Any]) -> None:
        assert auth_violations(template) == []

    def test_the_check_catches_an_anonymous_route(self, template: dict[str, Any]) -> None:
        broken = copy.deepcopy(template)
        events = broken["Resources"]["RestoreApiFunction"]["Properties"]["Events"]
        events["GetImageStatus"]["Properties"]["Auth"] = {"Authorizer": "NONE"}
        assert any(p.startswith("GET /images: not AWS_IAM") for p in auth_violations(broken))

    def test_the_check_catches_an_unauthenticated_cors_preflight(self, template: dict[str, Any]) -> None:
        broken = copy.deepcopy(template)
        broken["Resources"]["RestoreApi"]["Properties"]["Cors"] = "'*'"
        broken["Resources"]["RestoreApi"]["Properties"]["Auth"]["AddDefaultAuthorizerToCorsPreflight"] = False
        problems = auth_violations(broken)
        assert "RestoreApi: Cors adds OPTIONS methods without authorisation" in problems
        assert any(p.startswith("OPTIONS ") for p in problems)

    def test_the_api_serves_exactly_the_two_routes(self, template: dict[str, Any]) -> None:
        body = sam_transform(template)["Resources"]["RestoreApi"]["Properties"]["Body"]
        assert {(m.upper(), p) for p, ms in body["paths"].items() for m in ms} == {
            ("POST", "/restores"),
            ("GET", "/images"),
        }

    def test_callers_need_only_execute_api_invoke(self, resources: dict[str, Any]) -> None:
        # CALLER_CREDENTIALS (SAM's default with AWS_IAM) would also demand lambda:InvokeFunction
        assert restore_api(resources)["Auth"]["InvokeRole"] == "NONE"


class TestStage:
    def test_is_throttled_on_every_method(self, resources: dict[str, Any]) -> None:
        [setting] = restore_api(resources)["MethodSettings"]
        assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
        assert setting["ThrottlingRateLimit"] == {"Ref": "RestoreApiThrottleRateLimit"}
        assert setting["ThrottlingBurstLimit"] == {"Ref": "RestoreApiThrottleBurstLimit"}

    def test_writes_access_logs_to_a_log_group_with_retention(self, resources: dict[str, Any]) -> None:
        condition, access, off = restore_api(resources)["AccessLogSetting"]["Fn::If"]
        assert (condition, off) == ("RestoreApiAccessLogsOn", {"Ref": "AWS::NoValue"})
        group_name = access["DestinationArn"]["Fn::GetAtt"][0]
        assert resources[group_name]["Type"] == "AWS::Logs::LogGroup"
        assert resources[group_name]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        for field in ("$context.requestId", "$context.identity.userArn", "$context.status"):
            assert field in access["Format"]

    def test_traces_with_xray(self, resources: dict[str, Any]) -> None:
        assert restore_api(resources)["TracingEnabled"] is True


class TestFunction:
    def test_has_its_own_role(self, resources: dict[str, Any]) -> None:
        role = restore_function(resources)["Role"]
        assert role == {"Fn::GetAtt": ["RestoreApiRole", "Arn"]}
        users = [
            name
            for name, res in resources_of_type(resources, "AWS::Serverless::Function").items()
            if res["Properties"].get("Role") == role
        ]
        assert users == ["RestoreApiFunction"]

    def test_role_may_only_restore_describe_and_list_referrers_on_repositories(
        self, resources: dict[str, Any]
    ) -> None:
        statements = [
            st
            for policy in resources["RestoreApiRole"]["Properties"]["Policies"]
            for st in policy["PolicyDocument"]["Statement"]
        ]
        ecr = [st for st in statements if any(a.startswith("ecr:") for a in st["Action"])]
        assert len(ecr) == 1
        assert sorted(ecr[0]["Action"]) == [
            "ecr:BatchGetImage",
            "ecr:DescribeImages",
            "ecr:UpdateImageStorageClass",
        ]
        assert ecr[0]["Resource"] == REPOSITORY_ARN
        assert all(st["Effect"] == "Allow" for st in statements)
        assert not any(a == "*" or a.endswith(":*") for st in statements for a in st["Action"])

    def test_writes_only_to_its_own_log_group(self, resources: dict[str, Any]) -> None:
        group = restore_function(resources)["LoggingConfig"]["LogGroup"]
        assert group == {"Ref": "RestoreApiFunctionLogs"}
        assert resources["RestoreApiFunctionLogs"]["Properties"]["RetentionInDays"] == {
            "Ref": "LogRetentionDays"
        }

    def test_gets_the_allow_list_from_its_parameter(self, template: dict[str, Any]) -> None:
        env = restore_function(template["Resources"])["Environment"]["Variables"]
        assert env["RESTORE_ALLOWED_REPOSITORIES"] == {
            "Fn::Join": [",", {"Ref": "RestoreAllowedRepositories"}]
        }
        param = template["Parameters"]["RestoreAllowedRepositories"]
        assert (param["Type"], param["Default"]) == ("CommaDelimitedList", "*")

    def test_times_out_before_api_gateway_does(self, resources: dict[str, Any]) -> None:
        assert restore_function(resources)["Timeout"] < 29


class TestCompletionNotice:
    def test_rule_matches_successful_restores_only(self, resources: dict[str, Any]) -> None:
        pattern = resources["RestoreNoticeRule"]["Properties"]["EventPattern"]
        assert pattern == {
            "source": ["aws.ecr"],
            "detail-type": ["ECR Image Action"],
            "detail": {
                "action-type": ["UPDATE_STORAGE_CLASS"],
                "target-storage-class": ["STANDARD"],
                "result": ["SUCCESS"],
            },
        }

    def test_rule_publishes_to_the_notice_topic(self, resources: dict[str, Any]) -> None:
        [target] = resources["RestoreNoticeRule"]["Properties"]["Targets"]
        assert target["Arn"] == {"Ref": "RestoreNoticeTopic"}

    def test_topic_is_encrypted_with_the_app_key(self, resources: dict[str, Any]) -> None:
        assert resources["RestoreNoticeTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AppKey"}

    def test_only_the_rule_may_publish_and_only_over_tls(self, resources: dict[str, Any]) -> None:
        statements = resources["RestoreNoticeTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        [allow] = [st for st in statements if st["Effect"] == "Allow"]
        assert allow["Principal"] == {"Service": "events.amazonaws.com"}
        assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == {
            "Fn::GetAtt": ["RestoreNoticeRule", "Arn"]
        }
        [deny] = [st for st in statements if st["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    def test_email_subscription_is_optional(self, template: dict[str, Any]) -> None:
        subscription = template["Resources"]["RestoreNoticeTopic"]["Properties"]["Subscription"]
        assert subscription["Fn::If"][0] == "HasRestoreNotificationEmail"
        assert template["Parameters"]["RestoreNotificationEmail"]["Default"] == ""


class TestAlarms:
    @pytest.mark.parametrize(
        ("namespace", "metric", "dimension"),
        [("AWS/ApiGateway", "5XXError", "ApiName"), ("AWS/Lambda", "Errors", "FunctionName")],
    )
    def test_alarm_notifies_the_alarm_topic(
        self, resources: dict[str, Any], namespace: str, metric: str, dimension: str
    ) -> None:
        alarms = [
            res["Properties"]
            for res in resources_of_type(resources, "AWS::CloudWatch::Alarm").values()
            if res["Properties"]["Namespace"] == namespace and res["Properties"]["MetricName"] == metric
        ]
        restore = [a for a in alarms if any(d["Name"] == dimension for d in a["Dimensions"])]
        assert restore, f"no {namespace} {metric} alarm"
        assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in restore)

    def test_api_alarm_watches_this_api(self, resources: dict[str, Any]) -> None:
        dims = {d["Name"]: d["Value"] for d in resources["RestoreApi5xxAlarm"]["Properties"]["Dimensions"]}
        assert dims["ApiName"] == restore_api(resources)["Name"]
        assert dims["Stage"] == restore_api(resources)["StageName"]


def test_outputs_the_api_url(template: dict[str, Any]) -> None:
    url = template["Outputs"]["RestoreApiUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("https://${RestoreApi}.execute-api.${AWS::Region}.")
    assert url.endswith("/" + template["Resources"]["RestoreApi"]["Properties"]["StageName"])


# -- RestoreApiAccessLogging: the account-wide API Gateway CloudWatch Logs role -------------------
MODES = ("create-account-role", "use-existing-account-role", "off")


def holds(condition: Any, template: dict[str, Any], parameters: dict[str, str]) -> bool:
    """Evaluate a CloudFormation condition (Equals, Not, And, Or, Condition) for ``parameters``."""
    if isinstance(condition, dict) and "Condition" in condition:
        return holds(template["Conditions"][condition["Condition"]], template, parameters)
    if isinstance(condition, str):
        return holds(template["Conditions"][condition], template, parameters)
    ((fn, args),) = condition.items()
    value = {
        "Fn::Equals": lambda: resolve(args[0], parameters) == resolve(args[1], parameters),
        "Fn::Not": lambda: not holds(args[0], template, parameters),
        "Fn::And": lambda: all(holds(a, template, parameters) for a in args),
        "Fn::Or": lambda: any(holds(a, template, parameters) for a in args),
    }[fn]()
    return bool(value)


def resolve(value: Any, parameters: dict[str, str]) -> Any:
    return parameters[value["Ref"]] if isinstance(value, dict) and "Ref" in value else value


def created(template: dict[str, Any], mode: str) -> set[str]:
    """The logical ids CloudFormation creates with ``RestoreApiAccessLogging=mode``."""
    parameters = {"RestoreApiAccessLogging": mode}
    return {
        name
        for name, res in template["Resources"].items()
        if "Condition" not in res or holds(res["Condition"], template, parameters)
    }


class TestAccessLogging:
    def test_the_default_creates_the_account_role_so_a_fresh_account_deploys(
        self, main_template: dict[str, Any]
    ):
        parameter = main_template["Parameters"]["RestoreApiAccessLogging"]
        assert parameter["Default"] == "create-account-role"
        assert tuple(parameter["AllowedValues"]) == MODES
        assert "ACCOUNT-WIDE" in parameter["Description"]

    @pytest.mark.parametrize(
        ("mode", "account_setting", "logs_on"),
        [
            ("create-account-role", True, True),
            ("use-existing-account-role", False, True),
            ("off", False, False),
        ],
    )
    def test_each_mode_creates_what_it_says(
        self, main_template: dict[str, Any], mode: str, account_setting: bool, logs_on: bool
    ):
        names = created(main_template, mode)
        assert ({"ApiGatewayAccount", "ApiGatewayCloudWatchRole"} <= names) is account_setting
        assert ("ApiGatewayAccount" in names or "ApiGatewayCloudWatchRole" in names) is account_setting
        assert ("RestoreApiAccessLogs" in names) is logs_on
        on = holds("RestoreApiAccessLogsOn", main_template, {"RestoreApiAccessLogging": mode})
        assert on is logs_on

    def test_the_account_setting_points_at_the_stack_role_with_the_push_to_logs_policy(
        self, resources: dict[str, Any]
    ):
        account = resources["ApiGatewayAccount"]
        assert account["Type"] == "AWS::ApiGateway::Account"
        assert account["Properties"]["CloudWatchRoleArn"] == {
            "Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]
        }
        role = resources["ApiGatewayCloudWatchRole"]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "apigateway.amazonaws.com"
        }
        policy = "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        assert role["Properties"]["ManagedPolicyArns"] == [{"Fn::Sub": policy}]

    def test_the_role_outlives_the_stack_because_the_account_setting_does(self, resources: dict[str, Any]):
        role = resources["ApiGatewayCloudWatchRole"]
        assert (role["DeletionPolicy"], role["UpdateReplacePolicy"]) == ("Retain", "Retain")

    def test_the_stage_waits_for_the_account_setting_when_the_stack_makes_it(self, resources: dict[str, Any]):
        assert resources["RestoreApi"]["DependsOn"] == "ApiGatewayAccountReady"
        handle = resources["ApiGatewayAccountReady"]
        assert "Condition" not in handle
        assert handle["Metadata"]["AccountSetting"]["Fn::If"][:2] == [
            "CreateApiGatewayAccountRole",
            {"Ref": "ApiGatewayAccount"},
        ]
