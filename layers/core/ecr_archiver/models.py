"""Models shared by every capability: image references and image details."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# ECR's current RepositoryName pattern (botocore model, OCI distribution spec), anchored.
REPOSITORY_PATTERN = r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
# OCI tag grammar; ECR also caps tags at 300 characters.
TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,299}$"

RepositoryName = Annotated[str, StringConstraints(min_length=2, max_length=256, pattern=REPOSITORY_PATTERN)]
ImageDigest = Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]
ImageTag = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=TAG_PATTERN)]


class ImageStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    ACTIVATING = "ACTIVATING"


def require_tag_xor_digest(tag: str | None, digest: str | None) -> None:
    """The one rule for naming an image: exactly one of a tag or a digest."""
    if (tag is None) == (digest is None):
        raise ValueError("give exactly one of 'tag' or 'digest'")


class ImageRef(BaseModel):
    """``repo:tag`` or ``repo@sha256:...``: exactly one of tag or digest."""

    model_config = ConfigDict(frozen=True)

    repository: RepositoryName
    tag: ImageTag | None = None
    digest: ImageDigest | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        require_tag_xor_digest(self.tag, self.digest)
        return self

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse ``repo:tag`` or ``repo@sha256:<hex>``; raises ``ValueError`` naming the problem."""
        text = text.strip()
        if "@" in text:
            repo, _, digest = text.partition("@")
            return cls(repository=repo, digest=digest)
        repo, sep, tag = text.rpartition(":")
        if not sep or not repo:
            raise ValueError(f"{text!r} is not REPOSITORY:TAG or REPOSITORY@sha256:DIGEST")
        return cls(repository=repo, tag=tag)

    def image_id(self) -> dict[str, str]:
        """The ECR ``imageId`` structure."""
        return {"imageDigest": self.digest} if self.digest else {"imageTag": self.tag or ""}

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag}"


class ImageDetail(BaseModel):
    """The subset of ECR ``ImageDetail`` this product uses, with the archive-era fields."""

    model_config = ConfigDict(frozen=True)

    repository: str
    digest: str
    tags: tuple[str, ...] = ()
    status: ImageStatus = ImageStatus.ACTIVE
    size_bytes: int = 0
    pushed_at: datetime | None = None
    last_pulled_at: datetime | None = None
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None
    manifest_media_type: str | None = None
    artifact_media_type: str | None = None
    subject_digest: str | None = Field(default=None, description="subjectManifestDigest for referrers")

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> ImageDetail:
        return cls(
            repository=str(item["repositoryName"]),
            digest=str(item["imageDigest"]),
            tags=tuple(item.get("imageTags") or ()),
            status=ImageStatus(str(item.get("imageStatus") or "ACTIVE")),
            size_bytes=int(item.get("imageSizeInBytes") or 0),
            pushed_at=item.get("imagePushedAt"),
            last_pulled_at=item.get("lastRecordedPullTime"),
            last_archived_at=item.get("lastArchivedAt"),
            last_activated_at=item.get("lastActivatedAt"),
            manifest_media_type=item.get("imageManifestMediaType"),
            artifact_media_type=item.get("artifactMediaType"),
            subject_digest=item.get("subjectManifestDigest"),
        )


def is_digest(value: str) -> bool:
    return re.fullmatch(DIGEST_PATTERN, value) is not None
