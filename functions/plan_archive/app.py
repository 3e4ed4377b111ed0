"""plan_archive: on the archive schedule, plan one run and fan it out to the work queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.s3 import ObjectStore
from ecr_archiver.adapters.sqs import WorkQueue
from ecr_archiver.adapters.ssm import ConfigParameter
from ecr_archiver.archiving.planner import PlanOptions, plan_archive_run
from ecr_archiver.archiving.settings import PlannerSettings
from ecr_archiver.archiving.sources import in_use_sources
from ecr_archiver.errors import ConfigInvalid
from ecr_archiver.observability import MetricUnit, logger, metrics, tracer
from ecr_archiver.settings import load_settings

SETTINGS = load_settings(PlannerSettings)
CONFIG = ConfigParameter(SETTINGS.config_parameter_name)


class ScheduleEvent(BaseModel):
    """The schedule's input: EventBridge Scheduler fills ``id`` and ``time`` per execution."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    time: datetime | None = None


def run_id_for(event: ScheduleEvent) -> str:
    """Stable per scheduled execution, so a retried invocation rewrites the same run."""
    when = event.time or datetime.now(UTC)
    suffix = (event.id or "manual").replace("-", "")[:8]
    return f"{when:%Y%m%dT%H%M%SZ}-{suffix}"


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run_id = run_id_for(ScheduleEvent.model_validate(event or {}))
    logger.append_keys(run_id=run_id)
    try:
        result = plan_archive_run(
            CONFIG.text(),
            run_id=run_id,
            registry=EcrRegistry(),
            in_use_sources=in_use_sources,
            queue=WorkQueue(SETTINGS.work_queue_url),
            store=ObjectStore(SETTINGS.report_bucket),
            options=PlanOptions(
                force_dry_run=SETTINGS.dry_run,
                delay_seconds=SETTINGS.preview_delay_seconds,
                worker_role_arn=SETTINGS.worker_role_arn,
            ),
        )
    except ConfigInvalid as exc:
        # The one place a bad configuration is mapped: metric, error log, failed invocation.
        metrics.add_metric(name="ConfigInvalid", unit=MetricUnit.Count, value=1)
        logger.error("configuration invalid; nothing was changed", extra={"error": exc.message})
        raise
    return result.model_dump(mode="json", by_alias=True)
