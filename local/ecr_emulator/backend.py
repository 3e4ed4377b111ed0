"""Archive-era ECR operations, installed as methods on moto's ``ECRBackend``.

Each function takes the backend as ``self``. Functions named like moto's replace moto's
implementation with the same signature (moto's response handlers keep calling them); the rest
are new operations. Where AWS is silent, the stricter reading is taken and says so inline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.ecr.exceptions import ImageNotFoundException, InvalidParameterException
from moto.ecr.models import ECRBackend, Image, Repository

from ecr_emulator import pagination, registry
from ecr_emulator.errors import (
    ExclusionAlreadyExistsException,
    ExclusionNotFoundException,
    ImageArchivedException,
    ImageStorageClassUpdateNotSupportedException,
    LimitExceededException,
)
from ecr_emulator.registry import ACTIVATING, ACTIVE, ARCHIVED, find_image, get_repository, index_of, meta_of
from ecr_emulator.state import STATE

#: botocore's PrincipalArn pattern: IAM roles and users, any partition; no STS or root ARNs.
PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\w+=,.@-]+(/[\w+=,.@-]+)*$")
MAX_EXCLUSIONS = 100
STATUS_FILTERS = frozenset({ACTIVE, ARCHIVED, ACTIVATING, "ANY"})
TAG_FILTERS = frozenset({"TAGGED", "UNTAGGED", "ANY"})
INACCESSIBLE_REASON = "The requested image is in an inaccessible state. Please restore if needed"

_ORIGINALS: dict[str, Callable[..., Any]] = {}


def image_detail(repo: Repository, image: Image) -> dict[str, Any]:
    """The ``ImageDetail`` structure, archive-era fields included; absent values are omitted."""
    meta = meta_of(image)
    status = meta.settle(STATE.clock.now())
    detail: dict[str, Any] = {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "imageDigest": image.get_image_digest(),
        "imagePushedAt": meta.pushed_at,
        "imageManifestMediaType": meta.info.media_type,
        "imageStatus": status,
    }
    optional = {
        "imageTags": list(image.image_tags) or None,
        "imageSizeInBytes": meta.size,
        "artifactMediaType": meta.info.artifact_media_type,
        "lastRecordedPullTime": meta.last_pulled_at,
        "subjectManifestDigest": meta.info.subject,
        "lastArchivedAt": meta.last_archived_at,
        "lastActivatedAt": meta.last_activated_at,
    }
    detail.update({k: v for k, v in optional.items() if v is not None})
    return detail


def _filters(filter_: dict[str, Any] | None, *, default_status: str = ACTIVE) -> tuple[str, str]:
    filter_ = filter_ or {}
    tag_status = filter_.get("tagStatus") or "ANY"
    image_status = filter_.get("imageStatus") or default_status
    if tag_status not in TAG_FILTERS:
        raise InvalidParameterException(f"Invalid parameter at 'filter.tagStatus': {tag_status!r}")
    if image_status not in STATUS_FILTERS:
        raise InvalidParameterException(f"Invalid parameter at 'filter.imageStatus': {image_status!r}")
    return tag_status, image_status


def _selected(image: Image, tag_status: str, image_status: str) -> bool:
    if tag_status == "TAGGED" and not image.image_tags:
        return False
    if tag_status == "UNTAGGED" and image.image_tags:
        return False
    return image_status == "ANY" or registry.status_of(image) == image_status


def describe_images_page(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None,
    image_ids: list[dict[str, str]] | None,
    filter_: dict[str, Any] | None,
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    repo = get_repository(self, repository_name, registry_id)
    if image_ids:
        if max_results is not None or next_token:
            raise InvalidParameterException(
                "Invalid parameter: maxResults and nextToken cannot be used together with imageIds"
            )
        # With explicit imageIds the status filter defaults to ANY ("lookups by imageIds find
        # archived images too"); an explicit filter still applies, and an id it excludes is
        # reported as not found (the stricter reading: AWS is silent).
        tag_status, image_status = _filters(filter_, default_status="ANY")
        seen: dict[str, dict[str, Any]] = {}
        for image_id in image_ids:
            image = find_image(repo, image_id)
            if not _selected(image, "ANY", image_status):
                raise ImageNotFoundException(
                    image_id=registry.image_id_text(image_id),
                    repository_name=repo.name,
                    registry_id=repo.registry_id,
                )
            seen.setdefault(image.get_image_digest(), image_detail(repo, image))
        return list(seen.values()), None
    tag_status, image_status = _filters(filter_)
    size = pagination.page_size(max_results, default=100, maximum=1000)
    fingerprint = f"di:{repo.name}:{tag_status}:{image_status}"
    after = pagination.decode(next_token, fingerprint)
    page: list[dict[str, Any]] = []
    last_seq: int | None = None
    more = False
    for image in registry.ordered_images(repo, after):
        meta = meta_of(image)
        if not _selected(image, tag_status, image_status):
            continue
        if len(page) == size:
            more = True
            break
        page.append(image_detail(repo, image))
        last_seq = meta.seq
    token = pagination.encode(last_seq, fingerprint) if more else None
    return page, token


def list_images_page(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None,
    filter_: dict[str, Any] | None,
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[dict[str, str]], str | None]:
    """One entry per (digest, tag); untagged images appear once with the digest only."""
    repo = get_repository(self, repository_name, registry_id)
    tag_status, image_status = _filters(filter_)
    size = pagination.page_size(max_results, default=100, maximum=1000)
    fingerprint = f"li:{repo.name}:{tag_status}:{image_status}"
    position = pagination.decode(next_token, fingerprint)
    after_seq, after_tag = position if position is not None else (-1, -1)
    page: list[dict[str, str]] = []
    last: tuple[int, int] | None = None
    for image in registry.ordered_images(repo, after_seq - 1):
        meta = meta_of(image)
        if meta.seq < after_seq or not _selected(image, tag_status, image_status):
            continue
        digest = image.get_image_digest()
        entries: list[dict[str, str]] = [
            {"imageDigest": digest, "imageTag": t} for t in image.image_tags
        ] or [{"imageDigest": digest}]
        for i, entry in enumerate(entries):
            if meta.seq == after_seq and i <= after_tag:
                continue
            if len(page) == size:
                return page, pagination.encode(last, fingerprint)
            page.append(entry)
            last = (meta.seq, i)
    return page, None


def update_image_storage_class(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None,
    image_id: dict[str, str],
    target_storage_class: str,
) -> dict[str, Any]:
    repo = get_repository(self, repository_name, registry_id)
    if target_storage_class not in ("ARCHIVE", "STANDARD"):
        raise InvalidParameterException(
            f"Invalid parameter at 'targetStorageClass' failed to satisfy constraint: "
            f"'Member must satisfy enum value set: [STANDARD, ARCHIVE]' ({target_storage_class!r})"
        )
    image = find_image(repo, image_id)
    meta = meta_of(image)
    now = STATE.clock.now()
    status = meta.settle(now)
    digest = image.get_image_digest()
    if target_storage_class == "ARCHIVE":
        if status != ACTIVE:
            # AWS: an ACTIVATING image "can neither be pulled nor archived" (observed).
            raise ImageStorageClassUpdateNotSupportedException(
                f"The image {digest} in repository {repo.name} is {status} and cannot be archived."
            )
        parents = registry.active_parents(repo, digest)
        if parents:
            # Documented for lifecycle rules only; applied to the manual call too (stricter).
            raise ImageStorageClassUpdateNotSupportedException(
                f"The image {digest} is referenced by the active manifest list {parents[0]}; "
                "archive the manifest list first."
            )
        meta.status, meta.last_archived_at, meta.restore_at = ARCHIVED, now, None
        # Restored images rescan: "previous scan results ... will not be available".
        image.last_scan = None
        image.scan_finding_results = {}
        image.scan_finding_results_queue = []
        # Referrers are not archived with their subject: whether a manual update cascades is
        # undocumented, and AWS's lifecycle cascade takes "up to 24 hours" anyway.
    else:
        if status != ARCHIVED:
            # Restoring an ACTIVE image, or one already ACTIVATING, changes nothing: refuse.
            raise ImageStorageClassUpdateNotSupportedException(
                f"The image {digest} in repository {repo.name} is {status} and cannot be restored."
            )
        meta.status, meta.restore_at = ACTIVATING, now + STATE.settings.restore_delay
        status = ACTIVATING
    returned_id: dict[str, str] = {"imageDigest": digest}
    if image_id.get("imageTag"):
        returned_id["imageTag"] = image_id["imageTag"]
    return {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "imageId": returned_id,
        "imageStatus": meta.status if target_storage_class == "ARCHIVE" else status,
    }


def _is_excluded(self: ECRBackend, principal: str) -> bool:
    exclusions = _exclusions(self)
    if principal in exclusions:
        return True
    # An assumed-role session pulls as its role: match arn:aws:sts::ACCT:assumed-role/NAME/...
    # against role exclusions of the same account and name (paths are not in session ARNs).
    match = re.match(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/", principal)
    if not match:
        return False
    partition, account, name = match.groups()
    prefix = f"arn:{partition}:iam::{account}:role/"
    return any(arn.startswith(prefix) and arn.rsplit("/", 1)[-1] == name for arn in exclusions)


def emu_batch_get_image(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None,
    image_ids: list[dict[str, str]],
    principal: str,
) -> dict[str, Any]:
    """A pull: archived/activating images fail ``ImageInaccessible``; active ones record the pull
    time unless the caller's principal is excluded."""
    repo = get_repository(self, repository_name, registry_id)
    now = STATE.clock.now()
    excluded = _is_excluded(self, principal)
    images: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for image_id in image_ids:
        try:
            image = find_image(repo, image_id)
        except ImageNotFoundException:
            failures.append(
                {
                    "imageId": image_id,
                    "failureCode": "ImageNotFound",
                    "failureReason": "Requested image not found",
                }
            )
            continue
        except InvalidParameterException:
            failures.append(
                {
                    "imageId": image_id,
                    "failureCode": "InvalidImageDigest",
                    "failureReason": "Invalid image digest",
                }
            )
            continue
        meta = meta_of(image)
        if meta.settle(now) != ACTIVE:
            failures.append(
                {
                    "imageId": image_id,
                    "failureCode": "ImageInaccessible",
                    "failureReason": INACCESSIBLE_REASON,
                }
            )
            continue
        if not excluded:
            meta.last_pulled_at = now
        returned = {"imageDigest": image.get_image_digest()}
        if image_id.get("imageTag"):
            returned["imageTag"] = image_id["imageTag"]
        images.append(
            {
                "registryId": repo.registry_id,
                "repositoryName": repo.name,
                "imageId": returned,
                "imageManifest": image.image_manifest,
                "imageManifestMediaType": meta.info.media_type,
            }
        )
    return {"images": images, "failures": failures}


