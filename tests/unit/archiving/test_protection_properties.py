"""Properties over random registries: dry run ≡ real run, and nothing protected is ever archived.

Each example is a repository mixing single-platform images, multi-arch indexes (children shared
between indexes, some tagged), referrers, tags matching the protected patterns, images in use and
images listed explicitly. The same registry is worked twice, once as a dry run and once for real,
in each manifest-read mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_archiver.archiving.models import ManifestReads, ProtectedSet
from ecr_archiver.models import ImageStatus
from tests.unit.archiving.fakes import INDEX, FakeImage, FakeRegistry, digest
from tests.unit.archiving.test_worker import REPO, Harness, message

TAGS = ("latest", "stable-2025", "prod-1", "v1", "v2", "v3", "feature-x")
PATTERNS = ["latest", "stable-*", "prod-*"]


@dataclass(frozen=True)
class Spec:
    kinds: tuple[str, ...]  # "image" | "index" | "referrer"
    children: tuple[frozenset[int], ...]  # per index position: positions of its children
    subjects: tuple[int, ...]  # per position: subject position for referrers
    tag_owner: tuple[int | None, ...]  # per TAGS entry: the position holding it
    candidate: tuple[bool, ...]
    archived: tuple[bool, ...]
    in_use: frozenset[int]
    in_use_tags: frozenset[str]
    listed: frozenset[int]
    max_images: int

    def registry(self) -> FakeRegistry:
        registry = FakeRegistry(REPO)
        parents: dict[int, list[str]] = {}
        for position, kids in enumerate(self.children):
            for kid in kids:
                parents.setdefault(kid, []).append(digest(position))
        for position, kind in enumerate(self.kinds):
            tags = [t for t, owner in zip(TAGS, self.tag_owner, strict=True) if owner == position]
            registry.add(
                FakeImage(
                    digest(position),
                    tags,
                    media_type=INDEX if kind == "index" else "application/vnd.oci.image.manifest.v1+json",
                    subject=digest(self.subjects[position]) if kind == "referrer" else None,
                    candidate=self.candidate[position],
                    status=ImageStatus.ARCHIVED if self.archived[position] else ImageStatus.ACTIVE,
                    listed_by=parents.get(position),
                )
            )
        return registry

    def protected(self) -> ProtectedSet:
        return ProtectedSet(
            in_use_digests=sorted(digest(p) for p in self.in_use),
            in_use_tags=sorted(self.in_use_tags),
            listed_digests=sorted(digest(p) for p in self.listed),
        )


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    size = draw(st.integers(min_value=1, max_value=10))
    kinds = tuple(
        draw(st.lists(st.sampled_from(["image", "image", "index", "referrer"]), min_size=size, max_size=size))
    )
    plain = [p for p, k in enumerate(kinds) if k != "index"]
    children = tuple(
        frozenset(draw(st.sets(st.sampled_from(plain)))) if kinds[p] == "index" and plain else frozenset()
        for p in range(size)
    )
    positions = st.integers(min_value=0, max_value=size - 1)
    flags = st.lists(st.booleans(), min_size=size, max_size=size)
    # An archived index's children stay as they were; keep archived images out of live indexes.
    archived = list(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    for p, kids in enumerate(children):
        if kids and not archived[p]:
            for kid in kids:
                archived[kid] = False
    return Spec(
        kinds=kinds,
        children=children,
        subjects=tuple(draw(st.lists(positions, min_size=size, max_size=size))),
        tag_owner=tuple(
            draw(st.lists(st.one_of(st.none(), positions), min_size=len(TAGS), max_size=len(TAGS)))
        ),
        candidate=tuple(draw(flags)),
        archived=tuple(archived),
        in_use=frozenset(draw(st.sets(positions, max_size=3))),
        in_use_tags=frozenset(draw(st.sets(st.sampled_from(TAGS), max_size=2))),
        listed=frozenset(draw(st.sets(positions, max_size=2))),
        max_images=draw(st.integers(min_value=1, max_value=12)),
    )


def work(spec: Spec, mode: ManifestReads, *, dry_run: bool) -> tuple[FakeRegistry, dict[str, str]]:
    registry = spec.registry()
    harness = Harness(registry)
    harness.run(
        message(
            dry_run=dry_run,
            manifest_reads=mode,
            tag_patterns=PATTERNS,
            protected=spec.protected(),
            max_images=spec.max_images,
        )
    )
    return registry, {r["digest"]: r["outcome"] for r in harness.store.all_records()}


def own_protection(spec: Spec, position: int) -> bool:
    tags = [t for t, owner in zip(TAGS, spec.tag_owner, strict=True) if owner == position]
    return (
        position in spec.in_use
        or position in spec.listed
        or spec.kinds[position] == "referrer"
        or any(t in spec.in_use_tags for t in tags)
        or any(fnmatchcase(t, p) for t in tags for p in PATTERNS)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), mode=st.sampled_from(list(ManifestReads)))
def test_a_dry_run_would_archive_exactly_what_the_real_run_archives(spec: Spec, mode: ManifestReads) -> None:
    _, planned = work(spec, mode, dry_run=True)
    registry, done = work(spec, mode, dry_run=False)
    would = {d for d, outcome in planned.items() if outcome == "WOULD_ARCHIVE"}
    archived = {d for d, outcome in done.items() if outcome == "ARCHIVED"}
    assert would == archived
    assert registry.refused == []  # no call ever relied on ECR refusing it


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), mode=st.sampled_from(list(ManifestReads)))
def test_nothing_protected_and_no_child_of_an_active_index_is_ever_archived(
    spec: Spec, mode: ManifestReads
) -> None:
    registry, _ = work(spec, mode, dry_run=False)
    for position in range(len(spec.kinds)):
        image = registry.images[digest(position)]
        if own_protection(spec, position):
            assert digest(position) not in registry.archived
        if spec.kinds[position] == "index" and image.status is not ImageStatus.ARCHIVED:
            for kid in spec.children[position]:
                assert digest(kid) not in registry.archived, f"child {kid} of ACTIVE index {position}"
