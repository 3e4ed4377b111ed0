"""Function settings: a Pydantic model per function, read from the environment once."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, ValidationError

from ecr_archiver.errors import SettingsInvalid, validation_problems


class EnvSettings(BaseModel):
    """Base for settings models. Field aliases are the environment variable names."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True, extra="ignore")


def load_settings[S: EnvSettings](model: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Validate ``environ`` (default ``os.environ``) against ``model``, failing with one clear message."""
    env = dict(os.environ if environ is None else environ)
    try:
        return model.model_validate(env)
    except ValidationError as exc:
        raise SettingsInvalid(f"{model.__name__} is invalid: {validation_problems(exc)}") from None
