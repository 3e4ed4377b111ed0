"""Every archive-era response matches the botocore output shape exactly: botocore's parser ignores
unknown keys and wrong types silently, so this checks the raw JSON the emulator sends."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.model import Shape

from ecr_emulator import Emulator

from .policies import ARCHIVE_NOT_PULLED_90_DAYS, as_text

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "timestamp": (int, float),
    "double": (int, float),
    "float": (int, float),
}


def conformance_problems(shape: Shape, value: Any, path: str = "$") -> list[str]:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        members = shape.members  # type: ignore[attr-defined]
        problems = [f"{path}.{k}: not in {shape.name}" for k in value if k not in members]
        problems += [f"{path}.{k}: required" for k in shape.required_members if k not in value]  # type: ignore[attr-defined]
        for key, item in value.items():
            if key in members:
                problems += conformance_problems(members[key], item, f"{path}.{key}")
        return problems
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [
            p
            for i, item in enumerate(value)
            for p in conformance_problems(shape.member, item, f"{path}[{i}]")
        ]  # type: ignore[attr-defined]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map"]
        return [p for k, v in value.items() for p in conformance_problems(shape.value, v, f"{path}.{k}")]  # type: ignore[attr-defined]
    problems = [] if isinstance(value, _SCALARS[kind]) else [f"{path}: {value!r} is not a {kind}"]
    enum = shape.enum if kind == "string" else []
    if enum and value not in enum:
        problems.append(f"{path}: {value!r} not in {enum}")
    return problems


@pytest.fixture
def raw_bodies(ecr: Any) -> dict[str, list[Any]]:
    bodies: dict[str, list[Any]] = {}

    def capture(response_dict: dict[str, Any], operation_model: Any, **_: Any) -> None:
        bodies.setdefault(operation_model.name, []).append(json.loads(response_dict["body"] or b"{}"))

    ecr.meta.events.register("before-parse.ecr.*", capture)
    return bodies


def test_archive_era_responses_match_the_model(
    emulator: Emulator, ecr: Any, repo: str, raw_bodies: dict[str, list[Any]]
) -> None:
    now = emulator.clock.now()
    digest = emulator.push_image(
        repo, "v1", pushed_at=now - timedelta(days=200), last_pulled_at=now - timedelta(days=100)
    )
    emulator.push_index(repo, "multi")
    emulator.push_sbom(repo, digest)
    ecr.register_pull_time_update_exclusion(principalArn="arn:aws:iam::123456789012:role/scanner")
    ecr.list_pull_time_update_exclusions(maxResults=1)
    ecr.start_lifecycle_policy_preview(
        repositoryName=repo, lifecyclePolicyText=as_text(ARCHIVE_NOT_PULLED_90_DAYS)
    )
    ecr.get_lifecycle_policy_preview(repositoryName=repo, maxResults=1)
    ecr.list_image_referrers(repositoryName=repo, subjectId={"imageDigest": digest})
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="ARCHIVE"
    )
    ecr.update_image_storage_class(
        repositoryName=repo, imageId={"imageTag": "v1"}, targetStorageClass="STANDARD"
    )
    emulator.clock.advance(timedelta(hours=1))
    ecr.describe_images(repositoryName=repo, filter={"imageStatus": "ANY"}, maxResults=2)
    ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])
    ecr.list_images(repositoryName=repo, filter={"imageStatus": "ANY"}, maxResults=2)
    ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}, {"imageTag": "gone"}])
    ecr.batch_check_layer_availability(repositoryName=repo, layerDigests=["sha256:" + "1" * 64])
    ecr.deregister_pull_time_update_exclusion(principalArn="arn:aws:iam::123456789012:role/scanner")
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageTag": "v1"}])

    service = ecr.meta.service_model
    problems = [
        f"{operation}: {problem}"
        for operation, bodies in raw_bodies.items()
        for body in bodies
        for problem in conformance_problems(service.operation_model(operation).output_shape, body)
    ]
    assert len(raw_bodies) == 12
    assert problems == []


def test_the_checker_catches_unknown_keys_bad_enums_and_types(ecr: Any) -> None:
    shape = ecr.meta.service_model.operation_model("UpdateImageStorageClass").output_shape
    problems = conformance_problems(
        shape, {"imageStatus": "BOGUS", "extra": 1, "imageId": {"imageDigest": 5}}
    )
    assert len(problems) == 3
