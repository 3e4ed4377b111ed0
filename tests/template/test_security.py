"""Security invariants of template.yaml, checked on the SAM-transformed stack.

Each invariant is a violation-list function in ``tests/template/security.py``; every one is shown
to pass on the real template and to fail on a template broken the way it guards against.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.template import security
from tests.template.test_template import sam_transform

Check = Callable[[dict[str, Any]], list[str]]
CHECKS: dict[str, Check] = {
    "roles": security.role_violations,
    "wildcard actions": security.wildcard_action_violations,
    "unscoped resources": security.unscoped_resource_violations,
    "api auth": security.api_auth_violations,
    "encryption": security.encryption_violations,
    "bucket": security.bucket_violations,
    "log groups": security.log_group_violations,
    "dead letters": security.dead_letter_violations,
    "alarms": security.alarm_violations,
}


@pytest.fixture(scope="module")
def cfn(template: dict[str, Any]) -> dict[str, Any]:
    return sam_transform(template)


def broken(template: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The transformed stack of a copy of ``template`` after ``change(resources)``."""
    copy_ = copy.deepcopy(template)
    change(copy_["Resources"])
    return sam_transform(copy_)


def statement(resources: dict[str, Any], role: str, **stmt: Any) -> None:
    resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", **stmt}
    )


@pytest.mark.parametrize("name", CHECKS)
def test_the_stack_satisfies(cfn: dict[str, Any], name: str) -> None:
    assert CHECKS[name](cfn) == []


def test_resource_star_is_used_for_exactly_the_listed_actions(cfn: dict[str, Any]) -> None:
    # The allow-list is a specification, not a ceiling: an entry nobody needs any more goes too.
    assert security.unscoped_actions(cfn) == security.UNSCOPED_ACTIONS


def test_every_checkov_suppression_is_justified_inline(template: dict[str, Any]) -> None:
    assert security.checkov_skip_violations(template) == []


# -- each check can fail -------------------------------------------------------------------------
REPO_ARN = {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}


def _share_a_role(r: dict[str, Any]) -> None:
    r["ArchiveImagesFunction"]["Properties"]["Role"] = {"Fn::GetAtt": ["PlanArchiveRole", "Arn"]}


def _sam_generated_role(r: dict[str, Any]) -> None:
    del r["RestoreApiFunction"]["Properties"]["Role"]


def _ecr_star(r: dict[str, Any]) -> None:
    statement(r, "ArchiveImagesRole", Action="ecr:*", Resource=REPO_ARN)


def _everything(r: dict[str, Any]) -> None:
    statement(r, "RestoreApiRole", Action="*", Resource="*")


def _archive_anywhere(r: dict[str, Any]) -> None:
    statement(r, "PlanArchiveRole", Action=["ecr:UpdateImageStorageClass"], Resource="*")


def _anonymous_route(r: dict[str, Any]) -> None:
    route = r["RestoreApiFunction"]["Properties"]["Events"]["GetImageStatus"]["Properties"]
    route["Auth"] = {"Authorizer": "NONE"}


def _plain_queue(r: dict[str, Any]) -> None:
    del r["ArchiveWorkQueue"]["Properties"]["SqsManagedSseEnabled"]


def _plain_topic(r: dict[str, Any]) -> None:
    del r["AlarmTopic"]["Properties"]["KmsMasterKeyId"]


def _plain_bucket(r: dict[str, Any]) -> None:
    del r["ArchiveReportBucket"]["Properties"]["BucketEncryption"]


