"""The per run and repository report in S3, written as it goes so memory stays flat, and read back.

Layout under ``reports/<runId>/<repository>/``: ``images/<invocation>-<attempt>-<chunk>.jsonl``
holds one :class:`ImageRecord` per line, flushed every ``chunk_size`` records; ``report.json`` is
written when the repository finishes and holds the summary plus the list of image parts;
``deliveries/<message id>.json`` marks an SQS message as handled; ``indexes.json`` holds the run's
map of the repository's live indexes and their children (see ``archiving.indexes``). The attempt
id keeps a retried invocation from overwriting the parts an earlier attempt wrote before it failed.

:class:`ReportWriter` writes the layout; the readers below (keys, image parts, ``report.json``)
are the only code that parses it, for the local run and for ``restore --from-report``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ecr_archiver.archiving.models import ImageRecord, RepositoryResult

REPORTS_PREFIX = "reports/"
IMAGES_FOLDER = "images/"
IMAGE_PART_SUFFIX = ".jsonl"
REPORT_DOCUMENT = "report.json"


class ReportStore(Protocol):
    def put_text(self, key: str, text: str, *, content_type: str = ...) -> None: ...
    def put_json(self, key: str, document: Any) -> None: ...
    def list_keys(self, prefix: str) -> Any: ...


class ReportSource(Protocol):
    """What the readers need of a bucket: the S3 adapter and the in-memory store both have it."""

    def list_keys(self, prefix: str) -> Iterable[str]: ...
    def get_text(self, key: str) -> str: ...


def run_prefix(run_id: str) -> str:
    return f"{REPORTS_PREFIX}{run_id}/"


def report_prefix(run_id: str, repository: str) -> str:
    return f"{run_prefix(run_id)}{repository}/"


def images_prefix(run_id: str, repository: str) -> str:
    return f"{report_prefix(run_id, repository)}{IMAGES_FOLDER}"


def image_part_key(run_id: str, repository: str, *, invocation: int, attempt: str, chunk: int) -> str:
    return f"{images_prefix(run_id, repository)}{invocation:05d}-{attempt}-{chunk:04d}{IMAGE_PART_SUFFIX}"


def report_key(run_id: str, repository: str) -> str:
    return f"{report_prefix(run_id, repository)}{REPORT_DOCUMENT}"


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
        self._run_id = run_id
        self._repository = repository
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
        key = image_part_key(
            self._run_id,
            self._repository,
            invocation=self._invocation,
            attempt=self._attempt,
            chunk=self._chunk,
        )
        self._store.put_text(key, "\n".join(self._lines) + "\n", content_type="application/x-ndjson")
        self._lines = []

    def finish(
        self, result: RepositoryResult, *, policy_hash: str, extra: dict[str, Any] | None = None
    ) -> str:
        """Flush, then write ``report.json`` listing every image part of every invocation."""
        self.flush()
        key = report_key(self._run_id, self._repository)
        parts = [part.key for part in _parts_of(self._store.list_keys, self._run_id, self._repository)]
        document = {
            **result.model_dump(mode="json", by_alias=True, exclude={"report_key"}),
            "policyHash": policy_hash,
            "generatedAt": datetime.now(UTC).isoformat(),
            "imageParts": parts,
            **(extra or {}),
        }
        self._store.put_json(key, document)
        return key


@dataclass(frozen=True)
class ImagePart:
    """One ``images/*.jsonl`` object: whose run and repository its records belong to."""

    key: str
    run_id: str
    repository: str


def parse_image_part_key(key: str) -> ImagePart | None:
    """``reports/<runId>/<repository>/images/<part>.jsonl`` → its part; ``None`` for any other key.

    Repository names may contain ``/`` (and even an ``images`` segment): the part name is what
    follows the last ``/images/``, and the run id is the first segment after ``reports/``.
    """
    if not key.startswith(REPORTS_PREFIX):
        return None
    head, sep, name = key.rpartition(f"/{IMAGES_FOLDER}")
    if not sep or "/" in name or not name.endswith(IMAGE_PART_SUFFIX) or name == IMAGE_PART_SUFFIX:
        return None
    run_id, slash, repository = head.removeprefix(REPORTS_PREFIX).partition("/")
    if not (run_id and slash and repository):
        return None
    return ImagePart(key=key, run_id=run_id, repository=repository)


def image_parts(source: ReportSource, prefix: str) -> list[ImagePart]:
    """Every image part under ``prefix`` (a run's, or one repository's ``report_prefix``), by key."""
    parsed = (parse_image_part_key(key) for key in source.list_keys(prefix))
    return sorted((part for part in parsed if part is not None), key=lambda part: part.key)


def parse_image_part(text: str) -> list[ImageRecord]:
    """The records of one image part, one JSON object a line as :meth:`ReportWriter.add` wrote them."""
    return [ImageRecord.model_validate_json(line) for line in text.splitlines() if line.strip()]


def read_image_records(source: ReportSource, run_id: str, repository: str) -> list[ImageRecord]:
    """Every record written for ``repository`` in ``run_id``, in part order."""
    return [
        record
        for part in _parts_of(source.list_keys, run_id, repository)
        for record in parse_image_part(source.get_text(part.key))
    ]


@dataclass(frozen=True)
class RepositoryReport:
    """``report.json``: the repository's result, the policy it ran with and its image parts."""

    result: RepositoryResult
    policy_hash: str
    generated_at: datetime
    image_parts: list[str]
    #: The document as written, including any extra fields the worker added.
    document: dict[str, Any]


def parse_report_document(text: str) -> RepositoryReport:
    """Read what :meth:`ReportWriter.finish` wrote."""
    document: dict[str, Any] = json.loads(text)
    result = RepositoryResult.model_validate({k: v for k, v in document.items() if k in _RESULT_KEYS})
    return RepositoryReport(
        result=result,
        policy_hash=str(document["policyHash"]),
        generated_at=datetime.fromisoformat(document["generatedAt"]),
        image_parts=[str(key) for key in document["imageParts"]],
        document=document,
    )


def read_repository_report(source: ReportSource, run_id: str, repository: str) -> RepositoryReport:
    """``report.json`` of ``repository`` in ``run_id`` (written once the repository finished)."""
    return parse_report_document(source.get_text(report_key(run_id, repository)))


#: The keys of ``report.json`` that are the repository's :class:`RepositoryResult`.
_RESULT_KEYS = frozenset(field.alias or name for name, field in RepositoryResult.model_fields.items())


def _parts_of(list_keys: Callable[[str], Iterable[str]], run_id: str, repository: str) -> list[ImagePart]:
    """The image parts of exactly ``repository`` (not of a nested ``repository/images/...`` one)."""
    parsed = (parse_image_part_key(key) for key in list_keys(images_prefix(run_id, repository)))
    return sorted(
        (p for p in parsed if p is not None and p.run_id == run_id and p.repository == repository),
        key=lambda p: p.key,
    )
