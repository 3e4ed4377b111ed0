"""Which images belong to a multi-arch index, and which indexes stay ACTIVE in a run.

A run decides every index first (they are handled before any other image), then an image that an
ACTIVE index references is never archived: pulling the index would fail. In ``exact`` mode the
index manifests are read (BatchGetImage by an excluded principal), so each child is known; in
``conservative`` mode they are not, and while any live index stays ACTIVE no single-platform image
of the repository is archived. The map is computed once per run and repository and stored with
the run's report, so continuations and the dry run decide on exactly the same data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from ecr_archiver.archiving.models import ManifestReads, SkipReason, _Wire
from ecr_archiver.models import ImageDetail, ImageStatus

INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)


def is_index_type(media_type: str | None) -> bool:
    return (media_type or "") in INDEX_MEDIA_TYPES


def index_children(manifest_text: str) -> list[str] | None:
    """The digests an index manifest references; ``None`` when the text is not an index."""
    try:
        document = json.loads(manifest_text)
    except ValueError:
        return None
    entries = document.get("manifests") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return None
    return [str(e["digest"]) for e in entries if isinstance(e, dict) and isinstance(e.get("digest"), str)]


class IndexEntry(_Wire):
    tags: list[str] = []
    #: ``None``: the manifest could not be read (conservative mode, or the read failed).
    children: list[str] | None = None


class IndexMap(_Wire):
    """Every live (not ARCHIVED) index of one repository, and what the run did with them."""

    mode: ManifestReads
    indexes: dict[str, IndexEntry] = {}
    #: True once every index was handled (phase INDEXES finished).
    indexes_done: bool = False
    #: Indexes this run archived (or, in a dry run, would archive): no longer holding children.
    gone: list[str] = []

    def digests(self) -> list[str]:
        return sorted(self.indexes)


def live_indexes(details: Iterable[ImageDetail]) -> dict[str, ImageDetail]:
    """Indexes that still hold their children: ACTIVE, or ACTIVATING (being restored)."""
    return {
        d.digest: d
        for d in details
        if is_index_type(d.manifest_media_type) and d.status is not ImageStatus.ARCHIVED
    }


def build_index_map(
    indexes: Mapping[str, ImageDetail], manifests: Mapping[str, str], mode: ManifestReads
) -> IndexMap:
    """``manifests``: digest → manifest text for the indexes that were read (exact mode)."""
    entries = {
        digest: IndexEntry(
            tags=sorted(detail.tags),
            children=index_children(manifests[digest]) if digest in manifests else None,
        )
        for digest, detail in indexes.items()
    }
    return IndexMap(mode=mode, indexes=entries)


def describe_index(digest: str, entry: IndexEntry | None) -> str:
    tags = ",".join(entry.tags) if entry and entry.tags else "untagged"
    return f"{digest} ({tags})"


class IndexRule:
    """The index half of the guard: which images an ACTIVE index keeps ACTIVE."""

    def __init__(self, index_map: IndexMap, *, gone: Iterable[str]) -> None:
        """``gone``: indexes archived by this run. While indexes are being handled it is empty, so
        an index another live index references stays ACTIVE whatever order they come in."""
        self._map = index_map
        self._gone = frozenset(gone)
        self._parents: dict[str, list[str]] = {}
        for digest in index_map.digests():
            for child in index_map.indexes[digest].children or ():
                self._parents.setdefault(child, []).append(digest)

    def is_index(self, digest: str) -> bool:
        return digest in self._map.indexes

    def staying(self) -> list[str]:
        """Live indexes this run leaves ACTIVE."""
        return [d for d in self._map.digests() if d not in self._gone]

    def check(self, digest: str) -> tuple[SkipReason, str] | None:
        """Why an index keeps ``digest`` ACTIVE, with the index named; ``None`` when none does.

        A manifest shared by several indexes follows the most protective: one that stays is enough.
        """
        for parent in self._parents.get(digest, ()):
            if parent not in self._gone:
                return SkipReason.INDEX_CHILD, describe_index(parent, self._map.indexes[parent])
        if self.is_index(digest):
            return None  # an index's own fate is decided before any child is handled
        for staying in self.staying():
            if self._map.indexes[staying].children is None:
                return SkipReason.POSSIBLE_INDEX_CHILD, describe_index(staying, self._map.indexes[staying])
        return None
