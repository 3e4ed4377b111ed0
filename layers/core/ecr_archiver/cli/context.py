"""What every CLI command needs: a boto3 session, clients and the output mode."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from ecr_archiver.aws import retry_config


@dataclass
class CliContext:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    output_json: bool = False
    _session: boto3.session.Session | None = field(default=None, repr=False)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
        return self._session

    @property
    def effective_region(self) -> str:
        return self.session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

    def client(self, service: str, *, config: Config | None = None) -> Any:
        """A client on the chosen credentials; ``--endpoint-url`` targets the emulator."""
        return self.session.client(  # type: ignore[call-overload]
            service,
            region_name=self.effective_region,
            endpoint_url=self.endpoint_url,
            config=config or retry_config(),
        )
