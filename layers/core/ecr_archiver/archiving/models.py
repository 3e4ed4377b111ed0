"""Models that cross boundaries: the work message, its continuation cursor, per-image outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MESSAGE_VERSION = 1


class _Wire(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields rejected."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )


class Outcome(StrEnum):
    ARCHIVED = "ARCHIVED"
    WOULD_ARCHIVE = "WOULD_ARCHIVE"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"


class SkipReason(StrEnum):
    PROTECTED_TAG = "PROTECTED_TAG"  # a tag matches protect.tagPatterns
    IN_USE_DIGEST = "IN_USE_DIGEST"  # ECS/Lambda runs this digest
    IN_USE_TAG = "IN_USE_TAG"  # ECS/Lambda references one of its tags
    PROTECTED_IMAGE = "PROTECTED_IMAGE"  # protect.images lists it
    REFERRER_ARTIFACT = "REFERRER_ARTIFACT"  # signature/SBOM/attestation: follows its subject
    INDEX_CHILD = "INDEX_CHILD"  # a manifest of an index that stays ACTIVE (the record names it)
    POSSIBLE_INDEX_CHILD = "POSSIBLE_INDEX_CHILD"  # manifests unread: may belong to an index that stays
    NOT_STANDARD = "NOT_STANDARD"  # the preview says it is not in STANDARD storage
    ALREADY_ARCHIVED = "ALREADY_ARCHIVED"  # archived (or activating) since the preview
    IMAGE_NOT_FOUND = "IMAGE_NOT_FOUND"  # deleted since the preview


#: Reasons that mean "something the user protects" (the ``ImagesProtected`` metric).
PROTECTION_REASONS = frozenset(
    {
        SkipReason.PROTECTED_TAG,
        SkipReason.IN_USE_DIGEST,
        SkipReason.IN_USE_TAG,
        SkipReason.PROTECTED_IMAGE,
        SkipReason.REFERRER_ARTIFACT,
        SkipReason.INDEX_CHILD,
        SkipReason.POSSIBLE_INDEX_CHILD,
    }
)


class ManifestReads(StrEnum):
    """How a run learns which manifests an index references.

    ``exact``: the worker's role is in the registry's pull-time update exclusion list, so it reads
    index manifests with BatchGetImage without touching ``lastRecordedPullTime``. ``conservative``:
    it reads none, and while any live index stays ACTIVE no single-platform image is archived.
    """

    EXACT = "exact"
    CONSERVATIVE = "conservative"


class WorkPhase(StrEnum):
    """Indexes are handled before every other image, so no child is touched before its index."""

    INDEXES = "INDEXES"
    IMAGES = "IMAGES"


class ProtectedSet(_Wire):
    """What must not be archived in one repository: digests and tags (in use or listed)."""

    in_use_digests: list[str] = []
    in_use_tags: list[str] = []
    listed_digests: list[str] = []
    listed_tags: list[str] = []


class S3Pointer(_Wire):
    bucket: str
    key: str


class Totals(_Wire):
    """Running counts for one repository in one run, carried across continuations."""

    archived: int = 0
    would_archive: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_archived: int = 0
    bytes_would_archive: int = 0
    protected: dict[str, int] = {}

    @property
    def acted(self) -> int:
        """Images counted against ``maxImagesPerRun`` (archived or would be)."""
        return self.archived + self.would_archive + self.failed


class Cursor(_Wire):
    """Where a continuation resumes: the phase, the token that fetched the current preview page
    (images phase) and the index in that page or in the sorted list of indexes (indexes phase)."""

    phase: WorkPhase = WorkPhase.IMAGES
    page_token: str | None = None
    offset: int = Field(default=0, ge=0)
    invocation: int = Field(default=1, ge=1)


class WorkMessage(_Wire):
    """One repository's share of a run, as sent to the work queue (and re-sent to continue)."""

    version: int = MESSAGE_VERSION
    run_id: str
    repository: str
    policy_text: str
    policy_hash: str
    dry_run: bool
    max_images: int = Field(ge=1)
    tag_patterns: list[str] = []
    manifest_reads: ManifestReads = ManifestReads.CONSERVATIVE
    protected: ProtectedSet | None = None
    protected_ref: S3Pointer | None = None
    cursor: Cursor | None = None
    totals: Totals = Field(default_factory=Totals)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


class ImageRecord(_Wire):
    """One line of the report: what happened to one preview result, and why."""

    digest: str
    tags: list[str] = []
    outcome: Outcome
    reason: str | None = None
    size_bytes: int | None = None
    rule_priority: int | None = None
    pushed_at: datetime | None = None
    #: For INDEX_CHILD / POSSIBLE_INDEX_CHILD: the index that stays ACTIVE, as ``digest (tags)``.
    index: str | None = None


class RepositoryStatus(StrEnum):
    COMPLETE = "COMPLETE"
    CONTINUED = "CONTINUED"
    PREVIEW_FAILED = "PREVIEW_FAILED"


class RepositoryResult(_Wire):
    run_id: str
    repository: str
    status: RepositoryStatus
    dry_run: bool
    manifest_reads: ManifestReads = ManifestReads.CONSERVATIVE
    totals: Totals
    report_key: str | None = None
    capped: bool = False


class PreviewStart(StrEnum):
    """How the planner's StartLifecyclePolicyPreview went for one repository."""

    STARTED = "STARTED"
    #: Another caller's preview is running; the worker restarts ours once it finishes.
    IN_PROGRESS_ELSEWHERE = "IN_PROGRESS_ELSEWHERE"


class RepositorySkipReason(StrEnum):
    """Why the planner sent no message for a selected repository."""

    NO_LIFECYCLE_POLICY = "NO_LIFECYCLE_POLICY"
    REPOSITORY_NOT_FOUND = "REPOSITORY_NOT_FOUND"


class PlannedRepository(_Wire):
    repository: str
    preview: PreviewStart
    protected_in_s3: bool


class PlanResult(_Wire):
    run_id: str
    dry_run: bool
    manifest_reads: ManifestReads = ManifestReads.CONSERVATIVE
    #: Why the run reads manifests the way it does (one sentence, for the operator).
    manifest_reads_reason: str = ""
    planned: list[PlannedRepository] = []
    skipped: dict[str, RepositorySkipReason] = {}
