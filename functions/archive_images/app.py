"""archive_images: one SQS message = one repository's share of a run (or its continuation)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.s3 import ObjectStore
from ecr_archiver.adapters.sqs import WorkQueue
from ecr_archiver.archiving.errors import PreviewNotReady
from ecr_archiver.archiving.models import WorkMessage
from ecr_archiver.archiving.ratelimit import TokenBucket
from ecr_archiver.archiving.settings import WorkerSettings
from ecr_archiver.archiving.worker import WorkerLimits, archive_candidates
from ecr_archiver.observability import logger, metrics, tracer
from ecr_archiver.settings import load_settings

SETTINGS = load_settings(WorkerSettings)
LIMITS = WorkerLimits(
    max_tps=SETTINGS.instance_max_tps,
    concurrency=SETTINGS.archive_concurrency,
    safety_margin_ms=SETTINGS.time_budget_margin_seconds * 1000,
    force_dry_run=SETTINGS.dry_run,
)
# One bucket for the execution environment, shared by warm invocations: it starts at one token and
# saves up at most a quarter second of calls while the worker is between repositories, so the
# round trips around each repository (preview page, DescribeImages, report, next message) do not
# cost archive throughput. The sustained rate stays this instance's share (see ratelimit.py).
BUCKET = TokenBucket(LIMITS.max_tps, burst=LIMITS.max_tps * 0.25, initial=1.0)
# With BatchSize 1 every failure is an "entire batch" failure: report it as a batch item failure
# instead of failing the invocation (the message is retried either way; the Errors alarm stays
# for real crashes).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> dict[str, Any]:
    message = WorkMessage.model_validate_json(record.body)
    logger.append_keys(run_id=message.run_id, repository=message.repository)
    queue = WorkQueue(SETTINGS.work_queue_url)
    try:
        result = archive_candidates(
            message,
            registry=EcrRegistry(),
            store=ObjectStore(SETTINGS.report_bucket),
            queue=queue,
            remaining_ms=lambda_context.get_remaining_time_in_millis,
            limits=LIMITS,
            bucket=BUCKET,
            delivery_id=record.message_id,
        )
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
