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


# -- who is pulling: the principal STS GetCallerIdentity reports ------------------------------
WORKER = "arn:aws:iam::123456789012:role/ecr-archiver-ArchiveImagesRole-ABC"


def test_an_iam_users_access_key_pulls_as_that_user(emulator: Emulator, ecr: Any, repo: str) -> None:
    # Given an IAM user with an access key created on the emulator, excluded from pull times
    iam = new_client("iam")
    user_arn = iam.create_user(UserName="scanner")["User"]["Arn"]
    key = iam.create_access_key(UserName="scanner")["AccessKey"]
    ecr.register_pull_time_update_exclusion(principalArn=user_arn)
    creds = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    digest = emulator.push_image(repo, "v1")
    # When that user pulls
    new_client("ecr", **creds).batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    # Then STS names the user, and the pull time is unchanged
    assert new_client("sts", **creds).get_caller_identity()["Arn"] == user_arn
    assert _pulled_at(ecr, repo, digest) is None


@pytest.mark.parametrize("excluded", [True, False], ids=["excluded", "not-excluded"])
def test_an_access_key_mapped_to_a_role_pulls_as_that_role(
    emulator: Emulator, ecr: Any, repo: str, excluded: bool
) -> None:
    # Given an access key the control plane maps to the stack's worker role
    emulator.principals["AKIAWORKER0000000001"] = WORKER
    creds = {"aws_access_key_id": "AKIAWORKER0000000001", "aws_secret_access_key": "x"}
    if excluded:
        ecr.register_pull_time_update_exclusion(principalArn=WORKER)
    digest = emulator.push_image(repo, "v1")
    # When it pulls
    new_client("ecr", **creds).batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    # Then STS reports a session of that role, and only a non-excluded pull records a pull time
    identity = new_client("sts", **creds).get_caller_identity()
    assert (
        identity["Arn"]
        == "arn:aws:sts::123456789012:assumed-role/ecr-archiver-ArchiveImagesRole-ABC/emulator"
    )
    assert _pulled_at(ecr, repo, digest) == (None if excluded else emulator.clock.now())


def test_an_assumed_role_session_pulls_as_its_role(emulator: Emulator, ecr: Any, repo: str) -> None:
    iam = new_client("iam")
    role_arn = iam.create_role(RoleName="scanner", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ecr.register_pull_time_update_exclusion(principalArn=role_arn)
    session = new_client("sts").assume_role(RoleArn=role_arn, RoleSessionName="scan-1")["Credentials"]
    creds = {
        "aws_access_key_id": session["AccessKeyId"],
        "aws_secret_access_key": session["SecretAccessKey"],
        "aws_session_token": session["SessionToken"],
    }
    digest = emulator.push_image(repo, "v1")
    new_client("ecr", **creds).batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])
    assert _pulled_at(ecr, repo, digest) is None
