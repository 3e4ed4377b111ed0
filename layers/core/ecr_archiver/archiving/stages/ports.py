"""What a repository run is handed: the registry, the report bucket, the queue, its limits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus


class PreviewRegistry(Protocol):
    def get_preview_page(
        self, repository: str, *, next_token: str | None = None, page_size: int = 100
    ) -> dict[str, Any]: ...
    def start_preview(self, repository: str, policy_text: str | None) -> str: ...
    def get_preview_results(self, repository: str, digests: Iterable[str]) -> Iterator[dict[str, Any]]: ...
    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]: ...
    def describe_images(
        self, repository: str, *, status: str = ..., page_size: int = ...
    ) -> Iterator[ImageDetail]: ...
    def batch_get_manifests(self, repository: str, digests: Iterable[str]) -> dict[str, str]: ...
    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus: ...


class ContinuationQueue(Protocol):
    def send(self, body: str, *, delay_seconds: int = 0) -> None: ...


class ReportBucket(Protocol):
    def put_text(self, key: str, text: str, *, content_type: str = ...) -> None: ...
    def put_json(self, key: str, document: Any) -> None: ...
    def get_json(self, key: str) -> Any: ...
    def list_keys(self, prefix: str) -> Any: ...


@dataclass(frozen=True)
class WorkerLimits:
    max_tps: float = 20.0
    concurrency: int = 8
    safety_margin_ms: int = 60_000
    page_size: int = 100
    report_chunk: int = 5000
    force_dry_run: bool = True
    #: A repository listing of at most this many images is kept to serve as the pages' details.
    listing_reuse_max: int = 1000


@dataclass(frozen=True)
class TimeBudget:
    """The invocation's time left, less the margin kept to drain and send the continuation."""

    remaining_ms: Callable[[], int]
    margin_ms: int

    def out_of_time(self) -> bool:
        return self.remaining_ms() <= self.margin_ms
