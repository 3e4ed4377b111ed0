"""Environment of the ``auto_restore`` function, validated once at cold start."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ecr_archiver.restore.models import RepositoryAllowList
from ecr_archiver.restore.references import LocalRegistry
from ecr_archiver.settings import EnvSettings

#: ECR says a restore "typically takes up to 20 minutes"; the notice quotes it.
EXPECTED_WAIT_MINUTES = 20


class AutoRestoreSettings(EnvSettings):
    enabled: bool = Field(
        default=True, alias="AUTO_RESTORE_ENABLED", description="Template parameter AutoRestore."
    )
    allowed_repositories: RepositoryAllowList = Field(
        default=RepositoryAllowList(patterns=("*",)),
        alias="AUTO_RESTORE_REPOSITORIES",
        description="Comma-separated repository globs (AutoRestoreRepositories), as the restore API's.",
    )
    max_per_hour: int = Field(
        default=50, ge=1, le=10_000, alias="AUTO_RESTORE_MAX_PER_HOUR", description="AutoRestoreMaxPerHour."
    )
    dedupe_seconds: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        alias="AUTO_RESTORE_DEDUPE_SECONDS",
        description="How long one image's restore suppresses further restores of it (idempotency expiry).",
    )
    state_table_name: str = Field(min_length=3, alias="STATE_TABLE_NAME")
    notice_topic_arn: str = Field(pattern=r"^arn:aws[a-z-]*:sns:", alias="RESTORE_NOTICE_TOPIC_ARN")
    registry_id: str = Field(pattern=r"^[0-9]{12}$", alias="REGISTRY_ID")
    region: str = Field(min_length=1, alias="AWS_REGION")

    @field_validator("allowed_repositories", mode="before")
    @classmethod
    def _from_comma_list(cls, value: Any) -> Any:
        return RepositoryAllowList.parse(value) if isinstance(value, str) else value

    def local_registry(self) -> LocalRegistry:
        return LocalRegistry(registry_id=self.registry_id, region=self.region)
