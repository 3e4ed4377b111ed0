"""In-memory stand-ins for the SQS and S3 adapters: a local run, tests and benchmarks use them.

They keep the same methods as :class:`~ecr_archiver.adapters.sqs.WorkQueue` and
:class:`~ecr_archiver.adapters.s3.ObjectStore` that the planner and the worker call, and hold
everything in memory: nothing here has a size limit or talks to AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any


class MemoryQueue:
    """Stands in for the work queue: the planner's messages and any continuation, in order."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_many(self, bodies: Sequence[str], *, delay_seconds: int = 0) -> None:
        self.bodies.extend(bodies)

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        self.bodies.append(body)


class MemoryStore:
    """Stands in for the report bucket (and for oversized protected sets)."""

    bucket = "local"

    def __init__(self) -> None:
        self.objects: dict[str, str] = {}

    def put_text(self, key: str, text: str, *, content_type: str = "application/json") -> None:
        self.objects[key] = text

    def put_json(self, key: str, document: Any) -> None:
        self.objects[key] = json.dumps(document, default=str)

    def get_text(self, key: str) -> str:
        return self.objects[key]

    def get_json(self, key: str) -> Any:
        return json.loads(self.objects[key])

    def list_keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))
