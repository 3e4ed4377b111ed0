"""Guard: what the run does with one preview result (nothing, skip it and say why, or archive it).

The archived set is always a subset of the preview's TRANSITION→ARCHIVE results in STANDARD
storage, minus everything :class:`~ecr_archiver.archiving.protection.Guard` protects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecr_archiver.archiving.indexes import IndexRule
from ecr_archiver.archiving.models import (
    ImageRecord,
    Outcome,
    ProtectedSet,
    SkipReason,
    WorkMessage,
    WorkPhase,
)
from ecr_archiver.archiving.protection import Guard
from ecr_archiver.archiving.stages.listing import is_candidate_action
from ecr_archiver.archiving.stages.ports import ReportBucket
from ecr_archiver.models import ImageDetail


def load_protected_set(message: WorkMessage, store: ReportBucket) -> ProtectedSet:
    """The message's protected set: inline, or read back from S3 when it was too large to carry."""
    if message.protected is not None:
        return message.protected
    if message.protected_ref is not None:
        return ProtectedSet.model_validate(store.get_json(message.protected_ref.key))
    return ProtectedSet()


def record_base(result: dict[str, Any], detail: ImageDetail | None) -> dict[str, Any]:
    """The report fields of one preview result.

    The preview is a snapshot: a tag added since (a deploy re-tagging an image as ``prod-*``,
    say) is only in DescribeImages' answer, so the tags are the union of both, and the guard
    checks them all.
    """
    return {
        "digest": result["imageDigest"],
        "tags": sorted(set(result.get("imageTags") or ()) | set(detail.tags if detail else ())),
        "size_bytes": detail.size_bytes if detail else None,
        "rule_priority": result.get("appliedRulePriority"),
        "pushed_at": result.get("imagePushedAt"),
    }


@dataclass(frozen=True)
class Candidate:
    """An image the guard lets through: its report fields, for the archive call's record."""

    fields: dict[str, Any]

    @property
    def digest(self) -> str:
        return str(self.fields["digest"])

    def record(self, outcome: Outcome, reason: str | None = None) -> ImageRecord:
        return ImageRecord(**self.fields, outcome=outcome, reason=reason)


#: ``None``: not ours to act on; a record: skipped, and why; a :class:`Candidate`: archive it.
type Decision = ImageRecord | Candidate | None


def decide(
    guard: Guard,
    result: dict[str, Any],
    details: dict[str, ImageDetail],
    indexes: IndexRule,
    *,
    phase: WorkPhase,
) -> Decision:
    """The decision on one preview result, given its page's details and the index rule."""
    digest = result["imageDigest"]
    if not is_candidate_action(result):
        return None  # EXPIRE results are not ours to act on
    if phase is WorkPhase.IMAGES and indexes.is_index(digest):
        return None  # handled in the indexes phase
    base = record_base(result, details.get(digest))
    if result.get("storageClass") != "STANDARD":
        return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=SkipReason.NOT_STANDARD)
    skip = guard.check(digest, base["tags"], details.get(digest), indexes)
    if skip is not None:
        reason, index = skip
        return ImageRecord(**base, outcome=Outcome.SKIPPED, reason=reason, index=index)
    return Candidate(base)
