"""archive_images: one SQS message = one repository's share of a run (or its continuation)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecr_archiver.adapters.dynamodb import StateTable
from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.s3 import ObjectStore
from ecr_archiver.adapters.sqs import WorkQueue
from ecr_archiver.archiving.deliveries import DeliveryInProgress, PowertoolsDeliveries
from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.limiter import AccountRate, CallPacer
from ecr_archiver.archiving.models import RepositoryResult, WorkMessage
from ecr_archiver.archiving.ratelimit import TokenBucket
from ecr_archiver.archiving.settings import WorkerSettings
from ecr_archiver.archiving.worker import WorkerLimits, archive_candidates
from ecr_archiver.observability import logger, metrics, tracer
from ecr_archiver.settings import load_settings

SETTINGS = load_settings(WorkerSettings)
LIMITS = WorkerLimits(
    max_tps=SETTINGS.archive_max_tps if SETTINGS.shared_rate else SETTINGS.instance_max_tps,
    # Enough calls in flight for one worker alone to reach the whole rate at 200 ms per call.
    concurrency=SETTINGS.archive_threads,
    safety_margin_ms=SETTINGS.time_budget_margin_seconds * 1000,
    force_dry_run=SETTINGS.dry_run,
)
#: A delivery that found another worker running the same message is retried this soon.
DUPLICATE_RETRY_SECONDS = 30


def _pacer_and_deliveries() -> tuple[CallPacer, PowertoolsDeliveries | None]:
    """One pacer for the execution environment, shared by warm invocations.

    With the stack's state table: the account-wide lease schedule (every worker together stays
    at ARCHIVE_MAX_TPS) and Powertools Idempotency per delivery. Without one (local runs): this
    instance's share of the rate in a token bucket that saves up a quarter second of calls
    between repositories, and the worker's own redelivery marker.
    """
    if SETTINGS.state_table_name is None:
        return TokenBucket(LIMITS.max_tps, burst=LIMITS.max_tps * 0.25, initial=1.0), None
    table = StateTable(SETTINGS.state_table_name)
    rate = AccountRate(
        table,
        registry_id=str(SETTINGS.registry_id),
        rate=LIMITS.max_tps,
        # At least a preview page of calls per lease: two workers then take whole pages in turn
        # instead of slicing each other's pages (and finishing, and reading, in step).
        lease_seconds=max(SETTINGS.rate_lease_seconds, LIMITS.page_size / LIMITS.max_tps),
    )
    return rate, PowertoolsDeliveries(table.idempotency_store)  # built on the first delivery


BUCKET, DELIVERIES = _pacer_and_deliveries()
# With BatchSize 1 every failure is an "entire batch" failure: report it as a batch item failure
# instead of failing the invocation (the message is retried either way; the Errors alarm stays
# for real crashes).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _archive_once(
    message: WorkMessage, record: SQSRecord, context: LambdaContext, queue: WorkQueue
) -> RepositoryResult:
    """Run the worker once per delivery: Powertools Idempotency, or the worker's own marker."""

    def work() -> RepositoryResult:
        return archive_candidates(
            message,
            registry=EcrRegistry(),
            store=ObjectStore(SETTINGS.report_bucket),
            queue=queue,
            remaining_ms=context.get_remaining_time_in_millis,
            limits=LIMITS,
            bucket=BUCKET,
            delivery_id=record.message_id if DELIVERIES is None else None,
        )

    if DELIVERIES is None:
        return work()
    DELIVERIES.register_lambda_context(context)
    return DELIVERIES(record.message_id, work)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, Any]:
    message = WorkMessage.model_validate_json(record.body)
    logger.append_keys(run_id=message.run_id, repository=message.repository)
    queue = WorkQueue(SETTINGS.work_queue_url)
    try:
        result = _archive_once(message, record, lambda_context, queue)
    except Exception as exc:
        # The one place a failed message is explained. SQS retries it and, after the queue's
        # maxReceiveCount, moves it to the dead-letter queue: the last such line says why.
        logger.warning(
            "work message failed; SQS retries it",
            extra={
                "error": getattr(exc, "code", type(exc).__name__),
                "reason": str(exc),
                "receive_count": int(record.attributes.approximate_receive_count),
            },
        )
        if isinstance(exc, PreviewNotReady):
            # "Not ready" is retried after a short wait, not the full visibility timeout.
            queue.change_visibility(record.receipt_handle, SETTINGS.preview_retry_seconds)
        elif isinstance(exc, DeliveryInProgress):
            # The other delivery finishes the work; by the next receive this one finds its result.
            queue.change_visibility(record.receipt_handle, DUPLICATE_RETRY_SECONDS)
        raise
    return result.model_dump(mode="json", by_alias=True)


@logger.inject_lambda_context(correlation_id_path="Records[0].messageId")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
