"""SDK client factory: one configuration for retries, timeouts and the user agent.

Only adapters call :func:`client`. Clients honour ``AWS_ENDPOINT_URL`` (botocore reads it
natively), which is how the CLI and tests reach the local emulator.

botocore is imported on the first client, not at module import: a handler's cold
start then pays for the SDK only when it makes its first AWS call (benchmarks/RESULTS.md). The
first client is also where Powertools Tracer patches the SDK (:func:`observability.patch_sdk`).
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from ecr_archiver.observability import patch_sdk

if TYPE_CHECKING:
    from botocore.config import Config

USER_AGENT = "ecr-archiver/0.1.0"


def retry_config(*, mode: str | None = None, max_attempts: int | None = None) -> Config:
    """botocore retry config; adaptive mode adds client-side rate limiting on throttles."""
    from botocore.config import Config

    return Config(
        retries={
            "mode": cast(Any, mode or os.environ.get("AWS_RETRY_MODE", "adaptive")),
            "total_max_attempts": max_attempts or int(os.environ.get("AWS_MAX_ATTEMPTS", "8")),
        },
        connect_timeout=5,
        read_timeout=30,
        user_agent_extra=USER_AGENT,
        max_pool_connections=int(os.environ.get("AWS_MAX_POOL_CONNECTIONS", "32")),
    )


_create_lock = threading.Lock()


@cache
def _data_loader() -> Any:
    """One botocore data loader for every client of the process.

    The loader parses and caches the service models, ``endpoints.json`` and the partitions: shared,
    each file is read once per process, not once per client (a function that makes ECR, S3, SQS
    and DynamoDB clients would otherwise parse them four times). The data is read-only.
    """
    from botocore.loaders import create_loader

    return create_loader(os.environ.get("AWS_DATA_PATH"))


@cache
def _cached_client(service: str, region: str | None, profile: str | None, endpoint_url: str | None) -> Any:
    # botocore, not boto3: the product uses clients only, and boto3's import pulls in s3transfer
    # and the resource factory (~50 ms of a cold start) for nothing. botocore reads the same
    # credentials, region, profile and AWS_ENDPOINT_URL configuration boto3 does. A session per
    # client keeps credentials and configuration as the environment has them when it is made.
    import botocore.session

    patch_sdk()
    with _create_lock:  # botocore sessions are not safe to create clients from in parallel
        session = botocore.session.Session(profile=profile)
        session.register_component("data_loader", _data_loader())
        return session.create_client(
            service, region_name=region, config=retry_config(), endpoint_url=endpoint_url
        )


def client(
    service: str,
    *,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
) -> Any:
    """A cached botocore client for ``service`` (cached so warm Lambda invocations reuse it)."""
    return _cached_client(service, region, profile, endpoint_url)


def clear_client_cache() -> None:
    """Forget cached clients (tests switch emulators and credentials between cases)."""
    _cached_client.cache_clear()
