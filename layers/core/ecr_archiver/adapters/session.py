"""The operator's AWS session: clients on the standard credential chain, and SigV4-signed requests.

Only the CLI uses it, on a laptop or in a pipeline; the Lambda functions use
:mod:`ecr_archiver.adapters.clients`.
The session is created on first use, so commands that fail on their flags never touch the SDK.
"""

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
from botocore.config import Config

from ecr_archiver.adapters.clients import retry_config

#: A person is waiting: fail within seconds when the endpoint is unreachable, and retry a little
#: (the Lambda functions keep the longer adaptive retries of
#: :func:`ecr_archiver.adapters.clients.retry_config`).
CLI_CONNECT_TIMEOUT_SECONDS = 2
CLI_READ_TIMEOUT_SECONDS = 20
CLI_MAX_ATTEMPTS = 3


def cli_client_config() -> Config:
    """Short connect timeout and bounded retries for clients a person waits on."""
    return retry_config(max_attempts=CLI_MAX_ATTEMPTS).merge(
        Config(connect_timeout=CLI_CONNECT_TIMEOUT_SECONDS, read_timeout=CLI_READ_TIMEOUT_SECONDS)
    )


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


class AwsSession:
    """A boto3 session for a profile and region, created when first asked for."""

    def __init__(self, *, profile: str | None = None, region: str | None = None) -> None:
        self._profile = profile
        self._region = region
        self._session: boto3.session.Session | None = None

    @property
    def _boto(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session(profile_name=self._profile, region_name=self._region)
        return self._session

    @property
    def region_name(self) -> str | None:
        """The region the flags or the profile chose; ``None`` when neither did."""
        return self._boto.region_name

    def client(self, service: str, *, region: str, endpoint_url: str | None = None) -> Any:
        """A client with the CLI's timeouts; ``endpoint_url`` targets the emulator."""
        return self._boto.client(  # type: ignore[call-overload]
            service, region_name=region, endpoint_url=endpoint_url, config=cli_client_config()
        )

    def signed_request(
        self,
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
        credentials = self._boto.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials found for signing the API request")
        signing_region = region or region_from_url(url) or self.region_name or "us-east-1"
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", signing_region).add_auth(request)
        prepared = urllib.request.Request(  # noqa: S310 - URL comes from the stack output or --api-url
            url, data=data, method=method, headers=dict(request.headers.items())
        )
        return _send(prepared, timeout)


def _send(request: urllib.request.Request, timeout: float) -> ApiResponse:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
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
