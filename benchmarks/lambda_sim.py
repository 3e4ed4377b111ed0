"""One simulated Lambda execution environment, run as a subprocess of the harness.

``python -m benchmarks.lambda_sim plan|work --out result.json`` imports the real handler
(``functions/<name>/app.py``) once, as a warm container would, and invokes it against the
emulator named by ``AWS_ENDPOINT_URL``:

* ``plan`` invokes ``plan_archive`` once (the schedule event).
* ``work`` plays the SQS event source mapping for ``archive_images``: receive one message, invoke
  with a fake LambdaContext whose remaining time runs down in real time (a scaled Lambda timeout),
  delete it unless reported as failed; until the queue is empty. Continuations the worker
  enqueues are delivered like any other message.

The process only ever holds the handler and its SDK clients (the emulator lives in the parent),
so its peak resident set (``VmHWM``, see :func:`rss_mib`) is the worker's.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import resource
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCOUNT = "123456789012"


def rss_mib() -> float:
    """Peak resident set of this process so far, in MiB.

    ``/proc/self/status`` ``VmHWM`` is the high-water mark of this program's address space.
    ``ru_maxrss`` (``RUSAGE_SELF``) is not used: Linux carries the forking parent's peak across
    ``fork``+``exec``, so a child of the emulator process would report the emulator's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# The handler loader and SQS event below deliberately copy ecr_harness.runner's: importing the
# ``ecr_emulator`` package loads moto, which would inflate the worker peak RSS this measures.
def load_handler(function: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"app_{function}", ROOT / "functions" / function / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@dataclasses.dataclass
class FakeContext:
    """The LambdaContext fields Powertools reads; the remaining time runs down in real time."""

    budget_ms: int
    function_name: str = "archive_images"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:archive_images"
    aws_request_id: str = "bench"
    started: float = dataclasses.field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(self.budget_ms - (time.monotonic() - self.started) * 1000)


def _sqs_event(message: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:work",
                "awsRegion": REGION,
            }
        ]
    }


def plan() -> dict[str, Any]:
    rss_before = rss_mib()
    handler = load_handler("plan_archive")
    event = json.loads((ROOT / "events" / "plan_archive_schedule.json").read_text())
    started = time.perf_counter()
    result = handler.lambda_handler(event, FakeContext(budget_ms=900_000, function_name="plan_archive"))
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "planned": len(result["planned"]),
        "skipped": result["skipped"],
        "run_id": result["runId"] if "runId" in result else result.get("run_id"),
        "rss_before_mib": rss_before,
        "peak_rss_mib": rss_mib(),
    }


def _queue_drained(sqs: Any, queue_url: str) -> bool:
    """Nothing visible and nothing in flight: no worker can still enqueue a continuation."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return all(int(attributes[name]) == 0 for name in attributes)


def work(queue_url: str, budget_ms: int, margin_ms: int, max_invocations: int) -> dict[str, Any]:
    import boto3

    handler = load_handler("archive_images")
    # The template's margin is whole seconds (TIME_BUDGET_MARGIN_SECONDS); the harness scales the
    # Lambda timeout down, so it scales the margin with it on the warm module's limits.
    handler.__dict__["LIMITS"] = dataclasses.replace(handler.LIMITS, safety_margin_ms=margin_ms)
    sqs = boto3.client("sqs", region_name=REGION)
    rss_warm = rss_mib()
    invocations = failures = overruns = 0
    worst_overrun_ms = 0
    started = time.perf_counter()
    while invocations < max_invocations:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            if _queue_drained(sqs, queue_url):
                break
            # Another worker holds a message and may enqueue its continuation. Lambda's pollers
            # long-poll SQS; polling the in-process emulator often would steal its CPU.
            time.sleep(0.5)
            continue
        message = messages[0]
        context = FakeContext(budget_ms=budget_ms)
        response = handler.lambda_handler(_sqs_event(message), context)
        invocations += 1
        left = context.get_remaining_time_in_millis()
        if left < 0:  # a real Lambda would have been killed here
            overruns += 1
            worst_overrun_ms = max(worst_overrun_ms, -left)
        if response["batchItemFailures"]:
            failures += 1
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    seconds = time.perf_counter() - started
    stats = getattr(handler.BUCKET, "stats", None)
    return {
        "seconds": seconds,
        "schedule_calls": stats.schedule_calls if stats else 0,
        "leases": stats.leases if stats else 0,
        "dropped_seconds": stats.dropped_seconds if stats else 0.0,
        "invocations": invocations,
        "failures": failures,
        "overruns": overruns,
        "worst_overrun_ms": worst_overrun_ms,
        "rss_warm_mib": rss_warm,
        "peak_rss_mib": rss_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("role", choices=["plan", "work"])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--queue-url", default="")
    parser.add_argument("--budget-ms", type=int, default=900_000)
    parser.add_argument("--margin-ms", type=int, default=60_000)
    parser.add_argument("--max-invocations", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    if args.role == "plan":
        out = plan()
    else:
        out = work(args.queue_url, args.budget_ms, args.margin_ms, args.max_invocations)
    args.out.write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
