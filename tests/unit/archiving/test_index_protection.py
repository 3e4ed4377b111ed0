"""Multi-arch indexes: decided before any child, children of an index that stays are never touched.

Every test checks that no archive call was refused (``registry.refused``): protection must never
rest on ECR refusing a call.
"""

from __future__ import annotations

from typing import Any

import pytest

from ecr_archiver.archiving.models import ManifestReads, ProtectedSet, WorkMessage, WorkPhase
from ecr_archiver.models import ImageStatus
from tests.unit.archiving.fakes import INDEX, Budget, FakeImage, FakeRegistry, digest
from tests.unit.archiving.test_worker import REPO, Harness, message

EXACT = ManifestReads.EXACT
CONSERVATIVE = ManifestReads.CONSERVATIVE


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry(REPO)


@pytest.fixture
def harness(registry: FakeRegistry) -> Harness:
    return Harness(registry)


def multi_arch(registry: FakeRegistry, index: int, tags: list[str], children: list[int], **kw: Any) -> None:
    """Children first (as a push does), then the index."""
    for child in children:
        if digest(child) in registry.images:
            parents = registry.images[digest(child)].parents()
            registry.images[digest(child)].listed_by = [*parents, digest(index)]
        else:
            registry.add(FakeImage(digest(child), listed_by=digest(index)))
    registry.add(FakeImage(digest(index), tags, media_type=INDEX, **kw))


def outcomes(harness: Harness) -> dict[str, tuple[str, str | None]]:
    return {r["digest"]: (r["outcome"], r.get("reason")) for r in harness.store.all_records()}


# -- exact mode ------------------------------------------------------------------------------
@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry-run"])
def test_children_of_an_index_protected_by_a_tag_pattern_are_never_archived(registry, harness, dry_run):
    # Given stable-2025, a protected multi-arch index with three untagged children
    multi_arch(registry, 10, ["stable-2025"], [1, 2, 3])
    # When the worker runs in exact mode
    result = harness.run(message(tag_patterns=["stable-*"], manifest_reads=EXACT, dry_run=dry_run))
    # Then the index is protected, and each child is skipped as its child, naming it
    got = outcomes(harness)
    assert got[digest(10)] == ("SKIPPED", "PROTECTED_TAG")
    assert {got[digest(n)] for n in (1, 2, 3)} == {("SKIPPED", "INDEX_CHILD")}
    (child,) = [r for r in harness.store.all_records() if r["digest"] == digest(1)]
    assert child["index"] == f"{digest(10)} (stable-2025)"
    assert registry.calls["UpdateImageStorageClass"] == 0
    assert result.totals.protected == {"PROTECTED_TAG": 1, "INDEX_CHILD": 3}


@pytest.mark.parametrize(
    ("protection", "index_kwargs"),
    [
        ({"protected": ProtectedSet(in_use_digests=[digest(10)])}, {}),
        ({"protected": ProtectedSet(in_use_tags=["v1"])}, {}),
        ({"protected": ProtectedSet(listed_digests=[digest(10)])}, {}),
        ({}, {"subject": digest(99)}),
        ({}, {"candidate": False}),
    ],
    ids=["in-use-digest", "in-use-tag", "listed", "referrer", "not-a-candidate"],
)
def test_an_index_kept_for_any_reason_keeps_its_children(registry, harness, protection, index_kwargs):
    multi_arch(registry, 10, ["v1"], [1, 2], **index_kwargs)
    harness.run(message(manifest_reads=EXACT, **protection))
    got = outcomes(harness)
    assert {got[digest(n)] for n in (1, 2)} == {("SKIPPED", "INDEX_CHILD")}
    assert registry.archived == []
    assert registry.refused == []


def test_children_of_an_unprotected_index_are_archived_after_it_in_one_run(registry, harness):
    # Given an unprotected index whose children the preview lists first
    multi_arch(registry, 10, ["v1"], [1, 2, 3])
    # When the worker runs
    result = harness.run(message(manifest_reads=EXACT))
    # Then the index is archived first, then its children, and ECR refused nothing
    assert registry.archived[0] == digest(10)
    assert sorted(registry.archived) == sorted(digest(n) for n in (1, 2, 3, 10))
    assert registry.refused == []
    assert result.totals.archived == 4


def test_a_child_shared_with_a_protected_index_follows_the_protected_one(registry, harness):
    multi_arch(registry, 10, ["v1"], [1, 2])
    multi_arch(registry, 11, ["latest"], [2, 3])
    harness.run(message(manifest_reads=EXACT))
    got = outcomes(harness)
    assert got[digest(2)] == ("SKIPPED", "INDEX_CHILD")
    assert got[digest(3)] == ("SKIPPED", "INDEX_CHILD")
    assert sorted(registry.archived) == [digest(1), digest(10)]
    assert registry.refused == []


