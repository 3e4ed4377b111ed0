"""Report and continuation: how one invocation ends, in the report, the metrics and the queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import single_metric

from ecr_archiver.archiving.models import Cursor, RepositoryResult, RepositoryStatus, Totals, WorkMessage
from ecr_archiver.archiving.report import ReportWriter
from ecr_archiver.archiving.stages.ports import ContinuationQueue
from ecr_archiver.archiving.stages.records import Recorder
from ecr_archiver.archiving.stages.redelivery import DeliveryLedger
from ecr_archiver.errors import EcrArchiverError
from ecr_archiver.observability import NAMESPACE, SERVICE, MetricUnit, logger, metrics


def emit_summary(result: RepositoryResult, before: Totals, **extra: Any) -> None:
    """This invocation's metrics (deltas from ``before``) and the repository's summary line."""
    now = result.totals
    for name, value, unit in (
        ("ImagesArchived", now.archived - before.archived, MetricUnit.Count),
        ("BytesArchived", now.bytes_archived - before.bytes_archived, MetricUnit.Bytes),
        ("ImagesWouldArchive", now.would_archive - before.would_archive, MetricUnit.Count),
        ("ArchiveFailures", now.failed - before.failed, MetricUnit.Count),
    ):
        metrics.add_metric(name=name, unit=unit, value=value)
    for reason, count in now.protected.items():
        delta = count - before.protected.get(reason, 0)
        if delta:
            # A separate EMF blob: Powertools dimensions apply to every metric in a blob.
            with single_metric(
                name="ImagesProtected", unit=MetricUnit.Count, value=delta, namespace=NAMESPACE
            ) as metric:
                metric.add_dimension(name="service", value=SERVICE)
                metric.add_dimension(name="Reason", value=reason)
    logger.info(
        "repository summary",
        extra={"summary": result.model_dump(mode="json", by_alias=True), **extra},
    )


class RunOutcomes:
    """Ends an invocation: finished (report.json), continued (a follow-up message) or checkpointed."""

    def __init__(
        self,
        message: WorkMessage,
        *,
        queue: ContinuationQueue,
        report: ReportWriter,
        recorder: Recorder,
        deliveries: DeliveryLedger,
        dry_run: bool,
    ) -> None:
        self._message = message
        self._queue = queue
        self._report = report
        self._recorder = recorder
        self._deliveries = deliveries
        self._dry_run = dry_run

    def checkpoint(self, error: EcrArchiverError, cursor: Cursor, *, progressed: bool) -> RepositoryResult:
        """After a read failed mid-repository, keep what was done and carry on from ``cursor``.

        Retrying the message instead would start over and report this invocation's archives as
        ALREADY_ARCHIVED, losing them from the report and the metrics.
        """
        if not progressed:
            raise error  # nothing handled yet: SQS retries the message as it is
        logger.warning(
            "checkpointed after an error",
            extra={"repository": self._message.repository, "error": error.code, "reason": error.message},
        )
        return self.continue_later(cursor)

    def continue_later(self, cursor: Cursor) -> RepositoryResult:
        """Flush the report and send the message again, to resume at ``cursor``."""
        if self._no_progress(cursor):
            # A continuation that again made no progress would loop forever: fail it instead, so
            # retries and then the dead-letter queue (and its alarm) surface the misconfiguration.
            raise EcrArchiverError(
                f"{self._message.repository}: no progress within the time budget; raise the function "
                "timeout or lower TIME_BUDGET_MARGIN_SECONDS",
                code="NoProgress",
            )
        self._report.flush()
        totals = self._recorder.totals()
        follow_up = self._message.model_copy(update={"cursor": cursor, "totals": totals})
        self._queue.send(follow_up.to_json())
        result = self._result(RepositoryStatus.CONTINUED, totals)
        emit_summary(result, self._message.totals, cursor=cursor.model_dump(by_alias=True))
        self._deliveries.remember(result)
        return result

    def finish(self, status: RepositoryStatus, *, capped: bool = False) -> RepositoryResult:
        """Write report.json and the summary; the repository is done for this run."""
        result = self._result(status, self._recorder.totals(), capped=capped)
        key = self._report.finish(result, policy_hash=self._message.policy_hash)
        result = result.model_copy(update={"report_key": key})
        if status is RepositoryStatus.PREVIEW_FAILED:
            metrics.add_metric(name="PreviewsFailed", unit=MetricUnit.Count, value=1)
        emit_summary(result, self._message.totals)
        self._deliveries.remember(result)
        return result

    def _no_progress(self, cursor: Cursor) -> bool:
        previous = self._message.cursor
        return previous is not None and (previous.phase, previous.page_token, previous.offset) == (
            cursor.phase,
            cursor.page_token,
            cursor.offset,
        )

    def _result(self, status: RepositoryStatus, totals: Totals, *, capped: bool = False) -> RepositoryResult:
        return RepositoryResult(
            run_id=self._message.run_id,
            repository=self._message.repository,
            status=status,
            dry_run=self._dry_run,
            manifest_reads=self._message.manifest_reads,
            totals=totals,
            capped=capped,
        )
