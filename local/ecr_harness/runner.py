"""A local runner for the real Lambda handlers: load, invoke, and play their triggers on the emulator.

- :func:`load_handler` imports ``functions/<name>/app.py`` by path, with the environment the
  template would give it (settings are validated at import, as in Lambda).
- :class:`FakeLambdaContext` has the fields Powertools reads.
- ``*_event`` builders make EventBridge Scheduler, SQS, API Gateway (REST v1 proxy) and
  Parameter Store Change events, starting from the samples in ``events/``.
- :class:`QueuePump` plays the SQS event source mapping (batch size 1, partial batch responses)
  between the emulated work queue and a handler. SQS delays and visibility timeouts run on the
  **emulator clock**: when nothing is visible, the pump advances the clock to the next message's
  due time instead of sleeping, so a 120 s preview delay costs no wall time.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from ecr_emulator.emulator import Emulator


def project_root(start: Path | None = None) -> Path:
    """The checkout holding ``template.yaml`` and ``functions/``: ``ECR_ARCHIVER_ROOT`` if set,
    else the nearest such directory above ``start`` (default: the working directory, then this
    package's location)."""
    override = os.environ.get("ECR_ARCHIVER_ROOT")
    if override:
        return Path(override).resolve()
    for origin in (start or Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (origin, *origin.parents):
            if (candidate / "template.yaml").is_file() and (candidate / "functions").is_dir():
                return candidate
    raise FileNotFoundError(
        "cannot find the ecr-archiver checkout (template.yaml and functions/); run from inside it "
        "or set ECR_ARCHIVER_ROOT"
    )


ROOT = project_root()
EVENTS = ROOT / "events"
_modules = itertools.count()


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set ``env`` for the duration, restoring what was there before."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_handler(function: str, env: Mapping[str, str] | None = None) -> ModuleType:
    """Import ``functions/<function>/app.py`` as a fresh module, under ``env``.

    Each import gets its own module name, so two handlers (every one is ``app.py``) never clash
    and settings are re-read from the environment, like a cold start.
    """
    path = ROOT / "functions" / function / "app.py"
    name = f"_local_{function}_{next(_modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with environment(env or {}):
        spec.loader.exec_module(module)
    return module


@dataclass
class FakeLambdaContext:
    """The ``LambdaContext`` fields Powertools reads, with a fixed time budget."""

    function_name: str = "local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    timeout_ms: int = 900_000
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    region: str = "us-east-1"
    account_id: str = "123456789012"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


# -- events ------------------------------------------------------------------------------------
def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def schedule_event(
    when: datetime, *, region: str = "us-east-1", account_id: str = "123456789012"
) -> dict[str, Any]:
    """An EventBridge Scheduler invocation (``plan_archive``'s trigger) at ``when``."""
    event = _sample("plan_archive_schedule.json")
    event.update(
        id=str(uuid.uuid4()),
        time=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        region=region,
        account=account_id,
    )
    return event


def sqs_event(message: Mapping[str, Any], queue_arn: str, *, region: str = "us-east-1") -> dict[str, Any]:
    """One received SQS message (``receive_message`` shape) as a Lambda SQS event."""
    attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items()}
    attributes.setdefault("ApproximateReceiveCount", "1")
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        ]
    }


