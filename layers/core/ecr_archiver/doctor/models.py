"""The doctor's vocabulary: access-log modes, check outcomes and the report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class AccessLogMode(StrEnum):
    """The template's ``RestoreApiAccessLogging`` parameter."""

    CREATE_ACCOUNT_ROLE = "create-account-role"
    USE_EXISTING_ACCOUNT_ROLE = "use-existing-account-role"
    OFF = "off"


class CheckStatus(StrEnum):
    OK = "ok"
    INFO = "info"  # worth knowing, nothing to fix
    WARN = "warn"  # works, but probably not what you want
    FAIL = "fail"  # blocking: deploying or running would fail, or be unsafe
    SKIP = "skip"  # could not be checked because an earlier check failed or does not apply


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    status: CheckStatus
    detail: str
    fix: str | None = None


class DoctorReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str
    stack_name: str
    checks: tuple[Check, ...]

    @property
    def blocking(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.FAIL)
