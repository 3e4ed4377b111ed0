"""The events that ask for an automatic restore, as Powertools Parser models, and what each asks for.

- ``ECS Task State Change`` (source ``aws.ecs``): a STOPPED task that failed to start; the images
  are ``containers[].image`` (tag or digest URIs), with ``imageDigest`` when ECS resolved one.
- ``AWS API Call via CloudTrail`` from ``aws.lambda``: a failed ``CreateFunction*`` or
  ``UpdateFunctionCode*``; the image is ``requestParameters.imageUri`` (UpdateFunctionCode) or
  ``requestParameters.code.imageUri`` (CreateFunction).
- ``AWS API Call via CloudTrail`` from ``aws.ecr``: ``BatchGetImage`` (a pull), whose
  ``requestParameters`` name the repository and ``imageIds``; the registry is ``registryId``, or
  the account that received the event when the caller left it out.

Every model ignores fields it does not use, so AWS adding fields never breaks parsing; a missing
field the decision needs makes the whole event :class:`MalformedEvent`.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from ecr_archiver.errors import dotted_path
from ecr_archiver.models import is_digest
from ecr_archiver.restore.auto.models import RequestedImage, Workload, WorkloadDemand, WorkloadKind
from ecr_archiver.restore.references import RegistryKind, parse_image_uri, private_ecr_image

CLOUDTRAIL = "AWS API Call via CloudTrail"


class MalformedEvent(ValueError):
    """The event is not one of the three shapes, or lacks what the decision needs."""


class _Detail(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)


# -- ECS ------------------------------------------------------------------------------------------
class EcsContainer(_Detail):
    name: str | None = None
    image: str | None = None
    image_digest: str | None = None
    reason: str | None = None
    last_status: str | None = None


class EcsTaskDetail(_Detail):
    cluster_arn: str
    task_arn: str
    task_definition_arn: str
    group: str | None = None
    last_status: str
    stop_code: str | None = None
    stopped_reason: str | None = None
    containers: list[EcsContainer] = Field(default_factory=list)


class EcsTaskStateChange(EventBridgeModel):
    source: Literal["aws.ecs"]
    detail_type: Literal["ECS Task State Change"] = Field(alias="detail-type")
    detail: EcsTaskDetail


# -- CloudTrail -----------------------------------------------------------------------------------
class UserIdentity(_Detail):
    arn: str | None = None
    type: str | None = None


class LambdaCode(_Detail):
    image_uri: str | None = None


class LambdaRequest(_Detail):
    function_name: str
    image_uri: str | None = None
    code: LambdaCode | None = None


class LambdaApiCallDetail(_Detail):
    event_source: Literal["lambda.amazonaws.com"]
    event_name: str
    error_code: str | None = None
    user_identity: UserIdentity | None = None
    request_parameters: LambdaRequest


class LambdaApiCall(EventBridgeModel):
    source: Literal["aws.lambda"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    detail: LambdaApiCallDetail


class EcrImageId(_Detail):
    image_tag: str | None = None
    image_digest: str | None = None


class BatchGetImageRequest(_Detail):
    registry_id: str | None = None
    repository_name: str
    image_ids: list[EcrImageId] = Field(min_length=1)


class EcrApiCallDetail(_Detail):
    event_source: Literal["ecr.amazonaws.com"]
    event_name: Literal["BatchGetImage"]
    aws_region: str | None = None
    recipient_account_id: str | None = None
    user_identity: UserIdentity | None = None
    request_parameters: BatchGetImageRequest


class EcrPull(EventBridgeModel):
    source: Literal["aws.ecr"]
    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")
    detail: EcrApiCallDetail


#: Every accepted shape; the Literal source and detail-type fields keep them apart.
AutoRestoreEvent = EcsTaskStateChange | LambdaApiCall | EcrPull


def parse_demand(event: Any) -> WorkloadDemand:
    """What ``event`` asks for; raises :class:`MalformedEvent` with a one-line reason."""
    if not isinstance(event, dict):
        raise MalformedEvent(f"the event is a {type(event).__name__}, not a JSON object")
    try:
        parsed: AutoRestoreEvent = parse(event=event, model=AutoRestoreEvent)  # type: ignore[call-overload]  # a union
    except ValidationError as exc:
        raise MalformedEvent(_one_line(event, exc)) from None
    if isinstance(parsed, EcsTaskStateChange):
        return _ecs_demand(parsed)
    if isinstance(parsed, LambdaApiCall):
        return _lambda_demand(parsed)
    return _pull_demand(parsed)


def _one_line(event: dict[str, Any], exc: ValidationError) -> str:
    """The first problem of the branch the event's ``source`` selects (the others are noise)."""
    source = event.get("source")
    errors = exc.errors()
    own = [e for e in errors if any(str(p).startswith(_BRANCH.get(str(source), "?")) for p in e["loc"])]
    if not own:
        return (
            f"not an ECS task state change or a Lambda/ECR CloudTrail event "
            f"(source {source!r}, detail-type {event.get('detail-type')!r})"
        )
    first = own[0]
    where = dotted_path(first["loc"][1:], "event")
    return f"{source} event: {where}: {first['msg']}"