def batch_delete_image(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None = None,
    image_ids: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Deletes in any storage status (archived included: the 90-day minimum is billing only)."""
    repo = get_repository(self, repository_name, registry_id)
    index = index_of(repo)
    deleted: list[dict[str, str]] = []
    failures: list[dict[str, Any]] = []
    for image_id in image_ids or []:
        tag, digest = image_id.get("imageTag"), image_id.get("imageDigest")
        if not tag and not digest:
            failures.append(
                {
                    "imageId": {},
                    "failureCode": "MissingDigestAndTag",
                    "failureReason": "Invalid request parameters: both tag and digest cannot be null",
                }
            )
            continue
        if digest and not registry.manifests_digest_ok(digest):
            failures.append(
                {
                    "imageId": {"imageDigest": digest},
                    "failureCode": "InvalidImageDigest",
                    "failureReason": "Invalid request parameters: image digest should satisfy the regex "
                    "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
                }
            )
            continue
        image = index.by_digest.get(digest) if digest else index.by_tag.get(tag or "")
        if image is None:
            failures.append(
                {
                    "imageId": dict(image_id),
                    "failureCode": "ImageNotFound",
                    "failureReason": "Requested image not found",
                }
            )
            continue
        if digest and tag and tag not in image.image_tags:
            failures.append(
                {
                    "imageId": dict(image_id),
                    "failureCode": "ImageTagDoesNotMatchDigest",
                    "failureReason": "Invalid request parameters: given tag does not map to the given digest",
                }
            )
            continue
        image_digest = image.get_image_digest()
        if tag and not digest and len(image.image_tags) > 1:
            registry.untag(repo, image, tag)
            deleted.append({"imageDigest": image_digest, "imageTag": tag})
            continue
        parents = sorted(p for p in index.parents.get(image_digest, ()) if p in index.by_digest)
        if parents:
            failures.append(
                {
                    "imageId": dict(image_id),
                    "failureCode": "ImageReferencedByManifestList",
                    "failureReason": f"Requested image referenced by manifest list: {parents}",
                }
            )
            continue
        deleted.extend(
            [{"imageDigest": image_digest, "imageTag": t} for t in image.image_tags]
            or [{"imageDigest": image_digest}]
        )
        registry.delete_image(repo, image)
        index = index_of(repo)
    return {"imageIds": deleted, "failures": failures}


def batch_check_layer_availability(
    self: ECRBackend,
    repository_name: str,
    layer_digests: list[str],
    registry_id: str | None = None,
) -> dict[str, Any]:
    """``ARCHIVED`` for layers held only by archived (or still activating) images."""
    repo = get_repository(self, repository_name, registry_id)
    index = index_of(repo)
    holders_by_layer = index.layers()
    layers: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for layer in layer_digests:
        if not registry.manifests_digest_ok(layer):
            failures.append(
                {
                    "layerDigest": layer,
                    "failureCode": "InvalidLayerDigest",
                    "failureReason": f"Invalid layer digest '{layer}'",
                }
            )
            continue
        holders = [
            index.by_digest[d] for d in sorted(holders_by_layer.get(layer, ())) if d in index.by_digest
        ]
        if holders:
            sizes = [s for img in holders for d, s in meta_of(img).info.layers if d == layer]
            active = any(registry.status_of(img) == ACTIVE for img in holders)
            layers.append(
                {
                    "layerDigest": layer,
                    "layerAvailability": "AVAILABLE" if active else "ARCHIVED",
                    "layerSize": sizes[0] if sizes else 0,
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                }
            )
        elif layer in repo.layers:
            layers.append(
                {
                    "layerDigest": layer,
                    "layerAvailability": "AVAILABLE",
                    "layerSize": repo.layers[layer],
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                }
            )
        else:
            failures.append(
                {
                    "layerDigest": layer,
                    "failureCode": "MissingLayerDigest",
                    "failureReason": f"Layer digest '{layer}' could not be found",
                }
            )
    return {"layers": layers, "failures": failures}


def put_image(
    self: ECRBackend,
    repository_name: str,
    image_manifest: str,
    image_tag: str,
    image_manifest_mediatype: str | None = None,
    digest: str | None = None,
) -> Image:
    repo = get_repository(self, repository_name)
    return registry.push(
        self,
        repo,
        image_manifest,
        tags=[image_tag] if image_tag else [],
        media_type=image_manifest_mediatype,
        digest=digest,
    )


def start_image_scan(
    self: ECRBackend, registry_id: str, repository_name: str, image_id: dict[str, str]
) -> Any:
    repo = get_repository(self, repository_name, registry_id)
    image = find_image(repo, image_id)
    if registry.status_of(image) != ACTIVE:
        # ACTIVATING images are still in archive storage until the restore completes.
        raise ImageArchivedException()
    return _ORIGINALS["start_image_scan"](self, registry_id, repository_name, image_id)


def describe_image_scan_findings(
    self: ECRBackend, registry_id: str, repository_name: str, image_id: dict[str, Any]
) -> Any:
    repo = get_repository(self, repository_name, registry_id)
    image = find_image(repo, image_id)
    if registry.status_of(image) != ACTIVE:
        returned = {"imageDigest": image.get_image_digest()}
        if image_id.get("imageTag"):
            returned["imageTag"] = image_id["imageTag"]
        return {
            "registryId": repo.registry_id,
            "repositoryName": repo.name,
            "imageId": returned,
            "imageScanStatus": {
                "status": "IMAGE_ARCHIVED",
                "description": "The image is archived; restore it to scan it.",
            },
        }
    return _ORIGINALS["describe_image_scan_findings"](self, registry_id, repository_name, image_id)


def put_lifecycle_policy(
    self: ECRBackend, registry_id: str, repository_name: str, lifecycle_policy_text: str
) -> dict[str, Any]:
    from ecr_emulator.previews import validate_policy

    repo = get_repository(self, repository_name, registry_id)
    validate_policy(lifecycle_policy_text)
    repo.lifecycle_policy = lifecycle_policy_text
    return {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "lifecyclePolicyText": lifecycle_policy_text,
    }


def list_image_referrers(
    self: ECRBackend,
    repository_name: str,
    registry_id: str | None,
    subject_digest: str,
    filter_: dict[str, Any] | None,
    max_results: int | None,
    next_token: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    repo = get_repository(self, repository_name, registry_id)
    if not registry.manifests_digest_ok(subject_digest or ""):
        raise InvalidParameterException(
            "Invalid parameter at 'subjectId.imageDigest' failed to satisfy constraint: "
            f"'invalid digest {subject_digest!r}'"
        )
    filter_ = filter_ or {}
    status_filter = filter_.get("artifactStatus") or ACTIVE
    if status_filter not in STATUS_FILTERS:
        raise InvalidParameterException(f"Invalid parameter at 'filter.artifactStatus': {status_filter!r}")
    artifact_types = list(filter_.get("artifactTypes") or [])
    if len(artifact_types) > 5:
        raise InvalidParameterException(
            "Invalid parameter at 'filter.artifactTypes': at most 5 artifact types"
        )
    # The model doc (2026-04) says "returns up to 20 results" without maxResults.
    size = pagination.page_size(max_results, default=20, maximum=50)
    fingerprint = f"lr:{repo.name}:{subject_digest}:{status_filter}:{','.join(artifact_types)}"
    after = pagination.decode(next_token, fingerprint)
    index = index_of(repo)
    # An unknown subject has no referrers (the OCI referrers API answers an empty list).
    candidates = [index.by_digest[d] for d in index.referrers.get(subject_digest, ()) if d in index.by_digest]
    candidates.sort(key=lambda img: meta_of(img).seq)
    page: list[dict[str, Any]] = []
    last: int | None = None
    for image in candidates:
        meta = meta_of(image)
        if after is not None and meta.seq <= after:
            continue
        status = registry.status_of(image)
        if status_filter != "ANY" and status != status_filter:
            continue
        if artifact_types and meta.info.artifact_type not in artifact_types:
            continue
        if len(page) == size:
            return page, pagination.encode(last, fingerprint)
        entry: dict[str, Any] = {
            "digest": image.get_image_digest(),
            "mediaType": meta.info.media_type,
            "size": len(image.image_manifest.encode()),
            "artifactStatus": status,
        }
        if meta.info.artifact_type:
            entry["artifactType"] = meta.info.artifact_type
        if meta.info.annotations:
            entry["annotations"] = meta.info.annotations
        page.append(entry)
        last = meta.seq
    return page, None


def _exclusions(self: ECRBackend) -> dict[str, datetime]:
    table: dict[str, datetime] | None = getattr(self, "_emu_exclusions", None)
    if table is None:
        table = {}
        setattr(self, "_emu_exclusions", table)  # noqa: B010 - wiped with the backend on reset
    return table


def _check_principal(arn: str) -> None:
    if not arn or len(arn) > 200 or not PRINCIPAL_ARN.match(arn):
        raise InvalidParameterException(
            f"Invalid parameter at 'principalArn' failed to satisfy constraint: 'Member must satisfy regular "
            f"expression pattern: {PRINCIPAL_ARN.pattern}' ({arn!r}: only IAM role or user ARNs are accepted)"
        )


def register_pull_time_update_exclusion(self: ECRBackend, principal_arn: str) -> dict[str, Any]:
    _check_principal(principal_arn)
    table = _exclusions(self)
    if principal_arn in table:
        raise ExclusionAlreadyExistsException(
            f"The pull time update exclusion for principal {principal_arn} already exists for the registry."
        )
    if len(table) >= MAX_EXCLUSIONS:
        raise LimitExceededException(
            f"The pull time update exclusion limit ({MAX_EXCLUSIONS}) for the registry has been reached."
        )
    table[principal_arn] = STATE.clock.now()
    return {"principalArn": principal_arn, "createdAt": table[principal_arn]}


def deregister_pull_time_update_exclusion(self: ECRBackend, principal_arn: str) -> dict[str, Any]:
    _check_principal(principal_arn)
    table = _exclusions(self)
    if principal_arn not in table:
        raise ExclusionNotFoundException(
            f"No pull time update exclusion exists for principal {principal_arn}."
        )
    del table[principal_arn]
    return {"principalArn": principal_arn}


def list_pull_time_update_exclusions(
    self: ECRBackend, max_results: int | None, next_token: str | None
) -> tuple[list[str], str | None]:
    size = pagination.page_size(max_results, default=100, maximum=1000)
    arns = sorted(_exclusions(self))
    after = pagination.decode(next_token, "ptue")
    if after is not None:
        arns = [a for a in arns if a > after]
    page = arns[:size]
    token = pagination.encode(page[-1], "ptue") if len(arns) > size else None
    return page, token


NEW_METHODS: dict[str, Callable[..., Any]] = {
    "describe_images_page": describe_images_page,
    "list_images_page": list_images_page,
    "update_image_storage_class": update_image_storage_class,
    "emu_batch_get_image": emu_batch_get_image,
    "list_image_referrers": list_image_referrers,
    "register_pull_time_update_exclusion": register_pull_time_update_exclusion,
    "deregister_pull_time_update_exclusion": deregister_pull_time_update_exclusion,
    "list_pull_time_update_exclusions": list_pull_time_update_exclusions,
}
REPLACED_METHODS: dict[str, Callable[..., Any]] = {
    "put_image": put_image,
    "batch_delete_image": batch_delete_image,
    "batch_check_layer_availability": batch_check_layer_availability,
    "start_image_scan": start_image_scan,
    "describe_image_scan_findings": describe_image_scan_findings,
    "put_lifecycle_policy": put_lifecycle_policy,
}


def install() -> None:
    """Idempotently attach the extension to ``ECRBackend`` (originals kept for delegation)."""
    if _ORIGINALS:
        return
    for name, func in REPLACED_METHODS.items():
        _ORIGINALS[name] = getattr(ECRBackend, name)
        setattr(ECRBackend, name, func)
    for name, func in NEW_METHODS.items():
        setattr(ECRBackend, name, func)
    from ecr_emulator import previews

    for name, func in previews.METHODS.items():
        setattr(ECRBackend, name, func)
