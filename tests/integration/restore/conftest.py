"""The restore_api handler, in-process, against the ECR emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecr_emulator import Emulator
from tests.unit.restore.support import LambdaContext, load_app

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def ecr(emulator: Emulator) -> Any:
    import boto3

    return boto3.client("ecr")


@pytest.fixture
def allowed_repositories() -> str:
    return "*"


@pytest.fixture
def invoke(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, allowed_repositories: str) -> Invoke:
    """Call the handler like API Gateway does. One SDK attempt, so injected faults surface at once."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("RESTORE_ALLOWED_REPOSITORIES", allowed_repositories)
    app = load_app()

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return app.lambda_handler(event, LambdaContext())  # type: ignore[no-any-return]

    return call


def archive(ecr: Any, repository: str, digest: str) -> None:
    ecr.update_image_storage_class(
        repositoryName=repository, imageId={"imageDigest": digest}, targetStorageClass="ARCHIVE"
    )
