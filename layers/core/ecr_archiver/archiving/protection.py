"""What must never be archived, decided per preview result.

The planner builds a repository's :class:`ProtectedSet` (in-use digests and tags, the explicit
list); the worker's :class:`Guard` applies it with the tag patterns, with what DescribeImages says
about each image (status, referrer subject) and with the run's
:class:`~ecr_archiver.archiving.indexes.IndexRule` (images an ACTIVE index references).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

from ecr_archiver.archiving.indexes import IndexRule, is_index_type
from ecr_archiver.archiving.inuse import RepositoryUse
from ecr_archiver.archiving.models import ProtectedSet, SkipReason
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus

# Artifact types of signatures, SBOMs and attestations (they follow their subject).
REFERRER_ARTIFACT_TYPES = frozenset(
    {
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        "application/vnd.dev.cosign.simplesigning.v1+json",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.cncf.notary.signature",
        "application/vnd.in-toto+json",
        "application/spdx+json",
        "text/spdx",
        "text/sbom+json",
        "application/vnd.cyclonedx+json",
        "application/vnd.syft+json",
    }
)
# cosign's pre-referrers tag scheme: sha256-<subject hex>.sig / .att / .sbom
_COSIGN_TAG = re.compile(r"^sha256-[0-9a-f]{64}\.(sig|att|sbom)$")


def protected_set_for(repository: str, in_use: RepositoryUse, listed: Iterable[ImageRef]) -> ProtectedSet:
    refs = [ref for ref in listed if ref.repository == repository]
    return ProtectedSet(
        in_use_digests=sorted(in_use.digests),
        in_use_tags=sorted(in_use.tags),
        listed_digests=sorted({r.digest for r in refs if r.digest}),
        listed_tags=sorted({r.tag for r in refs if r.tag}),
    )


def is_index(detail: ImageDetail) -> bool:
    return is_index_type(detail.manifest_media_type)


def is_referrer(detail: ImageDetail | None, tags: Iterable[str]) -> bool:
    if any(_COSIGN_TAG.match(tag) for tag in tags):
        return True
    if detail is None:
        return False
    return bool(detail.subject_digest) or (detail.artifact_media_type or "") in REFERRER_ARTIFACT_TYPES


class Guard:
    """Applies one repository's protection to preview results, in a fixed order of reasons."""

    def __init__(self, protected: ProtectedSet, tag_patterns: Iterable[str]) -> None:
        self._in_use_digests = frozenset(protected.in_use_digests)
        self._in_use_tags = frozenset(protected.in_use_tags)
        self._listed_digests = frozenset(protected.listed_digests)
        self._listed_tags = frozenset(protected.listed_tags)
        self._patterns = tuple(tag_patterns)

    def protection(self, digest: str, tags: Iterable[str]) -> SkipReason | None:
        """Why the user protects this image (from its digest and tags alone), or ``None``."""
        tags = tuple(tags)
        if digest in self._in_use_digests:
            return SkipReason.IN_USE_DIGEST
        if any(tag in self._in_use_tags for tag in tags):
            return SkipReason.IN_USE_TAG
        if digest in self._listed_digests or any(tag in self._listed_tags for tag in tags):
            return SkipReason.PROTECTED_IMAGE
        if any(fnmatchcase(tag, p) for tag in tags for p in self._patterns):
            return SkipReason.PROTECTED_TAG
        return None

    def check(
        self, digest: str, tags: Iterable[str], detail: ImageDetail | None, indexes: IndexRule
    ) -> tuple[SkipReason, str | None] | None:
        """Every reason not to archive, with the index that keeps it when there is one.

        ``detail`` is DescribeImages' current view (``None``: the image is gone).
        """
        tags = tuple(tags)
        reason = self.protection(digest, tags)
        if reason is not None:
            return reason, None
        if detail is None:
            return SkipReason.IMAGE_NOT_FOUND, None
        if detail.status is not ImageStatus.ACTIVE:
            return SkipReason.ALREADY_ARCHIVED, None
        if is_referrer(detail, tags):
            return SkipReason.REFERRER_ARTIFACT, None
        return indexes.check(digest)
