"""Two deliveries of one work message at the same moment: one run, one set of archive calls.

Each delivery goes to its own copy of the handler module (two execution environments), on its own
thread, released together by a barrier; the archive calls are slowed so the first run is still
going when the second arrives.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest

from ecr_harness.runner import load_handler, sqs_event
from tests.integration.archiving.conftest import ACCOUNT, REGION, FakeContext, Stack

REPO = "team/dup"
IMAGES = 20


def _one_message(stack: Stack) -> dict[str, Any]:
    stack.config(dryRun=False)
    for n in range(IMAGES):
        stack.old_image(REPO, [f"build-{n}"])
    stack.plan()
    (message,) = stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10)["Messages"]
    return message


def _deliver(message: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    handler = load_handler("archive_images")
    event = sqs_event(message, f"arn:aws:sqs:{REGION}:{ACCOUNT}:work", region=REGION)
    return handler.lambda_handler(event, FakeContext()), handler


def test_concurrent_deliveries_of_one_message_archive_each_image_once(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    message = _one_message(stack)
    stack.emulator.reset_calls()
    stack.emulator.faults.set("UpdateImageStorageClass", latency=0.05)
    barrier = threading.Barrier(2)
    responses: list[dict[str, Any]] = []

    def deliver() -> None:
        barrier.wait()
        responses.append(_deliver(message)[0])

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stack.emulator.faults.clear()

    # Then every image is archived by exactly one call, and one delivery was handed back to SQS
    assert stack.emulator.calls["UpdateImageStorageClass"] == IMAGES
    failed = [r for r in responses if r["batchItemFailures"]]
    assert len(responses) == 2
    assert len(failed) == 1
    assert failed[0]["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    assert stack.emulator.calls["sqs:ChangeMessageVisibility"] == 1
    archived = [r for r in stack.records(REPO) if r["outcome"] == "ARCHIVED"]
    assert len(archived) == IMAGES

    # And the retried delivery finds the first run's result and calls ECR no more
    stack.emulator.reset_calls()
    response, _ = _deliver(message)
    assert response["batchItemFailures"] == []
    assert stack.emulator.calls["UpdateImageStorageClass"] == 0
    assert stack.emulator.calls["GetLifecyclePolicyPreview"] == 0
    assert "duplicate delivery; already handled" in caplog.text
    assert len(stack.records(REPO)) == IMAGES  # the report was not rewritten


def test_a_delivery_that_fails_before_any_work_is_retried_in_full(stack: Stack) -> None:
    # Given a preview still running when the message arrives
    stack.emulator.settings.preview_in_progress_for = timedelta(minutes=5)
    message = _one_message(stack)
    response, _ = _deliver(message)
    assert response["batchItemFailures"]
    assert stack.emulator.calls["UpdateImageStorageClass"] == 0
    # When SQS delivers it again once the preview is complete
    stack.emulator.clock.advance(timedelta(minutes=6))
    stack.emulator.reset_calls()
    response, _ = _deliver(message)
    # Then the failure had released the delivery record, and this delivery does the work
    assert response["batchItemFailures"] == []
    assert stack.emulator.calls["UpdateImageStorageClass"] == IMAGES
    body = json.loads(message["Body"])
    assert {r["outcome"] for r in stack.records(REPO, body["runId"])} == {"ARCHIVED"}
