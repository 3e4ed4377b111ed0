"""sync_exclusions: keep ECR's pull-time update exclusion list equal to Parameter Store.

Runs on every Parameter Store Change under the exclusions path, on a schedule that repairs drift,
and on a manual ``{}`` invoke; each trigger runs the same full reconcile. The function's reserved
concurrency is 1, so two syncs never race. Refusals and per-principal failures are returned (and
logged, and counted in metrics), not raised: retrying cannot fix a bad declaration, and the next
run retries failed changes. Unexpected errors (Parameter Store or ECR unreadable) raise, so Lambda
retries the event and finally sends it to the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.ssm import ParameterStore
from ecr_archiver.exclusions.events import parse_trigger
from ecr_archiver.exclusions.logic import reconcile_exclusions, report_outcome
from ecr_archiver.exclusions.settings import SyncExclusionsSettings
from ecr_archiver.observability import logger, metrics, tracer
from ecr_archiver.settings import load_settings

SETTINGS = load_settings(SyncExclusionsSettings)


@logger.inject_lambda_context(correlation_id_path="id")
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    trigger = parse_trigger(event)
    logger.append_keys(trigger=trigger.model_dump(exclude_none=True))
    result = reconcile_exclusions(
        SETTINGS.sync_options(),
        store=ParameterStore(),
        registry=EcrRegistry(),
        remaining_ms=context.get_remaining_time_in_millis,
    )
    report_outcome(result)
    return result.model_dump(mode="json")
