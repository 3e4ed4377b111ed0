"""In-memory fakes for the archiving logic: a registry with one preview per repository, a queue,
an object store and a Lambda clock. Every mutating call is recorded so tests can assert on it."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ecr_archiver import errors
from ecr_archiver.adapters.memory import MemoryStore
from ecr_archiver.archiving.inuse import ImageUse
from ecr_archiver.archiving.models import ProtectedSet, WorkMessage
from ecr_archiver.archiving.worker import WorkerLimits
from ecr_archiver.lifecycle.policy import canonical_policy_text, parse_lifecycle_policy, policy_hash
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus

POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
}
POLICY_TEXT = canonical_policy_text(parse_lifecycle_policy(POLICY))
POLICY_HASH = policy_hash(POLICY_TEXT)


def work_message(repository: str, **overrides: Any) -> WorkMessage:
    """A real run's work message for ``repository`` under :data:`POLICY` (5,000 images at most)."""
    values: dict[str, Any] = {
        "run_id": "run-1",
        "repository": repository,
        "policy_text": POLICY_TEXT,
        "policy_hash": POLICY_HASH,
        "dry_run": False,
        "max_images": 5000,
        "tag_patterns": ["prod-*"],
        "protected": ProtectedSet(),
    }
    values.update(overrides)
    return WorkMessage(**values)


OTHER_POLICY_TEXT = POLICY_TEXT.replace('"countNumber":90', '"countNumber":30')


def digest(n: int | str) -> str:
    return "sha256:" + f"{n}".rjust(64, "0")


@dataclass
class FakeImage:
    digest: str
    tags: list[str] = field(default_factory=list)
    size: int = 1000
    status: ImageStatus = ImageStatus.ACTIVE
    subject: str | None = None
    media_type: str = "application/vnd.oci.image.manifest.v1+json"
    candidate: bool = True  # the preview selects it for TRANSITION
    preview_tags: list[str] | None = None  # tags the preview snapshot saw, if not the current ones
    listed_by: str | list[str] | None = None  # digest(s) of the indexes referencing this image

    def parents(self) -> list[str]:
        if self.listed_by is None:
            return []
        return [self.listed_by] if isinstance(self.listed_by, str) else list(self.listed_by)


INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass
class FakePreview:
    status: str = "COMPLETE"
    policy_text: str = POLICY_TEXT


