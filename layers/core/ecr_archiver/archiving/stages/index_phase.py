"""Indexes first: every live multi-arch index is decided (and archived) before any other image.

The indexes are found with DescribeImages (their manifests read with BatchGetImage in ``exact``
mode, see :mod:`~ecr_archiver.archiving.indexes`); the map is stored with the report, so every
invocation of the run uses the same one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecr_archiver.archiving.indexes import IndexMap, IndexRule, build_index_map, live_indexes
from ecr_archiver.archiving.models import Cursor, ManifestReads, WorkMessage, WorkPhase
from ecr_archiver.archiving.report import index_map_key
from ecr_archiver.archiving.stages.archive_pool import ArchivePool
from ecr_archiver.archiving.stages.listing import CandidateDetails
from ecr_archiver.archiving.stages.pages import PageKind, PageOutcome, PageProcessor
from ecr_archiver.archiving.stages.ports import PreviewRegistry, ReportBucket
from ecr_archiver.archiving.stages.reads import read
from ecr_archiver.archiving.stages.records import Recorder
from ecr_archiver.observability import MetricUnit, logger, metrics


@dataclass(frozen=True)
class IndexPhaseOutcome:
    """The index map as the phase left it, and how its results' handling ended."""

    index_map: IndexMap
    page: PageOutcome


class IndexPhase:
    """Builds (or reloads) the run's index map and handles every index's preview result."""

    def __init__(
        self,
        message: WorkMessage,
        *,
        registry: PreviewRegistry,
        store: ReportBucket,
        details: CandidateDetails,
        pages: PageProcessor,
        pool: ArchivePool,
        recorder: Recorder,
        dry_run: bool,
    ) -> None:
        self._message = message
        self._repo = message.repository
        self._registry = registry
        self._store = store
        self._details = details
        self._pages = pages
        self._pool = pool
        self._recorder = recorder
        self._key = index_map_key(message.run_id, self._repo, dry_run=dry_run)

    def load_map(self) -> IndexMap:
        """This run's map of the repository's live indexes: stored on first use, then reused."""
        if next(iter(self._store.list_keys(self._key)), None) is not None:
            return IndexMap.model_validate(self._store.get_json(self._key))
        mode = self._message.manifest_reads
        listing = self._registry.describe_images
        indexes = read(lambda: live_indexes(self._details.keep(listing(self._repo, status="ANY"))))
        manifests: dict[str, str] = {}
        if mode is ManifestReads.EXACT and indexes:
            manifests = read(lambda: self._registry.batch_get_manifests(self._repo, sorted(indexes)))
            metrics.add_metric(name="IndexManifestsRead", unit=MetricUnit.Count, value=len(manifests))
        index_map = build_index_map(indexes, manifests, mode)
        self._save(index_map)
        unread = sum(1 for e in index_map.indexes.values() if e.children is None)
        logger.info(
            "index map built",
            extra={
                "repository": self._repo,
                "manifest_reads": mode,
                "indexes": len(indexes),
                "unread": unread,
            },
        )
        return index_map

    def run(self, index_map: IndexMap, cursor: Cursor) -> IndexPhaseOutcome:
        """Handle every index's preview result, from the cursor's offset when it is in this phase."""
        offset = cursor.offset if cursor.phase is WorkPhase.INDEXES else 0
        self._recorder.gone = set(index_map.gone)
        outcome = PageOutcome.done()
        if index_map.indexes:
            results = read(lambda: list(self._registry.get_preview_results(self._repo, index_map.digests())))
            results.sort(key=lambda r: str(r["imageDigest"]))
            outcome = self._pages.process(results, offset, IndexRule(index_map, gone=()))
            self._pool.drain()
        done = outcome.kind is not PageKind.STOPPED
        index_map = index_map.model_copy(update={"gone": sorted(self._recorder.gone), "indexes_done": done})
        self._save(index_map)
        return IndexPhaseOutcome(index_map, outcome)

    def _save(self, index_map: IndexMap) -> None:
        self._store.put_json(self._key, index_map.model_dump(mode="json", by_alias=True))
