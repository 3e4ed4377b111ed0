"""In-use discovery: which images ECS and Lambda run or are about to run, by digest and by tag.

Discovery runs once per planner run. Sources (ECS, Lambda, in this account or behind assumed roles)
yield raw image URIs; this module parses them into per-repository digest and tag sets. A URI we
cannot parse protects nothing but is logged, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ecr_archiver.models import DIGEST_PATTERN
from ecr_archiver.observability import logger

# <account>.dkr.ecr.<region>.amazonaws.com[.cn] and the dual-stack <account>.dkr-ecr.<region>.on.aws
_ECR_HOST = re.compile(
    r"^[0-9]{12}\.dkr[.-]ecr(-fips)?\.[a-z0-9-]+\.(amazonaws\.com(\.cn)?|on\.aws)(:[0-9]+)?$"
)


@dataclass(frozen=True)
class ImageUse:
    """One reference to an image: the URI as configured, plus the digest the service resolved."""

    uri: str
    digest: str | None = None
    source: str = ""


class ImageUseSource(Protocol):
    """ECS or Lambda inventory, in this account or an assumed role's."""

    def image_uses(self) -> Iterable[ImageUse]: ...


@dataclass(frozen=True)
class ParsedImage:
    repository: str
    tag: str | None
    digest: str | None


def parse_image_uri(uri: str) -> ParsedImage | None:
    """``host/repo[:tag][@sha256:...]`` for an ECR host; ``None`` for anything else."""
    host, sep, rest = uri.strip().partition("/")
    if not sep or not _ECR_HOST.match(host):
        return None
    name, at, digest_part = rest.partition("@")
    digest = digest_part.rsplit("@", 1)[-1] if at else None
    if digest is not None and not re.fullmatch(DIGEST_PATTERN, digest):
        digest = None
    tag: str | None = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
    if not name:
        return None
    return ParsedImage(repository=name, tag=tag or None, digest=digest)


@dataclass
class RepositoryUse:
    digests: set[str] = field(default_factory=set)
    tags: set[str] = field(default_factory=set)


@dataclass
class InUseImages:
    """Per repository, the digests and tags something runs. Unknown repositories map to nothing."""

    repositories: dict[str, RepositoryUse] = field(default_factory=dict)
    sources: int = 0

    def add(self, use: ImageUse) -> bool:
        parsed = parse_image_uri(use.uri)
        if parsed is None:
            return False
        entry = self.repositories.setdefault(parsed.repository, RepositoryUse())
        if parsed.tag:
            entry.tags.add(parsed.tag)
        for digest in (parsed.digest, use.digest):
            if digest and re.fullmatch(DIGEST_PATTERN, digest):
                entry.digests.add(digest)
        return True

    def for_repository(self, repository: str) -> RepositoryUse:
        return self.repositories.get(repository, RepositoryUse())


def discover_in_use(sources: Iterable[ImageUseSource]) -> InUseImages:
    """Collect every image use from every source, once."""
    found = InUseImages()
    for source in sources:
        found.sources += 1
        for use in source.image_uses():
            if not found.add(use):
                logger.debug(
                    "image reference outside ECR ignored", extra={"uri": use.uri, "source": use.source}
                )
    return found