def test_exact_mode_reads_only_index_manifests(registry, harness):
    multi_arch(registry, 10, ["v1"], [1, 2])
    registry.add(FakeImage(digest(5), ["solo"]))
    harness.run(message(manifest_reads=EXACT))
    assert registry.pulled == [digest(10)]
    assert registry.calls["BatchGetImage"] == 1


def test_an_index_whose_manifest_cannot_be_read_makes_the_repository_conservative(registry, harness):
    # Given an index being restored (ECR serves no manifest while ACTIVATING)
    multi_arch(registry, 10, ["v1"], [1])
    registry.images[digest(10)].status = ImageStatus.ACTIVATING
    registry.add(FakeImage(digest(5), ["solo"]))
    harness.run(message(manifest_reads=EXACT))
    got = outcomes(harness)
    assert got[digest(1)] == ("SKIPPED", "POSSIBLE_INDEX_CHILD")
    assert got[digest(5)] == ("SKIPPED", "POSSIBLE_INDEX_CHILD")
    assert registry.archived == []


# -- conservative mode -----------------------------------------------------------------------
def test_conservative_mode_keeps_every_single_platform_image_while_an_index_stays(registry, harness):
    # Given a protected index, and unrelated images, tagged and untagged
    multi_arch(registry, 10, ["latest"], [1])
    registry.add(FakeImage(digest(5), ["v5"]))
    registry.add(FakeImage(digest(6)))
    # When the worker runs without reading manifests
    harness.run(message(manifest_reads=CONSERVATIVE))
    # Then nothing that could be a child is archived, and no manifest was read
    got = outcomes(harness)
    assert {got[digest(n)] for n in (1, 5, 6)} == {("SKIPPED", "POSSIBLE_INDEX_CHILD")}
    assert registry.archived == []
    assert registry.calls["BatchGetImage"] == 0


def test_conservative_mode_archives_everything_once_every_index_is_archived_first(registry, harness):
    multi_arch(registry, 10, ["v1"], [1, 2])
    registry.add(FakeImage(digest(5), ["v5"]))
    harness.run(message(manifest_reads=CONSERVATIVE))
    assert registry.archived[0] == digest(10)
    assert len(registry.archived) == 4
    assert registry.refused == []


# -- resumability and limits -----------------------------------------------------------------
def test_an_indexes_phase_cut_short_continues_where_it_stopped(registry, harness):
    # Given three unprotected indexes and a budget that ends after the first archive call
    for n in range(3):
        multi_arch(registry, 10 + n, [f"v{n}"], [n])
    budget = Budget(remaining_ms=3000, per_call_ms=1000)
    result = harness.run(message(manifest_reads=EXACT), budget=budget)
    assert result.status == "CONTINUED"
    (body,) = harness.queue.bodies()
    assert body["cursor"]["phase"] == WorkPhase.INDEXES
    # When the continuation runs with time to spare
    follow_up = WorkMessage.model_validate(body)
    final = harness.run(follow_up)
    # Then every index and child is archived exactly once, children after their index
    assert final.status == "COMPLETE"
    assert sorted(registry.archived) == sorted(digest(n) for n in (0, 1, 2, 10, 11, 12))
    assert len(harness.store.all_records()) == 6
    assert registry.refused == []


def test_a_dry_run_continuation_reuses_the_runs_index_decisions(registry, harness):
    multi_arch(registry, 10, ["v1"], [1])
    harness.run(
        message(manifest_reads=EXACT, dry_run=True), budget=Budget(remaining_ms=2500, per_call_ms=1000)
    )
    (body,) = harness.queue.bodies()
    assert body["cursor"]["phase"] == WorkPhase.IMAGES  # the index was decided by the first invocation
    harness.run(WorkMessage.model_validate(body))
    assert sorted(outcomes(harness).values()) == [("WOULD_ARCHIVE", None)] * 2


def test_the_per_run_cap_reached_among_indexes_archives_none_of_their_children(registry, harness):
    multi_arch(registry, 10, ["v1"], [1])
    multi_arch(registry, 11, ["v2"], [2])
    result = harness.run(message(manifest_reads=EXACT, max_images=1))
    assert result.capped is True
    assert registry.archived == [digest(10)]


def test_a_refusal_on_an_inconsistent_registry_is_reported_failed_with_ecrs_reason(registry, harness):
    # Given an index pushed after the run listed the repository (so the run cannot know it)
    registry.add(FakeImage(digest(1), ["v1"], listed_by=digest(10)))
    registry.add(FakeImage(digest(10), ["v2"], media_type=INDEX, candidate=False))
    listing = registry.describe_images
    registry.describe_images = lambda repo, **kw: (d for d in listing(repo, **kw) if d.digest != digest(10))  # type: ignore[method-assign]
    # When the worker archives the child and ECR refuses
    result = harness.run(message(manifest_reads=EXACT))
    # Then the refusal is a failure with ECR's reason, not a silent skip
    assert outcomes(harness)[digest(1)] == ("FAILED", "ImageStorageClassUpdateNotSupportedException")
    assert result.totals.failed == 1
