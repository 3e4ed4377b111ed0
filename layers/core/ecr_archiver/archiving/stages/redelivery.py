"""At-least-once delivery: a message an earlier delivery completed is answered from its stored result."""

from __future__ import annotations

from ecr_archiver.archiving.models import RepositoryResult
from ecr_archiver.archiving.report import delivery_key
from ecr_archiver.archiving.stages.ports import ReportBucket
from ecr_archiver.observability import logger


class DeliveryLedger:
    """The stored result of each SQS delivery (by message id) of one repository's messages."""

    def __init__(self, store: ReportBucket, run_id: str, repository: str, delivery_id: str | None) -> None:
        self._store = store
        self._repo = repository
        self._key = None if delivery_id is None else delivery_key(run_id, repository, delivery_id)

    def handled_before(self) -> RepositoryResult | None:
        """The result of an earlier delivery of this very SQS message, if one completed.

        A redelivery (a lost delete, an expired visibility timeout) must not redo the work: the
        retry would report our own archives as ALREADY_ARCHIVED and rewrite report.json.
        """
        key = self._key
        if key is None:
            return None
        if next(iter(self._store.list_keys(key)), None) is None:
            return None
        logger.info("duplicate delivery; already handled", extra={"repository": self._repo, "key": key})
        return RepositoryResult.model_validate(self._store.get_json(key))

    def remember(self, result: RepositoryResult) -> None:
        if self._key is not None:
            self._store.put_json(self._key, result.model_dump(mode="json", by_alias=True))
