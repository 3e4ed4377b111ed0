"""Lifecycle evaluation as AWS documents it ("Lifecycle policy evaluation rules"), one rule per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_emulator.lifecycle_eval import EvalImage, PreviewResult, evaluate
from ecr_emulator.lifecycle_policy import Policy as LifecyclePolicy
from ecr_emulator.lifecycle_policy import policy_from_document as parse_lifecycle_policy
from tests.unit.lifecycle import aws_examples

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


# --- builders ------------------------------------------------------------------------------------


def days_ago(days: float | None) -> datetime | None:
    return None if days is None else NOW - timedelta(days=days)


def an_image(
    name: str,
    *tags: str,
    pushed: float = 1,
    pulled: float | None = None,
    activated: float | None = None,
    archived: float | None = None,
    storage_class: str = "STANDARD",
    parents: tuple[str, ...] = (),
    subject: str | None = None,
) -> EvalImage:
    """An image named ``name`` (its digest is ``sha256:<name>``); times are days before NOW."""
    pushed_at = days_ago(pushed)
    assert pushed_at is not None
    return EvalImage(
        digest=f"sha256:{name}",
        tags=tags,
        pushed_at=pushed_at,
        last_pulled_at=days_ago(pulled),
        last_activated_at=days_ago(activated),
        last_archived_at=days_ago(archived),
        storage_class=storage_class,
        parent_digests=frozenset(f"sha256:{parent}" for parent in parents),
        subject_digest=None if subject is None else f"sha256:{subject}",
    )


def an_archived_image(name: str, *tags: str, archived: float, pushed: float = 500) -> EvalImage:
    return an_image(name, *tags, pushed=pushed, archived=archived, storage_class="ARCHIVE")


def a_rule(
    priority: int,
    count_type: str,
    count_number: int,
    *,
    action: str = "transition",
    tag_status: str = "any",
    prefixes: list[str] | None = None,
    patterns: list[str] | None = None,
) -> dict[str, Any]:
    selection: dict[str, Any] = {
        "tagStatus": tag_status,
        "countType": count_type,
        "countNumber": count_number,
    }
    if count_type != "imageCountMoreThan":
        selection["countUnit"] = "days"
    if count_type == "sinceImageTransitioned":
        selection["storageClass"] = "archive"
    if prefixes is not None:
        selection["tagStatus"], selection["tagPrefixList"] = "tagged", prefixes
    if patterns is not None:
        selection["tagStatus"], selection["tagPatternList"] = "tagged", patterns
    rule_action = {"type": action, **({"targetStorageClass": "archive"} if action == "transition" else {})}
    return {"rulePriority": priority, "selection": selection, "action": rule_action}


def a_policy(*rules: dict[str, Any]) -> LifecyclePolicy:
    return parse_lifecycle_policy({"rules": list(rules)})


def selected(results: list[PreviewResult]) -> dict[str, tuple[str, int]]:
    """name -> (action, rule priority) for every image the preview acts on."""
    return {r.digest.removeprefix("sha256:"): (r.action_type, r.applied_rule_priority) for r in results}


def names(results: list[PreviewResult]) -> set[str]:
    return set(selected(results))


# --- AWS's documented example policies -----------------------------------------------------------


def test_aws_example_archive_after_30_days_then_expire_after_365_days_in_archive() -> None:
    # Given AWS's combined policy and a repository with images at every stage
    policy = parse_lifecycle_policy(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)
    images = [
        an_image("fresh", "v3", pushed=10),
        an_image("stale", "v2", pushed=40),
        an_image("stale-untagged", pushed=31),
        an_archived_image("archived-recently", "v1", archived=100),
        an_archived_image("archived-long-ago", "v0", archived=400),
        an_image("restoring", "v-1", pushed=900, archived=800, storage_class="ACTIVATING"),
    ]

    # When the preview runs
    results = evaluate(policy, images, NOW)

    # Then old standard images are archived by rule 1 and long-archived ones expired by rule 2
    assert selected(results) == {
        "stale": ("TRANSITION", 1),
        "stale-untagged": ("TRANSITION", 1),
        "archived-long-ago": ("EXPIRE", 2),
    }
    expired = next(r for r in results if r.action_type == "EXPIRE")
    assert (expired.storage_class, expired.target_storage_class) == ("ARCHIVE", None)
    archived = next(r for r in results if r.digest == "sha256:stale")
    assert (archived.storage_class, archived.target_storage_class) == ("STANDARD", "ARCHIVE")


def test_aws_example_archive_images_not_pulled_in_90_days() -> None:
    policy = parse_lifecycle_policy(aws_examples.ARCHIVE_NOT_PULLED_90_DAYS)
    images = [
        an_image("pulled-recently", "a", pushed=400, pulled=10),
        an_image("pulled-long-ago", "b", pushed=400, pulled=100),
        an_image("never-pulled-old", "c", pushed=100),
        an_image("never-pulled-new", "d", pushed=30),
        an_image("restored-not-pulled-since", "e", pushed=400, pulled=300, activated=5, archived=200),
    ]

    results = evaluate(policy, images, NOW)

    assert selected(results) == {"pulled-long-ago": ("TRANSITION", 1), "never-pulled-old": ("TRANSITION", 1)}


def test_aws_example_archive_prod_images_older_than_30_days() -> None:
    policy = parse_lifecycle_policy(aws_examples.ARCHIVE_PROD_OLDER_THAN_30_DAYS)
    images = [
        an_image("prod-old", "prod-1.0", pushed=40),
        an_image("production-old", "v1", "production", pushed=40),
        an_image("prod-new", "prod-2.0", pushed=10),
        an_image("dev-old", "dev-1.0", pushed=40),
        an_image("preprod-old", "preprod-1.0", pushed=40),
        an_image("untagged-old", pushed=40),
    ]

    results = evaluate(policy, images, NOW)

    assert selected(results) == {"prod-old": ("TRANSITION", 1), "production-old": ("TRANSITION", 1)}


# --- count types ---------------------------------------------------------------------------------


def test_since_image_pushed_selects_images_older_than_the_count() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [
        an_image("old", pushed=30.01),
        an_image("exactly-30-days", pushed=30),
        an_image("new", pushed=29),
    ]

    assert names(evaluate(policy, images, NOW)) == {"old"}


def test_since_image_pushed_counts_a_restored_image_from_its_restore() -> None:
    # Given an image pushed long ago but restored from archive 5 days ago
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [an_image("restored", pushed=400, archived=300, activated=5)]

    # Then it is not re-archived: AWS uses last_activated_at instead of pushed_at_time
    assert evaluate(policy, images, NOW) == []


def test_since_image_pulled_selects_images_whose_last_pull_is_older_than_the_count() -> None:
    policy = a_policy(a_rule(1, "sinceImagePulled", 90))
    images = [an_image("idle", pushed=300, pulled=91), an_image("busy", pushed=300, pulled=89)]

    assert names(evaluate(policy, images, NOW)) == {"idle"}


def test_since_image_pulled_falls_back_to_push_time_when_never_pulled() -> None:
    policy = a_policy(a_rule(1, "sinceImagePulled", 90))
    images = [an_image("old-never-pulled", pushed=91), an_image("new-never-pulled", pushed=89)]

    assert names(evaluate(policy, images, NOW)) == {"old-never-pulled"}


def test_since_image_pulled_uses_restore_time_when_not_pulled_since_restore() -> None:
    policy = a_policy(a_rule(1, "sinceImagePulled", 90))
    images = [an_image("restored", pushed=400, pulled=200, archived=150, activated=10)]

    assert evaluate(policy, images, NOW) == []


def test_since_image_pulled_uses_a_pull_after_the_restore() -> None:
    # Given an image restored 200 days ago and last pulled 100 days ago
    policy = a_policy(a_rule(1, "sinceImagePulled", 90))
    images = [an_image("restored-then-pulled", pushed=400, archived=300, activated=200, pulled=100)]

    assert names(evaluate(policy, images, NOW)) == {"restored-then-pulled"}


def test_since_image_transitioned_expires_images_archived_longer_than_the_count() -> None:
    policy = a_policy(a_rule(1, "sinceImageTransitioned", 90, action="expire"))
    images = [an_archived_image("long", archived=91), an_archived_image("short", archived=89)]

    assert selected(evaluate(policy, images, NOW)) == {"long": ("EXPIRE", 1)}


def test_since_image_transitioned_ignores_standard_images() -> None:
    # Given a standard image that was archived once and restored since
    policy = a_policy(a_rule(1, "sinceImageTransitioned", 90, action="expire"))
    images = [an_image("restored", pushed=900, archived=500, activated=400)]

    assert evaluate(policy, images, NOW) == []


def test_since_image_transitioned_skips_an_archived_image_with_no_archive_time() -> None:
    policy = a_policy(a_rule(1, "sinceImageTransitioned", 90, action="expire"))
    images = [an_image("unknown-age", pushed=900, storage_class="ARCHIVE")]

    assert evaluate(policy, images, NOW) == []


def test_image_count_more_than_keeps_the_youngest_and_marks_the_rest() -> None:
    policy = a_policy(a_rule(1, "imageCountMoreThan", 2, action="expire"))
    images = [an_image(f"age-{age}", pushed=age) for age in (5, 1, 4, 2, 3)]

    assert names(evaluate(policy, images, NOW)) == {"age-3", "age-4", "age-5"}


def test_image_count_more_than_ranks_a_restored_image_by_its_restore() -> None:
    policy = a_policy(a_rule(1, "imageCountMoreThan", 1))
    images = [an_image("newer-push", pushed=10), an_image("restored", pushed=400, archived=300, activated=1)]

    assert names(evaluate(policy, images, NOW)) == {"newer-push"}


def test_image_count_more_than_selects_nothing_at_or_under_the_count() -> None:
    policy = a_policy(a_rule(1, "imageCountMoreThan", 3))
    images = [an_image(f"i{n}", pushed=100 + n) for n in range(3)]

    assert evaluate(policy, images, NOW) == []


def test_image_count_more_than_counts_only_the_rule_storage_class() -> None:
    # Given one standard image and many archived ones
    policy = a_policy(a_rule(1, "imageCountMoreThan", 1))
    images = [an_image("only-standard", pushed=100)] + [
        an_archived_image(f"a{n}", archived=10) for n in range(5)
    ]

    assert evaluate(policy, images, NOW) == []


# --- tag requirements ----------------------------------------------------------------------------


def test_untagged_selects_only_images_without_tags() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 1, tag_status="untagged"))
    images = [an_image("untagged", pushed=10), an_image("tagged", "v1", pushed=10)]

    assert names(evaluate(policy, images, NOW)) == {"untagged"}


def test_any_selects_tagged_and_untagged_images() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 1))
    images = [an_image("untagged", pushed=10), an_image("tagged", "v1", pushed=10)]

    assert names(evaluate(policy, images, NOW)) == {"untagged", "tagged"}


def test_every_prefix_must_match_some_tag() -> None:
    # Given AWS's multi-prefix rule ["alpha", "beta"]
    policy = a_policy(a_rule(1, "sinceImagePushed", 1, prefixes=["alpha", "beta"]))
    images = [
        an_image("both", "alpha1", "beta1", pushed=10),
        an_image("one-tag-both", "alphabeta", pushed=10),
        an_image("alpha-only", "alpha1", pushed=10),
        an_image("untagged", pushed=10),
    ]

    assert names(evaluate(policy, images, NOW)) == {"both"}


def test_every_pattern_must_match_some_tag() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 1, patterns=["prod*", "*-arm64"]))
    images = [
        an_image("both", "prod-1", "v1-arm64", pushed=10),
        an_image("one-tag-both", "prod-1-arm64", pushed=10),
        an_image("prod-only", "prod-1", pushed=10),
    ]

    assert names(evaluate(policy, images, NOW)) == {"both", "one-tag-both"}


def test_a_pattern_matches_the_whole_tag_and_only_star_is_special() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 1, patterns=["v?.*.[0-9]"]))
    images = [
        an_image("literal", "v?.12.[0-9]", pushed=10),
        an_image("not-glob-question-mark", "v1.12.[0-9]", pushed=10),
        an_image("not-glob-class", "v?.12.7", pushed=10),
        an_image("trailing-text", "v?.12.[0-9]-rc", pushed=10),
    ]

    assert names(evaluate(policy, images, NOW)) == {"literal"}


def test_a_star_matches_an_empty_run() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 1, patterns=["*release*"]))
    images = [an_image("bare", "release", pushed=10), an_image("other", "relea", pushed=10)]

    assert names(evaluate(policy, images, NOW)) == {"bare"}


# --- priorities and protection -------------------------------------------------------------------


def test_an_image_matching_a_higher_rule_tags_is_protected_from_lower_rules() -> None:
    # Given rule 1 keeps prod images for 365 days and rule 2 archives anything after 30
    policy = a_policy(
        a_rule(1, "sinceImagePushed", 365, prefixes=["prod"]),
        a_rule(2, "sinceImagePushed", 30),
    )
    images = [an_image("prod-100-days", "prod-1", pushed=100), an_image("dev-100-days", "dev-1", pushed=100)]

    # Then the prod image is governed by rule 1 alone and is not archived yet
    assert selected(evaluate(policy, images, NOW)) == {"dev-100-days": ("TRANSITION", 2)}


def test_an_image_is_acted_on_by_the_highest_priority_rule_only() -> None:
    policy = a_policy(
        a_rule(5, "sinceImagePushed", 10, prefixes=["v"]),
        a_rule(9, "sinceImagePushed", 20),
    )
    images = [an_image("old", "v1", pushed=100)]

    results = evaluate(policy, images, NOW)

    assert [r.applied_rule_priority for r in results] == [5]


def test_rules_apply_in_priority_order_not_document_order() -> None:
    policy = a_policy(
        a_rule(20, "sinceImagePushed", 30),
        a_rule(3, "sinceImagePushed", 365, patterns=["keep-*"]),
    )
    images = [an_image("kept", "keep-me", pushed=100)]

    assert evaluate(policy, images, NOW) == []


def test_aws_multiple_rules_example_overlapping_tags_keep_the_newest() -> None:
    # Given AWS's "Filtering on multiple rules" example: keep one prod and one beta image
    policy = a_policy(
        a_rule(1, "imageCountMoreThan", 1, action="expire", prefixes=["prod"]),
        a_rule(2, "imageCountMoreThan", 1, action="expire", prefixes=["beta"]),
    )
    images = [
        an_image("A", "beta-1", "prod-1", pushed=10),
        an_image("B", "beta-2", "prod-2", pushed=9),
        an_image("C", "beta-3", pushed=8),
    ]

    # Then rule 2 counts A and B as if unexpired (so C is its one kept image), but B is protected
    # by rule 1's tag requirements: only A is expired
    assert selected(evaluate(policy, images, NOW)) == {"A": ("EXPIRE", 1)}


def test_image_count_ranks_images_a_higher_rule_governs_as_if_they_stayed() -> None:
    # Given rule 1 governs the prod images and rule 2 keeps the two newest images of any kind
    policy = a_policy(
        a_rule(1, "sinceImagePushed", 365, prefixes=["prod"]),
        a_rule(2, "imageCountMoreThan", 2),
    )
    images = [
        an_image("prod-new", "prod-2", pushed=1),
        an_image("prod-newer", "prod-3", pushed=0.5),
        an_image("dev-old", "dev-1", pushed=100),
    ]

    # Then rule 2 still counts the prod images ("can still identify them"), so dev-old is third
    assert selected(evaluate(policy, images, NOW)) == {"dev-old": ("TRANSITION", 2)}


def test_aws_multiple_rules_example_all_images_share_both_tags() -> None:
    policy = a_policy(
        a_rule(1, "imageCountMoreThan", 1, action="expire", prefixes=["prod"]),
        a_rule(2, "imageCountMoreThan", 1, action="expire", prefixes=["beta"]),
    )
    images = [
        an_image("A", "beta-1", "prod-1", pushed=10),
        an_image("B", "beta-2", "prod-2", pushed=9),
        an_image("C", "beta-3", "prod-3", pushed=8),
    ]

    assert selected(evaluate(policy, images, NOW)) == {"A": ("EXPIRE", 1), "B": ("EXPIRE", 1)}


def test_expire_and_transition_rules_act_on_their_own_storage_class() -> None:
    # Given a standard `any` rule with a higher priority than the archive `any` rule
    policy = parse_lifecycle_policy(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)
    images = [an_archived_image("archived", archived=400, pushed=401)]

    # Then rule 1 (standard) does not shield the archived image from rule 2
    assert selected(evaluate(policy, images, NOW)) == {"archived": ("EXPIRE", 2)}


# --- storage classes -----------------------------------------------------------------------------


def test_standard_rules_do_not_select_archived_images() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30, action="expire"))
    images = [an_archived_image("archived", archived=100, pushed=400)]

    assert evaluate(policy, images, NOW) == []


def test_activating_images_are_selected_by_no_rule() -> None:
    policy = parse_lifecycle_policy(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)
    images = [an_image("restoring", pushed=900, archived=800, storage_class="ACTIVATING")]

    assert evaluate(policy, images, NOW) == []


def test_activating_images_do_not_count_towards_image_count() -> None:
    policy = a_policy(a_rule(1, "imageCountMoreThan", 1))
    images = [
        an_image("restoring", pushed=900, storage_class="ACTIVATING"),
        an_image("only-active", pushed=1000),
    ]

    assert evaluate(policy, images, NOW) == []


# --- manifest lists and referrers ----------------------------------------------------------------


def test_a_child_of_an_unselected_manifest_list_is_not_selected() -> None:
    # Given an old child referenced by a recent index
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [an_image("index", "v1", pushed=5), an_image("child-amd64", pushed=100, parents=("index",))]

    assert evaluate(policy, images, NOW) == []


def test_children_are_selected_with_their_manifest_list() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [
        an_image("index", "v1", pushed=100),
        an_image("child-amd64", pushed=100, parents=("index",)),
        an_image("child-arm64", pushed=100, parents=("index",)),
    ]

    assert names(evaluate(policy, images, NOW)) == {"index", "child-amd64", "child-arm64"}


def test_a_child_of_an_archived_manifest_list_is_selectable() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [
        an_archived_image("index", "v1", archived=10),
        an_image("child", pushed=100, parents=("index",)),
    ]

    assert names(evaluate(policy, images, NOW)) == {"child"}


def test_a_child_shared_by_two_lists_needs_both_selected() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [
        an_image("old-index", "v1", pushed=100),
        an_image("new-index", "v2", pushed=5),
        an_image("shared-child", pushed=100, parents=("old-index", "new-index")),
    ]

    assert names(evaluate(policy, images, NOW)) == {"old-index"}


def test_a_child_of_a_list_missing_from_the_repository_is_not_selected() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [an_image("child", pushed=100, parents=("vanished-index",))]

    assert evaluate(policy, images, NOW) == []


def test_a_nested_child_follows_its_outermost_list() -> None:
    # Given index -> inner index -> child, where only the outer index is recent
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [
        an_image("outer", "v1", pushed=5),
        an_image("inner", pushed=100, parents=("outer",)),
        an_image("leaf", pushed=100, parents=("inner",)),
    ]

    assert evaluate(policy, images, NOW) == []


def test_a_reference_cycle_blocks_both_images() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [an_image("x", pushed=100, parents=("y",)), an_image("y", pushed=100, parents=("x",))]

    assert evaluate(policy, images, NOW) == []


def test_deeply_nested_lists_are_resolved_without_recursion() -> None:
    # Given a chain of 5,000 nested indexes under one old, selected outer index
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [an_image("n0", "v1", pushed=100)]
    images += [an_image(f"n{n}", pushed=100, parents=(f"n{n - 1}",)) for n in range(1, 5_000)]

    assert len(evaluate(policy, list(reversed(images)), NOW)) == 5_000


def test_a_child_of_a_list_protected_by_a_higher_rule_is_not_selected() -> None:
    policy = a_policy(
        a_rule(1, "sinceImagePushed", 365, prefixes=["release"]),
        a_rule(2, "sinceImagePushed", 30),
    )
    images = [an_image("index", "release-1", pushed=100), an_image("child", pushed=100, parents=("index",))]

    assert evaluate(policy, images, NOW) == []


def test_referrers_are_listed_like_any_other_image() -> None:
    policy = a_policy(a_rule(1, "sinceImagePushed", 30))
    images = [an_image("subject", "v1", pushed=100), an_image("signature", pushed=100, subject="subject")]

    assert names(evaluate(policy, images, NOW)) == {"subject", "signature"}


# --- result shape --------------------------------------------------------------------------------


def test_a_result_carries_the_image_and_the_action() -> None:
    policy = a_policy(a_rule(7, "sinceImagePushed", 30))
    image = an_image("old", "v1", "latest", pushed=40)

    assert evaluate(policy, [image], NOW) == [
        PreviewResult(
            digest="sha256:old",
            tags=("v1", "latest"),
            pushed_at=image.pushed_at,
            action_type="TRANSITION",
            target_storage_class="ARCHIVE",
            applied_rule_priority=7,
            storage_class="STANDARD",
        )
    ]


def test_results_do_not_depend_on_the_order_of_the_images() -> None:
    policy = parse_lifecycle_policy(aws_examples.COMBINED_ARCHIVE_THEN_EXPIRE)
    images = [an_image(f"s{n}", pushed=30 + n) for n in range(1, 6)]
    images += [an_archived_image(f"a{n}", archived=360 + 3 * n) for n in range(5)]

    assert evaluate(policy, images, NOW) == evaluate(policy, list(reversed(images)), NOW)


# --- properties ----------------------------------------------------------------------------------

TAG_FILTERS = ["a", "b", "c", "v1", "prod", "*-rc", "v*", "*a*"]


@st.composite
def policies(draw: st.DrawFn) -> LifecyclePolicy:
    """Valid policies: tagged rules with distinct filters, an optional untagged and `any` rule per class."""
    rules: list[tuple[bool, dict[str, Any]]] = []  # (is any, rule without priority)
    filters = iter(draw(st.permutations(TAG_FILTERS)))
    for _ in range(draw(st.integers(0, 3))):
        tag_filter = next(filters)
        by = {"patterns": [tag_filter]} if "*" in tag_filter else {"prefixes": [tag_filter]}
        count_type = draw(st.sampled_from(["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"]))
        action = (
            "transition"
            if count_type == "sinceImagePulled"
            else draw(st.sampled_from(["expire", "transition"]))
        )
        rules.append((False, a_rule(0, count_type, draw(st.integers(1, 5)), action=action, **by)))
    for tag_status in ("untagged", "any"):
        if draw(st.booleans()):
            count_type = draw(st.sampled_from(["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"]))
            rule = a_rule(0, count_type, draw(st.integers(1, 5)), tag_status=tag_status)
            rules.append((tag_status == "any", rule))
        if draw(st.booleans()):
            archive_rule = a_rule(0, "sinceImageTransitioned", draw(st.integers(90, 120)), action="expire")
            archive_rule["selection"]["tagStatus"] = tag_status
            rules.append((tag_status == "any", archive_rule))
    if not rules:
        rules.append((True, a_rule(0, "imageCountMoreThan", 1)))
    ordered = sorted(draw(st.permutations(rules)), key=lambda item: item[0])  # `any` rules last
    priorities = sorted(draw(st.sets(st.integers(1, 1000), min_size=len(ordered), max_size=len(ordered))))
    return a_policy(*({**rule, "rulePriority": p} for p, (_, rule) in zip(priorities, ordered, strict=True)))


@st.composite
def repositories(draw: st.DrawFn) -> list[EvalImage]:
    count = draw(st.integers(0, 25))
    images: list[EvalImage] = []
    for n in range(count):
        earlier = [f"i{m}" for m in range(n)]
        images.append(
            an_image(
                f"i{n}",
                *draw(
                    st.lists(
                        st.sampled_from(["a1", "b", "c-rc", "v1", "prod-2", "xa"]), max_size=3, unique=True
                    )
                ),
                pushed=draw(st.integers(0, 400)),
                pulled=draw(st.none() | st.integers(0, 400)),
                activated=draw(st.none() | st.integers(0, 400)),
                archived=draw(st.none() | st.integers(0, 400)),
                storage_class=draw(st.sampled_from(["STANDARD", "ARCHIVE", "ACTIVATING"])),
                parents=tuple(draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True)))
                if earlier
                else (),
            )
        )
    return images


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies(), images=repositories())
def test_never_selects_an_image_twice_nor_an_activating_image(
    policy: LifecyclePolicy, images: list[EvalImage]
) -> None:
    results = evaluate(policy, images, NOW)

    digests = [r.digest for r in results]
    assert len(digests) == len(set(digests))
    activating = {image.digest for image in images if image.storage_class == "ACTIVATING"}
    assert activating.isdisjoint(digests)
    by_digest = {image.digest: image for image in images}
    for result in results:
        assert result.storage_class == by_digest[result.digest].storage_class
        if result.storage_class == "ARCHIVE":
            assert (result.action_type, result.target_storage_class) == ("EXPIRE", None)


@settings(max_examples=100, deadline=None)
@given(policy=policies(), images=repositories())
def test_an_activating_image_never_changes_the_preview(
    policy: LifecyclePolicy, images: list[EvalImage]
) -> None:
    # Given any repository, when an image starts restoring, then no other image's fate changes
    before = {r.digest for r in evaluate(policy, images, NOW)}
    newcomer = replace(an_image("newcomer", "zzz", pushed=0), storage_class="ACTIVATING")

    after = {r.digest for r in evaluate(policy, [*images, newcomer], NOW)}

    assert before == after
