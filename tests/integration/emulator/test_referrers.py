"""Behaviour 7: ListImageReferrers."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from ecr_emulator import Emulator

from .helpers import all_pages, error_code

SIG = "application/vnd.dev.cosign.artifact.sig.v1+json"
SBOM = "application/spdx+json"


def _referrers(ecr: Any, repo: str, subject: str, **kwargs: Any) -> list[dict[str, Any]]:
    return all_pages(
        ecr.list_image_referrers,
        "referrers",
        repositoryName=repo,
        subjectId={"imageDigest": subject},
        **kwargs,
    )


def test_referrers_are_images_whose_subject_is_the_digest(emulator: Emulator, ecr: Any, repo: str) -> None:
    subject = emulator.push_image(repo, "v1")
    other = emulator.push_image(repo, "v2")
    sig = emulator.push_signature(repo, subject)
    sbom = emulator.push_sbom(repo, subject)
    emulator.push_signature(repo, other)

    found = {r["digest"]: r for r in _referrers(ecr, repo, subject)}

    assert set(found) == {sig, sbom}
    assert found[sig]["artifactType"] == SIG
    assert found[sbom]["artifactType"] == SBOM
    assert found[sig]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert found[sig]["artifactStatus"] == "ACTIVE"
    assert found[sig]["size"] > 0


def test_artifact_type_falls_back_to_the_config_media_type(emulator: Emulator, ecr: Any, repo: str) -> None:
    import json

    subject = emulator.push_image(repo, "v1")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.in-toto+json",
                "digest": "sha256:" + "3" * 64,
                "size": 10,
            },
            "layers": [
                {"mediaType": "application/vnd.in-toto+json", "digest": "sha256:" + "4" * 64, "size": 10}
            ],
            "subject": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": subject,
                "size": 1,
            },
        }
    )
    ecr.put_image(repositoryName=repo, imageManifest=manifest)

    (referrer,) = _referrers(ecr, repo, subject)

    assert referrer["artifactType"] == "application/vnd.in-toto+json"


def test_filter_by_artifact_types(emulator: Emulator, ecr: Any, repo: str) -> None:
    subject = emulator.push_image(repo, "v1")
    emulator.push_signature(repo, subject)
    sbom = emulator.push_sbom(repo, subject)
    attestation = emulator.push_referrer(repo, subject, artifact_type="application/vnd.in-toto+json")

    found = _referrers(ecr, repo, subject, filter={"artifactTypes": [SBOM, "application/vnd.in-toto+json"]})

    assert {r["digest"] for r in found} == {sbom, attestation}


def test_more_than_five_artifact_types_is_rejected(emulator: Emulator, ecr: Any, repo: str) -> None:
    subject = emulator.push_image(repo, "v1")
    # botocore checks only minimums client-side; the emulator enforces the model's maximum.
    with pytest.raises(ClientError) as exc:
        ecr.list_image_referrers(
            repositoryName=repo,
            subjectId={"imageDigest": subject},
            filter={"artifactTypes": [f"t/{i}" for i in range(6)]},
        )
    assert error_code(exc) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("status", "expected"), [(None, {"active"}), ("ARCHIVED", {"archived"}), ("ANY", {"active", "archived"})]
)
def test_filter_by_artifact_status(
    emulator: Emulator, ecr: Any, repo: str, status: str | None, expected: set[str]
) -> None:
    subject = emulator.push_image(repo, "v1")
    names = {emulator.push_signature(repo, subject): "active", emulator.push_sbom(repo, subject): "archived"}
    archived = next(d for d, n in names.items() if n == "archived")
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageDigest": archived}, targetStorageClass="ARCHIVE"
    )
    kwargs = {"filter": {"artifactStatus": status}} if status else {}

    found = _referrers(ecr, repo, subject, **kwargs)

    assert {names[r["digest"]] for r in found} == expected


def test_pagination_at_most_50(emulator: Emulator, ecr: Any, repo: str) -> None:
    subject = emulator.push_image(repo, "v1")
    referrers = {emulator.push_signature(repo, subject) for _ in range(73)}

    first = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, maxResults=50)
    default_page = ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject})

    assert len(first["referrers"]) == 50
    assert len(default_page["referrers"]) == 20
    assert {r["digest"] for r in _referrers(ecr, repo, subject, maxResults=50)} == referrers
    with pytest.raises(ClientError) as exc:
        ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, maxResults=51)
    assert error_code(exc) == "InvalidParameterException"
    with pytest.raises(ParamValidationError):
        ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": subject}, maxResults=0)


def test_unknown_subject_has_no_referrers(emulator: Emulator, ecr: Any, repo: str) -> None:
    emulator.push_image(repo, "v1")
    assert _referrers(ecr, repo, "sha256:" + "e" * 64) == []


def test_invalid_subject_digest_and_missing_repository(ecr: Any, repo: str) -> None:
    with pytest.raises(ClientError) as exc:
        ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": "latest"})
    assert error_code(exc) == "InvalidParameterException"
    with pytest.raises(ClientError) as exc:
        ecr.list_image_referrers(repositoryName="missing", subjectId={"imageDigest": "sha256:" + "e" * 64})
    assert error_code(exc) == "RepositoryNotFoundException"
