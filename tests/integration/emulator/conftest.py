"""Fixtures for the emulator's own tests: a plain boto3 ECR client on the in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config

from ecr_emulator import Emulator

from .helpers import new_client

REPO = "team/app"


@pytest.fixture
def ecr(emulator: Emulator) -> Any:
    """A boto3 ECR client with botocore's defaults (parameter validation on)."""
    return new_client("ecr")


@pytest.fixture
def ecr_no_retry(emulator: Emulator) -> Any:
    """One attempt only, so injected errors surface instead of being retried."""
    return new_client("ecr", config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def repo(emulator: Emulator) -> str:
    emulator.create_repository(REPO)
    return REPO