def api_gateway_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: Mapping[str, str] | None = None,
    caller: str = "arn:aws:sts::123456789012:assumed-role/release-engineer/demo",
) -> dict[str, Any]:
    """An API Gateway REST (v1 proxy) request as IAM-authorised callers send it."""
    template = "restore_api_post_restores.json" if method == "POST" else "restore_api_get_images.json"
    event = copy.deepcopy(_sample(template))
    event["httpMethod"] = method
    event["path"] = event["resource"] = path
    event["requestContext"].update(
        httpMethod=method, resourcePath=path, path=f"/v1{path}", requestId=str(uuid.uuid4())
    )
    event["requestContext"]["identity"]["userArn"] = caller
    event["body"] = json.dumps(body) if body is not None else None
    if query:
        event["queryStringParameters"] = dict(query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    else:
        event["queryStringParameters"] = event["multiValueQueryStringParameters"] = None
    if body is None:
        for headers in (event["headers"], event["multiValueHeaders"]):
            headers.pop("Content-Type", None)
    return event


def parameter_change_event(
    name: str, *, operation: str = "Update", type_: str = "StringList", region: str = "us-east-1"
) -> dict[str, Any]:
    """A ``Parameter Store Change`` event from EventBridge (``sync_exclusions``' trigger)."""
    event = _sample("sync_exclusions_parameter_change.json")
    account = event["account"]
    event.update(
        id=str(uuid.uuid4()),
        region=region,
        resources=[f"arn:aws:ssm:{region}:{account}:parameter{name}"],
        detail={"operation": operation, "name": name, "type": type_},
    )
    return event


def ecs_task_failed_event(*, cluster: str, service: str, image: str) -> dict[str, Any]:
    """An ``ECS Task State Change``: a service task that stopped with ``CannotPullContainerError``
    on ``image`` (``auto_restore``'s trigger)."""
    event = _sample("auto_restore_ecs_task_stopped.json")
    detail = event["detail"]
    event["id"] = str(uuid.uuid4())
    detail["clusterArn"] = detail["clusterArn"].rsplit("/", 1)[0] + f"/{cluster}"
    detail["group"] = f"service:{service}"
    container = detail["containers"][0]
    container.pop("imageDigest", None)
    container["image"] = image
    container["reason"] = f"CannotPullContainerError: {image}: not found"
    detail["containers"] = [container]
    return event


# -- the SQS event source mapping, on the emulator clock -----------------------------------------
@dataclass
class PumpStats:
    invocations: int = 0
    retried: int = 0  # batch item failures: the message is delivered again later
    results: list[dict[str, Any]] = field(default_factory=list)
    clock_advanced_seconds: float = 0.0


class QueuePump:
    """Deliver every message of an emulated queue to ``handler`` until the queue is empty."""

    def __init__(
        self,
        emulator: Emulator,
        queue_url: str,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        *,
        context: Callable[[], Any] = FakeLambdaContext,
        env: Mapping[str, str] | None = None,
    ) -> None:
        import boto3

        self.emulator = emulator
        self.queue_url = queue_url
        self.handler = handler
        self.context = context
        self.env = dict(env or {})
        self.sqs = boto3.client("sqs", region_name=emulator.region)
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def _moto_queue(self) -> Any:
        from moto.sqs.models import sqs_backends

        name = self.queue_url.rstrip("/").rsplit("/", 1)[-1]
        return sqs_backends[self.emulator.account_id][self.emulator.region].queues[name]

    def _fast_forward(self) -> bool:
        """Advance the emulator clock to when the next delayed or invisible message is due.

        moto keeps SQS due times in wall-clock milliseconds; shifting them back by the same
        amount makes the message due now, as if that much time had passed. Returns ``False``
        when the queue is empty.
        """
        from moto.core.utils import unix_time_millis

        messages = list(self._moto_queue()._messages)
        if not messages:
            return False
        now = unix_time_millis()
        due = min(max(m.delayed_until, m.visible_at) for m in messages)
        wait_ms = max(0.0, due - now) + 1
        for m in messages:
            m.delayed_until = max(0.0, m.delayed_until - wait_ms)
            m.visible_at = max(0.0, m.visible_at - wait_ms)
        self.emulator.clock.advance(wait_ms / 1000)
        self.stats.clock_advanced_seconds += wait_ms / 1000
        return True

    def run(self, *, max_invocations: int = 1000) -> PumpStats:
        self.stats = PumpStats()
        while self.stats.invocations < max_invocations:
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
            ).get("Messages", [])
            if not received:
                if not self._fast_forward():
                    return self.stats
                continue
            message = received[0]
            with environment(self.env):
                response = self.handler(sqs_event(message, self.queue_arn), self.context())
            self.stats.invocations += 1
            self.stats.results.append({"body": json.loads(message["Body"]), "response": response})
            if response.get("batchItemFailures"):
                self.stats.retried += 1
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        raise RuntimeError(f"queue not drained after {max_invocations} invocations")
