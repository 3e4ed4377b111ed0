"""Behaviour 1 and 3: image details, DescribeImages/ListImages filters and pagination, PutImage."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_emulator import Emulator
from ecr_emulator.manifests import OCI_INDEX

from .helpers import all_pages, describe_all, error_code


def test_describe_images_returns_archive_era_fields(emulator: Emulator, ecr: Any, repo: str) -> None:
    pushed = emulator.clock.now() - timedelta(days=3)
    pulled = emulator.clock.now() - timedelta(days=1)
    digest = emulator.push_image(repo, "v1", pushed_at=pushed, last_pulled_at=pulled, size_bytes=12_345_678)

    (detail,) = ecr.describe_images(repositoryName=repo)["imageDetails"]

    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageStatus"] == "ACTIVE"
    assert detail["imageSizeInBytes"] == 12_345_678
    assert detail["imagePushedAt"] == pushed
    assert detail["lastRecordedPullTime"] == pulled
    assert detail["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert detail["artifactMediaType"] == "application/vnd.oci.image.config.v1+json"
    assert "lastArchivedAt" not in detail
    assert "subjectManifestDigest" not in detail


def test_archived_and_restored_images_carry_their_timestamps(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    archived_at = emulator.clock.now()
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )
    emulator.clock.advance(timedelta(days=1))
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="STANDARD"
    )
    emulator.clock.advance(emulator.settings.restore_delay)

    (detail,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])["imageDetails"]

    assert detail["imageStatus"] == "ACTIVE"
    assert detail["lastArchivedAt"] == archived_at
    assert detail["lastActivatedAt"] == emulator.clock.now()


def test_referrer_detail_names_its_subject(emulator: Emulator, ecr: Any, repo: str) -> None:
    subject = emulator.push_image(repo, "v1")
    sbom = emulator.push_sbom(repo, subject)

    (detail,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": sbom}])["imageDetails"]

    assert detail["subjectManifestDigest"] == subject
    assert detail["artifactMediaType"] == "application/vnd.oci.empty.v1+json"
    assert "imageTags" not in detail


def test_digest_is_sha256_of_the_manifest(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    (image,) = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])["images"]

    assert digest == "sha256:" + hashlib.sha256(image["imageManifest"].encode()).hexdigest()


def test_index_children_are_untagged_images(emulator: Emulator, ecr: Any, repo: str) -> None:
    index, children = emulator.push_index(
        repo, "multi", platforms=("linux/amd64", "linux/arm64", "linux/arm/v7")
    )

    details = describe_all(ecr, repo)

    assert set(details) == {index, *children}
    assert details[index]["imageManifestMediaType"] == OCI_INDEX
    assert "imageSizeInBytes" not in details[index]
    assert all("imageTags" not in details[c] for c in children)
    manifest = json.loads(
        ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "multi"}])["images"][0][
            "imageManifest"
        ]
    )
    assert [m["digest"] for m in manifest["manifests"]] == children


@pytest.mark.parametrize(
    ("image_status", "expected"),
    [
        (None, {"active"}),
        ("ACTIVE", {"active"}),
        ("ARCHIVED", {"archived"}),
        ("ACTIVATING", {"activating"}),
        ("ANY", {"active", "archived", "activating"}),
    ],
)
def test_image_status_filter(
    emulator: Emulator, ecr: Any, repo: str, image_status: str | None, expected: set[str]
) -> None:
    digests = {name: emulator.push_image(repo, name) for name in ("active", "archived", "activating")}
    for name in ("archived", "activating"):
        ecr.update_image_storage_class(
            repositoryName=repo, imageId={"imageTag": name}, targetStorageClass="ARCHIVE"
        )
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "activating"}, targetStorageClass="STANDARD"
    )
    kwargs: dict[str, Any] = {"repositoryName": repo}
    if image_status:
        kwargs["filter"] = {"imageStatus": image_status}

    described = {d["imageTags"][0] for d in ecr.describe_images(**kwargs)["imageDetails"]}
    listed = {i["imageTag"] for i in ecr.list_images(**kwargs)["imageIds"]}

    assert described == expected
    assert listed == expected
    assert {digests[n] for n in expected} == {
        d["imageDigest"] for d in ecr.describe_images(**kwargs)["imageDetails"]
    }


@pytest.mark.parametrize(
    ("tag_status", "image_status", "expected"),
    [
        ("TAGGED", "ANY", {"tagged-active", "tagged-archived"}),
        ("UNTAGGED", "ARCHIVED", {"untagged-archived"}),
        ("UNTAGGED", "ACTIVE", {"untagged-active"}),
        ("TAGGED", "ARCHIVED", {"tagged-archived"}),
    ],
)
def test_tag_status_combines_with_image_status(
    emulator: Emulator, ecr: Any, repo: str, tag_status: str, image_status: str, expected: set[str]
) -> None:
    names = {}
    for name in ("tagged-active", "tagged-archived", "untagged-active", "untagged-archived"):
        names[emulator.push_image(repo, name if name.startswith("tagged") else None)] = name
    for digest, name in names.items():
        if name.endswith("archived"):
            ecr.update_image_storage_class(
                repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
            )

    details = ecr.describe_images(
        repositoryName=repo, filter={"tagStatus": tag_status, "imageStatus": image_status}
    )

    assert {names[d["imageDigest"]] for d in details["imageDetails"]} == expected


def test_lookup_by_image_ids_finds_archived_images(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )

    by_tag = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1"}])["imageDetails"]
    by_digest = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])["imageDetails"]

    assert [d["imageStatus"] for d in by_tag + by_digest] == ["ARCHIVED", "ARCHIVED"]
    assert ecr.describe_images(repositoryName=repo)["imageDetails"] == []


def test_lookup_of_a_missing_image_fails_the_call(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
    assert error_code(exc) == "ImageNotFoundException"


def test_describe_images_in_a_missing_repository(ecr: Any) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName="missing")
    assert error_code(exc) == "RepositoryNotFoundException"


def test_image_ids_cannot_be_combined_with_max_results(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1"}], maxResults=5)
    assert error_code(exc) == "InvalidParameterException"


def test_describe_images_paginates_over_1000_images(emulator: Emulator, ecr: Any, repo: str) -> None:
    pushed = {emulator.push_image(repo, f"t{i}") for i in range(1_234)}
    for digest in list(pushed)[:34]:
        ecr.update_image_storage_class(
            repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
        )

    pages = list(
        ecr.get_paginator("describe_images").paginate(
            repositoryName=repo, filter={"imageStatus": "ANY"}, PaginationConfig={"PageSize": 1000}
        )
    )
    active = describe_all(ecr, repo, "ACTIVE")

    assert [len(p["imageDetails"]) for p in pages] == [1000, 234]
    digests = [d["imageDigest"] for p in pages for d in p["imageDetails"]]
    assert len(digests) == len(set(digests)) == 1_234
    assert set(digests) == pushed
    assert len(active) == 1_200


def test_describe_images_defaults_to_pages_of_100(emulator: Emulator, ecr: Any, repo: str) -> None:
    for i in range(150):
        emulator.push_image(repo, f"t{i}")

    first = ecr.describe_images(repositoryName=repo)

    assert len(first["imageDetails"]) == 100
    assert first["nextToken"]
    second = ecr.describe_images(repositoryName=repo, nextToken=first["nextToken"])
    assert len(second["imageDetails"]) == 50
    assert "nextToken" not in second


def test_list_images_paginates_tag_entries(emulator: Emulator, ecr: Any, repo: str) -> None:
    for i in range(1_100):
        emulator.push_image(repo, [f"a{i}", f"b{i}"] if i % 2 else None)

    ids = all_pages(ecr.list_images, "imageIds", repositoryName=repo, maxResults=333)

    assert len(ids) == 550 * 2 + 550
    assert len({(i["imageDigest"], i.get("imageTag")) for i in ids}) == len(ids)


def test_a_token_from_another_filter_is_rejected(emulator: Emulator, ecr: Any, repo: str) -> None:
    for i in range(3):
        emulator.push_image(repo, f"t{i}")
    token = ecr.describe_images(repositoryName=repo, maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName=repo, maxResults=1, nextToken=token, filter={"imageStatus": "ANY"})
    assert error_code(exc) == "InvalidParameterException"


def test_put_image_moves_a_tag_and_leaves_the_old_image_untagged(
    emulator: Emulator, ecr: Any, repo: str
) -> None:
    old = emulator.push_image(repo, "latest")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "1" * 64,
                "size": 7,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + "2" * 64,
                    "size": 900,
                }
            ],
        }
    )

    new = ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="latest")["image"]["imageId"][
        "imageDigest"
    ]

    details = describe_all(ecr, repo)
    assert new == "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    assert details[new]["imageTags"] == ["latest"]
    assert details[new]["imageSizeInBytes"] == 900
    assert "imageTags" not in details[old]


def test_pushing_an_archived_image_again_restores_it_at_once(emulator: Emulator, ecr: Any, repo: str) -> None:
    digest = emulator.push_image(repo, "v1")
    manifest = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageDigest": digest}])["images"][0][
        "imageManifest"
    ]
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )

    ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag="v2")

    assert emulator.image_status(repo, digest) == "ACTIVE"
    (detail,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])["imageDetails"]
    assert sorted(detail["imageTags"]) == ["v1", "v2"]
    assert detail["lastActivatedAt"] == emulator.clock.now()


def test_put_image_rejects_a_digest_that_does_not_match(ecr: Any, repo: str) -> None:
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []}
    )
    with pytest.raises(ClientError) as exc:
        ecr.put_image(
            repositoryName=repo, imageManifest=manifest, imageTag="x", imageDigest="sha256:" + "0" * 64
        )
    assert error_code(exc) == "ImageDigestDoesNotMatchException"


def test_immutable_tags_keep_moto_behaviour(emulator: Emulator, ecr: Any) -> None:
    ecr.create_repository(repositoryName="immutable", imageTagMutability="IMMUTABLE")
    emulator.push_image("immutable", "v1")
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []}
    )
    with pytest.raises(ClientError) as exc:
        ecr.put_image(repositoryName="immutable", imageManifest=manifest, imageTag="v1")
    assert error_code(exc) == "ImageAlreadyExistsException"


def test_max_results_above_the_model_maximum_is_rejected(emulator: Emulator, ecr: Any, repo: str) -> None:
    # botocore validates only minimums client-side; the emulator enforces the 1,000 maximum.
    with pytest.raises(ClientError) as exc:
        ecr.describe_images(repositoryName=repo, maxResults=1001)
    assert error_code(exc) == "InvalidParameterException"
