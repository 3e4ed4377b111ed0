"""``ecr-archiver doctor`` against the emulator: a ready account, a broken one, and a fresh one."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from ecr_archiver.archiving.config import DEFAULT_CONFIG, DEFAULT_CONFIG_PARAMETER
from ecr_emulator import Emulator
from tests.integration.cli.conftest import Run

PLAN_ROLE = "arn:aws:iam::123456789012:role/ecr-archiver-PlanArchiveRole-abc"
WORKER_ROLE = "arn:aws:iam::123456789012:role/ecr-archiver-ArchiveImagesRole-def"
LOGS_ROLE = "arn:aws:iam::123456789012:role/apigw-logs"


def deploy_stack(emulator: Emulator, *, config: str, **parameters: str) -> None:
    """A stand-in for the deployed stack: the parameters and outputs the doctor reads."""
    values = {
        "DryRun": "true",
        "ExclusionSyncDryRun": "true",
        "RestoreApiAccessLogging": "use-existing-account-role",
        "RestoreAllowedRepositories": "*",
        **parameters,
    }
    template = {
        "Parameters": {key: {"Type": "String"} for key in values},
        "Resources": {
            "ArchiveConfigParameter": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": DEFAULT_CONFIG_PARAMETER, "Type": "String", "Value": config},
            }
        },
        "Outputs": {
            "RestoreApiUrl": {"Value": "https://abc.execute-api.us-east-1.amazonaws.com/v1"},
            "ArchiveConfigParameterName": {"Value": DEFAULT_CONFIG_PARAMETER},
            "ArchiveReportBucketName": {"Value": "reports-bucket"},
            "ArchivingRoleArns": {"Value": f"{PLAN_ROLE},{WORKER_ROLE}"},
        },
    }
    boto3.client("cloudformation", region_name=emulator.region).create_stack(
        StackName="ecr-archiver",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )


def set_account_logs_role(emulator: Emulator, arn: str) -> None:
    boto3.client("apigateway", region_name=emulator.region).update_account(
        patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": arn}]
    )


def checks(result: Any) -> dict[str, str]:
    return {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}


@pytest.fixture
def ready(emulator: Emulator, ecr: Any) -> None:
    deploy_stack(emulator, config=json.dumps(DEFAULT_CONFIG))
    set_account_logs_role(emulator, LOGS_ROLE)
    for arn in (PLAN_ROLE, WORKER_ROLE):
        ecr.register_pull_time_update_exclusion(principalArn=arn)


@pytest.mark.usefixtures("ready")
def test_a_ready_account_has_nothing_blocking(run: Run):
    result = run("--json", "doctor")
    assert result.exit_code == 0, result.stdout
    found = checks(result)
    assert found["credentials"] == "ok"
    assert found["ecr archive APIs"] == "ok"
    assert found["stack"] == "ok"
    assert found["api gateway logs role"] == "ok"
    assert found["configuration"] == "ok"
    assert found["exclusions: archiving roles"] == "ok"
    assert found["exclusions: headroom"] == "ok"
    assert "fail" not in found.values()


@pytest.mark.usefixtures("ready")
def test_the_checklist_prints_one_line_per_check_with_its_fix(run: Run):
    result = run("doctor")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "nothing blocking in us-east-1 (stack ecr-archiver)"
    dry_run = next(line for line in lines if line.startswith("INFO dry run"))
    assert "DryRun=true" in dry_run
    assert "→ fix: set DryRun=false" in dry_run


def test_a_broken_account_names_each_blocking_problem_and_exits_3(run: Run, emulator: Emulator):
    # Given a stack whose configuration is invalid, logging through a role the account never set,
    # and archiving roles missing from the exclusion list
    deploy_stack(emulator, config='{"rules": "not a list"}', RestoreAllowedRepositories="tem/*")
    emulator.push_image("team/app", "v1")
    # When checked
    result = run("--json", "doctor")
    # Then it exits 3 and says what blocks and what to watch
    assert result.exit_code == 3
    found = checks(result)
    assert found["configuration"] == "fail"
    assert found["api gateway logs role"] == "fail"
    assert found["exclusions: archiving roles"] == "warn"
    assert found["restore allow-list"] == "warn"
    body = json.loads(result.stdout)
    logs = next(c for c in body["checks"] if c["name"] == "api gateway logs role")
    assert "create-account-role" in logs["fix"]
    assert body["blocking"] == 2


def test_a_fresh_account_is_ready_for_the_default_deploy(run: Run):
    result = run("--json", "doctor")
    assert result.exit_code == 0, result.stdout
    found = checks(result)
    assert (found["stack"], found["api gateway logs role"], found["configuration"]) == ("info", "ok", "skip")


def test_a_fresh_account_cannot_deploy_with_the_existing_role_it_does_not_have(run: Run):
    result = run("doctor", "--access-logs", "use-existing-account-role")
    assert result.exit_code == 3
    line = next(line for line in result.stdout.splitlines() if "api gateway logs role" in line)
    assert line.startswith("FAIL")
    assert "CloudWatch Logs role ARN must be set" in line


def test_replacing_an_existing_account_role_is_a_warning(run: Run, emulator: Emulator):
    set_account_logs_role(emulator, LOGS_ROLE)
    result = run("--json", "doctor")
    assert result.exit_code == 0
    assert checks(result)["api gateway logs role"] == "warn"


def test_without_an_emulator_the_credentials_check_fails_and_the_rest_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
):
    from click.testing import CliRunner

    from ecr_archiver.cli.main import cli
    from tests.integration.cli.test_first_contact import closed_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["--json", "doctor", "--endpoint-url", f"http://127.0.0.1:{closed_port()}"]
    )
    assert result.exit_code == 3
    found = checks(result)
    assert found["credentials"] == "fail"
    assert set(found.values()) - {"fail", "ok"} == {"skip"}
