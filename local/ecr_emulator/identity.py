"""Who is calling: the principal STS ``GetCallerIdentity`` reports for a request's access key.

Three sources, in order: the control plane's access key → principal table (so tests and demos
can act as a stack's roles), moto's own credentials (STS AssumeRole sessions, IAM users' access
keys from CreateAccessKey), and otherwise the emulator's default role. STS GetCallerIdentity and
ECR (the pull-time update exclusion check of BatchGetImage) both answer from here, so they agree.
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult
from moto.sts.models import STSBackend
from moto.sts.responses import TokenResponse as STSResponse

from ecr_emulator.state import DEFAULT_ACCOUNT_ID, DEFAULT_PRINCIPAL, STATE

_ROLE = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_MOTO_FALLBACK = re.compile(r"^arn:aws[\w-]*:sts::\d{12}:user/moto$")
_original_get_caller_identity = STSBackend.get_caller_identity


def _session_arn(principal: str) -> str:
    """An IAM role ARN as STS reports a session of it; anything else unchanged."""
    match = _ROLE.match(principal)
    if not match:
        return principal
    partition, account, name = match.groups()
    return f"arn:{partition}:sts::{account}:assumed-role/{name}/emulator"


def principal_for(
    access_key: str | None, *, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1"
) -> str:
    """The caller's principal ARN: a role or user ARN from the table, a moto session or user ARN,
    or :data:`DEFAULT_PRINCIPAL`."""
    if access_key and access_key in STATE.principals:
        return STATE.principals[access_key]
    if access_key:
        from moto.sts.models import sts_backends

        backend = sts_backends[account_id]["global"]
        _, arn, _ = _original_get_caller_identity(backend, access_key, region)
        if not _MOTO_FALLBACK.match(arn):
            return str(arn)
    return DEFAULT_PRINCIPAL


def _get_caller_identity(self: STSBackend, access_key_id: str, region: str) -> tuple[str, str, str]:
    principal = principal_for(access_key_id, account_id=self.account_id, region=region)
    account = principal.split(":")[4] or self.account_id
    return access_key_id, _session_arn(principal), account


def _caller_identity_response(self: STSResponse) -> Any:
    # The access key the request was signed with, as ECR's exclusion check reads it (in process,
    # moto's own get_access_key() answers with a placeholder key).
    from ecr_emulator.responses import caller_access_key

    access_key = caller_access_key(self) or self.get_access_key()
    user_id, arn, account_id = self.backend.get_caller_identity(access_key, self.region)
    return ActionResult({"UserId": user_id, "Account": account_id, "Arn": arn})


def install() -> None:
    STSBackend.get_caller_identity = _get_caller_identity  # type: ignore[method-assign]
    STSResponse.get_caller_identity = _caller_identity_response  # type: ignore[method-assign]
