"""Models of the pull-time exclusion sync: options in, plan and result out."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: ``PrincipalArn`` in the botocore ECR model: IAM role or user ARNs, any partition, paths allowed.
#: STS assumed-role ARNs and ``root`` do not match. Java's ``\\w`` is ASCII-only, hence ``re.ASCII``
#: wherever this is used.
PRINCIPAL_ARN_PATTERN = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\w+=,.@-]+(/[\w+=,.@-]+)*$"
PRINCIPAL_ARN_MAX_LENGTH = 200
#: ECR allows at most 100 pull-time update exclusions per registry.
EXCLUSION_LIMIT = 100
#: Where principals from the template parameter come from, as named in errors and logs.
EXTRA_PRINCIPALS_SOURCE = "template parameter ExtraExcludedPrincipals"
#: The stack's own roles (planner, worker, restore, ...), always excluded so that reading an index
#: manifest never counts as a pull.
OWN_ROLES_SOURCE = "the stack's own roles (OWN_ROLE_ARNS)"


#: An SSM path: starts and ends with "/" (a mistyped path would declare nothing and, unguarded,
#: look like "no exclusions wanted").
PARAMETER_PATH_PATTERN = r"^/([A-Za-z0-9_.-]+/)+$"
ParameterPath = Annotated[str, StringConstraints(pattern=PARAMETER_PATH_PATTERN)]


class SettingNames(BaseModel):
    """How the operator sets the sync's overrides, as refusals and sources name them.

    The Lambda function's operator sets template parameters; a CLI user types flags. Each
    refusal tells the reader what *they* would change.
    """

    model_config = ConfigDict(frozen=True)

    extra_principals: str = EXTRA_PRINCIPALS_SOURCE
    allow_empty: str = "set AllowEmptyExclusionSync=true (env ALLOW_EMPTY_SYNC)"


class SyncOptions(BaseModel):
    """What one sync run should do; built by the handler from its settings (or by the CLI)."""

    model_config = ConfigDict(frozen=True)

    parameter_path: ParameterPath
    extra_principals: tuple[str, ...] = ()
    own_principals: tuple[str, ...] = ()
    allow_empty: bool = False
    dry_run: bool = False
    names: SettingNames = SettingNames()


class RefusalReason(StrEnum):
    INVALID_PRINCIPALS = "InvalidPrincipals"
    TOO_MANY_PRINCIPALS = "TooManyPrincipals"
    EMPTY_DESIRED_SET = "EmptyDesiredSet"


class ChangeAction(StrEnum):
    REGISTER = "register"
    DEREGISTER = "deregister"


class InvalidPrincipal(BaseModel):
    """A value that is not an acceptable principal ARN, and the parameter it came from."""

    model_config = ConfigDict(frozen=True)

    value: str
    source: str
    problem: str


class DesiredExclusions(BaseModel):
    """The union of every declared principal, each with the sources that declare it."""

    model_config = ConfigDict(frozen=True)

    principals: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    invalid: tuple[InvalidPrincipal, ...] = ()
    parameter_count: int = 0
    from_parameters: int = Field(0, description="distinct valid principals declared under the path")
    own: int = Field(0, description="distinct valid principals among the stack's own roles")


class ExclusionPlan(BaseModel):
    """Sorted ARNs to register, to deregister and to leave alone."""

    model_config = ConfigDict(frozen=True)

    to_add: tuple[str, ...] = ()
    to_remove: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()


class FailedChange(BaseModel):
    """A register/deregister still failing after retries (or never attempted); the next run retries it."""

    model_config = ConfigDict(frozen=True)

    principal_arn: str
    action: ChangeAction
    error_code: str
    message: str
    attempts: int


class SyncResult(BaseModel):
    """Outcome of one sync; ``added``/``removed`` hold only changes actually made (none in dry run)."""

    model_config = ConfigDict(frozen=True)

    parameter_path: str
    dry_run: bool
    refused: RefusalReason | None = None
    reason: str | None = None
    invalid: tuple[InvalidPrincipal, ...] = ()
    desired_count: int = 0
    current_count: int | None = None
    to_add: tuple[str, ...] = ()
    to_remove: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failed: tuple[FailedChange, ...] = ()
