"""Opaque page tokens.

Tokens carry a position plus a fingerprint of the request that produced them; a token replayed
with different filters is rejected with ``InvalidParameterException`` (AWS rejects foreign tokens,
so the stricter reading is to refuse rather than silently restart).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.ecr.exceptions import InvalidParameterException


def encode(position: Any, fingerprint: str) -> str:
    raw = json.dumps({"p": position, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode(token: str | None, fingerprint: str) -> Any:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["f"] != fingerprint:
            raise ValueError("token from another request")
        return data["p"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidParameterException(
            "Invalid parameter at 'nextToken' failed to satisfy constraint: 'invalid or expired token'"
        ) from exc


def page_size(max_results: int | None, *, default: int, maximum: int) -> int:
    """botocore validates the range client-side; this re-checks it for raw HTTP callers."""
    if max_results is None:
        return default
    if not 1 <= int(max_results) <= maximum:
        raise InvalidParameterException(
            f"Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value "
            f"between 1 and {maximum}'"
        )
    return int(max_results)
