"""auto_restore end to end: each source event, each decision, against the emulator.

Every skip is asserted by what did NOT happen: no UpdateImageStorageClass call reached ECR.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ecr_archiver import errors
from ecr_emulator import Emulator
from tests.integration.auto_restore.conftest import (
    ECS_EVENT,
    LAMBDA_EVENT,
    PULL_EVENT,
    Stack,
    ecs_event,
    lambda_event,
    pull_event,
    sample,
)

REPO = "team/api"


def decisions(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(d["action"], d["reason"]) for d in report["decisions"]]


def archived_image(stack: Stack, emulator: Emulator, repo: str = REPO, tag: str = "v1.4.2") -> str:
    digest = emulator.push_image(repo, tag)
    stack.archive(repo, digest)
    emulator.reset_calls()
    return digest


class TestEachSourceRestoresAnArchivedImage:
    def test_an_ecs_task_that_could_not_pull_restores_the_image_and_notifies(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        digest = archived_image(stack, emulator)

        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"))

        assert decisions(report) == [("RestoreStarted", None)]
        assert stack.status(REPO, digest) == "ACTIVATING"
        [notice] = stack.notices()
        assert notice["event"] == "AutoRestoreStarted"
        assert notice["digest"] == digest
        assert notice["expectedWaitMinutes"] == 20
        assert notice["workload"]["cluster"] == "prod"
        assert notice["workload"]["taskDefinition"] == "orders-api:42"
        assert "orders-api" in notice["message"]

    def test_a_task_naming_the_image_by_digest_restores_it(self, stack: Stack, emulator: Emulator) -> None:
        digest = archived_image(stack, emulator)

        report = stack.invoke(ecs_event(f"{REPO}@{digest}"))

        assert decisions(report) == [("RestoreStarted", None)]
        assert stack.status(REPO, digest) == "ACTIVATING"

    def test_a_failed_lambda_image_update_restores_the_image_and_names_the_function(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        digest = archived_image(stack, emulator, "team/worker", "2026.04.1")

        report = stack.invoke(lambda_event("team/worker:2026.04.1"))

        assert decisions(report) == [("RestoreStarted", None)]
        assert stack.status("team/worker", digest) == "ACTIVATING"
        [notice] = stack.notices()
        assert notice["workload"]["functionName"] == "billing-worker"

    def test_a_pull_of_an_archived_image_restores_it(self, stack: Stack, emulator: Emulator) -> None:
        digest = archived_image(stack, emulator, "platform/base", "3.2.0")

        report = stack.invoke(pull_event("platform/base", "3.2.0"))

        assert decisions(report) == [("RestoreStarted", None)]
        assert stack.status("platform/base", digest) == "ACTIVATING"

    def test_the_archived_referrers_come_back_with_the_image(self, stack: Stack, emulator: Emulator) -> None:
        digest = emulator.push_image(REPO, "v1.4.2")
        signature = emulator.push_signature(REPO, digest)
        stack.archive(REPO, digest)
        stack.archive(REPO, signature)

        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"))

        assert report["decisions"][0]["referrersRestored"] == 1
        assert stack.status(REPO, signature) == "ACTIVATING"

    def test_every_container_image_of_the_task_is_decided(self, stack: Stack, emulator: Emulator) -> None:
        archived = archived_image(stack, emulator)
        emulator.push_image("team/sidecar", "1.0")

        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2", "team/sidecar:1.0"))

        assert decisions(report) == [("RestoreStarted", None), ("Skipped", "AlreadyActive")]
        assert stack.status(REPO, archived) == "ACTIVATING"
        assert emulator.calls["UpdateImageStorageClass"] == 1


class TestNothingToDo:
    def test_an_active_image_is_left_alone(self, stack: Stack, emulator: Emulator) -> None:
        emulator.push_image(REPO, "v1.4.2")
        emulator.reset_calls()

        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"))

        assert decisions(report) == [("Skipped", "AlreadyActive")]
        assert emulator.calls["UpdateImageStorageClass"] == 0
        assert stack.notices() == []

    def test_an_image_already_activating_is_left_alone(self, stack: Stack, emulator: Emulator) -> None:
        digest = archived_image(stack, emulator)
        stack.invoke(ecs_event(f"{REPO}:v1.4.2"))
        stack.notices()
        emulator.reset_calls()

        report = stack.invoke(ecs_event(f"{REPO}@{digest}"))

        assert decisions(report) == [("Skipped", "Activating")]
        assert emulator.calls["UpdateImageStorageClass"] == 0
        assert stack.notices() == []


class TestNotAllowed:
    def test_auto_restore_off_makes_no_aws_call(self, stack: Stack, emulator: Emulator) -> None:
        archived_image(stack, emulator)

        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"), AUTO_RESTORE_ENABLED="false")

        assert decisions(report) == [("Skipped", "Disabled")]
        assert sum(emulator.calls.values()) == 0

    def test_a_repository_outside_the_allow_list_is_not_restored(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        digest = archived_image(stack, emulator)

        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"), AUTO_RESTORE_REPOSITORIES="infra/*,platform/*")

        assert decisions(report) == [("Skipped", "NotAllowed")]
        assert sum(emulator.calls.values()) == 0
        assert stack.status(REPO, digest) == "ARCHIVED"

    @pytest.mark.parametrize(
        "image",
        [
            "210987654321.dkr.ecr.us-east-1.amazonaws.com/team/api:v1",  # another account
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:v1",  # another region
            "public.ecr.aws/docker/library/nginx:1.27",
            "docker.io/library/redis:7",
            "nginx:latest",
        ],
    )
    def test_a_foreign_image_is_ignored_without_any_aws_call(
        self, stack: Stack, emulator: Emulator, image: str
    ) -> None:
        event = ecs_event("team/api:v1")
        event["detail"]["containers"][0]["image"] = image
        emulator.reset_calls()

        report = stack.invoke(event)

        assert decisions(report) == [("Skipped", "ForeignImage")]
        assert sum(emulator.calls.values()) == 0


class TestCap:
    def test_over_the_hourly_cap_nothing_more_is_restored_and_the_capped_metric_fires(
        self, stack: Stack, emulator: Emulator, capsys: pytest.CaptureFixture[str]
    ) -> None:
        first = archived_image(stack, emulator, "team/a", "v1")
        second = archived_image(stack, emulator, "team/b", "v1")

        stack.invoke(ecs_event("team/a:v1"), AUTO_RESTORE_MAX_PER_HOUR="1")
        capsys.readouterr()
        report = stack.invoke(ecs_event("team/b:v1"), AUTO_RESTORE_MAX_PER_HOUR="1")

        assert decisions(report) == [("Skipped", "Capped")]
        assert stack.status("team/a", first) == "ACTIVATING"
        assert stack.status("team/b", second) == "ARCHIVED"
        assert '"AutoRestoreCapped"' in capsys.readouterr().out

    def test_a_capped_image_is_restored_by_a_later_event_once_the_hour_allows(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        digest = archived_image(stack, emulator)
        stack.invoke(ecs_event("team/other:v1"), AUTO_RESTORE_MAX_PER_HOUR="1")  # a skip: takes nothing
        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"), AUTO_RESTORE_MAX_PER_HOUR="1")

        assert decisions(report) == [("RestoreStarted", None)]
        assert stack.status(REPO, digest) == "ACTIVATING"


class TestDuplicates:
    def test_a_retried_task_event_restores_the_image_once(self, stack: Stack, emulator: Emulator) -> None:
        archived_image(stack, emulator)
        event = ecs_event(f"{REPO}:v1.4.2")

        first = stack.invoke(event)
        again = stack.invoke(event)

        assert decisions(first) == [("RestoreStarted", None)]
        assert decisions(again) == [("Skipped", "Activating")]
        assert emulator.calls["UpdateImageStorageClass"] == 1
        assert len(stack.notices()) == 1

    def test_concurrent_events_for_one_image_start_one_restore(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        archived_image(stack, emulator)
        results: list[dict[str, Any]] = []
        handler = stack.handler()
        barrier = threading.Barrier(4)

        def deliver() -> None:
            barrier.wait()
            results.append(handler(ecs_event(f"{REPO}:v1.4.2")))

        threads = [threading.Thread(target=deliver) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        actions = sorted(d for r in results for d in decisions(r))
        assert len(results) == 4
        assert actions.count(("RestoreStarted", None)) == 1
        assert emulator.calls["UpdateImageStorageClass"] == 1
        assert len(stack.notices()) == 1


class TestBadInput:
    @pytest.mark.parametrize(
        "event",
        [
            {},
            {"source": "aws.ecs"},
            {"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}},
            {"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {}}},
            "not an event",
        ],
        ids=["empty", "no-detail", "partial-ecs", "other-source", "a-string"],
    )
    def test_a_malformed_event_is_answered_without_any_aws_call(
        self, stack: Stack, emulator: Emulator, event: Any
    ) -> None:
        emulator.reset_calls()

        report = stack.invoke(event)

        assert decisions(report) == [("Skipped", "MalformedEvent")]
        assert sum(emulator.calls.values()) == 0

    def test_a_container_without_an_image_is_skipped_and_the_others_decided(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        archived_image(stack, emulator)
        event = ecs_event(f"{REPO}:v1.4.2", "team/x:1")
        event["detail"]["containers"][1]["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/BAD REF"

        report = stack.invoke(event)

        assert ("RestoreStarted", None) in decisions(report)
        assert ("Skipped", "MalformedImage") in decisions(report)

    def test_an_unknown_repository_is_skipped(self, stack: Stack, emulator: Emulator) -> None:
        report = stack.invoke(ecs_event("team/never-created:v1"))

        assert decisions(report) == [("Skipped", "RepositoryNotFound")]
        assert emulator.calls["UpdateImageStorageClass"] == 0

    def test_a_deleted_image_is_skipped(self, stack: Stack, emulator: Emulator) -> None:
        emulator.push_image(REPO, "v2")
        report = stack.invoke(ecs_event(f"{REPO}:v1.4.2"))

        assert decisions(report) == [("Skipped", "ImageNotFound")]
        assert emulator.calls["UpdateImageStorageClass"] == 0


class TestRealFaults:
    def test_throttling_after_retries_fails_the_invocation_so_lambda_retries_then_dead_letters(
        self, stack: Stack, emulator: Emulator
    ) -> None:
        digest = archived_image(stack, emulator)
        emulator.faults.set("DescribeImages", error_code="ThrottlingException", count=5)

        with pytest.raises(errors.Throttled):
            stack.invoke(ecs_event(f"{REPO}:v1.4.2"))

        emulator.faults.clear()
        assert stack.status(REPO, digest) == "ARCHIVED"
        assert emulator.calls["UpdateImageStorageClass"] == 0

    def test_the_retry_after_a_fault_restores_the_image(self, stack: Stack, emulator: Emulator) -> None:
        digest = archived_image(stack, emulator)
        emulator.faults.set("UpdateImageStorageClass", error_code="ServerException", count=1)
        event = ecs_event(f"{REPO}:v1.4.2")

        with pytest.raises(errors.EcrArchiverError):
            stack.invoke(event)
        report = stack.invoke(event)

        assert decisions(report) == [("RestoreStarted", None)]
        assert stack.status(REPO, digest) == "ACTIVATING"


def test_the_sample_events_parse(stack: Stack, emulator: Emulator) -> None:
    for name in (ECS_EVENT, LAMBDA_EVENT, PULL_EVENT):
        report = stack.invoke(sample(name))
        assert report["decisions"], name
        assert all(d["reason"] != "MalformedEvent" for d in report["decisions"]), name
