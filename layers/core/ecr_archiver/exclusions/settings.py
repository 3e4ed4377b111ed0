"""Environment of the ``sync_exclusions`` function, validated once at cold start."""

from __future__ import annotations

from pydantic import Field, field_validator

from ecr_archiver.exclusions.models import ParameterPath, SyncOptions
from ecr_archiver.settings import EnvSettings

#: Same rule as the template's ``ExclusionsParameterPath`` AllowedPattern: absolute, ends with "/".


class SyncExclusionsSettings(EnvSettings):
    parameter_path: ParameterPath = Field(alias="EXCLUSIONS_PARAMETER_PATH")
    extra_principals: tuple[str, ...] = Field(default=(), alias="EXTRA_EXCLUDED_PRINCIPALS")
    #: The stack's own role ARNs (template ``!GetAtt``), always kept in the exclusion list.
    own_role_arns: tuple[str, ...] = Field(default=(), alias="OWN_ROLE_ARNS")
    allow_empty_sync: bool = Field(default=False, alias="ALLOW_EMPTY_SYNC")
    # Safe by default: an unset DRY_RUN plans and reports but changes nothing.
    dry_run: bool = Field(default=True, alias="DRY_RUN")

    @field_validator("extra_principals", "own_role_arns", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        # CloudFormation joins the CommaDelimitedList with ","; an empty list arrives as "".
        # The ARNs themselves are validated by the sync, which names their source in the error.
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    def sync_options(self) -> SyncOptions:
        return SyncOptions(
            parameter_path=self.parameter_path,
            extra_principals=self.extra_principals,
            own_principals=self.own_role_arns,
            allow_empty=self.allow_empty_sync,
            dry_run=self.dry_run,
        )
