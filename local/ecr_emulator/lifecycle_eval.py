"""Pure lifecycle-policy evaluation for the emulator's StartLifecyclePolicyPreview.

Follows AWS's "Lifecycle policy evaluation rules" (LifecyclePolicies.html; project notes
``shared/reference/ecr-archive-api.md`` §1): every rule selects and marks images as if alone, then
the rules are applied by priority, so each image is acted on by at most one rule, and an image that
a higher-priority rule's selection covers is protected from every lower-priority rule. Where AWS is
silent we take the stricter (more protective) reading and say so in a comment.

Cost is O(R·n + n log n) for R rules (at most 50) and n images: one pass to find the rules that
select each image (tag matching memoised per distinct tag set), a sort per count rule, and one
pass to apply the manifest-list constraint. Nothing scans the images once per image.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ecr_emulator.lifecycle_policy import Policy as LifecyclePolicy
from ecr_emulator.lifecycle_policy import Rule as LifecycleRule

STANDARD = "STANDARD"
ARCHIVE = "ARCHIVE"
ACTIVATING = "ACTIVATING"


@dataclass(frozen=True, slots=True)
class EvalImage:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled_at: datetime | None
    last_activated_at: datetime | None
    last_archived_at: datetime | None
    storage_class: str  # "STANDARD" | "ARCHIVE" | "ACTIVATING"
    parent_digests: frozenset[str] = frozenset()  # manifest lists (indexes) that reference this image
    subject_digest: str | None = None  # set for referrers (signatures, SBOMs)


@dataclass(frozen=True, slots=True)
class PreviewResult:
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    action_type: str  # "EXPIRE" | "TRANSITION"
    target_storage_class: str | None  # "ARCHIVE" when TRANSITION else None
    applied_rule_priority: int
    storage_class: str  # "STANDARD" | "ARCHIVE" (storage class of the image now)


TagMatcher = Callable[[tuple[str, ...]], bool]


def evaluate(policy: LifecyclePolicy, images: Sequence[EvalImage], now: datetime) -> list[PreviewResult]:
    """The images ``policy`` would expire or archive at ``now``, ordered by rule priority then age.

    Referrers (``subject_digest`` set) are evaluated as ordinary images. AWS says lifecycle handles
    them "within 24 hours" after their subject, but not whether previews list them; listing them
    is the stricter choice because it exercises every consumer's guard against acting on them.
    """
    rules = policy.rules_by_priority()
    matching = _matching_rules(rules, images)

    # "All rules are evaluated at the same time": an imageCountMoreThan rule ranks every image its
    # selection covers, including those a higher-priority rule governs ("Rules ... can still
    # identify them as if they haven't been expired or archived").
    count_rules = {i for i, rule in enumerate(rules) if rule.selection.countType == "imageCountMoreThan"}
    members: dict[int, list[int]] = {index: [] for index in count_rules}
    for position, rule_indexes in enumerate(matching):
        for index in rule_indexes:
            if index in count_rules:
                members[index].append(position)
    over_count = {index: _beyond_count(rules[index], members[index], images) for index in count_rules}

    marks: dict[str, tuple[int, LifecycleRule]] = {}  # digest -> (image position, rule)
    for position, image in enumerate(images):
        if not matching[position]:
            continue
        # The highest-priority rule whose selection covers the image alone may act on it.
        governing = matching[position][0]
        rule = rules[governing]
        if governing in over_count:
            chosen = position in over_count[governing]
        else:
            chosen = _older_than(_age_reference(rule, image), rule.selection.countNumber, now)
        if chosen:
            marks[image.digest] = (position, rule)

    by_digest = {image.digest: image for image in images}
    allowed_by_lists: dict[str, bool] = {}
    results = [
        _result(images[position], rule)
        for digest, (position, rule) in marks.items()
        if _parents_allow(digest, by_digest, marks, allowed_by_lists)
    ]
    results.sort(key=lambda r: (r.applied_rule_priority, r.pushed_at, r.digest))
    return results


def _matching_rules(rules: list[LifecycleRule], images: Sequence[EvalImage]) -> list[tuple[int, ...]]:
    """For each image, the indexes (in priority order) of the rules whose selection covers it.

    Memoised by (storage class, tags): most images share their tag set (untagged ones all do),
    so the tag matchers run once per distinct set rather than once per image and rule.

    ACTIVATING images are selected by no rule. AWS says a restoring image "remains in the archived
    state", yet it is on its way to standard storage; letting either class's rules act on it
    (expire mid-restore, or count it among standard images) is the riskier reading.
    """
    by_class: dict[str, list[tuple[int, TagMatcher]]] = {STANDARD: [], ARCHIVE: []}
    for index, rule in enumerate(rules):
        by_class[rule.selection.effective_storage_class.upper()].append((index, _tag_matcher(rule)))
    memo: dict[tuple[str, tuple[str, ...]], tuple[int, ...]] = {}
    matching: list[tuple[int, ...]] = []
    for image in images:
        key = (image.storage_class, image.tags)
        found = memo.get(key)
        if found is None:
            candidates = by_class.get(image.storage_class, [])
            found = memo[key] = tuple(index for index, matcher in candidates if matcher(image.tags))
        matching.append(found)
    return matching


def _beyond_count(rule: LifecycleRule, selected: list[int], images: Sequence[EvalImage]) -> set[int]:
    """Positions of the images past the rule's count, ranking its selection youngest first."""
    # Youngest first by push time; a restored image ranks by last_activated_at ("If an image was
    # archived and then restored ... last_activated_at is used instead of pushed_at_time").
    # Digest breaks ties so the result does not depend on input order.
    selected.sort(key=lambda p: (_effective_push_time(images[p]), images[p].digest), reverse=True)
    return set(selected[rule.selection.countNumber :])


