"""Behaviour 9 (Python API): clock, image helpers, faults, call counts, reset."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ecr_emulator import DEFAULT_PRINCIPAL, Emulator, emulated_aws

from .helpers import describe_all, error_code, new_client


def test_clock_is_frozen_until_moved(emulator: Emulator) -> None:
    start = emulator.clock.now()
    time.sleep(0.01)
    assert emulator.clock.now() == start
    assert start.tzinfo is not None
    assert abs(start - datetime.now(UTC)) < timedelta(minutes=1)

    emulator.clock.advance(timedelta(hours=2))
    emulator.clock.advance(30.5)
    assert emulator.clock.now() == start + timedelta(hours=2, seconds=30.5)

    emulator.clock.set(datetime(2030, 1, 1))  # naive means UTC
    assert emulator.clock.now() == datetime(2030, 1, 1, tzinfo=UTC)


def test_push_time_defaults_to_the_emulator_clock(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.clock.set(datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC))
    digest = emulator.push_image(repo, "v1")
    assert describe_all(ecr, repo)[digest]["imagePushedAt"] == datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def test_set_image_times(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    pushed, pulled = datetime(2024, 1, 2, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC)

    emulator.set_image_times(repo, digest, pushed_at=pushed, last_pulled_at=pulled)

    detail = describe_all(ecr, repo)[digest]
    assert (detail["imagePushedAt"], detail["lastRecordedPullTime"]) == (pushed, pulled)


def test_each_push_is_a_new_image_and_the_repository_is_created(emulator: Emulator, ecr: Any) -> None:
    digests = {emulator.push_image("auto/created") for _ in range(20)}
    assert len(digests) == 20
    assert ecr.describe_repositories(repositoryNames=["auto/created"])["repositories"]


def test_same_seed_gives_the_same_manifest(emulator: Emulator, repo: str) -> None:
    assert emulator.push_image(repo, "a", seed="s") == emulator.push_image(repo, "b", seed="s")


def test_image_status_follows_the_clock(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="STANDARD"
    )
    assert emulator.image_status(repo, digest) == "ACTIVATING"
    emulator.clock.advance(timedelta(minutes=10))
    assert emulator.image_status(repo, digest) == "ACTIVE"


def test_default_settings(emulator: Emulator) -> None:
    assert emulator.settings.restore_delay == timedelta(minutes=10)
    assert emulator.settings.preview_in_progress_for == timedelta(0)
    assert emulator.settings.preview_expires_after == timedelta(hours=1)
    assert emulator.region == "us-east-1"
    assert emulator.account_id == "123456789012"
    assert DEFAULT_PRINCIPAL == "arn:aws:iam::123456789012:role/ecr-emulator-default"


# -- faults ---------------------------------------------------------------------------------


def _outcome(call: Any, **kwargs: Any) -> str | tuple[str, int]:
    """``"ok"`` or ``(error code, HTTP status)``: lets a test record a sequence of calls."""
    try:
        call(**kwargs)
    except ClientError as exc:
        return (str(exc.response["Error"]["Code"]), int(exc.response["ResponseMetadata"]["HTTPStatusCode"]))
    return "ok"


def test_latency_is_real_time(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.faults.set("ListImages", latency=0.2)
    started = time.perf_counter()
    ecr.list_images(repositoryName=repo)
    assert time.perf_counter() - started >= 0.2
    started = time.perf_counter()
    ecr.describe_images(repositoryName=repo)
    assert time.perf_counter() - started < 0.2


def test_tps_limit_answers_throttling(emulator: Emulator, ecr_no_retry: Any, repo: str) -> None:
    emulator.faults.set("DescribeImages", tps=2, burst=2)
    outcomes = [_outcome(ecr_no_retry.describe_images, repositoryName=repo) for _ in range(5)]

    assert outcomes[:2] == ["ok", "ok"]
    assert ("ThrottlingException", 400) in outcomes
    assert emulator.throttled["DescribeImages"] == outcomes.count(("ThrottlingException", 400))
    assert emulator.calls["DescribeImages"] == 5


def test_botocore_retries_throttling(emulator: Emulator, repo: str) -> None:
    ecr = new_client("ecr", config=Config(retries={"mode": "standard", "total_max_attempts": 5}))
    emulator.faults.set("ListImages", count=2, error_code="ThrottlingException")

    assert ecr.list_images(repositoryName=repo)["imageIds"] == []
    assert emulator.calls["ListImages"] == 3
    assert emulator.throttled["ListImages"] == 2


def test_count_fails_exactly_the_next_calls(emulator: Emulator, ecr_no_retry: Any, repo: str) -> None:
    emulator.faults.set("UpdateImageStorageClass", count=2, error_code="ServerException")
    emulator.push_image(repo, "v1")
    update = ecr_no_retry.update_image_storage_class
    codes = [
        _outcome(update, repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE")
        for _ in range(3)
    ]
    assert codes == [("ServerException", 500), ("ServerException", 500), "ok"]


def test_count_bounds_failures_even_with_an_error_rate(
    emulator: Emulator, ecr_no_retry: Any, repo: str
) -> None:
    # Given "fail the next call" expressed with both count and a certain error rate
    emulator.faults.set("UpdateImageStorageClass", count=1, error_rate=1.0, error_code="ServerException")
    emulator.push_image(repo, "v1")
    update = ecr_no_retry.update_image_storage_class
    # When called twice, then only the first call fails
    codes = [
        _outcome(update, repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE")
        for _ in range(2)
    ]
    assert codes == [("ServerException", 500), "ok"]


def test_error_rate_is_seeded_and_roughly_right(emulator: Emulator, ecr_no_retry: Any, repo: str) -> None:
    def run() -> list[bool]:
        emulator.faults.reset()
        emulator.faults.set("ListImages", error_rate=0.3, error_code="ServiceUnavailableException")
        outcomes = [_outcome(ecr_no_retry.list_images, repositoryName=repo) for _ in range(200)]
        assert set(outcomes) <= {"ok", ("ServiceUnavailableException", 503)}
        return [o != "ok" for o in outcomes]

    first, second = run(), run()
    assert first == second
    assert 30 <= sum(first) <= 90


def test_wildcard_and_clear(emulator: Emulator, ecr_no_retry: Any, repo: str) -> None:
    emulator.faults.set("*", count=100, error_code="AccessDeniedException")
    for call in (ecr_no_retry.list_images, ecr_no_retry.describe_images):
        with pytest.raises(ClientError) as exc:
            call(repositoryName=repo)
        assert error_code(exc) == "AccessDeniedException"
    emulator.faults.clear("*")
    assert ecr_no_retry.list_images(repositoryName=repo)["imageIds"] == []


def test_other_services_are_counted_and_faultable(emulator: Emulator) -> None:
    sqs = new_client("sqs", config=Config(retries={"total_max_attempts": 1}))
    sqs.create_queue(QueueName="q")
    emulator.faults.set("sqs:ListQueues", count=1, error_code="ThrottlingException")

    with pytest.raises(ClientError) as exc:
        sqs.list_queues()

    assert error_code(exc) == "ThrottlingException"
    assert emulator.calls["sqs:CreateQueue"] == 1
    assert emulator.calls["sqs:ListQueues"] == 1
    assert sqs.list_queues()["QueueUrls"]


def test_reset_calls(emulator: Emulator, ecr: Any, repo: str) -> None:
    ecr.list_images(repositoryName=repo)
    assert emulator.calls["ListImages"] == 1
    emulator.reset_calls()
    assert emulator.calls == {}


def test_reset_wipes_moto_and_extension_state(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    ecr.register_pull_time_update_exclusion(principalArn="arn:aws:iam::123456789012:role/x")
    emulator.faults.set("*", latency=1.0)
    emulator.clock.advance(timedelta(days=3))

    emulator.reset()

    assert emulator.faults.rules() == {}
    assert abs(emulator.clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    assert ecr.describe_repositories()["repositories"] == []
    assert ecr.list_pull_time_update_exclusions()["pullTimeUpdateExclusions"] == []


def test_state_does_not_leak_between_emulated_sessions() -> None:
    with emulated_aws() as emu:
        emu.push_image("leaky", "v1")
        emu.faults.set("*", latency=5)
        emu.settings.restore_delay = timedelta(seconds=1)
        emu.principals["AKIA"] = "arn:aws:iam::123456789012:role/x"
        emu.clock.advance(timedelta(days=400))
    with emulated_aws() as emu:
        ecr = new_client("ecr")
        assert ecr.describe_repositories()["repositories"] == []
        assert emu.faults.rules() == {}
        assert emu.settings.restore_delay == timedelta(minutes=10)
        assert emu.principals == {}
        assert emu.calls["DescribeRepositories"] == 1
        assert abs(emu.clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
