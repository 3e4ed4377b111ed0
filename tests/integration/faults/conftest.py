"""Fault-injection harness: the archiving ``Stack`` plus SQS redelivery, a dead-letter queue, EMF
metrics, logs and the run's ledger (what ECR holds vs. what the report and the metrics say).

Injected faults come from the emulator (``emulator.faults``: ECR, SQS, SSM, ECS, Lambda) and, for
S3 (which moto serves outside the emulator's dispatcher), from :func:`s3_slow_down`. botocore
retries throttles and 5xx with its own backoff; ``fast_retries`` keeps its attempts and zeroes its
sleeps, so a storm costs no wall-clock time and what is tested is our handling of what is left.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import botocore.retries.standard
import pytest

from ecr_archiver.observability import logger, metrics
from ecr_harness.runner import load_handler, sqs_event
from tests.integration.archiving.conftest import ACCOUNT, OLD, REGION, FakeContext, Stack
from tests.integration.exclusions.conftest import declare, ecr, registered, ssm, sync  # noqa: F401 - fixtures
from tests.template.conftest import load_template

REPO = "team-a/api"
#: Attempts botocore makes per call in these tests (1 + 4 retries), as AWS_MAX_ATTEMPTS sets it.
SDK_ATTEMPTS = 5


@cache
def max_receive_count() -> int:
    """The work queue's maxReceiveCount, from template.yaml: how often a message is tried."""
    template = load_template()
    return int(template["Resources"]["ArchiveWorkQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"])


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retries (SDK_ATTEMPTS attempts) without the backoff sleeps."""
    from ecr_archiver.adapters import clients
    from ecr_archiver.exclusions import logic

    monkeypatch.setattr(logic, "BACKOFF_BASE_SECONDS", 0.0)  # the exclusion sync's own retry loop
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(SDK_ATTEMPTS))
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    clients.clear_client_cache()


@dataclass
class Delivery:
    """One message as the event source mapping handed it to the worker, and what came back."""

    body: dict[str, Any]
    response: dict[str, Any]
    receive_count: int

    @property
    def failed(self) -> bool:
        return bool(self.response["batchItemFailures"])


class Run(Stack):
    """``Stack`` plus the parts of SQS the fault tests need: redelivery and the dead-letter queue."""

    def __init__(self, emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(emulator, monkeypatch)
        self.dead_letters: list[dict[str, Any]] = []
        self.deliveries: list[Delivery] = []
        self._worker: ModuleType | None = None

    # -- the event source mapping ---------------------------------------------------------
    def worker(self) -> ModuleType:
        """The archive_images handler module, imported once per test like a warm container."""
        if self._worker is None:
            self._worker = load_handler("archive_images")
        return self._worker

    def receive(self) -> dict[str, Any] | None:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=1, AttributeNames=["ApproximateReceiveCount"]
        ).get("Messages", [])
        return messages[0] if messages else None

    def invoke(
        self, message: dict[str, Any], *, remaining_ms: int = 900_000, per_call_ms: int = 0
    ) -> Delivery:
        count = int(message["Attributes"]["ApproximateReceiveCount"])
        event = sqs_event(message, f"arn:aws:sqs:{REGION}:{ACCOUNT}:work", region=REGION)
        context = FakeContext(remaining_ms=remaining_ms, per_call_ms=per_call_ms)
        delivery = Delivery(json.loads(message["Body"]), self.worker().lambda_handler(event, context), count)
        self.deliveries.append(delivery)
        return delivery

    def settle(self, message: dict[str, Any], delivery: Delivery) -> None:
        """Delete on success; on failure let the visibility timeout pass, or dead-letter the message."""
        if not delivery.failed:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        elif delivery.receive_count >= max_receive_count():
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            self.dead_letters.append(delivery.body)
        else:  # the visibility timeout (or PREVIEW_RETRY_SECONDS) has passed
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )

    def drain(self, *, limit: int = 200, between: Callable[[], None] | None = None, **budget: int) -> int:
        """Deliver until the queue is empty (or ``limit`` deliveries); returns the number made."""
        for made in range(limit):
            message = self.receive()
            if message is None:
                return made
            self.settle(message, self.invoke(message, **budget))
            if between is not None:
                between()
        return limit

    # -- the ledger ---------------------------------------------------------------------------
    def report(self, repo: str = REPO) -> dict[str, Any]:
        keys = [
            o["Key"]
            for o in self.s3.list_objects_v2(Bucket=self.bucket, Prefix="reports/").get("Contents", [])
            if o["Key"].endswith(f"/{repo}/report.json")
        ]
        assert len(keys) == 1, keys
        return dict(json.loads(self.s3.get_object(Bucket=self.bucket, Key=keys[0])["Body"].read()))

    def by_digest(self, repo: str = REPO) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for record in self.records(repo):
            out.setdefault(record["digest"], []).append(record)
        return out


@pytest.fixture
def run(emulator: Any, monkeypatch: pytest.MonkeyPatch, fast_retries: None) -> Iterator[Run]:
    metrics.clear_metrics()
    yield Run(emulator, monkeypatch)
    metrics.clear_metrics()


@pytest.fixture
def emf(capsys: pytest.CaptureFixture[str]) -> Callable[[], Counter[str]]:
    """Every EMF metric Powertools printed so far, summed by name (across invocations)."""
    seen: Counter[str] = Counter()

    def read() -> Counter[str]:
        for line in capsys.readouterr().out.splitlines():
            if '"_aws"' not in line:
                continue
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    seen[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
        return seen

    return read


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[dict[str, Any]]]:
    """The Powertools logger's JSON lines (its handler keeps the stream it had at import)."""
    buffer = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# -- a registry with something to protect ---------------------------------------------------------