_BRANCH = {"aws.ecs": "EcsTaskStateChange", "aws.lambda": "LambdaApiCall", "aws.ecr": "EcrPull"}


def _requested(uri: str, *, digest: str | None = None) -> RequestedImage:
    try:
        image = parse_image_uri(uri)
    except ValueError as exc:
        return RequestedImage(written=uri, problem=str(exc))
    if digest and image.digest is None and image.kind is RegistryKind.PRIVATE_ECR and is_digest(digest):
        image = image.model_copy(update={"digest": digest})
    return RequestedImage(written=uri, image=image)


def _unique(images: list[RequestedImage]) -> tuple[RequestedImage, ...]:
    seen: dict[tuple[str, str | None], RequestedImage] = {}
    for item in images:
        seen.setdefault((item.written, item.image.digest if item.image else None), item)
    return tuple(seen.values())


def _last(arn: str, sep: str) -> str:
    return arn.rsplit(sep, 1)[-1]


def _ecs_demand(event: EcsTaskStateChange) -> WorkloadDemand:
    detail = event.detail
    images = [_requested(c.image, digest=c.image_digest) for c in detail.containers if c.image]
    if not images:
        raise MalformedEvent("aws.ecs event: no container names an image (detail.containers[].image)")
    group = detail.group or ""
    workload = Workload(
        kind=WorkloadKind.ECS_TASK,
        event_id=event.id,
        cluster=_last(detail.cluster_arn, "/"),
        task_definition=_last(detail.task_definition_arn, "/"),
        service=group.removeprefix("service:") if group.startswith("service:") else None,
        group=None if group.startswith("service:") else group or None,
        task=detail.task_arn,
    )
    return WorkloadDemand(workload=workload, images=_unique(images))


def _lambda_demand(event: LambdaApiCall) -> WorkloadDemand:
    detail = event.detail
    request = detail.request_parameters
    uri = request.image_uri or (request.code.image_uri if request.code else None)
    if not uri:
        raise MalformedEvent(
            "aws.lambda event: requestParameters carry no imageUri (not a container-image function)"
        )
    workload = Workload(
        kind=WorkloadKind.LAMBDA_FUNCTION,
        event_id=event.id,
        function_name=_function_name(request.function_name),
        api_call=detail.event_name,
        error_code=detail.error_code,
        principal=detail.user_identity.arn if detail.user_identity else None,
    )
    return WorkloadDemand(workload=workload, images=(_requested(uri),))


def _function_name(name_or_arn: str) -> str:
    """``arn:aws:lambda:<region>:<account>:function:NAME[:qualifier]`` or ``NAME`` -> ``NAME``."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn


def _pull_demand(event: EcrPull) -> WorkloadDemand:
    detail = event.detail
    request = detail.request_parameters
    registry_id = request.registry_id or detail.recipient_account_id or event.account
    region = detail.aws_region or event.region
    images = [
        _pulled(registry_id, region, request.repository_name, image_id) for image_id in request.image_ids
    ]
    workload = Workload(
        kind=WorkloadKind.IMAGE_PULL,
        event_id=event.id,
        api_call=detail.event_name,
        principal=detail.user_identity.arn if detail.user_identity else None,
    )
    return WorkloadDemand(workload=workload, images=_unique(images))


def _pulled(registry_id: str, region: str, repository: str, image_id: EcrImageId) -> RequestedImage:
    written = (
        f"{repository}@{image_id.image_digest}"
        if image_id.image_digest
        else f"{repository}:{image_id.image_tag}"
    )
    if not (image_id.image_tag or image_id.image_digest):
        return RequestedImage(
            written=repository, problem="imageIds entry has neither imageTag nor imageDigest"
        )
    try:
        image = private_ecr_image(
            registry_id=registry_id,
            region=region,
            repository=repository,
            tag=image_id.image_tag,
            digest=image_id.image_digest,
        )
    except ValueError as exc:
        return RequestedImage(written=written, problem=str(exc))
    return RequestedImage(written=written, image=image)
