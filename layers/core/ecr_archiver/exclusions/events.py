"""The events that start an exclusion sync, as Powertools Parser models.

The handler parses whatever arrived into one of these and hands the logic only a
:class:`SyncTrigger` (for logs); every trigger runs the same full reconcile.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field


class ParameterStoreChangeDetail(BaseModel):
    """``detail`` of a Parameter Store Change event (failure variants add ``exception``)."""

    model_config = ConfigDict(extra="allow")

    operation: str
    name: str
    type: str | None = None
    description: str | None = None


class ParameterStoreChangeEvent(EventBridgeModel):
    source: Literal["aws.ssm"]
    detail_type: Literal["Parameter Store Change"] = Field(alias="detail-type")
    detail: ParameterStoreChangeDetail


class ScheduledEvent(EventBridgeModel):
    """An EventBridge schedule rule's event (``detail`` is ``{}``)."""

    source: Literal["aws.events", "aws.scheduler"]
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")


class ManualInvoke(BaseModel):
    """``{}``: an operator running the sync by hand (``aws lambda invoke``, ``sam local invoke``)."""

    model_config = ConfigDict(extra="forbid")


#: Every accepted shape; the Literal source/detail-type fields and ``extra="forbid"`` keep them apart.
SyncEvent = ParameterStoreChangeEvent | ScheduledEvent | ManualInvoke


class TriggerKind(StrEnum):
    PARAMETER_CHANGE = "parameter-change"
    SCHEDULE = "schedule"
    MANUAL = "manual"


class SyncTrigger(BaseModel):
    """Why this sync runs; logged with the outcome."""

    model_config = ConfigDict(frozen=True)

    kind: TriggerKind
    event_id: str | None = None
    parameter_name: str | None = None
    operation: str | None = None


def parse_trigger(event: dict[str, Any]) -> SyncTrigger:
    """The trigger of ``event``; raises the parser's ``ValidationError`` for any other shape."""
    parsed: SyncEvent = parse(event=event, model=SyncEvent)  # type: ignore[call-overload]  # a union, not a class
    if isinstance(parsed, ParameterStoreChangeEvent):
        return SyncTrigger(
            kind=TriggerKind.PARAMETER_CHANGE,
            event_id=parsed.id,
            parameter_name=parsed.detail.name,
            operation=parsed.detail.operation,
        )
    if isinstance(parsed, ScheduledEvent):
        return SyncTrigger(kind=TriggerKind.SCHEDULE, event_id=parsed.id)
    return SyncTrigger(kind=TriggerKind.MANUAL)
