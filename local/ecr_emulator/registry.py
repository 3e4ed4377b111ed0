"""Archive-era image state layered onto moto's ``Repository``/``Image`` objects.

Everything is attached lazily as private attributes (``_emu_meta`` on images, ``_emu_index`` on
repositories) so moto's ``reset`` wipes it with the objects it belongs to. Repositories get an
``ImageList`` that keeps a digest index up to date on append, so pushing and looking up images
stays O(1) for 100k-image repositories instead of moto's linear scans.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.ecr.exceptions import (
    ImageAlreadyExistsException,
    ImageNotFoundException,
    InvalidParameterException,
    RepositoryNotFoundException,
)
from moto.ecr.models import ECRBackend, Image, Repository, RepoTagMutability

from ecr_emulator import manifests
from ecr_emulator.errors import ImageDigestDoesNotMatchException
from ecr_emulator.state import STATE

ACTIVE = "ACTIVE"
ARCHIVED = "ARCHIVED"
ACTIVATING = "ACTIVATING"


@dataclass(slots=True)
class ImageMeta:
    seq: int
    pushed_at: datetime
    info: manifests.ManifestInfo
    size: int | None
    status: str = ACTIVE
    restore_at: datetime | None = None
    last_pulled_at: datetime | None = None
    last_archived_at: datetime | None = None
    last_activated_at: datetime | None = None

    def settle(self, now: datetime) -> str:
        """Finish a restore whose delay has elapsed on the emulator clock; returns the status."""
        if self.status == ACTIVATING and self.restore_at is not None and now >= self.restore_at:
            self.status = ACTIVE
            self.last_activated_at = self.restore_at
            self.restore_at = None
        return self.status


@dataclass
class RepoIndex:
    """Digest, tag, parent, referrer and layer indexes over one repository's images."""

    next_seq: int = 0
    dirty: bool = True
    by_digest: dict[str, Image] = field(default_factory=dict)
    by_tag: dict[str, Image] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=dict)
    referrers: dict[str, set[str]] = field(default_factory=dict)
    _layers: dict[str, set[str]] | None = None

    def add(self, image: Image) -> None:
        meta = meta_of(image, self)
        digest = image.get_image_digest()
        self.by_digest[digest] = image
        for tag in image.image_tags:
            self.by_tag[tag] = image
        for child in meta.info.children:
            self.parents.setdefault(child, set()).add(digest)
        if meta.info.subject:
            self.referrers.setdefault(meta.info.subject, set()).add(digest)
        self._layers = None

    def rebuild(self, images: Iterable[Image]) -> None:
        self.by_digest.clear()
        self.by_tag.clear()
        self.parents.clear()
        self.referrers.clear()
        self._layers = None
        previous = -1
        for image in images:
            self.add(image)
            meta = meta_of(image, self)
            # Page tokens bisect on seq, so it must grow along the list.
            if meta.seq <= previous:
                meta.seq = self.next_seq
                self.next_seq += 1
            previous = meta.seq
        self.dirty = False

    def layers(self) -> dict[str, set[str]]:
        """Layer digest -> digests of the images that hold it (built on demand, rarely needed)."""
        if self._layers is None:
            table: dict[str, set[str]] = {}
            for digest, image in self.by_digest.items():
                for layer, _size in meta_of(image).info.layers:
                    table.setdefault(layer, set()).add(digest)
            self._layers = table
        return self._layers


class ImageList(list[Image]):
    """``Repository.images`` replacement that tells the index about appends (and marks it stale on
    any other mutation, which moto's own code may still perform)."""

    emu_index: RepoIndex

    def append(self, image: Image) -> None:
        super().append(image)
        if self.emu_index.dirty:
            return
        self.emu_index.add(image)

    def _stale(self) -> None:
        self.emu_index.dirty = True

    def remove(self, image: Image) -> None:
        super().remove(image)
        self._stale()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._stale()

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._stale()

    def insert(self, i: Any, image: Image) -> None:
        super().insert(i, image)
        self._stale()

    def extend(self, images: Iterable[Image]) -> None:
        super().extend(images)
        self._stale()

    def pop(self, i: Any = -1) -> Image:
        value = super().pop(i)
        self._stale()
        return value

    def clear(self) -> None:
        super().clear()
        self._stale()


def index_of(repo: Repository) -> RepoIndex:
    images = repo.images
    if not isinstance(images, ImageList):
        fresh = ImageList(images)
        fresh.emu_index = RepoIndex()
        repo.images = fresh
        images = fresh
    index = images.emu_index
    if index.dirty:
        index.rebuild(images)
    return index


def meta_of(image: Image, index: RepoIndex | None = None) -> ImageMeta:
    meta: ImageMeta | None = getattr(image, "_emu_meta", None)
    if meta is None:
        # An image moto created itself (before the extension was installed): derive its state.
        info = manifests.inspect(image.image_manifest, image.image_manifest_media_type)
        seq = 0
        if index is not None:
            seq = index.next_seq
            index.next_seq += 1
        meta = ImageMeta(
            seq=seq,
            pushed_at=datetime.fromtimestamp(image.image_pushed_at, tz=UTC),
            info=info,
            size=info.size,
        )
        setattr(image, "_emu_meta", meta)  # noqa: B010 - moto's Image has no slot for it
    return meta


def status_of(image: Image) -> str:
    return meta_of(image).settle(STATE.clock.now())


def get_repository(backend: ECRBackend, name: str, registry_id: str | None = None) -> Repository:
    repo = backend.repositories.get(name)
    if repo is None or (registry_id and repo.registry_id != registry_id):
        raise RepositoryNotFoundException(name, registry_id or backend.account_id)
    return repo