@dataclass(frozen=True)
class Registry:
    """Old images in one repository: what the policy selects, and what must never be archived."""

    candidates: list[str]  # unprotected: the run should archive every one
    protected: dict[str, str]  # digest -> the reason the report must give

    @property
    def all(self) -> list[str]:
        return [*self.candidates, *self.protected]


PROTECT = {"tagPatterns": ["latest", "prod-*"], "inUse": {"ecs": True, "lambda": True, "roleArns": []}}


def build_registry(run: Run, *, unprotected: int = 6) -> Registry:
    """``unprotected`` old images plus three protected ones (tag pattern, latest, listed by digest)."""
    emulator = run.emulator
    candidates = [run.old_image(REPO, f"build-{n}") for n in range(unprotected)]
    protected = {
        run.old_image(REPO, "prod-2024"): "PROTECTED_TAG",
        run.old_image(REPO, "latest"): "PROTECTED_TAG",
    }
    listed = run.old_image(REPO, "pinned")
    protected[listed] = "PROTECTED_IMAGE"
    run.config(dryRun=False, protect={**PROTECT, "images": [f"{REPO}@{listed}"]})
    emulator.reset_calls()
    return Registry(candidates, protected)


def assert_ledger(run: Run, registry: Registry, counted: Counter[str], repo: str = REPO) -> None:
    """Nothing protected archived; each image reported once; the report and the metrics agree with ECR."""
    status = {d: run.emulator.image_status(repo, d) for d in registry.all}
    records = run.by_digest(repo)
    # nothing protected is archived, and the report says why
    for digest, reason in registry.protected.items():
        assert status[digest] == "ACTIVE", digest
        assert [(r["outcome"], r.get("reason")) for r in records[digest]] == [("SKIPPED", reason)]
    # no outcome lost, none counted twice: one record per image, and it matches ECR
    assert sorted(records) == sorted(registry.all)
    assert {d: [r["outcome"] for r in rs] for d, rs in records.items() if d in registry.candidates} == {
        d: ["ARCHIVED" if status[d] == "ARCHIVED" else "FAILED"] for d in registry.candidates
    }
    archived = [d for d in registry.candidates if status[d] == "ARCHIVED"]
    failed = [d for d in registry.candidates if status[d] != "ARCHIVED"]
    # report.json and the metrics add up to the same
    report = run.report(repo)
    assert report["status"] == "COMPLETE"
    totals = report["totals"]
    assert (totals["archived"], totals["failed"], totals["skipped"]) == (
        len(archived),
        len(failed),
        len(registry.protected),
    )
    sizes = sum(r["sizeBytes"] for d in archived for r in records[d])
    assert totals["bytesArchived"] == sizes
    assert (counted["ImagesArchived"], counted["ArchiveFailures"], counted["BytesArchived"]) == (
        len(archived),
        len(failed),
        sizes,
    )


@pytest.fixture
def s3_slow_down(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], Counter[str]]:
    """``s3_slow_down("put_object", n)``: the next ``n`` such S3 calls answer 503 SlowDown."""
    from moto.s3.responses import S3Response

    left: Counter[str] = Counter()
    answered: Counter[str] = Counter()

    def inject(method: str, count: int) -> Counter[str]:
        original = getattr(S3Response, method)

        def maybe_slow_down(self: S3Response, *args: Any, **kwargs: Any) -> Any:
            if left[method] > 0:
                left[method] -= 1
                answered[method] += 1
                body = (
                    "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                )
                return 503, {"Content-Type": "application/xml"}, body
            return original(self, *args, **kwargs)

        left[method] = count
        monkeypatch.setattr(S3Response, method, maybe_slow_down)
        return answered

    return inject


__all__ = ["OLD", "REPO", "Registry", "Run", "assert_ledger", "build_registry"]
