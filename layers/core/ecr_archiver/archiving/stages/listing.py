"""The DescribeImages details of a page's archive candidates: sizes, status, referrer subjects.

A small repository's listing, read moments ago to find its indexes, holds the same DescribeImages
answers: while it is fresh it serves instead of a second read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from ecr_archiver.archiving.stages.ports import PreviewRegistry
from ecr_archiver.archiving.stages.reads import read
from ecr_archiver.models import ImageDetail


def is_candidate_action(result: dict[str, Any]) -> bool:
    """Whether a preview result is a TRANSITION to ARCHIVE (the only action the worker takes)."""
    action = result.get("action") or {}
    return action.get("type") == "TRANSITION" and action.get("targetStorageClass") == "ARCHIVE"


class CandidateDetails:
    """DescribeImages for the STANDARD archive candidates among preview results."""

    def __init__(
        self, repository: str, registry: PreviewRegistry, *, reuse_max: int, fresh_seconds: float
    ) -> None:
        self._repo = repository
        self._registry = registry
        self._reuse_max = reuse_max
        self._fresh_seconds = fresh_seconds
        #: The repository's DescribeImages listing of this invocation, when small.
        self._listing: dict[str, ImageDetail] | None = None
        self._listed_at = 0.0

    def keep(self, details: Iterator[ImageDetail]) -> Iterator[ImageDetail]:
        """Pass the repository's listing through, keeping it when it is small enough to reuse."""
        kept: dict[str, ImageDetail] = {}
        for detail in details:
            if len(kept) >= self._reuse_max:
                yield detail
                yield from details  # too large to keep: stream the rest
                return
            kept[detail.digest] = detail
            yield detail
        self._listing, self._listed_at = kept, time.monotonic()

    def of(self, results: Iterable[dict[str, Any]]) -> dict[str, ImageDetail]:
        """The details of the STANDARD candidates among ``results`` (one call per 100, or none)."""
        wanted = [
            r["imageDigest"]
            for r in results
            if is_candidate_action(r) and r.get("storageClass") == "STANDARD"
        ]
        if not wanted:
            return {}
        listing = self._listing
        fresh = listing is not None and time.monotonic() - self._listed_at < self._fresh_seconds
        if listing is not None and fresh and all(digest in listing for digest in wanted):
            return {digest: listing[digest] for digest in wanted}
        found = read(lambda: list(self._registry.describe_images_by_digest(self._repo, wanted)))
        return {d.digest: d for d in found}
