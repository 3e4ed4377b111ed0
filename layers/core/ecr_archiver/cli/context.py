"""What every CLI command needs: a boto3 session, clients, the output mode, and a clock to wait on."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config

from ecr_archiver.aws import retry_config

#: A person is waiting: fail within seconds when the endpoint is unreachable, and retry a little
#: (the Lambda functions keep the longer adaptive retries of :func:`ecr_archiver.aws.retry_config`).
CLI_CONNECT_TIMEOUT_SECONDS = 2
CLI_READ_TIMEOUT_SECONDS = 20
CLI_MAX_ATTEMPTS = 3


def cli_client_config() -> Config:
    """Short connect timeout and bounded retries for clients a person waits on."""
    return retry_config(max_attempts=CLI_MAX_ATTEMPTS).merge(
        Config(connect_timeout=CLI_CONNECT_TIMEOUT_SECONDS, read_timeout=CLI_READ_TIMEOUT_SECONDS)
    )


@dataclass(frozen=True)
class WaitClock:
    """Seconds-valued ``now`` and ``sleep`` used while polling (restores, previews).

    Against AWS this is wall time. Against the emulator it is the emulator's clock, which stands
    still unless moved, so waiting advances it instead of sleeping.
    """

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    simulated: bool = False


def emulator_clock(endpoint_url: str, *, timeout: float = 2.0) -> WaitClock | None:
    """The emulator server's clock behind ``endpoint_url`` (``/_emulator/clock``), if it is one."""
    base = endpoint_url.rstrip("/")
    if not base.startswith(("http://127.", "http://localhost", "http://[::1]")):
        return None  # only a local emulator has a clock to move; never probe a remote endpoint

    def call(method: str, body: dict[str, Any] | None = None) -> float:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - loopback URL checked above
            f"{base}/_emulator/clock",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            now = json.loads(resp.read())["now"]
        return _iso_seconds(now)

    def now() -> float:
        return call("GET")

    def advance(seconds: float) -> None:
        call("POST", {"advance_seconds": seconds})

    try:
        now()
    except (OSError, urllib.error.URLError, ValueError, KeyError):
        return None
    return WaitClock(now=now, sleep=advance, simulated=True)


def _iso_seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class CliContext:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    output_json: bool = False
    verbose: bool = False
    #: How to wait; ``None`` picks wall time, or the emulator's clock behind ``endpoint_url``.
    wait_clock: WaitClock | None = None
    _session: boto3.session.Session | None = field(default=None, repr=False)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    @property
    def effective_region(self) -> str:
        return self.session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    def client(self, service: str, region: str | None = None, *, config: Config | None = None) -> Any:
        """A client on the chosen credentials; ``--endpoint-url`` targets the emulator."""
        return self.session.client(  # type: ignore[call-overload]
            service,
            region_name=region or self.effective_region,
            endpoint_url=self.endpoint_url,
            config=config or cli_client_config(),
        )

    @property
    def clock(self) -> WaitClock:
        if self.wait_clock is None:
            found = emulator_clock(self.endpoint_url) if self.endpoint_url else None
            self.wait_clock = found or WaitClock()
        return self.wait_clock