def _effective_push_time(image: EvalImage) -> datetime:
    # AWS: "If an image was archived and then restored at any point in the past, the image's
    # last_activated_at is used instead of pushed_at_time." We apply it to sinceImagePushed as well
    # as to ordering: a restored image counts as freshly pushed, which is the protective reading
    # (otherwise an archive-after-30-days rule would re-archive every restore within a day).
    if image.last_activated_at is not None and image.last_activated_at > image.pushed_at:
        return image.last_activated_at
    return image.pushed_at


def _age_reference(rule: LifecycleRule, image: EvalImage) -> datetime | None:
    count_type = rule.selection.countType
    if count_type == "sinceImagePushed":
        return _effective_push_time(image)
    if count_type == "sinceImagePulled":
        # Last pull; push time if never pulled; last_activated_at if restored and not pulled
        # since. Taking the latest of the three is exactly that, and also protective when the
        # timestamps are inconsistent (a pull recorded before the push).
        candidates = [image.pushed_at, image.last_pulled_at, image.last_activated_at]
        return max(moment for moment in candidates if moment is not None)
    # sinceImageTransitioned: archived images only (the rule's storageClass is always archive).
    # An archived image without last_archived_at has an unknown age, so no rule expires it
    # (AWS is silent; protective reading).
    return image.last_archived_at


def _older_than(reference: datetime | None, days: int, now: datetime) -> bool:
    # "older than N days": strictly more than N whole days have passed. AWS does not say how it
    # rounds; the strict comparison never acts on an image a day early.
    return reference is not None and now - reference > timedelta(days=days)


def _parents_allow(
    digest: str,
    by_digest: dict[str, EvalImage],
    marks: dict[str, tuple[int, LifecycleRule]],
    memo: dict[str, bool],
) -> bool:
    """AWS: an image referenced by a manifest list "cannot be expired or archived without the
    manifest list being deleted or archived first". A child may be acted on only if every list
    referencing it is acted on in this evaluation (and is itself allowed) or is already archived.

    A referencing list that is not among the images (unknown state) or a reference cycle blocks
    the child: AWS is silent and acting on it could break a pullable index. Iterative, so nesting
    depth is not bounded by the interpreter's recursion limit.
    """
    stack = [digest]
    on_path: set[str] = set()
    while stack:
        current = stack[-1]
        if current in memo:
            stack.pop()
            on_path.discard(current)
            continue
        on_path.add(current)
        allowed, pending = True, None
        for parent in by_digest[current].parent_digests:
            parent_image = by_digest.get(parent)
            if parent_image is not None and parent_image.storage_class == ARCHIVE:
                continue
            if parent_image is None or parent not in marks or parent in on_path:
                allowed = False
                break
            if parent not in memo:
                pending = parent
                break
            if not memo[parent]:
                allowed = False
                break
        if pending is not None:
            stack.append(pending)
            continue
        memo[current] = allowed
        stack.pop()
        on_path.discard(current)
    return memo[digest]


def _result(image: EvalImage, rule: LifecycleRule) -> PreviewResult:
    transition = rule.action.type == "transition"
    return PreviewResult(
        digest=image.digest,
        tags=image.tags,
        pushed_at=image.pushed_at,
        action_type="TRANSITION" if transition else "EXPIRE",
        target_storage_class=ARCHIVE if transition else None,
        applied_rule_priority=rule.rulePriority,
        storage_class=image.storage_class,
    )


def _tag_matcher(rule: LifecycleRule) -> TagMatcher:
    """The rule's tag requirements: every prefix or pattern must match at least one tag."""
    selection = rule.selection
    if selection.tagStatus == "any":
        return lambda tags: True
    if selection.tagStatus == "untagged":
        return lambda tags: not tags
    if selection.tagPatternList is not None:
        patterns = [_compile_pattern(pattern) for pattern in selection.tagPatternList]
        return lambda tags: (
            bool(tags) and all(any(pattern.fullmatch(tag) for tag in tags) for pattern in patterns)
        )
    prefixes = tuple(selection.tagPrefixList or ())
    return lambda tags: bool(tags) and all(any(tag.startswith(p) for tag in tags) for p in prefixes)


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    # Only '*' is special (any run of characters, possibly empty); everything else is literal.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
