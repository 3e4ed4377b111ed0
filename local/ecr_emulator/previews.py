"""Lifecycle policy validation and previews (StartLifecyclePolicyPreview/GetLifecyclePolicyPreview).

The policy grammar lives in ``ecr_emulator.lifecycle_policy`` and the rule evaluation in
``ecr_emulator.lifecycle_eval`` (both the emulator's own, written from AWS's documentation); this
module snapshots the repository when Start is called and serves that snapshot on the emulator
clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto.ecr.exceptions import InvalidParameterException, LifecyclePolicyNotFoundException
from moto.ecr.models import ECRBackend, Repository

from ecr_emulator import pagination
from ecr_emulator.errors import (
    LifecyclePolicyPreviewInProgressException,
    LifecyclePolicyPreviewNotFoundException,
)
from ecr_emulator.lifecycle_policy import Policy, PolicyInvalid, parse_policy
from ecr_emulator.registry import ACTIVATING, ARCHIVED, get_repository, index_of, meta_of
from ecr_emulator.state import STATE

logger = logging.getLogger(__name__)

_STORAGE_CLASS = {"ACTIVE": "STANDARD", ARCHIVED: "ARCHIVE", ACTIVATING: "ACTIVATING"}


def validate_policy(text: str) -> Policy:
    """Parse and validate; the problem becomes ``InvalidParameterException``."""
    try:
        return parse_policy(text)
    except PolicyInvalid as exc:
        raise InvalidParameterException(str(exc)) from exc


@dataclass
class PreviewRun:
    policy_text: str
    started_at: datetime
    results: list[dict[str, Any]]
    summary: dict[str, Any]
    fails: bool

    def status(self, now: datetime) -> str:
        ready_at = self.started_at + STATE.settings.preview_in_progress_for
        if now < ready_at:
            return "IN_PROGRESS"
        if self.fails:
            return "FAILED"
        if now >= ready_at + STATE.settings.preview_expires_after:
            return "EXPIRED"
        return "COMPLETE"


def eval_images(repo: Repository) -> list[Any]:
    from ecr_emulator.lifecycle_eval import EvalImage

    index = index_of(repo)
    now = STATE.clock.now()
    images = []
    for image in repo.images:
        meta = meta_of(image)
        status = meta.settle(now)
        digest = image.get_image_digest()
        images.append(
            EvalImage(
                digest=digest,
                tags=tuple(image.image_tags),
                pushed_at=meta.pushed_at,
                last_pulled_at=meta.last_pulled_at,
                last_activated_at=meta.last_activated_at,
                last_archived_at=meta.last_archived_at,
                storage_class=_STORAGE_CLASS[status],
                parent_digests=frozenset(p for p in index.parents.get(digest, ()) if p in index.by_digest),
                subject_digest=meta.info.subject,
            )
        )
    return images


def result_entry(result: Any) -> dict[str, Any]:
    action: dict[str, Any] = {"type": result.action_type}
    if result.action_type == "TRANSITION":
        action["targetStorageClass"] = result.target_storage_class or "ARCHIVE"
    return {
        "imageTags": list(result.tags),
        "imageDigest": result.digest,
        "imagePushedAt": result.pushed_at,
        "action": action,
        "appliedRulePriority": result.applied_rule_priority,
        "storageClass": result.storage_class,
    }


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    expiring = sum(1 for r in results if r["action"]["type"] == "EXPIRE")
    transitioning = len(results) - expiring
    summary: dict[str, Any] = {"expiringImageTotalCount": expiring}
    if transitioning:
        # "only present if at least one image will be transitioned"
        summary["transitioningImageTotalCounts"] = [
            {"targetStorageClass": "ARCHIVE", "imageTotalCount": transitioning}
        ]
    return summary


def _runs(self: ECRBackend) -> dict[str, PreviewRun]:
    runs: dict[str, PreviewRun] | None = getattr(self, "_emu_previews", None)
    if runs is None:
        runs = {}
        setattr(self, "_emu_previews", runs)  # noqa: B010 - wiped with the backend on reset
    return runs


def start_lifecycle_policy_preview(
    self: ECRBackend, repository_name: str, registry_id: str | None, policy_text: str | None
) -> dict[str, Any]:
    repo = get_repository(self, repository_name, registry_id)
    now = STATE.clock.now()
    runs = _runs(self)
    current = runs.get(repo.name)
    if current is not None and current.status(now) == "IN_PROGRESS":
        raise LifecyclePolicyPreviewInProgressException()
    if policy_text is None:
        if not repo.lifecycle_policy:
            raise LifecyclePolicyNotFoundException(repo.name, repo.registry_id)
        policy_text = repo.lifecycle_policy
    policy = validate_policy(policy_text)
    key = (self.account_id, self.region_name, repo.name)
    fails = key in STATE.failing_previews
    STATE.failing_previews.discard(key)
    results: list[dict[str, Any]] = []
    if not fails:
        from ecr_emulator.lifecycle_eval import evaluate

        try:
            evaluated = evaluate(policy, eval_images(repo), now)
        except Exception:  # a bug in evaluation surfaces as a FAILED preview, as AWS reports it
            logger.exception("lifecycle preview evaluation failed for %s", repo.name)
            fails = True
        else:
            results = [result_entry(r) for r in evaluated]
            results.sort(key=lambda r: (r["appliedRulePriority"], r["imagePushedAt"], r["imageDigest"]))
    runs[repo.name] = PreviewRun(policy_text, now, results, _summary(results), fails)
    return {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "lifecyclePolicyText": policy_text,
        "status": "IN_PROGRESS",
    }


def get_lifecycle_policy_preview(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None,
    image_ids: list[dict[str, str]] | None,
    filter_: dict[str, Any] | None,
    max_results: int | None,
    next_token: str | None,
) -> dict[str, Any]:
    repo = get_repository(self, repository_name, registry_id)
    run = _runs(self).get(repo.name)
    if run is None:
        raise LifecyclePolicyPreviewNotFoundException()
    status = run.status(STATE.clock.now())
    response: dict[str, Any] = {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "lifecyclePolicyText": run.policy_text,
        "status": status,
        "previewResults": [],
    }
    if image_ids and (max_results is not None or next_token):
        raise InvalidParameterException(
            "Invalid parameter: maxResults and nextToken cannot be used with imageIds"
        )
    size = pagination.page_size(max_results, default=100, maximum=100)
    tag_status = (filter_ or {}).get("tagStatus") or "ANY"
    if tag_status not in ("TAGGED", "UNTAGGED", "ANY"):
        raise InvalidParameterException(f"Invalid parameter at 'filter.tagStatus': {tag_status!r}")
    if status != "COMPLETE":
        # No results while running, after a failure, or once expired.
        return response
    results = run.results
    if tag_status == "TAGGED":
        results = [r for r in results if r["imageTags"]]
    elif tag_status == "UNTAGGED":
        results = [r for r in results if not r["imageTags"]]
    if image_ids:
        wanted_digests = {i["imageDigest"] for i in image_ids if i.get("imageDigest")}
        wanted_tags = {i["imageTag"] for i in image_ids if i.get("imageTag")}
        results = [
            r for r in results if r["imageDigest"] in wanted_digests or wanted_tags & set(r["imageTags"])
        ]
    fingerprint = f"lpp:{repo.name}:{id(run)}:{run.started_at.isoformat()}:{tag_status}"
    offset = pagination.decode(next_token, fingerprint) or 0
    response["previewResults"] = results[offset : offset + size]
    if offset + size < len(results):
        response["nextToken"] = pagination.encode(offset + size, fingerprint)
    response["summary"] = run.summary
    return response


METHODS: dict[str, Callable[..., Any]] = {
    "start_lifecycle_policy_preview": start_lifecycle_policy_preview,
    "get_lifecycle_policy_preview": get_lifecycle_policy_preview,
}
