"""Models that cross boundaries: the work message, its continuation cursor, per-image outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MESSAGE_VERSION = 1


class _Wire(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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
    MAX_IMAGES_PER_RUN = "MAX_IMAGES_PER_RUN"  # over the per-run cap


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

    in_use_digests: list[str] = Field(default=[], alias="inUseDigests")
    in_use_tags: list[str] = Field(default=[], alias="inUseTags")
    listed_digests: list[str] = Field(default=[], alias="listedDigests")
    listed_tags: list[str] = Field(default=[], alias="listedTags")


class S3Pointer(_Wire):
    bucket: str
    key: str


class Totals(_Wire):
    """Running counts for one repository in one run, carried across continuations."""

    archived: int = 0
    would_archive: int = Field(default=0, alias="wouldArchive")
    skipped: int = 0
    failed: int = 0
    bytes_archived: int = Field(default=0, alias="bytesArchived")
    bytes_would_archive: int = Field(default=0, alias="bytesWouldArchive")
    protected: dict[str, int] = {}

    @property
    def acted(self) -> int:
        """Images counted against ``maxImagesPerRun`` (archived or would be)."""
        return self.archived + self.would_archive + self.failed


class Cursor(_Wire):
    """Where a continuation resumes: the phase, the token that fetched the current preview page
    (images phase) and the index in that page or in the sorted list of indexes (indexes phase)."""

    phase: WorkPhase = WorkPhase.IMAGES
    page_token: str | None = Field(default=None, alias="pageToken")
    offset: int = Field(default=0, ge=0)
    invocation: int = Field(default=1, ge=1)


class WorkMessage(_Wire):
    """One repository's share of a run, as sent to the work queue (and re-sent to continue)."""

    version: int = MESSAGE_VERSION
    run_id: str = Field(alias="runId")
    repository: str
    policy_text: str = Field(alias="policyText")
    policy_hash: str = Field(alias="policyHash")
    dry_run: bool = Field(alias="dryRun")
    max_images: int = Field(alias="maxImages", ge=1)
    tag_patterns: list[str] = Field(default=[], alias="tagPatterns")
    manifest_reads: ManifestReads = Field(default=ManifestReads.CONSERVATIVE, alias="manifestReads")
    protected: ProtectedSet | None = None
    protected_ref: S3Pointer | None = Field(default=None, alias="protectedRef")
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
    size_bytes: int | None = Field(default=None, alias="sizeBytes")
    rule_priority: int | None = Field(default=None, alias="rulePriority")
    pushed_at: datetime | None = Field(default=None, alias="pushedAt")
    #: For INDEX_CHILD / POSSIBLE_INDEX_CHILD: the index that stays ACTIVE, as ``digest (tags)``.
    index: str | None = None


class RepositoryStatus(StrEnum):
    COMPLETE = "COMPLETE"
    CONTINUED = "CONTINUED"
    PREVIEW_FAILED = "PREVIEW_FAILED"


class RepositoryResult(_Wire):
    run_id: str = Field(alias="runId")
    repository: str
    status: RepositoryStatus
    dry_run: bool = Field(alias="dryRun")
    manifest_reads: ManifestReads = Field(default=ManifestReads.CONSERVATIVE, alias="manifestReads")
    totals: Totals
    report_key: str | None = Field(default=None, alias="reportKey")
    capped: bool = False


class PlannedRepository(_Wire):
    repository: str
    preview: str  # STARTED, or IN_PROGRESS_ELSEWHERE (the worker restarts ours later)
    protected_in_s3: bool = Field(alias="protectedInS3")


class PlanResult(_Wire):
    run_id: str = Field(alias="runId")
    dry_run: bool = Field(alias="dryRun")
    manifest_reads: ManifestReads = Field(default=ManifestReads.CONSERVATIVE, alias="manifestReads")
    #: Why the run reads manifests the way it does (one sentence, for the operator).
    manifest_reads_reason: str = Field(default="", alias="manifestReadsReason")
    planned: list[PlannedRepository] = []
    skipped: dict[str, str] = {}
