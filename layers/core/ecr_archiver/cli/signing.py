"""SigV4-signed JSON requests to the deployed restore API (API Gateway with AWS_IAM auth)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def region_from_url(url: str) -> str | None:
    """``https://abc.execute-api.eu-west-1.amazonaws.com/prod`` → ``eu-west-1``."""
    host = urlsplit(url).hostname or ""
    parts = host.split(".")
    if "execute-api" in parts:
        idx = parts.index("execute-api")
        if idx + 1 < len(parts):
            return parts[idx + 1]
    return None


def signed_request(
    session: boto3.session.Session,
    method: str,
    url: str,
    *,
    body: dict[str, Any] | None = None,
    query: dict[str, str] | None = None,
    region: str | None = None,
    timeout: float = 30.0,
) -> ApiResponse:
    """Send ``method url`` signed for ``execute-api`` with the session's credentials."""
    if query:
        url = f"{url}?{urlencode(query)}"
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found for signing the API request")
    signing_region = region or region_from_url(url) or session.region_name or "us-east-1"
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", signing_region).add_auth(request)
    prepared = urllib.request.Request(  # noqa: S310 - URL comes from the stack output or --api-url
        url, data=data, method=method, headers=dict(request.headers.items())
    )
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
            status, resp_headers = resp.status, dict(resp.headers.items())
    except urllib.error.HTTPError as err:
        raw, status, resp_headers = err.read(), err.code, dict(err.headers.items())
    try:
        parsed = json.loads(raw or b"{}")
    except json.JSONDecodeError:
        parsed = {"message": raw.decode(errors="replace")}
    return ApiResponse(
        status=status, body=parsed if isinstance(parsed, dict) else {"body": parsed}, headers=resp_headers
    )