def image_id_text(image_id: dict[str, str]) -> str:
    digest, tag = image_id.get("imageDigest") or "null", image_id.get("imageTag") or "null"
    return f"{{imageDigest:'{digest}', imageTag:'{tag}'}}"


def find_image(repo: Repository, image_id: dict[str, str]) -> Image:
    """Resolve an ``ImageIdentifier`` whatever the image's storage status."""
    tag, digest = image_id.get("imageTag"), image_id.get("imageDigest")
    if not tag and not digest:
        raise InvalidParameterException(
            "Invalid parameter at 'imageId' failed to satisfy constraint: "
            "'either imageTag or imageDigest is required'"
        )
    if digest and not manifests_digest_ok(digest):
        raise InvalidParameterException(
            f"Invalid parameter at 'imageDigest' failed to satisfy constraint: 'invalid digest {digest!r}'"
        )
    index = index_of(repo)
    image = index.by_digest.get(digest) if digest else index.by_tag.get(tag or "")
    if image is None or (tag and tag not in image.image_tags):
        raise ImageNotFoundException(
            image_id=image_id_text(image_id), repository_name=repo.name, registry_id=repo.registry_id
        )
    return image


def manifests_digest_ok(digest: str) -> bool:
    algo, sep, hexpart = digest.partition(":")
    return (
        bool(sep)
        and algo == "sha256"
        and len(hexpart) == 64
        and all(c in "0123456789abcdef" for c in hexpart)
    )


def ordered_images(repo: Repository, after_seq: int | None = None) -> Iterator[Image]:
    """Images in push order (the order every listing and page token uses), optionally only those
    pushed after ``after_seq``: a bisection, so deep pages cost O(log n) to reach."""
    index_of(repo)
    images = repo.images
    start = 0 if after_seq is None else bisect.bisect_right(images, after_seq, key=lambda i: meta_of(i).seq)
    return itertools.islice(images, start, None)


def push(
    backend: ECRBackend,
    repo: Repository,
    manifest_text: str,
    *,
    tags: Iterable[str] = (),
    media_type: str | None = None,
    digest: str | None = None,
    pushed_at: datetime | None = None,
    size_bytes: int | None = None,
    last_pulled_at: datetime | None = None,
) -> Image:
    """PutImage semantics: new manifest -> new image; an existing digest gains the tags (and is
    restored at once if archived, per AWS); a tag held by another image moves, leaving that image
    untagged (moto deletes it instead, which would hide untagged images from lifecycle rules)."""
    try:
        info = manifests.inspect(manifest_text, media_type)
    except ValueError as exc:
        raise InvalidParameterException(str(exc)) from exc
    computed = manifests.sha256_digest(manifest_text)
    if digest and digest != computed:
        raise ImageDigestDoesNotMatchException(
            "Invalid parameter at 'imageDigest' failed to satisfy constraint: "
            f"'Digest {digest} does not match the manifest digest {computed}'"
        )
    index = index_of(repo)
    now = STATE.clock.now()
    tags = [t for t in tags if t]
    existing = index.by_digest.get(computed)
    for tag in tags:
        holder = index.by_tag.get(tag)
        if holder is None:
            continue
        if holder is existing:
            if len(tags) == 1:
                raise ImageAlreadyExistsException(
                    registry_id=repo.registry_id, image_tag=tag, digest=computed, repository_name=repo.name
                )
            continue
        if repo.image_tag_mutability != RepoTagMutability.MUTABLE:
            # Reuse moto's exclusion-filter logic; it raises for immutable tags.
            backend._resolve_image_tag_mutability(repo, tag)
    if existing is not None:
        image = existing
        meta = meta_of(image)
        if meta.settle(now) != ACTIVE:
            # "When you push an image that is currently archived, that image will be immediately restored."
            meta.status, meta.restore_at, meta.last_activated_at = ACTIVE, None, now
    else:
        image = Image(
            backend.account_id,
            tags[0] if tags else None,  # type: ignore[arg-type]
            manifest_text,
            repo.name,
            info.media_type,
            computed,
            repo.registry_id,
        )
        image.image_tags = []
        when = pushed_at or now
        image.image_pushed_at = int(when.timestamp())
        new_meta = ImageMeta(
            seq=index.next_seq,
            pushed_at=when,
            info=info,
            size=size_bytes if size_bytes is not None else info.size,
            last_pulled_at=last_pulled_at,
        )
        setattr(image, "_emu_meta", new_meta)  # noqa: B010
        index.next_seq += 1
    for tag in tags:
        holder = index.by_tag.get(tag)
        if holder is not None and holder is not image:
            holder.remove_tag(tag)
            if not holder.image_tags:
                holder.image_tag = None  # type: ignore[assignment]  # as moto stores untagged images
        image.update_tag(tag)
        index.by_tag[tag] = image
    if existing is None:
        repo.images.append(image)
    return image


def delete_image(repo: Repository, image: Image) -> None:
    index = index_of(repo)
    for tag in list(image.image_tags):
        index.by_tag.pop(tag, None)
    repo.images.remove(image)


def untag(repo: Repository, image: Image, tag: str) -> None:
    index = index_of(repo)
    index.by_tag.pop(tag, None)
    image.remove_tag(tag)
    if not image.image_tags:
        image.image_tag = None  # type: ignore[assignment]


def active_parents(repo: Repository, digest: str) -> list[str]:
    """Manifest lists that reference ``digest`` and are not archived."""
    index = index_of(repo)
    result = []
    for parent in sorted(index.parents.get(digest, ())):
        image = index.by_digest.get(parent)
        if image is not None and status_of(image) != ARCHIVED:
            result.append(parent)
    return result