def _public_bucket(r: dict[str, Any]) -> None:
    r["ArchiveReportBucket"]["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False


def _plain_http_bucket(r: dict[str, Any]) -> None:
    r["ArchiveReportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"] = []


def _forever_logs(r: dict[str, Any]) -> None:
    del r["PlanArchiveLogs"]["Properties"]["RetentionInDays"]


def _default_log_group(r: dict[str, Any]) -> None:
    del r["RestoreApiFunction"]["Properties"]["LoggingConfig"]


def _no_redrive(r: dict[str, Any]) -> None:
    del r["ArchiveWorkQueue"]["Properties"]["RedrivePolicy"]


def _notice_without_dlq(r: dict[str, Any]) -> None:
    del r["RestoreNoticeRule"]["Properties"]["Targets"][0]["DeadLetterConfig"]


def _failed_runs_dropped(r: dict[str, Any]) -> None:
    del r["PlanArchiveFunction"]["Properties"]["DeadLetterQueue"]


def _schedule_without_dlq(r: dict[str, Any]) -> None:
    del r["ArchiveRunSchedule"]["Properties"]["Target"]["DeadLetterConfig"]


def _sync_rule_without_dlq(r: dict[str, Any]) -> None:
    del r["SyncExclusionsFunction"]["Properties"]["Events"]["DriftRepair"]["Properties"]["DeadLetterConfig"]


def _no_throttle_alarm(r: dict[str, Any]) -> None:
    del r["RestoreApiFunctionThrottlesAlarm"]


def _no_dlq_alarm(r: dict[str, Any]) -> None:
    del r["RestoreNoticeDeadLetterAlarm"]


def _no_5xx_alarm(r: dict[str, Any]) -> None:
    del r["RestoreApi5xxAlarm"]


def _silent_alarm(r: dict[str, Any]) -> None:
    del r["ArchiveFailuresAlarm"]["Properties"]["AlarmActions"]


BREAKAGES = [
    ("roles", _share_a_role, "PlanArchiveFunction and ArchiveImagesFunction share role PlanArchiveRole"),
    ("roles", _sam_generated_role, "RestoreApiFunctionRole: managed policies"),
    ("wildcard actions", _ecr_star, "ArchiveImagesRole/archive-images: wildcard action ecr:*"),
    ("wildcard actions", _everything, "RestoreApiRole/restore-images: wildcard action *"),
    ("unscoped resources", _everything, "RestoreApiRole/restore-images: * on Resource '*'"),
    (
        "unscoped resources",
        _archive_anywhere,
        "PlanArchiveRole/plan-archive-run: ecr:UpdateImageStorageClass on Resource '*'",
    ),
    ("api auth", _anonymous_route, "RestoreApi: GET /images is not AWS_IAM"),
    ("encryption", _plain_queue, "ArchiveWorkQueue: queue not encrypted"),
    ("encryption", _plain_topic, "AlarmTopic: topic not encrypted"),
    ("encryption", _plain_bucket, "ArchiveReportBucket: bucket without default encryption"),
    ("bucket", _public_bucket, "ArchiveReportBucket: public access not blocked (BlockPublicPolicy)"),
    ("bucket", _plain_http_bucket, "ArchiveReportBucket: no TLS-only"),
    ("log groups", _forever_logs, "PlanArchiveLogs: log group without RetentionInDays"),
    ("log groups", _default_log_group, "RestoreApiFunction: LoggingConfig.LogGroup"),
    ("dead letters", _no_redrive, "ArchiveWorkQueue: consumed by ArchiveImagesFunctionWork"),
    ("dead letters", _notice_without_dlq, "RestoreNoticeRule: target RestoreNoticeTopic has no DeadLetter"),
    ("dead letters", _failed_runs_dropped, "PlanArchiveFunction: invoked asynchronously by ArchiveRunSch"),
    ("dead letters", _schedule_without_dlq, "ArchiveRunSchedule: schedule target has no DeadLetterConfig"),
    ("dead letters", _sync_rule_without_dlq, "SyncExclusionsFunctionDriftRepair: target"),
    ("alarms", _no_throttle_alarm, "RestoreApiFunction: no alarm on Throttles"),
    ("alarms", _no_dlq_alarm, "RestoreNoticeDeadLetterQueue: dead-letter queue without a depth alarm"),
    ("alarms", _no_5xx_alarm, "RestoreApi: no alarm on 5XXError"),
    ("alarms", _silent_alarm, "ArchiveFailuresAlarm: AlarmActions must notify a topic"),
]


@pytest.mark.parametrize(
    ("check", "change", "expected"), BREAKAGES, ids=[f"{c}:{f.__name__.strip('_')}" for c, f, _ in BREAKAGES]
)
def test_each_check_catches_its_breakage(
    template: dict[str, Any], check: str, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    problems = CHECKS[check](broken(template, change))
    assert any(p.startswith(expected) for p in problems), problems


def test_an_unjustified_checkov_suppression_is_caught(template: dict[str, Any]) -> None:
    copy_ = copy.deepcopy(template)
    copy_["Resources"]["ArchiveReportBucket"]["Metadata"]["checkov"]["skip"][0]["comment"] = "because"
    assert security.checkov_skip_violations(copy_) == [
        "ArchiveReportBucket: checkov skip CKV_AWS_18 without a justification"
    ]


def test_every_project_wide_checkov_skip_says_why() -> None:
    from tests.template.conftest import ROOT

    text = (ROOT / ".checkov.yaml").read_text()
    skipped = re.findall(r"^  - (CKV_\w+)", text, flags=re.MULTILINE)
    assert skipped
    for check in skipped:
        reason = re.search(rf"^  # {check} (.+?)^  - {check}", text, flags=re.MULTILINE | re.DOTALL)
        assert reason, f"{check} is skipped project-wide without a comment above it"
        assert len(reason.group(1).split()) >= 15
