"""Response handlers installed on moto's ``ECRResponse`` (moto dispatches ``UpdateImageStorageClass``
to a method named ``update_image_storage_class``), plus the call-counting and fault-injection
hook on every moto service's ``call_action``."""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult, BaseResponse
from moto.ecr.responses import ECRResponse

from ecr_emulator import backend as ext
from ecr_emulator import previews
from ecr_emulator.errors import InjectedException
from ecr_emulator.faults import status_for
from ecr_emulator.identity import principal_for
from ecr_emulator.state import STATE

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def caller_access_key(response: BaseResponse) -> str | None:
    match = _CREDENTIAL.search(response.headers.get("Authorization", "") or "")
    return match.group(1) if match else None


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"cannot serialize {type(value).__name__}")


#: ``(status, headers, body)`` as moto's ``call_action`` accepts it.
JsonResponse = tuple[int, dict[str, str], str]


def json_response(data: dict[str, Any]) -> JsonResponse:
    """Serialize an awsJson1.1 response directly (timestamps as epoch seconds).

    moto's model-driven serializer costs ~0.15 ms per field; a 1,000-image DescribeImages page
    took ~0.2 s through it, which made 100k-image repositories impractical. Our handlers build
    exactly the model's shapes, so plain ``json.dumps`` is equivalent.
    """
    body = json.dumps(_without_none(data), default=_epoch, separators=(",", ":"))
    return 200, {"status": "200", "Content-Type": "application/x-amz-json-1.1"}, body


def describe_images(self: ECRResponse) -> JsonResponse:
    details, token = ext.describe_images_page(
        self.ecr_backend,
        self._get_param("repositoryName"),
        self._get_param("registryId"),
        self._get_param("imageIds"),
        self._get_param("filter"),
        self._get_param("maxResults"),
        self._get_param("nextToken"),
    )
    return json_response({"imageDetails": details, "nextToken": token})


def list_images(self: ECRResponse) -> JsonResponse:
    ids, token = ext.list_images_page(
        self.ecr_backend,
        self._get_param("repositoryName"),
        self._get_param("registryId"),
        self._get_param("filter"),
        self._get_param("maxResults"),
        self._get_param("nextToken"),
    )
    return json_response({"imageIds": ids, "nextToken": token})


def update_image_storage_class(self: ECRResponse) -> JsonResponse:
    return json_response(
        ext.update_image_storage_class(
            self.ecr_backend,
            self._get_param("repositoryName"),
            self._get_param("registryId"),
            self._get_param("imageId") or {},
            self._get_param("targetStorageClass"),
        )
    )


def batch_get_image(self: ECRResponse) -> JsonResponse:
    principal = principal_for(caller_access_key(self), account_id=self.current_account, region=self.region)
    return json_response(
        ext.emu_batch_get_image(
            self.ecr_backend,
            self._get_param("repositoryName"),
            self._get_param("registryId"),
            self._get_param("imageIds") or [],
            principal,
        )
    )


def list_image_referrers(self: ECRResponse) -> JsonResponse:
    subject = self._get_param("subjectId") or {}
    referrers, token = ext.list_image_referrers(
        self.ecr_backend,
        self._get_param("repositoryName"),
        self._get_param("registryId"),
        str(subject.get("imageDigest") or ""),
        self._get_param("filter"),
        self._get_param("maxResults"),
        self._get_param("nextToken"),
    )
    return json_response({"referrers": referrers, "nextToken": token})


def register_pull_time_update_exclusion(self: ECRResponse) -> JsonResponse:
    return json_response(
        ext.register_pull_time_update_exclusion(self.ecr_backend, self._get_param("principalArn"))
    )


def deregister_pull_time_update_exclusion(self: ECRResponse) -> JsonResponse:
    return json_response(
        ext.deregister_pull_time_update_exclusion(self.ecr_backend, self._get_param("principalArn"))
    )


def list_pull_time_update_exclusions(self: ECRResponse) -> JsonResponse:
    arns, token = ext.list_pull_time_update_exclusions(
        self.ecr_backend, self._get_param("maxResults"), self._get_param("nextToken")
    )
    return json_response({"pullTimeUpdateExclusions": arns, "nextToken": token})


def start_lifecycle_policy_preview(self: ECRResponse) -> JsonResponse:
    return json_response(
        previews.start_lifecycle_policy_preview(
            self.ecr_backend,
            self._get_param("repositoryName"),
            self._get_param("registryId"),
            self._get_param("lifecyclePolicyText"),
        )
    )


def get_lifecycle_policy_preview(self: ECRResponse) -> JsonResponse:
    return json_response(
        previews.get_lifecycle_policy_preview(
            self.ecr_backend,
            self._get_param("repositoryName"),
            self._get_param("registryId"),
            self._get_param("imageIds"),
            self._get_param("filter"),
            self._get_param("maxResults"),
            self._get_param("nextToken"),
        )
    )


HANDLERS: dict[str, Callable[[ECRResponse], JsonResponse]] = {
    "describe_images": describe_images,
    "list_images": list_images,
    "update_image_storage_class": update_image_storage_class,
    "batch_get_image": batch_get_image,
    "list_image_referrers": list_image_referrers,
    "register_pull_time_update_exclusion": register_pull_time_update_exclusion,
    "deregister_pull_time_update_exclusion": deregister_pull_time_update_exclusion,
    "list_pull_time_update_exclusions": list_pull_time_update_exclusions,
    "start_lifecycle_policy_preview": start_lifecycle_policy_preview,
    "get_lifecycle_policy_preview": get_lifecycle_policy_preview,
}

#: moto's own ``BaseResponse.call_action``, kept by ``install`` for delegation.
_ORIGINAL: dict[str, Callable[[BaseResponse], Any]] = {}


def operation_key(response: BaseResponse) -> tuple[str, str] | None:
    """``("DescribeImages", "ecr")`` for ECR; ``("sqs:SendMessage", "sqs")`` for other services."""
    service = response.service_name or ""
    try:
        action = response._get_action()
    except Exception:
        return None
    if not action:
        return None
    return (action, service) if service == "ecr" else (f"{service}:{action}", service)


def call_action(self: BaseResponse) -> Any:
    """Count the call, then apply any injected latency, throttling or error before moto runs it."""
    key = operation_key(self)
    if key is not None:
        name, service = key
        STATE.count_call(name)
        fault = STATE.faults.decide(name, service)
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)  # real time: benchmarks measure it
            if fault.error_code:
                with warnings.catch_warnings():
                    # Injected codes need not exist in the service model; moto warns, then
                    # serializes them generically in the service's own protocol, which is fine.
                    warnings.simplefilter("ignore")
                    _, headers, body = self.serialized(
                        ActionResult(InjectedException(fault.error_code, fault.message))
                    )
                headers, body = self._enrich_response(headers, body)
                headers["status"] = str(status_for(fault.error_code))
                headers["x-amzn-ErrorType"] = fault.error_code
                return status_for(fault.error_code), headers, body
    if self.service_name in ("ecr", "dynamodb"):
        # The server answers on many threads and neither the registry indexes nor moto's
        # DynamoDB updates are thread-safe: these calls run one at a time (after their injected
        # latency, which stays concurrent), so a conditional or ADD update is atomic as in AWS.
        with STATE.lock:
            return _ORIGINAL["call_action"](self)
    return _ORIGINAL["call_action"](self)


def install() -> None:
    if _ORIGINAL:
        return
    for name, handler in HANDLERS.items():
        setattr(ECRResponse, name, handler)
    _ORIGINAL["call_action"] = BaseResponse.call_action
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
