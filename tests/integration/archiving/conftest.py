"""Integration harness: the real handlers (functions/*/app.py) against the in-process emulator.

``Stack`` creates what the template would (config parameter, work queue, report bucket), loads
each handler module fresh with the stack's environment, and plays the SQS event source mapping:
receive, invoke, delete the messages the handler did not report as failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecr_archiver.archiving.config import DEFAULT_CONFIG, DEFAULT_CONFIG_PARAMETER
from ecr_archiver.observability import metrics
from ecr_harness.runner import load_handler, sqs_event

ROOT = Path(__file__).resolve().parents[3]
CONFIG_NAME = DEFAULT_CONFIG_PARAMETER
ACCOUNT = "123456789012"
REGION = "us-east-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
OLD = timedelta(days=200)  # older than the default 90-day sinceImagePulled rule


@dataclass
class FakeContext:
    """The LambdaContext fields Powertools reads, plus a settable time budget."""

    remaining_ms: int = 900_000
    per_call_ms: int = 0
    function_name: str = "archive"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:archive"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        value = self.remaining_ms
        self.remaining_ms -= self.per_call_ms
        return value


class Stack:
    def __init__(self, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.emulator = emulator
        self.ssm = boto3.client("ssm", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        self.ecr = boto3.client("ecr", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="work")["QueueUrl"]
        self.bucket = "reports"
        self.s3.create_bucket(Bucket=self.bucket)
        self.set_config(DEFAULT_CONFIG)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.state_table = "state"
        self.dynamodb.create_table(
            TableName=self.state_table,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        env = {
            "CONFIG_PARAMETER_NAME": CONFIG_NAME,
            "WORK_QUEUE_URL": self.queue_url,
            "REPORT_BUCKET": self.bucket,
            "DRY_RUN": "false",
            "PREVIEW_DELAY_SECONDS": "0",
            "ARCHIVE_MAX_TPS": "1000",
            "ARCHIVE_CONCURRENCY": "4",
            "TIME_BUDGET_MARGIN_SECONDS": "5",
            "PREVIEW_RETRY_SECONDS": "0",
            # As deployed: the account-wide rate schedule and once-per-delivery records.
            "STATE_TABLE_NAME": "state",
            "REGISTRY_ID": ACCOUNT,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_PARAMETERS_MAX_AGE": "0",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        self.monkeypatch = monkeypatch
        self.failures: list[dict[str, Any]] = []

    # -- configuration ------------------------------------------------------------------
    def set_config(self, document: dict[str, Any] | str, **overrides: Any) -> None:
        if isinstance(document, dict):
            document = json.dumps({**document, **overrides})
        self.ssm.put_parameter(Name=CONFIG_NAME, Value=document, Type="String", Overwrite=True)

    def config(self, **overrides: Any) -> None:
        self.set_config(json.loads(json.dumps(DEFAULT_CONFIG)), **overrides)

    # -- images -------------------------------------------------------------------------
    def old_image(self, repo: str, tags: Any = None) -> str:
        return self.emulator.push_image(repo, tags, pushed_at=self.emulator.clock.now() - OLD)

    # -- running the functions ----------------------------------------------------------
    def plan(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        handler = load_handler("plan_archive")
        if event is None:
            event = json.loads((ROOT / "events" / "plan_archive_schedule.json").read_text())
        return handler.lambda_handler(event, FakeContext(function_name="plan"))  # type: ignore[no-any-return]

    def work_once(self, *, remaining_ms: int = 900_000, per_call_ms: int = 0) -> dict[str, Any] | None:
        """Deliver one message to archive_images as the event source mapping would."""
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=1).get(
            "Messages", []
        )
        if not messages:
            return None
        message = messages[0]
        event = sqs_event(message, f"arn:aws:sqs:{REGION}:{ACCOUNT}:work", region=REGION)
        handler = load_handler("archive_images")
        response: dict[str, Any] = handler.lambda_handler(
            event, FakeContext(remaining_ms=remaining_ms, per_call_ms=per_call_ms)
        )
        if not response["batchItemFailures"]:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            self.failures.append(json.loads(message["Body"]))
        return response

    def work_all(self, *, rounds: int = 20, **kwargs: Any) -> int:
        handled = 0
        for _ in range(rounds):
            if self.work_once(**kwargs) is None:
                return handled
            handled += 1
        return handled

    # -- reports ------------------------------------------------------------------------
    def records(self, repo: str, run_id: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        prefix = f"reports/{run_id}/" if run_id else "reports/"
        keys = [
            o["Key"]
            for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])
            if o["Key"].endswith(".jsonl") and f"/{repo}/images/" in o["Key"]
        ]
        for key in keys:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read().decode()
            out.extend(json.loads(line) for line in body.splitlines())
        return out

    def outcome(self, repo: str, digest: str) -> tuple[str, str | None]:
        (record,) = [r for r in self.records(repo) if r["digest"] == digest]
        return record["outcome"], record.get("reason")


@pytest.fixture
def stack(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    metrics.clear_metrics()
    yield Stack(emulator, monkeypatch)
    metrics.clear_metrics()
