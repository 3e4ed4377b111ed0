"""Scheduled archiving in template.yaml: least privilege, encryption, alarms, wiring."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecr_archiver.archiving.config import DEFAULT_CONFIG, parse_config
from tests.template.conftest import ROOT, resources_of_type

REPO_ARN = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"


def statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [
        stmt
        for policy in resources[role]["Properties"].get("Policies", [])
        for stmt in policy["PolicyDocument"]["Statement"]
    ]


def actions(stmt: dict[str, Any]) -> list[str]:
    value = stmt["Action"]
    return [value] if isinstance(value, str) else list(value)


def roles_granting(resources: dict[str, Any], action: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in resources_of_type(resources, "AWS::IAM::Role"):
        for stmt in statements(resources, name):
            if stmt.get("Effect") == "Allow" and any(a in (action, "ecr:*", "*") for a in actions(stmt)):
                out.setdefault(name, []).append(stmt)
    return out


def test_only_the_worker_may_archive_and_only_on_repository_arns(resources):
    granted = roles_granting(resources, "ecr:UpdateImageStorageClass")
    worker = resources["ArchiveImagesFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert "ArchiveImagesRole" in granted
    assert worker == "ArchiveImagesRole"
    # The restore API and auto-restore may restore images; nobody else holds the action at all.
    assert set(granted) - {"ArchiveImagesRole"} <= {"RestoreApiRole", "AutoRestoreRole"}
    for stmt in granted["ArchiveImagesRole"]:
        assert stmt["Resource"] == {"Fn::Sub": REPO_ARN}


def test_only_the_worker_may_read_manifests_and_no_archiving_role_may_download_layers(resources):
    # The worker reads index manifests (BatchGetImage) only while its role is excluded from
    # pull-time updates; nobody downloads a layer.
    plan = {a for stmt in statements(resources, "PlanArchiveRole") for a in actions(stmt)}
    work = {a for stmt in statements(resources, "ArchiveImagesRole") for a in actions(stmt)}
    assert "ecr:BatchGetImage" not in plan
    assert "ecr:BatchGetImage" in work
    assert "ecr:GetDownloadUrlForLayer" not in plan | work


def test_the_stacks_own_roles_are_always_excluded_from_pull_time_updates(resources):
    env = resources["SyncExclusionsFunction"]["Properties"]["Environment"]["Variables"]
    separator, arns = env["OWN_ROLE_ARNS"]["Fn::Join"]
    assert separator == ","
    roles = {arn["Fn::GetAtt"][0] for arn in arns}
    assert {"PlanArchiveRole", "ArchiveImagesRole", "RestoreApiRole"} <= roles
    plan = resources["PlanArchiveFunction"]["Properties"]["Environment"]["Variables"]
    assert plan["WORKER_ROLE_ARN"] == {"Fn::GetAtt": ["ArchiveImagesRole", "Arn"]}


def test_the_planner_reads_ecs_and_lambda_and_cannot_mutate_images(resources):
    granted = {a for stmt in statements(resources, "PlanArchiveRole") for a in actions(stmt)}
    assert {"ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServices", "lambda:GetFunction"} <= granted
    assert {a for a in granted if a.startswith("ecr:")} == {
        "ecr:DescribeRepositories",
        "ecr:DescribeImages",
        "ecr:GetLifecyclePolicy",
        "ecr:StartLifecyclePolicyPreview",
        "ecr:ListPullTimeUpdateExclusions",
    }


def test_each_archiving_function_has_its_own_role_and_log_group_with_retention(resources):
    roles = {
        resources[f]["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in ("PlanArchiveFunction", "ArchiveImagesFunction")
    }
    assert roles == {"PlanArchiveRole", "ArchiveImagesRole"}
    for fn in ("PlanArchiveFunction", "ArchiveImagesFunction"):
        group = resources[fn]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_unscoped_resources_are_only_for_actions_iam_cannot_scope(resources):
    allowed_unscoped = {
        "ecs:ListClusters",
        "ecs:ListServices",
        "ecs:ListTasks",
        "ecs:DescribeTaskDefinition",
        "lambda:ListFunctions",
        "ecr:ListPullTimeUpdateExclusions",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    for role in ("PlanArchiveRole", "ArchiveImagesRole"):
        for stmt in statements(resources, role):
            if stmt["Resource"] == "*":
                assert set(actions(stmt)) <= allowed_unscoped, stmt


def test_archiving_queues_are_encrypted_and_the_work_queue_dead_letters(resources):
    for name in ("ArchiveWorkQueue", "ArchiveWorkDeadLetterQueue", "ArchiveScheduleDeadLetterQueue"):
        assert resources[name]["Properties"]["SqsManagedSseEnabled"] is True
    redrive = resources["ArchiveWorkQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["ArchiveWorkDeadLetterQueue", "Arn"]}


def test_the_worker_reports_batch_item_failures_with_bounded_concurrency(resources):
    event = resources["ArchiveImagesFunction"]["Properties"]["Events"]["Work"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "WorkerMaxConcurrency"}
    timeout = resources["ArchiveImagesFunction"]["Properties"]["Timeout"]
    assert resources["ArchiveWorkQueue"]["Properties"]["VisibilityTimeout"] >= timeout


def test_workers_are_told_how_many_share_the_archive_rate(resources):
    props = resources["ArchiveImagesFunction"]["Properties"]
    env = props["Environment"]["Variables"]
    scaling = props["Events"]["Work"]["Properties"]["ScalingConfig"]
    # the divisor each worker uses must be the same parameter that caps the workers
    assert env["WORKER_MAX_CONCURRENCY"] == scaling["MaximumConcurrency"]
    assert env["ARCHIVE_MAX_TPS"] == {"Ref": "ArchiveMaxTps"}


def test_the_report_bucket_is_encrypted_private_tls_only_and_expires(resources):
    props = resources["ArchiveReportBucket"]["Properties"]
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    (deny,) = resources["ArchiveReportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_schedule_runs_the_planner_with_retries_and_a_dead_letter_queue(resources):
    (schedule,) = resources_of_type(resources, "AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "ArchiveSchedule"}
    assert props["Target"]["Arn"] == {"Fn::GetAtt": ["PlanArchiveFunction", "Arn"]}
    assert props["Target"]["DeadLetterConfig"]["Arn"] == {
        "Fn::GetAtt": ["ArchiveScheduleDeadLetterQueue", "Arn"]
    }
    assert props["Target"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1


@pytest.mark.parametrize(
    ("metric", "dimension_value"),
    [
        ("ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["ArchiveWorkDeadLetterQueue", "QueueName"]}),
        ("Errors", {"Ref": "PlanArchiveFunction"}),
        ("Errors", {"Ref": "ArchiveImagesFunction"}),
        ("Throttles", {"Ref": "ArchiveImagesFunction"}),
        ("ConfigInvalid", "ecr-archiver"),
    ],
)
def test_alarms_watch_dead_letters_errors_throttles_and_bad_config(resources, metric, dimension_value):
    alarms = [
        a["Properties"]
        for a in resources_of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == metric
        and any(d["Value"] == dimension_value for d in a["Properties"]["Dimensions"])
    ]
    assert alarms, f"no alarm on {metric} {dimension_value}"
    assert alarms[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_functions_get_their_settings_from_the_stack(resources):
    plan = resources["PlanArchiveFunction"]["Properties"]["Environment"]["Variables"]
    work = resources["ArchiveImagesFunction"]["Properties"]["Environment"]["Variables"]
    assert plan["DRY_RUN"] == work["DRY_RUN"] == {"Ref": "DryRun"}
    assert plan["WORK_QUEUE_URL"] == work["WORK_QUEUE_URL"] == {"Ref": "ArchiveWorkQueue"}
    assert plan["REPORT_BUCKET"] == work["REPORT_BUCKET"] == {"Ref": "ArchiveReportBucket"}
    assert work["ARCHIVE_MAX_TPS"] == {"Ref": "ArchiveMaxTps"}


def test_the_stacks_default_config_is_the_documented_safe_default(resources):
    value = resources["ArchiveConfigParameter"]["Properties"]["Value"]
    assert json.loads(value) == DEFAULT_CONFIG
    assert parse_config(value).dry_run is True


def test_sample_events_match_what_the_handlers_parse():
    from ecr_archiver.archiving.models import WorkMessage

    sqs = json.loads((ROOT / "events" / "archive_images_sqs.json").read_text())
    WorkMessage.model_validate_json(sqs["Records"][0]["body"])
    schedule = json.loads((ROOT / "events" / "plan_archive_schedule.json").read_text())
    assert schedule["id"]
    assert schedule["time"]
