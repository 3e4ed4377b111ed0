"""The per run and repository report in S3, written as it goes so memory stays flat.

Layout under ``reports/<runId>/<repository>/``: ``images/<invocation>-<attempt>-<chunk>.jsonl``
holds one :class:`ImageRecord` per line, flushed every ``chunk_size`` records; ``report.json`` is
written when the repository finishes and holds the summary plus the list of image parts;
``deliveries/<message id>.json`` marks an SQS message as handled; ``indexes.json`` holds the run's
map of the repository's live indexes and their children (see ``archiving.indexes``). The attempt
id keeps a retried invocation from overwriting the parts an earlier attempt wrote before it failed.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from ecr_archiver.archiving.models import ImageRecord, RepositoryResult


class ReportStore(Protocol):
    def put_text(self, key: str, text: str, *, content_type: str = ...) -> None: ...
    def put_json(self, key: str, document: Any) -> None: ...
    def list_keys(self, prefix: str) -> Any: ...


def report_prefix(run_id: str, repository: str) -> str:
    return f"reports/{run_id}/{repository}/"


def protected_set_key(run_id: str, repository: str) -> str:
    return f"{report_prefix(run_id, repository)}protected.json"


def index_map_key(run_id: str, repository: str, *, dry_run: bool) -> str:
    """Separate for a dry run, so a real run never inherits what a dry run only pretended."""
    return f"{report_prefix(run_id, repository)}{'indexes-dry-run' if dry_run else 'indexes'}.json"


def delivery_key(run_id: str, repository: str, delivery_id: str) -> str:
    return f"{report_prefix(run_id, repository)}deliveries/{delivery_id}.json"


class ReportWriter:
    """Thread-safe JSON Lines writer: archiving threads add records, full chunks go to S3."""

    def __init__(
        self,
        store: ReportStore,
        run_id: str,
        repository: str,
        *,
        invocation: int,
        chunk_size: int = 5000,
        attempt: str | None = None,
    ) -> None:
        self._store = store
        self._prefix = report_prefix(run_id, repository)
        self._invocation = invocation
        self._attempt = attempt or uuid.uuid4().hex[:8]
        self._chunk_size = chunk_size
        self._lines: list[str] = []
        self._chunk = 0
        self._lock = threading.Lock()

    def add(self, record: ImageRecord) -> None:
        line = record.model_dump_json(by_alias=True, exclude_none=True)
        with self._lock:
            self._lines.append(line)
            if len(self._lines) >= self._chunk_size:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._lines:
            return
        self._chunk += 1
        key = f"{self._prefix}images/{self._invocation:05d}-{self._attempt}-{self._chunk:04d}.jsonl"
        self._store.put_text(key, "\n".join(self._lines) + "\n", content_type="application/x-ndjson")
        self._lines = []

    def finish(
        self, result: RepositoryResult, *, policy_hash: str, extra: dict[str, Any] | None = None
    ) -> str:
        """Flush, then write ``report.json`` listing every image part of every invocation."""
        self.flush()
        key = f"{self._prefix}report.json"
        parts = sorted(k for k in self._store.list_keys(f"{self._prefix}images/") if k.endswith(".jsonl"))
        document = {
            **result.model_dump(mode="json", by_alias=True, exclude={"report_key"}),
            "policyHash": policy_hash,
            "generatedAt": datetime.now(UTC).isoformat(),
            "imageParts": parts,
            **(extra or {}),
        }
        self._store.put_json(key, document)
        return key
