"""Behaviour 4: pulls, pull-time recording and exclusions, deletes, layer checks, scans."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_emulator import DEFAULT_PRINCIPAL, Emulator

from .helpers import describe_all, error_code, new_client

SCANNER = "arn:aws:iam::123456789012:role/security/trivy-scanner"


def _pulled_at(ecr: Any, repo: str, digest: str) -> Any:
    (detail,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])["imageDetails"]
    return detail.get("lastRecordedPullTime")


def test_pulling_an_active_image_records_the_pull_time(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    emulator.clock.advance(timedelta(hours=5))

    resp = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])

    assert resp["failures"] == []
    assert resp["images"][0]["imageId"] == {"imageDigest": digest, "imageTag": "v1"}
    assert _pulled_at(ecr, repo, digest) == emulator.clock.now()


@pytest.mark.parametrize("steps", [["ARCHIVE"], ["ARCHIVE", "STANDARD"]])
def test_pulling_an_archived_or_activating_image_fails(
    emulator: Emulator, ecr: Any, repo: str, steps: list[str]
) -> None:
    digest = emulator.push_image(repo, "v1")
    for step in steps:
        ecr.update_image_storage_class(
            repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass=step
        )

    resp = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])

    assert resp["images"] == []
    assert resp["failures"][0]["failureCode"] == "ImageInaccessible"
    assert _pulled_at(ecr, repo, digest) is None


def test_a_missing_image_is_a_not_found_failure(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    resp = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "nope"}])
    assert resp["failures"][0]["failureCode"] == "ImageNotFound"


def test_an_excluded_principal_does_not_update_the_pull_time(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    emulator.principals["AKIASCANNER000000001"] = SCANNER
    ecr.register_pull_time_update_exclusion(principalArn=SCANNER)
    scanner = new_client("ecr", aws_access_key_id="AKIASCANNER000000001", aws_secret_access_key="x")

    scanner.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    assert _pulled_at(ecr, repo, digest) is None

    ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])  # default principal
    assert _pulled_at(ecr, repo, digest) == emulator.clock.now()


def test_the_default_principal_can_be_excluded_too(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    ecr.register_pull_time_update_exclusion(principalArn=DEFAULT_PRINCIPAL)
    ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    assert _pulled_at(ecr, repo, digest) is None


def test_batch_delete_deletes_archived_images(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, ["v1", "stable"])
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )

    resp = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])

    assert resp["failures"] == []
    assert sorted(i["imageTag"] for i in resp["imageIds"]) == ["stable", "v1"]
    assert describe_all(ecr, repo) == {}


def test_deleting_a_tag_keeps_an_image_with_other_tags(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, ["v1", "stable"])
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    assert describe_all(ecr, repo)[digest]["imageTags"] == ["stable"]


def test_an_index_child_cannot_be_deleted_while_the_index_exists(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    index, children = emulator.push_index(repo, "multi")
    resp = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": children[0]}])
    assert resp["failures"][0]["failureCode"] == "ImageReferencedByManifestList"
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": index}])
    resp = ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": children[0]}])
    assert resp["failures"] == []
    assert set(describe_all(ecr, repo)) == {children[1]}


def _layers(ecr: Any, repo: str, digest: str) -> list[str]:
    manifest = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])["images"][0]
    return [layer["digest"] for layer in json.loads(manifest["imageManifest"])["layers"]]


def test_layers_held_only_by_archived_images_report_archived(emulator: Emulator, ecr: Any, repo: str) -> None:
    archived = emulator.push_image(repo, "old", seed="shared")
    layers = _layers(ecr, repo, archived)
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "old"}, targetStorageClass="ARCHIVE"
    )
    active = emulator.push_image(repo, "new")
    active_layers = _layers(ecr, repo, active)

    resp = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=[layers[0], active_layers[0]])

    availability = {layer["layerDigest"]: layer["layerAvailability"] for layer in resp["layers"]}
    assert availability == {layers[0]: "ARCHIVED", active_layers[0]: "AVAILABLE"}
    missing = ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=["sha256:" + "9" * 64])
    assert missing["failures"][0]["failureCode"] == "MissingLayerDigest"


def test_scanning_an_archived_image_is_refused(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )

    with pytest.raises(ClientError) as exc:
        ecr.start_image_scan(repositoryName=repo, imageId={"imageTag": "v1"})

    assert error_code(exc) == "ImageArchivedException"
    findings = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
    assert findings["imageScanStatus"]["status"] == "IMAGE_ARCHIVED"


def test_scanning_an_active_image_still_works(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    resp = ecr.start_image_scan(repositoryName=repo, imageId={"imageTag": "v1"})
    assert resp["imageScanStatus"]["status"] == "IN_PROGRESS"
    findings = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
    assert findings["imageScanStatus"]["status"] == "COMPLETE"
