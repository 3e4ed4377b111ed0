"""What an automatic restore reads and reports: the workload, the images it asked for, the decisions."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ecr_archiver.models import ImageStatus
from ecr_archiver.restore.models import _Wire
from ecr_archiver.restore.references import ImageUri


class WorkloadKind(StrEnum):
    ECS_TASK = "ecs-task"
    LAMBDA_FUNCTION = "lambda-function"
    IMAGE_PULL = "image-pull"


class Workload(_Wire):
    """Who needed the images: named in logs, in the notice, and in the returned report."""

    kind: WorkloadKind
    event_id: str | None = None
    cluster: str | None = None
    task_definition: str | None = None
    service: str | None = Field(default=None, description="ECS service name (task group service:NAME).")
    group: str | None = Field(default=None, description="ECS task group when it is not a service.")
    task: str | None = None
    function_name: str | None = None
    api_call: str | None = Field(
        default=None, description="CloudTrail eventName, e.g. UpdateFunctionCode20150331v2."
    )
    error_code: str | None = None
    principal: str | None = Field(default=None, description="userIdentity.arn of the CloudTrail event.")

    def describe(self) -> str:
        """One phrase naming the workload.

        For example ``ECS service orders-api in cluster prod (task definition orders-api:42)``.
        """
        if self.kind is WorkloadKind.ECS_TASK:
            who = f"ECS service {self.service}" if self.service else f"ECS task group {self.group or '?'}"
            return f"{who} in cluster {self.cluster or '?'} (task definition {self.task_definition or '?'})"
        if self.kind is WorkloadKind.LAMBDA_FUNCTION:
            failed = f"{self.api_call or '?'} failed: {self.error_code or '?'}"
            return f"Lambda function {self.function_name or '?'} ({failed})"
        return f"a pull (BatchGetImage) by {self.principal or 'an unknown principal'}"


class RequestedImage(_Wire):
    """One image the workload asked for: parsed, or the reason it could not be."""

    written: str
    image: ImageUri | None = None
    problem: str | None = None


class WorkloadDemand(_Wire):
    """Everything one event asks for."""

    workload: Workload
    images: tuple[RequestedImage, ...]


class Action(StrEnum):
    RESTORE_STARTED = "RestoreStarted"
    SKIPPED = "Skipped"


class SkipReason(StrEnum):
    """Why nothing was restored for an image: the ``Reason`` dimension of ``AutoRestoreSkipped``."""

    MALFORMED_EVENT = "MalformedEvent"
    MALFORMED_IMAGE = "MalformedImage"
    DISABLED = "Disabled"
    FOREIGN_IMAGE = "ForeignImage"
    NOT_ALLOWED = "NotAllowed"
    REPOSITORY_NOT_FOUND = "RepositoryNotFound"
    IMAGE_NOT_FOUND = "ImageNotFound"
    ALREADY_ACTIVE = "AlreadyActive"
    ACTIVATING = "Activating"
    DUPLICATE = "Duplicate"
    CAPPED = "Capped"
    NOT_RESTORABLE = "NotRestorable"


class Decision(_Wire):
    """What was done for one requested image, and why."""

    image: str
    action: Action
    reason: SkipReason | None = None
    detail: str
    repository: str | None = None
    digest: str | None = None
    status: ImageStatus | None = None
    referrers_restored: int = 0


class AutoRestoreReport(_Wire):
    """The handler's return value (and its final log line)."""

    workload: Workload | None
    decisions: tuple[Decision, ...]

    @property
    def started(self) -> int:
        return sum(1 for d in self.decisions if d.action is Action.RESTORE_STARTED)


class RestoreKey(_Wire):
    """The idempotency key: one restore per image (registry, repository, digest) per dedupe window."""

    registry_id: str
    repository: str
    digest: str


class RestoreAttempt(_Wire):
    """What the once-per-image restore did; stored as the idempotency record's result."""

    attempt_id: str
    started: bool
    status: ImageStatus
    referrers_restored: int = 0
