"""Environment of the restore_api function."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ecr_archiver.restore.models import RepositoryAllowList
from ecr_archiver.settings import EnvSettings


class RestoreApiSettings(EnvSettings):
    allowed_repositories: RepositoryAllowList = Field(
        default=RepositoryAllowList(patterns=("*",)),
        alias="RESTORE_ALLOWED_REPOSITORIES",
        description="Comma-separated glob patterns of repositories the API may restore (default all).",
    )
    retry_after_seconds: int = Field(
        default=5,
        ge=1,
        le=300,
        alias="RESTORE_RETRY_AFTER_SECONDS",
        description="Retry-After sent with a 429 when ECR throttling outlasted the SDK's retries.",
    )

    @field_validator("allowed_repositories", mode="before")
    @classmethod
    def _from_comma_list(cls, value: Any) -> Any:
        return RepositoryAllowList.parse(value) if isinstance(value, str) else value
