"""The notice published on the restore-notice topic when an automatic restore starts.

It names the workload that needed the image and the expected wait, and says what to do next; the
topic's existing "restore completed" notice (from ECR's own event) follows when the image is back.
"""

from __future__ import annotations

from typing import Any

from ecr_archiver.restore.auto.models import Decision, Workload, WorkloadKind
from ecr_archiver.restore.references import LocalRegistry

EVENT = "AutoRestoreStarted"


def _next_step(workload: Workload) -> str:
    if workload.kind is WorkloadKind.ECS_TASK and workload.service:
        return "The ECS service keeps starting tasks and recovers by itself once the image is back."
    if workload.kind is WorkloadKind.ECS_TASK:
        return "Run the task again once the image is back."
    if workload.kind is WorkloadKind.LAMBDA_FUNCTION:
        return "Retry the function deployment once the image is back."
    return "Retry the pull once the image is back."


def restore_started(
    decision: Decision, workload: Workload, *, registry: LocalRegistry, expected_wait_minutes: int
) -> tuple[str, dict[str, Any]]:
    """(subject, message) for an automatic restore that this invocation started."""
    image = f"{decision.repository}@{decision.digest}"
    referrers = f" and {decision.referrers_restored} referrer(s)" if decision.referrers_restored else ""
    text = (
        f"{workload.describe()} could not use {decision.image}: the image was archived. "
        f"ecr-archiver started restoring {image}{referrers}; expect it to be pullable within about "
        f"{expected_wait_minutes} minutes. A restore-completed notice follows. {_next_step(workload)}"
    )
    subject = f"ecr-archiver: restoring {decision.repository} for a {workload.kind.value}"
    message = {
        "message": text,
        "event": EVENT,
        "repository": decision.repository,
        "digest": decision.digest,
        "requestedImage": decision.image,
        "referrersRestored": decision.referrers_restored,
        "expectedWaitMinutes": expected_wait_minutes,
        "workload": workload.model_dump(mode="json", by_alias=True, exclude_none=True),
        "account": registry.registry_id,
        "region": registry.region,
    }
    return subject, message