class FakeRegistry:
    """One repository's images and preview, paged ``page_size`` at a time with tokens ``p<N>``."""

    def __init__(self, repository: str = "team-a/api") -> None:
        self.repository = repository
        self.images: dict[str, FakeImage] = {}
        self.preview: FakePreview | None = FakePreview()
        self.calls: Counter[str] = Counter()
        self.archived: list[str] = []
        self.deleted_after_describe: set[str] = set()
        self.start_raises: Exception | None = None
        self.policies: dict[str, str] = {}
        self.repositories: list[str] = [repository]
        self.exclusions: list[str] | Exception = []
        self.pulled: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def add(self, image: FakeImage) -> FakeImage:
        self.images[image.digest] = image
        return image

    # PreviewRegistry
    def get_preview_page(
        self, repository: str, *, next_token: str | None = None, page_size: int = 100
    ) -> dict[str, Any]:
        self.calls["GetLifecyclePolicyPreview"] += 1
        if self.preview is None:
            raise errors.PreviewNotFound("There is no dry run for this repository.")
        page: dict[str, Any] = {
            "repositoryName": repository,
            "status": self.preview.status,
            "lifecyclePolicyText": self.preview.policy_text,
            "previewResults": [],
        }
        if self.preview.status != "COMPLETE":
            return page
        selected = [i for i in self.images.values() if i.candidate]
        start = int(next_token[1:]) if next_token else 0
        page["previewResults"] = [self._result(image) for image in selected[start : start + page_size]]
        if start + page_size < len(selected):
            page["nextToken"] = f"p{start + page_size}"
        return page

    @staticmethod
    def _result(image: FakeImage) -> dict[str, Any]:
        return {
            "imageDigest": image.digest,
            "imageTags": list(image.tags if image.preview_tags is None else image.preview_tags),
            "imagePushedAt": datetime(2025, 1, 1, tzinfo=UTC),
            "action": {"type": "TRANSITION", "targetStorageClass": "ARCHIVE"},
            "appliedRulePriority": 1,
            "storageClass": "STANDARD" if image.status is ImageStatus.ACTIVE else "ARCHIVE",
        }

    def get_preview_results(self, repository: str, digests: Iterable[str]) -> Iterator[dict[str, Any]]:
        wanted = list(digests)
        self.calls["GetLifecyclePolicyPreview"] += (len(wanted) + 99) // 100
        for d in wanted:
            image = self.images.get(d)
            if image is not None and image.candidate:
                yield self._result(image)

    def describe_images(
        self, repository: str, *, status: str = "ANY", page_size: int = 1000
    ) -> Iterator[ImageDetail]:
        self.calls["DescribeImages"] += max(1, (len(self.images) + page_size - 1) // page_size)
        for image in list(self.images.values()):
            yield self._detail(repository, image)

    def batch_get_manifests(self, repository: str, digests: Iterable[str]) -> dict[str, str]:
        wanted = list(digests)
        self.calls["BatchGetImage"] += (len(wanted) + 99) // 100
        out: dict[str, str] = {}
        for d in wanted:
            image = self.images.get(d)
            if image is None or image.status is not ImageStatus.ACTIVE:
                continue
            self.pulled.append(d)
            children = [c.digest for c in self.images.values() if d in c.parents()]
            out[d] = json.dumps(
                {"mediaType": image.media_type, "manifests": [{"digest": c} for c in children]}
            )
        return out

    def list_pull_time_exclusions(self) -> list[str]:
        self.calls["ListPullTimeUpdateExclusions"] += 1
        if isinstance(self.exclusions, Exception):
            raise self.exclusions
        return list(self.exclusions)

    def start_preview(self, repository: str, policy_text: str | None) -> str:
        self.calls["StartLifecyclePolicyPreview"] += 1
        if self.start_raises is not None:
            raise self.start_raises
        self.preview = FakePreview(status="IN_PROGRESS", policy_text=policy_text or POLICY_TEXT)
        return "IN_PROGRESS"

    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]:
        self.calls["DescribeImages"] += 1
        for d in list(digests):
            image = self.images.get(d)
            if image is None:
                continue
            yield self._detail(repository, image)
        for d in self.deleted_after_describe:
            self.images.pop(d, None)

    @staticmethod
    def _detail(repository: str, image: FakeImage) -> ImageDetail:
        return ImageDetail(
            repository=repository,
            digest=image.digest,
            tags=tuple(image.tags),
            status=image.status,
            size_bytes=image.size,
            subject_digest=image.subject,
            manifest_media_type=image.media_type,
        )

    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus:
        with self._lock:
            self.calls["UpdateImageStorageClass"] += 1
            image = self.images.get(ref.digest or "")
            if image is None:
                raise errors.ImageNotFound("gone")
            if image.status is not ImageStatus.ACTIVE:
                raise errors.StorageClassUpdateNotSupported("already archived")
            for parent_digest in image.parents():
                parent = self.images.get(parent_digest)
                if parent is not None and parent.status is not ImageStatus.ARCHIVED:
                    self.refused.append(image.digest)
                    raise errors.StorageClassUpdateNotSupported("referenced by an active manifest list")
            image.status = ImageStatus.ARCHIVED
            self.archived.append(image.digest)
            return ImageStatus.ARCHIVED

    # PlanningRegistry
    def list_repositories(self) -> Iterator[str]:
        self.calls["DescribeRepositories"] += 1
        yield from self.repositories

    def get_lifecycle_policy_text(self, repository: str) -> str:
        self.calls["GetLifecyclePolicy"] += 1
        if repository not in self.policies:
            raise errors.LifecyclePolicyNotFound("none")
        return self.policies[repository]


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []

    def send(self, body: str, *, delay_seconds: int = 0) -> None:
        self.sent.append((body, delay_seconds))

    def send_many(self, bodies: Iterable[str], *, delay_seconds: int = 0) -> None:
        for body in bodies:
            self.send(body, delay_seconds=delay_seconds)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.sent]


class FakeStore(MemoryStore):
    """The in-memory report bucket, plus a reader of every record written."""

    bucket = "reports-bucket"

    def all_records(self) -> list[dict[str, Any]]:
        return [
            json.loads(line)
            for key, text in sorted(self.objects.items())
            if key.endswith(".jsonl")
            for line in text.splitlines()
        ]


class FakeSource:
    def __init__(self, *uses: ImageUse) -> None:
        self.uses = list(uses)
        self.calls = 0

    def image_uses(self) -> Iterator[ImageUse]:
        self.calls += 1
        yield from self.uses


class Budget:
    """A Lambda clock: ``remaining_ms`` drops by ``per_call_ms`` every time it is asked."""

    def __init__(self, remaining_ms: int = 900_000, per_call_ms: int = 0) -> None:
        self.remaining = remaining_ms
        self.per_call_ms = per_call_ms

    def __call__(self) -> int:
        value = self.remaining
        self.remaining -= self.per_call_ms
        return value


class NoWaitBucket:
    """A ``CallPacer`` that never waits and remembers what it was told."""

    def __init__(self) -> None:
        self.acquired = 0
        self.reserved: list[int] = []
        self.released = 0

    def reserve(self, calls: int) -> None:
        self.reserved.append(calls)

    def acquire(self) -> None:
        self.acquired += 1

    def release(self) -> None:
        self.released += 1


def limits(**overrides: Any) -> WorkerLimits:
    values: dict[str, Any] = {
        "max_tps": 1000.0,
        "concurrency": 4,
        "safety_margin_ms": 1000,
        "page_size": 100,
        "report_chunk": 1000,
        "force_dry_run": False,
    }
    values.update(overrides)
    return WorkerLimits(**values)
