"""Scheduled archiving under faults: plan_archive -> SQS -> archive_images on the emulator.

Every test ends with the same questions: was anything protected archived (never), was any
outcome lost or counted twice (no), and do the run's report in S3 and its metrics say what
happened (yes). ``assert_ledger`` asks all three.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.archiving.config import DEFAULT_CONFIG_PARAMETER
from ecr_archiver.errors import ConfigInvalid
from tests.integration.faults.conftest import (
    REPO,
    SDK_ATTEMPTS,
    Run,
    assert_ledger,
    build_registry,
    max_receive_count,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")

Emf = Callable[[], Counter[str]]
Logs = Callable[[], list[dict[str, Any]]]
#: Consecutive throttles a storm answers: one call needs every attempt botocore makes.
STORM = SDK_ATTEMPTS - 1


def on_page_two(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """Run ``action`` once, just before the worker fetches a second preview page."""
    original = EcrRegistry.get_preview_page
    fired: list[bool] = []

    def fetch(self: EcrRegistry, repository: str, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("next_token") and not fired:
            fired.append(True)
            action()
        return original(self, repository, **kwargs)

    monkeypatch.setattr(EcrRegistry, "get_preview_page", fetch)


def failure_lines(logs: Logs) -> list[dict[str, Any]]:
    return [line for line in logs() if line.get("message", "").startswith("work message failed")]


# -- throttling storms, server errors, latency ---------------------------------------------------
#: Every call a run makes (the event source mapping's own ReceiveMessage/DeleteMessage aside).
RUN_CALLS = (
    "ssm:GetParameter",  # the configuration
    "DescribeRepositories",
    "ecs:ListClusters",  # in-use discovery
    "awslambda:ListFunctions",
    "StartLifecyclePolicyPreview",
    "DescribeImages",  # planner (index check) and worker (sizes, status, subjects)
    "sqs:SendMessageBatch",  # the fan-out
    "GetLifecyclePolicyPreview",
    "UpdateImageStorageClass",
)


def test_throttling_storms_on_every_call_are_ridden_out(run: Run, emf: Emf) -> None:
    # Given a registry with protected images, and a storm of throttles waiting on every call
    registry = build_registry(run)
    for operation in RUN_CALLS:
        run.emulator.faults.set(operation, error_code="ThrottlingException", count=STORM)
    # When a whole run is planned and worked
    run.plan()
    run.drain()
    # Then every storm hit, every call got through in the end, and the ledger is exact
    assert {op: run.emulator.throttled[op] for op in RUN_CALLS} == dict.fromkeys(RUN_CALLS, STORM)
    assert {run.emulator.image_status(REPO, d) for d in registry.candidates} == {"ARCHIVED"}
    assert_ledger(run, registry, emf())


def test_a_throttling_storm_on_the_continuation_send_is_ridden_out(run: Run, emf: Emf) -> None:
    registry = build_registry(run, unprotected=40)
    run.plan()
    run.emulator.faults.set("sqs:SendMessage", error_code="ThrottlingException", count=STORM)
    # A short time budget: every invocation hands the rest on in a continuation message
    made = run.drain(remaining_ms=5_000 + 20 * 10, per_call_ms=10)
    assert made > 1
    assert run.emulator.throttled["sqs:SendMessage"] == STORM
    assert_ledger(run, registry, emf())


@pytest.mark.parametrize("method", ["put_object", "list_objects_v2"])
def test_s3_slow_down_on_the_report_bucket_is_ridden_out(
    run: Run, emf: Emf, s3_slow_down: Callable[[str, int], Counter[str]], method: str
) -> None:
    registry = build_registry(run)
    run.plan()
    answered = s3_slow_down(method, STORM)
    run.drain()
    assert answered[method] == STORM
    assert_ledger(run, registry, emf())


def test_a_server_exception_burst_and_latency_spikes_on_every_call(run: Run, emf: Emf) -> None:
    # Given ECR answering every call late, and the archive calls with a burst of 5xx
    registry = build_registry(run)
    run.emulator.faults.set("*", latency=0.01)
    run.emulator.faults.set(
        "UpdateImageStorageClass", latency=0.05, error_code="ServerException", count=STORM
    )
    run.plan()
    run.drain()
    assert_ledger(run, registry, emf())
    assert run.emulator.calls["UpdateImageStorageClass"] == len(registry.candidates) + STORM


def test_archive_calls_still_throttled_after_retries_fail_those_images_and_say_so(run: Run, emf: Emf) -> None:
    # Given UpdateImageStorageClass throttled for good
    registry = build_registry(run)
    run.emulator.faults.set("UpdateImageStorageClass", error_code="ThrottlingException", error_rate=1.0)
    run.plan()
    run.drain()
    # Then every candidate is reported FAILED with ECR's error, counted in ArchiveFailures
    records = run.by_digest()
    assert {r["reason"] for d in registry.candidates for r in records[d]} == {"ThrottlingException"}
    counted = emf()
    assert counted["ArchiveFailures"] == len(registry.candidates)
    assert_ledger(run, registry, counted)
    # And nothing is retried in a loop: the message finished, so the DLQ stays empty
    assert run.dead_letters == []


def test_a_server_exception_burst_mid_repository_resumes_where_it_stopped(
    run: Run, emf: Emf, monkeypatch: pytest.MonkeyPatch, logs: Logs
) -> None:
    # Given two preview pages, and DescribeImages failing for good from the second page on
    registry = build_registry(run, unprotected=140)
    run.plan()
    # (every page reads its own DescribeImages, instead of the repository's listing)
    monkeypatch.setattr("ecr_archiver.archiving.worker.LISTING_FRESH_SECONDS", 0.0)
    on_page_two(
        monkeypatch,
        lambda: run.emulator.faults.set("DescribeImages", error_code="ServerException", error_rate=1.0),
    )
    # When the worker runs, and ECR recovers after that invocation
    run.drain(between=run.emulator.faults.clear)
    # Then the first page's outcomes were kept (a continuation from page two), not redone
    assert [d.failed for d in run.deliveries] == [False, False]
    assert any(line.get("message") == "checkpointed after an error" for line in logs())
    assert_ledger(run, registry, emf())


def test_ecr_failing_before_any_progress_retries_the_message_then_dead_letters_it(
    run: Run, emf: Emf, logs: Logs
) -> None:
    # Given GetLifecyclePolicyPreview answering 5xx for good
    registry = build_registry(run)
    run.plan()
    run.emulator.faults.set("GetLifecyclePolicyPreview", error_code="ServerException", error_rate=1.0)
    # When the message is delivered until SQS gives up on it
    run.drain()
    # Then it was tried maxReceiveCount times, each failure logged with its reason, then dead-lettered
    receives = max_receive_count()
    assert len(run.deliveries) == receives
    assert [m["repository"] for m in run.dead_letters] == [REPO]
    failures = failure_lines(logs)
    assert len(failures) == receives
    assert failures[-1]["error"] == "ServerException"
    assert failures[-1]["receive_count"] == receives
    # And nothing was archived or half-reported
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}
    assert run.records(REPO) == []
    assert emf()["ImagesArchived"] == 0


# -- previews that never become ready ------------------------------------------------------------
def test_a_preview_stuck_in_progress_is_retried_a_bounded_number_of_times_then_dead_lettered(
    run: Run, emf: Emf, logs: Logs
) -> None:
    registry = build_registry(run)
    run.emulator.settings.preview_in_progress_for = timedelta(days=1)
    run.plan()
    # A storm on the visibility change: a retry must not be lost to it either
    run.emulator.faults.set("sqs:ChangeMessageVisibility", error_code="ThrottlingException", count=STORM)
    run.drain()
    receives = max_receive_count()
    assert len(run.deliveries) == receives
    assert all(d.failed for d in run.deliveries)
    assert [m["repository"] for m in run.dead_letters] == [REPO]
    assert emf()["PreviewsNotReady"] == receives
    last = failure_lines(logs)[-1]
    assert (last["error"], last["receive_count"]) == ("PreviewNotReady", receives)
    assert "IN_PROGRESS" in last["reason"]
    assert run.emulator.calls["UpdateImageStorageClass"] == 0
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}


def test_a_preview_that_keeps_expiring_is_restarted_each_time_then_dead_lettered(
    run: Run, emf: Emf, logs: Logs
) -> None:
    registry = build_registry(run)
    run.emulator.settings.preview_expires_after = timedelta(0)
    run.plan()
    run.drain()
    receives = max_receive_count()
    assert [m["repository"] for m in run.dead_letters] == [REPO]
    # one preview from the planner, then one restart per delivery
    assert run.emulator.calls["StartLifecyclePolicyPreview"] == 1 + receives
    assert emf()["PreviewsNotReady"] == receives
    assert "EXPIRED" in failure_lines(logs)[-1]["reason"]
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}


def test_a_failed_preview_is_reported_and_not_retried(run: Run, emf: Emf) -> None:
    registry = build_registry(run)
    run.emulator.fail_next_preview(REPO)
    run.plan()
    run.drain()
    report = run.report()
    assert report["status"] == "PREVIEW_FAILED"
    assert report["totals"]["archived"] == 0
    assert emf()["PreviewsFailed"] == 1
    assert len(run.deliveries) == 1
    assert run.dead_letters == []
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}


def test_a_preview_expiring_between_two_pages_is_not_mistaken_for_the_end(
    run: Run, emf: Emf, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two pages of candidates, and the preview expiring while the first page is archived
    registry = build_registry(run, unprotected=140)
    run.plan()
    on_page_two(monkeypatch, lambda: run.emulator.clock.advance(timedelta(hours=2)))
    # When the worker runs to the end
    run.drain()
    # Then the second page is archived too (after a fresh preview), each image exactly once
    status = {d: run.emulator.image_status(REPO, d) for d in registry.all}
    assert {status[d] for d in registry.candidates} == {"ARCHIVED"}
    assert {status[d] for d in registry.protected} == {"ACTIVE"}
    records = run.by_digest()
    assert all([r["outcome"] for r in records[d]] == ["ARCHIVED"] for d in registry.candidates)
    counted = emf()
    assert counted["ImagesArchived"] == run.report()["totals"]["archived"] == len(registry.candidates)


# -- redelivery and timeouts -------------------------------------------------------------------------
def test_the_same_message_delivered_twice_is_handled_once(run: Run, emf: Emf, logs: Logs) -> None:
    registry = build_registry(run)
    run.plan()
    message = run.receive()
    assert message is not None
    # When the first delivery succeeds but its delete is lost, SQS delivers the message again
    assert not run.invoke(message).failed
    run.sqs.change_message_visibility(
        QueueUrl=run.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    run.drain()
    # Then the second delivery changes nothing and the ledger counts each image once
    assert len(run.deliveries) == 2
    assert not run.deliveries[1].failed
    assert any(line.get("message") == "duplicate delivery; already handled" for line in logs())
    assert_ledger(run, registry, emf())


def test_a_timeout_mid_repository_is_completed_by_continuations(run: Run, emf: Emf) -> None:
    # Given two preview pages and an invocation budget good for about sixty images
    registry = build_registry(run, unprotected=140)
    run.plan()
    made = run.drain(remaining_ms=5_000 + 60 * 10, per_call_ms=10)
    # Then several invocations completed the repository between them, each image once
    assert made >= 3
    assert not any(d.failed for d in run.deliveries)
    assert [d.body.get("cursor", {}).get("invocation", 1) for d in run.deliveries] == list(range(1, made + 1))
    assert_ledger(run, registry, emf())


def test_a_continuation_delivered_twice_is_handled_once(run: Run, emf: Emf) -> None:
    registry = build_registry(run, unprotected=140)
    run.plan()
    budget = {"remaining_ms": 5_000 + 60 * 10, "per_call_ms": 10}
    original = run.receive()
    assert original is not None
    run.settle(original, run.invoke(original, **budget))
    continuation = run.receive()
    assert continuation is not None
    run.invoke(continuation, **budget)  # handled, but its delete is lost: delivered again below
    run.sqs.change_message_visibility(
        QueueUrl=run.queue_url, ReceiptHandle=continuation["ReceiptHandle"], VisibilityTimeout=0
    )
    run.drain(**budget)
    assert_ledger(run, registry, emf())


# -- the configuration parameter ----------------------------------------------------------------------
def plan_fails(run: Run, emf: Emf, match: str) -> None:
    ecr_calls_before = sum(n for op, n in run.emulator.calls.items() if ":" not in op)
    with pytest.raises(ConfigInvalid, match=match):
        run.plan()
    assert sum(n for op, n in run.emulator.calls.items() if ":" not in op) == ecr_calls_before
    assert run.emulator.calls["sqs:SendMessageBatch"] == 0
    assert emf()["ConfigInvalid"] == 1


def test_a_missing_config_parameter_changes_nothing(run: Run, emf: Emf) -> None:
    registry = build_registry(run)
    run.ssm.delete_parameter(Name=DEFAULT_CONFIG_PARAMETER)
    plan_fails(run, emf, "cannot be read")
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ('{"dryRun": false, "repositories": [', "not valid JSON"),
        ('["dryRun", false]', "must be a JSON object"),
        ('{"dryRun": false, "repositories": "team-a/*"}', r"repositories: Input should be a valid list"),
        ('{"dryRun": "nope"}', "dryRun"),
        ('{"dryRun": false, "protect": {"images": ["team-a/api"]}}', r"protect\.images"),
    ],
)
def test_a_malformed_config_changes_nothing(run: Run, emf: Emf, value: str, match: str) -> None:
    registry = build_registry(run)
    run.set_config(value)
    plan_fails(run, emf, match)
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}


def test_a_config_beyond_its_limits_changes_nothing(run: Run, emf: Emf) -> None:
    registry = build_registry(run)
    run.config(dryRun=False, maxImagesPerRun=10_000_000, repositories=[{"include": ["x" * 257]}])
    plan_fails(run, emf, r"repositories\[0\]\.include\[0\].*maxImagesPerRun|maxImagesPerRun")
    assert {run.emulator.image_status(REPO, d) for d in registry.all} == {"ACTIVE"}


def test_an_oversized_config_in_the_advanced_tier_is_read_whole(run: Run, emf: Emf) -> None:
    # Given a configuration over the 4 KB standard-tier limit: a long protect.images list whose
    # last entry protects a candidate (a truncated read would archive it)
    registry = build_registry(run)
    pinned = registry.candidates[-1]
    filler = [f"team-z/app{n:03d}:v{n}" for n in range(220)]
    images = [
        *filler,
        next(f"{REPO}@{d}" for d in registry.protected if registry.protected[d] == "PROTECTED_IMAGE"),
    ]
    document = {
        "dryRun": False,
        "protect": {"tagPatterns": ["latest", "prod-*"], "images": [*images, f"{REPO}@{pinned}"]},
    }
    text = json.dumps(document)
    assert 4096 < len(text) <= 8192
    run.ssm.put_parameter(
        Name=DEFAULT_CONFIG_PARAMETER, Value=text, Type="String", Tier="Advanced", Overwrite=True
    )
    # When a run is planned and worked
    run.plan()
    run.drain()
    # Then the last entry protected its image, and the rest of the ledger holds
    assert run.emulator.image_status(REPO, pinned) == "ACTIVE"
    protected = {**registry.protected, pinned: "PROTECTED_IMAGE"}
    from tests.integration.faults.conftest import Registry

    assert_ledger(run, Registry([d for d in registry.candidates if d != pinned], protected), emf())
