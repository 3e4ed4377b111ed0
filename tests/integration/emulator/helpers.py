"""Small assertions shared by the emulator tests."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

# One session for the whole run: clients built from it share botocore's parsed service models,
# which cuts client creation from ~100 ms to a few ms per test. Credentials come from the
# environment the ``emulator`` fixture sets, so every client still talks to the emulator.
_SESSION = boto3.session.Session()


def new_client(service: str = "ecr", **kwargs: Any) -> Any:
    return _SESSION.client(service, region_name="us-east-1", **kwargs)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def all_pages(call: Any, key: str, **kwargs: Any) -> list[Any]:
    """Follow ``nextToken`` by hand (some archive-era operations have no botocore paginator)."""
    items: list[Any] = []
    pages = 0
    while True:
        resp = call(**kwargs)
        pages += 1
        items.extend(resp.get(key, []))
        token = resp.get("nextToken")
        if not token:
            return items
        kwargs["nextToken"] = token
        assert pages < 10_000, "pagination does not terminate"


def describe_all(ecr: Any, repo: str, status: str = "ANY") -> dict[str, dict[str, Any]]:
    pages = ecr.get_paginator("describe_images").paginate(repositoryName=repo, filter={"imageStatus": status})
    return {d["imageDigest"]: d for page in pages for d in page["imageDetails"]}
