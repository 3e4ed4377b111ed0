"""auto_restore: restore an archived image as soon as a workload fails to pull it.

Invoked asynchronously by three EventBridge rules: ECS tasks that failed to start, failed Lambda
CreateFunction/UpdateFunctionCode calls (CloudTrail), and, when opted in, every ECR BatchGetImage
(CloudTrail read-only management events). The event is parsed into the images it names and one
logic call decides and restores. A malformed or partial event is logged and answered, never
raised: retrying cannot fix it. Real faults (throttling or 5xx after the SDK's retries, access
denied) raise, so Lambda retries the event and then sends it to the dead-letter queue.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ecr_archiver.adapters.dynamodb import StateTable
from ecr_archiver.adapters.ecr import EcrRegistry
from ecr_archiver.adapters.sns import NoticeTopic
from ecr_archiver.observability import logger, metrics, tracer
from ecr_archiver.restore.auto.events import MalformedEvent, parse_demand
from ecr_archiver.restore.auto.guards import HourlyCap, PowertoolsOnce
from ecr_archiver.restore.auto.logic import AutoRestorePolicy, AutoRestoreServices, auto_restore, refuse_event
from ecr_archiver.restore.auto.settings import AutoRestoreSettings
from ecr_archiver.settings import load_settings

SETTINGS = load_settings(AutoRestoreSettings)


@cache
def _once() -> PowertoolsOnce:
    store = StateTable(SETTINGS.state_table_name).idempotency_store()
    return PowertoolsOnce(store, expires_after_seconds=SETTINGS.dedupe_seconds)


def _services() -> AutoRestoreServices:
    return AutoRestoreServices(
        policy=AutoRestorePolicy(
            enabled=SETTINGS.enabled,
            allowed=SETTINGS.allowed_repositories,
            registry=SETTINGS.local_registry(),
        ),
        registry=EcrRegistry(),
        once=_once(),
        budget=HourlyCap(StateTable(SETTINGS.state_table_name), limit=SETTINGS.max_per_hour),
        notices=NoticeTopic(SETTINGS.notice_topic_arn),
    )


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _once().register_lambda_context(context)
    try:
        demand = parse_demand(event)
    except MalformedEvent as exc:
        return refuse_event(str(exc)).model_dump(mode="json", by_alias=True)
    return auto_restore(demand, _services()).model_dump(mode="json", by_alias=True)
