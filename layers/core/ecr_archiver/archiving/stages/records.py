"""Every decided image goes through one :class:`Recorder`: counted, reported, remembered."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from ecr_archiver.archiving.models import PROTECTION_REASONS, ImageRecord, Outcome, Totals, WorkPhase
from ecr_archiver.archiving.report import ReportWriter


@dataclass
class Tally:
    """Mutable running :class:`Totals` (thread-safe through the caller's lock)."""

    archived: int = 0
    would_archive: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_archived: int = 0
    bytes_would_archive: int = 0
    protected: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, totals: Totals) -> Tally:
        return cls(**totals.model_dump())

    def count(self, record: ImageRecord) -> None:
        size = record.size_bytes or 0
        if record.outcome is Outcome.ARCHIVED:
            self.archived += 1
            self.bytes_archived += size
        elif record.outcome is Outcome.WOULD_ARCHIVE:
            self.would_archive += 1
            self.bytes_would_archive += size
        elif record.outcome is Outcome.FAILED:
            self.failed += 1
        else:
            self.skipped += 1
            if record.reason in PROTECTION_REASONS:
                self.protected[str(record.reason)] = self.protected.get(str(record.reason), 0) + 1

    def totals(self) -> Totals:
        # Same field names as Totals (which forbids extras), so a field added to one but not the
        # other fails loudly instead of being dropped.
        return Totals(**asdict(self))


class Recorder:
    """Counts and reports every record; archive threads record too, so it takes a lock."""

    def __init__(self, totals: Totals, report: ReportWriter) -> None:
        self.tally = Tally.of(totals)
        self.report = report
        self._lock = threading.Lock()
        #: Records written in this invocation.
        self.recorded = 0
        self.phase = WorkPhase.INDEXES
        #: Indexes this run archived (or would): they no longer keep their children ACTIVE.
        self.gone: set[str] = set()

    def record(self, record: ImageRecord) -> None:
        with self._lock:
            self.tally.count(record)
            self.recorded += 1
            if self.phase is WorkPhase.INDEXES and record.outcome in (
                Outcome.ARCHIVED,
                Outcome.WOULD_ARCHIVE,
            ):
                self.gone.add(record.digest)
        self.report.add(record)

    def totals(self) -> Totals:
        return self.tally.totals()
