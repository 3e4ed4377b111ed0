"""The user-facing archiving configuration (JSON in SSM), validated by a Pydantic model.

Unknown fields are rejected, every lifecycle policy is checked the way PutLifecyclePolicy would
check it, and every error names the offending field, so a bad edit stops the run before anything
in ECR changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from ecr_archiver.errors import ConfigInvalid, LifecyclePolicyInvalid, validation_problems
from ecr_archiver.lifecycle.policy import canonical_policy_text, parse_lifecycle_policy
from ecr_archiver.models import ImageRef

#: "Archive images not pulled in 90 days" (AWS lifecycle policy examples), as the default policy.
DEFAULT_LIFECYCLE_POLICY: dict[str, Any] = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Archive images not pulled for 90 days",
            "selection": {
                "tagStatus": "any",
                "countType": "sinceImagePulled",
                "countUnit": "days",
                "countNumber": 90,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
}

#: The SSM parameter the stack creates for this document (template parameter ConfigParameterName).
DEFAULT_CONFIG_PARAMETER = "/ecr-archiver/config"

#: What the template stores in the SSM parameter: a dry run, 90 days unpulled, protect
#: ``latest`` and whatever ECS and Lambda run.
DEFAULT_CONFIG: dict[str, Any] = {
    "dryRun": True,
    "repositories": [{"include": ["*"], "lifecyclePolicy": DEFAULT_LIFECYCLE_POLICY}],
    "protect": {
        "tagPatterns": ["latest"],
        "inUse": {"ecs": True, "lambda": True, "roleArns": []},
        "images": [],
    },
    "maxImagesPerRun": 5000,
}

_ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$"
Glob = Annotated[str, Field(min_length=1, max_length=256)]


class _ConfigModel(BaseModel):
    """camelCase in the document, snake_case in Python; unknown fields rejected."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, validate_by_name=True, validate_by_alias=True
    )


class RepositorySelection(_ConfigModel):
    """One entry of ``repositories``: the first entry that selects a repository decides."""

    include: Annotated[list[Glob], Field(min_length=1)]
    exclude: list[Glob] = []
    lifecycle_policy: dict[str, Any] | None = None

    @field_validator("lifecycle_policy")
    @classmethod
    def _ecr_would_accept(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                parse_lifecycle_policy(value)
            except LifecyclePolicyInvalid as exc:
                raise ValueError(exc.message) from None
        return value

    def selects(self, repository: str) -> bool:
        return any(fnmatchcase(repository, g) for g in self.include) and not any(
            fnmatchcase(repository, g) for g in self.exclude
        )

    def policy_text(self) -> str | None:
        """Canonical policy text, or ``None`` to preview the repository's own policy."""
        if self.lifecycle_policy is None:
            return None
        return canonical_policy_text(parse_lifecycle_policy(self.lifecycle_policy))


class InUseProtection(_ConfigModel):
    ecs: bool = True
    lambda_: bool = Field(default=True, alias="lambda")
    role_arns: list[Annotated[str, Field(pattern=_ROLE_ARN)]] = []
    #: Regions whose ECS and Lambda run images from this registry (this account and every role);
    #: empty means the function's own region only.
    regions: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")]] = []


class Protection(_ConfigModel):
    tag_patterns: list[Glob] = ["latest"]
    in_use: InUseProtection = Field(default_factory=InUseProtection)
    images: list[str] = []

    @field_validator("images")
    @classmethod
    def _image_refs(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                ImageRef.parse(text)
            except ValueError as exc:
                raise ValueError(
                    f"{text!r} is not REPOSITORY:TAG or REPOSITORY@sha256:DIGEST ({exc})"
                ) from None
        return value

    def image_refs(self) -> list[ImageRef]:
        return [ImageRef.parse(text) for text in self.images]


class ArchiveConfig(_ConfigModel):
    dry_run: bool = True
    repositories: Annotated[list[RepositorySelection], Field(min_length=1)] = Field(
        default_factory=lambda: [RepositorySelection.model_validate(DEFAULT_CONFIG["repositories"][0])]
    )
    protect: Protection = Field(default_factory=Protection)
    max_images_per_run: Annotated[int, Field(ge=1, le=1_000_000)] = 5000

    def selection_for(self, repository: str) -> RepositorySelection | None:
        """The first entry whose ``include`` matches and no ``exclude`` does."""
        for entry in self.repositories:
            if entry.selects(repository):
                return entry
        return None


def parse_config(raw: str | bytes | Mapping[str, Any]) -> ArchiveConfig:
    """Validate the SSM value; raises ``ConfigInvalid`` whose message names the field."""
    if isinstance(raw, str | bytes):
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise ConfigInvalid(f"configuration is not valid JSON: {exc}") from None
    else:
        document = raw
    if not isinstance(document, Mapping):
        raise ConfigInvalid("configuration must be a JSON object")
    try:
        return ArchiveConfig.model_validate(dict(document))
    except ValidationError as exc:
        raise ConfigInvalid(f"configuration is invalid: {validation_problems(exc)}") from None
