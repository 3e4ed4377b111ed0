"""Builders shared by the restore tests: API Gateway REST (v1 proxy) events, a Lambda context,
the restore_api handler module loaded from ``functions/restore_api/app.py``, and a fake registry."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ecr_archiver.errors import EcrArchiverError, ImageNotFound, RepositoryNotFound
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus
from ecr_harness.runner import load_handler

ROOT = Path(__file__).resolve().parents[3]
APP_PATH = ROOT / "functions" / "restore_api" / "app.py"
EVENTS = ROOT / "events"
POST_EVENT = EVENTS / "restore_api_post_restores.json"
GET_EVENT = EVENTS / "restore_api_get_images.json"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # requestContext.requestId of the sample events


def load_app() -> ModuleType:
    """A fresh import of the handler module (its settings are read from the environment at import)."""
    return load_handler("restore_api")


@dataclass
class LambdaContext:
    function_name: str = "restore-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:restore-api"
    aws_request_id: str = "7d0c3b1e-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


def post_restores(
    body: Any = None, *, raw: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """``POST /restores`` with ``body`` JSON-encoded (or ``raw`` sent as is)."""
    event = copy.deepcopy(json.loads(POST_EVENT.read_text()))
    event["body"] = raw if raw is not None else json.dumps(body)
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    return event


def get_images(query: dict[str, str] | None) -> dict[str, Any]:
    """``GET /images`` with ``query`` as the query string (``None``: no query string)."""
    event = copy.deepcopy(json.loads(GET_EVENT.read_text()))
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    return event


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def header(response: dict[str, Any], name: str) -> str | None:
    headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    values = headers.get(name.lower())
    if values:
        return str(values[0])
    single = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    return single.get(name.lower())


def emitted_metrics(stdout: str) -> dict[str, float]:
    """Sum of each metric in the EMF blobs Powertools printed."""
    totals: dict[str, float] = {}
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = blob[metric["Name"]]
                totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(
                    value if isinstance(value, list) else [value]
                )
    return totals


def digest_of(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


@dataclass
class FakeRegistry:
    """In-memory ``ImageRegistry``: images by repository, referrers by subject, recorded mutations."""

    images: dict[str, dict[str, ImageDetail]] = field(default_factory=dict)
    referrers: dict[str, list[str]] = field(default_factory=dict)
    artifact_types: dict[str, str] = field(default_factory=dict)
    updates: list[tuple[ImageRef, str]] = field(default_factory=list)
    referrer_queries: list[str] = field(default_factory=list)
    fail_update: dict[str, EcrArchiverError] = field(default_factory=dict)
    fail_describe: EcrArchiverError | None = None
    status_after_refused_update: ImageStatus | None = None

    def add_image(
        self, repository: str, tags: tuple[str, ...] = (), *, status: ImageStatus = ImageStatus.ACTIVE
    ) -> str:
        digest = digest_of(f"{repository}/{len(self.images.get(repository, {}))}/{tags}")
        self.images.setdefault(repository, {})[digest] = ImageDetail(
            repository=repository, digest=digest, tags=tags, status=status, size_bytes=1234
        )
        return digest

    def add_referrer(
        self, repository: str, subject: str, *, artifact_type: str, status: ImageStatus = ImageStatus.ARCHIVED
    ) -> str:
        digest = self.add_image(repository, status=status)
        self.referrers.setdefault(subject, []).append(digest)
        self.artifact_types[digest] = artifact_type
        return digest

    def status(self, repository: str, digest: str) -> ImageStatus:
        return self.images[repository][digest].status

    # -- ImageRegistry ------------------------------------------------------------------
    def describe_image(self, ref: ImageRef) -> ImageDetail:
        if self.fail_describe:
            raise self.fail_describe
        if ref.repository not in self.images:
            raise RepositoryNotFound(f"repository {ref.repository} not found")
        for image in self.images[ref.repository].values():
            if image.digest == ref.digest or (ref.tag is not None and ref.tag in image.tags):
                return image
        raise ImageNotFound(f"image {ref} not found")

    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus:
        self.updates.append((ref, target))
        assert ref.digest, "restores must address images by digest"
        if ref.digest in self.fail_update:
            if self.status_after_refused_update:
                self._set(ref.repository, ref.digest, self.status_after_refused_update)
            raise self.fail_update[ref.digest]
        self._set(ref.repository, ref.digest, ImageStatus.ACTIVATING)
        return ImageStatus.ACTIVATING

    def list_referrers(
        self,
        repository: str,
        subject_digest: str,
        *,
        status: str = "ANY",
        artifact_types: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        self.referrer_queries.append(status)
        for digest in self.referrers.get(subject_digest, []):
            image = self.images[repository][digest]
            if status in ("ANY", image.status.value):
                yield {
                    "digest": digest,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "artifactType": self.artifact_types[digest],
                    "size": 512,
                    "artifactStatus": image.status.value,
                }

    def _set(self, repository: str, digest: str, status: ImageStatus) -> None:
        image = self.images[repository][digest]
        self.images[repository][digest] = image.model_copy(update={"status": status})
