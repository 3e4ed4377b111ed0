"""Image references as workloads write them, and which of them name an image of this registry.

ECS task definitions, Lambda functions and ``docker pull`` name images by URI:
``<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@sha256:<hex>]`` for a private ECR
registry (also the FIPS ``dkr.ecr-fips``, dual-stack ``dkr-ecr.<region>.on.aws`` and China
``amazonaws.com.cn`` hosts), ``public.ecr.aws/...`` for ECR Public, and anything else for Docker
Hub, GHCR or a self-hosted registry. A URI without a host is Docker Hub's (``nginx:1.27``).

:func:`parse_image_uri` reads any of them; :meth:`LocalRegistry.resolve` says whether one names
an image ecr-archiver may restore (a private ECR image of this account and region) and, if not,
why. When a URI carries both a tag and a digest, the digest is what the runtime pulls, so the
digest is what is restored.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ecr_archiver.models import DIGEST_PATTERN, REPOSITORY_PATTERN, TAG_PATTERN, ImageRef

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn] and dual-stack <account>.dkr-ecr.<region>.on.aws
_PRIVATE_ECR_HOST = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr[.-]ecr(-fips)?\.(?P<region>[a-z]{2}(-[a-z]+)+-[0-9]+)"
    r"\.(amazonaws\.com(\.cn)?|on\.aws)(:[0-9]+)?$"
)
_PUBLIC_ECR_HOST = "public.ecr.aws"
DEFAULT_TAG = "latest"


class RegistryKind(StrEnum):
    PRIVATE_ECR = "private-ecr"
    PUBLIC_ECR = "public-ecr"
    OTHER = "other"


class ImageUri(BaseModel):
    """One parsed image reference. ``tag`` and ``digest`` may both be set (``repo:tag@sha256:...``)."""

    model_config = ConfigDict(frozen=True)

    written: str = Field(description="The reference as the workload wrote it.")
    kind: RegistryKind
    host: str
    registry_id: str | None = None
    region: str | None = None
    repository: str
    tag: str | None = None
    digest: str | None = None

    def image_ref(self) -> ImageRef:
        """The digest when there is one (it is what gets pulled), else the tag (``latest`` if none)."""
        if self.digest:
            return ImageRef(repository=self.repository, digest=self.digest)
        return ImageRef(repository=self.repository, tag=self.tag or DEFAULT_TAG)


def _split_name(rest: str) -> tuple[str, str | None, str | None]:
    """``path[:tag][@digest]`` -> (path, tag, digest)."""
    name, at, digest = rest.partition("@")
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return name, tag, (digest if at else None)


def _has_host(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost"


def parse_image_uri(text: str) -> ImageUri:
    """Parse any image reference; raises ``ValueError`` naming the problem.

    Private ECR references are checked against ECR's repository, tag and digest grammar; other
    registries' references only need a name (they are never acted on).
    """
    written = text.strip()
    if not written or any(c.isspace() for c in written):
        raise ValueError(f"{text!r} is not an image reference")
    first, sep, rest = written.partition("/")
    host, path = (first.lower(), rest) if sep and _has_host(first) else ("docker.io", written)
    name, tag, digest = _split_name(path)
    if not name:
        raise ValueError(f"{written!r} names no repository")
    match = _PRIVATE_ECR_HOST.match(host)
    if match is None:
        kind = RegistryKind.PUBLIC_ECR if host == _PUBLIC_ECR_HOST else RegistryKind.OTHER
        return ImageUri(written=written, kind=kind, host=host, repository=name, tag=tag, digest=digest)
    _check_ecr_name(written, name, tag, digest)
    return ImageUri(
        written=written,
        kind=RegistryKind.PRIVATE_ECR,
        host=host,
        registry_id=match["account"],
        region=match["region"],
        repository=name,
        tag=tag,
        digest=digest,
    )


def private_ecr_image(
    *, registry_id: str, region: str, repository: str, tag: str | None = None, digest: str | None = None
) -> ImageUri:
    """An ECR image named by its parts (as API calls name them); raises ``ValueError`` if invalid."""
    written = f"{repository}@{digest}" if digest else f"{repository}:{tag or DEFAULT_TAG}"
    _check_ecr_name(written, repository, tag, digest)
    host = f"{registry_id}.dkr.ecr.{region}.amazonaws.com"
    return ImageUri(
        written=written,
        kind=RegistryKind.PRIVATE_ECR,
        host=host,
        registry_id=registry_id,
        region=region,
        repository=repository,
        tag=tag,
        digest=digest,
    )


def _check_ecr_name(written: str, repository: str, tag: str | None, digest: str | None) -> None:
    if not 2 <= len(repository) <= 256 or not re.fullmatch(REPOSITORY_PATTERN, repository):
        raise ValueError(f"{written!r}: {repository!r} is not an ECR repository name")
    if tag is not None and not re.fullmatch(TAG_PATTERN, tag):
        raise ValueError(f"{written!r}: {tag!r} is not an image tag")
    if digest is not None and not re.fullmatch(DIGEST_PATTERN, digest):
        raise ValueError(f"{written!r}: {digest!r} is not a sha256 digest")


class LocalRegistry(BaseModel):
    """This account's private registry in this region: the only images ecr-archiver restores."""

    model_config = ConfigDict(frozen=True)

    registry_id: str = Field(pattern=r"^[0-9]{12}$")
    region: str = Field(min_length=1)

    def foreign_reason(self, image: ImageUri) -> str | None:
        """Why ``image`` is not this registry's (``None`` when it is)."""
        if image.kind is RegistryKind.PUBLIC_ECR:
            return f"{image.written} is on ECR Public, not in this registry"
        if image.kind is RegistryKind.OTHER:
            return f"{image.written} is on {image.host}, not on Amazon ECR"
        if image.registry_id != self.registry_id:
            return f"{image.written} is in registry {image.registry_id}, not {self.registry_id}"
        if image.region != self.region:
            return f"{image.written} is in {image.region}, not {self.region}"
        return None

    def resolve(self, image: ImageUri) -> ImageRef | None:
        """The ``ImageRef`` to act on, or ``None`` for another registry's image."""
        return image.image_ref() if self.foreign_reason(image) is None else None
