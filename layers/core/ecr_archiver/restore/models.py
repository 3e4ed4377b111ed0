"""The restore API contract: request, response and error bodies, and the repository allow-list.

Field names are snake_case in Python and camelCase on the wire (``includeReferrers``,
``sizeBytes``, ``artifactType``). Requests reject unknown fields so a typo such as
``includeReferers`` is a 422 naming the field instead of a silently ignored option.
"""

from __future__ import annotations

import re
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic.alias_generators import to_camel

from ecr_archiver.models import (
    ImageDetail,
    ImageDigest,
    ImageRef,
    ImageStatus,
    ImageTag,
    RepositoryName,
    require_tag_xor_digest,
)

# Glob patterns over repository names: ECR's name characters plus fnmatch's * ? [ ] !.
ALLOW_PATTERN = re.compile(r"^[a-z0-9._/*?\[\]!-]{1,256}$")


class _Wire(BaseModel):
    """camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        frozen=True, alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )


class _ExactlyOneImageId(_Wire):
    """Shared shape of POST /restores and GET /images: a repository and exactly one of tag or digest."""

    model_config = ConfigDict(extra="forbid")

    repository: RepositoryName = Field(description="ECR repository name, e.g. `team/app`.")
    tag: ImageTag | None = Field(default=None, description="Image tag (at most 300 characters).")
    digest: ImageDigest | None = Field(default=None, description="Image digest, `sha256:` and 64 hex digits.")

    @model_validator(mode="after")
    def _exactly_one_of_tag_or_digest(self) -> Self:
        require_tag_xor_digest(self.tag, self.digest)
        return self

    def image_ref(self) -> ImageRef:
        return ImageRef(repository=self.repository, tag=self.tag, digest=self.digest)


class RestoreRequest(_ExactlyOneImageId):
    """Body of ``POST /restores``."""

    include_referrers: StrictBool = Field(
        default=True,
        description="Also restore archived referrers (signatures, SBOMs, attestations) of the image.",
    )


class ImageQuery(_ExactlyOneImageId):
    """Query string of ``GET /images``."""


class ReferrerStatus(_Wire):
    """A referrer (signature, SBOM, attestation) of the image and its storage status."""

    digest: str
    artifact_type: str | None = None
    status: ImageStatus
    error: str | None = Field(
        default=None,
        description="ECR's error code when restoring this referrer failed (the image itself was restored).",
    )

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> ReferrerStatus:
        """From one ECR ``ImageReferrer`` (ListImageReferrers)."""
        return cls(
            digest=str(item["digest"]),
            artifact_type=item.get("artifactType"),
            status=ImageStatus(str(item.get("artifactStatus") or ImageStatus.ACTIVE)),
        )


class RestoreResponse(_Wire):
    """Body of a 200/202 from ``POST /restores``."""

    repository: str
    digest: str
    tags: list[str]
    status: ImageStatus = Field(
        description="ACTIVE (200: nothing to do) or ACTIVATING (202: restore running)."
    )
    referrers: list[ReferrerStatus] = Field(default_factory=list)


class ImageStatusResponse(_Wire):
    """Body of a 200 from ``GET /images``."""

    repository: str
    digest: str
    tags: list[str]
    status: ImageStatus
    size_bytes: int
    pushed_at: datetime | None = None
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None

    @classmethod
    def from_detail(cls, detail: ImageDetail) -> ImageStatusResponse:
        return cls(
            repository=detail.repository,
            digest=detail.digest,
            tags=list(detail.tags),
            status=detail.status,
            size_bytes=detail.size_bytes,
            pushed_at=detail.pushed_at,
            last_archived_at=detail.last_archived_at,
            last_activated_at=detail.last_activated_at,
        )


class FieldProblem(_Wire):
    """One invalid input: where it is (``body.tag``, ``query.repository``) and what is wrong."""

    field: str
    message: str


class ErrorBody(_Wire):
    """Body of every 4xx/5xx the restore API returns."""

    error: str = Field(description="Machine-readable code, e.g. `ImageNotFoundException`.")
    message: str
    fields: list[FieldProblem] | None = Field(default=None, description="Invalid inputs (400/422 only).")
    correlation_id: str | None = Field(default=None, description="Request id to quote to operators (500).")


class RepositoryAllowList(BaseModel):
    """Glob patterns (``fnmatch``, case-sensitive) over repository names; ``*`` also matches ``/``."""

    model_config = ConfigDict(frozen=True)

    patterns: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _patterns_are_globs(self) -> Self:
        bad = [p for p in self.patterns if not ALLOW_PATTERN.fullmatch(p)]
        if bad:
            raise ValueError(f"not repository glob patterns: {bad!r}")
        return self

    @classmethod
    def parse(cls, text: str) -> RepositoryAllowList:
        """From a comma-separated list (how CloudFormation passes a CommaDelimitedList)."""
        return cls(patterns=tuple(p.strip() for p in text.split(",") if p.strip()))

    def permits(self, repository: str) -> bool:
        return any(fnmatchcase(repository, pattern) for pattern in self.patterns)
