"""``ecr-archiver ensure-active``: the deploy-pipeline step, against the emulator, with its exit codes.

0 every image ACTIVE · 2 nothing to ensure / a bad flag · 3 an unreadable reference · 4 refused
(a missing image or repository: nothing is restored) · 6 timed out (--wait) · 7 restores running.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from ecr_emulator import Emulator
from tests.integration.cli.conftest import Run, archive_now, old_image

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def archived(emulator: Emulator, ecr: Any, repo: str, tag: str) -> str:
    digest = old_image(emulator, repo, tag)
    archive_now(ecr, repo, digest)
    return digest


def test_every_image_already_active_exits_0_and_changes_nothing(run: Run, emulator: Emulator) -> None:
    old_image(emulator, "team/api", "v1")
    emulator.reset_calls()

    result = run("--json", "ensure-active", "team/api:v1")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"] == "active"
    assert emulator.calls["UpdateImageStorageClass"] == 0


def test_an_archived_image_is_restored_with_its_referrers_and_exit_7_says_it_is_still_restoring(
    run: Run, emulator: Emulator, ecr: Any
) -> None:
    digest = old_image(emulator, "team/api", "v1")
    signature = emulator.push_signature("team/api", digest)
    archive_now(ecr, "team/api", digest)
    archive_now(ecr, "team/api", signature)

    result = run("--json", "ensure-active", f"{REGISTRY}/team/api:v1")

    assert result.exit_code == 7, result.stderr
    payload = json.loads(result.stdout)
    assert payload["result"] == "pending"
    assert emulator.image_status("team/api", digest) == "ACTIVATING"
    assert emulator.image_status("team/api", signature) == "ACTIVATING"
    assert "use --wait" in result.stderr


def test_wait_returns_0_once_every_image_is_active(run: Run, emulator: Emulator, ecr: Any) -> None:
    digest = archived(emulator, ecr, "team/api", "v1")

    result = run("--json", "ensure-active", "team/api:v1", "--wait")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"] == "active"
    assert emulator.image_status("team/api", digest) == "ACTIVE"


def test_wait_times_out_with_exit_6(run: Run, emulator: Emulator, ecr: Any) -> None:
    archived(emulator, ecr, "team/api", "v1")

    result = run("ensure-active", "team/api:v1", "--wait", "--timeout", "60")

    assert result.exit_code == 6
    assert "timed out after 60s" in result.stderr


def test_a_missing_image_refuses_the_whole_run_and_restores_nothing(
    run: Run, emulator: Emulator, ecr: Any
) -> None:
    digest = archived(emulator, ecr, "team/api", "v1")
    emulator.reset_calls()

    result = run("ensure-active", "team/api:v1", "team/api:does-not-exist")

    assert result.exit_code == 4
    assert "refused: team/api:does-not-exist" in result.stderr
    assert "nothing was restored" in result.stderr
    assert emulator.calls["UpdateImageStorageClass"] == 0
    assert emulator.image_status("team/api", digest) == "ARCHIVED"


def test_the_images_of_a_task_definition_are_ensured(run: Run, emulator: Emulator, ecr: Any) -> None:
    digest = archived(emulator, ecr, "team/api", "v1")
    ecs = boto3.client("ecs", region_name=emulator.region)
    arn = ecs.register_task_definition(
        family="orders-api",
        containerDefinitions=[
            {"name": "api", "image": f"{REGISTRY}/team/api:v1", "memory": 512},
            {"name": "proxy", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 128},
        ],
    )["taskDefinition"]["taskDefinitionArn"]

    result = run("--json", "ensure-active", "--task-definition", arn)

    assert result.exit_code == 7, result.stderr
    payload = json.loads(result.stdout)
    assert [i["requested"] for i in payload["foreign"]] == ["public.ecr.aws/nginx/nginx:1.27"]
    assert emulator.image_status("team/api", digest) == "ACTIVATING"


def test_no_reference_is_a_usage_error(run: Run) -> None:
    result = run("ensure-active")

    assert result.exit_code == 2
    assert "give at least one REF or --task-definition" in result.stderr


def test_an_unreadable_reference_exits_3_before_any_change(run: Run, emulator: Emulator, ecr: Any) -> None:
    digest = archived(emulator, ecr, "team/api", "v1")
    emulator.reset_calls()

    result = run("ensure-active", "team/api:v1", "Team/API:?")

    assert result.exit_code == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert emulator.calls["UpdateImageStorageClass"] == 0
    assert emulator.image_status("team/api", digest) == "ARCHIVED"
