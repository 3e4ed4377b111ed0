"""Who is calling: the principal STS ``GetCallerIdentity`` reports for a request's access key.

Three sources, in order: the control plane's access key → principal table (so tests and demos
can act as a stack's roles), moto's own credentials (STS AssumeRole sessions, IAM users' access
keys from CreateAccessKey), and otherwise the emulator's default role. STS GetCallerIdentity and
ECR (the pull-time update exclusion check of BatchGetImage) both answer from here, so they agree.
"""

from __future__ import annotations

import re

from moto.sts.models import STSBackend

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
    mapped = STATE.principals.get(access_key_id)
    if mapped is None:
        return _original_get_caller_identity(self, access_key_id, region)  # type: ignore[no-any-return]
    account = mapped.split(":")[4] or self.account_id
    return access_key_id, _session_arn(mapped), account


def install() -> None:
    STSBackend.get_caller_identity = _get_caller_identity  # type: ignore[method-assign]
