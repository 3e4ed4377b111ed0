"""Amazon ECR adapter: every ECR call the product makes, paginated, retried, translated.

BatchGetImage refreshes ``lastRecordedPullTime`` (and so skews ``sinceImagePulled`` rules) unless
the caller is in the registry's pull-time update exclusion list: only ``batch_get_manifests`` calls
it, only for index manifests, and only in a run whose planner found the worker's role excluded.
ListImageReferrers needs the ``ecr:BatchGetImage`` IAM permission but is not a pull.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ecr_archiver.adapters import clients
from ecr_archiver.adapters.errors import aws_errors
from ecr_archiver.errors import ImageNotFound
from ecr_archiver.models import ImageDetail, ImageRef, ImageStatus

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

#: Every index media type, so ECR returns an index as stored instead of failing the id.
INDEX_ACCEPTED_MEDIA_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]
#: ImageIdentifierList: at most 100 ids per call (DescribeImages, BatchGetImage, previews).
MAX_IMAGE_IDS = 100


def _batches(items: Iterable[str], size: int = MAX_IMAGE_IDS) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class EcrRegistry:
    """Operations on one registry (the caller's account and region)."""

    def __init__(self, client: ECRClient | None = None) -> None:
        self._client: ECRClient = client or clients.client("ecr")

    @property
    def client(self) -> ECRClient:
        return self._client

    # -- repositories -------------------------------------------------------------------
    def list_repositories(self) -> Iterator[str]:
        paginator = self._client.get_paginator("describe_repositories")
        with aws_errors():
            for page in paginator.paginate(PaginationConfig={"PageSize": 1000}):
                for repo in page["repositories"]:
                    yield repo["repositoryName"]

    # -- images -------------------------------------------------------------------------
    def describe_image(self, ref: ImageRef) -> ImageDetail:
        """One image by tag or digest, whatever its storage status."""
        with aws_errors():
            resp = self._client.describe_images(
                repositoryName=ref.repository,
                imageIds=[ref.image_id()],  # type: ignore[list-item]
                filter={"imageStatus": "ANY"},
            )
        return ImageDetail.from_api(resp["imageDetails"][0])

    def describe_images(
        self, repository: str, *, status: str = "ANY", page_size: int = 1000
    ) -> Iterator[ImageDetail]:
        """Every image of ``repository`` with the given status filter, streamed page by page."""
        paginator = self._client.get_paginator("describe_images")
        with aws_errors():
            for page in paginator.paginate(
                repositoryName=repository,
                filter={"imageStatus": status},  # type: ignore[typeddict-item]
                PaginationConfig={"PageSize": page_size},
            ):
                for item in page["imageDetails"]:
                    yield ImageDetail.from_api(item)

    def describe_images_by_digest(self, repository: str, digests: Iterable[str]) -> Iterator[ImageDetail]:
        """Details for known digests, 100 per call (the API's imageIds limit); missing ones are skipped."""
        for batch in _batches(digests):
            yield from self._describe_batch(repository, batch)

    def batch_get_manifests(self, repository: str, digests: Iterable[str]) -> dict[str, str]:
        """Index manifests by digest, 100 per BatchGetImage call.

        A pull: call it only as a principal in the pull-time update exclusion list. Ids ECR
        cannot serve (deleted, archived, restoring) are missing from the answer.
        """
        out: dict[str, str] = {}
        for batch in _batches(digests):
            with aws_errors():
                resp = self._client.batch_get_image(
                    repositoryName=repository,
                    imageIds=[{"imageDigest": d} for d in batch],
                    acceptedMediaTypes=INDEX_ACCEPTED_MEDIA_TYPES,
                )
            for image in resp.get("images", []):
                digest = image.get("imageId", {}).get("imageDigest")
                if digest and "imageManifest" in image:
                    out[digest] = image["imageManifest"]
        return out

    def _describe_batch(self, repository: str, digests: list[str]) -> Iterator[ImageDetail]:
        try:
            with aws_errors():
                resp = self._client.describe_images(
                    repositoryName=repository,
                    imageIds=[{"imageDigest": d} for d in digests],
                    filter={"imageStatus": "ANY"},
                )
        except ImageNotFound:
            # DescribeImages fails the whole call if any id is missing; fall back one by one.
            if len(digests) == 1:
                return
            for digest in digests:
                yield from self._describe_batch(repository, [digest])
            return
        for item in resp["imageDetails"]:
            yield ImageDetail.from_api(item)

    def update_storage_class(self, ref: ImageRef, target: str) -> ImageStatus:
        """``target`` is ``ARCHIVE`` or ``STANDARD``; returns the image status ECR reports."""
        with aws_errors():
            resp = self._client.update_image_storage_class(
                repositoryName=ref.repository,
                imageId=ref.image_id(),  # type: ignore[arg-type]
                targetStorageClass=target,  # type: ignore[arg-type]
            )
        return ImageStatus(resp["imageStatus"])

    def list_referrers(
        self,
        repository: str,
        subject_digest: str,
        *,
        status: str = "ANY",
        artifact_types: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Referrers of a subject (signatures, SBOMs). botocore has no paginator: loop by hand."""
        kwargs: dict[str, Any] = {
            "repositoryName": repository,
            "subjectId": {"imageDigest": subject_digest},
            "filter": {"artifactStatus": status},
            "maxResults": 50,
        }
        if artifact_types:
            kwargs["filter"]["artifactTypes"] = artifact_types
        while True:
            with aws_errors():
                resp = self._client.list_image_referrers(**kwargs)
            for referrer in resp.get("referrers", []):
                yield dict(referrer)
            token = resp.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token

    # -- lifecycle previews -------------------------------------------------------------
    def start_preview(self, repository: str, policy_text: str | None) -> str:
        kwargs: dict[str, Any] = {"repositoryName": repository}
        if policy_text is not None:
            kwargs["lifecyclePolicyText"] = policy_text
        with aws_errors():
            resp = self._client.start_lifecycle_policy_preview(**kwargs)
        return str(resp["status"])

    def get_preview_results(self, repository: str, digests: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The preview's results for known digests, 100 image ids per call (no paging with ids)."""
        for batch in _batches(digests):
            with aws_errors():
                resp = self._client.get_lifecycle_policy_preview(
                    repositoryName=repository, imageIds=[{"imageDigest": d} for d in batch]
                )
            for result in resp.get("previewResults", []):
                yield dict(result)

    def get_preview_page(
        self, repository: str, *, next_token: str | None = None, page_size: int = 100
    ) -> dict[str, Any]:
        """One page of GetLifecyclePolicyPreview, for resumable (continuation) reads."""
        kwargs: dict[str, Any] = {"repositoryName": repository, "maxResults": page_size}
        if next_token:
            kwargs["nextToken"] = next_token
        with aws_errors():
            return dict(self._client.get_lifecycle_policy_preview(**kwargs))

    # -- pull-time update exclusions ----------------------------------------------------
    def list_pull_time_exclusions(self) -> list[str]:
        """Every registered principal. botocore has no paginator for this call."""
        out: list[str] = []
        kwargs: dict[str, Any] = {"maxResults": 1000}
        while True:
            with aws_errors():
                resp = self._client.list_pull_time_update_exclusions(**kwargs)
            out.extend(resp.get("pullTimeUpdateExclusions", []))
            token = resp.get("nextToken")
            if not token:
                return out
            kwargs["nextToken"] = token

    def register_pull_time_exclusion(self, principal_arn: str) -> None:
        with aws_errors():
            self._client.register_pull_time_update_exclusion(principalArn=principal_arn)

    def deregister_pull_time_exclusion(self, principal_arn: str) -> None:
        with aws_errors():
            self._client.deregister_pull_time_update_exclusion(principalArn=principal_arn)

    # -- scheduled archiving -----------------------------------------------------------------
    def get_lifecycle_policy_text(self, repository: str) -> str:
        """The repository's own lifecycle policy; raises ``LifecyclePolicyNotFound`` if it has none."""
        with aws_errors():
            resp = self._client.get_lifecycle_policy(repositoryName=repository)
        return str(resp["lifecyclePolicyText"])
